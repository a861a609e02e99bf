"""The model reads the student (issue 21): one structured call per turn returns a Reading, and
the engine's guards check it against the same evidence the model was given. Every guard is
driven here over real HTTP — the tutor's ChatOpenAI and the real ``openai`` client against the
scripted OpenAI-compatible server in tests/openai_server.py — with the JSON a model would send.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from fakes import scripted_reading
from openai_server import FakeOpenAIServer, openai_server  # noqa: F401 - a fixture
from tutor.engine import Tutor
from tutor.services import CONFIGURED, build
from tutor.settings import load_settings
from tutor.store import Store

GOOD_REPLY = "Look again at passage [1]. Who chose the delegates who voted at the party congresses?"


def reading(reply: str = GOOD_REPLY, **parts) -> str:
    return scripted_reading(reply, **parts)


def _tutor(corpus_home, embedder, server: FakeOpenAIServer, **overrides) -> Tutor:
    values = dict(home=corpus_home, llm_base_url=server.base_url, llm_model="fake-model", llm_timeout=10,
                  llm_max_retries=0, rate_limit_per_minute=0)
    values.update(overrides)
    settings = load_settings(**values)
    return build(settings, store=Store(settings, embedder), chat_model=CONFIGURED).tutor


def _offline_tutor(corpus_home, embedder) -> Tutor:
    """The tutor with no model: its evidence and checks, as the model path uses them."""
    settings = load_settings(home=corpus_home, rate_limit_per_minute=0)
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


def _turn_data(request: dict) -> dict:
    prompt = request["body"]["messages"][-1]["content"]
    return json.loads(re.search(r"<turn_data>\n(.*?)\n</turn_data>", prompt, re.S).group(1))


def _passages(request: dict) -> list[dict]:
    prompt = request["body"]["messages"][-1]["content"]
    return json.loads(re.search(r"<course_passages>\n(.*?)\n</course_passages>", prompt, re.S).group(1))


def _passages_for(server: FakeOpenAIServer, corpus_home, embedder, message: str) -> list[dict]:
    """The passages the model was shown for one message (its first request)."""
    server.script("json:" + reading())
    tutor = _tutor(corpus_home, embedder, server)
    tutor.reply(tutor.new_session(), message)
    return _passages(server.requests[0])


def _retry_prompt(server: FakeOpenAIServer) -> str:
    return server.requests[1]["body"]["messages"][-1]["content"]


def test_one_structured_call_with_a_json_schema_and_the_evidence_as_data(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:" + reading(claims=[("Trotsky called Stalin a grey blur", "wrong", "E1",
                                                    "It was Sukhanov, about 1917.")],
                                           reply="Not quite: that phrase was Sukhanov's, about 1917, not "
                                                 "Trotsky's. Why might Trotsky's allies still have underrated Stalin?",
                                           move="correct"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "Trotsky called Stalin a grey blur.")
    assert reply.mode == "fake-model" and reply.notice is None, [c.as_dict() for c in reply.checks]
    [request] = openai_server.requests
    body = request["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "Reading"
    assert not body.get("stream"), "one whole JSON object, asked for plainly"
    data = _turn_data(request)
    [row, *_] = data["evidence"]
    [ev, *_] = row["evidence"]
    assert row["student_sentence"] and ev["id"] == "E1"
    assert ev["finding"] == "contradicts" and "Sukhanov" in ev["fact"] and ev["source"]
    assert data["engine_reading"]["suggested_move"], "the rule reader's reading goes in as a hint"
    # Card text is data: it is inside the escaped block, never in the instruction text.
    card_hint = data["lesson_card"]["hints"][0] if "lesson_card" in data else ""
    outside = body["messages"][-1]["content"].split("<turn_data>")[0] + body["messages"][-1]["content"].split("</turn_data>")[1]
    assert not card_hint or card_hint not in outside
    assert reply.move["feedback"] == "wrong" and reply.move["reading"]["claims"][0]["verdict"] == "wrong"


def test_a_right_verdict_on_a_contradicted_claim_is_regenerated_naming_the_fact(openai_server, corpus_home,  # noqa: F811
                                                                                  embedder):
    praised = reading(claims=[("Trotsky called Stalin a grey blur", "right", "", "")],
                      reply="Exactly, Trotsky did say that. Why did it matter that he underrated Stalin?")
    fixed = reading(claims=[("Trotsky called Stalin a grey blur", "wrong", "E1", "It was Sukhanov's phrase.")],
                    reply="Not quite: it was Sukhanov who called Stalin a grey blur, about 1917. "
                          "Why might Trotsky have underrated Stalin too?", move="correct")
    openai_server.script("json:" + praised, "json:" + fixed)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "Trotsky called Stalin a grey blur.")
    assert len(openai_server.requests) == 2
    retry = _retry_prompt(openai_server)
    assert "verdicts_match_evidence" in retry and "Sukhanov" in retry, retry
    assert reply.mode == "fake-model" and reply.move["feedback"] == "wrong"


def test_a_contradicted_claim_judged_right_twice_goes_offline(openai_server, corpus_home, embedder):  # noqa: F811
    praised = reading(claims=[("Lenin died in 1925", "right", "", "")],
                      reply="Yes, Lenin died in 1925. What happened to his Testament after that?")
    openai_server.script("json:" + praised)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "Lenin died in 1925.")
    assert len(openai_server.requests) == 2
    assert reply.mode == "offline" and "failed the tutor's checks" in reply.notice
    assert "1924" in reply.text and "Yes, Lenin died in 1925" not in reply.text
    assert [t["role"] for t in session.history] == ["user", "assistant"]


def test_a_claim_left_unjudged_is_named(openai_server, corpus_home, embedder):  # noqa: F811
    silent = reading(reply="What made the General Secretary's post so useful? Look at passage [1].")
    openai_server.script("json:" + silent, "json:" + silent)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "Lenin died in 1925 and then Stalin took over.")
    assert "is not judged" in _retry_prompt(openai_server) and reply.mode == "offline"


def test_a_supported_claim_is_never_judged_wrong(openai_server, corpus_home, embedder):  # noqa: F811
    wrong = reading(claims=[("Stalin became General Secretary in 1922", "wrong", "", "It was 1923.")],
                    reply="Not quite, that was later. What did the post let him control?")
    openai_server.script("json:" + wrong)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "Stalin became General Secretary in 1922.")
    assert "judged wrong, but the evidence supports it" in _retry_prompt(openai_server)
    assert reply.mode == "offline"


def _corrected_1925() -> str:
    """The model's Reading that corrects "Lenin died in 1925" against its evidence E1."""
    return reading(claims=[("Lenin died in 1925", "wrong", "E1", "Lenin died on 21 January 1924.")],
                   reply="Close, but Lenin died on 21 January 1924, not 1925. "
                         "How did Stalin use the funeral that followed?", move="correct")


def test_a_corrected_date_is_not_a_leak_or_a_false_claim(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:" + _corrected_1925())
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "Lenin died in 1925.")
    failed = [c.as_dict() for c in reply.checks if not c.passed]
    assert reply.mode == "fake-model" and not failed, failed
    assert len(openai_server.requests) == 1


def test_the_models_reading_alone_decides_the_corrections_kept(openai_server, corpus_home, embedder):  # noqa: F811
    # relay trial 27: a claim the model judged right (naming the evidence as a misreading) stayed on the
    # next turn's "corrected so far" with the rule reader's correction; only the accepted Reading's count
    openai_server.script("json:" + _corrected_1925())
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "Lenin died in 1925.")
    assert reply.mode == "fake-model"
    kept = [pair for pairs in session.learner.corrections.values() for pair in pairs]
    assert kept == [["Lenin died in 1925", "Lenin died on 21 January 1924."]], kept
    assert not session.learner.date_errors, "the rule reader's marks give way to the Reading (relay trial 30)"


def test_a_partly_on_the_students_own_judgement_is_not_kept_as_a_correction(openai_server, corpus_home,  # noqa: F811
                                                                            embedder):
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()

    def corrected_after(said: str, correction: str, reply: str) -> list[str]:
        """The student's claims kept as corrected after a "partly" on ``said`` with ``correction``."""
        openai_server.script("json:" + reading(claims=[(said.rstrip("."), "partly", "1", correction)], reply=reply))
        answered = tutor.reply(session, said)
        assert answered.mode == "fake-model", [c.as_dict() for c in answered.checks if not c.passed]
        return [pair[0] for pairs in session.learner.corrections.values() for pair in pairs]

    # relay trial 29: "partly" verdicts on the student's own argument were kept as corrections, so the summary
    # could not quote their main line
    assert not corrected_after("control of the apparatus mattered way more than ideology",
                               "Ideas mattered too: socialism in one country won support.",
                               "A strong line, though ideas mattered too [1]. Which rival does it explain least well?")
    # relay trial 58: a "partly" that puts a fact right, resting on a passage, is a correction the summary lists
    message = "Zinoviev was spread thin - he was running Leningrad while Bukharin chaired the Comintern."
    assert corrected_after(message, "Bukharin headed the Comintern only from 1926; Zinoviev chaired it from 1919.",
                           "Half right: Zinoviev chaired the Comintern himself until 1926 [1]. What did Leningrad give "
                           "him?") == [message.rstrip(".")]
    # relay trial 61: a judgement answered with a dated nuance is still the student's point, not a correction
    judgement = "May 1924 was the last moment Stalin could have been removed cheaply."
    assert judgement.rstrip(".") not in corrected_after(
        judgement, "Some historians argue the apparatus already held the delegates by May 1924.",
        "A strong candidate, though some think the delegates were his by then [1]. What would test it?")


def test_a_key_point_the_words_do_not_support_is_not_credited(openai_server, corpus_home, embedder):  # noqa: F811
    message = "As General Secretary Stalin controlled appointments, so his people became the delegates."
    inflated = reading(claims=[("Stalin controlled appointments as General Secretary", "right", "", "")],
                       points=[("posts", "As General Secretary Stalin controlled appointments"),
                               ("alliances", "his people became the delegates"),           # the words do not make it
                               ("ideas", "Socialism in one country was popular")],          # not the student's words
                       reply="Yes: the post gave him the appointments [1]. Who did the delegates then vote for "
                             "at the party congresses?", move="ask_evidence")
    openai_server.script("json:" + inflated)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    session.learner.card_id = "why-stalin-won"
    reply = tutor.reply(session, message)
    assert reply.mode == "fake-model", [c.as_dict() for c in reply.checks if not c.passed]
    assert reply.card_id == "why-stalin-won"
    assert session.learner.covered_on("why-stalin-won") == {"posts"}
    [note] = [c for c in reply.checks if c.name == "points_supported"]
    assert "alliances" in note.detail and "ideas" in note.detail
    assert session.learner.words["why-stalin-won"]["posts"] == "As General Secretary Stalin controlled appointments"


def test_a_quotation_containing_quotation_marks_is_read_whole(corpus_home, embedder):
    def quote_a_passage(body: dict) -> str:
        rows = _passages({"body": body})
        # A passage sentence that itself holds quotation marks, quoted whole with its number.
        for row in rows:
            for sentence in re.split(r"(?<=[.!?])\s+", row["text"]):
                if re.search(r"[\"“][^\"“”]{3,60}[\"”]", sentence) and 8 <= len(sentence.split()) <= 40:
                    return reading(reply=f"Look at this: “{sentence.strip()}” [{row['n']}] "
                                         "What does that tell you about how others saw Stalin?")
        return reading(reply="no passage with quotation marks was shown")
    with FakeOpenAIServer(respond=quote_a_passage) as server:
        server.script("json")
        tutor = _tutor(corpus_home, embedder, server)
        reply = tutor.reply(tutor.new_session(), "who called stalin a grey blur?")
        assert "no passage with quotation marks" not in reply.text, "the retrieval should show such a passage"
        failed = [c.as_dict() for c in reply.checks if not c.passed]
        assert reply.mode == "fake-model" and not failed, failed
        assert [c.n for c in reply.citations] and reply.citations[0].quote.count("“") + reply.citations[0].quote.count('"') >= 1


def test_an_invented_quotation_still_fails(openai_server, corpus_home, embedder):  # noqa: F811
    invented = reading(reply="As the source says, “Stalin was loved by “every” worker in the land” [1] "
                             "What do you make of that?")
    openai_server.script("json:" + invented)
    tutor = _tutor(corpus_home, embedder, openai_server)
    tutor.reply(tutor.new_session(), "who called stalin a grey blur?")
    assert "quotes_faithful" in _retry_prompt(openai_server)


def test_a_repeated_question_is_regenerated(openai_server, corpus_home, embedder):  # noqa: F811
    first = reading(reply="Think about his posts [1]. Which office did Stalin hold from 1922?")
    again = reading(reply="Good thinking. Which office did Stalin hold from 1922?")
    fresh = reading(reply="Right, General Secretary. What could that post decide, according to passage [1]?",
                    claims=[("he was General Secretary", "right", "", "")])
    openai_server.script("json:" + first, "json:" + again, "json:" + fresh)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    tutor.reply(session, "why did stalin win")
    reply = tutor.reply(session, "he was general secretary")
    assert len(openai_server.requests) == 3
    assert "no_repeated_question" in openai_server.requests[2]["body"]["messages"][-1]["content"]
    assert reply.mode == "fake-model" and "What could that post decide" in reply.text, [c.as_dict() for c in reply.checks if not c.passed]
    second = _turn_data(openai_server.requests[1])
    assert "Which office did Stalin hold from 1922?" in second["questions_already_asked"]


