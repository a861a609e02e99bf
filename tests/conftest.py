"""Shared fixtures. Every test gets its own TUTOR_HOME; nothing touches the user's real state."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tutor.settings import PROJECT_ROOT, load_settings, reset_settings

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(autouse=True)
def tutor_home(tmp_path, monkeypatch) -> Path:
    """Point TUTOR_HOME at a temp dir, drop any real configuration, and run from tmp_path."""
    for key in list(os.environ):
        if key.startswith("TUTOR_") or key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("TUTOR_HOME", str(home))
    monkeypatch.chdir(tmp_path)  # no stray .env or .streamlit/secrets.toml from the repo
    reset_settings()
    yield home
    reset_settings()


# -- the database: SQLite under TUTOR_HOME, or PostgreSQL for tests marked both_databases ----
# CI (.ci/run) starts PostgreSQL and creates this role and database; locally the same commands
# do it, or point TUTOR_TEST_DATABASE_URL at any server where the role may create schemas.
TEST_DATABASE_URL = os.environ.get("TUTOR_TEST_DATABASE_URL", "postgresql://tutor:tutor@127.0.0.1:5432/tutor_test")


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("both_databases") and "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test server's URL, checked once; skipped (failed under CI) when none is reachable."""
    import sqlalchemy as sa

    from tutor.db import describe

    url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = (f"PostgreSQL is not reachable at {describe(url)} ({str(exc.orig).strip().splitlines()[0]}); "
                  "start it and create the role as .ci/run does, or set TUTOR_TEST_DATABASE_URL")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return TEST_DATABASE_URL


class PostgresSchema:
    """A fresh schema on the test server: the tutor's tables for one test, dropped after it."""

    def __init__(self, server_url: str):
        import sqlalchemy as sa

        self.name = f"t_{uuid.uuid4().hex[:12]}"
        sep = "&" if "?" in server_url else "?"
        self.url = f"{server_url}{sep}options=-csearch_path%3D{self.name}"
        self._admin = sa.create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with self._admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))

    def drop(self) -> None:
        import sqlalchemy as sa

        from tutor.db import Database

        for url in [u for u in list(Database._open.keys()) if self.name in u]:
            db = Database._open.get(url)
            if db is not None:
                db.dispose()
        with self._admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self._admin.dispose()


@pytest.fixture(autouse=True)
def database_url(request, tutor_home, monkeypatch) -> str:
    """TUTOR_DATABASE_URL for this test: "" (SQLite under TUTOR_HOME) unless the test is
    marked ``both_databases``, which runs it once more on PostgreSQL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield ""
        return
    pg = PostgresSchema(request.getfixturevalue("postgres_server"))
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url)
    reset_settings()
    yield pg.url
    pg.drop()


@pytest.fixture
def db(settings):
    """The test's Database (SQLite or PostgreSQL), for looking at tables directly."""
    from tutor.db import Database

    return Database.open(settings)


@pytest.fixture(scope="session")
def embedder():
    """The real offline MiniLM model, loaded once per test session."""
    from tutor.embeddings import get_embedder

    return get_embedder(load_settings(home="/tmp/unused-tutor-home"))


@pytest.fixture
def settings(tutor_home):
    from tutor.settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def fake_embedder():
    """The deterministic FakeEmbeddings (tests/fakes.py): for unit tests of store, library and
    retrieval logic, where what is tested is the bookkeeping, not what the vectors mean."""
    from fakes import FakeEmbeddings

    return FakeEmbeddings()


def _wants_real_model(request) -> bool:
    """A test that also asks for the real ``embedder`` (it reopens stores with it, or the CLI
    does), or is marked ``real_embeddings``, gets MiniLM in every store fixture."""
    return "embedder" in request.fixturenames or request.node.get_closest_marker("real_embeddings") is not None


@pytest.fixture
def unit_embedder(request, fake_embedder):
    if _wants_real_model(request):
        return request.getfixturevalue("embedder")
    return fake_embedder


@pytest.fixture
def store(settings, unit_embedder):
    """A fresh store: on the fake embedder for unit tests of store and library logic, on MiniLM
    for integration tests (see ``_wants_real_model``)."""
    from tutor.store import Store

    return Store(settings, unit_embedder)


