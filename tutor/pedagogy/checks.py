"""Checks every reply passes before a student sees it, offline or from a model.

Example::

    results = run_checks(text, citations, ctx)
    [c.name for c in results if not c.passed]
    # → ['ends_with_question']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from tutor.lessons import LessonCard, Lessons
from tutor.pedagogy.learner import terms_in
from tutor.citations import CITE as _CITE
from tutor.pedagogy.reveal import Reference, restates, stated_points  # noqa: F401 (restates: re-exported)

MAX_WORDS = 140
QUOTE_FIDELITY = 90
# A quoted span: straight or curly double quotes, 4+ words, optionally followed by [n].
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,400})[\"”]\s*(?:\[(\d+)\])?")
# An opening that praises or agrees ("Yes", "Great point", "That holds up").
_PRAISE = re.compile(r"^(yes|yeah|right|correct|exactly|great|good|excellent|spot on|well done|nice|that'?s (right|it|correct|a (good|great|strong))|"
                     r"that holds up|absolutely|indeed|true)\b", re.I)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class CheckContext:
    """What a reply is checked against: the shown passages, the card and what the student said."""

    passages: dict[int, str]  # citation number -> passage text
    card: LessonCard | None = None
    covered: set[str] = field(default_factory=set)
    allowed_text: str = ""  # the move's own question and the student's words may mention terms
    secret_lines: list[str] = field(default_factory=list)
    # Other cards whose answers must not be given away either (the course's big question),
    # each with the key points the student has already made on it.
    other_cards: list[tuple[LessonCard, set[str]]] = field(default_factory=list)
    # Set for model replies: the cards' misconceptions and the timeline, to catch a model that
    # asserts a wrong attribution or date itself; and whether the move must cite a passage.
    lessons: "Lessons | None" = None
    require_citation: bool = False
    # The dialogue so far: whether the student's claim is contradicted by the sources (a reply
    # must not praise it) and the questions already asked (a reply must not ask one again).
    contradicted: bool = False
    asked: list[str] = field(default_factory=list)
    # A direct answer to a student's question may state one point: the fact asked for (issue 22).
    may_state: int = 0

    def leaks(self, text: str) -> list[str]:
        """Key points (as card:point) that the text gives away, on the card or the other cards."""
        out = [f"{self.card.id}:{k}" for k in leaked_key_points(text, self.card, self.covered, self.allowed_text)] \
            if self.card else []
        for card, covered in self.other_cards:
            if self.card is None or card.id != self.card.id:
                out += [f"{card.id}:{k}" for k in leaked_key_points(text, card, covered, self.allowed_text)]
        return out


    def summarises(self, text: str) -> bool:
        """True when the text names new evidence for three or more open key points of one card:
        a sentence that lists the factors gives the answer away even one term at a time."""
        cards = ([(self.card, self.covered)] if self.card else []) + self.other_cards
        allowed = self.allowed_text
        for card, covered in cards:
            touched = 0
            for kp in card.key_points:
                if kp.id in covered:
                    continue
                said = {t.lower() for t in terms_in(allowed, kp.evidence_terms)}
                if any(t.lower() not in said for t in terms_in(text, kp.evidence_terms)):
                    touched += 1
            if touched >= 3:
                return True
        return False


def last_sentence_is_question(text: str) -> bool:
    tail = re.sub(r"(\s*\[\d+\])+\s*$", "", text.strip()).rstrip(" \"'”’)*_")
    return tail.endswith("?")


def leaked_key_points(text: str, card: LessonCard | None, covered: set[str], allowed_text: str) -> list[str]:
    """Key points the text states that the student has not made and the current hint does not name
    (two or more new evidence terms, or a close paraphrase): the reveal check (``reveal.py``)
    with the card as the reference answer."""
    return stated_points(text, Reference.from_card(card), covered, allowed_text) if card is not None else []


def quoted_spans(text: str) -> list[tuple[str, int | None]]:
    return [(m.group(1).strip(), int(m.group(2)) if m.group(2) else None) for m in _QUOTED.finditer(text)]


def run_checks(text: str, ctx: CheckContext) -> list[Check]:
    checks: list[Check] = []
    words = len(text.split())
    checks.append(Check("ends_with_question", last_sentence_is_question(text) and text.count("?") <= 3,
                        "" if last_sentence_is_question(text) else "the reply must end with one question"))

    leaked = ctx.leaks(text)
    leaked = leaked if len(leaked) > ctx.may_state else []
    checks.append(Check("no_answer_leak", not leaked,
                        f"states key points the student has not reached: {', '.join(leaked)}" if leaked else ""))

    cited = [int(n) for n in _CITE.findall(text)]
    bad = sorted({n for n in cited if n not in ctx.passages})
    checks.append(Check("citations_valid", not bad,
                        f"cites passage(s) {bad} that were not provided" if bad else ""))

    unfaithful = []
    for span, n in quoted_spans(text):
        if len(span.split()) < 4:
            continue
        sources = [ctx.passages[n]] if n in ctx.passages else list(ctx.passages.values())
        if not any(fuzz.partial_ratio(span.lower(), s.lower()) >= QUOTE_FIDELITY for s in sources):
            unfaithful.append(span[:60])
    checks.append(Check("quotes_faithful", not unfaithful,
                        f"quoted text not found in the cited passage: {unfaithful}" if unfaithful else ""))

    copied = unquoted_copy(text, list(ctx.passages.values()))
    checks.append(Check("no_unquoted_copy", copied is None,
                        f"copies a passage without quotation marks: \"{copied}…\"" if copied else ""))

    errors = asserted_errors(text, ctx)
    checks.append(Check("no_false_claims", not errors,
                        f"states a misconception or wrong date itself: {', '.join(errors)}" if errors else ""))

    if ctx.require_citation:
        cites = bool(cited) and not bad
        checks.append(Check("cites_passage", cites,
                            "" if cites else "quote one short sentence from a numbered passage and cite it like [1]"))

    checks.append(Check("length", words <= MAX_WORDS and text.count("\n\n") <= 2,
                        f"{words} words; keep replies under {MAX_WORDS} words" if words > MAX_WORDS else ""))

    if ctx.contradicted:
        praised = bool(_PRAISE.match(text.strip()))
        checks.append(Check("no_praise_of_contradicted_claim", not praised,
                            "the reply praises a claim the sources contradict; say it is wrong first" if praised else ""))
    if ctx.asked:
        from tutor.pedagogy.repeats import question_of, similar

        last = question_of(text)
        repeated = bool(last) and any(similar(last, q) for q in ctx.asked)
        checks.append(Check("no_repeated_question", not repeated,
                            f"the reply asks again: \"{last[:80]}\"; ask something new" if repeated else ""))

    low = text.lower()
    leaks = [line for line in ctx.secret_lines if fuzz.partial_ratio(line.lower(), low) >= 92]
    markers = [m for m in ("key_points", "misconceptions:", "evidence_terms", "<course_passages", "system prompt:")
               if m in low]
    checks.append(Check("no_prompt_leak", not (leaks or markers),
                        "the reply repeats the tutor's instructions" if (leaks or markers) else ""))
    return checks


COPY_WORDS = 12


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def unquoted_copy(text: str, passages: list[str], n: int = COPY_WORDS) -> str | None:
    """A run of n+ words taken from a passage without quotation marks (passing off the source's
    words as the tutor's, and usually handing over its answer), or None."""
    bare = _QUOTED.sub(" ", text)
    words = _words(bare)
    if len(words) < n:
        return None
    grams = {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
    for passage in passages:
        pw = _words(passage)
        for i in range(len(pw) - n + 1):
            if tuple(pw[i:i + n]) in grams:
                return " ".join(pw[i:i + n])
    return None


def asserted_errors(text: str, ctx: CheckContext) -> list[str]:
    """Misconceptions or wrong dates the reply states in its own words (quotes and the move's
    own question, which may name the error it probes, are left out)."""
    if ctx.lessons is None:
        return []
    own = _QUOTED.sub(" ", text)
    for line in ctx.allowed_text.splitlines():
        if line.strip() and len(line) > 20:
            own = own.replace(line.strip(), " ")
    found = [m.id for _, m in ctx.lessons.misconceptions_in(own)]
    found += [f"date:{e.event.id}" for e in ctx.lessons.date_errors(own)]
    return found


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]
