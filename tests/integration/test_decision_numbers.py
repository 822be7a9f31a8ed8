"""Decision numbers: consecutive per jurisdiction and year, with no gaps under concurrency, on both
databases; revocations."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from workflows.decisions import numbering
from workflows.decisions.models import Decision, DecisionCounter
from workflows.errors import DomainError
from workflows.org.models import Jurisdiction, User

PROVINCE, CITY = "NAM_DINH", "GIA_NGHIA"
SIGNED = date(2025, 12, 20)


@pytest.fixture
def org(services):
    with services.uow() as uow:
        uow.session.add_all(
            [
                Jurisdiction(id=PROVINCE, name="Tỉnh Nam Định", level="province", decision_suffix="QĐ-UBND"),
                Jurisdiction(id=CITY, name="Thành phố Gia Nghĩa", level="city", decision_suffix="QĐ-UBND-GN"),
            ]
        )
        uow.session.add(User(id="chair", username="chair", full_name="chair"))
        uow.commit()
    return services


def issue(services, jurisdiction_id=PROVINCE, signed_on=SIGNED, kind="award") -> Decision:
    with services.uow() as uow:
        decision = numbering.issue_decision(uow, jurisdiction_id, kind, "chair", signed_on, note="-")
        uow.commit()
    return decision


def revoke(services, decision_id: int, ground="false_documents", signed_on=date(2026, 2, 1)) -> Decision:
    with services.uow() as uow:
        revocation = numbering.revoke_decision(uow, decision_id, ground, "chair", signed_on, "Hồ sơ không trung thực")
        uow.commit()
    return revocation


def refused(code: str, operation, *args, **kwargs) -> None:
    with pytest.raises(DomainError) as caught:
        operation(*args, **kwargs)
    assert caught.value.code == code, caught.value.message


def test_numbers_are_consecutive_and_coded_with_the_jurisdiction_suffix(org):
    decisions = [issue(org) for _ in range(3)]
    assert [(d.number, d.code, d.year, d.kind) for d in decisions] == [
        (1, "1/QĐ-UBND", 2025, "award"),
        (2, "2/QĐ-UBND", 2025, "award"),
        (3, "3/QĐ-UBND", 2025, "award"),
    ]


def test_each_jurisdiction_numbers_its_own_decisions(org):
    assert [issue(org, PROVINCE).code, issue(org, CITY).code, issue(org, PROVINCE).code] == [
        "1/QĐ-UBND",
        "1/QĐ-UBND-GN",
        "2/QĐ-UBND",
    ]


def test_numbers_restart_each_year(org):
    # Decree 30/2020 (văn thư): document numbers start again from 01 on the first day of each year.
    assert [issue(org, signed_on=SIGNED).number for _ in range(2)] == [1, 2]
    assert issue(org, signed_on=date(2026, 1, 5)).number == 1


def test_unknown_kinds_jurisdictions_and_signers_are_refused(org):
    refused("unknown_decision_kind", issue, org, kind="bonus")
    refused("revocation_needs_original", issue, org, kind="revocation")
    refused("jurisdiction_not_found", issue, org, jurisdiction_id="NOPE")
    with org.uow() as uow:
        refused("user_not_found", numbering.issue_decision, uow, PROVINCE, "award", "nobody", SIGNED)
    assert issue(org).number == 1  # refusals took no number


@pytest.mark.parametrize("threads, per_thread", [(4, 5)])
def test_concurrent_issuers_get_distinct_consecutive_numbers(org, threads, per_thread):
    """Every thread starts on an empty counter, so the first decisions of the year race to insert
    the counter row too."""
    barrier = threading.Barrier(threads)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                number = issue(org).number
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    total = threads * per_thread
    assert sorted(numbers) == list(range(1, total + 1))
    with org.session_factory() as session:
        stored = sorted(session.scalars(select(Decision.number).where(Decision.jurisdiction_id == PROVINCE)))
        assert stored == list(range(1, total + 1))
        assert session.get(DecisionCounter, (PROVINCE, SIGNED.year)).last_number == total


def test_revocation_is_a_numbered_decision_marking_the_original(org):
    award = issue(org)
    issue(org)
    revocation = revoke(org, award.id, signed_on=date(2025, 12, 30))
    assert (revocation.kind, revocation.number, revocation.code) == ("revocation", 3, "3/QĐ-UBND")
    with org.session_factory() as session:
        original = session.get(Decision, award.id)
        assert (original.revoked_by_id, original.revocation_ground) == (revocation.id, "false_documents")

    refused("decision_already_revoked", revoke, org, award.id)
    refused("revocation_not_revocable", revoke, org, revocation.id)
    refused("decision_not_found", revoke, org, 999)
    other = issue(org)
    refused("unknown_revocation_ground", revoke, org, other.id, ground="bad_mood")
    refused("revocation_before_decision", revoke, org, other.id, signed_on=date(2025, 1, 1))
