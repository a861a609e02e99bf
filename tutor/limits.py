"""The one sliding window, and the student rate limit built on it (the sign-in throttle in
tutor/auth.py is the other user). Keys are clients, not conversations, and keys whose events
have all expired are forgotten, so memory stays bounded however many clients come and go.

>>> now = [0.0]
>>> limiter = RateLimiter(2, clock=lambda: now[0])
>>> limiter.check("client-a"); limiter.check("client-a")
>>> limiter.check("client-a")
Traceback (most recent call last):
...
tutor.errors.RateLimited: You're sending messages quickly. Take a moment to think, then try again in 60 seconds.
>>> limiter.check("client-b")   # another client is not held up
>>> now[0] = 61.0; limiter.check("client-a")

With several app hosts the window is tutor.counters.SharedWindow (same interface, in the
database), given by tutor.services.build, so a client cannot multiply its allowance by landing
on another replica.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Protocol

from tutor.errors import RateLimited

# Past this many keys, expired ones are swept on the next event (not on every one: it is O(keys)).
SWEEP_AT = 1024


class Window(Protocol):
    """What the limiters need of a window: SlidingWindow here, SharedWindow across hosts."""

    window: float

    def clock(self) -> float: ...
    def recent(self, key: str) -> list[float]: ...
    def add(self, key: str) -> None: ...
    def take(self, key: str, limit: int | None) -> float: ...
    def forget(self, key: str) -> None: ...


class SlidingWindow:
    """Event times per key within the last ``window`` seconds. Thread-safe."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic):
        self.window = float(window)
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._events.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._events[key]
        return times

    def recent(self, key: str) -> list[float]:
        """The times of the key's events still inside the window, oldest first."""
        with self._lock:
            return list(self._prune(key, self.clock()))

    def add(self, key: str) -> None:
        self.take(key, limit=None)

    def take(self, key: str, limit: int | None) -> float:
        """Record an event if fewer than ``limit`` are in the window (None: always); else
        record nothing and return the seconds until one more is allowed."""
        now = self.clock()
        with self._lock:
            times = self._prune(key, now)
            if limit is not None and len(times) >= limit:
                return self.window - (now - times[0])
            if len(self._events) >= SWEEP_AT:
                for other in list(self._events):
                    self._prune(other, now)
            self._events.setdefault(key, deque()).append(now)
            return 0.0

    def forget(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def __len__(self) -> int:
        return len(self._events)


class RateLimiter:
    """At most ``per_minute`` messages per rolling minute per client (0 = unlimited)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 window: Window | None = None):
        self.per_minute = per_minute
        self.window = window if window is not None else SlidingWindow(60.0, clock)

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        wait = self.window.take(client, self.per_minute)
        if wait > 0:
            raise RateLimited(wait)
