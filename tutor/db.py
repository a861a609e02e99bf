"""The database: SQLite under TUTOR_HOME (the default) or PostgreSQL (TUTOR_DATABASE_URL).

One data-access layer for the manifest, conversations, kept originals, published lesson
cards and the shared counters: SQLAlchemy Core on one engine per process and URL, with the
schema brought up to date by Alembic when the database is opened.

>>> db = Database.open(settings)                                  # doctest: +SKIP
>>> with db.write(lock="manifest") as conn:                       # doctest: +SKIP
...     conn.execute(schema.meta.update().values(value="1"))

``write()`` is one transaction that other writers of the same ``lock`` wait for: on SQLite
``BEGIN IMMEDIATE`` (the file's one write lock), on PostgreSQL a transaction-scoped advisory
lock (``pg_advisory_xact_lock``), which serialises writers on every host. Failures to reach the
database become :class:`DatabaseUnavailable`, whose message says what to check.
"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
import weakref
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from tutor.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
# The tables the SQLite file had before migrations existed; such a file is stamped at the
# first revision (which creates exactly these) and upgraded from there.
_LEGACY_TABLES = {"documents", "document_versions", "meta", "pending_chunks"}
_LEGACY_REVISION = "0001"
SQLITE_TIMEOUT_S = 15


# The SQLite file holds every conversation, so it is the owner's alone (mode 0600, in a 0700
# TUTOR_HOME); SQLite gives its -wal and -shm files the database file's mode.
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


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or refused the request."""


def describe(url: str) -> str:
    """The URL with its password hidden, for messages and `tutor doctor`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    if make_url(url).get_backend_name() == "sqlite":
        fix = "check that TUTOR_HOME is writable and has free space, and that no other program locks the file"
    else:
        fix = "check that PostgreSQL is running and reachable and that TUTOR_DATABASE_URL is right"
    return DatabaseUnavailable(f"Cannot use the database {describe(url)} ({reason}). {fix[0].upper() + fix[1:]}; "
                               "`tutor doctor` checks it.")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (same on every host)."""
    return zlib.crc32(f"socratic-tutor:{name}".encode())


def _sqlite_engine(url: sa.URL) -> Engine:
    path = Path(url.database)
    path.parent.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    private_file(path)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        # Let SQLAlchemy, not the sqlite3 module, say when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # several processes on one host share the file
        cur.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the write lock up front, so two writers never deadlock upgrading a read lock.
        immediate = conn.get_execution_options().get("tutor_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One engine (a pool of connections) per process and URL; thread-safe."""

    _open: "weakref.WeakValueDictionary[str, Database]" = weakref.WeakValueDictionary()
    _open_lock = threading.Lock()

    def __init__(self, url: str):
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        try:
            if self.dialect == "sqlite":
                self.engine = _sqlite_engine(parsed)
            else:
                # pre_ping: a connection left over from before a database restart is replaced,
                # not handed to a request that would then fail.
                self.engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=20,
                                               pool_timeout=30, connect_args={"connect_timeout": 5})
        except (OSError, sa.exc.ArgumentError, ImportError) as exc:
            raise unavailable(url, exc) from exc
        migrate(self)

    @classmethod
    def open(cls, settings) -> "Database":
        """The process's Database for these settings (shared by the manifest, sessions, …)."""
        return cls.for_url(settings.database)

    @classmethod
    def for_url(cls, url: str) -> "Database":
        with cls._open_lock:
            db = cls._open.get(url)
            if db is None:
                db = cls(url)
                cls._open[url] = db
            return db

    @classmethod
    def of(cls, target: "Path | str | Database") -> "Database":
        """A Database given as itself, a SQLite file's path, or a URL (tests and tools)."""
        if isinstance(target, Database):
            return target
        if isinstance(target, Path):
            return cls.for_url(f"sqlite:///{target}")
        return cls.for_url(target)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def describe(self) -> str:
        return describe(self.url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (each statement sees the latest committed state)."""
        try:
            with self.engine.connect() as conn:
                yield conn
                conn.rollback()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise unavailable(self.url, exc) from exc

    @contextmanager
    def write(self, lock: str | None = None) -> Iterator[Connection]:
        """One transaction, committed at the end. With ``lock``, writers holding the same lock
        name (on any host) run one at a time."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(tutor_write=True)
                with conn.begin():
                    if lock and not self.is_sqlite:  # SQLite: BEGIN IMMEDIATE is the lock
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)})
                    yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise unavailable(self.url, exc) from exc

    def now(self, conn: Connection) -> float:
        """The database's clock in epoch seconds: one clock for every host (pending marks, counters)."""
        if self.is_sqlite:
            return float(conn.execute(sa.text("SELECT (julianday('now') - 2440587.5) * 86400.0")).scalar_one())
        return float(conn.execute(sa.text("SELECT extract(epoch from clock_timestamp())")).scalar_one())

    def ping(self) -> str:
        """The server's version string (raises DatabaseUnavailable)."""
        with self.read() as conn:
            if self.is_sqlite:
                return "SQLite " + str(conn.execute(sa.text("SELECT sqlite_version()")).scalar_one())
            return str(conn.execute(sa.text("SELECT version()")).scalar_one()).split(" on ")[0]

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


