"""Closure: the points the *student* made, in their own words, what is still missing, and a
request for their overall judgement; then the offer of the next question.

>>> summary_lines(card, state)            # doctest: +SKIP
(["Stalin became General Secretary … (your words: ‘he got the top job in 1922’)"], [], [KeyPoint(...)])
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from tutor.lessons import KeyPoint, LessonCard, Lessons, term_regex
from tutor.pedagogy.assess import short_phrase
from tutor.pedagogy.learner import LearnerState


_FILLER = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|well|um+|erm+|yeah|yes|no|i think|i guess|i mean|like|basically|"
                     r"whatever|right|and|but|oh|hmm+|idk|lol|tbh|ngl|imo|tbf|honestly|anyway|i reckon|"
                     r"i'm pretty sure|pretty sure|maybe|probably|also|plus)\b[\s,.!]*)+", re.I)
_TAIL_FILLER = re.compile(r"(?:[\s,]+(?:tbh|lol|ngl|imo|tbf|i think|i guess|really|right|innit|or something|"
                          r"and stuff|and that|or whatever|idk))+\W*$", re.I)
_CLAUSE = re.compile(r"[.;!?]+(?:\s+|$)|\n+")
# Where a long clause may end and still be a whole phrase: before a comma or a linking word.
_BREAK = re.compile(r",\s*|\s+(?=(?:and|so|which|because|but|who|when|while|then|as|whereas|although)\b)", re.I)
# Words a phrase cannot end on: "he got the" is cut mid-phrase even when cut between words.
_DANGLING = re.compile(r"\b(?:the|a|an|of|to|in|on|at|by|for|with|from|his|her|their|its|and|or|but|so|that|"
                       r"which|who|was|were|is|are|had|has|have|be|very|more|most|than|as|they|he|she|it|we|"
                       r"i|you|this|these|those|then)$", re.I)
# Talk about the conversation, not a point about the history.
_META = re.compile(r"\b(?:not sure (?:that's|that is|this is|if|what|about)|what i (?:asked|said|meant)|"
                   r"you (?:didn't|did not|never) answer|is that (?:right|correct|ok)|am i right|does that work|"
                   r"you repeated|same summary|no idea|i don't know|i dont know|sum up|summar)", re.I)
# A clause that asks ("was it because…", "did Stalin…") is not one of the student's points.
_ASKS = re.compile(r"^\W*(?:(?:why|how|what|who|whom|whose|where|which)\b|when\s+(?:was|were|did|does|do|is|are)\b|"
                   r"(?:did|does|do|is|are|was|were|can|could|would|should|didn't|wasn't)\s+(?:it|he|she|they|that|"
                   r"this|there|i|you|stalin|trotsky|lenin|zinoviev|kamenev|bukharin|the)\b)", re.I)
# "scratch that", "I was wrong": what came before is taken back.
_RETRACTION = re.compile(r"\b(?:scratch that|ignore (?:that|what i said)|forget (?:that|what i said)|i was wrong|"
                         r"i take (?:that|it) back|never ?mind|my bad|actually no|no wait|wait no|i got that wrong)\b",
                         re.I)


def _heads(clause: str, limit: int | None = None) -> list[str]:
    """The clause's whole heads: each ends at a comma or before a linking word, has three words or
    more (at most ``limit``) and does not end on "the" or "they"."""
    heads = [clause[:m.start()].rstrip(" ,") for m in _BREAK.finditer(clause)]
    return [h for h in heads if len(h.split()) >= 3 and (limit is None or len(h.split()) <= limit)
            and not _DANGLING.search(h)]


def _whole(clause: str, limit: int) -> str:
    """The clause, or its longest whole head within ``limit`` words; '' when it has none."""
    if len(clause.split()) <= limit:
        return clause
    heads = _heads(clause, limit)
    return heads[-1] if heads else ""


def clean_phrase(text: str, limit: int = 16, terms: list[str] | tuple[str, ...] = (),
                 avoid: list[str] | tuple[str, ...] = ()) -> str:
    """The student's phrase for a summary: markup and fillers ("ok whatever, I guess") gone, one
    whole clause, ended only at a clause's end, a comma or before a linking word (never mid-word,
    never on "the"); a clause that carries a point's ``terms`` first; a clause that repeats one of
    ``avoid`` (a claim the tutor corrected), talks about the conversation or asks something is never
    chosen, and what a "scratch that" takes back is gone. '' when no clause of theirs will do."""
    body = short_phrase(text, 200)
    retracted = list(_RETRACTION.finditer(body))
    if retracted:
        body = body[retracted[-1].end():]
    lead_cut, tail_cut = body.lstrip().startswith("…"), body.rstrip().endswith("…")
    body = body.strip().strip("…")
    parts = [c for c in _CLAUSE.split(body) if c and c.strip()]
    if lead_cut and len(parts) > 1:
        parts = parts[1:]  # "…question" is the end of a clause the stored words cut into
    elif lead_cut:  # one clause, cut at its start: what follows its first break is whole
        first = _BREAK.search(body)
        parts = [body[first.end():]] if first else []
    candidates = []
    for n, clause in enumerate(parts):
        cut_here = tail_cut and n == len(parts) - 1
        if clause.rstrip().endswith("?") or _ASKS.match(clause):
            continue
        clause = _TAIL_FILLER.sub("", _FILLER.sub("", clause).strip(" ,.;:!?\"'“”‘’")).strip(" ,")
        if cut_here:  # the stored words stop mid-clause: keep only what ends at a break
            heads = _heads(clause)
            clause = heads[-1] if heads else ""
        clause = _whole(clause, limit)
        if len(clause.split()) < 3 or _META.search(clause):
            continue
        if any(_repeats(clause, a) for a in avoid):
            continue
        candidates.append(clause)
    if not candidates:
        return ""
    if terms:
        with_terms = [c for c in candidates if any(term_regex(t).search(c.lower()) for t in terms)]
        if with_terms:
            return with_terms[0]
    return candidates[0]


def _repeats(clause: str, claim: str) -> bool:
    """The clause says again a claim the tutor corrected (the same words, give or take a few)."""
    a, b = _norm(clause), _norm(claim)
    if not a or not b:
        return False
    return a in b or b in a or fuzz.token_set_ratio(a, b) >= 88


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", short_phrase(text, 200).replace("…", " ").lower()).split())


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
    claims of theirs the tutor corrected (with the correction), and the points still missing.

    A point whose only evidence is a claim the tutor corrected, or words the student took back
    ("scratch that"), is not "what you've argued": it stays missing. A phrase is quoted once."""
    covered = state.covered_on(card.id)
    words = state.words.get(card.id, {})
    fixes = [(said, fix) for card_id in [card.id, *(c for c in state.corrections if c != card.id)]
             for said, fix in state.corrections.get(card_id, [])]
    wrong = [said for said, _ in fixes]
    made, missing, quoted = [], [], set()
    for kp in card.key_points:
        if kp.id not in covered:
            missing.append(kp)
            continue
        said = words.get(kp.id, "")
        mine = clean_phrase(said, terms=kp.evidence_terms, avoid=wrong)
        if said and not mine and (_taken_back(said) or any(_repeats(c, w) for c in _clauses(said) for w in wrong)):
            missing.append(kp)
            continue
        if mine and mine.lower() not in quoted:
            quoted.add(mine.lower())
            made.append(f"{point_words(kp)} (your words: ‘{mine}’)")
        else:
            made.append(point_words(kp))
    corrected = []
    for said, fix in fixes[:3]:
        mine = clean_phrase(said)
        corrected.append(f"You also claimed ‘{mine}’, which the sources correct. {fix}" if mine
                         else f"One of your claims needed correcting. {fix}")
    return made, corrected, missing


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(short_phrase(text, 200).replace("…", " ")) if len(c.split()) >= 3]


def _taken_back(text: str) -> bool:
    """Every point in the words precedes a "scratch that": nothing of theirs is left standing."""
    found = list(_RETRACTION.finditer(text))
    return bool(found) and len(text[found[-1].end():].split()) < 3


def missing_question(card: LessonCard, missing: list[KeyPoint], guard=None) -> str:
    """A missing point asked by a question of its ladder not asked yet (never its answer); ''
    when every one has been asked."""
    for kp in missing:
        for hint in card.ladder(kp.id):
            # The question itself, never a statement given a question mark ("Think about X?").
            asked = [x for x in re.split(r"(?<=[.!?])\s+", hint.text.strip()) if x.endswith("?")]
            if not asked:
                continue
            q = hint.text.strip() if hint.text.strip().endswith("?") else asked[-1]
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
