"""Unit of work: one SQLAlchemy session, one transaction, callbacks after commit."""

from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from .ports import Calendar, Clock, Deadlines, DiagramDeadlines, Directory, WorkingDayCalendar, utc_now
from .runtime import Runtime


class UnitOfWork:
    """`with uow:` opens a transaction; `commit()` ends it; leaving without commit rolls back.

    It also carries the runtime and the ports an engine operation needs (directory, calendar,
    deadlines, clock), so that operations take one argument for all their collaborators.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        runtime: Runtime,
        directory: Directory,
        calendar: Calendar | None = None,
        deadlines: Deadlines | None = None,
        clock: Clock = utc_now,
    ):
        self.session_factory = session_factory
        self.runtime = runtime
        self.directory = directory
        self.calendar = calendar or WorkingDayCalendar()
        self.deadlines = deadlines or DiagramDeadlines()
        self.clock = clock
        self.session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        self.session = self.session_factory()
        self._after_commit = []
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self.session.rollback()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (notifications, never state)."""
        self._after_commit.append(callback)
