"""Issue 22 item 4: summaries that sum up (tutor/pedagogy/closure.py). The student's phrase is a
whole clause, cleaned, never cut mid-word or on "the"; a corrected or taken-back claim is never
"what you've argued"; the corrections are listed with their fixes; what is missing is asked as a
question; every point is "made" only when it is."""

from __future__ import annotations

import re

import pytest

from tutor.lessons import load_lessons
from tutor.pedagogy.closure import clean_phrase, missing_question, summary_lines
from tutor.pedagogy.learner import LearnerState

from conftest import CORPUS


@pytest.fixture(scope="module")
def card():
    return next(c for c in load_lessons(CORPUS).cards if c.id == "defeat-of-the-right")


@pytest.mark.parametrize("text, phrase", [
    # The trial's fragment: a cut clause at each end and fillers in between.
    ("…question . ok whatever. I guess he got the top job in 1922 so he could appoint people…",
     "he got the top job in 1922"),
    ("ok whatever I guess stalin used the secretariat to put his people in",
     "stalin used the secretariat to put his people in"),
    ("so basically he was general secretary which meant he could appoint loads of people to jobs and they then "
     "voted for him at congresses because they owed him everything really",
     "he was general secretary which meant he could appoint loads of people to jobs"),
    ("idk lol he controlled appointments tbh", "he controlled appointments"),
    ("I'm not sure that's what I asked. Stalin packed the congresses with his supporters",
     "Stalin packed the congresses with his supporters"),
    ("what post?? he was general secretary", "he was general secretary"),
    ("<b>Stalin</b> controlled the **party machine**", "Stalin controlled the party machine"),
    ("ok whatever. I guess", ""),
    ("was it because he was general secretary", ""),
    ("Trotsky said grey blur. scratch that, it was Sukhanov who said grey blur about Stalin",
     "it was Sukhanov who said grey blur about Stalin"),
])
def test_the_students_phrase_is_whole_and_clean(text, phrase):
    got = clean_phrase(text)
    assert got == phrase
    if got:
        assert "…" not in got and got in re.sub(r"<[^>]+>|\*\*", "", text)  # their words, not cut mid-word
        assert not re.search(r"\b(?:the|a|of|to|and|they)$", got)


def test_a_corrected_claim_is_never_what_youve_argued(card):
    state = LearnerState()
    state.mark_covered(card.id, {"grain-crisis", "genghis-khan"})
    state.words[card.id] = {
        # The point was credited from a message whose claim the tutor corrected...
        "genghis-khan": "Bukharin called Stalin Genghis Khan in 1925",
        # ...and from a message with a right clause beside a corrected one.
        "grain-crisis": "the testament was read to the whole congress. Stalin went to Siberia to seize grain",
    }
    state.note_correction(card.id, "Bukharin called Stalin Genghis Khan in 1925", "He said it in July 1928.")
    state.note_correction(card.id, "the testament was read to the whole congress", "It was read to delegations.")
    made, corrected, missing = summary_lines(card, state)
    text = " ".join(made)
    assert "1925" not in text and "whole congress" not in text, made
    assert "genghis-khan" in {k.id for k in missing}, "a point made only by a corrected claim is still missing"
    assert len(made) == 1 and "(your words: ‘Stalin went to Siberia to seize grain’)" in made[0], made
    assert corrected[0].startswith("You also claimed ‘Bukharin called Stalin Genghis Khan in 1925’") \
        and corrected[0].endswith("He said it in July 1928."), corrected


def test_a_point_the_student_took_back_stays_missing(card):
    state = LearnerState()
    state.mark_covered(card.id, {"genghis-khan"})
    state.words[card.id] = {"genghis-khan": "Bukharin met Kamenev and called Stalin Genghis Khan. scratch that"}
    made, _, missing = summary_lines(card, state)
    assert not made and [k.id for k in missing][:1] == ["alliance-with-right"]
    assert "genghis-khan" in {k.id for k in missing}


def test_a_phrase_is_quoted_once_and_every_point_only_when_true(card):
    state = LearnerState()
    message = "Stalin went to Siberia in 1928 and seized grain, then took the Left's industrialisation programme"
    state.mark_covered(card.id, {"grain-crisis", "took-left-programme"})
    state.words[card.id] = {"grain-crisis": message, "took-left-programme": message}
    made, corrected, missing = summary_lines(card, state)
    assert sum("your words" in m for m in made) == 1, made
    assert not corrected and missing, "three points are still missing: not 'every point'"
    state.mark_covered(card.id, {k.id for k in card.key_points})
    assert summary_lines(card, state)[2] == []


def test_what_is_missing_is_asked_as_a_question(card):
    state = LearnerState()
    _, _, missing = summary_lines(card, state)
    q = missing_question(card, missing)
    assert q.endswith("?") and q[0].isupper() and not q.endswith(".?"), q
