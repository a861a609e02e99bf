"""The blind-trial server: a conversation held over loopback HTTP, every turn in a transcript."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from tutor.evaluation.trial import TrialServer, main
from tutor.services import build
from tutor.settings import load_settings
from tutor.store import Store


@pytest.fixture(scope="module")
def trial(corpus_home, embedder, tmp_path_factory):
    settings = load_settings(home=corpus_home, llm="offline", rate_limit_per_minute=0)
    tutor = build(settings, store=Store(settings, embedder), chat_model=None).tutor
    server = TrialServer(tutor, tmp_path_factory.mktemp("transcripts"))
    http = ThreadingHTTPServer(("127.0.0.1", 0), server.handler())
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield server, http.server_address[1]
    http.shutdown()


def test_a_named_conversation_keeps_its_context_and_writes_a_transcript(trial, capsys):
    server, port = trial
    assert main(["say", "maya", "why was trotsky expelled from the party?", "--port", str(port)]) == 0
    first = capsys.readouterr().out
    assert first.strip()
    assert main(["say", "maya", "i dont know", "--port", str(port)]) == 0
    rows = [json.loads(line) for line in (server.transcripts / "maya.jsonl").read_text().splitlines()]
    assert [r["turn"] for r in rows] == [1, 2]
    assert rows[0]["student"] == "why was trotsky expelled from the party?"
    assert rows[0]["tutor"].strip() == first.splitlines()[0].strip()
    assert len(server.sessions["maya"].history) == 4


def test_a_bad_name_is_refused_with_a_message(trial, capsys):
    _, port = trial
    assert main(["say", "../etc", "hello", "--port", str(port)]) == 2
    assert "conversation name" in capsys.readouterr().err


def test_no_server_says_how_to_start_one(capsys):
    assert main(["say", "maya", "hello", "--port", "9", "--timeout", "2"]) == 2
    assert "trial serve" in capsys.readouterr().err


def test_tally_counts_the_scorers_lines(tmp_path, capsys):
    (tmp_path / "scores").mkdir()
    (tmp_path / "a.jsonl").write_text(json.dumps({"turn": 1, "mode": "offline"}) + "\n"
                                      + json.dumps({"turn": 2, "mode": "relay"}) + "\n")
    lines = [{"turn": 1, "verdict": "wrong", "false_claims": 1, "false_praised": 1, "follows": False,
              "naturalness": 2}, {"turn": 2, "verdict": "none", "questions": 1, "questions_answered": 1,
                                  "follows": True, "naturalness": 4}]
    (tmp_path / "scores" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert main(["tally", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["judged"] == 1 and figures["wrong_verdicts"] == 1 and figures["false_praised"] == 1
    assert figures["follows"] == 0.5 and figures["naturalness"] == 3.0 and figures["model_replies"] == 0.5


def test_tally_without_scores_says_what_is_missing(tmp_path, capsys):
    assert main(["tally", str(tmp_path)]) == 2
    assert "scores/NAME.jsonl" in capsys.readouterr().err


def test_replay_says_a_trials_messages_again_to_a_fresh_tutor(corpus_home, tmp_path, monkeypatch, capsys):
    """The scored trials are training data: `replay` sends each transcript's student messages to the
    current tutor and prints the old reply beside the new one."""
    folder = tmp_path / "trial"
    folder.mkdir()
    (folder / "ansel.jsonl").write_text(json.dumps({"turn": 1, "student": "who was Kirov?", "tutor": "OLD REPLY"}) + "\n"
                                        + json.dumps({"turn": 2, "student": "and when was that?", "tutor": "OLD 2"}) + "\n")
    (folder / "other.jsonl").write_text(json.dumps({"turn": 1, "student": "hello", "tutor": "x"}) + "\n")
    monkeypatch.setenv("TUTOR_HOME", str(corpus_home))
    monkeypatch.setenv("TUTOR_LLM", "offline")
    monkeypatch.setenv("TUTOR_RATE_LIMIT_PER_MINUTE", "0")
    out = tmp_path / "replayed"
    assert main(["replay", str(folder), "--out", str(out), "--only", "ansel"]) == 0
    printed = capsys.readouterr().out
    assert "BEFORE:  OLD REPLY" in printed and "AFTER:" in printed and "Kirov" in printed
    rows = [json.loads(line) for line in (out / "ansel.jsonl").read_text().splitlines()]
    assert [r["turn"] for r in rows] == [1, 2] and not (out / "other.jsonl").exists()
