"""Chunk-size sweep: ingest the corpus at several sizes and measure every method on each.

Example::

    rows = sweep_chunking(Path("corpus/sources"), questions, sizes=[600, 900, 1200])
    rows[0]["size"], rows[0]["methods"]["hybrid"]["recall@5"]
    # → (600, 0.92)

Each size gets its own throw-away TUTOR_HOME, so the user's store is never touched. This is how
the TUTOR_CHUNK_SIZE / TUTOR_CHUNK_OVERLAP defaults were chosen (docs/retrieval.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Sequence

from tutor.errors import TutorError
from tutor.evaluation.datasets import Question
from tutor.evaluation.retrieval_eval import run_retrieval
from tutor.retrieval import METHODS, RRF_K, Retriever
from tutor.settings import Settings, load_settings


def overlap_for(size: int, ratio: float) -> int:
    """The overlap for a chunk size, rounded to 10 characters (0.125 of 1200 is 150, of 900 is 110)."""
    return int(round(size * ratio / 10.0) * 10)


def build_store(sources: Path, home: Path, size: int, overlap: int, embedder=None):
    """A store under ``home`` holding ``sources`` chunked at ``size``/``overlap``."""
    from tutor.auth import local_operator
    from tutor.embeddings import get_embedder
    from tutor.library import Library
    from tutor.store import Store

    settings: Settings = load_settings(home=home, chunk_size=size, chunk_overlap=overlap)
    store = Store(settings, embedder or get_embedder(settings))
    if store.count() == 0:
        results = Library(store).ingest_paths(local_operator(), [sources])
        failed = [r.line() for r in results if not r.ok]
        if failed:
            raise TutorError("The sweep could not ingest: " + "; ".join(failed))
    return store


def sweep_chunking(sources: Path, questions: list[Question], *, sizes: Sequence[int], overlap_ratio: float = 0.125,
                   rrf_ks: Sequence[int] = (RRF_K,), k: int = 5, methods: Sequence[str] = METHODS,
                   workdir: Path | None = None, embedder=None,
                   on_progress: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """One row per chunk size × RRF constant: size, overlap, chunk count and each method's metrics.

    Dense and BM25 do not depend on the RRF constant, so after the first constant only the hybrid
    method is run again."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tutor-sweep-") as tmp:
        base = Path(workdir) if workdir else Path(tmp)
        for size in sizes:
            overlap = overlap_for(size, overlap_ratio)
            if on_progress:
                on_progress(f"ingesting at {size}/{overlap}", 0, 0)
            store = build_store(sources, base / f"size-{size}-{overlap}", size, overlap, embedder)
            for i, rrf_k in enumerate(rrf_ks):
                wanted = list(methods) if i == 0 else [m for m in methods if m == "hybrid"]
                if not wanted:
                    continue
                result = run_retrieval(Retriever(store, rrf_k=rrf_k), questions, k=k, methods=wanted,
                                       on_progress=on_progress)
                rows.append({"size": size, "overlap": overlap, "n_chunks": store.count(), "rrf_k": rrf_k,
                             "methods": result["methods"]})
    return rows


def sweep_markdown(rows: list[dict], k: int = 5) -> str:
    """The sweep as a Markdown table: one line per size × RRF constant × method."""
    lines = [f"| chunk size / overlap | chunks | RRF k | method | recall@{k} | MRR@10 | nDCG@10 | p50 ms | p95 ms |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        for method, m in row["methods"].items():
            lines.append(f"| {row['size']} / {row['overlap']} | {row['n_chunks']} | "
                         f"{row['rrf_k'] if method == 'hybrid' else '–'} | {method} | {m[f'recall@{k}']:.3f} | "
                         f"{m['mrr@10']:.3f} | {m['ndcg@10']:.3f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |")
    return "\n".join(lines)
