"""One real-browser test: `streamlit run` plus Debian's Chromium driven by Playwright.

Skipped where /usr/bin/chromium is absent (CI installs it: `apt-get install -y chromium`).
The screenshot lands in test-artifacts/browser-chat.png.
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


@pytest.fixture
def served_app(tmp_path, corpus_home):
    """`streamlit run streamlit_app.py` on a free port, TUTOR_HOME a copy of the ingested corpus."""
    home = tmp_path / "browser-home"
    shutil.copytree(corpus_home, home)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_") and k != "OPENAI_API_KEY"}
    env.update(TUTOR_HOME=str(home), TUTOR_LLM="offline", PYTHONUNBUFFERED="1")
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
