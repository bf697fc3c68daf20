"""Alembic environment: runs migrations on the connection handed over by services.shared.db.migrate,
or on ``sqlalchemy.url`` when run from the alembic command line."""

from alembic import context
from sqlalchemy import create_engine

from services.shared.schema import load_service_tables

config = context.config
target_metadata = load_service_tables()  # shared tables and every service's services/<name>/tables.py


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
