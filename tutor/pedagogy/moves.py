"""Choosing the tutor's move for a turn (AutoTutor's expectation/misconception loop).

Example::

    move = choose(intent, state, card, misconceptions=[], date_errors=[], relevance={})
    move.kind, move.label
    # → ('hint', 'hint 2 of 3')

Priority: instruction changes and off-topic first; then wrong dates and misconceptions (a
probe); then requests for the answer (the next hint, never the answer); then claims
(evidence or a counter-argument), questions (the hint ladder), and a push for a judgement
once the student has made every key point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.kinds import MoveKind
from tutor.lessons import DateError, Hint, KeyPoint, LessonCard, Misconception
from tutor.pedagogy.intent import Intent
from tutor.pedagogy.learner import LearnerState

MOVE_LABELS = {
    "greet": "getting started",
    "redirect": "back to the topic",
    "refuse_instructions": "staying a tutor",
    "correct_date": "checking a date",
    "probe_misconception": "checking a misconception",
    "decline_and_scaffold": "a hint instead of the answer",
    "ask_evidence": "asking for evidence",
    "counter_argument": "a counter-argument",
    "summarise_and_judge": "time for a judgement",
    "essay_feedback": "essay coaching",
}
_EVIDENCE = re.compile(r"\b(1[89]\d\d|\d{2,3},\d{3}|\d+ ?(per ?cent|%)|congress|conference|testament|postscript|"
                       r"declaration|enrolment|platform|resolution|letter|article|speech|said|wrote|according to)\b", re.I)


@dataclass
class Move:
    kind: MoveKind
    question: str
    label: str = ""
    card: LessonCard | None = None
    key_point: KeyPoint | None = None
    hint: Hint | None = None
    misconception: Misconception | None = None
    date_error: DateError | None = None
    counter: str | None = None
    newly_covered: list[str] = field(default_factory=list)
    focus_docs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "card": self.card.id if self.card else None,
                "key_point": self.key_point.id if self.key_point else None,
                "hint_level": self.hint.level if self.hint else None,
                "misconception": self.misconception.id if self.misconception else None,
                "date_event": self.date_error.event.id if self.date_error else None}


def pick(options: list[str], n: int) -> str:
    """Vary wording across turns deterministically (tests and evaluation stay repeatable)."""
    return options[n % len(options)]


# Words in nearly every sentence of the course: they say nothing about which objection fits.
_EVERYWHERE = frozenset({"stalin", "party", "lenin", "power", "struggl", "won", "win"})


def pick_counter(card: LessonCard, message: str, kp: KeyPoint | None, turn: int) -> str:
    """The counter-argument closest to what the student said (and the point at stake); ties go
    round the card's list turn by turn so a student does not meet the same objection twice."""
    from tutor.retrieval import tokenize

    said = set(tokenize(message))
    if kp is not None:
        said |= set(tokenize(" ".join([kp.id.replace("-", " "), kp.statement, *kp.evidence_terms])))
    said -= _EVERYWHERE
    counters = card.counter_arguments
    order = [counters[(turn + i) % len(counters)] for i in range(len(counters))]
    return max(order, key=lambda c: len(said & set(tokenize(c))))


def has_evidence(text: str) -> bool:
    return bool(_EVIDENCE.search(text))


def _hint_move(kind: str, state: LearnerState, card: LessonCard, relevance: dict[str, float],
               advance: bool = True) -> Move:
    kp = state.target(card, relevance)
    if kp is None:
        return _judge(card, state)
    ladder = card.ladder(kp.id)
    rung = min(state.rung(card.id, kp.id), len(ladder) - 1)
    hint = ladder[rung]
    if advance:
        state.advance(card.id, kp.id, len(ladder))
    label = f"hint {rung + 1} of {len(ladder)}"
    if kind == "decline_and_scaffold":
        label = f"{MOVE_LABELS[kind]} (hint {rung + 1} of {len(ladder)})"
    return Move(kind=kind, question=hint.text, label=label, card=card, key_point=kp, hint=hint,
                focus_docs=list(kp.sources))


