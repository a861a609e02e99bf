"""The chat page's logic, without Streamlit: restore a conversation, take a turn, first start.

>>> session, problem = restore(sessions, "3f2a…")          # from the URL's ?session=
>>> reply = take_turn(tutor, sessions, session, "why did stalin win?")   # saved before it returns
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from tutor.auth import local_operator
from tutor.engine import Reply, Session, Tutor
from tutor.errors import TutorError
from tutor.corpus import course_documents
from tutor.library import IngestResult, Library, store_is_empty
from tutor.sessions import SessionStore, valid_session_id

FIRST_START_BATCH = 6


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


def take_turn(tutor: Tutor, sessions: SessionStore, session: Session, message: str,
              on_unsaved: Callable[[str], None] | None = None) -> Reply:
    """One turn, saved. The engine records the student's message before anything can fail; the
    session is saved even when the turn raises, so a reload keeps what was typed.

    A save that still fails after its retries (the database down) does not stop the reply:
    ``on_unsaved(message)`` says so, and the next turn's save writes the whole conversation."""
    try:
        return tutor.reply(session, message)
    finally:
        try:
            sessions.save(session)
        except TutorError as exc:
            if on_unsaved:
                on_unsaved(str(exc))


def first_start_ingest(library: Library, on_progress: Callable[[str, int, int], None] | None = None
                       ) -> list[IngestResult]:
    """Index the shipped corpus into an empty store, a few files at a time so progress moves.

    Same effect as ``Library.ensure_default_corpus`` (which reports only after one batch embed)."""
    if not store_is_empty(library.store):
        return []
    files = course_documents(Path(library.settings.corpus_dir))
    results: list[IngestResult] = []
    operator = local_operator()
    for start in range(0, len(files), FIRST_START_BATCH):
        batch = files[start:start + FIRST_START_BATCH]
        results.extend(library.ingest_paths(operator, batch, confirm_flagged=True))
        if on_progress:
            on_progress(batch[-1].name, min(start + FIRST_START_BATCH, len(files)), len(files))
    return results
