"""Load: simulated students in parallel against the tutor, offline and with a model, on one
host with SQLite or on two hosts sharing PostgreSQL and a Chroma server.

    python benchmarks/load_benchmark.py                       # 20 students, 30 s per mode, both modes
    python benchmarks/load_benchmark.py --students 40 --duration 60 --mode model
    python benchmarks/load_benchmark.py --json                # JSON on stdout
    python benchmarks/load_benchmark.py --home /tmp/th1       # reuse an ingested TUTOR_HOME
    python benchmarks/load_benchmark.py --topology both --students 20 \
        --database-url postgresql://tutor:tutor@127.0.0.1:5432/tutor_test     # one host vs two hosts

Topologies: ``one-sqlite`` is one process with SQLite under its TUTOR_HOME and the embedded
Chroma; ``two-postgres`` is two host processes, each with its own TUTOR_HOME, sharing one
PostgreSQL (a fresh schema in ``--database-url``, dropped afterwards) and one ``chroma run``
server the benchmark starts; the students are split between the hosts. Every turn's
conversation is saved, as the app does (``SessionStore.save``), so the database is under load.

Each student is a thread with its own conversation, sending messages from
``corpus/eval/tutor_cases.jsonl`` (questions, claims and answer requests, in the mix of that file)
back to back for the whole duration, starting a new conversation every few turns. "model" mode
serves a fake streaming chat model over HTTP from an OpenAI-compatible server on 127.0.0.1, so
every turn goes through the real client (langchain-openai → openai → HTTP → SSE) and the
tutor's checks; the fake model answers with the move's own question, which passes the checks.
No request leaves 127.0.0.1.

Reported per topology and mode: replies, errors (exceptions or empty replies; the target is zero), fallbacks
to offline (model mode), rate-limited replies, throughput, and reply latency p50 / p95 / max as
the student waits for it (``Tutor.reply`` wall time). Exit code 1 when any error occurred.

The per-session rate limit is off by default so that every message reaches the engine
(``--rate-limit N`` turns it on; ``tests/test_security.py`` tests the limiter itself).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes import scripted_reading  # noqa: E402
from openai_server import FakeOpenAIServer  # noqa: E402  (the one fake OpenAI server, shared with the tests)
from tutor.evaluation.metrics import percentile  # noqa: E402
from tutor.services import build  # noqa: E402
from tutor.settings import DEFAULT_CORPUS, load_settings  # noqa: E402

CASES = DEFAULT_CORPUS / "eval" / "tutor_cases.jsonl"
NEW_CONVERSATION_EVERY = 5
_TURN_DATA = re.compile(r"<turn_data>\n(.*?)\n</turn_data>", re.S)


# -- the fake model service: the tests' OpenAI-compatible server (tests/openai_server.py) ----------
def reply_for(body: dict) -> str:
    """The turn's Reading: one encouraging sentence and the question the engine's own reading
    suggests (from the turn data)."""
    messages = body.get("messages") or []
    last = str(messages[-1].get("content", "")) if messages else ""
    found = _TURN_DATA.search(last)
    question = json.loads(found.group(1))["engine_reading"]["suggested_question"] if found else ""
    return scripted_reading(f"Good — let's test that against the course sources [1]. "
                            f"{question or 'What evidence would help you decide?'}")


# -- the simulated students --------------------------------------------------------------------
@dataclass
class Case:
    message: str
    kind: str
    history: list[dict] = field(default_factory=list)


def load_cases(path: Path = CASES) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        must = set(row.get("must", []))
        if must & {"no_full_answer", "no_essay_written"}:
            kind = "answer request"
        elif must & {"asks_for_evidence_or_counter", "corrects_date", "challenges_misattribution"}:
            kind = "claim"
        else:
            kind = "question"
        cases.append(Case(row["message"], kind, list(row.get("history", []))))
    return cases


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    fallbacks: int = 0
    rate_limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def student(tutor, cases: list[Case], seed: int, stop_at: float, think: float, results: Results,
            sessions=None) -> None:
    rng = random.Random(seed)
    session = None
    turns = 0
    while time.monotonic() < stop_at:
        case = rng.choice(cases)
        if session is None or turns >= NEW_CONVERSATION_EVERY or case.history:
            session = tutor.new_session()
            session.history = [dict(t, at=time.time()) for t in case.history]
            turns = 0
        started = time.perf_counter()
        try:
            reply = tutor.reply(session, case.message)
            if sessions is not None:
                sessions.save(session)  # what the page does after every turn
            elapsed = (time.perf_counter() - started) * 1000
            error = None if reply.text.strip() else "empty reply"
        except Exception as exc:  # noqa: BLE001 - the benchmark counts every failure, whatever it is
            elapsed, reply, error = (time.perf_counter() - started) * 1000, None, f"{type(exc).__name__}: {exc}"
        turns += 1
        with results.lock:
            if error:
                results.errors[error[:200]] += 1
                continue
            results.latencies_ms.append(elapsed)
            results.kinds[case.kind] += 1
            if reply.move.get("kind") == "rate_limited":
                results.rate_limited += 1
            elif tutor.chat_model is not None and reply.mode == "offline":
                results.fallbacks += 1
        if think:
            time.sleep(rng.uniform(0.5, 1.5) * think)


def run_mode(mode: str, store, settings, cases: list[Case], students: int, duration: float, think: float,
             token_delay: float, sessions=None, seed0: int = 0, before_start=None) -> dict:
    from tutor.llm import chat_model

    server = FakeOpenAIServer(respond=reply_for, token_delay=token_delay) if mode == "model" else None
    if server:
        server.start()
        settings = settings.model_copy(update={"llm": "openai-compatible", "llm_base_url": server.base_url,
                                               "llm_model": "fake-tutor", "llm_timeout": 30.0})
    try:
        tutor = build(settings, store=store, chat_model=chat_model(settings) if server else None).tutor
        tutor.warm()
        results = Results()
        if before_start:
            before_start()  # e.g. wait until every host is ready
        stop_at = time.monotonic() + duration
        threads = [threading.Thread(target=student, args=(tutor, cases, seed, stop_at, think, results, sessions),
                                    name=f"student-{seed}") for seed in range(seed0, seed0 + students)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        if server:
            server.stop()
    return summary(mode, students, wall, results, len(server.requests) if server else 0)


def summary(mode: str, students: int, wall: float, results: Results, model_requests: int,
            topology: str = "one-sqlite") -> dict:
    lat = results.latencies_ms
    return {
        "topology": topology, "mode": mode, "students": students, "duration_s": round(wall, 1),
        "replies": len(lat), "errors": sum(results.errors.values()), "error_kinds": dict(results.errors),
        "fallbacks": results.fallbacks, "rate_limited": results.rate_limited,
        "model_requests": model_requests,
        "throughput_per_s": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
        "max_ms": round(max(lat), 1) if lat else 0.0,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else 0.0,
        "by_kind": dict(results.kinds),
        "peak_rss_mb": _peak_rss_mb(),
        "latencies_ms": lat,
    }


def _peak_rss_mb() -> float | None:
    """The process's peak resident memory so far (the whole service: torch, MiniLM, Chroma, BM25)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports kB


