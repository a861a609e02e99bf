"""A sliding window kept in the database, so the message rate limit and the sign-in throttle
count the same on every app host.

Example (needs a live database)::

    window = SharedWindow(Database.open(settings), scope="messages", window=60)
    window.take("client-a", limit=20)      # -> 0.0: allowed and counted; > 0: seconds to wait

It has the interface of the in-process window (``take``, ``add``, ``recent``, ``forget``, and
``clock`` for the times it returns), so the limiters use either. Each event is a row (scope,
client, time on the database's clock, one clock for every host). A check and its count are one
transaction under a lock for that scope and client, so two hosts never both let the twenty-first
message through. Rows are deleted as they fall out of the window.

When the database cannot be reached the window counts in this process instead (and says so in
the log): a database outage must not stop students from chatting, and each host still limits.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa

from tutor import schema
from tutor.db import Database, DatabaseUnavailable
from tutor.limits import SlidingWindow

log = logging.getLogger(__name__)

_events = schema.rate_events


class SharedWindow:
    """Event times per client within the last ``window`` seconds, in the database."""

    def __init__(self, db: Database, *, scope: str, window: float):
        self.db, self.scope, self.window = db, scope, float(window)
        self._local = SlidingWindow(self.window, time.time)

    def _fallback(self, exc: DatabaseUnavailable):
        log.warning("counting %s in this process while the database is unreachable: %s", self.scope, exc)
        return self._local

    def _where(self, client: str):
        return sa.and_(_events.c.scope == self.scope, _events.c.client == client)

    def _recent(self, conn, client: str, now: float) -> list[float]:
        conn.execute(_events.delete().where(self._where(client), _events.c.at < now - self.window))
        return list(conn.execute(sa.select(_events.c.at).where(self._where(client)).order_by(_events.c.at)).scalars())

    def clock(self) -> float:
        """Now, on the clock the event times are on."""
        try:
            with self.db.read() as conn:
                return self.db.now(conn)
        except DatabaseUnavailable:
            return self._local.clock()

    def recent(self, client: str) -> list[float]:
        """The times of the client's events still inside the window, oldest first."""
        try:
            with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
                return self._recent(conn, client, self.db.now(conn))
        except DatabaseUnavailable as exc:
            return self._fallback(exc).recent(client)

    def add(self, client: str) -> None:
        self.take(client, limit=None)

    def take(self, client: str, limit: int | None) -> float:
        """Record an event if fewer than ``limit`` are in the window (None: always); else
        record nothing and return the seconds until one more is allowed."""
        try:
            with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
                now = self.db.now(conn)
                times = self._recent(conn, client, now)
                if limit is not None and len(times) >= limit:
                    return max(0.0, times[0] + self.window - now)
                conn.execute(_events.insert().values(scope=self.scope, client=client, at=now))
                return 0.0
        except DatabaseUnavailable as exc:
            return self._fallback(exc).take(client, limit)

    def forget(self, client: str) -> None:
        self._local.forget(client)
        try:
            with self.db.write() as conn:
                conn.execute(_events.delete().where(self._where(client)))
        except DatabaseUnavailable as exc:
            self._fallback(exc)
