"""What the course corpus is: the one definition that the app's first start and `tutor ingest` share.

Example::

    [p.name for p in course_documents(Path("corpus"))][:2]
    # → ['event-ban-on-factions.md', 'event-declaration-of-46-and-new-course.md']

A corpus folder (``corpus/``, or ``TUTOR_CORPUS_DIR``) holds:

- ``sources/``: the course documents, the only files the tutor indexes and cites to students;
- ``lessons/`` and ``timeline.yaml``: the lesson cards and dates the pedagogy reads directly;
- ``eval/``: evaluation sets (sample student essays, question sets): never course material,
  since a sample essay cited to a student as a source would teach its mistakes;
- ``README.md``: about the folder, not about history.
"""

from __future__ import annotations

from pathlib import Path

from tutor.documents import SUPPORTED_EXTENSIONS

SOURCES = "sources"


def is_corpus(folder: Path) -> bool:
    """A course corpus folder: ``sources/`` beside ``lessons/`` or ``timeline.yaml``."""
    return (folder / SOURCES).is_dir() and ((folder / "lessons").is_dir() or (folder / "timeline.yaml").is_file())


def corpus_of(path: Path) -> Path | None:
    """The corpus folder a path is in (or is), if any."""
    path = path.absolute()
    for folder in (path, *path.parents):
        if folder.is_dir() and is_corpus(folder):
            return folder
    return None


def _visible(path: Path, root: Path) -> bool:
    # Hidden files and folders (.git, .venv, .DS_Store) hold tool files, not course documents.
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def course_documents(corpus_dir: Path) -> list[Path]:
    """The documents of the course: every supported file under ``sources/``, sorted."""
    sources = corpus_dir / SOURCES
    if not sources.is_dir():
        return []
    return sorted(p for p in sources.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
                  and _visible(p, sources))


def why_not_a_source(path: Path) -> str | None:
    """Why a file inside a corpus is not a course document (None if it is one, or if it is not
    in a corpus at all)."""
    corpus = corpus_of(path.parent)
    if corpus is None:
        return None
    relative = path.absolute().relative_to(corpus)
    top = relative.parts[0]
    if top == SOURCES:
        return None
    if top == "eval":
        return "part of the corpus's evaluation set (sample essays, questions), not a course source"
    if top == "lessons" or relative.name == "timeline.yaml":
        return "lesson cards and the timeline are read directly, not indexed as sources"
    if len(relative.parts) == 1 and relative.name.lower().startswith("readme"):
        return "the corpus's README, not a course source"
    return f"not in the corpus's {SOURCES}/ folder, so not a course source"
