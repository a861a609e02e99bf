"""Lesson cards (and timeline events) published by teachers, kept under TUTOR_HOME with who and when.

>>> cards = PublishedCards(settings)                                    # doctest: +SKIP
>>> cards.publish(teacher, card_data, timeline=[...]).version           # doctest: +SKIP
1
>>> lessons = LiveLessons(load_lessons(corpus), cards)                  # doctest: +SKIP
>>> lessons.get(card_data["id"]) is not None                            # doctest: +SKIP
True

Every publication is a new version; unpublishing marks the live version withdrawn and keeps
the history. The course's own cards in corpus/lessons are never written. The store is a small
API over one SQLite table so it can move to another database without touching its callers.
A running tutor sees a change on its next turn: LiveLessons re-reads the table whenever its
signature (row count and last change) moves.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from tutor.auth import Teacher, require_teacher
from tutor.db import connect
from tutor.errors import StoreError
from tutor.lessons import LessonCard, Lessons, TimelineEvent
from tutor.settings import Settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS published_cards (
    card_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    card_json TEXT NOT NULL,
    timeline_json TEXT NOT NULL DEFAULT '[]',
    doc_ids TEXT NOT NULL DEFAULT '[]',
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL,
    unpublished_by TEXT,
    unpublished_at TEXT,
    PRIMARY KEY (card_id, version)
)
"""


@dataclass(frozen=True)
class PublishedCard:
    card_id: str
    version: int
    card: dict[str, Any]
    timeline: list[dict[str, Any]]
    doc_ids: list[str]
    published_by: str
    published_at: str
    unpublished_by: str | None = None
    unpublished_at: str | None = None

    @property
    def live(self) -> bool:
        return self.unpublished_at is None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.card_id, "version": self.version, "docs": self.doc_ids, "published_by": self.published_by,
                "published_at": self.published_at, "unpublished_by": self.unpublished_by,
                "unpublished_at": self.unpublished_at, "timeline_events": len(self.timeline)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class PublishedCards:
    """The published-cards table in TUTOR_HOME's SQLite file."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = connect(self.settings.db_path)
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        try:
            with self._lock:
                return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot read the published lesson cards ({exc}); `tutor doctor` shows the database state.") from exc

    @staticmethod
    def _row(row: sqlite3.Row) -> PublishedCard:
        return PublishedCard(row["card_id"], row["version"], json.loads(row["card_json"]), json.loads(row["timeline_json"]),
                             json.loads(row["doc_ids"]), row["published_by"], row["published_at"],
                             row["unpublished_by"], row["unpublished_at"])

    def publish(self, actor: Teacher, card: dict[str, Any], *, timeline: list[dict[str, Any]] | None = None,
                doc_ids: list[str] | None = None) -> PublishedCard:
        """Store a new live version of the card (callers validate first: tutor.drafting)."""
        require_teacher(actor)
        card_id = str(card["id"])
        docs = doc_ids or sorted({d for kp in card.get("key_points", []) for d in kp.get("sources", [])})
        try:
            with self._lock:
                db = self._db()
                db.execute("BEGIN IMMEDIATE")
                try:
                    now = _now()
                    db.execute("UPDATE published_cards SET unpublished_by = ?, unpublished_at = ? "
                               "WHERE card_id = ? AND unpublished_at IS NULL", (actor.name, now, card_id))
                    version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM published_cards WHERE card_id = ?",
                                         (card_id,)).fetchone()[0]
                    db.execute("INSERT INTO published_cards (card_id, version, card_json, timeline_json, doc_ids, "
                               "published_by, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (card_id, version, json.dumps(card, ensure_ascii=False),
                                json.dumps(timeline or [], ensure_ascii=False), json.dumps(docs), actor.name, now))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot publish the card '{card_id}' ({exc}); nothing was published.") from exc
        return PublishedCard(card_id, version, card, timeline or [], docs, actor.name, now)

    def unpublish(self, actor: Teacher, card_id: str) -> bool:
        """Withdraw the live version; False if the card is not published."""
        require_teacher(actor)
        try:
            with self._lock:
                cur = self._db().execute("UPDATE published_cards SET unpublished_by = ?, unpublished_at = ? "
                                         "WHERE card_id = ? AND unpublished_at IS NULL", (actor.name, _now(), card_id))
                return cur.rowcount > 0
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot unpublish the card '{card_id}' ({exc}).") from exc

    def live(self) -> list[PublishedCard]:
        rows = self._query("SELECT * FROM published_cards WHERE unpublished_at IS NULL ORDER BY card_id")
        return [self._row(r) for r in rows]

    def history(self, card_id: str | None = None) -> list[PublishedCard]:
        if card_id is None:
            rows = self._query("SELECT * FROM published_cards ORDER BY card_id, version")
        else:
            rows = self._query("SELECT * FROM published_cards WHERE card_id = ? ORDER BY version", (card_id,))
        return [self._row(r) for r in rows]

    def signature(self) -> tuple:
        """Changes whenever anything is published or unpublished (by any process)."""
        row = self._query("SELECT COUNT(*), MAX(published_at), MAX(unpublished_at) FROM published_cards")[0]
        return tuple(row)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class LiveLessons(Lessons):
    """The course's lessons plus the live published cards and timeline events, re-read when a
    teacher publishes or unpublishes: a running tutor needs no restart."""

    def __init__(self, base: Lessons, published: PublishedCards):
        self._base = base
        self._published = published
        self._signature: tuple | None = None
        self._cards = list(base.cards)
        self._timeline = list(base.timeline)
        self.skipped: list[str] = []
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            signature = self._published.signature()
        except StoreError:
            return  # the course cards still work; the Teacher page shows the database error
        if signature == self._signature:
            return
        with self._lock:
            cards, timeline, skipped = list(self._base.cards), list(self._base.timeline), []
            course_ids = {c.id for c in cards}
            for record in self._published.live():
                try:
                    card = LessonCard.model_validate(record.card)
                    events = [TimelineEvent.model_validate(e) for e in record.timeline]
                except ValidationError as exc:
                    skipped.append(f"{record.card_id} v{record.version}: {exc.error_count()} invalid field(s)")
                    continue
                if card.id in course_ids:
                    skipped.append(f"{record.card_id}: the course has a card with this id")
                    continue
                cards.append(card)
                known = {e.id for e in timeline}
                timeline.extend(e for e in events if e.id not in known)
            self._cards, self._timeline, self.skipped = cards, timeline, skipped
            self._signature = signature

    @property
    def cards(self) -> list[LessonCard]:  # type: ignore[override]
        self._refresh()
        return self._cards

    @cards.setter
    def cards(self, value: list[LessonCard]) -> None:
        self._cards = value

    @property
    def timeline(self) -> list[TimelineEvent]:  # type: ignore[override]
        self._refresh()
        return self._timeline

    @timeline.setter
    def timeline(self, value: list[TimelineEvent]) -> None:
        self._timeline = value

    @property
    def published(self) -> PublishedCards:
        return self._published

    @property
    def course(self) -> Lessons:
        """Only the course's own cards and timeline (corpus/lessons, corpus/timeline.yaml)."""
        return self._base

    def is_published(self, card_id: str) -> bool:
        return card_id not in {c.id for c in self._base.cards} and self.get(card_id) is not None


def live_lessons(settings: Settings, base: Lessons | None = None) -> LiveLessons:
    from tutor.lessons import load_lessons

    return LiveLessons(base or load_lessons(settings.corpus_dir), PublishedCards(settings))
