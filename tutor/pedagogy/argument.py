"""A handout's argument: its sentences that claim a cause, an effect, a purpose or a significance
(as opposed to background: who, when, where), and hints that climb from a pointer to a prompt
to a near-answer. Shared by lesson-card drafting (tutor.drafting) and the passage plan that
teaches a document no card covers (pedagogy.passage_plan), so a teacher's document is taught
by its argument whether or not a card has been drafted from it.
"""

from __future__ import annotations

import re

from tutor.pedagogy.salience import COMMON_NAMES, Point, analyse, evidence_terms, hedges, topic_of, zipf_frequency
from tutor.retrieval import tokenize
from tutor.scan import scan_text

MIN_POINTS = 3  # fewer claims than this: the most salient background sentences top the points up

# A sentence that argues: a cause, an effect, a purpose, a significance. Background (who, when,
# where) carries none of these.
CLAIM = re.compile(
    r"\b(because|since (?:it|they|he|she|the)\b|so that|, so\b|therefore|thus|hence|as a result|result(?:ed|s)? in|"
    r"led to|leading to|lead to|caused|causing|meant|allowed|enabled|forced|helped (?!to\b)|gave (?:\w+ )?(?:a|the|an) (?:weapon|reason|chance|means)|"
    r"weaken(?:ed|s)?|strengthen(?:ed|s)?|undermin(?:ed|es)|destroy(?:ed|s)?|in order to|to justify|to isolate|"
    r"in response|reprisal|blamed|provok(?:ed|es)|pushed|drove|cost\b|depended on|exposed|discredit(?:ed|s)?|"
    r"used (?:it|them|this|the \w+)(?: \w+)? (?:against|to|as)|could now|no longer|matter(?:ed|s)?|significan\w*|"
    r"effects?\b|consequences?|(?:one of )?the (?:main )?causes? of|bring (?:on|about)|brought (?:on|about)|lasting|turning point|showed|proved|made (?:\w+ )?(?:possible|impossible|harder|easier)|"
    r"encouraged|persuaded|convinced|fed\b|ending|deepened|hardened|justif(?:y|ied)|answered|the reason)", re.I)
_QUESTION_END = re.compile(r"\?[\"'”’)]*$")
MAX_ARGUMENT_POINTS = 5


def is_claim(sentence: str) -> bool:
    """Whether a sentence argues (a cause, an effect, a purpose or a significance) rather than
    giving background.

    >>> is_claim("Because it was issued only against real assets, traders trusted it."), is_claim("In 1922 Sokolnikov became Commissar.")
    (True, False)
    """
    return bool(CLAIM.search(sentence)) and not _QUESTION_END.search(sentence.strip())


def section_headings(text: str) -> dict[int, str]:
    """The heading of each section of a document text (numbered as salience.analyse numbers them)."""
    headings = {}
    for n, section in enumerate(re.split(r"\n(?=#)", text)):
        first = section.strip().splitlines()[0] if section.strip() else ""
        if first.startswith("#"):
            headings[n] = first.lstrip("#").strip()
    return headings


def argument_points(text: str, *, period: tuple[int, int] | None = None, k: int = MAX_ARGUMENT_POINTS,
                    links_first: bool = False) -> tuple[list[Point], list[Point]]:
    """The handout's claims as key points, the most salient first, at most two a section and none
    repeating another; topped up with its most salient background sentences only when it makes
    fewer than MIN_POINTS claims. Returns (points in document order, the background ones)."""
    analysed = [p for p in analyse(text, period) if not _QUESTION_END.search(p.sentence.strip())
                and not hedges(p.sentence) and not scan_text(p.sentence)]
    # A sentence making several links ("it strengthened ..., it made ..., it helped to bring on ...")
    # is the handout's argument more than one dated event with an "ending" in it: the number of
    # links ranks before salience, which rewards dates and names.
    # ``links_first`` (the passage plan, which has no teacher to edit it) ranks by that number
    # before salience; a draft keeps salience, which the teacher reviews.
    ranked = sorted(analysed, key=lambda p: (-min(len(CLAIM.findall(p.sentence)), 2) if links_first else 0,
                                             -(p.score + (2.0 if is_claim(p.sentence) else 0.0)), p.position))
    chosen: list[Point] = []
    used: dict[int, int] = {}

    def take(p: Point, per_section: int = 2) -> None:
        mine = set(tokenize(p.sentence))
        if used.get(p.section, 0) >= per_section or any(
                len(mine & set(tokenize(c.sentence))) > 0.5 * max(1, len(mine)) for c in chosen):
            return
        chosen.append(p)
        used[p.section] = used.get(p.section, 0) + 1

    for p in ranked:
        if len(chosen) < k and is_claim(p.sentence):
            take(p)
    background: list[Point] = []
    for p in ranked:
        if len(chosen) >= MIN_POINTS:
            break
        if p not in chosen and not is_claim(p.sentence):
            before = len(chosen)
            take(p, per_section=MIN_POINTS)  # a short handout may have one section only
            if len(chosen) > before:
                background.append(p)
    for p in chosen:
        p.terms = evidence_terms(p)
        if is_claim(p.sentence) and p.kind in ("event", "fact"):
            p.kind = "cause"
    return sorted(chosen, key=lambda p: p.position), background


