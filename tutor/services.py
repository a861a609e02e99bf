"""The one place that builds the object graph: ``build(settings, *, chat_model=...)`` gives the
store, retriever, lessons, prompts, model turn, tutor, both coaches and the library. Every CLI,
the app's resources, the evaluation and the benchmarks call it, so they cannot disagree (all of
them honour ``TUTOR_PROMPTS_DIR`` and ``TUTOR_LLM_TURN_BUDGET``).

>>> build(chat_model=None, embedder=object(), store=object())
Traceback (most recent call last):
...
tutor.errors.ConfigError: build() takes a store or an embedder, not both: the store already has its embedder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from langchain_core.embeddings import Embeddings

from tutor import auth
from tutor.auth import ACCOUNT_MEMORY_SECONDS, KNOWN_CLIENT_SECONDS, MAX_LOCKOUT_SECONDS, LoginThrottle
from tutor.coach.essay import EssayCoach
from tutor.coach.facts import default_checker
from tutor.coach.source import SourceCoach
from tutor.engine import Tutor
from tutor.glossary import load_glossary
from tutor.counters import SharedWindow
from tutor.db import Database
from tutor.errors import ConfigError
from tutor.lessons import Lessons
from tutor.library import Library
from tutor.limits import RateLimiter
from tutor.model_turn import ModelTurn
from tutor.pedagogy.passage_plan import PassagePlanner
from tutor.prompts import Prompts, load_prompts
from tutor.published import live_lessons
from tutor.retrieval import Retriever
from tutor.sessions import SessionStore

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
from tutor.settings import Settings, get_settings
from tutor.store import Store


class _Configured:
    def __repr__(self) -> str:
        return "CONFIGURED"


# ``chat_model=CONFIGURED`` (the default): the model the settings name; ``None``: offline.
CONFIGURED: Final = _Configured()


@dataclass
class Services:
    """Everything a front end needs, built once for one Settings."""

    settings: Settings
    store: Store
    retriever: Retriever
    lessons: Lessons
    prompts: Prompts
    model: ModelTurn | None
    tutor: Tutor
    essay_coach: EssayCoach
    source_coach: SourceCoach
    library: Library
    throttle: LoginThrottle

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore.open(self.settings)

    @property
    def chat_model(self) -> BaseChatModel | None:
        return self.model.model if self.model is not None else None


def _configured_model(settings: Settings) -> BaseChatModel | None:
    """The model the settings name, or None offline. tutor.llm (openai and LangChain's chat
    models, about 1.5 s of imports) is loaded only when a model is configured."""
    if settings.resolved_llm() == "offline":
        return None
    from tutor.llm import chat_model

    return chat_model(settings)


def _model_turn(model: BaseChatModel, settings: Settings) -> ModelTurn:
    from tutor.llm import model_name

    return ModelTurn(model, budget=settings.llm_turn_budget, mode=model_name(model, settings),
                     structured=settings.llm_structured)


def build(settings: Settings | None = None, *, chat_model: BaseChatModel | None | Any = CONFIGURED,
          store: Store | None = None, embedder: Embeddings | None = None) -> Services:
    """The object graph for ``settings`` (default: the environment's).

    ``store`` reuses an open store (the app caches one); ``embedder`` opens the store with that
    embedder instead of the configured one (tests). Giving both is a mistake and is refused."""
    if store is not None and embedder is not None:
        raise ConfigError("build() takes a store or an embedder, not both: the store already has its embedder.")
    settings = settings or get_settings()
    model = _configured_model(settings) if chat_model is CONFIGURED else chat_model
    store = store or Store.open(settings, embedder)
    lessons = live_lessons(settings)  # the course's cards plus published ones, re-read when they change
    prompts = load_prompts(settings.prompts_dir)
    glossary = load_glossary(settings.corpus_dir)
    retriever = Retriever(store, expand=glossary.expanded)
    turn = None if model is None else _model_turn(model, settings)
    essay = EssayCoach(lessons, retriever, prompts_dir=settings.prompts_dir, prompts=prompts, model=turn)
    source = SourceCoach(lessons, retriever, prompts_dir=settings.prompts_dir, corpus_dir=settings.corpus_dir,
                         model=turn)
    limiter, throttle = build_limits(settings)
    tutor = Tutor(retriever=retriever, lessons=lessons, prompts=prompts, settings=settings, model=turn,
                  embedder=store.embedder, coach=essay, facts=default_checker(lessons), rate_limiter=limiter,
                  planner=PassagePlanner(store, settings.corpus_dir), glossary=glossary)
    return Services(settings=settings, store=store, retriever=retriever, lessons=lessons, prompts=prompts,
                    model=turn, tutor=tutor, essay_coach=essay, source_coach=source, library=Library(store),
                    throttle=throttle)


def build_limits(settings: Settings, db: Database | None = None) -> tuple[RateLimiter, LoginThrottle]:
    """The message rate limit and the sign-in throttle. On a shared database (several app hosts)
    both count in it, so a client gets one allowance however the load balancer spreads it; on
    SQLite (one host) they count in this process, without a write per message. ``db``: the
    process's Database for ``settings`` unless given (a test's second host)."""
    db = db or Database.open(settings)
    if db.is_sqlite:
        return RateLimiter(settings.rate_limit_per_minute), auth.THROTTLE
    return (RateLimiter(settings.rate_limit_per_minute, window=SharedWindow(db, scope="messages", window=60)),
            LoginThrottle(failures=SharedWindow(db, scope="sign-in", window=MAX_LOCKOUT_SECONDS),
                          accounts=SharedWindow(db, scope="sign-in-account", window=ACCOUNT_MEMORY_SECONDS),
                          known=SharedWindow(db, scope="signed-in", window=KNOWN_CLIENT_SECONDS)))
