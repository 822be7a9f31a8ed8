"""Time limits as data on the demo province: each step's limit per award comes from the rule
set's step_deadlines table; a dossier returned for supplement stops the board's clock and its
resubmission resumes it (or restarts it, when the rule says so); an overdue step tells its
assignee and supervisor and shows in the inbox; an admin retries an incident."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

import engine
from engine.models import HumanTask, TimerJob
from tests.integration.conftest import sign_in
from tests.integration.test_nomination_scenarios import (
    bk_tinh_candidate,
    cstd_tinh_candidate,
    nominate,
    open_task,
    step,
)
from web.extensions import services as app_services
from workflows.awards.models import RuleFile
from workflows.notifications.models import Notification
from workflows.processes import services as ps


def local_midnight_after(year, month, day) -> datetime:
    return datetime(year, month, day, 17, 0, tzinfo=timezone.utc)


def due_of(services, nomination_id, element):
    return open_task(services, nomination_id, element).due_at


def submitted(services, person_id, award="BK_TINH", unit="SO_Y_TE"):
    nomination_id = nominate(services, person_id, award=award, unit=unit)
    step(services, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(services, nomination_id, "sign_nomination", "gd.y.te")
    step(services, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    return nomination_id


def test_each_step_gets_its_limit_for_the_award_from_the_rule_set(province, clock):
    # Tuesday 1 November 2022, 09:00 in Hanoi; no holiday until the new year.
    bk_tinh = submitted(province, bk_tinh_candidate(province))
    assert due_of(province, bk_tinh, "receive_nomination") == local_midnight_after(2022, 11, 4)  # 3 working days
    step(province, bk_tinh, "receive_nomination", "chuyen.vien.1", {"complete": True})
    assert due_of(province, bk_tinh, "appraise_nomination") == local_midnight_after(2022, 11, 15)  # 10
    cstd = submitted(province, cstd_tinh_candidate(province, unit="SO_Y_TE"), award="CSTD_TINH")
    step(province, cstd, "receive_nomination", "chuyen.vien.1", {"complete": True})
    assert due_of(province, cstd, "appraise_nomination") == local_midnight_after(2022, 11, 29)  # 20 for CSTD_TINH


def set_on_resubmit(services, value: str):
    with services.uow() as uow:
        (content,) = uow.session.scalars(select(RuleFile.content).where(RuleFile.name == "step_deadlines.dmn"))
        changed = content.replace('<text>"resume"</text>', f'<text>"{value}"</text>')
        uow.session.execute(update(RuleFile).where(RuleFile.name == "step_deadlines.dmn").values(content=changed))
        uow.commit()


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        ("resume", local_midnight_after(2022, 11, 15)),  # 3 days, 2 used before the return: 1 left
        ("restart", local_midnight_after(2022, 11, 17)),  # 3 days again
    ],
)
def test_a_return_for_supplement_stops_the_clock_and_resubmission_resumes_or_restarts_it(province, clock, rule, due):
    set_on_resubmit(province, rule)
    nomination_id = submitted(province, bk_tinh_candidate(province))
    clock.advance(days=2)  # Thursday 3 November: two working days used
    step(
        province,
        nomination_id,
        "receive_nomination",
        "chuyen.vien.1",
        {"complete": False, "return_reason": "Thiếu xác nhận sáng kiến"},
    )
    assert due_of(province, nomination_id, "supplement_nomination") == local_midnight_after(2022, 11, 17)  # 10 days
    clock.advance(days=11)  # Monday 14 November: the unit took its time, which is not the board's
    step(province, nomination_id, "supplement_nomination", "tdkt.y.te", {"supplement_note": "Đã bổ sung"})
    assert due_of(province, nomination_id, "receive_nomination") == due


def test_an_overdue_step_tells_its_assignee_and_supervisor_and_shows_in_the_inbox(demo_app, clock):
    province = app_services(demo_app)
    nomination_id = submitted(province, bk_tinh_candidate(province))
    task = open_task(province, nomination_id, "receive_nomination")
    clock.now = task.due_at
    ps.run_timers(province)
    with province.session_factory() as session:
        told = {
            (n.user_id, n.kind) for n in session.scalars(select(Notification).where(Notification.task_id == task.id))
        }
    assert ("truong.ban", "task_overdue") in told  # the board's head supervises the board's officers
    assert {"chuyen.vien.1", "chuyen.vien.2"} <= {user for user, kind in told if kind == "task_due"}
    assert ("truong.ban", "task_reminder") not in told  # reminders go to the assignee only
    clock.advance(minutes=1)
    client = demo_app.test_client()
    sign_in(client, "chuyen.vien.1")
    page = client.get("/?view=overdue").get_data(as_text=True)
    assert f'data-task="{task.id}"' in page and 'data-escalation="overdue"' in page


def test_after_the_grace_period_the_step_is_reassigned_to_the_supervisor(province, clock):
    nomination_id = submitted(province, bk_tinh_candidate(province))
    task = open_task(province, nomination_id, "receive_nomination")
    province.in_transaction(engine.claim_task, task.id, "chuyen.vien.1")
    with province.session_factory() as session:
        escalate_at = session.scalar(
            select(TimerJob.due_at).where(TimerJob.task_id == task.id, TimerJob.kind == "task_escalate")
        )
    assert escalate_at == local_midnight_after(2022, 11, 8)  # due Friday 4, plus 2 working days of grace
    clock.now = escalate_at
    ps.run_timers(province)
    with province.session_factory() as session:
        row = session.get(HumanTask, task.id)
        told = session.scalars(select(Notification.user_id).where(Notification.kind == "task_escalated")).all()
    assert (row.candidate_role, row.claimed_by, row.escalation) == ("board_head", None, "escalated")
    assert told == ["truong.ban"]
    step(province, nomination_id, "receive_nomination", "truong.ban", {"complete": True})


def test_the_decider_is_never_replaced_and_answers_to_the_board_head(province):
    """sign_decision opts out of reassignment in the diagram; other steps keep the ladder."""
    with province.uow() as uow:
        definition = engine.definitions.latest_definition(uow, "nomination")
        ladders = {element: meta["escalation"] for element, meta in definition.task_meta.items()}
    assert ladders["sign_decision"] == {"reminder_share": 0.5, "grace_days": 2.0, "reassign": None}
    assert ladders["receive_nomination"]["reassign"] == "supervisor"
    assert province.directory.supervisor(None, "decider", "jurisdiction:NAM_DINH", "supervisor") == (
        "board_head",
        "jurisdiction:NAM_DINH",
    )


def test_an_admin_retries_an_incident_and_nobody_else_can(demo_app, clock):
    province = app_services(demo_app)
    nomination_id = submitted(province, bk_tinh_candidate(province))
    task = open_task(province, nomination_id, "receive_nomination")
    with province.uow() as uow:
        job = uow.session.scalars(
            select(TimerJob).where(TimerJob.task_id == task.id, TimerJob.kind == "task_due")
        ).one()
        job.status, job.attempts, job.last_error = "incident", 5, "RuntimeError: mail template missing"
        job_id = job.id
        uow.commit()
    client, retry = demo_app.test_client(), f"/admin/incidents/{job_id}/retry"
    token = sign_in(client, "chuyen.vien.1")
    assert client.get("/admin/incidents").status_code == 403
    assert client.post(retry, data={"csrf_token": token, "reason": "mẫu thư đã sửa"}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "admin")
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert f'data-job="{job_id}"' in page and "mail template missing" in page
    assert client.post(retry).status_code in (400, 403)  # no CSRF token
    assert client.post(retry, data={"csrf_token": token, "reason": "mẫu thư đã sửa"}).status_code == 302
    with province.session_factory() as session:
        job = session.get(TimerJob, job_id)
        assert (job.status, job.attempts) == ("pending", 0)
    assert client.post(retry, data={"csrf_token": token, "reason": "mẫu thư đã sửa"}).status_code == 404
    clock.now = max(clock.now, task.due_at)
    ps.run_timers(province)
    with province.session_factory() as session:
        assert session.get(TimerJob, job_id).status == "done"
