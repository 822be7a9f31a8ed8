"""The default weekday calendar: due times and the working days left that the inbox shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import WeekdayCalendar

FRIDAY = datetime(2026, 3, 6, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("days_later", "working_days"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (7, 5), (10, 6)],  # Sat, Sun, Mon, Tue, Fri, next Mon
)
def test_working_days_between_counts_weekdays_after_the_start_day(days_later, working_days):
    assert WeekdayCalendar().working_days_between(FRIDAY, FRIDAY + timedelta(days=days_later)) == working_days


def test_working_days_between_is_negative_for_a_past_due_time():
    assert WeekdayCalendar().working_days_between(FRIDAY + timedelta(days=4), FRIDAY) == -2


def test_adding_then_counting_working_days_round_trips():
    calendar = WeekdayCalendar()
    for days in range(0, 12):
        assert calendar.working_days_between(FRIDAY, calendar.add_working_days(FRIDAY, days)) == days
