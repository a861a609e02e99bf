"""Checks every reply passes before a student sees it, offline or from a model.

Example::

    results = run_checks(text, citations, ctx)
    [c.name for c in results if not c.passed]
    # → ['ends_with_question']
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from tutor.lessons import PERSON_NAME, LessonCard, Lessons
from tutor.pedagogy.learner import terms_in, terms_said
from tutor.pedagogy.reading import Evidence, Reading
from tutor.citations import CITE as _CITE
from tutor.pedagogy.reveal import SENTENCE_ENDS, Reference, restates, stated_points  # noqa: F401 (restates: re-exported)

MAX_WORDS = 140
MAX_WORDS_KEPT = 160  # a second attempt this long, failing nothing else, is kept rather than replaced offline
QUOTE_FIDELITY = 90
# A quoted span: straight or curly double quotes, 4+ words, optionally followed by [n].
# Any quoted stretch, short ones too, so marks pair up in order: with a 12-character floor here
# the closing mark of ‘"endorsement"’ opened a false span to the next quotation (relay trial 4).
_QUOTED = re.compile(r"[\"“]([^\"“”]{1,400})[\"”]\s*(?:\[(\d+)\])?")
QUOTE_MIN_CHARS = 12
# An opening that praises or agrees ("Yes", "Great point", "That holds up").
_PRAISE = re.compile(r"^(yes|yeah|right|correct|exactly|great|good|excellent|spot on|well done|nice|that'?s (right|it|correct|a (good|great|strong))|"
                     r"that holds up|absolutely|indeed|true)\b", re.I)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""
    # A failure that, alone on the model's second attempt, still keeps its reply: a few words over
    # the length sent relay trial 42's student to the offline tutor, a far worse reply.
    soft: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


ANSWER_SHARE = 0.5
SENTENCE_IN_ANSWER = 0.7  # of a reply sentence's content words in an allowed answer: that sentence says the answer


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
    # The student is taking their leave: the reply may close without a question.
    closing: bool = False
    # How many points of another card a reply may touch before it counts as giving that card's
    # argument away (model replies: a fact that bears on the big question is not its answer).
    other_card_floor: int = 0

    # Answers to the student's own questions and corrections of their own wrong claims (model
    # replies): a sentence that says one of them again is no leak, even where it restates a key
    # point ("Stalin became General Secretary on 3 April 1922…" correcting "after Lenin died").
    answers: list[str] = field(default_factory=list)
    # Everything the student has written: a quotation of their own words needs no passage (relay
    # trial 12: "packed with his people", the student's phrase, was refused as unfaithful).
    student_said: str = ""
    # Passage sentences the offline tutor states as its own answer with their [n] (the corpus is the
    # project's own words): not an unquoted copy.
    stated: list[str] = field(default_factory=list)
    # The card's own hints, which the model is given to use (model replies): a question may say what
    # they say without giving the point away (relay trial 28: "what had Zinoviev and Kamenev done in
    # October 1917 that Trotsky could later throw back at them?", the card's own hint, was refused).
    hints: list[str] = field(default_factory=list)

    def leaks(self, text: str) -> list[str]:
        """Key points (as card:point) that the text gives away, on the card or the other cards."""
        if self.hints:
            # A question may use what the card's hints say; a statement may not.
            sentences = re.split(r"(?<=[.!?])\s+", text)
            asks = [s for s in sentences if s.rstrip().endswith("?")]
            if asks:
                told = self._leaks(" ".join(s for s in sentences if s not in asks), self.allowed_text)
                hinted = self._leaks(" ".join(asks), "\n".join([self.allowed_text, *self.hints]))
                return told + [k for k in hinted if k not in told]
        return self._leaks(text, self.allowed_text)

    def _leaks(self, text: str, allowed: str) -> list[str]:
        if self.answers:
            # Half the answer's content words is the answer said again in the reply's own way (relay
            # trial 12: "heard only by the separate delegations … Zinoviev and Kamenev spoke up for
            # keeping him", 54% of its answer, was refused as giving the 13th Congress point away).
            # …and a sentence most of whose own words are the answer's is the answer, or the part of it that
            # corrects ("Fair challenge, but Lenin died at Gorki on 21 January 1924" of a longer correction:
            # relay trial 67's model was refused for the correction the rules ask for).
            text = " ".join(s for s in re.split(r"(?<=[.!?])\s+", text)
                            if not any(restates(s, a, ANSWER_SHARE) or restates(a, _CITE.sub("", s), SENTENCE_IN_ANSWER)
                                       for a in self.answers))
        out = [f"{self.card.id}:{k}" for k in leaked_key_points(text, self.card, self.covered, allowed)] \
            if self.card else []
        for card, covered in self.other_cards:
            if self.card is None or card.id != self.card.id:
                found = leaked_key_points(text, card, covered, allowed)
                out += [f"{card.id}:{k}" for k in found] if len(found) > self.other_card_floor else []
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
                said = terms_said(allowed, kp.evidence_terms)
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


# A cited quotation ends with a closing mark just before its [n]; it opens at a mark that follows
# a space, a bracket or a dash (or starts the text). Between them the quoted sentence may itself
# hold quotation marks ("Sukhanov called Stalin “a grey blur” in 1917").
_CITED_CLOSE = re.compile(r"[\"”][\s.,;:!?]{0,3}\[(\d+)\]")
_OPENER = re.compile(r"(?<![^\s(\[:—–-])[\"“]")
_QUOTE_MARKS = re.compile(r"[\"“”‘’„«»]|(?<![a-z])'|'(?![a-z])", re.I)


def _plain(text: str) -> str:
    """Text for comparing a quotation with its source: quotation marks dropped, spaces collapsed."""
    return " ".join(_QUOTE_MARKS.sub(" ", text.lower()).split())


def _faithful(span: str, sources: list[str]) -> bool:
    plain = _plain(span)
    return any(fuzz.partial_ratio(plain, _plain(s)) >= QUOTE_FIDELITY for s in sources)


def _cited_quotes(text: str, passages: dict[int, str] | None) -> list[tuple[int, int, str, int]]:
    """Quotations followed by [n]: (start, end, span, n). Of the possible opening marks the
    outermost whose span is found in passage n is taken (so a quotation containing quotation
    marks is read whole); with no passages, or none found, the innermost."""
    out: list[tuple[int, int, str, int]] = []
    floor = 0
    for close in _CITED_CLOSE.finditer(text):
        n, end = int(close.group(1)), close.start()
        openers = [m.start() for m in _OPENER.finditer(text, floor, end)]
        inner = text[openers[-1] + 1:end].strip() if openers else ""
        if openers and len(inner) < 12 and not _QUOTE_MARKS.search(inner):
            # A word quoted on its own ('Go carefully with "only", too: … a possible "Bonaparte" [5]') is
            # the quotation cited, not the stretch from an earlier quoted word (relay trial 60 was refused).
            floor = close.end()
            continue
        spans = [(o, text[o + 1:end].strip()) for o in openers if len(text[o + 1:end].strip()) >= 12]
        if not spans:
            continue
        source = [passages[n]] if passages and n in passages else list((passages or {}).values())
        chosen = next((sp for sp in spans if source and _faithful(sp[1], source)), spans[-1])
        out.append((chosen[0], close.end(), chosen[1], n))
        floor = close.end()
    return out


def quoted_spans(text: str, passages: dict[int, str] | None = None) -> list[tuple[str, int | None]]:
    """The quotations in a text with the passage each cites (None if it cites none). Given the
    passages, a quotation that itself contains quotation marks is read whole."""
    cited = _cited_quotes(text, passages)
    rest = text
    for start, end, _, _ in reversed(cited):
        rest = rest[:start] + " " + rest[end:]
    spans = [(span, n) for _, _, span, n in cited]
    spans += [(m.group(1).strip(), int(m.group(2)) if m.group(2) else None) for m in _QUOTED.finditer(rest)
              if len(m.group(1).strip()) >= QUOTE_MIN_CHARS]
    return spans


def unquoted(text: str) -> str:
    """The text with its quotations (cited ones whole) taken out: the tutor's own words."""
    for start, end, _, _ in reversed(_cited_quotes(text, None)):
        text = text[:start] + " " + text[end:]
    return _QUOTED.sub(" ", text)