def table(rows: list[dict]) -> str:
    head = ["topology", "mode", "students", "duration_s", "replies", "errors", "fallbacks", "rate_limited",
            "throughput_per_s", "p50_ms", "p95_ms", "max_ms", "peak_rss_mb"]
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in head]
    line = lambda values: "  ".join(str(v).rjust(w) for v, w in zip(values, widths))  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line([r[h] for h in head]) for r in rows]
    for r in rows:
        out.append(f"{r['topology']} {r['mode']}: mix {r['by_kind']}" + (f"; errors {r['error_kinds']}" if r["errors"] else ""))
    return "\n".join(out)


def _ingested_store(settings):
    from tutor.embeddings import get_embedder
    from tutor.library import Library
    from tutor.store import Store

    store = Store(settings, get_embedder(settings))
    failed = [r.line() for r in Library(store).ensure_default_corpus() if not r.ok]
    if failed:
        raise SystemExit("ingest failed:\n" + "\n".join(failed))
    return store


def one_host(args, modes: list[str], cases: list[Case]) -> list[dict]:
    from tutor.sessions import SessionStore

    with tempfile.TemporaryDirectory(prefix="tutor-load-") as temp:
        settings = load_settings(home=args.home or temp, llm="offline", rate_limit_per_minute=args.rate_limit,
                                 database_url="", chroma_url="")
        store = _ingested_store(settings)
        sessions = SessionStore.open(settings)
        return [run_mode(m, store, settings, cases, args.students, args.duration, args.think, args.token_delay,
                         sessions=sessions) for m in modes]


