"""Retrieval evaluation: every method over the same questions in one run, side by side.

Example::

    result = run_retrieval(Retriever(store), load_questions(path), k=5)
    {m: r["recall@5"] for m, r in result["methods"].items()}
    # → {'hybrid': 0.95, 'dense': 0.87, 'bm25': 0.9}

Relevance comes from each question's gold terms, judged against every live chunk in the store
(the qrels), so a method is never rewarded for finding the one chunk someone happened to label.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from tutor import embeddings
from tutor.evaluation.datasets import Question
from tutor.evaluation.metrics import DEPTH, build_qrels, first_relevant_rank, latency_summary, ranking_metrics
from tutor.retrieval import METHODS, Retriever

Progress = Callable[[str, int, int], None]


def _forget_query_embeddings() -> None:
    # The embedder caches query vectors; without this, whichever method ran first on a question
    # would pay for embedding it and the others would look faster than a student sees them.
    clear = getattr(getattr(embeddings, "_cached_query", None), "cache_clear", None)
    if clear:
        clear()


def parse_methods(value: str | Sequence[str]) -> list[str]:
    """'hybrid,dense' → ['hybrid', 'dense']; unknown names raise ValueError naming the choices."""
    names = [m.strip() for m in (value.split(",") if isinstance(value, str) else value) if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method(s) {', '.join(unknown) or '(none)'}; use a comma-separated list "
                         f"of {', '.join(METHODS)}")
    return list(dict.fromkeys(names))


def run_retrieval(retriever: Retriever, questions: list[Question], *, k: int = 5,
                  methods: Sequence[str] = METHODS, on_progress: Progress | None = None,
                  cold_queries: bool = True) -> dict:
    """Search every question with every method; return the JSON-ready result.

    ``cold_queries`` embeds each question afresh for every method, so latencies are what a
    student sees; tests that only compare quality turn it off to embed each question once."""
    methods = parse_methods(methods)
    depth = max(k, DEPTH)
    qrels = build_qrels(questions, retriever.store.chunks())
    for method in methods:  # load the model and build the BM25 index outside the timings
        retriever.search("warm up", k=1, method=method)
    runs: dict[str, dict[str, list[str]]] = {m: {} for m in methods}
    timings: dict[str, list[float]] = {m: [] for m in methods}
    per_question: list[dict] = []
    total = len(questions) * len(methods)
    done = 0
    for n, q in enumerate(questions):
        row: dict = {"id": q.id, "question": q.question, "n_relevant": len(qrels[q.id]), "methods": {}}
        for method in methods[n % len(methods):] + methods[:n % len(methods)]:  # rotate who goes first
            if cold_queries:
                _forget_query_embeddings()
            started = time.perf_counter()
            hits = retriever.search(q.question, k=depth, method=method)
            ms = (time.perf_counter() - started) * 1000
            ids = [h.id for h in hits]
            runs[method][q.id] = ids
            timings[method].append(ms)
            row["methods"][method] = {"rank": first_relevant_rank(ids, qrels[q.id]),
                                      "top": [h.doc_id for h in hits[:k]], "ms": round(ms, 1)}
            done += 1
            if on_progress:
                on_progress(method, done, total)
        row["methods"] = {m: row["methods"][m] for m in methods}
        per_question.append(row)
    summary: dict[str, dict] = {}
    for method in methods:
        scores = ranking_metrics(qrels, runs[method], k)
        summary[method] = {**scores["mean"], **latency_summary(timings[method])}
        for row in per_question:
            row["methods"][method].update({n: round(v, 4) for n, v in scores["per_question"][row["id"]].items()})
    return {"k": k, "n_questions": len(questions), "n_chunks": retriever.store.count(),
            "unanswerable": [q.id for q in questions if not qrels[q.id]],
            "methods": summary, "per_question": per_question,
            "latencies_ms": {m: [round(t, 2) for t in timings[m]] for m in methods}}
