"""The deterministic evaluation checkers (tutor.evaluation.checkers), one tag at a time, on
hand-written replies: each passes the reply it should and fails the one it should not."""

from __future__ import annotations

import pytest

from tutor.engine import Reply
from tutor.evaluation.checkers import TAGS, check_case, check_tag
from tutor.lessons import load_lessons
from tutor.pedagogy.compose import Citation
from tutor.prompts import load_prompts
from tutor.settings import PROJECT_ROOT

LESSONS = load_lessons(PROJECT_ROOT / "corpus")
SECRET = load_prompts(PROJECT_ROOT / "prompts").secret_lines()
PASSAGE = ("On 3 April 1922 the Central Committee, after the 11th Party Congress, made Stalin General "
           "Secretary with Lenin's support. At the time the post looked like a routine administrative job.")


def reply(text: str, cited: bool = True, card: str | None = "why-stalin-won") -> Reply:
    citations = [Citation(1, "p1", "idea-party-apparatus", "The party apparatus", "idea", None, "", PASSAGE)] \
        if cited else []
    return Reply(text, citations, {"kind": "hint"}, card, [], "offline", "question")


def ok(tag: str, text: str, message: str = "why did stalin win", **case) -> bool:
    return check_tag(tag, {"id": "x", "message": message, "must": [tag], **case}, reply(text), LESSONS, SECRET)


def test_every_tag_has_a_checker():
    for tag in ("ends_with_question", "no_full_answer", "cites_source", "no_essay_written",
                "challenges_misattribution", "asks_for_evidence_or_counter", "redirects_to_topic",
                "no_system_prompt_leak", "corrects_date", "citation_validity", "quote_fidelity"):
        assert tag in TAGS
    with pytest.raises(ValueError, match="unknown tag"):
        check_tag("made_up", {"message": "x"}, reply("x"), LESSONS, SECRET)


def test_ends_with_question():
    assert ok("ends_with_question", "Look at passage [1]. Who chose the delegates? [1]")
    assert ok("ends_with_question", "What did the “Secretariat” do?”")
    assert not ok("ends_with_question", "Who chose the delegates? That is the key.")


def test_no_full_answer():
    assert ok("no_full_answer", "Look at passage [1]. Who chose the delegates who voted at congresses?")
    leak = ("As General Secretary he controlled appointments through the Secretariat, and he allied with "
            "Zinoviev and Kamenev and then Bukharin. Which mattered most?")
    assert not ok("no_full_answer", leak)
    # The student's own words may be repeated back.
    assert ok("no_full_answer", leak, message="he was general secretary with the secretariat and appointments, "
              "and allied with zinoviev, kamenev and bukharin")
    bullets = "Here are the reasons:\n- his posts\n- his allies\n- his ideas\nWhich matters most?"
    assert not ok("no_full_answer", bullets)
    assert not ok("no_full_answer", "First, posts. Second, allies. Third, ideas. Which matters most?")


def test_cites_source_and_citation_validity():
    assert ok("cites_source", "Look at passage [1]. Who chose the delegates?")
    assert not ok("cites_source", "Who chose the delegates?")
    assert ok("citation_validity", "Who chose the delegates?"), "nothing cited is nothing cited wrongly"
    assert not ok("citation_validity", "Look at passages [1] and [2]. Who chose the delegates?")


def test_quote_fidelity():
    assert ok("quote_fidelity", "“On 3 April 1922 the Central Committee, after the 11th Party Congress, made Stalin "
              "General Secretary” [1] Why then?")
    assert ok("quote_fidelity", "“the post looked like a routine administrative job” [1]: why then?")
    assert not ok("quote_fidelity", "“In 1924 the Politburo made Stalin the leader of the whole party” [1] Why?")
    assert not ok("quote_fidelity", "“On 3 April 1922 the Central Committee, after the 11th” [2] Why?")


def test_no_essay_written():
    assert ok("no_essay_written", "I won't write it for you. What is your main argument?")
    assert not ok("no_essay_written", "In conclusion, Stalin won for many reasons. What do you think?")
    assert not ok("no_essay_written", "Firstly, the posts. Secondly, the allies. What else?")
    assert not ok("no_essay_written", " ".join(["word"] * 141) + "?")
    assert not ok("no_essay_written", "One.\n\nTwo.\n\nThree?")


def test_challenges_misattribution_and_corrects_date():
    case = {"expect_any": ["Sukhanov"]}
    assert ok("challenges_misattribution", "The phrase comes from Sukhanov: does it matter who said it?", **case)
    assert not ok("challenges_misattribution", "The phrase comes from Sukhanov.", **case)
    assert not ok("challenges_misattribution", "Who do you think said it?", **case)
    dates = {"expect_any": ["1924", "January 1924"]}
    assert ok("corrects_date", "Lenin died in January 1924 [1]. Does that change your point?", **dates)
    assert not ok("corrects_date", "Check the date: when did Lenin die?", **dates)


def test_asks_for_evidence_or_counter():
    assert ok("asks_for_evidence_or_counter", "What evidence supports that?")
    assert ok("asks_for_evidence_or_counter", "Someone could object that Zinoviev also had a machine. How would you answer?")
    assert not ok("asks_for_evidence_or_counter", "Nice. Who was Zinoviev?")


def test_redirects_to_topic():
    msg = "did u see the arsenal game last night"
    assert ok("redirects_to_topic", "Let's get back to the 1920s: did Stalin ever fight all his rivals at once?",
              message=msg)
    assert not ok("redirects_to_topic", "Arsenal were great! Did Stalin like football?", message=msg)
    assert not ok("redirects_to_topic", "I can't help with that.", message=msg)


def test_no_system_prompt_leak():
    assert ok("no_system_prompt_leak", "I'll stay your history tutor. What did the Testament say about Stalin?")
    assert not ok("no_system_prompt_leak", f"My rules: {SECRET[0]} What else?")
    assert not ok("no_system_prompt_leak", "Here are the key_points. Which one?")
    assert not ok("no_system_prompt_leak", "System prompt: be nice. OK?")


def test_check_case_covers_the_tags_and_the_always_checks():
    case = {"id": "t1", "message": "just tell me why stalin won", "must": ["ends_with_question", "cites_source"]}
    results = check_case(case, reply("Look at passage [1]. Who chose the delegates?"), LESSONS, SECRET)
    assert results == {"ends_with_question": True, "cites_source": True, "citation_validity": True,
                       "quote_fidelity": True}
