"""The manifest: which documents, which version, which chunk ids are live. SQLite.

The manifest is the source of truth for what retrieval may show. A chunk that is in Chroma
but not listed here (a crash between writing and switching) is invisible and is swept by
:meth:`tutor.store.Store.sweep_orphans` — unless it is listed in ``pending_chunks``: a writer
marks its chunk ids there before adding them, so another process's sweep leaves them alone.

Example::

    m = Manifest(Path("/tmp/t.sqlite3"))
    m.version()                                           # bumps on every change
    # → 0
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from contextlib import contextmanager

from tutor.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    original TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    chunk_ids TEXT NOT NULL,
    metadata TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS document_versions (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (doc_id, version)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending_chunks (chunk_id TEXT PRIMARY KEY, added_at REAL NOT NULL);
"""


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
    """Documents, their versions and chunk ids, and a store version counter."""

    def __init__(self, path: Path):
        self.path = path
        self._conn = connect(path)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------
    def _record(self, row: sqlite3.Row) -> DocumentRecord:
        return DocumentRecord(
            doc_id=row["doc_id"], title=row["title"], kind=row["kind"], filename=row["filename"],
            original=row["original"], content_hash=row["content_hash"], version=row["version"],
            chunk_ids=tuple(json.loads(row["chunk_ids"])), metadata=json.loads(row["metadata"]),
            ingested_at=row["ingested_at"],
        )

    def get(self, doc_id: str) -> DocumentRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return self._record(row) if row else None

    def documents(self) -> list[DocumentRecord]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM documents ORDER BY kind, doc_id").fetchall()
        return [self._record(r) for r in rows]

    def live_chunk_ids(self) -> set[str]:
        ids: set[str] = set()
        for record in self.documents():
            ids.update(record.chunk_ids)
        return ids

    def pending_chunk_ids(self, newer_than: float) -> set[str]:
        """Chunk ids a writer marked as being written at or after ``newer_than`` (epoch seconds)."""
        with self._lock:
            rows = self._conn.execute("SELECT chunk_id FROM pending_chunks WHERE added_at >= ?",
                                      (newer_than,)).fetchall()
        return {r["chunk_id"] for r in rows}

    def version(self) -> int:
        return int(self.get_meta("store_version") or 0)

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- writing (each one transaction; each bumps the store version) ---------------
    @staticmethod
    def _bump(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES('store_version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def mark_pending(self, chunk_ids: list[str]) -> None:
        """Record chunk ids about to be added to Chroma, so no sweep deletes them meanwhile."""
        stamp = time.time()
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO pending_chunks VALUES (?, ?)",
                             [(i, stamp) for i in chunk_ids])

    def clear_pending(self, chunk_ids: list[str] | None = None, *, older_than: float | None = None) -> None:
        """Forget pending marks: for these ids, or every mark older than ``older_than``."""
        with self.transaction() as conn:
            if chunk_ids:
                conn.executemany("DELETE FROM pending_chunks WHERE chunk_id = ?", [(i,) for i in chunk_ids])
            if older_than is not None:
                conn.execute("DELETE FROM pending_chunks WHERE added_at < ?", (older_than,))

    def switch(self, *, doc_id: str, title: str, kind: str, filename: str, original: str,
               content_hash: str, chunk_ids: list[str], metadata: dict[str, Any]) -> int:
        """Make a new version of a document live, atomically. Returns the new version number."""
        stamp = now()
        with self.transaction() as conn:
            row = conn.execute("SELECT version FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
            version = (row["version"] + 1) if row else 1
            conn.execute(
                "UPDATE document_versions SET retired_at = ? WHERE doc_id = ? AND retired_at IS NULL",
                (stamp, doc_id),
            )
            conn.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                (doc_id, title, kind, filename, original, content_hash, version,
                 json.dumps(chunk_ids), json.dumps(metadata, default=str), stamp),
            )
            conn.execute(
                "INSERT OR REPLACE INTO document_versions VALUES (?,?,?,?,?,NULL)",
                (doc_id, version, content_hash, len(chunk_ids), stamp),
            )
            # Live now, so no longer merely pending.
            conn.executemany("DELETE FROM pending_chunks WHERE chunk_id = ?", [(i,) for i in chunk_ids])
            self._bump(conn)
        return version

    def delete(self, doc_id: str) -> DocumentRecord | None:
        record = self.get(doc_id)
        if record is None:
            return None
        with self.transaction() as conn:
            conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            conn.execute(
                "UPDATE document_versions SET retired_at = ? WHERE doc_id = ? AND retired_at IS NULL",
                (now(), doc_id),
            )
            self._bump(conn)
        return record

    def replace_chunk_ids(self, updates: dict[str, list[str]]) -> None:
        """After a reindex: every document's chunk ids at once."""
        with self.transaction() as conn:
            for doc_id, ids in updates.items():
                conn.execute("UPDATE documents SET chunk_ids = ? WHERE doc_id = ?", (json.dumps(ids), doc_id))
                conn.executemany("DELETE FROM pending_chunks WHERE chunk_id = ?", [(i,) for i in ids])
            self._bump(conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
