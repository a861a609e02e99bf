"""The offline composer: acknowledgement + one quoted sentence with its citation + one question.

>>> text, citations = compose_offline(move, passages, templates, ctx_for_leaks)   # doctest: +SKIP
>>> text                                                                          # doctest: +SKIP
'Good question. Look at this passage: “On 3 April 1922 ...” [1] Which office let Stalin ...?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.pedagogy.checks import leaked_key_points
from tutor.pedagogy.moves import Move, pick
from tutor.retrieval import tokenize
from tutor.store import Passage

_SENT = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(])")
MIN_WORDS, MAX_WORDS = 7, 42


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


def _usable(sentence: str) -> bool:
    words = len(sentence.split())
    # Unbalanced quotation marks would break the quote the reply wraps around it.
    return (MIN_WORDS <= words <= MAX_WORDS and sentence.count('"') % 2 == 0
            and sentence.count("“") == sentence.count("”") and not sentence.startswith(("-", "*", "|")))


def choose_quote(move: Move, passages: list[Passage], message: str, covered: set[str],
                 allowed_text: str) -> tuple[Passage, str] | None:
    """The best short sentence to quote: on the move's topic, from its focus documents if possible,
    and never one that states a key point the student has not reached."""
    target = set(tokenize(" ".join(filter(None, [move.question, message, move.counter or "",
                                                  move.misconception.why_wrong if move.misconception else ""]))))
    required = None
    if move.date_error:
        required = str(move.date_error.event.years[0])
    best: tuple[float, Passage, str] | None = None
    for rank, passage in enumerate(passages):
        focus = passage.doc_id in move.focus_docs
        for sentence in sentences(passage.text):
            if not _usable(sentence):
                continue
            if required and required not in sentence:
                continue
            if move.card and leaked_key_points(sentence, move.card, covered, allowed_text):
                continue
            tokens = set(tokenize(sentence))
            overlap = len(tokens & target) / (1 + len(target)) ** 0.5
            if move.date_error:
                overlap += sum(1 for k in move.date_error.event.keywords if k.lower() in sentence.lower())
            score = overlap + (0.8 if focus else 0.0) - 0.05 * rank
            if best is None or score > best[0]:
                best = (score, passage, sentence)
    return (best[1], best[2]) if best else None


def compose_offline(move: Move, passages: list[Passage], templates: dict, *, message: str, turn: int,
                    covered: set[str], allowed_text: str, intent_kind: str) -> tuple[str, list[Citation]]:
    acks = templates["ack"]
    ack_key = "decline_writing" if (move.kind == "decline_and_scaffold" and intent_kind == "writing_request") \
        else move.kind
    parts: list[str] = []
    if move.newly_covered and move.kind not in ("summarise_and_judge",):
        parts.append(pick(acks["acknowledge_point"], turn))
    ack = pick(acks.get(ack_key, acks["hint"]), turn)
    if "{covered}" in ack:
        names = [move.card.key_point(k).evidence_terms[0] for k in sorted(covered)] if move.card else []
        ack = ack.format(covered=", ".join(names) or "the main points")
    parts.append(ack)

    citations: list[Citation] = []
    quote_moves = ("redirect", "refuse_instructions", "greet", "summarise_and_judge")
    if move.kind not in quote_moves:
        found = choose_quote(move, passages, message if move.kind not in ("redirect",) else "",
                             covered, allowed_text)
        if found:
            passage, sentence = found
            citations.append(Citation(1, passage.id, passage.doc_id, passage.title, passage.kind, passage.page,
                                      sentence, passage.text))
            if move.kind == "counter_argument" and move.counter:
                parts.append(f"{pick(templates['counter_intro'], turn)} {move.counter}")
                parts.append(f"Weigh it against this: “{sentence}” [1]")
            else:
                parts.append(f"{pick(templates['evidence_intro'], turn + 1)} “{sentence}” [1]")
        elif move.kind == "counter_argument" and move.counter:
            parts.append(f"{pick(templates['counter_intro'], turn)} {move.counter}")
    if move.kind == "redirect":
        parts.append(pick(templates["redirect_bridge"], turn))
    parts.append(move.question)
    return " ".join(p.strip() for p in parts if p.strip()), citations
