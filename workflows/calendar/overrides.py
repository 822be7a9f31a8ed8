"""The admin's overrides of Vietnam's calendar inside the caller's unit of work, each recorded in
the operation log; this process's calendar reads them again once the change has committed."""

from __future__ import annotations

import logging
from datetime import date

from engine import UnitOfWork

from ..errors import DomainError
from ..operations import log
from .models import DAY_OFF, OVERRIDE_KINDS, CalendarOverride
from .vietnam import is_base_day_off, require_known_year

logger = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 500


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
    require_known_year(day.year)
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
    _record(uow, actor, log.CALENDAR_OVERRIDE_SET, day, note, old, _override_state(override))
    _invalidate_on_commit(uow)
    logger.info("calendar override on %s set to %s by %s", day.isoformat(), kind, actor)
    return override


def remove_override(uow: UnitOfWork, actor: str, day: date, reason: str) -> None:
    """Give `day` back to the package's calendar, saying why (the operation log's reason).
    Raises DomainError reason_required, or unknown_override when the day has none."""
    reason = log.require_reason(reason, log.CALENDAR_OVERRIDE_REMOVE)
    override = uow.session.get(CalendarOverride, day)
    if override is None:
        raise DomainError("unknown_override", f"{day.isoformat()} has no override")
    old = _override_state(override)
    uow.session.delete(override)
    uow.session.flush()
    _record(uow, actor, log.CALENDAR_OVERRIDE_REMOVE, day, reason, old, None)
    _invalidate_on_commit(uow)
    logger.info("calendar override on %s removed by %s", day.isoformat(), actor)


def _override_state(override: CalendarOverride | None) -> dict | None:
    return None if override is None else {"kind": override.kind, "note": override.note}


def _record(uow: UnitOfWork, actor: str, action: str, day: date, reason: str, old, new) -> None:
    log.record(
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
