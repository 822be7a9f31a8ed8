"""The admin's changes to Vietnam's calendar, each in its own transaction."""

from __future__ import annotations

from datetime import date

from ..uow import Services
from . import overrides


def set_override(services: Services, actor: str, day: date, kind: str, note: str) -> None:
    """Make `day` a day off or a working day (overrides.set_override says what is refused)."""
    services.in_transaction(overrides.set_override, actor, day, kind, note)


def remove_override(services: Services, actor: str, day: date, reason: str) -> None:
    """Give `day` back to the package's calendar, saying why (overrides.remove_override)."""
    services.in_transaction(overrides.remove_override, actor, day, reason)
