"""The operation log: every administrative act (reassign, suspend, resume, terminate, migrate,
calendar override, incident retry, process and rule deploys, user and role changes) leaves exactly
one entry with its actor, reason and old and new values, in the act's transaction; an act without
a reason is refused naming the field and changes nothing; the hash chain shows an edited or
deleted entry; auditors read the log on /audit/operations and nobody else does.
SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

import engine
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance, TimerJob
from tests import cli
from tests.conftest import FIXTURES
from tests.integration.conftest import add_user, sign_in, tamper
from tests.integration.test_escalation import LADDER, PROCESS_TAG
from web.extensions import services as app_services
from workflows.accounts import services as accounts
from workflows.accounts.services import principal_of_user
from workflows.audit import queries as audit_queries
from workflows.audit import services as retention
from workflows.bootstrap import bootstrap
from workflows.calendar import services as calendar
from workflows.calendar.models import DAY_OFF, CalendarOverride
from workflows.demo.province import PROVINCE, RULE_SET
from workflows.designs import services as designs
from workflows.designs.models import Draft
from workflows.errors import DomainError, NotFoundError
from workflows.operations import log
from workflows.operations.models import OperationEntry
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as ps
from workflows.tasks import services as tasks

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
FRIDAY = date(2026, 3, 13)
J = f"jurisdiction:{PROVINCE}"
API = "/api/v1/designer"


def logged(services, **filters) -> list[log.Operation]:
    """Every entry, oldest first."""
    with services.session_factory() as session:
        return list(reversed(log.entries(session, log.Filters(**filters), limit=1000)))


def the_entry(services, **filters) -> log.Operation:
    (entry,) = logged(services, **filters)
    return entry


def history_types(services, instance_id) -> list[str]:
    with services.session_factory() as session:
        query = select(HistoryEvent.type).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        return list(session.scalars(query))


def start_review(services) -> str:
    return ps.start_process(services, "review", "clerk_a", {"unit": "unit:A"}).instance_id


def open_task(services, instance_id) -> HumanTask:
    with services.session_factory() as session:
        return session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        ).one()


@pytest.fixture
def ladder(services, clock, tmp_path):
    """The review process with an escalation ladder that reassigns to the supervisor."""
    for username, role, scope in [
        ("clerk_a", "clerk", "unit:A"),
        ("manager_a", "manager", "unit:A"),
        ("head_a", "unit_head", "unit:A"),
    ]:
        add_user(services, username, role, scope)
    bundle = tmp_path / "review"
    shutil.copytree(FIXTURES / "review", bundle)
    bpmn = bundle / "review.bpmn"
    bpmn.write_text(bpmn.read_text().replace(PROCESS_TAG, PROCESS_TAG + LADDER))
    ps.deploy(services, [bundle], "tester")
    clock.now = MONDAY
    return services


# --- each act leaves one entry ------------------------------------------------------------------


def test_suspend_resume_and_terminate_each_leave_one_entry(review):
    instance_id = start_review(review)
    ps.suspend(review, instance_id, "admin", "  đang xác minh đơn thư  ")
    ps.resume(review, instance_id, "admin", "đã xác minh xong")
    ps.terminate(review, instance_id, "admin", "đơn vị rút hồ sơ")
    entries = logged(review, subject_type="instance", subject_id=instance_id)
    assert [(e.action, e.actor, e.reason, e.old, e.new) for e in entries] == [
        ("suspend", "admin", "đang xác minh đơn thư", {"status": "running"}, {"status": "suspended"}),
        ("resume", "admin", "đã xác minh xong", {"status": "suspended"}, {"status": "running"}),
        ("terminate", "admin", "đơn vị rút hồ sơ", {"status": "running"}, {"status": "terminated"}),
    ]


def test_retention_policies_and_legal_holds_each_leave_one_entry(review):
    instance_id = start_review(review)
    retention.set_retention(review, "review", 3650, "admin", "lưu hồ sơ 10 năm theo quy định")
    retention.hold(review, instance_id, "thanh.tra", "đang thanh tra đơn thư")
    retention.release(review, instance_id, "thanh.tra", "đã kết luận thanh tra")
    assert [(e.action, e.subject_id, e.actor, e.reason, e.old, e.new) for e in logged(review)] == [
        ("retention_set", "review", "admin", "lưu hồ sơ 10 năm theo quy định", {"days": None}, {"days": 3650}),
        ("legal_hold", instance_id, "thanh.tra", "đang thanh tra đơn thư", {"held": False}, {"held": True}),
        ("legal_release", instance_id, "thanh.tra", "đã kết luận thanh tra", {"held": True}, {"held": False}),
    ]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_suspension_without_a_reason_is_refused_and_changes_nothing(review, reason):
    instance_id = start_review(review)
    before = history_types(review, instance_id)
    with pytest.raises(DomainError, match="reason is required") as refused:
        ps.suspend(review, instance_id, "admin", reason)
    assert refused.value.code == "reason_required"
    with review.session_factory() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
    assert history_types(review, instance_id) == before and logged(review) == []


def test_a_refused_act_leaves_no_entry(review):
    instance_id = start_review(review)
    with pytest.raises(engine.InvalidStateError):
        ps.resume(review, instance_id, "admin", "không bị tạm dừng")
    assert logged(review) == []


def test_a_delegation_leaves_one_entry_with_the_assignee_before_and_after(review):
    instance_id = start_review(review)
    task = open_task(review, instance_id)
    review.in_transaction(engine.claim_task, task.id, "clerk_a")
    tasks.delegate(review, principal_of_user(review, "clerk_a"), task.id, "clerk_manager_a", "nghỉ phép đến thứ hai")
    entry = the_entry(review)
    assert (entry.action, entry.actor, entry.subject_type, entry.subject_id, entry.reason) == (
        "reassign",
        "clerk_a",
        "instance",
        instance_id,
        "nghỉ phép đến thứ hai",
    )
    assert entry.old == {"task_id": task.id, "task": task.element_id, "claimed_by": "clerk_a"}
    assert entry.new == {"task_id": task.id, "task": task.element_id, "claimed_by": "clerk_manager_a"}


def test_an_inbox_delegation_needs_a_reason_and_is_logged(demo_app):
    services = app_services(demo_app)
    with services.session_factory() as session:
        task = session.scalars(
            select(HumanTask)
            .where(
                HumanTask.state == "open",
                HumanTask.candidate_role == "board_officer",
                HumanTask.org_scope == J,
                HumanTask.claimed_by.is_(None),
            )
            .limit(1)
        ).one()
    raw, _ = accounts.issue_api_token(services, "chuyen.vien.1", "test", None)
    client = demo_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    url = f"/api/v1/tasks/{task.id}/delegate"

    missing = client.post(url, json={"to": "chuyen.vien.2"})
    assert missing.status_code == 400 and "reason" in missing.get_json()["fields"]
    blank = client.post(url, json={"to": "chuyen.vien.2", "reason": "   "})
    assert blank.status_code == 422 and blank.get_json()["error"] == "reason_required"
    assert open_task(services, task.instance_id).claimed_by is None and logged(services) == []

    done = client.post(url, json={"to": "chuyen.vien.2", "reason": "Chuyên viên 1 đi công tác"})
    assert done.status_code == 200, done.get_json()
    entry = the_entry(services)
    assert (entry.action, entry.actor, entry.subject_id, entry.reason) == (
        "reassign",
        "chuyen.vien.1",
        task.instance_id,
        "Chuyên viên 1 đi công tác",
    )
    assert (entry.old["claimed_by"], entry.new["claimed_by"]) == (None, "chuyen.vien.2")


def test_an_escalation_reassignment_is_logged_by_the_system_with_its_rung(ladder, clock):
    instance_id = start_review(ladder)
    task = open_task(ladder, instance_id)
    with ladder.session_factory() as session:
        clock.now = session.scalar(
            select(TimerJob.due_at).where(TimerJob.task_id == task.id, TimerJob.kind == "task_escalate")
        )
    assert ps.run_timers(ladder).done == 3
    entry = the_entry(ladder)  # the reminder and the due time reassign nothing
    assert (entry.actor, entry.action, entry.subject_id) == ("system", "reassign", instance_id)
    assert entry.reason.startswith("escalation ladder: escalated (task prepare due ")
    assert (entry.old["candidate_role"], entry.old["org_scope"]) == ("clerk", "unit:A")
    assert entry.new == {
        "task_id": task.id,
        "task": task.element_id,
        "candidate_role": "unit_head",
        "org_scope": "unit:A",
        "claimed_by": None,
    }


def test_a_migration_leaves_one_entry_per_moved_instance_and_none_for_a_failed_one(services):
    add_user(services, "clerk", "clerk", None)
    for bundle in ("steps_v1", "steps_v2"):
        ps.deploy(services, [FIXTURES / "migration" / bundle], "designer")
    instances = []
    for _ in range(2):
        with services.uow() as uow:
            instances.append(engine.start_instance(uow, "steps", "clerk", version=1).instance_id)
            uow.commit()
    missing = str(uuid.uuid4())

    with pytest.raises(DomainError, match="reason is required"):
        designs.migrate(services, "steps", instances, 2, "admin", " ")
    assert logged(services) == []

    outcomes = designs.migrate(services, "steps", [*instances, missing], 2, "admin", "phiên bản 2 sửa biểu mẫu")
    assert [o.moved for o in outcomes] == [True, True, False]
    entries = logged(services)
    assert [(e.action, e.subject_id, e.reason) for e in entries] == [
        ("migrate", instance_id, "phiên bản 2 sửa biểu mẫu") for instance_id in instances
    ]
    assert all(e.old == {"process_id": "steps", "version": 1} for e in entries)
    assert all(e.new == {"process_id": "steps", "version": 2} for e in entries)


def test_calendar_overrides_set_and_removed_are_logged_and_removal_needs_a_reason(services):
    calendar.set_override(services, "admin", FRIDAY, DAY_OFF, "Công văn 123/BNV")
    calendar.set_override(services, "admin", FRIDAY, DAY_OFF, "Công văn 124/BNV thay thế")
    with pytest.raises(DomainError) as refused:
        calendar.remove_override(services, "admin", FRIDAY, "")
    assert refused.value.code == "reason_required"
    with services.session_factory() as session:
        assert session.get(CalendarOverride, FRIDAY) is not None
    calendar.remove_override(services, "admin", FRIDAY, "Bộ hủy ngày nghỉ")
    entries = logged(services, subject_type="calendar_day", subject_id="2026-03-13")
    assert [(e.action, e.reason, e.old, e.new) for e in entries] == [
        ("calendar_override_set", "Công văn 123/BNV", None, {"kind": DAY_OFF, "note": "Công văn 123/BNV"}),
        (
            "calendar_override_set",
            "Công văn 124/BNV thay thế",
            {"kind": DAY_OFF, "note": "Công văn 123/BNV"},
            {"kind": DAY_OFF, "note": "Công văn 124/BNV thay thế"},
        ),
        ("calendar_override_remove", "Bộ hủy ngày nghỉ", {"kind": DAY_OFF, "note": "Công văn 124/BNV thay thế"}, None),
    ]


def test_an_admin_removing_a_calendar_change_without_a_reason_gets_the_form_back(demo_app):
    client = demo_app.test_client()
    token = sign_in(client, "admin")
    services = app_services(demo_app)
    calendar.set_override(services, "admin", date(2026, 9, 3), DAY_OFF, "Nghỉ thêm")
    refused = client.post("/admin/calendar/overrides/2026-09-03/remove", data={"csrf_token": token})
    assert refused.status_code == 400 and 'data-error-for="reason"' in refused.get_data(as_text=True)
    with services.session_factory() as session:
        assert session.get(CalendarOverride, date(2026, 9, 3)) is not None
    assert len(logged(services)) == 1


def test_an_incident_retry_needs_a_reason_and_is_logged(ladder):
    instance_id = start_review(ladder)
    with ladder.uow() as uow:
        job = uow.session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id).limit(1)).one()
        job.status, job.attempts, job.last_error = "incident", 5, "SMTPError: no route"
        job_id = job.id
        uow.commit()
    with pytest.raises(DomainError, match="reason is required"):
        ps.retry_incident(ladder, job_id, "admin", "")
    with ladder.session_factory() as session:
        assert session.get(TimerJob, job_id).status == "incident"
    ps.retry_incident(ladder, job_id, "admin", "máy chủ thư đã chạy lại")
    entry = the_entry(ladder)
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "incident_retry",
        "timer_job",
        str(job_id),
        "máy chủ thư đã chạy lại",
    )
    assert (entry.old["status"], entry.old["attempts"], entry.old["last_error"]) == (
        "incident",
        5,
        "SMTPError: no route",
    )
    assert (entry.new["status"], entry.new["attempts"]) == ("pending", 0)


@pytest.fixture
def designer(demo_app):
    client = demo_app.test_client()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = sign_in(client, "thiet.ke")
    return client


def edited_draft(designer, kind: str, subject: str, old: str, new: str) -> tuple[str, int]:
    draft = designer.post(f"{API}/drafts", json={"kind": kind, "subject": subject}).get_json()
    name, content = next((f["name"], f["content"]) for f in draft["files"] if old in f["content"])
    saved = designer.put(
        f"{API}/drafts/{draft['id']}/files/{name}",
        json={"content": content.replace(old, new, 1), "revision": draft["revision"]},
    )
    return draft["id"], saved.get_json()["revision"]


def test_a_process_deploy_needs_a_reason_and_is_logged(designer, demo_app):
    services = app_services(demo_app)
    draft_id, revision = edited_draft(
        designer, "process", "nomination", 'name="dueWorkingDays" value="10"', 'name="dueWorkingDays" value="12"'
    )
    url = f"{API}/drafts/{draft_id}/deploy"
    missing = designer.post(url, json={"revision": revision})
    assert missing.status_code == 400 and "reason" in missing.get_json()["fields"]
    blank = designer.post(url, json={"revision": revision, "reason": " "})
    assert blank.status_code == 422 and blank.get_json()["error"] == "reason_required"
    with services.session_factory() as session:
        versions = session.scalars(
            select(ProcessDefinition.version).where(ProcessDefinition.process_id == "nomination")
        )
        assert list(versions) == [1] and session.get(Draft, draft_id) is not None
    assert logged(services) == []

    assert designer.post(url, json={"revision": revision, "reason": "Quy chế 2023: 12 ngày"}).status_code == 201
    entry = the_entry(services)
    assert (entry.action, entry.actor, entry.subject_type, entry.subject_id, entry.reason) == (
        "process_deploy",
        "thiet.ke",
        "process",
        "nomination",
        "Quy chế 2023: 12 ngày",
    )
    assert (entry.old["version"], entry.new["version"]) == (1, 2)
    changed = {name for name, digest in entry.new["files"].items() if entry.old["files"].get(name) != digest}
    assert changed == {"nomination.bpmn"}


def test_a_rule_change_is_logged_with_the_files_it_changed(designer, demo_app):
    draft_id, revision = edited_draft(
        designer,
        "rules",
        RULE_SET,
        '<outputEntry id="step_deadline_appraise_days"><text>10</text>',
        '<outputEntry id="step_deadline_appraise_days"><text>12</text>',
    )
    deployed = designer.post(f"{API}/drafts/{draft_id}/deploy", json={"revision": revision, "reason": "Nghị định mới"})
    assert deployed.status_code == 201
    entry = the_entry(app_services(demo_app))
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "rules_deploy",
        "rule_set",
        RULE_SET,
        "Nghị định mới",
    )
    assert (entry.old["revision"], entry.new["revision"]) == (1, 2)
    changed = {name for name, digest in entry.new["files"].items() if entry.old["files"].get(name) != digest}
    assert changed == {"step_deadlines.dmn"}


def test_user_and_role_changes_are_logged_with_the_roles_before_and_after(province):
    services = province
    accounts.grant_role(services, "admin", "thanh.tra", "designer", J, "kiêm nhiệm thiết kế quy trình")
    accounts.revoke_role(services, "admin", "thanh.tra", "designer", J, "hết kiêm nhiệm")
    accounts.set_user_active(services, "admin", "thanh.tra", False, "nghỉ hưu")
    accounts.set_user_active(services, "admin", "thanh.tra", True, "tái tuyển dụng")
    entries = logged(services, subject_type="user", subject_id="thanh.tra")
    auditor, both = [f"auditor@{J}"], [f"auditor@{J}", f"designer@{J}"]
    assert [(e.action, e.actor, e.reason, e.old, e.new) for e in entries] == [
        ("role_grant", "admin", "kiêm nhiệm thiết kế quy trình", {"roles": auditor}, {"roles": both}),
        ("role_revoke", "admin", "hết kiêm nhiệm", {"roles": both}, {"roles": auditor}),
        ("user_disable", "admin", "nghỉ hưu", {"active": True}, {"active": False}),
        ("user_enable", "admin", "tái tuyển dụng", {"active": False}, {"active": True}),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda s: accounts.grant_role(s, "admin", "thanh.tra", "designer", J, "  "), "reason_required"),
        (lambda s: accounts.grant_role(s, "admin", "thanh.tra", "wizard", J, "x"), "unknown_role"),
        (lambda s: accounts.grant_role(s, "admin", "thanh.tra", "designer", "unit:NOWHERE", "x"), "unknown_scope"),
        (lambda s: accounts.grant_role(s, "admin", "thanh.tra", "auditor", J, "x"), "role_held"),
        (lambda s: accounts.revoke_role(s, "admin", "thanh.tra", "designer", J, "x"), "role_not_held"),
        (lambda s: accounts.set_user_active(s, "admin", "thanh.tra", True, "x"), "user_unchanged"),
        (lambda s: accounts.set_user_active(s, "admin", "thanh.tra", False, None), "reason_required"),
    ],
)
def test_a_refused_user_change_changes_nothing(province, change, code):
    with province.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(RoleAssignment)), session.get(User, "thanh.tra").active
    with pytest.raises(DomainError) as refused:
        change(province)
    assert refused.value.code == code
    with province.session_factory() as session:
        after = session.scalar(select(func.count()).select_from(RoleAssignment)), session.get(User, "thanh.tra").active
    assert after == before and logged(province) == []


def test_an_unknown_user_is_not_found(province):
    with pytest.raises(NotFoundError):
        accounts.set_user_active(province, "admin", "nobody", False, "x")


def test_the_users_command_changes_roles_with_a_reason(environment):
    env, thidua = environment
    thidua("demo")

    def run(*args):
        return cli.thidua(*args, env=env)

    granted = thidua(
        "users", "grant", "thanh.tra", "designer", "--scope", J, "--reason", "kiêm nhiệm", "--actor", "ops"
    )
    assert granted.strip() == f"thanh.tra: auditor@{J}, designer@{J}"
    assert thidua("users", "disable", "thanh.tra", "--reason", "nghỉ hưu").strip().startswith("thanh.tra:")
    missing = run("users", "enable", "thanh.tra")
    assert missing.returncode == 2 and "--reason" in missing.stderr
    blank = run("users", "enable", "thanh.tra", "--reason", " ")
    assert blank.returncode == 1 and blank.stderr.strip().splitlines()[-1].startswith("Error: reason is required")
    assert "operation log intact: 2 entries" in thidua("verify-history").splitlines()


# --- the chain --------------------------------------------------------------------------------


def three_entries(services) -> None:
    for day, note in ((date(2026, 3, 13), "một"), (date(2026, 3, 20), "hai"), (date(2026, 3, 27), "ba")):
        calendar.set_override(services, "admin", day, DAY_OFF, note)


LOG_TABLES = ("operation_log", "operation_log_head")


def test_an_intact_log_verifies_and_each_entry_links_to_the_previous(services):
    three_entries(services)
    assert audit_queries.verify_log(services) == log.LogVerification(3, None)
    with services.session_factory() as session:
        rows = session.scalars(select(OperationEntry).order_by(OperationEntry.id)).all()
    assert [row.id for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == engine.history.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE operation_log SET reason = 'khác' WHERE id = 1",
        "DELETE FROM operation_log WHERE id = 3",
        "UPDATE operation_log_head SET last_id = 2",
        "DELETE FROM operation_log_head",
    ],
)
def test_the_database_refuses_to_change_or_delete_entries_or_move_the_head_back(services, statement):
    three_entries(services)
    with pytest.raises(DatabaseError, match="operation_log"):
        with services.database.begin() as connection:
            connection.execute(text(statement))
    assert audit_queries.verify_log(services).ok


def test_a_blank_reason_is_refused_by_the_database_too(services):
    with pytest.raises(DatabaseError):
        with services.database.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO operation_log (id, at, actor, action, subject_type, subject_id, reason, "
                    "prev_hash, hash) VALUES (1, '2026-03-02 01:00:00+00', 'a', 'suspend', 'instance', 'i', '  ', "
                    "'p', 'h')"
                )
            )


@pytest.mark.parametrize(
    ("statements", "found"),
    [
        (["UPDATE operation_log SET reason = 'hai (sửa)' WHERE id = 2"], "entry 2: content does not match its hash"),
        (["UPDATE operation_log SET new = NULL WHERE id = 1"], "entry 1: content does not match its hash"),
        (["DELETE FROM operation_log WHERE id = 2"], "entry 3: expected entry 2 here (deleted)"),
        (["DELETE FROM operation_log WHERE id = 3"], "entry 3: the log ends before its recorded last entry 3"),
        (
            ["DELETE FROM operation_log WHERE id = 3", "UPDATE operation_log_head SET last_id = 2"],
            "entry 2: does not match the log's recorded head (entry 2)",
        ),
    ],
)
def test_an_edited_or_deleted_entry_is_detected(services, statements, found):
    three_entries(services)
    tamper(services, LOG_TABLES, *statements)
    verification = audit_queries.verify_log(services)
    assert not verification.ok and verification.broken.startswith(found), verification.broken


def test_concurrent_acts_append_one_after_another(services, database_url, clock):
    """Two processes' acts at once: both land, numbered without gaps, and the chain verifies."""
    other = bootstrap(database_url, clock=clock)
    days = [date(2026, 6, 1) + timedelta(days=7 * n) for n in range(8)]  # Mondays, none a holiday

    def act(app_services, mine):
        for day in mine:
            calendar.set_override(app_services, "admin", day, DAY_OFF, f"nghỉ {day}")

    try:
        threads = [
            threading.Thread(target=act, args=(services, days[0::2])),
            threading.Thread(target=act, args=(other, days[1::2])),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.dispose()
    assert sorted(e.subject_id for e in logged(services)) == sorted(day.isoformat() for day in days)
    assert audit_queries.verify_log(services) == log.LogVerification(len(days), None)


def test_a_swapped_entry_is_detected(services):
    three_entries(services)
    tamper(
        services,
        LOG_TABLES,
        "UPDATE operation_log SET id = 99 WHERE id = 2",
        "UPDATE operation_log SET id = 2 WHERE id = 3",
        "UPDATE operation_log SET id = 3 WHERE id = 99",
    )
    assert audit_queries.verify_log(services).broken.startswith("entry 2: does not link")


# --- the page ---------------------------------------------------------------------------------


def test_auditors_see_the_log_newest_first_with_reasons_and_values(demo_app):
    services = app_services(demo_app)
    calendar.set_override(services, "admin", date(2026, 9, 3), DAY_OFF, "Nghỉ thêm dịp Quốc khánh")
    accounts.grant_role(services, "admin", "chuyen.vien.2", "auditor", J, "Thanh tra công vụ năm 2022")
    client = demo_app.test_client()
    sign_in(client, "thanh.tra")
    response = client.get("/audit/operations")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index('data-action="role_grant"') < page.index('data-action="calendar_override_set"')
    assert "Thanh tra công vụ năm 2022" in page and "Nghỉ thêm dịp Quốc khánh" in page
    assert "<ins>" in page and "day_off" in page  # the override's values, old → new
    assert "/audit/operations" in page  # the filter form

    filtered = client.get("/audit/operations?action=calendar_override_set&from=2022-11-01&to=2022-11-01")
    text_ = filtered.get_data(as_text=True)
    assert 'data-action="calendar_override_set"' in text_ and 'data-action="role_grant"' not in text_
    by_subject = client.get("/audit/operations?subject_type=user&subject=chuyen.vien.2&actor=admin")
    assert by_subject.get_data(as_text=True).count("data-operation=") == 1
    none = client.get("/audit/operations?from=2022-11-02").get_data(as_text=True)
    assert 'data-testid="no-operations"' in none

    for query, field in (("from=2022-13-01", "from"), ("action=drop", "action"), ("page=0", "page")):
        refused = client.get(f"/audit/operations?{query}")
        assert refused.status_code == 400 and f'data-error-for="{field}"' in refused.get_data(as_text=True)


def test_the_log_is_paged(demo_app):
    services = app_services(demo_app)
    for n in range(51):
        calendar.set_override(services, "admin", date(2026, 9, 3), DAY_OFF, f"lần {n}")
    client = demo_app.test_client()
    sign_in(client, "thanh.tra")
    first = client.get("/audit/operations").get_data(as_text=True)
    second = client.get("/audit/operations?page=2").get_data(as_text=True)
    assert first.count("data-operation=") == 50 and 'data-operation="51"' in first
    assert second.count("data-operation=") == 1 and 'data-operation="1"' in second


@pytest.mark.parametrize("username", ["admin", "thiet.ke", "chuyen.vien.1"])
def test_others_may_not_open_the_log(demo_app, username):
    client = demo_app.test_client()
    assert client.get("/audit/operations").status_code == 302  # to the sign-in page
    sign_in(client, username)
    assert client.get("/audit/operations").status_code == 403
