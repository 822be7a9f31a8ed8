"""Wires the engine to the domain: the expression functions, the directory, the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from engine import (
    Calendar,
    Evaluator,
    Runtime,
    UnitOfWork,
    WeekdayCalendar,
    create_database_engine,
    create_session_factory,
)
from engine.ports import Clock, utc_now

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
    calendar: Calendar = field(default_factory=WeekdayCalendar)
    clock: Clock = utc_now

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            runtime=self.runtime,
            directory=self.directory,
            calendar=self.calendar,
            clock=self.clock,
        )

    def dispose(self) -> None:
        self.database.dispose()


def bootstrap(database_url: str, *, clock: Clock = utc_now, calendar: Calendar | None = None) -> Services:
    database = create_database_engine(database_url)
    return Services(
        database=database,
        session_factory=create_session_factory(database),
        runtime=Runtime(build_evaluator()),
        calendar=calendar or WeekdayCalendar(),
        clock=clock,
    )
