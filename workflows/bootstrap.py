"""The composition root: wires the engine to the domain (the expression functions, the
directory, the calendar, the time limits) and hands out `Services`."""

from __future__ import annotations

from engine import Evaluator, Runtime, create_database_engine, create_session_factory
from engine.ports import Clock, utc_now

from .awards.deadlines import RuleSetDeadlines
from .calendar.vietnam import VietnamCalendar
from .directory import OrgDirectory
from .uow import Services


def build_evaluator() -> Evaluator:
    """The named functions diagrams may call. Each is deterministic and side-effect free."""
    return Evaluator()


def bootstrap(
    database_url: str,
    *,
    clock: Clock = utc_now,
    calendar_refresh_seconds: float = 60,
) -> Services:
    """Services on `database_url`. The calendar is Vietnam's, whose overrides each process reads
    again once they are `calendar_refresh_seconds` old."""
    database = create_database_engine(database_url)
    session_factory = create_session_factory(database)
    evaluator = build_evaluator()
    return Services(
        database=database,
        session_factory=session_factory,
        runtime=Runtime(evaluator),
        directory=OrgDirectory(),
        calendar=VietnamCalendar(session_factory, clock=clock, refresh_seconds=calendar_refresh_seconds),
        deadlines=RuleSetDeadlines(evaluator),
        clock=clock,
    )
