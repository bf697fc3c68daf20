"""Shared fixtures: real databases (a SQLite file and PostgreSQL) with the schema migrated.

PostgreSQL tests skip with a clear message when no server is reachable — except under ``CI=true``,
where they must run and fail if they cannot. Each test gets its own PostgreSQL schema, so tests
never see each other's rows. Set ``CHISO_TEST_PG_URL`` to use another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from services.shared.db import Database, migrate

PG_URL = os.environ.get("CHISO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_pg_state: dict[str, object] = {}


def pg_reachable() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state.update(ok=True, why="")
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            _pg_state.update(ok=False, why=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def require_postgres() -> None:
    ok, why = pg_reachable()
    if ok:
        return
    message = f"PostgreSQL not reachable at {PG_URL.split('@')[-1]} ({why})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(f"{message}; set CHISO_TEST_PG_URL or start PostgreSQL to run this test")


class PgSchema:
    """A throw-away schema in the test database."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        sep = "&" if "?" in PG_URL else "?"
        self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


def make_db_url(backend: str, tmp_path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'chiso.db'}"
        migrate(url)
        yield url
        return
    require_postgres()
    schema = PgSchema()
    try:
        migrate(schema.url)
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A migrated database URL — every test using it runs on SQLite and on PostgreSQL."""
    yield from make_db_url(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path) -> Iterator[str]:
    yield from make_db_url("sqlite", tmp_path)


@pytest.fixture
def pg_url(tmp_path) -> Iterator[str]:
    yield from make_db_url("postgres", tmp_path)


@pytest.fixture
def db(db_url) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()
