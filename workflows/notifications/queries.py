"""What a user reads of their notifications: a page of them, and how many are unread."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..uow import Services
from .feed import NotificationView, notifications_of, unread_count
from .models import Notification


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


def notification_page(services: Services, user_id: str, page: int = 1, per_page: int = 25) -> NotificationPage:
    """A page of the user's notifications, newest first, with the total and the unread count."""
    with services.session_factory() as session:
        total = session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id))
        items = notifications_of(session, user_id, per_page, (page - 1) * per_page)
        return NotificationPage(items, total, page, per_page, unread_count(session, user_id))


def count_unread(services: Services, user_id: str) -> int:
    with services.session_factory() as session:
        return unread_count(session, user_id)
