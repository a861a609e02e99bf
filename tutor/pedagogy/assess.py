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

from tutor.lessons import _YEAR, DateError, KeyPoint, LessonCard, Lessons, Misconception, TimelineEvent, term_regex
from tutor.pedagogy.learner import KeyPointMatcher, terms_in
from tutor.retrieval import tokenize

# Cosine (MiniLM) between a student's sentence and a key point's statement.
# Tuned on the dev split of corpus/eval/dialogues.jsonl (the holdout split is reported apart).
RIGHT_ALONE = 0.50       # the point is made by meaning alone
RIGHT_WITH_TERM = 0.25   # ... or with one of its evidence terms
RIGHT_IN_CONTEXT = 0.40  # question + answer together come this near the point
PARTLY = 0.45            # on the point's ground
NEAREST_MARGIN = 0.04    # points within this of a sentence's nearest one count as made by it
SHORT_ANSWER_WORDS = 7   # a phrase answering a prompt
VERDICTS = ("right", "partly", "wrong", "contradicted")
RESTATES = 0.60   # cosine to a sentence the tutor just quoted: the student read the evidence right
TAKES_UP = 0.50   # cosine to the correction just given: the student has taken it in
_COMMON = frozenset({"stalin", "lenin", "trotski", "trotsky", "parti", "power", "won", "win", "1920s", "leader"})
_LEANS_BACK = re.compile(r"^\W*(before|after) (that|this|then)\b", re.I)
# Another card's point is credited only when the message is plainly about it.
ELSEWHERE_ALONE = 0.60
ELSEWHERE_WITH_TERM = 0.45
_VERB = re.compile(r"\b(is|was|were|are|be|been|had|has|have|did|does|do|could|would|should|can|will|said|"
                   r"thought|got|made|went|took|gave|lost|won|wanted|used|called|helped|led|ran|saw|knew|felt|"
                   r"chose|picked|let|kept|put|set|became|meant|joined|owed|feared|use|want|didn'?t|doesn'?t|wasn'?t|weren'?t|"
                   r"can'?t|won'?t|couldn'?t)\b|\w{3,}(?:ed|ied)\b", re.I)


def _is_sentence(text: str) -> bool:
    """A statement with a verb, not a bare name or term ("general secretary", "bukharin")."""
    return bool(_VERB.search(text))


