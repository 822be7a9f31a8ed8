"""Auditors' reads across every instance (the command line's, unscoped): the operation log and its
verification, the verification of every history chain and daily digest, the digests to keep
elsewhere, and the replay of one instance."""

from __future__ import annotations

import os
from datetime import date
from typing import Any, Iterable, Iterator

from sqlalchemy import func, select

import engine
from engine import VerificationReport
from engine.models import HistoryEvent

from ..operations.log import Filters, LogVerification, count, entries, verify
from ..paging import Page
from ..uow import Services


def operation_page(services: Services, filters: Filters = Filters(), *, page: int = 1, per_page: int = 50) -> Page:
    """One page of the entries `filters` selects, newest first."""
    page, per_page = max(1, page), min(max(1, per_page), 200)
    with services.session_factory() as session:
        total = count(session, filters)
        items = entries(session, filters, limit=per_page, offset=(page - 1) * per_page)
    return Page(items, total, page, per_page)


def verify_log(services: Services) -> LogVerification:
    with services.session_factory() as session:
        return verify(session)


# From about this many events verify_history splits the work across processes (one per core,
# two at most is what a core pair gives): starting them costs about a second.
PARALLEL_FROM_EVENTS = 200_000


def verify_history(
    services: Services, exported: Iterable[Any] | None = None, workers: int | None = None
) -> VerificationReport:
    """Verify every instance chain, the daily digests and the removal records (engine.verify_all),
    and the lines of an exported digest file when given. `workers` defaults to 2 processes on
    a large history, 1 otherwise."""
    with services.session_factory() as session:
        if workers is None:
            last_id = session.scalar(select(func.max(HistoryEvent.id))) or 0
            workers = min(2, os.cpu_count() or 1) if last_id >= PARALLEL_FROM_EVENTS else 1
            session.rollback()
        return engine.verify_all(session, exported=exported, workers=workers)


def export_digests(services: Services, since: date | None = None) -> Iterator[dict]:
    """The daily digests from `since` on, oldest first, as JSON objects to keep elsewhere."""
    with services.session_factory() as session:
        yield from engine.export_digests(session, since)


def replay(services: Services, instance_id: str, at: int | None = None) -> engine.Replay:
    """Rebuild an instance from its history up to event `at` and check each event; never writes.
    Raises InstanceNotFoundError, ReplayRangeError."""
    with services.uow() as uow:
        return engine.replay_instance(uow, instance_id, at)
