"""The tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

Alembic's migrations in ``tutor/migrations/versions`` are generated from this module
(``alembic revision --autogenerate -m "..."``, see docs/deployment.md); the app applies them
when it opens the database (:mod:`tutor.db`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

# -- the manifest: what retrieval may show ---------------------------------------------------
documents = Table(
    "documents", metadata,
    Column("doc_id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("original", Text, nullable=False),  # the name of its row in kept_originals
    Column("content_hash", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("chunk_ids", Text, nullable=False),  # JSON list, in document order
    Column("metadata", Text, nullable=False),  # JSON object
    Column("ingested_at", Text, nullable=False),
)

document_versions = Table(
    "document_versions", metadata,
    Column("doc_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("n_chunks", Integer, nullable=False),
    Column("ingested_at", Text, nullable=False),
    Column("retired_at", Text),
    PrimaryKeyConstraint("doc_id", "version"),
)

meta = Table(
    "meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Chunk ids a writer is about to add to Chroma: no sweep deletes them meanwhile.
pending_chunks = Table(
    "pending_chunks", metadata,
    Column("chunk_id", Text, primary_key=True),
    Column("added_at", Float, nullable=False),  # the database's clock, epoch seconds
    Index("pending_chunks_added", "added_at"),
)

# The bytes of each live document version as uploaded, for `tutor reindex`.
kept_originals = Table(
    "kept_originals", metadata,
    Column("name", Text, primary_key=True),
    Column("doc_id", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", Float, nullable=False),
)

# -- conversations -----------------------------------------------------------------------------
chat_sessions = Table(
    "chat_sessions", metadata,
    Column("id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("turns", Integer, nullable=False),
    Column("data", Text, nullable=False),  # JSON: engine.Session.to_dict()
)
Index("chat_sessions_updated", chat_sessions.c.updated_at.desc())

# -- lesson cards a teacher has published ------------------------------------------------------
# Every publication is a new version; unpublishing marks the live one withdrawn, history kept.
published_cards = Table(
    "published_cards", metadata,
    Column("card_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("card", Text, nullable=False),  # JSON: the card as the teacher published it
    Column("timeline", Text, nullable=False),  # JSON list: timeline events published with it
    Column("doc_ids", Text, nullable=False),  # JSON list: the documents it teaches
    Column("published_by", Text, nullable=False),
    Column("published_at", Float, nullable=False),  # the database's clock, epoch seconds
    Column("unpublished_by", Text),
    Column("unpublished_at", Float),
    PrimaryKeyConstraint("card_id", "version"),
    Index("published_cards_live", "unpublished_at"),
)

# -- shared counters: the rate limit and the sign-in throttle ----------------------------------
rate_events = Table(
    "rate_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", Text, nullable=False),  # e.g. "messages", "sign-in"
    Column("client", Text, nullable=False),  # a session id, a client address, "*"
    Column("at", Float, nullable=False),  # the database's clock, epoch seconds
    Index("rate_events_lookup", "scope", "client", "at"),
)
