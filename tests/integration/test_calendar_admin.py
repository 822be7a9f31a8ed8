"""The working-day calendar over a real database: the override services, a calendar read in the
middle of a transaction, the `thidua calendar` commands, and the admin page with its access
check, form and refusals. SQLite and PostgreSQL."""

from __future__ import annotations

import time as timer
from datetime import date, datetime, timezone

import pytest

from tests.integration.conftest import sign_in
from tests.integration.test_cli import assert_one_line_error
from web.extensions import services as app_services
from workflows.bootstrap import bootstrap
from workflows.calendar import overrides
from workflows.calendar import queries as calendar_days
from workflows.calendar import services as calendar
from workflows.calendar.models import DAY_OFF, WORKING_DAY, CalendarOverride
from workflows.errors import DomainError

FRIDAY = date(2026, 3, 13)


def set_override(services, day: date, kind: str, note: str = "Thông báo của Bộ Nội vụ") -> None:
    calendar.set_override(services, "admin", day, kind, note)


@pytest.mark.parametrize(
    ("day", "kind", "note", "code"),
    [
        (date(2026, 3, 15), DAY_OFF, "x", "override_changes_nothing"),  # a Sunday
        (date(2026, 2, 17), DAY_OFF, "x", "override_changes_nothing"),  # Tết
        (FRIDAY, WORKING_DAY, "x", "override_changes_nothing"),
        (date(2026, 8, 22), WORKING_DAY, "x", "override_changes_nothing"),  # the package's make-up Saturday
        (FRIDAY, "holiday", "x", "invalid_override_kind"),
        (FRIDAY, DAY_OFF, "  ", "override_note_required"),
        (FRIDAY, DAY_OFF, "x" * 501, "override_note_too_long"),
        (date(2200, 3, 13), DAY_OFF, "x", "year_out_of_range"),
    ],
)
def test_an_override_is_refused_with_its_code(services, day, kind, note, code):
    with pytest.raises(DomainError) as refused:
        set_override(services, day, kind, note)
    assert refused.value.code == code
    with services.session_factory() as session:
        assert session.get(CalendarOverride, day) is None


def test_an_override_replaces_the_days_override_and_is_seen_at_once_after_commit(services, clock):
    assert services.calendar.is_working_day(FRIDAY)
    set_override(services, FRIDAY, DAY_OFF, "  Nghỉ bù  ")
    assert not services.calendar.is_working_day(FRIDAY)
    clock.advance(hours=1)
    set_override(services, FRIDAY, DAY_OFF, "Công văn 123/BNV")
    with services.session_factory() as session:
        override = session.get(CalendarOverride, FRIDAY)
        assert (override.kind, override.note, override.created_by) == (DAY_OFF, "Công văn 123/BNV", "admin")
        assert override.created_at == clock()


def test_an_override_on_an_overridden_holiday_back_to_its_base_asks_for_removal(services):
    set_override(services, date(2026, 11, 24), WORKING_DAY)
    with pytest.raises(DomainError, match="remove its override") as refused:
        set_override(services, date(2026, 11, 24), DAY_OFF)
    assert refused.value.code == "override_changes_nothing"


def test_removing_an_override_gives_the_day_back(services):
    set_override(services, date(2026, 11, 24), WORKING_DAY)
    assert services.calendar.is_working_day(date(2026, 11, 24))
    calendar.remove_override(services, "admin", date(2026, 11, 24), "Hủy theo công văn mới")
    assert not services.calendar.is_working_day(date(2026, 11, 24))
    with pytest.raises(DomainError) as refused:
        calendar.remove_override(services, "admin", date(2026, 11, 24), "Hủy theo công văn mới")
    assert refused.value.code == "unknown_override"


def test_a_change_rolled_back_leaves_the_calendar_alone(services):
    assert services.calendar.is_working_day(FRIDAY)
    with services.uow() as uow:
        overrides.set_override(uow, "admin", FRIDAY, DAY_OFF, "x")
    assert services.calendar.is_working_day(FRIDAY)


