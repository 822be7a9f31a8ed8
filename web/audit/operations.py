"""The operation log shown to auditors: every administrative act with who, when, why and the
values before and after, newest first, filtered by actor, action, subject and dates, paged."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext, lazy_gettext

from workflows.audit import queries as audit_queries
from workflows.operations import log
from workflows.paging import Page

from ..extensions import services
from ..i18n import nfc
from .blueprint import bp

PER_PAGE = 50
ACTION_NAMES = {
    log.REASSIGN: lazy_gettext("Task reassigned"),
    log.SUSPEND: lazy_gettext("Instance suspended"),
    log.RESUME: lazy_gettext("Instance resumed"),
    log.TERMINATE: lazy_gettext("Instance terminated"),
    log.MIGRATE: lazy_gettext("Instance migrated"),
    log.CALENDAR_OVERRIDE_SET: lazy_gettext("Calendar day changed"),
    log.CALENDAR_OVERRIDE_REMOVE: lazy_gettext("Calendar change removed"),
    log.INCIDENT_RETRY: lazy_gettext("Incident retried"),
    log.PROCESS_DEPLOY: lazy_gettext("Process deployed"),
    log.RULES_DEPLOY: lazy_gettext("Rules deployed"),
    log.ROLE_GRANT: lazy_gettext("Role granted"),
    log.ROLE_REVOKE: lazy_gettext("Role revoked"),
    log.USER_DISABLE: lazy_gettext("User disabled"),
    log.USER_ENABLE: lazy_gettext("User enabled"),
    log.USER_CREATE: lazy_gettext("User created"),
    log.PASSWORD_RESET: lazy_gettext("Password reset"),
    log.RETENTION_SET: lazy_gettext("History retention set"),
    log.LEGAL_HOLD: lazy_gettext("Legal hold placed"),
    log.LEGAL_RELEASE: lazy_gettext("Legal hold released"),
    log.RECORDS_IMPORT: lazy_gettext("Records imported"),
}
SUBJECT_NAMES = {
    "instance": lazy_gettext("Process instance"),
    "calendar_day": lazy_gettext("Calendar day"),
    "timer_job": lazy_gettext("Scheduled job"),
    "process": lazy_gettext("Process"),
    "rule_set": lazy_gettext("Rule set"),
    "user": lazy_gettext("User"),
    "records": lazy_gettext("Imported records"),
}
FIELD_LABELS = {
    "action": lazy_gettext("Action"),
    "subject_type": lazy_gettext("Subject"),
    "from": lazy_gettext("From"),
    "to": lazy_gettext("To"),
    "page": lazy_gettext("Page"),
}
FIRST_YEAR, LAST_YEAR = 1900, 2999


class FilterError(Exception):
    """A filter the page cannot use: the field and what is wrong with it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message

    @property
    def label(self) -> str:
        return str(FIELD_LABELS[self.field])


@bp.app_template_filter("operation_value")
def operation_value(value: Any) -> str:
    """A logged value as text: a dash for none, a list of texts joined, JSON for other structures."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value) or "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@bp.get("/operations")
def operations():
    """The operation log, newest first, with filters and pages."""
    args = nfc(request.args.to_dict())
    try:
        filters, page = _filters(args), _page_number(args.get("page"))
    except FilterError as error:
        return _render(Page([], 0, 1, PER_PAGE), args, error), 400
    return _render(audit_queries.operation_page(services(current_app), filters, page=page, per_page=PER_PAGE), args)


def _render(page: Page, args: dict, error: FilterError | None = None) -> str:
    return render_template(
        "audit/operations.html",
        page=page,
        args=request.args,
        values=args,
        error=error,
        actions=ACTION_NAMES,
        subjects=SUBJECT_NAMES,
    )


def _filters(args: dict) -> log.Filters:
    """The query's filters of the operation log. Dates are whole days in the
    app's time zone, both ends included. Raises FilterError."""
    action, subject_type = args.get("action") or None, args.get("subject_type") or None
    if action is not None and action not in log.ACTIONS:
        raise FilterError("action", gettext("Choose an action from the list."))
    if subject_type is not None and subject_type not in log.SUBJECT_TYPES:
        raise FilterError("subject_type", gettext("Choose a kind of subject from the list."))
    first, last = _date(args, "from"), _date(args, "to")
    if first and last and first > last:
        raise FilterError("from", gettext("The first day comes after the last."))
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return log.Filters(
        actor=(args.get("actor") or "").strip() or None,
        action=action,
        subject_type=subject_type,
        subject_id=(args.get("subject") or "").strip() or None,
        since=datetime.combine(first, time(), zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
    )


def _date(args: dict, name: str) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FilterError(name, gettext("Enter a valid date."))
    return day


def _page_number(text: str | None) -> int:
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise FilterError("page", gettext("Enter a page number."))
    return int(text)
