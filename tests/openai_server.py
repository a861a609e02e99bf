"""A tiny OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1 with scripted faults.

The tutor talks to any OpenAI-compatible server through the real ``openai`` client (which runs
on httpx2, so HTTP mocking libraries do not see it); this server gives tests the real wire:

Example::

    with FakeOpenAIServer() as server:
        server.script("sse:Who chose the delegates?", "status:500")
        settings = load_settings(llm_base_url=server.base_url, llm_max_retries=0)
        complete(chat_model(settings), messages)                           # streamed SSE
        complete(chat_model(settings), messages)                           # raises InternalServerError

Behaviours, one per request in the order scripted (the last one repeats; "auto" by default):

``auto:<text>``      SSE when the request asks to stream, else JSON
``json:<text>``      one JSON completion
``sse:<text>``       a streamed completion ending with ``data: [DONE]``
``status:<code>``    an OpenAI-style error body with that HTTP status (500, 429 ...)
``slow:<seconds>``   sleeps before answering (past the client's timeout): a hanging server
``trickle:<seconds>`` a streamed completion that sends one word every <seconds> (each read is
                     quick, so only an overall deadline stops it)
``malformed``        a 200 response whose body is not valid JSON (or SSE data that is not)
``cut:<text>``       a chunked stream that stops part-way: no finish reason, no [DONE], and
                     the connection closed mid-body
``tool:<json>``      one JSON completion whose answer is a call of the request's first tool with
                     these arguments (structured output by function calling)

For structured output (a request with ``response_format``) the text is the JSON object itself:
``json:{"claims": [], ...}``; ``respond(body)`` may compute it from the request instead.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

DEFAULT_TEXT = "Look at passage [1]: who chose the delegates who voted at the congresses?"


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        return

    def handle(self) -> None:
        owner = self.server.owner
        with owner._lock:
            owner._connections.add(self.connection)
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            pass  # the client hung up (timeouts, cut streams), or the server stopped: nothing left to serve
        finally:
            with owner._lock:
                owner._connections.discard(self.connection)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        owner = self.server.owner
        behaviour = owner._take(self.path, body, dict(self.headers))
        kind, _, arg = behaviour.partition(":")
        text = owner.respond(body) if owner.respond is not None else owner.text
        try:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, "not found")
            elif kind == "status":
                self._error(int(arg), "scripted failure")
            elif kind == "slow":
                if not owner.stopping.wait(float(arg or 5)):
                    self._json(owner.text)
            elif kind == "trickle":
                self._sse_raw(self._pieces(owner.text, body.get("model", "fake"))
                              + [self._chunk({}, "stop", body.get("model", "fake")), b"data: [DONE]\n\n"],
                              pause=float(arg or 1))
            elif kind == "malformed":
                if body.get("stream"):
                    self._sse_raw([b"data: {this is not json\n\n", b"data: [DONE]\n\n"])
                else:
                    self._send(200, b"{this is not json", "application/json")
            elif kind == "tool":
                self._tool(arg or text, body)
            elif kind == "cut":
                self._cut(arg or text, body.get("model", "fake"))
            elif kind == "json" or (kind == "auto" and not body.get("stream")):
                self._json(arg or text, body.get("model", "fake"))
            else:  # sse, or auto with stream requested
                self._sse(arg or text, body.get("model", "fake"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    # -- responses ---------------------------------------------------------------------------
    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str) -> None:
        body = {"error": {"message": message, "type": "server_error" if status >= 500 else "rate_limit_exceeded",
                          "code": str(status)}}
        self._send(status, json.dumps(body).encode(), "application/json")

    def _json(self, text: str, model: str = "fake") -> None:
        body = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
        self._send(200, json.dumps(body).encode(), "application/json")

    def _tool(self, arguments: str, request: dict) -> None:
        name = ((request.get("tools") or [{}])[0].get("function") or {}).get("name", "tool")
        call = {"id": "call_fake", "type": "function", "function": {"name": name, "arguments": arguments}}
        body = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "fake"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                             "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
        self._send(200, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _chunk(delta: dict, finish: str | None, model: str) -> bytes:
        data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(data)}\n\n".encode()

    def _pieces(self, text: str, model: str) -> list[bytes]:
        words = text.split(" ")
        out = [self._chunk({"role": "assistant", "content": ""}, None, model)]
        out += [self._chunk({"content": w if i == 0 else " " + w}, None, model) for i, w in enumerate(words)]
        return out

    def _sse(self, text: str, model: str) -> None:
        self._sse_raw(self._pieces(text, model) + [self._chunk({}, "stop", model), b"data: [DONE]\n\n"],
                      pause=self.server.owner.token_delay)

    def _sse_raw(self, events: list[bytes], pause: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            if pause:
                self.wfile.flush()
                if self.server.owner.stopping.wait(pause):
                    return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self, text: str, model: str) -> None:
        """Half the events, then the socket closes in the middle of the chunked body."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = self._pieces(text, model)
        for event in events[: max(2, len(events) // 2)]:
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
        self.wfile.write(b"400\r\ndata: {\"partial")  # a chunk announced but never finished
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: "FakeOpenAIServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # scripted faults make broken connections on purpose; keep test output clean


class FakeOpenAIServer:
    """The scripted server. ``script(...)`` sets behaviours; ``requests`` records each request
    as ``{"path", "body", "headers"}``; ``base_url`` is what TUTOR_LLM_BASE_URL takes.

    ``respond(body)`` (optional) computes the reply text from each request (the load benchmark
    answers with the question the tutor asked for); ``token_delay`` spaces streamed words."""

    def __init__(self, text: str = DEFAULT_TEXT, *, respond: Callable[[dict], str] | None = None,
                 token_delay: float = 0.0):
        self.text = text
        self.respond = respond
        self.token_delay = token_delay
        self.requests: list[dict[str, Any]] = []
        self._script: list[str] = ["auto"]
        self._lock = threading.Lock()
        # Set on stop, so a trickling or sleeping response ends with the test.
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Open keep-alive connections: closed on stop, so a stopped server answers nothing more.
        self._connections: set[socket.socket] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *behaviours: str) -> "FakeOpenAIServer":
        with self._lock:
            self._script = list(behaviours) or ["auto"]
        return self

    def _take(self, path: str, body: dict, headers: dict) -> str:
        with self._lock:
            self.requests.append({"path": path, "body": body, "headers": headers})
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def start(self) -> "FakeOpenAIServer":
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)  # port 0: a free port
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A started server on a free port, stopped after the test (import it into a test module)."""
    with FakeOpenAIServer() as server:
        yield server


def served(server: FakeOpenAIServer, home, embedder, **overrides):
    """The app's services (tutor, essay coach, source coach) on the corpus in ``home``, talking to
    ``server`` through the real client, with no retries and no rate limit."""
    from tutor.services import CONFIGURED, build
    from tutor.settings import load_settings
    from tutor.store import Store

    settings = load_settings(**{"home": home, "llm_base_url": server.base_url, "llm_model": "fake-model",
                                "llm_timeout": 10, "llm_max_retries": 0, "rate_limit_per_minute": 0, **overrides})
    return build(settings, store=Store(settings, embedder), chat_model=CONFIGURED)
