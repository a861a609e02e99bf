"""Test doubles for the tutor's language model and embedder. Fakes live only in tests.

``FakeChatModel`` is a real langchain-core ``BaseChatModel`` whose replies are scripted in a
queue (after simonw/llm's ``MockModel.enqueue`` and langchain-core's ``GenericFakeChatModel``):

Example::

    model = FakeChatModel().enqueue("Who chose the congress delegates?")
    complete(model, [HumanMessage("why did stalin win")])
    # → 'Who chose the congress delegates?'
    model.calls[0][0].content
    # → 'why did stalin win'

A queued exception is raised when its turn comes (``openai.APIConnectionError``...), and a
queued ``Truncated("...")`` streams its text and stops without a finish reason, as a cut
connection would. The last queued item repeats once the queue is down to it, so a model can
be given one reply for a whole conversation.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from dataclasses import dataclass
from typing import Any, Iterator

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


@dataclass(frozen=True)
class Truncated:
    """A scripted reply whose stream stops part-way: no finish reason arrives."""

    text: str


class FakeChatModel(BaseChatModel):
    """A scripted chat model: ``enqueue`` replies (text, exceptions, ``Truncated``); every call's
    messages are kept in ``calls`` and its start time (``time.perf_counter``) in ``call_times``.

    ``error`` (if set) is raised on every call; ``replies`` pre-fills the queue.
    """

    replies: list[Any] = Field(default_factory=list)
    error: Any = None
    model_name: str = "fake-model"
    words_per_chunk: int = 2
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_times: list[float] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-chat-model"

    def enqueue(self, *items: Any) -> "FakeChatModel":
        """Add replies to the end of the queue; returns the model for chaining."""
        self.replies.extend(items)
        return self

    def _next(self, messages: list[BaseMessage]) -> str | Truncated:
        self.call_times.append(time.perf_counter())
        self.calls.append(list(messages))
        if self.error is not None:
            raise self.error
        if not self.replies:
            raise AssertionError("FakeChatModel was called with nothing queued")
        item = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(item, BaseException):
            raise item
        return item

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        item = self._next(messages)
        if isinstance(item, Truncated):
            return ChatResult(generations=[ChatGeneration(message=AIMessage(item.text))])
        message = AIMessage(item, response_metadata={"finish_reason": "stop", "model_name": self.model_name})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        item = self._next(messages)
        text = item.text if isinstance(item, Truncated) else item
        pieces = re.split(r"(\s+)", text)
        step = max(1, self.words_per_chunk) * 2
        for start in range(0, len(pieces), step):
            token = "".join(pieces[start:start + step])
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        if not isinstance(item, Truncated):
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", response_metadata={"finish_reason": "stop", "model_name": self.model_name}))

    @property
    def last_prompt(self) -> str:
        """The text of every message in the most recent call, joined (for assertions)."""
        return "\n".join(str(m.content) for m in self.calls[-1]) if self.calls else ""


class FakeEmbeddings(Embeddings):
    """A deterministic stand-in for MiniLM, for unit tests of store, library and retrieval logic
    (after langchain-chroma's ``FakeEmbeddings`` and simonw/llm's ``EmbedDemo``). Each text becomes
    a normalised bag of hashed words, so equal texts get equal vectors and texts sharing words
    are close; it knows nothing of meaning. Never in a product path: the integration tests and
    the app use the real model. ``calls`` keeps every batch embedded.

    >>> fake = FakeEmbeddings()
    >>> a, b = fake.embed_documents(["Stalin General Secretary", "secretary, general: STALIN"])
    >>> round(sum(x * y for x, y in zip(a, b)), 6)
    1.0
    >>> len(fake.embed_query("anything")) == fake.dim
    True
    """

    name = "fake-embeddings"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def _vector(self, text: str) -> list[float]:
        counts = [0.0] * self.dim
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            counts[zlib.crc32(word.encode()) % self.dim] += 1.0
        norm = math.sqrt(sum(c * c for c in counts)) or 1.0
        return [c / norm for c in counts] if any(counts) else [1.0 / math.sqrt(self.dim)] * self.dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def scripted_reading(reply: str, *, claims=(), questions=(), points=(), move: str = "hint") -> str:
    """The JSON a model sends for one turn's Reading (tutor.pedagogy.reading): ``claims`` as
    (text, verdict, evidence, correction[, misread]), ``questions`` as (text, answer), ``points`` as
    (key point id, words). For FakeChatModel queues and the fake OpenAI server's scripts."""
    import json

    return json.dumps({"claims": [{"misread": ""} | dict(zip(("text", "verdict", "evidence", "correction", "misread"), c))
                                  for c in claims],
                       "student_questions": [dict(zip(("text", "answer"), q)) for q in questions],
                       "points_made": [dict(zip(("key_point_id", "words"), p)) for p in points],
                       "move": move, "reply": reply})
