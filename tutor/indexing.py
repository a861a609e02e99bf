"""The first start's course indexing, in a background thread, with progress anyone can read.

Example (tests/test_first_start.py runs it)::

    indexing = CourseIndexing(lambda: Library(Store.open()))
    indexing.start()                    # returns at once
    indexing.status().describe()
    # 'Indexing the course sources for the first time: 8 of 39 documents, about 40 s left.'

The work is ``Library.ensure_default_corpus``; this module only runs it off the request path and
keeps a snapshot of how far it has got. One instance per process (the app keeps it in
``st.cache_resource``), so every browser session sees the same progress, and students can chat
while it runs: the tutor answers from the lesson cards and timeline, and from the documents
already indexed, until it is done.

A student waiting for a reply comes first: between batches the indexing waits while any turn
is being answered in this process (``TURNS``; the chat wraps each turn in ``TURNS.turn()``),
and within a batch the embedding model is taken a few passages at a time
(tutor.embeddings.LOCK_BATCH), so a turn's query gets the model between them. The thread's CPU
priority is not lowered: the turn waits on what it holds (the model, the store, the GIL), and
a lower priority only made it hold them longer (measured: first reply 7.0 s before, 11-12.6 s
with nice +5/+10).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterator

from tutor.errors import TutorError
from tutor.problems import for_students

if TYPE_CHECKING:
    from tutor.library import IngestResult, Library

# Indexing waits at most this long for turns to finish before its next batch, so a turn that
# never ends (or a steady stream of them) cannot stop it for good.
MAX_PAUSE_S = 30.0


class TurnsInProgress:
    """How many turns this process is answering; background work waits for none."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                self._idle.notify_all()

    @property
    def active(self) -> int:
        return self._count

    def wait_idle(self, timeout: float = MAX_PAUSE_S) -> bool:
        """Block until no turn is in progress (True) or ``timeout`` passed (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


TURNS = TurnsInProgress()


# Before the first step finishes there is no rate to go by: this is what a first start took on
# a 2-core machine (benchmarks/app_benchmark.py --first-start), said as a round figure.
TYPICAL_FIRST_START = "about a minute"


@dataclass(frozen=True)
class IndexingStatus:
    """A snapshot: ``state`` is "idle" (not started), "running", "done" or "failed"."""

    state: str = "idle"
    done: int = 0
    total: int = 0
    last: str = ""
    started: float | None = None
    first_step_at: float | None = None  # when the first files were done (the model is loaded by then)
    first_step_done: int = 0
    finished: float | None = None
    indexed: int = 0
    failed: tuple[str, ...] = ()
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def seconds_left(self, now: float) -> float | None:
        """Time left at the pace since the first step (None until there is a pace to go by)."""
        if not self.running or self.first_step_at is None or self.done <= self.first_step_done:
            return None
        pace = (now - self.first_step_at) / (self.done - self.first_step_done)
        return max(1.0, pace * (self.total - self.done))

    def time_left(self, now: float | None = None) -> str:
        left = self.seconds_left(time.monotonic() if now is None else now)
        if left is None:
            return TYPICAL_FIRST_START
        if left < 60:
            return f"about {max(5, int(round(left / 5.0)) * 5)} s"
        return f"about {int(round(left / 60.0))} min"

    def describe(self, now: float | None = None) -> str:
        """One plain sentence for the page."""
        if self.state == "running":
            if not self.total:
                return f"Indexing the course sources for the first time ({TYPICAL_FIRST_START})."
            return (f"Indexing the course sources for the first time: {self.done} of {self.total} documents, "
                    f"{self.time_left(now)} left.")
        if self.state == "failed":
            return f"Indexing the course sources stopped: {self.error}"
        if self.state == "done" and self.total:
            tail = f" ({len(self.failed)} could not be read)" if self.failed else ""
            return f"The course sources are indexed: {self.indexed} documents{tail}."
        return "The course sources are indexed."


class CourseIndexing:
    """Runs ``Library.ensure_default_corpus`` once, in a daemon thread, and reports how far it is.

    ``open_library`` builds (or fetches) the library in that thread, so opening Chroma and
    loading the embedding model also happen off the request path."""

    def __init__(self, open_library: Callable[[], "Library"], clock: Callable[[], float] = time.monotonic):
        self._open_library = open_library
        self._clock = clock
        self._lock = threading.Lock()
        self._status = IndexingStatus()
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self.results: list[IngestResult] = []

    def status(self) -> IndexingStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        """Start the thread unless it has been started already (safe to call on every rerun)."""
        with self._lock:
            if self._thread is not None:
                return
            self._status = replace(self._status, state="running", started=self._clock())
            self._thread = threading.Thread(target=self.run, name="tutor-first-start", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until indexing has finished (True) or the timeout passed (False)."""
        return self._finished.wait(timeout)

    def _tick(self, name: str, done: int, total: int) -> None:
        if done < total and TURNS.active:
            # Called between batches: the next batch waits for the turns being answered.
            TURNS.wait_idle(MAX_PAUSE_S)
        now = self._clock()
        with self._lock:
            s = self._status
            first = s.first_step_at is None and done > 0
            self._status = replace(s, done=done, total=total, last=name,
                                   first_step_at=now if first else s.first_step_at,
                                   first_step_done=done if first else s.first_step_done)

    def _finish(self, **changes) -> None:
        with self._lock:
            self._status = replace(self._status, finished=self._clock(), **changes)
        self._finished.set()

    def run(self) -> None:
        """The thread's work; also callable directly (it then runs in the caller's thread)."""
        with self._lock:
            if self._status.state == "idle":
                self._status = replace(self._status, state="running", started=self._clock())
        finished = False
        try:
            library = self._open_library()
            results = library.ensure_default_corpus(on_progress=self._tick)
            self.results = results
            bad = tuple(r.line() for r in results if not r.ok)
            self._finish(state="done", indexed=len(results) - len(bad), failed=bad)
            finished = True
        except TutorError as exc:
            # The chat goes on from the lesson cards; the page shows what stopped the indexing.
            self._finish(state="failed", error=for_students(exc))
            finished = True
        finally:
            if not finished:  # a bug: say so on the page too, and let the thread report it
                self._finish(state="failed", error="an unexpected error (see the server log); restart the app to retry")
