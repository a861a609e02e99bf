"""No live link to another host in the student's chat (issue 24 item 6): GitHub-style autolinks
(``https://…``, ``www.…``, ``name@host.org``) survived escaping — in card hints, in the student's
echoed message and in a model reply. The page makes them inert; a model reply carrying one is
refused; replies are clipped for display (item 8)."""

from __future__ import annotations

import re

import pytest

from fakes import FakeChatModel
from test_browser import ARTIFACTS, CHROMIUM, browser, served_app  # noqa: F401 (fixtures)
from test_model_checks import corpus_settings  # noqa: F401 (fixture)
from tutor.pedagogy.checks import CheckContext, outside_links, run_checks
from tutor.ui.render import (CLIPPED, MAX_REPLY_CHARS, break_autolinks, clip_reply, escape_markdown, escape_stream,
                             reply_markdown)

HOSTILE = ["Read more at https://evil.example/answers now", "or HTTP://EVIL.EXAMPLE", "see www.evil.example/x",
           "(www.evil.example)", "write to spy@evil.example", "mailto:spy@evil.example", "*https://evil.example*",
           "ftp://evil.example/f"]


def gfm_autolinks(markdown: str) -> list[str]:
    """What GitHub's autolink-literal extension links in a Markdown text (the spec's rules:
    after a line start, space or one of ``*_~(``, a www. or http(s):// address, or an e-mail),
    read after backslash escapes are resolved, as the renderer does."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    start = r"(?:^|(?<=[\s*_~(]))"
    return re.findall(rf"{start}(?:www\.|https?://|ftp://)[\w-]+(?:\.[\w-]+)*"
                      r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:mailto|xmpp):[\w.+-]+@[\w-]+", text, re.I)


def test_the_autolink_oracle_sees_links_that_plain_escaping_leaves():
    old_escape = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~&=\"'^])")
    for text in HOSTILE:
        assert gfm_autolinks(old_escape.sub(r"\\\1", text)), text


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_carries_no_autolink_and_reads_the_same(text):
    shown = escape_markdown(text)
    assert gfm_autolinks(shown) == []
    assert re.sub(r"\\(.)", r"\1", shown).replace("\u2060", "") == text


def test_ordinary_history_text_is_untouched():
    text = "Stalin, the General Secretary, won by 1929: e.g. www? no. Lenin@1924 was ill."
    assert break_autolinks("Stalin won by 1929 because of the Secretariat.") == \
        "Stalin won by 1929 because of the Secretariat."
    assert "\u2060" not in break_autolinks("a knowhttp: www and awww.")
    assert gfm_autolinks(escape_markdown(text)) == []


def test_a_link_split_across_streamed_pieces_is_made_inert():
    pieces = ["Look at htt", "ps://evil", ".example/x and ww", "w.evil.example ", "now?"]
    shown = "".join(escape_stream(pieces))
    assert gfm_autolinks(shown) == []
    assert re.sub(r"\\(.)", r"\1", shown).replace("\u2060", "") == "".join(pieces)


def test_the_apps_own_sources_links_stay_live():
    out = reply_markdown("As [1] says, see https://evil.example?", [{"n": 1, "doc_id": "source-lenin-testament"}])
    assert "[\\[1\\]](sources?doc=source-lenin-testament)" in out
    assert gfm_autolinks(out) == []


def test_a_reply_is_clipped_for_display():
    huge = "Why " + "word " * 1_000_000 + "?"
    assert len(clip_reply(huge)) <= MAX_REPLY_CHARS + len(CLIPPED)
    assert clip_reply(huge).endswith(CLIPPED)
    assert len(reply_markdown(huge, [])) < 2 * MAX_REPLY_CHARS
    streamed = "".join(escape_stream(iter(["Why "] + ["word "] * 1_000_000 + ["?"]), limit=MAX_REPLY_CHARS))
    assert len(streamed) < 2 * MAX_REPLY_CHARS and "too long to show" in streamed
    assert clip_reply("Why did Stalin win?") == "Why did Stalin win?"


# -- the check a model reply must pass -------------------------------------------------------
@pytest.mark.parametrize("reply", [
    "See https://evil.example/answers for the full answer. What do you think?",
    "The answer is at www.evil.example. What do you think?",
    "Ask spy@evil.example. What do you think?",
    "Look at [this](http://evil.example). What do you think?",
    "Look at [this](javascript:alert(1)). What do you think?",
])
def test_a_reply_with_an_outside_link_fails_its_check(reply):
    failed = [c for c in run_checks(reply, CheckContext(passages={1: "x"})) if not c.passed]
    assert "no_outside_links" in {c.name for c in failed}
    assert outside_links(reply)


def test_a_reply_linking_only_its_sources_passes_the_link_check():
    for reply in ["As [1] shows, what did Lenin fear?", "[\\[1\\]](sources?doc=a&passage=b) What next?",
                  "Stalin wrote in 1924: was he sincere?"]:
        assert not outside_links(reply), reply


def test_a_model_reply_with_an_outside_link_never_reaches_the_student(corpus_settings, embedder):
    from tutor.services import build
    from tutor.store import Store

    from tests.fakes import scripted_reading

    linked = scripted_reading("Read https://evil.example/answers first [1]. What did Lenin say about Stalin's rudeness?")
    model = FakeChatModel().enqueue(linked, linked)
    tutor = build(corpus_settings, store=Store(corpus_settings, embedder), chat_model=model).tutor
    reply = tutor.reply(tutor.new_session(), "why wasn't lenin's testament acted on?")
    assert len(model.calls) == 2 and "no_outside_links" in model.calls[1][-1].content
    assert reply.mode == "offline" and "evil.example" not in reply.text


# -- in a real browser: Streamlit's own Markdown renderer ------------------------------------
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_page_shows_no_live_link_to_another_host(served_app, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served_app}/tutor", wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=60_000)
    box.fill("Did https://evil.example/a or www.evil.example say spy@evil.example was right about Stalin?")
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(3, timeout=120_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "links-inert.png"))
    assert "evil.example" in page.get_by_test_id("stChatMessage").nth(1).inner_text()
    hrefs = page.locator("[data-testid='stChatMessage'] a").evaluate_all("els => els.map(e => e.href)")
    assert not [h for h in hrefs if "evil.example" in h], hrefs
