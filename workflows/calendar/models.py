"""Days an admin marks off or working, over what the `holidays` package says."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase

DAY_OFF, WORKING_DAY = "day_off", "working_day"
OVERRIDE_KINDS = (DAY_OFF, WORKING_DAY)


class CalendarOverride(DomainBase):
    """One day made a day off (an extra holiday, a bridge day) or a working day (a make-up
    Saturday, a holiday cancelled), whatever the base calendar says."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
