"""Issue 22 (items 1-5): the offline tutor is honest and precise. A verdict only where a check
decides it, a direct answer to a direct question, pushback heard, summaries that sum up, replies a
student can read. Each failure the issue's trial found is kept here as a conversation on the real
corpus store; the precision of "right" is measured on corpus/eval/keypoint_matches.jsonl."""

from __future__ import annotations

import re

import pytest

from tutor.evaluation.keypoints import PRECISION_FLOOR, load_keypoint_cases, run_keypoints
from tutor.pedagogy.close_match import RIGHT_CLOSE, disagreement
from tutor.pedagogy.repeats import opening_of
from tutor.services import build
from tutor.settings import PROJECT_ROOT, load_settings
from tutor.store import Store


@pytest.fixture(scope="module")
def tutor(corpus_home, embedder):
    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)
    return build(settings, store=Store(settings, embedder), chat_model=None).tutor


def _talk(tutor, *messages):
    session = tutor.new_session()
    return session, [tutor.reply(session, m) for m in messages]


# -- 1. precision first ---------------------------------------------------------------------------
@pytest.mark.parametrize("messages", [
    ["the party voted and elected Stalin leader after Lenin"],
    ["Zinoviev and Kamenev were against Stalin from the start"],
    ["Stalin and Trotsky were allies against Zinoviev"],
    ["Trotsky was killed in 1929"],
    ["why did stalin win", "was it when Stalin was in charge of the army?"],
    ["when did stalin become general secretary?", "I think it was 1920s"],
])
def test_a_false_or_loose_claim_is_never_confirmed(tutor, messages):
    _, replies = _talk(tutor, *messages)
    last = replies[-1]
    assert last.feedback != "right", last.text
    assert not last.text.startswith(("Yes", "Right", "Correct", "Spot on")), last.text


@pytest.mark.parametrize("messages", [
    ["Trotsky lost the vote 559 to 65"],
    ["Stalin won mainly because he controlled appointments as General Secretary, which gave him a loyal majority "
     "at congresses; Trotsky's arrogance and illness mattered less, and Zinoviev and Kamenev underestimated him, "
     "so overall the machine matters most."],
    ["why did stalin win", "they picked who got jobs, so those people voted for him"],
])
def test_a_true_claim_is_never_called_wrong(tutor, messages):
    _, replies = _talk(tutor, *messages)
    assert replies[-1].feedback != "wrong", replies[-1].text


def test_a_defended_misattribution_is_corrected_again_not_praised(tutor):
    _, replies = _talk(tutor, "why did stalin win", "Trotsky said Stalin was a grey blur",
                       "no I'm sure, Trotsky said grey blur, it's in his book")
    for reply in replies[1:]:
        assert reply.feedback == "wrong" and "Sukhanov" in reply.text, reply.text
        assert not reply.text.startswith(("Yes", "Right")), reply.text


def test_a_right_and_a_wrong_sentence_make_partly_with_the_correction_first(tutor):
    _, [reply] = _talk(tutor, "Zinoviev and Kamenev allied with Stalin in a triumvirate from 1923 because they feared "
                              "Trotsky more than Stalin. Trotsky called Stalin a grey blur.")
    assert reply.feedback == "partly", reply.text
    first = opening_of(reply.text)
    assert "Sukhanov" in reply.text.split("‘")[0] or "Sukhanov" in first, reply.text


def test_the_first_question_a_newcomer_asks_is_answered_not_corrected(tutor):
    session, [reply] = _talk(tutor, "Why was Lenin's Testament not acted on in 1924?")
    assert reply.move["kind"] == "answer_question" and reply.feedback is None, reply.text
    assert not session.learner.misconceptions, session.learner.misconceptions
    assert reply.citations and reply.text.rstrip().endswith("?")


# -- 2. a direct question gets a direct answer ----------------------------------------------------
@pytest.mark.parametrize("messages, needle", [
    (["who was Kirov?"], "Kirov"),
    (["what happened at Kronstadt?"], "Kronstadt"),
    (["why did Zinoviev and Kamenev protect him?"], "Trotsky"),
    (["why did stalin win", "he was general secretary", "what post??"], "post"),
    (["Socialism in One Country vs permanent revolution"], "socialism"),
])
def test_a_direct_question_gets_a_cited_answer_then_one_question(tutor, messages, needle):
    _, replies = _talk(tutor, *messages)
    reply = replies[-1]
    assert reply.intent == "question" and reply.move["kind"] == "answer_question", (reply.intent, reply.text)
    assert reply.citations and needle.lower() in reply.citations[0].quote.lower(), reply.text
    assert reply.text.rstrip().endswith("?") and reply.text.count("?") == 1, reply.text
    assert not [c.name for c in reply.checks if not c.passed], reply.checks


