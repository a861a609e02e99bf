"""The Evaluation page's logic: run the evaluations of tutor.evaluation, save and read reports,
and turn a result into side-by-side charts.

>>> result = run_retrieval_set(ctx.tutor.retriever, Path("corpus/eval/questions.jsonl"), k=5)  # doctest: +SKIP
>>> path = save_report(settings, "retrieval", result)                                         # doctest: +SKIP
>>> latest_report(settings).kind                                                              # doctest: +SKIP
'retrieval'

The runners belong to tutor.evaluation; when one is not installed the page says so instead of
failing. Reports are JSON files under ``TUTOR_HOME/reports``.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import altair as alt
import pandas as pd

from tutor.errors import TutorError
from tutor.settings import Settings

Progress = Callable[[str, int, int], None]
# Metrics on a 0..1 scale go in the quality chart; timings (milliseconds) in their own.
_LATENCY = re.compile(r"(^|_)(ms|p\d+|mean_ms|latency)|_ms$|^p\d+", re.I)


class EvaluationUnavailable(TutorError):
    """The evaluation runner is not installed in this build."""


@dataclass
class Report:
    path: Path
    kind: str
    data: dict[str, Any]
    markdown: str | None = None


def reports_dir(settings: Settings) -> Path:
    return settings.home / "reports"


def _runner(module: str, *names: str) -> Callable[..., dict]:
    try:
        mod = importlib.import_module(f"tutor.evaluation.{module}")
    except ImportError as exc:
        raise EvaluationUnavailable(f"The {module.replace('_', ' ')} is not available in this build ({exc}).") from exc
    for name in names:
        if callable(getattr(mod, name, None)):
            return getattr(mod, name)
    raise EvaluationUnavailable(f"tutor.evaluation.{module} has no runner ({' or '.join(names)}).")


def available() -> dict[str, bool]:
    """Which evaluations this build can run."""
    out = {}
    for kind, module, names in (("retrieval", "retrieval_eval", ("run_retrieval",)),
                                ("tutor", "tutor_eval", ("run_tutor", "run_tutor_eval", "run_cases"))):
        try:
            _runner(module, *names)
            out[kind] = True
        except EvaluationUnavailable:
            out[kind] = False
    return out


def eval_sets(settings: Settings, kind: str) -> list[Path]:
    """The JSONL sets shipped in corpus/eval for a kind (questions for retrieval, cases for the tutor)."""
    folder = settings.corpus_dir / "eval"
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    want = "question" if kind == "retrieval" else "case"
    return [f for f in files if want in f.stem] or files


def run_retrieval_set(retriever, path: Path, *, k: int = 5, methods: list[str] | None = None,
                      on_progress: Progress | None = None) -> dict[str, Any]:
    from tutor.evaluation.datasets import load_questions

    run = _runner("retrieval_eval", "run_retrieval")
    questions = load_questions(path)
    kwargs: dict[str, Any] = {"k": k, "on_progress": on_progress}
    if methods:
        kwargs["methods"] = methods
    result = run(retriever, questions, **kwargs)
    result.setdefault("set", path.name)
    return result


def run_tutor_set(tutor, path: Path, *, on_progress: Progress | None = None) -> dict[str, Any]:
    from tutor.evaluation.datasets import load_cases

    run = _runner("tutor_eval", "run_tutor", "run_tutor_eval", "run_cases")
    result = run(tutor, load_cases(path), on_progress=on_progress)
    result.setdefault("set", path.name)
    return result


def save_report(settings: Settings, kind: str, result: dict[str, Any]) -> Path:
    folder = reports_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{kind}-{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{kind}-{stamp}-{n}.json"
    path.write_text(json.dumps({"kind": kind, "saved_at": time.time(), **result}, indent=2, ensure_ascii=False,
                               default=str), encoding="utf-8")
    return path


def _kind_of(path: Path, data: dict[str, Any]) -> str:
    if isinstance(data.get("kind"), str):
        return data["kind"]
    stem = path.stem.lower()
    for kind in ("retrieval", "tutor", "judge", "essay", "coach"):
        if kind in stem:
            return kind
    return "report"


def load_report(path: Path) -> Report:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TutorError(f"The report {path.name} cannot be read ({exc}).") from exc
    if not isinstance(data, dict):
        raise TutorError(f"The report {path.name} is not a JSON object.")
    md = path.with_suffix(".md")
    return Report(path, _kind_of(path, data), data, md.read_text(encoding="utf-8") if md.is_file() else None)


def list_reports(settings: Settings) -> list[Path]:
    """Saved JSON reports, newest first (searching sub-folders too)."""
    folder = reports_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(folder.rglob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def latest_report(settings: Settings, kind: str | None = None) -> Report | None:
    for path in list_reports(settings):
        try:
            report = load_report(path)
        except TutorError:
            continue
        if kind is None or report.kind == kind:
            return report
    return None


def _method_table(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{method or mode: {metric: value}} from a result, wherever the runner put it."""
    for key in ("methods", "modes", "backends", "summary"):
        table = data.get(key)
        if isinstance(table, dict) and table and all(isinstance(v, dict) for v in table.values()):
            return table
    return {}


def metrics_frame(data: dict[str, Any]) -> pd.DataFrame:
    """Long form (method, metric, value, latency) of every numeric metric in the result."""
    rows = []
    for method, metrics in _method_table(data).items():
        for metric, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            latency = bool(_LATENCY.search(metric))
            if not latency and not (0.0 <= float(value) <= 1.0):
                continue  # counts and other scales would flatten the 0..1 chart
            rows.append({"method": str(method), "metric": str(metric), "value": float(value), "latency": latency})
    return pd.DataFrame(rows, columns=["method", "metric", "value", "latency"])


def comparison_charts(frame: pd.DataFrame) -> list[alt.Chart]:
    """Grouped bars, methods side by side for each metric: quality (0..1), then latency (ms)."""
    charts = []
    for latency, title, scale in ((False, "Quality (higher is better)", alt.Scale(domain=[0, 1])),
                                  (True, "Latency in ms (lower is better)", alt.Scale(zero=True))):
        part = frame[frame["latency"] == latency]
        if part.empty:
            continue
        charts.append(alt.Chart(part, title=title).mark_bar().encode(
            x=alt.X("metric:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset="method:N",
            y=alt.Y("value:Q", title=None, scale=scale),
            color=alt.Color("method:N", title="Method"),
            tooltip=["method", "metric", alt.Tooltip("value:Q", format=".3f")],
        ).properties(height=260))
    return charts


def table_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The method table as rows for st.dataframe (method first)."""
    return [{"method": m, **{k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}}
            for m, metrics in _method_table(data).items()]
