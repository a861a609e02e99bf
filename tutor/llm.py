"""Chat models from settings: OpenAI, any OpenAI-compatible server, or a local GGUF (optional).

Example::

    model = chat_model(load_settings(llm_base_url="http://127.0.0.1:11434/v1", llm_model="qwen2.5"))
    text = complete(model, messages)

An OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, LM Studio) is configuration, not
code: a base URL and a placeholder key. Every failure a model can have is raised as one of
``MODEL_ERRORS`` so the engine can answer that turn offline.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import httpx
import httpx2
import openai
from langchain_core.exceptions import ModelError
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from tutor.errors import ConfigError, ModelUnavailable
from tutor.settings import Settings

# Every way a model call can fail that should send the turn to the offline composer.
MODEL_ERRORS: tuple[type[BaseException], ...] = (
    openai.APIError,            # connection, timeout, 4xx/5xx incl. 429, malformed responses
    ModelError,                 # langchain-core's provider-neutral categories
    httpx2.TransportError,      # a stream cut part-way (openai >= 3 runs on httpx2)
    httpx.TransportError,
    ModelUnavailable,           # our own: empty or unfinished replies
    json.JSONDecodeError,       # a server that streams data lines which are not JSON
)


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kinds):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def describe_error(exc: BaseException) -> str:
    """A short, student-safe description of a model failure."""
    if isinstance(exc, openai.RateLimitError):
        return "the model service is busy (rate limited)"
    if isinstance(exc, openai.APITimeoutError):
        return "the model took too long to answer"
    if isinstance(exc, openai.APIConnectionError):
        # The client reports a stream dropped mid-reply as a connection error too.
        if _caused_by(exc, (httpx2.RemoteProtocolError, httpx.RemoteProtocolError, httpx2.ReadError, httpx.ReadError)):
            return "the model's reply was cut off"
        return "the model service cannot be reached"
    if isinstance(exc, openai.APIStatusError):
        return f"the model service returned an error ({exc.status_code})"
    if isinstance(exc, (httpx2.TransportError, httpx.TransportError)):
        return "the model's reply was cut off"
    if isinstance(exc, ModelUnavailable):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return "the model service sent a reply the tutor could not read"
    return "the model service failed"


def chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None for the offline tutor."""
    backend = settings.resolved_llm()
    if backend == "offline":
        return None
    if backend in ("openai", "openai-compatible"):
        from langchain_openai import ChatOpenAI

        key = settings.api_key()
        if backend == "openai" and not key and not settings.llm_base_url:
            raise ConfigError("TUTOR_LLM=openai needs OPENAI_API_KEY. Set it, or use TUTOR_LLM=offline.")
        return ChatOpenAI(
            model=settings.llm_model,
            # Local servers ignore the key, but the client insists on one.
            api_key=key or "not-needed",
            base_url=settings.llm_base_url or None,
            # No single read may outlast the turn's budget: an abandoned call ends soon after it.
            timeout=openai.Timeout(min(settings.llm_timeout, settings.llm_turn_budget),
                                   connect=settings.llm_connect_timeout),
            max_retries=settings.llm_max_retries,
            streaming=True,
            temperature=0.3,
            # Room for the turn's structured Reading (claims, points, reply); a plain reply is short anyway.
            max_tokens=1200,
        )
    if backend == "llamacpp":
        if not settings.llm_model_path:
            raise ConfigError("TUTOR_LLM=llamacpp needs TUTOR_LLM_MODEL_PATH pointing at a .gguf file.")
        return LlamaCppChat(model_path=str(settings.llm_model_path))
    raise ConfigError(f"Unknown TUTOR_LLM={backend!r}.")


def model_name(model: BaseChatModel | None, settings: Settings) -> str:
    if model is None:
        return "offline"
    return str(getattr(model, "model_name", None) or getattr(model, "model", None) or settings.llm_model)


def complete(model: BaseChatModel, messages: list[BaseMessage],
             should_stop: Callable[[], bool] | None = None) -> str:
    """Stream a reply to the end and return its text. A stream that stops without a finish
    reason, or an empty reply, raises ModelUnavailable; so does ``should_stop()`` turning true
    (the turn's deadline passed) between two pieces of the stream."""
    parts: list[str] = []
    finished = False
    try:
        for chunk in model.stream(messages):
            if should_stop is not None and should_stop():
                raise ModelUnavailable("the model took too long to answer")
            if isinstance(chunk.content, str):
                parts.append(chunk.content)
            meta = getattr(chunk, "response_metadata", {}) or {}
            if meta.get("finish_reason") or meta.get("done"):
                finished = True
    except ValueError as exc:
        # langchain-core's "No generation chunks were returned" (a server that ignored the
        # stream request, or sent nothing) and unreadable data lines are model failures too.
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise ModelUnavailable("the model service sent no usable reply") from exc
    text = "".join(parts).strip()
    if not text:
        raise ModelUnavailable("the model returned an empty reply")
    if not finished:
        raise ModelUnavailable("the model's reply was cut off")
    return text


def probe(settings: Settings) -> tuple[bool, str]:
    """One tiny call, for `tutor doctor`."""
    from langchain_core.messages import HumanMessage

    try:
        model = chat_model(settings)
        if model is None:
            return True, "offline"
        complete(model, [HumanMessage("Reply with the single word OK.")])
        return True, f"{model_name(model, settings)} answers"
    except MODEL_ERRORS as exc:
        return False, f"{settings.llm_model} at {settings.llm_base_url or 'OpenAI'}: {describe_error(exc)}"
    except ConfigError as exc:
        return False, str(exc)


class LlamaCppChat(BaseChatModel):
    """A GGUF model in process via llama-cpp-python (``pip install .[local]``). Never the default."""

    model_path: str
    n_ctx: int = 8192
    max_tokens: int = 1200
    temperature: float = 0.3
    _llama: Any = None

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def model(self) -> str:
        return self.model_path.rsplit("/", 1)[-1]

    def _client(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ConfigError("TUTOR_LLM=llamacpp needs the optional extra: pip install '.[local]'") from exc
            object.__setattr__(self, "_llama", Llama(model_path=self.model_path, n_ctx=self.n_ctx, verbose=False))
        return self._llama

    @staticmethod
    def _convert(messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = "".join(c.message.content for c in self._stream(messages, stop=stop))
        from langchain_core.messages import AIMessage

        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        for part in self._client().create_chat_completion(
            messages=self._convert(messages), stream=True, stop=stop,
            max_tokens=self.max_tokens, temperature=self.temperature,
        ):
            choice = part["choices"][0]
            delta = choice.get("delta", {}).get("content") or ""
            finish = choice.get("finish_reason")
            yield ChatGenerationChunk(message=AIMessageChunk(
                content=delta, response_metadata={"finish_reason": finish} if finish else {}))
