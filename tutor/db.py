"""The SQLite file under TUTOR_HOME: one connection helper for the manifest and sessions.

WAL mode and a busy timeout let several app processes share the file safely. The file holds
every conversation, so it is the owner's alone (mode 0600, in a 0700 TUTOR_HOME); SQLite
gives its -wal and -shm files the database file's mode.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from tutor.errors import StoreError

DB_MODE = 0o600
HOME_MODE = 0o700


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)


def private_dir(path: Path) -> None:
    """Create TUTOR_HOME mode 0700; tighten an existing one that is clearly a tutor home (it holds
    tutor.sqlite3) and is ours. A folder that is not (say TUTOR_HOME=/srv) is left as it is."""
    path.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    if (path / "tutor.sqlite3").exists():
        _tighten(path, HOME_MODE)


def private_file(path: Path) -> None:
    """Create the database file mode 0600 before SQLite does (it would use the umask, 0644)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_MODE))
    except FileExistsError:
        _tighten(path, DB_MODE)



def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        private_file(path)
        conn = sqlite3.connect(path, timeout=15, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=15000")
        conn.execute("PRAGMA foreign_keys=ON")
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(
            f"Cannot open the database {path} ({exc}). Check that TUTOR_HOME is writable and "
            "that no other program holds the file; `tutor doctor` shows the state."
        ) from exc
    return conn
