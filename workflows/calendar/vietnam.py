"""Vietnam's working-day calendar: weekends and public holidays (Tết, Giỗ Tổ Hùng Vương, observed
and swapped days) from the `holidays` package, announced make-up Saturdays as working days, and
the admin's overrides (`calendar_override`) on top: an override makes its day off or working
whatever the package says."""

from __future__ import annotations

import functools
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import UnitOfWork, WorkingDayCalendar
from engine.ports import Clock, utc_now

from ..errors import DomainError
from .models import DAY_OFF, CalendarOverride

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
# The years the package knows Vietnam's holidays for; outside them only weekends are off.
FIRST_YEAR, LAST_YEAR = holidays.VN.start_year, holidays.VN.end_year


def today(uow: UnitOfWork) -> date:
    """The date in Vietnam by the unit of work's clock."""
    return uow.clock().astimezone(LOCAL_TIME).date()


@functools.cache
def base_days_off(year: int) -> frozenset[date]:
    """The year's days off by the `holidays` package alone: weekends and public holidays, less
    the make-up working Saturdays. Built once per year and process."""
    country = holidays.VN(years=year)
    first = date(year, 1, 1)
    days = (first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1))
    return frozenset(day for day in days if not country.is_working_day(day))


def is_base_day_off(day: date) -> bool:
    return day in base_days_off(day.year)


class VietnamCalendar(WorkingDayCalendar):
    """Working days in Asia/Ho_Chi_Minh: the `holidays` package's calendar with the overrides on
    top. The overrides are held in memory and read again once older than `refresh_seconds`
    (another process's change shows within that time) or at the next use after `invalidate()`
    (this process's change shows at once). Counting days never queries per day."""

    def __init__(self, session_factory: sessionmaker, *, clock: Clock = utc_now, refresh_seconds: float = 60):
        super().__init__(LOCAL_TIME, self.is_day_off)
        self._session_factory = session_factory
        self._clock = clock
        self._refresh = timedelta(seconds=refresh_seconds)
        self._overrides: dict[date, str] = {}
        self._loaded_at: datetime | None = None
        # Threads of one process (a scheduler's executor) share the calendar.
        self._lock = threading.Lock()

    def is_day_off(self, day: date) -> bool:
        kind = self._current_overrides().get(day)
        if kind is not None:
            return kind == DAY_OFF
        return is_base_day_off(day)

    def invalidate(self) -> None:
        """Read the overrides again at the next use: this process has just changed them."""
        with self._lock:
            self._loaded_at = None

    def _current_overrides(self) -> dict[date, str]:
        with self._lock:
            now = self._clock()
            # A clock set back (tests move theirs by hand) counts as stale too.
            if self._loaded_at is None or not timedelta(0) <= now - self._loaded_at < self._refresh:
                self._overrides = self._read_overrides()
                self._loaded_at = now
            return self._overrides

    def _read_overrides(self) -> dict[date, str]:
        # The calendar is asked in the middle of its caller's transaction. On SQLite every
        # transaction begins IMMEDIATE (engine/database.py), so a second session in the same
        # thread would wait for the caller's write lock until it times out; a plain DBAPI
        # connection reads the last committed rows without beginning one (WAL lets it).
        with self._session_factory() as session:
            database = session.get_bind()
        query = str(select(CalendarOverride.day, CalendarOverride.kind).compile(dialect=database.dialect))
        connection = database.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(query)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
        # SQLite hands dates back as ISO text.
        return {date.fromisoformat(day) if isinstance(day, str) else day: kind for day, kind in rows}


def last_day_of_period(calendar: WorkingDayCalendar, received: date, days: int) -> date:
    """The last day of a period of `days` working days received on `received`."""
    require_known_year(received.year)
    due = calendar.add_working_days(datetime.combine(received, time(12), calendar.zone), days)
    # A period ends at 24:00 of its last day, the first instant of the next.
    return (due.astimezone(calendar.zone) - timedelta(microseconds=1)).date()


def require_known_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError("year_out_of_range", f"the calendar knows the years {FIRST_YEAR} to {LAST_YEAR}, not {year}")
