"""The real OpenAI client (langchain-openai's ChatOpenAI from ``tutor.llm.chat_model``) against a
small OpenAI-compatible server on 127.0.0.1: answers over JSON and SSE work, and every kind of
server failure answers the turn offline with a notice, losing nothing."""

from __future__ import annotations

import pytest

from fakes import scripted_reading
from openai_server import FakeOpenAIServer, openai_server  # noqa: F401 - a fixture
from tutor.services import CONFIGURED, build
from tutor.engine import Tutor
from tutor.llm import chat_model
from tutor.settings import load_settings
from tutor.store import Store

SCRIPTED = "Look again at passage [1]. Who chose the delegates who voted at the party congresses?"
READING = scripted_reading(SCRIPTED)


def _settings(corpus_home, server: FakeOpenAIServer):
    # Tiny timeouts and no retries: each fault shows at once.
    return load_settings(home=corpus_home, llm_base_url=server.base_url, llm_model="fake-model",
                         llm_timeout=0.5, llm_connect_timeout=0.5, llm_max_retries=0, rate_limit_per_minute=0)


def _tutor(settings, embedder, model=CONFIGURED) -> Tutor:
    return build(settings, store=Store(settings, embedder), chat_model=model).tutor


def test_structured_reply(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script(f"auto:{READING}")
    settings = _settings(corpus_home, openai_server)
    tutor = _tutor(settings, embedder)
    assert settings.resolved_llm() == "openai-compatible"
    session = tutor.new_session()
    reply = tutor.reply(session, "why did stalin win")
    assert reply.text == SCRIPTED and reply.mode == "fake-model" and reply.notice is None
    [request] = openai_server.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert not body["stream"] and body["model"] == "fake-model"
    assert body["response_format"]["json_schema"]["name"] == "Reading"
    assert body["messages"][0]["role"] == "system"
    assert "<course_passages>" in body["messages"][-1]["content"]
    assert session.history[-1]["content"] == SCRIPTED


def test_structured_reply_from_a_model_that_never_streams(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script(f"json:{READING}")
    settings = _settings(corpus_home, openai_server)
    model = chat_model(settings).model_copy(update={"streaming": False, "disable_streaming": True})
    tutor = _tutor(settings, embedder, model)
    reply = tutor.reply(tutor.new_session(), "why did stalin win")
    assert reply.text == SCRIPTED and reply.mode == "fake-model" and reply.notice is None
    assert not openai_server.requests[0]["body"].get("stream")


@pytest.mark.parametrize("behaviour, words", [
    ("status:500", "returned an error (500)"),
    ("status:429", "busy"),
    ("slow:3", "took too long"),
    ("malformed", "could not read"),
    ("cut", "cut off"),
    ("json", "failed the tutor's checks (schema)"),  # a server that ignores the request for JSON
    ("sse", "could not read"),  # a server that streams when asked for one JSON object
])
def test_server_faults_answer_offline_with_a_notice(openai_server, corpus_home, embedder, behaviour, words):  # noqa: F811
    openai_server.script(behaviour)
    tutor = _tutor(_settings(corpus_home, openai_server), embedder)
    session = tutor.new_session()
    reply = tutor.reply(session, "what was the lenin enrolment")
    assert reply.mode == "offline"
    assert "offline course-materials tutor" in reply.notice and words in reply.notice
    assert reply.text.rstrip().endswith("?") and reply.citations
    assert [t["role"] for t in session.history] == ["user", "assistant"]
    assert session.history[0]["content"] == "what was the lenin enrolment"
    # No retries (max_retries is 0, a fault is not a failed check); an answer that is not the JSON is regenerated once.
    assert len(openai_server.requests) == (2 if behaviour == "json" else 1)


def test_recovers_when_the_server_comes_back(openai_server, corpus_home, embedder):  # noqa: F811
    openai_server.script("status:500", f"json:{READING}")
    tutor = _tutor(_settings(corpus_home, openai_server), embedder)
    session = tutor.new_session()
    assert tutor.reply(session, "why did stalin win").mode == "offline"
    assert tutor.reply(session, "was it his posts?").mode == "fake-model"
    assert len(session.history) == 4
