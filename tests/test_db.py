"""The data layer: migrations on open, an old SQLite file upgraded, shared counters and
published cards — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from tutor.counters import SharedWindow
from tutor.db import Database, describe, head_revision
from tutor.published import PublishedCards
from tutor.settings import load_settings

pytestmark = pytest.mark.both_databases


def test_a_new_database_is_migrated_to_the_newest_revision(db, database_url, settings):
    assert db.revision() == head_revision() == "0003"
    with db.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"documents", "document_versions", "meta", "pending_chunks", "chat_sessions", "kept_originals",
            "published_cards", "rate_events", "alembic_version"} <= tables
    assert db.dialect == ("postgresql" if database_url else "sqlite")
    # Opening again (another process, a restart) finds it current and changes nothing.
    again = Database(db.url)
    assert again.revision() == "0003"
    again.dispose()


def test_processes_opening_a_new_database_at_once_migrate_it_once(settings, database_url):
    script = ("import sys; from tutor.db import Database; "
              "print(Database(sys.argv[1]).revision())")
    procs = [subprocess.Popen([sys.executable, "-c", script, settings.database], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outs]
    assert [o[0].strip() for o in outs] == [head_revision()] * 3


LEGACY = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL,
    filename TEXT NOT NULL, original TEXT NOT NULL, content_hash TEXT NOT NULL, version INTEGER NOT NULL,
    chunk_ids TEXT NOT NULL, metadata TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE document_versions (doc_id TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, ingested_at TEXT NOT NULL, retired_at TEXT, PRIMARY KEY (doc_id, version));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE pending_chunks (chunk_id TEXT PRIMARY KEY, added_at REAL NOT NULL);
INSERT INTO documents VALUES ('notes', 'Notes', 'idea', 'notes.md', 'notes--abc.md', 'abc', 3,
    '["notes::abc::0000"]', '{}', '2026-01-01T00:00:00+00:00');
INSERT INTO meta VALUES ('store_version', '7');
"""


def test_a_sqlite_file_from_before_migrations_is_upgraded_in_place(tutor_home, database_url):
    if database_url:
        pytest.skip("only SQLite files predate the migrations")
    from tutor.library import Library
    from tutor.manifest import Manifest
    from tutor.sessions import SessionStore

    settings = load_settings(home=tutor_home)
    settings.ensure_home()
    conn = sqlite3.connect(settings.db_path)
    conn.executescript(LEGACY)
    conn.close()
    (settings.documents_dir / "notes--abc.md").write_bytes(b"# Notes\nKept as a file, as before.\n")

    manifest = Manifest.open(settings)
    assert manifest.db.revision() == head_revision()
    record = manifest.get("notes")
    assert (record.version, record.chunk_ids, manifest.version()) == (3, ("notes::abc::0000",), 7)
    assert SessionStore.open(settings).recent() == []  # the conversations' table was made too

    class _Store:  # Library.kept_original needs only the manifest and the settings
        pass

    store = _Store()
    store.manifest, store.settings = manifest, settings
    assert Library(store).kept_original(record) == b"# Notes\nKept as a file, as before.\n"


def test_urls_in_messages_hide_the_password():
    assert describe("postgresql+psycopg://tutor:pw@db.school:5432/tutor") == "postgresql://tutor:***@db.school:5432/tutor"
    assert describe("sqlite:////srv/tutor/tutor.sqlite3") == "/srv/tutor/tutor.sqlite3"


def test_the_shared_window_counts_the_same_for_two_hosts(db):
    # Two Database objects on one URL stand for two hosts: nothing is shared but the database.
    other_host = Database(db.url)
    try:
        a = SharedWindow(db, scope="messages", window=60)
        b = SharedWindow(other_host, scope="messages", window=60)
        assert [a.take("s1", 3), b.take("s1", 3), a.take("s1", 3)] == [0.0, 0.0, 0.0]
        wait = b.take("s1", 3)
        assert 59 < wait <= 60, "the fourth message in a minute waits for the first to age out"
        assert len(a.recent("s1")) == 3 and a.take("s2", 3) == 0.0, "another client is not held back"

        throttle = SharedWindow(db, scope="sign-in", window=60)
        throttle.add("10.0.0.7")
        SharedWindow(other_host, scope="sign-in", window=60).add("10.0.0.7")
        times = throttle.recent("10.0.0.7")
        assert len(times) == 2 and times[0] <= times[1] <= throttle.clock()
        assert SharedWindow(other_host, scope="messages", window=60).recent("10.0.0.7") == [], "scopes apart"
        throttle.forget("10.0.0.7")
        assert throttle.recent("10.0.0.7") == []
    finally:
        other_host.dispose()


def test_the_shared_window_never_lets_more_through_under_contention(db):
    windows = [SharedWindow(db, scope="messages", window=60), SharedWindow(Database(db.url), scope="messages", window=60)]
    allowed: list[bool] = []
    lock = threading.Lock()

    def student(n: int):
        ok = windows[n % 2].take("busy", 5) == 0.0
        with lock:
            allowed.append(ok)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 5 and len(allowed) == 20
    windows[1].db.dispose()


