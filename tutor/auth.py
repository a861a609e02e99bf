"""Owns who is a teacher: the :class:`Teacher` capability (only this module makes one), the
password check, and the sign-in policy (a throttle per client and per account, with backoff).

A student session has no Teacher, so every service (library, evaluation runs) refuses it
whatever the UI shows:

>>> require_teacher("a student")
Traceback (most recent call last):
...
tutor.errors.PermissionDenied: Only a teacher can change the course documents. Sign in on the Teacher page.
>>> require_teacher(local_operator()).name
'local operator'
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable

from tutor import teacher_token
from tutor.errors import PermissionDenied
from tutor.limits import SlidingWindow, Window
from tutor.settings import Settings

MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 60.0
# Each wrong password past the limit doubles the wait, up to this.
MAX_LOCKOUT_SECONDS = 15 * 60.0
# Wrong passwords from all clients together before the account itself waits.
MAX_ACCOUNT_FAILURES = 10
ACCOUNT_MEMORY_SECONDS = 24 * 3600.0
# A client that signed in is not held up by the account's wait for this long.
KNOWN_CLIENT_SECONDS = 30 * 24 * 3600.0
# The one account the password opens.
ACCOUNT = "teacher"

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


def remember(teacher: Teacher, settings: Settings) -> str:
    """A signed, expiring token that lets this teacher back in after a page reload."""
    require_teacher(teacher)
    return teacher_token.issue(settings)


def resume(token: str | None, settings: Settings) -> Teacher | None:
    """The teacher again for a token :func:`remember` made that has not expired, else None."""
    return Teacher(name="teacher", _token=_ISSUED) if teacher_token.valid(token, settings) else None


def is_open(settings: Settings) -> bool:
    """Whether a teacher password is set (the teacher area is closed otherwise)."""
    secret = settings.teacher_password
    return bool(secret and secret.get_secret_value())


def closed_message() -> str:
    return ("The teacher area is closed because no teacher password is set. To open it, set "
            "TUTOR_TEACHER_PASSWORD in the environment, in `.env`, or in `.streamlit/secrets.toml` "
            "(`TUTOR_TEACHER_PASSWORD = \"...\"`), then restart the app.")


class LoginThrottle:
    """Wrong passwords per client and per account. After ``limit`` wrong ones a client waits
    ``window`` seconds, and each further wrong one doubles the wait (up to MAX_LOCKOUT_SECONDS);
    another client is not held up by it. Wrong passwords from every client also count against
    the account: past ``account_limit`` of them the account waits the same way, so a guesser
    who changes address (or forges one) gets no fresh guesses. A client that signed in with the
    right password in the last KNOWN_CLIENT_SECONDS is exempt from the account's wait (only its
    own counts), so a student guessing from elsewhere cannot lock the teacher's own machine out.
    A right password clears the client's record, never the account's.

    >>> now = [0.0]
    >>> throttle = LoginThrottle(limit=2, window=60, account_limit=3, clock=lambda: now[0])
    >>> throttle.failed("student"); throttle.failed("student")
    >>> throttle.wait("student"), throttle.wait("teacher")
    (60.0, 0.0)
    >>> throttle.failed("student-with-another-address"); throttle.wait("teacher")
    60.0
    >>> now[0] = 61.0; throttle.failed("student"); throttle.wait("student")
    120.0
    """

    def __init__(self, limit: int = MAX_FAILED_LOGINS, window: float = LOCKOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic, max_lockout: float = MAX_LOCKOUT_SECONDS,
                 failures: Window | None = None, *, account_limit: int = MAX_ACCOUNT_FAILURES,
                 accounts: Window | None = None, known: Window | None = None):
        """``failures`` is where wrong passwords are counted per client, ``accounts`` per account,
        and ``known`` where clients that signed in are remembered (across hosts: SharedWindows of
        ``max_lockout``, ACCOUNT_MEMORY_SECONDS and KNOWN_CLIENT_SECONDS); the failures' clock is
        the one waits are measured on."""
        self.limit, self.window, self.account_limit = limit, float(window), account_limit
        self.max_lockout = max(float(max_lockout), self.window)
        # Failures are remembered as long as the longest lockout they can cause.
        self._failures = failures if failures is not None else SlidingWindow(self.max_lockout, clock)
        # An account's failures are remembered for a day, so once past its limit every further
        # guess waits the longest lockout, instead of the count starting again.
        self._accounts = accounts if accounts is not None else SlidingWindow(ACCOUNT_MEMORY_SECONDS, clock)
        self._known = known if known is not None else SlidingWindow(KNOWN_CLIENT_SECONDS, clock)
        self.clock = self._failures.clock

    def _wait(self, times: list[float], limit: int) -> float:
        if len(times) < limit:
            return 0.0
        lockout = min(self.max_lockout, self.window * 2 ** (len(times) - limit))
        return max(0.0, times[-1] + lockout - self.clock())

    def wait(self, client: str = "", account: str = ACCOUNT) -> float:
        """Seconds until this client may try again (0 when it may try now)."""
        own = self._wait(self._failures.recent(client), self.limit)
        if self._known.recent(client):
            return own
        return max(own, self._wait(self._accounts.recent(account), self.account_limit))

    def failed(self, client: str = "", account: str = ACCOUNT) -> None:
        self._failures.add(client)
        self._accounts.add(account)

    def succeeded(self, client: str = "", account: str = ACCOUNT) -> None:
        self._failures.forget(client)
        self._known.take(client, 1)


THROTTLE = LoginThrottle()


def sign_in(password: str, settings: Settings, throttle: LoginThrottle | None = None, *,
            client: str = "") -> Teacher:
    """A Teacher for the right password, unless this client is waiting out its wrong ones."""
    throttle = throttle or THROTTLE
    wait = throttle.wait(client)
    if wait > 0:
        raise PermissionDenied(f"Too many wrong passwords. Try again in {max(1, round(wait))} seconds.")
    try:
        teacher = teacher_login(password or "", settings)
    except PermissionDenied:
        if is_open(settings):
            throttle.failed(client)
        raise
    throttle.succeeded(client)
    return teacher
