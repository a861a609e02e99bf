"""Conversations kept in the database (SQLite under TUTOR_HOME, or PostgreSQL shared by every
app host), their transcripts and progress.

Example::

    sessions = SessionStore.open(settings)
    sessions.save(session)                                     # after every turn
    SessionStore.open(settings).load(session.id).history == session.history
    # → True
    transcript_markdown(session, lessons)[:24]
    # → '# Conversation with the t'

A reload of the page, a restart of the service or the next request landing on another
replica finds the conversation again by its id (the app keeps it in the URL). A save is the
whole conversation, so a save that failed (the database restarting) is made good by the next.

The same conversation can be open in two tabs (or on two replicas). Each copy remembers the
row's ``updated_at`` it last loaded or saved (``Session.saved``); a save that finds the row moved
on since then does not overwrite it: the turns the other copy saved are kept, this copy's new
turns are appended after them, and the save reports how many turns it merged in, so the page
can say so. The check and the write are one transaction under a lock for that conversation.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa

from tutor import schema
from tutor.db import Database, DatabaseUnavailable
from tutor.turn import Session
from tutor.errors import StoreError
from tutor.lessons import LessonCard, Lessons
from tutor.pedagogy.learner import LearnerState
from tutor.settings import Settings, get_settings

log = logging.getLogger(__name__)

_table = schema.chat_sessions
# Session ids are uuid4 hex from the engine; anything else in a URL is not ours.
_ID = re.compile(r"[0-9a-f]{8,64}")
TITLE_CHARS = 80
# A save that meets an unreachable database is tried again after these pauses (seconds):
# long enough to ride out a restart of PostgreSQL, short enough that the page answers.
SAVE_RETRIES_S = (0.25, 1.0, 2.0)


def valid_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value))


@dataclass(frozen=True)
class SessionSummary:
    """One row of the recent-sessions list."""

    id: str
    title: str
    created_at: float
    updated_at: float
    turns: int


def _title(session: Session) -> str:
    first = next((t["content"] for t in session.history if t.get("role") == "user"), "")
    first = " ".join(str(first).split())
    if not first:
        return "New conversation"
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1].rstrip() + "…"


class SessionStore:
    """Save, load and list conversations (``engine.Session``). Safe across threads, processes
    and hosts (one row per conversation, written whole)."""

    def __init__(self, target: "Path | str | Database"):
        self.db = Database.of(target)
        self.path = target if isinstance(target, Path) else None

    @classmethod
    def open(cls, settings: Settings | None = None) -> "SessionStore":
        settings = settings or get_settings()
        settings.ensure_home()
        return cls(Database.open(settings))

    def save(self, session: Session, *, retries: tuple[float, ...] = SAVE_RETRIES_S) -> int:
        """Write the conversation; retried while the database is unreachable. Returns how many
        turns another copy had saved meanwhile (merged into ``session``, see the module
        docstring); 0 normally. Raises StoreError (the conversation stays in memory, and the
        next save writes all of it)."""
        for pause in (*retries, None):
            try:
                with self.db.write(lock=f"session:{session.id}") as conn:
                    return self._save(conn, session)
            except (UnicodeError, ValueError, OverflowError) as exc:
                # Not worth retrying (text the database cannot store); reported, never swallowed:
                # the caller keeps the turn and says so.
                raise StoreError(f"Cannot save the conversation ({exc}). It stays on screen.") from exc
            except DatabaseUnavailable as exc:
                if pause is None:
                    # The caller (take_turn) says the turn stays on the page and the next one saves it.
                    raise StoreError(f"the database did not answer after {len(retries) + 1} tries. {exc}") from exc
                time.sleep(pause)

    def _save(self, conn, session: Session) -> int:
        c = _table.c
        stamp = conn.execute(sa.select(c.updated_at).where(c.id == session.id)).scalar()
        merged = 0
        now = time.time()
        if stamp is not None:
            # Strictly later than the row's stamp, so the stamp names one save even when two
            # saves fall in one tick of the clock.
            now = max(now, stamp + 1e-6)
            if session.saved is None or session.saved[0] != stamp:
                data = conn.execute(sa.select(c.data).where(c.id == session.id)).scalar()
                try:
                    merged = _merge(session, _parse(session.id, data))
                except StoreError as exc:  # a row that cannot be read is replaced, not kept failing
                    log.warning("replacing conversation %s: %s", session.id, exc)
        data = json.dumps(session.to_dict(), ensure_ascii=False, default=str)
        row = {"title": _title(session), "updated_at": now, "data": data,
               "turns": sum(1 for t in session.history if t.get("role") == "user")}
        if stamp is None:
            conn.execute(_table.insert().values(id=session.id, created_at=session.created_at, **row))
        else:
            conn.execute(_table.update().where(c.id == session.id).values(**row))
        session.saved = (now, len(session.history))
        return merged

    def load(self, session_id: str) -> Session | None:
        """The saved conversation, or None if there is none with that id."""
        if not valid_session_id(session_id):
            return None
        with self.db.read() as conn:
            row = conn.execute(sa.select(_table.c.updated_at, _table.c.data).where(_table.c.id == session_id)).first()
        if row is None:
            return None
        session = _parse(session_id, row.data)
        session.saved = (row.updated_at, len(session.history))
        return session

    def catch_up(self, session: Session) -> int:
        """Bring a copy that could not be loaded (the database was down at a reload) up to the
        saved conversation: the saved turns first, then any typed since. Returns how many saved
        turns it gained (raises DatabaseUnavailable while the database is still down)."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(_table.c.updated_at, _table.c.data).where(_table.c.id == session.id)).first()
        if row is None:
            return 0
        stored = _parse(session.id, row.data)
        gained = _merge(session, stored)
        session.saved = (row.updated_at, len(stored.history))
        return gained

    def recent(self, limit: int = 20) -> list[SessionSummary]:
        c = _table.c
        with self.db.read() as conn:
            rows = conn.execute(sa.select(c.id, c.title, c.created_at, c.updated_at, c.turns)
                                .order_by(c.updated_at.desc()).limit(int(limit))).all()
        return [SessionSummary(r.id, r.title, r.created_at, r.updated_at, r.turns) for r in rows]

    def delete(self, session_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute(_table.delete().where(_table.c.id == session_id)).rowcount > 0

    def close(self) -> None:
        """Nothing to release: the process's Database keeps one pool for every user."""


def _parse(session_id: str, data: str) -> Session:
    try:
        return Session.from_dict(json.loads(data))
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"The saved conversation {session_id} cannot be read ({exc}); "
                         "a new conversation was started instead.") from exc


