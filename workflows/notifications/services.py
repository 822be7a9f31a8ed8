"""The notification front doors: the scheduler's heartbeat steps that deliver the mail outbox over
SMTP (claiming rows like timer jobs and retrying with backoff: a failing server delays mail, it
never loses it) and build the daily digest of what each user must act on soon; and a user's
reading and marking of their notifications."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine import UnitOfWork
from engine.models import HumanTask
from engine.timers import claim_rows

from ..calendar.vietnam import LOCAL_TIME
from ..nominations.access import actionable_tasks
from ..nominations.summaries import summaries_of
from ..org.models import User
from ..uow import Services
from .feed import mark_read, unread_count, write_notifications
from .mail import MESSAGE_ERRORS, MailSender, backoff_seconds
from .models import MAIL_PENDING, MAIL_SENDING, MAIL_SENT, DigestRun, MailOutbox

logger = logging.getLogger(__name__)

DIGEST_ITEMS = 5


@dataclass(frozen=True)
class ReadResult:
    marked: int
    unread_count: int


@dataclass(frozen=True)
class DeliverySummary:
    claimed: int
    sent: int
    failed: int


def deliver_mail(
    services: Services, sender: MailSender, *, owner: str, limit: int = 50, lock_seconds: float = 60
) -> DeliverySummary:
    """Heartbeat step: claim due outbox rows (pending ones whose time has come, and sending ones
    whose holder's lock expired), then send each outside any transaction. A sent row is marked
    sent; a failure puts it back to pending with backoff (30 s doubling, at most an hour). Safe
    to run from any number of processes: each row's lock is renewed just before it is sent, so
    the rows a slow sender has not reached yet are not sent twice once another takes them over.
    Delivery is at least once: a sender that dies between sending and marking leaves a row that
    is sent again after its lock expires."""
    with services.uow() as uow:
        now = uow.clock()
        claimable = and_(
            MailOutbox.next_attempt_at <= now,
            or_(
                MailOutbox.status == MAIL_PENDING,
                and_(MailOutbox.status == MAIL_SENDING, MailOutbox.lock_expires_at < now),
            ),
        )
        ids = claim_rows(
            uow,
            MailOutbox,
            claimable,
            (MailOutbox.next_attempt_at, MailOutbox.id),
            limit,
            status=MAIL_SENDING,
            lock_owner=owner,
            lock_expires_at=now + timedelta(seconds=lock_seconds),
        )
    sent = failed = 0
    server_error: Exception | None = None
    for mail_id in ids:
        if server_error is not None:
            failed += _record_failure(services.uow(), mail_id, owner, server_error)
            continue
        mail = _renew_lock(services.uow(), mail_id, owner, lock_seconds)
        if mail is None:
            continue  # taken over by another sender after this one stalled
        try:
            sender.send(mail.recipient, mail.subject, mail.body)
        except MESSAGE_ERRORS as exc:
            failed += _record_failure(services.uow(), mail_id, owner, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - top of a scheduler step: the row is retried, never lost
            if not isinstance(exc, OSError):
                logger.exception("mail %s: unexpected error from the sender", mail_id)
            server_error = exc
            failed += _record_failure(services.uow(), mail_id, owner, exc)
            continue
        sent += _mark_sent(services.uow(), mail_id, owner)
    if server_error is not None:
        logger.warning("mail server unavailable (%s); %s e-mails wait for their next attempt", server_error, failed)
    return DeliverySummary(len(ids), sent, failed)


def _renew_lock(uow: UnitOfWork, mail_id: int, owner: str, lock_seconds: float):
    """The row's recipient, subject and body if `owner` still holds it; its lock runs again from now."""
    with uow:
        row = uow.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == mail_id, MailOutbox.status == MAIL_SENDING, MailOutbox.lock_owner == owner)
            .values(lock_expires_at=uow.clock() + timedelta(seconds=lock_seconds))
            .returning(MailOutbox.recipient, MailOutbox.subject, MailOutbox.body)
        ).first()
        uow.commit()
        return row


