"""The auditors' pages on the demo province, on SQLite and PostgreSQL: finding instances by each
criterion within the auditor's scope, the timeline with data before and after each change, the
state replay rebuilds at several events (also across a migration), the replay page, the history
exports read back and re-verified, the campaign's decisions as xlsx, the printable report, and
secret ballots that show tallies and attendance, never a member's choice. Pages are asked for in
English (the language cookie) so that assertions do not depend on the catalogue."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select, update

import engine
from engine import history
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance
from tests.conftest import FakeClock
from tests.integration.conftest import ROOT, sign_in
from tests.integration.test_nomination_scenarios import (
    MEMBERS,
    bk_tinh_candidate,
    council_session,
    nominate,
    open_task,
    step,
    vote,
)
from web.extensions import services as app_services
from web.i18n import LANGUAGE_COOKIE
from workflows.accounts.passwords import hash_password
from workflows.accounts.services import principal_of_user
from workflows.audit import exports, records, search
from workflows.audit import queries as audit_queries
from workflows.decisions.models import Decision
from workflows.demo import province as demo
from workflows.errors import DomainError, NotFoundError
from workflows.nominations.models import Nomination
from workflows.org.models import RoleAssignment, User
from workflows.paging import Paging
from workflows.processes import services as ps
from workflows.tasks import services as tasks
from workflows.uow import Services

AUDITOR = "thanh.tra"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
RETURN_REASON = "Thiếu xác nhận sáng kiến cấp cơ sở"
DELEGATION_REASON = "Chuyên viên 1 đi công tác, chuyển chuyên viên 2 xử lý"
NOMINEE = "Nguyễn Văn Thử"  # tests.integration.test_nomination_scenarios.add_person
# The audited nomination starts on 2 November 2022 and ends at 01:00 on 10 November in Hanoi,
# which is still 9 November in UTC: the date filters must count days in Hanoi.
STARTED = datetime(2022, 11, 2, 2, 0, tzinfo=timezone.utc)
ENDED = datetime(2022, 11, 9, 18, 0, tzinfo=timezone.utc)
TALLY = {"yes": 6, "no": 1, "abstain": 1}


@dataclass
class Audited:
    """The demo province plus one nomination taken through every kind of step to a decision."""

    app: Flask
    services: Services
    clock: FakeClock
    nomination_id: str
    instance_id: str
    session_id: str
    decision_code: str
    demo_instances: dict[str, str]  # the demo's nominee id -> instance id

    def client(self, username: str | None = AUDITOR):
        client = self.app.test_client()
        client.set_cookie(LANGUAGE_COOKIE, "en")
        if username:
            sign_in(client, username)
        return client

    def event_seq(self, element_id: str, occurrence: int = 1) -> int:
        """The sequence number of the `occurrence`-th completion of a step."""
        with self.services.session_factory() as session:
            seqs = session.scalars(
                select(HistoryEvent.seq)
                .where(
                    HistoryEvent.instance_id == self.instance_id,
                    HistoryEvent.element_id == element_id,
                    HistoryEvent.type == history.TASK_COMPLETED,
                )
                .order_by(HistoryEvent.seq)
            ).all()
        return seqs[occurrence - 1]

    def head(self, instance_id: str | None = None) -> int:
        with self.services.session_factory() as session:
            return session.get(ProcessInstance, instance_id or self.instance_id).history_seq


@pytest.fixture
def audited(demo_app, clock) -> Audited:
    services = app_services(demo_app)
    with services.session_factory() as session:
        demo_instances = {n.person_id: n.instance_id for n in session.scalars(select(Nomination))}
    clock.now = STARTED
    nomination_id = nominate(services, bk_tinh_candidate(services))
    step(services, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích xuất sắc"})
    step(services, nomination_id, "sign_nomination", "gd.y.te")
    step(services, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    clock.advance(days=1)
    step(
        services,
        nomination_id,
        "receive_nomination",
        "chuyen.vien.1",
        {"complete": False, "return_reason": RETURN_REASON},
    )
    step(services, nomination_id, "supplement_nomination", "tdkt.y.te", {"supplement_note": "Đã bổ sung"})
    task = open_task(services, nomination_id, "receive_nomination")
    tasks.delegate(services, principal_of_user(services, "chuyen.vien.1"), task.id, "chuyen.vien.2", DELEGATION_REASON)
    step(services, nomination_id, "receive_nomination", "chuyen.vien.2", {"complete": True})
    step(services, nomination_id, "appraise_nomination", "chuyen.vien.1", {"recommend": True, "report": "Đủ chuẩn"})
    clock.advance(days=3)
    session_id = council_session(services, [nomination_id])
    vote(services, session_id, nomination_id, **TALLY)
    step(services, nomination_id, "sign_decision", "chu.tich")
    clock.now = ENDED
    step(services, nomination_id, "notify_result", "chuyen.vien.2")
    with services.session_factory() as session:
        nomination = session.get(Nomination, nomination_id)
        code = session.get(Decision, nomination.decision_id).code
        instance_id = nomination.instance_id
    return Audited(demo_app, services, clock, nomination_id, instance_id, session_id, code, demo_instances)


def add_auditor(services: Services, username: str, scope: str | None) -> str:
    with services.uow() as uow:
        uow.session.add(
            User(
                id=username,
                username=username,
                full_name=username,
                active=True,
                password_hash=hash_password(demo.DEMO_PASSWORD),
            )
        )
        uow.session.flush()
        uow.session.add(RoleAssignment(user_id=username, role="auditor", scope=scope))
        uow.commit()
    return username


def found(audited: Audited, username: str = AUDITOR, **criteria) -> set[str]:
    principal = principal_of_user(audited.services, username)
    page = search.find_instances(audited.services, principal, search.Criteria(**criteria), HANOI, Paging(1, 100))
    assert page.total == len(page.items)
    return {row.id for row in page.items}


def page_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def section(html: str, testid: str) -> str:
    """The inner HTML of the first element with that data-testid (elements of the same tag nest fine
    here: the sections asked for hold no element of their own tag)."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, testid
    return match.group(2)