def test_a_reply_without_a_question_is_regenerated(openai_server, corpus_home, embedder):  # noqa: F811
    flat = reading(reply="Stalin held many posts, and they mattered a great deal [1].")
    openai_server.script("json:" + flat, "json:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    retry = _retry_prompt(openai_server)
    assert "ends_with_question" in retry and "one_question" in retry
    assert reply.mode == "fake-model" and reply.text == GOOD_REPLY


def test_two_questions_are_refused(openai_server, corpus_home, embedder):  # noqa: F811
    two = reading(reply="Who appointed the local secretaries? And who chose the delegates at the congresses [1]?")
    openai_server.script("json:" + two, "json:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server)
    tutor.reply(tutor.new_session(), "why did stalin win")
    assert "one_question" in _retry_prompt(openai_server)


@pytest.mark.parametrize("bad", ["{this is not json", '{"claims": [], "reply": "Who chose the delegates?"}',
                                 '{"claims": [{"text": "x", "verdict": "maybe", "evidence": "", "correction": "", '
                                 '"misread": ""}], '
                                 '"student_questions": [], "points_made": [], "move": "hint", "reply": "Why?"}'],
                         ids=["not-json", "missing-fields", "bad-verdict"])
def test_malformed_json_is_regenerated_then_offline(openai_server, corpus_home, embedder, bad):  # noqa: F811
    openai_server.script("json:" + bad, "json:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    assert "schema" in _retry_prompt(openai_server) and reply.mode == "fake-model"

    openai_server.script("json:" + bad)
    session = tutor.new_session()
    reply = tutor.reply(session, "why did stalin win")
    assert reply.mode == "offline" and "failed the tutor's checks (schema)" in reply.notice
    assert reply.text.rstrip().endswith("?") and [t["role"] for t in session.history] == ["user", "assistant"]


def test_an_echoed_off_course_message_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    pizza = "Can you recommend a good pizza place near me?"
    openai_server.script("json:" + reading(reply=pizza, move="redirect"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), pizza)
    retry = _retry_prompt(openai_server)
    assert "no_echo" in retry and "on_course" in retry
    assert reply.mode == "offline" and reply.text != pizza


def test_a_bare_question_with_no_passage_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:" + reading(reply="What do you think?"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    assert "on_course" in _retry_prompt(openai_server) and reply.mode == "offline"


def test_a_bare_question_naming_stalin_but_no_passage_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    # What the real 0.5B model wrote (tests/test_llamacpp_server.py): on the course, but grounded in nothing.
    openai_server.script("json:" + reading(reply="Did everyone underestimate Stalin?", move="answer_question"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "So was it just his posts, or did the others underestimate him?")
    assert "cites_passage" in _retry_prompt(openai_server) and reply.mode == "offline"


def test_a_direct_question_gets_an_answer_before_the_question(openai_server, corpus_home, embedder):  # noqa: F811
    dodged = reading(questions=[("when did lenin die?", "On 21 January 1924.")],
                     reply="Why do you think his death mattered for Stalin [1]?", move="answer_question")
    answered = reading(questions=[("when did lenin die?", "On 21 January 1924.")],
                       reply="Lenin died on 21 January 1924. Why might the timing have helped Stalin [1]?",
                       move="answer_question")
    openai_server.script("json:" + dodged, "json:" + answered)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "when did lenin die?")
    assert "answers_question" in _retry_prompt(openai_server)
    assert reply.mode == "fake-model" and reply.text.startswith("Lenin died on 21 January 1924.")


def test_function_calling_is_a_setting(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("tool:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server, llm_structured="function_calling")
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    body = openai_server.requests[0]["body"]
    assert body["tools"][0]["function"]["name"] == "Reading" and "response_format" not in body
    assert reply.mode == "fake-model" and reply.text == GOOD_REPLY


def test_json_mode_sends_the_schema_in_the_prompt(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("json:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server, llm_structured="json_mode")
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    body = openai_server.requests[0]["body"]
    assert body["response_format"] == {"type": "json_object"}
    assert '"student_questions"' in body["messages"][-1]["content"]
    assert reply.mode == "fake-model" and reply.text == GOOD_REPLY


def test_a_summary_quotes_the_students_words_and_sees_the_whole_conversation(openai_server, corpus_home,  # noqa: F811
                                                                             embedder, monkeypatch):
    said = "As General Secretary Stalin controlled appointments"
    first = reading(claims=[(said, "right", "", "")], points=[("posts", said)], move="ask_evidence",
                    reply="That holds up. Which passage shows who chose the delegates at the congresses [1]?")
    second = reading(reply="Good question. How did the local secretaries choose the delegates [1]?")
    vague = reading(reply="You have made some good points so far about his posts. Which mattered most?",
                    move="summarise_and_judge")
    quoted = reading(reply=f"So far you argued: “{said.lower()}”. Still open: his rivals' mistakes and his "
                           "alliances. Which mattered more, his posts or his rivals' errors?", move="summarise_and_judge")
    openai_server.script("json:" + first, "json:" + second, "json:" + vague, "json:" + quoted)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    session.learner.card_id = "why-stalin-won"
    tutor.reply(session, said + ".")
    assert session.learner.covered_on("why-stalin-won") == {"posts"}
    tutor.reply(session, "who chose the delegates then?")
    reply = tutor.reply(session, "can you sum up where I've got to?")
    assert "summary_in_their_words" in openai_server.requests[3]["body"]["messages"][-1]["content"]
    assert reply.mode == "fake-model" and said.lower() in reply.text.lower(), reply.notice
    # The whole conversation reached the model: both earlier exchanges, not only the last ones.
    history = [m["content"] for m in openai_server.requests[2]["body"]["messages"][1:-1]]
    assert history[0] == said + "." and len(history) == 4
    assert _turn_data(openai_server.requests[2])["progress"]["points_made"] == {"posts": said}

    # A conversation longer than the model is given whole: recent turns plus a running summary.
    monkeypatch.setattr("tutor.engine.HISTORY_CHARS", 100)
    monkeypatch.setattr("tutor.engine.RECENT_TURNS", 2)
    openai_server.script("json:" + reading(reply="What does passage [1] say Trotsky did while Lenin was ill?"))
    tutor.reply(session, "and what about trotsky?")
    assert len(openai_server.requests) == 5
    data = _turn_data(openai_server.requests[4])
    assert data["earlier_conversation"]["student_said_earlier"], "the turns left out are summarised"
    assert data["earlier_conversation"]["points_made_in_their_words"]["why-stalin-won"]["posts"] == said


# -- guards found too strict in the relay trial (corpus/eval/trials/2026-12-06-relay) ------------
def _reading(reply: str, claims=(), questions=(), move: str = "correct"):
    from tutor.pedagogy.reading import Reading

    return Reading.model_validate_json(scripted_reading(reply, claims=claims, questions=questions, move=move))


def test_a_claim_split_off_a_contradicted_sentence_is_judged_on_its_own_words():
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = ("stalin was made general secretary in 1917 right after the revolution so he had years, "
                "and he used it to appoint loyal people to jobs")
    ev = Evidence("E1", "stalin-general-secretary", sentence, "contradicts",
                  "Stalin was General Secretary of the party from 3 April 1922.", "overview-power-struggle")
    reading = _reading("He became General Secretary in April 1922, not 1917 [1]. What did the post let him do?",
                       claims=[("stalin was made general secretary in 1917", "wrong", "E1", "April 1922."),
                               ("he used it to appoint loyal people to jobs", "right", "1", "")])
    checks = {c.name: c for c in reading_checks(reading, ReadingContext(message=sentence, evidence=[ev],
                                                                        passages={1: "text"}))}
    assert checks["verdicts_match_evidence"].passed, checks["verdicts_match_evidence"].detail
    # The whole sentence judged right is still refused.
    whole = _reading("Yes. What did the post let him do?", claims=[(sentence, "right", "1", "")])
    checks = {c.name: c for c in reading_checks(whole, ReadingContext(message=sentence, evidence=[ev],
                                                                      passages={1: "text"}))}
    assert not checks["verdicts_match_evidence"].passed


def test_a_summary_may_quote_any_of_the_students_words():
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    said = "i think trotsky just kept quiet about it\nhe was seen as arrogant and he only joined in 1917"
    reply = 'So far: "he was seen as arrogant" and "trotsky just kept quiet about it". Which mattered most?'
    checks = {c.name: c for c in reading_checks(_reading(reply, move="summarise_and_judge"),
                                                ReadingContext(message="sum up?", student_text=said,
                                                               words=["some other credited words"]))}
    assert checks["summary_in_their_words"].passed
    checks = {c.name: c for c in reading_checks(_reading('You said "nothing like that at all". Why?',
                                                         move="summarise_and_judge"),
                                                ReadingContext(message="sum up?", student_text=said))}
    assert not checks["summary_in_their_words"].passed


def test_only_answers_to_questions_the_student_asked_are_allowed_text():
    from tutor.pedagogy.checks import CheckContext, answering

    ctx = CheckContext(passages={}, card=None, covered=set(), allowed_text="base")
    asked = _reading("…", questions=[("so how did he not get kicked out", "Zinoviev and Kamenev argued he should stay.")])
    assert "Zinoviev and Kamenev argued" in answering(ctx, asked, "ok but so how did he not get kicked out").allowed_text
    assert answering(ctx, asked, "tell me about the congress").allowed_text == "base"  # not the student's question


def test_a_correction_of_the_students_own_wrong_claim_is_allowed_text():
    from tutor.pedagogy.checks import CheckContext, answering

    ctx = CheckContext(passages={}, card=None, covered=set(), allowed_text="base")
    message = "plus the ban on factions from 1924 meant he couldnt organise"
    corrected = _reading("…", claims=[("the ban on factions from 1924", "wrong", "2",
                                       "It was Lenin's resolution at the 10th Congress in March 1921.")])
    assert "10th Congress in March 1921" in answering(ctx, corrected, message).allowed_text
    invented = _reading("…", claims=[("stalin planned it all", "wrong", "2", "He did not plan it.")])
    assert answering(ctx, invented, message).allowed_text == "base"  # not a claim the student made
    # relay trial 64: two stretches of the student's words joined by an ellipsis are still theirs
    message = ("wait but i thought the ban on factions was Stalin's thing? like we learned Lenin banned other PARTIES in "
               "1921 and then Stalin banned factions inside the party in 1924 to stop the Declaration of the 46 people.")
    joined = _reading("…", claims=[("i thought the ban on factions was Stalin's thing ... Stalin banned factions inside "
                                    "the party in 1924", "wrong", "E4", "It was Lenin's resolution, March 1921.")])
    assert "Lenin's resolution, March 1921" in answering(ctx, joined, message).allowed_text
    slashed = _reading("…", claims=[("i thought the ban on factions was Stalin's thing / Stalin banned factions inside "
                                     "the party in 1924", "wrong", "E4", "It was Lenin's resolution, March 1921.")])
    assert "Lenin's resolution, March 1921" in answering(ctx, slashed, message).allowed_text
    spliced = _reading("…", claims=[("the ban on factions was Stalin's thing ... he planned it all", "wrong", "E4", "No.")])
    assert answering(ctx, spliced, message).allowed_text == "base"


def test_a_reply_denying_the_students_wrong_year_states_no_wrong_date():
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, asserted_errors

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    ctx = CheckContext(passages={}, card=None, covered=set(), lessons=load_lessons(corpus))
    denial = "Bukharin wasn't expelled from the party in 1929; he lost his Politburo seat that November."
    assert asserted_errors(denial, ctx) == []
    assert asserted_errors("Trotsky was expelled from the party in 1925.", ctx)


def test_an_answer_to_who_kept_stalin_in_post_is_allowed_but_the_whole_argument_is_not():
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, answering

    lessons = load_lessons(Path(__file__).resolve().parents[1] / "corpus")
    ctx = CheckContext(passages={}, card=lessons.get("left-underestimated-stalin"), covered=set(),
                       other_cards=[(lessons.get("why-stalin-won"), set())], lessons=lessons)
    question = "what actually happened to Lenin's Testament in May 1924?"
    fact = ("It was read only to the delegations, and Zinoviev and Kamenev argued that Stalin should stay as "
            "General Secretary, since they needed him against Trotsky.")
    assert fact in answering(ctx, _reading("…", questions=[(question, fact)]), question).allowed_text
    argument = ("He won because the General Secretary controlled appointments and the delegates, his alliance "
                "with Zinoviev and Kamenev beat Trotsky, whose mistakes and illness cost him, and the ban on "
                "factions of 1921 silenced the opposition.")
    why = "so why did stalin win?"
    assert argument not in answering(ctx, _reading("…", questions=[(why, argument)]), why).allowed_text


# -- issue 21, after relay3: what the guards did is recorded, and a guard never contradicts the brief --
def test_the_guard_log_records_each_refusal_and_whose_reply_it_is(openai_server, corpus_home, embedder):  # noqa: F811
    from tutor.evaluation.trial import guard_tally, transcript_row

    praised = reading(claims=[("Trotsky called Stalin a grey blur", "right", "", "")],
                      reply="Exactly, Trotsky did say that. Why did it matter that he underrated Stalin?")
    fixed = reading(claims=[("Trotsky called Stalin a grey blur", "wrong", "E1", "It was Sukhanov's phrase.")],
                    reply="Not quite: it was Sukhanov who called Stalin a grey blur, about 1917. "
                          "Why might Trotsky have underrated Stalin too?", move="correct")
    openai_server.script("json:" + praised, "json:" + fixed)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "Trotsky called Stalin a grey blur.")
    log = reply.guards
    assert log["attempts"] == 2 and log["final"] == "model" and log["reason"] is None
    assert {r["guard"] for r in log["refusals"]} >= {"verdicts_match_evidence"}
    assert all(r["attempt"] == 1 for r in log["refusals"]) and "Sukhanov" in log["refusals"][0]["detail"]

    openai_server.script("json:" + praised)  # refused twice: the offline tutor answers, and the log says so
    second = tutor.reply(session, "Trotsky called Stalin a grey blur, I'm sure.")
    assert second.mode == "offline" and second.guards["final"] == "offline" and second.guards["attempts"] == 2
    assert {r["attempt"] for r in second.guards["refusals"]} == {1, 2}

    rows = [transcript_row(1, "m", reply), transcript_row(2, "m", second)]
    assert rows[0]["guards"] == log and reply.as_dict()["guards"] == log
    figures = guard_tally(rows)
    assert figures["guarded_turns"] == 2 and figures["regenerations"] == 2 and figures["fallbacks"] == 1
    assert figures["guard_refusals"]["verdicts_match_evidence"] >= 3


def test_no_evidence_is_said_in_words_and_evidence_comes_by_sentence(openai_server, corpus_home, embedder):  # noqa: F811
    from tutor.engine import NO_EVIDENCE, NO_EVIDENCE_HERE

    openai_server.script("json:" + reading(), "json:" + reading(
        claims=[("Lenin died in 1925", "wrong", "E1", "Lenin died on 21 January 1924.")],
        reply="Close, but Lenin died on 21 January 1924, not 1925. How did Stalin use the funeral that followed?"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    tutor.reply(session, "why did stalin win")
    assert _turn_data(openai_server.requests[0])["evidence"] == NO_EVIDENCE
    tutor.reply(session, "Lenin died in 1925. I really like this topic a lot.")
    rows = _turn_data(openai_server.requests[1])["evidence"]
    by = {r["student_sentence"]: r["evidence"] for r in rows}
    assert by["Lenin died in 1925."][0]["finding"] == "contradicts"
    assert by["I really like this topic a lot."] == NO_EVIDENCE_HERE


def test_a_compound_claim_only_partly_supported_may_be_judged_wrong(openai_server, corpus_home, embedder):  # noqa: F811
    message = "Stalin became General Secretary in 1922 and used it to pack the congress in 1921."
    judged = reading(claims=[("Stalin became General Secretary in 1922 and used it to pack the congress in 1921",
                              "wrong", "", "He became General Secretary in April 1922, after the 1921 congress.")],
                     reply="Half right: the post came in April 1922, so it could not shape a congress held a year "
                           "earlier [1]. Which later congress could his appointees have shaped?", move="correct")
    openai_server.script("json:" + judged, "json:" + judged)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), message)
    assert "verdicts_match_evidence" not in {r["guard"] for r in reply.guards["refusals"]}, reply.guards

    # The relay3 case: the date of Lenin's death is right, the sequence is wrong.
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    sentence = "he controlled appointments after becoming General Secretary following Lenin's death in 1924"
    found = tutor.evidence(sentence)
    assert any(ev.finding == "supports" for ev in found), found
    claim = _reading("It was April 1922. Why?", claims=[("after becoming General Secretary following Lenin's death "
                                                          "in 1924", "wrong", found[0].id, "April 1922.")])
    ctx = ReadingContext(message=sentence, evidence=found, judge=lambda t: tutor.evidence(t, numbered=False))
    [check] = [c for c in reading_checks(claim, ctx) if c.name == "verdicts_match_evidence"]
    assert check.passed, check.detail
    # One statement the fact base supports, judged wrong, is still refused.
    single = _reading("No. Why?", claims=[("Lenin died in January 1924", "wrong", "", "1925.")])
    ctx = ReadingContext(message="Lenin died in January 1924.", evidence=tutor.evidence("Lenin died in January 1924."),
                         judge=lambda t: tutor.evidence(t, numbered=False))
    assert not [c for c in reading_checks(single, ctx) if c.name == "verdicts_match_evidence"][0].passed


def test_a_long_chat_message_with_questions_is_talk_not_an_essay(openai_server, corpus_home, embedder):  # noqa: F811
    message = ("1921, got it - the same congress as the NEP, which makes sense because Lenin wanted unity while "
               "making the economic retreat. I'd say underestimation was a condition, and mainly an early one. It "
               "explains 1922-24: why he got the General Secretary job, and why Zinoviev and Kamenev protected him "
               "over the Testament. But by 1925-28 his rivals clearly knew what he was, so it can't explain why "
               "Kamenev, Zinoviev and then Bukharin lost. At that stage it's the ban, the apparatus and the fact "
               "they'd all signed up to 'party unity' - they had no legitimate way to oppose him. So the importance "
               "of underestimation changes over time. Does that chronological argument hold up? And one more "
               "specific thing: was Trotsky missing Lenin's funeral in January 1924 actually significant, or is "
               "that overplayed in textbooks?")
    openai_server.script("json:" + reading(reply="It holds up, and the funeral mattered mostly as symbol [1]. "
                                                 "Why did none of them unite against him?", move="answer_question"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), message)
    assert reply.intent != "essay" and reply.move["kind"] != "essay_feedback" and "marks" not in reply.move
    assert openai_server.requests[0]["body"]["response_format"]["json_schema"]["name"] == "Reading"
    # Asking for a mark, or pasting paragraphs, is still an essay.
    from tutor.pedagogy.acts import long_chat

    assert not long_chat(message.replace("Does that chronological argument hold up?", "What mark would this get?")
                         .replace(" or is that overplayed in textbooks?", "."))
    # In paragraphs and ending on its questions, it is still talk (relay trial 43); without them, writing.
    assert long_chat(message.replace(" But by", "\n\nBut by"))
    assert not long_chat(message.replace(" But by", "\n\nBut by").split("? ")[0].rsplit(". ", 1)[0] + ".")


def test_every_question_the_reading_lists_is_answered():
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    def answers(reply, questions):
        [c] = [c for c in reading_checks(_reading(reply, questions=questions, move="answer_question"),
                                         ReadingContext(message="q")) if c.name == "answers_question"]
        return c

    two = [("was trotsky actually ill?", "Yes: he had a fever from autumn 1923 into 1924."),
           ("who argued to keep stalin?", "Zinoviev and Kamenev argued he should stay.")]
    assert answers("He was: a fever from autumn 1923 kept him out of the fight [1]. Zinoviev and Kamenev argued "
                   "that Stalin should stay [2]. Which mattered more?", two).passed
    half = answers("He was: a fever from autumn 1923 kept him out of the fight [1]. Which mattered more?", two)
    assert not half.passed and "who argued to keep stalin" in half.detail and "was trotsky" not in half.detail
    # A factual question left without an answer is refused; the overall judgement may be left open.
    assert not answers("Good question. What do the passages say [1]?", [("when did lenin die?", "")]).passed
    assert not answers("Good question. What do you think [1]?", [("is that basically it or am i missing stuff?", "")]).passed
    assert answers("That is yours to judge. Which factor do you rank first [1]?", [("so why did stalin win?", "")]).passed
    # "Am I missing anything?" gets named areas, not only "yes, a few things" (relay3).
    vague = answers("Yes, you're missing a few things, and strong answers link factors. Which matters most [1]?",
                    [("is that basically it or am i missing stuff?", "You are missing some things; link the factors.")])
    assert not vague.passed and "name one or two areas" in vague.detail
    assert answers("Yes: look at the Testament and the Lenin Enrolment. Which matters most [1]?",
                   [("is that basically it or am i missing stuff?", "The Testament and the Lenin Enrolment.")]).passed


def test_a_summary_does_not_relist_a_corrected_claim(openai_server, corpus_home, embedder):  # noqa: F811
    wrong = "stalin gave the big speech at the funeral"
    corrected = reading(claims=[(wrong, "wrong", "", "Stalin gave his oath speech to the Congress of Soviets "
                                                    "on 26 January 1924, the day before the funeral.")],
                        reply="Not quite: his oath speech came the day before the funeral [1]. "
                              "Where was Trotsky then?", move="correct")
    relisted = reading(reply=f"So far you argued that \"{wrong}\" and that Trotsky was away. What mattered most?",
                       move="summarise_and_judge")
    fixed = reading(reply=f"You first thought \"{wrong}\", but it was the oath speech the day before. "
                          "You argued Trotsky was away. What mattered most?", move="summarise_and_judge")
    openai_server.script("json:" + corrected, "json:" + relisted, "json:" + fixed)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    tutor.reply(session, f"i think {wrong} and trotsky was away")
    reply = tutor.reply(session, "can you sum up where I've got to?")
    data = _turn_data(openai_server.requests[1])
    assert data["corrected_so_far"][0]["student_said"] == wrong
    refused = {r["guard"] for r in reply.guards["refusals"]}
    assert "summary_not_corrected" in refused and reply.guards["final"] == "model", reply.guards
    assert reply.text.startswith("You first thought")
    assert "summary_not_corrected" not in openai_server.requests[0]["body"]["messages"][-1]["content"]


def test_the_students_own_point_and_one_point_of_another_card_are_not_leaks():
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, answering, run_checks

    lessons = load_lessons(Path(__file__).resolve().parents[1] / "corpus")
    card = lessons.get("lenin-cult-and-funeral")
    point = next(k for k in card.key_points if k.id == "trotsky-absent")
    message = "trotsky skipped lenins funeral which made him look bad"
    reply = f"You're right that he missed it: {point.statement} What did Stalin do while he was away?"
    ctx = CheckContext(passages={}, card=card, covered=set(), allowed_text="", lessons=lessons)
    leak = lambda c: [x for x in run_checks(reply, c) if x.name == "no_answer_leak"][0]  # noqa: E731
    assert not leak(ctx).passed, "the statement of a point not reached is a leak"
    made = _reading(reply)
    made.points_made = [type(made).model_fields["points_made"].annotation.__args__[0](
        key_point_id="trotsky-absent", words="trotsky skipped lenins funeral")]
    assert leak(answering(ctx, made, message)).passed

    main = lessons.get("why-stalin-won")
    one = "As General Secretary he controlled appointments to party posts. What did Trotsky do in 1924?"
    other = CheckContext(passages={}, card=card, covered=set(), other_cards=[(main, set())], lessons=lessons)
    leaks = lambda text, floor: not [x for x in run_checks(text, replace_floor(other, floor))  # noqa: E731
                                     if x.name == "no_answer_leak"][0].passed
    assert leaks(one, 0) and not leaks(one, 2), "one fact bearing on the big question is not its answer"
    argument = ("Stalin as General Secretary appointed the secretaries who picked delegates, he allied with Zinoviev "
                "and Kamenev against Trotsky, and Trotsky's mistakes and illness cost him. What did Trotsky do?")
    assert leaks(argument, 2), "three points of the big question are its answer"


def replace_floor(ctx, floor):
    from dataclasses import replace

    return replace(ctx, other_card_floor=floor)


def test_a_sentence_two_facts_contradict_is_judged_by_correcting_it_on_either():
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = ("anyway my next bit is the testament - it was read out to the whole 12th party congress in 1923 "
                "and everyone voted on whether to remove stalin and he only just survived.")
    evidence = [Evidence("E1", "testament-13th", sentence, "contradicts", "It was read to delegations in May 1924.",
                         "event-testament-not-acted-on"),
                Evidence("E2", "testament-12th", sentence, "contradicts", "It was not read at the 12th Congress.",
                         "event-testament-not-acted-on")]
    ctx = ReadingContext(message=sentence, evidence=evidence, passages={1: "text"})
    claim = "it was read out to the whole 12th party congress in 1923"
    verdict = lambda v: [c for c in reading_checks(_reading("Not so [1]. Why?", claims=[(claim, v, "E2", "No.")]),  # noqa: E731
                                                   ctx) if c.name == "verdicts_match_evidence"][0]
    assert verdict("wrong").passed, verdict("wrong").detail
    assert not verdict("right").passed


def test_a_wrong_claim_joined_across_sentences_with_an_ellipsis_judges_the_contradicted_one():
    """Relay trial 46: "the 14th party congress ... was 1924 right after lenin died", judged wrong on the
    background evidence of the sentence before, was refused as leaving the contradicted sentence unjudged."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    first = "hey so im doing an essay on the 14th party congress and the new opposition."
    sentence = "from what i get it was 1924 right after lenin died and zinoviev and kamenev basically attacked stalin there?"
    evidence = [Evidence("E4", "define.the 14th Congress", first, "background", "The 14th Congress met in December 1925.",
                         "event-fourteenth-congress"),
                Evidence("E1", "groups.triumvirate", sentence, "contradicts",
                         "In 1924 Zinoviev and Stalin stood together in the triumvirate.", "event-triumvirate")]
    ctx = ReadingContext(message=f"{first} {sentence}", evidence=evidence, passages={1: "text"})
    check = lambda text: [c for c in reading_checks(_reading("The date needs fixing [1]. Why?", claims=[  # noqa: E731
        (text, "wrong", "E4", "It met in December 1925.")]), ctx) if c.name == "verdicts_match_evidence"][0]
    assert check("the 14th party congress ... was 1924 right after lenin died").passed
    assert not check("the 14th party congress was about the new opposition").passed


def test_a_reply_denying_a_misconception_does_not_assert_it():
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, asserted_errors

    ctx = CheckContext(passages={}, card=None, covered=set(),
                       lessons=load_lessons(Path(__file__).resolve().parents[1] / "corpus"))
    denial = ("One fix first: Trotsky wasn't exiled abroad in 1925; he was sent to Alma-Ata in January 1928 and "
              "deported to Turkey in February 1929 [3].")
    assert asserted_errors(denial, ctx) == []
    assert "trotsky-deported-1927" in asserted_errors("Trotsky was exiled abroad in 1927, after the congress.", ctx)


# -- relay trial 4: replies that followed the brief and were refused ------------------------------
def test_correcting_the_students_wrong_year_for_a_key_point_is_not_a_paraphrase_leak(openai_server, corpus_home,  # noqa: F811
                                                                                      embedder):
    message = ("My line is that once Stalin became General Secretary after Lenin died in 1924 he controlled "
               "appointments and could pack the congresses. Is that a strong enough thesis?")
    corrected = reading(
        claims=[("once Stalin became General Secretary after Lenin died in 1924", "wrong", "",
                 "Stalin became General Secretary on 3 April 1922, with Lenin's support, almost two years before Lenin died.")],
        questions=[("Is that a strong enough thesis?", "")],
        reply="One date to fix first: Stalin became General Secretary on 3 April 1922, with Lenin's support, almost "
              "two years before Lenin died, not after his death. Look at passage [1] on what the post gave him. "
              "Why do you think his colleagues were happy to let him have it?", move="correct")
    openai_server.script("json:" + corrected)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), message)
    refused = [r["guard"] for r in reply.guards["refusals"]]
    assert "no_answer_leak" not in refused and "answers_question" not in refused, reply.guards


def test_weighing_questions_are_judgement_and_may_be_left_to_the_student():
    from tutor.pedagogy.checks import _factual

    assert not _factual("Does that mean ideology mattered as much as the machine?")
    assert not _factual("Was Trotsky's absence from the funeral really decisive?")
    assert _factual("When was Bukharin removed from the Politburo?")
    assert _factual("Was it Lessons of October?")
    # relay trial 51: a request to write part of the essay is declined, not a question owed an answer
    assert not _factual("can you give me like a one line conclusion for the essay?")
    assert _factual("can you tell me when trotsky was expelled?")


def test_a_short_quoted_word_does_not_open_a_false_quotation():
    from tutor.pedagogy.checks import quoted_spans

    text = ('Careful with "endorsement": Lenin weighed up six leaders and chose none of them to succeed him [2]. '
            'Lenin called him "personally perhaps the most capable man in the present C.C." [1] and notice that '
            '"perhaps". Why?')
    assert quoted_spans(text) == [("personally perhaps the most capable man in the present C.C.", 1)]


def test_evidence_from_an_earlier_turn_is_valid():
    claim = _reading("…", claims=[("he was general secretary since 1917", "wrong", "corrected earlier (previous turn)",
                                   "He became General Secretary in April 1922.")]).claims[0]
    assert claim.evidence_ref()[0] == "earlier"


def test_yes_to_the_students_question_is_not_praise_when_the_contradicted_claims_are_corrected(
        openai_server, corpus_home, embedder):  # noqa: F811
    message = "was it lessons of october? then bukharin turned on stalin in 1926 over collectivisation."
    answer = reading(
        claims=[("bukharin turned on stalin in 1926 over collectivisation", "wrong", "E1",
                 "In 1926 Bukharin was Stalin's ally against the Left; they split over the grain crisis of 1927-28.")],
        questions=[("was it lessons of october?", "Yes: Trotsky's Lessons of October, autumn 1924.")],
        reply="Yes, it was Lessons of October, autumn 1924. But in 1926 Bukharin was still Stalin's ally against "
              "the Left; they split over the grain crisis of 1927-28. Look at passage [1]. What changed in 1928?",
        move="correct")
    openai_server.script("json:" + answer)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), message)
    refused = [r["guard"] for r in reply.guards["refusals"]]
    assert "no_praise_of_contradicted_claim" not in refused, reply.guards


def test_evidence_on_a_sentence_half_supported_half_contradicted_is_the_contradiction(corpus_home, embedder):
    """Relay trial 4: "the united opposition was trotsky, zinoviev and bukharin" came to the model as
    evidence that *supports* it (Trotsky and Zinoviev were members), hiding Bukharin."""
    tutor = _offline_tutor(corpus_home, embedder)
    [ev] = [ev for ev in tutor.evidence("the united opposition was trotsky, zinoviev and bukharin")
            if ev.finding != "background"]  # the United Opposition's definition comes as background
    assert ev.finding == "contradicts" and "Kamenev" in ev.fact


def test_each_question_of_a_many_topic_message_brings_its_own_passage(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 4: a message on the Testament, the NEP and the funeral was searched as one, and
    "where was Trotsky when Lenin died?" had no passage to be answered from."""
    passages = _passages_for(openai_server, corpus_home, embedder,
                             "ok so the testament said stalin was too rude and bukharin backed the NEP against the left. "
                             "who proposed the ban on factions in 1921? and where was Trotsky when Lenin died?")
    assert any("Lenin's death" in p["title"] for p in passages), [p["title"] for p in passages]


def test_a_question_that_points_back_is_searched_alone_as_well(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 66: "didnt stalin offer to resign over it and they voted it down?" found the 14th Congress's
    vote first and the resignation offer second; the model had nothing to cite for its answer."""
    passages = _passages_for(openai_server, corpus_home, embedder,
                             "ngl i think it was a threat for like a day and then it wasnt, bc the people in the room "
                             "were already his lot. didnt stalin offer to resign over it and they voted it down? if so "
                             "thats a good line for my conclusion.")
    assert any("offered" in p["text"] and "resign" in p["text"] for p in passages), [p["title"] for p in passages]


def test_each_claim_of_a_many_claim_message_brings_its_own_passage(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trials 34 and 35: a claim whose passage the message's one search missed was left
    "unsure" by the model ("Stalin offered to resign"), though a course document states it."""
    passages = _passages_for(openai_server, corpus_home, embedder,
                             "trotsky was general secretary first and stalin only got the job in 1924. the lenin "
                             "enrolment brought in new members who backed trotsky. stalin offered to resign when the "
                             "testament was read out.")
    assert any("offered" in p["text"] and "resign" in p["text"] for p in passages), [p["title"] for p in passages]


def test_a_rare_name_brings_the_passage_that_holds_it(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 45: "the shakhty trial … a show trial of bukharin's supporters" was left unsettled; the
    one passage naming the trial lost to the sentence's other words."""
    message = ("ugh ok fine, i'll stop fighting on lessons of october. moving on to the right - in 1928 stalin did "
               "the shakhty trial which was a show trial of bukharin's supporters to weaken the right before he "
               "turned on bukharin himself. also quick q: was lenin's testament actually read out to the whole "
               "congress in 1924 or not? my guide is vague")
    passages = _passages_for(openai_server, corpus_home, embedder, message)
    assert any("Shakhty" in p["text"] for p in passages), [p["title"] for p in passages]


def test_a_late_claim_of_a_long_message_brings_its_own_passage(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 41: a strong student's sixth sentence ("in May 1924 it was only read out to the
    delegations separately") found no passage, and the model told them the material did not cover it."""
    message = ("Ah, fair, I'd run New Opposition and United Opposition together. So 1925 is Zinoviev and Kamenev "
               "alone, which actually suits my argument better: they got crushed even before they had Trotsky. On "
               "your question, I'd say scale and the fact that Stalin's machine was national. Zinoviev only "
               "controlled one city's organisation, whereas the Secretariat could appoint and move secretaries "
               "everywhere, and after the congress it even took Leningrad off him, with Kirov sent in to run it in "
               "early 1926. So Zinoviev's machine was a local version of the same thing, and it lost as soon as the "
               "centre turned on it. I suppose that also explains the Testament business: in May 1924 it was only "
               "read out to the delegations separately rather than to the full congress, and Zinoviev and Kamenev "
               "were the ones who argued Stalin should stay on. Why did they do that, if they could see he was "
               "getting this powerful? Was it just fear of Trotsky?")
    passages = _passages_for(openai_server, corpus_home, embedder, message)
    assert any("delegation" in p["text"] and "separately" in p["text"] for p in passages), \
        [p["title"] for p in passages]


def test_a_request_about_the_talk_needs_no_answer_in_words_and_a_cross_sentence_trigger_is_no_evidence(
        corpus_home, embedder):
    """Relay trial 5: "can we switch for a sec" was held to need an answer before the question, and a
    misconception triggered only across two sentences ("…kicked out of the ussr completely? i have
    1927 and 1929 both in my notes") was pinned on the first sentence as contradicted."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    talk = _reading("Sure. On NEP, passage [1] says Lenin brought it in. What did Bukharin make of it?",
                    questions=[("can we switch for a sec", "Yes, let's switch to the NEP.")])
    ctx = ReadingContext(message="can we switch for a sec", evidence=[], judge=lambda t: [])
    assert all(c.passed for c in reading_checks(talk, ctx) if c.name == "answers_question")
    tutor = _offline_tutor(corpus_home, embedder)
    asked = ("the red army obviously. i think he threatened a coup but backed down. and when exactly was trotsky "
             "kicked out of the ussr completely? i have 1927 and 1929 both in my notes")
    assert not any(ev.key.startswith("misconception:") for ev in tutor.evidence(asked))


def test_support_without_the_claims_year_does_not_veto_a_wrong_date(corpus_home, embedder):
    """Relay trial 6: "at the 14th Congress in December 1925, when Zinoviev and Kamenev teamed up with
    Trotsky" was judged wrong (they joined him in 1926) and refused on evidence that they did team up
    at some time."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)
    said = "That's what happened at the 14th Congress in December 1925, when Zinoviev and Kamenev teamed up with Trotsky."
    judged = _reading("Not quite. Why?", claims=[("at the 14th Congress in December 1925, when Zinoviev and Kamenev "
                                                  "teamed up with Trotsky", "wrong", "",
                                                  "They joined Trotsky in 1926, after the 14th Congress.")])
    ctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    [check] = [c for c in reading_checks(judged, ctx) if c.name == "verdicts_match_evidence"]
    assert check.passed, check.detail


def test_a_phrase_across_a_comma_and_a_date_as_the_object_of_before_are_no_evidence(corpus_home, embedder):
    tutor = _offline_tutor(corpus_home, embedder)
    assert not [ev for ev in tutor.evidence("Ah right, New Opposition in 1925, United in 1926 - noted.")
                if ev.finding == "contradicts"]
    assert not [ev for ev in tutor.evidence("Before 1922 he was Commissar for Nationalities and for Workers' and "
                                            "Peasants' Inspection (Rabkrin), and he was on the Politburo and Orgburo too.")
                if ev.finding != "background"]


def test_the_guard_log_is_kept_when_the_offline_tutor_answers_the_questions(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 6: a refused model turn whose fallback answered the student's question (the
    offline tutor's answering path) lost its guard log, so the trial could not say why."""
    praised = reading(claims=[("Trotsky called Stalin a grey blur", "right", "", "")],
                      reply="Exactly, Trotsky did say that. Why did it matter that he underrated Stalin?")
    openai_server.script("json:" + praised, "json:" + praised)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), "Trotsky called Stalin a grey blur. Who was Kirov?")
    assert reply.mode == "offline" and reply.guards and reply.guards["final"] == "offline", reply.guards


def test_event_order_and_timeline_matches_are_shown_but_do_not_overrule_the_model(corpus_home, embedder):
    """Relay trials 6-7: the order of two events and a year near a timeline keyword, read from
    nearby words, forced faithful readings to be redone or dropped ("by then Stalin already had the
    votes at the 14th Congress", "trotsky got kicked out of the party at the 13th congress in 1924"
    judged wrong, "I never claimed he ran Rabkrin in 1923" judged right)."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)

    def passes(said, claims):
        ctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
        [check] = [c for c in reading_checks(_reading("Right. Why?", claims=claims), ctx) if c.name == "verdicts_match_evidence"]
        return check.passed, check.detail

    said = "trotsky got kicked out of the party at the 13th congress in 1924."
    assert passes(said, [(said.rstrip("."), "wrong", "", "He was expelled in November 1927.")])
    said = "I never claimed he ran Rabkrin in 1923."
    assert passes(said, [(said.rstrip("."), "right", "", "")])
    said = "Lenin actually attacked Rabkrin in 1923, didn't he?"
    assert not [ev for ev in tutor.evidence(said) if ev.finding == "contradicts"]
    # A plain wrong date is still refused when judged right.
    said = "Lenin died in 1925."
    assert not passes(said, [(said.rstrip("."), "right", "", "")])[0]


def test_a_pronoun_subject_and_evidence_named_as_a_source_do_not_bind_a_verdict(corpus_home, embedder):
    """Relay trial 8: "in 1926 he joined the united opposition with trotsky against stalin" (he:
    Bukharin) judged wrong was refused on support for Trotsky against Stalin; "stalin somehow
    survived it", judged right with the 13th Congress evidence named as its source, was refused
    because that evidence contradicts the date elsewhere in the sentence."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)

    def verdict_check(said, claims):
        ctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
        return [c for c in reading_checks(_reading("Right. Why?", claims=claims), ctx) if c.name == "verdicts_match_evidence"][0]

    said = "bukharin was all for NEP, but then in 1926 he joined the united opposition with trotsky against stalin right?"
    check = verdict_check(said, [("in 1926 he joined the united opposition with trotsky against stalin", "wrong", "",
                                  "In 1926 Bukharin was Stalin's ally against the United Opposition.")])
    assert check.passed, check.detail
    said = "the testament was read out at the 13th congress in 1923 and stalin somehow survived it"
    found = tutor.evidence(said)
    named = found[0].id if found else ""
    check = verdict_check(said, [("the testament was read out at the 13th congress in 1923", "wrong", named,
                                  "It was read to the delegations in May 1924."),
                                 ("stalin somehow survived it", "right", named, "")])
    assert check.passed, check.detail


def test_a_reply_saying_stalin_had_allied_with_bukharin_asserts_no_killing():
    """Relay trial 8: "after Stalin had already allied with Bukharin in 1925" matched the trigger for
    "Stalin killed his rivals in the 1920s" ("stalin had … bukharin … 1925") and a faithful reply fell
    back to the offline tutor twice."""
    from tutor.lessons import load_lessons
    from tutor.settings import PROJECT_ROOT

    lessons = load_lessons(PROJECT_ROOT / "corpus")
    assert not lessons.misconceptions_in("only joined Trotsky in 1926, after Stalin had already allied with Bukharin in 1925")
    assert [m.id for _, m in lessons.misconceptions_in("stalin had bukharin shot in 1929")] == ["stalin-killed-rivals-1920s"]


def test_relay_trial_9_faithful_readings_pass_the_guards(corpus_home, embedder):
    """Relay trial 9: a true claim in a sentence whose other clause holds a "not" was held
    contradicted by the triumvirate (and the offline fallback told the student "That part isn't
    right"); a reply mentioning Lenin's attack on "Stalin's Rabkrin in 1923" was refused as a
    wrong date for Stalin's post, twice."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, asserted_errors, reading_checks
    from tutor.settings import PROJECT_ROOT

    tutor = _offline_tutor(corpus_home, embedder)
    said = ("In May 1924 the Central Committee agreed not to publish it and only read it to delegations, and "
            "Zinoviev and Kamenev backed Stalin staying on.")
    assert not [ev for ev in tutor.evidence(said) if ev.finding == "contradicts"]
    ctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    reading = _reading("Right. Why?", claims=[("Zinoviev and Kamenev backed Stalin staying on", "right", "", "")])
    check = [c for c in reading_checks(reading, ctx) if c.name == "verdicts_match_evidence"][0]
    assert check.passed, check.detail

    ctx = CheckContext(passages={}, card=None, covered=set(), lessons=load_lessons(PROJECT_ROOT / "corpus"))
    reply = ("Mostly accurate, with one date to adjust: Stalin took over Rabkrin in February 1920 [2], a year later "
             "than you put it. Lenin expected collective leadership and even criticised Stalin's Rabkrin in 1923 [3].")
    assert asserted_errors(reply, ctx) == []
    assert asserted_errors("Stalin ran Rabkrin from 1925.", ctx)


def test_relay_trial_10_faithful_readings_pass_the_guards(corpus_home, embedder):
    """Relay trial 10: "in 1925 he even publicly denied Max Eastman's account of the Testament",
    judged right, was held to be a claim that Eastman wrote the Testament; a reply that said "was
    expelled from the party in November 1927" was refused for not giving the Reading's longer answer."""
    from tutor.pedagogy.checks import _answer_given

    tutor = _offline_tutor(corpus_home, embedder)
    said = "Then in 1925 he even publicly denied Max Eastman's account of the Testament."
    assert not [ev for ev in tutor.evidence(said) if ev.finding == "contradicts"]
    assert [ev for ev in tutor.evidence("Trotsky wrote the Testament.") if ev.finding == "contradicts"]
    answer = ("In November 1927, after the opposition's street demonstrations on 7 November; the 15th Congress "
              "confirmed it in December 1927.")
    assert _answer_given(answer, "Trotsky lost the army job in January 1925 and was expelled from the party in "
                                 "November 1927, exiled to Alma-Ata in January 1928 [2].")
    assert not _answer_given(answer, "Bukharin led the Right, defending NEP in 1925 [1].")
    # A yes/no answer is given by the verdict with some of what backs it (relay trial 42).
    assert _answer_given("Largely yes: the Secretariat decided who went to which party post and 'recommended' local "
                         "secretaries, and the local organisations they ran sent the delegates",
                         "On appointments, yes: local secretaries were \"recommended\" by the Secretariat [5], which "
                         "shaped who reached congresses.")
    assert not _answer_given("No: it was Lenin's, passed at the 10th Congress in 1921.",
                             "Yes, that is about the ban on factions [1].")


def test_a_partly_verdict_on_a_point_made_keeps_the_point_and_is_no_correction(openai_server, corpus_home,  # noqa: F811
                                                                               embedder):
    """Relay trial 10: a hedged claim judged "partly" (a nuance) whose words also made a key point
    was logged as a correction, so the summary could only list the student's point as corrected."""
    said = "As General Secretary Stalin controlled appointments"
    nuance = reading(claims=[(said, "partly", "", "With the Orgburo, and local secretaries chose in practice.")],
                     points=[("posts", said)], move="ask_evidence",
                     reply="Mostly, with the Orgburo beside him. Which passage shows who chose the delegates [1]?")
    wrong = reading(claims=[("Stalin was General Secretary from 1917", "wrong", "", "He was appointed in April 1922.")],
                    reply="Not 1917: it was April 1922. What did the post let him do [1]?")
    openai_server.script("json:" + nuance, "json:" + wrong)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    session.learner.card_id = "why-stalin-won"
    tutor.reply(session, said + ".")
    assert session.learner.covered_on("why-stalin-won") == {"posts"}
    assert not session.learner.corrections.get("why-stalin-won")
    tutor.reply(session, "Stalin was General Secretary from 1917.")
    assert {c[0] for c in session.learner.corrections["why-stalin-won"]} == {"Stalin was General Secretary from 1917"}


def test_relay_trial_11_faithful_readings_pass_the_guards(corpus_home, embedder):
    """Relay trial 11: "in 1925-26 they turn on Stalin with the New Opposition at the Fourteenth
    Congress" (Stalin, the target, read as one of the New Opposition); "Lenin's stroke in March 1923"
    and "Lenin's illness in 1923" read as wrong dates for his first and second strokes; a summary
    quoting the student's phrases in single quotation marks read as not quoting them."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, asserted_errors, reading_checks
    from tutor.settings import PROJECT_ROOT

    tutor = _offline_tutor(corpus_home, embedder)
    said = "in 1925-26 they turn on Stalin with the New Opposition at the Fourteenth Congress"
    assert not [ev for ev in tutor.evidence(said) if ev.finding == "contradicts"]
    assert [ev for ev in tutor.evidence("Stalin was in the New Opposition in 1925") if ev.finding == "contradicts"]

    ctx = CheckContext(passages={}, card=None, covered=set(), lessons=load_lessons(PROJECT_ROOT / "corpus"))
    assert asserted_errors("Dzerzhinsky's commission cleared him, Lenin's stroke in March 1923 ended his political "
                           "life, and Trotsky didn't press the case.", ctx) == []
    assert asserted_errors("So was it Lenin's illness in 1923, more than his death in 1924, that saved Stalin?", ctx) == []
    assert asserted_errors("Lenin's second stroke was in 1924.", ctx)

    student = "In 1922 the post looked like a dull clerical job, so nobody worried about it."
    summary = _reading("So far you've argued that the post 'looked like a dull clerical job'. Which mattered most?",
                       move="summarise_and_judge")
    rctx = ReadingContext(message="sum up please", student_text=student)
    check = [c for c in reading_checks(summary, rctx) if c.name == "summary_in_their_words"][0]
    assert check.passed, check.detail


def test_relay_trial_12_faithful_replies_pass_the_guards():
    """Relay trial 12: a reply quoting the student's own phrase ("packed with his people") was refused
    as an unfaithful quotation; a reply correcting the student's "they voted to sack him but he
    refused to go??" in its own words (half its answer's words) was refused as giving away the 13th
    Congress point."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, run_checks
    from tutor.settings import PROJECT_ROOT

    lessons = load_lessons(PROJECT_ROOT / "corpus")
    said = "My teacher says the congresses were packed with his people after the Lenin Enrolment."
    reply = ('Carr stresses organisation [1], and "packed with his people" overstates the Lenin Enrolment [1]. '
             "Which evidence would show it?")
    ctx = CheckContext(passages={1: "Carr stressed organisation; new members tended to follow their secretaries."},
                       card=None, covered=set(), lessons=lessons, student_said=said)
    check = [c for c in run_checks(reply, ctx) if c.name == "quotes_faithful"][0]
    assert check.passed, check.detail
    ctx.student_said = ""
    assert not [c for c in run_checks(reply, ctx) if c.name == "quotes_faithful"][0].passed

    card = lessons.get("testament-not-acted-on")
    answer = ("No: the Testament was read only to the delegations, Zinoviev and Kamenev argued for keeping Stalin, "
              "Trotsky said nothing, and there was no vote to remove him.")
    sentence = ("At the 13th Congress in May 1924, Lenin's postscript calling him \"too rude\" was heard only by the "
                "separate delegations, not the whole congress, and Zinoviev and Kamenev spoke up for keeping him while "
                "Trotsky said nothing.")
    bare = CheckContext(passages={}, card=card, covered=set(), lessons=lessons)
    assert bare.leaks(sentence)  # unasked, it gives the point away
    answered = CheckContext(passages={}, card=card, covered=set(), lessons=lessons, answers=[answer])
    assert not answered.leaks(sentence)


def test_relay_trial_13_a_question_answered_is_not_an_unjudged_claim(corpus_home, embedder):
    """Relay trial 13: "what exactly happened with the Testament in May 1924 - was it read to the full
    13th Congress …?" was answered in the Reading, yet refused as a claim left unjudged."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)
    said = ("Two questions though. First, factually: what exactly happened with the Testament in May 1924 - was it "
            "read to the full 13th Congress or just to delegation heads, and was there an actual vote not to publish it?")
    evidence = tutor.evidence(said)
    assert [ev for ev in evidence if ev.finding == "contradicts"]
    ctx = ReadingContext(message=said, evidence=evidence, judge=lambda t: tutor.evidence(t, numbered=False))
    answered = _reading("It was read to each delegation, not the full congress [1]. Why did that help Stalin?",
                        questions=[("what exactly happened with the Testament in May 1924 - was it read to the full "
                                    "13th Congress or just to delegation heads, and was there an actual vote not to "
                                    "publish it?", "Read to each delegation separately, not to the full congress.")])
    check = [c for c in reading_checks(answered, ctx) if c.name == "verdicts_match_evidence"][0]
    assert check.passed, check.detail
    ignored = _reading("Good questions. Why did that help Stalin [1]?")
    assert not [c for c in reading_checks(ignored, ctx) if c.name == "verdicts_match_evidence"][0].passed


def test_the_passages_the_last_reply_cited_are_shown_again_for_a_follow_up(openai_server, corpus_home,  # noqa: F811
                                                                           embedder):
    """Relay trials 10-13: a follow-up ("so when did he actually go?") could not cite the passage the
    last reply had quoted once the new search dropped it; the model said "not in my sources"."""
    first = reading(reply="He was exiled to Alma-Ata in January 1928 [1]. Why might Stalin not kill him?")
    second = reading(reply="Deported to Turkey in February 1929 [1]. What did exile cost him?")
    openai_server.script("json:" + first, "json:" + second)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "when was trotsky exiled to alma-ata?")
    cited = [c.text[:120] for c in reply.citations]
    assert cited, reply.notice
    tutor.reply(session, "ok. and what did bukharin think about the NEP and the peasants?")
    shown = json.dumps(_passages(openai_server.requests[-1]), ensure_ascii=False)
    assert all(text in shown for text in cited), cited


def test_relay_trial_14_on_someones_side_is_an_alliance(corpus_home, embedder):
    """Relay trial 14: "zinoviev and kamenev were on trotskys side in 1923 against stalin", judged
    wrong, was refused because only Trotsky-against-Stalin was read (supported); the side taken is
    now read as an alliance, contradicted in 1923."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)
    said = "zinoviev and kamenev were on trotskys side in 1923 against stalin right"
    ctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    claim = "zinoviev and kamenev were on trotskys side in 1923 against stalin"
    wrong = _reading("No: they were with Stalin against Trotsky [1]. Why?",
                     claims=[(claim, "wrong", "", "In 1923 they were in the triumvirate with Stalin.")])
    check = [c for c in reading_checks(wrong, ctx) if c.name == "verdicts_match_evidence"][0]
    assert check.passed, check.detail
    praised = _reading("Yes [1]. Why?", claims=[(claim, "right", "", "")])
    assert not [c for c in reading_checks(praised, ctx) if c.name == "verdicts_match_evidence"][0].passed


def test_relay_trial_15_faithful_readings_pass_the_guards(corpus_home, embedder):
    """Relay trial 15: "needed Stalin as a counterweight to Trotsky in the triumvirate" read Trotsky as
    one of the triumvirate; the reply's own correction "the United Opposition only formed in 1926
    (1923 was the Declaration of the 46)" matched the misconception it corrects; questions about the
    student's essay plan and about Edinburgh castle were held to need "an answer from the passages"."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, asserted_errors, reading_checks
    from tutor.settings import PROJECT_ROOT

    tutor = _offline_tutor(corpus_home, embedder)
    said = "Zinoviev and Kamenev needed Stalin as a counterweight to Trotsky in the triumvirate"
    assert not [ev for ev in tutor.evidence(said) if ev.finding == "contradicts"]
    assert [ev for ev in tutor.evidence("Trotsky was in the triumvirate") if ev.finding == "contradicts"]

    ctx = CheckContext(passages={}, card=None, covered=set(), lessons=load_lessons(PROJECT_ROOT / "corpus"))
    assert asserted_errors("The United Opposition only formed in 1926 (1923 was the Declaration of the 46) [4].", ctx) == []
    assert asserted_errors("The United Opposition formed in 1924.", ctx)

    passages = {1: "Zinoviev and Kamenev feared Trotsky, the creator of the Red Army, far more than Stalin."}
    message = "is that a decent essay structure? also is it worth seeing the castle in edinburgh? who did they fear?"
    rctx = ReadingContext(message=message, passages=passages)
    reply = _reading("Edinburgh is off our topic, and a list of events tells the story rather than arguing. "
                     "They feared Trotsky, who built the Red Army [1]. Which factor will you lead with?",
                     questions=[("is that a decent essay structure?", "Not yet: organise it by factors."),
                                ("is it worth seeing the castle in edinburgh?", "Off our topic."),
                                ("who did they fear?", "Trotsky, who built the Red Army [1].")])
    check = [c for c in reading_checks(reply, rctx) if c.name == "answers_question"][0]
    assert check.passed, check.detail
    silent = _reading("Which factor will you lead with [1]?",
                      questions=[("who did they fear?", "Trotsky, who built the Red Army [1].")])
    assert not [c for c in reading_checks(silent, rctx) if c.name == "answers_question"][0].passed


def test_relay_trial_16_faithful_readings_pass_the_guards(corpus_home, embedder):
    """Relay trial 16: a what-if ("with the Testament read to the full congress rather than delegation
    by delegation") and a denial ("Nor was the Testament read to the whole congress") read as the
    misconception; "the postscript said trotsky should take over from stalin as general secretary",
    judged wrong, held supported by Stalin's own post."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, asserted_errors, reading_checks
    from tutor.settings import PROJECT_ROOT

    lessons = load_lessons(PROJECT_ROOT / "corpus")
    what_if = ("Realistically it needed Trotsky, Zinoviev and Kamenev to act together and, with the Testament read to "
               "the full congress rather than delegation by delegation, Stalin might have gone.")
    assert not lessons.misconceptions_in(what_if)
    assert lessons.misconceptions_in("the testament was read to the whole congress")
    ctx = CheckContext(passages={}, card=None, covered=set(), lessons=lessons)
    assert asserted_errors("Nor was the Testament read to the whole congress: it went to each delegation [4].", ctx) == []

    tutor = _offline_tutor(corpus_home, embedder)
    said = "the postscript said trotsky should take over from stalin as general secretary"
    rctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    wrong = _reading("No: it asked for Stalin's removal and named no successor [1]. Why?",
                     claims=[(said, "wrong", "", "The postscript asked for Stalin's removal and named no successor.")])
    check = [c for c in reading_checks(wrong, rctx) if c.name == "verdicts_match_evidence"][0]
    assert check.passed, check.detail
    # Support that names everyone in the claim still vetoes a "wrong".
    said = "Stalin was General Secretary from 1922"
    rctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    wrong = _reading("No [1]. Why?", claims=[(said, "wrong", "", "He was not.")])
    assert not [c for c in reading_checks(wrong, rctx) if c.name == "verdicts_match_evidence"][0].passed


# -- issue 21, after relay trial 17: the model may name a finding that misreads the student ----------
# The checker reads the phrase and its speaker, not the denial around them.
DENIAL = "Nobody would say Trotsky called Stalin a grey blur"


def test_a_finding_the_model_names_as_a_misreading_is_set_aside_and_recorded(openai_server, corpus_home,  # noqa: F811
                                                                             embedder):
    from tutor.evaluation.trial import guard_tally, transcript_row

    disputed = reading(claims=[(DENIAL, "right", "", "", "E1, E2: the student denies Trotsky said it")],
                       reply="Right, it wasn't Trotsky's phrase: look at passage [1]. "
                             "Why might Trotsky still have underrated Stalin?")
    openai_server.script("json:" + disputed)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), DENIAL + ".")
    assert len(openai_server.requests) == 1 and reply.mode == "fake-model", reply.guards
    assert reply.move["misread"][0]["claim"] == DENIAL
    assert reply.move["misread"][0]["evidence"][0]["fact"].startswith("“grey blur” is Sukhanov's")
    assert "Sukhanov" in reply.move["misread"][0]["evidence"][1]["fact"]  # the card's misconception too
    row = transcript_row(1, DENIAL, reply)
    assert row["misread"] == reply.move["misread"] and guard_tally([row])["misreadings_named"] == 1


def test_without_the_misreading_named_the_same_verdict_is_refused(openai_server, corpus_home, embedder):  # noqa: F811
    silent = reading(claims=[(DENIAL, "right", "", "")],
                     reply="Right, it wasn't Trotsky's phrase: look at passage [1]. Why did he underrate Stalin?")
    openai_server.script("json:" + silent, "json:" + silent)
    tutor = _tutor(corpus_home, embedder, openai_server)
    reply = tutor.reply(tutor.new_session(), DENIAL + ".")
    assert reply.mode == "offline" and "verdicts_match_evidence" in _retry_prompt(openai_server)


def test_a_misreading_explained_without_its_id_still_sets_the_finding_aside():
    """Relay trial 36: "The finding takes Stalin's side for the opposition's …" named no E-number and the
    turn was refused twice and fell back."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = "Nobody would say Trotsky called Stalin a grey blur"
    ev = Evidence("E1", "quotations.grey-blur", sentence, "contradicts",
                  "“grey blur” is Sukhanov's (about 1917), about Stalin.", "trotsky-mistakes")
    ctx = ReadingContext(message=sentence, evidence=[ev])
    explained = _reading("Right. Why?", claims=[(sentence, "right", "", "", "the student denies Trotsky said it")])
    assert next(c for c in reading_checks(explained, ctx) if c.name == "verdicts_match_evidence").passed
    silent = _reading("Right. Why?", claims=[(sentence, "right", "", "", "")])
    refused = next(c for c in reading_checks(silent, ctx) if c.name == "verdicts_match_evidence")
    assert not refused.passed and "misread field, naming E1" in refused.detail


def test_a_wrong_verdict_is_refused_only_on_support_the_model_was_shown(corpus_home, embedder):
    """Relay trial 38: "trotsky voted to remove stalin but lost", judged wrong, was refused twice on
    "Trotsky was against Stalin", found by re-reading the claim alone and never in the brief."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)
    said = ("my notes say stalin only got made general secretary after lenin died in 1924 and then he used it to "
            "pack the party, and also that the testament got read out to the whole 13th congress and trotsky voted "
            "to remove stalin but lost.")
    rctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    assert not any(ev.key == "groups.left-opposition" for ev in rctx.evidence)
    wrong = _reading("No: the Testament went to delegations; there was no vote [1]. Why?",
                     claims=[("trotsky voted to remove stalin but lost", "wrong", "",
                              "There was no vote: Trotsky said nothing."),
                             ("stalin only got made general secretary after lenin died in 1924", "wrong", "",
                              "He became General Secretary on 3 April 1922."),
                             ("the testament got read out to the whole 13th congress", "wrong", "",
                              "It was read to each delegation separately.")])
    check = next(c for c in reading_checks(wrong, rctx) if c.name == "verdicts_match_evidence")
    assert check.passed, check.detail


def test_a_claim_shortened_with_an_ellipsis_is_checked_as_one_claim(corpus_home, embedder):
    """Relay trial 37: "Lenin's Testament ... was read out at the 12th Congress in 1923" judged wrong was
    refused: the ellipsis hid the denial and left only the Testament's authorship, which "supports"."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _offline_tutor(corpus_home, embedder)
    said = ("That also explains why Lenin's Testament did him so little harm when it was read out at the 12th "
            "Congress in 1923 - the delegates were already his people.")
    rctx = ReadingContext(message=said, evidence=tutor.evidence(said), judge=lambda t: tutor.evidence(t, numbered=False))
    wrong = _reading("It wasn't read at the 12th Congress [1]. Why?",
                     claims=[("Lenin's Testament ... was read out at the 12th Congress in 1923", "wrong", "",
                              "It was not read at the 12th Congress; delegations heard it in May 1924.")])
    check = next(c for c in reading_checks(wrong, rctx) if c.name == "verdicts_match_evidence")
    assert check.passed, check.detail


@pytest.mark.parametrize("claim, why", [
    # A plain statement: the checker's reading of it is not in doubt.
    ("Trotsky called Stalin a grey blur", "E1: he did say it"),
    # A claim the model wrote that is not the student's sentence cannot carry a misreading away.
    ("Trotsky wrote My Life in exile in Turkey, and perhaps he might mention it there", "E1"),
])
def test_a_plain_statement_or_a_claim_not_the_students_cannot_set_a_finding_aside(claim, why):
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = "Trotsky called Stalin a grey blur"
    ev = Evidence("E1", "quotations.grey-blur", sentence, "contradicts",
                  "“grey blur” is Sukhanov's (about 1917), about Stalin.", "trotsky-mistakes")
    checks = reading_checks(_reading("Yes. Why?", claims=[(claim, "right", "", "", why)]),
                            ReadingContext(message=sentence, evidence=[ev]))
    assert not next(c for c in checks if c.name == "verdicts_match_evidence").passed


def test_the_schema_asks_for_the_misreading_and_the_brief_says_what_it_does(openai_server, corpus_home,  # noqa: F811
                                                                             embedder):
    openai_server.script("json:" + reading())
    tutor = _tutor(corpus_home, embedder, openai_server)
    tutor.reply(tutor.new_session(), "Who chose the delegates?")
    body = openai_server.requests[0]["body"]
    assert "misread" in body["response_format"]["json_schema"]["schema"]["$defs"]["ClaimReading"]["required"]
    assert "misread" in body["messages"][0]["content"], "the system rules say what naming a misreading does"


def test_a_claims_own_reading_stands_against_its_sentences_other_reading():
    # relay trial 18: the whole sentence was read as contradicted, the claim split off it is supported
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = "and yeah ig bukharin stayed with stalin i always get the left and right mixed up."
    fact = "Bukharin and Stalin stood together in Stalin's alliance with Bukharin, Rykov and Tomsky (1925–1927)."
    ev = Evidence("E1", "groups.stalin-bukharin", sentence, "contradicts", fact, "overview-why-stalin-won")
    own = Evidence("groups.stalin-bukharin", "groups.stalin-bukharin", "bukharin stayed with stalin", "supports",
                   fact, "overview-why-stalin-won")
    ctx = ReadingContext(message=sentence, evidence=[ev], judge=lambda text: [own] if "i always" not in text else [ev])
    checks = reading_checks(_reading("Yes, he did. Why?", claims=[("bukharin stayed with stalin", "right", "1", "")]),
                            replace(ctx, passages={1: "x"}))
    assert next(c for c in checks if c.name == "verdicts_match_evidence").passed
    # the sentence judged whole is still held to its reading
    whole = reading_checks(_reading("Yes. Why?", claims=[(sentence, "right", "1", "")]), replace(ctx, passages={1: "x"}))
    assert not next(c for c in whole if c.name == "verdicts_match_evidence").passed


def test_several_passages_named_as_evidence_are_each_checked():
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    ctx = ReadingContext(message="m", passages={3: "x", 4: "y"})
    ok = reading_checks(_reading("Yes. Why?", claims=[("c", "right", "3, 4", "")]), ctx)
    bad = reading_checks(_reading("Yes. Why?", claims=[("c", "right", "3, 7", "")]), ctx)
    assert next(c for c in ok if c.name == "evidence_valid").passed
    assert not next(c for c in bad if c.name == "evidence_valid").passed


def test_naming_the_people_of_a_point_made_only_of_names_does_not_state_it():
    # relay trial 18: "Zinoviev and Kamenev, then his allies against Trotsky" was refused as giving away
    # "the Testament criticised Trotsky, Zinoviev, Bukharin and Pyatakov" (its terms are all names)
    from pathlib import Path

    from tutor.lessons import corpus_doc_ids, load_lessons
    from tutor.pedagogy.checks import leaked_key_points

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    card = next(c for c in load_lessons(corpus, corpus_doc_ids(corpus)).cards if c.id == "testament-not-acted-on")
    named = "Stalin offered to resign, but Zinoviev and Kamenev, then his allies against Trotsky, argued he should stay."
    assert "criticised-everyone" not in leaked_key_points(named, card, set(), "")
    said = ("Since the Testament criticised Trotsky, Zinoviev, Bukharin and Pyatakov too, none of Stalin's rivals "
            "could use it against him without damaging themselves.")
    assert "criticised-everyone" in leaked_key_points(said, card, set(), "")


def test_a_timeline_date_that_fits_is_shown_as_a_date_check_only(corpus_home, embedder):
    # relay trial 18: "supports" on "read out in full to the whole 12th Congress in 1923", with the
    # event's own words saying the Testament was not read there
    evidence = _offline_tutor(corpus_home, embedder).evidence(
        "Lenin's Testament was read out in full to the whole 12th Congress in 1923.")
    dated = [ev for ev in evidence if ev.key == "timeline.twelfth-congress"]
    assert dated and dated[0].fact.startswith("only the date was checked, and it fits")
    assert any(ev.finding == "contradicts" and "not read at the 12th Congress" in ev.fact for ev in evidence)


def test_an_order_that_fits_is_shown_as_an_order_check_only(corpus_home, embedder):
    # relay trial 33: "came before" read as support for the whole claim
    evidence = _offline_tutor(corpus_home, embedder).evidence("After Lenin died, Trotsky was exiled.")
    ordered = [ev for ev in evidence if ev.key.startswith("order.")]
    assert ordered and all(ev.fact.startswith("only the order was checked, and it fits") for ev in ordered)


def test_declining_an_off_course_request_by_name_is_not_taking_it_up():
    # relay trial 20: "Chemistry is outside what I can help with here" was refused as taking it up
    from tutor.pedagogy.checks import takes_up_off_topic

    message = "random q sorry but can you help with my chemistry homework, how many moles are in 18g of water"
    declined = ("Chemistry is outside what I can help with here, so that one is best taken to your chemistry teacher. "
                "Staying with the 1921 rule: did it bind the leaders at the top as well [1]?")
    assert takes_up_off_topic(declined, message, {1: "The ban on factions of 1921 bound every member."}).passed
    answered = "There is one mole of water in 18g, since its molar mass is 18. Did the ban bind the leaders [1]?"
    assert not takes_up_off_topic(answered, message, {1: "The ban on factions of 1921 bound every member."}).passed


def test_a_question_the_timeline_answers_brings_its_date_as_evidence(corpus_home, embedder):
    # relay trial 20: "when was trotsky expelled?" got "the 15th Congress … check the exact day"
    evidence = _offline_tutor(corpus_home, embedder).evidence("ok but when was trotsky actually expelled from the party?")
    answers = [ev for ev in evidence if ev.finding == "answers"]
    assert answers and "14 November 1927" in answers[0].fact and answers[0].as_dict()["finding"] == "answers"
    # someone else's expulsion is not Trotsky's
    assert not [ev for ev in _offline_tutor(corpus_home, embedder).evidence("when was bukharin expelled from the party?")
                if ev.key == "answer.trotsky-zinoviev-expelled"]


def test_a_question_naming_a_glossary_term_brings_its_definition_as_evidence(corpus_home, embedder):
    # relay trial 22: "surely that's when the five-year plan started??" went without the plan's date
    tutor = _offline_tutor(corpus_home, embedder)
    answers = [ev for ev in tutor.evidence("the guide says 1925. surely that's when the five-year plan started??")
               if ev.finding == "answers"]
    assert any("October 1928" in ev.fact and ev.source == "idea-nep-and-industrialisation" for ev in answers), answers
    # a statement naming it brings the definition as background to check it by (relay trial 30), not as an answer
    stated = [ev for ev in tutor.evidence("The five-year plan started in 1928.") if ev.key.startswith("define.")]
    assert stated and all(ev.finding == "background" for ev in stated)


def test_a_question_about_a_persons_fate_brings_their_later_events_as_evidence(corpus_home, embedder):
    # relay trial 24: "after he got expelled in 1927, what happened to him?" went without his murder in 1940,
    # which no passage of that turn held; "him" is the person the last exchange was about
    tutor = _offline_tutor(corpus_home, embedder)
    evidence = tutor.evidence("ok so after he got expelled in 1927, what happened to him?",
                              context="Using the army would have made Trotsky a Bonaparte. Trotsky lost the War "
                                      "Commissariat in January 1925, and Zinoviev was calculating.")
    keys = [ev.key for ev in evidence if ev.finding == "answers"]
    assert keys == ["answer.trotsky-exiled-alma-ata", "answer.trotsky-deported-turkey", "answer.trotsky-murdered"]
    assert [ev.key for ev in tutor.evidence("how did trotsky die?") if ev.finding == "answers"] == \
        ["answer.trotsky-murdered"]
    assert "answer.bukharin-shot" in [ev.key for ev in tutor.evidence("what happened to bukharin?")]
    # no person to resolve "him" to: no guess; "how did Stalin win?" asks no one's fate
    assert not [ev for ev in tutor.evidence("what happened to him?") if ev.finding == "answers"]
    assert not tutor.lessons.fate_asked("how did stalin win?")
    # relay trial 26: "what actually happened to zinoviev and kamenev in the end? did they get shot too?" got
    # "the sources don't cover Kamenev's end"; "and then he was deported right after?" got only the exile
    assert "answer.zinoviev-kamenev-shot" in [ev.key for ev in tutor.evidence(
        "also what actually happened to zinoviev and kamenev in the end? did they get shot too?")]
    assert "answer.trotsky-deported-turkey" in [ev.key for ev in tutor.evidence(
        "i have 1925 for trotsky's expulsion, and then he was deported right after?")]
    # relay trial 49: "what happened to bukharin in the end, did he get exiled too?" (he was not: what did
    # happen answers it) and "did he die?" went without his trial and death in 1938
    assert "answer.bukharin-shot" in [ev.key for ev in tutor.evidence(
        "quick q tho, when did trotsky actually get kicked out of the country? and what happened to bukharin in "
        "the end, did he get exiled too?")]
    assert "answer.bukharin-shot" in [ev.key for ev in tutor.evidence("did bukharin die?")]
    # relay trial 55: "how did Stalin survive the Testament?" asks how he kept his post, not anyone's fate
    assert not tutor.lessons.fate_asked("how did stalin survive the testament?",
                                        "Zinoviev and Kamenev argued Stalin should stay.")


def test_a_claim_without_a_year_is_held_to_its_sentences_year():
    # relay trial 23: "rykov was on stalins side against him" judged wrong (rightly, for 1928) was refused
    # on the 1925-27 alliance
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    message = "ok so the right. bukharin lost in 1928-29 but rykov was on stalins side against him right?"
    fact = "In these years Rykov and Stalin stood together in Stalin's alliance with Bukharin, Rykov and Tomsky (1925–1927)."
    ev = Evidence("E1", "groups.stalin-bukharin", message, "supports", fact, "overview-why-stalin-won")
    claim = ("rykov was on stalins side against him", "wrong", "E1", "In 1928-29 Rykov was in the Right with Bukharin.")
    checks = reading_checks(_reading("No: he was with Bukharin [1]. Why?", claims=[claim]),
                            ReadingContext(message=message, evidence=[ev], passages={1: "x"}))
    assert next(c for c in checks if c.name == "verdicts_match_evidence").passed
    # with no year anywhere, the support still holds the verdict to it
    plain = "rykov was on stalins side against the left right?"
    ev2 = Evidence("E1", "groups.stalin-bukharin", plain, "supports", fact, "overview-why-stalin-won")
    checks = reading_checks(_reading("No. Why?", claims=[("rykov was on stalins side against the left", "wrong", "E1", "x")]),
                            ReadingContext(message=plain, evidence=[ev2], passages={1: "x"}))
    assert not next(c for c in checks if c.name == "verdicts_match_evidence").passed


def test_a_question_carrying_the_error_answered_is_its_correction():
    # relay trial 23: "Right" to the student's answer was refused as praise while their question's
    # false premise (expelled in 1923) was answered in the Reading
    from tutor.pedagogy.checks import answers_contradicted
    from tutor.pedagogy.reading import Evidence

    q = "back to the 46 tho, were they all expelled from the party straight away in 1923?"
    ev = Evidence("E1", "timeline.x", q, "contradicts", "Trotsky and Zinoviev are expelled: 14 November 1927.", "d")
    answered = _reading("Right. No: only in 1927 [1]. Why then?", questions=[(q, "No: the expulsions came in 1927.")])
    assert answers_contradicted(answered, [ev])
    assert not answers_contradicted(_reading("Right. Why?", questions=[(q, "")]), [ev])


def test_two_names_do_not_state_a_point_whose_own_term_is_missing():
    # relay trial 23: a reply on the Declaration of the 46 naming Zinoviev and Kamenev was refused as
    # giving away "Lessons of October attacked Zinoviev and Kamenev"
    from pathlib import Path

    from tutor.lessons import corpus_doc_ids, load_lessons
    from tutor.pedagogy.checks import leaked_key_points

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    card = next(c for c in load_lessons(corpus, corpus_doc_ids(corpus)).cards if c.id == "trotskys-mistakes")
    named = "No: Trotsky did not sign it, and Zinoviev and Kamenev, then Stalin's allies, attacked it as factional."
    assert "lessons-of-october" not in leaked_key_points(named, card, set(), "")
    said = "In Lessons of October Trotsky reminded everyone that Zinoviev and Kamenev had opposed the rising."
    assert "lessons-of-october" in leaked_key_points(said, card, set(), "")


def test_names_state_a_point_about_sides_only_where_the_sentence_puts_them_on_a_side():
    # relay trial 24: "Zinoviev and Kamenev vouched for Stalin" over the Testament was refused as giving
    # away the alliances in turn; naming who stood with whom against whom still states them
    from pathlib import Path

    from tutor.lessons import corpus_doc_ids, load_lessons
    from tutor.pedagogy.checks import leaked_key_points

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    card = next(c for c in load_lessons(corpus, corpus_doc_ids(corpus)).cards if c.id == "why-stalin-won")
    episode = "Exactly: the leadership staged the reading, Zinoviev and Kamenev vouched for Stalin, and nobody " \
              "called for him to go [5]."
    assert "alliances" not in leaked_key_points(episode, card, set(), "")
    for sides in ("Stalin sided with Zinoviev and Kamenev against Trotsky.",
                  "Zinoviev and Kamenev joined Stalin in the triumvirate.",
                  "He allied with Zinoviev and Kamenev, then with Bukharin."):
        assert "alliances" in leaked_key_points(sides, card, set(), ""), sides


def test_relay_trial_27_faithful_replies_pass_the_guards():
    """Relay trial 27: the student's own phrase quoted with the passage's citation beside it was refused
    as an unfaithful quotation; an answer given before a quoted line was read as part of the closing
    question and refused as missing."""
    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, reading_checks, run_checks
    from tutor.settings import PROJECT_ROOT

    lessons = load_lessons(PROJECT_ROOT / "corpus")
    said = "trotsky had already signed that thing denying it in 1925 so he couldnt use it"
    reply = 'Your Trotsky point holds: he had "already signed that thing denying it in 1925" [1]. Who else kept quiet?'
    ctx = CheckContext(passages={1: "In 1925 Trotsky publicly denied Eastman's account of the Testament."},
                       card=None, covered=set(), lessons=lessons, student_said=said)
    assert [c for c in run_checks(reply, ctx) if c.name == "quotes_faithful"][0].passed
    ctx.student_said = ""
    assert not [c for c in run_checks(reply, ctx) if c.name == "quotes_faithful"][0].passed

    passages = {1: "The Lenin Enrolment is best seen as strengthening the advantages that Stalin's control of the "
                   "apparatus already gave him."}
    rctx = ReadingContext(message="Is that a fair way to handle Fitzpatrick?", passages=passages)
    answered = _reading("On Fitzpatrick, yes, that's a fair way to handle her: new members didn't choose delegates. "
                        "\"The Lenin Enrolment is best seen as strengthening the advantages that Stalin's control of "
                        "the apparatus already gave him.\" [1] Does May 1924 fit your machine argument?",
                        questions=[("Is that a fair way to handle Fitzpatrick?",
                                    "Yes: new members did not choose delegates directly, and the Lenin Enrolment "
                                    "strengthened advantages the apparatus already gave Stalin.")])
    assert [c for c in reading_checks(answered, rctx) if c.name == "answers_question"][0].passed


def test_a_question_may_use_what_the_cards_hints_say():
    # relay trial 28: the model asked the card's own hint ("what had Zinoviev and Kamenev done in October
    # 1917 …?") and was refused as giving away Lessons of October; a statement of the point still is
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext

    lessons = load_lessons(Path(__file__).resolve().parent.parent / "corpus")
    card = lessons.get("zinoviev-kamenev-alliances")
    ctx = CheckContext(passages={}, card=card, covered=set(), lessons=lessons, hints=[h.text for h in card.hints])
    asked = ("Your 1922 fix is right, so here's the next step: what had Zinoviev and Kamenev done in October 1917 "
             "that Trotsky could later throw back at them?")
    assert ctx.leaks(asked) == []
    told = ("Both had old quarrels with him: in Lessons of October Trotsky attacked Zinoviev and Kamenev for opposing "
            "the rising in 1917. Why does that matter?")
    assert ctx.leaks(told) == ["zinoviev-kamenev-alliances:lessons-of-october"]
    ctx.hints = []
    assert ctx.leaks(asked) == ["zinoviev-kamenev-alliances:lessons-of-october"]


def test_the_student_on_their_own_muddle_is_no_plain_statement():
    from tutor.pedagogy.checks import plain_statement

    assert plain_statement("Lenin died in 1925")
    assert not plain_statement("i think i mixed up the trotsky praise with stalin")


def test_a_question_without_its_mark_that_the_reading_answers_is_not_an_unjudged_claim():
    # relay trial 29: "and wait if lenin died in 1924 does that mean stalin only became general secretary after
    # lenin died" was answered ("No: 3 April 1922") and refused as an unjudged claim
    from tutor.pedagogy.checks import _answered_question

    asked = "and wait if lenin died in 1924 does that mean stalin only became general secretary after lenin died"
    answered = _reading("No: he was General Secretary from 3 April 1922 [1]. Who chose him?",
                        questions=[(asked, "No: from 3 April 1922, almost two years before Lenin died.")])
    assert _answered_question(asked, answered)
    assert not _answered_question("stalin only became general secretary after lenin died", answered)


def test_a_claim_naming_a_course_term_brings_its_definition_as_background(corpus_home, embedder):
    # relay trial 30: "the NEP was his idea" met "nothing here credits NEP to him": no passage of the turn said
    # whose it was, and no evidence did either
    tutor = _offline_tutor(corpus_home, embedder)
    found = [ev for ev in tutor.evidence("they let him have the job in 1922, and also the NEP was his idea so lenin "
                                         "trusted him") if ev.finding == "background"]
    assert [ev.key for ev in found] == ["define.NEP"] and "introduced by Lenin" in found[0].fact


# Relay trials 40 and 42: a strong student's long question, marked as an essay.
_LONG_QUESTION_250 = "I think it would still be really valuable for an enquiry into how the struggle was fought over Lenin's legacy, rather than for what Lenin 'really' wanted. Even if Krupskaya shaped it, it's evidence of what Lenin's inner circle thought of Stalin by 1923 (the row over Stalin insulting Krupskaya on the phone fits that), and it became a weapon in the struggle itself - the United Opposition kept demanding it be published, and Trotsky was even made to deny its existence in 1925 after Max Eastman wrote about it in America. So its value is partly as a political object, not just a statement of Lenin's views. Anyway, I want to move to Trotsky, because I think he's the biggest puzzle. He had all the advantages - Commissar for War, creator of the Red Army, brilliant orator, Lenin's partner in October - and yet he basically lost without a fight. The sequence I have is: ill in winter 1923-24, condemned at the 13th Party Conference in January 1924, missed Lenin's funeral because Stalin gave him the wrong date, then the Literary Discussion after Lessons of October in autumn 1924, and finally he was removed as Commissar for War in January 1925 and replaced by Kamenev, which showed the triumvirate had taken the army off him. My question is: did missing the funeral actually matter, or is that just a good story that textbooks like? It feels like the kind of thing that gets exaggerated."
_LONG_QUESTION_MY_ESSAY = "No, I don't think it does. In April 1923 he wasn't 'grabbing' anything - he'd been given an explicit mandate by Lenin, so pressing the Georgian case would have looked like loyalty to Lenin rather than personal ambition. That's why I'd now call April 1923 the real mistake and May 1924 more 'understandable but costly'. I want to move on to the later phase though, because my essay can't just be about Trotsky. After 1925 it seems to me ideas matter more: Socialism in One Country (Stalin's line from late 1924) was more appealing to ordinary members than permanent revolution, especially after the failed German revolution in 1923, and then Stalin used Bukharin and the Right to beat the United Opposition in 1926-27, with Trotsky and Zinoviev expelled in November 1927 after the tenth-anniversary demonstrations. Then he turned left in 1928 with the grain crisis and took the Left's industrialisation policy. Was that turn opportunism, or did he genuinely change his mind because of the procurement crisis?"


def test_a_long_message_that_ends_on_its_question_is_talk_not_an_essay():
    """Relay trial 42 marked a 250-word message ending "My question is: did missing the funeral actually
    matter …? It feels like the kind of thing that gets exaggerated." Level 2; relay trial 40 marked a
    176-word question that said "my essay can't just be about Trotsky" Level 3."""
    from tutor.pedagogy.acts import long_chat

    assert long_chat(_LONG_QUESTION_250, in_conversation=True)
    assert long_chat(_LONG_QUESTION_MY_ESSAY, in_conversation=True)
    # Asked for a mark, it is writing to mark; in paragraphs, still talk (relay trial 43).
    assert not long_chat(_LONG_QUESTION_250 + " What mark would this get?", in_conversation=True)
    assert long_chat(_LONG_QUESTION_250.replace(" Anyway,", "\n\nAnyway,"), in_conversation=True)


_TALK_IN_PARAGRAPHS = "Ah, fair, I'd collapsed the New Opposition and the United Opposition together. So 1925 Zinoviev and Kamenev alone, 1926 the alliance with Trotsky. That's actually quite damning for them, since they'd spent 1923-24 attacking Trotskyism.\n\nOn your question: I think the best evidence would be what happened when the line changed. If members were voting for NEP and Socialism in One Country as policies, you'd expect resistance when Stalin swung left in 1928-29 and basically adopted the Opposition's industrialisation programme. But the party followed him into the Great Turn with barely any fuss, and the Right got very little rank-and-file support. That suggests loyalty was to the leadership and the apparatus more than to a particular line. Though I suppose you could argue the Left turn was popular too, with younger militants who'd never liked NEPmen.\n\nSomething I wanted to check though. My reading was that Trotsky's real chance was May 1924, when Lenin's Testament was read out to the full 13th Congress and everyone heard Lenin say Stalin should be removed, and yet Trotsky said nothing and Zinoviev and Kamenev saved Stalin. Why did Trotsky stay silent at that moment? Deutscher seems to put it down to his pride and a kind of fatalism, but that feels a bit psychological to me."


def test_talk_in_paragraphs_that_asks_the_tutor_something_is_not_an_essay():
    """Relay trial 43 marked six of a strong student's nine messages as essays: each was two or three
    paragraphs ("Ah, fair, I'd collapsed … ⏎⏎ On your question: …") asking the tutor something."""
    from tutor.pedagogy.acts import long_chat

    assert long_chat(_TALK_IN_PARAGRAPHS, in_conversation=True)
    # An answer to the tutor's question with a plan and thanks, no question (relay trial 44).
    assert long_chat("Because it damaged all of them, not just Stalin - Zinoviev and Kamenev's 'October episode' was mentioned as 'no accident', Trotsky got 'excessive self-assurance' and the 'non-Bolshevism' jibe, and Bukharin was called not fully Marxist. So Stalin's rivals had a reason to keep it quiet that Stalin didn't really need - he could even offer to resign knowing they'd refuse, which made him look humble. It's almost a case study of how their divisions and self-interest protected him.\n\nFair enough on the 1927 quote, I'll check Service's biography. I think I've got my plan now: intro with judgement that the Secretariat was decisive but only because the rivals' divisions let Stalin build it unchallenged; then paragraphs on apparatus, rivals' mistakes, ideology/Socialism in One Country, and the Right in 1928-29; conclusion refining it with Zinoviev and Fitzpatrick. Thanks, this has been really useful.", in_conversation=True)
    # A pasted piece with no question and no word to the tutor is still writing to mark.
    essay = "\n\n".join(["Stalin's control of the Secretariat let him shape congresses. " * 8] * 3)
    assert not long_chat(essay, in_conversation=True)
    assert not long_chat(essay + "\n\nIs this any good?", in_conversation=True)


def test_a_question_that_points_back_is_searched_with_the_sentence_before_it(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 47: "Is that a mainstream view, or is he out on a limb?", searched alone, found an
    essay-skills page, and the model could not say whether Kotkin's doubt about the Testament is mainstream."""
    message = ("Fair point on the date, thanks. On the counter-argument: I'd say it actually supports the apparatus "
               "case rather than undermining it. When Lenin's Testament was read out at the 12th Party Congress, "
               "Zinoviev and Kamenev saved Stalin because they needed him against Trotsky, but they could only do "
               "that because they assumed he was a harmless administrator. So the mistake was theirs, but the thing "
               "that made him dangerous was still the machine. Once they turned on him in 1925, the Leningrad "
               "delegation was isolated at the 14th Congress, which shows the apparatus was already too "
               "strong.\n\nCan I ask something about the Testament itself though? I've read that Kotkin doubts it was "
               "really dictated by Lenin and thinks Krupskaya may have had a hand in it. Is that a mainstream view, "
               "or is he out on a limb?")
    passages = _passages_for(openai_server, corpus_home, embedder, message)
    assert any("Kotkin" in p["text"] and "Most historians" in p["text"] for p in passages), \
        [p["title"] for p in passages]


def test_a_question_naming_a_body_gets_its_definition_though_a_persons_document_states_it(corpus_home, embedder):
    """Relay trial 50: "who actually took over from Lenin as chairman of Sovnarkom in 1924?" went to the model
    without the glossary's Sovnarkom entry (its source is Lenin's document, so it was taken for a person's),
    and the model said the course did not name Rykov."""
    tutor = _offline_tutor(corpus_home, embedder)
    found = tutor.evidence("Side question: who actually took over from Lenin as chairman of Sovnarkom in 1924? "
                           "Was it Kamenev, since he'd been deputising?")
    assert any(ev.finding == "answers" and "Rykov" in ev.fact for ev in found), [ev.fact for ev in found]
    # A person's entry still comes only when asked who they were: their names are in every question.
    assert not any(ev.key == "define.Trotsky" for ev in tutor.evidence("when was trotsky expelled?"))


def test_an_opening_is_not_cut_at_an_initial():
    """Relay trial 51: the opening "Yes, that's Robert V. Daniels…" was kept as "Yes, that's Robert V.", so the
    check against reused openings compared a fragment."""
    from tutor.pedagogy.repeats import opening_of

    assert opening_of("Yes, that's Robert V. Daniels and his circular flow. Next.").endswith("circular flow.")
    assert opening_of("E. H. Carr said so. Next.") == "E. H. Carr said so."
    assert opening_of("Right. Next.") == "Right."


def test_the_brief_lists_only_earlier_corrections_however_the_rule_reader_wrote_this_one(
        openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 51: the rule reader's correction of this very message (its words normalised, "wasnt" to
    "wasn't") was listed as "corrected so far" before the model had judged it, and once wrongly."""
    said = "stalin wasnt made general secretary till 1924 after lenin died"
    openai_server.script("json:" + reading(claims=[(said, "wrong", "", "He became General Secretary on 3 April 1922.")],
                                           reply="Not quite: it was 3 April 1922 [1]. Who backed him?", move="correct"))
    tutor = _tutor(corpus_home, embedder, openai_server)
    tutor.reply(tutor.new_session(), said)
    assert _turn_data(openai_server.requests[0])["corrected_so_far"] == []


def test_a_coauthor_credited_with_an_idea_is_background_the_model_may_judge_wrong(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 57: "bukharin came up with socialism in one country" was evidence that "supports" (Bukharin
    gave the idea its fuller theory), so the model's "wrong" was refused twice and the turn fell back."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _tutor(corpus_home, embedder, openai_server)
    sentence = "bukharin came up with socialism in one country and stalin stole it when it got popular."
    found = [ev for ev in tutor.evidence(sentence) if "socialism-in-one-country" in ev.key]
    assert [ev.finding for ev in found] == ["background"], found
    assert found[0].fact.startswith("partly: Bukharin had a share in it") and "Stalin's" in found[0].fact
    judged = _reading("Not quite: Stalin set it out in December 1924 [1]. What did Bukharin add?",
                      claims=[("bukharin came up with socialism in one country", "wrong", "",
                               "Stalin set it out first; Bukharin gave it its theory.")])
    ctx = ReadingContext(message=sentence, evidence=tutor.evidence(sentence),
                         judge=lambda t: tutor.evidence(t, numbered=False))
    [check] = [c for c in reading_checks(judged, ctx) if c.name == "verdicts_match_evidence"]
    assert check.passed, check.detail


def test_a_long_message_asking_if_its_judgement_is_good_enough_for_a_top_grade_is_talk():
    """Relay trial 57: a chat message ending "is 'easier not inevitable' a good enough judgement for a top grade
    or too safe?" went to the essay coach, whose schema forced a level and a mark on it."""
    from tutor.pedagogy.acts import long_chat

    message = ("ok 1938 for bukharin, wow so way later than i thought, glad i asked. fine i'll say stalin stated socialism "
               "in one country first in dec 1924 and bukharin did the theory, thats actually a better point because it "
               "shows stalin grabbing ideas to beat trotsky. and ok rykov was head of government, tomsky unions. i still "
               "kind of think stalin made the ban on factions 'his' even if lenin passed it, so i'll put it as deutscher's "
               "view. i'd say the ban made it easier not inevitable, because the left and right could have teamed up "
               "against him in 1928 when bukharin went to kamenev but they didnt trust each other. then stalin was "
               "totally free to start the first five year plan in 1930. last thing, is 'easier not inevitable' a good "
               "enough judgement for a top grade or too safe?")
    assert long_chat(message, in_conversation=True)
    assert not long_chat(message.replace("is 'easier not inevitable' a good enough judgement for a top grade or too "
                                         "safe?", "what grade would this get?"), in_conversation=True)


def test_is_it_ok_to_argue_is_a_question_about_the_argument_not_a_request_to_mark():
    """Relay trial 58: a chat message ending "is it ok to argue in the essay that Trotsky basically beat himself?"
    went to the essay coach, whose schema forced a level on chat notes."""
    from tutor.pedagogy.acts import long_chat

    message = ("oh wait yeah i think the army one was Sergei Kamenev, different guy, my bad. but i still think Lessons "
               "of October was aimed at Stalin too, like wasnt the whole point that Stalin hadnt done anything in 1917? "
               "and the grey blur, i'm gonna ask my teacher but i'm sure she said a Bolshevik. also you didnt say "
               "anything about Siberia, i'm pretty sure he was in Siberia? for your question i think the biggest "
               "mistake was staying quiet about the Testament in 1924 cos that was his one chance. and then the ban on "
               "factions that Stalin brought in in 1924 meant he couldnt organise afterwards anyway. is it ok to argue "
               "in the essay that Trotsky basically beat himself?")
    assert long_chat(message, in_conversation=True)
    assert not long_chat(message.replace("is it ok to argue in the essay that Trotsky basically beat himself?",
                                         "is this ok?"), in_conversation=True)


def test_a_word_quoted_on_its_own_before_a_cited_word_is_not_one_long_quotation():
    """Relay trial 60: 'Go carefully with "only", too: the army made him look like a possible "Bonaparte" [5]' was
    refused as an unfaithful quotation running from "only" to "Bonaparte"."""
    from tutor.pedagogy.checks import quoted_spans

    text = ('Go carefully with "only", too: the army made him look like a possible "Bonaparte" [5], and Zinoviev had '
            'his own machine. Which moment was decisive?')
    passages = {5: "Because he had built the Red Army, Trotsky's rivals cast him as a possible Bonaparte."}
    assert not [span for span, _ in quoted_spans(text, passages) if span.startswith("only")]
    # A quotation holding a quoted phrase at its end is still read whole, and checked.
    nested = 'The memoir says “Sukhanov called Stalin “a grey blur”” [1]. Why did that stick?'
    assert [n for _, n in quoted_spans(nested, {1: "Sukhanov called Stalin “a grey blur”."})] == [1]


def test_a_student_taking_their_leave_may_be_answered_without_a_new_question(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trials 59-61: every closing turn ("thanks this actually helped a lot for the mock") got a new big
    question, which scorers read as not listening; the checks demanded one."""
    goodbye = reading(reply="Glad it helped: the 1938 show trial and the 1921 ban are the two dates to keep [1]. "
                            "Good luck with the mock.", move="answer_question")
    openai_server.script("json:" + goodbye)
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    reply = tutor.reply(session, "ohh ok so bukharin was shot in 1938. thanks this actually helped a lot for the mock")
    assert reply.mode == "fake-model", [c.as_dict() for c in reply.checks if not c.passed]
    assert "student_signing_off" in _turn_data(openai_server.requests[-1])
    # Without a goodbye, a reply that asks nothing is still refused.
    openai_server.script("json:" + goodbye, "json:" + goodbye)
    again = tutor.reply(session, "ok so bukharin was shot in 1938 then")
    assert again.mode != "fake-model" or [r for r in again.guards["refusals"] if r["guard"] in ("one_question", "ends_with_question")]


def test_a_date_that_fits_another_event_does_not_make_a_claim_about_a_document_right(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 63: "the testament bit says 14th congress 1925" was judged wrong (the Testament was read at the
    13th, in May 1924) and refused twice on "only the date was checked, and it fits" the 14th Congress."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks

    tutor = _tutor(corpus_home, embedder, openai_server)
    sentence = "my timeline is wrong then, the testament bit says 14th congress 1925."
    found = tutor.evidence(sentence)
    assert any(ev.finding == "supports" and "14th" in ev.fact for ev in found), found
    judged = _reading("It was the 13th, in May 1924 [1]. Why then?",
                      claims=[("the testament bit says 14th congress 1925", "wrong", "", "The 13th Congress, May 1924.")])
    ctx = ReadingContext(message=sentence, evidence=found, judge=lambda t: tutor.evidence(t, numbered=False))
    [check] = [c for c in reading_checks(judged, ctx) if c.name == "verdicts_match_evidence"]
    assert check.passed, check.detail


def test_the_examiner_reading_it_is_no_request_to_mark():
    """Relay trial 64: "the examiner will read it as a counter-argument … what did Bukharin actually say?" went to the
    essay coach ("read it" taken for a request to read a piece of writing)."""
    from tutor.pedagogy.acts import long_chat

    message = ("I'd push back a bit there. I think Zinoviev's defeat shows the Secretariat outmatching a local machine, "
               "not that posts weren't enough - his problem was that his posts were the wrong ones. But I take the point "
               "that the examiner will read it as a counter-argument, so I'll frame it as one and then answer it. On "
               "character, I'll bring in Tucker and Conquest as the 'Stalin planned it' side and use the shifting alliances "
               "to argue he was more of an opportunist. One last factual thing for a quote: what did Bukharin actually say "
               "about Stalin to Kamenev in that July 1928 meeting? I've seen the 'Genghis Khan' line quoted but I don't "
               "know if it's genuine or exactly what the wording was.")
    assert long_chat(message, in_conversation=True)
    assert not long_chat("Stalin won because of the apparatus. " * 20 + "Can you read it and tell me?", in_conversation=True)


def test_correcting_a_wrong_year_defended_in_a_question_is_not_a_leak(openai_server, corpus_home, embedder):  # noqa: F811
    """Relay trial 67: "but i'm pretty sure lenin died in 1922?? …" was answered "Lenin died at Gorki on 21
    January 1924" and refused as stating the funeral card's first point; the rules say correcting the
    student's own wrong fact is no leak."""
    first = "hi so i'm revising the power struggle for my mocks. my basic understanding is that lenin died in 1922 and stalin was already general secretary so he could put his own people everywhere, and trotsky sort of shot himself in the foot by coming up with socialism in one country which made him look like he'd given up on world revolution?? also he missed lenin's funeral which looked really bad. is that roughly right or am i missing stuff"
    second = "ok the socialism in one country thing fair enough i think i mixed them up. but i'm pretty sure lenin died in 1922?? it's literally on my revision timeline, 1922 lenin dies, stalin becomes gen sec, and then the troika takes over. i think you might be thinking of when they embalmed him or something. anyway for your question - stalin was a pallbearer at the funeral and did that big speech swearing loyalty to lenin, and he told trotsky the wrong date so trotsky stayed in the caucasus. and kamenev was head of the red army at that point so trotsky didnt really have the army behind him either"
    openai_server.script("json:" + reading(
        claims=[("lenin died in 1922", "wrong", "", "Lenin died on 21 January 1924; his strokes began in 1922.")],
        reply="Lenin didn't die in 1922: his strokes began that year, but he died in January 1924 [1]. In those "
              "January days, what did Stalin do to look like Lenin's true heir?"))
    # The model's answer in the trial, as it sent it.
    openai_server.script("json:" + '{"claims": [{"text": "lenin died in 1922", "verdict": "wrong", "evidence": "E1", "correction": "Lenin died at Gorki on 21 January 1924; 1922 was the year of his first strokes, which ended his political life by March 1923.", "misread": ""}, {"text": "1922 ... stalin becomes gen sec", "verdict": "right", "evidence": "E6", "correction": "", "misread": ""}, {"text": "and then the troika takes over", "verdict": "right", "evidence": "11", "correction": "", "misread": ""}, {"text": "i think you might be thinking of when they embalmed him or something", "verdict": "wrong", "evidence": "8", "correction": "The embalming was decided after his death, in January 1924, so it cannot account for a 1922 date.", "misread": ""}, {"text": "stalin was a pallbearer at the funeral and did that big speech swearing loyalty to lenin", "verdict": "right", "evidence": "10", "correction": "", "misread": ""}, {"text": "he told trotsky the wrong date so trotsky stayed in the caucasus", "verdict": "partly", "evidence": "2", "correction": "Trotsky did stay in the Caucasus, but the wrong date is his own later claim, and as head of the Red Army he could probably have travelled back faster.", "misread": ""}, {"text": "kamenev was head of the red army at that point so trotsky didnt really have the army behind him either", "verdict": "wrong", "evidence": "E2", "correction": "Trotsky was Commissar of War from 1918 until January 1925; Kamenev never held the post (he chaired the Moscow Soviet).", "misread": ""}], "student_questions": [{"text": "but i\'m pretty sure lenin died in 1922??", "answer": "No: he died at Gorki on 21 January 1924; 1922 is when his strokes began and Stalin became General Secretary (3 April 1922) [5][6]."}], "points_made": [{"key_point_id": "chief-mourner", "words": "stalin was a pallbearer at the funeral and did that big speech swearing loyalty to lenin"}, {"key_point_id": "trotsky-absent", "words": "trotsky stayed in the caucasus"}], "move": "correct", "reply": "Fair challenge, but Lenin died at Gorki on 21 January 1924 [5]. What happened in 1922 was his first stroke and Stalin\'s appointment as General Secretary on 3 April [6], and the troika ran the Politburo while Lenin lay ill [11]: your timeline has folded his illness into his death. The embalming can\'t explain it either, since that followed his death [8]. Kamenev never ran the Red Army: Trotsky was Commissar of War until January 1925, while Kamenev chaired the Moscow Soviet [11]. Pallbearer and loyalty oath are both correct [10], but the wrong date is Trotsky\'s own later version, and as army chief he could probably have got back faster [2]. Since Lenin was out of action from March 1923, what did his actual death give Stalin that the illness hadn\'t?"}')
    tutor = _tutor(corpus_home, embedder, openai_server)
    session = tutor.new_session()
    tutor.reply(session, first)
    reply = tutor.reply(session, second)
    briefs = [r for r in openai_server.requests if "<turn_data>" in r["body"]["messages"][-1]["content"]]
    assert len(briefs) == 2, len(openai_server.requests)
    assert _turn_data(briefs[1])["lesson_card"]["key_points"][0]["id"] == "death-and-funeral", _turn_data(briefs[1])["lesson_card"]
    refused = [r for r in reply.guards["refusals"] if r["guard"] == "no_answer_leak"]
    assert not refused, reply.guards


def test_a_hedged_report_of_trotskys_story_is_not_the_misconception(corpus_home, embedder):
    """Relay trial 68: "trotsky missed the funeral, supposedly because stalin gave him the wrong date" reports
    Trotsky's claim; the evidence called it the misconception of stating it as fact, and the model's
    misreading was refused."""
    from tutor.pedagogy.checks import plain_statement

    tutor = _offline_tutor(corpus_home, embedder)
    hedged = "trotsky missed lenin's funeral, supposedly because stalin gave him the wrong date"
    assert not any(ev.finding == "contradicts" for ev in tutor.evidence(hedged))
    assert any(ev.finding == "contradicts" for ev in tutor.evidence("stalin gave trotsky the wrong date for the funeral"))
    # Offline trial 14: "because stalin lied about the date?" was answered "You've got it right".
    assert any(ev.finding == "contradicts" for ev in tutor.evidence("he missed it because stalin lied about the date"))
    assert not any(ev.finding == "contradicts" for ev in tutor.evidence("apparently stalin lied about the date"))
    assert not plain_statement("supposedly stalin gave him the wrong date")


def test_a_misreading_named_on_a_claim_joined_by_an_ellipsis_sets_the_finding_aside():
    """Relay trial 74: "at the 13th Congress in May 1924 ... Lenin's Testament wouldn't be read to the full
    congress", judged right with E1 named as a misreading of a question, was refused: the two stretches of
    the student's words were matched as one."""
    from tutor.pedagogy.checks import ReadingContext, reading_checks
    from tutor.pedagogy.reading import Evidence

    sentence = ("Something I actually want to know though: at the 13th Congress in May 1924, who actually decided "
                "that Lenin's Testament would not be read to the full congress?")
    ev = Evidence("E1", "denials.testament-read-to-delegations", sentence, "contradicts",
                  "The Testament was not read to the full 13th Congress (May 1924).", "event-testament-not-acted-on")
    ctx = ReadingContext(message=sentence, evidence=[ev])
    claim = "at the 13th Congress in May 1924 ... Lenin's Testament would not be read to the full congress"
    named = _reading("Right. Why?", claims=[(claim, "right", "", "", "E1: a question that already says so")])
    assert next(c for c in reading_checks(named, ctx) if c.name == "verdicts_match_evidence").passed
    invented = _reading("Right. Why?", claims=[("at the 13th Congress in May 1924 ... Trotsky read it out", "right", "",
                                                "", "E1: a question")])
    assert not next(c for c in reading_checks(invented, ctx) if c.name == "verdicts_match_evidence").passed


def test_a_fact_from_outside_the_course_is_named_as_outside_and_a_true_publication_date_is_no_error(corpus_home):
    """Relay trial 77: the brief lets a model judge a plain fact it is sure of from outside the course's sources,
    but "outside the course's sources: …" in the evidence field was refused as evidence not given (twice); and a
    reply saying the Testament "was printed in the USSR only after" the 1956 speech was refused as stating that it
    was published in 1924."""
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, ReadingContext, asserted_errors, reading_checks

    outside = _reading("No: it met in Moscow (outside the course's sources, so check it). Why?",
                       claims=[("the 14th Congress met in Leningrad", "wrong", "outside the course's sources",
                                "It met in Moscow.")])
    ctx = ReadingContext(message="the 14th Congress met in Leningrad", evidence=[])
    assert next(c for c in reading_checks(outside, ctx) if c.name == "evidence_valid").passed
    lessons = load_lessons(Path(__file__).resolve().parents[1] / "corpus")
    check = CheckContext(passages={}, card=None, covered=set(), allowed_text="", lessons=lessons)
    assert not asserted_errors("One date slip: Khrushchev's secret speech came in 1956, and the Testament was printed "
                               "in the USSR only after it [4].", check)
    assert asserted_errors("The Testament was published in Pravda in 1924 [4].", check)


def test_a_reply_answering_the_students_own_question_may_say_one_point_beyond_its_answer():
    """Relay trial 78: "Bukharin built its fuller theory, tying it to NEP and the peasant alliance", the reply's
    answer to "I have a feeling Bukharin did most of the theoretical heavy lifting?", was refused as a leak because
    the Reading's one-sentence answer did not name NEP; the brief lets an answer state one or two key points."""
    from tutor.pedagogy.checks import CheckContext, answering

    ctx = CheckContext(passages={}, card=None, covered=set(), allowed_text="")
    message = "But was Stalin's position actually original? I have a feeling Bukharin did most of the heavy lifting."
    asked = _reading("…", questions=[("But was Stalin's position actually original?",
                                      "Not very: Bukharin gave it its fuller theory.")])
    assert answering(ctx, asked, message).may_state == 1
    corrected = _reading("…", claims=[("Bukharin did most of the heavy lifting", "partly", "2",
                                       "Stalin stated it first, in December 1924.")])
    assert answering(ctx, corrected, message).may_state == 0  # a correction is no licence to say more


def test_reporting_that_service_rejects_the_dull_administrator_is_no_error():
    """Relay trial 78: "Robert Service argues that seeing Stalin as a dull administrator was badly wrong" was
    refused as stating that Service saw Stalin as a dull administrator."""
    from pathlib import Path

    from tutor.lessons import load_lessons
    from tutor.pedagogy.checks import CheckContext, asserted_errors

    lessons = load_lessons(Path(__file__).resolve().parents[1] / "corpus")
    check = CheckContext(passages={}, card=None, covered=set(), allowed_text="", lessons=lessons)
    assert not asserted_errors("For the opposite view, Robert Service argues that seeing Stalin as a dull administrator "
                               "was badly wrong, since Stalin was capable and worked hard [3].", check)
    assert "kotkin-service-grey-bureaucrat" in asserted_errors("Service argued Stalin was a dull bureaucrat [3].", check)
