"""Retrieval: reciprocal rank fusion, spelling correction, and hybrid against its two baselines."""

from __future__ import annotations

import pytest

from tutor.evaluation.datasets import load_questions
from tutor.evaluation.retrieval_eval import parse_methods, run_retrieval
from tutor.retrieval import BM25Index, Filters, Retriever, english_words, rrf
from tutor.settings import PROJECT_ROOT
from tutor.store import Passage


def passage(pid: str, text: str, title: str = "") -> Passage:
    return Passage(id=pid, doc_id=pid, title=title or pid, kind="event", text=text,
                   metadata={"doc_id": pid, "title": title or pid, "kind": "event"})


DOCS = [
    passage("gensec", "In April 1922 Stalin became General Secretary of the party.", "Stalin's offices"),
    passage("testament", "Lenin's Testament said Bukharin was the favourite of the whole party.", "The Testament"),
    passage("famine", "Food requisitioning ended with the New Economic Policy in 1921.", "NEP"),
    passage("kronstadt", "The Kronstadt sailors rose in March 1921; the Tenth Congress met at the same time.", "Kronstadt"),
]


def test_rrf_adds_reciprocal_ranks_with_the_given_constant():
    a, b, c = DOCS[0], DOCS[1], DOCS[2]
    fused = rrf([[a, b], [b, c]], k=3, rrf_k=10)
    # b: 1/12 + 1/11 = 0.17424; a: 1/11 = 0.09091; c: 1/12 = 0.08333
    assert [p.id for p in fused] == ["testament", "gensec", "famine"]
    assert fused[0].score == pytest.approx(1 / 12 + 1 / 11)
    assert [p.id for p in rrf([[a, b], [b, c]], k=1, rrf_k=10)] == ["testament"]


def test_misspelled_names_are_corrected_to_corpus_words():
    if not english_words():
        pytest.skip("the MiniLM vocabulary (English word list) is not installed")
    index = BM25Index(DOCS, version=1)
    assert index.spelling_fixes("when did stallin become general secertary") == {"stallin": "stalin",
                                                                               "secertary": "secretary"}
    assert index.spelling_fixes("what did the testement say about bukarin") == {"testement": "testament",
                                                                               "bukarin": "bukharin"}
    assert index.corrected("Stallin's job") == "stalin's job"
    hits = index.search("what did lenins testement say about bukarin", 2, Filters())
    assert hits and hits[0].id == "testament"


def test_real_words_and_different_first_letters_are_left_alone():
    if not english_words():
        pytest.skip("the MiniLM vocabulary (English word list) is not installed")
    index = BM25Index(DOCS, version=1)
    # 'flood' is one letter from the corpus word 'food' but is English; 'actualy' is a typo whose
    # nearest corpus word would start with another letter; 'wat' is too short to guess.
    assert index.spelling_fixes("did they flood the party, actualy, wat") == {}
    assert index.search("flood", 3, Filters()) == []


def test_correction_can_be_switched_off():
    index = BM25Index(DOCS, version=1)
    assert index.search("stallin", 3, Filters(), correct=False) == []


def test_parse_methods_names_the_choices():
    assert parse_methods("bm25, hybrid,bm25") == ["bm25", "hybrid"]
    with pytest.raises(ValueError, match="hybrid, dense, bm25"):
        parse_methods("hybrid,sparse")


def test_hybrid_beats_both_baselines_on_the_project_questions(corpus_store):
    """The reason hybrid is the default (docs/retrieval.md): better than dense-only and BM25-only
    on both the hit rate and the rank of the first relevant passage."""
    questions = load_questions(PROJECT_ROOT / "corpus" / "eval" / "questions.jsonl")
    result = run_retrieval(Retriever(corpus_store), questions, k=5, cold_queries=False)
    m = result["methods"]
    assert result["n_questions"] == len(questions) >= 100
    for baseline in ("dense", "bm25"):
        assert m["hybrid"]["recall@5"] > m[baseline]["recall@5"], m
        assert m["hybrid"]["mrr@10"] > m[baseline]["mrr@10"], m
    assert m["hybrid"]["recall@5"] >= 0.85, m
