"""The chat page's logic, without Streamlit: restore a conversation, take a turn (saved, or
saying it was not), first start.

Example (tests/test_app_services.py runs it)::

    session, problem = restore(sessions, "3f2a…")          # from the URL's ?session=
    reply = take_turn(tutor, sessions, session, "why did stalin win?")   # saved before it returns
"""

from __future__ import annotations

from typing import Callable

from tutor.engine import Tutor
from tutor.errors import TutorError
from tutor.indexing import IndexingStatus
from tutor.sessions import SessionStore, valid_session_id
from tutor.turn import Reply, Session


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


SAVE_FAILED = ("This conversation could not be saved just now: {reason} It stays on this page, and the "
               "next turn tries to save it again.")


def indexing_notice(status: IndexingStatus) -> str:
    """What a reply given during the first start's indexing says about it."""
    if not status.total:
        return (f"The course sources are still being indexed ({status.time_left()} left), so this reply draws "
                "on the lesson cards and the timeline; quotations from the sources follow once it is done.")
    return (f"The course sources are still being indexed ({status.done} of {status.total} documents, "
            f"{status.time_left()} left), so this reply draws on the lesson cards, the timeline and the documents "
            "indexed so far; quotations from the rest follow once it is done.")


def take_turn(tutor: Tutor, sessions: SessionStore, session: Session, message: str, *,
              client: str | None = None,
              indexing: Callable[[], IndexingStatus | None] | None = None) -> Reply:
    """One turn, saved. The engine records the student's message before anything can fail; the
    session is saved even when the turn raises, so a reload keeps what was typed. A save that
    fails leaves the turn in ``session`` and says why in ``reply.save_problem``. ``indexing``
    gives the first start's progress: a reply given while it runs carries a notice saying so."""
    before = len(session.history)
    reply = None
    try:
        reply = tutor.reply(session, message, client=client)
        status = indexing() if indexing else None
        if status is not None and status.running:
            reply.notice = " ".join(filter(None, [reply.notice, indexing_notice(status)]))
            if len(session.history) > before and session.history[-1].get("role") == "assistant":
                session.history[-1]["notice"] = reply.notice
    finally:
        try:
            sessions.save(session)
        except TutorError as exc:
            if reply is not None:
                reply.save_problem = SAVE_FAILED.format(reason=exc)
    return reply
