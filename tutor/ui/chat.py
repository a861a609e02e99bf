"""The chat page's logic, without Streamlit: restore a conversation, take a turn (saved, or
saying it was not), first start.

Example (tests/test_app_services.py runs it)::

    session, problem = restore(sessions, "3f2a…")          # from the URL's ?session=
    reply = take_turn(tutor, sessions, session, "why did stalin win?")   # saved before it returns
"""

from __future__ import annotations

import time
from typing import Callable

from tutor.engine import Tutor
from tutor.db import DatabaseUnavailable
from tutor.errors import TutorError
from tutor.indexing import TURNS, IndexingStatus
from tutor.sessions import SessionStore, valid_session_id
from tutor.turn import Reply, Session
from tutor.problems import reason_for_students


# A load that meets an unreachable database is tried again after these pauses (seconds).
LOAD_RETRIES_S = (0.25, 1.0)
UNLOADED = ("Your conversation could not be loaded just now: {reason} It is not lost: it keeps its "
            "place (the address of this page), this page loads it again as soon as it can, and what you "
            "type meanwhile is added to it.")


def restore(sessions: SessionStore, requested: str | None,
            retries: tuple[float, ...] = LOAD_RETRIES_S) -> tuple[Session, str | None]:
    """The saved conversation with that id, else a new one. The second value says why an
    existing conversation could not be restored (None when all is well). While the database is
    unreachable the conversation keeps its id, unloaded (``session.saved is None``): the page
    retries with ``SessionStore.catch_up`` and a save merges into the saved turns, so a reload
    during an outage never splits the conversation."""
    if requested and valid_session_id(requested):
        for pause in (*retries, None):
            try:
                found = sessions.load(requested)
                break
            except DatabaseUnavailable as exc:
                if pause is None:
                    return Session(id=requested), UNLOADED.format(reason=reason_for_students(exc))
                time.sleep(pause)
            except TutorError as exc:  # a row that cannot be read: start afresh, say why
                return Session(), f"This conversation could not be opened: {reason_for_students(exc)}"
        if found is not None:
            return found, None
        return Session(), "That conversation was not found, so a new one has started."
    return Session(), None


SAVE_FAILED = ("This conversation could not be saved just now: {reason} It stays on this page, and the "
               "next turn tries to save it again.")
MERGED = ("This conversation was also continued in another tab or window: the {turns} saved there "
          "are kept, and yours follow them. All of them show from now on.")


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
        with TURNS.turn():  # the first start's indexing waits for it between batches
            reply = tutor.reply(session, message, client=client)
        status = indexing() if indexing else None
        if status is not None and status.running:
            reply.notice = " ".join(filter(None, [reply.notice, indexing_notice(status)]))
            if len(session.history) > before and session.history[-1].get("role") == "assistant":
                session.history[-1]["notice"] = reply.notice
    finally:
        try:
            merged = sessions.save(session)
        except TutorError as exc:
            if reply is not None:
                reply.save_problem = SAVE_FAILED.format(reason=reason_for_students(exc))
        else:
            if merged and reply is not None:
                reply.merged = MERGED.format(turns="turn" if merged == 1 else f"{merged} turns")
    return reply
