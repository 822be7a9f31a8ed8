"""The eligibility decision tables of bpmn/decisions, over hand-made features (no database)."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.etree import ElementTree

import pytest

from engine import BundleFile, DecisionTables, Evaluator
from workflows.awards.catalogue import DEFAULT_AWARDS
from workflows.nominees.models import RATINGS

DECISIONS = Path(__file__).resolve().parents[2] / "bpmn" / "decisions"

# Features of a person and a unit meeting every criterion (names: workflows/nominees/features.py).
PERSON = {
    "rating": "HTXSNV",
    "months_employed": 60,
    "ldtt_this_year": True,
    "cstdcs_consecutive_years": 6,
    "cstdcs_years_since_cstd_tinh": 3,
    "initiatives_unit": 1,
    "initiatives_province": 1,
    "cstd_tinh_consecutive": 2,
    "initiatives_national": 1,
    "htxsnv_consecutive_years": 6,
    "initiatives_in_run": 2,
    "holds_bk_tinh": True,
    "good_rating_years_since_bk_tinh": 5,
    "cstdcs_since_bk_tinh": 3,
    "restricted": False,
}
UNIT = {
    "members": 10,
    "ldtt_percent": 70.0,
    "complete_tasks_percent": 100.0,
    "cstdcs_members": 1,
    "bloc_leader": True,
    "holds_co_tinh": True,
    "restricted": False,
}

CRITERIA = {
    "LDTT": {"performance_rating", "service_length", "no_restriction"},
    "CSTDCS": {"ldtt_this_year", "excellence_or_initiative", "no_restriction"},
    "CSTD_TINH": {"cstdcs_consecutive", "province_initiative", "no_restriction"},
    "CSTD_TQ": {"cstd_tinh_consecutive", "national_initiative", "no_restriction"},
    "TTLDTT": {"ldtt_share", "no_restriction"},
    "TTLDXS": {"members_complete_tasks", "ldtt_share", "cstdcs_member", "no_restriction"},
    "CO_TINH": {"bloc_leader", "no_restriction"},
    "CO_CP": {"co_tinh_this_year", "no_restriction"},
    "GIAY_KHEN": {"achievement", "no_restriction"},
    "BK_TINH": {"consecutive_merit", "initiatives", "no_restriction"},
    "BK_TTG": {"holds_bk_tinh", "good_rating_years", "cstdcs_count", "no_restriction"},
}

# (award, changed features, expected statuses of some criteria); the others must be "met".
CASES = [
    ("LDTT", {}, {}),
    ("LDTT", {"rating": "HTTNV"}, {}),
    ("LDTT", {"rating": "HTNV"}, {"performance_rating": "not_met"}),
    ("LDTT", {"rating": "KHT"}, {"performance_rating": "not_met"}),
    ("LDTT", {"rating": None}, {"performance_rating": "unknown"}),
    ("LDTT", {"months_employed": 6}, {}),
    ("LDTT", {"months_employed": 5}, {"service_length": "not_met"}),
    ("LDTT", {"months_employed": None}, {"service_length": "unknown"}),
    ("CSTDCS", {}, {}),
    ("CSTDCS", {"ldtt_this_year": False}, {"ldtt_this_year": "not_met"}),
    ("CSTDCS", {"ldtt_this_year": None}, {"ldtt_this_year": "unknown"}),
    ("CSTDCS", {"rating": "HTXSNV", "initiatives_unit": 0}, {}),
    ("CSTDCS", {"rating": "HTTNV", "initiatives_unit": 1}, {}),
    ("CSTDCS", {"rating": None, "initiatives_unit": 2}, {}),
    ("CSTDCS", {"rating": "HTTNV", "initiatives_unit": 0}, {"excellence_or_initiative": "not_met"}),
    ("CSTDCS", {"rating": None, "initiatives_unit": 0}, {"excellence_or_initiative": "unknown"}),
    ("CSTDCS", {"rating": "HTTNV", "initiatives_unit": None}, {"excellence_or_initiative": "unknown"}),
    ("CSTD_TINH", {}, {}),
    ("CSTD_TINH", {"cstdcs_years_since_cstd_tinh": 2}, {"cstdcs_consecutive": "not_met"}),
    ("CSTD_TINH", {"cstdcs_years_since_cstd_tinh": None}, {"cstdcs_consecutive": "unknown"}),
    ("CSTD_TINH", {"initiatives_province": 0}, {"province_initiative": "not_met"}),
    ("CSTD_TINH", {"initiatives_province": None}, {"province_initiative": "unknown"}),
    ("CSTD_TQ", {}, {}),
    ("CSTD_TQ", {"cstd_tinh_consecutive": 1}, {"cstd_tinh_consecutive": "not_met"}),
    ("CSTD_TQ", {"cstd_tinh_consecutive": None}, {"cstd_tinh_consecutive": "unknown"}),
    ("CSTD_TQ", {"initiatives_national": 0}, {"national_initiative": "not_met"}),
    ("CSTD_TQ", {"initiatives_national": None}, {"national_initiative": "unknown"}),
    ("TTLDTT", {"ldtt_percent": 51.0}, {}),
    ("TTLDTT", {"ldtt_percent": 50.0}, {"ldtt_share": "not_met"}),
    ("TTLDTT", {"ldtt_percent": None}, {"ldtt_share": "unknown"}),
    ("TTLDXS", {}, {}),
    ("TTLDXS", {"complete_tasks_percent": 90.0}, {"members_complete_tasks": "not_met"}),
    ("TTLDXS", {"complete_tasks_percent": None}, {"members_complete_tasks": "unknown"}),
    ("TTLDXS", {"ldtt_percent": 69.0}, {"ldtt_share": "not_met"}),
    ("TTLDXS", {"ldtt_percent": None}, {"ldtt_share": "unknown"}),
    ("TTLDXS", {"cstdcs_members": 0}, {"cstdcs_member": "not_met"}),
    ("TTLDXS", {"cstdcs_members": None}, {"cstdcs_member": "unknown"}),
    ("CO_TINH", {}, {}),
    ("CO_TINH", {"bloc_leader": False}, {"bloc_leader": "not_met"}),
    ("CO_TINH", {"bloc_leader": None}, {"bloc_leader": "unknown"}),
    ("CO_CP", {}, {}),
    ("CO_CP", {"holds_co_tinh": False}, {"co_tinh_this_year": "not_met"}),
    ("CO_CP", {"holds_co_tinh": None}, {"co_tinh_this_year": "unknown"}),
    ("GIAY_KHEN", {}, {}),
    ("BK_TINH", {}, {}),
    ("BK_TINH", {"cstdcs_consecutive_years": 2, "htxsnv_consecutive_years": 0}, {}),
    ("BK_TINH", {"cstdcs_consecutive_years": 0, "htxsnv_consecutive_years": 2}, {}),
    ("BK_TINH", {"cstdcs_consecutive_years": None, "htxsnv_consecutive_years": 2}, {}),
    ("BK_TINH", {"cstdcs_consecutive_years": 1, "htxsnv_consecutive_years": 1}, {"consecutive_merit": "not_met"}),
    ("BK_TINH", {"cstdcs_consecutive_years": 1, "htxsnv_consecutive_years": None}, {"consecutive_merit": "unknown"}),
    ("BK_TINH", {"cstdcs_consecutive_years": None, "htxsnv_consecutive_years": 1}, {"consecutive_merit": "unknown"}),
    ("BK_TINH", {"initiatives_in_run": 1}, {"initiatives": "not_met"}),
    ("BK_TINH", {"initiatives_in_run": None}, {"initiatives": "unknown"}),
    ("BK_TTG", {}, {}),
    ("BK_TTG", {"holds_bk_tinh": False}, {"holds_bk_tinh": "not_met"}),
    ("BK_TTG", {"holds_bk_tinh": None}, {"holds_bk_tinh": "unknown"}),
    ("BK_TTG", {"good_rating_years_since_bk_tinh": 4}, {"good_rating_years": "not_met"}),
    ("BK_TTG", {"good_rating_years_since_bk_tinh": None}, {"good_rating_years": "unknown"}),
    ("BK_TTG", {"cstdcs_since_bk_tinh": 2}, {"cstdcs_count": "not_met"}),
    ("BK_TTG", {"cstdcs_since_bk_tinh": None}, {"cstdcs_count": "unknown"}),
    # Every award: a restriction fails it, an unknown restriction state is unknown.
    *((code, {"restricted": True}, {"no_restriction": "not_met"}) for code in CRITERIA),
    *((code, {"restricted": None}, {"no_restriction": "unknown"}) for code in CRITERIA),
]

AWARDS = {award.code: award for award in DEFAULT_AWARDS}
DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"


@pytest.fixture(scope="module")
def tables() -> DecisionTables:
    files = [BundleFile(path.name, path.read_bytes()) for path in sorted(DECISIONS.glob("eligibility*.dmn"))]
    return DecisionTables(files, Evaluator())


def decide(tables: DecisionTables, code: str, changes: dict) -> dict[str, dict]:
    award = AWARDS[code]
    data = {**(PERSON if award.subject == "individual" else UNIT), **changes}
    rows = tables.decide(award.eligibility_decision, data)
    by_criterion = {row["criterion"]: row for row in rows}
    assert len(by_criterion) == len(rows), f"a criterion matched twice: {rows}"
    return by_criterion


def test_every_award_of_the_catalogue_has_its_table(tables):
    assert set(AWARDS) == set(CRITERIA)
    assert {award.eligibility_decision for award in DEFAULT_AWARDS} <= tables.ids


@pytest.mark.parametrize(
    ("code", "changes", "expected"),
    CASES,
    ids=[f"{code}:{','.join(f'{k}={v}' for k, v in changes.items()) or 'all met'}" for code, changes, _ in CASES],
)
def test_criteria(tables, code, changes, expected):
    rows = decide(tables, code, changes)
    assert set(rows) == CRITERIA[code]
    assert {c: r["status"] for c, r in rows.items()} == {c: expected.get(c, "met") for c in CRITERIA[code]}
    assert all(isinstance(r["reason"], str) and r["reason"] for r in rows.values())


def test_every_criterion_can_be_met_failed_and_unknown():
    seen = {(code, criterion, "met") for code, criteria in CRITERIA.items() for criterion in criteria}
    seen |= {(code, criterion, status) for code, _, expected in CASES for criterion, status in expected.items()}
    for code, criteria in CRITERIA.items():
        for criterion in criteria - {"achievement"}:  # GIAY_KHEN's achievement is judged on the dossier
            assert {(code, criterion, s) for s in ("not_met", "unknown")} <= seen, (code, criterion)


@pytest.mark.parametrize("code", sorted(CRITERIA))
def test_each_criterion_yields_exactly_one_row_whatever_the_inputs(tables, code):
    base = PERSON if AWARDS[code].subject == "individual" else UNIT
    inputs = _table_inputs(code)
    values = [_sweep(base[name]) for name in inputs]
    for combination in itertools.product(*values):
        rows = decide(tables, code, dict(zip(inputs, combination, strict=True)))
        assert set(rows) == CRITERIA[code], combination
        assert {row["status"] for row in rows.values()} <= {"met", "not_met", "unknown"}


def _table_inputs(code: str) -> list[str]:
    """The input expressions of the award's table (each is a feature name)."""
    root = ElementTree.parse(DECISIONS / f"{AWARDS[code].eligibility_decision}.dmn").getroot()
    return [text.text for text in root.iter(f"{DMN}inputExpression") for text in text.iter(f"{DMN}text")]


def _sweep(value) -> list:
    """None and values around the thresholds, of the feature's type."""
    if isinstance(value, bool):
        return [None, True, False]
    if isinstance(value, str):
        return [None, *RATINGS]
    return [None, 0, 1, 2, 3, 5, 50, 50.5, 70, 100]
