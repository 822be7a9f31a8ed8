"""What every front door receives: `Services`, one per process (web worker, scheduler, CLI),
built by `workflows.bootstrap`. It makes the units of work the domain runs in.

Who commits is told by the module's name: a `services.py` holds the front doors that change
something, each opening one unit of work and committing it once; a `queries.py` (and the
auditors' `search`, `reports` and `exports`) holds front doors that only read. Every other
module runs inside its caller's unit of work: it takes `uow` or `session` and never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from engine import Calendar, Deadlines, Directory, Runtime, UnitOfWork
from engine.ports import Clock, utc_now

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Services:
    """The database, the engine's runtime and the ports the domain answers (who may act, the
    working-day calendar, time limits), and the clock."""

    database: Engine
    session_factory: sessionmaker
    runtime: Runtime
    directory: Directory
    calendar: Calendar
    deadlines: Deadlines
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

    def in_transaction(
        self, operation: Callable[Concatenate[UnitOfWork, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `operation(uow, *args, **kwargs)` in a unit of work of its own and commit it."""
        with self.uow() as uow:
            result = operation(uow, *args, **kwargs)
            uow.commit()
        return result

    def dispose(self) -> None:
        self.database.dispose()
