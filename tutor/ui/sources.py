"""The Sources page's logic: document rows, filters by kind and period, the timeline chart.

Example::

    rows = document_rows(store.documents())
    [r["id"] for r in filter_documents(rows, kinds=["event"], years=(1924, 1925))]
    chart = timeline_chart(timeline_frame(lessons.timeline, years=(1921, 1929)))
"""

from __future__ import annotations

from typing import Any, Iterable

import altair as alt
import pandas as pd

from tutor.lessons import TimelineEvent
from tutor.manifest import DocumentRecord
from tutor.store import Passage

KIND_LABELS = {
    "overview": "Overview", "event": "Event", "person": "Person", "idea": "Idea",
    "historiography": "Historians", "source-note": "Primary source", "skills": "Skills", "other": "Other",
}


def period_of(record: DocumentRecord) -> tuple[int, int] | None:
    """The years a document covers (front matter ``period``), or None if it does not say."""
    period = record.metadata.get("period")
    try:
        if isinstance(period, (list, tuple)) and period:
            return int(period[0]), int(period[-1])
        if period not in (None, ""):
            return int(period), int(period)
    except (TypeError, ValueError):
        return None
    return None


def document_rows(records: Iterable[DocumentRecord]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        period = period_of(r)
        rows.append({
            "id": r.doc_id, "title": r.title, "kind": r.kind, "type": KIND_LABELS.get(r.kind, r.kind),
            "from": period[0] if period else None, "to": period[1] if period else None,
            "chunks": r.chunks, "version": r.version, "ingested": r.ingested_at, "file": r.filename,
        })
    return rows


def year_bounds(rows: list[dict[str, Any]], default: tuple[int, int] = (1917, 1930)) -> tuple[int, int]:
    years = [y for r in rows for y in (r["from"], r["to"]) if y is not None]
    return (min(years), max(years)) if years else default


def filter_documents(rows: list[dict[str, Any]], kinds: Iterable[str] | None = None,
                     years: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Rows of the given kinds whose period overlaps the years (documents with no period stay)."""
    wanted = set(kinds or [])
    out = []
    for row in rows:
        if wanted and row["kind"] not in wanted:
            continue
        if years and row["from"] is not None and (row["to"] < years[0] or row["from"] > years[1]):
            continue
        out.append(row)
    return out


def _without_overlap(previous: str, text: str, longest: int = 600) -> str:
    """The chunk minus the text it repeats from the end of the previous chunk (chunk overlap)."""
    for k in range(min(len(previous), len(text), longest), 19, -1):
        if previous.endswith(text[:k]):
            return text[k:].lstrip()
    return text


def reading_sections(chunks: list[Passage]) -> list[tuple[str | None, int | None, str]]:
    """A document's chunks in order as (section heading when it changes, page, text), with the
    overlap between neighbouring chunks shown once."""
    out = []
    last: str | None = None
    previous = ""
    for p in sorted(chunks, key=lambda p: p.metadata.get("chunk_index", 0)):
        heading = p.section if p.section and p.section != last else None
        text = _without_overlap(previous, p.text) if p.section == last or heading is None else p.text
        last = p.section or last
        previous = p.text
        if text.strip():
            out.append((heading, p.page, text))
    return out


def _date(value: str, end: bool = False) -> pd.Timestamp:
    parts = value.split("-")
    if len(parts) == 1:
        return pd.Timestamp(f"{parts[0]}-12-31") if end else pd.Timestamp(f"{parts[0]}-01-01")
    if len(parts) == 2:
        start = pd.Timestamp(f"{parts[0]}-{parts[1]}-01")
        return start + pd.offsets.MonthEnd(0) if end else start
    return pd.Timestamp(value)


def timeline_frame(events: Iterable[TimelineEvent], years: tuple[int, int] | None = None) -> pd.DataFrame:
    """The timeline as rows (start, end, event, when, note, span), in date order. ``span`` marks
    events lasting over two months, drawn as bars; the others are drawn as dots."""
    rows = []
    for e in events:
        first, last = e.years
        if years and (last < years[0] or first > years[1]):
            continue
        start = _date(e.date)
        end = _date(e.end, end=True) if e.end else _date(e.date, end=True)
        rows.append({"id": e.id, "event": e.event, "start": start, "end": end, "when": e.when,
                     "precision": e.precision, "note": e.note or "",
                     "span": (end - start) > pd.Timedelta(days=62)})
    frame = pd.DataFrame(rows, columns=["id", "event", "start", "end", "when", "precision", "note", "span"])
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def timeline_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """One row per event in date order: bars for periods, dots for dates; hover for details."""
    order = list(frame["event"])
    height = max(120, 22 * len(order))
    base = alt.Chart(frame).encode(
        y=alt.Y("event:N", sort=order, title=None, axis=alt.Axis(labelLimit=300, labelFontSize=11, labelOverlap=False)),
        tooltip=[alt.Tooltip("when:N", title="Date"), alt.Tooltip("event:N", title="Event"),
                 alt.Tooltip("note:N", title="Note")],
    )
    x = alt.X("start:T", title=None, axis=alt.Axis(format="%Y", tickCount="year", orient="top", grid=True))
    bars = base.transform_filter("datum.span").mark_bar(cornerRadius=3, color="#c9a66b", height=10).encode(
        x=x, x2="end:T")
    dots = base.transform_filter("!datum.span").mark_circle(size=70, color="#8c2f1b", opacity=1).encode(x=x)
    return alt.layer(bars, dots).properties(height=height)