def run_checks(text: str, ctx: CheckContext) -> list[Check]:
    checks: list[Check] = []
    words = len(text.split())
    ends = last_sentence_is_question(text) or (ctx.closing and "?" not in text)
    checks.append(Check("ends_with_question", ends and text.count("?") <= 3,
                        "" if ends else "the reply must end with one question"))

    leaked = ctx.leaks(text)
    leaked = leaked if len(leaked) > ctx.may_state else []
    checks.append(Check("no_answer_leak", not leaked,
                        f"states key points the student has not reached: {', '.join(leaked)}" if leaked else ""))

    cited = [int(n) for n in _CITE.findall(text)]
    bad = sorted({n for n in cited if n not in ctx.passages})
    checks.append(Check("citations_valid", not bad,
                        f"cites passage(s) {bad} that were not provided" if bad else ""))

    unfaithful = []
    for span, n in quoted_spans(text, ctx.passages):
        if len(span.split()) < 4:
            continue
        sources = [ctx.passages[n]] if n in ctx.passages else list(ctx.passages.values())
        if n is None and (ctx.allowed_text or ctx.student_said) and _faithful(span, [ctx.allowed_text, ctx.student_said]):
            continue  # the student's own words, quoted back (a summary of their points)
        if ctx.student_said and _faithful(span, [ctx.student_said]):
            # …even with a citation beside it: 'he had "already signed that thing denying it in 1925" [6]'
            # quotes the student and cites the passage that bears it out (relay trial 27).
            continue
        if not _faithful(span, sources):
            unfaithful.append(span[:60])
    checks.append(Check("quotes_faithful", not unfaithful,
                        f"quoted text not found in the cited passage: {unfaithful}" if unfaithful else ""))

    own = text
    for sentence in ctx.stated:
        own = own.replace(sentence.rstrip(". "), " ")
    copied = unquoted_copy(own, list(ctx.passages.values()))
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
                        f"{words} words; keep replies to {MAX_WORDS} words or fewer" if words > MAX_WORDS else "",
                        soft=words <= MAX_WORDS_KEPT and text.count("\n\n") <= 2))

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

    links = outside_links(text)
    checks.append(Check("no_outside_links", not links,
                        f"links to a host the course did not choose: {', '.join(links[:3])}; leave links out "
                        "(cite a passage like [1] instead)" if links else ""))

    low = text.lower()
    leaks = [line for line in ctx.secret_lines if fuzz.partial_ratio(line.lower(), low) >= 92]
    markers = [m for m in ("key_points", "misconceptions:", "evidence_terms", "<course_passages", "system prompt:")
               if m in low]
    checks.append(Check("no_prompt_leak", not (leaks or markers),
                        "the reply repeats the tutor's instructions" if (leaks or markers) else ""))
    return checks


