"""Vietnam's working-day calendar and the admin's overrides of it.

The base calendar is the `holidays` package's: weekends and public holidays (Tết, Giỗ Tổ Hùng
Vương, observed and swapped days) are off, announced make-up Saturdays are working days. A row
of `calendar_override` makes its day off or working whatever the package says. The functions
that change overrides take an open unit of work and never commit."""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Callable, TypeVar
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import UnitOfWork, WorkingDayCalendar
from engine.ports import Clock, utc_now

from ..audit import operations
from ..errors import DomainError
from .models import DAY_OFF, OVERRIDE_KINDS, CalendarOverride

if TYPE_CHECKING:
    from ..bootstrap import Services

logger = logging.getLogger(__name__)

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# The years the package knows Vietnam's holidays for; outside them only weekends are off.
FIRST_YEAR, LAST_YEAR = holidays.VN.start_year, holidays.VN.end_year
MAX_NOTE_LENGTH = 500

# Where a day of the admin page's list comes from.
HOLIDAY, MAKE_UP_DAY, OVERRIDE = "holiday", "make_up_day", "override"

T = TypeVar("T")


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
        super().__init__(ZONE, self.is_day_off)
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


@dataclass(frozen=True)
class CalendarDay:
    """A day of the year that is not an ordinary weekday or weekend day: a public holiday or
    make-up working day of the `holidays` package, or an override (`name` then still gives
    the package's holiday name for the day, if it has one)."""

    day: date
    day_off: bool
    source: str  # HOLIDAY, MAKE_UP_DAY or OVERRIDE
    name: str | None = None
    note: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None


def set_override(uow: UnitOfWork, actor: str, day: date, kind: str, note: str) -> CalendarOverride:
    """Make `day` a day off or a working day (`kind`), replacing the override it may have; the
    note (why) is the operation log entry's reason. Raises DomainError: invalid_override_kind,
    override_note_required, override_note_too_long, year_out_of_range, or
    override_changes_nothing when the package's calendar already says so."""
    if kind not in OVERRIDE_KINDS:
        raise DomainError("invalid_override_kind", f"kind must be one of {', '.join(OVERRIDE_KINDS)}, not {kind!r}")
    note = (note or "").strip()
    if not note:
        raise DomainError("override_note_required", "an override needs a note saying why")
    if len(note) > MAX_NOTE_LENGTH:
        raise DomainError(
            "override_note_too_long", f"the note is {len(note)} characters; the limit is {MAX_NOTE_LENGTH}"
        )
    _require_known_year(day.year)
    override = uow.session.get(CalendarOverride, day)
    if (kind == DAY_OFF) == is_base_day_off(day):
        state = "a day off" if kind == DAY_OFF else "a working day"
        hint = "; remove its override instead" if override is not None else ""
        raise DomainError("override_changes_nothing", f"{day.isoformat()} is {state} in Vietnam's calendar{hint}")
    old = _override_state(override)
    if override is None:
        override = CalendarOverride(day=day)
        uow.session.add(override)
    override.kind, override.note, override.created_by, override.created_at = kind, note, actor, uow.clock()
    uow.session.flush()
    _record(uow, actor, operations.CALENDAR_OVERRIDE_SET, day, note, old, _override_state(override))
    _invalidate_on_commit(uow)
    logger.info("calendar override on %s set to %s by %s", day.isoformat(), kind, actor)
    return override


def remove_override(uow: UnitOfWork, actor: str, day: date, reason: str) -> None:
    """Give `day` back to the package's calendar, saying why (the operation log's reason).
    Raises DomainError reason_required, or unknown_override when the day has none."""
    reason = operations.require_reason(reason, operations.CALENDAR_OVERRIDE_REMOVE)
    override = uow.session.get(CalendarOverride, day)
    if override is None:
        raise DomainError("unknown_override", f"{day.isoformat()} has no override")
    old = _override_state(override)
    uow.session.delete(override)
    uow.session.flush()
    _record(uow, actor, operations.CALENDAR_OVERRIDE_REMOVE, day, reason, old, None)
    _invalidate_on_commit(uow)
    logger.info("calendar override on %s removed by %s", day.isoformat(), actor)


def year_days(uow: UnitOfWork, year: int, language: str = "vi") -> list[CalendarDay]:
    """The year's public holidays, make-up working days and overrides, by date. Holiday names
    are in `language` ("vi" or "en"; the package's own names). Raises DomainError
    year_out_of_range outside the years the package knows."""
    _require_known_year(year)
    country = holidays.VN(years=year, language=_package_language(language))
    days = {day: CalendarDay(day, True, HOLIDAY, name) for day, name in country.items() if day.year == year}
    days |= {day: CalendarDay(day, False, MAKE_UP_DAY) for day in country.weekend_workdays if day.year == year}
    overrides = uow.session.scalars(
        select(CalendarOverride).where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
    )
    for override in overrides:
        base = days.get(override.day)
        days[override.day] = CalendarDay(
            override.day,
            override.kind == DAY_OFF,
            OVERRIDE,
            base.name if base else None,
            override.note,
            override.created_by,
            override.created_at,
        )
    return sorted(days.values(), key=lambda entry: entry.day)


def last_day_of_period(calendar: WorkingDayCalendar, received: date, days: int) -> date:
    """The last day of a period of `days` working days received on `received`."""
    _require_known_year(received.year)
    due = calendar.add_working_days(datetime.combine(received, time(12), calendar.zone), days)
    # A period ends at 24:00 of its last day, the first instant of the next.
    return (due.astimezone(calendar.zone) - timedelta(microseconds=1)).date()


def run(services: Services, operation: Callable[..., T], *args, **kwargs) -> T:
    """Run one of this module's functions in a unit of work of its own and commit it."""
    with services.uow() as uow:
        result = operation(uow, *args, **kwargs)
        uow.commit()
    return result


def _require_known_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError("year_out_of_range", f"the calendar knows the years {FIRST_YEAR} to {LAST_YEAR}, not {year}")


def _override_state(override: CalendarOverride | None) -> dict | None:
    return None if override is None else {"kind": override.kind, "note": override.note}


def _record(uow: UnitOfWork, actor: str, action: str, day: date, reason: str, old, new) -> None:
    operations.record(
        uow.session,
        actor=actor,
        action=action,
        subject_type="calendar_day",
        subject_id=day.isoformat(),
        reason=reason,
        old=old,
        new=new,
        at=uow.clock(),
    )


def _invalidate_on_commit(uow: UnitOfWork) -> None:
    invalidate = getattr(uow.calendar, "invalidate", None)
    if invalidate is not None:
        uow.on_commit(invalidate)


def _package_language(language: str) -> str:
    """The package's code for a UI language ("en" -> "en_US"); its default when it has none."""
    supported = holidays.VN.supported_languages
    return next((code for code in supported if code.split("_")[0] == language), holidays.VN.default_language)