# How a claim splits into what a hint may give and what the student must find.
_CLAIM_PARTS = [
    (re.compile(r"^(?:Because|Since|As) (?P<asked>[^,]{8,}), (?P<given>.{12,})$"), "why"),
    (re.compile(r"^(?P<given>.{12,}?),? because (?P<asked>.{8,})$"), "why"),
    (re.compile(r"^(?P<given>.{12,}?) in order to (?P<asked>.{6,})$"), "why"),
    (re.compile(r"^(?P<given>.{12,}?)(?:,| and|;)? (?:so that|so|therefore|thus|hence|as a result)[, ]+(?P<asked>.{8,})$"),
     "effect"),
    (re.compile(r"^(?P<given>[^,]{8,}?) (?:led to|resulted in|caused|meant that|meant|allowed|enabled|forced|"
                r"helped|weakened|strengthened|undermined) (?P<asked>.{8,})$"), "outcome"),
    (re.compile(r"^(?P<given>.{12,}?), (?P<asked>ending .{6,})$"), "effect"),
    (re.compile(r"^(?P<given>[^,:;]{4,40}?) answered (?P<asked>(?:with|by) .{8,})$"), "response"),
    # "X blamed Y: they had ...": the claim, then what the handout gives for it.
    (re.compile(r"^(?P<given>[^:;]{20,}?): (?P<asked>.{12,})$"), "detail"),
]
# A date opening a cause ("In February 1921 hunger ... led to") is not part of the noun phrase.
_DATE_OPENING = re.compile(r"^(?:In|On|By|During|After) (?:the )?(?:\w+ ){0,2}\d{4},? ")
CLUE_MAX_ZIPF = 5.0  # a near-answer's clue words are rarer than this ("done", "else" say nothing)
_HINT_STOP = frozenset(tokenize("handout document argue argues say says think know happen happened matter mattered "
                                "involve involved involving part play point reason follow followed look section "
                                "explain complete question topic way which what when where who why how did does"))


def _content(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) >= 3 and t not in _HINT_STOP}


def _clause(text: str) -> str:
    """A clause to quote inside a hint: no final stop, a lower-case first word unless a name."""
    text = text.strip().rstrip(".;:,")
    first = text.split(" ", 1)[0]
    # A common word opening the sentence ("Events", "In") is lower-cased; a name ("Stalin") is not.
    if first.replace("-", "").isalpha() and first[:1].isupper() and first[1:].islower() \
            and zipf_frequency(first.lower(), "en") >= 3.5 and first.lower() not in COMMON_NAMES:
        text = first.lower() + text[len(first):]
    return text


def _near_answer_words(asked: str, given: str, point: Point, limit: int = 2) -> list[str]:
    """The rarest words of the half the student must find (names first), absent from the rest."""
    shown = _content(given)
    names = [n for n in point.names if n in asked and not (_content(n) & shown) and n.lower() not in COMMON_NAMES]
    words = [w for w in re.findall(r"[^\W\d_][\w’'-]{4,}", asked) if (tokenize(w) or [""])[0] not in shown
             and (tokenize(w) or [""])[0] not in _HINT_STOP and zipf_frequency(w.lower(), "en") < CLUE_MAX_ZIPF]
    words.sort(key=lambda w: zipf_frequency(w.lower(), "en"))
    out: list[str] = []
    for w in names + words:
        if w.lower() not in (o.lower() for o in out) and not any(w.lower() in o.lower() for o in out):
            out.append(w)
    return out[:limit]


# Each key point's questions take the next wording, so a conversation over several points does
# not open every hint alike.
_POINTERS = ("Look at {where}: what does it argue about {subject}?",
             "What does {where} claim about {subject}?",
             "Reread {where}: what conclusion does it draw about {subject}?",
             "Find {subject} in {where}: what does the handout say it shows?",
             "In {where}, what is the handout's point about {subject}?")
_OPEN_PROMPTS = ("What cause or effect does the handout connect with {subject}?",
                 "According to the handout, what brought about {subject}, or what came of it?",
                 "What link does the handout draw between {subject} and what followed?")
