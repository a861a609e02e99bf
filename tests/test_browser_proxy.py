"""Password guessing through a real reverse proxy in front of `streamlit run` (issue 24, item 1).

tests/reverse_proxy.py (a separate process, doing what the nginx block in docs/deployment.md
does: append the address it received the connection from) sits in front of the app, which
trusts only it (TUTOR_TRUSTED_PROXIES and FORWARDED_ALLOW_IPS = the proxy's source address).
A browser signs in with wrong passwords, a new forged X-Forwarded-For on every page load; before
the fix every load was a new client with five fresh guesses (the forged first hop was the
client). Now the client is the hop the proxy appended, the same on every load.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_browser import ARGS, CHROMIUM, _free_port, serve
from test_browser import pytestmark  # noqa: F401  (browser, slow, skipped without chromium)

PASSWORD = "a teacher's long password"
PROXY_SOURCE = "127.0.0.5"  # the proxy's address as the app sees it (Linux answers all of 127/8)


@pytest.fixture
def proxied_app(tmp_path, corpus_home):
    """(proxy URL, app URL, proxy log): the app (on a copy of the ingested corpus) trusting only
    the proxy, the proxy in front."""
    home = tmp_path / "home"
    shutil.copytree(corpus_home, home)
    for app_url in serve(tmp_path, home, TUTOR_TEACHER_PASSWORD=PASSWORD,
                         TUTOR_TRUSTED_PROXIES=PROXY_SOURCE, FORWARDED_ALLOW_IPS=PROXY_SOURCE):
        port = _free_port()
        log_path = tmp_path / "proxy.log"
        with log_path.open("wb") as log:
            proxy = subprocess.Popen([sys.executable, str(Path(__file__).with_name("reverse_proxy.py")),
                                      "--port", str(port), "--upstream", app_url.removeprefix("http://"),
                                      "--source", PROXY_SOURCE], stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 20
                while b"proxy ready" not in log_path.read_bytes():
                    assert proxy.poll() is None and time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.1)
                yield f"http://127.0.0.1:{port}", app_url, log_path
            finally:
                proxy.terminate()
                proxy.wait(timeout=10)


def _sign_in(browser, url: str, password: str, forged: str) -> str:
    """One page load with a forged X-Forwarded-For, one sign-in: the message shown."""
    from playwright.sync_api import expect

    context = browser.new_context(extra_http_headers={"X-Forwarded-For": forged})
    try:
        page = context.new_page()
        page.goto(f"{url}/teacher", wait_until="domcontentloaded")
        box = page.get_by_label("Teacher password")
        expect(box).to_be_visible(timeout=60_000)
        box.fill(password)
        page.get_by_role("button", name="Sign in").click()
        outcome = page.get_by_text("Access denied").or_(page.get_by_role("button", name="Sign out"))
        expect(outcome.first).to_be_visible(timeout=60_000)
        return outcome.first.inner_text()
    finally:
        context.close()


def test_rotating_x_forwarded_for_through_a_proxy_gets_no_fresh_guesses(proxied_app):
    from playwright.sync_api import sync_playwright

    proxy_url, app_url, proxy_log = proxied_app
    rng = random.Random(24)
    forged = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
              for _ in range(8)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            shown = [_sign_in(browser, proxy_url, "wrong guess", forged[n]) for n in range(5)]
            assert all("not right" in s for s in shown), shown
            # The sixth load, another forged address, and the right password: still waiting.
            assert "Too many wrong passwords" in _sign_in(browser, proxy_url, PASSWORD, forged[5])
            # Straight to the app, bypassing the proxy: the header is not believed either.
            assert "Too many wrong passwords" in _sign_in(browser, app_url, PASSWORD, forged[6])
        finally:
            browser.close()
    sent = proxy_log.read_text()
    # The forged hop did reach the app, with the proxy's own hop after it (so the test exercised it).
    assert f"X-Forwarded-For: {forged[0]}, 127.0.0.1" in sent, sent[-2000:]
