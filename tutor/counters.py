"""Shared sliding-window counters in the database: the message rate limit and the sign-in
throttle count the same on every app host.

>>> window = SharedWindow(Database.open(settings), scope="messages", limit=20, window_s=60)  # doctest: +SKIP
>>> window.hit("3f2a…")            # 0.0: allowed and counted; > 0: seconds to wait
0.0

Each event is a row (scope, client, time on the database's clock). A check and its count are
one transaction under a lock for that scope and client, so two hosts never both let the
twenty-first message through. Old rows are deleted as they fall out of the window.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutor import schema
from tutor.db import Database

_events = schema.rate_events


class SharedWindow:
    """At most ``limit`` events per ``window_s`` seconds per client, counted in the database."""

    def __init__(self, db: Database, *, scope: str, limit: int, window_s: float):
        self.db, self.scope, self.limit, self.window_s = db, scope, int(limit), float(window_s)

    def _where(self, client: str):
        return sa.and_(_events.c.scope == self.scope, _events.c.client == client)

    def _wait(self, conn, client: str, now: float) -> float:
        conn.execute(_events.delete().where(self._where(client), _events.c.at <= now - self.window_s))
        count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(_events.c.at))
                                     .where(self._where(client))).one()
        if count < self.limit:
            return 0.0
        return max(0.0, oldest + self.window_s - now)

    def wait(self, client: str) -> float:
        """Seconds until the client may act again (0 when it may now). Counts nothing."""
        if self.limit <= 0:
            return 0.0
        with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
            return self._wait(conn, client, self.db.now(conn))

    def record(self, client: str) -> None:
        """Count one event (e.g. a wrong password) without checking."""
        with self.db.write() as conn:
            conn.execute(_events.insert().values(scope=self.scope, client=client, at=self.db.now(conn)))

    def hit(self, client: str) -> float:
        """Check and count in one step: 0.0 when allowed (and counted), else seconds to wait."""
        if self.limit <= 0:
            return 0.0
        with self.db.write(lock=f"window:{self.scope}:{client}") as conn:
            now = self.db.now(conn)
            wait = self._wait(conn, client, now)
            if wait == 0.0:
                conn.execute(_events.insert().values(scope=self.scope, client=client, at=now))
            return wait

    def reset(self, client: str) -> None:
        with self.db.write() as conn:
            conn.execute(_events.delete().where(self._where(client)))
