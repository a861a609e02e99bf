"""Load: simulated students in parallel against one Tutor service, offline and with a model.

    python benchmarks/load_benchmark.py                       # 20 students, 30 s per mode, both modes
    python benchmarks/load_benchmark.py --students 40 --duration 60 --mode model
    python benchmarks/load_benchmark.py --json                # JSON on stdout
    python benchmarks/load_benchmark.py --home /tmp/th1       # reuse an ingested TUTOR_HOME

Each student is a thread with its own conversation, sending messages from
``corpus/eval/tutor_cases.jsonl`` (questions, claims and answer requests, in the mix of that file)
back to back for the whole duration, starting a new conversation every few turns. "model" mode
serves a fake streaming chat model over HTTP from an OpenAI-compatible server on 127.0.0.1, so
every turn goes through the real client (langchain-openai → openai → HTTP → SSE) and the
tutor's checks; the fake model answers with the move's own question, which passes the checks.
No request leaves 127.0.0.1.

Reported per mode: replies, errors (exceptions or empty replies; the target is zero), fallbacks
to offline (model mode), rate-limited replies, throughput, and reply latency p50 / p95 / max as
the student waits for it (``Tutor.reply`` wall time). Exit code 1 when any error occurred.

The per-session rate limit is off by default so that every message reaches the engine
(``--rate-limit N`` turns it on; ``tests/test_security.py`` tests the limiter itself).
"""

from __future__ import annotations

import argparse
import json
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
from openai_server import FakeOpenAIServer  # noqa: E402  (the one fake OpenAI server, shared with the tests)
from tutor.evaluation.metrics import percentile  # noqa: E402
from tutor.services import build  # noqa: E402
from tutor.settings import DEFAULT_CORPUS, load_settings  # noqa: E402

CASES = DEFAULT_CORPUS / "eval" / "tutor_cases.jsonl"
NEW_CONVERSATION_EVERY = 5
_QUESTION = re.compile(r"Question to end with \(you may reword it slightly\): (.+)")


# -- the fake model service: the tests' OpenAI-compatible server (tests/openai_server.py) ----------
def reply_for(body: dict) -> str:
    """One encouraging sentence and the question the tutor asked the model to end with."""
    messages = body.get("messages") or []
    last = str(messages[-1].get("content", "")) if messages else ""
    found = _QUESTION.search(last)
    question = found.group(1).strip() if found else "What evidence would help you decide?"
    return f"Good — let's test that against the course sources. {question}"


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


def student(tutor, cases: list[Case], seed: int, stop_at: float, think: float, results: Results) -> None:
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
             token_delay: float) -> dict:
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
        stop_at = time.monotonic() + duration
        threads = [threading.Thread(target=student, args=(tutor, cases, seed, stop_at, think, results),
                                    name=f"student-{seed}") for seed in range(students)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        if server:
            server.stop()
    lat = results.latencies_ms
    return {
        "mode": mode, "students": students, "duration_s": round(wall, 1),
        "replies": len(lat), "errors": sum(results.errors.values()), "error_kinds": dict(results.errors),
        "fallbacks": results.fallbacks, "rate_limited": results.rate_limited,
        "model_requests": len(server.requests) if server else 0,
        "throughput_per_s": round(len(lat) / wall, 2) if wall else 0.0,
        "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
        "max_ms": round(max(lat), 1) if lat else 0.0,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else 0.0,
        "by_kind": dict(results.kinds),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float | None:
    """The process's peak resident memory so far (the whole service: torch, MiniLM, Chroma, BM25)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports kB


def table(rows: list[dict]) -> str:
    head = ["mode", "students", "duration_s", "replies", "errors", "fallbacks", "rate_limited",
            "throughput_per_s", "p50_ms", "p95_ms", "max_ms", "peak_rss_mb"]
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in head]
    line = lambda values: "  ".join(str(v).rjust(w) for v, w in zip(values, widths))  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line([r[h] for h in head]) for r in rows]
    for r in rows:
        out.append(f"{r['mode']}: mix {r['by_kind']}" + (f"; errors {r['error_kinds']}" if r["errors"] else ""))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per mode")
    parser.add_argument("--mode", choices=["offline", "model", "both"], default="both")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a student waits between messages")
    parser.add_argument("--token-delay", type=float, default=0.01, help="fake model: seconds between streamed words")
    parser.add_argument("--rate-limit", type=int, default=0, help="messages per session per minute (0 = off)")
    parser.add_argument("--home", type=Path, help="an existing TUTOR_HOME (default: a temporary one, corpus ingested)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)

    from tutor.embeddings import get_embedder
    from tutor.library import Library
    from tutor.store import Store

    with tempfile.TemporaryDirectory(prefix="tutor-load-") as temp:
        settings = load_settings(home=args.home or temp, llm="offline", rate_limit_per_minute=args.rate_limit)
        store = Store(settings, get_embedder(settings))
        failed = [r.line() for r in Library(store).ensure_default_corpus() if not r.ok]
        if failed:
            print("ingest failed:\n" + "\n".join(failed), file=sys.stderr)
            return 2
        cases = load_cases()
        modes = ["offline", "model"] if args.mode == "both" else [args.mode]
        rows = [run_mode(m, store, settings, cases, args.students, args.duration, args.think, args.token_delay)
                for m in modes]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
