"""Conversations in SQLite: they survive a new store object (a restart), export, and summarise progress."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tutor.engine import Session
from tutor.errors import StoreError
from tutor.lessons import load_lessons
from tutor.sessions import SessionStore, progress, transcript_json, transcript_markdown, valid_session_id
from tutor.settings import DEFAULT_CORPUS


pytestmark = pytest.mark.both_databases


@pytest.fixture(scope="module")
def lessons():
    return load_lessons(DEFAULT_CORPUS)


def _conversation() -> Session:
    """A session as the engine leaves it after two turns (a citation, a move, a fallback notice)."""
    s = Session()
    s.history += [
        {"role": "user", "content": "Was Stalin General Secretary because of the Secretariat?", "at": 1.0},
        {"role": "assistant", "content": "Look at this: “Stalin became General Secretary in April 1922.” [1] "
                                         "What could he do with that post?", "at": 2.0,
         "citations": [{"n": 1, "passage_id": "idea-party-apparatus::abc::0001", "doc_id": "idea-party-apparatus",
                        "title": "The party apparatus", "kind": "idea", "page": None,
                        "quote": "Stalin became General Secretary in April 1922.",
                        "text": "In 1922 things changed. Stalin became General Secretary in April 1922. More text."}],
         "move": {"kind": "hint", "label": "hint 2 of 3", "card": "why-stalin-won"}, "mode": "offline",
         "notice": "This reply comes from the offline course-materials tutor because the model service cannot be reached."},
        {"role": "user", "content": "Trotsky called Stalin a grey blur", "at": 3.0},
    ]
    s.learner.card_id = "why-stalin-won"
    s.learner.covered = {"why-stalin-won": ["posts"]}
    s.learner.misconceptions = {"grey-blur-trotsky": "resolved"}
    s.learner.date_errors = {"lenin-dies": "open"}
    s.learner.turns = 2
    return s


def test_saved_session_loads_from_a_new_store_object(settings):
    session = _conversation()
    SessionStore.open(settings).save(session)

    again = SessionStore.open(settings).load(session.id)  # as after a restart of the service

    assert again is not None
    assert again.to_dict() == session.to_dict()
    assert again.learner.covered_on("why-stalin-won") == {"posts"}


def test_save_twice_updates_the_row_and_recent_lists_newest_first(settings):
    store = SessionStore.open(settings)
    first, second = _conversation(), Session()
    store.save(first)
    second.history.append({"role": "user", "content": "  What   was the\nLenin Enrolment? ", "at": 5.0})
    store.save(second)
    first.history.append({"role": "assistant", "content": "Which year?", "at": 6.0})
    store.save(first)

    recent = store.recent()

    assert [r.id for r in recent] == [first.id, second.id]
    assert recent[1].title == "What was the Lenin Enrolment?"
    assert recent[0].turns == 2
    assert len(store.load(first.id).history) == 4


def test_unknown_or_malformed_ids_load_nothing(settings):
    store = SessionStore.open(settings)
    assert store.load("0123456789abcdef") is None
    assert store.load("../../etc/passwd") is None
    assert not valid_session_id("abc'; DROP TABLE chat_sessions; --")


def test_a_corrupt_row_raises_a_clear_store_error(settings, db):
    store = SessionStore.open(settings)
    session = _conversation()
    store.save(session)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE chat_sessions SET data = '{not json' WHERE id = :id"), {"id": session.id})
    with pytest.raises(StoreError, match="cannot be read"):
        store.load(session.id)


def test_sessions_share_the_database_with_the_manifest(store, settings, db, database_url):
    sessions = SessionStore.open(settings)
    sessions.save(_conversation())
    assert sessions.db is store.manifest.db is db
    with db.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"chat_sessions", "documents", "kept_originals", "published_cards", "rate_events"} <= tables
    # SQLite under TUTOR_HOME by default; nothing there when PostgreSQL holds it all.
    assert settings.db_path.is_file() == (not database_url)


def test_progress_names_key_points_from_the_cards_and_hides_uncovered_ones(lessons):
    p = progress(_conversation(), lessons)

    [card] = p.cards
    card_def = lessons.card("why-stalin-won")
    assert card.question == card_def.question
    assert card.total == len(card_def.key_points) and card.covered == 1
    covered = [kp for kp in card.points if kp.covered]
    assert covered[0].statement == card_def.key_point("posts").statement
    # Statements of points not yet made would hand the student the answer.
    assert all(kp.statement == "" for kp in card.points if not kp.covered)
    assert (p.met, p.resolved) == (2, 1)
    labels = {i.id: i for i in p.issues}
    assert labels["grey-blur-trotsky"].status == "resolved" and "Sukhanov" in labels["grey-blur-trotsky"].note
    assert labels["lenin-dies"].kind == "date" and "Lenin" in labels["lenin-dies"].label


def test_markdown_transcript_has_turns_sources_moves_notice_and_progress(lessons):
    md = transcript_markdown(_conversation(), lessons)

    assert md.startswith("# Conversation with the Socratic history tutor")
    assert "**You:** Was Stalin General Secretary because of the Secretariat?" in md
    assert "- [1] The party apparatus (idea) — “Stalin became General Secretary in April 1922.”" in md
    assert "_hint 2 of 3 · offline_" in md
    assert "> Note: This reply comes from the offline" in md
    assert "## Progress" in md and "1 of " in md and "2 met, 1 resolved" in md


def test_json_transcript_keeps_citations_moves_and_progress(lessons):
    session = _conversation()
    data = json.loads(transcript_json(session, lessons))

    assert data["session"] == session.id
    reply = data["turns"][1]
    assert reply["citations"][0]["quote"] == "Stalin became General Secretary in April 1922."
    assert reply["citations"][0]["text"].startswith("In 1922")
    assert reply["move"]["label"] == "hint 2 of 3"
    assert data["progress"]["cards"][0]["covered"] == 1
    assert data["progress"]["misconceptions_resolved"] == 1
    # The export is a whole conversation: it can be turned back into a Session.
    restored = Session.from_dict({"id": data["session"], "history": data["turns"], "learner": data["learner"]})
    assert restored.history == session.history


def test_empty_session_exports_cleanly(lessons):
    s = Session()
    assert "No key points or misconceptions yet." in transcript_markdown(s, lessons)
    assert json.loads(transcript_json(s))["turns"] == []
