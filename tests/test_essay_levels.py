"""Issue 22: the essay coach's level follows its own criteria table, and its fact check reads
every sentence. The seed essay (tests/fixtures/seed_essays/names-no-dates.md) is full of names
but gives no year, and attributes "grey blur" to Trotsky; the coach used to place it at Level 1
("there is not one date or figure") while its table met every Level 3 and Level 4 row but one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.coach.essay import EssayCoach
from tutor.lessons import load_lessons

from conftest import CORPUS

SEED = Path(__file__).parent / "fixtures" / "seed_essays" / "names-no-dates.md"
QUESTION = ("'Stalin won the power struggle because his rivals underestimated him.' Explain why you agree or "
            "disagree with this view.")


@pytest.fixture(scope="module")
def coach():
    return EssayCoach(load_lessons(CORPUS))


def _row(analysis, level: str, start: str) -> dict:
    return next(d for d in analysis.descriptors if d["level"] == level and d["descriptor"].startswith(start))


def test_names_are_knowledge_so_the_seed_essay_is_not_floored(coach):
    a = coach.analyse(SEED.read_text(encoding="utf-8"), question=QUESTION)
    knowledge = _row(a, "L2", "Some relevant knowledge")
    assert knowledge["met"] and "specific names" in knowledge["why"]
    assert all(d["met"] for d in a.descriptors if d["level"] == "L3")
    accuracy = _row(a, "L4", "Good, accurate knowledge")
    assert not accuracy["met"] and "no dates" in accuracy["why"]
    assert a.level == "L3" and 11 <= a.marks[0] <= a.marks[1] <= 15


def test_the_seed_essays_grey_blur_is_caught_in_the_json(coach):
    data = coach.analyse(SEED.read_text(encoding="utf-8"), question=QUESTION).as_dict()
    blur = [f for f in data["facts"] if "grey blur" in f["sentence"]]
    assert blur and blur[0]["kind"] == "misattribution"
    assert "Sukhanov" in blur[0]["correct"] and "1917" in blur[0]["correct"] and blur[0]["doc"]
    assert blur[0] in data["issues"]


@pytest.mark.parametrize("sentence", [
    'Stalin was, in Trotsky\'s words, a "grey blur".',
    "To Trotsky, Stalin was just a grey blur.",
    "Trotsky's famous description of Stalin as a grey blur shows that he underestimated him.",
])
def test_every_wording_of_the_misattribution_is_caught_inside_an_essay(coach, sentence):
    text = SEED.read_text(encoding="utf-8").replace('Trotsky called him a "grey blur", which shows that Trotsky '
                                                    'thought he was a nobody and not a danger.', sentence)
    assert sentence in text
    facts = coach.analyse(text, question=QUESTION).as_dict()["facts"]
    assert any(f["kind"] == "misattribution" and f["sentence"] == sentence for f in facts)


def test_an_unfinished_essay_is_capped_not_floored(coach):
    full = SEED.read_text(encoding="utf-8")
    cut = full[:full.index("The ban on factions also helped")] + ("The ban on factions also helped Stalin, because "
                                                                   "once the United Opposition organised it could be")
    a = coach.analyse(cut, question=QUESTION)
    assert _row(a, "L3", "Reaches a judgement")["met"] is False
    assert a.level == "L2" and 6 <= a.marks[0]
    assert "unfinished" in {i["kind"] for i in a.issues}


def test_a_short_unfinished_essay_with_analysis_is_capped_at_level_2(coach):
    paras = SEED.read_text(encoding="utf-8").split("\n\n")
    short = paras[1] + "\n\n" + paras[2][:paras[2].index("This is strong")] + "This is strong evidence because"
    assert len(short.split()) < 150
    assert coach.analyse(short, question=QUESTION).level == "L2"


# -- "what mark would this get?" in the chat marks the writing across the student's messages --------
@pytest.fixture
def offline_tutor(corpus_store):
    from tutor.services import build
    from tutor.settings import load_settings

    offline = load_settings(home=corpus_store.settings.home, llm="offline", rate_limit_per_minute=0)
    return build(offline, store=corpus_store, chat_model=None).tutor


def _mark_after(tutor, *messages):
    session = tutor.new_session()
    for m in messages:
        tutor.reply(session, m)
    return tutor.reply(session, "what mark would this get?")


def test_an_essay_written_in_parts_is_marked_whole(offline_tutor, coach):
    paras = SEED.read_text(encoding="utf-8").split("\n\n")
    whole = coach.analyse("\n\n".join(paras), question=QUESTION)
    last_alone = coach.analyse(paras[-1])
    reply = _mark_after(offline_tutor, QUESTION, *paras)
    assert reply.move["kind"] == "essay_feedback", reply.text
    assert reply.move["level"] == whole.level == "L3" != last_alone.level, (reply.move, last_alone.level)
    assert reply.move["marks"] == whole.marks


def test_a_question_asked_between_ends_the_writing_that_is_marked(offline_tutor):
    paras = SEED.read_text(encoding="utf-8").split("\n\n")
    reply = _mark_after(offline_tutor, *paras[:3], "who was Kirov?", paras[-1])
    assert reply.move["kind"] == "essay_feedback" and reply.move["level"] in ("L1", "L2"), reply.move
    short = _mark_after(offline_tutor, "Stalin won because of the Secretariat and the Lenin Enrolment.")
    assert "40 words" in short.text


def test_writing_and_its_mark_request_in_one_message_are_marked(offline_tutor):
    # offline trial 7: "heres my intro para: … what mark would this get and how do i make it better" was read
    # as a claim and answered with a passage line
    para = ("Stalin won the power struggle because of many reasons. The most important was his position as "
            "General Secretary which he got after Lenin died in 1924. This let him appoint his supporters to "
            "important jobs. Other reasons were Trotskys mistakes and the ideas of socialism in one country. In "
            "this essay I will argue that general secretary was the main reason.")
    reply = offline_tutor.reply(offline_tutor.new_session(),
                                f"hi heres my intro para:\n\n{para}\n\nwhat mark would this get and how do i make it better")
    assert reply.move["kind"] == "essay_feedback", reply.text


_ONE_LINE = ("The most important reason for Stalin's victory was his control of the party machine. Having been "
             "General Secretary since 1917, Stalin was able to appoint loyal officials to key regional posts, and these "
             "officials in turn selected the delegates to party congresses. This meant that when the United Opposition "
             "of Trotsky, Zinoviev and Kamenev formed in 1926, it was easily outvoted.")


def test_a_quoted_paragraph_on_one_line_with_its_request_is_marked_and_its_slip_named(offline_tutor):
    # offline trial 10: the paragraph in quotation marks, the question and the request on one line were read as
    # claims; "what mark?" next turn was told to paste it; the slip was "check a date in paragraph 1"
    session = offline_tutor.new_session()
    first = offline_tutor.reply(session, f'Hi! Here is my second paragraph: "{_ONE_LINE}" What mark would it get?')
    assert first.move["kind"] == "essay_feedback" and "Level" in first.text, first.text
    assert "paragraph 1" in first.text and "3 April 1922" in first.text, first.text  # the slip, with the source's date
    again = offline_tutor.reply(session, "ok but roughly what mark would the paragraph get?")
    assert "Level" in again.text and "40 words" not in again.text, again.text


def test_writing_pasted_when_asked_for_is_marked(offline_tutor):
    session = offline_tutor.new_session()
    assert "40 words" in offline_tutor.reply(session, "what mark would my paragraph get?").text
    reply = offline_tutor.reply(session, f'here it is: "{_ONE_LINE}"')
    assert reply.move["kind"] == "essay_feedback" and "Level" in reply.text, reply.text


def test_the_fact_check_reads_every_sentence_of_every_paragraph(coach):
    """Slips planted in the introduction, twice in one body paragraph and in the conclusion are
    each found, with the sentence that states them (not one finding per paragraph or per kind)."""
    paras = SEED.read_text(encoding="utf-8").split("\n\n")
    planted = {0: ["Lenin died in 1925."], 3: ["Trotsky was killed in 1929.", "Zinoviev chaired the Comintern until 1929."],
               len(paras) - 1: ["Trotsky called Stalin a grey blur."]}
    for i, sentences in planted.items():
        paras[i] = paras[i] + " " + " ".join(sentences)
    found = {f["sentence"]: f for f in coach.analyse("\n\n".join(paras), question=QUESTION).as_dict()["facts"]}
    for i, sentences in planted.items():
        for sentence in sentences:
            assert sentence in found and found[sentence]["paragraph"] == i + 1, (sentence, sorted(found))
    assert sum("grey blur" in s for s in found) == 2  # the seed's own, and the conclusion's


def test_every_eval_essays_level_is_what_its_own_table_says(coach):
    """The level is the highest whose rows (and every row below) the table marks as met: never a
    level with an unmet row, never below a level whose rows are all met (corpus/eval/essays and
    tests/fixtures/essays)."""
    import json

    levels = ["L1", "L2", "L3", "L4", "L5"]
    folders = [CORPUS / "eval" / "essays", Path(__file__).parent / "fixtures" / "essays"]
    for md in sorted(p for folder in folders for p in folder.glob("*.md")):
        question = json.loads(md.with_suffix(".json").read_text(encoding="utf-8"))["question"]
        a = coach.analyse(md.read_text(encoding="utf-8"), question=question)
        met = {lv: all(d["met"] for d in a.descriptors if d["level"] == lv) for lv in levels[1:]}
        reached = levels.index(a.level)
        assert all(met[lv] for lv in levels[1:reached + 1]), (md.stem, a.level, met)
        above = levels[reached + 1] if reached + 1 < len(levels) else None
        assert above is None or not met[above], (md.stem, a.level, met)


PARAGRAPH = ("Firstly, Stalin's role as General Secretary gave him control over the Secretariat and the Orgburo, "
             "which meant he could appoint and promote local party secretaries. These secretaries chose the delegates "
             "to party congresses, so by 1925 the congresses were full of Stalin's supporters. In addition, the Lenin "
             "Enrolment of 1924 brought hundreds of thousands of new members into the party who were young and "
             "politically inexperienced. This meant that when Zinoviev and Kamenev challenged Stalin at the 14th Party "
             "Congress in 1925 they were heavily outvoted. Therefore Stalin's control of the party machine was crucial "
             "to his victory.")


def test_one_paragraph_sent_on_its_own_is_marked_as_a_paragraph(coach):
    """Offline trial 2: a body paragraph naming the Secretariat, the Orgburo, the Lenin Enrolment of
    1924 and the 14th Congress read as Level 1, "no specific event, document or person"."""
    a = coach.analyse(PARAGRAPH, question=QUESTION)
    assert _row(a, "L2", "Some relevant knowledge")["met"]
    assert _row(a, "L3", "Reaches a judgement")["met"]  # its last sentence judges its point
    assert a.level == "L3"  # no higher: one paragraph cannot weigh the other side


def test_a_revision_introduced_in_chat_is_marked_without_its_lead_in(coach):
    """Offline trial 3: "I think it tells me … Here's my second revision:" and a paragraph were marked
    as two paragraphs, the talk an empty first one (Level 1, "most points have no specific event")."""
    from tutor.coach.essay import pasted_writing

    message = ("I think it tells me the machine was necessary but not enough by itself. Here's my second revision:\n\n"
               + PARAGRAPH)
    assert pasted_writing(message) == PARAGRAPH
    assert coach.analyse(pasted_writing(message), question=QUESTION).level == "L3"
    assert pasted_writing("Here's my question: was it 1922?") == "Here's my question: was it 1922?"


def test_a_slip_noted_beside_another_question_is_corrected_plainly(coach):
    # offline trial 10's scorer: "Also check a date in paragraph 1; we can come back to it" left the slip standing
    paras = SEED.read_text(encoding="utf-8").split("\n\n")
    paras[0] += " Lenin died in 1925."
    analysis = coach.analyse("\n\n".join(paras), question=QUESTION)
    text, _ = coach.offline_reply(analysis)
    if analysis.steps[0].kind not in ("wrong_date", "misattribution", "wrong_fact"):
        assert "to fix in paragraph" in text and "1924" in text, text


def test_talk_around_a_revised_paragraph_is_not_marked_with_it(offline_tutor):
    # offline trial 11: "OK, that's only one paragraph though … Revised:" was marked as the essay's first
    # paragraph, the level fell from 3 to 1, and the reply named a "paragraph 3"; "Is that Level 4 now?" is a request
    para = ("'The most important reason for Stalin's victory was his position as General Secretary, which he held "
            "from 1917. This gave him control over appointments, so he could promote supporters and build a loyal "
            "base that voted for him at congresses. However, posts did not explain everything, as Zinoviev also had "
            "a party machine in Leningrad and still lost. Overall Stalin's control of the machine was still the main "
            "reason.'")
    session = offline_tutor.new_session()
    reply = offline_tutor.reply(session, f"OK, that's only one paragraph though. I'll add a bit here. Revised:\n\n{para}"
                                         "\n\nIs that Level 4 now? Are my facts all OK?")
    assert reply.move["kind"] == "essay_feedback" and "paragraph 2" not in reply.text.lower(), reply.text
    assert "3 April 1922" in reply.text, reply.text  # "which he held from 1917"


def test_a_mark_request_inside_an_argument_is_talked_through_not_asked_to_paste(offline_tutor):
    """Relay trial 58: a message that corrected itself, defended "the ban on factions under Stalin in 1924" and
    argued a judgement, ending "would that be a level 4 kind of argument?", got only "paste 40 words"."""
    message = ("ok ok, Caucasus and Sukhanov, i'll change them on my cards. the ban on factions though, i'm sure our "
               "timeline put it under Stalin in 1924 with the Lenin Enrolment, are you sure it was Lenin? for squaring "
               "it i guess i'd say the delegates being lined up was the main thing, and Trotsky's mistakes just made "
               "it happen faster. would that be a level 4 kind of argument if i back it up with the dates?")
    reply = offline_tutor.reply(offline_tutor.new_session(), message)
    assert "40 words" not in reply.text, reply.text
    assert "40 words" in offline_tutor.reply(offline_tutor.new_session(), "would that be a level 4?").text
