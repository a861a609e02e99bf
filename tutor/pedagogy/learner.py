"""What the tutor knows about the student in this session: key points made, misconceptions
met and resolved, the hint rung reached on each key point.

>>> state = LearnerState()
>>> state.mark_covered("why-stalin-won", {"posts"})   # the newly covered ones
{'posts'}
>>> state.covered_on("why-stalin-won")
{'posts'}
"""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Iterable

import numpy as np

from tutor.lessons import KeyPoint, LessonCard

# Similarity between a student's sentence and a key point statement (MiniLM, cosine) above
# which the point counts as expressed even without its exact evidence terms.
SIMILARITY_ALONE = 0.72
SIMILARITY_WITH_TERM = 0.52


@dataclass
class LearnerState:
    card_id: str | None = None
    covered: dict[str, list[str]] = field(default_factory=dict)
    hint_level: dict[str, int] = field(default_factory=dict)  # "card:kp" -> rungs already given
    prompted: dict[str, list[str]] = field(default_factory=dict)  # card -> kps whose ladder is used up
    misconceptions: dict[str, str] = field(default_factory=dict)  # id -> open | resolved
    date_errors: dict[str, str] = field(default_factory=dict)  # timeline event id -> open | resolved
    turns: int = 0
    moves: list[str] = field(default_factory=list)
    # The dialogue so far, so nothing is said twice and a return resumes where it left off.
    topics: list[str] = field(default_factory=list)          # cards visited, oldest first
    focus: dict[str, str] = field(default_factory=dict)      # card -> key point being worked on
    said: dict[str, list[str]] = field(default_factory=dict)  # question|opening|quote|counter -> texts
    answered_counters: list[str] = field(default_factory=list)
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # card -> key point -> the student's words
    asserted: dict[str, list[str]] = field(default_factory=dict)    # card -> points the tutor had to supply
    closed: list[str] = field(default_factory=list)           # cards summarised
    last: dict[str, Any] = field(default_factory=dict)        # the last move: kind, card, key point, question
    earlier: list[list[Any]] = field(default_factory=list)    # [student message, card then], last 40
    corrections: dict[str, list[list[str]]] = field(default_factory=dict)  # card -> [student's words, correction]

    # What a reader marks on a message: the points made, the student's words, the corrections and the
    # misconceptions and wrong dates seen. With a model its Reading decides these, so the rule reader's
    # marks are set aside (the engine's snapshot before the message).
    PROGRESS = ("covered", "words", "corrections", "misconceptions", "date_errors")

    def progress(self) -> tuple:
        """A copy of the progress fields, to put back with ``restore_progress``."""
        return copy.deepcopy(tuple(getattr(self, name) for name in self.PROGRESS))

    def restore_progress(self, saved: tuple) -> None:
        for name, value in zip(self.PROGRESS, saved):
            setattr(self, name, value)

    def covered_on(self, card_id: str) -> set[str]:
        return set(self.covered.get(card_id, []))

    def mark_covered(self, card_id: str, kp_ids: set[str]) -> set[str]:
        before = self.covered_on(card_id)
        self.covered[card_id] = sorted(before | kp_ids)
        return kp_ids - before

    def rung(self, card_id: str, kp_id: str) -> int:
        return self.hint_level.get(f"{card_id}:{kp_id}", 0)

    def advance(self, card_id: str, kp_id: str, ladder_len: int) -> None:
        key = f"{card_id}:{kp_id}"
        self.hint_level[key] = self.hint_level.get(key, 0) + 1
        if self.hint_level[key] >= ladder_len:
            self.prompted.setdefault(card_id, [])
            if kp_id not in self.prompted[card_id]:
                self.prompted[card_id].append(kp_id)

    def target(self, card: LessonCard, relevance: dict[str, float] | None = None) -> KeyPoint | None:
        """The key point to work on next: the one in focus on this card if it is still open, else
        an uncovered one, most relevant first, fresh ladders first; points the tutor had to supply
        (bottom of the ladder) are done."""
        covered = self.covered_on(card.id) | set(self.asserted.get(card.id, []))
        exhausted = set(self.prompted.get(card.id, []))
        open_points = [k for k in card.key_points if k.id not in covered]
        if not open_points:
            return None
        focus = self.focus.get(card.id)
        if focus in {k.id for k in open_points}:
            return card.key_point(focus)
        fresh = [k for k in open_points if k.id not in exhausted] or open_points
        relevance = relevance or {}
        return max(fresh, key=lambda k: (relevance.get(k.id, 0.0), -card.key_points.index(k)))

    # -- the dialogue so far ---------------------------------------------------------------
    def visit(self, card_id: str) -> None:
        if card_id in self.topics:
            self.topics.remove(card_id)
        self.topics.append(card_id)

    def remember(self, kind: str, text: str) -> None:
        if text:
            self.said.setdefault(kind, []).append(text)

    def already_said(self, kind: str) -> list[str]:
        return list(self.said.get(kind, []))

    def note_words(self, card_id: str, kp_ids: set[str], message: str, card: LessonCard | None = None) -> None:
        """Keep the student's own words for each point they make (first wording wins). Only an
        argument is kept for the summary: a question, an "oh ok so it was trotsky who said that"
        taking in a correction, or a bare name is not one of the student's points."""
        if not substantive(message):
            return
        mine = self.words.setdefault(card_id, {})
        from tutor.pedagogy.closure import around_terms

        for kp in sorted(kp_ids):
            terms = next((k.evidence_terms for k in card.key_points if k.id == kp), []) if card else []
            # Kept where the point is made, so the summary quotes that part of a long answer.
            words = around_terms(message.strip(), terms, 40) if terms else message.strip()[:300]
            kept = mine.get(kp)
            # One message credited with several points is kept for the first; a later message that
            # makes this point on its own words replaces it, so the summary quotes both.
            if kept is None or (kept != words and list(mine.values()).count(kept) > 1):
                mine[kp] = words

    def note_correction(self, card_id: str, said: str, correction: str) -> None:
        """A claim of the student's the tutor corrected, with the correction, for the summary."""
        kept = self.corrections.setdefault(card_id, [])
        if said and correction and all(fix != correction for _, fix in kept):
            kept.append([said, correction])

    def assert_point(self, card_id: str, kp_id: str) -> None:
        done = self.asserted.setdefault(card_id, [])
        if kp_id not in done:
            done.append(kp_id)
        if self.focus.get(card_id) == kp_id:
            del self.focus[card_id]

    def note_turn(self, message: str, card_id: str | None) -> None:
        self.earlier.append([message[:300], card_id])
        del self.earlier[:-40]

    def done_on(self, card: LessonCard) -> bool:
        """Every key point made by the student (or, at the ladder's bottom, supplied)."""
        covered = self.covered_on(card.id) | set(self.asserted.get(card.id, []))
        return all(k.id in covered for k in card.key_points)

    def open_misconceptions(self) -> list[str]:
        return [m for m, s in self.misconceptions.items() if s == "open"]

    def observe(self, misconception_ids: list[str], date_error_ids: list[str]) -> None:
        """What this message shows: the misconceptions and wrong dates it holds are open; an
        open one it no longer holds is resolved."""
        for m_id in self.open_misconceptions():
            if m_id not in misconception_ids:
                self.misconceptions[m_id] = "resolved"
        for e_id, status in list(self.date_errors.items()):
            if status == "open" and e_id not in date_error_ids:
                self.date_errors[e_id] = "resolved"
        for m_id in misconception_ids:
            self.misconceptions[m_id] = "open"
        for e_id in date_error_ids:
            self.date_errors[e_id] = "open"

    def record(self, move_kind: str, card_id: str | None, *, message: str | None = None,
               next_card_id: str | None = None) -> None:
        """The tutor's move this turn, on this card. With the student's ``message`` the turn is
        also kept as the dialogue so far (the card visited, and the card moved on to, if any)."""
        self.turns += 1
        self.moves.append(move_kind)
        self.card_id = card_id
        if message is not None:
            self.note_turn(message, card_id)
            if card_id is not None:
                self.visit(card_id)
        if next_card_id is not None:
            self.card_id = next_card_id
            self.visit(next_card_id)

    def close(self, card_id: str) -> None:
        """The card has been summed up (the student was asked for a judgement)."""
        if card_id not in self.closed:
            self.closed.append(card_id)

    def heard(self, *, opening: str, question: str, quotes: list[str], counter: str | None,
              last: dict[str, Any]) -> None:
        """What the tutor said this turn, so nothing is said twice: opening, question, quotes,
        counter; and ``last``, the move this turn, for reading the student's next message."""
        self.remember("opening", opening)
        self.remember("question", question)
        for quote in quotes:
            self.remember("quote", quote)
        if counter:
            self.remember("counter", counter)
        self.last = last

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "LearnerState":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