def _mark_sent(uow: UnitOfWork, mail_id: int, owner: str) -> int:
    with uow:
        marked = uow.session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == mail_id, MailOutbox.status == MAIL_SENDING, MailOutbox.lock_owner == owner)
            .values(
                status=MAIL_SENT,
                sent_at=uow.clock(),
                attempts=MailOutbox.attempts + 1,
                lock_owner=None,
                lock_expires_at=None,
                last_error=None,
            )
        ).rowcount
        uow.commit()
    if not marked:
        logger.warning("mail %s was sent but another sender had taken it over meanwhile", mail_id)
    return 1


def _record_failure(uow: UnitOfWork, mail_id: int, owner: str, exc: Exception) -> int:
    with uow:
        mail = uow.session.get(MailOutbox, mail_id)
        if mail is None or mail.status != MAIL_SENDING or mail.lock_owner != owner:
            return 0
        mail.attempts += 1
        mail.status, mail.lock_owner, mail.lock_expires_at = MAIL_PENDING, None, None
        mail.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
        mail.next_attempt_at = uow.clock() + timedelta(seconds=backoff_seconds(mail.attempts))
        logger.info(
            "mail %s to user %s not sent (attempt %s): %s", mail.id, mail.user_id, mail.attempts, exc.__class__.__name__
        )
        uow.commit()
    return 1


def build_daily_digest(services: Services, *, owner: str, hour: int, base_url: str = "") -> int | None:
    """Heartbeat step: once per local day (Asia/Ho_Chi_Minh), from `hour` on, notify every active
    user who can act on open tasks that are overdue or due by the end of the next working day.
    Returns how many were notified, or None when it is too early or the day's digest exists
    (the day's DigestRun row, inserted in the same transaction, makes it once however many
    schedulers run)."""
    with services.uow() as uow:
        now = uow.clock()
        local = now.astimezone(LOCAL_TIME)
        if local.hour < hour:
            return None
        session = uow.session
        if session.get(DigestRun, local.date()) is not None:
            return None
        run = DigestRun(day=local.date(), started_by=owner, created_at=now, notified=0)
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            return None  # another scheduler is building today's digest
        limit = uow.calendar.add_working_days(now, 1)
        pairs = actionable_tasks(HumanTask.due_at.is_not(None), HumanTask.due_at <= limit).subquery()
        rows = session.execute(
            select(pairs.c.user_id, HumanTask.id, HumanTask.name, HumanTask.due_at, HumanTask.business_key)
            .join(HumanTask, HumanTask.id == pairs.c.task_id)
            .order_by(pairs.c.user_id, HumanTask.due_at, HumanTask.id)
        ).all()
        summaries = summaries_of(session, {row.business_key for row in rows if row.business_key})
        labels = {key: f"{s.award_title} – {s.nominee_name}" for key, s in summaries.items()}
        tasks_of: dict[str, list] = defaultdict(list)
        for row in rows:
            tasks_of[row.user_id].append(row)
        emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(tasks_of))).all())
        entries = [
            (user_id, emails.get(user_id), "digest", None, None, _digest_data(tasks, labels, now, local))
            for user_id, tasks in tasks_of.items()
        ]
        write_notifications(uow, entries, base_url)
        run.notified = len(entries)
        uow.commit()
    logger.info("daily digest of %s: %s users notified", run.day, run.notified)
    return run.notified


def _digest_data(tasks: list, labels: dict[str, str], now: datetime, local: datetime) -> dict:
    overdue = sum(1 for task in tasks if task.due_at < now)
    items = [
        {
            "task_id": task.id,
            "task_name": task.name,
            "nomination": labels.get(task.business_key, task.business_key),
            "due_at": task.due_at.isoformat(),
            "overdue": task.due_at < now,
        }
        for task in tasks[:DIGEST_ITEMS]
    ]
    return {
        "date": local.date().isoformat(),
        "overdue": overdue,
        "due_soon": len(tasks) - overdue,
        "total": len(tasks),
        "items": items,
    }


def mark_notifications_read(services: Services, user_id: str, ids: Iterable[int] | None = None) -> ReadResult:
    """`mark_read` in its own transaction; also counts what is still unread."""
    with services.uow() as uow:
        marked = mark_read(uow, user_id, ids)
        result = ReadResult(marked, unread_count(uow.session, user_id))
        uow.commit()
    return result
