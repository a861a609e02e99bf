"""What a student is told when something on the server fails. A database or store error names
the SQLite file's path, or PostgreSQL's user, host, port and database: the operator needs that,
a student must not see it. So such an error is logged in full under a short reference, and the
page gets a plain sentence carrying only the reference; `tutor doctor` shows the same details.
Errors about the student's own input (a file they uploaded, a message too fast) are theirs to
read (the page still cuts server paths from them, tutor.ui.render.redact_paths).

>>> from tutor.errors import StoreError
>>> plain = for_students(StoreError("Cannot use the database /srv/tutor/tutor.sqlite3 (disk is full)."))
>>> "/srv" in plain or "sqlite" in plain, "reference" in plain
(False, True)
"""

from __future__ import annotations

import logging
import secrets

from tutor.errors import StoreError

log = logging.getLogger(__name__)

UNAVAILABLE = ("the tutor's storage is not available just now (reference {ref}). Whoever runs the tutor "
               "finds the details in its log under that reference, and with `tutor doctor`.")


def is_infrastructure(exc: BaseException) -> bool:
    """A failure of the server's parts (database, vector store), not of what the student did."""
    return isinstance(exc, StoreError)


def for_students(exc: BaseException) -> str:
    """The error as a student may read it; an infrastructure error is logged in full first."""
    if is_infrastructure(exc):
        ref = secrets.token_hex(3)
        log.error("[ref %s] %s: %s", ref, type(exc).__name__, exc)
        text = UNAVAILABLE.format(ref=ref)
        return text[0].upper() + text[1:]
    return str(exc)


def reason_for_students(exc: BaseException) -> str:
    """The same, as a clause after "could not … just now:" (lower-case start)."""
    text = for_students(exc)
    return text[0].lower() + text[1:] if is_infrastructure(exc) else text