# A reply may link only to the app's own Sources page (a relative "sources?doc=…" link); any URL,
# www. address, e-mail address or Markdown link elsewhere sends students to a host the course
# did not choose (the page makes such text inert too: tutor.ui.render.break_autolinks).
_OUTSIDE_LINK = re.compile(r"(?i)(?<![^\W_])(?:https?|ftp)://[^\s)\]>\"']+|(?<![^\W_])www\.[\w-]+\.[^\s)\]>\"']+"
                           r"|\]\(\s*(?!sources\?)[^)\s]+[^)]*\)|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def outside_links(text: str) -> list[str]:
    """The links in a reply that lead off the app (each cut to 80 characters)."""
    return [m.group(0)[:80] for m in _OUTSIDE_LINK.finditer(text)]


# Sixteen words: a date-and-place sentence stated in the passage's words ("in February 1929 he was
# deported from the USSR to Turkey", 12 words, relay trial 4) answers a question; a longer run
# passes off the source's prose as the tutor's.
COPY_WORDS = 16


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def unquoted_copy(text: str, passages: list[str], n: int = COPY_WORDS) -> str | None:
    """A run of n+ words taken from a passage without quotation marks (passing off the source's
    words as the tutor's, and usually handing over its answer), or None."""
    bare = unquoted(text)
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
    own = unquoted(text)
    for line in ctx.allowed_text.splitlines():
        if line.strip() and len(line) > 20:
            own = own.replace(line.strip(), " ")
    # A clause that denies the misconception corrects it ("Trotsky wasn't exiled abroad in 1925;
    # he was deported in February 1929": relay3, a faithful correction refused).
    found = list(dict.fromkeys(m.id for clause in re.split(r"(?<=[.!?;])\s+|\n+", own)
                               if not _DENIES.search(clause) for _, m in ctx.lessons.misconceptions_in(clause)))
    # "21 January 1924, not 1925" corrects the student's year: the reply also gives the right one;
    # "Bukharin wasn't expelled in 1929" denies the year (relay trial: a true correction refused).
    found += [f"date:{e.event.id}" for e in ctx.lessons.date_errors(own)
              if not re.search(rf"\b{e.event.years[0]}\b", e.sentence) and not _DENIES.search(e.sentence)]
    return found


# "Nor was the Testament read to the whole congress"; "we fixed the idea that Lenin named Trotsky his heir"
# (a summary's list of what was corrected, refused in relay trial 38).
# "The Lenin Enrolment came later than 1922" corrects the student's year too (relay trial 53).
_DENIES = re.compile(r"\b(?:not|never|no|nor)\b|n't\b|\b(?:fixed|corrected|cleared up|dropped|set aside|put right|"
                     r"the (?:idea|myth|claim|belief|mistake|misconception) that|wrongly|mistakenly|"
                     r"(?:later|earlier|sooner|other|rather) than|instead of)\b", re.I)


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]


# -- the guards on a model's Reading (tutor.pedagogy.reading) -------------------------------------------
ECHO_RATIO = 85        # a reply this close to the student's message is their message handed back
CLAIM_SENTENCE = 80    # how closely a claim's words must match the sentence the evidence is about


@dataclass
class ReadingContext:
    """What a Reading is guarded against: the student's message, the evidence the model was given,
    ``judge`` (the same fact checker, run on a claim's own words), the passages shown, the card."""

    message: str
    evidence: list[Evidence] = field(default_factory=list)
    judge: "object" = None  # Callable[[str], list[Evidence]]
    passages: dict[int, str] = field(default_factory=dict)
    card: LessonCard | None = None
    lessons: Lessons | None = None
    # The student's words already credited on the card, and all they have written: a summary
    # quotes some of either.
    words: list[str] = field(default_factory=list)
    student_text: str = ""
    # The student's claims corrected so far, (their words, the correction): a summary does not
    # list one as a point they made.
    corrections: list[tuple[str, str]] = field(default_factory=list)


def _claim_findings(claim_text: str, ctx: ReadingContext) -> list[Evidence]:
    # The model may shorten the student's sentence with an ellipsis ("Lenin's Testament ... was read out at
    # the 12th Congress"): the words either side are one claim to the checker (relay trial 37).
    claim_text = re.sub(r"\s*(?:\.\.\.+|…)\s*", " ", claim_text)
    return list(ctx.judge(claim_text)) if ctx.judge is not None else []


def _evidence_id(ev: Evidence, ctx: ReadingContext) -> str:
    """The id the model was shown for a finding (E3), found again by its key; "" for one it was not shown."""
    return next((e.id for e in ctx.evidence if e.key == ev.key), "")


def _misread_hint(ev: Evidence, ctx: ReadingContext) -> str:
    """How to set a finding aside, where the model was shown it."""
    eid = _evidence_id(ev, ctx)
    return f", or, if {eid} misreads what the student meant, say so in that claim's misread field, naming {eid}" \
        if eid else ""


def _bears_on(claim, ev: Evidence, ctx: ReadingContext, findings: list[Evidence]) -> bool:
    """The claim is the one the evidence is about: it names the evidence, the checker finds the
    same fact in its words, or its words are most of the evidence's sentence. A claim split off
    from that sentence ("he used it to appoint loyal people") is judged on its own words: the
    sentence's other clause ("made General Secretary in 1917") is not its claim."""
    mine, theirs = _plain(claim.text), _plain(ev.sentence)
    if any(f.key == ev.key for f in findings):
        return True
    # Evidence the model names for a small piece of the sentence ("stalin somehow survived it", E1
    # being the 13th Congress's date in the same sentence, relay trial 8) is its source, not its verdict.
    if claim.evidence.strip() == ev.id:
        return len(mine) >= 0.5 * len(theirs)
    return len(mine) >= 0.8 * len(theirs) and fuzz.partial_ratio(mine, theirs) >= CLAIM_SENTENCE


# Where a claim joins statements ("became General Secretary in 1922 and used it to pack the congress
# in 1921"; "after becoming General Secretary following Lenin's death in 1924").
BARE_EVENT_WORDS = 8  # a dated event and no more ("Lenin died in January 1924"): its date is the claim
_PRONOUN_SUBJECT = re.compile(r"\b(?:he|she|they|it)\b", re.I)
_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b|\bnt\b", re.I)
_CLAUSE = re.compile(r"\s*[,;:–—]\s*|\s+(?:and|but|so|because|after|before|following|which|then|while|when|"
                     r"until|since|though|although)\s+", re.I)


def clauses(text: str) -> list[str]:
    """The statements a claim joins: its parts of three words or more.

    >>> clauses("Stalin became General Secretary in 1922 and used it to pack the congress in 1921")
    ['Stalin became General Secretary in 1922', 'used it to pack the congress in 1921']
    """
    return [c.strip() for c in _CLAUSE.split(text) if len(c.split()) >= 3]


