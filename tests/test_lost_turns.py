"""The same conversation in two tabs, and a reload during a database outage (issue 24, item 7).

Before: each tab saved its whole copy and the last save won, silently (a turn from the first
tab vanished); a reload while the database was down wrote a new conversation id into the URL.
Now a save that finds the row moved on since its copy was loaded merges (the other tab's turns
kept, its own after them) and says so, and a reload keeps the id and loads again later."""

from __future__ import annotations

import random
import threading

import pytest

from tutor.db import Database, unavailable
from tutor.sessions import SessionStore
from tutor.turn import Session
from tutor.ui import chat

pytestmark = pytest.mark.both_databases


def _say(session: Session, text: str) -> None:
    """A turn as the engine records it: the student's message and a reply."""
    session.history += [{"role": "user", "content": text, "at": len(session.history)},
                        {"role": "assistant", "content": f"What makes you say '{text}'?", "at": len(session.history) + 1}]
    session.learner.turns += 1


def _said(session: Session) -> list[str]:
    return [t["content"] for t in session.history if t["role"] == "user"]


def test_two_tabs_each_saving_keep_both_tabs_turns(settings):
    store = SessionStore.open(settings)
    first = Session()
    _say(first, "why did stalin win?")
    store.save(first)
    tab_a, tab_b = store.load(first.id), store.load(first.id)

    _say(tab_a, "was it the Secretariat?")
    assert store.save(tab_a) == 0
    _say(tab_b, "what about Trotsky?")
    tab_b.learner.covered = {"why-stalin-won": ["posts"]}
    assert store.save(tab_b) == 2, "tab B is told it merged tab A's turn (message and reply)"

    saved = store.load(first.id)
    assert _said(saved) == ["why did stalin win?", "was it the Secretariat?", "what about Trotsky?"]
    assert _said(tab_b) == _said(saved), "tab B now shows tab A's turn too"
    # Tab A goes on from its stale copy: tab B's turn survives as well.
    _say(tab_a, "and Zinoviev?")
    assert store.save(tab_a) == 2
    assert _said(store.load(first.id)) == ["why did stalin win?", "was it the Secretariat?",
                                           "what about Trotsky?", "and Zinoviev?"]
    assert store.load(first.id).learner.covered == {"why-stalin-won": ["posts"]}, "progress from either tab kept"


def test_random_interleavings_of_tabs_lose_no_turn(settings):
    """Generated: 4 tabs on one conversation, 60 turns, each tab saving (or first reloading) at
    random; every turn any tab took ends up saved exactly once, each tab's in its order."""
    rng = random.Random(7)
    store = SessionStore.open(settings)
    root = Session()
    store.save(root)
    tabs = [store.load(root.id) for _ in range(4)]
    taken: dict[int, list[str]] = {n: [] for n in range(4)}
    for step in range(60):
        n = rng.randrange(4)
        if rng.random() < 0.15:
            tabs[n] = store.load(root.id)  # a reload of that tab
        text = f"tab {n} turn {step}"
        _say(tabs[n], text)
        taken[n].append(text)
        store.save(tabs[n])
    saved = _said(store.load(root.id))
    assert sorted(saved) == sorted(t for ts in taken.values() for t in ts), "no turn lost or doubled"
    for n, texts in taken.items():
        assert [t for t in saved if t.startswith(f"tab {n} ")] == texts


def test_two_tabs_saving_at_the_same_moment_lose_nothing(settings):
    store = SessionStore.open(settings)
    root = Session()
    store.save(root)
    tabs = [store.load(root.id), store.load(root.id)]
    barrier = threading.Barrier(2)

    def run(n: int) -> None:
        for k in range(15):
            _say(tabs[n], f"tab {n} turn {k}")
            barrier.wait()
            store.save(tabs[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_said(store.load(root.id))) == 30


def test_a_reload_during_an_outage_keeps_the_conversation_id_and_merges_later(settings, monkeypatch):
    store = SessionStore.open(settings)
    before = Session()
    _say(before, "why did stalin win?")
    store.save(before)
    db = Database.open(settings)
    real_read, real_write = Database.read, Database.write

    def down(self, *args, **kwargs):
        import sqlalchemy as sa

        raise unavailable(self.url, sa.exc.OperationalError("connect", {}, Exception("connection refused")))

    monkeypatch.setattr(Database, "read", down)
    monkeypatch.setattr(Database, "write", down)
    session, problem = chat.restore(store, before.id, retries=(0.01,))
    assert session.id == before.id, "the URL keeps the conversation's id"
    assert "not lost" in problem and db.describe() not in problem and "postgresql" not in problem.lower()
    _say(session, "the student carries on during the outage")
    with pytest.raises(Exception):
        store.save(session, retries=())
    with pytest.raises(Exception):
        store.catch_up(session)

    monkeypatch.setattr(Database, "read", real_read)
    monkeypatch.setattr(Database, "write", real_write)
    assert store.save(session) == 2
    assert _said(store.load(before.id)) == ["why did stalin win?", "the student carries on during the outage"]

    # The page's retry path: an unloaded copy catches up before its next turn.
    unloaded = Session(id=before.id)
    assert store.catch_up(unloaded) == 4 and len(unloaded.history) == 4
    _say(unloaded, "one more")
    assert store.save(unloaded) == 0
    assert len(store.load(before.id).history) == 6


def test_a_stale_copy_replaces_a_row_that_cannot_be_read(settings, db):
    import sqlalchemy as sa

    store = SessionStore.open(settings)
    session = Session()
    _say(session, "why did stalin win?")
    store.save(session)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE chat_sessions SET data = '{not json', updated_at = updated_at + 1 WHERE id = :id"),
                     {"id": session.id})
    _say(session, "and then?")
    assert store.save(session) == 0
    assert _said(store.load(session.id)) == ["why did stalin win?", "and then?"]
