"""The Evaluation page's rendering helpers: a report's results as tables and side-by-side charts.
Running, saving and reading reports belong to tutor.evaluation.runs (re-exported here for the page).

Example::

    result = run_retrieval_set(teacher, ctx.tutor.retriever, Path("corpus/eval/questions.jsonl"), k=5)
    path = save_report(settings, {"retrieval": result})
    latest_report(settings).kind
    # → 'retrieval'
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import pandas as pd

from tutor.evaluation.runs import (SECTIONS, Report, eval_sets, latest_report, list_reports,  # noqa: F401
                                   load_report, plots, reports_dir, run_retrieval_set, run_tutor_set, save_report,
                                   sections)
# Metrics on a 0..1 scale go in the quality chart; timings (milliseconds) in their own.
_LATENCY = re.compile(r"(^|_)(ms|p\d+|mean_ms|latency)|_ms$|^p\d+", re.I)


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
