"""Whole nominations driven through the services on the demo province (no web): the ladder end to
end and each path off it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from engine import TaskDataError, TaskNotAllowedError, queries
from engine.models import ProcessInstance
from workflows.audit import queries as audit_queries
from workflows.awards.models import RuleFile
from workflows.council import blocs, sessions
from workflows.council.models import ItemVoter, SessionItem
from workflows.decisions.models import Decision
from workflows.demo import province as demo
from workflows.errors import DomainError
from workflows.nominations import creation, steps
from workflows.nominations.models import Nomination
from workflows.nominees import people
from workflows.nominees.models import AchievementRecord, Initiative, PerformanceRating, Restriction
from workflows.org.models import RoleAssignment

COUNCIL = "HDTDKT_NAM_DINH"
MEMBERS = [
    "chu.tich",
    "pho.chu.tich",
    "gd.noi.vu",
    "truong.ban",
    "gd.giao.duc",
    "gd.y.te",
    "gd.tai.chinh",
    "ct.thanh.pho",
    "ct.hai.hau",
]


def add_person(services, unit: str, *, ratings=None, titles=None, initiatives=(), restricted: str | None = None) -> str:
    """A nominee with a history: ratings {year: rating}, titles {year: [award codes]},
    initiatives [(year, scope)], an open restriction of the given kind."""
    person_id = str(uuid.uuid4())
    with services.uow() as uow:
        session = uow.session
        people.add_person(
            session, person_id=person_id, full_name="Nguyễn Văn Thử", unit_id=unit, recruited_on=date(2012, 9, 1)
        )
        for year, rating in (ratings or {}).items():
            session.add(PerformanceRating(person_id=person_id, year=year, rating=rating))
        for year, codes in (titles or {}).items():
            for code in codes:
                session.add(
                    AchievementRecord(
                        subject_kind="person", subject_id=person_id, year=year, award_code=code, counts_for_merit=True
                    )
                )
        for year, scope in initiatives:
            session.add(Initiative(person_id=person_id, year=year, scope=scope, title="Sáng kiến cải tiến"))
        if restricted:
            session.add(
                Restriction(
                    subject_kind="person",
                    subject_id=person_id,
                    kind=restricted,
                    started_on=date(2022, 6, 1),
                    ended_on=None,
                )
            )
        uow.commit()
    return person_id


def bk_tinh_candidate(services, unit="SO_Y_TE", **changes) -> str:
    """Meets Bằng khen của Chủ tịch UBND tỉnh: 2 consecutive CSTDCS, 2 initiatives, good ratings."""
    history = dict(
        ratings={2020: "HTXSNV", 2021: "HTXSNV", 2022: "HTXSNV"},
        titles={2021: ["LDTT", "CSTDCS"], 2022: ["LDTT", "CSTDCS"]},
        initiatives=[(2021, "unit"), (2022, "unit")],
    )
    return add_person(services, unit, **(history | changes))


def nominate(services, person_id, award="BK_TINH", unit="SO_Y_TE", officer="tdkt.y.te", route="merit") -> str:
    nomination = services.in_transaction(
        creation.create_nomination,
        officer,
        campaign_id=demo.CAMPAIGN,
        award_code=award,
        nominating_unit_id=unit,
        year=2022,
        person_id=person_id,
        route=route,
    )
    return nomination.id


def status(services, nomination_id) -> str:
    with services.session_factory() as session:
        return session.get(Nomination, nomination_id).status


def step(services, nomination_id, element, actor, data=None):
    """Complete the nomination's open task `element` as `actor`."""
    task = open_task(services, nomination_id, element)
    return services.in_transaction(steps.complete_step, actor, task.id, data or {})


def open_task(services, nomination_id, element):
    with services.session_factory() as session:
        nomination = session.get(Nomination, nomination_id)
        instances = [nomination.instance_id] + list(
            session.scalars(select(ProcessInstance.id).where(ProcessInstance.business_key == nomination_id))
        )
        tasks = [
            t for i in set(instances) for t in queries.open_tasks(session, instance_id=i) if t.element_id == element
        ]
    assert len(tasks) == 1, (element, tasks)
    return tasks[0]