def test_asking_for_a_mark_is_answered(tutor):
    essay = ("Stalin won mainly because he controlled appointments as General Secretary, which gave him a loyal "
             "majority at congresses that voted down every opposition; Trotsky's arrogance and illness mattered less, "
             "and Zinoviev and Kamenev underestimated him, so overall the machine matters most because it decided the votes.")
    _, replies = _talk(tutor, essay, "what mark would this get?")
    assert replies[1].move["kind"] == "essay_feedback" and "Level" in replies[1].text, replies[1].text
    _, [alone] = _talk(tutor, "what mark would I get?")
    assert "40 words" in alone.text and alone.text.rstrip().endswith("?")


# -- 3. pushback is heard -------------------------------------------------------------------------
def test_you_didnt_answer_gets_an_apology_and_the_answer(tutor):
    _, replies = _talk(tutor, "who was Kirov?", "you didn't answer my question")
    reply = replies[1]
    assert reply.move["kind"] == "answer_question", reply.text
    assert re.match(r"(Sorry|You're right|Fair)", reply.text), reply.text
    assert "kirov" in reply.citations[0].quote.lower(), reply.text


def test_that_quote_agrees_with_me_is_acknowledged(tutor):
    _, replies = _talk(tutor, "why did stalin win", "the Lenin Enrolment brought in lots of new members",
                       "that quote agrees with me")
    reply = replies[2]
    assert reply.intent == "complaint" and re.search(r"\b(agree|backs you|supports?)\b", opening_of(reply.text)), reply.text
    assert reply.move["kind"] != "test_claim", "heard, not sent back to test the same claim again"


def test_thats_not_what_i_said_is_an_apology_not_a_hint(tutor):
    _, replies = _talk(tutor, "why did stalin win", "Trotsky was too proud to make friends",
                       "that's not what I said")
    assert re.match(r"(Sorry|My mistake)", replies[2].text), replies[2].text


# -- 4. summaries that sum up ---------------------------------------------------------------------
def test_a_summary_sums_up_and_a_second_one_is_one_line(tutor):
    session, replies = _talk(tutor, "What was the Lenin Enrolment?",
                             "In 1924 about 240,000 new members, mostly workers, joined the party",
                             "Trotsky said Stalin was a grey blur",
                             "can you sum up what I've said?", "sum up again", "you repeated the same summary")
    summary, again, complaint = replies[3], replies[4], replies[5]
    assert summary.move["kind"] == "summarise_and_judge"
    assert "240,000" in summary.text and "every main point" not in summary.text, summary.text
    assert "…" not in summary.text, "whole phrases, never cut"
    assert summary.text.rstrip().endswith("?") and summary.text.count("?") == 1, summary.text
    assert len(re.findall(r"[.!?](?:\s|$)", again.text)) == 2, again.text  # one line, then the question
    assert complaint.intent == "complaint" and complaint.move["kind"] != "summarise_and_judge", complaint.text


# -- 5. readable replies --------------------------------------------------------------------------
def test_replies_have_one_opening_no_colon_chains_and_no_repeated_formula(tutor):
    _, replies = _talk(tutor, "why did stalin win", "idk", "he was general secretary", "who was Kirov?",
                       "Trotsky said Stalin was a grey blur", "what happened at Kronstadt?",
                       "Stalin and Trotsky were allies against Zinoviev", "idk", "what was the lenin enrolment?",
                       "the party voted and elected Stalin leader after Lenin")
    leads = []
    for reply in replies:
        before_quote = reply.text.split("“")[0]
        assert before_quote.count(":") <= 1, reply.text
        leads.append(before_quote.strip())
    openings = [opening_of(r.text) for r in replies]
    assert len(set(openings)) == len(openings), openings
    for formula in ("Look at this passage:", "One source in your course materials says:", "Weigh it against this:",
                    "Yes. That's what the sources say."):
        assert sum(formula in r.text for r in replies) <= 1, formula


def test_a_supporting_quote_is_not_introduced_as_an_objection(tutor):
    _, replies = _talk(tutor, "why did stalin win",
                       "As General Secretary he controlled appointments, so the congresses were packed with his people")
    reply = replies[1]
    if reply.feedback == "right":
        assert not re.search(r"\b(object|weigh it against|other side)\b", reply.text.split("“")[0], re.I), reply.text


