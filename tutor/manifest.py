"""The manifest: which documents, which version, which chunk ids are live. In the database
(:mod:`tutor.db`: SQLite under TUTOR_HOME, or PostgreSQL shared by every app host).

The manifest is the source of truth for what retrieval may show. A chunk that is in Chroma
but not listed here (a crash between writing and switching) is invisible and is swept by
:meth:`tutor.store.Store.sweep_orphans` — unless it is listed in ``pending_chunks``: a writer
marks its chunk ids there before adding them, so another process's (or host's) sweep leaves
them alone. Changes that move the store version (switch, delete, reindex) hold the manifest
lock (see :meth:`tutor.db.Database.write`), so writers on several hosts take turns.

Example::

    m = Manifest.open(settings)
    m.version()                                           # bumps on every change
    # → 0
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tutor import schema
from tutor.db import Database, batches, bump_meta, upsert

LOCK = "manifest"
# Metadata flag: the title and kind are the teacher's (Manifest.retitle), not read from the file.
TITLED_BY_TEACHER = "titled_by_teacher"
_docs, _versions, _meta, _pending, _originals = (schema.documents, schema.document_versions, schema.meta,
                                                schema.pending_chunks, schema.kept_originals)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    title: str
    kind: str
    filename: str
    original: str
    content_hash: str
    version: int
    chunk_ids: tuple[str, ...]
    metadata: dict[str, Any]
    ingested_at: str

    @property
    def chunks(self) -> int:
        return len(self.chunk_ids)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.doc_id, "title": self.title, "kind": self.kind, "chunks": self.chunks,
            "version": self.version, "ingested_at": self.ingested_at, "filename": self.filename,
            "content_hash": self.content_hash, **{k: v for k, v in self.metadata.items() if k in (
                "author", "date", "period", "tags", "provenance", "purpose", "audience")},
        }


class Manifest:
    """Documents, their versions and chunk ids, their kept originals, and a store version counter."""

    def __init__(self, target: "Path | str | Database"):
        self.db = Database.of(target)
        self.path = target if isinstance(target, Path) else None

    @classmethod
    def open(cls, settings) -> "Manifest":
        return cls(Database.open(settings))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction holding the manifest lock."""
        with self.db.write(lock=LOCK) as conn:
            yield conn

    # -- reading -------------------------------------------------------------------
    @staticmethod
    def _record(row: Any) -> DocumentRecord:
        m = row._mapping
        return DocumentRecord(
            doc_id=m["doc_id"], title=m["title"], kind=m["kind"], filename=m["filename"],
            original=m["original"], content_hash=m["content_hash"], version=m["version"],
            chunk_ids=tuple(json.loads(m["chunk_ids"])), metadata=json.loads(m["metadata"]),
            ingested_at=m["ingested_at"],
        )

    def get(self, doc_id: str) -> DocumentRecord | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(_docs).where(_docs.c.doc_id == doc_id)).first()
        return self._record(row) if row else None

    def documents(self) -> list[DocumentRecord]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(_docs).order_by(_docs.c.kind, _docs.c.doc_id)).all()
        return [self._record(r) for r in rows]

    def live_chunk_ids(self) -> set[str]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(_docs.c.chunk_ids)).scalars().all()
        return {chunk_id for ids in rows for chunk_id in json.loads(ids)}

    def pending_chunk_ids(self, newer_than: float) -> set[str]:
        """Chunk ids a writer marked as being written at or after ``newer_than`` (epoch seconds,
        on the database's clock: see :meth:`clock`)."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(_pending.c.chunk_id).where(_pending.c.added_at >= newer_than))
            return set(rows.scalars())

    def clock(self) -> float:
        """Now, on the database's clock (the same for every host)."""
        with self.db.read() as conn:
            return self.db.now(conn)

    def version(self) -> int:
        return int(self.get_meta("store_version") or 0)

    def get_meta(self, key: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(sa.select(_meta.c.value).where(_meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            upsert(conn, _meta, {"key": key, "value": value}, ["key"])

    def original(self, name: str) -> bytes | None:
        """The kept bytes of a document version as uploaded (None if not in the database)."""
        if not name:
            return None
        with self.db.read() as conn:
            return conn.execute(sa.select(_originals.c.content).where(_originals.c.name == name)).scalar()

    def original_names(self) -> set[str]:
        with self.db.read() as conn:
            return set(conn.execute(sa.select(_originals.c.name)).scalars())

    # -- writing (each one transaction; each bumps the store version) ---------------
    @staticmethod
    def _unmark(conn: Connection, chunk_ids: list[str]) -> None:
        for part in batches(list(chunk_ids)):
            conn.execute(_pending.delete().where(_pending.c.chunk_id.in_(part)))

    def mark_pending(self, chunk_ids: list[str]) -> None:
        """Record chunk ids about to be added to Chroma, so no sweep deletes them meanwhile."""
        with self.db.write() as conn:
            stamp = self.db.now(conn)
            for part in batches(list(chunk_ids)):
                upsert(conn, _pending, [{"chunk_id": i, "added_at": stamp} for i in part], ["chunk_id"])

    def clear_pending(self, chunk_ids: list[str] | None = None, *, older_than: float | None = None) -> None:
        """Forget pending marks: for these ids, or every mark older than ``older_than``."""
        with self.db.write() as conn:
            if chunk_ids:
                self._unmark(conn, chunk_ids)
            if older_than is not None:
                conn.execute(_pending.delete().where(_pending.c.added_at < older_than))

    def switch(self, *, doc_id: str, title: str, kind: str, filename: str, original: str,
               content_hash: str, chunk_ids: list[str], metadata: dict[str, Any],
               original_data: bytes | None = None) -> int:
        """Make a new version of a document live, atomically. Returns the new version number.

        With ``original_data`` the bytes are kept under the name ``original`` in the same
        transaction, and the previous version's kept original (another name) is dropped."""
        stamp = now()
        with self.transaction() as conn:
            row = conn.execute(sa.select(_docs.c.version, _docs.c.original).where(_docs.c.doc_id == doc_id)).first()
            version = (row.version + 1) if row else 1
            conn.execute(_versions.update().where(_versions.c.doc_id == doc_id, _versions.c.retired_at.is_(None))
                         .values(retired_at=stamp))
            upsert(conn, _docs, {
                "doc_id": doc_id, "title": title, "kind": kind, "filename": filename, "original": original,
                "content_hash": content_hash, "version": version, "chunk_ids": json.dumps(chunk_ids),
                "metadata": json.dumps(metadata, default=str), "ingested_at": stamp}, ["doc_id"])
            upsert(conn, _versions, {"doc_id": doc_id, "version": version, "content_hash": content_hash,
                                     "n_chunks": len(chunk_ids), "ingested_at": stamp, "retired_at": None},
                   ["doc_id", "version"])
            if original_data is not None:
                upsert(conn, _originals, {"name": original, "doc_id": doc_id, "content": original_data,
                                          "stored_at": self.db.now(conn)}, ["name"])
                if row and row.original and row.original != original:
                    conn.execute(_originals.delete().where(_originals.c.name == row.original))
            # Live now, so no longer merely pending.
            self._unmark(conn, chunk_ids)
            bump_meta(conn, "store_version")
        return version

    def retitle(self, doc_id: str, title: str, kind: str) -> DocumentRecord | None:
        """Set a document's title and kind as the teacher chose them; the choice is kept in its
        metadata (``titled_by_teacher``) so that a new version of the file does not undo it."""
        with self.transaction() as conn:
            row = conn.execute(sa.select(_docs).where(_docs.c.doc_id == doc_id)).first()
            if row is None:
                return None
            metadata = {**json.loads(row.metadata), TITLED_BY_TEACHER: True}
            conn.execute(_docs.update().where(_docs.c.doc_id == doc_id).values(
                title=title, kind=kind, metadata=json.dumps(metadata, default=str)))
            bump_meta(conn, "store_version")
        return self.get(doc_id)

    def delete(self, doc_id: str) -> DocumentRecord | None:
        with self.transaction() as conn:
            row = conn.execute(sa.select(_docs).where(_docs.c.doc_id == doc_id)).first()
            if row is None:
                return None
            conn.execute(_docs.delete().where(_docs.c.doc_id == doc_id))
            conn.execute(_versions.update().where(_versions.c.doc_id == doc_id, _versions.c.retired_at.is_(None))
                         .values(retired_at=now()))
            conn.execute(_originals.delete().where(_originals.c.doc_id == doc_id))
            bump_meta(conn, "store_version")
        return self._record(row)

    def replace_chunk_ids(self, updates: dict[str, list[str]]) -> None:
        """After a reindex: every document's chunk ids at once."""
        with self.transaction() as conn:
            for doc_id, ids in updates.items():
                conn.execute(_docs.update().where(_docs.c.doc_id == doc_id).values(chunk_ids=json.dumps(ids)))
                self._unmark(conn, ids)
            bump_meta(conn, "store_version")

    def close(self) -> None:
        """Nothing to release: the process's Database keeps one pool for every user."""
