"""Who may change the corpus. Teacher actions need a :class:`Teacher`, which only this module makes.

>>> teacher = teacher_login("the password", settings)      # doctest: +SKIP
>>> library.remove(teacher, "event-ban-on-factions")       # doctest: +SKIP

A student session has no Teacher, so the service refuses it whatever the UI shows.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from tutor.errors import PermissionDenied
from tutor.settings import Settings

_ISSUED = secrets.token_hex(16)


@dataclass(frozen=True)
class Teacher:
    """Proof that the caller is a teacher (password checked) or the local operator (CLI)."""

    name: str
    _token: str = field(repr=False, default="")


def teacher_login(password: str, settings: Settings) -> Teacher:
    configured = settings.teacher_password.get_secret_value() if settings.teacher_password else ""
    if not configured:
        raise PermissionDenied(
            "The teacher area is closed: no TUTOR_TEACHER_PASSWORD is set. Set it in the environment "
            "or in .streamlit/secrets.toml and restart the app."
        )
    # Constant-time comparison so response timing reveals nothing about the password.
    if not hmac.compare_digest(password.encode("utf-8"), configured.encode("utf-8")):
        raise PermissionDenied("That password is not right.")
    return Teacher(name="teacher", _token=_ISSUED)


def local_operator() -> Teacher:
    """The person at the terminal running `tutor ingest`: they own TUTOR_HOME already."""
    return Teacher(name="local operator", _token=_ISSUED)


def require_teacher(actor: object) -> Teacher:
    if not isinstance(actor, Teacher) or not hmac.compare_digest(actor._token, _ISSUED):
        raise PermissionDenied("Only a teacher can change the course documents. Sign in on the Teacher page.")
    return actor
