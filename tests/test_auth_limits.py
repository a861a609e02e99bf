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


# -- who the client is (tutor.clients) and the per-account throttle: issue 24, item 1 ---------

import ipaddress
import logging
import random

from tutor.clients import UNVERIFIED, TrustedProxies, client_key, server_proxies

LOOPBACK = server_proxies(None)  # what Streamlit's server trusts by default (127.0.0.1, ::1)


def _addresses(n: int, seed: int = 24) -> list[str]:
    """``n`` distinct public-looking addresses, v4 and v6, as a guesser would rotate them."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        out.append(str(ipaddress.IPv4Address(rng.getrandbits(32))) if rng.random() < 0.7
                   else str(ipaddress.IPv6Address(rng.getrandbits(128))))
    return list(dict.fromkeys(out))


def _uvicorn_seen(peer: str, forwarded: list[str], server) -> str:
    """The address Streamlit's server reports for this connection (its ProxyHeadersMiddleware)."""
    from uvicorn.middleware.proxy_headers import _TrustedHosts

    hosts = _TrustedHosts([str(n) for n in server.networks] or "")
    if peer in hosts and forwarded:
        return hosts.get_trusted_client_address(", ".join(forwarded))[0]
    return peer


@pytest.mark.parametrize("peer, trusted, server_env", [
    ("127.0.0.1", "", None), ("127.0.0.1", "", ""), ("::1", "", None), ("192.0.2.66", "", None),
    ("192.0.2.66", "127.0.0.1", "127.0.0.1"), ("192.0.2.66", "127.0.0.1,::1", None),
    ("127.0.0.1", "10.0.0.0/8", "10.0.0.2"), ("192.0.2.66", "0.0.0.0/1", None)])
def test_rotating_x_forwarded_for_from_one_machine_is_one_client(peer, trusted, server_env):
    """The probe's attack: one machine that is not a trusted proxy, a new X-Forwarded-For on
    every request (alone, in front of a real-looking chain, as two lines), straight to the app."""
    proxies, server = TrustedProxies.parse(trusted), server_proxies(server_env)
    keys = set()
    for forged in _addresses(40):
        for header in ([forged], [f"{forged}, 127.0.0.1"], [forged, "127.0.0.1"], [f"{forged}:4444"]):
            keys.add(client_key(_uvicorn_seen(peer, header, server), header, proxies, server))
    assert len(keys) == 1, keys
    assert keys != {"ip:"} and all(k.startswith("ip:") for k in keys)


def test_the_rightmost_hop_a_trusted_proxy_appended_is_the_client():
    proxies = TrustedProxies.parse("10.0.0.0/24, 2001:db8::/32")
    for forged in _addresses(30):
        # The client prefixed a hop of its own; the proxy appended the real address.
        assert proxies.client("10.0.0.2", [f"{forged}, 203.0.113.7"]) == "203.0.113.7"
        # Through two trusted proxies, and as separate header lines.
        assert proxies.client("10.0.0.3", [forged, "198.51.100.4, 10.0.0.2"]) == "198.51.100.4"
        # A client naming a trusted proxy as itself does not make the chain trusted further left.
        assert proxies.client("10.0.0.2", [f"{forged}, 10.0.0.9, 198.51.100.4"]) == "198.51.100.4"
        # Not from a proxy: the header is ignored.
        assert proxies.client("192.0.2.50", [forged]) == "192.0.2.50"
    assert proxies.client("10.0.0.2", ["[2001:db8::1]:443, [2001:db9::5]:80"]) == "2001:db9::5"
    assert proxies.client("::ffff:10.0.0.2", ["::ffff:198.51.100.4"]) == "198.51.100.4"
    assert proxies.client("10.0.0.2", ["", " , "]) == "10.0.0.2"
    assert len(proxies.client("10.0.0.2", ["x" * 100_000])) <= 64, "a header cannot make a huge key"


