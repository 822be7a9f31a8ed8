"""A user's in-app notifications inside the caller's unit of work: telling people (a notification
per user and, for those with an address, an e-mail in the outbox, written with the change they
are about), and reading and marking them read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine import UnitOfWork

from ..org.models import User
from .mail import MAIL_TEXTS, render_mail
from .models import MAIL_PENDING, MailOutbox, Notification


def notify(
    uow: UnitOfWork,
    user_ids: Iterable[str],
    kind: str,
    *,
    task_id: str | None = None,
    instance_id: str | None = None,
    data: dict[str, Any] | None = None,
    base_url: str = "",
) -> int:
    """One in-app notification per distinct active user, and an e-mail in the outbox for each of
    them with an address; returns how many users were notified. The mail links to the task under
    `base_url` (the path alone when it is empty). Raises ValueError for an unknown kind."""
    if kind not in MAIL_TEXTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return 0
    found = select(User.id, User.email).where(User.id.in_(ids), User.active.is_(True))
    emails = dict(uow.session.execute(found).all())
    data = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in (data or {}).items()}
    entries = [(user_id, emails[user_id], kind, task_id, instance_id, data) for user_id in emails]
    write_notifications(uow, entries, base_url)
    return len(entries)


def write_notifications(uow: UnitOfWork, entries: list[tuple], base_url: str) -> None:
    """Insert notifications and outbox rows for (user_id, email, kind, task_id, instance_id, data) entries."""
    if not entries:
        return
    now = uow.clock()
    session = uow.session
    session.execute(
        insert(Notification),
        [
            dict(user_id=user, kind=kind, task_id=task, instance_id=instance, data=data, created_at=now)
            for user, _, kind, task, instance, data in entries
        ],
    )
    mails = []
    for user, email, kind, task, _, data in entries:
        if email:
            subject, body = render_mail(kind, data, task_id=task, base_url=base_url)
            mails.append(
                dict(
                    user_id=user,
                    recipient=email,
                    subject=subject,
                    body=body,
                    status=MAIL_PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    if mails:
        session.execute(insert(MailOutbox), mails)


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    task_id: str | None
    instance_id: str | None
    data: dict
    created_at: datetime
    read_at: datetime | None

    @property
    def read(self) -> bool:
        return self.read_at is not None


def unread_count(session: Session, user_id: str) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def notifications_of(session: Session, user_id: str, limit: int, offset: int = 0) -> list[NotificationView]:
    """The user's notifications, newest first."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        NotificationView(n.id, n.kind, n.task_id, n.instance_id, n.data or {}, n.created_at, n.read_at) for n in rows
    ]


def mark_read(uow: UnitOfWork, user_id: str, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications among `ids` (None: all of them) read; returns how many.
    Ids of other users' notifications are ignored."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    return uow.session.execute(query.values(read_at=uow.clock())).rowcount
