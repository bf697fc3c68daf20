"""Database access shared by every service: engines, transactions, migrations.

SQLite (a file) is the embedded default; PostgreSQL (``postgresql+psycopg://…``) the production
store. Both run the same code and the same tests.

SQLite is set up for several processes at once: WAL journal (readers never block the writer),
``synchronous=NORMAL``, a busy timeout, and write transactions opened with ``BEGIN IMMEDIATE`` so two
writers queue instead of failing on a lock upgrade. Reads use a separate engine whose transactions
are deferred.

A unit of work is one transaction: ``with db.write() as conn: ...`` commits on success and rolls
back on any exception.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: what "the database is unavailable" looks like to a caller: unreachable, restarting, locked or busy
#: (OperationalError), or no pooled connection free within the pool's wait (PoolTimeout) — retryable
DATABASE_UNAVAILABLE = (OperationalError, PoolTimeout)


def unavailable_cause(exc: BaseException) -> str:
    """The name of what made the database unavailable (the driver's error, else SQLAlchemy's), for
    logs: never its message, which may name hosts and users."""
    return type(getattr(exc, "orig", None) or exc).__name__

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        # Take transaction control away from the sqlite3 module; we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engines for one database URL. Cheap to share; thread-safe."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.write_engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (a unit of work): commit on success, roll back on error."""
        with self.write_engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction with a consistent snapshot: every statement in it sees the same
        committed state (SQLite: a deferred ``BEGIN`` in WAL mode; PostgreSQL: REPEATABLE READ — under
        the default READ COMMITTED each statement would see the commits made since the previous one,
        and a scorecard read in several statements while scoring's consumer applies a batch could mix
        two states)."""
        with self.read_engine.connect() as conn:
            if not self.sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def ping(self) -> None:
        """A round trip to the database (``SELECT 1``); raises when it cannot be reached."""
        with self.read_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: escape % in passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic.

    Safe to call from several replicas at once: on PostgreSQL the upgrade runs under an advisory
    lock; on SQLite under the database's write lock.
    """
    from alembic import command

    cfg = _alembic_config(url)
    if is_sqlite(url):
        engine = _sqlite_engine(url, immediate=True)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        engine.dispose()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(766)"))  # session-level lock
        conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(766)"))
            conn.commit()
    engine.dispose()


def default_sqlite_url(directory: str | os.PathLike[str] = "var") -> str:
    return f"sqlite:///{Path(directory) / 'chiso.db'}"


def log_failure(logger, event_name: str, exc: BaseException, **fields) -> None:
    """A background loop's failure, before it retries: the database being unavailable (restarting,
    unreachable, busy) is expected now and then — a warning without a trace; anything else is an
    error with its trace."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning(event_name, cause="database unavailable", error_type=unavailable_cause(exc), **fields)
    else:
        logger.error(event_name, exc_info=exc, **fields)
