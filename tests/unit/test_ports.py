"""The engine's working-day calendar (weekends off, UTC): deadlines end at 24:00 of their last
day, the day of receipt is not counted, and the inbox's working days left count back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import WorkingDayCalendar

FRIDAY = datetime(2026, 3, 6, 2, 0, tzinfo=timezone.utc)


def midnight(year, month, day):
    return datetime(year, month, day, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("days_later", "working_days"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (7, 5), (10, 6)],  # Sat, Sun, Mon, Tue, Fri, next Mon
)
def test_working_days_between_counts_weekdays_after_the_start_day(days_later, working_days):
    assert WorkingDayCalendar().working_days_between(FRIDAY, FRIDAY + timedelta(days=days_later)) == working_days


def test_working_days_between_is_negative_for_a_past_due_time():
    assert WorkingDayCalendar().working_days_between(FRIDAY + timedelta(days=4), FRIDAY) == -2


@pytest.mark.parametrize(
    ("days", "deadline"),
    [
        (0, midnight(2026, 3, 7)),  # end of the day of receipt
        (1, midnight(2026, 3, 10)),  # Monday 24:00: the weekend is skipped
        (5, midnight(2026, 3, 14)),  # the next Friday 24:00
        (0.5, midnight(2026, 3, 9) + timedelta(hours=12)),  # noon of the next working day
        (1.5, midnight(2026, 3, 10) + timedelta(hours=12)),
    ],
)
def test_a_deadline_ends_at_midnight_after_its_last_working_day(days, deadline):
    assert WorkingDayCalendar().add_working_days(FRIDAY, days) == deadline


def test_a_period_of_calendar_days_ending_on_a_weekend_ends_on_the_next_working_day():
    calendar = WorkingDayCalendar()
    assert calendar.add_calendar_days(FRIDAY, 7) == midnight(2026, 3, 14)  # Friday 13 ends that day
    assert calendar.add_calendar_days(FRIDAY, 8) == midnight(2026, 3, 17)  # Saturday 14 ends on Monday 16


def test_receipt_on_a_day_off_counts_from_the_next_working_day():
    saturday = FRIDAY + timedelta(days=1)
    assert WorkingDayCalendar().add_working_days(saturday, 1) == midnight(2026, 3, 10)


def test_working_days_left_round_trips_with_adding():
    calendar = WorkingDayCalendar()
    for days in range(0, 12):
        assert calendar.working_days_left(FRIDAY, calendar.add_working_days(FRIDAY, days)) == days


def test_a_passed_deadline_has_negative_working_days_left():
    calendar = WorkingDayCalendar()
    due = calendar.add_working_days(FRIDAY, 1)  # Monday 24:00
    assert calendar.working_days_left(due + timedelta(hours=1), due) == -1  # Tuesday 01:00
