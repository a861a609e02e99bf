"""The first start (issue 11 item 10): the chat is shown at once while the course is indexed in
the background, every page shows the progress, and a reply given meanwhile says how long is left."""

from __future__ import annotations

import shutil
import threading

import pytest
from streamlit.testing.v1 import AppTest

from tutor.indexing import CourseIndexing, IndexingStatus
from tutor.library import FIRST_START_META, Library
from tutor.settings import DEFAULT_CORPUS, get_settings, load_settings, reset_settings
from tutor.ui import first_start, resources

APP = "../streamlit_app.py"
TWO = ("event-ban-on-factions.md", "person-stalin.md")


def plain(markdown: str) -> str:
    return markdown.replace("\\", "").replace("**", "")


pytestmark = pytest.mark.usefixtures("fresh_app")  # tests/conftest.py


@pytest.fixture
def small_corpus(tmp_path, monkeypatch):
    """The shipped lessons and timeline with two source documents, as TUTOR_CORPUS_DIR."""
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS / "lessons", corpus / "lessons")
    shutil.copy(DEFAULT_CORPUS / "timeline.yaml", corpus / "timeline.yaml")
    (corpus / "sources").mkdir()
    for name in TWO:
        shutil.copy(DEFAULT_CORPUS / "sources" / name, corpus / "sources" / name)
    monkeypatch.setenv("TUTOR_CORPUS_DIR", str(corpus))
    reset_settings()
    return corpus


class HeldLibrary:
    """Holds the indexing thread before it opens the library, until the test lets it go."""

    def __init__(self):
        self.go = threading.Event()
        self.opened = threading.Event()

    def __call__(self, settings):
        self.opened.set()
        assert self.go.wait(120), "the test never released the indexing thread"
        return resources.build_context(settings).library


# -- the status ---------------------------------------------------------------------------------
def test_status_says_how_far_and_how_long_at_the_pace_so_far():
    s = IndexingStatus(state="running", done=0, total=40, started=0.0)
    assert s.describe(now=1.0) == "Indexing the course sources for the first time: 0 of 40 documents, about a minute left."
    # 4 done after loading the model (t=10), 12 done at t=18: 1 s a document, 28 to go.
    s = IndexingStatus(state="running", done=12, total=40, started=0.0, first_step_at=10.0, first_step_done=4)
    assert s.seconds_left(18.0) == pytest.approx(28.0)
    assert "12 of 40 documents, about 30 s left" in s.describe(now=18.0)
    slow = IndexingStatus(state="running", done=8, total=40, started=0.0, first_step_at=10.0, first_step_done=4)
    assert slow.time_left(now=50.0) == "about 5 min"
    assert IndexingStatus(state="done", total=2, indexed=2).describe() == "The course sources are indexed: 2 documents."
    assert "stopped: disk full" in IndexingStatus(state="failed", error="disk full").describe()


def test_indexing_runs_in_a_thread_and_reports_each_step(settings, embedder, small_corpus):
    from tutor.store import Store

    library = Library(Store(get_settings(), embedder))
    seen: list[tuple[int, int]] = []
    indexing = CourseIndexing(lambda: library)
    original = indexing._tick
    indexing._tick = lambda name, done, total: (seen.append((done, total)), original(name, done, total))

    indexing.start()
    indexing.start()  # a second call (another session's rerun) starts nothing
    assert indexing.wait(120)

    status = indexing.status()
    assert status.state == "done" and status.indexed == 2 and not status.failed
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert {d.doc_id for d in library.store.documents()} == {"event-ban-on-factions", "person-stalin"}
    assert [t.name for t in threading.enumerate() if t.name == "tutor-first-start"] == []


def test_a_first_start_cut_short_carries_on_at_the_next_start(tmp_path, embedder, small_corpus):
    from tutor.store import Store

    store = Store(load_settings(home=tmp_path / "h", corpus_dir=small_corpus), embedder)
    library = Library(store)
    # What a kill after the first step leaves: one document live, the first start marked running.
    library.ensure_default_corpus(batch=1)
    store.remove("person-stalin")
    store.manifest.set_meta(FIRST_START_META, "running")

    results = library.ensure_default_corpus(batch=1)

    assert {r.filename: r.status for r in results} == {"event-ban-on-factions.md": "unchanged",
                                                        "person-stalin.md": "added"}
    assert store.manifest.get_meta(FIRST_START_META) == "done"
    assert library.ensure_default_corpus() == []


def test_a_failure_in_the_thread_is_shown_not_lost(settings, caplog):
    import logging

    from tutor.errors import StoreError

    def broken():
        raise StoreError("Cannot open the Chroma store at /srv/secret/chroma (disk I/O error).")

    indexing = CourseIndexing(broken)
    with caplog.at_level(logging.ERROR, logger="tutor.problems"):
        indexing.start()
        assert indexing.wait(10)
    assert indexing.status().state == "failed"
    shown = indexing.status().describe()
    # Students see a plain sentence with a reference (issue 24, item 9); the log has the details.
    assert "not available just now" in shown and "/srv/secret" not in shown
    assert "/srv/secret/chroma (disk I/O error)" in caplog.text and shown.split("reference ")[1][:6] in caplog.text


