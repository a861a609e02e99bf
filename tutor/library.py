"""The teacher's service on the corpus: add, replace, remove, reindex. CLI and UI both call it.

>>> lib = Library(Store.open())                                           # doctest: +SKIP
>>> results = lib.ingest(local_operator(), [Upload("notes.md", b"# Notes\\n...")])  # doctest: +SKIP
>>> [(r.filename, r.status) for r in results]                             # doctest: +SKIP
[('notes.md', 'added')]

Every file gets its own result; a bad file never stops the rest of the batch and never
leaves anything of itself in the store or manifest. The kept original of each document (the
bytes as uploaded, for ``reindex``) goes into the database with its manifest switch, so every
app host can rebuild from it and a failed ingest leaves none behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tutor.auth import Teacher, local_operator, require_teacher
from tutor.documents import SUPPORTED_EXTENSIONS, SourceDocument, read_document
from tutor.errors import DocumentError
from tutor.scan import Finding, scan_text
from tutor.store import Prepared, Store

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Upload:
    """A file to ingest: its plain name and its bytes (from disk or a browser upload)."""

    name: str
    data: bytes


@dataclass
class IngestResult:
    filename: str
    status: str  # added | updated | unchanged | failed | flagged
    doc_id: str | None = None
    reason: str = ""
    chunks: int = 0
    version: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("added", "updated", "unchanged")

    def line(self) -> str:
        what = f"{self.filename}: {self.status}"
        if self.doc_id and self.status != "failed":
            what += f" ({self.doc_id}"
            what += f", v{self.version}, {self.chunks} chunks)" if self.version else ")"
        if self.reason:
            what += f" — {self.reason}"
        return what

    def as_dict(self) -> dict:
        return {"file": self.filename, "status": self.status, "doc_id": self.doc_id, "reason": self.reason,
                "chunks": self.chunks, "version": self.version, "findings": [str(f) for f in self.findings]}


def files_under(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the supported files inside them (sorted); keep named files as given.

    Hidden files and anything under a hidden folder (``.git``, ``.venv``, ``.pytest_cache``)
    are skipped: they hold tool files, not course documents.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            found.append(path)
    return found


class Library:
    """Teacher actions on the store; each checks for a Teacher first."""

    def __init__(self, store: Store):
        self.store = store
        self.settings = store.settings

    @staticmethod
    def _original_name(doc: SourceDocument) -> str:
        # Names come from doc ids (slugified), never from the uploaded name.
        return f"{doc.doc_id}--{doc.content_hash[:10]}{doc.ext}"

    def _drop_legacy_file(self, name: str) -> None:
        """Kept originals used to be files in TUTOR_HOME/documents; drop one that is replaced."""
        if name:
            (self.settings.documents_dir / name).unlink(missing_ok=True)

    def kept_original(self, record) -> bytes:
        """The bytes a document version was uploaded with (the database, else a legacy file)."""
        data = self.store.manifest.original(record.original)
        if data is None:
            data = (self.settings.documents_dir / record.original).read_bytes()
        return data

    def check(self, uploads: list[Upload]) -> tuple[dict[int, SourceDocument], dict[int, IngestResult]]:
        """Read and validate a batch without touching the store (keyed by position in the batch)."""
        good: dict[int, SourceDocument] = {}
        settled: dict[int, IngestResult] = {}
        seen: dict[str, str] = {}
        for index, upload in enumerate(uploads):
            try:
                doc = read_document(upload.name, upload.data, max_bytes=self.settings.max_upload_bytes)
            except DocumentError as exc:
                settled[index] = IngestResult(upload.name, "failed", reason=exc.reason)
                continue
            if doc.doc_id in seen:
                if seen[doc.doc_id] == doc.content_hash:
                    settled[index] = IngestResult(upload.name, "unchanged", doc.doc_id,
                                                  reason="same file twice in this batch")
                else:
                    settled[index] = IngestResult(upload.name, "failed", doc.doc_id, reason=(
                        f"another file in this batch has the document id '{doc.doc_id}'; rename one "
                        "or give it a different id in its front matter"))
                continue
            seen[doc.doc_id] = doc.content_hash
            good[index] = doc
        return good, settled

    def ingest(self, actor: Teacher, uploads: list[Upload], *, confirm_flagged: bool = False,
               on_progress: Progress | None = None) -> list[IngestResult]:
        require_teacher(actor)
        store = self.store
        good, results = self.check(uploads)
        store.sweep_orphans()

        todo: dict[int, SourceDocument] = {}
        found: dict[int, list[Finding]] = {}
        for index, doc in good.items():
            record = store.manifest.get(doc.doc_id)
            if record and record.content_hash == doc.content_hash:
                results[index] = IngestResult(doc.filename, "unchanged", doc.doc_id,
                                              chunks=record.chunks, version=record.version)
                continue
            findings = found[index] = scan_text(doc.text)
            if findings and not confirm_flagged:
                results[index] = IngestResult(
                    doc.filename, "flagged", doc.doc_id, findings=findings,
                    reason="contains text aimed at an AI model or invisible characters; review it, then confirm to index it")
                continue
            todo[index] = doc

        prepared: dict[int, Prepared] = {}
        for index, item in zip(todo, store.prepare(todo.values())):
            if item.chunks:
                prepared[index] = item
            else:
                results[index] = IngestResult(item.doc.filename, "failed", item.doc.doc_id, reason="no text to index")
        where = {id(item): index for index, item in prepared.items()}
        previous = {index: store.manifest.get(item.doc.doc_id) for index, item in prepared.items()}
        originals = {item.doc.doc_id: self._original_name(item.doc) for item in prepared.values()}

        def done(item: Prepared, version: int) -> None:
            index = where[id(item)]
            old = previous[index]
            if old and old.original != originals[item.doc.doc_id]:
                self._drop_legacy_file(old.original)
            results[index] = IngestResult(
                item.doc.filename, "updated" if old else "added", item.doc.doc_id,
                chunks=len(item.chunks), version=version, findings=found[index])
            if on_progress:
                on_progress(item.doc.filename, sum(1 for i in prepared if i in results), len(prepared))

        if prepared:
            store.commit(list(prepared.values()), originals, on_document=done)
        return [results[i] for i in sorted(results)]

    def ingest_paths(self, actor: Teacher, paths: Iterable[Path], **kwargs) -> list[IngestResult]:
        require_teacher(actor)
        uploads: list[Upload] = []
        unreadable: list[IngestResult] = []
        for path in files_under(paths):
            try:
                if path.stat().st_size > self.settings.max_upload_bytes:
                    unreadable.append(IngestResult(path.name, "failed", reason=(
                        f"file is over the {self.settings.max_upload_mb:g} MB limit (TUTOR_MAX_UPLOAD_MB)")))
                    continue
                uploads.append(Upload(path.name, path.read_bytes()))
            except OSError as exc:
                unreadable.append(IngestResult(str(path), "failed", reason=f"cannot read it ({exc.strerror})"))
        return unreadable + self.ingest(actor, uploads, **kwargs)

    def remove(self, actor: Teacher, doc_id: str) -> bool:
        require_teacher(actor)
        record = self.store.remove(doc_id)
        if record:
            self._drop_legacy_file(record.original)
        return record is not None

    def reindex(self, actor: Teacher, on_progress: Progress | None = None) -> list[IngestResult]:
        """Rebuild the collection from the kept originals with the current model and chunking."""
        require_teacher(actor)
        store = self.store
        records = store.documents()
        store.reset_collection()
        results: list[IngestResult] = []
        updates: dict[str, list[str]] = {}
        for n, record in enumerate(records, start=1):
            try:
                doc = read_document(record.filename, self.kept_original(record))
            except (OSError, DocumentError) as exc:
                results.append(IngestResult(record.filename, "failed", record.doc_id,
                                            reason=f"kept original unusable ({exc}); upload it again"))
                updates[record.doc_id] = []
                continue
            doc.doc_id = record.doc_id
            [item] = store.prepare([doc])
            store.stage(item.chunks, store.embed(item.chunks))
            updates[record.doc_id] = [c.id for c in item.chunks]
            results.append(IngestResult(record.filename, "updated", record.doc_id, chunks=len(item.chunks),
                                        version=record.version))
            if on_progress:
                on_progress(record.filename, n, len(records))
        store.manifest.replace_chunk_ids(updates)
        store.manifest.set_meta("embedding_model", store.model_name)
        return results

    def ensure_default_corpus(self, on_progress: Progress | None = None) -> list[IngestResult]:
        """First start: an empty store gets the shipped corpus (corpus/sources)."""
        if store_is_empty(self.store):
            return self.ingest_paths(local_operator(), [self.settings.corpus_dir / "sources"],
                                     on_progress=on_progress, confirm_flagged=True)
        return []


def store_is_empty(store: Store) -> bool:
    return not store.documents()
