"""The essay coach's fact findings: the claim checker (tutor/facts.py) read paragraph by paragraph.

Example::

    checker = EssayFacts(lessons)
    [f.kind for f in checker.check("Trotsky called Stalin a grey blur.")]
    # → ['misattribution']

This module only adapts: ``tutor.facts.FactChecker`` decides what is true (who said or wrote
what, offices, alliances, factions, dated events and their order, with the source of each fact),
and this turns its contradicted verdicts into ``Finding`` rows for the essay's accuracy issues,
each quoting the student's sentence. Two older checks stay because essays need them: the cards'
misconceptions whose triggers are about a fact, and a stricter reading of timeline dates. Inside
an essay a sentence carries many dates and events, so a timeline date error is kept only when the
year plainly belongs to the event's phrase: "made General Secretary in 1924" is checked, while
"at the 13th Congress in May 1924 the Testament was read" is not an error about when the
Testament was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from tutor.facts import FactChecker, Verdict
from tutor.lessons import DateError, LessonError, Lessons, Misconception
from tutor.pedagogy.checks import Check
from tutor.retrieval import tokenize

_YEAR = re.compile(r"\b1[89]\d\d\b")
_CLAUSE_BREAK = re.compile(r"[,;:()—–]|\b(?:and|but|which|who|when|while|where|after|before|until)\b", re.I)
# Words between an event's phrase and a year that still tie the year to that event.
_TIE = re.compile(r"^\s*(?:(?:(?:was|were|had been) \w+ed|was written|was held|was read|was sent|was given|"
                  r"was made|was set up|was drawn up|was begun|was won|was lost|was)\s+)?"
                  r"(?:(?:in|on|of|from|during|by|at|the|early|late|end|"
                  r"spring|summer|autumn|winter|january|february|march|april|may|june|july|august|september|"
                  r"october|november|december|\d{1,2}(?:st|nd|rd|th)?|the|ussr|soviet|union|country|party|"
                  r"to|turkey|abroad)\s+)*$", re.I)
_ATTRIBUTION = re.compile(
    r"\b(?:phrase|remark|words?|quotation|quote|coined|comes? from|own claim|argue the opposite|not by \w+"
    r"|it was \w+ who (?:stressed|said|wrote|argued|called|coined|proposed|made|drafted)"
    r"|was (?:\w+'s|\w+’s) (?:idea|theory|resolution|phrase|remark|slogan|claim)"
    r"|is (?:\w+'s|\w+’s) (?:idea|theory|phrase|remark|slogan)|(?:idea|theory) was (?:\w+'s|\w+’s))", re.I)
# A trigger that lists wrong years ("(1922|1923|1925)", "192\d") is about a date.
_YEAR_TRIGGER = re.compile(r"19\d\d\|(?:in )?19\d\d|19\(?2\\d|192\\d")
_MONTH_YEAR = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                         r"December) 1[89]\d\d\b")


# The claim checker's kinds as the essay coach's issue kinds.
_KIND = {"misattribution": "misattribution", "wrong_date": "wrong_date", "wrong_office": "wrong_fact",
         "wrong_alliance": "wrong_fact", "wrong_faction": "wrong_fact", "wrong_order": "wrong_date",
         "false_claim": "wrong_fact"}


@dataclass(frozen=True)
class Finding:
    """One factual problem in a paragraph: kind is wrong_date, misattribution or wrong_fact."""

    kind: str
    paragraph: int
    message: str
    correct: str = ""
    source_id: str = ""  # timeline event, misconception or fact id
    doc: str = ""  # a corpus document that has the correct fact
    quote: str = ""  # the student's words that the check matched
    sentence: str = ""  # the student's whole sentence, quoted in the issue
    passage: str = ""  # the sentence of ``doc`` that supports the correct fact
    probe: str = ""  # a question sending the student to the source

    @classmethod
    def of(cls, v: Verdict, n: int) -> "Finding":
        return cls(_KIND.get(v.kind, "wrong_fact"), n, v.correct, v.correct, v.fact_id, v.doc, v.sentence,
                   v.sentence, v.passage, v.probe)


def default_checker(lessons: Lessons) -> FactChecker:
    """The claim checker over the configured corpus's fact base (the shipped one if it has none)."""
    from tutor.settings import DEFAULT_CORPUS, get_settings

    for corpus in dict.fromkeys([get_settings().corpus_dir, DEFAULT_CORPUS]):
        try:
            return _checker(corpus, lessons if corpus != DEFAULT_CORPUS else None)
        except LessonError:
            continue
    return _checker(DEFAULT_CORPUS, None)


def supported_errors(checker: FactChecker, errors: list[str], sentences: list[str]) -> list[tuple[str, str]]:
    """(words, fact) for each error a model listed whose sentence (the one of ``sentences`` that
    best holds the words) the fact base supports and nowhere contradicts: precision first, a
    true sentence is never called an error."""
    out = []
    for words in errors:
        if not words.strip() or not sentences:
            continue
        sentence = max(sentences, key=lambda s: fuzz.partial_ratio(words.lower(), s.lower()))
        verdicts = checker.check(sentence)
        # Support for another part of a long sentence says nothing of the error: "replaced by Kamenev"
        # was refused for the 13th Party Conference's date earlier in the same sentence (relay trial 42).
        bearing = [v for v in verdicts if len(set(tokenize(words)) & set(tokenize(v.correct))) >= 2]
        if bearing and all(v.status == "supported" for v in verdicts):
            out.append((words, bearing[0].correct))
    return out


