"""The first start on the page: index the course in the background once per process, and show
every session how far it has got, without holding the chat.

``app.main`` calls :func:`start_if_needed` (a manifest read, no Chroma, no model) and
:func:`show_progress`; the chat page passes :func:`current` to the turn so a reply given while
indexing says so and how long is left. The work itself is ``Library.ensure_default_corpus``
(tutor/indexing.py runs it in a thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from tutor.errors import TutorError
from tutor.indexing import CourseIndexing, IndexingStatus
from tutor.settings import Settings
from tutor.ui import resources
from tutor.ui.render import escape_markdown, redact_paths

if TYPE_CHECKING:
    from tutor.library import Library

POLL_SECONDS = 1.0  # how often an open page redraws the progress bar while indexing runs
SEEN_KEY = "first_start_seen"  # this session saw indexing run: tell it once when it is done


def open_library(settings: Settings) -> "Library":
    """The shared library (Chroma, manifest, embedder), opened in the indexing thread. Tests
    replace it to hold the thread back."""
    return resources.build_context(settings).library


def needs_course(settings: Settings) -> bool:
    """Whether the library lacks the course (empty, or a first start was cut short): read from
    the manifest alone, so a normal start opens nothing heavy here."""
    from tutor.library import FIRST_START_META
    from tutor.manifest import Manifest

    settings.ensure_home()
    manifest = Manifest.open(settings)
    try:
        return not manifest.documents() or manifest.get_meta(FIRST_START_META) == "running"
    finally:
        manifest.close()


@st.cache_resource(show_spinner=False)
def _indexing(key: str, _settings: Settings) -> CourseIndexing | None:
    """One per process and settings: None when the library has the course already."""
    if not needs_course(_settings):
        return None
    indexing = CourseIndexing(lambda: open_library(_settings))
    indexing.start()
    return indexing


def start_if_needed(settings: Settings) -> CourseIndexing | None:
    """Start indexing the course in the background if the library needs it (once per process)."""
    try:
        return _indexing(settings.model_dump_json(), settings)
    except TutorError as exc:
        resources.show_problem(exc)
        raise


def current(settings: Settings) -> IndexingStatus | None:
    """How far the first start has got (None: there was nothing to index in this process)."""
    indexing = start_if_needed(settings)
    return indexing.status() if indexing is not None else None


def _bar(indexing: CourseIndexing) -> None:
    now = indexing.status()
    if not now.running:
        st.rerun()  # the whole page, so it shows the finished library and drops the bar
    st.progress(now.fraction, text=escape_markdown(now.describe()))
    st.caption("You can start now: until indexing is done, replies draw on the lesson cards, the timeline "
               "and the documents indexed so far.")


def show_progress(settings: Settings) -> None:
    """The progress bar while indexing runs (redrawn every second, on every page), then a note."""
    indexing = start_if_needed(settings)
    if indexing is None:
        return
    now = indexing.status()
    if now.running:
        st.session_state[SEEN_KEY] = True
        st.fragment(_bar, run_every=POLL_SECONDS)(indexing)
    elif now.state == "failed":
        st.warning(escape_markdown(redact_paths(now.describe())) + " The tutor still answers from the lesson "
                   "cards and timeline.", icon=":material/warning:")
    elif st.session_state.pop(SEEN_KEY, False):
        st.toast(escape_markdown(now.describe()), icon=":material/task_alt:")
