"""Process designers over HTTP on the demo province: drafts with optimistic saves, validation
with problems on their elements, deploys of process versions and rule set revisions, version
diffs, migration through the API, the MIWG models as drafts, and who may do any of it.
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import ProcessDefinition, ProcessInstance
from tests.conftest import MIWG
from tests.integration.conftest import sign_in
from web.extensions import services as app_services
from workflows.audit import queries as audit_queries
from workflows.awards.models import RuleFile, RuleSetRevision
from workflows.demo.province import RULE_SET
from workflows.designs.models import Draft

API = "/api/v1/designer"
REASON = "Quy chế khen thưởng năm 2023"  # a deploy says why (operation log)


@pytest.fixture
def designer(demo_app):
    client = demo_app.test_client()
    token = sign_in(client, "thiet.ke")
    client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    return client


def open_draft(client, kind: str = "process", subject: str = "nomination") -> dict:
    response = client.post(f"{API}/drafts", json={"kind": kind, "subject": subject})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def file_of(draft: dict, name: str) -> str:
    return next(f["content"] for f in draft["files"] if f["name"] == name)


def save(client, draft: dict, name: str, content: str, revision: int | None = None):
    return client.put(
        f"{API}/drafts/{draft['id']}/files/{name}",
        json={"content": content, "revision": revision or draft["revision"]},
    )


def set_due_days(bpmn: str, task: str, days: str) -> str:
    """The task's dueWorkingDays property set to `days`."""
    start = bpmn.index(f'<bpmn:userTask id="{task}"')
    end = bpmn.index("</bpmn:userTask>", start)
    changed = re.sub(r'name="dueWorkingDays" value="[^"]*"', f'name="dueWorkingDays" value="{days}"', bpmn[start:end])
    assert changed != bpmn[start:end]
    return bpmn[:start] + changed + bpmn[end:]


def versions(app, process_id: str = "nomination") -> list[int]:
    with app_services(app).session_factory() as session:
        return list(
            session.scalars(
                select(ProcessDefinition.version)
                .where(ProcessDefinition.process_id == process_id)
                .order_by(ProcessDefinition.version)
            )
        )


def test_a_draft_holds_the_process_file_and_the_bundle_forms(designer):
    draft = open_draft(designer)
    names = [f["name"] for f in draft["files"]]
    assert names[0] == "nomination.bpmn" and "ad_hoc_nomination.bpmn" not in names
    assert "appraise_nomination.json" in names and all(n.endswith((".bpmn", ".json")) for n in names)
    assert (draft["kind"], draft["subject"], draft["base_version"], draft["revision"]) == (
        "process",
        "nomination",
        1,
        1,
    )
    assert open_draft(designer)["id"] == draft["id"]  # one shared draft per process


def test_a_stale_save_gets_409_and_keeps_the_first_save(designer, demo_app):
    draft = open_draft(designer)
    original = file_of(draft, "nomination.bpmn")
    first = save(designer, draft, "nomination.bpmn", set_due_days(original, "appraise_nomination", "12"))
    assert first.status_code == 200 and first.get_json() == {"revision": 2}

    stale = save(designer, draft, "nomination.bpmn", original.replace("Thẩm định", "Thẩm tra"))
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict" and body["revision"] == 2 and body["updated_by"] == "thiet.ke"
    kept = designer.get(f"{API}/drafts/{draft['id']}").get_json()
    assert kept["revision"] == 2 and 'name="dueWorkingDays" value="12"' in file_of(kept, "nomination.bpmn")
    assert "Thẩm tra" not in file_of(kept, "nomination.bpmn")


