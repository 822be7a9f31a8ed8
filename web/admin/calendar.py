"""The working-day calendar: a year's days off and make-up working days with where each comes
from, and the overrides an administrator adds or removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import format_date, lazy_gettext

from workflows.calendar import queries as calendar_days
from workflows.calendar import services as calendar
from workflows.calendar import vietnam
from workflows.calendar.models import DAY_OFF, WORKING_DAY
from workflows.calendar.overrides import MAX_NOTE_LENGTH
from workflows.errors import DomainError

from ..extensions import services
from ..i18n import nfc, select_locale
from ..security import current_principal
from .blueprint import bp

FIELD_LABELS = {
    "year": lazy_gettext("Year"),
    "day": lazy_gettext("Date"),
    "kind": lazy_gettext("Kind"),
    "note": lazy_gettext("Note"),
    "reason": lazy_gettext("Reason"),
}
# A refusal's field on the override form, and its wording.
FIELD_ERRORS = {
    "invalid_date": ("day", lazy_gettext("Enter a valid date.")),
    "invalid_year": ("year", lazy_gettext("Enter a year as a whole number.")),
    "year_out_of_range": (
        "day",
        lazy_gettext(
            "The calendar covers the years %(first)d to %(last)d.", first=vietnam.FIRST_YEAR, last=vietnam.LAST_YEAR
        ),
    ),
    "invalid_override_kind": ("kind", lazy_gettext("Choose a day off or a working day.")),
    "override_note_required": ("note", lazy_gettext("Say why the day changes, e.g. the government's notice.")),
    "override_note_too_long": (
        "note",
        lazy_gettext("The note is longer than %(limit)d characters.", limit=MAX_NOTE_LENGTH),
    ),
    "override_changes_nothing": ("day", lazy_gettext("The calendar already treats this day so.")),
    "unknown_override": ("day", lazy_gettext("This day has no override.")),
    "reason_required": ("reason", lazy_gettext("Say why the change is removed.")),
    "reason_too_long": ("reason", lazy_gettext("The reason is too long.")),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    label: str
    message: str


@bp.get("/calendar")
def calendar_page():
    """A year's days off and make-up working days, with the override form."""
    try:
        return _page(_year(request.args.get("year")))
    except DomainError as error:
        return _page(_this_year(), _field_error(error, "year"), {"year": request.args.get("year", "")}), 400


@bp.post("/calendar/overrides")
def add_override():
    """Make a day a day off or a working day, replacing its override if it has one."""
    form = nfc(request.form.to_dict())
    try:
        day = _day(form.get("day"))
        calendar.set_override(
            services(current_app), current_principal().id, day, form.get("kind", ""), form.get("note", "")
        )
    except DomainError as error:
        return _page(_shown_year(form), _field_error(error), form), 400
    return redirect(url_for("admin.calendar_page", year=day.year))


@bp.post("/calendar/overrides/<day>/remove")
def remove_override(day: str):
    """Give a day back to Vietnam's calendar, saying why."""
    reason = nfc(request.form.get("reason", ""))
    try:
        parsed = _day(day)
        calendar.remove_override(services(current_app), current_principal().id, parsed, reason)
    except DomainError as error:
        return _page(_shown_year({"day": day}), _field_error(error), {"remove_day": day, "reason": reason}), 400
    return redirect(url_for("admin.calendar_page", year=parsed.year))


def _page(year: int, error: FieldError | None = None, values: dict | None = None):
    days = calendar_days.year_days(services(current_app), year, select_locale())
    return render_template(
        "admin/calendar.html",
        year=year,
        days=days,
        error=error,
        values=values or {},
        kinds={DAY_OFF: lazy_gettext("Day off"), WORKING_DAY: lazy_gettext("Working day")},
        first_year=vietnam.FIRST_YEAR,
        last_year=vietnam.LAST_YEAR,
        day_text=lambda day: format_date(day, "EEEE dd/MM/yyyy"),
    )


def _field_error(error: DomainError, field: str | None = None) -> FieldError:
    known_field, wording = FIELD_ERRORS.get(error.code, ("day", None))
    field = field or known_field
    return FieldError(field, str(FIELD_LABELS[field]), str(wording) if wording else error.message)


def _year(text: str | None) -> int:
    if not text:
        return _this_year()
    try:
        year = int(text)
    except ValueError:
        raise DomainError("invalid_year", f"{text!r} is not a year") from None
    if not vietnam.FIRST_YEAR <= year <= vietnam.LAST_YEAR:
        raise DomainError("year_out_of_range", f"{year} is outside the calendar's years")
    return year


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise DomainError("invalid_date", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _shown_year(form: dict) -> int:
    """The year to show again after a refused form: the date's, else the page's, else this one."""
    try:
        day = _day(form.get("day"))
    except DomainError:
        day = None
    if day is not None and vietnam.FIRST_YEAR <= day.year <= vietnam.LAST_YEAR:
        return day.year
    try:
        return _year(form.get("year"))
    except DomainError:
        return _this_year()


def _this_year() -> int:
    return services(current_app).clock().astimezone(vietnam.LOCAL_TIME).year