def _judge(card: LessonCard, state: LearnerState) -> Move:
    prompts = card.judgement_prompts
    question = prompts[state.turns % len(prompts)]
    return Move(kind="summarise_and_judge", question=question, label=MOVE_LABELS["summarise_and_judge"],
                card=card, focus_docs=sorted(card.source_docs))


def choose(intent: Intent, state: LearnerState, card: LessonCard, *,
           misconceptions: list[Misconception], date_errors: list[DateError],
           relevance: dict[str, float], newly_covered: set[str] | None = None,
           with_evidence: bool = False, templates: dict[str, list[str]], message: str = "") -> Move:
    newly = sorted(newly_covered or [])
    if intent.kind == "injection":
        move = _hint_move("refuse_instructions", state, card, relevance, advance=False)
        move.kind, move.label = "refuse_instructions", MOVE_LABELS["refuse_instructions"]
        return move
    if intent.kind == "off_topic":
        kp = state.target(card, relevance)
        question = card.ladder(kp.id)[0].text if kp else card.question
        return Move(kind="redirect", question=question, label=MOVE_LABELS["redirect"], card=card, key_point=kp,
                    focus_docs=list(kp.sources) if kp else [])
    if intent.kind == "greeting":
        return Move(kind="greet", question=pick(templates["greet_question"], state.turns),
                    label=MOVE_LABELS["greet"], card=card)
    if date_errors:
        err = date_errors[0]
        event = err.event.event.rstrip(".")
        question = pick(templates["date_question"], state.turns).format(
            stated=err.stated_year, correct=err.correct, event=event)
        return Move(kind="correct_date", question=question, label=MOVE_LABELS["correct_date"], card=card,
                    date_error=err, focus_docs=list(err.event.docs), newly_covered=newly,
                    counter=event)
    if misconceptions:
        m = misconceptions[0]
        return Move(kind="probe_misconception", question=m.probe, label=MOVE_LABELS["probe_misconception"],
                    card=card, misconception=m, focus_docs=[m.correct_doc], newly_covered=newly)
    if intent.kind in ("answer_request", "writing_request", "dont_know"):
        kind = "hint" if intent.kind == "dont_know" else "decline_and_scaffold"
        move = _hint_move(kind, state, card, relevance)
        move.newly_covered = newly
        return move
    if state.target(card, relevance) is None:
        move = _judge(card, state)
        move.newly_covered = newly
        return move
    if intent.kind in ("claim", "essay"):
        kp = state.target(card, relevance)
        docs = list(kp.sources) if kp else []
        recent = state.moves[-2:]
        # A claim that carries evidence, or answers our request for it with a key point, meets an
        # objection; a bare claim is asked for its evidence; after two unanswered requests the
        # next hint moves the student on instead.
        if card.counter_arguments and (with_evidence or (recent[-1:] == ["ask_evidence"] and newly)):
            # The objection answers the point just made, if any, else the one being worked on.
            made = card.key_point(newly[0]) if newly else kp
            counter = pick_counter(card, message, made, state.turns)
            return Move(kind="counter_argument", question=pick(templates["counter_question"], state.turns),
                        label=MOVE_LABELS["counter_argument"], card=card, counter=counter, key_point=kp,
                        focus_docs=docs, newly_covered=newly)
        if recent == ["ask_evidence", "ask_evidence"] and kp is not None:
            move = _hint_move("hint", state, card, relevance)
            move.newly_covered = newly
            return move
        return Move(kind="ask_evidence", question=pick(templates["evidence_question"], state.turns),
                    label=MOVE_LABELS["ask_evidence"], card=card, key_point=kp, focus_docs=docs, newly_covered=newly)
    move = _hint_move("hint", state, card, relevance)
    move.newly_covered = newly
    return move
