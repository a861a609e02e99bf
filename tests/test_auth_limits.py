"""Sign-in policy (tutor.auth) and the one sliding window (tutor.limits): a throttle per client
with backoff, so a student guessing cannot lock the teacher out; a whitespace-only password is
refused at start-up; the student rate limit is per client (a new conversation does not reset
it) and forgets clients whose messages have all expired."""

from __future__ import annotations

import pytest

from tutor import auth
from tutor.errors import ConfigError, PermissionDenied, RateLimited
from tutor.limits import RateLimiter, SlidingWindow
from tutor.settings import load_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock():
    now = [0.0]
    return now


def test_wrong_passwords_from_one_client_do_not_lock_out_another(clock):
    settings = load_settings(teacher_password=PASSWORD)
    throttle = auth.LoginThrottle(limit=5, window=60, clock=lambda: clock[0])
    for _ in range(5):
        with pytest.raises(PermissionDenied, match="not right"):
            auth.sign_in("guess", settings, throttle, client="ip:10.0.0.66")
    with pytest.raises(PermissionDenied, match="Too many"):
        auth.sign_in(PASSWORD, settings, throttle, client="ip:10.0.0.66")
    assert auth.sign_in(PASSWORD, settings, throttle, client="ip:10.0.0.7").name == "teacher"


def test_each_wrong_password_past_the_limit_doubles_the_wait(clock):
    settings = load_settings(teacher_password=PASSWORD)
    throttle = auth.LoginThrottle(limit=2, window=60, clock=lambda: clock[0])
    waits = []
    for _ in range(4):
        for _ in range(2 if not waits else 1):
            with pytest.raises(PermissionDenied, match="not right"):
                auth.sign_in("guess", settings, throttle, client="c")
        waits.append(throttle.wait("c"))
        clock[0] += waits[-1] + 0.1
    assert waits == [60.0, 120.0, 240.0, 480.0]


def test_the_right_password_clears_the_clients_record(clock):
    settings = load_settings(teacher_password=PASSWORD)
    throttle = auth.LoginThrottle(limit=2, window=60, clock=lambda: clock[0])
    with pytest.raises(PermissionDenied):
        auth.sign_in("guess", settings, throttle, client="c")
    auth.sign_in(PASSWORD, settings, throttle, client="c")
    with pytest.raises(PermissionDenied, match="not right"):
        auth.sign_in("guess", settings, throttle, client="c")
    assert throttle.wait("c") == 0.0


@pytest.mark.parametrize("blank", [" ", "   \t", "\n"])
def test_a_whitespace_only_teacher_password_is_refused_at_start_up(blank, monkeypatch):
    with pytest.raises(ConfigError, match="TUTOR_TEACHER_PASSWORD"):
        load_settings(teacher_password=blank)
    assert not auth.is_open(load_settings(teacher_password=""))  # empty still means "closed"


def test_the_rate_limit_is_per_client_and_survives_a_new_conversation(corpus_home, embedder, clock):
    from tutor.services import build
    from tutor.store import Store
    from tutor.turn import Session

    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=2)
    tutor = build(settings, store=Store(settings, embedder), chat_model=None).tutor
    tutor.rate_limiter = RateLimiter(2, clock=lambda: clock[0])
    for _ in range(2):
        assert tutor.reply(Session(), "why did stalin win?", client="ip:10.0.0.5").move["kind"] != "rate_limited"
    fresh = Session()  # "New conversation"
    assert tutor.reply(fresh, "why did stalin win?", client="ip:10.0.0.5").move["kind"] == "rate_limited"
    assert fresh.history == [], "a refused message is not recorded"
    assert tutor.reply(Session(), "why did stalin win?", client="ip:10.0.0.6").move["kind"] != "rate_limited"


def test_the_window_forgets_clients_whose_events_expired(clock, monkeypatch):
    import tutor.limits as limits

    monkeypatch.setattr(limits, "SWEEP_AT", 10)
    window = SlidingWindow(60, clock=lambda: clock[0])
    for n in range(10):
        window.add(f"client-{n}")
    clock[0] = 61.0
    window.add("late")
    assert len(window) == 1, "expired clients are dropped, so memory does not grow with every visitor"
    limiter = RateLimiter(1, clock=lambda: clock[0])
    limiter.check("a")
    with pytest.raises(RateLimited):
        limiter.check("a")
    clock[0] = 200.0
    limiter.check("a")
