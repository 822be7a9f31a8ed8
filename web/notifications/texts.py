"""The words of an in-app notification, rendered when it is shown, in the reader's language, from
its kind and data (the e-mail's Vietnamese text is written when the notification is made)."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import format_percent, lazy_gettext

from workflows.notifications.feed import NotificationView

from ..i18n import datetime_text

MISSING = "—"

# kind: its sentence; the fields are those of `_fields`.
TEXTS = {
    "task_reminder": lazy_gettext(
        "Reminder: “%(task_name)s” (%(nomination)s) has used %(share)s of its time limit; due %(due)s."
    ),
    "task_due": lazy_gettext("Due now: “%(task_name)s” (%(nomination)s), due %(due)s."),
    "task_overdue": lazy_gettext("Overdue: “%(task_name)s” (%(nomination)s), handled by %(role)s, was due %(due)s."),
    "task_escalated": lazy_gettext(
        "Passed to you: “%(task_name)s” (%(nomination)s) is overdue (due %(due)s) and now awaits %(role)s."
    ),
    "digest": lazy_gettext("Daily digest: %(overdue)s overdue, %(due_soon)s due by the next working day."),
}

ROLE_NAMES = {
    "unit_officer": lazy_gettext("the unit's emulation officer"),
    "unit_head": lazy_gettext("the unit head"),
    "bloc_head": lazy_gettext("the bloc head"),
    "bloc_member": lazy_gettext("a bloc member"),
    "board_officer": lazy_gettext("a board officer"),
    "board_head": lazy_gettext("the board head"),
    "council_secretary": lazy_gettext("the council secretary"),
    "council_member": lazy_gettext("a council member"),
    "decider": lazy_gettext("the decider"),
    "designer": lazy_gettext("a process designer"),
    "auditor": lazy_gettext("an auditor"),
    "admin": lazy_gettext("an administrator"),
}


def notification_text(notification: NotificationView) -> str:
    text = TEXTS.get(notification.kind)
    if text is None:
        return notification.kind
    return text % _fields(notification.data)


def notification_link(notification: NotificationView) -> str:
    """The task the notification is about; the inbox for a digest."""
    if notification.task_id:
        return url_for("inbox.task", task_id=notification.task_id)
    return url_for("inbox.index")


def digest_items(notification: NotificationView) -> list[dict]:
    """A digest's tasks, each with `text` (name, nomination, due) and `link`."""
    if notification.kind != "digest":
        return []
    items = []
    for item in notification.data.get("items") or []:
        if not isinstance(item, dict) or not item.get("task_id"):
            continue
        fields = _fields(item)
        items.append(
            {
                "text": f"{fields['task_name']} – {fields['nomination']} ({fields['due']})",
                "overdue": bool(item.get("overdue")),
                "link": url_for("inbox.task", task_id=str(item.get("task_id", ""))),
            }
        )
    return items


def _fields(data: dict) -> dict:
    names = ("task_name", "nomination", "role", "overdue", "due_soon")
    fields = {name: MISSING if data.get(name) in (None, "") else data[name] for name in names}
    if isinstance(fields["role"], str):
        fields["role"] = ROLE_NAMES.get(fields["role"], fields["role"])
    fields["due"] = _due_text(data.get("due_at"))
    share = data.get("share")
    fields["share"] = format_percent(share) if isinstance(share, int | float) else MISSING
    return fields


def _due_text(value) -> str:
    try:
        return datetime_text(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return MISSING
