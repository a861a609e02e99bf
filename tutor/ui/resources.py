"""The app's heavy objects, built once per process with ``st.cache_resource`` by
``tutor.services.build`` (the one object graph), and who the client is (``st.context``).

Inside a Streamlit page::

    ctx = app_context()
    ctx.tutor.reply(session, "why did stalin win?", client=client_id())

Store (Chroma + manifest + embedder), Tutor, both coaches, the session store and the library
are shared by every browser session; per-user state lives in ``st.session_state``. A
configuration problem is shown with ``st.error`` and the page stops.

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
    from tutor.auth import LoginThrottle
    from tutor.coach.essay import EssayCoach
    from tutor.coach.source import SourceCoach
    from tutor.engine import Tutor
    from tutor.library import Library
    from tutor.services import Services
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
    essay_coach: EssayCoach
    source_coach: SourceCoach
    throttle: LoginThrottle


def _key(settings: Settings) -> str:
    # Secrets dump masked, so a changed key alone does not rebuild; a restart does.
    return settings.model_dump_json()


@st.cache_resource(show_spinner=False)
def _store(key: str, _settings: Settings) -> "Store":
    from tutor.store import Store

    return Store.open(_settings)


@st.cache_resource(show_spinner=False)
def _services(key: str, _settings: Settings, _store: "Store") -> "Services":
    from tutor.services import build

    factory = chat_model_factory
    if factory is None:
        from tutor.llm import chat_model as factory
    return build(_settings, store=_store, chat_model=factory(_settings))


@st.cache_resource(show_spinner=False)
def _sessions(key: str, _settings: Settings) -> "SessionStore":
    from tutor.sessions import SessionStore

    return SessionStore.open(_settings)


@st.cache_resource(show_spinner=False)
def _gate(key: str) -> dict:
    """Once-per-process flags (warm-up) and the lock guarding them."""
    return {"lock": threading.Lock(), "warm_started": False}


def build_context(settings: Settings) -> AppContext:
    """The shared objects for these settings (raises TutorError when something is wrong)."""
    key = _key(settings)
    store = _store(key, settings)
    services = _services(key, settings, store)
    return AppContext(settings=settings, store=store, tutor=services.tutor, library=services.library,
                      sessions=_sessions(key, settings), essay_coach=services.essay_coach,
                      source_coach=services.source_coach, throttle=services.throttle)


def client_id(settings: Settings | None = None) -> str:
    """Who is asking, for the per-client limits: the connection's address, or the client a
    trusted proxy (TUTOR_TRUSTED_PROXIES) names in X-Forwarded-For (tutor.clients). Never empty:
    a connection without an address (local) is one stable client, not a new one per reload."""
    import os

    from tutor.clients import client_key, server_proxies

    settings = settings or get_settings()
    headers = st.context.headers
    forwarded = headers.get_all("X-Forwarded-For") if headers is not None else []
    # Streamlit's server (uvicorn) has already applied its own list to the address it reports.
    server = server_proxies(os.environ.get("FORWARDED_ALLOW_IPS"))
    return client_key(st.context.ip_address, forwarded, settings.proxies(), server)


def show_problem(exc: TutorError) -> None:
    from tutor.problems import for_students, is_infrastructure
    from tutor.ui.render import escape_markdown, redact_paths

    st.error(escape_markdown(redact_paths(for_students(exc))), icon=":material/error:")
    if not is_infrastructure(exc):
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
