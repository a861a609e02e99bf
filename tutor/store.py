"""The passage store: a Chroma collection plus the manifest (in the database) that says what is live.

Example::

    store = Store.open()
    store.commit(store.prepare([doc]), originals={"notes": "documents/notes--ab12.md"})
    [p.title for p in store.dense_search("General Secretary", k=3)]

Writes go: embed → mark the new chunk ids pending → add them (ids carry the content hash, so
they never collide with the old ones) → switch the manifest in one transaction per document →
delete the old chunks. Reads only return chunks the manifest lists, so a crash at any point
leaves no half document visible, and the next ingest sweeps the leftovers. The pending mark
keeps a concurrent writer's sweep (another app process, on any host) off chunks that are about
to go live. The kept original of each version goes into the database in its switch.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from tutor.chunking import Chunk, chunk_document, passage_search_text
from tutor.documents import SourceDocument
from tutor.embeddings import get_embedder
from tutor.db import DatabaseUnavailable
from tutor.errors import EmbeddingMismatchError, StoreError
from tutor.manifest import DocumentRecord, Manifest
from tutor.settings import Settings, get_settings

COLLECTION = "tutor_passages"
_ADD_BATCH = 2000
# How long chunks marked pending are protected from sweeps. Embedding happens before the mark,
# so a live writer goes from mark to switch in seconds; older marks are a killed writer's.
PENDING_GRACE_S = 600.0


@dataclass
class Passage:
    """One retrievable chunk with its provenance and, after a search, its score."""

    id: str
    doc_id: str
    title: str
    kind: str
    text: str
    page: int | None = None
    section: str | None = None
    score: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str, meta: dict[str, Any], score: float = 0.0) -> "Passage":
        return cls(
            id=chunk_id, doc_id=str(meta.get("doc_id", "")), title=str(meta.get("title", "")),
            kind=str(meta.get("kind", "")), text=text or "", page=meta.get("page"),
            section=meta.get("section"), score=score, metadata=dict(meta),
        )

    @property
    def search_text(self) -> str:
        return passage_search_text(self.text, self.metadata)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "doc_id": self.doc_id, "title": self.title, "kind": self.kind,
                "page": self.page, "section": self.section, "score": round(self.score, 4), "text": self.text}


@dataclass
class Prepared:
    doc: SourceDocument
    chunks: list[Chunk]


# How long opening the embedded store waits for another program's lock before saying so.
LOCK_WAIT_S = 10.0


def _check_not_locked(path: Path) -> None:
    """Chroma's embedded store waits without limit for a lock another program holds on its
    SQLite file; wait a bounded time here first, so a locked store is an error, not a hung app."""
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(
                f"The Chroma store {path.parent} is locked by another program (waited {LOCK_WAIT_S:g} s). "
                "Stop other programs using this TUTOR_HOME (another `tutor` command or app, a database "
                "browser), then try again. Several app processes must share a Chroma server "
                "(TUTOR_CHROMA_URL), not one folder."
            ) from exc
    except sqlite3.Error:
        pass  # a damaged file: Chroma's own error, raised next, names it


def _forget_failed_client(path: Path) -> None:
    # Chroma caches one client per folder even when opening it failed, and that broken client
    # would answer the next attempt (after the folder is fixed) with an AttributeError.
    from chromadb.api.shared_system_client import SharedSystemClient

    if not SharedSystemClient._identifier_to_refcount.get(str(path)):
        SharedSystemClient._identifier_to_system.pop(str(path), None)


def _client(settings: Settings):
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings,
            )
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        _check_not_locked(settings.chroma_dir / "chroma.sqlite3")
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except (ValueError, OSError, RuntimeError, chromadb.errors.ChromaError) as exc:
        if not settings.chroma_url:
            _forget_failed_client(settings.chroma_dir)
        where = settings.chroma_url or str(settings.chroma_dir)
        raise StoreError(
            f"Cannot open the Chroma store at {where} ({exc}). If it is a server, check that it is "
            "running (`chroma run --path DIR`) and TUTOR_CHROMA_URL is right; if it is local, check "
            "that TUTOR_HOME is writable and not locked by another program. `tutor doctor` helps."
        ) from exc


class Store:
    """Chroma collection + manifest + embedder. One per process (``st.cache_resource``)."""

    def __init__(self, settings: Settings, embedder: Embeddings, *, check_model: bool = True):
        self.settings = settings
        self.embedder = embedder
        settings.ensure_home()
        self.manifest = Manifest.open(settings)
        self.client = _client(settings)
        self._lock = threading.RLock()
        self._live: tuple[int, set[str]] = (-1, set())
        self._seen_version = -1
        self.collection = self._open_collection(check_model)

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embeddings | None = None) -> "Store":
        settings = settings or get_settings()
        return cls(settings, embedder or get_embedder(settings))

    @property
    def model_name(self) -> str:
        return str(getattr(self.embedder, "name", type(self.embedder).__name__))

    def _open_collection(self, check_model: bool):
        import chromadb

        meta = {"embedding_model": self.model_name, "dim": int(getattr(self.embedder, "dim", 0))}
        try:
            collection = self.client.get_or_create_collection(
                COLLECTION, metadata=meta, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None,
            )
        except (chromadb.errors.ChromaError, ValueError, OSError, ConnectionError) as exc:
            raise StoreError(
                f"Cannot open the passage collection ({exc}). Run `tutor doctor` for what to do."
            ) from exc
        stored = (collection.metadata or {}).get("embedding_model")
        if check_model and stored and stored != self.model_name:
            raise EmbeddingMismatchError(stored, self.model_name)
        return collection

    # -- what is live ----------------------------------------------------------------
    def version(self) -> int:
        """The manifest's store version; while the database is unreachable, the last one this
        process read (so retrieval goes on over what it last knew to be live)."""
        try:
            version = self.manifest.version()
        except DatabaseUnavailable:
            with self._lock:
                if self._seen_version < 0:
                    raise  # nothing read yet: nothing safe to answer from
                return self._seen_version
        self._seen_version = version
        return version

    def live_ids(self) -> set[str]:
        version = self.version()
        with self._lock:
            if self._live[0] != version:
                self._live = (version, self.manifest.live_chunk_ids())
            return self._live[1]

    def documents(self) -> list[DocumentRecord]:
        return self.manifest.documents()

    def count(self) -> int:
        return len(self.live_ids())

    # -- writing ---------------------------------------------------------------------
    def prepare(self, docs: Iterable[SourceDocument]) -> list[Prepared]:
        s = self.settings
        return [Prepared(doc, chunk_document(doc, s.chunk_size, s.chunk_overlap)) for doc in docs]

    def is_unchanged(self, doc: SourceDocument) -> bool:
        record = self.manifest.get(doc.doc_id)
        return bool(record and record.content_hash == doc.content_hash)

    def embed(self, chunks: list[Chunk]) -> list[list[float]]:
        return self.embedder.embed_documents([c.search_text for c in chunks]) if chunks else []

    def commit(self, prepared: list[Prepared], originals: dict[str, str],
               on_document: Callable[[Prepared, int], None] | None = None,
               vectors: list[list[float]] | None = None) -> dict[str, int]:
        """Embed (in one batch) and make each document live. Returns doc_id → new version."""
        all_chunks = [c for p in prepared for c in p.chunks]
        if vectors is None:
            vectors = self.embed(all_chunks)
        new_ids = [c.id for c in all_chunks]
        self.manifest.mark_pending(new_ids)
        versions: dict[str, int] = {}
        stale: list[str] = []
        try:
            # All new chunks in one write: Chroma's cost is mostly per call, and until the
            # manifest lists them they are invisible, so a crash here leaves only orphans.
            self._add(all_chunks, vectors)
            for item in prepared:
                doc = item.doc
                old = self.manifest.get(doc.doc_id)
                version = self.manifest.switch(
                    doc_id=doc.doc_id, title=doc.title, kind=doc.kind, filename=doc.filename,
                    original=originals.get(doc.doc_id, ""), content_hash=doc.content_hash,
                    chunk_ids=[c.id for c in item.chunks],
                    metadata={**doc.metadata, "ext": doc.ext},
                    original_data=doc.raw if originals.get(doc.doc_id) else None,
                )
                if old:
                    stale.extend(sorted(set(old.chunk_ids) - {c.id for c in item.chunks}))
                versions[doc.doc_id] = version
                if on_document:
                    on_document(item, version)
        finally:
            # Whatever did not go live is an ordinary orphan now, free for the next sweep.
            if len(versions) < len(prepared):
                self.manifest.clear_pending(new_ids)
        # Old versions stopped being live at their switch; delete their chunks in one call.
        self._delete(stale)
        return versions

    def stage(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        """Add chunks that a later manifest update will make live (``tutor reindex``),
        marked pending so that no sweep deletes them before then."""
        self.manifest.mark_pending([c.id for c in chunks])
        self._add(chunks, vectors)

    def _add(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        for start in range(0, len(chunks), _ADD_BATCH):
            part = chunks[start:start + _ADD_BATCH]
            self.collection.upsert(
                ids=[c.id for c in part], embeddings=vectors[start:start + _ADD_BATCH],
                documents=[c.text for c in part], metadatas=[c.metadata for c in part],
            )

    def _delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _ADD_BATCH):
            self.collection.delete(ids=ids[start:start + _ADD_BATCH])

    def retitle(self, doc_id: str, title: str, kind: str) -> DocumentRecord | None:
        """A new title and kind for a live document: on its chunks first (what citations show),
        then in the manifest, whose version bump makes every process re-read them."""
        record = self.manifest.get(doc_id)
        if record is None:
            return None
        ids = list(record.chunk_ids)
        for start in range(0, len(ids), _ADD_BATCH):
            part = ids[start:start + _ADD_BATCH]
            # Chroma merges these keys into each chunk's metadata.
            self.collection.update(ids=part, metadatas=[{"title": title, "kind": kind}] * len(part))
        return self.manifest.retitle(doc_id, title, kind)

    def remove(self, doc_id: str) -> DocumentRecord | None:
        """Take a document out of retrieval (manifest first), then delete its chunks."""
        record = self.manifest.delete(doc_id)
        if record:
            self._delete(list(record.chunk_ids))
        return record

    def orphan_ids(self) -> set[str]:
        """Chunks in Chroma that no document lists and no writer is still writing."""
        since = self.manifest.clock() - PENDING_GRACE_S
        # Read order matters: a chunk in Chroma was marked pending before it was added, and its
        # switch unmarks it and makes it live in one transaction. Reading pending before live
        # therefore sees it in one of the two, whenever that switch happens.
        stored = set(self.collection.get(include=[])["ids"])
        pending = self.manifest.pending_chunk_ids(newer_than=since)
        return stored - pending - self.manifest.live_chunk_ids()

    def sweep_orphans(self) -> int:
        """Delete orphan chunks (left by a crash mid-ingest). Returns how many."""
        since = self.manifest.clock() - PENDING_GRACE_S
        orphans = sorted(self.orphan_ids())
        self._delete(orphans)
        self.manifest.clear_pending(orphans, older_than=since)
        return len(orphans)

    def reset_collection(self) -> None:
        """Drop and recreate the collection for the current embedder (``tutor reindex``)."""
        import chromadb

        try:
            self.client.delete_collection(COLLECTION)
        except (chromadb.errors.NotFoundError, ValueError):
            pass
        self.collection = self._open_collection(check_model=False)

    # -- reading ---------------------------------------------------------------------
    def chunks(self, doc_id: str | None = None) -> list[Passage]:
        """Live chunks, for one document or all, in document order (BM25 builds from this)."""
        where = {"doc_id": doc_id} if doc_id else None
        got = self.collection.get(where=where, include=["documents", "metadatas"])
        live = self.live_ids()
        passages = [Passage.from_chroma(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
                    if i in live]
        passages.sort(key=lambda p: (p.doc_id, p.metadata.get("chunk_index", 0)))
        return passages

    def get_passages(self, ids: list[str]) -> list[Passage]:
        if not ids:
            return []
        got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        live = self.live_ids()
        found = {i: Passage.from_chroma(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
                 if i in live}
        return [found[i] for i in ids if i in found]

    def dense_search(self, query: str, k: int = 5, where: dict[str, Any] | None = None,
                     embedding: list[float] | None = None) -> list[Passage]:
        """Plain Chroma similarity top-k over live chunks (cosine; score = 1 - distance)."""
        if embedding is None:
            embedding = self.embedder.embed_query(query)
        live = self.live_ids()
        if not live:
            return []
        n = min(len(live), k + 10)
        while True:
            res = self.collection.query(query_embeddings=[embedding], n_results=n, where=where,
                                        include=["documents", "metadatas", "distances"])
            rows = list(zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]))
            hits = [Passage.from_chroma(i, t, m, 1.0 - d) for i, t, m, d in rows if i in live]
            # Orphans (invisible) can crowd the top; ask for more until k live ones or exhausted.
            if len(hits) >= k or len(rows) < n:
                return hits[:k]
            n = n * 2