# -- the page ----------------------------------------------------------------------------------
def test_first_start_shows_the_chat_at_once_and_the_progress(tutor_home, small_corpus, embedder, monkeypatch):
    held = HeldLibrary()
    monkeypatch.setattr(first_start, "open_library", held)

    at = AppTest.from_file(APP, default_timeout=60).run()

    # The chat is there and usable before anything is indexed.
    assert not at.exception, [e.value for e in at.exception]
    assert at.chat_input
    assert held.opened.wait(10)
    [bar] = at.main.get("progress")
    assert "Indexing the course sources for the first time" in plain(bar.proto.text)
    assert any("You can start now" in plain(c.value) for c in at.caption)

    # A question while indexing: answered from the lesson cards, saying how long is left.
    at.chat_input[0].set_value("Why did Stalin win the power struggle?").run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    replies = [m for m in at.chat_message if m.name == "assistant"]
    assert len(replies) == 2  # the welcome and the reply
    assert plain(replies[-1].markdown[0].value).rstrip().endswith("?")
    notices = [plain(w.value) for w in at.warning]
    assert any("still being indexed" in n and "left" in n for n in notices), notices

    # Let the thread go; once it is done the bar is gone and the library holds the course.
    held.go.set()
    assert first_start.start_if_needed(get_settings()).wait(180)
    at.run()
    assert not at.exception
    assert not at.main.get("progress")
    from tutor.manifest import Manifest

    manifest = Manifest(get_settings().db_path)
    assert {d.doc_id for d in manifest.documents()} == {"event-ban-on-factions", "person-stalin"}
    manifest.close()


def test_other_pages_show_the_progress_too(tutor_home, small_corpus, embedder, monkeypatch):
    held = HeldLibrary()
    monkeypatch.setattr(first_start, "open_library", held)
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("tutor/ui/pages/sources.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.main.get("progress")
        assert at.title[0].value == "Sources"
    finally:
        held.go.set()
        indexing = first_start.start_if_needed(get_settings())
        assert indexing is not None and indexing.wait(180)


def test_an_indexed_library_starts_no_indexing(tutor_home, corpus_home):
    shutil.copytree(corpus_home, tutor_home, dirs_exist_ok=True)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.chat_input and not at.main.get("progress")
    assert first_start.start_if_needed(get_settings()) is None


# -- a waiting reply comes before indexing work (issue 24, item 12) ------------------------------
class FakeBatchLibrary:
    """A library whose first-start indexing is three recorded batches (each records how many
    turns were in progress when it ran)."""

    def __init__(self):
        self.batches: list[tuple[int, int]] = []

    def ensure_default_corpus(self, on_progress=None):
        from tutor.indexing import TURNS

        on_progress("", 0, 3)
        for n in range(1, 4):
            self.batches.append(TURNS.active)
            on_progress(f"file-{n}.md", n, 3)
        return []


def test_indexing_waits_between_batches_while_a_turn_is_answered():
    from tutor.indexing import TURNS

    library = FakeBatchLibrary()
    indexing = CourseIndexing(lambda: library)
    with TURNS.turn():  # a student's turn is being answered
        indexing.start()
        assert not indexing.wait(0.5), "no batch runs while the turn is answered"
        assert library.batches == [] and indexing.status().done == 0
    assert indexing.wait(30) and indexing.status().state == "done"
    assert library.batches == [0, 0, 0], "every batch ran with no turn waiting"


def test_a_turn_is_counted_while_the_tutor_answers(settings):
    from tutor.errors import StoreError
    from tutor.indexing import TURNS
    from tutor.sessions import SessionStore
    from tutor.turn import Session
    from tutor.ui.chat import take_turn

    seen = []

    class FakeTutor:
        def reply(self, session, message, client=None):
            seen.append(TURNS.active)
            raise StoreError("the store is down")

    with pytest.raises(StoreError):
        take_turn(FakeTutor(), SessionStore.open(settings), Session(), "why did stalin win?")
    assert seen == [1] and TURNS.active == 0


def test_documents_are_embedded_a_few_passages_per_hold_of_the_model(embedder, monkeypatch):
    """Between holds of the model's lock a waiting query can take it; the vectors are the same."""
    import tutor.embeddings as embeddings

    texts = [f"Passage {n} on the Lenin Enrolment of 1924." for n in range(embeddings.LOCK_BATCH * 2 + 3)]
    whole = embedder._encode(texts)
    holds = []
    encode = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda part: holds.append(len(part)) or encode(part))
    vectors = embedder.embed_documents(texts)
    assert holds == [embeddings.LOCK_BATCH, embeddings.LOCK_BATCH, 3]
    assert all(abs(a - b) < 1e-5 for u, v in zip(vectors, whole) for a, b in zip(u, v))