@pytest.fixture
def real_store(settings, embedder):
    """A fresh store on the real MiniLM model (integration tests)."""
    from tutor.store import Store

    return Store(settings, embedder)


@pytest.fixture
def library(store):
    from tutor.library import Library

    return Library(store)


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory) -> Path:
    """A TUTOR_HOME with the default corpus ingested once for the whole session (read-only use)."""
    from tutor.auth import local_operator
    from tutor.embeddings import get_embedder
    from tutor.library import Library
    from tutor.store import Store

    home = tmp_path_factory.mktemp("corpus-home")
    s = load_settings(home=home, database_url="")  # whatever database the first user's test has
    store = Store(s, get_embedder(s))
    results = Library(store).ingest_paths(local_operator(), [CORPUS / "sources"])
    failed = [r.line() for r in results if not r.ok]
    assert not failed, failed
    return home


def home_with_uploads(corpus_home: Path, home: Path, files: list[Path]) -> Path:
    """A copy of the ingested course at ``home`` with ``files`` uploaded as a teacher would
    (`tutor ingest` rightly refuses anything under corpus/eval)."""
    import shutil

    from tutor.auth import local_operator
    from tutor.embeddings import get_embedder
    from tutor.library import Library, Upload
    from tutor.store import Store

    shutil.copytree(corpus_home, home, dirs_exist_ok=True)
    settings = load_settings(home=home)
    uploads = [Upload(p.name, p.read_bytes()) for p in files]
    results = Library(Store(settings, get_embedder(settings))).ingest(local_operator(), uploads)
    assert [r.line() for r in results if not r.ok] == []
    return home


@pytest.fixture
def corpus_store(corpus_home, embedder):
    """The shared corpus store, opened for this test (do not write to it)."""
    from tutor.store import Store

    return Store(load_settings(home=corpus_home, database_url=""), embedder)


class CountingEmbedder:
    """A spy around the real embedder: counts the texts it embeds. ``name`` can be changed to
    stand for another model (the store records the model name with the collection)."""

    def __init__(self, inner, name: str | None = None):
        self.inner = inner
        self.name = name or inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []

    @property
    def texts(self) -> int:
        return sum(len(c) for c in self.calls)

    def embed_documents(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture
def spy(unit_embedder) -> CountingEmbedder:
    return CountingEmbedder(unit_embedder)


@pytest.fixture
def spy_store(settings, spy):
    from tutor.store import Store

    return Store(settings, spy)


@pytest.fixture
def spy_library(spy_store):
    from tutor.library import Library

    return Library(spy_store)


@pytest.fixture
def fresh_app(monkeypatch):
    """For AppTest tests: no cached objects from another test (st.cache_resource outlives a
    test), no background warm-up, a fresh sign-in throttle."""
    import streamlit as st

    from tutor import auth
    from tutor.ui import resources

    st.cache_resource.clear()
    st.cache_data.clear()
    monkeypatch.setattr(resources, "warm_in_background", False)
    monkeypatch.setattr(auth, "THROTTLE", auth.LoginThrottle())
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def tutor_cli(monkeypatch, *prefix: str, columns: int = 250):
    """`tutor PREFIX ARGS...` in this process through Typer's CliRunner (settings re-read each
    call); wide columns so rich does not wrap the lines the tests look for."""
    from typer.testing import CliRunner

    from tutor.cli import app
    from tutor.settings import reset_settings

    monkeypatch.setenv("COLUMNS", str(columns))
    runner = CliRunner()

    def invoke(*args: str):
        reset_settings()
        return runner.invoke(app, [*prefix, *args], catch_exceptions=False)

    return invoke


def signed_in_teacher_page(monkeypatch, password: str = "correct horse battery staple", timeout: int = 180):
    """An AppTest of the app on the Teacher page, signed in with ``password`` (TUTOR_HOME must
    already hold the course)."""
    from streamlit.testing.v1 import AppTest

    from tutor.settings import reset_settings

    monkeypatch.setenv("TUTOR_TEACHER_PASSWORD", password)
    reset_settings()
    at = AppTest.from_file("../streamlit_app.py", default_timeout=timeout).run()
    at.switch_page("tutor/ui/pages/teacher.py").run()
    at.text_input[0].input(password)
    at.button[0].click().run()
    return at
