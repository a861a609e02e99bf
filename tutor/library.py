"""The teacher's service on the corpus: add, replace, retitle, remove, reindex. CLI and UI both call it.

Example::

    lib = Library(Store.open())
    results = lib.ingest(local_operator(), [Upload("notes.md", b"# Notes\\n...")])
    [(r.filename, r.status) for r in results]
    # → [('notes.md', 'added')]

Every file gets its own result; a bad file never stops the rest of the batch and never
leaves anything of itself in the store or manifest. The kept original of each document (the
bytes as uploaded, for ``reindex``) goes into the database with its manifest switch, so every
app host can rebuild from it and a failed or killed ingest leaves none behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Callable, Iterable

from tutor.auth import Teacher, local_operator, require_teacher
from tutor.corpus import SOURCES, course_documents, is_corpus, why_not_a_source
from tutor.documents import (KINDS, MAX_TITLE_CHARS, SUPPORTED_EXTENSIONS, SourceDocument, clean_text, read_document,
                             read_file, read_uploads)
from tutor.errors import DocumentError
from tutor.kinds import INGEST_OK, IngestStatus
from tutor.manifest import TITLED_BY_TEACHER, DocumentRecord
from tutor.scan import Finding, scan_text
from tutor.store import PENDING_GRACE_S, Prepared, Store

STATUS_ORDER = ("added", "updated", "unchanged", "flagged", "skipped", "failed")

Progress = Callable[[str, int, int], None]
# Files per step of the first start: small enough that progress moves every few seconds, large
# enough that the per-commit cost stays small (measured in benchmarks/app_benchmark.py).
FIRST_START_BATCH = 4
FIRST_START_META = "default_corpus"  # manifest meta: "running" while the first start indexes, then "done"


@dataclass(frozen=True)
class Upload:
    """A file to ingest: its plain name and its bytes (from disk or a browser upload)."""

    name: str
    data: bytes


@dataclass
class IngestResult:
    filename: str
    status: IngestStatus
    doc_id: str | None = None
    reason: str = ""
    chunks: int = 0
    version: int | None = None
    findings: list[Finding] = field(default_factory=list)
    # What the teacher should know about how the file was read (encoding, hidden text left out).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in INGEST_OK

    def line(self) -> str:
        what = f"{self.filename}: {self.status}"
        if self.doc_id and self.status != "failed":
            what += f" ({self.doc_id}"
            what += f", v{self.version}, {self.chunks} chunks)" if self.version else ")"
        if self.reason:
            what += f" — {self.reason}"
        for note in self.notes:
            what += f"; {note}"
        return what

    def as_dict(self) -> dict:
        return {"file": self.filename, "status": self.status, "doc_id": self.doc_id, "reason": self.reason,
                "chunks": self.chunks, "version": self.version, "findings": [str(f) for f in self.findings],
                "notes": list(self.notes)}


def summary(results: Iterable[IngestResult]) -> str:
    """One line for a batch: "3 added, 1 unchanged, 2 skipped"."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if counts.get(s)) or "nothing to do"


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[IngestResult]]:
    """The files to read for some paths, and a "skipped" result for each file left out.

    A folder gives its supported files (sorted); each other file in it is skipped with a line.
    Hidden files and anything under a hidden folder (``.git``, ``.venv``) are passed over
    silently: they hold tool files. A course corpus folder (tutor/corpus.py) gives its course
    documents only, with one line for each part left out (``eval/``, ``lessons/``, README);
    a file in a corpus but outside ``sources/`` is skipped even when named on its own.
    """
    found: list[Path] = []
    skipped: list[IngestResult] = []
    for path in paths:
        if path.is_dir() and is_corpus(path):
            found.extend(course_documents(path))
            skipped.extend(_walk(path / SOURCES, path)[1] + _corpus_left_out(path))
        elif path.is_dir():
            files, left_out = _walk(path, path)
            found.extend(files)
            skipped.extend(left_out)
        elif why := why_not_a_source(path):
            skipped.append(IngestResult(path.name, "skipped", reason=why))
        else:
            found.append(path)
    return found, skipped