def worker(args) -> int:
    """One host of the two-host run: settings from the environment; waits for "go" on stdin."""
    from tutor.sessions import SessionStore
    from tutor.settings import get_settings
    from tutor.store import Store

    settings = get_settings().model_copy(update={"llm": "offline", "rate_limit_per_minute": args.rate_limit})
    store = Store.open(settings)
    sessions = SessionStore.open(settings)

    def ready() -> None:
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()

    row = run_mode(args.mode, store, settings, load_cases(), args.students, args.duration, args.think,
                   args.token_delay, sessions=sessions, seed0=args.seed0, before_start=ready)
    row["error_kinds"] = {k: v for k, v in row["error_kinds"].items()}
    print(json.dumps(row), flush=True)
    return 0


def _start_chroma(path: Path, port: int):
    import subprocess
    import urllib.request

    cli = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(cli), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"`chroma run` did not start on port {port}")


def two_hosts(args, modes: list[str], cases: list[Case]) -> list[dict]:
    import subprocess
    import uuid

    import sqlalchemy as sa

    if not args.database_url:
        raise SystemExit("--topology two-postgres needs --database-url postgresql://USER:PASSWORD@HOST:PORT/DB")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="tutor-load-2h-") as temp:
        chroma = _start_chroma(Path(temp) / "chroma-server", args.chroma_port)
        chroma_url = f"http://127.0.0.1:{args.chroma_port}"
        try:
            _ingested_store(load_settings(home=Path(temp) / "ingest", database_url=url, chroma_url=chroma_url))
            for mode in modes:
                split = [args.students - args.students // 2, args.students // 2]
                hosts = []
                for n, students in enumerate(split):
                    env = {**os.environ, "TUTOR_HOME": str(Path(temp) / f"host-{n}"), "TUTOR_DATABASE_URL": url,
                           "TUTOR_CHROMA_URL": chroma_url}
                    hosts.append(subprocess.Popen(
                        [sys.executable, __file__, "--worker", "--mode", mode, "--students", str(students),
                         "--duration", str(args.duration), "--think", str(args.think),
                         "--token-delay", str(args.token_delay), "--rate-limit", str(args.rate_limit),
                         "--seed0", str(n * 10_000)],
                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
                for h in hosts:  # every host has loaded its models and built its index
                    assert json.loads(h.stdout.readline())["ready"]
                for h in hosts:
                    h.stdin.write("go\n")
                    h.stdin.flush()
                parts = [json.loads(h.stdout.readline()) for h in hosts]
                for h in hosts:
                    h.wait(timeout=120)
                results = Results()
                for part in parts:
                    results.latencies_ms += part["latencies_ms"]
                    results.errors.update(part["error_kinds"])
                    results.kinds.update(part["by_kind"])
                    results.fallbacks += part["fallbacks"]
                    results.rate_limited += part["rate_limited"]
                row = summary(mode, args.students, max(p["duration_s"] for p in parts), results,
                              sum(p["model_requests"] for p in parts), topology="two-postgres")
                row["peak_rss_mb"] = max(p["peak_rss_mb"] or 0 for p in parts)
                rows.append(row)
        finally:
            chroma.terminate()
            chroma.wait(timeout=30)
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per mode")
    parser.add_argument("--mode", choices=["offline", "model", "both"], default="both")
    parser.add_argument("--topology", choices=["one-sqlite", "two-postgres", "both"], default="one-sqlite")
    parser.add_argument("--database-url", default=os.environ.get("TUTOR_BENCH_DATABASE_URL", ""),
                        help="PostgreSQL for the two-host run (a fresh schema is made in it and dropped)")
    parser.add_argument("--chroma-port", type=int, default=8671, help="port for the two-host run's Chroma server")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a student waits between messages")
    parser.add_argument("--token-delay", type=float, default=0.01, help="fake model: seconds between streamed words")
    parser.add_argument("--rate-limit", type=int, default=0, help="messages per session per minute (0 = off)")
    parser.add_argument("--home", type=Path, help="an existing TUTOR_HOME (default: a temporary one, corpus ingested)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed0", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    cases = load_cases()
    modes = ["offline", "model"] if args.mode == "both" else [args.mode]
    rows: list[dict] = []
    if args.topology in ("one-sqlite", "both"):
        rows += one_host(args, modes, cases)
    if args.topology in ("two-postgres", "both"):
        rows += two_hosts(args, modes, cases)
    for r in rows:
        r.pop("latencies_ms", None)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