def submit_and_appraise(services, nomination_id, officer="tdkt.y.te", head="gd.y.te", bloc_head="gd.giao.duc"):
    step(services, nomination_id, "draft_nomination", officer, {"summary": "Hoàn thành xuất sắc nhiệm vụ năm 2022"})
    step(services, nomination_id, "sign_nomination", head)
    if bloc_head:
        step(services, nomination_id, "bloc_review", bloc_head, {"approved": True})
    step(services, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    step(
        services,
        nomination_id,
        "appraise_nomination",
        "chuyen.vien.1",
        {"recommend": True, "report": "Đủ tiêu chuẩn theo quy định"},
    )


def council_session(services, nomination_ids, present=MEMBERS) -> str:
    with services.session_factory() as session:
        rule_set = session.get(Nomination, nomination_ids[0]).rule_set_id
    session_id = services.in_transaction(
        sessions.schedule_session,
        COUNCIL,
        datetime(2022, 12, 1, 2, 0, tzinfo=timezone.utc),
        rule_set,
        nomination_ids,
    )
    services.in_transaction(sessions.record_attendance, session_id, present)
    return session_id


def vote(services, session_id, nomination_id, yes, no=0, abstain=0, voters=None):
    voters = (
        voters if voters is not None else eligible_voters(services, session_id, nomination_id)[: yes + no + abstain]
    )
    return services.in_transaction(
        sessions.record_council_vote,
        "truong.ban",
        session_id,
        nomination_id,
        yes=yes,
        no=no,
        abstain=abstain,
        voted_user_ids=voters,
    )


def eligible_voters(services, session_id, nomination_id) -> list[str]:
    with services.session_factory() as session:
        item = session.scalars(
            select(SessionItem).where(SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id)
        ).one()
        return sorted(
            session.scalars(select(ItemVoter.user_id).where(ItemVoter.item_id == item.id, ItemVoter.recused.is_(False)))
        )


def test_approved_end_to_end(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    assert status(province, nomination_id) == "DRAFT"
    submit_and_appraise(province, nomination_id)
    assert status(province, nomination_id) == "APPRAISED"

    session_id = council_session(province, [nomination_id])
    vote(province, session_id, nomination_id, yes=8)
    assert status(province, nomination_id) == "COUNCIL_VOTED"
    step(province, nomination_id, "sign_decision", "chu.tich")
    assert status(province, nomination_id) == "DECIDED"
    step(province, nomination_id, "notify_result", "chuyen.vien.2")
    assert status(province, nomination_id) == "PUBLISHED"

    with province.session_factory() as session:
        decision = session.get(Decision, session.get(Nomination, nomination_id).decision_id)
        assert (decision.code, decision.kind, decision.signed_by) == (
            "2/QĐ-UBND",
            "award",
            "chu.tich",
        )  # the demo signed 1/QĐ-UBND
    assert audit_queries.verify_history(province).ok
    with province.session_factory() as session:
        events = queries.instance_history(session, session.get(Nomination, nomination_id).instance_id)
    (council_step,) = [e for e in events if e.element_id == "council_vote"]
    assert council_step.actor == "truong.ban" and council_step.data["facts"] == {"council_passed": True}
    recorded = json.dumps([e.data for e in events], ensure_ascii=False)
    assert not any(member in recorded for member in MEMBERS)  # no ballot, no voter list in history


def test_four_eyes_keeps_the_drafter_from_signing(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    with pytest.raises(TaskNotAllowedError):
        step(province, nomination_id, "sign_nomination", "tdkt.y.te")


def test_returned_for_supplement_and_resubmitted(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    step(province, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    assert status(province, nomination_id) == "SUBMITTED"
    step(
        province,
        nomination_id,
        "receive_nomination",
        "chuyen.vien.1",
        {"complete": False, "return_reason": "Thiếu xác nhận sáng kiến"},
    )
    assert status(province, nomination_id) == "RETURNED"
    step(province, nomination_id, "supplement_nomination", "tdkt.y.te", {"supplement_note": "Đã bổ sung xác nhận"})
    assert status(province, nomination_id) == "RESUBMITTED"
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    assert status(province, nomination_id) == "RECEIVED"


def test_rejected_by_the_bloc_with_reasons(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    step(
        province,
        nomination_id,
        "bloc_review",
        "gd.giao.duc",
        {"approved": False, "reason": "Chưa tiêu biểu trong khối"},
    )
    step(province, nomination_id, "notify_rejection", "chuyen.vien.2")
    with province.session_factory() as session:
        nomination = session.get(Nomination, nomination_id)
        assert (nomination.status, nomination.rejection_reason) == ("REJECTED", "Chưa tiêu biểu trong khối")


def test_bloc_rejection_needs_a_reason(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    with pytest.raises(TaskDataError, match="reason"):
        step(province, nomination_id, "bloc_review", "gd.giao.duc", {"approved": False})


def test_council_without_quorum_must_be_rescheduled(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    submit_and_appraise(province, nomination_id)
    session_id = council_session(province, [nomination_id], present=MEMBERS[:5])  # 5 of 9 < 2/3
    with pytest.raises(DomainError):
        vote(province, session_id, nomination_id, yes=4, voters=["chu.tich", "pho.chu.tich", "gd.noi.vu", "truong.ban"])
    assert status(province, nomination_id) == "APPRAISED"
    new_session = province.in_transaction(
        sessions.reschedule_session, session_id, datetime(2022, 12, 8, tzinfo=timezone.utc)
    )
    province.in_transaction(sessions.record_attendance, new_session, MEMBERS)
    vote(province, new_session, nomination_id, yes=8)
    assert status(province, nomination_id) == "COUNCIL_VOTED"


def test_member_from_the_nominating_unit_is_recused(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    submit_and_appraise(province, nomination_id)
    session_id = council_session(province, [nomination_id])
    assert "gd.y.te" not in eligible_voters(province, session_id, nomination_id)
    with pytest.raises(DomainError, match="gd.y.te"):
        vote(province, session_id, nomination_id, yes=2, voters=["gd.y.te", "chu.tich"])
    result = vote(province, session_id, nomination_id, yes=8)
    assert not result.ended


def test_nominee_under_discipline_is_refused_at_submission(province):
    nomination_id = nominate(province, bk_tinh_candidate(province, restricted="discipline"))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    with pytest.raises(DomainError) as caught:
        step(province, nomination_id, "sign_nomination", "gd.y.te")
    assert caught.value.code == "nominee_under_restriction"
    assert status(province, nomination_id) == "DRAFT"
    assert open_task(province, nomination_id, "sign_nomination")


def test_ineligible_nominee_is_flagged_at_appraisal_with_the_failing_criterion(province):
    nomination_id = nominate(province, bk_tinh_candidate(province, initiatives=[(2022, "unit")]))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    step(province, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    with pytest.raises(DomainError) as caught:
        step(province, nomination_id, "appraise_nomination", "chuyen.vien.1", {"recommend": True, "report": "…"})
    assert caught.value.code == "nominee_ineligible" and "initiative" in caught.value.message
    step(
        province,
        nomination_id,
        "appraise_nomination",
        "chuyen.vien.1",
        {"recommend": False, "report": "Thiếu sáng kiến", "reason": "Chưa đủ 2 sáng kiến"},
    )
    with province.session_factory() as session:
        events = queries.instance_history(session, session.get(Nomination, nomination_id).instance_id)
    appraisal = [e for e in events if e.element_id == "appraise_nomination"][-1]
    criteria = {c["criterion"]: c["status"] for c in appraisal.data["facts"]["eligibility"]}
    assert "not_met" in criteria.values() and appraisal.data["facts"]["eligible"] is False
    assert status(province, nomination_id) == "REJECTED"


def test_appraiser_from_the_nominees_unit_is_refused(province):
    with province.uow() as uow:  # the board sits in Sở Nội vụ; give that unit an officer
        uow.session.add(RoleAssignment(user_id="thiet.ke", role="unit_officer", scope="unit:SO_NOI_VU"))
        uow.commit()
    nomination_id = nominate(
        province, bk_tinh_candidate(province, unit="SO_NOI_VU"), unit="SO_NOI_VU", officer="thiet.ke"
    )
    step(province, nomination_id, "draft_nomination", "thiet.ke", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.noi.vu")
    step(province, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    with pytest.raises(DomainError) as caught:
        step(province, nomination_id, "appraise_nomination", "chuyen.vien.1", {"recommend": True, "report": "…"})
    assert caught.value.code == "appraiser_conflict"


def cstd_tinh_candidate(services, unit="HAI_HAU") -> str:
    """Meets Chiến sĩ thi đua cấp tỉnh: 3 consecutive CSTDCS and a province-wide initiative."""
    return add_person(
        services,
        unit,
        ratings={2020: "HTXSNV", 2021: "HTXSNV", 2022: "HTXSNV"},
        titles={2020: ["LDTT", "CSTDCS"], 2021: ["LDTT", "CSTDCS"], 2022: ["LDTT", "CSTDCS"]},
        initiatives=[(2021, "unit"), (2022, "province")],
    )


@pytest.mark.parametrize(("denominator", "passed"), [("ALL", False), ("PRESENT", True)])
def test_threshold_with_all_and_present_denominators(province, denominator, passed):
    if denominator == "PRESENT":  # the council's rules are data: a province edits them
        with province.uow() as uow:
            rules = uow.session.get(RuleFile, (demo.RULE_SET, "council_vote_rules.dmn"))
            rules.content = rules.content.replace('"ALL"', '"PRESENT"')
            uow.commit()
    nomination_id = nominate(
        province, cstd_tinh_candidate(province), award="CSTD_TINH", unit="HAI_HAU", officer="tdkt.hai.hau"
    )
    submit_and_appraise(province, nomination_id, officer="tdkt.hai.hau", head="ct.hai.hau", bloc_head="ct.thanh.pho")
    present = [m for m in MEMBERS if m != "gd.tai.chinh"]  # 8 present; ct.hai.hau recused: 8 eligible, 7 present
    session_id = council_session(province, [nomination_id], present=present)
    voters = [v for v in eligible_voters(province, session_id, nomination_id) if v in present]
    assert len(voters) == 7
    vote(province, session_id, nomination_id, yes=7, voters=voters)  # 7/8 = 87.5 % < 90 %; 7/7 = 100 %
    assert status(province, nomination_id) == ("COUNCIL_VOTED" if passed else "REJECTED")


def test_revocation_of_a_decided_award(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    submit_and_appraise(province, nomination_id)
    session_id = council_session(province, [nomination_id])
    vote(province, session_id, nomination_id, yes=8)
    step(province, nomination_id, "sign_decision", "chu.tich")
    step(province, nomination_id, "notify_result", "chuyen.vien.2")

    province.in_transaction(steps.start_revocation, "chuyen.vien.1", nomination_id)
    step(
        province,
        nomination_id,
        "prepare_revocation",
        "chuyen.vien.1",
        {"ground": "false_documents", "reason": "Xác nhận sáng kiến bị làm giả"},
    )
    step(province, nomination_id, "sign_revocation", "chu.tich", {"revoke": True})
    step(province, nomination_id, "notify_revocation", "chuyen.vien.2")
    assert status(province, nomination_id) == "REVOKED"
    with province.session_factory() as session:
        original = session.get(Decision, session.get(Nomination, nomination_id).decision_id)
        revoking = session.get(Decision, original.revoked_by_id)
        assert (original.revocation_ground, revoking.kind, revoking.code) == (
            "false_documents",
            "revocation",
            "3/QĐ-UBND",
        )
    with pytest.raises(DomainError):
        province.in_transaction(steps.start_revocation, "chuyen.vien.1", nomination_id)


def test_ad_hoc_route_is_shorter(province):
    person_id = add_person(province, "SO_GD_DT", ratings={2022: "HTTNV"})
    nomination_id = nominate(
        province, person_id, award="GIAY_KHEN", unit="SO_GD_DT", officer="tdkt.giao.duc", route="ad_hoc"
    )
    step(province, nomination_id, "draft_nomination", "tdkt.giao.duc", {"summary": "Cứu người trong lũ"})
    step(province, nomination_id, "sign_nomination", "gd.giao.duc")
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})
    step(province, nomination_id, "sign_decision", "chu.tich", {"granted": True})
    step(province, nomination_id, "notify_result", "chuyen.vien.2")
    assert status(province, nomination_id) == "PUBLISHED"


def test_public_notice_waits_ten_working_days_and_for_resolved_comments(province, clock):
    person_id = add_person(
        province,
        "SO_GD_DT",
        ratings={2020: "HTXSNV", 2021: "HTXSNV", 2022: "HTXSNV"},
        titles={2021: ["CSTD_TINH"], 2022: ["CSTD_TINH", "LDTT", "CSTDCS"]},
        initiatives=[(2022, "national")],
    )
    nomination_id = nominate(province, person_id, award="CSTD_TQ", unit="SO_GD_DT", officer="tdkt.giao.duc")
    submit_and_appraise(province, nomination_id, officer="tdkt.giao.duc", head="gd.giao.duc", bloc_head="gd.giao.duc")
    assert status(province, nomination_id) == "PUBLIC_NOTICE"
    comment = province.in_transaction(steps.add_notice_comment, nomination_id, "Đề nghị làm rõ sáng kiến")
    with pytest.raises(DomainError, match="public notice runs"):
        step(province, nomination_id, "close_public_notice", "chuyen.vien.1")
    clock.advance(days=15)
    with pytest.raises(DomainError) as caught:
        step(province, nomination_id, "close_public_notice", "chuyen.vien.1")
    assert caught.value.code == "comments_unresolved"
    province.in_transaction(steps.resolve_notice_comment, "chuyen.vien.1", comment.id, "Đã xác minh, đúng sự thật")
    step(province, nomination_id, "close_public_notice", "chuyen.vien.1")
    assert status(province, nomination_id) == "APPRAISED"


def test_bloc_scores_and_votes_for_its_leading_unit_before_co_tinh(province):
    members = ["TP_NAM_DINH", "HAI_HAU", "GIAO_THUY", "Y_YEN"]
    with province.uow() as uow:
        blocs.set_bloc_criteria(
            uow, "CUM_HUYEN", 2022, [("kinh_te", "Phát triển kinh tế", 50), ("xa_hoi", "An sinh xã hội", 50)]
        )
        for scorer in members:
            blocs.record_bloc_scores(
                uow,
                "CUM_HUYEN",
                2022,
                scorer,
                {unit: {"kinh_te": 45 if unit == "TP_NAM_DINH" else 35, "xa_hoi": 40} for unit in members},
            )
        ranking = blocs.bloc_ranking(uow, "CUM_HUYEN", 2022)
        uow.commit()
    assert ranking[0].unit_id == "TP_NAM_DINH"
    with pytest.raises(DomainError):
        province.in_transaction(blocs.choose_bloc_leader, "ct.hai.hau", "CUM_HUYEN", 2022, {"TP_NAM_DINH": 4})
    leader = province.in_transaction(
        blocs.choose_bloc_leader, "ct.thanh.pho", "CUM_HUYEN", 2022, {"TP_NAM_DINH": 3, "HAI_HAU": 1}
    )
    assert leader == "TP_NAM_DINH"

    nomination = province.in_transaction(
        creation.create_nomination,
        "tdkt.thanh.pho",
        campaign_id=demo.CAMPAIGN,
        award_code="CO_TINH",
        nominating_unit_id="TP_NAM_DINH",
        year=2022,
        unit_id="TP_NAM_DINH",
    )
    submit_and_appraise(
        province, nomination.id, officer="tdkt.thanh.pho", head="ct.thanh.pho", bloc_head="ct.thanh.pho"
    )
    assert status(province, nomination.id) == "APPRAISED"  # eligible: chosen by its bloc
