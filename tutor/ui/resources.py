"""The app's heavy objects, built once per process with ``st.cache_resource``.

>>> ctx = app_context()          # inside a Streamlit page           # doctest: +SKIP
>>> ctx.tutor.reply(session, "why did stalin win?")                  # doctest: +SKIP

Store (Chroma + manifest + embedder), Tutor (retriever, lessons, prompts, chat model), the
session store and the library are shared by every browser session; per-user state lives in
``st.session_state``. A configuration problem is shown with ``st.error`` and the page stops.

Test hook: ``chat_model_factory`` builds the chat model from settings (``tutor.llm.chat_model``);
tests replace it, e.g. ``monkeypatch.setattr(resources, "chat_model_factory", lambda s: FakeChatModel(...))``,
then clear ``st.cache_resource``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import streamlit as st

from tutor.errors import TutorError
from tutor.settings import Settings, get_settings

if TYPE_CHECKING:  # the real imports are deferred: they take seconds, and the first screen needs none
    from tutor.engine import Tutor
    from tutor.library import Library
    from tutor.sessions import SessionStore
    from tutor.store import Store

# Replaced by tests to script the model (see the module docstring); None = tutor.llm.chat_model.
chat_model_factory: Callable[[Settings], Any] | None = None
# Load the embedding model and BM25 index in a background thread after the first page is
# shown, so the first question does not pay for it. Tests turn it off.
warm_in_background = True


@dataclass
class AppContext:
    settings: Settings
    store: Store
    tutor: Tutor
    library: Library
    sessions: SessionStore


def _key(settings: Settings) -> str:
    # Secrets dump masked, so a changed key alone does not rebuild; a restart does.
    return settings.model_dump_json()


@st.cache_resource(show_spinner=False)
def _store(key: str, _settings: Settings) -> "Store":
    from tutor.store import Store

    return Store.open(_settings)


@st.cache_resource(show_spinner=False)
def _tutor(key: str, _settings: Settings, _store: "Store") -> "Tutor":
    from tutor.engine import Tutor

    factory = chat_model_factory
    if factory is None:
        from tutor.llm import chat_model as factory
    return Tutor.from_settings(_settings, store=_store, chat_model=factory(_settings))


@st.cache_resource(show_spinner=False)
def _sessions(key: str, _settings: Settings) -> "SessionStore":
    from tutor.sessions import SessionStore

    return SessionStore.open(_settings)


@st.cache_resource(show_spinner=False)
def _gate(key: str) -> dict:
    """Once-per-process flags (first-start check, warm-up) and the lock guarding them."""
    return {"lock": threading.Lock(), "corpus_checked": False, "warm_started": False}


def build_context(settings: Settings) -> AppContext:
    """The shared objects for these settings (raises TutorError when something is wrong)."""
    from tutor.library import Library

    key = _key(settings)
    store = _store(key, settings)
    return AppContext(settings=settings, store=store, tutor=_tutor(key, settings, store),
                      library=Library(store), sessions=_sessions(key, settings))


def show_problem(exc: TutorError) -> None:
    st.error(str(exc), icon=":material/error:")
    st.info("Fix the setting named above (environment, `.env` or `.streamlit/secrets.toml`) and reload "
            "the page. `tutor doctor` in a terminal checks every part.", icon=":material/build:")
    st.stop()


def app_settings() -> Settings:
    """The settings, or an error message and a stopped page."""
    try:
        return get_settings()
    except TutorError as exc:
        show_problem(exc)
        raise  # st.stop() raised already; this keeps type checkers honest


def app_context() -> AppContext:
    """The shared objects, or an error message and a stopped page."""
    try:
        return build_context(get_settings())
    except TutorError as exc:
        show_problem(exc)
        raise


def library_is_empty(settings: Settings) -> bool:
    """Whether the manifest lists no document, read without opening Chroma (fast)."""
    from tutor.manifest import Manifest

    return not Manifest.open(settings).documents()


def ensure_corpus(settings: Settings) -> None:
    """First start with an empty store: index corpus/sources, showing progress. Checked once
    per process, from the manifest alone, so a normal start opens nothing heavy here."""
    gate = _gate(_key(settings))
    if gate["corpus_checked"]:
        return
    with gate["lock"]:
        if gate["corpus_checked"]:
            return
        try:
            empty = library_is_empty(settings)
        except TutorError as exc:
            show_problem(exc)
        if empty:
            from tutor.ui.chat import first_start_ingest

            ctx = app_context()
            with st.status("First start: indexing the course sources…", expanded=True) as status:
                bar = st.progress(0.0, text="Loading the embedding model…")

                def tick(name: str, done: int, total: int) -> None:
                    bar.progress(done / max(1, total), text=f"Indexed {done} of {total} files (last: {name})")

                results = first_start_ingest(ctx.library, on_progress=tick)
                failed = [r for r in results if not r.ok]
                for r in failed:
                    st.warning(r.line())
                status.update(label=f"Indexed {len(results) - len(failed)} course documents",
                              state="error" if failed and len(failed) == len(results) else "complete",
                              expanded=bool(failed))
        gate["corpus_checked"] = True


def warm_once(settings: Settings) -> None:
    """Start loading the embedder and BM25 index in the background, once per process."""
    if not warm_in_background:
        return
    gate = _gate(_key(settings))
    with gate["lock"]:
        if gate["warm_started"]:
            return
        try:
            ctx = build_context(settings)  # cached: the page has built it already
        except TutorError:
            return  # the page shows the problem
        gate["warm_started"] = True

    def warm() -> None:
        try:
            ctx.tutor.warm()
        except TutorError:
            pass  # the first question will meet (and report) the same problem

    threading.Thread(target=warm, name="tutor-warm", daemon=True).start()