def event_item(html: str, seq: int) -> str:
    match = re.search(rf'<li [^>]*data-seq="{seq}".*?</li>', html, re.S)
    assert match, seq
    return match.group(0)


# --- finding instances ----------------------------------------------------------------------------


def test_each_search_criterion_finds_the_right_instances(audited):
    mine, demo_of = audited.instance_id, audited.demo_instances
    everything = {mine, *demo_of.values()}
    assert found(audited) == everything
    assert found(audited, nomination=audited.nomination_id) == {mine}
    assert found(audited, nominee="nguyễn văn thử") == {mine}
    assert found(audited, unit="SO_Y_TE") == {mine, demo_of["nv-ldtt-dat"]}
    assert found(audited, unit="Y tế") == {mine, demo_of["nv-ldtt-dat"]}
    assert found(audited, award="BK_TINH") == {mine, demo_of["nv-bkt-dat"]}
    assert found(audited, award="BK_TINH", unit="SO_TAI_CHINH") == {demo_of["nv-bkt-dat"]}
    assert found(audited, campaign=demo.CAMPAIGN) == everything
    assert found(audited, campaign="NO_SUCH_CAMPAIGN") == set()
    assert found(audited, decision=audited.decision_code) == {mine}
    assert found(audited, decision="1/QĐ-UBND") == {demo_of["nv-gk-dat"]}
    assert found(audited, decision=audited.decision_code.split("/")[0]) == {mine}
    assert found(audited, actor="chuyen.vien.2") == {mine, demo_of["nv-cstdt-dat"]}
    assert found(audited, actor="Hoàng Văn Nam") == {mine, demo_of["nv-cstdt-dat"]}  # chuyen.vien.2's name
    assert found(audited, actor="chu.tich") == {mine, demo_of["nv-gk-dat"]}
    assert found(audited, status="PUBLISHED") == {mine, demo_of["nv-gk-dat"]}
    assert found(audited, status="DRAFT") == {demo_of["nv-ldtt-dat"]}
    assert found(audited, instance_status="completed") == {mine, demo_of["nv-gk-dat"]}
    assert found(audited, instance_status="running") == everything - {mine, demo_of["nv-gk-dat"]}
    assert found(audited, started_from=date(2022, 11, 2)) == {mine}
    assert found(audited, started_to=date(2022, 11, 1)) == set(demo_of.values())
    assert found(audited, ended_from=date(2022, 11, 10)) == {mine}  # 9 November in UTC
    assert found(audited, ended_to=date(2022, 11, 9)) == {demo_of["nv-gk-dat"]}
    assert found(audited, ended_from=date(2022, 11, 1), ended_to=date(2022, 11, 1)) == {demo_of["nv-gk-dat"]}


