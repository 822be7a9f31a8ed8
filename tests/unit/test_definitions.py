"""Parsing bundles: good ones parse into definitions; every refusal names the file, the element
and the reason; hostile XML is refused before it is parsed."""

from __future__ import annotations

import pytest

from engine import BundleFile, DefinitionError, Evaluator, parse_bundle
from engine.definitions import MAX_FILE_BYTES
from tests.conftest import FIXTURES

REVIEW = FIXTURES / "review"


def review_bundle(*replacements: tuple[str, str] | None, form: str | None = None, dmn: tuple[str, str] | None = None):
    bpmn = (REVIEW / "review.bpmn").read_text()
    for replace in filter(None, replacements):
        assert replace[0] in bpmn, replace[0]
        bpmn = bpmn.replace(*replace)
    grade = (REVIEW / "grade.dmn").read_text()
    if dmn:
        assert dmn[0] in grade, dmn[0]
        grade = grade.replace(*dmn)
    return [
        BundleFile("review.bpmn", bpmn.encode()),
        BundleFile("grade.dmn", grade.encode()),
        BundleFile("prepare.json", (form or (REVIEW / "prepare.json").read_text()).encode()),
        BundleFile("approve.json", (REVIEW / "approve.json").read_bytes()),
    ]


def refusal(files) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse_bundle(files, Evaluator())
    return caught.value


def test_good_bundle_parses_with_task_metadata():
    (definition,) = parse_bundle(review_bundle(), Evaluator())
    assert definition.process_id == "review" and definition.name == "Two-level review"
    assert definition.task_meta["prepare"] == {
        "name": "Prepare the dossier",
        "lane": "clerk",
        "candidate_role": "clerk",
        "org_scope": "unit",
        "due_working_days": 2.0,
        "four_eyes": None,
        "form": "prepare.json",
        "escalation": {"reminder_share": None, "grace_days": None, "reassign": None},
    }
    assert definition.task_meta["approve"]["four_eyes"] == "prepare"
    assert definition.task_meta["escalate"]["candidate_role"] == "director"  # property beats lane
    assert set(definition.forms) == {"prepare.json", "approve.json"}


PROCESS_LADDER = (
    '<bpmn:process id="review" name="Two-level review" isExecutable="true">',
    '<bpmn:process id="review" name="Two-level review" isExecutable="true">'
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="escalationReminder" value="0.75" />'
    '<spiffworkflow:property name="escalationGraceDays" value="2" />'
    '<spiffworkflow:property name="escalationReassign" value="supervisor" />'
    "</spiffworkflow:properties></bpmn:extensionElements>",
)


def test_the_escalation_ladder_comes_from_the_process_and_a_task_overrides_it():
    approve_override = (
        '<spiffworkflow:property name="fourEyes" value="prepare"',
        '<spiffworkflow:property name="escalationReassign" value="board" />\n'
        '<spiffworkflow:property name="escalationGraceDays" value="0.5" />\n'
        '<spiffworkflow:property name="fourEyes" value="prepare"',
    )
    (definition,) = parse_bundle(review_bundle(PROCESS_LADDER, approve_override), Evaluator())
    assert definition.task_meta["prepare"]["escalation"] == {
        "reminder_share": 0.75,
        "grace_days": 2.0,
        "reassign": "supervisor",
    }
    assert definition.task_meta["approve"]["escalation"] == {
        "reminder_share": 0.75,
        "grace_days": 0.5,
        "reassign": "board",
    }


@pytest.mark.parametrize(
    ("replace", "reason"),
    [
        (('name="escalationReassign" value="supervisor"', 'name="escalationReassign" value="boss"'), "one of"),
        (('name="escalationReminder" value="0.75"', 'name="escalationReminder" value="1.5"'), "below 1"),
        (('name="escalationGraceDays" value="2"', 'name="escalationGraceDays" value="-1"'), "at least 0"),
    ],
)
def test_a_bad_escalation_ladder_is_refused_on_the_first_task_it_applies_to(replace, reason):
    (tag, ladder) = PROCESS_LADDER
    error = refusal(review_bundle((tag, ladder.replace(*replace))))
    assert error.element_id in ("prepare", "approve", "escalate"), str(error)
    assert reason in error.reason


def test_content_hash_changes_with_any_file_and_only_then():
    (first,) = parse_bundle(review_bundle(), Evaluator())
    (same,) = parse_bundle(review_bundle(), Evaluator())
    (changed,) = parse_bundle(
        review_bundle(form=(REVIEW / "prepare.json").read_text().replace("200", "300")), Evaluator()
    )
    assert first.content_hash == same.content_hash != changed.content_hash


