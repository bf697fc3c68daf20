"""The migrations build exactly the schema the code declares (tables, columns, indexes), on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import services.publish.tables  # noqa: F401 — registers publish's tables on the shared metadata
from services.shared.db import migrate
from services.shared.schema import metadata


def test_migrated_schema_equals_the_declared_one(db_url):
    migrate(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    finally:
        engine.dispose()
    assert diff == [], diff