def supported_check(checker: FactChecker, errors: list[str], sentences: list[str]) -> Check:
    """The reading check: no error listed that the fact base supports."""
    supported = supported_errors(checker, errors, sentences)
    return Check("errors_not_supported", not supported,
                 "the fact base supports what was listed as an error: " + "; ".join(
                     f"“{words}” ({fact})" for words, fact in supported[:2]) if supported else "")


_CHECKERS: dict[str, FactChecker] = {}


def _checker(corpus, lessons: Lessons | None) -> FactChecker:
    key = str(corpus)
    if key not in _CHECKERS:
        _CHECKERS[key] = FactChecker.load(corpus, lessons=lessons)
    return _CHECKERS[key]


def trigger_kind(m: Misconception, trigger: str) -> str | None:
    """wrong_date, misattribution, or None (a misconception about interpretation, not fact)."""
    if _YEAR_TRIGGER.search(trigger) or (_YEAR.search(trigger) and _MONTH_YEAR.search(m.why_wrong)):
        return "wrong_date"
    if _ATTRIBUTION.search(m.why_wrong):
        return "misattribution"
    return None


def misconception_kind(m: Misconception) -> str | None:
    """The fact kind of a misconception (its first trigger that has one)."""
    return next((k for k in (trigger_kind(m, t) for t in m.triggers) if k), None)


class EssayFacts:
    """Checks each paragraph of an essay: the claim checker, the cards' fact misconceptions and
    the timeline's dates."""

    def __init__(self, lessons: Lessons, claims: FactChecker | None = None):
        self.lessons = lessons
        self.claims = claims or default_checker(lessons)
        self._phrases = [(e, [k.lower() for k in e.keywords]) for e in lessons.timeline]

    def check(self, paragraph: str, n: int = 1) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[str] = set()
        for card, m in self.lessons.misconceptions_in(paragraph):
            matched = [t for t, p in zip(m.triggers, m.patterns) if p.search(paragraph)]
            kind = next((k for k in (trigger_kind(m, t) for t in matched) if k), None)
            if kind is None or m.id in seen:
                continue
            seen.add(m.id)
            span = next(p.search(paragraph) for t, p in zip(m.triggers, m.patterns) if t in matched).group(0)
            sentence = next((s for s in _sentences(paragraph) if span in s), span)
            findings.append(Finding(kind, n, _first_sentence(m.why_wrong), m.why_wrong, m.id, m.correct_doc, span,
                                    sentence, "", m.probe))
        for v in self.claims.contradicted(paragraph):
            # Timeline dates inside an essay go through the stricter reading below.
            if v.fact_id.startswith("timeline.") and v.kind == "wrong_date":
                continue
            finding = Finding.of(v, n)
            if any(f.kind == finding.kind and (f.sentence == finding.sentence or f.quote in finding.sentence)
                   for f in findings):
                continue
            findings.append(finding)
        for err in self.lessons.date_errors(paragraph):
            if not self._year_belongs(err):
                continue
            # The same slip already explained by a card's misconception is not reported twice.
            if any(f.kind == "wrong_date" and (f.quote.lower() in err.sentence.lower()
                                               or f.doc in err.event.docs) for f in findings):
                continue
            if any(f.sentence == err.sentence.strip() and f.kind == "wrong_date" for f in findings):
                continue
            event = err.event.event.rstrip(".")
            findings.append(Finding(
                "wrong_date", n, f"The course timeline dates “{event}” to {err.correct}, not {err.stated_year}.",
                err.correct, err.event.id, err.event.docs[0] if err.event.docs else "", err.sentence,
                err.sentence.strip()))
        return findings

    def _year_belongs(self, err: DateError) -> bool:
        """True when the stated year sits in the event's own phrase, not in a neighbouring one."""
        sentence = err.sentence
        low = sentence.lower()
        key = err.keyword.lower()
        year = str(err.stated_year)
        for k_at in _finditer(low, key):
            k_end = k_at + len(key)
            for y_at in _finditer(low, year):
                if y_at >= k_end:
                    between = low[k_end:y_at]
                    if len(between.split()) <= 5 and not _CLAUSE_BREAK.search(between) \
                            and _TIE.match(between) and not self._other_event_in(between, err):
                        return True
                else:
                    # "In 1924 Stalin was made General Secretary": the year opens the clause and
                    # the phrase follows closely, with no other event named in between.
                    between = low[y_at + 4:k_at]
                    before = low[:y_at]
                    clause_start = not before.strip() or re.search(r"(?:^|[.;:,]|\band\b)\s*(?:in|by|during|from)\s+"
                                                                   r"(?:\w+\s+){0,2}$", before)
                    if clause_start and len(between.split()) <= 6 and not re.search(r"[;:,()]", between) \
                            and not self._other_event_in(between, err):
                        return True
        return False

    def _other_event_in(self, text: str, err: DateError) -> bool:
        return any(event.id != err.event.id and any(k in text for k in keys) for event, keys in self._phrases)


def _finditer(text: str, needle: str):
    start = text.find(needle)
    while start >= 0:
        yield start
        start = text.find(needle, start + 1)


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", paragraph) if s.strip()]


def _first_sentence(text: str) -> str:
    first = re.split(r"(?<=[.;])\s+", text.strip(), maxsplit=1)[0].rstrip("; ")
    return first if first.endswith(".") else first + "."