# -- the calibrated threshold ---------------------------------------------------------------------
@pytest.mark.parametrize("sentence, statement", [
    ("Stalin and Trotsky were allies against Zinoviev",
     "Stalin allied first with Zinoviev and Kamenev against Trotsky and then with Bukharin against the Left"),
    ("At the 15th Congress Trotsky recanted while Zinoviev and Kamenev refused and were exiled",
     "At the 15th Congress in December 1927 Zinoviev and Kamenev recanted to stay in the party, while Trotsky "
     "refused and was sent into exile."),
    ("Stalin became General Secretary after Lenin died in 1924",
     "Stalin became General Secretary on 3 April 1922, with Lenin's support."),
])
def test_a_near_miss_disagrees_with_the_point(sentence, statement):
    assert disagreement(sentence, statement)


def test_a_paraphrase_does_not_disagree():
    assert not disagreement("He teamed up with Zinoviev and Kamenev against Trotsky and later with Bukharin against "
                            "the Left", "Stalin allied first with Zinoviev and Kamenev against Trotsky and then with "
                                        "Bukharin against the Left, so he never had to face all his rivals together.")


def test_right_is_right_at_least_98_percent_of_the_time(tutor):
    cases = load_keypoint_cases(PROJECT_ROOT / "corpus" / "eval" / "keypoint_matches.jsonl")
    assert len(cases) >= 150 and sum(not c["makes_point"] for c in cases) >= len(cases) * 0.45
    result = run_keypoints(tutor.assessor, tutor.lessons, cases)
    m = result["metrics"]
    assert m["right_precision"] >= PRECISION_FLOOR, result["false_confirmed"]
    assert m["calibrated_threshold"] is not None and m["calibrated_threshold"] <= RIGHT_CLOSE, m
    assert m["false_called_wrong"] == 0 and m["right_recall"] >= 0.6, m


def test_a_passage_near_the_students_words_is_shown_not_taken_as_a_verdict(tutor):
    # offline trial 7: "The sources back you up on that" to "Trotsky just didn't try, Stalin was lucky", and
    # "that passage does back you up" to "the army was on Stalin's side … so I was right?"
    _, replies = _talk(tutor, "basically Trotsky just didn't try, yeah? Stalin was lucky and Trotsky couldn't be "
                              "bothered.", "this proves my point: the army was on stalin's side. so i was right?")
    for reply in replies:
        assert not re.search(r"back(?:s)? you up|fits the sources|matches what the sources say|does back you|"
                             r"on your side|You're right", reply.text), reply.text


@pytest.mark.parametrize("message", [
    # A key point in other words is no check of a date (offline trial 12: "You've got … right").
    "Socialism in one country, I think Stalin came out with it in 1925 and it was adopted at the 14th Congress in "
    "December 1925?",
    # Allies at one time and enemies at another, no year said (offline trial 12: "You're right: From 1926 …").
    "no my notes say zinoviev and kamenev were with trotsky, are you sure? they were both left wing like him",
])
def test_no_right_where_no_check_decides(tutor, message):
    _, [reply] = _talk(tutor, message)
    assert not re.search(r"\b(?:You're right|you've got|is correct|That's right|Yes)\b", reply.text), reply.text


def test_a_year_less_alliance_of_a_pair_who_were_both_allies_and_enemies_is_unsettled():
    from pathlib import Path

    from tutor.facts import FactChecker

    checker = FactChecker.load(Path(__file__).resolve().parents[1] / "corpus")
    assert checker.check("zinoviev and kamenev were with trotsky") == []
    assert checker.contradicted("zinoviev and kamenev were with trotsky in 1924")


# Offline trial 14's confirmation-seeking student: checks that decide these went unsaid.
@pytest.mark.parametrize("message, verdict, says", [
    ("hi, revising for my mock. quick one: stalin became general secretary in april 1922, is that right? yes or no",
     "right", "3 April 1922"),
    ("next: the triumvirate against trotsky was stalin, zinoviev and bukharin. right?", "wrong", "never Bukharin"),
    ("so bukharin was allied with stalin against zinoviev and kamenev in 1925-27, right?", "right", "Bukharin"),
])
def test_a_checkable_yes_or_no_gets_its_verdict(tutor, message, verdict, says):
    _, replies = _talk(tutor, message)
    assert replies[-1].feedback == verdict, replies[-1].text
    assert says in replies[-1].text
    if verdict == "wrong":
        assert not re.search(r"decide that one|yours to judge|can't (?:confirm|settle)", replies[-1].text), replies[-1].text


