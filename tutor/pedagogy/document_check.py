"""A student's dated claim checked against the sentences of the one document being taught (issue 23).

A teacher's handout covers what the course's fact base and timeline do not, so its claims are
checked against the handout itself, where a check can decide: the student's sentence gives one
year, the closest dated sentence of the handout is about the same event (it shares the event's
words, and the embedding model ranks it first), and the year the handout binds to those words
(the year nearest to them in its sentence) differs — "the general strike was 1927" against "The
British General Strike began on 3 May 1926 …". Where the years agree the claim is only
``agrees`` (a confirmation still needs the key-point bar); everything else is undecided.

>>> check = DocumentCheck(answerer)                                      # doctest: +SKIP
>>> check.check("he was shot in 1928", frozenset({"sultan-galiev"})).verdict  # doctest: +SKIP
'wrong'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tutor.retrieval import tokenize
from tutor.store import Passage

_YEAR = re.compile(r"^1[89]\d\d$")
# Words that name no event: every sentence of the period holds them.
_GENERIC = frozenset({"stalin", "lenin", "parti", "party", "soviet", "power", "year", "time", "later", "then", "also",
                      "right", "realli", "actual", "know", "think", "said", "say", "like", "just", "main", "thing"})
MIN_SIMILARITY = 0.35   # below this the closest dated sentence is about something else
MAX_GAP = 12            # a year further than this many words from the event's words is not its date
CLAIM_GAP = 7           # in the student's own sentence the year must sit by the event it dates
_CLAUSE_BREAK = frozenset({"and", "but", "because", "so", "which", "while", "when", "whereas", "though", "cos", "bc"})
_RELATIVE = frozenset({"after", "before", "since", "until", "till", "following", "by", "but", "than"})


@dataclass
class DocumentVerdict:
    verdict: str              # wrong | agrees | open
    sentence: str = ""        # the document's sentence that decides it
    passage: Passage | None = None


def _event_words(tokens: list[str]) -> set[str]:
    return {t for t in tokens if not _YEAR.match(t) and t not in _GENERIC and len(t) >= 4}


def _words(text: str) -> list[tuple[str, set[str]]]:
    """The text's words in order, each with its index terms (stop words kept as places: distance
    between a year and a verb is counted in the sentence's own words)."""
    return [(w.lower(), set(tokenize(w))) for w in re.findall(r"[\w'-]+", text)]


def _clause_terms(claim: str, year: str) -> set[str]:
    """The index terms of the clause the year stands in, at most CLAIM_GAP words either side."""
    seq = _words(claim)
    at = next(i for i, (w, _) in enumerate(seq) if w == year)
    start, end = at, at
    while start > 0 and at - start < CLAIM_GAP and seq[start - 1][0] not in _CLAUSE_BREAK:
        start -= 1
    while end + 1 < len(seq) and end - at < CLAIM_GAP and seq[end + 1][0] not in _CLAUSE_BREAK:
        end += 1
    return {t for _, terms in seq[start:end + 1] for t in terms}


def _bound_year(text: str, words: set[str], limit: int = MAX_GAP) -> str | None:
    """The year nearest to the event's words in ``text`` (None when none is near, or a word like
    "after" stands between them: "in 1924 but that's after the arrest" does not date the arrest)."""
    seq = _words(text)
    years = [i for i, (w, _) in enumerate(seq) if _YEAR.match(w)]
    spots = [i for i, (_, terms) in enumerate(seq) if terms & words]
    pairs = sorted((abs(i - j), -j, j, i) for i in spots for j in years)
    for gap, _, j, i in pairs:
        if gap > limit:
            return None
        between = {w for w, _ in seq[min(i, j):max(i, j)]}
        if not between & _RELATIVE:
            return seq[j][0]
    return None


class DocumentCheck:
    """Checks a claim's year against the closest dated sentence of the given documents."""

    def __init__(self, answerer):
        self.answerer = answerer

    def check(self, claim: str, docs: frozenset[str]) -> DocumentVerdict:
        mine = tokenize(claim)
        years = {t for t in mine if _YEAR.match(t)}
        words = _event_words(mine)
        if len(years) != 1 or not words:
            return DocumentVerdict("open")  # "1923 not 1925": a self-correction, no single date to check
        year = years.pop()
        if _bound_year(claim, words, CLAIM_GAP) != year:
            return DocumentVerdict("open")  # the year dates something else in the sentence, or nothing
        # The event the year dates: the student's words beside it ("the general strike in britain was
        # 1927", not "… because of the miners" further on).
        words = words & _clause_terms(claim, year)
        if not words:
            return DocumentVerdict("open")
        pool = [(p, s) for p, s in self.answerer.candidates(claim, [], docs)
                if any(_YEAR.match(t) for t in tokenize(s)) and words & set(tokenize(s))]
        if not pool:
            return DocumentVerdict("open")
        vecs = self.answerer._embed([claim[:600]] + [s for _, s in pool])
        if vecs is None:
            return DocumentVerdict("open")
        dense = vecs[1:] @ vecs[0]
        overlap = np.array([len(words & set(tokenize(s))) / len(words) for _, s in pool])
        best = int(np.argmax(dense + 0.3 * overlap))
        passage, sentence = pool[best]
        if float(dense[best]) < MIN_SIMILARITY:
            return DocumentVerdict("open", sentence, passage)
        bound = _bound_year(sentence, words)
        if bound is None:
            return DocumentVerdict("open", sentence, passage)
        if bound == year:
            return DocumentVerdict("agrees", sentence, passage)
        # Precision first: the student's year in any sentence on the same event, unless another year
        # is plainly that event's ("arrested again in 1928 and was shot in 1940" for "shot in 1928"),
        # means the claim may be about that occasion ("set up … in 1925" ranked below a 1927 sentence).
        for _, s in pool:
            shared = len(words & set(tokenize(s)))
            if year in s and shared * 2 >= len(words) and _bound_year(s, words) in (year, None):
                return DocumentVerdict("open", sentence, passage)
        return DocumentVerdict("wrong", sentence, passage)
