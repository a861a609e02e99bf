"""Vectors of fixed texts kept on disk under TUTOR_HOME, so a new process does not embed them again.

A lesson card's key-point statements are embedded on the first turn about the card to judge how
close the student came to each, and an answer embeds a dozen candidate sentences of the passages
found; in a one-question ``tutor ask`` that was up to 18 forward passes of the model (about 0.7 s)
for texts that change only when a card or a document does. They are kept in
``TUTOR_HOME/cache/<model>-texts.npz``, keyed by a hash of the text and tagged with the model
files they came from. Only the course's own texts (cards, documents already stored under
TUTOR_HOME) go here, never a student's words.

>>> import tempfile, numpy as np
>>> kept = KeptVectors(Path(tempfile.mkdtemp()) / "v.npz", model="m1")
>>> kept.put({"Stalin controlled appointments.": np.ones(3, dtype=np.float32)})
>>> KeptVectors(kept.path, model="m1").get(["Stalin controlled appointments.", "other"])
{'Stalin controlled appointments.': array([1., 1., 1.], dtype=float32)}
>>> KeptVectors(kept.path, model="m2").get(["Stalin controlled appointments."])  # another model
{}
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

MAX_KEPT = 4096  # several thousand statements: far more than the course and its published cards


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class KeptVectors:
    """A small file of text-hash → vector for one model. A cache: a missing, unreadable or
    unwritable file only means the texts are embedded again."""

    def __init__(self, path: Path, model: str):
        self.path = Path(path)
        self.model = model
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    if str(data["model"]) == self.model:
                        self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, KeyError, ValueError):
                pass  # no file yet, or one this version cannot read: it is rewritten on the next put
        return self._vectors

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            vectors = self._load()
            return {t: vectors[_key(t)] for t in texts if _key(t) in vectors}

    def embed(self, embedder, texts: list[str], fixed: set[str]) -> list[np.ndarray]:
        """Vectors for ``texts`` in order: those in ``fixed`` (the course's own texts) read from
        here when kept, the rest embedded in one call (``embed_query`` for one text, which shares
        the embedder's cache of questions); the fixed ones embedded now are kept for the next
        process. A student's words are never in ``fixed``."""
        found = self.get([t for t in texts if t in fixed])
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        vectors = [embedder.embed_query(missing[0])] if len(missing) == 1 else \
            embedder.embed_documents(missing) if missing else []
        fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, vectors)}
        self.put({t: v for t, v in fresh.items() if t in fixed})
        return [found[t] if t in found else fresh[t] for t in texts]

    def put(self, fresh: dict[str, np.ndarray]) -> None:
        if not fresh:
            return
        with self._lock:
            vectors = self._load()
            for text, vector in fresh.items():
                vectors.pop(_key(text), None)  # newest last, so the oldest go first when trimming
                vectors[_key(text)] = np.asarray(vector, dtype=np.float32)
            while len(vectors) > MAX_KEPT:
                del vectors[next(iter(vectors))]
            self._write(vectors)

    def _write(self, vectors: dict[str, np.ndarray]) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, model=np.array(self.model), keys=np.array(list(vectors)),
                             vectors=np.stack(list(vectors.values())))
                os.replace(tmp, self.path)  # readers see the old file or the new one, never half
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only home: the vectors are computed per process, as before
