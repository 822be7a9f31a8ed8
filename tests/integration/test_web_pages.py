"""The reviewers' pages over HTTP on the demo province: sign-in and its protections, scopes,
the inbox, a task from its form to the next reviewer, delegation, dossier files, and the council
secretary's session sheet. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine import queries
from engine.models import HistoryEvent
from tests.integration.conftest import form_token, sign_in
from web.extensions import services as app_services
from web.security import SESSION_COOKIE
from workflows.accounts.models import AuthToken
from workflows.nominations.models import Nomination, ReviewComment
from workflows.nominees.models import AchievementRecord, Person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def open_task(app, person_id: str, element_id: str):
    """The open task `element_id` of the nomination of `person_id`."""
    services = app_services(app)
    with services.session_factory() as session:
        nomination = session.scalars(select(Nomination).where(Nomination.person_id == person_id)).one()
        tasks = queries.open_tasks(session, instance_id=nomination.instance_id)
    (task,) = [t for t in tasks if t.element_id == element_id]
    return task


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/")


def test_wrong_password_is_refused_in_vietnamese(client):
    response = client.post(
        "/login", data={"username": "gd.y.te", "password": "sai-mat-khau", "csrf_token": form_token(client)}
    )
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in page(response)


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    response = client.post("/login", data={"username": "khong.co", "password": "x", "csrf_token": form_token(client)})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in page(response)


def test_repeated_failures_lock_the_account_until_the_lock_ends(client, demo_app, clock):
    for _ in range(demo_app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "gd.y.te", "password": "sai", "csrf_token": form_token(client)})
    locked = client.post(
        "/login", data={"username": "gd.y.te", "password": "thidua-demo-2022", "csrf_token": form_token(client)}
    )
    assert locked.status_code == 429
    assert "bị khóa" in page(locked)
    clock.advance(minutes=demo_app.config["LOGIN_LOCK_MINUTES"] + 1)
    sign_in(client, "gd.y.te")


def test_sign_in_without_the_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"username": "gd.y.te", "password": "thidua-demo-2022"})
    assert response.status_code == 403


def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(client, demo_app):
    sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    response = client.post(f"/tasks/{task.id}/claim", data={})
    assert response.status_code == 403
    assert open_task(demo_app, "nv-ldtt-dat", "sign_nomination").claimed_by is None


def test_signing_out_ends_the_session_on_the_server(client, demo_app):
    token = sign_in(client, "gd.y.te")
    cookie = client.get_cookie(SESSION_COOKIE).value
    client.post("/logout", data={"csrf_token": token})
    client.set_cookie(SESSION_COOKIE, cookie)  # a copy of the cookie kept by an attacker
    assert client.get("/").status_code == 302


def test_session_secrets_are_stored_only_as_hashes(client, demo_app):
    sign_in(client, "gd.y.te")
    cookie = client.get_cookie(SESSION_COOKIE).value
    with app_services(demo_app).session_factory() as session:
        stored = session.scalars(select(AuthToken.token_hash)).all()
    assert stored and cookie not in stored


def test_vietnamese_by_default_and_english_on_request(client):
    token = sign_in(client, "gd.y.te")
    assert "Hộp việc" in page(client.get("/"))
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    assert ">Inbox<" in page(client.get("/"))


def test_inbox_shows_claimable_tasks_with_counts_and_filters(client, demo_app):
    sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    claimable = page(client.get("/?view=claimable"))
    assert task.id in claimable
    assert "Trần Thị Thu Hà" in claimable
    assert task.id in page(client.get("/?view=claimable&award=LDTT"))
    assert task.id not in page(client.get("/?view=claimable&award=CSTDCS"))
    assert task.id not in page(client.get("/?view=mine"))
    assert tab_counts(claimable) == {"all": 1, "mine": 0, "claimable": 1, "overdue": 0}
    assert tab_counts(page(client.get("/?award=CSTDCS"))) == {"all": 0, "mine": 0, "claimable": 0, "overdue": 0}
    token = form_token(client, "/")
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": token})
    assert tab_counts(page(client.get("/"))) == {"all": 1, "mine": 1, "claimable": 0, "overdue": 0}


def tab_counts(html: str) -> dict[str, int]:
    return {view: int(n) for view, n in re.findall(r'data-testid="tab-(\w+)">[^<]*<span class="count">(\d+)', html)}


def test_a_bad_filter_is_a_clear_refusal_not_a_crash(client):
    sign_in(client, "gd.y.te")
    response = client.get("/?view=everything")
    assert response.status_code == 422
    assert "view must be one of" in page(response)
    assert client.get("/?page=zero").status_code == 422


def test_a_task_of_another_unit_is_hidden(client, demo_app):
    sign_in(client, "tdkt.tai.chinh")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert client.post(f"/tasks/{task.id}/claim", data={"csrf_token": form_token(client, "/")}).status_code == 404


def test_a_visible_task_of_another_role_is_forbidden(client, demo_app):
    token = sign_in(client, "tdkt.y.te")  # the unit's officer sees its nomination but does not sign
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    assert client.get(f"/tasks/{task.id}").status_code == 200
    assert client.post(f"/tasks/{task.id}/claim", data={"csrf_token": token}).status_code == 403


def test_an_unknown_task_is_404_not_500(client):
    sign_in(client, "gd.y.te")
    response = client.get("/tasks/no-such-task")
    assert response.status_code == 404
    assert "Không tìm thấy" in page(response)


def propose_ldtt(client, token: str, nominee: str = "person:nv-ldtt-moi"):
    """The unit officer's form for a new LDTT nomination of SO_Y_TE."""
    form = {"campaign": "NAM_DINH_2022", "unit": "SO_Y_TE", "award": "LDTT", "nominee": nominee, "route": "merit"}
    return client.post("/nominations/new", data={"csrf_token": token} | form)


