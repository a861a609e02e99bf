"""The teacher's sign-in token: signed with the password, expiring, refused when altered."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tutor import auth, teacher_token
from tutor.errors import PermissionDenied
from tutor.settings import load_settings


def _settings(password: str = "pw"):
    return load_settings(teacher_password=SecretStr(password) if password else None)


def test_a_token_signs_the_teacher_back_in_until_it_expires():
    settings = _settings()
    token = auth.remember(auth.teacher_login("pw", settings), settings)
    teacher = auth.resume(token, settings)
    assert teacher is not None and auth.require_teacher(teacher) is teacher
    assert teacher_token.seconds_left(token) > teacher_token.TTL_S - 5
    late = teacher_token.issue(settings, now=0)
    assert auth.resume(late, settings) is None


@pytest.mark.parametrize("change", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),        # another signature
    lambda t: str(int(t.split(".")[0]) + 86400) + t[t.index("."):],  # a later expiry, same signature
    lambda t: t + ".x", lambda t: "", lambda t: None, lambda t: "x" * 500,
])
def test_an_altered_or_made_up_token_is_refused(change):
    settings = _settings()
    assert auth.resume(change(teacher_token.issue(settings)), settings) is None


def test_a_new_password_or_none_ends_every_token():
    token = teacher_token.issue(_settings("pw"))
    assert auth.resume(token, _settings("another")) is None
    assert auth.resume(token, _settings("")) is None
    assert teacher_token.issue(_settings("")) == ""


def test_only_a_teacher_gets_a_token():
    for actor in (None, "teacher", auth.Teacher("teacher")):
        with pytest.raises(PermissionDenied):
            auth.remember(actor, _settings())
