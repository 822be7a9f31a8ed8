"""Alembic environment: one migration history for the engine's and the domain's tables."""

from alembic import context

from web.database import SCHEMA


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=SCHEMA, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
