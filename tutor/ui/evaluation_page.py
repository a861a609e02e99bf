"""Evaluation page: run the retrieval and tutor evaluations (the service checks the Teacher
capability), compare methods, read saved reports."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import streamlit as st

from tutor.errors import TutorError
from tutor.retrieval import METHODS
from tutor.ui import evaluation as ev
from tutor.ui import resources
from tutor.ui.render import escape_markdown, redact_paths

TEACHER_KEY = "teacher"  # set by the Teacher page's sign-in


def _retrieval(section: dict) -> None:
    bits = [f"{section.get('n_questions', '?')} questions", f"k = {section.get('k', '?')}"]
    if section.get("n_chunks"):
        bits.append(f"{section['n_chunks']} passages")
    st.caption(" · ".join(bits))
    charts = ev.comparison_charts(ev.metrics_frame(section))
    if charts:
        for col, chart in zip(st.columns(len(charts)), charts):
            col.altair_chart(chart, width="stretch")
    rows = ev.method_rows(section)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def _tutor(section: dict) -> None:
    st.caption(f"{section.get('n_cases', '?')} cases · mode {escape_markdown(section.get('mode', 'offline'))}")
    frame = ev.tutor_frame(section)
    left, right = st.columns([3, 2])
    if not frame.empty:
        left.altair_chart(ev.tutor_chart(frame), width="stretch")
    right.dataframe(ev.numbers(section), hide_index=True, width="stretch")
    failing = [c for c in section.get("cases") or [] if not c.get("passed")]
    if failing:
        with st.expander(f"{len(failing)} failing case(s)"):
            st.dataframe([{"case": c.get("id"), "failed": ", ".join(c.get("failed") or []), "move": c.get("move"),
                           "reply": c.get("reply")} for c in failing], hide_index=True, width="stretch")


def show_report(report: ev.Report) -> None:
    data = report.data
    saved = data.get("generated_at") or datetime.fromtimestamp(report.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    st.caption(escape_markdown(f"{report.kind} · saved {saved}") + f" · `{report.path.parent.name}/{report.path.name}`")
    for name, section in ev.sections(data).items():
        st.markdown(f"#### {name.capitalize()}")
        if section.get("skipped"):
            st.caption(escape_markdown(f"Skipped: {section['skipped']}"))
        elif name == "retrieval":
            _retrieval(section)
        elif name == "tutor":
            _tutor(section)
        else:
            st.dataframe(ev.numbers(section), hide_index=True, width="stretch")
    images = ev.plots(report)
    if images:
        with st.expander("Plots saved with the report"):
            for path in images:
                st.image(str(path), caption=path.name)
    if report.markdown:
        with st.expander("Report text (Markdown)"):
            st.code(redact_paths(report.markdown), language="markdown")


def _chosen_set(settings, kind: str):
    """A shipped set's path, an uploaded file, or None."""
    shipped = ev.eval_sets(settings, kind)
    options = [str(p) for p in shipped] + ["Upload a JSONL file…"]
    choice = st.selectbox("Set", options, format_func=lambda o: Path(o).name if o in map(str, shipped) else o,
                          key=f"eval_set_{kind}")
    if choice in map(str, shipped):
        return Path(choice)
    return st.file_uploader("Evaluation set (.jsonl)", type=["jsonl"], key=f"eval_upload_{kind}")


def _as_path(chosen, folder: str) -> Path:
    """The loaders read paths: an uploaded set is copied into a folder that lives for this run."""
    if isinstance(chosen, Path):
        return chosen
    path = Path(folder) / (Path(chosen.name).name or "set.jsonl")
    path.write_bytes(chosen.getvalue())
    return path


def _run_section(ctx: resources.AppContext) -> None:
    teacher = st.session_state.get(TEACHER_KEY)
    if teacher is None:
        st.info("Running an evaluation takes a few minutes of the server's time, so it needs a teacher: "
                "sign in on the Teacher page first. Saved reports are shown below.", icon=":material/lock:")
        return
    kind = st.radio("Evaluation", ["retrieval", "tutor"], horizontal=True,
                    format_func={"retrieval": "Retrieval (methods side by side)", "tutor": "Tutor behaviour"}.get)
    chosen = _chosen_set(ctx.settings, kind)
    k, methods = 5, list(METHODS)
    if kind == "retrieval":
        left, right = st.columns(2)
        k = left.number_input("k (passages per question)", 1, 20, ctx.settings.retrieval_k)
        methods = right.multiselect("Methods", list(METHODS), default=list(METHODS))
    if st.button("Run", type="primary", disabled=chosen is None or (kind == "retrieval" and not methods),
                 icon=":material/play_arrow:"):
        with st.status(f"Running the {kind} evaluation…", expanded=True) as status:
            bar = st.progress(0.0)

            def tick(what: str, done: int, total: int) -> None:
                bar.progress(done / max(1, total), text=f"{done} of {total} · {escape_markdown(what)}")

            try:
                with tempfile.TemporaryDirectory(prefix="tutor-eval-") as folder:
                    path = _as_path(chosen, folder)
                    if kind == "retrieval":
                        result = ev.run_retrieval_set(teacher, ctx.tutor.retriever, path, k=int(k),
                                                      methods=methods, on_progress=tick)
                    else:
                        result = ev.run_tutor_set(teacher, ctx.tutor, path, on_progress=tick)
            except TutorError as exc:
                status.update(label="The evaluation could not run", state="error")
                st.error(escape_markdown(redact_paths(str(exc))))
                return
            saved = ev.save_report(ctx.settings, {kind: result})
            status.update(label=f"Done — saved {saved.parent.name}", state="complete", expanded=False)


def render() -> None:
    st.set_page_config(layout="wide")
    ctx = resources.app_context()
    st.title("Evaluation")
    st.caption("How well retrieval finds the right passages, and how the tutor behaves on the test cases.")
    with st.container(border=True):
        st.subheader("Run an evaluation")
        _run_section(ctx)
    st.subheader("Saved reports")
    reports = ev.list_reports(ctx.settings)
    if not reports:
        # The folder is named, not its path: students must not learn where the server keeps data.
        st.info("No saved report yet. Run one above, or `tutor eval all --report` on the server "
                "(reports go to the `reports` folder under TUTOR_HOME).")
        return
    root = ev.reports_dir(ctx.settings)
    chosen = st.selectbox("Report", reports, index=0, format_func=lambda p: str(p.relative_to(root)),
                          help="Newest first. `tutor eval all --report` writes here when pointed at this folder.")
    try:
        show_report(ev.load_report(chosen))
    except TutorError as exc:
        st.error(escape_markdown(redact_paths(str(exc))))

