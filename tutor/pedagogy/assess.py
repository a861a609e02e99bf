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
from tutor.pedagogy.close_match import RIGHT_CLOSE, close_score, disagreement
from tutor.pedagogy.learner import KeyPointMatcher, terms_in
from tutor.retrieval import tokenize

# A point is made only by a close match (tutor.pedagogy.close_match.RIGHT_CLOSE, calibrated on
# corpus/eval/keypoint_matches.jsonl); a reply of up to twice this many words is read with its question.
SHORT_ANSWER_WORDS = 7
# A short reply read with the tutor's question: it must bring one of the point's own evidence terms
# (a curated check) that the question lacks, and question + reply must come this near the point.
IN_CONTEXT_WITH_TERM = 0.60
# A sentence with two of a point's own evidence terms (a curated check: "446,000", "swamped") and no
# disagreement may come this near the statement instead (measured by tutor eval keypoints).
RIGHT_WITH_TERMS = 0.55
VERDICTS = ("right", "partly", "open", "contradicted")
# Close matches only (issue 22): the same bar as a key point, with no disagreement.
RESTATES = RIGHT_CLOSE  # cosine to a sentence the tutor just quoted: the student read the evidence right
TAKES_UP = RIGHT_CLOSE  # cosine to the correction just given: the student has taken it in
_LEANS_BACK = re.compile(r"^\W*(before|after) (that|this|then)\b", re.I)
# Another card's point: a sentence is compared with every card's points, not one card's five, so a
# near-miss comes close to one of them more often and the bar is higher.
ELSEWHERE_ALONE = RIGHT_CLOSE + 0.06
def _content_terms(terms: list[str]) -> list[str]:
    """Evidence terms that are more than a person's name (a name alone makes no point)."""
    return [t for t in terms if not (t[:1].isupper() and " " not in t and t.isalpha())]


@dataclass
class Assessment:
    verdict: str                       # right | partly | open (no verdict) | contradicted
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
    right_phrase: str = ""             # partly: the sentence that is right beside the one corrected
    made_by: str = ""                  # the whole sentence that makes the point(s), for the summary

    @property
    def label(self) -> str | None:
        """right | partly | wrong: the polarity of the feedback; None when no check decides."""
        return None if self.verdict == "open" else "wrong" if self.verdict == "contradicted" else self.verdict

    def as_dict(self) -> dict:
        return {"verdict": self.verdict, "target": self.target, "points": sorted(self.points),
                "terms": self.terms, "similarity": round(self.similarity, 3), "best": self.best,
                "misconception": self.misconception.id if self.misconception else None,
                "date_event": self.date_error.event.id if self.date_error else None, "correction": self.correction}


_SENT = re.compile(r"(?<=[.!?;])\s+|\n+|,\s+(?:and|but|so)\s+")
# Sentences, as a reader splits them: the unit each claim is judged in (", so ..." stays with its reason).
SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_QUESTION_START = re.compile(r"^\W*(?:(?:so|and|but|ok(?:ay)?|oh|wait|then|hmm+|um+)[\s,]+)*(?:who|what|when|where|why|how|"
                             r"which|whose|whom|did|was|were|is|are|does|do|could|would|should|can|has|had|have|"
                             r"isn'?t|wasn'?t|didn'?t|doesn'?t|weren'?t)\b", re.I)
_TAG = re.compile(r"[\s,]*\b(?:right|correct|true|yeah|yes|innit|no|is that (?:right|correct|true|it)|isn'?t it|"
                  r"wasn'?t it|didn'?t he|wasn'?t he|am i right|yes or no)\W*$", re.I)


def asks_only(text: str) -> bool:
    """Every sentence of the message is a question: nothing in it is claimed."""
    parts = [s for s in SENTENCES.split(text) if s and s.strip()]
    return bool(parts) and all(_asks(s) for s in parts)


