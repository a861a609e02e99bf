"""Checks that catch what a weak model gets wrong (seen with a 1.5B local model): asserting a
misconception or a wrong date itself, copying a passage without quotation marks, and giving a
hint with no passage cited."""

from __future__ import annotations

import pytest

from tests.fakes import FakeChatModel, scripted_reading
from tutor.services import build
from tutor.lessons import load_lessons
from tutor.pedagogy.checks import CheckContext, run_checks, unquoted_copy
from tutor.settings import PROJECT_ROOT, load_settings
from tutor.store import Store

LESSONS = load_lessons(PROJECT_ROOT / "corpus")
PASSAGE = ("The Lenin Enrolment of 1924, which admitted about 240,000 new members, mostly workers, "
           "strengthened the apparatus further, since new, less educated members tended to follow their secretaries.")


def _failed(text: str, **ctx) -> set[str]:
    context = CheckContext(passages={1: PASSAGE}, lessons=LESSONS, **ctx)
    return {c.name for c in run_checks(text, context) if not c.passed}


def test_a_reply_that_states_a_misattribution_fails():
    failed = _failed("Trotsky called Stalin a grey blur. [1] What did Trotsky himself call Stalin?")
    assert "no_false_claims" in failed


def test_a_reply_that_states_a_wrong_date_fails():
    assert "no_false_claims" in _failed("Lenin died in 1925, as [1] shows. Why does that matter?")
    assert "no_false_claims" not in _failed("Lenin died on 21 January 1924, as [1] shows. Why does that matter?")
    # relay trial 52: the November 1928 plenum that condemned the Right is not the October 1923 one
    assert "no_false_claims" not in _failed('The November 1928 plenum condemned a "Right Deviation" without naming '
                                            'names [1]. What did that leave Bukharin?')
    assert "no_false_claims" in _failed("The plenum condemned Trotsky in 1925 [1]. Why then?")
    # relay trial 53: a correction that names the student's wrong year to set it aside
    assert "no_false_claims" not in _failed("The Lenin Enrolment came later than 1922: it began in February 1924, "
                                            "after Lenin's death [1]. Who ran it?")
    assert "no_false_claims" in _failed("The Lenin Enrolment of 1922 brought in workers [1]. Who ran it?")


def test_a_summary_may_name_the_idea_it_corrected():
    # relay trial 38: "Along the way we fixed the idea that Lenin named Trotsky his heir" was refused as stating it
    assert "no_false_claims" not in _failed(
        "Along the way we fixed the idea that Lenin named Trotsky his heir [1]. Which mistake cost Trotsky most?")
    assert "no_false_claims" in _failed("Lenin named Trotsky his heir [1]. Which mistake cost Trotsky most?")


def test_the_probe_may_name_the_error_it_probes():
    probe = "Who do you think said Trotsky called Stalin a grey blur, and was it really Trotsky?"
    assert "no_false_claims" not in _failed(f"Let's check one detail. {probe}", allowed_text=probe)


def test_copying_a_passage_without_quotation_marks_fails_but_quoting_it_passes():
    copied = f"{PASSAGE} Did ideas matter, or only organisation?"
    assert "no_unquoted_copy" in _failed(copied)
    quoted = f"Look at this: “{PASSAGE[:120]}” [1] Did ideas matter, or only organisation?"
    assert "no_unquoted_copy" not in _failed(quoted)
    assert unquoted_copy("A short overlap: the Lenin Enrolment of 1924. Why?", [PASSAGE]) is None


def test_a_hint_must_cite_a_passage_when_required():
    assert "cites_passage" in _failed("What happened to the party in 1924?", require_citation=True)
    assert "cites_passage" not in _failed("What does [1] say happened to the party in 1924?", require_citation=True)
    assert "cites_passage" not in _failed("What happened to the party in 1924?")


@pytest.fixture(scope="module")
def corpus_settings(corpus_home):
    return load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)


def test_a_model_asserting_the_misconception_twice_is_replaced_offline(corpus_settings, embedder):
    wrong = scripted_reading("Trotsky called Stalin a grey blur. [1] What did Trotsky himself call Stalin, and does it "
                             "matter?", claims=[("trotsky called stalin a grey blur", "partly", "E1", "")])
    model = FakeChatModel().enqueue(wrong, wrong)
    tutor = build(corpus_settings, store=Store(corpus_settings, embedder), chat_model=model).tutor
    session = tutor.new_session()
    reply = tutor.reply(session, "trotsky called stalin a grey blur")
    assert len(model.calls) == 2, "regenerated once with the failure named"
    assert "no_false_claims" in model.calls[1][-1].content
    assert reply.mode == "offline" and "checks" in reply.notice
    assert "Sukhanov" in reply.text
    assert [t["role"] for t in session.history] == ["user", "assistant"]
