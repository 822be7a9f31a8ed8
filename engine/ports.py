"""What the engine needs from the outside world, as small protocols with plain defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Callable, Protocol

from sqlalchemy.orm import Session

Clock = Callable[[], datetime]
_INSTANT = timedelta(microseconds=1)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Directory(Protocol):
    """Answers who may act on a task; the domain implements it from its org chart."""

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        """True when `user_id` holds `role` within `org_scope`; reads in the caller's session."""

    def supervisor(self, session: Session, role: str, org_scope: str | None, to: str) -> tuple[str, str | None] | None:
        """The (role, scope) an overdue task of `role` in `org_scope` escalates to: `to` is
        "supervisor" (the next level up) or "board" (the board's head); None when there is none."""


class Calendar(Protocol):
    """Deadlines in working or calendar days, and the working days left that the inbox shows."""

    def add_working_days(self, start: datetime, days: float) -> datetime: ...

    def add_calendar_days(self, start: datetime, days: float) -> datetime: ...

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s; negative when `end` is earlier."""

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days after today up to the deadline's last day; negative once it has passed."""


@dataclass(frozen=True)
class TimeLimit:
    """How long a step may take: `days` working days (or calendar days), and whether a step that
    comes back after a return resumes its clock or restarts it."""

    days: float
    calendar_days: bool = False
    resume: bool = False


class Deadlines(Protocol):
    """The time limit of a user task when it becomes ready; the domain reads it from its rules."""

    def time_limit(self, session: Session, element_id: str, data: dict, default_days: float | None) -> TimeLimit | None:
        """`default_days` is the diagram's own limit for the step (None: none); None: no deadline."""


class DiagramDeadlines:
    """The default: the limit the diagram gives each task (`dueWorkingDays`), restarted on return."""

    def time_limit(self, session, element_id, data, default_days):
        return None if default_days is None else TimeLimit(default_days)


def weekends(day: date) -> bool:
    return day.weekday() >= 5


class WorkingDayCalendar:
    """Deadlines counted as the Civil Code counts them (Arts. 147–148): the day of receipt is not
    counted; N working days end at 24:00 (local time) of the Nth working day after it; a period
    of calendar days that ends on a day off ends at 24:00 of the next working day. A fraction of
    a day runs into the next working day (0.5 ends at its noon). `is_day_off` decides which days
    are off; the default is weekends only, in UTC."""

    def __init__(self, zone: tzinfo = timezone.utc, is_day_off: Callable[[date], bool] = weekends):
        self.zone = zone
        self._is_day_off = is_day_off

    def is_working_day(self, day: date) -> bool:
        return not self._is_day_off(day)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        day = self._local_day(start)
        for _ in range(int(days)):
            day = self._next_working_day(day)
        return self._deadline(day, days - int(days))

    def add_calendar_days(self, start: datetime, days: float) -> datetime:
        return self._deadline(self._local_day(start) + timedelta(days=int(days)), days - int(days))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        first, last = self._local_day(start), self._local_day(end)
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return sign * count

    def working_days_left(self, now: datetime, due: datetime) -> int:
        # A deadline is 24:00 of its last day, which is the next day's first instant.
        return self.working_days_between(now, due - _INSTANT)

    def _deadline(self, day: date, fraction: float) -> datetime:
        if not self.is_working_day(day):
            day = self._next_working_day(day)
        if fraction:
            end = datetime.combine(self._next_working_day(day), time(), self.zone) + timedelta(days=fraction)
        else:
            end = datetime.combine(day + timedelta(days=1), time(), self.zone)
        return end.astimezone(timezone.utc)

    def _next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()