def _content_terms(terms: list[str]) -> list[str]:
    """Evidence terms that are more than a person's name (a name alone makes no point)."""
    return [t for t in terms if not (t[:1].isupper() and " " not in t and t.isalpha())]


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
    dated: TimelineEvent | None = None  # the event a short answer dates correctly
    elsewhere: tuple[str, str] | None = None  # (card, key point) of another card the message makes

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
            # A half-truth ("Stalin won by luck") is partly right; the correction says what is missing.
            return Assessment("partly" if m.verdict == "partly" else "contradicted", misconception=m,
                              misconception_card=card, correction=m.why_wrong, phrase=short_phrase(text))
        if self.facts is not None:
            # A claim the fact base contradicts is probed like a card's misconception, with the
            # correcting source; where the fact base is silent nothing is flagged.
            # "Before that he was ..." orders against something outside the sentence: not checkable here.
            verdicts = [v for v in self.facts.contradicted(text)
                        if not (v.kind == "wrong_order" and _LEANS_BACK.match(text))]
            for verdict in verdicts[:1]:
                return Assessment("contradicted", misconception=verdict.as_misconception(),
                                  correction=verdict.correct, phrase=short_phrase(text))
        return None

    def dated(self, text: str, context: list[str]) -> Assessment | None:
        """A short answer that gives a year ("ok 1924", "and he got it in 1924?", "and deported in
        1929") judged against the timeline: the event it dates is the one it names, or else the
        one the conversation was just about (the student's last message, the tutor's last reply)."""
        years = [int(y) for y in _YEAR.findall(text)]
        if not years or len(text.split()) > 10:
            return None
        year = years[0]
        fits = lambda events: [e for e in events if e.years[0] <= year <= e.years[1]]
        own = self._events(text)
        if own:  # the timeline check on the message itself has found no error, or it would have spoken
            return Assessment("right", phrase=short_phrase(text), text=text, dated=fits(own)[0]) if fits(own) else None
        # Borrowed from the conversation: the student's last message first, then the tutor's reply.
        # A wrong year is only called wrong when the last message named that one event alone.
        previous, *rest = [*context, ""]
        events = self._events(previous, loose=True)
        for source in [events] if events else [self._events(r, loose=True) for r in rest if r]:
            if fits(source):
                return Assessment("right", phrase=short_phrase(text), text=text, dated=fits(source)[0])
        if len(events) != 1:
            return None
        e = events[0]
        err = DateError(e, year, e.keywords[0], text)
        return Assessment("contradicted", date_error=err, phrase=short_phrase(text), text=text,
                          correction=f"{e.event.rstrip('.')}: {err.correct}, not {year}")

    def _events(self, text: str, loose: bool = False) -> list:
        """Timeline events the text names; ``loose`` also by a keyword's noun without its verb
        ("the general secretary job" names "became General Secretary"), for the conversation's context."""
        low = text.lower()

        def names(k: str) -> bool:
            if term_regex(k).search(low):
                return True
            head, _, rest = k.partition(" ")
            return loose and head.islower() and rest[:1].isupper() and (" " in rest or len(rest) >= 7) \
                and bool(term_regex(rest).search(low))
        return [e for e in self.lessons.timeline if any(names(k) for k in e.keywords)]

    def restates(self, text: str, context: list[str]) -> bool:
        """The answer says what the evidence the tutor just quoted says (a right reading of it)."""
        quoted = [q for c in context[1:] for q in re.findall(r"“([^”]{12,400})”", c)]
        if not quoted or self.matcher.embedder is None or len(text.split()) < 3:
            return False
        vectors = self.matcher._vectors([text[:600], *quoted])
        return max(float(vectors[0] @ v) for v in vectors[1:]) >= RESTATES

    def takes_up(self, text: str, correction: str) -> bool:
        """After a correction, the answer states what the correction says (stem overlap or meaning)."""
        if not correction:
            return False
        mine = set(tokenize(text)) - _COMMON
        if mine & set(tokenize(correction)):
            return True
        if self.matcher.embedder is None:
            return False
        a, b = self.matcher._vectors([text[:600], correction[:600]])
        return float(a @ b) >= TAKES_UP

    def elsewhere(self, text: str, card: LessonCard) -> tuple[LessonCard, KeyPoint] | None:
        """A point of another card that the message makes clearly (a right answer to a question
        the conversation has moved past, or about the topic the student has moved to)."""
        if self.matcher.embedder is None or len(text.split()) < 4:
            return None
        sentences = [s[:600] for s in _SENT.split(text) if s.strip()][:10] or [text[:600]]
        best: tuple[float, LessonCard, KeyPoint] | None = None
        for other in self.lessons.cards:
            if other.id == card.id:
                continue
            vectors = self.matcher._vectors([*sentences, *(kp.statement for kp in other.key_points)])
            a = np.stack(vectors[: len(sentences)])
            b = np.stack(vectors[len(sentences):])
            sims = (a @ b.T).max(axis=0)
            for kp, sim in zip(other.key_points, sims):
                hits = _content_terms(terms_in(text, kp.evidence_terms))
                if sim >= ELSEWHERE_ALONE or (hits and sim >= ELSEWHERE_WITH_TERM):
                    if best is None or sim > best[0]:
                        best = (float(sim), other, kp)
        return (best[1], best[2]) if best else None

    def assess(self, text: str, card: LessonCard, *, target: KeyPoint | None, covered: set[str],
               question: str = "", level: str | None = None, context: list[str] | None = None,
               correction: str = "") -> Assessment:
        """``level`` is the rung of the tutor's last question (a prompt asks for a word or a phrase);
        ``context`` the student's previous message and the tutor's last reply, for short answers."""
        wrong = self.contradiction(text)
        if wrong is None and context is not None:
            wrong = self.dated(text, context)
        if wrong is not None:
            wrong.target = target.id if target else None
            wrong.text = text
            return wrong
        sentences = [s for s in _SENT.split(text) if s.strip()] or [text]
        sentences = [s[:600] for s in sentences[:40]]
        sims, in_context, question_only = self._similarities(sentences, card, question, text)
        words = len(text.split())
        asked = question.lower()
        sentence = _is_sentence(text)
        # An answer made only of the question's own words ("paperwork" to "... top post, or
        # paperwork?") picks an option; it does not yet make the point.
        own_words = bool(set(tokenize(text)) - set(tokenize(question))) if question else True
        points: set[str] = set()
        # By meaning alone a sentence makes the point it comes nearest to (and any within a whisker
        # of it), not every point whose statement shares its names ("Zinoviev and Kamenev ...").
        nearest = sims >= sims.max(axis=1, keepdims=True) - NEAREST_MARGIN if sims.size else sims > 0
        context_nearest = in_context >= (in_context.max() if len(in_context) else 0.0) - NEAREST_MARGIN
        for n, kp in enumerate(card.key_points):
            hits = terms_in(text, kp.evidence_terms)
            fresh = [t for t in hits if t.lower() not in asked]
            best = float(sims[:, n].max())
            alone = float((sims[:, n] * nearest[:, n]).max())
            # Read as an answer to the question: does question + answer come near the point, and
            # nearer than the question alone?
            # ... for the point the question was after, or the one question + answer comes nearest.
            answered = in_context[n] >= RIGHT_IN_CONTEXT and in_context[n] >= question_only[n] and own_words \
                and (bool(context_nearest[n]) or (target is not None and kp.id == target.id))
            # Naming a person or a term is not making a point: a bare phrase counts only as the
            # answer to a prompt (a question whose answer is a word or a phrase).
            # (A checked phrase, "bonaparte ye?", is judged as the student's answer to the question.)
            named_only = not sentence and not text.rstrip().endswith("?") and level not in ("prompt", "bottom_out") \
                and target is not None and kp.id != target.id
            if named_only:
                continue
            if len(hits) >= 2 or alone >= RIGHT_ALONE or (hits and best >= RIGHT_WITH_TERM) \
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
        other = None
        if points:
            verdict = "right"
        else:
            other = self.elsewhere(text, card)
            if other is not None or self.takes_up(text, correction) or self.restates(text, context or []):
                verdict = "right"
            elif any(terms_in(text, k.evidence_terms) for k in card.key_points) or float(sims.max()) >= PARTLY \
                    or not own_words:
                verdict = "partly"
            else:
                verdict = "wrong"
        return Assessment(verdict, target=target.id if target else None, points=points, terms=terms,
                          similarity=similarity, best=focus_kp.id, phrase=short_phrase(phrase_sent), text=text,
                          elsewhere=(other[0].id, other[1].id) if other else None)

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
