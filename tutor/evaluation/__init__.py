"""Evaluation: retrieval quality, tutor behaviour, an optional LLM judge and the essay coach.

Example::

    from tutor.evaluation.datasets import load_questions
    from tutor.evaluation.retrieval_eval import run_retrieval
    result = run_retrieval(Retriever(store), load_questions(path), k=5)
    result["methods"]["hybrid"]["recall@5"]
    # → 0.93

The command line is ``tutor eval`` (tutor/evaluation/cli.py); docs/evaluation.md describes the
data formats, the checkers and the metrics.
"""
