"""Tutor page (students): the conversation, its sources, progress and transcript downloads.

Run by ``st.navigation`` (see tutor/ui/app.py); the logic is in tutor.ui.chat and tutor.sessions.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import streamlit as st

from tutor.errors import TutorError
from tutor.settings import Settings
from tutor.ui import first_start, resources
from tutor.problems import reason_for_students
from tutor.ui.render import (MAX_REPLY_CHARS, escape_markdown, escape_stream, highlight, link_citations, mode_banner,
                             move_caption, redact_paths, reply_markdown, source_heading, source_link)

if TYPE_CHECKING:  # imported in render(), after the chat input is on screen: they take seconds
    from tutor.sessions import Progress
    from tutor.turn import Session

SESSION_KEY = "tutor_session"
UNLOADED_KEY = "tutor_session_unloaded"  # why the conversation in the URL is not loaded yet
QUERY_KEY = "session"
TUTOR_AVATAR, STUDENT_AVATAR = ":material/school:", ":material/person:"
WELCOME = ("Ask me about the struggle for power after Lenin, 1921–1929 — why Stalin won, what the "
           "Testament said, how the oppositions lost. I won't hand you answers: I'll point you to the "
           "sources and ask questions until you can make the argument yourself.")


def _current_session(ctx: resources.AppContext) -> Session:
    from tutor.ui import chat

    session: Session | None = st.session_state.get(SESSION_KEY)
    if session is None:
        session, problem = chat.restore(ctx.sessions, st.query_params.get(QUERY_KEY))
        if problem:
            st.toast(escape_markdown(redact_paths(problem)), icon=":material/info:")
        if problem and session.saved is None and session.id == st.query_params.get(QUERY_KEY):
            st.session_state[UNLOADED_KEY] = problem  # kept its id: loaded again on a later run
        st.session_state[SESSION_KEY] = session
    elif st.session_state.get(UNLOADED_KEY):
        try:
            ctx.sessions.catch_up(session)
        except TutorError:
            pass  # still down: the notice below stays, the next run tries again
        else:
            st.session_state.pop(UNLOADED_KEY)
            st.toast("Your conversation is loaded again.", icon=":material/task_alt:")
    if st.session_state.get(UNLOADED_KEY):
        st.warning(escape_markdown(redact_paths(st.session_state[UNLOADED_KEY])), icon=":material/cloud_off:")
    if st.query_params.get(QUERY_KEY) != session.id:
        # The id in the URL lets a reload (or a restart of the service) find the conversation.
        st.query_params[QUERY_KEY] = session.id
    return session


def _new_conversation() -> None:
    from tutor.turn import Session

    st.session_state[SESSION_KEY] = Session()
    st.session_state.pop(UNLOADED_KEY, None)
    st.query_params[QUERY_KEY] = st.session_state[SESSION_KEY].id


def _sources(citations: list[dict[str, Any]]) -> None:
    if not citations:
        return
    with st.expander(f"Sources ({len(citations)})", icon=":material/menu_book:"):
        for c in citations:
            st.markdown(source_heading(c))
            st.markdown(highlight(c.get("text") or c.get("quote") or "", c.get("quote")))
            if c.get("doc_id"):
                st.markdown(f"[Read it in Sources :material/open_in_new:]({source_link(c)})")


def _after_reply(turn: dict[str, Any]) -> None:
    """Sources, the move caption and any fallback notice under a tutor reply."""
    if turn.get("notice"):
        st.warning(escape_markdown(turn["notice"]), icon=":material/wifi_off:")
    _sources(turn.get("citations") or [])
    caption = move_caption(turn)
    if caption:
        st.caption(escape_markdown(caption))


def _history(session: Session) -> None:
    for turn in session.history:
        role = "user" if turn.get("role") == "user" else "assistant"
        with st.chat_message(role, avatar=TUTOR_AVATAR if role == "assistant" else STUDENT_AVATAR):
            citations = (turn.get("citations") or []) if role == "assistant" else []
            content = turn.get("content", "")
            st.markdown(reply_markdown(content, citations) if role == "assistant" else escape_markdown(content))
            if role == "assistant":
                _after_reply(turn)


def _turn(ctx: resources.AppContext, session: Session, message: str) -> None:
    from tutor.ui import chat

    with st.chat_message("user", avatar=STUDENT_AVATAR):
        st.markdown(escape_markdown(message))
    with st.chat_message("assistant", avatar=TUTOR_AVATAR):
        before = len(session.history)
        try:
            with _working(ctx.tutor.mode) as status:
                reply = chat.take_turn(ctx.tutor, ctx.sessions, session, message,
                                       client=resources.client_id(ctx.settings),
                                       indexing=partial(first_start.current, ctx.settings))
                if status is not None:
                    status.update(label=escape_markdown(_done_label(reply)), state="complete")
        except TutorError as exc:
            # The message is saved (the engine records it first); say what went wrong.
            st.error(f"The tutor could not answer just now: {escape_markdown(redact_paths(reason_for_students(exc)))} "
                     "Your message is kept; try again in a moment.", icon=":material/error:")
            return
        citations = [c.as_dict() for c in reply.citations]
        # Markers never straddle pieces (the stream splits at spaces), so each piece links its own.
        st.write_stream(link_citations(piece, citations)
                        for piece in escape_stream(reply.stream(), limit=MAX_REPLY_CHARS))
        if not reply.saved:
            st.warning(escape_markdown(redact_paths(reply.save_problem)), icon=":material/save:")
        if reply.merged:
            st.info(escape_markdown(reply.merged), icon=":material/tab:")
        recorded = session.history[-1] if len(session.history) > before else None
        if recorded and recorded.get("role") == "assistant":
            _after_reply(recorded)
        else:  # a reply the engine does not record (empty message, too many messages)
            _after_reply({"notice": reply.notice, "move": reply.move, "mode": reply.mode})


def _working(mode: str):
    """A live status while a model reads the message (a model turn takes seconds, two calls with
    a regeneration); the offline tutor answers at once, so a spinner is enough."""
    if mode == "offline":
        return _Spinner()
    return st.status(f"Reading your message and checking the answer ({escape_markdown(mode)})…", expanded=False)


class _Spinner:
    def __enter__(self):
        self._spinner = st.spinner("Thinking…")
        self._spinner.__enter__()
        return None

    def __exit__(self, *exc):
        return self._spinner.__exit__(*exc)


def _done_label(reply) -> str:
    if reply.mode == "offline":
        return "Answered by the offline tutor (see the note below the reply)"
    checks = sum(1 for c in reply.checks if c.passed)
    return f"Read and checked ({checks} checks passed)"


def _progress(p: Progress) -> None:
    st.subheader("Your progress")
    if not p.cards and not p.issues:
        st.caption("Make a point about the question and the key points you reach appear here.")
    for card in p.cards:
        st.markdown(f"**{escape_markdown(card.question)}**")
        st.progress(card.covered / max(1, card.total), text=f"{card.covered} of {card.total} key points")
        for kp in card.points:
            if kp.covered:
                st.markdown(f":material/check_circle: {escape_markdown(kp.statement)}")
    if p.issues:
        st.markdown(f"**Misconceptions and dates** · met {p.met} · resolved {p.resolved}")
        for issue in p.issues:
            icon = ":material/task_alt:" if issue.status == "resolved" else ":material/help:"
            st.markdown(f"{icon} {escape_markdown(issue.label)} — {issue.status}")


def _sidebar(ctx: resources.AppContext, session: Session) -> None:
    from tutor.sessions import progress, transcript_json, transcript_markdown

    lessons = ctx.tutor.lessons
    plans = ctx.tutor.planner.card  # a handout no card covers is taught from its plan
    with st.sidebar:
        _progress(progress(session, lessons, plans))
        st.divider()
        st.button("New conversation", icon=":material/add_comment:", on_click=_new_conversation,
                  width="stretch")
        if session.history:
            name = f"tutor-conversation-{session.id[:8]}"
            # Built when clicked, not on every rerun.
            st.download_button("Transcript (Markdown)", partial(transcript_markdown, session, lessons, plans), f"{name}.md",
                               mime="text/markdown", icon=":material/download:", on_click="ignore",
                               width="stretch")
            st.download_button("Transcript (JSON)", partial(transcript_json, session, lessons, plans), f"{name}.json",
                               mime="application/json", icon=":material/data_object:", on_click="ignore",
                               width="stretch")


def _expected_mode(settings: Settings) -> str:
    """The mode the settings ask for, known before the model is built."""
    backend = settings.resolved_llm()
    if backend == "offline":
        return "offline"
    if backend == "llamacpp" and settings.llm_model_path:
        return settings.llm_model_path.name
    return settings.llm_model


def render() -> None:
    settings = resources.app_settings()
    st.title("Socratic history tutor")
    banner = st.empty()
    banner.caption(escape_markdown(mode_banner(_expected_mode(settings))))
    with st.chat_message("assistant", avatar=TUTOR_AVATAR):  # always first, never saved: it is not a turn
        st.markdown(escape_markdown(WELCOME))
    # The input goes on screen before the heavy objects load, so the page is usable at once.
    # No max_chars: Streamlit's input drops a paste longer than it without a word, so the
    # student saw nothing happen (issue 24). The engine reads the first MAX_MESSAGE_CHARS and says so.
    message = st.chat_input("Ask a question or test an idea about 1921–1929…")
    ctx = resources.app_context()
    banner.caption(escape_markdown(mode_banner(ctx.tutor.mode)))
    session = _current_session(ctx)
    _history(session)
    if message:
        _turn(ctx, session, message)
    _sidebar(ctx, session)

