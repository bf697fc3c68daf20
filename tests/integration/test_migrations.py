"""The migrations build exactly the schema the code declares (tables, columns, indexes), on both databases."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, create_engine, insert, text

from services.shared.db import migrate
from services.shared.schema import load_service_tables
from tests.conftest import PgSchema, require_postgres


def test_migrated_schema_equals_the_declared_one(db_url):
    migrate(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}),
                                   load_service_tables())
    finally:
        engine.dispose()
    assert diff == [], diff


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_url(request, tmp_path):
    """An empty database (no migration applied)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bare.db'}"
        return
    require_postgres()
    schema = PgSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


def test_0008_gives_stored_scorecards_their_shown_total_in_hundredths(bare_url):
    """Live and official scorecards stored before 0008 get the total they hold: 80.24 → 8024,
    71 → 7100, none → 0, and a scorecard without data none (it is not ranked); more than one 500-row
    page of each table."""
    migrate(bare_url, "0007")
    totals = ["80.24", "71", "100.00", None, "no data"] * 104
    engine = create_engine(bare_url)
    try:
        with engine.begin() as conn:
            live, official = table("publish_live"), table("publish_official")
            conn.execute(insert(live), [
                {"unit_code": f"U{i:04d}", "period_key": "2026-08", "scope": 2, "unit_kind": 4, "parent_code": "",
                 "version": i, "content_sha256": "x", "updated_at": 0,
                 "scorecard": json.dumps(card(t)).encode()}
                for i, t in enumerate(totals)])
            conn.execute(insert(official), [
                {"publication_id": "p", "revision": 1, "unit_code": f"U{i:04d}", "scope": 2, "period_key": "2026-08",
                 "unit_kind": 4, "parent_code": "", "scorecard": json.dumps(card(t or "0")).encode()}
                for i, t in enumerate(totals)])
        migrate(bare_url)
        with engine.connect() as conn:
            for name in ("publish_live", "publish_official"):
                got = [r[0] for r in conn.execute(text(f"SELECT total_centi FROM {name} ORDER BY unit_code"))]
                assert got == [8024, 7100, 10000, 0, None] * 104, name
    finally:
        engine.dispose()


def card(total):
    if total == "no data":
        return {"noData": True, "total": {"value": "16.00"}}
    return {"total": {"value": total}} if total else {}


def table(name):
    return Table(name, MetaData(), *(Column(c) for c in {
        "publish_live": ("unit_code", "period_key", "scope", "unit_kind", "parent_code", "version", "content_sha256",
                         "updated_at", "scorecard"),
        "publish_official": ("publication_id", "revision", "unit_code", "scope", "period_key", "unit_kind",
                             "parent_code", "scorecard")}[name]))
