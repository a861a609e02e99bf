"""What students see when the server's parts fail (issue 24, item 9): a full disk under SQLite,
PostgreSQL unreachable. Before, the chat showed the SQLite file's full path, or PostgreSQL's
user, host, port and database name; now a plain sentence with a reference, the details in the
log under that reference and in `tutor doctor`. Also the page side of item 7: a reload during an
outage keeps the conversation's id in the URL."""

from __future__ import annotations

import logging
import re
import socket

import pytest
import sqlalchemy as sa

from test_app import _app, _ask, _assistant_texts, app_home, plain  # noqa: F401  (app_home: a fixture)
from tutor.db import Database, unavailable
from tutor.sessions import SessionStore
from tutor.settings import get_settings, reset_settings

pytestmark = pytest.mark.usefixtures("fresh_app")  # tests/conftest.py

REF = re.compile(r"reference ([0-9a-f]{6})")


def _shown(at) -> str:
    return " ".join(plain(e.value) for e in [*at.error, *at.warning, *at.info, *at.toast])


def _fill_the_disk(db: Database) -> None:
    """SQLite's own "database or disk is full" from the next page the file needs: every new
    connection caps the file at the pages it has now."""
    @sa.event.listens_for(db.engine, "connect")
    def cap(dbapi_conn, record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    db.engine.dispose()


def test_a_full_disk_shows_students_no_path(app_home, monkeypatch, caplog):
    from tutor import sessions as sessions_module

    at = _app().run()
    db = Database.open(get_settings())
    monkeypatch.setattr(sessions_module, "SAVE_RETRIES_S", (0.01,))
    _fill_the_disk(db)
    with caplog.at_level(logging.ERROR, logger="tutor.problems"):
        at = _ask(at, "Why did Zinoviev lose Leningrad? " + "Tell me more. " * 400)

    assert _assistant_texts(at)[-1].rstrip().endswith("?"), "the reply is still shown"
    shown = _shown(at)
    assert "could not be saved" in shown and "next turn tries to save it again" in shown
    for secret in (str(app_home), "tutor.sqlite3", "sqlite", "disk is full"):
        assert secret not in shown, secret
    [ref] = REF.findall(shown)
    assert f"[ref {ref}]" in caplog.text and "tutor.sqlite3" in caplog.text and "full" in caplog.text


def test_postgresql_unreachable_at_start_shows_students_no_connection_details(tutor_home, monkeypatch, caplog):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TUTOR_DATABASE_URL", f"postgresql://tutor_role:s3cret@127.0.0.1:{port}/school_db")
    reset_settings()
    with caplog.at_level(logging.ERROR, logger="tutor.problems"):
        at = _app().run()
    assert not at.exception
    shown = _shown(at)
    assert "not available just now" in shown and "tutor doctor" in shown
    for secret in ("tutor_role", "127.0.0.1", str(port), "school_db", "s3cret", "postgresql", "TUTOR_DATABASE_URL"):
        assert secret not in shown, secret
    [ref] = REF.findall(shown)
    assert f"[ref {ref}]" in caplog.text and f"127.0.0.1:{port}/school_db" in caplog.text


def test_a_reload_during_an_outage_keeps_the_id_in_the_url_and_loads_it_later(app_home, monkeypatch):
    from tutor.ui import chat

    at = _ask(_app().run(), "Why did Zinoviev lose Leningrad?")
    conversation = at.query_params["session"]
    conversation = conversation[0] if isinstance(conversation, list) else conversation
    monkeypatch.setattr(chat, "LOAD_RETRIES_S", (0.01,))
    real_read = Database.read

    def down(self, *args, **kwargs):
        raise unavailable(self.url, sa.exc.OperationalError("connect", {}, Exception("connection refused")))

    monkeypatch.setattr(Database, "read", down)
    reloaded = _app()
    reloaded.query_params["session"] = conversation
    reloaded.run()
    kept = reloaded.query_params["session"]
    assert (kept[0] if isinstance(kept, list) else kept) == conversation, "the URL keeps the conversation"
    shown = _shown(reloaded)
    assert "not lost" in shown and str(app_home) not in shown and "sqlite" not in shown

    monkeypatch.setattr(Database, "read", real_read)  # back: the next turn goes on the same conversation
    reloaded = _ask(reloaded, "what about Kamenev?")
    saved = SessionStore.open(get_settings()).load(conversation)
    assert [t["content"] for t in saved.history if t["role"] == "user"] == [
        "Why did Zinoviev lose Leningrad?", "what about Kamenev?"]
    assert "Why did Zinoviev lose Leningrad?" in " ".join(m.markdown[0].value for m in reloaded.chat_message)
