"""Questions are embedded in NumPy (tutor/minilm_numpy.py) without loading torch: the same
vectors sentence-transformers gives, so they search the chunks it embedded."""

from __future__ import annotations

import numpy as np

from tutor.embeddings import QUICK_BATCH, MiniLMEmbeddings

TEXTS = ["Why did Stalin win the power struggle?", "x", "Троцкий — 1927", "Lenin's Testament (1922–23) called "
         "Stalin too rude, and Trotsky was ill in the autumn of 1923; " * 20]


def test_numpy_query_vectors_are_sentence_transformers_vectors():
    fresh = MiniLMEmbeddings()
    quick = [fresh.embed_query(t) for t in TEXTS]
    assert not fresh.loaded, "a question does not load torch"
    few = fresh.embed_documents(TEXTS[:2])
    assert not fresh.loaded and len(few) == 2
    reference = MiniLMEmbeddings().embed_documents(TEXTS * (QUICK_BATCH // len(TEXTS) + 1))[:len(TEXTS)]
    for mine, theirs in zip(quick + few, reference + reference[:2]):
        assert float(np.dot(mine, theirs)) > 0.9999
        assert np.allclose(mine, theirs, atol=1e-5)
