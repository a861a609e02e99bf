"""A real browser drafts, edits, validates and publishes a lesson card on the Teacher page.

`streamlit run` plus Debian's Chromium driven by Playwright (as tests/test_browser.py). The
screenshots land in test-artifacts/browser-draft-*.png.
"""

from __future__ import annotations

import re

import shutil

import pytest

from test_browser import ARGS, ARTIFACTS, CHROMIUM, serve
from tutor.settings import PROJECT_ROOT, load_settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]
PASSWORD = "a teacher's password"
DOC = PROJECT_ROOT / "corpus" / "eval" / "teacher_documents" / "shakhty-trial-1928.md"
DOC_ID = "teacher-shakhty-trial-1928"


@pytest.fixture
def teacher_app(tmp_path, corpus_home, embedder):
    """The app on a copy of the ingested corpus plus one teacher document, with a teacher password."""
    from tutor.auth import local_operator
    from tutor.library import Library, Upload
    from tutor.store import Store

    home = tmp_path / "browser-home"
    shutil.copytree(corpus_home, home)
    [result] = Library(Store(load_settings(home=home), embedder)).ingest(local_operator(),
                                                                          [Upload(DOC.name, DOC.read_bytes())])
    assert result.ok, result.line()
    for url in serve(tmp_path, home, TUTOR_TEACHER_PASSWORD=PASSWORD):
        yield url, home


def test_teacher_drafts_edits_validates_and_publishes_a_card(teacher_app):
    from playwright.sync_api import expect, sync_playwright

    from tutor.published import PublishedCards

    url, home = teacher_app
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(f"{url}/teacher", wait_until="domcontentloaded")
            password = page.get_by_label("Teacher password")
            expect(password).to_be_visible(timeout=60_000)
            password.fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Draft a lesson card").first).to_be_visible(timeout=60_000)

            page.get_by_label("Document to draft from").click()
            page.keyboard.type("shakhty")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Draft a lesson card").click()
            statement = page.get_by_label("Statement").first
            expect(statement).to_be_visible(timeout=60_000)

            # Edit: a pump that fails the rules first (not a question), then a good one.
            pump = page.get_by_label("Pump (open question)").first
            pump.fill("Tell me what the OGPU announced in March 1928")
            page.get_by_role("button", name="Validate").first.click()
            expect(page.get_by_text(re.compile(r"hints\.[\w-]+\.pump\.text: Value error, a hint must be a question")).first).to_be_visible(
                timeout=30_000)
            expect(page.get_by_role("button", name="Publish this card")).to_be_disabled()
            page.screenshot(path=str(ARTIFACTS / "browser-draft-invalid.png"), full_page=True)

            pump = page.get_by_label("Pump (open question)").first
            pump.fill("What did the OGPU mean when it accused the engineers of wrecking in March 1928?")
            page.get_by_role("button", name="Validate").first.click()
            expect(page.get_by_text("Ready to publish")).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Publish this card").click()
            expect(page.get_by_text(f"Published {DOC_ID} v1")).to_be_visible(timeout=30_000)
            expect(page.get_by_role("button", name=f"Unpublish {DOC_ID}")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "browser-draft-published.png"), full_page=True)
        finally:
            browser.close()
    published = PublishedCards(load_settings(home=home))
    [record] = published.live()
    assert record.card_id == DOC_ID and record.published_by == "teacher"
    pumps = [h["text"] for h in record.card["hints"] if h["level"] == "pump"]
    assert "What did the OGPU mean when it accused the engineers of wrecking in March 1928?" in pumps
