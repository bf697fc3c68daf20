"""Alembic environment: runs migrations on the connection handed over by services.shared.db.migrate,
or on ``sqlalchemy.url`` when run from the alembic command line."""

from alembic import context
from sqlalchemy import create_engine

import services.publish.tables  # noqa: F401 — publish's tables live on the shared metadata too
from services.shared.schema import metadata

config = context.config
target_metadata = metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        context.run_migrations()


run()
