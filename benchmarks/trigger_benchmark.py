"""A published misconception trigger built to backtrack: how long does it hold the process?

    python benchmarks/trigger_benchmark.py [--baseline-src /path/to/old/checkout] [--json out.json]

A course card gets the trigger ``^(\\w+\\s?)*$`` (issue 24 item 2) and students' messages of 28,
40 and 20,000 characters ("aaa…!") are matched against every card, as each turn does, in a
worker thread (Streamlit runs each session's script in its own thread) while the main thread
plays the other students: it wakes every 5 ms and records the longest it was kept waiting.
``--baseline-src`` runs the same against another checkout in a child process stopped after
``--budget`` seconds: with Python's `re` the student's turn never ends and holds a core.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = r"^(\w+\s?)*$"
LENGTHS = (28, 40, 20_000)

MEASURE = r'''
import json, sys, threading, time
from pathlib import Path
import yaml
from tutor.lessons import LessonCard, Lessons

root = Path(sys.argv[1])
data = yaml.safe_load((root / "corpus" / "lessons" / "why-stalin-won.yaml").read_text(encoding="utf-8"))
data["misconceptions"].append({"id": "hostile", "triggers": [sys.argv[2]], "why_wrong": "x", "probe": "why?",
                               "correct_doc": "overview-why-stalin-won"})
lessons = Lessons(cards=[LessonCard.model_validate(data)], timeline=[])
for n in map(int, sys.argv[3:]):
    message = "a" * (n - 1) + "!"
    done, took = threading.Event(), []

    def student():
        start = time.perf_counter()
        lessons.misconceptions_in(message)
        took.append(time.perf_counter() - start)
        done.set()

    threading.Thread(target=student, daemon=True).start()
    stall, last = 0.0, time.perf_counter()
    while not done.wait(0.005):
        now = time.perf_counter()
        stall, last = max(stall, now - last), now
    stall = max(stall, time.perf_counter() - last)
    print(json.dumps({"chars": n, "match_s": round(took[0], 4), "longest_stall_s": round(stall, 4)}), flush=True)
'''


def measure(src: Path, budget: float) -> list[dict]:
    """The figures for one checkout; a length that did not finish within the budget says so."""
    env = dict(os.environ, PYTHONPATH=str(src))
    rows: list[dict] = []
    for n in LENGTHS:
        try:
            out = subprocess.run([sys.executable, "-c", MEASURE, str(src), HOSTILE, str(n)], env=env, cwd=src,
                                 capture_output=True, text=True, timeout=budget)
        except subprocess.TimeoutExpired:
            rows.append({"chars": n, "match_s": f"> {budget:g} (stopped)", "longest_stall_s": f"> {budget:g}"})
            continue
        if out.returncode != 0:
            rows.append({"chars": n, "error": out.stderr.strip().splitlines()[-1:]})
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-src", type=Path, help="another checkout to compare with (e.g. /work/main)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds a child may take per message")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    report = {"trigger": HOSTILE, "this checkout": measure(ROOT, args.budget)}
    if args.baseline_src:
        report[f"baseline {args.baseline_src}"] = measure(args.baseline_src.resolve(), args.budget)
    for name, rows in report.items():
        if name == "trigger":
            continue
        print(name)
        for row in rows:
            print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
