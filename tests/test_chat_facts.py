"""The chat turn probes a claim the fact base contradicts (issue 14): a question and the correcting
source, never praise; a true claim is not probed as a fact error."""

from __future__ import annotations

import re

import pytest

from tutor.engine import Tutor
from tutor.services import build
from tutor.settings import load_settings
from tutor.store import Store

PRAISE = re.compile(r"\b(?:good|great|well done|exactly|that's right|that is right|correct|spot on|nice|"
                    r"excellent|you're right|you are right)\b", re.I)


@pytest.fixture(scope="module")
def tutor(corpus_home, embedder) -> Tutor:
    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


@pytest.mark.parametrize("message, fact, source_words", [
    ("Zinoviev called Stalin the outstanding mediocrity of our party", "fact:quotations.outstanding-mediocrity",
     "Trotsky"),
    ("Stalin was elected leader of the USSR by the people", "fact:denials.not-elected-by-people", "Central Committee"),
    ("Rykov and Tomsky sided with Trotsky in 1927", "fact:groups.stalin-bukharin", "Rykov"),
    ("Zinoviev and Kamenev were allied with Trotsky against Stalin in 1924", "fact:groups.triumvirate",
     "triumvirate"),
])
def test_the_issues_missed_statements_are_probed_with_the_correcting_source(tutor, message, fact, source_words):
    session = tutor.new_session()
    reply = tutor.reply(session, message)
    print(f"\n{message}\n-> {reply.text}")
    assert reply.move["kind"] == "probe_misconception"
    assert reply.move["misconception"] == fact
    assert reply.text.rstrip().endswith("?")
    assert reply.citations and "“" in reply.text, "the reply quotes a course passage"
    assert source_words.lower() in reply.text.lower()
    assert not PRAISE.search(reply.text), reply.text
    assert session.learner.misconceptions[fact] == "open"


def test_a_true_claim_is_not_probed_as_a_fact_error(tutor):
    reply = tutor.reply(tutor.new_session(), "Trotsky called Stalin the outstanding mediocrity of our party")
    assert not str(reply.move.get("misconception") or "").startswith("fact:")
