"""PostgreSQL drops every connection (a restart, a failover) while the web app is serving: the
next request answers 503 without writing anything, and the one after it works on fresh
connections. There is no ping before each checkout, so this is how a dead connection is found."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine import queries
from tests.integration.test_api import Api, new_nomination
from web.extensions import services
from web.security import SESSION_COOKIE
from workflows.accounts import services as accounts
from workflows.accounts.services import LoginPolicy
from workflows.nominations.models import Nomination

pytestmark = pytest.mark.postgres

OFFICER = "tdkt.y.te"  # the demo's emulation officer of SO_Y_TE


@pytest.fixture
def database(postgres_database):
    """PostgreSQL only: conftest's demo_app runs on this."""
    return postgres_database


def drop_connections(postgres_server, url: str) -> int:
    """Terminate every server process of the test database; how many there were."""
    name = url.rsplit("/", 1)[1]
    with postgres_server.connect() as connection:
        return len(
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            ).all()
        )


def test_a_dropped_connection_answers_503_writes_nothing_and_the_retry_succeeds(
    demo_app, postgres_server, database_url
):
    token = accounts.issue_api_token(services(demo_app), OFFICER, "tests", 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    client = demo_app.test_client()
    created = new_nomination(Api(demo_app, {OFFICER: token}))
    (draft,) = created["open_tasks"]

    assert drop_connections(postgres_server, database_url) >= 1
    complete = f"/api/v1/tasks/{draft['id']}/complete"
    refused = client.post(complete, json={"data": {"summary": "Thành tích"}}, headers=headers)
    assert refused.status_code == 503
    assert refused.get_json()["error"] == "database_unavailable"
    assert refused.headers["Retry-After"] == "5"
    with services(demo_app).uow() as uow:
        assert [t.id for t in queries.open_tasks(uow.session, instance_id=draft["instance_id"])] == [draft["id"]]
        assert uow.session.get(Nomination, created["id"]).status == "DRAFT"

    retried = client.post(complete, json={"data": {"summary": "Thành tích"}}, headers=headers)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["closed"] == [draft["id"]]


def test_a_page_on_a_dropped_connection_is_the_503_page_then_works(demo_app, postgres_server, database_url):
    client = demo_app.test_client()
    client.set_cookie(SESSION_COOKIE, accounts.open_session(services(demo_app), OFFICER, LoginPolicy()))
    assert client.get("/").status_code == 200
    drop_connections(postgres_server, database_url)
    page = client.get("/")
    assert page.status_code == 503
    assert 'data-code="database_unavailable"' in page.get_data(as_text=True)
    assert client.get("/").status_code == 200
