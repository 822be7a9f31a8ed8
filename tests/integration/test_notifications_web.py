"""Notifications on the demo province over HTTP, SQLite and PostgreSQL: the page (newest first,
unread marked, each linking to its task), the unread badge in the nav, marking read by form
(CSRF, only one's own), and the JSON API (401 without auth, CSRF on cookie requests)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine import queries
from tests.integration.conftest import sign_in
from web.extensions import services as app_services
from workflows.accounts import services as accounts
from workflows.notifications import feed
from workflows.notifications.models import Notification

USER, OTHER = "gd.y.te", "tdkt.y.te"


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def task(demo_app):
    with app_services(demo_app).session_factory() as session:
        return queries.open_tasks(session)[0]


def notify(app, user: str, task, kind: str = "task_due", **data) -> int:
    """Notify `user` about `task`; returns the new notification's id."""
    services = app_services(app)
    payload = {"task_name": task.name, "nomination": "LDTT – Trần Thị Thu Hà", "due_at": "2022-11-03T17:00:00+00:00"}
    with services.uow() as uow:
        feed.notify(uow, [user], kind, task_id=task.id, instance_id=task.instance_id, data=payload | data)
        uow.commit()
    with services.session_factory() as session:
        return session.scalar(
            select(Notification.id).where(Notification.user_id == user).order_by(Notification.id.desc())
        )


def unread_ids(app, user: str) -> set[int]:
    with app_services(app).session_factory() as session:
        query = select(Notification.id).where(Notification.user_id == user, Notification.read_at.is_(None))
        return set(session.scalars(query))


def badge(html: str) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', html)
    return found.group(1) if found else None


def test_the_page_lists_notifications_newest_first_with_links_and_the_badge_counts_unread(client, demo_app, task):
    csrf = sign_in(client, USER)
    assert badge(page(client.get("/"))) is None
    first = notify(demo_app, USER, task, "task_reminder", share=0.5)
    second = notify(demo_app, USER, task, "task_overdue", role="unit_officer")
    notify(demo_app, OTHER, task)

    inbox = page(client.get("/"))
    assert badge(inbox) == "2"
    listing = page(client.get("/notifications"))
    rows = re.findall(r'data-notification="(\d+)" data-read="(\w+)"', listing)
    assert rows == [(str(second), "no"), (str(first), "no")]  # newest first, both unread, only mine
    assert listing.count(f'href="/tasks/{task.id}"') == 2
    assert "LDTT – Trần Thị Thu Hà" in listing and task.name in listing

    assert client.post("/notifications/read", data={"id": first, "csrf_token": csrf}).status_code == 302
    listing = page(client.get("/notifications"))
    assert re.findall(r'data-notification="(\d+)" data-read="(\w+)"', listing) == [
        (str(second), "no"),
        (str(first), "yes"),
    ]
    assert badge(listing) == "1"

    assert client.post("/notifications/read", data={"all": "1", "csrf_token": csrf}).status_code == 302
    assert badge(page(client.get("/notifications"))) is None
    assert unread_ids(demo_app, USER) == set()


def test_marking_read_needs_the_csrf_token_and_touches_only_ones_own(client, demo_app, task):
    csrf = sign_in(client, USER)
    theirs = notify(demo_app, OTHER, task)
    mine = notify(demo_app, USER, task)

    assert client.post("/notifications/read", data={"id": mine}).status_code == 403
    assert client.post("/notifications/read", data={"id": theirs, "csrf_token": csrf}).status_code == 302
    assert client.post("/notifications/read", data={"all": "1", "csrf_token": csrf}).status_code == 302
    assert unread_ids(demo_app, OTHER) == {theirs}
    assert unread_ids(demo_app, USER) == set()
    for bad in ("abc", "-1", "0", "²", str(2**40)):
        assert client.post("/notifications/read", data={"id": bad, "csrf_token": csrf}).status_code == 400


def test_a_visitor_is_sent_to_sign_in(client):
    assert client.get("/notifications").status_code == 302
    assert client.get("/notifications").location.startswith("/login")


def test_the_api_lists_and_marks_the_callers_notifications(client, demo_app, task):
    raw, _ = accounts.issue_api_token(app_services(demo_app), USER, "tests", None)
    bearer = {"Authorization": f"Bearer {raw}"}
    theirs = notify(demo_app, OTHER, task)
    first = notify(demo_app, USER, task, "task_escalated", role="board_head")
    second = notify(demo_app, USER, task)

    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read", json={}).status_code == 401
    listed = client.get("/api/v1/notifications?per_page=1", headers=bearer).get_json()
    assert (listed["unread_count"], listed["total"], listed["per_page"]) == (2, 2, 1)
    (item,) = listed["items"]
    assert (item["id"], item["kind"], item["task_id"], item["read_at"]) == (second, "task_due", task.id, None)
    assert task.name in item["text"]

    marked = client.post("/api/v1/notifications/read", json={"ids": [first, theirs]}, headers=bearer)
    assert marked.get_json() == {"marked": 1, "unread_count": 1}
    assert unread_ids(demo_app, OTHER) == {theirs}
    assert client.post("/api/v1/notifications/read", json={"ids": ["x"]}, headers=bearer).status_code == 400
    assert client.post("/api/v1/notifications/read", json={"ids": [2**40]}, headers=bearer).status_code == 400
    assert client.post("/api/v1/notifications/read", json={}, headers=bearer).get_json() == {
        "marked": 1,
        "unread_count": 0,
    }


def test_api_posts_with_the_session_cookie_need_the_csrf_token(client, demo_app, task):
    csrf = sign_in(client, USER)
    notify(demo_app, USER, task)
    assert client.get("/api/v1/notifications").get_json()["unread_count"] == 1
    refused = client.post("/api/v1/notifications/read", json={})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    assert unread_ids(demo_app, USER)
    accepted = client.post("/api/v1/notifications/read", json={}, headers={"X-CSRF-Token": csrf})
    assert accepted.get_json() == {"marked": 1, "unread_count": 0}
