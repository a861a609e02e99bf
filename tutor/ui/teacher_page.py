"""Teacher page: sign in, upload documents, manage the library. Students see only the gate."""

from __future__ import annotations

import math

import streamlit as st

from tutor import auth, teacher_token
from tutor.documents import KINDS, MAX_TITLE_CHARS, SUPPORTED_EXTENSIONS
from tutor.errors import DocumentError, PermissionDenied, TutorError
from tutor.ui import resources
from tutor.ui import teacher as service
from tutor.ui.render import escape_markdown
from tutor.ui.sources import KIND_LABELS, document_rows, reading_sections

TEACHER_KEY = "teacher"
RESULTS_KEY = "teacher_results"
FLAGGED_KEY = "teacher_flagged"
UPLOADER_KEY = "teacher_uploader_round"
DONE_KEY = "teacher_upload_done"  # the last indexing run's state, shown with its summary after the rerun
COOKIE_KEY = "teacher_cookie"  # a sign-in token to write to the browser ("" to clear it)
SIGNED_OUT_KEY = "teacher_signed_out"
STATUS_ICONS = {"added": "✅", "updated": "🔁", "unchanged": "⏺", "flagged": "⚠️", "failed": "❌"}


def _gate(ctx: resources.AppContext):
    """The signed-in Teacher, or the closed notice / sign-in form and a stopped page."""
    if not auth.is_open(ctx.settings):
        st.info(auth.closed_message(), icon=":material/lock:")
        st.stop()
    teacher = st.session_state.get(TEACHER_KEY)
    if teacher is None and not st.session_state.get(SIGNED_OUT_KEY):
        # A reload starts a new session; the signed cookie brings the teacher back until it expires.
        teacher = auth.resume(_cookie_token(), ctx.settings)
        if teacher is not None:
            st.session_state[TEACHER_KEY] = teacher
    if teacher is not None:
        return teacher
    with st.form("teacher_sign_in"):
        password = st.text_input("Teacher password", type="password")
        submitted = st.form_submit_button("Sign in", icon=":material/login:")
    if submitted:
        try:
            teacher = auth.sign_in(password, ctx.settings, ctx.throttle, client=resources.client_id(ctx.settings))
            st.session_state[TEACHER_KEY] = teacher
            st.session_state[COOKIE_KEY] = auth.remember(teacher, ctx.settings)
            st.session_state.pop(SIGNED_OUT_KEY, None)
            st.rerun()
        except PermissionDenied as exc:
            st.error(f"Access denied. {escape_markdown(str(exc))}", icon=":material/block:")
    st.stop()


def _cookie_token() -> str | None:
    """The sign-in token the browser sent with this session's first request."""
    return st.context.cookies.get(teacher_token.COOKIE)


def _write_cookie() -> None:
    """Set (after sign-in) or clear (after sign-out) the sign-in cookie in the browser. Streamlit
    cannot set a cookie from Python, so a line of script in the page does."""
    token = st.session_state.pop(COOKIE_KEY, None)
    if token is None:
        return
    # The one script the app writes: cookie_script admits only a token's own characters.
    st.html(teacher_token.cookie_script(token), unsafe_allow_javascript=True)


def _sign_out() -> None:
    st.session_state.pop(TEACHER_KEY, None)
    st.session_state.pop(FLAGGED_KEY, None)
    # This session's request still carries the old cookie: do not let it sign the teacher back in.
    st.session_state[SIGNED_OUT_KEY] = True
    st.session_state[COOKIE_KEY] = ""


def _run_uploads(ctx, teacher, files, *, confirm_flagged: bool) -> None:
    with st.status(f"Indexing {len(files)} file(s)…", expanded=True) as status:
        bar = st.progress(0.0)

        def tick(name: str, done: int, total: int, result) -> None:
            if result is None:
                bar.progress(done / max(1, total), text=f"Indexing {escape_markdown(name)} ({done + 1} of {total})")
                return
            bar.progress(done / max(1, total), text=f"{done} of {total} done")
            st.write(f"{STATUS_ICONS.get(result.status, '')} {escape_markdown(result.line())}")

        results = service.handle_uploads(ctx.library, teacher, files, confirm_flagged=confirm_flagged, on_file=tick)
        bad = any(r.status == "failed" for r in results)
        status.update(label=f"Done: {service.summary(results)}", state="error" if bad else "complete",
                      expanded=bad)
    st.session_state[RESULTS_KEY] = results
    st.session_state[DONE_KEY] = "error" if bad else "complete"
    flagged = st.session_state.setdefault(FLAGGED_KEY, {})
    by_name = {service.as_upload(f).name: f for f in files}
    for r in results:
        if r.status == "flagged" and r.filename in by_name:
            flagged[r.filename] = service.as_upload(by_name[r.filename])
        else:
            flagged.pop(r.filename, None)


