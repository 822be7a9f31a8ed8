"""The API against its own description: the OpenAPI document is valid, and no request schemathesis
generates from it (valid and invalid ones, with a real bearer token) makes the server answer 5xx,
nor answers otherwise than the document says (status, content type, body schema, headers).
SQLite only, a handful of examples per operation, so that it runs with every `make test`."""

from __future__ import annotations

import io
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ignored_auth

from tests.conftest import FakeClock
from web import create_app
from web.api import openapi
from web.extensions import services
from workflows.accounts import services as accounts
from workflows.accounts.services import principal_of_user
from workflows.demo import province as demo
from workflows.nominations import services as nomination_services

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 15
USER = "tdkt.y.te"  # a unit officer: creates nominations and acts on the drafts of SO_Y_TE

CONFIG = SchemathesisConfig.from_dict(
    {
        # A schema-valid request may still be refused by a rule of the award domain (422 with its code).
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}
        },
        # The API refuses NUL characters (400), which OpenAPI 3.0 cannot say of the keys of task data;
        # they matter to PostgreSQL only, and test_api sends them to both databases.
        "generation": {"allow-x00": False},
    }
)
# One test per operation, parametrized by pytest itself: under pytest 9 the items of
# `schema.parametrize()` all get the function's bare node id, and pytest-xdist, which schedules by
# node id, then runs only one of them. The requests go to the module's app (`app=` below).
schema = schemathesis.openapi.from_dict(openapi.document(), config=CONFIG)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, templates):
    data_dir = tmp_path_factory.mktemp("api-fuzz")
    shutil.copyfile(templates.sqlite_file("demo"), data_dir / "thidua.sqlite3")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{data_dir / 'thidua.sqlite3'}",
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATA_DIR": str(data_dir),
        }
    )
    app_services = services(app)
    app_services.clock = FakeClock(datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc))
    yield app
    app_services.dispose()


@pytest.fixture(scope="module")
def token(fuzz_app) -> tuple[dict[str, str], int]:
    """The Authorization header of the user's token, and the token's id."""
    raw, info = accounts.issue_api_token(services(fuzz_app), USER, "fuzz", None)
    return {"Authorization": f"Bearer {raw}"}, info.id


@pytest.fixture(scope="module")
def bearer(token) -> dict[str, str]:
    return token[0]


@pytest.fixture(scope="module")
def real_ids(fuzz_app, bearer) -> dict[str, str]:
    """Records of the user's own draft nomination, so that generated requests reach the services
    rather than stopping at 404: its draft task, instance and a dossier file; and a spare token."""
    app_services = services(fuzz_app)
    nomination_id = nomination_services.create_nomination(
        app_services,
        principal_of_user(app_services, USER),
        campaign_id=demo.CAMPAIGN,
        award_code="LDTT",
        nominating_unit_id="SO_Y_TE",
        year=demo.YEAR,
        person_id="nv-ldtt-moi",
    )
    client = fuzz_app.test_client()
    detail = client.get(f"/api/v1/nominations/{nomination_id}", headers=bearer).get_json()
    upload = {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "to-trinh.pdf")}
    file = client.post(f"/api/v1/nominations/{nomination_id}/files", headers=bearer, data=upload).get_json()
    return {
        "nomination_id": nomination_id,
        "task_id": detail["open_tasks"][0]["id"],
        "instance_id": detail["instance_id"],
        "file_id": file["id"],
        "token_id": accounts.issue_api_token(app_services, USER, "spare", None)[1].id,
    }


def test_the_openapi_document_is_valid(fuzz_app):
    served = fuzz_app.test_client().get("/api/v1/openapi.json").get_json()
    validate(served)
    assert served == openapi.document()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_generated_requests_get_documented_answers(operation, fuzz_app, token, real_ids):
    headers, token_id = token

    @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def answered_as_documented(case):
        # A well-formed id is swapped for a real one; malformed ones stay to be refused. The token
        # in use is never revoked (the spare one is), or every later request would be a 401.
        for name, value in (case.path_parameters or {}).items():
            if (name in real_ids and _is_uuid(value)) or (name == "token_id" and str(value) == str(token_id)):
                case.path_parameters[name] = real_ids[name]
        # ignored_auth probes over HTTP, which an in-process WSGI app does not serve; 401s are tested in
        # test_api. Buffered: the response (a downloaded file, say) is read and closed.
        case.call_and_validate(app=fuzz_app, headers=headers, excluded_checks=[ignored_auth], buffered=True)

    answered_as_documented()


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