_TAKING_IN = re.compile(
    r"^\W*(?:(?:oh+|ah+|ok(?:ay)?|right|i see|fair enough|fine|yeah|yes|hmm+)[\s,.!]+)*(?:so\s+)?"
    r"(?:it|that|this|he|she|they)\s+(?:was|were|is|did)\s+(?:\w+\s+){0,3}(?:who|that|which)\b"
    r"|^\W*(?:(?:oh+|ah+|ok(?:ay)?|right|yeah)[\s,.!]+)+(?:so\s+)?(?:it\s+was|it'?s)\s+\w+\W*$", re.I)


def substantive(message: str) -> bool:
    """The message argues something: not a question, not taking in a correction, more than a name."""
    text = message.strip()
    if text.endswith("?") or _TAKING_IN.search(text):
        return False
    return len(re.findall(r"[A-Za-z']{3,}", text)) >= 3


_SUFFIXES = ("ments", "ment", "ations", "ation", "ings", "ing", "es", "s", "ed")


@lru_cache(maxsize=4096)
def _term_pattern(t: str) -> re.Pattern[str] | None:
    """A whole-word pattern for a short term; for a long single word, its stem with any ending
    ("appointments" also finds "appointed"); None: plain substring search."""
    if len(t) <= 4:
        return re.compile(rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])")
    if " " not in t and len(t) >= 7:
        for suffix in _SUFFIXES:
            if t.endswith(suffix) and len(t) - len(suffix) >= 5:
                return re.compile(rf"(?<![a-z0-9]){re.escape(t[: -len(suffix)])}[a-z]*")
    return None