def test_the_search_page_lists_matches_and_refuses_bad_criteria_naming_them(audited):
    client = audited.client()
    html = page_text(client.get("/audit/", query_string={"decision": audited.decision_code}))
    assert re.findall(r'data-instance="([^"]+)"', html) == [audited.instance_id]
    assert NOMINEE in html and audited.decision_code in html
    html = page_text(client.get("/audit/", query_string={"started_from": "02/11/2022", "per_page": 2}))
    assert re.findall(r'data-instance="([^"]+)"', html) == [audited.instance_id]
    html = page_text(client.get("/audit/", query_string={"per_page": 2, "page": 2}))
    assert len(re.findall(r'data-instance="', html)) == 2
    assert f"/audit/campaigns/{demo.CAMPAIGN}/decisions.xlsx" in page_text(
        client.get("/audit/", query_string={"campaign": demo.CAMPAIGN})
    )
    for query, named in (
        ({"started_from": "31/02/2022"}, "started_from"),
        ({"ended_to": "yesterday"}, "ended_to"),
        ({"status": "LOST"}, "status"),
        ({"instance_status": "paused"}, "instance_status"),
        ({"started_from": "2022-11-05", "started_to": "2022-11-01"}, "started_from"),
        ({"page": "x"}, "page"),
    ):
        response = client.get("/audit/", query_string=query, headers={"Accept": "application/json"})
        assert response.status_code == 422, (query, response.status_code)
        assert named in response.get_json()["message"]


def test_an_auditor_sees_only_instances_within_their_scopes(audited):
    services, mine, demo_of = audited.services, audited.instance_id, audited.demo_instances
    add_auditor(services, "kiem.tra.y.te", "unit:SO_Y_TE")
    add_auditor(services, "thanh.tra.ha.nam", "jurisdiction:HA_NAM")
    add_auditor(services, "thanh.tra.bo", None)
    assert found(audited, "kiem.tra.y.te") == {mine, demo_of["nv-ldtt-dat"]}
    assert found(audited, "thanh.tra.ha.nam") == set()
    assert found(audited, "thanh.tra.bo") == {mine, *demo_of.values()}

    outside = demo_of["nv-gk-dat"]
    with services.session_factory() as session:
        outside_nomination = session.scalar(select(Nomination.id).where(Nomination.instance_id == outside))
    client = audited.client("kiem.tra.y.te")
    for path in (
        f"/audit/instances/{outside}",
        f"/audit/instances/{outside}/state?at=1",
        f"/audit/instances/{outside}/diagram",
        f"/audit/instances/{outside}/replay",
        f"/audit/instances/{outside}/history.json",
        f"/audit/instances/{outside}/history.csv",
        f"/audit/nominations/{outside_nomination}/report",
        "/audit/instances/no-such-instance",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/audit/instances/{mine}").status_code == 200
    workbook = load_workbook(io.BytesIO(client.get(f"/audit/campaigns/{demo.CAMPAIGN}/decisions.xlsx").data))
    assert [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)] == [audited.decision_code]

    elsewhere = audited.client("thanh.tra.ha.nam")
    assert elsewhere.get(f"/audit/instances/{mine}").status_code == 404
    assert elsewhere.get(f"/audit/campaigns/{demo.CAMPAIGN}/decisions.xlsx").status_code == 404
    assert 'data-instance="' not in page_text(elsewhere.get("/audit/"))
    with pytest.raises(NotFoundError):
        exports.history_json(services, principal_of_user(services, "thanh.tra.ha.nam"), mine, "thanh.tra.ha.nam")