def _merge(session: Session, stored: Session) -> int:
    """Make ``session`` the stored copy plus the turns only ``session`` has (those after what
    it last loaded or saved): another tab's turns are kept, not overwritten. Returns how many
    turns the stored copy had that ``session`` did not."""
    base = min(session.saved[1], len(session.history)) if session.saved else 0
    if session.saved is None and stored.history[:len(session.history)] == session.history:
        base = len(session.history)  # a copy that was never loaded but matches: nothing new below
    new = session.history[base:]
    theirs = len(stored.history) - min(base, len(stored.history))
    session.history[:] = stored.history + new
    session.learner = _merge_learner(stored.learner, session.learner)
    session.created_at = min(session.created_at, stored.created_at)
    return theirs


def _merge_learner(stored: LearnerState, mine: LearnerState) -> LearnerState:
    """This copy's state of the dialogue, with what either copy achieved kept: key points made,
    misconceptions and dates resolved (resolved wins over open), turns counted."""
    merged = LearnerState.from_dict(mine.to_dict())
    for card, kps in stored.covered.items():
        merged.covered[card] = sorted(set(merged.covered.get(card, [])) | set(kps))
    for name in ("misconceptions", "date_errors"):
        theirs, ours = getattr(stored, name), getattr(merged, name)
        for key, status in theirs.items():
            if status == "resolved" or key not in ours:
                ours[key] = status
    merged.turns = max(stored.turns, mine.turns)
    return merged


# -- progress ------------------------------------------------------------------------------
@dataclass
class KeyPointProgress:
    id: str
    statement: str
    covered: bool


@dataclass
class CardProgress:
    """Key points made on one lesson card. Only covered points carry their statement to the UI
    (showing the others would hand the student the answer)."""

    card_id: str
    question: str
    points: list[KeyPointProgress]

    @property
    def covered(self) -> int:
        return sum(p.covered for p in self.points)

    @property
    def total(self) -> int:
        return len(self.points)


@dataclass
class IssueProgress:
    """A misconception or a wrong date met in the conversation, and whether it was resolved."""

    id: str
    kind: str  # misconception | date
    label: str
    status: str  # open | resolved
    note: str = ""


@dataclass
class Progress:
    turns: int
    cards: list[CardProgress] = field(default_factory=list)
    issues: list[IssueProgress] = field(default_factory=list)

    @property
    def met(self) -> int:
        return len(self.issues)

    @property
    def resolved(self) -> int:
        return sum(1 for i in self.issues if i.status == "resolved")

    def as_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "cards": [{"card": c.card_id, "question": c.question, "covered": c.covered, "total": c.total,
                       "key_points": [asdict(p) for p in c.points]} for c in self.cards],
            "misconceptions_met": self.met, "misconceptions_resolved": self.resolved,
            "issues": [asdict(i) for i in self.issues],
        }