def _upload_section(ctx, teacher) -> None:
    st.subheader("Add documents")
    types = [e.lstrip(".") for e in SUPPORTED_EXTENSIONS]
    limit = max(1, math.ceil(ctx.settings.max_upload_mb))
    # A new key after each indexing run gives an empty uploader (Streamlit cannot clear one).
    files = st.file_uploader("Course documents", type=types, accept_multiple_files=True, max_upload_size=limit,
                             key=f"teacher_uploads_{st.session_state.get(UPLOADER_KEY, 0)}",
                             help=f"Up to {ctx.settings.max_upload_mb:g} MB each. Markdown files may carry "
                                  "front matter (id, title, kind, period).")
    if st.button("Index these files", type="primary", disabled=not files, icon=":material/upload:"):
        _run_uploads(ctx, teacher, files, confirm_flagged=False)
        st.session_state[UPLOADER_KEY] = st.session_state.get(UPLOADER_KEY, 0) + 1
        st.rerun()
    results = st.session_state.get(RESULTS_KEY)
    done = st.session_state.get(DONE_KEY)
    if done and results:
        st.status(f"Done: {service.summary(results)}", state=done, expanded=False)
    if results:
        st.dataframe(service.result_rows(results), hide_index=True, width="stretch",
                     column_config={"passages": st.column_config.NumberColumn("passages", format="%d"),
                                    "version": st.column_config.NumberColumn("version", format="%d")})
    flagged = st.session_state.get(FLAGGED_KEY) or {}
    if flagged:
        st.warning("Flagged files contain text aimed at an AI model or invisible characters. Read them; "
                   "index them only if they are genuine course material.", icon=":material/flag:")
        names = st.multiselect("Flagged files to index anyway", list(flagged), default=list(flagged))
        sure = st.checkbox("I have checked these files and want them indexed")
        if st.button("Confirm and index flagged files", disabled=not (names and sure)):
            _run_uploads(ctx, teacher, [flagged[n] for n in names], confirm_flagged=True)
            st.rerun()


def _title_form(ctx, teacher, row: dict) -> None:
    """The document's title and kind as citations show them, for the teacher to change."""
    with st.form(f"retitle_{row['id']}"):
        title = st.text_input("Title", value=row["title"], max_chars=MAX_TITLE_CHARS)
        kind = st.selectbox("Kind", list(KINDS), index=list(KINDS).index(row["kind"]) if row["kind"] in KINDS else None,
                            format_func=lambda k: KIND_LABELS.get(k, k))
        if st.form_submit_button("Save title and kind", icon=":material/edit:"):
            try:
                record = service.retitle_document(ctx.library, teacher, row["id"], title, kind)
            except DocumentError as exc:
                st.error(escape_markdown(exc.reason))
            else:
                st.toast(f"Saved “{escape_markdown(record.title)}”")
                st.rerun()


def _document_section(ctx, teacher) -> None:
    st.subheader("Documents")
    rows = document_rows(ctx.store.documents())
    st.dataframe(rows, column_order=["id", "title", "type", "chunks", "version", "ingested"], hide_index=True,
                 width="stretch")
    if not rows:
        st.info("The library is empty. Upload documents above.")
        return
    titles = {r["id"]: f"{r['title']} ({r['id']})" for r in rows}
    doc_id = st.selectbox("Document", list(titles), format_func=titles.get, index=None,
                          placeholder="Choose a document to preview, replace or delete")
    if doc_id:
        preview, title_tab, replace, delete = st.tabs(["Preview passages", "Title and kind", "Replace", "Delete"])
        with title_tab:
            _title_form(ctx, teacher, next(r for r in rows if r["id"] == doc_id))
        with preview:
            for n, (heading, page, text) in enumerate(reading_sections(ctx.store.chunks(doc_id)), start=1):
                where = " · ".join(x for x in (heading, f"page {page}" if page else None) if x)
                with st.expander(f"Passage {n}" + (f" — {escape_markdown(where)}" if where else "")):
                    st.text(text)
        with replace:
            new = st.file_uploader("New version", type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
                                   key=f"replace_{doc_id}", max_upload_size=max(1, math.ceil(ctx.settings.max_upload_mb)))
            sure = st.checkbox("Replace the current version", key=f"replace_ok_{doc_id}")
            if st.button("Replace", disabled=not (new and sure), key=f"replace_go_{doc_id}"):
                result = service.replace_document(ctx.library, teacher, doc_id, new)
                (st.success if result.ok else st.error)(escape_markdown(result.line()))
        with delete:
            title = next(r["title"] for r in rows if r["id"] == doc_id)
            sure = st.checkbox(f"Delete “{escape_markdown(title)}” and all its passages", key=f"delete_ok_{doc_id}")
            if st.button("Delete", type="primary", disabled=not sure, key=f"delete_go_{doc_id}"):
                service.remove_document(ctx.library, teacher, doc_id)
                st.toast(f"Deleted {escape_markdown(doc_id)}")
                st.rerun()
    with st.expander("Re-index every document"):
        st.write("Rebuilds the search index from the kept originals, e.g. after changing the chunk size or "
                 "embedding model. Students can keep working; it takes a minute or so.")
        sure = st.checkbox("Re-index all documents now", key="reindex_ok")
        if st.button("Re-index", disabled=not sure):
            with st.status("Re-indexing…", expanded=True) as status:
                bar = st.progress(0.0)
                results = service.reindex_all(ctx.library, teacher, on_progress=lambda name, done, total: bar.progress(
                    done / max(1, total), text=f"{done} of {total}: {escape_markdown(name)}"))
                status.update(label=f"Re-indexed: {service.summary(results)}", state="complete")
            st.session_state[RESULTS_KEY] = results
            st.session_state.pop(DONE_KEY, None)


def render() -> None:
    st.set_page_config(layout="wide")
    ctx = resources.app_context()
    st.title("Teacher")
    _write_cookie()
    teacher = _gate(ctx)
    st.button("Sign out", on_click=_sign_out, icon=":material/logout:")
    try:
        _upload_section(ctx, teacher)
        st.divider()
        _document_section(ctx, teacher)
        st.divider()
        from tutor.ui.draft_page import render_draft_section
        render_draft_section(ctx, teacher)
    except TutorError as exc:
        st.error(escape_markdown(str(exc)))