# --- one instance ----------------------------------------------------------------------------------


def test_the_timeline_shows_who_what_when_the_reasons_and_the_data_before_and_after(audited):
    html = page_text(audited.client().get(f"/audit/instances/{audited.instance_id}"))
    events = re.findall(r'<li [^>]*data-seq="(\d+)" data-type="(\w+)"', html)
    assert [int(seq) for seq, _ in events] == list(range(1, audited.head() + 1))
    assert ("1", "InstanceStarted") in events and (str(audited.head()), "InstanceCompleted") in events

    returned = event_item(html, audited.event_seq("receive_nomination", 1))
    assert "Nguyễn Thu Trang" in returned  # who: chuyen.vien.1
    assert "02/11/2022" not in returned and "03/11/2022" in returned  # when, in Hanoi
    assert RETURN_REASON in returned
    assert re.search(r'data-field="complete">.*?class="before">—</td><td class="after">no</td>', returned, re.S)

    delegated = event_item(html, audited.event_seq("receive_nomination", 1) + 2)
    assert 'data-type="TaskDelegated"' in delegated and DELEGATION_REASON in delegated
    assert re.search(
        r'data-field="claimed_by">.*?class="before">—</td><td class="after">chuyen.vien.2</td>', delegated, re.S
    )

    # The second intake: "complete" goes from the first intake's no to yes.
    received = event_item(html, audited.event_seq("receive_nomination", 2))
    assert re.search(r'data-field="complete">.*?class="before">no</td><td class="after">yes</td>', received, re.S)
    assert "Hoàng Văn Nam" in received  # chuyen.vien.2

    last = event_item(html, audited.head())
    assert "10/11/2022 01:00" in last  # 9 November 18:00 UTC
    with audited.services.session_factory() as session:
        head_hash = session.get(ProcessInstance, audited.instance_id).history_hash
    assert head_hash in last


