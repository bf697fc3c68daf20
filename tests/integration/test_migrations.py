"""The migrations build exactly the schema the code declares (tables, columns, indexes), on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from services.shared.db import migrate
from services.shared.schema import load_service_tables


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
