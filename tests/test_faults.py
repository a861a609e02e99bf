"""Faults: the model service failing mid-conversation, a process killed mid-ingest, and a
vector store that cannot be opened. Each ends in a clear message and no lost or half data.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fakes import scripted_reading
from openai_server import FakeOpenAIServer
from tutor.services import build
from tutor.auth import local_operator
from tutor.errors import StoreError
from tutor.settings import load_settings, reset_settings

TUTOR_CLI = Path(sys.executable).with_name("tutor")
pytestmark = pytest.mark.both_databases


# -- helpers -----------------------------------------------------------------------------------
class FakeEmbeddingServer:
    """An OpenAI-compatible ``/v1/embeddings`` endpoint on 127.0.0.1. Vectors are a hash of the
    text, so ingesting thousands of chunks runs the real HTTP client path in seconds.

    Example::

        with FakeEmbeddingServer() as server:
            settings = load_settings(embeddings="openai", llm_base_url=server.url)
    """

    dim = 64

    def __init__(self):
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests += 1
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [{"object": "embedding", "index": i, "embedding": owner.vector(str(t))}
                        for i, t in enumerate(texts)]
                out = json.dumps({"object": "list", "data": data, "model": body.get("model", "fake"),
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1"

    def vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(self.dim)
        return (v / np.linalg.norm(v)).tolist()

    def __enter__(self) -> "FakeEmbeddingServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_for(condition, proc: subprocess.Popen, limit_s: float, what: str) -> None:
    """Poll until ``condition()``; fail with the child's output if it exits or time runs out."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"`tutor ingest` exited ({proc.returncode}) before {what}:\n{out}\n{err[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


def count_rows(settings, table: str) -> int:
    """Rows in a table of the tutor's database (SQLite or PostgreSQL), from outside the app."""
    import sqlalchemy as sa

    engine = sa.create_engine(settings.database)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    except sa.exc.OperationalError:  # the file or the table is not created yet
        return 0
    finally:
        engine.dispose()


class ManifestGate:
    """Holds what a manifest switch must wait for, from outside the app: SQLite's write lock on
    the file, or PostgreSQL's advisory lock. A writer then adds chunks but cannot make them live."""

    def __init__(self, settings):
        import sqlalchemy as sa

        self.settings = settings
        self.engine = sa.create_engine(settings.database, connect_args=(
            {"isolation_level": None, "timeout": 30} if settings.database.startswith("sqlite") else {}))
        self.conn = None

    def close_gate(self) -> None:
        import sqlalchemy as sa

        from tutor.db import lock_key

        self.conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            self.conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            self.conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key("manifest")})

    def open_gate(self) -> None:
        import sqlalchemy as sa

        from tutor.db import lock_key

        if self.conn is not None:
            if self.engine.dialect.name == "sqlite":
                self.conn.exec_driver_sql("ROLLBACK")
            else:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("manifest")})
            self.conn.close()
            self.conn = None
        self.engine.dispose()


def chroma_progress(db: Path) -> int:
    """The highest write sequence number the embedded Chroma has logged or applied. It only
    grows (Chroma purges applied log entries, so a row count could shrink)."""
    if not db.is_file():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return max(conn.execute(f"SELECT COALESCE(MAX(seq_id), 0) FROM {table}").fetchone()[0]
                   for table in ("embeddings_queue", "max_seq_id", "embeddings"))
    except sqlite3.OperationalError:  # the tables are not created yet
        return 0
    finally:
        conn.close()


def big_document(marker: str, paragraphs: int) -> bytes:
    lines = ["---\nid: big-ingest\ntitle: Grain procurement reports\nkind: source-note\n---\n# Reports\n"]
    for n in range(paragraphs):
        lines.append(f"Report {n} ({marker}): the district committee in okrug {n} found grain procurement "
                     f"short of the plan and asked the Politburo whether to raise prices or requisition.\n")
    return "\n".join(lines).encode()


# -- the model service fails mid-conversation --------------------------------------------------
# A reply that passes the tutor's checks on any lesson card: no key point, a pointer to passage
# [1] (hint moves must cite one), one question.
GOOD_REPLY = "Good, let's test that idea against passage [1] together. What evidence would you look for?"
AFTER_REPLY = "Let's look at passage [1] from another side. Which congress vote would you check first?"


@pytest.fixture(scope="module")
def shared_corpus_store(corpus_home, embedder):
    from tutor.store import Store

    return Store(load_settings(home=corpus_home, database_url=""), embedder)


