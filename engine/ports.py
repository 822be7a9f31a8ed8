"""What the engine needs from the outside world, as small protocols with plain defaults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from sqlalchemy.orm import Session

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Directory(Protocol):
    """Answers who may act on a task; the domain implements it from its org chart."""

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        """True when `user_id` holds `role` within `org_scope`; reads in the caller's session."""


class Calendar(Protocol):
    """Turns a number of working days into a due time, and counts them back for display."""

    def add_working_days(self, start: datetime, days: float) -> datetime: ...

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s; negative when `end` is earlier."""


class WeekdayCalendar:
    """Monday to Friday, no holidays: the default until a real calendar is plugged in."""

    def add_working_days(self, start: datetime, days: float) -> datetime:
        whole = int(days)
        moment = start
        while whole > 0:
            moment += timedelta(days=1)
            if moment.weekday() < 5:
                whole -= 1
        fraction = days - int(days)
        return moment + timedelta(days=fraction) if fraction else moment

    def working_days_between(self, start: datetime, end: datetime) -> int:
        first, last, sign = (start.date(), end.date(), 1) if end >= start else (end.date(), start.date(), -1)
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            if day.weekday() < 5:
                count += 1
        return sign * count
