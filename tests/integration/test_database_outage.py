"""PostgreSQL drops every connection (a restart, a failover) while the web app is serving: the
next request answers 503 without writing anything, and the one after it works on fresh
connections. There is no ping before each checkout, so this is how a dead connection is found."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from engine import queries
from tests.conftest import FakeClock
from tests.integration.conftest import ROOT
from web import create_app, services
from web.database import upgrade_database
from web.security import SESSION_COOKIE
from workflows import demo
from workflows.accounts import services as accounts
from workflows.accounts.services import LoginPolicy
from workflows.nominations.models import Nomination

pytestmark = pytest.mark.postgres

OFFICER = "tdkt.y.te"  # the demo's emulation officer of SO_Y_TE


@pytest.fixture
def app(postgres_url, tmp_path):
    app = create_app({"DATABASE_URL": postgres_url, "TESTING": True, "SECRET_KEY": "test", "DATA_DIR": str(tmp_path)})
    app_services = services(app)
    app_services.clock = FakeClock(datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc))
    upgrade_database(app_services.database)
    demo.load_demo(app_services, ROOT / "bpmn")
    yield app
    app_services.dispose()


def drop_connections(postgres_server, url: str) -> int:
    """Terminate every server process of the test database; how many there were."""
    name = url.rsplit("/", 1)[1]
    with postgres_server.connect() as connection:
        return len(
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            ).all()
        )


def test_a_dropped_connection_answers_503_writes_nothing_and_the_retry_succeeds(app, postgres_server, postgres_url):
    token = accounts.issue_api_token(services(app), OFFICER, "tests", 1)[0]
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    body = {
        "campaign_id": demo.CAMPAIGN,
        "award_code": "LDTT",
        "nominating_unit_id": "SO_Y_TE",
        "year": demo.YEAR,
        "person_id": "nv-ldtt-moi",
    }
    created = client.post("/api/v1/nominations", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    (draft,) = created.get_json()["open_tasks"]

    assert drop_connections(postgres_server, postgres_url) >= 1
    complete = f"/api/v1/tasks/{draft['id']}/complete"
    refused = client.post(complete, json={"data": {"summary": "Thành tích"}}, headers=headers)
    assert refused.status_code == 503
    assert refused.get_json()["error"] == "database_unavailable"
    assert refused.headers["Retry-After"] == "5"
    with services(app).uow() as uow:
        assert [t.id for t in queries.open_tasks(uow.session, instance_id=draft["instance_id"])] == [draft["id"]]
        assert uow.session.get(Nomination, created.get_json()["id"]).status == "DRAFT"

    retried = client.post(complete, json={"data": {"summary": "Thành tích"}}, headers=headers)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["closed"] == [draft["id"]]


def test_a_page_on_a_dropped_connection_is_the_503_page_then_works(app, postgres_server, postgres_url):
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, accounts.open_session(services(app), OFFICER, LoginPolicy()))
    assert client.get("/").status_code == 200
    drop_connections(postgres_server, postgres_url)
    page = client.get("/")
    assert page.status_code == 503
    assert 'data-code="database_unavailable"' in page.get_data(as_text=True)
    assert client.get("/").status_code == 200
