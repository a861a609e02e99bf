"""The SQLite file under TUTOR_HOME: one connection helper for the manifest and sessions.

WAL mode and a busy timeout let several app processes share the file safely.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tutor.errors import StoreError


def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=15, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=15000")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise StoreError(
            f"Cannot open the database {path} ({exc}). Check that TUTOR_HOME is writable and "
            "that no other program holds the file; `tutor doctor` shows the state."
        ) from exc
    return conn
