"""Retrieval metrics (via ranx), gold-term relevance and latency percentiles.

>>> is_relevant("Lenin's ban on factions after Kronstadt", [["ban on factions"], ["Kronstadt"]])
True
>>> ranking_metrics({"q1": {"a": 1}}, {"q1": ["x", "a"]}, k=5)["mean"]
{'recall@5': 1.0, 'mrr@10': 0.5, 'ndcg@10': 0.6309}

``recall@k`` is the hit rate: the share of questions with at least one relevant passage in the
top k (what a student feels: did the tutor find something useful?). MRR@10 scores the rank of
the first relevant passage; nDCG@10 rewards putting *all* relevant passages high, with every
live chunk in the store that meets the gold terms as the ideal list.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np

DEPTH = 10  # MRR and nDCG cut-off


def is_relevant(text: str, gold_terms: Sequence[Sequence[str]]) -> bool:
    """True when ``text`` holds at least one alternative of every inner list (case-insensitive)."""
    low = text.lower()
    return bool(gold_terms) and all(any(t.lower() in low for t in group) for group in gold_terms)


def build_qrels(questions: Iterable, passages: Iterable) -> dict[str, dict[str, int]]:
    """question id → {passage id: 1} for every passage meeting the question's gold terms.

    ``passages`` need ``id`` and ``search_text`` (title, section and text: what is indexed)."""
    passages = list(passages)
    texts = [(p.id, p.search_text.lower()) for p in passages]
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        groups = [[t.lower() for t in g] for g in q.gold_terms]
        qrels[q.id] = {pid: 1 for pid, low in texts if all(any(t in low for t in g) for g in groups)}
    return qrels


def first_relevant_rank(ranked: Sequence[str], relevant: Mapping[str, int] | set[str]) -> int | None:
    """1-based rank of the first relevant id, or None."""
    for rank, pid in enumerate(ranked, start=1):
        if pid in relevant:
            return rank
    return None


def ranking_metrics(qrels: Mapping[str, Mapping[str, int]], runs: Mapping[str, Sequence[str]],
                    k: int) -> dict:
    """Mean and per-question recall@k (hit rate), MRR@10 and nDCG@10, computed by ranx.

    Questions with no relevant passage anywhere count as misses (0 on every metric), so a
    question the corpus cannot answer lowers every method equally instead of vanishing.
    """
    names = {f"hit_rate@{k}": f"recall@{k}", f"mrr@{DEPTH}": f"mrr@{DEPTH}", f"ndcg@{DEPTH}": f"ndcg@{DEPTH}"}
    qids = list(runs)
    per_q: dict[str, dict[str, float]] = {q: {n: 0.0 for n in names.values()} for q in qids}
    judged = [q for q in qids if qrels.get(q)]
    if judged:
        from ranx import Qrels, Run, evaluate

        # Scores 1/rank keep the method's order exactly (ranx sorts by score).
        run = {q: {pid: 1.0 / r for r, pid in enumerate(runs[q][:max(k, DEPTH)], start=1)} or {"__none__": 0.0}
               for q in judged}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's cast warnings from inside ranx
            scores = evaluate(Qrels({q: dict(qrels[q]) for q in judged}), Run(run), list(names),
                              return_mean=False, make_comparable=True)
        for metric, name in names.items():
            for q, v in zip(judged, np.atleast_1d(scores[metric])):
                per_q[q][name] = float(v)
    n = len(qids) or 1
    mean = {name: round(sum(per_q[q][name] for q in qids) / n, 4) for name in names.values()}
    return {"mean": mean, "per_question": per_q}


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default); 0.0 for no values."""
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=float), p))


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values_ms, 50), 1), "p95_ms": round(percentile(values_ms, 95), 1)}