@pytest.mark.parametrize(
    ("name", "content", "status", "says"),
    [
        (
            "nomination.bpmn",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            422,
            "DOCTYPE",
        ),
        ("nomination.bpmn", "<bpmn:definitions", 422, "not well-formed"),
        ("../etc/passwd.bpmn", "<x/>", 404, ""),
        ("script.py", "print(1)", 422, "file names"),
        ("big.json", "[" + "0," * 1_100_000 + "0]", 422, "larger than"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong_and_nothing_changes(designer, name, content, status, says):
    draft = open_draft(designer)
    response = save(designer, draft, name, content)
    assert response.status_code == status
    assert says in response.get_json()["message"]
    assert designer.get(f"{API}/drafts/{draft['id']}").get_json()["revision"] == 1


def test_validate_shows_a_broken_gateway_on_that_gateway_and_deploy_is_refused(designer, demo_app):
    draft = open_draft(designer)
    broken = file_of(draft, "nomination.bpmn").replace(
        'id="intake_outcome" name="Hồ sơ đầy đủ?" default="returned_for_supplement"',
        'id="intake_outcome" name="Hồ sơ đầy đủ?"',
    )
    revision = save(designer, draft, "nomination.bpmn", broken).get_json()["revision"]
    result = designer.post(f"{API}/drafts/{draft['id']}/validate", json={}).get_json()
    assert result["ok"] is False
    problem = next(p for p in result["problems"] if p["code"] == "gateway_default")
    assert (problem["element_id"], problem["file"], problem["severity"]) == (
        "intake_outcome",
        "nomination.bpmn",
        "error",
    )

    refused = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision, "reason": REASON})
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "invalid_draft"
    assert any(p["element_id"] == "intake_outcome" for p in refused.get_json()["problems"])
    assert versions(demo_app) == [1]


def test_the_demo_processes_validate_without_errors(designer):
    for process_id in ("nomination", "ad_hoc_nomination", "revocation"):
        draft = open_draft(designer, subject=process_id)
        result = designer.post(f"{API}/drafts/{draft['id']}/validate", json={}).get_json()
        assert result["ok"], [p for p in result["problems"] if p["severity"] == "error"]


def test_deploy_makes_version_2_and_running_instances_stay_on_version_1(designer, demo_app):
    services = app_services(demo_app)
    with services.session_factory() as session:
        running_before = dict(session.execute(select(ProcessInstance.id, ProcessInstance.definition_id)).all())
    draft = open_draft(designer)
    changed = set_due_days(file_of(draft, "nomination.bpmn"), "appraise_nomination", "12")
    revision = save(designer, draft, "nomination.bpmn", changed).get_json()["revision"]

    stale = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision - 1, "reason": REASON})
    assert stale.status_code == 409 and versions(demo_app) == [1]
    deployed = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision, "reason": REASON})
    assert deployed.status_code == 201
    assert deployed.get_json() == {"kind": "process", "subject": "nomination", "version": 2}
    assert versions(demo_app) == [1, 2] and versions(demo_app, "revocation") == [1]

    with services.session_factory() as session:
        assert session.get(Draft, draft["id"]) is None
        assert dict(session.execute(select(ProcessInstance.id, ProcessInstance.definition_id)).all()) == running_before
    with services.uow() as uow:
        from engine.definitions import latest_definition

        newest = latest_definition(uow, "nomination")
        assert (newest.version, newest.task_meta["appraise_nomination"]["due_working_days"]) == (2, 12)

    page = designer.get("/designer/").get_data(as_text=True)
    assert re.search(r'data-process="nomination" data-version="2"', page)
    diff = designer.get("/designer/processes/nomination/diff?from=1&to=2").get_data(as_text=True)
    assert 'data-element="appraise_nomination"' in diff and "dueWorkingDays" in diff


def test_a_deploy_after_someone_elses_deploy_is_refused(designer, demo_app):
    draft = open_draft(designer)
    revision = save(
        designer, draft, "nomination.bpmn", set_due_days(file_of(draft, "nomination.bpmn"), "appraise_nomination", "12")
    ).get_json()["revision"]
    bpmn = Path(__file__).resolve().parents[2] / "bpmn"
    with app_services(demo_app).uow() as uow:  # another version lands meanwhile (e.g. from the command line)
        from engine import BundleFile, deploy_bundle

        files = [BundleFile(p.name, p.read_bytes()) for p in (bpmn / "processes").glob("nomination.bpmn")]
        files += [BundleFile(p.name, p.read_bytes()) for p in (bpmn / "forms").glob("*.json")]
        files.append(BundleFile("extra.json", b"{}"))
        deploy_bundle(uow, files, app_services(demo_app).runtime.evaluator, "someone")
        uow.commit()
    refused = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision, "reason": REASON})
    assert refused.status_code == 409 and "version 2 was deployed after this draft" in refused.get_json()["message"]
    assert versions(demo_app) == [1, 2]


def test_a_rule_set_threshold_edited_and_deployed_is_in_force(designer, demo_app):
    services = app_services(demo_app)
    draft = open_draft(designer, "rules", RULE_SET)
    assert all(f["name"].endswith(".dmn") for f in draft["files"])
    table = file_of(draft, "step_deadlines.dmn")
    edited = table.replace(
        '<outputEntry id="step_deadline_appraise_days"><text>10</text>',
        '<outputEntry id="step_deadline_appraise_days"><text>12</text>',
    )
    assert edited != table
    revision = save(designer, draft, "step_deadlines.dmn", edited).get_json()["revision"]
    assert designer.post(f"{API}/drafts/{draft['id']}/validate", json={}).get_json()["ok"]
    deployed = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision, "reason": REASON})
    assert deployed.status_code == 201 and deployed.get_json() == {"kind": "rules", "subject": RULE_SET, "version": 2}

    with services.session_factory() as session:
        assert "<text>12</text>" in session.get(RuleFile, (RULE_SET, "step_deadlines.dmn")).content
        assert session.get(RuleSetRevision, (RULE_SET, 1)).files["step_deadlines.dmn"] == table
        limit = services.deadlines.time_limit(
            session, "appraise_nomination", {"rule_set_id": RULE_SET, "award_code": "CSTDCS"}, None
        )
    assert limit.days == 12
    diff = designer.get(f"/designer/rule-sets/{RULE_SET}/diff").get_data(as_text=True)
    assert 'data-element="step_deadline_appraise_days"' in diff


