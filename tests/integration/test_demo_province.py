"""The demo province: every award's eligibility passes for someone and fails for someone."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.integration.test_cli import ROOT
from workflows.awards import eligibility as awards
from workflows.demo import province as demo
from workflows.demo.queries import demo_users
from workflows.demo.services import load_demo
from workflows.nominations.models import Nomination

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
def loaded(services):
    """The demo loaded by this test's fixture (the test clock at its start), not from the template."""
    load_demo(services, ROOT / "bpmn")
    return services


def eligible(services, award, *, person_id=None, unit_id=None) -> bool:
    with services.uow() as uow:
        report = awards.check_eligibility(
            uow,
            services.runtime.evaluator,
            demo.RULE_SET,
            award,
            person_id=person_id,
            unit_id=unit_id,
            year=demo.YEAR,
            as_of=date(2022, 11, 15),
        )
    return report.eligible


def test_every_award_passes_for_someone_and_fails_for_someone(loaded):
    outcomes = {}
    for nominee in demo.NOMINEES:
        assert eligible(loaded, nominee.award, person_id=nominee.id) is nominee.eligible, nominee.id
        outcomes.setdefault(nominee.award, set()).add(nominee.eligible)
    for unit, award, expected in demo.UNIT_AWARDS:
        assert eligible(loaded, award, unit_id=unit) is expected, (unit, award)
        outcomes.setdefault(award, set()).add(expected)
    assert len(outcomes) == 11 and all(seen == {True, False} for seen in outcomes.values())


def test_council_has_nine_members_and_every_role_is_held(loaded):
    listing = demo_users(loaded)
    assert sum(1 for user in demo.USERS if user.council_position) == 9
    assert len(listing["users"]) >= 25


def test_demo_nominations_stand_at_several_steps(loaded):
    with loaded.session_factory() as session:
        statuses = {n.award_code: n.status for n in session.scalars(select(Nomination))}
    assert statuses == {
        "LDTT": "DRAFT",
        "CSTDCS": "BLOC_REVIEW",
        "BK_TINH": "RECEIVED",
        "CSTD_TINH": "APPRAISED",
        "GIAY_KHEN": "PUBLISHED",
    }
