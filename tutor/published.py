"""Lesson cards (and timeline events) published by teachers, in the database, with who and when.

Example (needs a live database)::

    cards = PublishedCards(settings)                   # the Database TUTOR_DATABASE_URL names
    cards.publish(teacher, card_data, timeline=[...]).version       # 1
    lessons = LiveLessons(load_lessons(corpus), cards)
    lessons.get(card_data["id"]) is not None                        # True

Every publication is a new version; unpublishing marks the live version withdrawn and keeps
the history. The course's own cards in corpus/lessons are never written. The table is
``tutor.schema.published_cards`` on the data layer (SQLite under TUTOR_HOME, or PostgreSQL), so
every app host serves the same cards. A running tutor sees a change on its next turn:
LiveLessons re-reads the cards whenever the ``cards_version`` counter moves (one cheap read).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from tutor import schema
from tutor.auth import Teacher, require_teacher
from tutor.db import Database, bump_meta
from tutor.errors import StoreError
from tutor.lessons import LessonCard, Lessons, TimelineEvent
from tutor.scan import scan_card
from tutor.settings import Settings

_cards = schema.published_cards
VERSION_KEY = "cards_version"


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


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


def _record(row) -> PublishedCard:
    return PublishedCard(row.card_id, row.version, json.loads(row.card), json.loads(row.timeline),
                         json.loads(row.doc_ids), row.published_by, _iso(row.published_at),
                         row.unpublished_by, _iso(row.unpublished_at))


class PublishedCards:
    """The published cards on the data layer: ``PublishedCards(settings)`` uses the process's
    Database for those settings; ``db=`` gives one directly (a test's second host)."""

    def __init__(self, settings: Settings | None = None, *, db: Database | None = None):
        if settings is None and db is None:
            raise TypeError("PublishedCards needs settings or a Database")
        self.settings = settings
        self._db = db

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database.open(self.settings)
        return self._db

    def publish(self, actor: Teacher, card: dict[str, Any], *, timeline: list[dict[str, Any]] | None = None,
                doc_ids: list[str] | None = None) -> PublishedCard:
        """Store a new live version of the card (callers validate first: tutor.drafting)."""
        require_teacher(actor)
        card_id = str(card["id"])
        docs = doc_ids or sorted({d for kp in card.get("key_points", []) for d in kp.get("sources", [])})
        try:
            with self.db.write(lock="published-cards") as conn:
                now = self.db.now(conn)
                conn.execute(_cards.update().where(_cards.c.card_id == card_id, _cards.c.unpublished_at.is_(None))
                             .values(unpublished_by=actor.name, unpublished_at=now))
                version = 1 + (conn.execute(sa.select(sa.func.max(_cards.c.version))
                                            .where(_cards.c.card_id == card_id)).scalar() or 0)
                conn.execute(_cards.insert().values(
                    card_id=card_id, version=version, card=json.dumps(card, ensure_ascii=False, default=str),
                    timeline=json.dumps(timeline or [], ensure_ascii=False, default=str), doc_ids=json.dumps(docs),
                    published_by=actor.name, published_at=now))
                bump_meta(conn, VERSION_KEY)
        except StoreError as exc:
            raise StoreError(f"Nothing was published: {exc}") from exc
        return PublishedCard(card_id, version, card, timeline or [], docs, actor.name, _iso(now))

    def unpublish(self, actor: Teacher, card_id: str) -> bool:
        """Withdraw the live version; False if the card is not published."""
        require_teacher(actor)
        with self.db.write(lock="published-cards") as conn:
            gone = conn.execute(_cards.update().where(_cards.c.card_id == card_id, _cards.c.unpublished_at.is_(None))
                                .values(unpublished_by=actor.name, unpublished_at=self.db.now(conn))).rowcount > 0
            if gone:
                bump_meta(conn, VERSION_KEY)
            return gone

    def live(self) -> list[PublishedCard]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(_cards).where(_cards.c.unpublished_at.is_(None)).order_by(_cards.c.card_id))
            return [_record(r) for r in rows]

    def history(self, card_id: str | None = None) -> list[PublishedCard]:
        query = sa.select(_cards).order_by(_cards.c.card_id, _cards.c.version)
        if card_id is not None:
            query = query.where(_cards.c.card_id == card_id)
        with self.db.read() as conn:
            return [_record(r) for r in conn.execute(query)]

    def signature(self) -> int:
        """Moves whenever anything is published or unpublished (by any process, on any host)."""
        with self.db.read() as conn:
            value = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == VERSION_KEY)).scalar()
        return int(value or 0)


class LiveLessons(Lessons):
    """The course's lessons plus the live published cards and timeline events, re-read when a
    teacher publishes or unpublishes: a running tutor needs no restart."""

    def __init__(self, base: Lessons, published: PublishedCards):
        self._base = base
        self._published = published
        self._signature: int | None = None
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
                # Published before cards were scanned: text aimed at a model never reaches one.
                flagged = scan_card(record.card) + [f for n, e in enumerate(record.timeline)
                                                    for f in scan_card(e, f"timeline[{n}]")]
                if flagged:
                    skipped.append(f"{record.card_id} v{record.version}: {flagged[0][0]} reads as text for a "
                                   f"language model ({flagged[0][1].kind})")
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
