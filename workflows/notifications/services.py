"""Telling people: an in-app notification per user, an e-mail in the outbox for those with an
address, both written in the caller's transaction; a heartbeat step that delivers the outbox over
SMTP, claiming rows like timer jobs and retrying with backoff (a failing server delays mail, it
never loses it); and a daily digest of what each user must act on soon.

Functions taking a UnitOfWork never commit, except the heartbeat steps (`deliver_mail`,
`build_daily_digest`), which own their transactions, and the functions taking `Services`, which
are the web's."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import UnitOfWork
from engine.models import HumanTask
from engine.timers import claim_rows

from ..bootstrap import Services
from ..inbox.queries import actionable_tasks, summaries_of
from ..nominations.services import LOCAL_TIME
from ..org.models import User
from .models import MAIL_PENDING, MAIL_SENDING, MAIL_SENT, DigestRun, MailOutbox, Notification

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
DIGEST_ITEMS = 5
MAX_SUBJECT = 500  # the column's length

# Errors that concern one message only; any other failure means the server is unusable for now,
# and the rest of the batch waits for the next attempt instead of each timing out in turn.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)

ROLE_NAMES = {
    "unit_officer": "Cán bộ thi đua – khen thưởng của đơn vị",
    "unit_head": "Thủ trưởng đơn vị",
    "bloc_head": "Trưởng cụm, khối thi đua",
    "bloc_member": "Thành viên cụm, khối thi đua",
    "board_officer": "Chuyên viên Ban Thi đua – Khen thưởng",
    "board_head": "Trưởng Ban Thi đua – Khen thưởng",
    "council_secretary": "Thư ký Hội đồng Thi đua – Khen thưởng",
    "council_member": "Thành viên Hội đồng Thi đua – Khen thưởng",
    "decider": "Người có thẩm quyền quyết định khen thưởng",
    "designer": "Người thiết kế quy trình",
    "auditor": "Thanh tra viên",
    "admin": "Quản trị hệ thống",
}
FOOTER = "\n\n--\nHệ thống thi đua – khen thưởng (thidua). Thư gửi tự động, xin đừng trả lời thư này."

# kind: (subject, first paragraph) of the e-mail, in Vietnamese; fields are those of `_fields`.
MAIL_TEXTS = {
    "task_reminder": (
        "Nhắc việc: {task_name} – {nomination}",
        "Nhiệm vụ «{task_name}» của hồ sơ {nomination} đã dùng {share} thời hạn xử lý. Hạn xử lý: {due}.",
    ),
    "task_due": (
        "Đến hạn: {task_name} – {nomination}",
        "Nhiệm vụ «{task_name}» của hồ sơ {nomination} đã đến hạn xử lý ({due}). Đề nghị hoàn thành ngay.",
    ),
    "task_overdue": (
        "Quá hạn: {task_name} – {nomination}",
        "Nhiệm vụ «{task_name}» của hồ sơ {nomination}, do {role} xử lý, đã quá hạn (hạn xử lý: {due}). "
        "Đề nghị đồng chí đôn đốc.",
    ),
    "task_escalated": (
        "Chuyển xử lý: {task_name} – {nomination}",
        "Nhiệm vụ «{task_name}» của hồ sơ {nomination} đã quá hạn (hạn xử lý: {due}) và được chuyển đến {role} "
        "để xử lý.",
    ),
    "digest": (
        "Tổng hợp công việc ngày {date}: {overdue} quá hạn, {due_soon} sắp đến hạn",
        "Đồng chí có {overdue} nhiệm vụ quá hạn và {due_soon} nhiệm vụ đến hạn trước hết ngày làm việc tiếp theo.",
    ),
}
KINDS = tuple(MAIL_TEXTS)


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


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationView]
    total: int
    page: int
    per_page: int
    unread_count: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ReadResult:
    marked: int
    unread_count: int


@dataclass(frozen=True)
class DeliverySummary:
    claimed: int
    sent: int
    failed: int


# --- writing ----------------------------------------------------------------------------------------


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
    _write(uow, entries, base_url)
    return len(entries)


def _write(uow: UnitOfWork, entries: list[tuple], base_url: str) -> None:
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


def render_mail(kind: str, data: dict, *, task_id: str | None = None, base_url: str = "") -> tuple[str, str]:
    """The Vietnamese subject and plain-text body of a notification's e-mail. Missing data shows
    as a dash rather than failing: a notification is never lost to its wording."""
    subject, paragraph = MAIL_TEXTS[kind]
    fields = _fields(data)
    lines = [paragraph.format_map(fields)]
    root = base_url.rstrip("/")
    if kind == "digest":
        for item in data.get("items") or []:
            if not isinstance(item, dict):
                continue
            item_fields = _fields(item)
            state = "quá hạn" if item.get("overdue") else "hạn"
            lines.append(
                f"- {item_fields['task_name']} – {item_fields['nomination']} ({state} {item_fields['due']}): "
                f"{root}/tasks/{item.get('task_id', '')}"
            )
        lines.append(f"Xem tất cả công việc: {root}/")
    elif task_id:
        lines.append(f"Xem và xử lý: {root}/tasks/{task_id}")
    subject = " ".join(subject.format_map(fields).split())  # one line: no header injection
    return subject[:MAX_SUBJECT], "\n\n".join(lines) + FOOTER


def _fields(data: dict) -> defaultdict:
    fields = defaultdict(lambda: "—", {key: value for key, value in data.items() if value not in (None, "")})
    if "due_at" in fields:
        fields["due"] = local_text(fields["due_at"])
    if isinstance(fields.get("share"), int | float):
        fields["share"] = f"{fields['share']:.0%}"
    if isinstance(fields.get("role"), str):
        fields["role"] = ROLE_NAMES.get(fields["role"], fields["role"])
    if "date" in fields:
        fields["date"] = _local_date_text(fields["date"])
    return fields


def local_text(moment: str | datetime) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time of an ISO timestamp (or the text itself when it is none)."""
    try:
        value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        return str(moment)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")