# How students say what the cards' evidence terms name ("he gave people jobs" is about
# appointments): each wording counts as the term itself.
STUDENT_WORDS: dict[str, tuple[str, ...]] = {
    "appointments": ("jobs", "gave people posts", "picked people", "chose who", "chose people", "appointed",
                     "appoint", "who got which post", "placed people"),
    "too rude": ("rude",),
    # The Testament's list of criticised leaders, as students sum it up.
    "pyatakov": ("criticised everyone", "criticised everybody", "criticised all of them", "criticised them all",
                 "criticised the others", "criticised all the leaders"),
    "administrative": ("admin", "administration"),
    "secretariat": ("his posts", "his job", "his position", "his offices", "his office"),
    "remove": ("removed", "get rid of", "gone", "sacked", "replaced", "replace him"),
    "factionalism": ("factionalist", "faction", "groups"),
    "ban on factions": ("banned groups", "banned factions", "can't have groups", "cannot have groups",
                        "no groups", "stopped groups"),
    "on party unity": ("banned groups", "banned factions", "can't have groups", "stopped groups"),
    "delegates": ("delegate",),
    "mediocrity": ("mediocre",),
}


def _terms_in(text: str, terms: list[str]) -> list[str]:
    low = text.lower()
    found = []
    for term in terms:
        t = term.lower().strip()
        if not t:
            continue
        pattern = _term_pattern(t)
        if (pattern.search(low) if pattern else t in low) or any(
                re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low) for w in STUDENT_WORDS.get(t, ())):
            found.append(term)
    return found


