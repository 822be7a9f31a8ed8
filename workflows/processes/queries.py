"""What is deployed and what is stuck: process versions with their instance counts, the timer jobs
whose attempts ran out (incidents), and whether the database answers."""

from __future__ import annotations

import engine
from engine import queries

from ..uow import Services


def incidents(services: Services) -> list[engine.models.TimerJob]:
    """Jobs whose attempts ran out, for the admins' incident list."""
    with services.session_factory() as session:
        return engine.incidents(session)


def definition_summaries(services: Services) -> list[queries.DefinitionSummary]:
    with services.session_factory() as session:
        return queries.definition_summaries(session)


def check_database(services: Services) -> None:
    with services.session_factory() as session:
        queries.ping(session)