def test_a_client_without_an_address_is_one_stable_client_not_a_new_one_per_reload():
    keys = {client_key(None, [], TrustedProxies(), LOOPBACK) for _ in range(5)}
    assert keys == {"ip:127.0.0.1"}


def test_a_server_trusting_more_than_the_app_counts_forwarded_requests_as_one(caplog):
    """FORWARDED_ALLOW_IPS='*' with no TUTOR_TRUSTED_PROXIES: any rewritten address is suspect."""
    server = server_proxies("*")
    with caplog.at_level(logging.WARNING, logger="tutor.clients"):
        keys = {client_key(_uvicorn_seen("192.0.2.9", [f], server), [f], TrustedProxies(), server)
                for f in _addresses(10)}
    assert keys == {f"ip:{UNVERIFIED}"}
    assert "FORWARDED_ALLOW_IPS" in caplog.text


def test_trusted_proxies_setting_is_checked_and_trust_proxy_is_deprecated(caplog):
    with pytest.raises(ConfigError, match="TUTOR_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.2, proxy.school.example")
    assert load_settings(trusted_proxies=" 10.0.0.2 ,10.1.2.3/16").trusted_proxies == "10.0.0.2/32,10.1.0.0/16"
    with caplog.at_level(logging.WARNING, logger="tutor.settings"):
        proxies = load_settings(trust_proxy=True).proxies()
    assert "TUTOR_TRUST_PROXY is deprecated" in caplog.text and "TUTOR_TRUSTED_PROXIES" in caplog.text
    assert "127.0.0.1" in proxies and "::1" in proxies and "10.0.0.2" not in proxies
    # The deprecated flag no longer believes the first hop.
    assert proxies.client("127.0.0.1", ["6.6.6.6, 203.0.113.7"]) == "203.0.113.7"


def _guesses_allowed(throttle, clients: list[str], clock, seconds: float) -> int:
    """Wrong passwords the throttle lets through in ``seconds`` from these clients in turn,
    each trying as soon as it may."""
    settings = load_settings(teacher_password=PASSWORD)
    allowed, n, end = 0, 0, clock[0] + seconds
    while clock[0] < end:
        client = clients[n % len(clients)]
        n += 1
        try:
            auth.sign_in("guess", settings, throttle, client=client)
        except PermissionDenied as exc:
            if "not right" in str(exc):
                allowed += 1
                continue
        clock[0] += 1.0
    return allowed


def test_rotating_addresses_give_no_fresh_guesses(clock):
    throttle = auth.LoginThrottle(clock=lambda: clock[0])
    rotating = [f"ip:{a}" for a in _addresses(500)]
    in_a_minute = _guesses_allowed(throttle, rotating, clock, 60)
    assert in_a_minute == auth.MAX_ACCOUNT_FAILURES, in_a_minute
    in_an_hour = in_a_minute + _guesses_allowed(throttle, rotating, clock, 3600 - 60)
    assert in_an_hour <= 20, in_an_hour
    in_a_day = in_an_hour + _guesses_allowed(throttle, rotating, clock, 86400 - 3600)
    assert in_a_day <= 120, in_a_day  # before: 5 per address, 2,500 in the first minute alone


def test_the_teachers_own_machine_is_not_locked_out_by_guessing_elsewhere(clock):
    settings = load_settings(teacher_password=PASSWORD)
    throttle = auth.LoginThrottle(clock=lambda: clock[0])
    auth.sign_in(PASSWORD, settings, throttle, client="ip:10.0.0.7")  # the teacher, last week
    clock[0] += 7 * 24 * 3600
    _guesses_allowed(throttle, [f"ip:{a}" for a in _addresses(50)], clock, 30)
    with pytest.raises(PermissionDenied, match="Too many"):
        auth.sign_in(PASSWORD, settings, throttle, client="ip:198.51.100.77")
    assert auth.sign_in(PASSWORD, settings, throttle, client="ip:10.0.0.7").name == "teacher"
