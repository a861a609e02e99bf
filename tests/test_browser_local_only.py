"""Every request a student's browser makes stays on the app's host (issue 24, item 12): the page
icon was `:material/school:`, which Streamlit's front end turns into an SVG fetched from
fonts.gstatic.com, the one request that left the machine (blocked by strict school filters, and
it tells Google who uses the tutor). Now the icon is a file the app serves itself.

`streamlit run` plus Debian's Chromium (as tests/test_browser.py); every page of the app is
opened, the chat answers a question, and each request's host is recorded.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit


from test_browser import ARGS, CHROMIUM, serve
from test_browser import pytestmark  # noqa: F401  (browser, slow, skipped without chromium)

PAGES = ["", "tutor", "sources", "coach", "teacher", "evaluation"]


def test_no_request_leaves_the_apps_host(tmp_path, corpus_home):
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    requested: list[str] = []
    for url in serve(tmp_path, home):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("request", lambda request: requested.append(request.url))
                for path in PAGES:
                    page.goto(f"{url}/{path}", wait_until="networkidle")
                    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=60_000)
                    page.wait_for_timeout(500)  # the favicon is set after the page's first run
                page.goto(url, wait_until="domcontentloaded")
                box = page.get_by_test_id("stChatInputTextArea")
                expect(box).to_be_visible(timeout=60_000)
                box.fill("Why did Stalin win the power struggle?")
                box.press("Enter")
                expect(page.get_by_test_id("stChatMessage")).to_have_count(3, timeout=120_000)
                page.wait_for_load_state("networkidle")
                icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
            finally:
                browser.close()
    hosts = {urlsplit(u).hostname for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")}
    outside = sorted({u for u in requested if urlsplit(u).hostname not in ("127.0.0.1", None)
                      and urlsplit(u).scheme in ("http", "https", "ws", "wss")})
    assert len(requested) > 20, "the pages were loaded"
    assert outside == [], outside
    assert hosts == {"127.0.0.1"}
    assert urlsplit(icon).hostname == "127.0.0.1", icon
