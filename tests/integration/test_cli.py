"""The `thidua` command: every command has --help, results a person can read, and user errors
as one line with a non-zero exit and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.integration.conftest import thidua_at as thidua
from workflows.org.models import ROLES

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = [
    "init",
    "demo",
    "deploy",
    "start",
    "serve",
    "scheduler",
    "verify-history",
    "export-digests",
    "replay",
    "retention",
    "hold",
    "release",
    "calendar",
    "users",
    "bench",
]


def assert_one_line_error(result, *fragments):
    """One `Error:` line naming what is wrong (usage errors keep click's usage hint above it)."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, sqlite_url, tmp_path):
    result = thidua(command, "--help", database_url=sqlite_url, data_dir=tmp_path)
    assert "Usage:" in result.stdout


def test_init_is_idempotent(run):
    assert "database at revision" in run("init").stdout


def test_deploy_start_and_verify(run):
    assert run("deploy", str(FIXTURES / "review")).stdout.strip() == "review version 1 (deployed)"
    assert run("deploy", str(FIXTURES / "review")).stdout.strip() == "review version 1 (unchanged)"
    instance_id = run("start", "review", "--data", json.dumps({"unit": "unit:A"})).stdout.strip()
    assert len(instance_id) == 36
    verified = run("verify-history").stdout.splitlines()
    assert "history intact: 1 instances, 1 events" in verified and "operation log intact: 0 entries" in verified


def test_deploy_of_a_bad_bundle_names_the_element(run, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text((FIXTURES / "review" / "review.bpmn").read_text().replace('"PT1H"', "__import__('os')"))
    assert_one_line_error(
        run(
            "deploy",
            str(bad),
            str(FIXTURES / "review" / "grade.dmn"),
            str(FIXTURES / "review" / "prepare.json"),
            check=False,
        ),
        "bad.bpmn",
        "approve_overdue",
    )


def test_user_errors_are_one_line(run, tmp_path):
    assert_one_line_error(run("start", "no_such_process", check=False), "no_such_process")
    run("deploy", str(FIXTURES / "review"))
    assert_one_line_error(run("start", "review", check=False), "element prepare", "unknown name 'unit'")
    assert_one_line_error(run("start", "review", "--data", "{not json", check=False), "--data")
    assert_one_line_error(run("deploy", str(tmp_path / "missing.bpmn"), check=False), "missing.bpmn")


def test_unreachable_database_is_one_line(tmp_path):
    result = thidua("init", database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", data_dir=tmp_path, check=False)
    assert_one_line_error(result, "database error")


def test_demo_is_idempotent(run):
    first = run("demo").stdout
    assert "nomination version 1 (deployed)" in first and "demo province added" in first
    second = run("demo").stdout
    assert "nomination version 1 (unchanged)" in second and "demo province present" in second
    assert "thidua-demo-2022" in second


def test_demo_lists_who_does_what_as_json(run):
    run("demo")
    listing = json.loads(run("demo", "--list", "--json").stdout)
    users = {user["username"]: user for user in listing["users"]}
    assert listing["password"] == "thidua-demo-2022" and "admin" in users and len(users) >= 25
    every_role = {role for user in users.values() for role in user["roles"]}
    assert every_role == set(ROLES)
    assert users["tdkt.y.te"] | {"roles": None} == {
        "username": "tdkt.y.te",
        "full_name": "Vũ Thị Mến",
        "roles": None,
        "unit": "SO_Y_TE",
        "bloc": "KHOI_VHXH",
    }


def test_a_new_installation_gets_its_first_administrator_from_the_command_line(run):
    run("init")
    created = run(
        "users", "create", "quantri", "--full-name", "Quản trị", "--password", "mot-mat-khau-dai", "--reason", "Cài đặt"
    )
    assert created.stdout.strip() == "quantri: -"
    granted = run("users", "grant", "quantri", "admin", "--reason", "Cài đặt")
    assert granted.stdout.strip() == "quantri: admin"
    short = run("users", "create", "khac", "--full-name", "Khác", "--password", "ngan", "--reason", "r", check=False)
    assert_one_line_error(short, "at least 12 characters")
