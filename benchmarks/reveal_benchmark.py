"""Speed of the reveal guard as a per-reply check: the trained classifier (one MiniLM embedding
of the reply, the rules' findings, a dot product) against the rules alone.

    python benchmarks/reveal_benchmark.py                                   # the test fixture's replies
    python benchmarks/reveal_benchmark.py --file ../shared/data/mrbench/MRBench_V1.json --limit 300
    python benchmarks/reveal_benchmark.py --json

Target: guard p95 ≤ 250 ms per reply with the model loaded (as the app has it), every reply
embedded afresh (no cached vectors). Exit code 1 when it is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tutor.embeddings import _cached_query, get_embedder
from tutor.evaluation.metrics import latency_summary
from tutor.evaluation.mrbench import load_mrbench
from tutor.pedagogy.reveal import Reference, guarded_reveals, load_classifier, reveals
from tutor.settings import PROJECT_ROOT, load_settings

TARGET_P95_MS = 250.0
FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "mrbench" / "mrbench_small.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=FIXTURE, help="an MRBench JSON file whose replies are checked")
    parser.add_argument("--limit", type=int, default=300, help="check at most this many replies")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    if load_classifier() is None:
        raise SystemExit("no reveal classifier: run `tutor eval mrbench --file MRBench_V1.json --train`")
    embedder = get_embedder(load_settings())
    embedder.embed_query("load the model")
    cases = []
    for d in load_mrbench(args.file):
        ref = Reference.from_solution(d.solution) if d.solution else None
        cases += [(r.text, ref, d.last_student(), d.given_text()) for r in d.replies]
    cases = cases[: args.limit]
    _cached_query.cache_clear()
    timings: dict[str, list[float]] = {"guard": [], "rules": []}
    for text, ref, said, given in cases:
        start = time.perf_counter()
        guarded_reveals(text, ref, said, given, embedder=embedder)
        timings["guard"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        reveals(text, ref, said, given)
        timings["rules"].append((time.perf_counter() - start) * 1000)
    results = {name: {"n": len(v), **latency_summary(v)} for name, v in timings.items()}
    met = results["guard"]["p95_ms"] <= TARGET_P95_MS
    results["target"] = {"guard_p95_ms": TARGET_P95_MS, "met": met}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'check':28s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s}")
        for name, label in (("guard", "trained guard (embeds)"), ("rules", "rules alone")):
            r = results[name]
            print(f"{label:28s} {r['n']:5d} {r['p50_ms']:8.1f} {r['p95_ms']:8.2f}")
        print(f"target: guard p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