def _wholly_supported(claim, ctx: ReadingContext) -> bool:
    """The fact base's support bears on the claim as a whole: it is one statement, or every
    statement it joins is supported on its own words. A claim whose supported part is only a
    part ("after becoming General Secretary following Lenin's death in 1924": the death's date is
    right, the sequence wrong) may be judged partly or wrong."""
    parts = clauses(claim.text)
    if len(parts) <= 1:
        return True
    if ctx.judge is None:
        return False
    years = _years(claim.text)
    for part in parts:
        found = _claim_findings(part, ctx)
        # A part supported only without the claim's year ("Kamenev teamed up with Trotsky", true in
        # 1926) does not make "…in December 1925, when…" right.
        if not any(f.finding == "supports" and (not years or years & _years(f.fact)) for f in found) \
                or any(f.finding == "contradicts" for f in found):
            return False
    return True


def _people_in(text: str) -> set[str]:
    return {m.group(1).lower() for m in PERSON_NAME.finditer(text)}


# The documents and measures a claim can be about. Support that does not name one the claim names is about
# part of it: "the testament bit says 14th congress 1925" is not made right by the 14th Congress's date
# (relay trial 63's turn fell back after two refusals of a right "wrong").
_THINGS = re.compile(r"\b(testament|postscript|letter to the congress|lessons of october|new course|declaration|"
                     r"platform|ban on factions|enrolment|five[- ]year plan|kronstadt|comintern|pravda|red army)\b", re.I)


def _things_in(text: str) -> set[str]:
    return {m.group(1).lower() for m in _THINGS.finditer(text)}


def _years(text: str) -> set[str]:
    return set(re.findall(r"\b1[89]\d\d\b", text))


def _sentence_holding(text: str, message: str) -> str:
    """The sentence of ``message`` that holds the claim ``text`` (the model's copy of the student's
    words), or ""."""
    mine = _plain(text)
    best = max(re.split(r"(?<=[.!?])\s+|\n+", message), key=lambda s: fuzz.partial_ratio(mine, _plain(s)), default="")
    return best if best and fuzz.partial_ratio(mine, _plain(best)) >= CLAIM_SENTENCE else ""


def _corrects_sentence(claim, ev: Evidence, ctx: ReadingContext) -> bool:
    """The claim corrects the evidence's sentence: judged wrong or partly on another evidence that
    contradicts the same sentence (the fact base holds two facts against "it was read out to the
    whole 12th party congress in 1923": one of them judges it)."""
    if claim.verdict not in ("wrong", "partly"):
        return False
    named = next((e for e in ctx.evidence if e.id == claim.evidence.strip()), None)
    if named is not None and named.finding == "contradicts" and named.sentence == ev.sentence:
        return True
    # A wrong claim taken word for word from the contradicted sentence is that sentence judged: "in 1926 he
    # joined the united opposition with trotsky against stalin", from "bukharin was all for NEP, but then in
    # 1926 he joined …" (its "he" read as Bukharin).
    mine = _plain(claim.text)
    if len(mine.split()) >= 5 and mine in _plain(ev.sentence):
        return True
    # The student's words joined across sentences with an ellipsis ("the 14th party congress ... was 1924
    # right after lenin died", relay trial 46): a piece of four words or more from the contradicted
    # sentence is that sentence judged.
    pieces = [_plain(x) for x in re.split(r"\.\.\.|…", claim.text)]
    return len(pieces) > 1 and any(len(x.split()) >= 4 and x in _plain(ev.sentence) for x in pieces)


ANSWER_POINTS = 2  # key points of one card an answer to the student's own question may touch
# A question word within its first three words ("so how did he…", "ok but why…").
# A question without its mark, asked inside the sentence: "and wait if lenin died in 1924 does that mean
# stalin only became general secretary after lenin died" (relay trial 29, answered, refused as unjudged).
_ASKED_INSIDE = re.compile(r"\b(?:does|did|do) (?:that|this|it) mean\b|\b(?:is|was) (?:it|that) true\b|\bam i right\b|"
                           r"\bwould (?:that|this|it) mean\b", re.I)
_ASKING = re.compile(r"^\W*(?:\w+\W+){0,2}(who|what|when|where|why|how|which|was|were|did|does|do|is|are|can|could|would)\b",
                     re.I)


def answering(ctx: CheckContext, reading: Reading, message: str) -> CheckContext:
    """The checks' context with the Reading's answers to the student's own direct questions, and
    its corrections of the student's own wrong claims, allowed: answering what was asked and
    correcting what was said wrong is not giving the argument away (the facts are not held back,
    the judgement is). One that states more than ANSWER_POINTS key points of one card is the
    argument, not an answer, and stays a leak."""
    said = _plain(message)

    def theirs(text: str) -> bool:
        # The model may join two stretches of the student's words with an ellipsis ("i thought the ban on
        # factions was Stalin's thing ... Stalin banned factions inside the party in 1924"): each is theirs
        # (relay trial 64's correction of it was refused as a leak).
        # …or a slash ("it basically said trotsky should be the next leader / lenin literally named trotsky",
        # relay trial 65).
        pieces = [p for p in re.split(r"\s*(?:\.\.\.|…|\s/\s)\s*", text) if p.strip()]
        return bool(pieces) and all(fuzz.partial_ratio(_plain(p), said) >= QUOTE_FIDELITY for p in pieces)
    replies = [q.answer for q in reading.student_questions
               if q.answer.strip() and ("?" in q.text or _ASKING.match(q.text)) and theirs(q.text)]
    answers = replies + [c.correction for c in reading.claims
                         if c.verdict in ("wrong", "partly") and c.correction.strip() and theirs(c.text)]
    # Counted per card: one fact touches points of several cards ("Zinoviev and Kamenev kept him as
    # General Secretary" names the posts and the alliances), but three points of one card are its argument.
    allowed = [a for a in answers
               if max(Counter(k.split(":")[0] for k in ctx.leaks(a)).values(), default=0) <= ANSWER_POINTS]
    # A key point the student makes in this message, in words that are theirs, is reached: stating
    # it back is not giving it away (relay: "trotsky skipped lenins funeral" flagged as a leak).
    made = {p.key_point_id for p in reading.points_made
            if len(p.words.split()) >= 2 and fuzz.partial_ratio(_plain(p.words), said) >= QUOTE_FIDELITY}
    if not allowed and not made:
        return ctx
    # The reply answers in its own words, and may say a little more than the Reading's one-sentence answer: one
    # key point beyond it is still the answer (relay trial 78: "Bukharin built its fuller theory, tying it to NEP
    # and the peasant alliance", to "did Bukharin do the theoretical heavy lifting?", was refused as a leak).
    asked = any(a in allowed for a in replies)
    return replace(ctx, allowed_text="\n".join([ctx.allowed_text, *allowed]), covered=ctx.covered | made,
                   answers=ctx.answers + allowed, may_state=max(ctx.may_state, 1) if asked else ctx.may_state)


