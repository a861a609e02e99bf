"""The source coach reads the student's answer with a model (issue 21 item 5): one structured
call (a ``SourceReading`` through LangChain's ``with_structured_output``) judges whether the
answer does the step's job, lists its factual errors and words the turn; the coach guards it
(citations, no evaluation written for the student, the fact checker's errors listed and not
moved past, no contradicted fact in the reply) and falls back to the offline rules with a
notice. Driven over real HTTP: the tutor's ChatOpenAI against tests/openai_server.py."""

from __future__ import annotations

import json
import re

import pytest

from openai_server import FakeOpenAIServer, openai_server, served  # noqa: F401 - a fixture
from tutor.coach.source import SourceCoach

WHO = "Trotsky wrote it himself, as a defeated rival of Stalin living in exile"
NEXT = "Yes, his position matters here. When did he write it, and what had happened by then?"


def source_reading(reply: str = NEXT, engages: bool = True, strengths=("a defeated rival of Stalin",),
                   errors=()) -> str:
    return json.dumps({"engages": engages, "strengths": list(strengths),
                       "factual_errors": [dict(zip(("text", "correction", "evidence"), e)) for e in errors],
                       "reply": reply})


def _coach(corpus_home, embedder, server: FakeOpenAIServer, **overrides) -> SourceCoach:
    return served(server, corpus_home, embedder, **overrides).source_coach


def _data(request: dict) -> dict:
    prompt = request["body"]["messages"][-1]["content"]
    return json.loads(re.search(r"<source_step>\n(.*?)\n</source_step>", prompt, re.S).group(1))


def _start(coach: SourceCoach):
    return coach.start(coach.load("source-trotsky-my-life"), "why Trotsky lost the power struggle")


