"""E-mail: the Vietnamese wording of each kind of notification, the SMTP sender the outbox is
delivered through, and the backoff after a failure."""

from __future__ import annotations

import smtplib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from ..calendar.vietnam import LOCAL_TIME

MAX_SUBJECT = 500  # the column's length


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


BACKOFF_BASE_SECONDS = 30


BACKOFF_MAX_SECONDS = 3600


# Errors that concern one message only; any other failure means the server is unusable for now,
# and the rest of the batch waits for the next attempt instead of each timing out in turn.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


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


def backoff_seconds(attempts: int) -> int:
    """The wait after the `attempts`-th failure: 30 s, 60 s, 2 min … at most an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** min(attempts - 1, 16), BACKOFF_MAX_SECONDS)