_WHAT_IF = re.compile(r"\b(?:if|unless|could|would|might|should|suppose|imagine|rather than|instead of|what if)\b"
                      r"|\b\w+'ve\b", re.I)


def plain_statement(text: str) -> bool:
    """A short statement of one dated or named fact, with no denial, what-if or question in it
    ("Lenin died in 1925", "Trotsky was in the triumvirate"): the fact checker's reading of it is
    not in doubt, so the model cannot set it aside as a misreading."""
    return (len(text.split()) <= BARE_EVENT_WORDS and not _NEGATED.search(text) and not _WHAT_IF.search(text)
            and "?" not in text and not _ASKING.match(text) and not _OWN_MUDDLE.search(text)
            and not _HEDGED.search(text))


# "supposedly because Stalin gave him the wrong date": the student reports a claim, hedged, and does not make
# it (relay trial 68's model named the finding as a misreading and was refused).
_HEDGED = re.compile(r"\b(?:supposedly|allegedly|apparently|reportedly|according to|(?:he|trotsky|stalin) "
                     r"(?:later\s+)?(?:said|says|claimed|claims|alleged|insisted))\b", re.I)


# "i think i mixed up the trotsky praise with stalin": the student on their own muddle, no statement of fact.
_OWN_MUDDLE = re.compile(r"\b(?:i|i've|ive|i'd)\s+(?:\w+\s+)?(?:mixed|mix|confused|muddled|mistook|meant|swapped)\b",
                         re.I)


def _waived(claim, ctx: ReadingContext) -> set[str]:
    """The keys of the evidence the model says misreads this claim (its ``misread`` field): the
    checker reads words, and a denial ("Trotsky chose not to attack Stalin over Georgia"), a
    what-if ("even with the label they could've won a vote") or a question read as the claim made
    a guard refuse the brief's own reading in every relay trial (9-17). The model names the
    evidence and says why; the finding stays evidence on the record. A plain statement's finding
    cannot be set aside."""
    ids = claim.disputed()
    if not ids and claim.misread.strip():
        # A misreading explained without its id (relay trial 36: "The finding takes Stalin's side for
        # the opposition's …", refused twice): the findings on this claim's own sentence are meant.
        ids = {ev.id.upper() for ev in ctx.evidence}
    if not ids or plain_statement(claim.text):
        return set()
    # The claim is the student's sentence the evidence reads, or part of it: a misreading is
    # named for what the student said, not for a claim the model wrote to set a finding aside.
    # Each piece of a claim the model joined with "..." is the student's ("at the 13th Congress in May
    # 1924 ... Lenin's Testament wouldn't be read to the full congress", refused in relay trial 74).
    pieces = [_plain(x) for x in re.split(r"\s*(?:\.\.\.|…)\s*", claim.text) if _plain(x)]
    return {ev.key for ev in ctx.evidence
            if ev.id.upper() in ids and pieces
            and all(fuzz.partial_ratio(piece, _plain(ev.sentence)) >= CLAIM_SENTENCE for piece in pieces)}


def answers_contradicted(reading: Reading, evidence: list[Evidence]) -> bool:
    """A question of the student's that carries a contradicted claim ("were they all expelled from the
    party straight away in 1923?") is answered in the Reading: the answer is the correction, and an
    opening "Right" to the rest of the message praises no error (relay trial 23)."""
    wrong = [_plain(ev.sentence) for ev in evidence if ev.finding == "contradicts"]
    return any(q.answer.strip() and any(fuzz.partial_ratio(_plain(q.text), w) >= CLAIM_SENTENCE for w in wrong)
               for q in reading.student_questions)


def waived_keys(reading: Reading, ctx: ReadingContext) -> set[str]:
    """The evidence keys the Reading's claims set aside as misreadings (and may)."""
    return set().union(*(_waived(c, ctx) for c in reading.claims))


