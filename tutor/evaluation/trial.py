"""Blind trials: a tutor held open on loopback so that someone who has not read the code can talk
to it turn by turn (``say``), while every turn is written to a transcript for someone else to score.

    python -m tutor.evaluation.trial serve --transcripts corpus/eval/trials/2026-12-offline --port 8765 &
    python -m tutor.evaluation.trial say maya "why did stalin win"      # prints the tutor's reply
    python -m tutor.evaluation.trial tally corpus/eval/trials/2026-12-offline    # the figures

A scorer writes ``scores/NAME.jsonl`` beside the transcripts, one line a reply (SCORE_FIELDS).

The server builds the tutor once (``tutor.services.build``, so it honours every ``TUTOR_*``
setting, a model included) and keeps each named conversation in memory; ``say`` is a thin client.
A transcript is one JSON line a turn: the student's message, the reply, its mode, move, notice,
citations (title and quoted text) and latency — everything a scorer needs and nothing of the
engine's internals beyond the move's label — and, with a model, ``guards``: the calls made, each
guard refusal (attempt, guard, message) and whether the reply shown is the model's
(``final``: "model" | "offline"). ``tally`` counts them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8765
# One scorer's line per reply: verdict is "correct" | "wrong" | "missing" | "none" (nothing to judge);
# the counts are of the student's false claims, true claims and direct questions in that message.
SCORE_FIELDS = ("turn", "verdict", "false_claims", "false_corrected", "false_praised", "true_called_wrong",
                "questions", "questions_answered", "follows", "repeats", "factual_error", "naturalness", "note")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def transcript_row(n: int, message: str, reply: Any) -> dict[str, Any]:
    return {"turn": n, "student": message, "tutor": reply.text, "mode": reply.mode,
            "move": reply.move.get("label") or reply.move.get("kind"), "notice": reply.notice,
            # The passage as the chat page's Sources panel shows it: the student can read what is cited.
            "citations": [{"n": c.n, "title": c.title, "quote": c.quote, "text": c.text} for c in reply.citations],
            "latency_ms": round(reply.latency_ms)} | ({"guards": reply.guards} if reply.guards else {}) \
        | ({"misread": reply.move["misread"]} if reply.move.get("misread") else {})


class TrialServer:
    """Named conversations with one tutor; each turn appended to ``transcripts/NAME.jsonl``."""

    def __init__(self, tutor: Any, transcripts: Path):
        self.tutor = tutor
        self.transcripts = transcripts
        self.transcripts.mkdir(parents=True, exist_ok=True)
        self.sessions: dict[str, Any] = {}
        self.lock = threading.Lock()  # one turn at a time: the trial measures replies, not contention

    def say(self, name: str, message: str) -> dict[str, Any]:
        if not _NAME.match(name):
            raise ValueError("A conversation name is 1-64 letters, digits, '-' or '_'.")
        with self.lock:
            session = self.sessions.setdefault(name, self.tutor.new_session())
            reply = self.tutor.reply(session, message, client=f"trial-{name}")
            n = sum(1 for t in session.history if t["role"] == "user")
            row = transcript_row(n, message, reply)
            with (self.transcripts / f"{name}.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            return row

    def handler(self) -> type[BaseHTTPRequestHandler]:
        trial = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                    row = trial.say(str(body.get("name", "")), str(body.get("message", "")))
                    status, payload = 200, row
                except (ValueError, json.JSONDecodeError) as exc:
                    status, payload = 400, {"error": str(exc)}
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def serve(transcripts: Path, port: int) -> None:
    from tutor.services import build

    tutor = build().tutor
    tutor.warm()
    trial = TrialServer(tutor, transcripts)
    server = ThreadingHTTPServer(("127.0.0.1", port), trial.handler())
    print(f"trial server ({tutor.mode}) on http://127.0.0.1:{port}; transcripts in {transcripts}", flush=True)
    server.serve_forever()


def say(name: str, message: str, port: int, timeout: float) -> int:
    data = json.dumps({"name": name, "message": message}).encode("utf-8")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            row = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        print(json.loads(exc.read()).get("error", exc), file=sys.stderr)
        return 2
    except urllib.error.URLError as exc:
        print(f"No trial server on port {port} ({exc.reason}): start one with "
              f"`python -m tutor.evaluation.trial serve`.", file=sys.stderr)
        return 2
    print(row["tutor"])
    for c in row["citations"]:
        print(f"  [{c['n']}] {c['title']}")
        if c.get("text"):
            print(textwrap.indent(textwrap.fill(c["text"], 96), "      "))
    if row.get("notice"):
        print(f"  (notice: {row['notice']})")
    return 0


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tally(folder: Path) -> dict[str, Any]:
    """The trial's figures from its transcripts and scores (every scored reply counts once)."""
    scores = [row for path in sorted((folder / "scores").glob("*.jsonl")) for row in _rows(path)]
    turns = [row for path in sorted(folder.glob("*.jsonl")) for row in _rows(path)]
    if not scores:
        raise ValueError(f"No scores under {folder / 'scores'}: a scorer writes scores/NAME.jsonl, one line a reply.")
    judged = [s for s in scores if s.get("verdict") in ("correct", "wrong", "missing")]
    total = lambda key: sum(int(s.get(key) or 0) for s in scores)  # noqa: E731
    share = lambda n, d: round(n / d, 3) if d else None  # noqa: E731
    return {
        "conversations": len(list((folder / "scores").glob("*.jsonl"))), "replies": len(scores),
        "judged": len(judged), "wrong_verdicts": sum(s["verdict"] == "wrong" for s in judged),
        "missing_verdicts": sum(s["verdict"] == "missing" for s in judged),
        "false_claims": total("false_claims"), "false_corrected": total("false_corrected"),
        "false_praised": total("false_praised"), "true_called_wrong": total("true_called_wrong"),
        "questions": total("questions"), "questions_answered": total("questions_answered"),
        "follows": share(sum(bool(s.get("follows")) for s in scores), len(scores)),
        "repeats": share(sum(bool(s.get("repeats")) for s in scores), len(scores)),
        "factual_errors": sum(bool(s.get("factual_error")) for s in scores),
        "naturalness": share(sum(float(s.get("naturalness") or 0) for s in scores), len(scores)),
        "model_replies": share(sum(t.get("mode") not in (None, "offline") for t in turns), len(turns)),
        **guard_tally(turns),
    }


