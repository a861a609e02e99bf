"""Real-browser tests: `streamlit run` plus Debian's Chromium driven by Playwright.

Skipped where /usr/bin/chromium is absent (CI installs it: `apt-get install -y chromium`).
Screenshots (1280 px wide) land in test-artifacts/: browser-chat.png, browser-chat-cited.png,
browser-cited-source.png,
browser-sources.png and browser-first-start.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tutor.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"streamlit did not become healthy within {timeout} s")


def serve(tmp_path: Path, home: Path, **env_extra: str):
    """`streamlit run streamlit_app.py` on a free port with this TUTOR_HOME (offline, no other
    TUTOR_ settings but ``env_extra``): yields its URL once healthy; stopped afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_") and k != "OPENAI_API_KEY"}
    env.update(TUTOR_HOME=str(home), TUTOR_LLM="offline", PYTHONUNBUFFERED="1", **env_extra)
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def served_app(tmp_path, corpus_home):
    """`streamlit run streamlit_app.py` on a free port, TUTOR_HOME a copy of the ingested corpus."""
    home = tmp_path / "browser-home"
    shutil.copytree(corpus_home, home)
    yield from serve(tmp_path, home)


@pytest.fixture
def fresh_app(tmp_path):
    """The same on an empty TUTOR_HOME: a first start."""
    yield from serve(tmp_path, tmp_path / "fresh-home")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_tutor_opened_directly_has_no_dialog_and_the_chat_answers(served_app, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served_app}/tutor", wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # the "Page not found" dialog came a moment after the page
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)

    box.fill("Why did Stalin win the power struggle?")
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(3, timeout=120_000)


def test_a_citation_marker_opens_the_cited_source(served_app, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served_app, wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    box.fill("Why was Lenin's Testament not acted on?")
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(2)
    marker = reply.get_by_role("link", name="[1]")
    expect(marker).to_be_visible(timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "browser-chat-cited.png"))

    with context.expect_page() as opened:
        marker.click()
    source = opened.value
    expect(source.get_by_text("The passage cited in the chat")).to_be_visible(timeout=60_000)
    assert "/sources?doc=" in source.url
    source.wait_for_timeout(1500)  # the page settles after the first elements show
    source.screenshot(path=str(ARTIFACTS / "browser-cited-source.png"))


def test_the_sources_table_shows_every_column_at_1280_px(served_app, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served_app}/sources", wait_until="domcontentloaded")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # the grid draws on a canvas after it mounts
    # The grid scrolls sideways exactly when its columns are wider than the table: then a
    # column ("To", at the old widths) is cut off at the right.
    scroller = table.locator(".dvn-scroller").first
    wide, shown = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert wide <= shown + 1, f"the table needs {wide} px but shows {shown} px"
    page.screenshot(path=str(ARTIFACTS / "browser-sources.png"))


def test_a_first_start_shows_the_chat_while_the_course_is_indexed(fresh_app, browser):
    """The time it takes is measured in benchmarks/app_benchmark.py --first-start, not here."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(fresh_app, wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_be_visible()
    expect(page.get_by_text("Indexing the course sources for the first time")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "browser-first-start.png"))

    box.fill("Why did Stalin win the power struggle?")
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(3, timeout=180_000)
    # The bar goes once indexing is done, without a reload (the sidebar's own progress bars stay).
    expect(page.get_by_text("Indexing the course sources for the first time")).to_have_count(0, timeout=600_000)


def test_student_asks_and_sees_a_socratic_reply_with_a_source(served_app):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            page.goto(served_app, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Offline course-materials tutor", exact=False)).to_be_visible()

            box.fill("Why was Lenin's Testament not acted on?")
            box.press("Enter")

            messages = page.get_by_test_id("stChatMessage")
            expect(messages).to_have_count(3, timeout=120_000)  # welcome, question, reply
            reply = messages.nth(2)
            expect(reply.get_by_test_id("stExpander")).to_be_visible(timeout=120_000)
            text = reply.get_by_test_id("stMarkdownContainer").first.inner_text().strip()
            assert text.endswith("?"), text
            sources = reply.get_by_test_id("stExpander")
            expect(sources).to_contain_text("Sources")
            sources.get_by_text("Sources", exact=False).first.click()
            expect(sources.locator("strong").nth(1)).to_be_visible()  # the highlighted quote
            assert "session=" in page.url  # a reload finds the conversation again
            page.screenshot(path=str(ARTIFACTS / "browser-chat.png"), full_page=True)
        finally:
            browser.close()