def _walk(folder: Path, root: Path) -> tuple[list[Path], list[IngestResult]]:
    files: list[Path] = []
    skipped: list[IngestResult] = []
    for p in sorted(folder.rglob("*")):
        if p.is_dir() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        name = str(p.relative_to(root))
        if why := why_not_a_source(p):
            skipped.append(IngestResult(name, "skipped", reason=why))
        elif not p.is_file():
            skipped.append(IngestResult(name, "skipped", reason="not a regular file (a pipe, device or socket)"))
        elif p.suffix.lower() not in SUPPORTED_EXTENSIONS:
            skipped.append(IngestResult(name, "skipped", reason=f"unsupported type '{p.suffix.lower() or '(none)'}'"))
        else:
            files.append(p)
    return files, skipped


def _corpus_left_out(corpus: Path) -> list[IngestResult]:
    """One "skipped" line per part of a corpus folder that is not its sources (eval/, lessons/, ...)."""
    out: list[IngestResult] = []
    for part in sorted(corpus.iterdir()):
        if part.name == SOURCES or part.name.startswith("."):
            continue
        files = [p for p in part.rglob("*") if p.is_file()] if part.is_dir() else [part]
        if not files:
            continue
        probe = files[0] if part.is_dir() else part
        name = f"{part.name}/ ({len(files)} file{'s' if len(files) > 1 else ''})" if part.is_dir() else part.name
        out.append(IngestResult(name, "skipped", reason=why_not_a_source(probe) or "not a course source"))
    return out


