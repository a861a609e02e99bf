"""A sliding window kept in the database, so the message rate limit and the sign-in throttle
count the same on every app host.

>>> window = SharedWindow(Database.open(settings), scope="messages", window=60)   # doctest: +SKIP
>>> window.take("client-a", limit=20)      # 0.0: allowed and counted; > 0: seconds to wait
0.0

It has the interface of the in-process window (``take``, ``add``, ``recent``, ``forget``, and
``clock`` for the times it returns), so the limiters use either. Each event is a row (scope,
client, time on the database's clock, one clock for every host). A check and its count are one
transaction under a lock for that scope and client, so two hosts never both let the twenty-first
message through. Rows are deleted as they fall out of the window.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutor import schema
from tutor.db import Database

_events = schema.rate_events


class SharedWindow:
    """Event times per client within the last ``window`` seconds, in the database."""

    def __init__(self, db: Database, *, scope: str, window: float):
        self.db, self.scope, self.window = db, scope, float(window)

    def _where(self, client: str):
        return sa.and_(_events.c.scope == self.scope, _events.c.client == client)

    def _recent(self, conn, client: str, now: float) -> list[float]:
        conn.execute(_events.delete().where(self._where(client), _events.c.at < now - self.window))
        return list(conn.execute(sa.select(_events.c.at).where(self._where(client)).order_by(_events.c.at)).scalars())

    def clock(self) -> float:
        """Now, on the clock the event times are on."""
        with self.db.read() as conn:
            return self.db.now(conn)

    def recent(self, client: str) -> list[float]:
        """The times of the client's events still inside the window, oldest first."""
        with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
            return self._recent(conn, client, self.db.now(conn))

    def add(self, client: str) -> None:
        self.take(client, limit=None)

    def take(self, client: str, limit: int | None) -> float:
        """Record an event if fewer than ``limit`` are in the window (None: always); else
        record nothing and return the seconds until one more is allowed."""
        with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
            now = self.db.now(conn)
            times = self._recent(conn, client, now)
            if limit is not None and len(times) >= limit:
                return max(0.0, times[0] + self.window - now)
            conn.execute(_events.insert().values(scope=self.scope, client=client, at=now))
            return 0.0

    def forget(self, client: str) -> None:
        with self.db.write() as conn:
            conn.execute(_events.delete().where(self._where(client)))
