"""The award register and honest nominations, on the demo province (SQLite and PostgreSQL): a
signed decision writes the awardee's record, which next year's eligibility reads, and a revoked
one stops counting; a merged unit keeps its predecessors' awards and members; a nominee has one
open nomination per award and year; a unit nominates only the people it employed during the year,
and itself as a collective."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from tests.integration.test_nomination_scenarios import (
    add_person,
    bk_tinh_candidate,
    council_session,
    nominate,
    step,
    submit_and_appraise,
    vote,
)
from workflows.demo import province as demo
from workflows.errors import DomainError, DuplicateNominationError
from workflows.nominations import creation, steps
from workflows.nominations.models import Nomination
from workflows.nominees import people
from workflows.nominees.features import person_features, unit_features
from workflows.nominees.models import AchievementRecord, Employment
from workflows.org.models import Unit, UnitSuccession

AS_OF = date(2023, 12, 1)


def decided(services, person_id: str) -> str:
    """A BK_TINH 2022 nomination of the person, through the council, signed by the chairman."""
    nomination_id = nominate(services, person_id)
    submit_and_appraise(services, nomination_id)
    vote(services, council_session(services, [nomination_id]), nomination_id, yes=8)
    step(services, nomination_id, "sign_decision", "chu.tich")
    step(services, nomination_id, "notify_result", "chuyen.vien.2")
    return nomination_id


def records(services, person_id: str) -> list[AchievementRecord]:
    with services.session_factory() as session:
        return list(session.scalars(select(AchievementRecord).where(AchievementRecord.subject_id == person_id)))


def holds_bk_tinh(services, person_id: str, year: int) -> bool:
    with services.session_factory() as session:
        return person_features(session, person_id, year, AS_OF)["holds_bk_tinh"]


def test_a_signed_decision_enters_the_register_and_counts_the_next_year(province):
    person_id = bk_tinh_candidate(province)
    assert not holds_bk_tinh(province, person_id, 2023)
    nomination_id = decided(province, person_id)

    (record,) = [r for r in records(province, person_id) if r.award_code == "BK_TINH"]
    assert (record.year, record.decision_code, record.decider_level, record.nomination_id) == (
        2022,
        "2/QĐ-UBND",  # the demo signed 1/QĐ-UBND
        "province_chair",
        nomination_id,
    )
    assert record.counts_for_merit and record.revoked_on is None and record.decided_on is not None
    assert holds_bk_tinh(province, person_id, 2023)


def test_a_revoked_decision_stays_in_the_register_and_counts_for_nothing(province):
    person_id = bk_tinh_candidate(province)
    nomination_id = decided(province, person_id)
    province.in_transaction(steps.start_revocation, "chuyen.vien.1", nomination_id)
    step(province, nomination_id, "prepare_revocation", "chuyen.vien.1", {"ground": "false_documents", "reason": "Giả"})
    step(province, nomination_id, "sign_revocation", "chu.tich", {"revoke": True})

    (record,) = [r for r in records(province, person_id) if r.award_code == "BK_TINH"]
    assert record.revoked_by == "3/QĐ-UBND" and record.revoked_on is not None
    assert not holds_bk_tinh(province, person_id, 2023)


def test_the_same_nominee_award_and_year_is_refused_with_the_open_nomination(province):
    person_id = bk_tinh_candidate(province)
    first = nominate(province, person_id)
    with pytest.raises(DuplicateNominationError) as refused:
        nominate(province, person_id)
    assert refused.value.details == {"nomination_id": first}
    nominate(province, person_id, award="LDTT")  # another award of the same year is another nomination


def test_a_rejected_nomination_frees_the_nominee_for_a_new_one(province):
    person_id = bk_tinh_candidate(province)
    first = nominate(province, person_id)
    with province.uow() as uow:
        uow.session.get(Nomination, first).status = "REJECTED"
        uow.commit()
    assert nominate(province, person_id) != first


def test_two_officers_racing_to_nominate_the_same_person_make_one_nomination(province):
    person_id = bk_tinh_candidate(province)
    barrier, outcomes = threading.Barrier(2), []

    def attempt():
        barrier.wait()
        try:
            outcomes.append(nominate(province, person_id))
        except DuplicateNominationError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert len(made) == 1 and len(outcomes) == 2
    with province.session_factory() as session:
        assert session.scalars(select(Nomination.id).where(Nomination.person_id == person_id)).all() == made


def test_a_unit_nominates_only_the_people_it_employed_that_year(province):
    person_id = add_person(province, "SO_Y_TE", ratings={2022: "HTXSNV"})
    with pytest.raises(DomainError) as refused:
        nominate(province, person_id, award="LDTT", unit="SO_GD_DT", officer="tdkt.giao.duc")
    assert refused.value.code == "nominee_outside_unit"
    # Moved to Education in March 2022: both units employed them during 2022.
    with province.uow() as uow:
        (employment,) = uow.session.scalars(select(Employment).where(Employment.person_id == person_id))
        employment.ended_on = date(2022, 2, 28)
        uow.session.add(Employment(person_id=person_id, unit_id="SO_GD_DT", started_on=date(2022, 3, 1)))
        uow.commit()
    nomination_id = nominate(province, person_id, award="LDTT", unit="SO_GD_DT", officer="tdkt.giao.duc")
    with province.session_factory() as session:
        assert session.get(Nomination, nomination_id).nominee_unit_id == "SO_GD_DT"


def test_a_unit_cannot_nominate_another_collective(province):
    with pytest.raises(DomainError) as refused:
        province.in_transaction(
            creation.create_nomination,
            "tdkt.y.te",
            campaign_id=demo.CAMPAIGN,
            award_code="TTLDTT",
            nominating_unit_id="SO_Y_TE",
            year=demo.YEAR,
            unit_id="SO_GD_DT",
        )
    assert refused.value.code == "nominee_outside_unit"


def test_a_merged_unit_keeps_its_predecessors_awards_and_members(province):
    """Nam Trực (2024) merged into a new commune in 2025, which merged again in 2026: the newest
    unit's 2024 history is Nam Trực's, its Cờ and its members alike."""
    with province.uow() as uow:
        session = uow.session
        session.add_all(
            [
                Unit(id="NAM_TRUC", name="Xã Nam Trực", jurisdiction_id=demo.PROVINCE, valid_to=date(2025, 6, 30)),
                Unit(id="NAM_MOI", name="Xã Nam Mới", jurisdiction_id=demo.PROVINCE, valid_from=date(2025, 7, 1)),
                Unit(id="NAM_HOP", name="Xã Nam Hợp", jurisdiction_id=demo.PROVINCE, valid_from=date(2026, 1, 1)),
            ]
        )
        session.flush()
        for number in (1, 2):
            people.add_person(
                session,
                person_id=f"nam-truc-{number}",
                full_name=f"Cán bộ {number} xã Nam Trực",
                unit_id="NAM_TRUC",
                recruited_on=date(2018, 1, 1),
            )
            session.add(
                AchievementRecord(subject_kind="person", subject_id=f"nam-truc-{number}", year=2024, award_code="LDTT")
            )
        session.add(AchievementRecord(subject_kind="unit", subject_id="NAM_TRUC", year=2024, award_code="CO_TINH"))
        uow.commit()

    def features_2024(unit_id):
        with province.session_factory() as session:
            found = unit_features(session, unit_id, 2024, AS_OF)
        return found["members"], found["ldtt_percent"], found["holds_co_tinh"]

    assert features_2024("NAM_HOP") == (0, None, False)
    with province.uow() as uow:
        uow.session.add_all(
            [
                UnitSuccession(successor_id="NAM_MOI", predecessor_id="NAM_TRUC", since=date(2025, 7, 1)),
                UnitSuccession(successor_id="NAM_HOP", predecessor_id="NAM_MOI", since=date(2026, 1, 1)),
            ]
        )
        uow.commit()
    assert features_2024("NAM_HOP") == features_2024("NAM_TRUC") == (2, 100.0, True)
