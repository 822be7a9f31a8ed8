"""Language, dates and text input. Vietnamese by default, English on request (a cookie set
from the language menu); dates dd/mm/yyyy in Asia/Ho_Chi_Minh; every text a user sends is
normalised to NFC so that "Nguyễn" typed on any keyboard compares equal."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, request
from flask_babel import Babel, format_datetime, gettext, lazy_gettext, ngettext
from werkzeug.exceptions import BadRequest

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
LANGUAGE_COOKIE = "thidua_lang"


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else "vi"


def storable(text: str) -> bool:
    """No NUL character and no lone surrogate: no database stores the one, UTF-8 cannot encode the other."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def nfc(value: Any) -> Any:
    """NFC-normalise every string inside a JSON-like value."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nfc(item) for item in value]
    return value


def date_text(moment: datetime | None) -> str:
    return format_datetime(moment, "dd/MM/yyyy") if moment else ""


def datetime_text(moment: datetime | None) -> str:
    return format_datetime(moment, "dd/MM/yyyy HH:mm") if moment else ""


def deadline_text(due: datetime | None) -> str:
    """A deadline is 24:00 of its last day: show that day ("24:00 on 04/03" is "05/03 00:00"),
    or the day and time when it falls within a day (half a working day)."""
    if due is None:
        return ""
    last_instant = due - timedelta(microseconds=1)
    if format_datetime(due, "HH:mm") == "00:00":
        return format_datetime(last_instant, "dd/MM/yyyy")
    return datetime_text(due)


ESCALATION_STAGES = {
    "reminded": lazy_gettext("reminder sent"),
    "overdue": lazy_gettext("overdue: supervisor told"),
    "escalated": lazy_gettext("escalated to the supervisor"),
}


def escalation_text(stage: str | None) -> str:
    return str(ESCALATION_STAGES.get(stage, stage or ""))


def working_days_text(days: int | None, overdue: bool) -> str:
    """'3 working days left', 'due today', 'overdue by 2 working days'."""
    if days is None:
        return ""
    if overdue:
        late = max(-days, 0)
        if late == 0:
            return gettext("overdue")
        return ngettext("overdue by %(num)d working day", "overdue by %(num)d working days", late)
    if days == 0:
        return gettext("due today")
    return ngettext("%(num)d working day left", "%(num)d working days left", days)


def file_size_text(size: int) -> str:
    if size < 1024:
        return gettext("%(size)d bytes", size=size)
    if size < 1024 * 1024:
        return gettext("%(size).1f KB", size=size / 1024)
    return gettext("%(size).1f MB", size=size / 1024 / 1024)


# A process instance's own status (a nomination has its richer STATUS_NAMES).
INSTANCE_STATUS_NAMES = {
    "running": lazy_gettext("running"),
    "suspended": lazy_gettext("suspended"),
    "completed": lazy_gettext("completed"),
    "terminated": lazy_gettext("terminated"),
}


def instance_status_text(code: str) -> str:
    return str(INSTANCE_STATUS_NAMES.get(code, code))


STATUS_NAMES = {
    "DRAFT": lazy_gettext("Draft"),
    "SUBMITTED": lazy_gettext("Submitted"),
    "BLOC_REVIEW": lazy_gettext("Bloc review"),
    "RECEIVED": lazy_gettext("Received"),
    "RETURNED": lazy_gettext("Returned for supplement"),
    "RESUBMITTED": lazy_gettext("Resubmitted"),
    "APPRAISED": lazy_gettext("Appraised"),
    "PUBLIC_NOTICE": lazy_gettext("Public notice"),
    "COUNCIL_VOTED": lazy_gettext("Council voted"),
    "DECIDED": lazy_gettext("Decided"),
    "PUBLISHED": lazy_gettext("Published"),
    "REJECTED": lazy_gettext("Not awarded"),
    "REVOKED": lazy_gettext("Revoked"),
}

EVENT_NAMES = {
    "InstanceStarted": lazy_gettext("Started"),
    "TaskCompleted": lazy_gettext("Step completed"),
    "TaskClaimed": lazy_gettext("Task claimed"),
    "TaskUnclaimed": lazy_gettext("Task released"),
    "TaskDelegated": lazy_gettext("Task delegated"),
    "TimerFired": lazy_gettext("Deadline timer fired"),
    "TaskReminded": lazy_gettext("Reminder sent"),
    "TaskOverdue": lazy_gettext("Overdue: assignee and supervisor notified"),
    "TaskEscalated": lazy_gettext("Escalated to the supervisor"),
    "InstanceCompleted": lazy_gettext("Finished"),
    "InstanceSuspended": lazy_gettext("Suspended"),
    "InstanceResumed": lazy_gettext("Resumed"),
    "InstanceTerminated": lazy_gettext("Terminated"),
    "InstanceMigrated": lazy_gettext("Moved to another version of the process"),
}


def refuse_unstorable_text() -> None:
    """Pages: a query or form value that cannot be stored is a 400 naming its field (the API's
    schemas make the same check on JSON bodies)."""
    if request.path.startswith("/api/"):
        return
    values = request.args.items(multi=True)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values = [*values, *request.form.items(multi=True)]
    for name, value in values:
        if not storable(value):
            raise BadRequest(f"{name} contains a NUL character or an invalid code point")


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        date=date_text,
        datetime=datetime_text,
        deadline=deadline_text,
        filesize=file_size_text,
        status=lambda code: STATUS_NAMES.get(code, code),
        instance_status=instance_status_text,
        event=lambda code: EVENT_NAMES.get(code, code),
    )
    app.jinja_env.globals.update(
        working_days_text=working_days_text, escalation_text=escalation_text, LANGUAGES=LANGUAGES, locale=select_locale
    )
