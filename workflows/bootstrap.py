"""Wires the engine to the domain: the expression functions, the directory, the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from engine import (
    Calendar,
    Deadlines,
    Evaluator,
    Runtime,
    UnitOfWork,
    WorkingDayCalendar,
    create_database_engine,
    create_session_factory,
)
from engine.ports import Clock, utc_now

from .awards.deadlines import RuleSetDeadlines
from .calendar.services import VietnamCalendar
from .directory import OrgDirectory


def build_evaluator() -> Evaluator:
    """The named functions diagrams may call. Each is deterministic and side-effect free."""
    return Evaluator()


@dataclass
class Services:
    """Everything a service function needs; one per process (web worker, scheduler, CLI)."""

    database: Engine
    session_factory: sessionmaker
    runtime: Runtime
    directory: OrgDirectory = field(default_factory=OrgDirectory)
    calendar: Calendar = field(default_factory=WorkingDayCalendar)
    deadlines: Deadlines | None = None
    clock: Clock = utc_now

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            runtime=self.runtime,
            directory=self.directory,
            calendar=self.calendar,
            deadlines=self.deadlines,
            clock=self.clock,
        )

    def dispose(self) -> None:
        self.database.dispose()


def bootstrap(
    database_url: str,
    *,
    clock: Clock = utc_now,
    calendar: Calendar | None = None,
    calendar_refresh_seconds: float = 60,
) -> Services:
    """The calendar defaults to Vietnam's, whose overrides each process reads again once they
    are `calendar_refresh_seconds` old."""
    database = create_database_engine(database_url)
    session_factory = create_session_factory(database)
    evaluator = build_evaluator()
    return Services(
        database=database,
        session_factory=session_factory,
        runtime=Runtime(evaluator),
        deadlines=RuleSetDeadlines(evaluator),
        calendar=calendar or VietnamCalendar(session_factory, clock=clock, refresh_seconds=calendar_refresh_seconds),
        clock=clock,
    )
