"""A user's notifications: the list, marking them read, and the unread badge in the nav."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from workflows.notifications import queries as notification_queries
from workflows.notifications import services as notifications
from workflows.notifications.feed import NotificationView

from ..extensions import services
from ..inbox.views import paging_from
from ..security import current_principal, login_required
from .texts import digest_items, notification_link, notification_text

bp = Blueprint("notifications", __name__, template_folder="templates")

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


@bp.app_context_processor
def unread_badge() -> dict:
    def unread_notifications() -> int:
        """One COUNT, made only when a page shows the badge to a signed-in user."""
        principal = current_principal()
        return notification_queries.count_unread(services(current_app), principal.id) if principal else 0

    return {"unread_notifications": unread_notifications}


@bp.app_template_global()
def describe_notification(item: NotificationView) -> dict:
    """What a page shows of a notification: its text, link and a digest's tasks."""
    return {"text": notification_text(item), "link": notification_link(item), "tasks": digest_items(item)}


@bp.get("/notifications")
@login_required
def index():
    """My notifications, newest first, unread ones marked."""
    paging = paging_from(request.args)
    page = notification_queries.notification_page(
        services(current_app), current_principal().id, min(paging.page, MAX_PAGE), paging.per_page
    )
    return render_template("notifications/index.html", page=page, args=request.args)


@bp.post("/notifications/read")
@login_required
def read():
    """Mark one notification (`id`) or all of mine (`all`) read."""
    ids = None if request.form.get("all") else [_notification_id(request.form.get("id", ""))]
    notifications.mark_notifications_read(services(current_app), current_principal().id, ids)
    page = request.form.get("page", type=int)
    return redirect(url_for("notifications.index", page=page if page and 1 < page <= MAX_PAGE else None))


def _notification_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise BadRequest("id must be the number of a notification")
    return int(value)
