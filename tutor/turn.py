"""The records of a conversation, shared by the engine, the coaches, sessions.py and the UI:
``Session``, one ``Turn`` shape for every conversation, ``Reply``, and the named kinds (intent,
move, reply mode, ingest status) as Literals. Importing it never imports the engine.

>>> s = Session()
>>> s.add(Turn(role="user", content="why did stalin win?"))["role"]
'user'
>>> s.student_text()
'why did stalin win?'
>>> Reply("Who chose the delegates?", [], {"kind": "hint", "label": "hint"}, None, [], "offline", "question").label
'hint'
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, get_args

from tutor.kinds import OFFLINE, IngestStatus, IntentKind, Mode, MoveKind, Role  # noqa: F401  (re-exported)
from tutor.pedagogy.learner import LearnerState

if TYPE_CHECKING:
    from tutor.pedagogy.checks import Check
    from tutor.pedagogy.compose import Citation
    from tutor.store import Passage

ROLES: tuple[str, ...] = get_args(Role)


@dataclass
class Turn:
    """One turn of any conversation (tutor chat, essay coach, source coach): who spoke and what
    they said, and for the assistant what backs it (citations, move, mode, notice, checks, step)."""

    role: Role
    content: str
    at: float = field(default_factory=time.time)
    citations: list[dict[str, Any]] = field(default_factory=list)
    move: dict[str, Any] | None = None
    mode: Mode | None = None
    notice: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    step: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"a turn's role is one of {ROLES}, not {self.role!r}")

    def as_dict(self) -> dict[str, Any]:
        """The stored shape (a JSON object in the sessions table): empty parts are left out of a
        student's turn, so old and new conversations read the same."""
        data: dict[str, Any] = {"role": self.role, "content": self.content, "at": self.at}
        if self.role == "assistant":
            data.update(citations=self.citations, move=self.move, mode=self.mode, notice=self.notice,
                        checks=self.checks)
        elif self.citations:
            data["citations"] = self.citations
        if self.step is not None:
            data["step"] = self.step
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Turn":
        known = {k: data[k] for k in ("at", "citations", "move", "mode", "notice", "checks", "step") if k in data}
        return cls(role=data["role"], content=str(data.get("content", "")), **{k: v for k, v in known.items()
                                                                                 if v is not None or k == "notice"})


@dataclass
class Session:
    """One conversation: its turns (``Turn.as_dict()`` rows) and the learner state. Serialisable."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    history: list[dict[str, Any]] = field(default_factory=list)
    learner: LearnerState = field(default_factory=LearnerState)
    created_at: float = field(default_factory=time.time)
    # What this copy was last loaded or saved as (the row's updated_at, and how many turns it had
    # then), so a save can tell whether another tab saved in between (tutor.sessions). Not saved.
    saved: tuple[float, int] | None = field(default=None, compare=False, repr=False)

    def add(self, turn: Turn) -> dict[str, Any]:
        row = turn.as_dict()
        self.history.append(row)
        return row

    def turns(self) -> list[Turn]:
        return [Turn.from_dict(t) for t in self.history]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "history": self.history, "learner": self.learner.to_dict(),
                "created_at": self.created_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Session":
        return cls(id=data["id"], history=list(data.get("history", [])),
                   learner=LearnerState.from_dict(data.get("learner")), created_at=data.get("created_at", time.time()))

    def student_text(self) -> str:
        return "\n".join(t["content"] for t in self.history if t["role"] == "user")


@dataclass
class Reply:
    """A checked reply: its text (streamable), citations, move, card, checks and mode."""

    text: str
    citations: list[Citation]
    move: dict[str, Any]
    card_id: str | None
    checks: list[Check]
    mode: Mode
    intent: str  # the student's dialogue act (tutor.pedagogy.acts)
    notice: str | None = None
    passages: list[Passage] = field(default_factory=list)
    latency_ms: float = 0.0
    # Why the conversation could not be saved after this reply (None: it was); the page says so.
    save_problem: str | None = None
    # With a model: what the guards did this turn (``tutor.model_turn.Outcome.guard_log``).
    guards: dict[str, Any] | None = None
    # Turns another tab had saved that this save kept and merged in (None: none); the page says so.
    merged: str | None = None

    @property
    def act(self) -> str:
        return self.intent

    @property
    def feedback(self) -> str | None:
        """right | partly | wrong: the verdict the reply opened with, if any."""
        return self.move.get("feedback")

    @property
    def saved(self) -> bool:
        return self.save_problem is None

    def stream(self, words_per_chunk: int = 3) -> Iterator[str]:
        """The text in small pieces, for ``st.write_stream`` (joined, they equal ``text``)."""
        pieces = re.split(r"(\s+)", self.text)
        for start in range(0, len(pieces), words_per_chunk * 2):
            yield "".join(pieces[start:start + words_per_chunk * 2])

    @property
    def label(self) -> str:
        return self.move.get("label", "")

    def turn(self) -> Turn:
        """The assistant turn this reply adds to its conversation."""
        return Turn(role="assistant", content=self.text,
                    citations=[c.as_dict() | {"text": c.text} for c in self.citations],
                    move=self.move, mode=self.mode, notice=self.notice, checks=[c.as_dict() for c in self.checks])

    def as_dict(self) -> dict[str, Any]:
        return {"reply": self.text, "citations": [c.as_dict() for c in self.citations], "move": self.move,
                "card": self.card_id, "checks": [c.as_dict() for c in self.checks], "mode": self.mode,
                "intent": self.intent, "notice": self.notice, "latency_ms": round(self.latency_ms, 1)} \
            | ({"guards": self.guards} if self.guards is not None else {})
