"""Sources page: browse the course documents by kind and period, read one, see the timeline."""

from __future__ import annotations

import streamlit as st

from tutor.ui import resources
from tutor.ui.render import escape_markdown
from tutor.ui.sources import (KIND_LABELS, document_rows, filter_documents, reading_sections, timeline_chart,
                              timeline_frame, year_bounds)

ROW_HEIGHT, HEADER_HEIGHT = 66, 40  # px; two lines of text a row (Streamlit wraps text over 64 px rows)
_META = (("author", "Author"), ("date", "Date"), ("provenance", "Provenance"), ("purpose", "Purpose"),
         ("audience", "Audience"))


def _cited(ctx: resources.AppContext, doc_id: str, passage_id: str | None) -> None:
    """The passage a chat reply cited (the link under its [n] marker), shown above the document."""
    if not passage_id:
        return
    found = [p for p in ctx.store.get_passages([passage_id]) if p.doc_id == doc_id]
    if not found:
        st.info("The cited passage has changed since the reply was given (the document was replaced); "
                "the current version is below.", icon=":material/info:")
        return
    with st.container(border=True):
        st.caption("The passage cited in the chat")
        st.markdown(escape_markdown(found[0].text))


def _read(ctx: resources.AppContext, doc_id: str, passage_id: str | None = None) -> None:
    record = ctx.store.manifest.get(doc_id)
    if record is None:
        st.info("That document is no longer in the library.")
        return
    st.subheader(escape_markdown(record.title))
    _cited(ctx, doc_id, passage_id)
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
    # Wide, so the table shows every column and whole titles at a laptop's 1280 px.
    st.set_page_config(layout="wide")
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
        # Fixed widths that add up to the 820 px a wide page has at 1280 px (stretched when wider); rows over 4 rem
        # tall let Streamlit wrap a long title onto a second line instead of cutting it off.
        st.dataframe(shown, column_order=["title", "type", "from", "to", "chunks"], hide_index=True,
                     width="stretch", row_height=ROW_HEIGHT, height=ROW_HEIGHT * min(len(shown), 8) + HEADER_HEIGHT,
                     column_config={"title": st.column_config.TextColumn("Title", width=470),
                                    "type": st.column_config.TextColumn("Kind", width=120),
                                    "from": st.column_config.NumberColumn("From", format="%d", width=64),
                                    "to": st.column_config.NumberColumn("To", format="%d", width=64),
                                    "chunks": st.column_config.NumberColumn("Passages", width=84)})
        st.caption(f"{len(shown)} of {len(rows)} documents")
        if shown:
            titles = {r["id"]: r["title"] for r in shown}
            # A chat reply's [n] link names the document and passage: open it straight away.
            linked = st.query_params.get("doc")
            doc_id = st.selectbox("Read a document", list(titles), format_func=titles.get,
                                  index=list(titles).index(linked) if linked in titles else None,
                                  placeholder="Choose a document to read")
            if doc_id:
                _read(ctx, doc_id, st.query_params.get("passage") if doc_id == linked else None)
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