def model_tutor(store, url: str):
    
    settings = load_settings(home=store.settings.home, llm="openai-compatible", llm_base_url=url,
                             llm_model="fake-tutor", llm_timeout=1.0, llm_connect_timeout=1.0,
                             llm_max_retries=0, rate_limit_per_minute=0)
    return build(settings, store=store).tutor


# fault -> (what the fake server does for that one request, what the notice says)
FAULTS = {
    "down": (None, "cannot be reached"),
    "500": ("status:500", "returned an error (500)"),
    "429": ("status:429", "busy (rate limited)"),
    "slow": ("slow:3", "took too long"),
    "cut": (f"cut:{GOOD_REPLY}", "cut off"),
    "malformed": ("malformed", "could not read"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_model_fault_falls_back_offline_and_keeps_the_conversation(shared_corpus_store, fault):
    behaviour, notice = FAULTS[fault]
    messages = ["why did stalin win the power struggle?", "was it because he was General Secretary?",
                "what about Trotsky's mistakes?"]
    with FakeOpenAIServer(text=scripted_reading(GOOD_REPLY)) as server:
        tutor = model_tutor(shared_corpus_store, server.base_url)
        session = tutor.new_session()
        # One good turn, one turn that meets the fault, and one after it.
        server.script(*(["auto", behaviour, "auto"] if behaviour else ["auto"]))
        first = tutor.reply(session, messages[0])
        assert first.mode == "fake-tutor" and first.notice is None and first.text == GOOD_REPLY
        if fault == "down":
            server.stop()  # nothing listens on its port any more
        during = tutor.reply(session, messages[1])
        # A new question: asking the same one again would fail the tutor's repetition check.
        server.text = scripted_reading(AFTER_REPLY)
        after = tutor.reply(session, messages[2])

    assert during.mode == "offline"
    assert during.notice and notice in during.notice and "Your conversation is safe" in during.notice, during.notice
    assert during.text.rstrip().endswith("?") and during.citations, "a real offline tutoring reply"
    if fault == "down":  # still down: the next turn is answered offline too
        assert after.mode == "offline" and notice in after.notice
    else:  # the service is back
        assert after.mode == "fake-tutor" and after.notice is None

    assert [t["role"] for t in session.history] == ["user", "assistant"] * 3
    assert [t["content"] for t in session.history if t["role"] == "user"] == messages
    assert session.history[3]["notice"] == during.notice and session.history[3]["mode"] == "offline"
    assert session.learner.turns == 3


# -- SIGKILL part-way through a large ingest ---------------------------------------------------
@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_no_half_document(tmp_path, tutor_home):
    """Version 1 of a ~3,000-chunk document goes in; `tutor ingest` of version 2 is killed with
    SIGKILL after it has written part of its chunks to Chroma. Students still see exactly
    version 1, none of version 2; ingesting version 2 again completes it."""
    from tutor.chunking import chunk_document
    from tutor.documents import read_document
    from tutor.embeddings import OpenAIEmbedder
    from tutor.library import Library
    from tutor.retrieval import METHODS, Retriever
    from tutor.store import Store

    with FakeEmbeddingServer() as server:
        env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TUTOR_EMBEDDINGS": "openai",
               "TUTOR_LLM_BASE_URL": server.url, "TUTOR_LLM": "offline",
               "TUTOR_CHUNK_SIZE": "200", "TUTOR_CHUNK_OVERLAP": "0"}
        settings = load_settings(home=tutor_home, embeddings="openai", llm_base_url=server.url, llm="offline",
                                 chunk_size=200, chunk_overlap=0)
        command = [str(TUTOR_CLI)] if TUTOR_CLI.is_file() else [sys.executable, "-c",
                                                               "from tutor.cli import app; app()"]
        big = tmp_path / "big-ingest.md"
        big.write_bytes(big_document("zzyqvartok", 3000))
        v1 = subprocess.run([*command, "ingest", str(big)], env=env, capture_output=True, text=True, timeout=600)
        assert v1.returncode == 0, v1.stderr[-3000:]
        assert "big-ingest.md: added" in v1.stdout

        big.write_bytes(big_document("qorvanthel", 3000))
        v2_chunks = chunk_document(read_document(big.name, big.read_bytes()), 200, 0)
        assert len(v2_chunks) >= 3000
        chroma_db = settings.chroma_dir / "chroma.sqlite3"
        before = chroma_progress(chroma_db)

        proc = subprocess.Popen([*command, "ingest", str(big)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        gate = ManifestGate(settings)
        try:
            # Once the child has marked its new chunks pending it is about to write them to Chroma.
            # Holding the manifest's lock from then on lets it write chunks but not make any
            # of them live, so the kill below is always part-way, whatever the machine's speed.
            wait_for(lambda: count_rows(settings, "pending_chunks") > 0, proc, 600, "embedding finished")
            gate.close_gate()
            wait_for(lambda: chroma_progress(chroma_db) > before, proc, 120,
                     "the first chunks reached Chroma")
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
        finally:
            gate.open_gate()
        assert proc.returncode == -signal.SIGKILL

        # Restart: a new process opens the store.
        store = Store(settings, OpenAIEmbedder(settings))
        record = store.manifest.get("big-ingest")
        assert record is not None and record.version == 1, "the manifest still lists version 1"
        written = set(store.collection.get(where={"doc_id": "big-ingest"}, include=[])["ids"])
        half = written - set(record.chunk_ids)
        assert half and len(half) < len(v2_chunks) + 1, "the kill left part of version 2 in Chroma"
        assert not store.get_passages(sorted(half)), "version 2 chunks are invisible"
        visible = store.chunks("big-ingest")
        assert [p.id for p in visible] == list(record.chunk_ids)
        assert all("zzyqvartok" in p.text for p in visible)
        retriever = Retriever(store)
        for method in METHODS:
            hits = retriever.search("qorvanthel grain procurement okrug", k=10, method=method)
            assert not any("qorvanthel" in h.text for h in hits), method
        assert any("zzyqvartok" in h.text for h in retriever.search("zzyqvartok", k=3, method="bm25"))

        # Re-running the ingest completes it; nothing of either half is left over.
        [result] = Library(store).ingest_paths(local_operator(), [big])
        assert (result.status, result.version, result.chunks) == ("updated", 2, len(v2_chunks)), result.line()
        record = store.manifest.get("big-ingest")
        assert len(store.chunks("big-ingest")) == len(v2_chunks) == record.chunks
        assert set(store.collection.get(include=[])["ids"]) == store.manifest.live_chunk_ids()
        assert store.manifest.original_names() == {record.original}
        hits = Retriever(store).search("qorvanthel", k=3, method="bm25")
        assert hits and all(h.doc_id == "big-ingest" and "qorvanthel" in h.text for h in hits)


# -- the vector store cannot be opened ---------------------------------------------------------
def doctor_output(monkeypatch, **env: str) -> tuple[int, str]:
    from tutor.cli import app

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def _chroma_is_a_file(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "chroma").write_text("not a folder")
    return home / "chroma"


def _chroma_db_is_garbage(home: Path) -> Path:
    (home / "chroma").mkdir(parents=True, exist_ok=True)
    (home / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database " * 200)
    return home / "chroma" / "chroma.sqlite3"


@pytest.mark.parametrize("damage,expected", [
    (_chroma_is_a_file, "File exists"),
    (_chroma_db_is_garbage, "not a database"),
], ids=["file-where-folder-should-be", "damaged-database"])
def test_local_store_unusable(settings, embedder, monkeypatch, damage, expected):
    from tutor.store import Store

    bad = damage(settings.home)
    with pytest.raises(StoreError) as info:
        Store(settings, embedder)
    assert expected in str(info.value) and "tutor doctor" in str(info.value)

    code, out = doctor_output(monkeypatch)
    assert code == 1, out
    assert "!! vector store" in out and "fix: close other programs using TUTOR_HOME" in out

    bad.unlink()  # the operator follows the advice; the same process opens the store now
    assert Store(settings, embedder).count() == 0


def test_local_store_locked(settings, embedder, monkeypatch):
    from tutor import store as store_module
    from tutor.store import Store

    Store(settings, embedder)  # the store exists
    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.5)
    holder = sqlite3.connect(settings.chroma_dir / "chroma.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # e.g. a database browser or a stuck process
    try:
        with pytest.raises(StoreError) as info:
            Store(settings, embedder)
        assert "locked by another program" in str(info.value)
        code, out = doctor_output(monkeypatch)
        assert code == 1, out
        assert "!! vector store" in out and "locked by another program" in out and "fix:" in out
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    Store(settings, embedder)  # usable again once the other program lets go


def test_chroma_server_unreachable(settings, embedder, monkeypatch):
    import socket

    from tutor.store import Store

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(StoreError) as info:
        Store(load_settings(home=settings.home, chroma_url=url), embedder)
    assert url in str(info.value) and "chroma run" in str(info.value)

    code, out = doctor_output(monkeypatch, TUTOR_CHROMA_URL=url)
    assert code == 1, out
    assert "!! vector store" in out and "fix: start the Chroma server or fix TUTOR_CHROMA_URL" in out


# -- the database unreachable or restarted ----------------------------------------------------
class TcpProxy:
    """A TCP forwarder on 127.0.0.1 in front of the test's PostgreSQL. ``stop()`` cuts every
    connection and refuses new ones (the server down, or restarting); ``start()`` brings it back
    on the same port."""

    def __init__(self, host: str, port: int):
        import socket

        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._socks: list = []
        self._listener = None

    def start(self) -> "TcpProxy":
        import socket

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener) -> None:
        import socket

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def stop(self) -> None:
        import socket

        if self._listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would leave it listening
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self._socks.clear()


def test_database_unreachable_at_start_is_explained(settings, embedder, monkeypatch):
    import socket

    from tutor.store import Store

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://tutor:s3cret-pw@127.0.0.1:{port}/tutor"
    with pytest.raises(StoreError) as info:
        Store(load_settings(home=settings.home, database_url=url), embedder)
    message = str(info.value)
    assert f"postgresql://tutor:***@127.0.0.1:{port}/tutor" in message and "s3cret-pw" not in message
    assert "Check that PostgreSQL is running" in message and "TUTOR_DATABASE_URL" in message

    code, out = doctor_output(monkeypatch, TUTOR_DATABASE_URL=url)
    assert code == 1, out
    assert "!! database" in out and "fix: start PostgreSQL" in out and "s3cret-pw" not in out


def test_database_down_mid_conversation_loses_no_turn(database_url, tutor_home, embedder, monkeypatch):
    """PostgreSQL goes away between two turns and comes back (as in a restart): the turn in
    between is answered and shown, its save is retried and reported, and the next save writes
    the whole conversation, so nothing the student typed is lost."""
    if not database_url:
        pytest.skip("SQLite is a file on this host and cannot become unreachable; "
                    "a locked or damaged store is covered by the tests above")
    from sqlalchemy.engine import make_url

    import tutor.sessions as sessions_module
    from tutor.library import Library, Upload
    from tutor.sessions import SessionStore
    from tutor.store import Store
    from tutor.ui.chat import take_turn

    server = make_url(database_url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432).start()
    try:
        url = database_url.replace(f":{server.port or 5432}/", f":{proxy.port}/", 1)
        # A rate limit on: its counter is in the database too, and must not cost the turn either.
        settings = load_settings(home=tutor_home, database_url=url, llm="offline", rate_limit_per_minute=30)
        store = Store(settings, embedder)
        sources = Path(__file__).resolve().parent.parent / "corpus" / "sources"
        names = ["event-ban-on-factions.md", "person-stalin.md"]
        Library(store).ingest(local_operator(), [Upload(n, (sources / n).read_bytes()) for n in names])
        tutor = build(settings, store=store).tutor
        sessions = SessionStore.open(settings)
        monkeypatch.setattr(sessions_module, "SAVE_RETRIES_S", (0.1, 0.3))
        session = tutor.new_session()
        first = take_turn(tutor, sessions, session, "why did stalin win?")
        assert first.text and first.saved
        assert len(SessionStore.open(settings).load(session.id).history) == 2

        proxy.stop()  # the database is gone
        during = take_turn(tutor, sessions, session, "was the General Secretary post important?")
        assert during.text.strip() and during.citations, "the student still gets a tutoring reply"
        problem = during.save_problem
        assert not during.saved and "could not be saved" in problem and "reference" in problem
        assert "next turn tries to save it again" in problem
        assert str(proxy.port) not in problem and "tutor_test" not in problem, "no connection details for students"
        code, out = doctor_output(monkeypatch, TUTOR_DATABASE_URL=url)
        assert code == 1 and "!! database" in out, out

        proxy.start()  # back, with every old connection dead (as after a restart)
        after = take_turn(tutor, sessions, session, "what about the Lenin Enrolment?")
        assert after.saved, after.save_problem
        saved = SessionStore.open(settings).load(session.id)
        assert [t["content"] for t in saved.history if t["role"] == "user"] == [
            "why did stalin win?", "was the General Secretary post important?", "what about the Lenin Enrolment?"]
        assert saved.to_dict() == session.to_dict()
    finally:
        proxy.stop()
