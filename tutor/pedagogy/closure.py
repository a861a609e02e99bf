"""Closure: the points the *student* made, in their own words, what is still missing, and a
request for their overall judgement; then the offer of the next question.

>>> summary_lines(card, state)            # doctest: +SKIP
(["Stalin became General Secretary … (your words: ‘he got the top job in 1922’)"], [], [KeyPoint(...)])
"""

from __future__ import annotations

import re

from tutor.lessons import KeyPoint, LessonCard, Lessons
from tutor.pedagogy.assess import short_phrase
from tutor.pedagogy.learner import LearnerState


_FILLER = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|well|um+|erm+|yeah|yes|no|i think|i guess|i mean|like|basically|"
                     r"whatever|right|and|but|oh|hmm+)\b[\s,.!]*)+", re.I)
_CLAUSE = re.compile(r"[.;!?]+\s+|\n+")


def clean_phrase(text: str, limit: int = 16) -> str:
    """The student's phrase for a summary: markup and fillers ("ok whatever, I guess") gone, one
    whole clause, cut only at a comma (never mid-word, never mid-clause); '' when no clause of
    theirs is short enough to quote whole."""
    clauses = _CLAUSE.split(short_phrase(text, 200))
    # A stored phrase cut at either end ("…he called Stalin", "the new members…") loses that clause.
    clauses = [c for c in clauses if "…" not in c] if len(clauses) > 1 else [c.replace("…", "") for c in clauses
                                                                               if not c.startswith("…") and not c.endswith("…")]
    for clause in clauses:
        clause = _FILLER.sub("", clause).strip(" ,.;:!?\"'“”‘’")
        words = clause.split()
        if len(words) < 3 or clause.endswith("?"):
            continue
        if len(words) > limit:
            cut = [m.start() for m in re.finditer(r",", clause) if 3 <= len(clause[:m.start()].split()) <= limit]
            if not cut:
                continue
            clause = clause[:cut[-1]]
        return clause
    return ""


def point_words(kp: KeyPoint, limit: int = 24) -> str:
    """A key point in the card's own words, whole, or up to the end of its first clause when long."""
    statement = kp.statement.rstrip(". ")
    if len(statement.split()) <= limit:
        return statement
    for m in re.finditer(r",\s+(?:so|which|while|and|but|when|though)\b|;|\s[–—]\s", statement):
        head = statement[:m.start()]
        if 6 <= len(head.split()) <= limit:
            return head
    return statement


def summary_lines(card: LessonCard, state: LearnerState) -> tuple[list[str], list[str], list[KeyPoint]]:
    """What the student has argued (each point in the card's words, with their own phrase), the
    claims of theirs the tutor corrected (with the correction), and the points still missing."""
    covered = state.covered_on(card.id)
    words = state.words.get(card.id, {})
    made = []
    for kp in card.key_points:
        if kp.id not in covered:
            continue
        mine = clean_phrase(words.get(kp.id, ""))
        made.append(f"{point_words(kp)} (your words: ‘{mine}’)" if mine else point_words(kp))
    corrected = [f"You also claimed ‘{said}’, which the sources correct. {fix}"
                 for card_id in [card.id, *(c for c in state.corrections if c != card.id)]
                 for said, fix in state.corrections.get(card_id, [])][:3]
    missing = [kp for kp in card.key_points if kp.id not in covered]
    return made, corrected, missing


def missing_question(card: LessonCard, missing: list[KeyPoint], guard=None) -> str:
    """A missing point asked by a question of its ladder not asked yet (never its answer); ''
    when every one has been asked."""
    for kp in missing:
        for hint in card.ladder(kp.id):
            q = hint.text.strip()
            q = q if q.endswith("?") else q.rstrip(".") + "?"
            if guard is None or not guard.seen("question", q):
                return q
    return ""


def around_terms(text: str, terms: list[str], limit: int) -> str:
    """The student's words, cut to ``limit`` words around the first evidence term they use, so a
    long answer is quoted where it makes its point ("… he called Stalin Genghis Khan")."""
    from tutor.pedagogy.learner import terms_in

    words = text.split()
    if len(words) <= limit:
        return short_phrase(text, limit)
    low = [w.lower() for w in words]
    start = 0
    for term in terms_in(text, terms):
        first = term.lower().split()[0]
        at = next((i for i, w in enumerate(low) if first in w), None)
        if at is not None and at >= limit - 2:
            start = max(0, min(at - limit // 2, len(words) - limit))
            break
    cut = short_phrase(" ".join(words[start:]), limit)
    return ("…" + cut) if start else cut


def next_card(lessons: Lessons, state: LearnerState, current: LessonCard) -> LessonCard | None:
    """The first card, in the course's order, that this conversation has not visited."""
    order = [c for c in lessons.cards if c.id != current.id]
    fresh = [c for c in order if c.id not in state.topics and c.id not in state.closed]
    return (fresh or order or [None])[0]
