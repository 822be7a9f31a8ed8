"""What the admin's calendar page lists: a year's holidays, make-up days and overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import holidays
from sqlalchemy import select

from ..uow import Services
from .models import DAY_OFF, CalendarOverride
from .vietnam import require_known_year

# Where a day of the admin page's list comes from.
HOLIDAY, MAKE_UP_DAY, OVERRIDE = "holiday", "make_up_day", "override"


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


def year_days(services: Services, year: int, language: str = "vi") -> list[CalendarDay]:
    """The year's public holidays, make-up working days and overrides, by date. Holiday names
    are in `language` ("vi" or "en"; the package's own names). Raises DomainError
    year_out_of_range outside the years the package knows."""
    require_known_year(year)
    country = holidays.VN(years=year, language=_package_language(language))
    days = {day: CalendarDay(day, True, HOLIDAY, name) for day, name in country.items() if day.year == year}
    days |= {day: CalendarDay(day, False, MAKE_UP_DAY) for day in country.weekend_workdays if day.year == year}
    with services.session_factory() as session:
        overrides = session.scalars(
            select(CalendarOverride).where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        ).all()
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


def _package_language(language: str) -> str:
    """The package's code for a UI language ("en" -> "en_US"); its default when it has none."""
    supported = holidays.VN.supported_languages
    return next((code for code in supported if code.split("_")[0] == language), holidays.VN.default_language)
