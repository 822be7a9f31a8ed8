"""The council's vote rules as shipped in bpmn/decisions: quorum share and thresholds per award."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import BundleFile, DecisionTables
from workflows.bootstrap import build_evaluator
from workflows.council.sessions import QUORUM_DECISION, THRESHOLD_DECISION, VOTE_RULE_FILES

DECISIONS = Path(__file__).resolve().parents[2] / "bpmn" / "decisions"


@pytest.fixture(scope="module")
def rules() -> DecisionTables:
    files = [BundleFile(name, (DECISIONS / name).read_bytes()) for name in VOTE_RULE_FILES]
    return DecisionTables(files, build_evaluator())


def test_the_files_hold_both_decisions(rules):
    assert rules.ids == {QUORUM_DECISION, THRESHOLD_DECISION}


@pytest.mark.parametrize("members", [3, 9, 25])
def test_quorum_is_two_thirds_of_members(rules, members):
    (rule,) = rules.decide("council_quorum", {"members": members})
    assert rule["min_present_share"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("award_code", ["CSTD_TINH", "CSTD_TQ"])
def test_high_titles_need_ninety_percent_of_all_members(rules, award_code):
    (rule,) = rules.decide("council_vote_threshold", {"award_code": award_code})
    assert dict(rule) == {"threshold": 0.9, "denominator": "ALL", "strict": False}


@pytest.mark.parametrize("award_code", ["BK_TINH", "TTLDXS", "CO_TINH", "CSTDCS"])
def test_other_awards_need_a_simple_majority_of_all_members(rules, award_code):
    (rule,) = rules.decide("council_vote_threshold", {"award_code": award_code})
    assert dict(rule) == {"threshold": 0.5, "denominator": "ALL", "strict": True}
