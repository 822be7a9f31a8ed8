"""In-app notifications and the daily digest on SQLite and PostgreSQL: one per distinct user,
unread counts, marking read scoped to the user, and a digest built once per local day from
DIGEST_HOUR on, however many heartbeats race, listing only the tasks each user can act on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

import engine
from engine import queries
from tests.integration.conftest import add_user
from workflows.notifications import feed
from workflows.notifications import queries as notification_queries
from workflows.notifications import services as notifications
from workflows.notifications.models import DigestRun, MailOutbox, Notification
from workflows.org.models import User
from workflows.processes import services as ps

HOUR = 7
TUESDAY_8AM_HANOI = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)


def start_review(review, unit: str) -> str:
    """The id of the open `prepare` task of a new review instance for `unit`."""
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": unit}).instance_id
    with review.session_factory() as session:
        (task,) = queries.open_tasks(session, instance_id=instance_id)
    return task.id


def notify(services, users, kind="task_reminder", **data) -> int:
    with services.uow() as uow:
        count = feed.notify(uow, users, kind, data={"task_name": "Lập hồ sơ", **data})
        uow.commit()
    return count


def notes(services, user_id: str) -> list[Notification]:
    with services.session_factory() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user_id)))


def digests(services) -> dict[str, dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(Notification).where(Notification.kind == "digest"))
        return {row.user_id: row.data for row in rows}


def build(services, owner: str = "scheduler"):
    return notifications.build_daily_digest(services, owner=owner, hour=HOUR)


# --- notify, counts and marking ---------------------------------------------------------------------


def test_notify_writes_one_notification_per_distinct_active_user(review):
    with review.uow() as uow:
        uow.session.execute(update(User).where(User.id == "clerk_b").values(active=False))
        uow.commit()
    assert notify(review, ["clerk_a", "manager_a", "clerk_a", "clerk_b", "nobody"], share=0.5) == 2
    assert [(n.kind, n.data["share"]) for n in notes(review, "clerk_a")] == [("task_reminder", 0.5)]
    assert len(notes(review, "manager_a")) == 1
    assert notes(review, "clerk_b") == []


def test_an_unknown_kind_is_refused(review):
    with review.uow() as uow, pytest.raises(ValueError, match="unknown notification kind"):
        feed.notify(uow, ["clerk_a"], "party_invitation")


def test_unread_counts_and_marking_one_or_all_read(review, clock):
    for _ in range(3):
        notify(review, ["clerk_a", "clerk_b"])
    first, second, third = sorted(n.id for n in notes(review, "clerk_a"))
    page = notification_queries.notification_page(review, "clerk_a", per_page=2)
    assert (page.total, page.unread_count, page.pages, len(page.items)) == (3, 3, 2, 2)

    assert notifications.mark_notifications_read(review, "clerk_a", [second]) == notifications.ReadResult(1, 2)
    assert notifications.mark_notifications_read(review, "clerk_a", [second]).marked == 0  # already read
    with review.session_factory() as session:
        assert feed.unread_count(session, "clerk_a") == 2
        assert [n.read for n in feed.notifications_of(session, "clerk_a", 10)] == [False, True, False]
        assert feed.notifications_of(session, "clerk_a", 10)[1].read_at == clock.now

    assert notifications.mark_notifications_read(review, "clerk_a") == notifications.ReadResult(2, 0)
    with review.session_factory() as session:
        assert feed.unread_count(session, "clerk_b") == 3  # another user's are untouched


def test_another_users_notification_cannot_be_marked_read(review):
    notify(review, ["clerk_a"])
    (theirs,) = notes(review, "clerk_a")
    assert notifications.mark_notifications_read(review, "clerk_b", [theirs.id]) == notifications.ReadResult(0, 0)
    (still,) = notes(review, "clerk_a")
    assert still.read_at is None


def test_notifications_are_listed_newest_first(review, clock):
    for name in ("một", "hai", "ba"):
        notify(review, ["clerk_a"], task_name=name)
        clock.advance(minutes=1)
    with review.session_factory() as session:
        listed = feed.notifications_of(session, "clerk_a", limit=2, offset=1)
    assert [n.data["task_name"] for n in listed] == ["hai", "một"]


# --- the daily digest --------------------------------------------------------------------------------


@pytest.fixture
def tasks(review, clock):
    """Monday: prepare tasks of units A and B, due at the end of Wednesday; clerk_a claims A's."""
    add_user(review, "clerk_b_left", "clerk", "unit:B")
    with review.uow() as uow:
        uow.session.execute(update(User).where(User.id == "clerk_b_left").values(active=False))
        uow.session.execute(update(User).where(User.id == "clerk_a").values(email="clerk_a@namdinh.thidua.example"))
        uow.commit()
    a, b = start_review(review, "unit:A"), start_review(review, "unit:B")
    review.in_transaction(engine.claim_task, a, "clerk_a")
    return {"a": a, "b": b}