@pytest.mark.parametrize("claim, verdict", [
    # The claims sets' true statements that no check confirmed: a timeline event in its own words,
    # a whole claim the supporting line holds, an idea's author.
    ("Trotsky was deported to Turkey", "right"),
    ("trotsky refused to recant at the 15th congress", "right"),
    ("bukharin was shot in 1938 after a show trial", "right"),
    ("Permanent revolution was Trotsky's theory.", "right"),
    # …and never their near misses.
    ("Zinoviev was deported to Turkey", "open"),
    ("Trotsky was deported to Turkey by Zinoviev", "open"),
    ("trotsky never refused to recant at the 15th congress", "open"),
    ("trotsky refused to recant at the 14th congress", "open"),
    ("trotsky was deported to turkey in 1927", "wrong"),
    ("Permanent revolution was Stalin's theory.", "wrong"),
    # A negative question asks for the claim: "wasnt it read out to everyone" is the error, not its denial.
    ("umm wasnt the testament read out to everyone at the congress in 1924 lol", "wrong"),
    ("Zinoviev and Kamenev were not allied with Trotsky in 1924.", None),
])
def test_a_claim_the_courses_records_state_is_judged_and_a_near_miss_is_not(tutor, claim, verdict):
    got = tutor.responder.judge(claim, None, "confirm").verdict
    if verdict is None:
        assert got != "wrong", got
    else:
        assert got == verdict, got


def test_a_list_of_dated_events_is_confirmed_clause_by_clause_and_he_is_the_one_just_discussed(tutor):
    """Offline trial 14: "so he was expelled from the party in 1927, deported out of the USSR in 1929 and then
    killed in mexico in 1940, is that right?", after a message about Trotsky, heard "No check of mine decides
    that"; each clause is on the timeline."""
    _, replies = _talk(tutor, "trotsky was executed in 1929 after he lost, right?",
                       "ok so not executed. so he was expelled from the party in 1927, deported out of the USSR in "
                       "1929 and then killed in mexico in 1940, is that right?")
    assert replies[-1].feedback == "right", replies[-1].text
    assert "Trotsky" in replies[-1].text and "1940" in replies[-1].text
    judge = tutor.responder.judge
    assert judge("zinoviev was expelled from the party in 1927, deported out of the USSR in 1929", None,
                 "confirm").verdict != "right"  # one clause unconfirmed: no half-right


@pytest.mark.parametrize("claim, verdict", [
    # Offline trial 15: claims the caitrevose student defended for four turns, never settled.
    ("it was bukharin who came up with socialism in one country", "partly"),
    ("trotsky died in 1936 in mexico", "wrong"),
    ("trotsky got kicked out the ussr in 1925", "wrong"),
    # …and the student's own correction is no error ("Not quite", offline trial 15's fenntrevose).
    ("trotsky wasnt actually deported in 1927, that was 1929", None),
])
def test_offline_trial_15s_unsettled_claims(tutor, claim, verdict):
    got = tutor.responder.judge(claim, None, "confirm")
    if verdict is None:
        assert got.verdict not in ("wrong", "partly"), got
    else:
        assert got.verdict == verdict, got


def test_the_verdicts_evaluation_scores_the_harms_apart(tutor):
    """`tutor eval verdicts`: each labelled statement asked as "…, right?" in a conversation of its own."""
    from tutor.evaluation.verdicts import run_verdicts

    cases = [{"id": "f1", "text": "Trotsky was killed in 1929", "false": True},
             {"id": "f2", "text": "the triumvirate was stalin, zinoviev and bukharin", "false": True},
             {"id": "t1", "text": "Stalin became General Secretary in April 1922", "false": False},
             {"id": "t2", "text": "Trotsky was deported to Turkey", "false": False}]
    result = run_verdicts(tutor, cases)
    m = result["metrics"]
    assert (m["false_statements"], m["true_statements"]) == (2, 2)
    assert m["false_confirmed"] == 0 and m["true_called_wrong"] == 0, result["cases"]
    assert m["false_corrected"] == 1.0 and m["true_confirmed"] == 1.0, result["cases"]
    assert [c["id"] for c in result["cases"]] == ["f1", "f2", "t1", "t2"]
