"""Sources page: browse the course documents by kind and period, read one, see the timeline."""

from __future__ import annotations

import streamlit as st

from tutor.ui import resources
from tutor.ui.render import escape_markdown
from tutor.ui.sources import (KIND_LABELS, document_rows, filter_documents, reading_sections, timeline_chart,
                              timeline_frame, year_bounds)

_META = (("author", "Author"), ("date", "Date"), ("provenance", "Provenance"), ("purpose", "Purpose"),
         ("audience", "Audience"))


def _read(ctx: resources.AppContext, doc_id: str) -> None:
    record = ctx.store.manifest.get(doc_id)
    if record is None:
        st.info("That document is no longer in the library.")
        return
    st.subheader(escape_markdown(record.title))
    st.caption(escape_markdown(f"{KIND_LABELS.get(record.kind, record.kind)} · {record.filename} · "
                               f"version {record.version}"))
    for key, label in _META:
        if record.metadata.get(key):
            st.markdown(f"**{label}:** {escape_markdown(record.metadata[key])}")
    for heading, page, text in reading_sections(ctx.store.chunks(doc_id)):
        if heading:
            st.markdown(f"#### {escape_markdown(heading)}")
        if page:
            st.caption(f"Page {int(page)}")
        st.markdown(escape_markdown(text))


def render() -> None:
    ctx = resources.app_context()
    st.title("Sources")
    st.caption("The documents the tutor quotes from, and the timeline it checks dates against.")
    rows = document_rows(ctx.store.documents())
    browse, timeline = st.tabs(["Documents", "Timeline"])
    low, high = year_bounds(rows)
    with browse:
        kinds = sorted({r["kind"] for r in rows})
        left, right = st.columns([3, 2])
        chosen = left.multiselect("Kind", kinds, format_func=lambda k: KIND_LABELS.get(k, k),
                                  placeholder="All kinds")
        years = right.slider("Period", low, high, (low, high)) if low < high else (low, high)
        shown = filter_documents(rows, chosen, years)
        st.dataframe(shown, column_order=["title", "type", "from", "to", "chunks"], hide_index=True,
                     width="stretch",
                     column_config={"title": "Title", "type": "Kind", "from": st.column_config.NumberColumn("From", format="%d"),
                                    "to": st.column_config.NumberColumn("To", format="%d"), "chunks": "Passages"})
        st.caption(f"{len(shown)} of {len(rows)} documents")
        if shown:
            titles = {r["id"]: r["title"] for r in shown}
            doc_id = st.selectbox("Read a document", list(titles), format_func=titles.get, index=None,
                                  placeholder="Choose a document to read")
            if doc_id:
                _read(ctx, doc_id)
    with timeline:
        events = ctx.tutor.lessons.timeline
        first = min((e.years[0] for e in events), default=1917)
        last = max((e.years[1] for e in events), default=1930)
        span = st.slider("Years", first, last, (max(first, 1921), min(last, 1929)), key="timeline_years") \
            if first < last else (first, last)
        frame = timeline_frame(events, years=span)
        if frame.empty:
            st.info("No timeline events in those years.")
        else:
            st.altair_chart(timeline_chart(frame), width="stretch")
            st.caption("Hover over a bar for the exact date and any note on where sources disagree. "
                       "Long bars are periods; short ones single dates.")