def test_the_digest_lists_only_what_each_user_can_act_on(review, clock, tasks):
    clock.now = TUESDAY_8AM_HANOI
    later = start_review(review, "unit:A")  # due at the end of Thursday: not yet in the digest

    assert build(review) == 2

    found = digests(review)
    assert set(found) == {"clerk_a", "clerk_b"}  # not clerk_manager_a: A is claimed; not the inactive clerk
    assert [item["task_id"] for item in found["clerk_a"]["items"]] == [tasks["a"]]
    assert [item["task_id"] for item in found["clerk_b"]["items"]] == [tasks["b"]]
    assert found["clerk_b"] | {"items": None} == {
        "date": "2026-03-03",
        "overdue": 0,
        "due_soon": 1,
        "total": 1,
        "items": None,
    }
    with review.session_factory() as session:
        (mail,) = session.scalars(select(MailOutbox)).all()  # clerk_a alone has an address
    assert mail.recipient == "clerk_a@namdinh.thidua.example"
    assert mail.subject == "Tổng hợp công việc ngày 03/03/2026: 0 quá hạn, 1 sắp đến hạn"
    assert f"/tasks/{tasks['a']}" in mail.body

    clock.advance(days=2)  # Thursday 08:00: A and B are overdue, the later task is due today
    assert build(review) == 3
    with review.session_factory() as session:
        thursday = {
            n.user_id: n.data for n in session.scalars(select(Notification).where(Notification.created_at == clock.now))
        }
    assert (thursday["clerk_a"]["overdue"], thursday["clerk_a"]["due_soon"]) == (1, 1)
    assert [item["task_id"] for item in thursday["clerk_a"]["items"]] == [tasks["a"], later]
    assert [item["overdue"] for item in thursday["clerk_a"]["items"]] == [True, False]
    assert [item["task_id"] for item in thursday["clerk_manager_a"]["items"]] == [later]
    assert [item["task_id"] for item in thursday["clerk_b"]["items"]] == [tasks["b"]]


def test_no_digest_before_the_hour(review, clock, tasks):
    clock.now = TUESDAY_8AM_HANOI - timedelta(hours=1, minutes=1)  # 06:59 in Hanoi
    assert build(review) is None
    with review.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 0
    clock.advance(minutes=1)  # 07:00
    assert build(review) == 2


def test_the_digest_is_built_once_a_day(review, clock, tasks):
    clock.now = TUESDAY_8AM_HANOI
    assert build(review) == 2
    clock.advance(hours=10)
    assert build(review) is None
    clock.advance(hours=6)  # Wednesday 00:00 in Hanoi, before the hour
    assert build(review) is None
    clock.advance(hours=8)
    assert build(review) is not None
    with review.session_factory() as session:
        runs = session.execute(select(DigestRun.day, DigestRun.notified).order_by(DigestRun.day)).all()
    assert [(str(day), notified) for day, notified in runs] == [("2026-03-03", 2), ("2026-03-04", 2)]


def test_racing_heartbeats_build_the_digest_once(review, clock, tasks):
    clock.now = TUESDAY_8AM_HANOI
    barrier = threading.Barrier(4)
    results = []

    def heartbeat(owner):
        barrier.wait()
        results.append(build(review, owner))

    threads = [threading.Thread(target=heartbeat, args=(f"scheduler-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results, key=str) == [2, None, None, None]
    with review.session_factory() as session:
        per_user = session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.kind == "digest")
            .group_by(Notification.user_id)
        ).all()
        assert session.scalar(select(func.count()).select_from(MailOutbox)) == 1
    assert dict(per_user) == {"clerk_a": 1, "clerk_b": 1}
