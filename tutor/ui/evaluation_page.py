"""Evaluation page: run the retrieval and tutor evaluations, compare methods, read saved reports."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import streamlit as st

from tutor.errors import TutorError
from tutor.retrieval import METHODS
from tutor.ui import evaluation as ev
from tutor.ui import resources
from tutor.ui.render import escape_markdown

TEACHER_KEY = "teacher"  # set by the Teacher page's sign-in


def show_report(report: ev.Report) -> None:
    data = report.data
    saved = datetime.fromtimestamp(report.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    bits = [f"{report.kind} evaluation", f"saved {saved}"]
    if data.get("set"):
        bits.append(f"set {data['set']}")
    for key, label in (("n_questions", "questions"), ("n_cases", "cases"), ("k", "k")):
        if data.get(key) is not None:
            bits.append(f"{label} {data[key]}" if key == "k" else f"{data[key]} {label}")
    st.caption(escape_markdown(" · ".join(bits)) + f" · `{report.path.name}`")
    frame = ev.metrics_frame(data)
    charts = ev.comparison_charts(frame)
    if charts:
        cols = st.columns(len(charts))
        for col, chart in zip(cols, charts):
            col.altair_chart(chart, width="stretch")
    rows = ev.table_rows(data)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    if report.markdown:
        with st.expander("Report text"):
            st.markdown(escape_markdown(report.markdown))
    if not charts and not rows:
        st.json(data, expanded=False)


def _chosen_set(settings, kind: str) -> Path | None:
    shipped = ev.eval_sets(settings, kind)
    options = [str(p) for p in shipped] + ["Upload a JSONL file…"]
    choice = st.selectbox("Set", options, format_func=lambda o: Path(o).name if o in map(str, shipped) else o,
                          key=f"eval_set_{kind}")
    if choice in map(str, shipped):
        return Path(choice)
    upload = st.file_uploader("Evaluation set (.jsonl)", type=["jsonl"], key=f"eval_upload_{kind}")
    if upload is None:
        return None
    # The loaders read paths; the copy lives only for this run.
    folder = Path(tempfile.mkdtemp(prefix="tutor-eval-"))
    path = folder / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    return path


def _run_section(ctx: resources.AppContext) -> None:
    available = ev.available()
    if not any(available.values()):
        st.info("The evaluation runners (tutor.evaluation) are not installed in this build; "
                "`tutor eval` on the command line runs them where they are.", icon=":material/info:")
        return
    if st.session_state.get(TEACHER_KEY) is None:
        st.info("Running an evaluation takes a few minutes of the server's time, so it needs a teacher: "
                "sign in on the Teacher page first. Saved reports are shown below.", icon=":material/lock:")
        return
    kinds = [k for k, ok in available.items() if ok]
    kind = st.radio("Evaluation", kinds, horizontal=True,
                    format_func={"retrieval": "Retrieval (methods side by side)", "tutor": "Tutor behaviour"}.get)
    path = _chosen_set(ctx.settings, kind)
    k, methods = 5, list(METHODS)
    if kind == "retrieval":
        left, right = st.columns(2)
        k = left.number_input("k (passages per question)", 1, 20, ctx.settings.retrieval_k)
        methods = right.multiselect("Methods", list(METHODS), default=list(METHODS))
    if st.button("Run", type="primary", disabled=path is None or (kind == "retrieval" and not methods),
                 icon=":material/play_arrow:"):
        with st.status(f"Running the {kind} evaluation…", expanded=True) as status:
            bar = st.progress(0.0)

            def tick(what: str, done: int, total: int) -> None:
                bar.progress(done / max(1, total), text=f"{done} of {total} · {what}")

            try:
                if kind == "retrieval":
                    result = ev.run_retrieval_set(ctx.tutor.retriever, path, k=int(k), methods=methods, on_progress=tick)
                else:
                    result = ev.run_tutor_set(ctx.tutor, path, on_progress=tick)
            except TutorError as exc:
                status.update(label="The evaluation could not run", state="error")
                st.error(escape_markdown(str(exc)))
                return
            saved = ev.save_report(ctx.settings, kind, result)
            status.update(label=f"Done — saved {saved.name}", state="complete", expanded=False)


def render() -> None:
    ctx = resources.app_context()
    st.title("Evaluation")
    st.caption("How well retrieval finds the right passages, and how the tutor behaves on the test cases.")
    with st.container(border=True):
        st.subheader("Run an evaluation")
        _run_section(ctx)
    st.subheader("Saved reports")
    reports = ev.list_reports(ctx.settings)
    if not reports:
        st.info(f"No saved report yet. Run one above, or `tutor eval` (reports go to {ev.reports_dir(ctx.settings)}).")
        return
    chosen = st.selectbox("Report", reports, format_func=lambda p: p.name, index=0)
    try:
        show_report(ev.load_report(chosen))
    except TutorError as exc:
        st.error(escape_markdown(str(exc)))


if __name__ == "__main__":
    render()