def reading_checks(reading: Reading, ctx: ReadingContext) -> list[Check]:
    """The guards on a Reading that the evidence decides: a claim the evidence contradicts is
    never judged right and never left unjudged; a claim it supports never wrong; evidence named
    must be evidence given; a question the student asked is answered."""
    checks: list[Check] = []
    against: list[str] = []
    findings = [_claim_findings(c.text, ctx) for c in reading.claims]
    waived = [_waived(claim, ctx) for claim in reading.claims]
    for claim, found, off in zip(reading.claims, findings, waived):
        found = [f for f in found if f.key not in off]
        # Where the claim's own words give the fact the other finding, its own reading stands: "bukharin
        # stayed with stalin" is supported, though its sentence ran on into "…i always get the left and
        # right mixed up" and was read as putting Stalin on the Left (relay trial 18).
        read = {f.key: f.finding for f in found}
        own = [ev for ev in ctx.evidence if ev.key not in off and read.get(ev.key, ev.finding) == ev.finding
               and _bears_on(claim, ev, ctx, found)]
        # The order of two events and a year bound to a timeline keyword are read from the words
        # near them: evidence to show, not to overrule the model with (relay trials 6-7: "before 1922
        # he was…", "Lenin attacked Rabkrin in 1923", "I never claimed he ran Rabkrin in 1923").
        found = [f for f in found if not f.key.startswith("order.")]
        own = [f for f in own if not f.key.startswith("order.")]
        negated = bool(_NEGATED.search(claim.text))
        contradicted = [f for f in found + own if f.finding == "contradicts"
                        and not (negated and f.key.startswith("timeline."))]
        # Support that does not speak to the claim's own year cannot make a dated claim right: "at the
        # 14th Congress in December 1925, when Zinoviev and Kamenev teamed up with Trotsky" is wrong on
        # its date though they did team up, in 1926 (relay trial 6).
        # A claim with no year of its own takes its sentence's: "bukharin lost in 1928-29 but rykov was on
        # stalins side against him" is about 1928, not the 1925-27 alliance (relay trial 23).
        years = _years(claim.text) or _years(_sentence_holding(claim.text, ctx.message))
        # A timeline match says the event's date is right, not that a longer claim about it is
        # ("kicked out of the party at the 13th congress in 1924": the congress was in 1924); a bare
        # dated event ("Lenin died in January 1924") is what it decides.
        bare = len(claim.text.split()) <= BARE_EVENT_WORDS
        # Support for a claim whose subject is a pronoun the checker cannot resolve ("in 1926 he joined
        # the united opposition with trotsky against stalin": supported on Trotsky against Stalin, the
        # "he" being Bukharin, relay trial 8) is support for someone else's claim.
        unresolved = bool(_PRONOUN_SUBJECT.search(claim.text))
        supported = [f for f in found + own if f.finding == "supports" and not unresolved
                     and (bare or not f.key.startswith("timeline."))
                     and (not years or years & _years(f.fact))]
        # A "wrong" is refused only on support the model was shown: "trotsky voted to remove stalin but lost"
        # was refused twice on "Trotsky was against Stalin", found by re-reading the claim alone and never
        # in the brief (relay trial 38's first turn fell back). A "right" on a contradicted claim is refused
        # whatever found it: a false claim is never confirmed.
        shown_keys = {e.key for e in ctx.evidence}
        shown_support = [f for f in supported if f.key in shown_keys]
        if claim.verdict == "right" and contradicted:
            ev = contradicted[0]
            against.append(f"\"{claim.text[:80]}\" was judged right, but the evidence contradicts it: "
                           f"{ev.fact} (source: {ev.source}). Judge it wrong and correct it{_misread_hint(ev, ctx)}")
        elif claim.verdict == "wrong" and shown_support and not contradicted and _wholly_supported(claim, ctx) \
                and _people_in(claim.text) <= _people_in(shown_support[0].fact) \
                and _things_in(claim.text) <= _things_in(shown_support[0].fact):
            # Support that leaves out someone the claim names is about part of it: "the postscript said
            # trotsky should take over from stalin as general secretary" is not made right by Stalin's
            # own post (relay trial 16).
            ev = shown_support[0]
            against.append(f"\"{claim.text[:80]}\" was judged wrong, but the evidence supports it: "
                           f"{ev.fact} (source: {ev.source}). Judge it right{_misread_hint(ev, ctx)}")
    disputed = set().union(*waived)
    for ev in ctx.evidence:
        if ev.finding == "contradicts" and not ev.key.startswith("order.") and ev.key not in disputed \
                and not (ev.key.startswith("timeline.") and _NEGATED.search(ev.sentence)) \
                and not any(_bears_on(c, ev, ctx, f) or _corrects_sentence(c, ev, ctx)
                                                   for c, f in zip(reading.claims, findings)) \
                and not _answered_question(ev.sentence, reading):
            against.append(f"the student's claim \"{ev.sentence[:80]}\" is not judged, and the evidence "
                           f"{ev.id} contradicts it: {ev.fact} (source: {ev.source}). Judge it and correct it first")
    checks.append(Check("verdicts_match_evidence", not against, "; ".join(against)))

    given = {ev.id for ev in ctx.evidence}
    bad = []
    for claim in reading.claims:
        if any((kind == "passage" and int(ref) not in ctx.passages) or (kind == "fact" and ref not in given)
               for kind, ref in claim.evidence_refs()):
            bad.append(claim.evidence)
    checks.append(Check("evidence_valid", not bad,
                        f"names evidence that was not given: {bad}; use a passage number or an evidence id" if bad else ""))

    if reading.student_questions:
        # A quotation closing a sentence ('…gave him." [1] If his partners…?') ends it: relay trial 27's
        # answer in a quoted line was read as part of the closing question, and refused.
        before = " ".join(SENTENCE_ENDS.split(reading.reply.strip())[:-1])
        missed = [f"the student asked \"{q.text[:80]}\": name one or two areas they have not covered yet (for "
                   "example the Testament, the Lenin Enrolment), not only that something is missing"
                   for q in reading.student_questions if _MISSING.search(q.text) and q.answer.strip()
                   and not _names_the_course(q.answer, ctx.lessons)]
        missed += [f"the student asked \"{q.text[:80]}\": answer it in one short sentence from the passages "
                  "before your question" for q in reading.student_questions
                  # A request about the talk itself ("can we switch for a sec", relay trial 5) is
                  # answered by doing it: only a factual answer must be there in words.
                  if q.answer.strip() and _factual(q.text) and not _TALK.search(q.text)
                  and _about_the_course(q.text, ctx) and not _answer_given(q.answer, before)]
        missed += [f"the student asked \"{q.text[:80]}\", a factual question, and it has no answer: give a direct "
                   "short answer from the passages (only the overall judgement is left to the student)"
                   for q in reading.student_questions if not q.answer.strip() and _factual(q.text)]
        checks.append(Check("answers_question", not missed, "; ".join(missed)))
    if reading.move == "summarise_and_judge" and (ctx.words or ctx.student_text):
        theirs = _plain(ctx.student_text)
        quoted = any(fuzz.partial_ratio(_plain(w), _plain(reading.reply)) >= QUOTE_FIDELITY for w in ctx.words if w) \
            or any(len(span.split()) >= 3 and fuzz.partial_ratio(_plain(span), theirs) >= QUOTE_FIDELITY
                   for span in [sp for sp, _ in quoted_spans(reading.reply)] + _SINGLE_QUOTED.findall(reading.reply))
        checks.append(Check("summary_in_their_words", quoted,
                            "" if quoted else "a summary gives the student's points in their own words (whole "
                                              "phrases from their messages)"))
    if reading.move == "summarise_and_judge" and ctx.corrections:
        relisted = relisted_corrections(reading.reply, ctx.corrections)
        checks.append(Check("summary_not_corrected", not relisted,
                            "; ".join(f"the summary lists \"{said[:80]}\" as the student's point, but it was corrected "
                                      f"({fix[:100]}): put it under what was corrected, or leave it out"
                                      for said, fix in relisted)))
    return checks


