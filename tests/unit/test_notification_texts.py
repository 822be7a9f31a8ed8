"""What notifications say, without a database: every kind has its Vietnamese e-mail and its
in-app sentence; missing data never breaks the wording; subjects stay on one line; the retry
backoff; the SMTP settings read from the configuration."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask
from flask_babel import Babel

from web import config as web_config
from web.notifications import texts
from web.scheduler import mail_sender
from workflows.notifications import mail
from workflows.notifications.feed import NotificationView
from workflows.notifications.mail import KINDS, backoff_seconds, render_mail

DUE = "2026-03-04T17:00:00+00:00"  # 05/03/2026 00:00 in Hanoi
DATA = {
    "task_reminder": {"task_name": "Thẩm định", "nomination": "LDTT – Lê Minh Khoa", "due_at": DUE, "share": 0.75},
    "task_due": {"task_name": "Thẩm định", "nomination": "LDTT – Lê Minh Khoa", "due_at": DUE},
    "task_overdue": {"task_name": "Thẩm định", "nomination": "LDTT – Lê Minh Khoa", "due_at": DUE, "role": "unit_head"},
    "task_escalated": {
        "task_name": "Thẩm định",
        "nomination": "LDTT – Lê Minh Khoa",
        "due_at": DUE,
        "role": "board_head",
    },
    "digest": {
        "date": "2026-03-03",
        "overdue": 1,
        "due_soon": 2,
        "total": 3,
        "items": [{"task_id": "t-1", "task_name": "Thẩm định", "nomination": "LDTT – Lê Minh Khoa", "due_at": DUE}],
    },
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_vietnamese_mail_with_its_link(kind):
    subject, body = render_mail(kind, DATA[kind], task_id="t-1", base_url="https://thidua.example/")
    assert "{" not in subject + body and "—" not in subject + body
    assert "https://thidua.example/tasks/t-1" in body
    assert "05/03/2026 00:00" in body or kind == "digest"


def test_mail_wording_of_a_reminder():
    subject, body = render_mail("task_reminder", DATA["task_reminder"], task_id="t-1")
    assert subject == "Nhắc việc: Thẩm định – LDTT – Lê Minh Khoa"
    assert body.startswith(
        "Nhiệm vụ «Thẩm định» của hồ sơ LDTT – Lê Minh Khoa đã dùng 75% thời hạn xử lý. Hạn xử lý: 05/03/2026 00:00."
    )
    assert "Xem và xử lý: /tasks/t-1" in body  # without a base URL, the path


def test_roles_are_named_in_vietnamese():
    _, body = render_mail("task_escalated", DATA["task_escalated"])
    assert "được chuyển đến Trưởng Ban Thi đua – Khen thưởng để xử lý" in body


def test_missing_data_shows_a_dash_and_a_subject_stays_on_one_line():
    subject, body = render_mail("task_overdue", {"task_name": "Ký\r\nBcc: x@example.com"})
    assert subject == "Quá hạn: Ký Bcc: x@example.com – —"
    assert "hạn xử lý: —" in body


def test_odd_data_never_breaks_a_mail():
    odd = {"task_name": ["a"], "role": ["a"], "due_at": 5, "share": "half", "date": 3, "items": ["x", {}]}
    for kind in KINDS:
        subject, body = render_mail(kind, odd)
        assert subject and body


def test_the_digest_mail_lists_its_tasks():
    subject, body = render_mail("digest", DATA["digest"], base_url="https://thidua.example")
    assert subject == "Tổng hợp công việc ngày 03/03/2026: 1 quá hạn, 2 sắp đến hạn"
    assert "- Thẩm định – LDTT – Lê Minh Khoa (hạn 05/03/2026 00:00): https://thidua.example/tasks/t-1" in body
    assert "Xem tất cả công việc: https://thidua.example/" in body


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [backoff_seconds(n) for n in (1, 2, 3, 7, 8, 9, 1000)] == [30, 60, 120, 1920, 3600, 3600, 3600]


@pytest.fixture
def english():
    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE="en", BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh", SERVER_NAME="thidua.test")
    Babel(app)
    app.add_url_rule("/", "inbox.index")
    app.add_url_rule("/tasks/<task_id>", "inbox.task")
    with app.test_request_context():
        yield


def view(kind: str, data: dict, task_id: str | None = "t-1") -> NotificationView:
    return NotificationView(1, kind, task_id, None, data, datetime(2026, 3, 3, tzinfo=timezone.utc), None)


def test_every_kind_has_an_in_app_sentence():
    assert set(texts.TEXTS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_in_app_text_is_rendered_from_kind_and_data(english, kind):
    text = texts.notification_text(view(kind, DATA[kind]))
    assert "%(" not in text and texts.MISSING not in text
    if kind != "digest":
        assert "Thẩm định" in text and "LDTT – Lê Minh Khoa" in text and "05/03/2026 00:00" in text


def test_in_app_text_survives_odd_data(english):
    odd = {"task_name": None, "role": ["a"], "due_at": 5, "share": "half", "overdue": {"x": 1}}
    for kind in KINDS:
        assert texts.notification_text(view(kind, odd))
    assert texts.notification_text(view("party", {})) == "party"
    assert texts.digest_items(view("digest", {"items": ["x", {"task_name": "no id"}, {"task_id": "t-2"}]})) == [
        {"text": "— – — (—)", "overdue": False, "link": "/tasks/t-2"}
    ]


def test_links_go_to_the_task_or_for_a_digest_to_the_inbox(english):
    assert texts.notification_link(view("task_due", {})) == "/tasks/t-1"
    assert texts.notification_link(view("digest", {}, task_id=None)) == "/"


def test_mail_is_off_without_an_smtp_host():
    assert mail_sender(web_config.DEFAULTS) is None
    assert mail_sender({**web_config.DEFAULTS, "SMTP_HOST": "  "}) is None


def test_smtp_settings_come_from_the_configuration():
    sender = mail_sender(
        {
            **web_config.DEFAULTS,
            "SMTP_HOST": "mail.namdinh.gov.vn",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "yes",
            "SMTP_SSL": 0,
            "SMTP_USERNAME": "thidua",
            "SMTP_PASSWORD": 12345,  # THIDUA_SMTP_PASSWORD=12345 arrives as a number
            "SMTP_TIMEOUT_SECONDS": 3,
            "MAIL_FROM": "thidua@namdinh.gov.vn",
        }
    )
    assert sender == mail.SmtpSender(
        "mail.namdinh.gov.vn", 587, "thidua@namdinh.gov.vn", "thidua", "12345", starttls=True, ssl=False, timeout=3
    )