def guard_tally(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """What the guards did over a trial's transcripts (turns a model was asked about): how many
    replies were regenerated, how often each guard refused a reply, and how many turns fell back
    to the offline tutor. Each refusal is one line of ``refusals`` to read against the brief."""
    logged = [t for t in turns if t.get("guards")]
    refusals = [r for t in logged for r in t["guards"]["refusals"]]
    return {"guarded_turns": len(logged),
            "regenerations": sum(max(0, t["guards"]["attempts"] - 1) for t in logged),
            "guard_refusals": dict(Counter(r["guard"] for r in refusals).most_common()),
            "fallbacks": sum(t["guards"]["final"] == "offline" for t in logged),
            # Findings the model set aside as misreadings of the student (each to read in the review).
            "misreadings_named": sum(len(t.get("misread") or []) for t in turns)}


def replay(folder: Path, out: Path, names: list[str]) -> int:
    """Each transcript's student messages, said again to a fresh tutor: the old and new replies side by side.

    A trial's students are training data once scored: replaying them shows what a change did to
    the same messages before a new blind trial judges it.
    """
    from tutor.services import build

    server = TrialServer(build().tutor, out)
    for path in sorted(folder.glob("*.jsonl")):
        if names and path.stem not in names:
            continue
        for row in _rows(path):
            new = server.say(path.stem, row["student"])
            print(f"## {path.stem} {row['turn']}\nSTUDENT: {row['student']}\nBEFORE:  {row['tutor']}\n"
                  f"AFTER:   {new['tutor']}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.evaluation.trial", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="hold a tutor open on 127.0.0.1")
    s.add_argument("--transcripts", type=Path, required=True, help="folder for NAME.jsonl transcripts")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    c = sub.add_parser("say", help="send one student message; prints the tutor's reply")
    c.add_argument("name", help="the conversation's name (one per simulated student)")
    c.add_argument("message")
    c.add_argument("--port", type=int, default=DEFAULT_PORT)
    c.add_argument("--timeout", type=float, default=900.0)
    t = sub.add_parser("tally", help="the figures of a scored trial folder")
    t.add_argument("folder", type=Path)
    r = sub.add_parser("replay", help="say a trial's student messages again to a fresh tutor")
    r.add_argument("folder", type=Path, help="a trial folder of NAME.jsonl transcripts")
    r.add_argument("--out", type=Path, required=True, help="folder for the new transcripts")
    r.add_argument("--only", action="append", default=[], metavar="NAME", help="only this conversation (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "replay":
        return replay(args.folder, args.out, args.only)
    if args.command == "tally":
        try:
            print(json.dumps(tally(args.folder), indent=2))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        return 0
    if args.command == "serve":
        serve(args.transcripts, args.port)
        return 0
    return say(args.name, args.message, args.port, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