def test_the_state_endpoint_gives_the_completed_and_waiting_elements_at_each_event(audited):
    client, instance_id = audited.client(), audited.instance_id

    def state(seq):
        response = client.get(f"/audit/instances/{instance_id}/state", query_string={"at": seq})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    first = state(1)
    assert first["active"] == ["draft_nomination"] and "draft_nomination" not in first["completed"]
    second = state(2)
    assert "draft_nomination" in second["completed"] and second["active"] == ["sign_nomination"]
    returned = state(audited.event_seq("receive_nomination", 1))
    assert returned["active"] == ["supplement_nomination"]
    assert {"draft_nomination", "sign_nomination", "bloc_review", "receive_nomination"} <= set(returned["completed"])
    voted = state(audited.event_seq("council_vote"))
    assert voted["active"] == ["sign_decision"] and "council_vote" in voted["completed"]
    assert voted["data"]["council_passed"] is True
    end = state(audited.head())
    assert end["active"] == [] and "notify_result" in end["completed"]
    assert end["snapshot_matches"] is True and end["ok"] is True and end["mismatch"] is None
    with audited.services.session_factory() as session:
        definition_id = session.get(ProcessInstance, instance_id).definition_id
    assert {s["definition_id"] for s in (first, second, returned, voted, end)} == {definition_id}

    diagram = client.get(first["diagram_url"])
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml"
    assert 'id="nomination"' in diagram.get_data(as_text=True) and 'id="council_vote"' in diagram.get_data(as_text=True)

    for query, status in (({}, 400), ({"at": "two"}, 400), ({"at": "-1"}, 400), ({"at": 0}, 422)):
        assert client.get(f"/audit/instances/{instance_id}/state", query_string=query).status_code == status, query
    response = client.get(
        f"/audit/instances/{instance_id}/state",
        query_string={"at": audited.head() + 1},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_seq"


def test_a_migrated_instance_shows_the_version_it_ran_on_at_each_event(audited, tmp_path):
    services = audited.services
    bundle = tmp_path / "v2"
    shutil.copytree(ROOT / "bpmn" / "processes", bundle / "processes")
    shutil.copytree(ROOT / "bpmn" / "forms", bundle / "forms")
    original = (bundle / "processes" / "nomination.bpmn").read_text(encoding="utf-8")
    renamed = re.sub(r'(id="sign_nomination"[^>]*name=")[^"]*"', r'\1Thủ trưởng ký tờ trình (v2)"', original)
    assert renamed != original
    (bundle / "processes" / "nomination.bpmn").write_text(renamed, encoding="utf-8")
    ps.deploy(services, [bundle / "processes", bundle / "forms"], "tester")
    instance_id = audited.demo_instances["nv-ldtt-dat"]  # waits at sign_nomination
    with services.uow() as uow:
        target = engine.latest_definition(uow, "nomination")
        engine.migrate_instance(uow, instance_id, target.id, "thiet.ke", "Đổi tên bước ký")
        uow.commit()
    with services.session_factory() as session:
        old = session.scalar(
            select(ProcessDefinition.id).where(
                ProcessDefinition.process_id == "nomination", ProcessDefinition.version == 1
            )
        )

    client = audited.client()
    head = audited.head(instance_id)
    before, after = (
        client.get(f"/audit/instances/{instance_id}/state", query_string={"at": seq}).get_json() for seq in (2, head)
    )
    assert (before["definition_id"], after["definition_id"]) == (old, target.id)
    assert before["active"] == after["active"] == ["sign_nomination"]
    assert "(v2)" not in client.get(before["diagram_url"]).get_data(as_text=True)
    assert "(v2)" in client.get(after["diagram_url"]).get_data(as_text=True)
    html = page_text(client.get(f"/audit/instances/{instance_id}"))
    migrated = event_item(html, head)
    assert 'data-type="InstanceMigrated"' in migrated and "Đổi tên bước ký" in migrated
    assert re.search(r'data-field="version">.*?class="before">1</td><td class="after">2</td>', migrated, re.S)


def test_the_replay_page_shows_every_step_and_the_first_one_that_disagrees(audited):
    client, services, instance_id = audited.client(), audited.services, audited.instance_id
    html = page_text(client.get(f"/audit/instances/{instance_id}/replay"))
    assert 'data-testid="replay-summary" data-ok="true"' in html
    assert 'data-matches="true"' in html
    assert len(re.findall(r'<tr data-seq="\d+" data-ok="true">', html)) == audited.head()
    assert 'data-matches="none"' in page_text(client.get(f"/audit/instances/{instance_id}/replay?at=3"))
    assert client.get(f"/audit/instances/{instance_id}/replay?at=999").status_code == 422

    # An event forged with a valid hash chain passes verify-history; replay shows it never happened.
    with services.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        forged = history.NewEvent(
            history.TASK_COMPLETED,
            "chu.tich",
            audited.clock(),
            {"input": {"granted": True}, "before": {}},
            task_id="forged-task",
            element_id="sign_decision",
        )
        rows, (seq, digest) = history.link_events(instance_id, (instance.history_seq, instance.history_hash), [forged])
        history.append_events(uow.session, rows)
        uow.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(history_seq=seq, history_hash=digest)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    assert audit_queries.verify_history(services).ok
    html = page_text(client.get(f"/audit/instances/{instance_id}/replay"))
    assert 'data-testid="replay-summary" data-ok="false"' in html
    assert f'data-testid="first-mismatch" data-seq="{seq}"' in html and "sign_decision" in html
    assert f'<tr data-seq="{seq}" data-ok="false">' in html


# --- exports ---------------------------------------------------------------------------------------


def test_the_json_export_reads_back_equal_to_the_stored_history_and_a_changed_one_fails(audited):
    client, instance_id = audited.client(), audited.instance_id
    response = client.get(f"/audit/instances/{instance_id}/history.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    imported = exports.import_history(text)
    with audited.services.session_factory() as session:
        stored = session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        ).all()
        instance = session.get(ProcessInstance, instance_id)
        assert imported.instance["history_hash"] == instance.history_hash
        assert imported.instance["business_key"] == audited.nomination_id
    assert len(imported.events) == len(stored) == audited.head()
    for mine, theirs in zip(imported.events, stored, strict=True):
        for name in exports.EVENT_FIELDS:
            assert getattr(mine, name) == getattr(theirs, name), (theirs.seq, name)

    def refused(document) -> exports.HistoryVerificationError:
        with pytest.raises(exports.HistoryVerificationError) as caught:
            exports.import_history(json.dumps(document))
        return caught.value

    document = json.loads(text)
    document["events"][2]["data"]["input"]["summary"] = "Thành tích được sửa sau"
    error = refused(document)
    assert error.seq == 3 and "event 3" in error.message
    document = json.loads(text)
    document["events"][4]["reason"] = "ghi thêm"
    assert refused(document).seq == 5
    document = json.loads(text)
    document["events"][3], document["events"][4] = document["events"][4], document["events"][3]
    assert refused(document).seq == 5  # the chain jumps where the events were swapped
    document = json.loads(text)
    del document["events"][-1]
    assert refused(document).seq == audited.head()  # the last event is gone
    for bad, named in (
        ("{", "not JSON"),
        ('{"format": "other"}', "not a thidua-history export"),
        (json.dumps(json.loads(text) | {"events": [{"seq": 1}]}), "lacks"),
    ):
        with pytest.raises(DomainError) as caught:
            exports.import_history(bad)
        assert caught.value.code == "invalid_export" and named in caught.value.message


def test_the_csv_export_has_every_field_of_every_event(audited):
    response = audited.client().get(f"/audit/instances/{audited.instance_id}/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    document = json.loads(
        exports.history_json(
            audited.services, principal_of_user(audited.services, AUDITOR), audited.instance_id, AUDITOR
        )
    )
    assert len(rows) == audited.head()
    for row, event in zip(rows, document["events"], strict=True):
        assert set(row) == set(exports.EVENT_FIELDS)
        assert json.loads(row["data"]) == event["data"]
        assert (row["seq"], row["hash"], row["prev_hash"], row["occurred_at"]) == (
            str(event["seq"]),
            event["hash"],
            event["prev_hash"],
            event["occurred_at"],
        )
        assert row["reason"] == (event["reason"] or "")


def test_the_campaign_decisions_workbook_reads_back(audited):
    response = audited.client().get(f"/audit/campaigns/{demo.CAMPAIGN}/decisions.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Decision", "Signed on", "Signed by") and len(header) == len(exports.XLSX_COLUMNS)
    by_code = {row[0]: dict(zip(exports.XLSX_COLUMNS, row, strict=True)) for row in rows}
    assert set(by_code) == {"1/QĐ-UBND", audited.decision_code}
    mine = by_code[audited.decision_code]
    assert mine["signed_on"] == datetime(2022, 11, 6)  # 6 November in Hanoi, read back as a date cell
    assert (mine["nominee"], mine["award_code"], mine["nomination_id"]) == (NOMINEE, "BK_TINH", audited.nomination_id)
    assert (mine["signed_by"], mine["status"], mine["kind"]) == ("Đinh Quốc Khải", "Published", "award")
    assert (mine["yes"], mine["no"], mine["abstain"], mine["present"]) == (6, 1, 1, len(MEMBERS))
    assert by_code["1/QĐ-UBND"]["yes"] is None  # the ad hoc route has no council vote
    assert audited.client().get("/audit/campaigns/NO_SUCH/decisions.xlsx").status_code == 404


def test_the_printable_report_shows_the_path_and_the_decision_on_a4(audited):
    client = audited.client()
    html = page_text(client.get(f"/audit/nominations/{audited.nomination_id}/report"))
    assert audited.decision_code in section(html, "decision-code")
    assert NOMINEE in html and RETURN_REASON in html and DELEGATION_REASON in html
    assert "audit/print.css" in html
    with client.get("/static/audit/print.css") as stylesheet:
        assert "size: A4" in stylesheet.get_data(as_text=True)
    assert client.get("/audit/nominations/no-such/report").status_code == 404


def test_secret_ballots_show_tallies_and_attendance_and_never_a_members_choice(audited):
    client, instance_id = audited.client(), audited.instance_id
    with audited.services.session_factory() as session:
        names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(MEMBERS))).all())
    pages = {
        "instance": page_text(client.get(f"/audit/instances/{instance_id}")),
        "report": page_text(client.get(f"/audit/nominations/{audited.nomination_id}/report")),
    }
    for label, html in pages.items():
        tally = section(html, "tally")
        assert [int(n) for n in re.findall(r'data-testid="tally-\w+">(\d+)<', tally)] == [6, 1, 1], label
        assert not any(name in tally or user in tally for user, name in names.items()), label
        attendance = section(html, "attendance")
        assert all(name in attendance for name in names.values()), label  # all 9 present
        # Member names appear in the attendance, and otherwise only as people who acted in a step.
        council = section(html, "council")
        assert (
            re.sub(r"<dl[^>]*data-testid=\"attendance\".*?</dl>", "", council, flags=re.S).count("Cao Xuân Thảo") == 0
        )

    document = json.loads(client.get(f"/audit/instances/{instance_id}/history.json").get_data(as_text=True))
    (vote_record,) = document["nomination"]["council"]
    assert {key: vote_record[key] for key in TALLY} == TALLY and vote_record["passed"] is True
    assert sorted(vote_record["present"]) == sorted(names.values()) and vote_record["absent"] == []
    assert set(vote_record) == set(records.CouncilVote.__dataclass_fields__)  # counts and names of attendees only
    (council_step,) = [e for e in document["events"] if e["element_id"] == "council_vote"]
    assert council_step["data"] == {"input": {}, "before": {"council_passed": None}, "facts": {"council_passed": True}}
    recorded = json.dumps([e["data"] for e in document["events"]], ensure_ascii=False)
    assert not any(user in recorded or name in recorded for user, name in names.items())
    csv_text = client.get(f"/audit/instances/{instance_id}/history.csv").data.decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(csv_text)):
        assert not any(user in row["data"] or name in row["data"] for user, name in names.items())


# --- who may look --------------------------------------------------------------------------------


def test_only_auditors_open_the_audit_pages(audited):
    values = {
        "instance_id": audited.instance_id,
        "nomination_id": audited.nomination_id,
        "campaign_id": demo.CAMPAIGN,
    }
    paths = []
    for rule in audited.app.url_map.iter_rules():
        if rule.endpoint.startswith("audit.") and "GET" in rule.methods:
            # A placeholder for arguments of other audit pages; one of the choices of an `any` converter.
            choices = {name: sorted(getattr(c, "items", ())) for name, c in rule._converters.items()}
            arguments = {name: values.get(name) or (choices.get(name) or ["x"])[0] for name in rule.arguments}
            paths.append(audited.app.url_map.bind("localhost").build(rule.endpoint, arguments))
    assert {"/audit/", f"/audit/instances/{audited.instance_id}/state"} <= set(paths)
    reviewer, visitor = audited.client("chuyen.vien.1"), audited.client(None)
    for path in paths:
        assert reviewer.get(path).status_code == 403, path
        response = visitor.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert 'data-testid="audit-link"' not in page_text(reviewer.get("/"))
    assert 'data-testid="audit-link"' in page_text(audited.client().get("/"))
