"""Choosing the tutor's move for a turn (AutoTutor's expectation/misconception loop).

>>> move = choose(act, state, card, assessment=a, relevance={}, templates=t, guard=g)  # doctest: +SKIP
>>> move.kind, move.label, move.feedback                                              # doctest: +SKIP
('hint', 'hint 2 of 4', 'partly')

Read first, then act: instruction changes and off-topic first; a request for a summary (or
every key point made) closes the card; a claim the sources contradict is corrected; a request
for the answer, a don't-know or a complaint climbs the ladder on the point in focus (never
restarting it); a content question is answered from its passages, with a question back; an
answer or a claim gets its verdict first and then the next rung or the next point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.kinds import MoveKind
from tutor.lessons import DateError, Hint, KeyPoint, LessonCard, Misconception
from tutor.pedagogy.assess import Assessment, asks_only
from tutor.pedagogy.ladder import Step, climb, step
from tutor.pedagogy.learner import LearnerState
from tutor.pedagogy.repeats import RepeatGuard

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
    "bottom_out": "part of the answer, from a source",
    "answer_question": "evidence for your question",
    "confirm": "checking your answer",
    "next_card": "the next question",
    "test_claim": "testing your claim against a source",
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
    act: str = ""                      # the student's act this turn
    assessment: Assessment | None = None
    feedback: str | None = None        # right | partly | wrong: the polarity said first
    opening: str = ""                  # feedback kind for the composer (right, partly, dont_know, ...)
    bottom_out: bool = False
    topic: str = ""                    # the words that named a new or resumed topic
    next_card: LessonCard | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "card": self.card.id if self.card else None,
                "key_point": self.key_point.id if self.key_point else None,
                "hint_level": "bottom_out" if self.bottom_out else (self.hint.level if self.hint else None),
                "misconception": self.misconception.id if self.misconception else None,
                "date_event": self.date_error.event.id if self.date_error else None,
                "act": self.act, "feedback": self.feedback,
                "assessment": self.assessment.as_dict() if self.assessment else None}


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


def _ladder_move(kind: MoveKind, state: LearnerState, card: LessonCard, relevance: dict[str, float],
                 guard: RepeatGuard, *, advance: bool = True, skip: int = 0) -> Move:
    """The next rung on the point in focus (a fresh point once a ladder is used up)."""
    kp = state.target(card, relevance)
    if kp is None:
        return _judge(card, state, guard)
    at = step(state, card, kp, skip=skip, asked=lambda q: guard.seen("question", q))
    if advance:
        climb(state, card, kp, at)
    label = f"hint {at.rung + 1} of {at.total}"
    if at.bottom_out:
        return Move(kind="bottom_out", question="", label=f"{MOVE_LABELS['bottom_out']} ({label})", card=card,
                    key_point=kp, focus_docs=list(kp.sources), bottom_out=True)
    if kind == "decline_and_scaffold":
        label = f"{MOVE_LABELS[kind]} ({label})"
    return Move(kind=kind, question=at.hint.text, label=label, card=card, key_point=kp, hint=at.hint,
                focus_docs=list(kp.sources))


def _judge(card: LessonCard, state: LearnerState, guard: RepeatGuard | None = None,
           templates: dict | None = None) -> Move:
    prompts = list(card.judgement_prompts)
    if guard is not None and templates and all(guard.seen("question", p) for p in prompts):
        prompts = [q.format(question=card.question) for q in templates.get("judge_fallback", [])] or prompts
    question = guard.fresh("question", prompts, state.turns) if guard else prompts[state.turns % len(prompts)]
    return Move(kind="summarise_and_judge", question=question, label=MOVE_LABELS["summarise_and_judge"],
                card=card, focus_docs=sorted(card.source_docs))


def choose(act, state: LearnerState, card: LessonCard, *, assessment: Assessment | None,
           relevance: dict[str, float], templates: dict, guard: RepeatGuard | None = None,
           message: str = "", lessons=None) -> Move:
    """The move for this turn. ``act`` is a pedagogy.acts.Act; ``assessment`` the verdict on the
    message when it answers, claims or asks for confirmation."""
    guard = guard or RepeatGuard(state.said)
    move = _choose(act, state, card, assessment, relevance, templates, guard, message, lessons)
    if move.bottom_out and not move.question:
        move.question = guard.fresh("question", templates["bottom_out_question"], state.turns)
    move.act = act.kind
    move.assessment = move.assessment or assessment
    pushback = getattr(act, "pushback", "")
    if pushback in ("unanswered", "agrees", "misread") and move.kind not in ("probe_misconception", "correct_date"):
        # Heard first: the acknowledgement opens the reply, then the answer or the verdict.
        move.opening = f"pushback_{pushback}" + ("_right" if assessment is not None and assessment.verdict == "right"
                                                 else "")
    if move.assessment is not None and move.feedback is None and act.kind in ("answer", "claim", "confirm") \
            and move.opening != "judgement":
        move.feedback = move.assessment.label
    if move.key_point is not None and move.kind != "bottom_out":
        state.focus[card.id] = move.key_point.id
    return move


def _choose(act, state, card, assessment, relevance, templates, guard, message, lessons) -> Move:
    kind = act.kind
    newly = list(assessment.new_points) if assessment else []
    if kind == "injection":
        move = _ladder_move("refuse_instructions", state, card, relevance, guard, advance=False)
        move.kind, move.label, move.question = "refuse_instructions", MOVE_LABELS["refuse_instructions"], \
            move.question or card.question
        move.bottom_out = False
        return move
    if kind == "off_topic":
        kp = state.target(card, relevance)
        options = [h.text for h in card.ladder(kp.id)] if kp else [card.question]
        question = guard.fresh("question", options + [card.question], 0)
        return Move(kind="redirect", question=question, label=MOVE_LABELS["redirect"], card=card, key_point=kp,
                    focus_docs=list(kp.sources) if kp else [])
    if kind == "greeting":
        return Move(kind="greet", question=guard.fresh("question", templates["greet_question"], state.turns),
                    label=MOVE_LABELS["greet"], card=card)
    if kind == "summary":
        move = _judge(card, state, guard, templates)
        move.opening = "summary"
        return move

    # One sentence right, another contradicted: the correction first, then what was right.
    corrected = assessment is not None and assessment.verdict == "partly" and bool(assessment.right_phrase)
    contradicted = assessment is not None and (assessment.verdict == "contradicted" or corrected)
    if contradicted and assessment.date_error is not None:
        err = assessment.date_error
        event = err.event.event.rstrip(".")
        question = guard.fresh("question", [q.format(stated=err.stated_year, correct=err.correct, event=event)
                                            for q in templates["date_question"]], state.turns)
        return Move(kind="correct_date", question=question, label=MOVE_LABELS["correct_date"], card=card,
                    date_error=err, focus_docs=list(err.event.docs), counter=event,
                    opening="corrected" if corrected else "contradicted", feedback="partly" if corrected else "wrong",
                    newly_covered=newly)
    if contradicted and assessment.misconception is not None:
        m = assessment.misconception
        question = m.probe if not guard.seen("question", m.probe) else \
            guard.fresh("question", templates["probe_again"], state.turns)
        return Move(kind="probe_misconception", question=question, label=MOVE_LABELS["probe_misconception"],
                    card=assessment.misconception_card or card, misconception=m, focus_docs=[m.correct_doc],
                    opening="corrected" if corrected else "contradicted", feedback="partly" if corrected else "wrong",
                    newly_covered=newly)

    if assessment is not None and assessment.verdict == "partly" and assessment.misconception is not None \
            and kind in ("answer", "claim", "confirm"):
        # A half-truth: say which half is right and what the sources add, then ask the probe.
        m = assessment.misconception
        question = m.probe if not guard.seen("question", m.probe) else \
            guard.fresh("question", templates["probe_again"], state.turns)
        return Move(kind="probe_misconception", question=question, label=MOVE_LABELS["probe_misconception"],
                    card=assessment.misconception_card or card, misconception=m, focus_docs=[m.correct_doc],
                    opening="partly_misconception", feedback="partly")

    if kind in ("answer_request", "writing_request"):
        move = _ladder_move("decline_and_scaffold", state, card, relevance, guard)
        return move
    if kind in ("dont_know", "complaint"):
        if kind == "dont_know" and state.last.get("kind") == "next_card":
            move = _ladder_move("hint", state, card, relevance, guard)
            move.opening = "start"
            return move
        move = _ladder_move("hint", state, card, relevance, guard)
        move.opening = kind
        return move
    if kind in ("switch", "return"):
        move = _ladder_move("hint", state, card, relevance, guard)
        move.opening, move.topic = kind, act.topic
        return move
    asks = kind == "confirm" and assessment is not None and assessment.verdict == "open" and asks_only(message)
    if (kind == "question" and not (assessment and assessment.verdict == "right")) or asks:
        # A question gets an answer from the sources, a yes/no one too ("was it when he ran the army?"):
        # no check decides it, so it is not judged.
        move = _ladder_move("hint", state, card, relevance, guard)
        if move.kind == "hint":
            move.kind, move.label = "answer_question", f"{MOVE_LABELS['answer_question']} ({move.label})"
            move.focus_docs = []  # grounded in the passages retrieved for the student's question
        move.opening = "question"
        return move

    # An answer, a claim, a confirmation request (or a question that makes a point itself).
    if card.id in state.closed and kind in ("answer", "claim", "confirm") and (
            state.last.get("kind") == "summarise_and_judge" or state.done_on(card)):
        from tutor.pedagogy.closure import next_card

        nxt = next_card(lessons, state, card) if lessons is not None else None
        if nxt is not None:
            question = guard.fresh("question", [q.format(question=nxt.question) for q in templates["next_question"]],
                                   state.turns)
            made_point = bool(assessment and assessment.points)
            if kind == "confirm" and assessment is not None:
                return Move(kind="next_card", question=question, label=MOVE_LABELS["next_card"], card=card,
                            next_card=nxt, opening="confirm_" + (assessment.label or "open"), feedback=assessment.label)
            return Move(kind="next_card", question=question, label=MOVE_LABELS["next_card"], card=card,
                        next_card=nxt, opening="right" if made_point else "judgement",
                        feedback="right" if made_point else None)
    verdict = assessment.verdict if assessment else "open"
    if state.done_on(card) and card.id not in state.closed:
        move = _judge(card, state, guard, templates)
        move.opening = "close_" + verdict
        move.newly_covered = newly
        return move
    opening = ("confirm_" if kind == "confirm" else "") + verdict
    if verdict == "right":
        made = card.key_point(newly[0]) if newly else state.target(card, relevance)
        evidence = has_evidence(message)
        recent = state.moves[-3:]
        counters = [c for c in card.counter_arguments if not guard.seen("counter", c)]
        if kind == "claim" and not evidence and "ask_evidence" not in recent:
            kp = state.target(card, relevance)
            question = guard.fresh("question", templates["evidence_question"], state.turns)
            return Move(kind="ask_evidence", question=question, label=MOVE_LABELS["ask_evidence"], card=card,
                        key_point=kp, focus_docs=list(made.sources) if made else [], newly_covered=newly,
                        opening=opening)
        if counters and (evidence or recent[-1:] == ["ask_evidence"]) and "counter_argument" not in recent:
            counter = pick_counter_from(counters, message, made, state.turns)
            question = guard.fresh("question", templates["counter_question"], state.turns)
            kp = state.target(card, relevance)
            return Move(kind="counter_argument", question=question, label=MOVE_LABELS["counter_argument"],
                        card=card, counter=counter, key_point=kp, focus_docs=list(kp.sources) if kp else [],
                        newly_covered=newly, opening=opening)
        # A right answer earns a fresh point at its first rung, not the next rung of an old ladder.
        state.focus.pop(card.id, None)
        move = _ladder_move("hint", state, card, relevance, guard)
        move.newly_covered, move.opening = newly, opening
        return move
    if verdict == "open" and getattr(act, "pushback", "") == "agrees":
        # The student has read the passage against the claim and says it fits: take that and move on.
        state.focus.pop(card.id, None)
        return _ladder_move("hint", state, card, relevance, guard)
    if verdict == "open" and kind in ("claim", "confirm"):
        # No check decides it: the passage that bears on the claim, and the student tests it.
        kp = state.target(card, relevance)
        question = guard.fresh("question", templates["test_question"], state.turns)
        return Move(kind="test_claim", question=question, label=MOVE_LABELS["test_claim"], card=card, key_point=kp,
                    opening="confirm_open" if kind == "confirm" else "open")
    # Partly right jumps a rung (the student is near); otherwise the next rung.
    move = _ladder_move("hint", state, card, relevance, guard, skip=1 if verdict == "partly" else 0)
    move.newly_covered, move.opening = newly, opening
    return move


def pick_counter_from(counters: list[str], message: str, kp: KeyPoint | None, turn: int) -> str:
    from tutor.retrieval import tokenize

    said = set(tokenize(message))
    if kp is not None:
        said |= set(tokenize(" ".join([kp.id.replace("-", " "), kp.statement, *kp.evidence_terms])))
    said -= _EVERYWHERE
    order = [counters[(turn + i) % len(counters)] for i in range(len(counters))]
    return max(order, key=lambda c: len(said & set(tokenize(c))))
