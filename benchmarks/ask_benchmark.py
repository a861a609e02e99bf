"""`tutor ask` as a user runs it: a new process per question, wall and CPU seconds.

    python benchmarks/ask_benchmark.py                  # a short report
    python benchmarks/ask_benchmark.py --rounds 5 --json
    python benchmarks/ask_benchmark.py --home DIR       # an existing, ingested TUTOR_HOME

Two homes: an existing one (the course ingested; --home, else one is made once, outside the
timing, with `tutor ingest corpus`), and a fresh, empty one. Each round runs `python -m tutor
ask QUESTION` in a new process with bytecode caches on (as an installed tutor has them) and
records the wall time and the child's CPU time (user + system). On a shared machine the wall
time depends on the other load; CPU seconds are what the command itself costs.

Target (issue 23): under 3 s wall for an existing home on this machine, median of the rounds.
Exit code 1 when it is missed. PYTHONPATH picks the code measured (run from that checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = ["Why did Stalin win the power struggle?", "What was Lenin's Testament?",
             "Why was Trotsky expelled from the party?"]
TARGET_S = 3.0


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TUTOR_HOME"] = str(home)
    env.setdefault("PYTHONPATH", os.getcwd())
    return env


def ask_once(home: Path, question: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tutor", "ask", question], env=_env(home), capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"tutor ask failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(home: Path, rounds: int, *, fresh: bool) -> dict:
    walls, cpus = [], []
    for n in range(rounds):
        target = Path(tempfile.mkdtemp(prefix="ask-fresh-")) if fresh else home
        wall, cpu = ask_once(target, QUESTIONS[n % len(QUESTIONS)])
        walls.append(wall)
        cpus.append(cpu)
    return {"wall_s": round(statistics.median(walls), 2), "cpu_s": round(statistics.median(cpus), 2),
            "walls": [round(w, 2) for w in walls]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--home", type=Path, help="an existing TUTOR_HOME with the course ingested")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="ask-home-"))
        subprocess.run([sys.executable, "-m", "tutor", "ingest", "corpus"], env=_env(home), check=True,
                       capture_output=True)
    ask_once(home, "warm the page cache")  # the first read of the files after an ingest is not the command's
    report = {"existing_home": measure(home, args.rounds, fresh=False),
              "fresh_home": measure(home, args.rounds, fresh=True),
              "load_average": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name in ("existing_home", "fresh_home"):
            r = report[name]
            print(f"{name.replace('_', ' ')}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU (median; {r['walls']})")
        print(f"load average {report['load_average']} on {report['cpus']} CPUs")
    return 0 if report["existing_home"]["wall_s"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