def files_under(paths: Iterable[Path]) -> list[Path]:
    """The files :func:`collect` would read for these paths."""
    return collect(paths)[0]


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
        """Read and validate a batch without touching the store (keyed by position in the batch).
        Files are read in a child process with time and memory limits, never in this one: a
        teacher's file is as untrusted as a student's (a 1.6 MB .docx once took 4.8 GB here)."""
        good: dict[int, SourceDocument] = {}
        settled: dict[int, IngestResult] = {}
        seen: dict[str, str] = {}
        read = read_uploads([(u.name, u.data) for u in uploads], max_bytes=self.settings.max_upload_bytes)
        for index, (upload, doc) in enumerate(zip(uploads, read)):
            if isinstance(doc, DocumentError):
                settled[index] = IngestResult(upload.name, "failed", reason=doc.reason)
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
        good, settled = self.check(uploads)
        return self.ingest_checked(actor, good, settled, confirm_flagged=confirm_flagged, on_progress=on_progress)

    def ingest_checked(self, actor: Teacher, good: dict[int, SourceDocument],
                       settled: dict[int, IngestResult] | None = None, *, confirm_flagged: bool = False,
                       on_progress: Progress | None = None) -> list[IngestResult]:
        """Index documents :meth:`check` has read already (so each upload is parsed once);
        ``settled`` holds the results check() gave the rest of the batch."""
        require_teacher(actor)
        store = self.store
        results: dict[int, IngestResult] = dict(settled or {})
        store.sweep_orphans()
        self.sweep_originals()

        todo: dict[int, SourceDocument] = {}
        found: dict[int, list[Finding]] = {}
        for index, doc in good.items():
            record = store.manifest.get(doc.doc_id)
            if record and record.content_hash == doc.content_hash:
                results[index] = IngestResult(doc.filename, "unchanged", doc.doc_id,
                                              chunks=record.chunks, version=record.version)
                continue
            findings = found[index] = scan_document(doc)
            if findings and not confirm_flagged:
                results[index] = IngestResult(
                    doc.filename, "flagged", doc.doc_id, findings=findings, notes=doc.notes,
                    reason="contains text aimed at an AI model or invisible characters; review it, then confirm to index it")
                continue
            self._keep_teacher_title(doc)
            todo[index] = doc

        prepared: dict[int, Prepared] = {}
        for index, item in zip(todo, store.prepare(todo.values())):
            if item.chunks:
                prepared[index] = item
            else:
                results[index] = IngestResult(item.doc.filename, "failed", item.doc.doc_id, reason="no text to index")
        where = {id(item): index for index, item in prepared.items()}
        previous = {index: store.manifest.get(item.doc.doc_id) for index, item in prepared.items()}
        vectors = store.embed([c for item in prepared.values() for c in item.chunks])
        # Each switch keeps its original in the same transaction (Store.commit).
        originals = {item.doc.doc_id: self._original_name(item.doc) for item in prepared.values()}

        def done(item: Prepared, version: int) -> None:
            index = where[id(item)]
            old = previous[index]
            if old and old.original != originals[item.doc.doc_id]:
                self._drop_legacy_file(old.original)
            results[index] = IngestResult(
                item.doc.filename, "updated" if old else "added", item.doc.doc_id,
                chunks=len(item.chunks), version=version, findings=found[index], notes=item.doc.notes)
            if on_progress:
                on_progress(item.doc.filename, sum(1 for i in prepared if i in results), len(prepared))

        if prepared:
            store.commit(list(prepared.values()), originals, on_document=done, vectors=vectors)
        return [results[i] for i in sorted(results)]

    def ingest_paths(self, actor: Teacher, paths: Iterable[Path], **kwargs) -> list[IngestResult]:
        """Ingest files and folders from disk. Each path is checked (a regular file, within the
        size limit) before it is read; skipped and unreadable files get their own line."""
        require_teacher(actor)
        files, skipped = collect(paths)
        uploads: list[Upload] = []
        unreadable: list[IngestResult] = []
        for path in files:
            try:
                uploads.append(Upload(path.name, read_file(path, self.settings.max_upload_bytes)))
            except DocumentError as exc:
                unreadable.append(IngestResult(exc.filename, "failed", reason=exc.reason))
        return skipped + unreadable + self.ingest(actor, uploads, **kwargs)

    def sweep_originals(self) -> int:
        """Delete files in TUTOR_HOME/documents that no document lists. Kept originals are in
        the database now, written in the switch's transaction, so new ingests leave none here;
        this clears what older versions left (a killed ingest's file, a half-written upload).
        Files younger than the grace period are left alone. Returns how many."""
        folder = self.settings.documents_dir
        if not folder.is_dir():
            return 0
        listed = {record.original for record in self.store.documents()}
        cutoff = time.time() - PENDING_GRACE_S
        removed = 0
        for path in folder.iterdir():
            try:
                if path.name in listed or not path.is_file() or path.stat().st_mtime > cutoff:
                    continue
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue  # another process swept it first
        return removed

    def replace(self, actor: Teacher, doc_id: str, upload: Upload, *, confirm_flagged: bool = False
                ) -> IngestResult:
        """A new version of an existing document. The file becomes that document whatever its
        name, unless its front matter names another id (then nothing changes)."""
        require_teacher(actor)
        if self.store.manifest.get(doc_id) is None:
            return IngestResult(upload.name, "failed", doc_id, reason=f"there is no document '{doc_id}' to replace")
        renamed = Upload(f"{doc_id}{PurePath(upload.name).suffix.lower()}", upload.data)
        good, settled = self.check([renamed])
        if settled:
            [result] = settled.values()
            result.filename = upload.name
            return result
        if good[0].doc_id != doc_id:
            return IngestResult(upload.name, "failed", good[0].doc_id, reason=(
                f"its front matter gives the id '{good[0].doc_id}', not '{doc_id}'; change the id or upload it as a "
                "new document"))
        [result] = self.ingest_checked(actor, good, confirm_flagged=confirm_flagged)
        result.filename = upload.name
        return result

    def retitle(self, actor: Teacher, doc_id: str, title: str, kind: str | None = None) -> DocumentRecord:
        """Give a document the title (and kind) the teacher chooses; citations show it from the
        next turn, and new versions of the file keep it. Raises DocumentError saying what to fix."""
        require_teacher(actor)
        record = self.store.manifest.get(doc_id)
        if record is None:
            raise DocumentError(doc_id, "there is no such document; `tutor sources` lists the ids")
        title = " ".join(clean_text(title).split())
        if not title:
            raise DocumentError(doc_id, "the title is empty; give the document a title")
        if len(title) > MAX_TITLE_CHARS:
            raise DocumentError(doc_id, f"the title is over {MAX_TITLE_CHARS} characters; shorten it")
        kind = (kind or record.kind).strip().lower()
        if kind not in KINDS:
            raise DocumentError(doc_id, f"kind '{kind}' is not one of {', '.join(KINDS)}")
        updated = self.store.retitle(doc_id, title, kind)
        if updated is None:
            raise DocumentError(doc_id, "the document was removed meanwhile; nothing changed")
        return updated

    def _keep_teacher_title(self, doc: SourceDocument) -> None:
        """A new version of a document the teacher titled keeps that title and kind."""
        record = self.store.manifest.get(doc.doc_id)
        if record and record.metadata.get(TITLED_BY_TEACHER):
            doc.title, doc.kind = record.title, record.kind
            doc.metadata[TITLED_BY_TEACHER] = True

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
        originals: dict[int, bytes | DocumentError] = {}
        for n, record in enumerate(records):
            try:
                originals[n] = self.kept_original(record)
            except OSError as exc:
                originals[n] = DocumentError(record.filename, str(exc))
        readable = [n for n, data in originals.items() if isinstance(data, bytes)]
        docs = dict(zip(readable, read_uploads([(records[n].filename, originals[n]) for n in readable],
                                               max_bytes=None)))
        for n, record in enumerate(records, start=1):
            doc = docs.get(n - 1, originals[n - 1])
            if isinstance(doc, DocumentError):
                results.append(IngestResult(record.filename, "failed", record.doc_id,
                                            reason=f"kept original unusable ({doc}); upload it again"))
                updates[record.doc_id] = []
                continue
            doc.doc_id = record.doc_id
            # The manifest's title and kind are the truth (the teacher may have changed them).
            doc.title, doc.kind = record.title, record.kind
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

    def ensure_default_corpus(self, on_progress: Progress | None = None, *,
                              batch: int = FIRST_START_BATCH) -> list[IngestResult]:
        """First start: an empty store gets the course documents (tutor/corpus.py), a few files at a
        time, so progress moves (``on_progress(last file, files done, files in all)``, first with
        0 done) and the first documents are searchable while the rest are indexed. A first start
        cut short (the process killed) carries on at the next one: unchanged files cost no embedding."""
        manifest = self.store.manifest
        if not (store_is_empty(self.store) or manifest.get_meta(FIRST_START_META) == "running"):
            return []
        files = course_documents(self.settings.corpus_dir)
        manifest.set_meta(FIRST_START_META, "running")
        if on_progress:
            on_progress("", 0, len(files))
        results: list[IngestResult] = []
        for start in range(0, len(files), max(1, batch)):
            part = files[start:start + max(1, batch)]
            results.extend(self.ingest_paths(local_operator(), part, confirm_flagged=True))
            if on_progress:
                on_progress(part[-1].name, start + len(part), len(files))
        manifest.set_meta(FIRST_START_META, "done")
        return results


def scan_document(doc: SourceDocument) -> list[Finding]:
    """The instruction scan over what will be indexed and over the hidden text left out of it: a
    document that hides text aimed at a model is one the teacher should look at."""
    findings = scan_text(doc.text)
    for passage in doc.hidden:
        findings += [Finding(f"hidden text, {f.kind}", f.excerpt) for f in scan_text(passage)]
    return findings[:20]


def store_is_empty(store: Store) -> bool:
    return not store.documents()