_NEAR_ANSWERS = ("Think about {clues}: how {verb} complete the handout's point about {subject}?",
                 "The missing part of the point involves {clues}: what does the handout say about {subject}?",
                 "Use {clues}: how does the handout finish its point about {subject}?")


def argument_hints(point: Point, heading: str | None, title: str, n: int = 0) -> list[str]:
    """Three questions that climb: a pointer (where in the handout, and what about), a prompt
    (one half of the claim given, the other asked for), a near-answer (the words of the missing
    half). Each level adds something the one before did not. ``n``: the key point's number."""
    topic = topic_of(title)
    subject = _subject_phrase(point)
    if subject.startswith("“") and _content(subject) & _content(topic):
        subject = topic  # not "what does it argue about “scare”?" in a handout on the war scare of 1927
    # Single quotes: a heading in double ones would read as a quotation of the source.
    where = f"the section ‘{heading}’" if heading else "the handout"
    pointer = _POINTERS[n % len(_POINTERS)].format(where=where, subject=subject)
    given, asked, kind = "", point.sentence, "effect"
    for pattern, what in _CLAIM_PARTS:
        m = pattern.match(point.sentence.strip().rstrip("."))
        if not m:
            continue
        # The half a hint gives is one clause: up to a semicolon, with no colon or list in it.
        part = re.split(r"[;:]", m.group("given"))[0] if what == "why" else m.group("given")
        if ":" in part or ";" in part or not 2 <= len(part.split()) <= 30:
            continue
        # An outcome's cause must be a bare noun phrase: not "In 1921 hunger", not "X was never".
        if what == "outcome":
            part = _DATE_OPENING.sub("", part)
        if what == "outcome" and (re.match(r"(?:In|On|By|During|After|From|For|At)\b", part)
                                  or re.search(r"\b(?:was|were|is|are|had|has|been)\b", part)):
            continue
        given, asked, kind = part, m.group("asked"), what
        break
    if kind == "outcome" and given:
        # The half given is the cause, a noun phrase ("hunger and cuts in rations").
        prompt = f"According to the handout, what did {_clause(given)} lead to?"
    elif kind == "response" and given:
        prompt = f"According to the handout, how did {_clause(given)} respond, and to what?"
    elif given:
        tail = {"why": "What reason does it give?", "detail": "What does it give to explain or show this?"}.get(
            kind, "What does it say came of that?")
        prompt = f"The handout says that {_clause(given)}. {tail}"
    elif point.kind in ("significance",) or _SIGNIFICANCE_WORDS.search(point.sentence):
        for_what = "" if _content(subject) & _content(topic) else f" for {topic}"
        prompt = f"Why, according to the handout, did {subject} matter{for_what}?"
    else:
        prompt = _OPEN_PROMPTS[n % len(_OPEN_PROMPTS)].format(subject=subject)
    clues = _near_answer_words(asked, f"{given} {subject}", point)
    if clues:
        near = _NEAR_ANSWERS[n % len(_NEAR_ANSWERS)].format(
            clues=" and ".join(f"“{c}”" for c in clues), verb="do they" if len(clues) > 1 else "does it",
            subject=subject)
    else:
        near = f"Which cause or effect does {where} connect with {subject}, and how?"
    return [pointer, prompt, near]


_SIGNIFICANCE_WORDS = re.compile(r"\b(matter(ed|s)?|significan\w*|lasting|turning point|effects?)\b", re.I)


def _subject_phrase(point: Point) -> str:
    """What the point is about, as a hint can name it: a distinctive name, else a rare word."""
    for name in point.names:
        # "United Opposition of Trotsky" is the United Opposition.
        head, _, tail = name.partition(" of ")
        name = head if tail.lower() in COMMON_NAMES else name
        if name.lower() not in COMMON_NAMES:
            # "the Right", "the OGPU" as the document writes them; not "the Chiang Kai-shek".
            follows = (r"(?=[,.;:)'’]|$|\s+(?:was|were|had|has|is|and|in|of|to|at|on|by|with|as|from|for|which|who|"
                       r"did|\w+ed)\b)")
            return f"the {name}" if re.search(rf"\b[Tt]he {re.escape(name)}{follows}", point.sentence) else name
    # A rare noun, not a verb form: "“requisitioning”" reads as a subject, "“warned”" does not.
    rare = sorted((c for c in point.cues if not re.search(r"(?:ed|ly)$", c)), key=lambda w: zipf_frequency(w, "en"))
    if rare:
        return f"“{rare[0]}”"
    return point.names[0] if point.names else "its claim"
