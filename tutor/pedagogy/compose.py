"""The offline composer: acknowledgement + one quoted sentence with its citation + one question.

Example::

    text, citations = compose_offline(move, passages, templates, message=m, turn=0,
                                      covered=set(), leaks=ctx.leaks, intent_kind='question')
    text
    # → 'Good question. Look at this passage: “On 3 April 1922 ...” [1] Which office let Stalin ...?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from tutor.pedagogy.assess import short_phrase
from tutor.pedagogy.moves import Move, pick
from tutor.pedagogy.repeats import RepeatGuard
from tutor.retrieval import tokenize
from tutor.store import Passage

# Sentence ends, but not after an initial or a title ("E. H. Carr", "Dr. Zhivago", "St. Petersburg").
_SENT = re.compile(r"(?<!\b[A-Z]\.)(?<!\b(?:Mr|Dr|St|Mt|vs|cf)\.)(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(])")
MIN_WORDS, MAX_WORDS = 7, 34
ANSWER_WORDS = 50


@dataclass
class Citation:
    """A passage cited in a reply as [n], with the span quoted from it."""

    n: int
    passage_id: str
    doc_id: str
    title: str
    kind: str
    page: int | None
    quote: str
    text: str

    def as_dict(self) -> dict:
        return {"n": self.n, "passage_id": self.passage_id, "doc_id": self.doc_id, "title": self.title,
                "kind": self.kind, "page": self.page, "quote": self.quote}


def sentences(text: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n|\n(?=[-*#] )", text):
        para = " ".join(para.split())
        if para.startswith("#"):
            continue
        out.extend(s.strip() for s in _SENT.split(para) if s.strip())
    return out


def _usable(sentence: str, most: int = MAX_WORDS) -> bool:
    words = len(sentence.split())
    # Unbalanced quotation marks would break the quote the reply wraps around it.
    # Straight double quotes inside would break the quotation marks the reply wraps around it.
    return (MIN_WORDS <= words <= most and '"' not in sentence
            and sentence.count("“") == sentence.count("”") and not sentence.startswith(("-", "*", "|")))


_CLAUSE_END = re.compile(r"(?<=\w)(?:,|;| –| —|:)\s")


def quotable(sentence: str, most: int = MAX_WORDS) -> str | None:
    """The sentence, or for a long one its opening clauses (up to a comma, semicolon or dash)
    followed by '…', when that is short enough to quote; None if neither is usable. A title in
    straight quotes ("The New Course") is set in single curly quotes inside the reply's own."""
    if sentence.count('"') and sentence.count('"') % 2 == 0:
        sentence = re.sub(r'"([^"]+)"', r"‘\1’", sentence)
    if _usable(sentence, most):
        return sentence
    if len(sentence.split()) <= most or not sentence[:1].isupper():
        return None
    cuts = [m.start() for m in _CLAUSE_END.finditer(sentence)]
    for cut in reversed(cuts):
        head = sentence[:cut].rstrip()
        if MIN_WORDS + 3 <= len(head.split()) <= most and _usable(head, most):
            return head + "…"
    return None


# Capitalised words that start sentences or carry no identity; the rest of a misconception's
# capitalised words (people, bodies, titles) are what a corrective quote should name.
_NOT_NAMES = frozenset("""The A An In It Its That This These Those But And Or He She They His Her Their
Was Were Is Are Not No On At By For From To Of As If When While After Before Only Even Many Most Some
January February March April May June July August September October November December""".split())
# A sentence opening with a pronoun or a link word leans on the sentence before it, which the
# student will not see ("He wrote an open letter ..."): quoted alone it confuses.
_LEANS_BACK = re.compile(r"^(he|she|it|they|this|these|that|those|his|her|its|their|such|both|others|second|third|fourth|"
                         r"a (second|third|fourth)|"
                         r"finally|also|yet|but|however|instead|then|thus|so|the latter|the former|the work|"
                         r"a (second|third|fourth) view|another view)\b", re.I)
