"""Issue 23 item 2: with no model, a teacher's uploaded handout on a topic no card covers is taught
from the handout — questions answered from its sentences, dated claims checked against it, only
its passages cited, and no true claim called wrong (precision first)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.pedagogy.answer import message_parts
from tutor.settings import load_settings

from conftest import home_with_uploads

HANDOUTS = Path(__file__).resolve().parent / "fixtures" / "handouts"
SULTAN = "sultan-galiev"
ANGLO = "anglo-russian-committee"
WRONG = re.compile(r"\b(?:not quite|isn't right|careful with|not right|dates that differently|actually, no|no\.)",
                   re.I)


def test_talk_about_the_task_is_not_a_claim():
    parts = message_parts("hey so our teacher gave us the handout on the purges. i read most of it. "
                          "he was arrested in 1925 wasn't he?")
    assert [p.kind for p in parts] == ["other", "other", "confirm"]
    assert message_parts("hello, doing the collectivisation handout now")[0].kind == "other"
    # A sentence that quotes the handout is the student's claim, not small talk.
    assert message_parts("the handout says the politburo approved the arrest")[0].kind == "claim"


@pytest.mark.slow
class TestHandoutTeaching:
    @pytest.fixture(scope="class")
    def home(self, corpus_home, tmp_path_factory) -> Path:
        return home_with_uploads(corpus_home, tmp_path_factory.mktemp("handout-home"), sorted(HANDOUTS.glob("*.md")))

    @pytest.fixture(scope="class")
    def tutor(self, home, embedder):
        from tutor.services import build
        from tutor.store import Store

        settings = load_settings(home=home)
        return build(settings, store=Store(settings, embedder), chat_model=None).tutor

    @staticmethod
    def _on(reply, doc: str):
        assert reply.citations, reply.text
        assert {c.doc_id for c in reply.citations} == {doc}, (reply.text, [c.doc_id for c in reply.citations])
        assert reply.card_id.startswith(f"passages:{doc}")

    def test_a_question_is_answered_from_the_handout(self, tutor):
        session = tutor.new_session()
        reply = tutor.reply(session, "did zinoviev and kamenev vote for sultan-galiev's arrest?")
        self._on(reply, SULTAN)
        assert "approved the arrest" in reply.text
        reply = tutor.reply(session, "ok and why did trotsky say nothing about it?")
        self._on(reply, SULTAN)
        assert "Trotsky was silent" in reply.text
        assert "doesn't say why" in reply.text or "gives no reason" in reply.text, reply.text

    def test_a_wrong_year_is_corrected_with_the_handouts_sentence_and_the_greeting_is_no_claim(self, tutor):
        session = tutor.new_session()
        reply = tutor.reply(session, "hi so our teacher gave us the sultan-galiev handout. i read it. "
                                     "basically he got arrested in 1925 after lenin died?")
        self._on(reply, SULTAN)
        assert "May 1923" in reply.text and WRONG.search(reply.text), reply.text
        assert "teacher gave" not in reply.text
        reply = tutor.reply(session, "right. also he was shot in 1928 wasn't he")
        self._on(reply, SULTAN)
        assert "shot in 1940" in reply.text and WRONG.search(reply.text), reply.text

    def test_the_general_strike_is_dated_from_the_handout(self, tutor):
        session = tutor.new_session()
        reply = tutor.reply(session, "hey, doing the anglo-russian committee handout now. so the general strike "
                                     "in britain was in 1927 right")
        self._on(reply, ANGLO)
        assert "3 May 1926" in reply.text and WRONG.search(reply.text), reply.text
        assert "doing the anglo-russian" not in reply.text

    def test_a_true_claim_is_not_called_wrong(self, tutor):
        session = tutor.new_session()
        reply = tutor.reply(session, "the general strike began in may 1926, right?")
        self._on(reply, ANGLO)
        assert not WRONG.search(reply.text), reply.text
        reply = tutor.reply(session, "and the police raided arcos in may 1927 and britain broke off relations, yeah?")
        self._on(reply, ANGLO)
        assert not WRONG.search(reply.text), reply.text

    def test_the_handouts_discussion_questions_are_never_evidence(self, tutor):
        session = tutor.new_session()
        reply = tutor.reply(session, "did the anglo-russian committee collapsing in 1927 make stalin stronger or weaker?")
        self._on(reply, ANGLO)
        assert all(not c.quote.rstrip().endswith("?") for c in reply.citations), reply.citations

    def test_the_date_check_stays_silent_where_the_handout_does_not_decide(self, tutor):
        check = tutor.responder.document
        docs = frozenset({ANGLO})
        # 1925 is in the handout's sentence on the founding, far from the word "committee".
        assert check.check("the committee was set up in 1925", docs).verdict != "wrong"
        # "after the arrest" dates nothing: 1924 is when something else happened.
        assert check.check("he was in the caucasus in 1924 but that's after the arrest", frozenset({SULTAN})).verdict \
            != "wrong"
        assert check.check("the TUC ended the committee in 1926", docs).verdict == "wrong"