def claimed_draft(client, demo_app, token: str):
    """The unit officer's new nomination of nv-ldtt-moi, its draft task claimed."""
    created = propose_ldtt(client, token)
    assert created.status_code == 302, page(created)
    task = open_task(demo_app, "nv-ldtt-moi", "draft_nomination")
    client.post(f"/tasks/{task.id}/claim", data={"csrf_token": token})
    return task


def test_a_nomination_goes_from_its_form_to_the_next_reviewer(client, demo_app):
    token = sign_in(client, "tdkt.y.te")
    task = claimed_draft(client, demo_app, token)

    refused = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": token, "summary": "  "})
    assert refused.status_code == 422
    assert re.search(r'data-error-for="summary">Trường này là bắt buộc', page(refused))

    done = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": token, "summary": "Hoàn thành tốt"})
    assert done.status_code == 302
    sign_in(client, "gd.y.te")
    assert open_task(demo_app, "nv-ldtt-moi", "sign_nomination").id in page(client.get("/?view=claimable"))


def test_a_second_nomination_of_the_same_person_is_refused_on_the_page(client, demo_app):
    token = sign_in(client, "tdkt.y.te")
    assert propose_ldtt(client, token).status_code == 302
    again = propose_ldtt(client, token)
    assert again.status_code == 422
    assert "đã có hồ sơ đề nghị hình thức khen thưởng này" in page(again)


def test_a_person_of_another_unit_is_refused_on_the_page(client, demo_app):
    token = sign_in(client, "tdkt.y.te")
    refused = propose_ldtt(client, token, nominee="person:cb-hai_hau-1")
    assert refused.status_code == 422, page(refused)
    assert "Đơn vị chỉ đề nghị khen thưởng cho cá nhân công tác tại đơn vị" in page(refused)


def test_the_award_register_page_lists_what_a_nominee_received(client, demo_app):
    with app_services(demo_app).session_factory() as session:
        record = session.scalars(select(AchievementRecord).where(AchievementRecord.decision_id.is_not(None))).first()
    sign_in(client, "chuyen.vien.1")
    shown = client.get(f"/register/{record.subject_kind}/{record.subject_id}")
    assert shown.status_code == 200
    assert "Sổ khen thưởng" in page(shown) and record.decision_code in page(shown)
    sign_in(client, "tdkt.tai.chinh")  # another unit's officer: not theirs to see
    assert client.get(f"/register/{record.subject_kind}/{record.subject_id}").status_code == 404


def test_a_unit_officer_registers_a_new_person_and_nominates_them(client, demo_app):
    token = sign_in(client, "tdkt.y.te")
    form = {"csrf_token": token, "full_name": "  Lê   Thị Mới ", "unit": "SO_Y_TE", "recruited_on": "2021-05-04"}
    registered = client.post("/people", data=form)
    assert registered.status_code == 302
    nominee = parse_qs(urlparse(registered.location).query)["nominee"][0]
    chosen = page(client.get(registered.location))
    assert f'value="{nominee}" selected>Lê Thị Mới<' in chosen
    assert propose_ldtt(client, token, nominee=nominee).status_code == 302


