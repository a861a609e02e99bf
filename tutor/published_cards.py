"""Lesson cards a teacher has published, in the database, so every app host serves the same.

A small API for the teacher's drafting workflow (``tutor lessons draft`` and the Teacher page):
a card is stored as the JSON object the teacher published, under its id.

Example (needs a live database)::

    cards = PublishedCards(Database.open(settings))
    cards.publish("why-stalin-won-2", {"question": "...", ...}, by="teacher")
    [c["question"] for c in cards.all()]

``version()`` moves with every publish and withdrawal, so a host can cheaply check whether
to reload its cards (as the store version does for documents).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from tutor import schema
from tutor.db import Database, bump_meta, upsert

_cards = schema.published_cards


class PublishedCards:
    def __init__(self, db: Database):
        self.db = db

    def publish(self, card_id: str, card: dict[str, Any], *, by: str) -> None:
        """Publish a card, or replace the published card with that id."""
        with self.db.write(lock="published-cards") as conn:
            now = self.db.now(conn)
            first = conn.execute(sa.select(_cards.c.published_at).where(_cards.c.card_id == card_id)).scalar()
            upsert(conn, _cards, {"card_id": card_id, "data": json.dumps(card, ensure_ascii=False, default=str),
                                  "published_by": by, "published_at": first or now, "updated_at": now},
                   ["card_id"])
            bump_meta(conn, "cards_version")

    def withdraw(self, card_id: str) -> bool:
        with self.db.write(lock="published-cards") as conn:
            gone = conn.execute(_cards.delete().where(_cards.c.card_id == card_id)).rowcount > 0
            if gone:
                bump_meta(conn, "cards_version")
            return gone

    def get(self, card_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            data = conn.execute(sa.select(_cards.c.data).where(_cards.c.card_id == card_id)).scalar()
        return json.loads(data) if data is not None else None

    def all(self) -> list[dict[str, Any]]:
        """Every published card, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(_cards.c.data).order_by(_cards.c.published_at, _cards.c.card_id))
            return [json.loads(d) for d in rows.scalars()]

    def version(self) -> int:
        with self.db.read() as conn:
            value = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == "cards_version")).scalar()
        return int(value or 0)
