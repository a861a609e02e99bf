"""The chat page's logic, without Streamlit: restore a conversation, take a turn.

>>> session, problem = restore(sessions, "3f2a…")          # from the URL's ?session=
>>> reply = take_turn(tutor, sessions, session, "why did stalin win?")   # saved before it returns
"""

from __future__ import annotations

from typing import Callable

from tutor.engine import Reply, Session, Tutor
from tutor.errors import TutorError
from tutor.indexing import IndexingStatus
from tutor.sessions import SessionStore, valid_session_id


def restore(sessions: SessionStore, requested: str | None) -> tuple[Session, str | None]:
    """The saved conversation with that id, else a new one. The second value says why an
    existing conversation could not be restored (None when all is well)."""
    if requested and valid_session_id(requested):
        try:
            found = sessions.load(requested)
        except TutorError as exc:
            return Session(), str(exc)
        if found is not None:
            return found, None
        return Session(), "That conversation was not found, so a new one has started."
    return Session(), None


def indexing_notice(status: IndexingStatus) -> str:
    """What a reply given during the first start's indexing says about it."""
    if not status.total:
        return (f"The course sources are still being indexed ({status.time_left()} left), so this reply draws "
                "on the lesson cards and the timeline; quotations from the sources follow once it is done.")
    return (f"The course sources are still being indexed ({status.done} of {status.total} documents, "
            f"{status.time_left()} left), so this reply draws on the lesson cards, the timeline and the documents "
            "indexed so far; quotations from the rest follow once it is done.")


def take_turn(tutor: Tutor, sessions: SessionStore, session: Session, message: str,
              indexing: Callable[[], IndexingStatus | None] | None = None) -> Reply:
    """One turn, saved. The engine records the student's message before anything can fail; the
    session is saved even when the turn raises, so a reload keeps what was typed. ``indexing``
    gives the first start's progress: a reply given while it runs carries a notice saying so."""
    before = len(session.history)
    try:
        reply = tutor.reply(session, message)
        status = indexing() if indexing else None
        if status is not None and status.running:
            reply.notice = " ".join(filter(None, [reply.notice, indexing_notice(status)]))
            if len(session.history) > before and session.history[-1].get("role") == "assistant":
                session.history[-1]["notice"] = reply.notice
        return reply
    finally:
        try:
            sessions.save(session)
        except TutorError:
            pass  # the page shows the turn; a failed save is reported by the next save attempt