def _asks(sentence: str) -> bool:
    """A question, not a claim ("was it when Stalin ran the army?"); a statement with a tag
    ("he was general secretary, right?") is a claim to check."""
    return bool(_QUESTION_START.match(_TAG.sub("", sentence.strip())))


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

    def contradiction(self, text: str, *, asked: bool = False) -> Assessment | None:
        """A claim the timeline, a card's misconception or the fact base decides is wrong. In a
        question (``asked``) only what it takes for granted is checked, against the timeline and the
        cards ("why did trotsky call stalin a grey blur?"); the fact base reads claims, and a
        question's year is often what it asks about ("why was the Testament not acted on in 1924?")."""
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
        if self.facts is not None and not asked:
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
        return any(close_score(float(vectors[0] @ v), text, q) >= RESTATES for q, v in zip(quoted, vectors[1:]))

    def takes_up(self, text: str, correction: str) -> bool:
        """After a correction, the answer states what the correction says (stem overlap or meaning)."""
        if not correction or self.matcher.embedder is None:
            return False
        a, b = self.matcher._vectors([text[:600], correction[:600]])
        return close_score(float(a @ b), text, correction) >= TAKES_UP

    def elsewhere(self, sentences: list[str], card: LessonCard) -> tuple[LessonCard, KeyPoint, str] | None:
        """A point of another card that a sentence makes closely (a right answer to a question
        the conversation has moved past, or about the topic the student has moved to), with it."""
        sentences = [s[:600] for s in sentences if len(s.split()) >= 4][:10]
        if self.matcher.embedder is None or not sentences:
            return None
        best: tuple[float, LessonCard, KeyPoint, str] | None = None
        for other in self.lessons.cards:
            if other.id == card.id:
                continue
            vectors = self.matcher._vectors([*sentences, *(kp.statement for kp in other.key_points)])
            sims = np.stack(vectors[: len(sentences)]) @ np.stack(vectors[len(sentences):]).T
            for (i, n) in zip(*np.nonzero(sims >= ELSEWHERE_ALONE)):
                kp, sentence = other.key_points[n], sentences[i]
                score = close_score(float(sims[i, n]), sentence, kp.statement)
                if score >= ELSEWHERE_ALONE and (best is None or score > best[0]):
                    best = (score, other, kp, sentence)
        return best[1:] if best else None

    def assess(self, text: str, card: LessonCard, *, target: KeyPoint | None, covered: set[str],
               question: str = "", level: str | None = None, context: list[str] | None = None,
               correction: str = "") -> Assessment:
        """Each sentence judged on its own (issue 22, precision first): "contradicted" only where the
        timeline, a card's misconception or the fact base decides it; "right" only where a sentence
        makes one of the card's points closely (close_match.RIGHT_CLOSE, no disagreement with the
        statement); a right and a contradicted sentence together are "partly", the correction
        first; everything else "open" (no verdict: the student tests the claim against a source).
        A question in the message is not a claim. ``level`` is the rung of the tutor's last
        question; ``context`` the student's previous message and the tutor's last reply."""
        sentences = [s.strip() for s in SENTENCES.split(text) if s and s.strip()] or [text]
        sentences = [s[:600] for s in sentences[:40]]
        claims = [s for s in sentences if not _asks(s)] or ([] if _asks(text) else sentences)
        wrong, wrong_sentence = None, ""
        for s in claims:
            wrong = self.contradiction(s)
            if wrong is not None:
                wrong_sentence = s
                break
        if wrong is None and claims and len(claims) > 1:
            wrong = self.contradiction(" ".join(claims))  # a misconception spread over two sentences
        if wrong is None and context is not None:
            wrong = self.dated(text, context)
        rest = [s for s in claims if s != wrong_sentence] if wrong is not None else claims
        points, best, phrase, score = self._close(rest, card, question, text, target, level)
        terms = terms_in(text, card.key_point(best).evidence_terms) if best else []
        if wrong is not None:
            wrong.target = target.id if target else None
            wrong.text = text
            other = self.elsewhere(rest, card) if not points and rest and wrong.verdict == "contradicted" else None
            if other is not None:  # the right sentence makes another card's point
                points, best, phrase = set(), None, other[2]
                wrong.elsewhere = (other[0].id, other[1].id)
            if (points or other is not None) and wrong.verdict == "contradicted":
                # One sentence right, another wrong: partly, and the wrong one is corrected first.
                wrong.verdict, wrong.points, wrong.best, wrong.right_phrase = "partly", points, best, phrase
                wrong.made_by = phrase
            return wrong
        other = None
        if points:
            verdict = "right"
        else:
            other = self.elsewhere(rest, card) if rest else None
            # Re-judging the last claim ("is that right?"): the quote shown for it is no evidence for it.
            again = bool(context) and text.strip() == (context[0] or "").strip()
            taken = not again and (self.takes_up(" ".join(rest), correction) or self.restates(" ".join(rest), context or []))
            verdict = "right" if (other is not None or (rest and taken)) else "open"
            phrase = other[2] if other is not None else phrase
        return Assessment(verdict, target=target.id if target else None, points=points, terms=terms,
                          similarity=score, best=best or (target.id if target else None),
                          phrase=short_phrase(phrase or (rest[0] if rest else text)), text=text, made_by=phrase,
                          elsewhere=(other[0].id, other[1].id) if other else None)

    def _close(self, sentences: list[str], card: LessonCard, question: str, text: str, target: KeyPoint | None,
               level: str | None) -> tuple[set[str], str | None, str, float]:
        """The card's points that a sentence makes closely, the best of them, the sentence that
        makes it and its score. A short reply to the tutor's question is read with the question
        ("the general secretary" to "Which office ...?"), but only its own words may disagree."""
        if not sentences or self.matcher.embedder is None:
            return set(), None, "", 0.0
        sims, in_context, question_only = self._similarities(sentences, card, question, text)
        short = question and len(text.split()) <= SHORT_ANSWER_WORDS * 2 and len(sentences) == 1
        own_words = bool(set(tokenize(text)) - set(tokenize(question))) if question else True
        points: set[str] = set()
        best: tuple[float, str | None, str] = (0.0, None, "")
        for n, kp in enumerate(card.key_points):
            for i, s in enumerate(sentences):
                score = close_score(float(sims[i, n]), s, kp.statement)
                if RIGHT_WITH_TERMS <= score < RIGHT_CLOSE and len(set(_content_terms(terms_in(s, kp.evidence_terms)))) >= 2:
                    score = RIGHT_CLOSE
                # A prompt asks for a word or a phrase: the point's own term that it lacks is the answer.
                bar = question_only[n] if level in ("prompt", "bottom_out") else max(question_only[n], IN_CONTEXT_WITH_TERM)
                if short and own_words and in_context[n] >= bar:
                    # Read with its question; the answer must bring a term of the point the question lacks.
                    fresh = [t for t in _content_terms(terms_in(text, kp.evidence_terms))
                             if t.lower() not in question.lower()]
                    if fresh and not disagreement(s, kp.statement):
                        score = max(score, RIGHT_CLOSE)
                if score >= RIGHT_CLOSE:
                    points.add(kp.id)
                if score > best[0]:
                    best = (score, kp.id, s)
        if target is not None and target.id in points:
            best = (best[0], target.id, best[2])
        return points, best[1] if points else None, best[2] if points else "", best[0]

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