def test_old_events_leave_the_window(db):
    window = SharedWindow(db, scope="messages", window=0.2)
    assert window.take("s", 1) == 0.0 and window.take("s", 1) > 0
    import time

    time.sleep(0.3)
    assert window.take("s", 1) == 0.0
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rate_events")).scalar_one() == 1


def test_published_cards_are_versioned_and_shared_across_hosts(db):
    from tutor.auth import local_operator

    teacher = local_operator()
    cards = PublishedCards(db=db)
    assert cards.live() == [] and cards.signature() == 0
    card = {"id": "kronstadt", "question": "Why did the Kronstadt sailors rise in March 1921?",
            "key_points": [{"id": "grain", "statement": "Grain requisitioning had emptied the villages.",
                            "sources": ["teacher-kronstadt-1921"]}]}
    first = cards.publish(teacher, card, timeline=[{"id": "kronstadt-1921"}])
    assert (first.version, first.doc_ids, first.published_by) == (1, ["teacher-kronstadt-1921"], "local operator")
    revised = {**card, "question": "Why did Kronstadt rise?"}
    other_host = PublishedCards(db=Database(db.url))
    assert other_host.publish(teacher, revised).version == 2  # from another host
    assert [(c.version, c.card["question"]) for c in cards.live()] == [(2, "Why did Kronstadt rise?")]
    assert cards.signature() == 2
    assert other_host.unpublish(teacher, "kronstadt") and not cards.unpublish(teacher, "kronstadt")
    assert cards.live() == [] and cards.signature() == 3
    history = cards.history("kronstadt")
    assert [(h.version, h.live) for h in history] == [(1, False), (2, False)]
    assert history[0].unpublished_at <= history[1].published_at  # version 2 replaced version 1
    json.dumps([h.as_dict() for h in history])


def test_cards_published_before_versions_are_kept_as_version_one(tmp_path):
    """A database at revision 0002 (one row per published card) upgrades with its cards."""
    from alembic import command

    from tutor.db import _alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        command.upgrade(_alembic_config(conn), "0002")
        conn.execute(sa.text("INSERT INTO published_cards (card_id, data, published_by, published_at, updated_at) "
                             "VALUES ('kronstadt', :data, 'teacher', 1.0, 2.0)"),
                     {"data": json.dumps({"id": "kronstadt", "key_points": [{"sources": ["teacher-kronstadt-1921"]}]})})
        conn.commit()
    engine.dispose()
    [kept] = PublishedCards(db=Database(url)).live()
    assert (kept.card_id, kept.version, kept.doc_ids, kept.published_by) == \
        ("kronstadt", 1, ["teacher-kronstadt-1921"], "teacher")


def test_the_message_limit_and_sign_in_throttle_count_across_hosts(db, settings, database_url):
    """What build() gives each app host: on PostgreSQL one allowance per client whichever
    host it lands on; on SQLite (one host) the counts stay in the process."""
    from tutor.auth import MAX_FAILED_LOGINS
    from tutor.errors import RateLimited
    from tutor.limits import SlidingWindow
    from tutor.services import build_limits

    settings = settings.model_copy(update={"rate_limit_per_minute": 3})
    limiter_a, throttle_a = build_limits(settings)
    if not database_url:
        assert isinstance(limiter_a.window, SlidingWindow) and isinstance(throttle_a._failures, SlidingWindow)
        return
    other_host = Database(db.url)
    try:
        limiter_b, throttle_b = build_limits(settings, other_host)
        limiter_a.check("ip:10.0.0.9"), limiter_b.check("ip:10.0.0.9"), limiter_a.check("ip:10.0.0.9")
        with pytest.raises(RateLimited):
            limiter_b.check("ip:10.0.0.9")
        limiter_b.check("ip:10.0.0.10")  # another client is not held back

        for n in range(MAX_FAILED_LOGINS):
            (throttle_a if n % 2 else throttle_b).failed("ip:10.0.0.9")
        assert throttle_a.wait("ip:10.0.0.9") > 59 and throttle_b.wait("ip:10.0.0.9") > 59
        assert throttle_a.wait("ip:10.0.0.11") == 0.0
        throttle_b.succeeded("ip:10.0.0.9")  # the right password on B clears A's record too
        assert throttle_a.wait("ip:10.0.0.9") == 0.0
    finally:
        other_host.dispose()


def test_the_shared_window_counts_in_the_process_while_the_database_is_down(database_url, settings):
    """A database outage must not stop students chatting: the window counts locally meanwhile."""
    if not database_url:
        pytest.skip("SQLite is a file on this host and cannot become unreachable")
    from sqlalchemy.engine import make_url

    from test_faults import TcpProxy

    server = make_url(database_url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432).start()
    host = Database(database_url.replace(f":{server.port or 5432}/", f":{proxy.port}/", 1))
    try:
        window = SharedWindow(host, scope="messages", window=60)
        assert window.take("s", 2) == 0.0
        proxy.stop()
        assert [window.take("s", 2), window.take("s", 2)] == [0.0, 0.0], "counted locally, not refused"
        assert window.take("s", 2) > 0, "still limited, by this host's own count"
        assert window.clock() > 0 and len(window.recent("s")) == 2
    finally:
        proxy.stop()
        host.dispose()