# 'looked like a dull clerical job' and ‘…’: single quotation marks quote the student too (relay trial
# 11 refused a summary that quoted four of the student's phrases that way). An apostrophe inside a
# word ("Stalin's") opens no quotation.
_SINGLE_QUOTED = re.compile(r"(?<![\w])['‘]([^'‘’\n]{8,200}?)['’](?![\w])")

_CORRECTED = re.compile(r"\b(?:correct(?:ed|ion)?|fix(?:ed)?|not|never|wrong|actually|in fact|mistaken?|rather|"
                        r"instead|turned out|thought|believed)\b|n't\b", re.I)


def relisted_corrections(reply: str, corrections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Corrected claims a summary gives back as the student's points: their words in a sentence
    that neither says they were corrected nor gives the correction.

    >>> fix = [("stalin gave the big speech at the funeral", "Stalin gave the oath speech at the Congress of Soviets.")]
    >>> relisted_corrections('You argued "stalin gave the big speech at the funeral". Which mattered most?', fix)[0][0]
    'stalin gave the big speech at the funeral'
    >>> relisted_corrections('You thought "stalin gave the big speech at the funeral", but it was the oath. Why?', fix)
    []
    """
    out = []
    sentences = re.split(r"(?<=[.!?])\s+", reply.strip())
    for said, fix in corrections:
        if len(said.split()) < 3:
            continue
        for sentence in sentences:
            if fuzz.partial_ratio(_plain(said), _plain(sentence)) < QUOTE_FIDELITY:
                continue
            gives_fix = len(_content(fix) & _content(sentence) - _content(said)) >= 2
            if not (_CORRECTED.search(sentence) or gives_fix):
                out.append((said, fix))
                break
    return out


_STOP = frozenset("that this with from they them their there were was have had been into what when which would "
                  "could about than then also only just very because".split())
# A question of judgement, left to the student: why something happened, or the lesson's whole answer.
_JUDGEMENT = re.compile(r"^\W*(?:\w+\W+){0,3}(?:why\b|how (?:far|important|significant|much)\b|to what extent\b|"
                        r"(?:do|would) you (?:think|say|agree)\b|(?:just )?tell me (?:why|the answer)\b)", re.I)
# Weighing factors is judgement wherever the question puts it ("does that mean ideology mattered as
# much as the machine?", relay trial 4): the student's to reach, not a fact to hand over.
_WEIGHING = re.compile(r"\b(?:matter(?:ed|s)?|(?:more|most|less|as) (?:important|significant|decisive)|decisive|"
                       r"inevitable|to blame|main reason|the reason|strong enough|good enough|convincing)\b", re.I)


def _content(text: str) -> set[str]:
    return {w[:6] for w in re.findall(r"[a-z0-9]+", text.lower())
            if (len(w) >= 4 or w.isdigit()) and w not in _STOP}


_OWN_WORK = re.compile(r"\b(?:essay|structure|paragraphs?|plan|mark|level|grade|conclusion|intro(?:duction)?|"
                       r"thesis|argument)\b", re.I)


def _about_the_course(question: str, ctx: ReadingContext) -> bool:
    """A factual question about the history, which the passages answer: not one about the student's
    own work ("is that a decent essay structure?") or off the course ("is it worth seeing the
    castle?"), which relay trial 15 refused for lacking "an answer from the passages"."""
    if _OWN_WORK.search(question):
        return False
    words = {w for w in re.findall(r"[a-z]{4,}", question.lower())} - _STOP_WORDS
    course = " ".join(ctx.passages.values()).lower()
    return not words or not course or any(w in course for w in words)


_STOP_WORDS = frozenset("""that this what when where which with were was have been from they them their there then
than does didn your just about into like really even also only some more most very much would could should""".split())


def _answered_question(sentence: str, reading: Reading) -> bool:
    """The evidence is about a question of the student's that the Reading answers: a question is
    never judged as a claim (relay trial 13: "what exactly happened with the Testament in May 1924 -
    was it read to the whole congress?" was answered, yet refused as an unjudged claim)."""
    if "?" not in sentence and not _ASKING.match(sentence.strip()) and not _ASKED_INSIDE.search(sentence):
        return False
    plain = _plain(sentence)
    return any(q.answer.strip() and (fuzz.partial_ratio(_plain(q.text), plain) >= QUOTE_FIDELITY
                                     or fuzz.partial_ratio(plain, _plain(q.text)) >= QUOTE_FIDELITY)
               for q in reading.student_questions)


def _answer_given(answer: str, before: str) -> bool:
    """The reply, before its closing question, gives the Reading's answer: a good share of the
    answer's content words are there (the reply words it its own way), or the answer itself."""
    wanted, there = _content(answer), _content(before)
    if not wanted:
        return len(before.split()) >= 4
    # The answer's first clause is the answer; the rest is the model's elaboration ("In November 1927,
    # after the street demonstrations; the 15th Congress confirmed it", given as "expelled from the
    # party in November 1927" in relay trial 10, was refused).
    head = _content(re.split(r"[;,:—–(]|\s-\s", answer.strip(), maxsplit=1)[0])
    if len(head) >= 2 and len(head & there) >= 0.75 * len(head):
        return True
    # "Largely yes: the Secretariat decided … so congresses filled with people who owed their jobs to
    # the centre" is given by "On appointments, yes: local secretaries were 'recommended' by the
    # Secretariat [5], which shaped who reached congresses" (relay trial 42 refused it): the verdict
    # itself, with some of what backs it.
    verdict = re.match(r"^\W*(?:(?:largely|mostly|partly|broadly|basically)\s+)?(yes|no)\b", answer, re.I)
    if verdict and re.search(rf"\b{verdict.group(1)}\b", before, re.I) and len(wanted & there) >= 3:
        return True
    return len(wanted & there) >= max(1, round(0.34 * len(wanted))) or fuzz.partial_ratio(
        _plain(answer), _plain(before)) >= QUOTE_FIDELITY


_TALK = re.compile(r"\b(?:can|could|shall|may) (?:we|i|you|u)\b|\b(?:switch|move on|go back|change topic)\b", re.I)
_MISSING = re.compile(r"\b(?:missing|enough|left out|forg[eo]t|anything else|what else)\b", re.I)


def _factual(question: str) -> bool:
    """A question with a factual answer in the passages (who, when, what happened, did X, was X
    ill…), as against one of judgement (why Stalin won, how important was X)."""
    return bool(_ASKING.match(question)) and not _JUDGEMENT.match(question) and not _WEIGHING.search(question) \
        and not _WRITE_FOR_ME.search(question)


# A request to write part of the essay ("can you give me like a one line conclusion for the essay?") is
# declined, not answered: relay trial 51's guard asked for "a direct short answer from the passages".
_WRITE_FOR_ME = re.compile(r"\b(?:write|draft|give me|do|make)\b[^?.]{0,30}\b(?:conclusion|introduction|intro|"
                           r"paragraph|essay|thesis|plan|opening|sentence|line)s?\b", re.I)


def supported_points(reading: Reading, card: LessonCard | None, message: str, supports) -> tuple[dict[str, str], list[str]]:
    """The key points of a Reading that count: on the card, in words the student wrote in this
    message, which ``supports(kp_id, words)`` (the embedding floor) says make the point. Returns
    the points with their words, and the ones refused (``kp: why``)."""
    accepted: dict[str, str] = {}
    refused: list[str] = []
    ids = {k.id for k in card.key_points} if card else set()
    for point in reading.points_made:
        words = point.words.strip()
        if point.key_point_id not in ids:
            refused.append(f"{point.key_point_id}: not a key point of this card")
        elif len(words.split()) < 2 or fuzz.partial_ratio(_plain(words), _plain(message)) < QUOTE_FIDELITY:
            refused.append(f"{point.key_point_id}: the words are not the student's")
        elif not supports(point.key_point_id, words):
            refused.append(f"{point.key_point_id}: the words do not make the point")
        else:
            accepted.setdefault(point.key_point_id, words)
    return accepted, refused


_DECLINES = re.compile(r"\b(?:can'?t|cannot|won'?t|not (?:something|one|a question) (?:i|for)|outside (?:our|the|this)|"
                       r"off (?:the |our )?(?:topic|course)|(?:your|a) [\w ]{0,20}teacher|another (?:time|place)|"
                       r"not here|isn'?t (?:what|something) (?:i|we)|beyond (?:what|our|this))\b", re.I)


# Words any reply may share with any message: no subject is taken up by them.
_COMMON = frozenset("""could would should with that this have what your from they were about help like just
really when where which there their them then than been into only also some more much very want need know
think sure sorry thanks question""".split())


def takes_up_off_topic(text: str, message: str, passages: dict[int, str]) -> Check:
    """For a message read as off the course: the reply does not take up its subject (a word of
    the message, not in any passage shown, back in the reply: "What kind of pizza place near you? [1]"
    from the real 0.5B model, which cited a passage and so passed ``on_course``).

    >>> takes_up_off_topic("What kind of pizza place near you? [1]", "recommend a pizza place", {1: "Stalin"}).passed
    False
    >>> takes_up_off_topic("Back to Stalin: who chose the delegates [1]?", "recommend a pizza place", {1: "Stalin"}).passed
    True
    >>> takes_up_off_topic("Your chemistry homework is one for your chemistry teacher. Back to Stalin: who chose "
    ...                    "the delegates [1]?", "help with my chemistry homework", {1: "Stalin"}).passed
    True
    """
    course = _plain(" ".join(passages.values()))
    # Naming the subject to decline it takes nothing up ("your chemistry homework is one for your
    # chemistry teacher", refused in relay trial 20).
    said = " ".join(s for s in re.split(r"(?<=[.!?])\s+", unquoted(text)) if not _DECLINES.search(s))
    taken = sorted({w for w in set(_plain(message).split()) & set(_plain(said).split())
                    if len(w) >= 4 and w not in course and w not in _COMMON})
    return Check("off_topic_not_taken_up", not taken,
                 f"the reply takes up the off-course request ({', '.join(taken)}); bring it back to the power "
                 "struggle instead" if taken else "")


def model_reply_checks(text: str, message: str, lessons: Lessons | None, passages: dict[int, str],
                       closing: bool = False) -> list[Check]:
    """A model's reply asks one question, at the end (or none, where the student is taking their
    leave); does not hand the student's message back; and stays on the course (names something of
    it, or cites a passage)."""
    own = unquoted(text)
    questions = [s for s in re.split(r"(?<=[.!?])\s+", own.strip()) if s.rstrip(" )\"'”’*_[]0123456789").endswith("?")]
    one = len(questions) <= 1 and (last_sentence_is_question(text) or (closing and not questions))
    checks = [Check("one_question", one, "" if one else "ask exactly one question, at the end of the reply")]
    mine, theirs = _plain(re.sub(r"\[\d+\]", " ", own)), _plain(message)
    echoed = bool(theirs) and (fuzz.ratio(mine, theirs) >= ECHO_RATIO
                              or (len(theirs.split()) >= 5 and fuzz.partial_ratio(theirs, mine) >= 95))
    checks.append(Check("no_echo", not echoed, "the reply repeats the student's message; answer it instead" if echoed else ""))
    cites = any(n in passages for n in map(int, _CITE.findall(text)))
    on_course = cites or _names_the_course(text, lessons)
    checks.append(Check("on_course", on_course, "" if on_course else
                        "the reply is not about the course: bring it back to the power struggle and cite a passage"))
    return checks


_COURSE_NAMES = re.compile(r"\b(stalin|trotsky|zinoviev|kamenev|bukharin|rykov|tomsky|lenin|bolshevik|soviet|"
                           r"politburo|party|nep|kronstadt|power struggle|general secretary|testament)", re.I)


def _names_the_course(text: str, lessons: Lessons | None) -> bool:
    if _COURSE_NAMES.search(text):
        return True
    if lessons is None:
        return False
    return any(score >= 1.0 for _, score in lessons.match(text)[:1])
