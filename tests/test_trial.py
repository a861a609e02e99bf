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
