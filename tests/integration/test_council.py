"""Council sessions, quorum, recusal, secret-ballot tallies and bloc reviews, on both databases."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from engine.models import HistoryEvent
from web.database import SCHEMA
from workflows.awards.models import RuleFile, RuleSet
from workflows.council import blocs, sessions
from workflows.council.models import CouncilSession, ItemVoter, SessionAttendance, SessionItem
from workflows.errors import DomainError
from workflows.nominations.models import Campaign, Nomination, NoticeComment
from workflows.org.models import Bloc, BlocMember, Council, CouncilMember, Jurisdiction, Unit, User

DECISIONS = Path(__file__).resolve().parents[2] / "bpmn" / "decisions"
PROVINCE = "NAM_DINH"
WHEN = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 17, 2, 0, tzinfo=timezone.utc)

UNITS = (
    "VP_UBND",
    "SO_NOI_VU",
    "LIEN_DOAN_LD",
    "MAT_TRAN",
    "SO_GIAO_DUC",
    "SO_Y_TE",
    "SO_TAI_CHINH",
    "SO_XAY_DUNG",
    "SO_CONG_THUONG",
    "TRUONG_THPT",
    "UBND_XA_A",
)
# A council of 9: (user id, position, unit the member comes from)
MEMBERS = (
    ("cm_chair", "chair", "VP_UBND"),
    ("cm_standing", "standing_vice_chair", "SO_NOI_VU"),
    ("cm_vice_ldld", "vice_chair", "LIEN_DOAN_LD"),
    ("cm_vice_mttq", "vice_chair", "MAT_TRAN"),
    ("cm_giao_duc", "member", "SO_GIAO_DUC"),
    ("cm_y_te", "member", "SO_Y_TE"),
    ("cm_tai_chinh", "member", "SO_TAI_CHINH"),
    ("cm_xay_dung", "member", "SO_XAY_DUNG"),
    ("cm_expert", "member", None),
)
MEMBER_IDS = [user_id for user_id, _position, _unit in MEMBERS]
# (nomination id, award, nominating unit, nominee unit)
NOMINATIONS = (
    ("n_cstd_giao_duc", "CSTD_TINH", "SO_GIAO_DUC", "SO_GIAO_DUC"),
    ("n_bk_y_te", "BK_TINH", "SO_Y_TE", "SO_Y_TE"),
    ("n_ttldxs_truong", "TTLDXS", "SO_GIAO_DUC", "TRUONG_THPT"),
    ("n_bk_xa", "BK_TINH", "UBND_XA_A", "UBND_XA_A"),
)
RULES_ALL, RULES_PRESENT = "RS_2025", "RS_2025_PRESENT"


def run(services, operation, *args, **kwargs):
    with services.uow() as uow:
        result = operation(uow, *args, **kwargs)
        uow.commit()
    return result


def refused(services, code: str, operation, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        run(services, operation, *args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert caught.value.message
    return caught.value.message


def add_rule_set(session, rule_set_id: str, valid_from: date, denominator: str = "ALL") -> None:
    session.add(RuleSet(id=rule_set_id, jurisdiction_id=PROVINCE, name=rule_set_id, valid_from=valid_from))
    session.flush()
    for name in sessions.VOTE_RULE_FILES:
        content = (DECISIONS / name).read_text(encoding="utf-8")
        if name == "council_vote_rules.dmn":
            content = content.replace('"ALL"', f'"{denominator}"')
        session.add(RuleFile(rule_set_id=rule_set_id, name=name, content=content))


@pytest.fixture
def org(services):
    """The province, its units, a council of 9, two rule sets (ALL / PRESENT) and nominations."""
    with services.uow() as uow:
        session = uow.session
        session.add(Jurisdiction(id=PROVINCE, name="Tỉnh Nam Định", level="province", decision_suffix="QĐ-UBND"))
        session.flush()
        session.add_all(Unit(id=unit_id, name=unit_id, jurisdiction_id=PROVINCE) for unit_id in UNITS)
        session.flush()
        session.add_all(
            User(id=user_id, username=user_id, full_name=user_id, unit_id=unit_id)
            for user_id, _position, unit_id in MEMBERS
        )
        session.add(User(id="secretary", username="secretary", full_name="secretary", unit_id="SO_NOI_VU"))
        session.add(User(id="stranger", username="stranger", full_name="stranger", unit_id="UBND_XA_A"))
        session.add(Council(id="HD_TINH", name="Hội đồng TĐKT tỉnh", jurisdiction_id=PROVINCE))
        session.flush()
        session.add_all(
            CouncilMember(council_id="HD_TINH", user_id=user_id, position=position, unit_id=unit_id)
            for user_id, position, unit_id in MEMBERS
        )
        add_rule_set(session, RULES_ALL, date(2025, 1, 1))
        add_rule_set(session, RULES_PRESENT, date(2025, 6, 1), denominator="PRESENT")
        session.add(
            Campaign(
                id="PT_2025",
                jurisdiction_id=PROVINCE,
                name="Phong trào thi đua 2025",
                theme="Đoàn kết, kỷ cương",
                year=2025,
                registration_deadline=date(2025, 3, 31),
            )
        )
        session.flush()
        session.add_all(
            Nomination(
                id=nomination_id,
                campaign_id="PT_2025",
                rule_set_id=RULES_ALL,
                award_code=award_code,
                route="merit",
                nominee_unit_id=nominee_unit,
                nominating_unit_id=nominating_unit,
                achievement_year=2025,
                summary="-",
                status="APPRAISED",
                created_by="secretary",
                created_at=WHEN,
            )
            for nomination_id, award_code, nominating_unit, nominee_unit in NOMINATIONS
        )
        uow.commit()
    return services


def all_nominations() -> list[str]:
    return [nomination_id for nomination_id, *_rest in NOMINATIONS]


def held_session(services, nomination_ids, present=MEMBER_IDS, rule_set_id=RULES_ALL) -> str:
    session_id = run(services, sessions.schedule_session, "HD_TINH", WHEN, rule_set_id, nomination_ids)
    assert run(services, sessions.record_attendance, session_id, present).has_quorum
    return session_id


def voters(services, session_id: str, nomination_id: str) -> dict[str, ItemVoter]:
    with services.session_factory() as session:
        rows = session.scalars(
            select(ItemVoter)
            .join(SessionItem, SessionItem.id == ItemVoter.item_id)
            .where(SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id)
        ).all()
        return {row.user_id: row for row in rows}


def item(services, session_id: str, nomination_id: str) -> SessionItem:
    with services.session_factory() as session:
        return session.scalars(
            select(SessionItem).where(SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id)
        ).one()


def status(services, session_id: str) -> str:
    with services.session_factory() as session:
        return session.get(CouncilSession, session_id).status


# --- sessions, quorum, recusal ---------------------------------------------------------------


def test_a_session_batches_nominations_and_records_recusals(org):
    session_id = run(org, sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, all_nominations())
    assert status(org, session_id) == "planned"
    recused = set()
    for nomination_id in all_nominations():
        rows = voters(org, session_id, nomination_id)
        assert sorted(rows) == sorted(MEMBER_IDS)
        assert not any(row.has_voted for row in rows.values())
        recused |= {(nomination_id, user_id) for user_id, row in rows.items() if row.recused}
    # Separation of duties 3: own unit as nominee or as nominating unit.
    assert recused == {
        ("n_cstd_giao_duc", "cm_giao_duc"),
        ("n_bk_y_te", "cm_y_te"),
        ("n_ttldxs_truong", "cm_giao_duc"),
    }


def test_scheduling_refuses_unknown_council_empty_agenda_and_passed_nominations(org):
    refused(org, "council_not_found", sessions.schedule_session, "NOPE", WHEN, RULES_ALL, ["n_bk_xa"])
    refused(org, "empty_agenda", sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, [])
    refused(org, "nomination_not_found", sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, ["n_bk_xa", "nope"])
    refused(org, "rule_set_not_found", sessions.schedule_session, "HD_TINH", WHEN, "NOPE", ["n_bk_xa"])

    session_id = run(org, sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, ["n_bk_xa"])
    refused(org, "nomination_already_scheduled", sessions.schedule_session, "HD_TINH", LATER, RULES_ALL, ["n_bk_xa"])
    run(org, sessions.record_attendance, session_id, MEMBER_IDS)
    assert run(org, sessions.record_tally, session_id, "n_bk_xa", 9, 0, 0, MEMBER_IDS).passed
    agenda = ["n_bk_y_te", "n_bk_xa"]
    message = refused(org, "nomination_already_passed", sessions.schedule_session, "HD_TINH", LATER, RULES_ALL, agenda)
    assert "n_bk_xa" in message


def test_quorum_met_holds_the_session_and_records_every_member(org):
    session_id = run(org, sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, all_nominations())
    result = run(org, sessions.record_attendance, session_id, MEMBER_IDS[:6])
    assert result == sessions.QuorumResult(present=6, members=9, required=6, has_quorum=True)
    assert status(org, session_id) == "held"
    with org.session_factory() as session:
        attendance = {
            row.user_id: row.present
            for row in session.scalars(select(SessionAttendance).where(SessionAttendance.session_id == session_id))
        }
    assert attendance == {user_id: user_id in MEMBER_IDS[:6] for user_id in MEMBER_IDS}
    refused(org, "not_a_council_member", sessions.record_attendance, session_id, ["cm_chair", "stranger"])


def test_without_quorum_nothing_is_voted_and_the_agenda_moves_to_a_new_session(org):
    session_id = run(org, sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, all_nominations())
    result = run(org, sessions.record_attendance, session_id, MEMBER_IDS[:5])
    assert result == sessions.QuorumResult(present=5, members=9, required=6, has_quorum=False)
    assert status(org, session_id) == "no_quorum"
    refused(org, "session_without_quorum", sessions.record_tally, session_id, "n_bk_xa", 5, 0, 0, MEMBER_IDS[:5])
    refused(org, "session_without_quorum", sessions.record_attendance, session_id, MEMBER_IDS)

    new_id = run(org, sessions.reschedule_session, session_id, LATER)
    assert new_id != session_id
    with org.session_factory() as session:
        new_session = session.get(CouncilSession, new_id)
        assert (new_session.status, new_session.scheduled_for, new_session.rule_set_id) == ("planned", LATER, RULES_ALL)
        agendas = {
            sid: sorted(session.scalars(select(SessionItem.nomination_id).where(SessionItem.session_id == sid)))
            for sid in (session_id, new_id)
        }
    assert agendas == {session_id: sorted(all_nominations()), new_id: sorted(all_nominations())}
    assert status(org, session_id) == "no_quorum"  # kept as the record
    assert voters(org, new_id, "n_bk_y_te")["cm_y_te"].recused

    refused(org, "nomination_already_scheduled", sessions.reschedule_session, session_id, LATER)
    refused(org, "session_not_reschedulable", sessions.reschedule_session, new_id, LATER)
    assert run(org, sessions.record_attendance, new_id, MEMBER_IDS).has_quorum
    assert run(org, sessions.record_tally, new_id, "n_bk_xa", 5, 4, 0, MEMBER_IDS).passed


def test_a_recused_member_cannot_cast_a_ballot(org):
    session_id = held_session(org, ["n_cstd_giao_duc"])
    message = refused(org, "voter_recused", sessions.record_tally, session_id, "n_cstd_giao_duc", 9, 0, 0, MEMBER_IDS)
    assert "cm_giao_duc" in message
    eligible = [user_id for user_id in MEMBER_IDS if user_id != "cm_giao_duc"]
    result = run(org, sessions.record_tally, session_id, "n_cstd_giao_duc", 8, 0, 0, eligible)
    assert (result.passed, result.eligible) == (True, 8)
    rows = voters(org, session_id, "n_cstd_giao_duc")
    assert rows["cm_giao_duc"].recused and not rows["cm_giao_duc"].has_voted
    assert all(rows[user_id].has_voted for user_id in eligible)


# Seven present (two absent); cm_giao_duc is present but recused from the CSTD_TINH nomination.
PRESENT = ["cm_chair", "cm_standing", "cm_vice_ldld", "cm_vice_mttq", "cm_giao_duc", "cm_y_te", "cm_tai_chinh"]
BALLOTS = [user_id for user_id in PRESENT if user_id != "cm_giao_duc"]


def test_the_same_counts_fail_on_all_members_and_pass_on_those_present(org):
    # ALL: 6 yes of 8 non-recused members < 90 %; PRESENT: 6 of 6 present non-recused >= 90 %.
    on_all = held_session(org, ["n_cstd_giao_duc"], present=PRESENT, rule_set_id=RULES_ALL)
    failed = run(org, sessions.record_tally, on_all, "n_cstd_giao_duc", 6, 0, 0, BALLOTS)
    assert failed == sessions.TallyResult(
        passed=False, yes=6, no=0, abstain=0, eligible=8, threshold=Fraction(9, 10), denominator="ALL", strict=False
    )
    on_present = held_session(org, ["n_cstd_giao_duc"], present=PRESENT, rule_set_id=RULES_PRESENT)
    passed = run(org, sessions.record_tally, on_present, "n_cstd_giao_duc", 6, 0, 0, BALLOTS)
    assert (passed.passed, passed.eligible, passed.denominator) == (True, 6, "PRESENT")

    stored = [item(org, sid, "n_cstd_giao_duc") for sid in (on_all, on_present)]
    assert [(row.yes, row.no, row.abstain, row.threshold, row.denominator, row.passed) for row in stored] == [
        (6, 0, 0, ">= 0.9", "ALL", False),
        (6, 0, 0, ">= 0.9", "PRESENT", True),
    ]


def test_a_simple_majority_must_exceed_half_of_all_members(org):
    session_id = held_session(org, ["n_bk_y_te", "n_bk_xa"])
    eligible = [user_id for user_id in MEMBER_IDS if user_id != "cm_y_te"]
    half = run(org, sessions.record_tally, session_id, "n_bk_y_te", 4, 3, 1, eligible)
    assert (half.passed, half.eligible, half.threshold, half.strict) == (False, 8, Fraction(1, 2), True)
    majority = run(org, sessions.record_tally, session_id, "n_bk_xa", 5, 4, 0, MEMBER_IDS)
    assert (majority.passed, majority.eligible) == (True, 9)
    assert item(org, session_id, "n_bk_xa").threshold == "> 0.5"


def test_tallies_are_validated(org):
    planned = run(org, sessions.schedule_session, "HD_TINH", WHEN, RULES_ALL, ["n_ttldxs_truong"])
    refused(org, "session_not_held", sessions.record_tally, planned, "n_ttldxs_truong", 1, 0, 0, ["cm_chair"])
    refused(org, "session_not_found", sessions.record_tally, "nope", "n_bk_xa", 1, 0, 0, ["cm_chair"])

    session_id = held_session(org, ["n_bk_xa"], present=MEMBER_IDS[:7])
    tally = sessions.record_tally
    refused(org, "nomination_not_on_agenda", tally, session_id, "n_bk_y_te", 1, 0, 0, ["cm_chair"])
    assert "yes" in refused(org, "invalid_tally", tally, session_id, "n_bk_xa", -1, 2, 0, ["cm_chair"])
    refused(org, "invalid_tally", tally, session_id, "n_bk_xa", 1.0, 0, 0, ["cm_chair"])
    message = refused(org, "tally_mismatch", tally, session_id, "n_bk_xa", 3, 1, 0, MEMBER_IDS[:3])
    assert "4" in message and "3" in message
    refused(org, "duplicate_voter", tally, session_id, "n_bk_xa", 2, 0, 0, ["cm_chair", "cm_chair"])
    assert "cm_expert" in refused(org, "voter_absent", tally, session_id, "n_bk_xa", 1, 0, 0, ["cm_expert"])
    refused(org, "not_a_council_member", tally, session_id, "n_bk_xa", 1, 0, 0, ["stranger"])
    assert not any(row.has_voted for row in voters(org, session_id, "n_bk_xa").values())

    assert not run(org, tally, session_id, "n_bk_xa", 4, 2, 1, MEMBER_IDS[:7]).passed  # 4 of 9
    refused(org, "tally_already_recorded", tally, session_id, "n_bk_xa", 7, 0, 0, MEMBER_IDS[:7])
    refused(org, "attendance_locked", sessions.record_attendance, session_id, MEMBER_IDS)


def test_unresolved_public_notice_comments_block_the_vote(org):
    with org.uow() as uow:
        uow.session.add(NoticeComment(nomination_id="n_cstd_giao_duc", text="-", received_at=WHEN))
        uow.commit()
    session_id = held_session(org, ["n_cstd_giao_duc"])
    eligible = [user_id for user_id in MEMBER_IDS if user_id != "cm_giao_duc"]
    refused(org, "notice_comments_unresolved", sessions.record_tally, session_id, "n_cstd_giao_duc", 8, 0, 0, eligible)


def test_a_province_without_vote_rules_cannot_schedule(org):
    with org.uow() as uow:
        uow.session.add(RuleSet(id="RS_EMPTY", jurisdiction_id=PROVINCE, name="-", valid_from=date(2026, 1, 1)))
        uow.commit()
    message = refused(org, "vote_rules_missing", sessions.schedule_session, "HD_TINH", WHEN, "RS_EMPTY", ["n_bk_xa"])
    assert "council_vote_rules.dmn" in message


CHOICE_WORDS = ("choice", "vote_value", "ballot")
CHOICE_VALUES = {"yes", "no", "abstain", "for", "against", "đồng ý", "không đồng ý"}


def test_no_table_or_history_row_can_tell_who_voted_how(org):
    session_id = held_session(org, all_nominations(), present=PRESENT)
    for nomination_id in all_nominations():
        ballots = [user_id for user_id in BALLOTS if not voters(org, session_id, nomination_id)[user_id].recused]
        run(org, sessions.record_tally, session_id, nomination_id, len(ballots) - 2, 1, 1, ballots)

    with org.database.connect() as connection:
        inspector = inspect(connection)
        assert {column["name"] for column in inspector.get_columns("item_voter")} == {
            "item_id",
            "user_id",
            "recused",
            "has_voted",
        }
        assert {column["name"] for column in inspector.get_columns("session_attendance")} == {
            "session_id",
            "user_id",
            "present",
        }
        for table in SCHEMA.sorted_tables:
            names = [column["name"] for column in inspector.get_columns(table.name)]
            assert not [name for name in names if any(word in name.lower() for word in CHOICE_WORDS)], table.name
            for row in connection.execute(table.select()):
                cells = [json.dumps(cell, default=str) if isinstance(cell, (dict, list)) else str(cell) for cell in row]
                if any(user_id in cell for cell in cells for user_id in MEMBER_IDS):
                    assert not CHOICE_VALUES & {cell.strip().lower() for cell in cells}, (table.name, row)
        for event in connection.execute(select(HistoryEvent.data)):
            assert not [user_id for user_id in MEMBER_IDS if user_id in json.dumps(event.data)]


# --- blocs -------------------------------------------------------------------------------------

BLOC_UNITS = ("SO_GIAO_DUC", "SO_Y_TE", "SO_TAI_CHINH", "SO_XAY_DUNG", "SO_CONG_THUONG")
CRITERIA = [("NHIEM_VU", "Thực hiện nhiệm vụ chính trị", 60), ("PHONG_TRAO", "Tổ chức phong trào thi đua", 40)]
# scorer -> scored -> (NHIEM_VU, PHONG_TRAO); each unit also scores itself.
SHEETS = {
    "SO_GIAO_DUC": {"SO_GIAO_DUC": (60, 40), "SO_Y_TE": (50, 30), "SO_TAI_CHINH": (40, 30), "SO_XAY_DUNG": (30, 20)},
    "SO_Y_TE": {"SO_GIAO_DUC": (45, 30), "SO_Y_TE": (45, 30), "SO_TAI_CHINH": (50, 30), "SO_XAY_DUNG": (30, 25)},
    "SO_TAI_CHINH": {"SO_GIAO_DUC": (50, 30), "SO_Y_TE": (50, 35), "SO_TAI_CHINH": (60, 40), "SO_XAY_DUNG": (35, 20)},
    "SO_XAY_DUNG": {"SO_GIAO_DUC": (40, 30), "SO_Y_TE": (50, 30), "SO_TAI_CHINH": (45, 30), "SO_XAY_DUNG": (40, 30)},
    "SO_CONG_THUONG": {"SO_CONG_THUONG": (60, 40)},
}


@pytest.fixture
def bloc(org) -> str:
    with org.uow() as uow:
        uow.session.add(Bloc(id="KHOI_SO", name="Khối các sở", kind="sector", jurisdiction_id=PROVINCE))
        uow.session.flush()
        for year in (2025, 2026):
            uow.session.add_all(
                BlocMember(bloc_id="KHOI_SO", unit_id=unit_id, year=year, is_head=unit_id == "SO_Y_TE")
                for unit_id in BLOC_UNITS
            )
        uow.commit()
    return "KHOI_SO"


def sheet(scores: tuple[int, int]) -> dict[str, int]:
    return {"NHIEM_VU": scores[0], "PHONG_TRAO": scores[1]}


def test_bloc_ranking_counts_peers_only_and_shows_self_scores(org, bloc):
    run(org, blocs.set_bloc_criteria, bloc, 2025, CRITERIA)
    for scorer, scored in SHEETS.items():
        run(org, blocs.record_bloc_scores, bloc, 2025, scorer, {unit: sheet(s) for unit, s in scored.items()})

    ranking = run(org, blocs.bloc_ranking, bloc, 2025)
    # With its own 100 counted, SO_GIAO_DUC (81.25) would overtake SO_Y_TE (80).
    order = ["SO_Y_TE", "SO_GIAO_DUC", "SO_TAI_CHINH", "SO_XAY_DUNG", "SO_CONG_THUONG"]
    assert [unit.unit_id for unit in ranking] == order
    by_unit = {unit.unit_id: unit for unit in ranking}
    assert by_unit["SO_Y_TE"].peer_average == pytest.approx(245 / 3)
    assert by_unit["SO_Y_TE"].self_score == 75
    assert by_unit["SO_Y_TE"].self_score_gap == pytest.approx(75 - 245 / 3)
    assert (by_unit["SO_GIAO_DUC"].peer_average, by_unit["SO_GIAO_DUC"].self_score) == (75, 100)
    assert by_unit["SO_GIAO_DUC"].self_score_gap == 25
    # Separation of duties 4: a unit scored only by itself gets no average.
    assert by_unit["SO_CONG_THUONG"] == blocs.RankedUnit("SO_CONG_THUONG", None, 100, None)

    # A sheet recorded again replaces the earlier one.
    run(org, blocs.record_bloc_scores, bloc, 2025, "SO_XAY_DUNG", {"SO_GIAO_DUC": sheet((60, 40))})
    by_unit = {unit.unit_id: unit for unit in run(org, blocs.bloc_ranking, bloc, 2025)}
    assert by_unit["SO_GIAO_DUC"].peer_average == 85


def test_bloc_scores_are_validated(org, bloc):
    scores = blocs.record_bloc_scores
    refused(org, "bloc_criteria_missing", scores, bloc, 2025, "SO_Y_TE", {"SO_Y_TE": sheet((1, 1))})
    refused(org, "invalid_criteria", blocs.set_bloc_criteria, bloc, 2025, [("A", "a", 10), ("A", "b", 5)])
    refused(org, "invalid_criteria", blocs.set_bloc_criteria, bloc, 2025, [("A", "a", 0)])
    refused(org, "bloc_not_found", blocs.set_bloc_criteria, "NOPE", 2025, CRITERIA)
    run(org, blocs.set_bloc_criteria, bloc, 2025, CRITERIA)
    refused(org, "not_a_bloc_member", scores, bloc, 2025, "UBND_XA_A", {"SO_Y_TE": sheet((1, 1))})
    refused(org, "not_a_bloc_member", scores, bloc, 2025, "SO_Y_TE", {"UBND_XA_A": sheet((1, 1))})
    refused(org, "score_out_of_range", scores, bloc, 2025, "SO_Y_TE", {"SO_GIAO_DUC": sheet((61, 1))})
    refused(org, "score_out_of_range", scores, bloc, 2025, "SO_Y_TE", {"SO_GIAO_DUC": sheet((-1, 1))})
    refused(org, "incomplete_score_sheet", scores, bloc, 2025, "SO_Y_TE", {"SO_GIAO_DUC": {"NHIEM_VU": 10}})
    run(org, scores, bloc, 2025, "SO_Y_TE", {"SO_GIAO_DUC": sheet((50, 30))})
    refused(org, "bloc_already_scored", blocs.set_bloc_criteria, bloc, 2025, CRITERIA)


def test_bloc_vote_returns_the_leader_or_none_on_a_tie(org, bloc):
    leader = run(org, blocs.record_bloc_vote, bloc, 2025, {"SO_Y_TE": 3, "SO_GIAO_DUC": 1, "SO_TAI_CHINH": 1})
    assert leader == "SO_Y_TE"
    refused(org, "bloc_vote_already_recorded", blocs.record_bloc_vote, bloc, 2025, {"SO_Y_TE": 5})
    refused(org, "not_a_bloc_member", blocs.record_bloc_vote, bloc, 2026, {"UBND_XA_A": 5})
    refused(org, "invalid_tally", blocs.record_bloc_vote, bloc, 2026, {"SO_Y_TE": -1})
    assert run(org, blocs.record_bloc_vote, bloc, 2026, {"SO_Y_TE": 2, "SO_GIAO_DUC": 2, "SO_XAY_DUNG": 1}) is None