def test_a_rule_set_draft_that_drops_an_awards_decision_is_refused(designer):
    draft = open_draft(designer, "rules", RULE_SET)
    table = file_of(draft, "eligibility_cstdcs.dmn").replace(
        '<decision id="eligibility_cstdcs"', '<decision id="eligibility_cstdcs_renamed"'
    )
    save(designer, draft, "eligibility_cstdcs.dmn", table)
    problems = designer.post(f"{API}/drafts/{draft['id']}/validate", json={}).get_json()["problems"]
    assert any(p["code"] == "decision_missing" and "CSTDCS" in p["message"] for p in problems)


def test_migration_through_the_api_dry_run_then_apply(designer, demo_app):
    services = app_services(demo_app)
    with services.session_factory() as session:
        instance_id = session.scalars(
            select(ProcessInstance.id).where(ProcessInstance.status == "running").limit(1)
        ).first()
        process_id = session.scalar(
            select(ProcessDefinition.process_id)
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == instance_id)
        )
    draft = open_draft(designer, subject=process_id)
    bpmn_name = draft["files"][0]["name"]
    revision = save(
        designer,
        draft,
        bpmn_name,
        re.sub(r'(<bpmn:process id="[^"]+" name=")', r"\1(2) ", file_of(draft, bpmn_name), count=1),
    ).get_json()["revision"]
    deployed = designer.post(f"{API}/drafts/{draft['id']}/deploy", json={"revision": revision, "reason": REASON})
    assert deployed.status_code == 201

    url = f"{API}/processes/{process_id}/migrations"
    dry = designer.post(url, json={"instance_ids": [instance_id], "target_version": 2}).get_json()
    assert dry["dry_run"] and dry["instances"][0]["movable"], dry
    with services.session_factory() as session:
        assert session.get(ProcessInstance, instance_id).definition_id != _definition_id(session, process_id, 2)
    no_reason = designer.post(url, json={"instance_ids": [instance_id], "target_version": 2, "dry_run": False})
    assert no_reason.status_code == 422
    applied = designer.post(
        url, json={"instance_ids": [instance_id], "target_version": 2, "dry_run": False, "reason": "quy định mới"}
    )
    assert applied.get_json()["instances"][0]["moved"], applied.get_json()
    with services.session_factory() as session:
        assert session.get(ProcessInstance, instance_id).definition_id == _definition_id(session, process_id, 2)
    history = audit_queries.verify_history(services)
    assert history.ok


def _definition_id(session, process_id: str, version: int) -> int:
    return session.scalar(
        select(ProcessDefinition.id).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
        )
    )


@pytest.mark.parametrize("model", sorted(p.name for p in MIWG.glob("*.bpmn")))
def test_each_miwg_model_imports_as_a_draft_unchanged_and_validates_without_a_crash(designer, model):
    content = (MIWG / model).read_bytes()
    response = designer.post(
        "/designer/import",
        data={"file": (__import__("io").BytesIO(content), model)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    draft_id = response.headers["Location"].rsplit("/", 1)[1]
    draft = designer.get(f"{API}/drafts/{draft_id}").get_json()
    assert file_of(draft, model).encode("utf-8") == content
    result = designer.post(f"{API}/drafts/{draft_id}/validate", json={})
    assert result.status_code == 200
    assert all(p["message"] for p in result.get_json()["problems"])


def test_only_designers_reach_the_designer(demo_app):
    client = demo_app.test_client()
    assert client.get("/designer/").status_code == 302  # to the sign-in page
    assert client.post(f"{API}/drafts", json={"kind": "process", "subject": "nomination"}).status_code == 401
    token = sign_in(client, "chuyen.vien.1")
    client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    assert client.get("/designer/").status_code == 403
    assert client.post(f"{API}/drafts", json={"kind": "process", "subject": "nomination"}).status_code == 403
    assert client.post("/designer/processes/nomination/edit", data={"csrf_token": token}).status_code == 403


def test_a_designer_request_without_the_csrf_token_is_refused(demo_app):
    client = demo_app.test_client()
    sign_in(client, "thiet.ke")
    assert client.post(f"{API}/drafts", json={"kind": "process", "subject": "nomination"}).status_code == 403
