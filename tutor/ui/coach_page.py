"""Coach page (students): the essay coach and the source-evaluation coach.

Thin: ``essay_coach_page()`` and ``source_coach_page()`` call tutor.coach.essay and
tutor.coach.source; ``render()`` shows both as tabs (tutor/ui/app.py lists it in the navigation).
Every piece of student or document text is escaped before it reaches Markdown; tables go
through ``st.dataframe``, which shows cell text literally.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from tutor.errors import TutorError
from tutor.ui import resources
from tutor.ui.render import escape_markdown, highlight, redact_paths

ESSAY_TYPES = ["txt", "md", "docx"]


def _coaches():
    ctx = resources.app_context()
    return ctx.essay_coach, ctx.source_coach


def _citations(citations: list[dict[str, Any]]) -> None:
    for c in citations:
        with st.expander(f"[{c['n']}] {escape_markdown(c['title'])}"):
            st.markdown(highlight(c.get("text") or c.get("quote", ""), c.get("quote")))


def _turns(turns: list[dict[str, Any]]) -> None:
    for turn in turns:
        role = turn["role"]
        with st.chat_message(role):
            st.markdown(escape_markdown(turn["content"]))
            if role == "assistant":
                _citations(turn.get("citations", []))


def _essay_text(upload) -> str:
    from tutor.documents import read_upload

    # A student's file is read in a child process with a time and memory budget (issue 11).
    return read_upload(upload.name, upload.getvalue(),
                       max_bytes=resources.app_context().settings.max_upload_bytes).text


def essay_coach_page() -> None:
    """Paste or upload an essay → band, descriptors, issues → coaching, one question at a time."""
    essay_coach, _ = _coaches()
    st.subheader("Essay coach")
    st.caption("Paste or upload a 25-mark essay. The coach places it in a band, explains why descriptor by "
               "descriptor, then asks one question at a time. It never rewrites your essay.")
    question = st.text_input("Essay question (optional)", key="coach_essay_question",
                             placeholder="'Stalin won because ...' Assess the validity of this view.")
    pasted = st.text_area("Your essay", height=240, key="coach_essay_text")
    limit = max(1, math.ceil(resources.app_context().settings.max_upload_mb))
    upload = st.file_uploader("…or upload it (.txt, .md, .docx)", type=ESSAY_TYPES, key="coach_essay_file",
                              max_upload_size=limit)
    if st.button("Analyse my essay", type="primary", key="coach_essay_go"):
        try:
            text = _essay_text(upload) if upload is not None else pasted
            analysis = essay_coach.analyse(text, question=question.strip() or None)
        except TutorError as exc:
            st.error(escape_markdown(redact_paths(str(exc))), icon=":material/error:")
        else:
            st.session_state["coach_essay"] = essay_coach.start_coaching(analysis)
            # With a model, its checked reading (band, evidence, errors) is shown beside the coach's.
            with st.spinner("The model is reading the essay…"):
                st.session_state["coach_essay_reading"] = essay_coach.model_reading(
                    analysis, essay_coach.offline_reply(analysis)[1])
    conv = st.session_state.get("coach_essay")
    if conv is None:
        return
    analysis = conv.analysis
    cols = st.columns(2)
    cols[0].metric("Band", f"Level {analysis.level[1]}")
    cols[1].metric("Marks (of 25)", f"{analysis.marks[0]}–{analysis.marks[1]}")
    st.markdown(escape_markdown(analysis.band_line))
    for note in analysis.notes:
        st.caption(escape_markdown(note))
    st.markdown("**Level by level**")
    st.dataframe([{"level": d["level"], "descriptor": d["descriptor"], "met": "yes" if d["met"] else "no",
                   "why": d["why"]} for d in analysis.descriptors], hide_index=True, width="stretch")
    if analysis.issues:
        st.markdown("**Issues**")
        st.dataframe([{"paragraph": i["paragraph"], "issue": i["kind"].replace("_", " "), "what": i["message"],
                       "you wrote": f"“{i['sentence']}”" if i.get("sentence") else ""}
                      for i in analysis.issues], hide_index=True, width="stretch")
    st.markdown("**Fact check**")
    if analysis.fact_checks:
        for f in analysis.fact_checks:
            source = f" (source: {f['doc']})" if f.get("doc") else ""
            st.markdown(escape_markdown(f"Paragraph {f['paragraph']}: “{f['sentence']}” — "
                                        f"{f.get('correct') or f['message']}{source}"))
    else:
        st.caption("Every sentence was checked against the fact base and the timeline; none contradicts them. "
                   "Claims the fact base does not cover are not judged.")
    _model_reading(st.session_state.get("coach_essay_reading"))
    with st.expander("Paragraph by paragraph"):
        st.dataframe([{"paragraph": p["n"], "role": p["role"], "stance": p["stance"],
                       "factors": ", ".join(f["term"] for f in p["factors"]),
                       "dates": ", ".join(p["evidence"]["dates"]), "names": ", ".join(p["evidence"]["names"]),
                       "figures": ", ".join(p["evidence"]["figures"])} for p in analysis.paragraphs],
                     hide_index=True, width="stretch")
    st.markdown("**Coaching**")
    _turns(conv.turns)
    if conv.done:
        return
    answer = st.chat_input("Your answer to the coach's question", key="coach_essay_answer")
    if answer:
        essay_coach.respond(conv, answer)
        st.rerun()


def _model_reading(read) -> None:
    """The model's reading of the essay, the fact checker's additions marked as such."""
    if read is None:
        return
    st.markdown("**The model's reading**")
    if read.notice:
        st.caption(escape_markdown(read.notice))
    if not read.ok:
        return
    move = read.as_move()
    cited = "; ".join(f"“{e}”" for e in move["band_evidence"]) or "no phrases of the essay cited"
    st.markdown(escape_markdown(f"Level {move['level'][1]}, {move['marks'][0]} of 25 marks, on the evidence of: {cited}"))
    for e in read.errors:
        found = "the fact checker" if e["found_by"] == "fact checker" else "the model"
        source = f", source: {e['evidence']}" if e.get("evidence") else ""
        st.markdown(escape_markdown(f"Error found by {found}: “{e['text']}” — {e['correction']}{source}"))


def source_coach_page() -> None:
    """Pick a source note or paste an extract (naming its origin) → one question at a time."""
    _, source_coach = _coaches()
    st.subheader("Source coach")
    st.caption("Judge a primary source step by step: provenance, tone and emphasis, content against context, "
               "then value and limitations for an enquiry. The evaluation is yours; the coach asks.")
    notes = source_coach.source_notes()
    mode = st.radio("Source", ["A source note from the course", "An extract I paste"], horizontal=True,
                    key="coach_source_mode")
    enquiry = st.text_input("Enquiry (what is the historian studying?)", key="coach_source_enquiry",
                            placeholder=source_coach.templates["default_enquiry"])
    if mode.startswith("A source note"):
        titles = {title: doc_id for doc_id, title in notes}
        choice = st.selectbox("Source note", list(titles), key="coach_source_note") if titles else None
        if not titles:
            st.info("No source notes are indexed yet; paste an extract instead.")
        start = st.button("Start", type="primary", key="coach_source_go", disabled=not titles)
        pasted = origin = ""
    else:
        pasted = st.text_area("The extract", height=160, key="coach_source_text")
        origin = st.text_input("Its origin (who wrote it, what it is, when)", key="coach_source_origin",
                               placeholder="Trotsky, My Life, written in exile in Turkey in 1929")
        start = st.button("Start", type="primary", key="coach_source_go")
        choice, titles = None, {}
    if start:
        from tutor.coach.source import SourceInfo

        try:
            info = source_coach.load(titles[choice]) if choice else SourceInfo.from_paste(pasted, origin)
        except TutorError as exc:
            st.error(escape_markdown(redact_paths(str(exc))), icon=":material/error:")
        else:
            st.session_state["coach_source"] = source_coach.start(info, enquiry.strip() or None)
    session = st.session_state.get("coach_source")
    if session is None:
        return
    src = session.source
    with st.container(border=True):
        st.markdown("**" + escape_markdown(f"Source: {src.origin}") + "**")
        st.markdown(escape_markdown(src.extract))
    stages = source_coach.templates["stages"]
    st.progress(min(1.0, session.stage_number / 4), text=escape_markdown(
        f"Step {session.stage_number} of 4: {stages[session.stage]}"))
    _turns(session.turns)
    if session.done:
        return
    answer = st.chat_input("Your answer", key="coach_source_answer")
    if answer:
        turn = source_coach.respond(session, answer)
        if turn.notice:
            st.session_state["coach_source_notice"] = turn.notice
        st.rerun()
    notice = st.session_state.pop("coach_source_notice", None)
    if notice:
        st.caption(escape_markdown(notice))


def render() -> None:
    """Both coaches as tabs (the page tutor/ui/app.py lists as "Essay & source coach")."""
    essay_tab, source_tab = st.tabs(["Essay coach", "Source coach"])
    with essay_tab:
        essay_coach_page()
    with source_tab:
        source_coach_page()
