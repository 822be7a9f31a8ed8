"""The JSON API (/api/v1) over the demo province, on SQLite and PostgreSQL: every endpoint's happy
path, record scopes (404 hidden, 403 seen but not allowed), CSRF on cookie requests, request
validation, dossier uploads and API tokens.

One app and demo province per database for the whole module: tests that change state work on
nominations they create, so that they do not depend on each other's order."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import FakeClock
from tests.databases import TestDatabase
from web import create_app
from web.extensions import services
from workflows.accounts import services as accounts
from workflows.accounts.models import AuthToken
from workflows.demo import province as demo
from workflows.nominations.models import Nomination
from workflows.nominees import people
from workflows.nominees.models import AchievementRecord

ROOT = Path(__file__).resolve().parents[2]
DEMO_NOW = datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
MAX_UPLOAD_MB = 1
# Users of the demo who work through these tests (each gets an API token).
USERS = [
    "tdkt.y.te",  # unit officer of SO_Y_TE
    "gd.y.te",  # unit head of SO_Y_TE
    "gd.giao.duc",  # unit head of SO_GD_DT, bloc head of KHOI_VHXH (SO_Y_TE's bloc)
    "tdkt.tai.chinh",  # unit officer of SO_TAI_CHINH: another unit, another bloc
    "gd.van.hoa",  # unit head of SO_VHTTDL, a member of KHOI_VHXH
    "ct.giao.thuy",  # unit head of GIAO_THUY, a member of CUM_HUYEN: another unit, another bloc
    "chuyen.vien.1",  # board officers of the province
    "chuyen.vien.2",
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_database_url(request, templates, tmp_path_factory):
    """Like `database`, once per module: a copy of the demo province on SQLite or PostgreSQL."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    database = TestDatabase(request.param, templates, tmp_path_factory.mktemp("api"), server)
    yield database.restore("demo")
    database.drop()


@pytest.fixture(scope="module")
def app(module_database_url, tmp_path_factory):
    app = create_app(
        {
            "DATABASE_URL": module_database_url,
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATA_DIR": str(tmp_path_factory.mktemp("api-data")),
            "MAX_UPLOAD_MB": MAX_UPLOAD_MB,
            "LOGIN_MAX_FAILURES": 3,
        }
    )
    app_services = services(app)
    app_services.clock = FakeClock(DEMO_NOW)
    yield app
    app_services.dispose()


@pytest.fixture(scope="module")
def tokens(app) -> dict[str, str]:
    """A raw API token per user (issued directly: no password hashing per test)."""
    return {user: accounts.issue_api_token(services(app), user, "tests", 90)[0] for user in USERS}