PlanLookup = Callable[[str], "LessonCard | None"]


def _humanise(identifier: str) -> str:
    return identifier.replace("-", " ").replace("_", " ").strip().capitalize()


def progress(session: Session, lessons: Lessons, plans: PlanLookup | None = None) -> Progress:
    """What the student has done so far: key points per card worked on, misconceptions and
    wrong dates met and resolved (names and wording from the lesson cards and timeline).
    ``plans`` finds the plan of a handout no card covers ('passages:DOC', the engine's
    planner.card), so its points show as a card's do."""
    state = session.learner
    worked = [card_id for card_id, kps in state.covered.items() if kps]
    if state.card_id and state.card_id not in worked:
        worked.append(state.card_id)
    cards = []
    for card_id in worked:
        card = lessons.get(card_id) or (plans(card_id) if plans else None)
        if card is None:  # a card removed since the conversation: nothing to show for it
            continue
        done = state.covered_on(card.id)
        cards.append(CardProgress(card.id, card.question, [
            KeyPointProgress(k.id, k.statement if k.id in done else "", k.id in done) for k in card.key_points]))
    by_id = {m.id: m for c in lessons.cards for m in c.misconceptions}
    events = {e.id: e for e in lessons.timeline}
    issues = []
    for m_id, status in state.misconceptions.items():
        m = by_id.get(m_id)
        issues.append(IssueProgress(m_id, "misconception", _humanise(m_id), status,
                                    m.why_wrong if (m and status == "resolved") else ""))
    for e_id, status in state.date_errors.items():
        event = events.get(e_id)
        label = f"Date of: {event.event}" if event else _humanise(e_id)
        issues.append(IssueProgress(e_id, "date", label, status, event.when if (event and status == "resolved") else ""))
    return Progress(turns=state.turns, cards=cards, issues=issues)


# -- transcripts ---------------------------------------------------------------------------
def _stamp(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(float(ts), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _where(citation: dict[str, Any]) -> str:
    bits = [str(citation.get("kind") or "")]
    if citation.get("page"):
        bits.append(f"p. {citation['page']}")
    return ", ".join(b for b in bits if b)


def transcript_markdown(session: Session, lessons: Lessons | None = None, plans: PlanLookup | None = None) -> str:
    """The conversation as Markdown: each turn, the tutor's sources and move, then progress.
    Text is written as it was said; a Markdown viewer may style stray ``*`` or ``#``."""
    lines = ["# Conversation with the Socratic history tutor", "",
             f"Session `{session.id}` · started {_stamp(session.created_at)}", ""]
    for turn in session.history:
        who = "You" if turn.get("role") == "user" else "Tutor"
        lines += [f"**{who}:** {turn.get('content', '')}", ""]
        if turn.get("role") != "assistant":
            continue
        if turn.get("notice"):
            lines += [f"> Note: {turn['notice']}", ""]
        for c in turn.get("citations") or []:
            quote = f" — “{c['quote']}”" if c.get("quote") else ""
            lines.append(f"- [{c.get('n')}] {c.get('title')} ({_where(c)}){quote}")
        move = (turn.get("move") or {}).get("label")
        mode = turn.get("mode")
        if move or mode:
            if turn.get("citations"):
                lines.append("")
            lines.append(f"_{' · '.join(x for x in (move, mode) if x)}_")
        lines.append("")
    if lessons is not None:
        lines += progress_markdown(progress(session, lessons, plans))
    return "\n".join(lines).rstrip() + "\n"


def progress_markdown(p: Progress) -> list[str]:
    lines = ["## Progress", ""]
    if not p.cards and not p.issues:
        return lines + ["No key points or misconceptions yet.", ""]
    for card in p.cards:
        lines.append(f"**{card.question}** — {card.covered} of {card.total} key points")
        lines += [f"- {kp.statement}" for kp in card.points if kp.covered]
        lines.append("")
    if p.issues:
        lines.append(f"Misconceptions and dates: {p.met} met, {p.resolved} resolved")
        lines += [f"- {i.label}: {i.status}" for i in p.issues]
        lines.append("")
    return lines


def transcript_json(session: Session, lessons: Lessons | None = None, plans: PlanLookup | None = None) -> str:
    """The conversation as JSON: every turn with its citations (and passage text), move, mode
    and notice, plus the learner state and the progress summary."""
    data: dict[str, Any] = {
        "session": session.id, "created_at": _stamp(session.created_at),
        "exported_at": _stamp(time.time()), "turns": session.history,
        "learner": session.learner.to_dict(),
    }
    if lessons is not None:
        data["progress"] = progress(session, lessons, plans).as_dict()
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
