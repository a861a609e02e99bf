"""Feedback first: how well a student's answer meets the point the tutor's question was after.

>>> a = assessor.assess("he appointed the local secretaries", card, target=kp, covered=set())  # doctest: +SKIP
>>> a.verdict, a.label                                                                       # doctest: +SKIP
('right', 'right')

Four verdicts, as a human tutor gives them: **right** (the answer makes the targeted point, or
another of the card's points), **partly** (on the point's ground, by meaning or by one of its
evidence terms, without making it), **wrong** (not what the sources point to), and
**contradicted** (a misconception of the cards, a date the timeline gives differently, or a
claim the fact checker finds contradicted). Meaning is judged with the embedding model against
each key point's statement; a short answer to a prompt counts when it supplies an evidence term
the question did not contain ("general secretary" to "Which office ... ?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tutor.lessons import DateError, KeyPoint, LessonCard, Lessons, Misconception
from tutor.pedagogy.learner import KeyPointMatcher, terms_in

# Cosine (MiniLM) between a student's sentence and a key point's statement.
# Tuned on the dev split of corpus/eval/dialogues.jsonl (the holdout split is reported apart).
RIGHT_ALONE = 0.50       # the point is made by meaning alone
RIGHT_WITH_TERM = 0.25   # ... or with one of its evidence terms
RIGHT_IN_CONTEXT = 0.40  # question + answer together come this near the point
PARTLY = 0.45            # on the point's ground
# By meaning, a sentence makes the points it comes nearest, not every point within reach: on a
# card whose points share one narrow topic (a teacher's card on one event) every point is near.
NEAREST_MARGIN = 0.12
SHORT_ANSWER_WORDS = 7   # a phrase answering a prompt
VERDICTS = ("right", "partly", "wrong", "contradicted")


@dataclass
class Assessment:
    verdict: str                       # right | partly | wrong | contradicted
    target: str | None = None          # the key point judged against first
    points: set[str] = field(default_factory=set)   # key points the message makes
    new_points: list[str] = field(default_factory=list)  # ... that it makes for the first time
    terms: list[str] = field(default_factory=list)  # evidence terms of the target (or best point) it uses
    similarity: float = 0.0
    best: str | None = None            # the key point the message comes closest to
    misconception: Misconception | None = None
    misconception_card: LessonCard | None = None
    date_error: DateError | None = None
    correction: str = ""               # what the sources say instead (contradicted)
    phrase: str = ""                   # the student's words that carry the point
    text: str = ""                     # the text judged

    @property
    def label(self) -> str:
        """right | partly | wrong: the polarity of the feedback."""
        return "wrong" if self.verdict == "contradicted" else self.verdict

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "target": self.target, "points": sorted(self.points),
                "terms": self.terms, "similarity": round(self.similarity, 3), "best": self.best,
                "misconception": self.misconception.id if self.misconception else None,
                "date_event": self.date_error.event.id if self.date_error else None, "correction": self.correction}


_SENT = re.compile(r"(?<=[.!?;])\s+|\n+|,\s+(?:and|but|so)\s+")


_MARKUP = re.compile(r"<[^>]*>|[<>*_`\[\]#|\\]|https?://\S+")


def short_phrase(text: str, limit: int = 14) -> str:
    """The student's words, trimmed to a quotable length (no trailing punctuation), with any
    markup removed: a reply echoes what the student said, never their HTML or Markdown."""
    words = _MARKUP.sub(" ", text).strip().strip("\"'“”‘’").split()
    out = " ".join(words[:limit]).rstrip(" .,;:!?")
    return out + ("…" if len(words) > limit else "")


class Assessor:
    """Judges answers against key points. One per process; the matcher caches vectors."""

    def __init__(self, matcher: KeyPointMatcher, lessons: Lessons, facts=None):
        self.matcher = matcher
        self.lessons = lessons
        self.facts = facts  # tutor.facts.FactChecker when available: check(text) -> verdicts

    def contradiction(self, text: str) -> Assessment | None:
        dates = self.lessons.date_errors(text)
        if dates:  # a wrong date first: the timeline gives the right one outright
            e = dates[0]
            event = e.event.event.rstrip(".")
            return Assessment("contradicted", date_error=e, phrase=short_phrase(e.sentence),
                              correction=f"{event}: {e.correct}, not {e.stated_year}")
        found = self.lessons.misconceptions_in(text)
        if found:
            card, m = found[0]
            return Assessment("contradicted", misconception=m, misconception_card=card,
                              correction=m.why_wrong, phrase=short_phrase(text))
        if self.facts is not None:
            # A claim the fact base contradicts is probed like a card's misconception, with the
            # correcting source; where the fact base is silent nothing is flagged.
            for verdict in self.facts.contradicted(text)[:1]:
                return Assessment("contradicted", misconception=verdict.as_misconception(),
                                  correction=verdict.correct, phrase=short_phrase(text))
        return None

    def assess(self, text: str, card: LessonCard, *, target: KeyPoint | None, covered: set[str],
               question: str = "") -> Assessment:
        wrong = self.contradiction(text)
        if wrong is not None:
            wrong.target = target.id if target else None
            wrong.text = text
            return wrong
        sentences = [s for s in _SENT.split(text) if s.strip()] or [text]
        sentences = [s[:600] for s in sentences[:40]]
        sims, in_context, question_only = self._similarities(sentences, card, question, text)
        words = len(text.split())
        asked = question.lower()
        points: set[str] = set()
        nearest = sims >= sims.max(axis=1, keepdims=True) - NEAREST_MARGIN if sims.size else sims > 0
        for n, kp in enumerate(card.key_points):
            hits = terms_in(text, kp.evidence_terms)
            fresh = [t for t in hits if t.lower() not in asked]
            best = float(sims[:, n].max())
            alone = bool((sims[:, n] >= RIGHT_ALONE)[nearest[:, n]].any())
            # Read as an answer to the question: does question + answer come near the point, and
            # nearer than the question alone?
            answered = in_context[n] >= RIGHT_IN_CONTEXT and in_context[n] >= question_only[n] \
                and in_context[n] >= in_context.max() - NEAREST_MARGIN
            is_target = target is None or kp.id == target.id
            if len(hits) >= 2 or alone or (hits and best >= RIGHT_WITH_TERM) \
                    or (fresh and words <= SHORT_ANSWER_WORDS) or (question and answered):
                points.add(kp.id)
        col = {kp.id: n for n, kp in enumerate(card.key_points)}
        best_kp = max(card.key_points, key=lambda k: float(sims[:, col[k.id]].max())
                      + (0.05 if target is not None and k.id == target.id else 0.0))
        focus_kp = target if target is not None and (target.id in points or not points) else None
        if focus_kp is None:
            focus_kp = next((k for k in card.key_points if k.id in points), best_kp)
        f = col[focus_kp.id]
        phrase_sent = sentences[int(np.argmax(sims[:, f]))]
        terms = terms_in(text, focus_kp.evidence_terms)
        similarity = float(sims[:, f].max())
        if points:
            verdict = "right"
        elif any(terms_in(text, k.evidence_terms) for k in card.key_points) or float(sims.max()) >= PARTLY:
            verdict = "partly"
        else:
            verdict = "wrong"
        return Assessment(verdict, target=target.id if target else None, points=points, terms=terms,
                          similarity=similarity, best=focus_kp.id, phrase=short_phrase(phrase_sent), text=text)

    def _similarities(self, sentences: list[str], card: LessonCard, question: str,
                      text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cosines of each sentence, of question + answer, and of the question alone, with each
        key point's statement (zeros without an embedder)."""
        n = len(card.key_points)
        if self.matcher.embedder is None:
            return np.zeros((len(sentences), n), dtype=np.float32), np.zeros(n), np.zeros(n)
        extra = [f"{question} {text}"[:1000], question or "."]
        vectors = self.matcher._vectors([*sentences, *extra, *(kp.statement for kp in card.key_points)])
        a = np.stack(vectors[: len(sentences)])
        qa, q = vectors[len(sentences)], vectors[len(sentences) + 1]
        b = np.stack(vectors[len(sentences) + 2:])
        return a @ b.T, b @ qa, b @ q
