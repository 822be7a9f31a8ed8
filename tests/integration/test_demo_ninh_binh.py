"""The Ninh Bình 2026 demo (what `make run` loads), on SQLite and PostgreSQL: two tiers of local
government, units under sở, the merged units' history in the register, people whose records come
from the register, a unit officer who nominates their staff; and the Nam Định demo beside it."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.databases import ROOT
from workflows.accounts.services import principal_of_user
from workflows.demo import ninh_binh, province
from workflows.demo.queries import demo_users
from workflows.demo.services import load_demo
from workflows.inbox import queries
from workflows.nominations import creation
from workflows.nominations.models import Nomination
from workflows.org.lineage import lineage
from workflows.org.models import Jurisdiction, Unit, User


def test_the_2026_demo_loads_once_on_the_merged_map(services):
    summary = load_demo(services, ROOT / "bpmn", "ninh-binh-2026")
    assert "demo province added: 8 units, 2 blocs" in summary
    assert "demo province present" in load_demo(services, ROOT / "bpmn", "ninh-binh-2026")
    with services.session_factory() as session:
        communes = session.scalars(select(Jurisdiction.level).where(Jurisdiction.parent_id == "NINH_BINH")).all()
        assert communes == ["commune"] * 3
        assert session.get(Unit, "BVDK_NB").parent_id == "SYT_NB"
        assert lineage(session, "SYT_NB") == {"SYT_NB", "SYT_ND_CU", "SYT_HN_CU", "SYT_NB_CU"}
        assert session.scalar(select(func.count()).select_from(Nomination)) == 2
    listing = demo_users(services, "ninh-binh-2026")
    assert listing["password"] == ninh_binh.DEMO_PASSWORD
    assert {"quantri", "chutich", "tdkt.bvdk"} <= {user["username"] for user in listing["users"]}


def test_the_register_holds_the_merged_units_history_and_the_peoples_records(services):
    load_demo(services, ROOT / "bpmn", "ninh-binh-2026")
    board = principal_of_user(services, "chuyenvien")
    ward = queries.awards_received(services, board, "unit", "UB_NAM_DINH")
    assert [(e.year, e.award_code, e.received_by) for e in ward.entries] == [(2024, "TTLDXS", "UB_TP_ND_CU")]
    nurse = queries.awards_received(services, board, "person", "nb-dieu-duong-an")
    assert {(e.year, e.award_code) for e in nurse.entries} == {(2023, "LDTT"), (2024, "LDTT"), (2024, "CSTDCS")}


def test_a_unit_officer_nominates_their_staff_for_the_2026_campaign(services):
    load_demo(services, ROOT / "bpmn", "ninh-binh-2026")
    nomination = services.in_transaction(
        creation.create_nomination,
        "tdkt.bvdk",
        campaign_id=ninh_binh.CAMPAIGN,
        award_code="LDTT",
        nominating_unit_id="BVDK_NB",
        year=ninh_binh.YEAR,
        person_id="nb-bac-si-cuong",
    )
    assert (nomination.rule_set_id, nomination.nominee_unit_id) == (ninh_binh.RULE_SET, "BVDK_NB")


def test_both_demos_live_in_one_database(services):
    load_demo(services, ROOT / "bpmn", "ninh-binh-2026")
    assert "demo province added" in load_demo(services, ROOT / "bpmn", "nam-dinh-2022")
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(ninh_binh.USERS) + len(province.USERS)