@pytest.mark.parametrize(
    ("changes", "wording"),
    [
        ({"unit": "SO_TAI_CHINH"}, "cán bộ thi đua của đơn vị đề nghị"),
        ({"full_name": " "}, "Nhập họ và tên"),
        ({"recruited_on": "2099-01-01"}, "không được sau ngày hôm nay"),
        ({"recruited_on": "04/05/2021"}, "ngày hợp lệ"),
    ],
)
def test_registering_a_person_refuses_bad_input_and_stores_nothing(client, demo_app, changes, wording):
    token = sign_in(client, "tdkt.y.te")
    with app_services(demo_app).session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Person))
    form = {"csrf_token": token, "full_name": "Lê Thị Mới", "unit": "SO_Y_TE", "recruited_on": "2021-05-04"}
    refused = client.post("/people", data=form | changes)
    assert refused.status_code == 422 and wording in page(refused), page(refused)
    with app_services(demo_app).session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == before


class Transactions:
    """The statements of each database transaction begun while listening (savepoints are inside)."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _begin(self, connection):
        self.seen.append([])

    def _statement(self, connection, cursor, statement, *args):
        if self.seen:
            self.seen[-1].append(statement)

    def touching(self, table: str) -> int:
        return sum(any(table in statement for statement in statements) for statements in self.seen)


def test_completing_a_task_from_its_page_reads_and_acts_in_one_transaction(client, demo_app):
    token = sign_in(client, "tdkt.y.te")
    task = claimed_draft(client, demo_app, token)
    database = app_services(demo_app).database
    with Transactions(database) as refused_in:
        refused = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": token, "summary": "  "})
    assert refused.status_code == 422 and 'data-error-for="summary"' in page(refused)
    with Transactions(database) as done_in:
        done = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": token, "summary": "Hoàn thành tốt"})
    assert done.status_code == 302
    # The form's schema, the step and, when refused, the page shown again: one transaction each time.
    assert (refused_in.touching("human_task"), done_in.touching("human_task")) == (1, 1)


def test_delegation_hands_the_task_to_a_colleague_with_the_reason_in_history(client, demo_app):
    token = sign_in(client, "chuyen.vien.1")
    task = open_task(demo_app, "nv-bkt-dat", "appraise_nomination")
    reason = unicodedata.normalize("NFD", "Nghỉ phép")
    response = client.post(
        f"/tasks/{task.id}/delegate", data={"csrf_token": token, "delegate": "chuyen.vien.2", "reason": reason}
    )
    assert response.status_code == 302, page(response)
    with app_services(demo_app).session_factory() as session:
        event = session.scalars(select(HistoryEvent).where(HistoryEvent.type == "TaskDelegated")).one()
    assert event.reason == unicodedata.normalize("NFC", "Nghỉ phép")
    assert event.data == {"from": None, "to": "chuyen.vien.2"}
    sign_in(client, "chuyen.vien.2")
    assert task.id in page(client.get("/?view=mine"))


def test_delegation_needs_a_reason(client, demo_app):
    token = sign_in(client, "chuyen.vien.1")
    task = open_task(demo_app, "nv-bkt-dat", "appraise_nomination")
    response = client.post(
        f"/tasks/{task.id}/delegate", data={"csrf_token": token, "delegate": "chuyen.vien.2", "reason": " "}
    )
    assert response.status_code == 422
    assert open_task(demo_app, "nv-bkt-dat", "appraise_nomination").claimed_by is None


def test_files_are_checked_by_content_and_downloaded_within_scope(client, demo_app):
    token = sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    mismatch = client.post(
        f"/tasks/{task.id}/files", data={"csrf_token": token, "file": (io.BytesIO(PNG), "to-trinh.pdf")}
    )
    assert mismatch.status_code == 422
    assert "không khớp" in page(mismatch)
    stored = client.post(
        f"/tasks/{task.id}/files", data={"csrf_token": token, "file": (io.BytesIO(PDF), "Tờ trình.pdf")}
    )
    assert stored.status_code == 302
    file_id = re.search(r"/files/([0-9a-f-]{36})", page(client.get(f"/tasks/{task.id}"))).group(1)
    with client.get(f"/files/{file_id}") as download:
        assert download.status_code == 200 and download.data == PDF
    sign_in(client, "tdkt.tai.chinh")
    assert client.get(f"/files/{file_id}").status_code == 404


def test_an_oversized_upload_is_refused_before_it_is_read(client, demo_app):
    token = sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    too_big = PDF + b"0" * (demo_app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 70 * 1024)
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(too_big), "big.pdf")})
    response = client.post(
        f"/tasks/{task.id}/files", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413


def test_comments_are_stored_in_nfc(client, demo_app):
    token = sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    nomination_id = re.search(r"/nominations/([0-9a-f-]{36})/comments", page(client.get(f"/tasks/{task.id}")))
    text = unicodedata.normalize("NFD", "Đề nghị bổ sung bản sao quyết định")
    client.post(f"/nominations/{nomination_id.group(1)}/comments", data={"csrf_token": token, "text": text})
    with app_services(demo_app).session_factory() as session:
        stored = session.scalars(select(ReviewComment.text)).one()
    assert stored == unicodedata.normalize("NFC", text)


def test_text_that_cannot_be_stored_is_a_400_naming_its_field(client, demo_app):
    token = sign_in(client, "gd.y.te")
    task = open_task(demo_app, "nv-ldtt-dat", "sign_nomination")
    nomination_id = re.search(r"/nominations/([0-9a-f-]{36})/comments", page(client.get(f"/tasks/{task.id}"))).group(1)
    response = client.post(f"/nominations/{nomination_id}/comments", data={"csrf_token": token, "text": "a\x00b"})
    assert response.status_code == 400
    assert "text contains a NUL character" in page(response)
    with app_services(demo_app).session_factory() as session:
        assert session.scalars(select(ReviewComment)).all() == []


def test_the_secretary_records_attendance_and_tallies_at_once(client, demo_app, clock):
    token = sign_in(client, "truong.ban")  # the demo's provincial emulation fighter awaits the council
    waiting = page(client.get("/council"))
    nomination_id = re.search(r'name="nominations" value="([0-9a-f-]{36})"', waiting).group(1)
    scheduled = client.post(
        "/council",
        data={
            "csrf_token": token,
            "council": "HDTDKT_NAM_DINH",
            "nominations": [nomination_id],
            "scheduled_for": (clock.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert scheduled.status_code == 302
    sheet_url = scheduled.location
    sheet = page(client.get(sheet_url))
    members = re.findall(r'name="present" value="([^"]+)"', sheet)
    voters = re.findall(rf'name="voted-{nomination_id}" value="([^"]+)"', sheet)
    recorded = client.post(
        sheet_url,
        data={
            "csrf_token": token,
            "present": members,
            "item": [nomination_id],
            f"yes-{nomination_id}": str(len(voters)),
            f"no-{nomination_id}": "0",
            f"abstain-{nomination_id}": "0",
            f"voted-{nomination_id}": voters,
        },
    )
    assert recorded.status_code == 302, page(recorded)
    assert "Đạt" in page(client.get(sheet_url))
    # Recording the sheet again (attendance now read-only, so not posted) keeps the attendance.
    assert client.post(sheet_url, data={"csrf_token": token}).status_code == 302
    assert 'value="chu.tich" checked disabled' in page(client.get(sheet_url))
    assert open_task(demo_app, "nv-cstdt-dat", "sign_decision")


def test_a_tally_that_does_not_add_up_records_nothing(client, demo_app):
    token = sign_in(client, "truong.ban")
    nomination_id = re.search(r'name="nominations" value="([0-9a-f-]{36})"', page(client.get("/council"))).group(1)
    sheet_url = client.post(
        "/council",
        data={
            "csrf_token": token,
            "council": "HDTDKT_NAM_DINH",
            "nominations": [nomination_id],
            "scheduled_for": "2022-11-20T08:00",
        },
    ).location
    members = re.findall(r'name="present" value="([^"]+)"', page(client.get(sheet_url)))
    refused = client.post(
        sheet_url,
        data={
            "csrf_token": token,
            "present": members,
            "item": [nomination_id],
            f"yes-{nomination_id}": "9",
            f"no-{nomination_id}": "0",
            f"abstain-{nomination_id}": "0",
            f"voted-{nomination_id}": members[:2],
        },
    )
    assert refused.status_code == 422
    assert "yes + no + abstain" in page(refused)
    assert open_task(demo_app, "nv-cstdt-dat", "council_vote")
    assert "disabled" not in page(client.get(sheet_url))  # the attendance was not recorded either
