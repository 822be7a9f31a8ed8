"""Decision tables evaluated outside a process."""

from __future__ import annotations

import pytest

from engine import BundleFile, DecisionTables, DefinitionError, Evaluator, ProcessError
from tests.conftest import FIXTURES

COLLECT = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="c" name="c" namespace="x">
  <decision id="checks" name="Checks">
    <decisionTable id="checks_table" hitPolicy="COLLECT">
      <input id="in_rating" label="Rating">
        <inputExpression id="in_rating_e" typeRef="string"><text>rating</text></inputExpression></input>
      <output id="out_criterion" name="criterion" typeRef="string" />
      <output id="out_status" name="status" typeRef="string" />
      <rule id="r_unknown"><inputEntry id="r_unknown_1"><text>None</text></inputEntry>
        <outputEntry id="r_unknown_2"><text>"rating"</text></outputEntry>
        <outputEntry id="r_unknown_3"><text>"unknown"</text></outputEntry></rule>
      <rule id="r_met"><inputEntry id="r_met_1"><text>in ["HTXSNV", "HTTNV"]</text></inputEntry>
        <outputEntry id="r_met_2"><text>"rating"</text></outputEntry>
        <outputEntry id="r_met_3"><text>"met"</text></outputEntry></rule>
      <rule id="r_always"><inputEntry id="r_always_1"><text></text></inputEntry>
        <outputEntry id="r_always_2"><text>"always"</text></outputEntry>
        <outputEntry id="r_always_3"><text>"met"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def tables(content: bytes = COLLECT) -> DecisionTables:
    return DecisionTables([BundleFile("checks.dmn", content)], Evaluator())


def test_collect_table_returns_one_row_per_matching_rule():
    assert tables().decide("checks", {"rating": "HTTNV"}) == [
        {"criterion": "rating", "status": "met"},
        {"criterion": "always", "status": "met"},
    ]
    assert tables().decide("checks", {"rating": None})[0] == {"criterion": "rating", "status": "unknown"}


def test_first_table_returns_the_first_match():
    grade = DecisionTables([BundleFile("grade.dmn", (FIXTURES / "review" / "grade.dmn").read_bytes())], Evaluator())
    assert grade.ids == {"grade_decision"}
    assert grade.decide("grade_decision", {"score": 95}) == [{"grade": "excellent"}]
    assert grade.decide("grade_decision", {"score": 10}) == [{"grade": "fail"}]


def test_refused_cell_names_the_file_and_cell():
    with pytest.raises(DefinitionError) as caught:
        tables(COLLECT.replace(b'in ["HTXSNV", "HTTNV"]', b"rating.__class__"))
    assert (caught.value.file, caught.value.element_id) == ("checks.dmn", "r_met_1")


def test_missing_data_is_a_process_error_naming_the_decision():
    with pytest.raises(ProcessError, match="checks"):
        tables().decide("checks", {})


def test_unknown_decision_is_refused():
    with pytest.raises(DefinitionError, match="nope"):
        tables().decide("nope", {})
