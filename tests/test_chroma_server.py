"""Scale: TUTOR_CHROMA_URL points the tutor at a Chroma server (`chroma run`, the CLI the
chromadb package ships). Ingestion and retrieval work against it, and two app processes that
share the server and TUTOR_HOME both see a teacher's new document on their next search.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tutor.auth import local_operator
from tutor.library import Library, Upload
from tutor.settings import PROJECT_ROOT, load_settings
from tutor.store import COLLECTION, Store

CHROMA_CLI = Path(sys.executable).with_name("chroma")
SOURCES = PROJECT_ROOT / "corpus" / "sources"
HANDOUT = Upload("teacher-handout.md", (
    "---\nid: teacher-handout\ntitle: The Smolny inventory\nkind: source-note\n---\n"
    "# The Smolny inventory\nIn 1926 a clerk listed every samovar in the Smolny Institute; the list, "
    "called the vorpalnik register, shows how the Leningrad party apparatus counted its property.\n").encode())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A `chroma run` server on a free loopback port for this module; skipped if it cannot start."""
    if not CHROMA_CLI.is_file():
        pytest.skip(f"the chroma CLI is not installed next to {sys.executable}")
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([str(CHROMA_CLI), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not _heartbeat(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.close()
            tail = (data / "server.log").read_text(errors="replace")[-1500:]
            pytest.skip(f"`chroma run` did not start (exit {proc.returncode}):\n{tail}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def server_url(chroma_server):
    """The server with the tutor's collection dropped, so each test starts empty."""
    import chromadb

    from tutor.store import _client

    client = _client(load_settings(chroma_url=chroma_server))
    try:
        client.delete_collection(COLLECTION)
    except (chromadb.errors.NotFoundError, ValueError):
        pass
    return chroma_server


def test_ingest_and_retrieve_through_the_server(server_url, tutor_home, embedder):
    from tutor.retrieval import METHODS, Retriever

    settings = load_settings(home=tutor_home, chroma_url=server_url)
    store = Store(settings, embedder)
    names = ["event-ban-on-factions.md", "person-stalin.md", "event-lenin-enrolment.md"]
    uploads = [Upload(n, (SOURCES / n).read_bytes()) for n in names] + [HANDOUT]
    results = Library(store).ingest(local_operator(), uploads)
    assert [r.status for r in results] == ["added"] * 4, [r.line() for r in results]
    assert not settings.chroma_dir.exists(), "nothing went to the embedded store"

    # The server holds exactly the live chunks.
    import chromadb

    remote = chromadb.HttpClient(host="127.0.0.1", port=int(server_url.rsplit(":", 1)[1]))
    server_ids = set(remote.get_collection(COLLECTION).get(include=[])["ids"])
    assert server_ids == store.manifest.live_chunk_ids() and len(server_ids) == sum(r.chunks for r in results)

    retriever = Retriever(store)
    for method in METHODS:
        hits = retriever.search("When did the Tenth Congress ban factions?", k=3, method=method)
        assert hits and hits[0].doc_id == "event-ban-on-factions", (method, [h.doc_id for h in hits])
    assert retriever.search("vorpalnik register samovar", k=1, method="bm25")[0].doc_id == "teacher-handout"

    assert Library(store).remove(local_operator(), "teacher-handout")
    assert not retriever.search("vorpalnik register samovar", k=3, method="bm25")
    assert "teacher-handout" not in {p.doc_id for p in store.chunks()}


APP_PROCESS = textwrap.dedent("""
    # One app process: a Store and Retriever from the environment, driven by JSON lines on stdin.
    import json, sys
    from tutor.auth import local_operator
    from tutor.library import Library, Upload
    from tutor.retrieval import Retriever
    from tutor.store import Store

    store = Store.open()
    retriever = Retriever(store)
    print(json.dumps({"ready": store.version()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "search":
            hits = retriever.search(cmd["q"], k=5, method=cmd["method"])
            out = {"docs": [h.doc_id for h in hits], "version": store.version()}
        elif cmd["op"] == "ingest":
            results = Library(store).ingest(local_operator(), [Upload(cmd["name"], cmd["text"].encode())])
            out = {"status": [r.status for r in results]}
        elif cmd["op"] == "remove":
            out = {"removed": Library(store).remove(local_operator(), cmd["doc_id"])}
        print(json.dumps(out), flush=True)
""")


class AppProcess:
    """A separate Python process holding its own Store + Retriever (like a second app replica)."""

    def __init__(self, script: Path, env: dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, str(script)], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ready = self.read()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            pytest.fail(f"app process exited ({self.proc.returncode}): {self.proc.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def ask(self, **cmd) -> dict:
        self.send(**cmd)
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.mark.slow
def test_two_app_processes_share_the_server(server_url, tutor_home, embedder, tmp_path):
    settings = load_settings(home=tutor_home, chroma_url=server_url)
    names = ["event-ban-on-factions.md", "person-stalin.md"]
    Library(Store(settings, embedder)).ingest(local_operator(), [Upload(n, (SOURCES / n).read_bytes()) for n in names])

    script = tmp_path / "app_process.py"
    script.write_text(APP_PROCESS)
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TUTOR_CHROMA_URL": server_url}
    teacher_side, student_side = AppProcess(script, env), AppProcess(script, env)
    try:
        query = "vorpalnik register samovar Smolny"
        # The student's process has built its BM25 index before the teacher adds the handout.
        before = {m: student_side.ask(op="search", q=query, method=m) for m in ("bm25", "hybrid")}
        assert "teacher-handout" not in before["bm25"]["docs"] + before["hybrid"]["docs"]

        assert teacher_side.ask(op="ingest", name=HANDOUT.name, text=HANDOUT.data.decode())["status"] == ["added"]
        for method in ("bm25", "hybrid", "dense"):
            seen = student_side.ask(op="search", q=query, method=method)
            assert seen["docs"][0] == "teacher-handout", (method, seen)
            assert seen["version"] > before["bm25"]["version"]

        # And a removal is seen the same way.
        assert teacher_side.ask(op="remove", doc_id="teacher-handout")["removed"] is True
        for method in ("bm25", "hybrid", "dense"):
            assert "teacher-handout" not in student_side.ask(op="search", q=query, method=method)["docs"]
    finally:
        teacher_side.close()
        student_side.close()