def terms_in(text: str, terms: list[str]) -> list[str]:
    """The terms (case-insensitive; short ones as whole words) that occur in the text."""
    return _terms_in(text, terms)


@lru_cache(maxsize=16384)
def _line_terms(line: str, terms: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.lower() for t in _terms_in(line, list(terms)))


def terms_said(text: str, terms: Iterable[str]) -> set[str]:
    """The terms (lower-cased) found in a text of many lines: what the student has said so far.

    That text grows with the conversation and is checked for every key point several times a
    turn; each line is read once per term list and remembered, so a turn's cost stays flat
    however long the conversation (issue 24, item 11: turn 30 was seven times turn 1)."""
    return set(_text_terms(text, tuple(terms)))


@lru_cache(maxsize=4096)
def _text_terms(text: str, terms: tuple[str, ...]) -> frozenset[str]:
    # The same conversation text is asked about once per key point and check within a turn.
    return frozenset().union(*(_line_terms(line, terms) for line in dict.fromkeys(text.split("\n"))))


class KeyPointMatcher:
    """Decides which key points a message expresses: evidence terms plus embedding similarity.

    Vectors are cached (bounded, least recently used first out) and computed in one batch per
    call, so a key point statement is embedded once per process and a message once per turn.
    """

    MAX_SENTENCES = 40  # a pasted essay is judged on its first 40 sentences
    CACHE_SIZE = 4096

    def __init__(self, embedder=None, kept=None):
        self.embedder = embedder
        # The key-point statements' vectors kept on disk between processes (a KeptVectors, for the
        # offline model): a new process judges its first turn without embedding the card again.
        self.kept = kept
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _vectors(self, texts: list[str], statements: Iterable[str] = ()) -> list[np.ndarray]:
        """Vectors for ``texts``; those among ``statements`` (a card's own texts) come from and go
        to the kept vectors, a student's words never do."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if self.kept is not None:
                fresh = self.kept.embed(self.embedder, missing, set(statements))
            elif len(missing) == 1:
                fresh = [self.embedder.embed_query(missing[0])]  # shares the embedder's query cache
            else:
                fresh = self.embedder.embed_documents(missing)
            with self._lock:
                for text, vector in zip(missing, fresh):
                    self._cache[text] = np.asarray(vector, dtype=np.float32)
                while len(self._cache) > self.CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for t in texts:
                self._cache.move_to_end(t)
                out.append(self._cache[t])
            return out

    def relevance(self, card: LessonCard, text: str) -> dict[str, float]:
        """How close the text is to each key point (0..1), for choosing what to hint at."""
        scores = {}
        for kp in card.key_points:
            terms = len(_terms_in(text, kp.evidence_terms)) / max(1, len(kp.evidence_terms))
            scores[kp.id] = terms
        if self.embedder is not None and text.strip():
            statements = [kp.statement for kp in card.key_points]
            vectors = self._vectors([text[:1000], *statements], statements)
            q = vectors[0]
            for kp, v in zip(card.key_points, vectors[1:]):
                scores[kp.id] += float(q @ v)
        return scores

    def expressed(self, card: LessonCard, message: str) -> set[str]:
        sentences = [s[:600] for s in re.split(r"(?<=[.!?;])\s+|\n+", message) if len(s.split()) >= 3]
        sentences = sentences[: self.MAX_SENTENCES] or [message[:600]]
        found: set[str] = set()
        pending = []
        for kp in card.key_points:
            hits = _terms_in(message, kp.evidence_terms)
            if len(hits) >= 2:
                found.add(kp.id)
            elif self.embedder is not None and len(message.split()) >= 4:
                pending.append((kp, bool(hits)))
        if pending:
            statements = [kp.statement for kp, _ in pending]
            vectors = self._vectors([*sentences, *statements], statements)
            matrix = np.stack(vectors[: len(sentences)])
            for (kp, has_term), v in zip(pending, vectors[len(sentences):]):
                best = float(np.max(matrix @ v))
                if best >= SIMILARITY_ALONE or (has_term and best >= SIMILARITY_WITH_TERM):
                    found.add(kp.id)
        return found