# "The change is valuable evidence …", "The post looked …": a definite noun the student has not
# met yet leans on the sentence before it.
_DEFINITE = re.compile(r"^The ([a-z]+)\b(?! of\b)|\b(?:a|the) similar\b|\bthe same (?:mistake|view|point|argument)\b")
_POINTS_BACK = re.compile(r"\b(these|those|the latter|the former|such|this (argument|view|point|idea|case|approach))\b", re.I)
# Advice about writing essays is not evidence about the 1920s.
_META = re.compile(r"\b(a strong answer|strong answers|the best essays?|an essay|in essays|students (should|who)|"
                   r"examiners?|mark scheme|a balanced judgement|one defensible line|whatever line|(essay|exam|source) questions?|"
                   r"key words|paper \d)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_AGAINST = re.compile(r"\b(limits?|however|but|does not|do not|did not|not explain|counter|critics?|objection|"
                      r"weakness|overstate|doubt)\b", re.I)
_GENERIC = frozenset({"stalin", "lenin", "parti", "parti", "parties", "power", "won", "win", "did", "happen"})


def correction_names(move: Move, message: str) -> dict[str, float]:
    """Names in a misconception's correction, weighted for choosing a quote: those in its first
    clause (who really said or did it: 'Sukhanov' for 'Trotsky called him a grey blur') most,
    above all when the student did not use them; later ones a little, if the student did not."""
    if not move.misconception:
        return {}
    low = message.lower()
    first, _, rest = move.misconception.why_wrong.partition(";")
    names: dict[str, float] = {}
    for clause, weight in ((rest, 0.5), (first, 1.0)):
        for name in _NAME.findall(clause):
            if name in _NOT_NAMES:
                continue
            fresh = name.lower() not in low
            if weight == 1.0 or fresh:
                names[name] = weight + (0.5 if fresh and weight == 1.0 else 0.0)
    return names


def scored_sentences(move: Move, passages: list[Passage], message: str,
                     claim: str = "") -> list[tuple[float, Passage, str]]:
    """Every quotable sentence of the passages with its score, best first: on the move's question
    (above all), the message and the key point or correction at stake, from the move's focus
    documents if possible; a date correction only considers sentences with the right year."""
    weighted: dict[str, float] = {}
    asked = move.kind == "answer_question"  # the student's own question leads the search for evidence
    # A confirmation is answered with the reason: evidence about the claim being checked.
    # A correction's evidence bears on the correction: "Accounts differ on Lenin's wishes …" under
    # "read to each delegation separately" (offline dialogue d026) was evidence for nothing said.
    correcting = move.kind == "probe_misconception" and move.misconception is not None
    sources = [(move.question, 0.4 if asked or claim or correcting else 1.0), (move.counter or "", 0.8),
               (message, 1.4 if asked else 0.5), (claim, 1.6),
               (move.key_point.statement if move.key_point else "", 1.2 if move.bottom_out else 0.6),
               (move.misconception.why_wrong if move.misconception else "", 1.6 if correcting else 0.8)]
    for text, weight in sources:
        for token in set(tokenize(text)):
            weighted[token] = max(weighted.get(token, 0.0), weight)
    norm = (1 + sum(weighted.values())) ** 0.5
    names = correction_names(move, message)
    # The subject of the student's own question ("tomsky", "new course") must be in the answer's evidence.
    subject = set(tokenize(message)) - set(tokenize(move.question)) - _GENERIC if asked else set()
    required = str(move.date_error.event.years[0]) if move.date_error else None
    out: list[tuple[float, Passage, str]] = []
    for rank, passage in enumerate(passages):
        focus = passage.doc_id in move.focus_docs
        # An answer may take a whole long sentence ("… the sailors of the Kronstadt naval base rose …").
        for sentence in (quotable(s, ANSWER_WORDS if asked else MAX_WORDS) for s in sentences(passage.text)):
            if sentence is None or (required and required not in sentence):
                continue
            relevance = sum(weighted.get(t, 0.0) for t in set(tokenize(sentence))) / norm
            # The focus documents win only among sentences that are on the question at all.
            score = relevance + (0.8 if focus and relevance >= 0.3 else 0.2 if focus else 0.0)
            if move.date_error:
                score += sum(1 for k in move.date_error.event.keywords if k.lower() in sentence.lower())
            score += sum(w for n, w in names.items() if n in sentence)
            if subject:
                score += 0.8 * len(subject & set(tokenize(sentence)))
            if claim and move.feedback == "right" and _AGAINST.search(sentence):
                score -= 1.0  # the reason for a "yes" is evidence for the claim, not its limits
            if move.bottom_out and move.key_point is not None:
                # The bottom of the ladder supplies part of the point: a sentence that carries it.
                from tutor.pedagogy.learner import terms_in

                score += 0.6 * len(terms_in(sentence, move.key_point.evidence_terms))
            # Study-skills advice is for skills questions, not evidence about the 1920s.
            if passage.kind == "skills" and not focus:
                score -= 1.0
            definite = _DEFINITE.search(sentence)
            if definite and (definite.group(1) or "similar")[:5] not in message.lower():
                score -= 0.6
            # An answer must stand on its own: "He urged …" opening a passage has no one to lean on.
            score -= 0.05 * rank + ((3.0 if asked else 1.5) if _LEANS_BACK.match(sentence) else 0.0) \
                + (0.4 if _POINTS_BACK.search(sentence) else 0.0) + (1.5 if _META.search(sentence) else 0.0)
            out.append((score, passage, sentence))
    out.sort(key=lambda x: -x[0])
    return out


def choose_quote(move: Move, passages: list[Passage], message: str,
                 leaks: Callable[[str], list[str]], claim: str = "") -> tuple[Passage, str] | None:
    """The best-scoring sentence that ``leaks`` does not report as giving a key point away."""
    for _, passage, sentence in scored_sentences(move, passages, message, claim):
        if not leaks(sentence):
            return passage, sentence
    return None


_TERMS_WORD = re.compile(r"\w+")


def _fill(template: str, **values: str) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def opening_sentence(move: Move, templates: dict, *, guard: RepeatGuard, turn: int, message: str,
                     state=None) -> str:
    """The first sentence: the verdict on what the student just said, specifically."""
    fb = templates.get("feedback", {})
    kind = move.opening
    a = move.assessment
    phrase = a.phrase if a is not None else ""
    if phrase.endswith("…"):  # a cut phrase reads badly: a whole clause of theirs, or "that"
        from tutor.pedagogy.closure import clean_phrase

        phrase = clean_phrase(a.made_by or a.text, 14)
    said = f"‘{phrase}’" if phrase else "that"
    terms = ", ".join(dict.fromkeys(t.lower() for t in (a.terms if a else []))) or said
    if kind.startswith("close_"):
        kind = kind.removeprefix("close_")
    options: list[str] = []
    if kind == "open" and move.act == "answer":
        kind = "open_answer"  # a reply to the tutor's question, not a claim of the student's own
    if kind in ("right", "partly", "open", "open_answer", "confirm_right", "confirm_partly", "confirm_open"):
        options = fb.get(kind, [])
        if kind.startswith("confirm_") and (a is None or a.text.rstrip().endswith("?") or not a.phrase):
            options = fb.get(kind + "_plain", options)  # a checked question is not quoted back as a claim
        if kind.endswith("partly") and a is not None and a.terms:
            options = fb.get(kind + "_terms", []) + options
    elif kind == "partly_misconception" and move.misconception is not None:
        fix = correction_clause(move.misconception.why_wrong)
        options = [_fill(o, fix=fix) for o in fb.get("partly_misconception", [])]
    elif kind == "contradicted":
        if move.date_error is not None:
            err = move.date_error
            options = [_fill(o, event=err.event.event.rstrip("."), correct=err.correct, stated=str(err.stated_year))
                       for o in fb.get("date_wrong", [])]
        else:
            fix = correction_clause(move.misconception.why_wrong) if move.misconception is not None \
                else "The sources say something different."
            options = [_fill(o, fix=fix) for o in fb.get("contradicted", [])]
    elif kind == "corrected" and a is not None:
        # A right sentence beside a wrong one: the correction first, then what stands.
        if move.date_error is not None:
            err = move.date_error
            fix = f"{err.event.event.rstrip('.')} was {err.correct}, not {err.stated_year}."
            fix = fix[:1].upper() + fix[1:]
        else:
            fix = correction_clause(move.misconception.why_wrong) if move.misconception else ""
        right = f"‘{short_phrase(a.right_phrase)}’"
        options = [_fill(o, fix=fix, right=right) for o in fb.get("corrected", [])]
    elif kind.startswith("pushback_"):
        options = fb.get(kind) or fb.get(kind.removesuffix("_right"), [])
    elif kind in ("dont_know", "complaint", "question", "judgement", "start", "summary"):
        options = fb.get(kind, [])
    elif kind in ("switch", "return"):
        topic = move.topic.strip() or "that"
        options = [_fill(o, topic=topic) for o in fb.get(kind, [])]
    if not options:
        acks = templates["ack"]
        ack_key = "decline_writing" if (move.kind == "decline_and_scaffold" and move.act == "writing_request") \
            else move.kind
        options = acks.get(ack_key, acks["hint"])
    options = [_fill(o, said=said, terms=terms) for o in options]
    return guard.fresh("opening", options, turn)


def correction_clause(why_wrong: str, limit: int = 26) -> str:
    """The first clause of a misconception's correction: what the sources say instead."""
    first = re.split(r";|:(?=\s)", why_wrong)[0].strip()
    words = first.split()
    out = " ".join(words[:limit]).rstrip(",. ")
    out = out[:1].upper() + out[1:]
    return out + ("…" if len(words) > limit else ".")


def _answers(quote: str, move: Move) -> bool:
    """True when the quoted sentence already supplies what the question asks for: an evidence
    term of the point that the question itself does not contain."""
    if move.key_point is None:
        return False
    from tutor.pedagogy.learner import terms_in

    asked = {t.lower() for t in terms_in(move.question, move.key_point.evidence_terms)}
    return any(t.lower() not in asked for t in terms_in(quote, move.key_point.evidence_terms))


def _intro(move: Move, templates: dict, claim: str) -> list[str]:
    """The leads for the quotation: support for a claim judged right, a correction's evidence, the
    passage to test an unjudged claim on, or plain evidence."""
    if move.kind in ("probe_misconception", "correct_date"):
        return templates["evidence_intro_correction"]
    if move.kind == "test_claim":
        return templates["evidence_intro_test_claim"]
    if claim:
        return templates["evidence_intro_confirm_" + ("right" if move.feedback == "right" else "other")]
    return templates.get("evidence_intro_" + move.kind) or templates["evidence_intro"]


SAME_QUESTION_SHARE = 0.75  # of a message's words (stemmed, years left out) found in a question


def shares_words(text: str, other: str, share: float) -> bool:
    """At least ``share`` of ``text``'s words (stemmed, years left out; three or more) are ``other``'s."""
    from tutor.retrieval import tokenize

    words = {t for t in tokenize(text) if not t.isdigit()}
    return len(words) >= 3 and len(words & set(tokenize(other))) / len(words) >= share


def asks_the_same(message: str, question: str) -> bool:
    """The message is the question (most of its words, stemmed, are the question's)."""
    return shares_words(message, question, SAME_QUESTION_SHARE)


def _with_next(sentence: str, passage: Passage, leaks: Callable[[str], list[str]]) -> str:
    """The answer's sentence and, when it only opens the matter ("… had clear reasons for
    protecting Stalin in May 1924."), the one after it in the passage, if that is short enough."""
    all_sentences = sentences(passage.text)
    core = sentence.rstrip("…")
    at = next((i for i, s in enumerate(all_sentences) if s.startswith(core)), None)
    if at is not None and at > 0 and _LEANS_BACK.match(sentence):
        # "He urged ordinary members …": start where a reader can follow, with the sentence before.
        before = all_sentences[at - 1]
        if len(before.split()) + len(sentence.split()) <= 60 and '"' not in before \
                and before.count("“") == before.count("”") and not leaks(before):
            return f"{before} {sentence}"
    if at is None or at + 1 >= len(all_sentences) or sentence.endswith("…"):
        return sentence
    nxt = all_sentences[at + 1]
    if len(sentence.split()) + len(nxt.split()) > 55 or not _usable(nxt) or leaks(nxt) or _META.search(nxt):
        return sentence
    return f"{sentence} {nxt}"


def _summary(move: Move, state, templates: dict, guard: RepeatGuard, turn: int, parts: list[str],
             question: str) -> tuple[list[str], str]:
    """A summary that sums up: the points made in the card's words with the student's own, the
    claims corrected with their corrections, and what is missing as the closing question; "every
    point" only when every point is made. Asked again with nothing new: one line, and on."""
    from tutor.pedagogy.closure import missing_question, summary_lines

    card = move.card
    made, corrected, missing = summary_lines(card, state)
    signature = f"{card.id}|{','.join(sorted(state.covered_on(card.id)))}|{len(corrected)}"
    asked_for = move.opening == "summary"
    if asked_for and signature in state.said.get("summary", []):
        return [pick(templates["closure_again"], turn)], missing_question(card, missing, guard) or question
    if asked_for:
        state.said.setdefault("summary", []).append(signature)
        parts = []  # the summary itself is the opening
    n = len(made)
    if made:
        count = "every one of the" if not missing else f"{_NUMBERS.get(n, str(n))} of the"
        parts.append(_fill(pick(templates["closure_made"], turn), count=count,
                           total=_NUMBERS.get(len(card.key_points), str(len(card.key_points)))))
        parts.extend(p[:1].upper() + p[1:] + "." for p in made)
    else:
        parts.append(templates["closure_nothing"][0])
    parts.extend(corrected)
    if missing:
        return parts, missing_question(card, missing, guard) or question
    parts.append(guard.fresh("opening", templates["closure_complete"], turn))
    return parts, question


_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def compose_offline(move: Move, passages: list[Passage], templates: dict, *, message: str, turn: int,
                    covered: set[str], leaks: Callable[[str], list[str]], intent_kind: str,
                    guard: RepeatGuard | None = None, state=None) -> tuple[str, list[Citation]]:
    """Feedback first, then at most one quoted sentence with its [1] to interpret, then one question."""
    guard = guard or RepeatGuard()
    # A direct question is answered straight away: the answer's lead is the opening.
    answering = move.kind == "answer_question" and move.opening == "question"
    parts: list[str] = [] if answering else \
        [opening_sentence(move, templates, guard=guard, turn=turn, message=message, state=state)]
    citations: list[Citation] = []
    question = move.question

    if move.kind == "summarise_and_judge" and move.card is not None and state is not None:
        parts, question = _summary(move, state, templates, guard, turn, parts, question)
    quote_moves = ("redirect", "refuse_instructions", "greet", "summarise_and_judge", "next_card")
    if move.kind not in quote_moves:
        skip = lambda s: bool(leaks(s)) or guard.seen("quote", s)
        a = move.assessment
        # A checked claim is answered with evidence about it; an unjudged one with the passage that bears on it.
        claim = a.text if a is not None and (move.kind == "test_claim" or (move.act == "confirm" and move.feedback)) \
            else ""
        if claim and move.feedback == "right" and move.card is not None and a.best in {k.id for k in move.card.key_points}:
            claim += " " + move.card.key_point(a.best).statement  # the point the claim makes, as the sources put it
        # The quote is evidence to interpret: one that states what the hint asks for is passed over.
        # (A student's own question is answered even when the answer is what the hint asks for.)
        fresh = lambda s: skip(s) or (move.hint is not None and move.kind != "answer_question" and _answers(s, move))
        found = choose_quote(move, passages, message, fresh, claim) or choose_quote(move, passages, message, skip, claim)
        if found is None:
            found = choose_quote(move, passages, message, leaks, claim)  # a repeat beats no evidence
        if found:
            passage, sentence = found
            if move.kind == "answer_question":
                sentence = _with_next(sentence, passage, leaks)  # one or two sentences that answer it
            citations.append(Citation(1, passage.id, passage.doc_id, passage.title, passage.kind, passage.page,
                                      sentence, passage.text))
            quote = f"“{sentence}” [1]"
            if move.kind == "counter_argument" and move.counter:
                parts.append(_fill(guard.fresh("opening", templates["counter_intro"], turn), counter=move.counter))
                parts.append(_fill(guard.fresh("intro", templates["counter_evidence"], turn + 1), quote=quote))
            else:
                parts.append(_fill(guard.fresh("intro", _intro(move, templates, claim), turn + 1), quote=quote))
            if move.hint is not None and _answers(sentence, move):
                # Only quotes that give the hint's answer away were left: ask what the quote shows
                # for the card's question instead of asking for what it states.
                topic = move.card.question if move.card else "why did Stalin win?"
                options = [_fill(q, question=topic) for q in templates["interpret_question"]]
                if asks_the_same(message, topic):
                    # The student asked the card's question itself: asking it back is an echo.
                    options = list(templates["bottom_out_question"])
                question = guard.fresh("question", options, turn)
        elif move.kind == "counter_argument" and move.counter:
            parts.append(_fill(guard.fresh("opening", templates["counter_intro"], turn), counter=move.counter))
        elif move.date_error and templates.get("date_fallback"):
            parts.append(pick(templates["date_fallback"], turn).format(
                event=move.date_error.event.event.rstrip("."), correct=move.date_error.correct))
    if move.kind == "redirect":
        parts.append(pick(templates["redirect_bridge"], turn))
    if move.kind == "probe_misconception" and move.misconception is not None:
        question = guard.fresh("question", templates["after_correction"], turn)
    if not question:
        question = guard.fresh("question", templates["bottom_out_question"], turn) if move.bottom_out \
            else (move.card.question if move.card else templates["greet_question"][0])
    parts.append(question)
    return " ".join(p.strip() for p in parts if p.strip()), citations