def test_a_good_reading_moves_on_in_one_structured_call(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:" + source_reading())
    coach = _coach(corpus_home, embedder, openai_server)
    session = _start(coach)
    turn = coach.respond(session, WHO)
    assert turn.mode == "fake-model" and turn.text == NEXT and turn.notice is None
    assert turn.step == session.step == "when" and session.turns[-1]["content"] == NEXT
    [request] = openai_server.requests
    assert request["body"]["response_format"]["type"] == "json_schema"
    assert "engages" in json.dumps(request["body"]["response_format"])
    data = _data(request)
    assert data["student_answer"] == WHO and data["step"].endswith("(who)") and "Trotsky" in data["source"]["origin"]
    assert data["next_question"].startswith("When was it produced") and data["fact_checker_evidence"] == []


def test_the_json_mode_setting_asks_for_json_without_a_schema_on_the_wire(openai_server, corpus_home,  # noqa: F811
                                                                          embedder):
    openai_server.script("json:" + source_reading())
    coach = _coach(corpus_home, embedder, openai_server, llm_structured="json_mode")
    turn = coach.respond(_start(coach), WHO)
    assert turn.mode == "fake-model" and turn.step == "when"
    body = openai_server.requests[0]["body"]
    assert body["response_format"] == {"type": "json_object"}
    assert '"engages"' in body["messages"][-1]["content"]  # the schema is in the prompt instead


@pytest.mark.parametrize("bad", ["json:Good answer. When was it written?", "malformed"], ids=["not-json", "broken-body"])
def test_malformed_json_falls_back_to_the_offline_coach_with_a_notice(openai_server, corpus_home, embedder,  # noqa: F811
                                                                      bad):
    openai_server.script(bad)
    coach = _coach(corpus_home, embedder, openai_server)
    session = _start(coach)
    turn = coach.respond(session, WHO)
    assert turn.mode == "offline" and turn.notice and "offline source coach" in turn.notice
    if bad.startswith("json:"):
        assert "schema" in turn.notice and len(openai_server.requests) == 2  # regenerated once, then offline
    assert turn.step == "when"  # the offline rules judged the same answer: it engages, so the walk goes on
    assert session.turns[-1]["notice"] == turn.notice


def test_a_factual_error_the_model_missed_is_named_then_the_offline_coach_probes_it(openai_server,  # noqa: F811
                                                                                  corpus_home, embedder):
    """"Zinoviev wrote this book in 1927": the fact checker knows My Life is Trotsky's. A reading
    that praises the answer and moves on is regenerated naming the fact, then refused."""
    praised = source_reading(NEXT, strengths=["Zinoviev wrote this book"])
    openai_server.script("json:" + praised)
    coach = _coach(corpus_home, embedder, openai_server)
    session = _start(coach)
    turn = coach.respond(session, "Zinoviev wrote this book in 1927")
    assert len(openai_server.requests) == 2
    evidence = _data(openai_server.requests[0])["fact_checker_evidence"]
    assert evidence and evidence[0]["student_sentence"] == "Zinoviev wrote this book in 1927"
    retry = openai_server.requests[1]["body"]["messages"][-1]["content"]
    assert "errors_listed" in retry and "Trotsky" in retry
    assert turn.mode == "offline" and "errors_listed" in turn.notice and "no_moving_on_from_an_error" in turn.notice
    assert turn.step == session.step == "who"  # not moved past the error


def test_a_corrected_reading_after_the_regeneration_is_used(openai_server, corpus_home, embedder):  # noqa: F811
    fixed = source_reading("Check the author: My Life is Trotsky's own account, written in exile. Who was he by "
                           "then, and what was his position?", engages=False, strengths=[],
                           errors=[("Zinoviev wrote this book", "My Life was written by Trotsky.", "E1")])
    openai_server.script("json:" + source_reading(), "json:" + fixed)
    coach = _coach(corpus_home, embedder, openai_server)
    session = _start(coach)
    turn = coach.respond(session, "Zinoviev wrote this book in 1927")
    assert turn.mode == "fake-model" and turn.text.startswith("Check the author") and turn.step == "who"
    assert session.tries == 1


@pytest.mark.parametrize("reply, failed", [
    ("Good. This source is valuable because it is by Trotsky himself. When was it written?", "no_evaluation_written"),
    ("Good. As “Stalin was General Secretary from 1930” [3] shows, what had happened by then?", "citation"),
    ("Right, and Trotsky called Stalin a grey blur. When was it written?", "reply_facts"),
], ids=["evaluation-written", "bad-citation", "contradicted-fact"])
def test_a_reply_that_fails_a_guard_twice_goes_offline(openai_server, corpus_home, embedder, reply,  # noqa: F811
                                                       failed):
    openai_server.script("json:" + source_reading(reply))
    coach = _coach(corpus_home, embedder, openai_server)
    turn = coach.respond(_start(coach), WHO)
    assert turn.mode == "offline" and failed in turn.notice, turn.notice
    assert not re.search(r"valuable because|grey blur", turn.text)


def test_a_half_truth_is_evidence_the_model_may_take_up_without_blocking_the_step(openai_server,  # noqa: F811
                                                                                 corpus_home, embedder):
    """"Stalin won only because he was lucky" is the 'won by luck' half-truth of a lesson card: the
    model is told (finding "qualifies") but may judge that the answer still does the step's job."""
    openai_server.script("json:" + source_reading(strengths=["a defeated rival"]))
    coach = _coach(corpus_home, embedder, openai_server)
    session = _start(coach)
    turn = coach.respond(session, "Trotsky, a defeated rival, who thought Stalin won only because he was lucky")
    evidence = _data(openai_server.requests[0])["fact_checker_evidence"]
    assert [e["finding"] for e in evidence] == ["qualifies"] and evidence[0]["source"] == "overview-why-stalin-won"
    assert turn.mode == "fake-model" and turn.step == "when"


def test_a_true_answer_listed_as_an_error_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    """Precision first: "Trotsky was expelled from the party in 1927" is in the fact base; a reading
    that calls it an error is regenerated, then refused."""
    false_alarm = source_reading("Check that date. When was it written?", engages=False, strengths=[],
                                 errors=[("Trotsky was expelled from the party in 1927", "He was expelled in 1929.", "E1")])
    openai_server.script("json:" + false_alarm)
    coach = _coach(corpus_home, embedder, openai_server)
    turn = coach.respond(_start(coach), "Trotsky was expelled from the party in 1927 and wrote it in exile")
    assert len(openai_server.requests) == 2 and turn.mode == "offline" and "errors_not_supported" in turn.notice
