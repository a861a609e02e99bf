"""Replays the student messages of a handout trial through a fresh offline tutor with the
trial's handout uploaded, and prints each reply and its citations (issue 23 item 2).

    PYTHONPATH=$PWD python benchmarks/handout_replay.py [--home DIR]

A home of its own is made (the course ingested, then the handout uploaded as a teacher would);
``--home`` reuses one made before (it is kept) so a second run skips the ingest.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAL = ROOT / "corpus" / "eval" / "trials" / "2026-12-06-handouts"
HANDOUTS = {"pelloquin1.jsonl": "sultan-galiev.md", "pelloquin2.jsonl": "anglo-russian-committee.md"}
HANDOUT_DIR = ROOT / "tests" / "fixtures" / "handouts"  # the trial's two handouts, as uploaded


def build_home(home: Path, handout_dir: Path) -> None:
    from tutor.auth import local_operator
    from tutor.embeddings import get_embedder
    from tutor.library import Library, Upload
    from tutor.settings import load_settings
    from tutor.store import Store

    settings = load_settings(home=home, database_url="")
    library = Library(Store(settings, get_embedder(settings)))
    library.ingest_paths(local_operator(), [ROOT / "corpus" / "sources"])
    uploads = [Upload(name, (handout_dir / name).read_bytes()) for name in sorted(set(HANDOUTS.values()))]
    bad = [r.line() for r in library.ingest(local_operator(), uploads) if not r.ok]
    if bad:
        raise SystemExit("handout upload failed: " + "; ".join(bad))


def replay(home: Path) -> list[dict]:
    from tutor.services import build
    from tutor.settings import load_settings

    settings = load_settings(home=home, database_url="")
    tutor = build(settings, chat_model=None).tutor
    rows = []
    for trial in HANDOUTS:
        session = tutor.new_session()
        for line in (TRIAL / trial).read_text(encoding="utf-8").splitlines():
            turn = json.loads(line)
            reply = tutor.reply(session, turn["student"])
            rows.append({"trial": trial, "turn": turn["turn"], "student": turn["student"], "tutor": reply.text,
                         "before": turn["tutor"], "card": reply.card_id, "move": reply.move.get("kind"),
                         "citations": [f"{c.title}: {c.quote[:110]}" for c in reply.citations]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home made by an earlier run (made if missing)")
    parser.add_argument("--handouts", type=Path, default=HANDOUT_DIR)
    parser.add_argument("--before", action="store_true", help="print the trial's own replies too")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="handout-replay-"))
    if not (home / ".replay-ready").exists():
        home.mkdir(parents=True, exist_ok=True)
        build_home(home, args.handouts)
        (home / ".replay-ready").write_text("ingested\n")
    for row in replay(home):
        print(f"--- {row['trial']} turn {row['turn']}\nSTUDENT: {row['student']}")
        if args.before:
            print(f"BEFORE: {row['before']}")
        print(f"TUTOR ({row['card']}, {row['move']}): {row['tutor']}")
        for c in row["citations"]:
            print(f"   [{c}]")


if __name__ == "__main__":
    main()