class Api:
    """Requests as a user (by bearer token) or anonymously; a fresh client each time, so no cookie leaks."""

    def __init__(self, app, tokens):
        self.app, self.tokens = app, tokens

    def __call__(self, method: str, path: str, user: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return self.app.test_client().open(f"/api/v1{path}", method=method, headers=headers, buffered=True, **kwargs)

    def get(self, path, user=None, **kwargs):
        return self("GET", path, user, **kwargs)

    def post(self, path, user=None, **kwargs):
        return self("POST", path, user, **kwargs)

    def ok(self, method: str, path: str, user: str, status: int = 200, **kwargs):
        response = self(method, path, user, **kwargs)
        assert response.status_code == status, response.get_json()
        return response.get_json()


@pytest.fixture(scope="module")
def api(app, tokens) -> Api:
    return Api(app, tokens)


def multipart(content: bytes, filename: str) -> dict:
    """A multipart/form-data body with one file field (built in memory: the test client would
    spool a large one to a temporary file it never closes)."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def open_task(api: Api, user: str, nomination_id: str, element_id: str) -> str:
    detail = api.ok("GET", f"/nominations/{nomination_id}", user)
    (task_id,) = [t["id"] for t in detail["open_tasks"] if t["element_id"] == element_id]
    return task_id


def demo_nomination(api: Api, user: str, person_id: str) -> dict:
    items = api.ok("GET", "/nominations?view=visible&per_page=100", user)["items"]
    (found,) = [n for n in items if n["nominee_name"] == demo_person_name(person_id)]
    return found


def demo_person_name(person_id: str) -> str:
    (nominee,) = [n for n in demo.NOMINEES if n.id == person_id]
    return nominee.full_name


def new_nurse(api: Api) -> str:
    """A nurse of SO_Y_TE no nomination has yet: a person has one nomination per award and year,
    and the module's tests share one database."""
    person_id = str(uuid.uuid4())
    with services(api.app).uow() as uow:
        people.add_person(
            uow.session,
            person_id=person_id,
            full_name="Điều dưỡng mới",
            unit_id="SO_Y_TE",
            recruited_on=date(2020, 3, 1),
        )
        uow.commit()
    return person_id


def nomination_body(person_id: str) -> dict:
    """An LDTT nomination of SO_Y_TE for the demo campaign."""
    return {
        "campaign_id": demo.CAMPAIGN,
        "award_code": "LDTT",
        "nominating_unit_id": "SO_Y_TE",
        "year": demo.YEAR,
        "person_id": person_id,
    }


def new_nomination(api: Api) -> dict:
    """A fresh LDTT nomination of SO_Y_TE, at its draft task."""
    return api.ok("POST", "/nominations", "tdkt.y.te", 201, json=nomination_body(new_nurse(api)))


def test_a_second_nomination_of_the_same_nominee_award_and_year_is_409_naming_the_first(api):
    body = nomination_body(new_nurse(api))
    first = api.ok("POST", "/nominations", "tdkt.y.te", 201, json=body)
    refused = api.post("/nominations", "tdkt.y.te", json=body)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "duplicate_nomination"
    assert refused.get_json()["nomination_id"] == first["id"]


def test_another_units_staff_cannot_be_nominated_over_the_api(api):
    body = nomination_body(new_nurse(api)) | {"nominating_unit_id": "SO_TAI_CHINH"}
    refused = api.post("/nominations", "tdkt.tai.chinh", json=body)
    assert refused.status_code == 422 and refused.get_json()["error"] == "nominee_outside_unit"


def to_board(api: Api) -> tuple[dict, str]:
    """A fresh nomination driven through draft, signature and bloc review to the board's receipt task."""
    nomination = new_nomination(api)
    steps = [
        ("draft_nomination", "tdkt.y.te", {"summary": "Hoàn thành tốt nhiệm vụ"}),
        ("sign_nomination", "gd.y.te", {}),
        ("bloc_review", "gd.giao.duc", {"approved": True}),
    ]
    for element_id, user, data in steps:
        task_id = open_task(api, user, nomination["id"], element_id)
        api.ok("POST", f"/tasks/{task_id}/complete", user, json={"data": data})
    return nomination, open_task(api, "chuyen.vien.1", nomination["id"], "receive_nomination")


@pytest.fixture(scope="module")
def ldtt(api) -> dict:
    """The demo's LDTT nomination of SO_Y_TE, waiting for the unit head's signature, with a file."""
    nomination = demo_nomination(api, "gd.y.te", "nv-ldtt-dat")
    task_id = open_task(api, "gd.y.te", nomination["id"], "sign_nomination")
    file = api.ok("POST", f"/nominations/{nomination['id']}/files", "gd.y.te", 201, **multipart(PDF, "to-trinh.pdf"))
    return {"nomination": nomination, "task_id": task_id, "file": file}


# --- documentation and authentication ---------------------------------------------------------


def test_openapi_document_and_docs_page_need_no_token(api):
    document = api.get("/openapi.json").get_json()
    assert document["openapi"] == "3.0.3"
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    page = api.get("/docs")
    assert page.status_code == 200
    assert b"/vendor/swagger-ui-bundle.js" in page.data and b"/api/v1/openapi.json" in page.data


def test_openapi_document_describes_every_route(app, api):
    documented = {
        (path, method.upper())
        for path, operations in api.get("/openapi.json").get_json()["paths"].items()
        for method in operations
    }
    routed = {
        (re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed


@pytest.mark.parametrize(
    "path",
    [
        "/tasks",
        "/users/me",
        "/auth/tokens",
        "/definitions",
        "/nominations",
        "/tasks/00000000-0000-4000-8000-000000000000",
    ],
)
def test_without_a_token_the_api_answers_401(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_token_exchange_revocation_and_storage(app, api):
    created = api.ok(
        "POST", "/auth/token", None, 201, json={"username": "tdkt.y.te", "password": demo.DEMO_PASSWORD, "name": "CI"}
    )
    assert created["name"] == "CI" and created["expires_at"].startswith("2023-01-30T02:00:00")
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/users/me", headers=bearer).get_json()["username"] == "tdkt.y.te"
    listed = api.get("/auth/tokens", headers=bearer).get_json()
    assert created["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)

    with services(app).session_factory() as session:
        stored = [tuple(row) for row in session.execute(select(AuthToken.__table__))]
    assert created["token"] not in repr(stored)
    assert hashlib.sha256(created["token"].encode()).hexdigest() in repr(stored)

    assert api("DELETE", f"/auth/tokens/{created['id']}", "gd.y.te").status_code == 404  # someone else's
    revoked = api("DELETE", f"/auth/tokens/{created['id']}", headers=bearer).get_json()
    assert revoked["revoked_at"] == "2022-11-01T02:00:00+00:00"
    assert api.get("/users/me", headers=bearer).status_code == 401


def test_token_exchange_refuses_wrong_passwords_then_locks(api):
    wrong = {"username": "tdkt.van.hoa", "password": "wrong"}
    for _ in range(2):
        response = api.post("/auth/token", json=wrong)
        assert (response.status_code, response.get_json()["error"]) == (401, "invalid_credentials")
    assert api.post("/auth/token", json=wrong).status_code == 401  # the third failure locks
    response = api.post("/auth/token", json={"username": "tdkt.van.hoa", "password": demo.DEMO_PASSWORD})
    assert (response.status_code, response.get_json()["error"]) == (429, "account_locked")


def test_users_me(api):
    me = api.ok("GET", "/users/me", "gd.giao.duc")
    assert me["id"] == "gd.giao.duc" and me["unit_id"] == "SO_GD_DT"
    assert {"role": "bloc_head", "scope": "bloc:KHOI_VHXH"} in me["roles"]


# --- reading -------------------------------------------------------------------------------------


def test_inbox_views_counts_and_filters(api, ldtt):
    page = api.ok("GET", "/tasks?view=claimable", "gd.y.te")
    item = next(i for i in page["items"] if i["task"]["id"] == ldtt["task_id"])
    assert item["task"]["created_at"] == "2022-11-01T02:00:00+00:00"
    assert item["nomination"]["nominee_name"] == "Trần Thị Thu Hà"
    assert item["overdue"] is False
    assert page["page"] == 1 and page["per_page"] == 25 and page["total"] == page["counts"]["claimable"]
    assert set(page["counts"]) >= {"mine", "claimable", "overdue", "all", "started", "watched"}
    board = api.ok("GET", "/tasks?view=all&award=BK_TINH&sort=-due&per_page=5", "chuyen.vien.1")
    assert [i["task"]["element_id"] for i in board["items"]] == ["appraise_nomination"]
    assert board["items"][0]["working_days_left"] == 10
    assert api.ok("GET", "/tasks?award=BK_TINH&due=week", "chuyen.vien.1")["total"] == 0
    assert api.ok("GET", "/tasks?view=mine", "tdkt.tai.chinh")["items"] == []
    nothing = api.ok("GET", "/tasks?view=claimable&award=CSTD_TINH&status=REJECTED", "chuyen.vien.1")
    assert nothing["items"] == [] and nothing["total"] == 0
    assert {view: nothing["counts"][view] for view in ("mine", "claimable", "overdue", "all")} == dict.fromkeys(
        ("mine", "claimable", "overdue", "all"), 0
    )


def test_task_detail_carries_its_form_schema_and_eligibility(api, ldtt):
    detail = api.ok("GET", f"/tasks/{ldtt['task_id']}", "gd.y.te")
    assert detail["task"]["element_id"] == "sign_nomination"
    assert detail["form_schema"]["properties"]["submission_note"]["type"] == "string"
    assert detail["can_act"] is True and detail["system_step"] is False
    assert detail["nomination"]["id"] == ldtt["nomination"]["id"]
    assert detail["eligibility"]["eligible"] is True and detail["eligibility"]["criteria"]
    # The unit officer sees the task (their unit's nomination) but may not act on it.
    assert api.ok("GET", f"/tasks/{ldtt['task_id']}", "tdkt.y.te")["can_act"] is False


def test_nominations_detail_files_and_download(api, ldtt):
    nomination_id = ldtt["nomination"]["id"]
    started = api.ok("GET", "/nominations?view=started", "tdkt.y.te")
    assert nomination_id in [n["id"] for n in started["items"]]
    detail = api.ok("GET", f"/nominations/{nomination_id}", "gd.van.hoa")  # a unit of the same bloc
    assert detail["status"] == "DRAFT" and detail["nominee_name"] == "Trần Thị Thu Hà"
    assert [t["element_id"] for t in detail["open_tasks"]] == ["sign_nomination"]
    assert detail["watching"] is False and detail["history"][0]["type"] == "InstanceStarted"
    files = api.ok("GET", f"/nominations/{nomination_id}/files", "gd.y.te")
    assert ldtt["file"]["id"] in [f["id"] for f in files]
    assert ldtt["file"]["sha256"] == hashlib.sha256(PDF).hexdigest() and ldtt["file"]["size"] == len(PDF)
    response = api.get(f"/files/{ldtt['file']['id']}", "gd.van.hoa")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_definitions_and_instance_history(api, ldtt):
    definitions = api.ok("GET", "/definitions", "tdkt.y.te")
    assert {"nomination", "ad_hoc_nomination"} <= {d["process_id"] for d in definitions}
    history = api.ok("GET", f"/instances/{ldtt['nomination']['instance_id']}/history", "tdkt.y.te")
    assert [e["seq"] for e in history] == sorted(e["seq"] for e in history)
    assert history[0]["type"] == "InstanceStarted" and history[0]["at"] == "2022-11-01T02:00:00+00:00"
    assert any(e["type"] == "TaskCompleted" and e["element_id"] == "draft_nomination" for e in history)


# --- acting --------------------------------------------------------------------------------------


def test_create_claim_unclaim_and_complete(api):
    nomination = new_nomination(api)
    assert nomination["status"] == "DRAFT" and nomination["nominating_unit_id"] == "SO_Y_TE"
    (draft,) = nomination["open_tasks"]
    claimed = api.ok("POST", f"/tasks/{draft['id']}/claim", "tdkt.y.te")
    assert claimed["claimed_by"] == "tdkt.y.te"
    assert api.ok("GET", "/tasks?view=mine", "tdkt.y.te")["counts"]["mine"] >= 1
    assert api.ok("POST", f"/tasks/{draft['id']}/unclaim", "tdkt.y.te")["claimed_by"] is None
    result = api.ok("POST", f"/tasks/{draft['id']}/complete", "tdkt.y.te", json={"data": {"summary": "Thành tích"}})
    assert result["closed"] == [draft["id"]] and result["ended"] is False
    assert [t["element_id"] for t in result["opened"]] == ["sign_nomination"]
    assert result["instance_id"] == nomination["instance_id"]


def test_delegation_stores_the_reason_nfc(api):
    nomination, task_id = to_board(api)
    reason = unicodedata.normalize("NFD", "Chuyển đồng chí Nam thẩm định")
    assert reason != unicodedata.normalize("NFC", reason)
    delegated = api.ok(
        "POST", f"/tasks/{task_id}/delegate", "chuyen.vien.1", json={"to": "chuyen.vien.2", "reason": reason}
    )
    assert delegated["claimed_by"] == "chuyen.vien.2"
    history = api.ok("GET", f"/instances/{nomination['instance_id']}/history", "chuyen.vien.2")
    (event,) = [e for e in history if e["type"] == "TaskDelegated"]
    assert event["reason"] == unicodedata.normalize("NFC", reason)
    assert event["data"] == {"from": None, "to": "chuyen.vien.2"}


def test_task_data_refused_by_its_form_is_422_with_fields(api):
    (draft,) = new_nomination(api)["open_tasks"]
    response = api.post(f"/tasks/{draft['id']}/complete", "tdkt.y.te", json={"data": {"summary": ""}})
    assert response.status_code == 422
    assert "summary" in response.get_json()["fields"]


def test_domain_refusal_is_422_with_its_code(api):
    body = {"campaign_id": demo.CAMPAIGN, "award_code": "LDTT", "nominating_unit_id": "SO_Y_TE", "year": 2022}
    response = api.post("/nominations", "gd.y.te", json=body | {"person_id": "nv-ldtt-moi"})
    assert (response.status_code, response.get_json()["error"]) == (422, "not_unit_officer")


# --- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["tdkt.tai.chinh", "ct.giao.thuy"])
def test_records_outside_the_scope_do_not_exist(api, ldtt, outsider):
    task_id, nomination_id = ldtt["task_id"], ldtt["nomination"]["id"]
    requests = [
        ("GET", f"/tasks/{task_id}", {}),
        ("POST", f"/tasks/{task_id}/claim", {}),
        ("POST", f"/tasks/{task_id}/unclaim", {}),
        ("POST", f"/tasks/{task_id}/delegate", {"json": {"to": "gd.y.te", "reason": "thử"}}),
        ("POST", f"/tasks/{task_id}/complete", {"json": {"data": {}}}),
        ("GET", f"/nominations/{nomination_id}", {}),
        ("GET", f"/nominations/{nomination_id}/files", {}),
        ("POST", f"/nominations/{nomination_id}/files", multipart(PDF, "a.pdf")),
        ("GET", f"/files/{ldtt['file']['id']}", {}),
        ("GET", f"/instances/{ldtt['nomination']['instance_id']}/history", {}),
    ]
    for method, path, kwargs in requests:
        response = api(method, path, outsider, **kwargs)
        assert (method, path, response.status_code, response.get_json()["error"]) == (method, path, 404, "not_found")
    visible = api.ok("GET", "/nominations?view=visible&per_page=100", outsider)["items"]
    assert nomination_id not in [n["id"] for n in visible]
    assert ldtt["task_id"] not in [i["task"]["id"] for i in api.ok("GET", "/tasks?per_page=100", outsider)["items"]]


def test_a_bloc_review_of_another_bloc_is_hidden(api):
    """ct.giao.thuy belongs to the districts' bloc; KHOI_VHXH's review is not theirs to see."""
    nomination = demo_nomination(api, "gd.giao.duc", "nv-cstdcs-dat")
    task_id = open_task(api, "gd.giao.duc", nomination["id"], "bloc_review")
    assert api.post(f"/tasks/{task_id}/claim", "ct.giao.thuy").status_code == 404
    assert api.get(f"/nominations/{nomination['id']}", "ct.giao.thuy").status_code == 404
    # A member of the bloc sees it, but only the bloc's head reviews it.
    assert api.get(f"/nominations/{nomination['id']}", "gd.van.hoa").status_code == 200
    assert api.post(f"/tasks/{task_id}/claim", "gd.van.hoa").status_code == 403


def test_seen_but_not_allowed_is_403(api, ldtt):
    task_id, nomination_id = ldtt["task_id"], ldtt["nomination"]["id"]
    # The unit officer sees the head's signature task, but is not its candidate.
    for action, kwargs in [
        ("claim", {}),
        ("complete", {"json": {"data": {}}}),
        ("delegate", {"json": {"to": "gd.y.te", "reason": "nhờ ký"}}),
        ("unclaim", {}),
    ]:
        response = api.post(f"/tasks/{task_id}/{action}", "tdkt.y.te", **kwargs)
        assert (action, response.status_code) == (action, 403)
    # ...and may not attach files: no open task of the nomination is theirs.
    response = api.post(f"/nominations/{nomination_id}/files", "tdkt.y.te", **multipart(PDF, "b.pdf"))
    assert (response.status_code, response.get_json()["error"]) == (403, "forbidden")
    # The unit head may not claim the unit officer's draft task.
    (draft,) = new_nomination(api)["open_tasks"]
    assert api.post(f"/tasks/{draft['id']}/claim", "gd.y.te").status_code == 403


# --- CSRF on cookie requests ---------------------------------------------------------------------


def test_cookie_requests_need_the_csrf_token(app, api):
    (draft,) = new_nomination(api)["open_tasks"]
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    signed_in = browser.post(
        "/login", data={"username": "tdkt.y.te", "password": demo.DEMO_PASSWORD, "csrf_token": csrf}
    )
    assert signed_in.status_code == 302
    assert browser.get("/api/v1/users/me").get_json()["username"] == "tdkt.y.te"
    refused = browser.post(f"/api/v1/tasks/{draft['id']}/claim")
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    page_token = re.search(r'data-csrf-token="([^"]+)"', browser.get("/api/v1/docs").get_data(as_text=True)).group(1)
    claimed = browser.post(f"/api/v1/tasks/{draft['id']}/claim", headers={"X-CSRF-Token": page_token})
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == "tdkt.y.te"


# --- request validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ("view=bogus", "view"),
        ("sort=name", "sort"),
        ("due=later", "due"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("per_page=1000", "per_page"),
        ("colour=red", "colour"),
        ("campaign=a%00b", "campaign"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(api, query, field):
    response = api.get(f"/tasks?{query}", "tdkt.y.te")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_request" and list(body["fields"]) == [field]


def test_the_due_filter_is_not_for_nominations(api):
    response = api.get("/nominations?due=today", "tdkt.y.te")
    assert response.status_code == 400 and list(response.get_json()["fields"]) == ["due"]


@pytest.mark.parametrize(
    "path, kwargs, field",
    [
        ("/tasks/{task}/delegate", {"json": {"to": "gd.y.te"}}, "reason"),
        ("/tasks/{task}/delegate", {"json": {"to": 7, "reason": "x"}}, "to"),
        ("/tasks/{task}/delegate", {"json": {"to": "gd.y.te", "reason": "x", "urgent": True}}, "urgent"),
        ("/tasks/{task}/complete", {"json": {"data": "summary"}}, "data"),
        ("/tasks/{task}/complete", {"json": {"data": {"summary": "a\x00b"}}}, "data"),
        ("/tasks/{task}/complete", {"json": {"data": {"summary": ["a", "b"]}}}, "data"),
        ("/tasks/{task}/delegate", {"json": {"to": "gd.y.te", "reason": "nul \x00"}}, "reason"),
        ("/auth/token", {"json": {"username": "tdkt\x00", "password": "x"}}, "username"),
        (
            "/auth/token",
            {"data": '{"username": "\\ud800", "password": "x"}', "content_type": "application/json"},
            "username",
        ),
        (
            "/auth/token",
            {"data": '{"username": "a", "password": "\\udfff"}', "content_type": "application/json"},
            "password",
        ),
        ("/tasks/{task}/complete", {"json": ["data"]}, "_schema"),
        ("/tasks/{task}/complete", {"data": "[" * 100_000, "content_type": "application/json"}, "_schema"),
        ("/tasks/{task}/complete", {"data": "data=1", "content_type": "text/plain"}, "_schema"),
        ("/tasks/{task}/complete", {"data": "{not json", "content_type": "application/json"}, "_schema"),
        ("/nominations", {"json": {"campaign_id": "C", "award_code": "LDTT", "nominating_unit_id": "U"}}, "year"),
        (
            "/nominations",
            {"json": {"campaign_id": "C", "award_code": "A", "nominating_unit_id": "U", "year": "2022"}},
            "year",
        ),
        (
            "/nominations",
            {"json": {"campaign_id": "C", "award_code": "A", "nominating_unit_id": "U", "year": 2022, "route": "fast"}},
            "route",
        ),
        ("/nominations/{nomination}/files", {"data": {"note": "no file"}}, "file"),
        ("/auth/token", {"json": {"username": "tdkt.y.te"}}, "password"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api, ldtt, path, kwargs, field):
    path = path.format(task=ldtt["task_id"], nomination=ldtt["nomination"]["id"])
    response = api.post(path, "gd.y.te", **kwargs)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid_request" and field in body["fields"]


def test_a_multipart_part_without_a_readable_name_is_refused(api, ldtt):
    boundary = uuid.uuid4().hex
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="\n"\r\n\r\nnull\r\n--{boundary}--\r\n'
    path = f"/nominations/{ldtt['nomination']['id']}/files"
    response = api.post(path, "gd.y.te", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"", "file"}


def test_ids_that_are_not_ids_are_404(api):
    assert api.get("/tasks/not-a-uuid", "tdkt.y.te").status_code == 404
    assert api("DELETE", "/auth/tokens/99999999999999999999", "tdkt.y.te").status_code == 404
    assert api.get(f"/nominations/{uuid.uuid4()}", "tdkt.y.te").get_json()["error"] == "not_found"


# --- uploads -------------------------------------------------------------------------------------


def upload(api: Api, ldtt: dict, content: bytes, filename: str):
    return api.post(f"/nominations/{ldtt['nomination']['id']}/files", "gd.y.te", **multipart(content, filename))


def test_upload_keeps_the_name_nfc(api, ldtt):
    name = unicodedata.normalize("NFD", "Tờ trình khen thưởng.pdf")
    response = upload(api, ldtt, PDF, name)
    assert response.status_code == 201
    assert response.get_json()["filename"] == unicodedata.normalize("NFC", name)
    assert response.get_json()["media_type"] == "application/pdf"


@pytest.mark.parametrize(
    "content, filename, status, error",
    [
        (PNG, "anh-chup.pdf", 422, "file_type_mismatch"),
        (b"MZ\x90\x00", "setup.exe", 422, "unsupported_file_type"),
        (b"", "empty.pdf", 422, "empty_file"),
        (PDF + b"\x00" * (MAX_UPLOAD_MB * 1024 * 1024), "big.pdf", 413, "file_too_large"),  # refused while stored
        (PDF + b"\x00" * (2 * MAX_UPLOAD_MB * 1024 * 1024), "huge.pdf", 413, "file_too_large"),  # before reading
    ],
)
def test_refused_uploads(api, ldtt, content, filename, status, error):
    response = upload(api, ldtt, content, filename)
    assert (response.status_code, response.get_json()["error"]) == (status, error)


def test_the_register_of_a_decided_nominee_lists_the_decision_within_scope(api):
    with services(api.app).session_factory() as session:
        record = session.scalars(select(AchievementRecord).where(AchievementRecord.decision_id.is_not(None))).first()
        unit = session.get(Nomination, record.nomination_id).nominating_unit_id
    found = api.ok("GET", f"/register/{record.subject_kind}/{record.subject_id}", "chuyen.vien.1")
    (entry,) = [e for e in found["entries"] if e["decision_code"] == record.decision_code]
    assert (entry["year"], entry["award_code"], entry["counts_for_merit"], entry["revoked_on"]) == (
        record.year,
        record.award_code,
        record.counts_for_merit,  # the demo's decided nomination came by the ad hoc route: False
        None,
    )
    outsider = "tdkt.tai.chinh" if unit != "SO_TAI_CHINH" else "tdkt.y.te"
    assert api.get(f"/register/{record.subject_kind}/{record.subject_id}", outsider).status_code == 404
    assert api.get("/register/person/no-such-person", "chuyen.vien.1").status_code == 404
    assert api.get("/register/household/x", "chuyen.vien.1").status_code == 404
