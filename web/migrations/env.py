"""Alembic environment: one migration history for the engine's and the domain's tables."""

from alembic import context

from engine.models import EngineBase
from workflows.models import DomainBase
import workflows.org.models  # noqa: F401  (registers the domain tables on DomainBase)

target_metadata = [EngineBase.metadata, DomainBase.metadata]


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