def _local_date_text(day: str) -> str:
    try:
        return datetime.fromisoformat(day).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(day)


# --- delivering -------------------------------------------------------------------------------------


class MailSender(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpSender:
    """Sends one plain-text UTF-8 message per connection. `ssl` connects over TLS (port 465);
    `starttls` upgrades a plain connection (port 587)."""

    host: str
    port: int = 25
    from_address: str = "thidua@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10

    def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        message["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2].strip(">") or "thidua")
        message.set_content(body)
        if self.ssl:
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with connection as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


def deliver_mail(
    make_uow: Callable[[], UnitOfWork], sender: MailSender, *, owner: str, limit: int = 50, lock_seconds: float = 60
) -> DeliverySummary:
    """Heartbeat step: claim due outbox rows (pending ones whose time has come, and sending ones
    whose holder's lock expired), then send each outside any transaction. A sent row is marked
    sent; a failure puts it back to pending with backoff (30 s doubling, at most an hour). Safe
    to run from any number of processes: each row's lock is renewed just before it is sent, so
    the rows a slow sender has not reached yet are not sent twice once another takes them over.
    Delivery is at least once: a sender that dies between sending and marking leaves a row that
    is sent again after its lock expires."""
    with make_uow() as uow:
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
            failed += _record_failure(make_uow(), mail_id, owner, server_error)
            continue
        mail = _renew_lock(make_uow(), mail_id, owner, lock_seconds)
        if mail is None:
            continue  # taken over by another sender after this one stalled
        try:
            sender.send(mail.recipient, mail.subject, mail.body)
        except MESSAGE_ERRORS as exc:
            failed += _record_failure(make_uow(), mail_id, owner, exc)
            continue
        except Exception as exc:  # noqa: BLE001 - top of a scheduler step: the row is retried, never lost
            if not isinstance(exc, OSError):
                logger.exception("mail %s: unexpected error from the sender", mail_id)
            server_error = exc
            failed += _record_failure(make_uow(), mail_id, owner, exc)
            continue
        sent += _mark_sent(make_uow(), mail_id, owner)
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


def backoff_seconds(attempts: int) -> int:
    """The wait after the `attempts`-th failure: 30 s, 60 s, 2 min … at most an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 16), BACKOFF_MAX_SECONDS)


# --- the daily digest -------------------------------------------------------------------------------


def build_daily_digest(make_uow: Callable[[], UnitOfWork], *, owner: str, hour: int, base_url: str = "") -> int | None:
    """Heartbeat step: once per local day (Asia/Ho_Chi_Minh), from `hour` on, notify every active
    user who can act on open tasks that are overdue or due by the end of the next working day.
    Returns how many were notified, or None when it is too early or the day's digest exists
    (the day's DigestRun row, inserted in the same transaction, makes it once however many
    schedulers run)."""
    with make_uow() as uow:
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
        _write(uow, entries, base_url)
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


# --- reading and marking ----------------------------------------------------------------------------


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


def notification_page(services: Services, user_id: str, page: int = 1, per_page: int = 25) -> NotificationPage:
    """A page of the user's notifications, newest first, with the total and the unread count."""
    with services.session_factory() as session:
        total = session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id))
        items = notifications_of(session, user_id, per_page, (page - 1) * per_page)
        return NotificationPage(items, total, page, per_page, unread_count(session, user_id))


def count_unread(services: Services, user_id: str) -> int:
    with services.session_factory() as session:
        return unread_count(session, user_id)


def mark_notifications_read(services: Services, user_id: str, ids: Iterable[int] | None = None) -> ReadResult:
    """`mark_read` in its own transaction; also counts what is still unread."""
    with services.uow() as uow:
        marked = mark_read(uow, user_id, ids)
        result = ReadResult(marked, unread_count(uow.session, user_id))
        uow.commit()
    return result
