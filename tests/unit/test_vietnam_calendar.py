"""Vietnam's working-day calendar: the `holidays` package's days off and make-up Saturdays,
counted in Asia/Ho_Chi_Minh, with the admin's overrides on top, read again after
`refresh_seconds`. The overrides live in a throw-away in-memory table."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from workflows.calendar.models import DAY_OFF, WORKING_DAY, CalendarOverride
from workflows.calendar.vietnam import LOCAL_TIME, VietnamCalendar

UTC = timezone.utc


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TIME)


def end_of(year: int, month: int, day: int) -> datetime:
    """24:00 local of the day, in UTC: where a period ending that day ends."""
    return datetime.combine(date(year, month, day) + timedelta(days=1), time(), LOCAL_TIME).astimezone(UTC)


@pytest.fixture
def session_factory():
    database = create_engine("sqlite://")
    CalendarOverride.__table__.create(database)
    yield sessionmaker(bind=database)
    database.dispose()


@pytest.fixture
def calendar(session_factory) -> VietnamCalendar:
    return VietnamCalendar(session_factory)


def add_override(session_factory, day: date, kind: str) -> None:
    with session_factory() as session:
        session.add(
            CalendarOverride(day=day, kind=kind, note="test", created_by="tester", created_at=datetime.now(UTC))
        )
        session.commit()


def test_one_working_day_received_the_friday_before_tet_2026_ends_the_monday_after(calendar):
    due = calendar.add_working_days(local(2026, 2, 13, 10), 1)
    assert due == datetime(2026, 2, 23, 17, 0, tzinfo=UTC)  # Monday 23 February, 24:00 in Hanoi
    assert [calendar.is_working_day(date(2026, 2, day)) for day in range(16, 21)] == [False] * 5
    assert calendar.working_days_between(local(2026, 2, 13), local(2026, 2, 23)) == 1


def test_the_2026_swap_makes_saturday_22_august_a_working_day_and_monday_31_august_a_day_off(calendar):
    assert calendar.is_working_day(date(2026, 8, 22))
    assert not calendar.is_working_day(date(2026, 8, 31))
    assert calendar.add_working_days(local(2026, 8, 21), 1) == end_of(2026, 8, 22)
    # Monday 31 August off, National Day on 1 and 2 September.
    assert calendar.add_working_days(local(2026, 8, 28), 1) == end_of(2026, 9, 3)


def test_hung_kings_day_on_a_sunday_is_observed_on_the_monday(calendar):
    assert not calendar.is_working_day(date(2026, 4, 26))  # the Sunday itself
    assert not calendar.is_working_day(date(2026, 4, 27))  # the observed Monday
    assert calendar.add_working_days(local(2026, 4, 24), 1) == end_of(2026, 4, 28)
    assert not calendar.is_working_day(date(2025, 4, 7))  # 2025: on a Monday


def test_a_period_of_calendar_days_ending_on_a_holiday_ends_at_the_end_of_the_next_working_day(calendar):
    # 7 days from Thursday 23 April end on Thursday 30 April, Reunification Day; 1 May is Labour
    # Day and 2-3 May a weekend, so the period ends with Monday 4 May.
    assert calendar.add_calendar_days(local(2026, 4, 23), 7) == end_of(2026, 5, 4)
    assert calendar.add_calendar_days(local(2026, 4, 22), 6) == end_of(2026, 4, 28)


def test_a_receipt_counts_on_its_day_in_hanoi_not_in_utc(calendar):
    # 00:30 on Friday 13 February in Hanoi is still Thursday in UTC: a Friday receipt, so one
    # working day ends after Tết, not on the Friday.
    assert calendar.add_working_days(datetime(2026, 2, 12, 17, 30, tzinfo=UTC), 1) == end_of(2026, 2, 23)
    # 06:00 on Monday 9 March in Hanoi is Sunday in UTC: a Monday receipt, due Tuesday.
    assert calendar.add_working_days(datetime(2026, 3, 8, 23, 0, tzinfo=UTC), 1) == end_of(2026, 3, 10)
    assert end_of(2026, 3, 10) == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def test_an_override_adds_a_day_off(session_factory, calendar):
    add_override(session_factory, date(2026, 3, 13), DAY_OFF)  # a Friday
    assert not calendar.is_working_day(date(2026, 3, 13))
    assert calendar.add_working_days(local(2026, 3, 12), 1) == end_of(2026, 3, 16)


def test_an_override_adds_a_make_up_saturday(session_factory, calendar):
    add_override(session_factory, date(2026, 3, 14), WORKING_DAY)
    assert calendar.add_working_days(local(2026, 3, 13), 1) == end_of(2026, 3, 14)
    assert calendar.working_days_between(local(2026, 3, 13), local(2026, 3, 16)) == 2


def test_an_override_removes_a_holiday(session_factory, calendar):
    assert not calendar.is_working_day(date(2026, 11, 24))  # Vietnam Cultural Day
    add_override(session_factory, date(2026, 11, 24), WORKING_DAY)
    fresh = VietnamCalendar(session_factory)
    assert fresh.is_working_day(date(2026, 11, 24))
    assert fresh.add_working_days(local(2026, 11, 23), 1) == end_of(2026, 11, 24)


def test_another_calendar_sees_a_change_only_once_refresh_seconds_have_passed(session_factory, clock):
    changing = VietnamCalendar(session_factory, clock=clock, refresh_seconds=60)
    other = VietnamCalendar(session_factory, clock=clock, refresh_seconds=60)
    friday = date(2026, 3, 13)
    assert changing.is_working_day(friday) and other.is_working_day(friday)

    add_override(session_factory, friday, DAY_OFF)
    changing.invalidate()
    assert not changing.is_working_day(friday)  # the process that changed it: at once
    clock.advance(seconds=59)
    assert other.is_working_day(friday)  # another process: not yet
    clock.advance(seconds=1)
    assert not other.is_working_day(friday)


def test_counting_a_year_of_days_reads_the_overrides_once(calendar, monkeypatch):
    reads = []
    read = calendar._read_overrides
    monkeypatch.setattr(calendar, "_read_overrides", lambda: reads.append(1) or read())
    assert calendar.working_days_between(local(2026, 1, 1), local(2026, 12, 31)) > 200
    calendar.add_working_days(local(2026, 1, 1), 240)
    assert len(reads) == 1
