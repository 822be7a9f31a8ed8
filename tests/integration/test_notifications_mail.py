"""The mail outbox against a real SMTP server on loopback (aiosmtpd): delivery in UTF-8 with the
task's link, a server that is down and then up (nothing lost, nothing sent twice), a crashed
sender's claims taken over, task completions that never wait on SMTP, and a heartbeat whose
steps fail alone."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

import engine
from engine import queries
from engine.models import HumanTask
from web import config as web_config
from web import scheduler
from workflows.notifications import feed, mail
from workflows.notifications import services as notifications
from workflows.notifications.models import MAIL_PENDING, MAIL_SENDING, MAIL_SENT, DigestRun, MailOutbox
from workflows.org.models import User
from workflows.processes import services as ps

BASE_URL = "https://thidua.namdinh.example"
DOMAIN = "namdinh.thidua.example"


class Recorder:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpServer:
    """An SMTP server on 127.0.0.1 at a fixed free port, started and stopped on demand."""

    def __init__(self):
        self.port = free_port()
        self.recorder = Recorder()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self):
        return self.recorder.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A server not yet listening: tests start it (or leave it down)."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def running_smtp(smtp):
    smtp.start()
    return smtp


def sender_for(port: int, timeout: float = 5) -> mail.SmtpSender:
    return mail.SmtpSender("127.0.0.1", port, from_address=f"thidua@{DOMAIN}", timeout=timeout)


def give_emails(services, *usernames: str) -> None:
    with services.uow() as uow:
        for username in usernames:
            uow.session.execute(update(User).where(User.id == username).values(email=f"{username}@{DOMAIN}"))
        uow.commit()


def prepare_task(review, unit: str = "unit:A") -> HumanTask:
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": unit}).instance_id
    with review.session_factory() as session:
        (task,) = queries.open_tasks(session, instance_id=instance_id)
    return task


def notify(services, users, kind="task_due", task=None, **data) -> None:
    payload = {"task_name": "Thẩm định hồ sơ", "nomination": "CSTD_TINH – Nguyễn Thị Thanh", **data}
    with services.uow() as uow:
        feed.notify(
            uow,
            users,
            kind,
            task_id=task.id if task else None,
            instance_id=task.instance_id if task else None,
            data=payload,
            base_url=BASE_URL,
        )
        uow.commit()


def outbox(services) -> list[MailOutbox]:
    with services.session_factory() as session:
        return list(session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def deliver(services, port: int, owner: str = "scheduler", **kwargs) -> notifications.DeliverySummary:
    return notifications.deliver_mail(services, sender_for(port), owner=owner, **kwargs)


def test_a_notification_arrives_by_mail_in_vietnamese_with_the_task_link(review, clock, running_smtp):
    give_emails(review, "clerk_a")
    task = prepare_task(review)
    due = clock.now + timedelta(days=2)
    notify(review, ["clerk_a"], "task_due", task, due_at=due.isoformat())

    summary = deliver(review, running_smtp.port)

    assert (summary.claimed, summary.sent, summary.failed) == (1, 1, 0)
    ((recipients, message),) = running_smtp.messages
    assert recipients == [f"clerk_a@{DOMAIN}"]
    assert message["Subject"] == "Đến hạn: Thẩm định hồ sơ – CSTD_TINH – Nguyễn Thị Thanh"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Nhiệm vụ «Thẩm định hồ sơ» của hồ sơ CSTD_TINH – Nguyễn Thị Thanh" in body
    assert f"{BASE_URL}/tasks/{task.id}" in body
    assert mail.local_text(due) in body
    (row,) = outbox(review)
    assert (row.status, row.attempts, row.sent_at) == (MAIL_SENT, 1, clock.now)
    assert deliver(review, running_smtp.port).claimed == 0


def test_users_without_an_address_get_no_mail(review, running_smtp):
    give_emails(review, "clerk_a")
    notify(review, ["clerk_a", "clerk_b", "clerk_a"])
    assert [row.recipient for row in outbox(review)] == [f"clerk_a@{DOMAIN}"]
    assert deliver(review, running_smtp.port).sent == 1


def test_a_server_that_is_down_delays_mail_and_loses_none(review, clock, smtp):
    users = ["clerk_a", "clerk_b", "manager_a"]
    give_emails(review, *users)
    notify(review, users)

    down = deliver(review, smtp.port)

    assert (down.claimed, down.sent, down.failed) == (3, 0, 3)
    for row in outbox(review):
        assert (row.status, row.attempts, row.lock_owner) == (MAIL_PENDING, 1, None)
        assert "ConnectionRefusedError" in row.last_error
        assert row.next_attempt_at == clock.now + timedelta(seconds=30)
    assert deliver(review, smtp.port).claimed == 0  # not before the backoff

    clock.advance(seconds=30)
    assert deliver(review, smtp.port).failed == 3
    assert {(row.attempts, row.next_attempt_at) for row in outbox(review)} == {(2, clock.now + timedelta(seconds=60))}

    smtp.start()
    clock.advance(seconds=59)
    assert deliver(review, smtp.port).claimed == 0
    clock.advance(seconds=1)
    up = deliver(review, smtp.port)

    assert (up.claimed, up.sent, up.failed) == (3, 3, 0)
    assert sorted(recipients[0] for recipients, _ in smtp.messages) == sorted(f"{u}@{DOMAIN}" for u in users)
    assert {(row.status, row.attempts) for row in outbox(review)} == {(MAIL_SENT, 3)}
    clock.advance(hours=2)
    assert deliver(review, smtp.port).claimed == 0
    assert len(smtp.messages) == 3  # none twice


def test_backoff_doubles_and_stops_at_an_hour(review, clock, smtp):
    give_emails(review, "clerk_a")
    notify(review, ["clerk_a"])
    waits = []
    for _ in range(10):
        deliver(review, smtp.port)
        (row,) = outbox(review)
        waits.append((row.next_attempt_at - clock.now).total_seconds())
        clock.now = row.next_attempt_at
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert (row.status, row.attempts) == (MAIL_PENDING, 10)  # never given up on


class Crash(BaseException):
    """The process dying in the middle of a send."""


class CrashingSender:
    def send(self, recipient, subject, body):
        raise Crash()


def test_a_crashed_senders_mails_are_taken_over_after_its_lock_expires(review, clock, running_smtp):
    give_emails(review, "clerk_a", "clerk_b")
    notify(review, ["clerk_a", "clerk_b"])
    with pytest.raises(Crash):
        notifications.deliver_mail(review, CrashingSender(), owner="dead", lock_seconds=60)
    assert {(row.status, row.lock_owner) for row in outbox(review)} == {(MAIL_SENDING, "dead")}

    clock.advance(seconds=59)
    assert deliver(review, running_smtp.port, "alive", lock_seconds=60).claimed == 0  # still the holder's
    clock.advance(seconds=2)
    taken = deliver(review, running_smtp.port, "alive", lock_seconds=60)

    assert (taken.claimed, taken.sent) == (2, 2)
    assert len(running_smtp.messages) == 2
    assert {(row.status, row.lock_owner) for row in outbox(review)} == {(MAIL_SENT, None)}


def test_a_slow_sender_does_not_send_what_another_took_over(review, clock, running_smtp):
    users = ["clerk_a", "clerk_b", "manager_a"]
    give_emails(review, *users)
    notify(review, users)
    sends = []

    class SlowSender:
        """Each send takes 35 s of the 60 s lock: the third mail's claim expires during the second
        send, and another sender takes it over then."""

        def send(self, recipient, subject, body):
            sender_for(running_smtp.port).send(recipient, subject, body)
            sends.append(recipient)
            clock.advance(seconds=35)
            if len(sends) == 2:
                assert deliver(review, running_smtp.port, "other", lock_seconds=60).sent == 1

    summary = notifications.deliver_mail(review, SlowSender(), owner="slow", lock_seconds=60)

    assert (summary.claimed, summary.sent) == (3, 2)
    received = sorted(recipients[0] for recipients, _ in running_smtp.messages)
    assert received == sorted(f"{user}@{DOMAIN}" for user in users)  # each once
    assert {row.status for row in outbox(review)} == {MAIL_SENT}


def test_completing_a_task_never_waits_on_a_hanging_mail_server(review, clock):
    give_emails(review, "clerk_a")
    task = prepare_task(review)
    notify(review, ["clerk_a"], "task_due", task)
    # A server that accepts connections and never greets: the sender waits for its timeout.
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen()
        timeout = 3
        delivery = threading.Thread(
            target=notifications.deliver_mail,
            args=(review, sender_for(hanging.getsockname()[1], timeout=timeout)),
            kwargs={"owner": "scheduler"},
        )
        delivery.start()
        hanging.settimeout(timeout)
        connection, _ = hanging.accept()  # the sender is now waiting for the server's greeting

        started = time.monotonic()
        result = review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70})
        elapsed = time.monotonic() - started

        assert delivery.is_alive()  # the mail was still being sent meanwhile
        delivery.join(timeout=timeout + 5)
        connection.close()
    assert elapsed < timeout / 2
    assert task.id in result.closed
    (row,) = outbox(review)
    assert (row.status, row.attempts) == (MAIL_PENDING, 1)
    assert "timed out" in row.last_error


def heartbeat_config(**overrides) -> dict:
    return {**web_config.DEFAULTS, "SCHEDULER_LOCK_SECONDS": 60, "SCHEDULER_BATCH": 100, **overrides}


def test_a_failing_heartbeat_step_does_not_stop_the_others(review, clock, smtp, monkeypatch, caplog):
    give_emails(review, "clerk_a")
    prepare_task(review)
    notify(review, ["clerk_a"])

    def broken(*args):
        raise RuntimeError("timer jobs broken")

    monkeypatch.setattr(scheduler, "run_timers", broken)
    clock.advance(days=1)  # Tuesday 08:00 in Hanoi: the prepared task is due by the next working day's end
    scheduler.heartbeat(review, heartbeat_config(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, DIGEST_HOUR=7))

    assert "timer jobs broken" in caplog.text
    mails = outbox(review)
    assert mails[0].attempts == 1 and "ConnectionRefusedError" in mails[0].last_error  # mail step ran, failed
    with review.session_factory() as session:
        assert session.get(DigestRun, clock.now.date()) is not None  # the digest still ran
    assert {row.status for row in mails} == {MAIL_PENDING}
    assert len(mails) == 2  # the first notification and the digest


def test_without_smtp_host_mail_stays_in_the_outbox(review, clock):
    give_emails(review, "clerk_a")
    notify(review, ["clerk_a"])
    scheduler.heartbeat(review, heartbeat_config(SMTP_HOST=""))
    (row,) = outbox(review)
    assert (row.status, row.attempts) == (MAIL_PENDING, 0)