@contextmanager
def _migration_lock(db: Database, conn: Connection) -> Iterator[None]:
    """Only one process migrates at a time; the others wait, then find the schema current."""
    if db.is_sqlite:
        path = Path(make_url(db.url).database).with_suffix(".migrate-lock")
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        key = lock_key("migrations")
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()


def _head_from_files() -> str | None:
    """The newest revision read from the migration files' ``revision``/``down_revision`` lines,
    without importing Alembic or running the files (about 0.2 s a process start need not pay when
    the schema is current). None when the files do not name exactly one head: Alembic decides."""
    import ast

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else \
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if not isinstance(target, ast.Name) or target.id not in ("revision", "down_revision"):
                continue
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            names = {value} if isinstance(value, str) else set(value or ())
            (revisions if target.id == "revision" else parents).update(names)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(conn: Connection) -> bool:
    """True when the database's alembic_version is the files' head: the common case, checked
    with one query and no Alembic import."""
    head = _head_from_files()
    if head is None:
        return False
    try:
        current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.DBAPIError:  # no such table yet: a new or pre-migration database
        conn.rollback()
        return False
    conn.rollback()
    return current == [head]


def migrate(db: Database) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""
    try:
        with db.engine.connect() as conn:
            if _at_head(conn):
                return
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as exc:
        raise unavailable(db.url, exc) from exc
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    try:
        with db.engine.connect() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
            conn.rollback()
            with _migration_lock(db, conn):
                current = MigrationContext.configure(conn).get_current_revision()
                conn.rollback()
                if current == head:
                    return
                cfg = _alembic_config(conn)
                if current is None and _LEGACY_TABLES <= set(sa.inspect(conn).get_table_names()):
                    # A file made before migrations existed: it has the first revision's tables
                    # (the conversations' table only once the app had saved one).
                    from tutor import schema

                    schema.metadata.create_all(conn, tables=[schema.chat_sessions], checkfirst=True)
                    conn.commit()
                    command.stamp(cfg, _LEGACY_REVISION)
                command.upgrade(cfg, "head")
                conn.commit()
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as exc:
        raise unavailable(db.url, exc) from exc


def upsert(conn: Connection, table: sa.Table, rows: list[dict] | dict, keys: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column, on SQLite and PostgreSQL."""
    rows = [rows] if isinstance(rows, dict) else rows
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    stmt = insert(table)
    others = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=others) if others else \
        stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt, rows)


def batches(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bump_meta(conn: Connection, key: str) -> None:
    """Add one to an integer kept in the ``meta`` table (store and card versions)."""
    from tutor.schema import meta

    bumped = conn.execute(meta.update().where(meta.c.key == key).values(
        value=sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.Text)))
    if not bumped.rowcount:
        conn.execute(meta.insert().values(key=key, value="1"))
