"""A card's key-point vectors are kept under TUTOR_HOME between processes (tutor/kept_vectors.py):
a new process does not embed them again, a student's words are never written, and another
model's file is not read as this one's."""

from __future__ import annotations

import numpy as np

from tests.fakes import FakeEmbeddings
from tutor.kept_vectors import KeptVectors
from tutor.lessons import load_lessons
from tutor.pedagogy.learner import KeyPointMatcher
from tutor.settings import PROJECT_ROOT

MESSAGE = "Stalin won because he appointed the officials who then voted for him."


def _card():
    return next(c for c in load_lessons(PROJECT_ROOT / "corpus").cards if len(c.key_points) >= 3)


def test_a_new_process_reads_the_statements_back_and_never_keeps_the_message(tmp_path):
    card = _card()
    statements = [kp.statement for kp in card.key_points]
    first = FakeEmbeddings()
    before = KeyPointMatcher(first, KeptVectors(tmp_path / "v.npz", model="fake")).relevance(card, MESSAGE)
    assert set(statements) <= {t for batch in first.calls for t in batch}

    again = FakeEmbeddings()  # a new process: empty memory, the same file
    kept = KeptVectors(tmp_path / "v.npz", model="fake")
    after = KeyPointMatcher(again, kept).relevance(card, MESSAGE)
    assert after == before
    assert not any(t in statements for batch in again.calls for t in batch), "statements embedded again"
    assert kept.get([MESSAGE]) == {}, "a student's words are not written to disk"
    assert set(kept.get(statements)) == set(statements)


def test_expressed_uses_the_kept_statements_with_the_same_verdicts(tmp_path):
    card = _card()
    message = f"I think {card.key_points[0].statement.lower()} That is my view."
    plain = KeyPointMatcher(FakeEmbeddings()).expressed(card, message)
    KeyPointMatcher(FakeEmbeddings(), KeptVectors(tmp_path / "v.npz", model="fake")).expressed(card, message)
    assert KeyPointMatcher(FakeEmbeddings(), KeptVectors(tmp_path / "v.npz", model="fake")).expressed(
        card, message) == plain


def test_another_model_or_a_damaged_file_means_embedding_again(tmp_path):
    path = tmp_path / "v.npz"
    KeptVectors(path, model="a").put({"x": np.ones(4, dtype=np.float32)})
    assert KeptVectors(path, model="b").get(["x"]) == {}
    path.write_bytes(b"not an npz")
    assert KeptVectors(path, model="a").get(["x"]) == {}
    KeptVectors(path, model="a").put({"y": np.zeros(4, dtype=np.float32)})  # rewritten, readable again
    assert list(KeptVectors(path, model="a").get(["y"])) == ["y"]


def test_the_offline_model_keeps_its_vectors_under_the_home(tmp_path):
    from tutor.embeddings import MiniLMEmbeddings

    kept = MiniLMEmbeddings().kept_vectors(tmp_path)
    assert kept.path == tmp_path / "cache" / "all-MiniLM-L6-v2-texts.npz" and kept.model.startswith("all-MiniLM-L6-v2:")


def test_an_answer_embeds_only_the_question_once_the_sentences_are_kept(tmp_path):
    from tutor.pedagogy.answer import Answerer

    question = "why did stalin win"
    sentences = ["Stalin controlled appointments through the Secretariat.", "Trotsky was ill in 1923."]
    first = FakeEmbeddings()
    before = Answerer(None, None, embedder=first, kept=KeptVectors(tmp_path / "v.npz", model="fake"))._embed(
        [question, *sentences], set(sentences))
    again = FakeEmbeddings()
    kept = KeptVectors(tmp_path / "v.npz", model="fake")
    after = Answerer(None, None, embedder=again, kept=kept)._embed([question, *sentences], set(sentences))
    assert np.array_equal(before, after)
    assert again.calls == [], "one text left (the question) goes through embed_query, the sentences are kept"
    assert kept.get([question]) == {}