@pytest.mark.parametrize(
    ("replace", "element_id", "reason"),
    [
        (('decision == "approve" and', '__import__("os").system("id") and'), "flow_accept", "refused"),
        (('decision == "approve" and', "decision.__class__ and"), "flow_accept", "refused"),
        (('"PT1H"', 'open("/etc/passwd").read()'), "approve_overdue", "refused"),
        (
            (
                'value="unit" />\n          <spiffworkflow:property name="dueWorkingDays" value="2"',
                'value="(lambda: 1)()" />\n          <spiffworkflow:property name="dueWorkingDays" value="2"',
            ),
            "prepare",
            "refused",
        ),
        (('value="2" />', 'value="two" />'), "prepare", "must be a number"),
        (
            (
                '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>',
                '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/PT1H"</bpmn:timeCycle>',
            ),
            "approve_overdue",
            "cycle",
        ),
        (('name="fourEyes" value="prepare"', 'name="fourEyes" value="nobody"'), "approve", "not a user task"),
        (('value="prepare.json"', 'value="missing.json"'), "prepare", "not a .json file"),
        (("<bpmn:flowNodeRef>prepare</bpmn:flowNodeRef>", ""), "prepare", "no candidate role"),
        (('targetRef="approve" />', 'targetRef="nowhere" />'), "flow_scored", None),
        (
            ('<bpmn:startEvent id="start">', '<bpmn:startEvent id="start">\n<bpmn:bogus id="bogus_element"/>'),
            "bogus_element",
            "not expected",
        ),
    ],
)
def test_refusal_names_the_element(replace, element_id, reason):
    error = refusal(review_bundle(replace))
    assert error.element_id == element_id, str(error)
    assert error.file == "review.bpmn"
    assert element_id in str(error)
    if reason:
        assert reason in error.reason


def test_script_task_with_import_is_refused_with_its_id():
    script_task = (
        '<bpmn:scriptTask id="sneaky" name="Sneaky"><bpmn:incoming>flow_scored</bpmn:incoming>'
        '<bpmn:outgoing>flow_sneaky</bpmn:outgoing><bpmn:script>import os\nos.system("id")</bpmn:script>'
        '</bpmn:scriptTask><bpmn:sequenceFlow id="flow_sneaky" sourceRef="sneaky" targetRef="approve" />'
        '<bpmn:sequenceFlow id="flow_scored" sourceRef="score" targetRef="sneaky" />'
    )
    error = refusal(
        review_bundle(('<bpmn:sequenceFlow id="flow_scored" sourceRef="score" targetRef="approve" />', script_task))
    )
    assert error.element_id == "sneaky" and "import" in error.reason


def test_dmn_cell_with_dunder_access_is_refused_with_the_cell_id():
    error = refusal(review_bundle(dmn=("<text>&gt;= 90</text>", "<text>score.__class__</text>")))
    assert error.element_id == "grade_rule_excellent_score"
    assert error.file == "grade.dmn"


def test_invalid_form_schema_is_refused_with_the_file():
    error = refusal(review_bundle(form='{"type": "object", "properties": {"score": {"type": "integr"}}}'))
    assert error.file == "prepare.json" and "properties/score/type" in error.reason


def test_malformed_json_form_is_refused_with_the_file():
    error = refusal(review_bundle(form='{"type": '))
    assert error.file == "prepare.json" and "not valid JSON" in error.reason


def test_malformed_xml_is_refused_with_the_file():
    error = refusal(review_bundle(("</bpmn:definitions>", "")))
    assert error.file == "review.bpmn" and "not well-formed" in error.reason


def test_bundle_without_executable_process_is_refused():
    error = refusal(review_bundle(('isExecutable="true"', 'isExecutable="false"')))
    assert "no executable process" in error.reason


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" name="&secret;" isExecutable="true"/>
</bpmn:definitions>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" name="&lol3;" isExecutable="true"/>
</bpmn:definitions>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:9/evil.dtd">
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x"/>"""

XINCLUDE = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xi="http://www.w3.org/2001/XInclude" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true"><xi:include href="file:///etc/passwd" parse="text"/></bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("content", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_hostile_xml_is_refused_before_parsing(content):
    error = refusal([BundleFile("evil.bpmn", content)])
    assert error.file == "evil.bpmn" and "DOCTYPE" in error.reason


def test_xinclude_is_not_processed():
    error = refusal([BundleFile("evil.bpmn", XINCLUDE)])
    assert "root:" not in str(error)  # never expanded into the message or the definition


def test_oversized_file_is_refused():
    padding = b"<!-- " + b"x" * MAX_FILE_BYTES + b" -->"
    error = refusal([BundleFile("big.bpmn", padding)])
    assert error.file == "big.bpmn" and "larger than" in error.reason


def test_non_utf8_file_is_refused():
    content = (REVIEW / "review.bpmn").read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    error = refusal([BundleFile("review.bpmn", content)])
    assert error.file == "review.bpmn" and "UTF-8" in error.reason


def test_unknown_file_type_is_refused():
    error = refusal(review_bundle() + [BundleFile("notes.txt", b"hello")])
    assert error.file == "notes.txt"


def test_element_ids_repeated_across_files_keep_their_own_lanes():
    other = (REVIEW / "review.bpmn").read_text()
    other = other.replace('id="review"', 'id="review_other"').replace("review_definitions", "other_definitions")
    other = other.replace('<bpmn:lane id="clerk" name="Clerk">', '<bpmn:lane id="secretary" name="Secretary">')
    files = review_bundle() + [BundleFile("other.bpmn", other.encode())]
    definitions = {d.process_id: d for d in parse_bundle(files, Evaluator())}
    assert definitions["review"].task_meta["prepare"]["candidate_role"] == "clerk"
    assert definitions["review_other"].task_meta["prepare"]["candidate_role"] == "secretary"
