"""The Evaluation page's logic: run the evaluations of tutor.evaluation, save and read reports,
and turn a result into side-by-side charts.

>>> result = run_retrieval_set(ctx.tutor.retriever, Path("corpus/eval/questions.jsonl"), k=5)  # doctest: +SKIP
>>> path = save_report(settings, {"retrieval": result})                                       # doctest: +SKIP
>>> latest_report(settings).kind                                                              # doctest: +SKIP
'retrieval'

The runners and the report writer belong to tutor.evaluation; when one is not installed the page
says so instead of failing. Reports live under ``TUTOR_HOME/reports`` (one folder per run, as
``tutor eval all --report DIR`` writes them).
"""

from __future__ import annotations

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


@dataclass
class Report:
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


def run_retrieval_set(retriever, path: Path, *, k: int = 5, methods: list[str] | None = None,
                      on_progress: Progress | None = None) -> dict[str, Any]:
    from tutor.evaluation.datasets import load_questions

    from tutor.evaluation.retrieval_eval import run_retrieval as run

    questions = load_questions(path)
    kwargs: dict[str, Any] = {"k": k, "on_progress": on_progress}
    if methods:
        kwargs["methods"] = methods
    result = run(retriever, questions, **kwargs)
    result.setdefault("set", path.name)
    return result


def run_tutor_set(tutor, path: Path, *, on_progress: Progress | None = None) -> dict[str, Any]:
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


SECTIONS = ("retrieval", "tutor", "judge", "essays")


def sections(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


def metrics_frame(retrieval: dict[str, Any]) -> pd.DataFrame:
    """Long form (method, metric, value, latency) of every numeric metric per retrieval method."""
    rows = []
    table = retrieval.get("methods") if isinstance(retrieval.get("methods"), dict) else {}
    for method, metrics in table.items():
        if not isinstance(metrics, dict):
            continue
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


def method_rows(retrieval: dict[str, Any]) -> list[dict[str, Any]]:
    """The method table as rows for st.dataframe (method first)."""
    table = retrieval.get("methods") if isinstance(retrieval.get("methods"), dict) else {}
    return [{"method": m, **{k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}}
            for m, metrics in table.items() if isinstance(metrics, dict)]


def tutor_frame(tutor: dict[str, Any]) -> pd.DataFrame:
    """Pass rate per tag, then the checks made on every case, then the overall pass rate."""
    rows = [{"check": tag, "rate": float(rate), "kind": "tag"} for tag, rate in (tutor.get("rates") or {}).items()]
    for key in ("citation_validity", "quote_fidelity"):
        if isinstance(tutor.get(key), (int, float)):
            rows.append({"check": key, "rate": float(tutor[key]), "kind": "every case"})
    if isinstance(tutor.get("pass_rate"), (int, float)):
        rows.append({"check": "ALL (pass rate)", "rate": float(tutor["pass_rate"]), "kind": "overall"})
    return pd.DataFrame(rows, columns=["check", "rate", "kind"])


def tutor_chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame, title="Tutor: share of cases passing each check").mark_bar().encode(
        y=alt.Y("check:N", sort=list(frame["check"]), title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("rate:Q", scale=alt.Scale(domain=[0, 1]), title=None),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["tag", "every case", "overall"],
                                                             range=["#4c72b0", "#8c8c8c", "#dd8452"])),
        tooltip=["check", alt.Tooltip("rate:Q", format=".3f")],
    ).properties(height=max(120, 24 * len(frame)))


def numbers(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The section's top-level numbers (counts, rates, latencies) as rows."""
    return [{"measure": k, "value": v} for k, v in section.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]
