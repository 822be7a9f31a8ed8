"""Auditors only read: every write request (POST, PUT, PATCH, DELETE) to every route of the app,
from the demo auditor "thanh.tra" with a session cookie and with an API token, is refused with
403 before any view runs and leaves the database as it was; the few writes about their own
access (signing in and out, the language, their API tokens) stay open to them. The same
requests from anyone else are not stopped by this guard. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from tests.integration.conftest import sign_in
from web.api import openapi
from web.database import SCHEMA
from web.extensions import services as app_services
from web.security import READ_ONLY_WRITES, ReadOnlyError
from workflows.accounts import services as accounts
from workflows.operations import log

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
AUDITOR = "thanh.tra"


def requests(app):
    """(method, path, endpoint) for every write method of every rule, path parameters filled in
    (the guard answers before the view, so any value of the right shape does)."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                values[name] = 1
            elif isinstance(converter, UUIDConverter):
                values[name] = uuid.uuid4()
            elif isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            else:
                values[name] = "x"
        path = adapter.build(rule.endpoint, values)
        for method in WRITE_METHODS:
            if rule.endpoint in READ_ONLY_WRITES and method in rule.methods:
                continue  # allowed: checked below
            yield method, path, rule.endpoint


def database_digest(services) -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    with services.session_factory() as session:
        for table in SCHEMA.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()


def refused_by_the_guard(response) -> bool:
    return response.status_code == 403 and ReadOnlyError.description in response.get_data(as_text=True)


@pytest.fixture
def auditor(demo_app):
    """A signed-in auditor's client (the CSRF header set), and a bearer header of theirs; both
    used once, so that identifying them writes nothing any more (last_used_at)."""
    client = demo_app.test_client()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = sign_in(client, AUDITOR)
    raw, _ = accounts.issue_api_token(app_services(demo_app), AUDITOR, "audit", None)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert client.get("/audit/").status_code == 200
    assert demo_app.test_client().get("/api/v1/users/me", headers=bearer).status_code == 200
    return client, bearer


def test_the_auditor_is_refused_every_write_and_nothing_changes(demo_app, auditor):
    client, _ = auditor
    services = app_services(demo_app)
    before = database_digest(services)
    sent = 0
    for method, path, endpoint in requests(demo_app):
        response = client.open(path, method=method, json={})
        assert refused_by_the_guard(response), (method, path, endpoint, response.status_code)
        sent += 1
    assert sent > 100  # every write method of every rule
    assert database_digest(services) == before


def test_the_auditor_is_refused_every_api_write_with_a_token(demo_app, auditor):
    _, bearer = auditor
    services = app_services(demo_app)
    client = demo_app.test_client()  # no cookie: the token alone
    before = database_digest(services)
    api = [(method, path) for method, path, _ in requests(demo_app) if path.startswith("/api/")]
    assert len(api) > 40
    for method, path in api:
        response = client.open(path, method=method, json={}, headers=bearer)
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.get_json() == {"error": "forbidden", "message": ReadOnlyError.description}
    assert database_digest(services) == before


def test_the_auditor_still_manages_their_own_access(demo_app, auditor):
    client, bearer = auditor
    created = client.post("/account/tokens", data={"name": "báo cáo"})
    assert created.status_code == 200
    issued = client.post("/api/v1/auth/token", json={"username": AUDITOR, "password": "x"})
    assert issued.status_code == 401  # the exchange itself is open: a wrong password is a 401
    token_id = accounts.api_tokens(app_services(demo_app), accounts.principal_of_user(app_services(demo_app), AUDITOR))
    assert demo_app.test_client().delete(f"/api/v1/auth/tokens/{token_id[0].id}", headers=bearer).status_code == 200
    assert client.post("/language", data={"language": "en"}).status_code == 302
    assert client.post("/logout").status_code == 302


def test_an_auditor_holding_another_role_is_not_stopped_by_the_guard(demo_app):
    services = app_services(demo_app)
    accounts.grant_role(services, "admin", AUDITOR, "admin", "jurisdiction:NAM_DINH", "quản trị tạm thời")
    client = demo_app.test_client()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = sign_in(client, AUDITOR)
    response = client.post("/admin/incidents/1/retry", data={"reason": "thử lại"})
    assert response.status_code == 404  # the view ran: no such incident


@pytest.mark.parametrize("username", ["admin", "thiet.ke", "chuyen.vien.1"])
def test_the_same_requests_from_others_are_not_stopped_by_the_guard(demo_app, username):
    client = demo_app.test_client()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = sign_in(client, username)
    for method, path, endpoint in requests(demo_app):
        response = client.open(path, method=method, json={})
        assert not refused_by_the_guard(response), (method, path, endpoint)
        assert response.status_code < 500, (method, path, endpoint, response.status_code)


def test_the_log_is_unchanged_by_the_auditors_attempts(demo_app, auditor):
    client, _ = auditor
    client.post("/admin/calendar/overrides", data={"day": "2026-09-03", "kind": "day_off", "note": "x"})
    client.post("/api/v1/designer/drafts", json={"kind": "process", "subject": "nomination"})
    with app_services(demo_app).session_factory() as session:
        assert log.count(session) == 0


def test_the_api_description_says_403_wherever_the_guard_can_answer_it():
    allowed = {("post", "/api/v1/auth/token")}  # the token exchange is open to auditors (and anonymous)
    for path, operations_ in openapi.document()["paths"].items():
        for method, operation in operations_.items():
            if method.upper() in WRITE_METHODS and (method, path) not in allowed:
                assert "403" in operation["responses"], (method, path)
