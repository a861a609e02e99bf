"""The teacher's sign-in kept across a page reload: a signed token that expires.

Streamlit forgets its session state on a reload, so the Teacher page keeps this token in a
cookie (set by the browser, read back through ``st.context.cookies``). The token says until
when it is good and carries an HMAC over that, keyed by the teacher password: nobody without
the password can make one, it stops working at its expiry, and changing the password ends
every token at once. Every app host with the same password accepts it. Only
:mod:`tutor.auth` turns a token into a Teacher (``auth.remember`` / ``auth.resume``).

>>> from pydantic import SecretStr
>>> from tutor.settings import load_settings
>>> settings = load_settings(teacher_password=SecretStr("pw"))
>>> token = issue(settings, now=1000.0)
>>> valid(token, settings, now=1001.0), valid(token, settings, now=1000.0 + TTL_S + 1)
(True, False)
>>> valid(token.replace(".", "x."), settings, now=1001.0), valid("", settings)
(False, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from tutor.settings import Settings

COOKIE = "tutor_teacher"
# How long a sign-in lasts without the password: a school day.
TTL_S = 8 * 3600
_CONTEXT = b"tutor teacher sign-in token v1"


def _key(settings: Settings) -> bytes | None:
    secret = settings.teacher_password.get_secret_value() if settings.teacher_password else ""
    if not secret:
        return None
    return hmac.new(secret.encode("utf-8"), _CONTEXT, hashlib.sha256).digest()


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def issue(settings: Settings, *, now: float | None = None) -> str:
    """A token good for TTL_S seconds: ``EXPIRY.NONCE.MAC`` (empty when no password is set)."""
    key = _key(settings)
    if key is None:
        return ""  # no password, no teacher area: nothing to keep
    expiry = int((time.time() if now is None else now) + TTL_S)
    payload = f"{expiry}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(key, payload)}"


def valid(token: str | None, settings: Settings, *, now: float | None = None) -> bool:
    """Whether the token was made with this password and has not expired."""
    key = _key(settings)
    if not token or key is None or token.count(".") != 2 or len(token) > 200:
        return False
    payload, _, mac = token.rpartition(".")
    expiry = payload.split(".", 1)[0]
    if not expiry.isdigit() or not hmac.compare_digest(mac, _sign(key, payload)):
        return False
    return (time.time() if now is None else now) < int(expiry)


_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def cookie_script(token: str, *, now: float | None = None) -> str:
    """The line of page script that sets (a token) or clears (``""``) the sign-in cookie. Only a
    token's own characters (base64url, digits, dots) may reach the script: anything else is
    refused rather than escaped.

    >>> cookie_script("")[:60]
    "<script>document.cookie = 'tutor_teacher=; path=/; max-age=0"
    >>> cookie_script("x'; alert(1)//")
    Traceback (most recent call last):
    ...
    ValueError: a sign-in token holds only base64url characters and dots
    """
    if not set(token) <= _TOKEN_CHARS or len(token) > 200:
        raise ValueError("a sign-in token holds only base64url characters and dots")
    age = seconds_left(token, now=now) if token else 0
    return (f"<script>document.cookie = '{COOKIE}={token}; path=/; max-age={age}; SameSite=Strict'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def seconds_left(token: str, *, now: float | None = None) -> int:
    """How long a valid token has to run (for the cookie's Max-Age)."""
    return max(0, int(token.split(".", 1)[0]) - int(time.time() if now is None else now))
