"""The hint ladder for one key point: pump → hint → prompt → bottom-out (AutoTutor's
assertion, given here as part of the point in a quoted source, with the last step left to the
student). A rung is never given twice on the same point in a session: the learner state keeps
the rung reached per card and point, and a point whose ladder is used up is done.

>>> [r for r in RUNGS]
['pump', 'hint', 'prompt', 'bottom_out']
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.lessons import Hint, KeyPoint, LessonCard
from tutor.pedagogy.learner import LearnerState

RUNGS = ("pump", "hint", "prompt", "bottom_out")


@dataclass(frozen=True)
class Step:
    rung: int           # 0..3
    hint: Hint | None   # None at the bottom-out
    total: int          # rungs on this ladder, the bottom-out included

    @property
    def name(self) -> str:
        return RUNGS[min(self.rung, 3)] if self.hint is None or self.rung >= 3 else self.hint.level

    @property
    def bottom_out(self) -> bool:
        return self.hint is None


def step(state: LearnerState, card: LessonCard, kp: KeyPoint, *, skip: int = 0,
         asked: callable = lambda q: False) -> Step:
    """The next rung for the point (``skip`` more for a partly-right answer), passing over any
    rung whose question was already asked in this session."""
    ladder = card.ladder(kp.id)
    rung = state.rung(card.id, kp.id) + skip
    while rung < len(ladder) and asked(ladder[rung].text):
        rung += 1
    if rung >= len(ladder):
        return Step(len(ladder), None, len(ladder) + 1)
    return Step(rung, ladder[rung], len(ladder) + 1)


def climb(state: LearnerState, card: LessonCard, kp: KeyPoint, to: Step) -> None:
    """Record that the rung was used; at the bottom-out the point is supplied and done."""
    key = f"{card.id}:{kp.id}"
    state.hint_level[key] = max(state.hint_level.get(key, 0), to.rung + 1)
    if to.rung + 1 >= len(card.ladder(kp.id)):
        state.prompted.setdefault(card.id, [])
        if kp.id not in state.prompted[card.id]:
            state.prompted[card.id].append(kp.id)
    if to.bottom_out:
        state.assert_point(card.id, kp.id)
    else:
        state.focus[card.id] = kp.id
