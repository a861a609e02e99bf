"""The Teacher page's glue to the services: browser files as Uploads, uploads with per-file
progress, result rows. The rules live below: sign-in in tutor.auth, replace and the one check
per upload in tutor.library.

Example::

    teacher = sign_in(password, settings)
    results = handle_uploads(library, teacher, st_uploaded_files, on_file=tick)
    result_rows(results)[0]["status"]
    # → 'added'

Every function takes the Teacher proof from :mod:`tutor.auth`; a student (anything else)
gets PermissionDenied before a byte is read. The page only lays these out.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Callable, Iterable, Protocol

from tutor.auth import LoginThrottle, Teacher, closed_message, is_open, require_teacher, sign_in  # noqa: F401
from tutor.library import IngestResult, Library, Upload
from tutor.manifest import DocumentRecord

FileProgress = Callable[[str, int, int, IngestResult | None], None]


class _Named(Protocol):
    name: str

    def getvalue(self) -> bytes: ...


def as_upload(item: Upload | _Named) -> Upload:
    """An Upload from a Streamlit UploadedFile (or anything with name and getvalue())."""
    if isinstance(item, Upload):
        return item
    # Browsers send plain names, but never trust one: keep only the last path part.
    name = PurePath(str(item.name).replace("\\", "/")).name or "upload"
    return Upload(name, bytes(item.getvalue()))


def handle_uploads(library: Library, actor: Teacher, files: Iterable[Upload | _Named], *,
                   confirm_flagged: bool = False, on_file: FileProgress | None = None) -> list[IngestResult]:
    """Ingest many files, one at a time so each gets its own progress line and result.

    The batch is checked first (unreadable files, two files claiming one document id), then
    each good file is indexed on its own; a failure never stops the rest. ``on_file(name, done,
    total, result)`` is called before each file (result None) and after it."""
    require_teacher(actor)
    uploads = [as_upload(f) for f in files]
    good, settled = library.check(uploads)
    results: dict[int, IngestResult] = dict(settled)
    total = len(uploads)
    done = 0
    for index, result in sorted(settled.items()):
        done += 1
        if on_file:
            on_file(uploads[index].name, done, total, result)
    for index in sorted(good):
        upload = uploads[index]
        if on_file:
            on_file(upload.name, done, total, None)
        [result] = library.ingest_checked(actor, {index: good[index]}, confirm_flagged=confirm_flagged)
        results[index] = result
        done += 1
        if on_file:
            on_file(upload.name, done, total, result)
    return [results[i] for i in sorted(results)]


def replace_document(library: Library, actor: Teacher, doc_id: str, file: Upload | _Named, *,
                     confirm_flagged: bool = False) -> IngestResult:
    """Upload a new version of an existing document (the rule is ``Library.replace``)."""
    require_teacher(actor)
    return library.replace(actor, doc_id, as_upload(file), confirm_flagged=confirm_flagged)


def retitle_document(library: Library, actor: Teacher, doc_id: str, title: str, kind: str | None = None
                     ) -> DocumentRecord:
    """Set the title and kind citations show (the rule is ``Library.retitle``)."""
    return library.retitle(actor, doc_id, title, kind)


def remove_document(library: Library, actor: Teacher, doc_id: str) -> bool:
    return library.remove(actor, doc_id)


def reindex_all(library: Library, actor: Teacher, on_progress: Callable[[str, int, int], None] | None = None
                ) -> list[IngestResult]:
    return library.reindex(actor, on_progress=on_progress)


def result_rows(results: Iterable[IngestResult]) -> list[dict[str, Any]]:
    """Rows for the results table: file, status, document id, passages, version, reason."""
    rows = []
    for r in results:
        reason = r.reason
        if r.status == "flagged" and r.findings:
            reason = f"{reason}: " + "; ".join(str(f) for f in r.findings[:3])
        rows.append({"file": r.filename, "status": r.status, "document": r.doc_id or "",
                     "passages": r.chunks or None, "version": r.version, "reason": reason})
    return rows


def summary(results: list[IngestResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = ("added", "updated", "unchanged", "flagged", "failed")
    return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "nothing to do"
