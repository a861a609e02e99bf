"""Two app hosts: separate processes with their own TUTOR_HOME (no shared disk), one PostgreSQL
(TUTOR_DATABASE_URL) and one Chroma server (`chroma run`). What a teacher does on one host a
student sees on the other; a conversation moves between hosts; concurrent ingests on both
hosts both complete; a host killed mid-ingest leaves the other's view consistent.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest
import sqlalchemy as sa

from conftest import PostgresSchema
from test_chroma_server import AppProcess as Host  # one app host is one such process
from test_chroma_server import chroma_server, server_url  # noqa: F401  (fixtures)
from tutor.db import lock_key
from tutor.settings import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "corpus" / "sources"
pytestmark = pytest.mark.slow

HOST = textwrap.dedent("""
    # One app host: Store, Tutor, sessions and library from the environment, driven by JSON lines.
    import json, sys
    from tutor.auth import local_operator
    from tutor.services import build
    from tutor.library import Library, Upload
    from tutor.retrieval import Retriever
    from tutor.sessions import SessionStore
    from tutor.settings import get_settings
    from tutor.store import Store
    from tutor.ui.chat import restore, take_turn

    settings = get_settings()
    store = Store.open(settings)
    retriever = Retriever(store)
    tutor = build(settings, store=store).tutor
    sessions = SessionStore.open(settings)
    library = Library(store)
    print(json.dumps({"ready": store.version(), "home": str(settings.home)}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "search":
            hits = retriever.search(cmd["q"], k=5, method=cmd["method"])
            out = {"docs": [h.doc_id for h in hits], "texts": [h.text for h in hits]}
        elif cmd["op"] == "ingest":
            results = library.ingest(local_operator(), [Upload(cmd["name"], cmd["text"].encode())])
            out = {"results": [r.as_dict() for r in results]}
        elif cmd["op"] == "say":
            session, problem = restore(sessions, cmd.get("session"))
            reply = take_turn(tutor, sessions, session, cmd["text"])
            out = {"session": session.id, "reply": reply.text, "problem": problem,
                   "unsaved": [] if reply.saved else [reply.save_problem],
                   "said": [t["content"] for t in session.history if t["role"] == "user"]}
        elif cmd["op"] == "view":
            chunks = store.chunks(cmd.get("doc_id"))
            record = store.manifest.get(cmd["doc_id"]) if cmd.get("doc_id") else None
            out = {"chunk_ids": [p.id for p in chunks], "texts": [p.text for p in chunks],
                   "listed": list(record.chunk_ids) if record else [], "version": record.version if record else None,
                   "live": sorted(store.live_ids()),
                   "stored": sorted(store.collection.get(include=[])["ids"])}
        print(json.dumps(out), flush=True)
""")


def note(doc_id: str, title: str, body: str) -> tuple[str, str]:
    return f"{doc_id}.md", f"---\nid: {doc_id}\ntitle: {title}\nkind: source-note\n---\n# {title}\n{body}\n"


SMOLNY = note("smolny-inventory", "The Smolny inventory",
              "In 1926 a clerk listed every samovar in the Smolny Institute; the list, called the vorpalnik "
              "register, shows how the Leningrad party apparatus counted its property.")


def big_note(marker: str, paragraphs: int = 24) -> tuple[str, str]:
    body = "\n\n".join(f"## Okrug {n}\nReport {n} ({marker}): the district committee in okrug {n} found grain "
                       f"procurement short of the plan and asked the Politburo whether to raise prices."
                       for n in range(paragraphs))
    return note("grain-reports", "Grain procurement reports", body)


@pytest.fixture
def hosts(server_url, postgres_server, tmp_path):  # noqa: F811
    pg = PostgresSchema(postgres_server)
    script = tmp_path / "host.py"
    script.write_text(HOST)
    started: list[Host] = []

    def start(name: str) -> Host:
        home = tmp_path / f"home-{name}"
        env = {**os.environ, "TUTOR_HOME": str(home), "TUTOR_DATABASE_URL": pg.url,
               "TUTOR_CHROMA_URL": server_url, "TUTOR_LLM": "offline", "TUTOR_RATE_LIMIT_PER_MINUTE": "0"}
        host = Host(script, env)
        started.append(host)
        return host

    yield start, pg
    for host in started:
        if host.proc.poll() is None:
            host.close()
    pg.drop()


def test_two_hosts_share_one_postgresql_and_one_chroma_server(hosts, server_url, tmp_path):  # noqa: F811
    import chromadb

    from tutor.store import COLLECTION

    start, pg = hosts
    a, b = start("a"), start("b")
    assert a.ready["home"] != b.ready["home"]

    # 1. A document ingested through host A is found by a student on host B, whose BM25 index
    #    was built before the ingest (it refreshes when the shared store version moves).
    assert b.ask(op="search", q="vorpalnik register samovar Smolny", method="bm25")["docs"] == []
    [added] = a.ask(op="ingest", name=SMOLNY[0], text=SMOLNY[1])["results"]
    assert added["status"] == "added", added
    for method in ("bm25", "hybrid", "dense"):
        seen = b.ask(op="search", q="vorpalnik register samovar Smolny", method=method)
        assert seen["docs"][0] == "smolny-inventory", (method, seen)

    # 2. A conversation started on A continues on B (and A sees B's turn).
    first = a.ask(op="say", text="why did stalin win the power struggle?")
    assert first["reply"] and not first["unsaved"]
    second = b.ask(op="say", session=first["session"], text="was it because he was General Secretary?")
    assert second["problem"] is None and second["session"] == first["session"]
    assert second["said"] == ["why did stalin win the power struggle?", "was it because he was General Secretary?"]
    third = a.ask(op="say", session=first["session"], text="what about Trotsky?")
    assert third["said"][-2:] == ["was it because he was General Secretary?", "what about Trotsky?"]

    # 3. Concurrent ingests of different documents on A and B both complete.
    kron = note("kronstadt-notes", "Kronstadt notes", "The Kronstadt sailors rose in March 1921 against "
                "grain requisitioning; their zelpatrin manifesto demanded free soviets.")
    enrol = note("enrolment-notes", "Enrolment notes", "The Lenin Enrolment of 1924 brought in workers "
                 "who owed their cards to the Secretariat; the quintarok lists show it.")
    a.send(op="ingest", name=kron[0], text=kron[1])
    b.send(op="ingest", name=enrol[0], text=enrol[1])
    assert [r["status"] for r in a.read()["results"]] == ["added"]
    assert [r["status"] for r in b.read()["results"]] == ["added"]
    for host in (a, b):
        view = host.ask(op="view")
        assert view["stored"] == view["live"], "Chroma holds exactly the live chunks: nothing swept, nothing left"
        assert b.ask(op="search", q="zelpatrin manifesto", method="bm25")["docs"][0] == "kronstadt-notes"
        assert a.ask(op="search", q="quintarok lists", method="bm25")["docs"][0] == "enrolment-notes"

    # 4. Host A is killed mid-ingest (its new chunks are in Chroma, the switch not made).
    v1 = big_note("zzyqvartok")
    assert [r["status"] for r in a.ask(op="ingest", name=v1[0], text=v1[1])["results"]] == ["added"]
    v1_view = b.ask(op="view", doc_id="grain-reports")
    v2 = big_note("qorvanthel")
    remote = chromadb.HttpClient(host="127.0.0.1", port=int(server_url.rsplit(":", 1)[1])).get_collection(COLLECTION)
    gate = sa.create_engine(pg.url.replace("postgresql://", "postgresql+psycopg://", 1))
    with gate.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key("manifest")})  # no switch can happen
        conn.commit()
        a.send(op="ingest", name=v2[0], text=v2[1])
        deadline = time.monotonic() + 300
        while len(remote.get(where={"doc_id": "grain-reports"}, include=[])["ids"]) <= len(v1_view["listed"]):
            assert a.proc.poll() is None and time.monotonic() < deadline, "host A never wrote its new chunks"
            time.sleep(0.05)
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=30)
        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("manifest")})
        conn.commit()
    gate.dispose()
    assert a.proc.returncode == -signal.SIGKILL

    view = b.ask(op="view", doc_id="grain-reports")
    assert view["version"] == 1 and view["listed"] == v1_view["listed"], "the manifest still lists version 1"
    assert view["chunk_ids"] == view["listed"] and all("zzyqvartok" in t for t in view["texts"])
    assert set(view["stored"]) > set(view["live"]), "A's half-written version 2 is in Chroma, invisible"
    for method in ("bm25", "hybrid", "dense"):
        hits = b.ask(op="search", q="qorvanthel grain procurement okrug", method=method)
        assert not any("qorvanthel" in t for t in hits["texts"]), method

    # The next ingest (on B) completes it, and nothing of either half is left over.
    [done] = b.ask(op="ingest", name=v2[0], text=v2[1])["results"]
    assert (done["status"], done["version"]) == ("updated", 2), done
    view = b.ask(op="view", doc_id="grain-reports")
    assert view["chunk_ids"] == view["listed"] and all("qorvanthel" in t for t in view["texts"])
    assert view["stored"] == view["live"]
    # And a restarted host A sees the same.
    a2 = start("a")
    assert a2.ask(op="view", doc_id="grain-reports")["chunk_ids"] == view["chunk_ids"]
    assert a2.ask(op="say", session=first["session"], text="so who won?")["said"][-1] == "so who won?"
