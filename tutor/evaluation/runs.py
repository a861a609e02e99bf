"""Owns running an evaluation for a person (the Evaluation page): the shipped sets, a run gated
by the Teacher capability (the same proof the library checks), saving it as a report under
``TUTOR_HOME/reports`` like ``tutor eval --report`` does, and reading reports back as typed
sections.

>>> run_tutor_set("a student", tutor=None, path=Path("cases.jsonl"))
Traceback (most recent call last):
...
tutor.errors.PermissionDenied: Running an evaluation needs a teacher: sign in on the Teacher page.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, get_args

from tutor.auth import require_teacher
from tutor.errors import PermissionDenied, TutorError
from tutor.settings import Settings

Progress = Callable[[str, int, int], None]
SectionKind = Literal["retrieval", "tutor", "judge", "essays"]
SECTIONS: tuple[str, ...] = get_args(SectionKind)


def _teacher(actor: object) -> None:
    try:
        require_teacher(actor)
    except PermissionDenied:
        raise PermissionDenied("Running an evaluation needs a teacher: sign in on the Teacher page.") from None


@dataclass
class Report:
    """A saved report: its file, what it holds ("retrieval + tutor"), its data and Markdown."""

    path: Path
    kind: str
    data: dict[str, Any]
    markdown: str | None = None


def reports_dir(settings: Settings) -> Path:
    return settings.home / "reports"


def eval_sets(settings: Settings, kind: str) -> list[Path]:
    """The JSONL sets shipped in corpus/eval for a kind (questions for retrieval, cases for the tutor)."""
    folder = settings.corpus_dir / "eval"
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    want = "question" if kind == "retrieval" else "case"
    return [f for f in files if want in f.stem] or files


def run_retrieval_set(actor: object, retriever, path: Path, *, k: int = 5, methods: list[str] | None = None,
                      on_progress: Progress | None = None) -> dict[str, Any]:
    """The retrieval evaluation on one set, for a teacher."""
    _teacher(actor)
    from tutor.evaluation.datasets import load_questions

    from tutor.evaluation.retrieval_eval import run_retrieval as run

    questions = load_questions(path)
    kwargs: dict[str, Any] = {"k": k, "on_progress": on_progress}
    if methods:
        kwargs["methods"] = methods
    result = run(retriever, questions, **kwargs)
    result.setdefault("set", path.name)
    return result


def run_tutor_set(actor: object, tutor, path: Path, *, on_progress: Progress | None = None) -> dict[str, Any]:
    """The tutor-behaviour evaluation on one set, for a teacher."""
    _teacher(actor)
    from tutor.evaluation.datasets import load_cases

    from tutor.evaluation.tutor_eval import run_tutor as run

    result = run(tutor, load_cases(path), on_progress=on_progress)
    result.setdefault("set", path.name)
    return result


def save_report(settings: Settings, result: dict[str, Any]) -> Path:
    """Save a run like `tutor eval --report` does: a folder under TUTOR_HOME/reports holding
    report.json, report.md and plots.
    ``result`` maps sections (retrieval, tutor, ...) to their results. Returns the JSON path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = reports_dir(settings) / f"{stamp}-{'-'.join(result)}"
    n = 1
    while folder.exists():
        n += 1
        folder = reports_dir(settings) / f"{stamp}-{'-'.join(result)}-{n}"
    from tutor.evaluation.report import write_report

    written = write_report(folder, result)
    return next(p for p in written if p.suffix == ".json")


def sections(data: dict[str, Any]) -> dict[SectionKind, dict[str, Any]]:
    """The parts of a report: a combined report (`tutor eval all`) has one key per evaluation; a
    single run's result is recognised by its shape."""
    found = {k: data[k] for k in SECTIONS if isinstance(data.get(k), dict)}
    if found:
        return found
    if isinstance(data.get("methods"), dict):
        return {"retrieval": data}
    if "pass_rate" in data:
        return {"tutor": data}
    return {}


def _kind_of(data: dict[str, Any]) -> str:
    parts = [k for k, v in sections(data).items() if not v.get("skipped")]
    return " + ".join(parts) if parts else "report"


def load_report(path: Path) -> Report:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TutorError(f"The report {path.name} cannot be read ({exc}).") from exc
    if not isinstance(data, dict) or not sections(data):
        raise TutorError(f"{path.name} is not an evaluation report.")
    md = path.with_suffix(".md")
    return Report(path, _kind_of(data), data, md.read_text(encoding="utf-8") if md.is_file() else None)


def list_reports(settings: Settings) -> list[Path]:
    """Saved JSON reports under TUTOR_HOME/reports (sub-folders too), newest first."""
    folder = reports_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(folder.rglob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def latest_report(settings: Settings) -> Report | None:
    for path in list_reports(settings):
        try:
            return load_report(path)
        except TutorError:
            continue
    return None


def plots(report: Report) -> list[Path]:
    """PNG plots the report writer saved next to the report."""
    names = report.data.get("plots") or []
    return [report.path.parent / Path(str(n)).name for n in names if (report.path.parent / Path(str(n)).name).is_file()]