def test_the_calendar_reads_its_overrides_in_the_middle_of_a_write_transaction(services):
    set_override(services, FRIDAY, DAY_OFF)
    started = timer.monotonic()
    with services.uow() as uow:
        overrides.set_override(uow, "admin", date(2026, 3, 16), DAY_OFF, "x")  # holds the write lock
        services.calendar.invalidate()
        assert not services.calendar.is_working_day(FRIDAY)  # committed rows only
        assert services.calendar.is_working_day(date(2026, 3, 16))
    assert timer.monotonic() - started < 5


def test_the_year_lists_holidays_make_up_days_and_overrides_with_their_source(services, clock):
    set_override(services, date(2026, 11, 24), WORKING_DAY, "Làm việc bình thường")
    set_override(services, date(2026, 9, 3), DAY_OFF, "Nghỉ thêm")
    days = {entry.day: entry for entry in calendar_days.year_days(services, 2026, "en")}
    assert days[date(2026, 2, 17)] == calendar_days.CalendarDay(
        date(2026, 2, 17), True, calendar_days.HOLIDAY, "Lunar New Year"
    )
    assert days[date(2026, 8, 22)] == calendar_days.CalendarDay(date(2026, 8, 22), False, calendar_days.MAKE_UP_DAY)
    assert days[date(2026, 11, 24)] == calendar_days.CalendarDay(
        date(2026, 11, 24),
        False,
        calendar_days.OVERRIDE,
        "Vietnam Cultural Day",
        "Làm việc bình thường",
        "admin",
        clock(),
    )
    assert days[date(2026, 9, 3)].day_off and days[date(2026, 9, 3)].name is None
    assert all(day.year == 2026 for day in days)
    vietnamese = calendar_days.year_days(services, 2026)
    assert "Tết Nguyên Đán" in {entry.name for entry in vietnamese}


# The `thidua calendar` commands on the same database (`run` is in conftest).


def test_add_working_days_counts_over_tet_and_the_overrides(run, database_url):
    assert run("calendar", "add-working-days", "2026-02-13", "1").stdout == "2026-02-23\n"
    assert run("calendar", "add-working-days", "2026-08-21", "1").stdout == "2026-08-22\n"
    services = bootstrap(database_url)
    try:
        set_override(services, date(2026, 2, 23), DAY_OFF)
    finally:
        services.dispose()
    assert run("calendar", "add-working-days", "2026-02-13", "1").stdout == "2026-02-24\n"


def test_add_working_days_refuses_a_bad_date_or_count_in_one_line(run):
    for args, fragment in [
        (("2026-02-30", "1"), "DATE"),
        (("13/02/2026", "1"), "DATE"),
        (("2026-02-13", "x"), "'N'"),
        (("2026-02-13", "0"), "'N'"),
    ]:
        result = run("calendar", "add-working-days", *args, check=False)
        assert result.returncode == 2
        assert_one_line_error(result, fragment)
    result = run("calendar", "add-working-days", "9999-12-31", "1", check=False)
    assert result.returncode == 1
    assert_one_line_error(result, "2100")


def test_days_off_lists_the_year_with_sources(run, database_url):
    services = bootstrap(database_url)
    try:
        set_override(services, date(2026, 9, 3), DAY_OFF, "Nghỉ thêm")
    finally:
        services.dispose()
    lines = run("calendar", "days-off", "2026").stdout.splitlines()
    assert "2026-02-17 Tue  day off      holiday: Tết Nguyên Đán" in lines
    assert "2026-08-22 Sat  working day  make-up working day" in lines
    assert any(line.startswith("2026-09-03 Thu  day off      override by admin at ") for line in lines)
    assert lines[-1].startswith("2026-11-24")
    assert_one_line_error(run("calendar", "days-off", "1800", check=False), "YEAR")


# The admin page on the demo province.


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def page(response) -> str:
    return response.get_data(as_text=True)


def test_an_admin_sees_the_years_days_off_and_make_up_days(client):
    sign_in(client, "admin")
    response = client.get("/admin/calendar?year=2026")
    assert response.status_code == 200
    text = page(response)
    assert 'data-day="2026-02-17"' in text and "Tết Nguyên Đán" in text
    assert 'data-day="2026-08-22"' in text and 'data-day="2026-08-31"' in text
    assert "/admin/calendar" in page(client.get("/"))  # the nav link


def test_the_admin_pages_are_for_admins_only(client):
    assert client.get("/admin/calendar").status_code == 302  # to sign in
    token = sign_in(client, "chuyen.vien.1")
    assert "/admin/calendar" not in page(client.get("/"))
    assert client.get("/admin/calendar").status_code == 403
    refused = client.post(
        "/admin/calendar/overrides", data={"csrf_token": token, "day": "2026-09-03", "kind": DAY_OFF, "note": "x"}
    )
    assert refused.status_code == 403


def test_an_admin_adds_and_removes_an_override(client, demo_app):
    token = sign_in(client, "admin")
    services = app_services(demo_app)
    added = client.post(
        "/admin/calendar/overrides",
        data={"csrf_token": token, "day": "2026-09-03", "kind": DAY_OFF, "note": "Nghỉ thêm dịp Quốc khánh"},
    )
    assert added.status_code == 302 and added.headers["Location"].endswith("/admin/calendar?year=2026")
    assert not services.calendar.is_working_day(date(2026, 9, 3))
    text = page(client.get("/admin/calendar?year=2026"))
    assert 'data-day="2026-09-03"' in text and "Nghỉ thêm dịp Quốc khánh" in text
    assert "/admin/calendar/overrides/2026-09-03/remove" in text

    removed = client.post(
        "/admin/calendar/overrides/2026-09-03/remove", data={"csrf_token": token, "reason": "Thông báo bị hủy"}
    )
    assert removed.status_code == 302
    assert services.calendar.is_working_day(date(2026, 9, 3))
    assert 'data-day="2026-09-03"' not in page(client.get("/admin/calendar?year=2026"))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"day": "2026-02-30", "kind": DAY_OFF, "note": "x"}, "day"),
        ({"day": "", "kind": DAY_OFF, "note": "x"}, "day"),
        ({"day": "2026-03-15", "kind": DAY_OFF, "note": "x"}, "day"),  # a Sunday: changes nothing
        ({"day": "2300-03-13", "kind": DAY_OFF, "note": "x"}, "day"),
        ({"day": "2026-03-13", "kind": "holiday", "note": "x"}, "kind"),
        ({"day": "2026-03-13", "kind": DAY_OFF, "note": " "}, "note"),
        ({"day": "2026-03-13", "kind": DAY_OFF}, "note"),
    ],
)
def test_a_bad_override_form_comes_back_with_a_400_naming_the_field(client, demo_app, form, field):
    token = sign_in(client, "admin")
    response = client.post("/admin/calendar/overrides", data={"csrf_token": token, "year": "2026", **form})
    assert response.status_code == 400
    text = page(response)
    assert f'data-error-for="{field}"' in text
    assert 'name="note"' in text  # the form again
    with app_services(demo_app).session_factory() as session:
        assert session.query(CalendarOverride).count() == 0


def test_a_bad_year_or_an_unknown_override_is_a_400_not_a_500(client):
    token = sign_in(client, "admin")
    for year in ("abc", "1800", "99999999999999999999"):
        response = client.get(f"/admin/calendar?year={year}")
        assert response.status_code == 400 and 'data-error-for="year"' in page(response)
    for day in ("2026-09-03", "not-a-date"):
        response = client.post(f"/admin/calendar/overrides/{day}/remove", data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 400 and 'data-error-for="day"' in page(response)


def test_an_override_form_without_the_csrf_token_is_refused_and_changes_nothing(client, demo_app):
    sign_in(client, "admin")
    response = client.post("/admin/calendar/overrides", data={"day": "2026-09-03", "kind": DAY_OFF, "note": "x"})
    assert response.status_code == 403
    with app_services(demo_app).session_factory() as session:
        assert session.get(CalendarOverride, date(2026, 9, 3)) is None


def test_the_page_speaks_english_on_request(client):
    token = sign_in(client, "admin")
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    text = page(client.get("/admin/calendar?year=2026"))
    assert "Lunar New Year" in text and "Working-day calendar 2026" in text


def test_the_page_shows_the_current_year_in_hanoi_by_default(client, demo_app):
    sign_in(client, "admin")
    assert app_services(demo_app).clock() == datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)
    text = page(client.get("/admin/calendar"))
    assert "2022" in text and 'data-day="2022-02-01"' in text  # Tết 2022
