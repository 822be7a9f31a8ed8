"""Version diff: what changed between two bundles, element by element, ignoring what does not
change meaning (prefixes, attribute order, whitespace) and telling layout apart from content."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine import BundleFile
from engine.diff import BundleDiff, ElementChange, diff_bundles

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NOMINATION = (BPMN / "processes" / "nomination.bpmn").read_text()
VOTE_RULES = (BPMN / "decisions" / "council_vote_rules.dmn").read_text()
FORM = (BPMN / "forms" / "review_outcome.json").read_text()


def edited(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


def diff(old: str, new: str, name: str = "nomination.bpmn") -> BundleDiff:
    return diff_bundles([BundleFile(name, old.encode())], [BundleFile(name, new.encode())])


def only_change(result: BundleDiff) -> ElementChange:
    assert (result.added, result.removed, result.layout_changed) == ((), (), ())
    (change,) = result.changed
    return change


def test_identical_bundles_have_an_empty_diff():
    result = diff(NOMINATION, NOMINATION)
    assert result.empty and result == BundleDiff((), (), (), (), (), ())


def test_a_changed_due_working_days_property_is_a_change_of_its_task():
    new = edited(NOMINATION, '"dueWorkingDays" value="10"', '"dueWorkingDays" value="12"')
    change = only_change(diff(NOMINATION, new))
    assert change == ElementChange(
        "nomination.bpmn",
        "appraise_nomination",
        "userTask",
        "Thẩm định hồ sơ",
        ('property dueWorkingDays: "10" → "12"',),
    )


def test_added_and_removed_properties_are_named():
    new = edited(NOMINATION, '<spiffworkflow:property name="dueWorkingDays" value="10"/>', "")
    new = edited(new, '<spiffworkflow:property name="orgScope" value="unit_scope"/>', "", count=1)
    new = edited(
        new,
        '<spiffworkflow:property name="orgScope" value="bloc_scope"/>',
        '<spiffworkflow:property name="orgScope" value="bloc_scope"/>'
        '<spiffworkflow:property name="fourEyes" value="x"/>',
    )
    result = diff(NOMINATION, new)
    details = {change.element_id: change.details for change in result.changed}
    assert details == {
        "draft_nomination": ('property orgScope: "unit_scope" → (none)',),
        "bloc_review": ('property fourEyes: (none) → "x"',),
        "appraise_nomination": ('property dueWorkingDays: "10" → (none)',),
    }
    assert [c.element_id for c in result.changed] == ["draft_nomination", "bloc_review", "appraise_nomination"]


def test_an_added_task_is_listed_with_its_kind_and_name():
    task = '<bpmn:manualTask id="archive" name="Lưu hồ sơ"/>\n    <bpmn:endEvent id="published"'
    result = diff(NOMINATION, edited(NOMINATION, '<bpmn:endEvent id="published"', task))
    assert result.added == (ElementChange("nomination.bpmn", "archive", "manualTask", "Lưu hồ sơ"),)
    assert (result.removed, result.changed, result.layout_changed) == ((), (), ())


def test_a_removed_flow_is_listed_and_its_ends_change():
    flow = '<bpmn:sequenceFlow id="to_notify" sourceRef="sign_decision" targetRef="notify_result"/>'
    new = edited(NOMINATION, flow, "")
    new = edited(new, "<bpmn:outgoing>to_notify</bpmn:outgoing>", "")
    new = edited(new, "<bpmn:incoming>to_notify</bpmn:incoming>", "")
    new = re.sub(r'<bpmndi:BPMNEdge id="to_notify_di".*?</bpmndi:BPMNEdge>', "", new, flags=re.DOTALL)
    result = diff(NOMINATION, new)
    assert result.removed == (ElementChange("nomination.bpmn", "to_notify", "sequenceFlow", None),)
    assert {(c.element_id, c.details) for c in result.changed} == {
        ("sign_decision", ('outgoing: "to_notify" → (none)',)),
        ("notify_result", ('incoming: "to_notify" → (none)',)),
    }
    assert result.layout_changed == ()  # the edge went with its flow


def test_a_renamed_element_shows_old_and_new_name():
    new = edited(NOMINATION, 'name="Thẩm định hồ sơ"', 'name="Thẩm định"')
    change = only_change(diff(NOMINATION, new))
    assert (change.element_id, change.name, change.details) == (
        "appraise_nomination",
        "Thẩm định",
        ('name: "Thẩm định hồ sơ" → "Thẩm định"',),
    )


def test_a_changed_condition_is_named_as_a_condition():
    new = edited(NOMINATION, "approved == True", "approved == False")
    change = only_change(diff(NOMINATION, new))
    assert (change.element_id, change.kind) == ("bloc_approved", "sequenceFlow")
    assert change.details == ('condition: "approved == True" → "approved == False"',)


def test_a_changed_dmn_cell_is_a_change_of_its_input_entry():
    new = edited(VOTE_RULES, 'in ["CSTD_TINH", "CSTD_TQ"]', 'in ["CSTD_TINH"]')
    change = only_change(diff(VOTE_RULES, new, name="council_vote_rules.dmn"))
    assert (change.file, change.element_id, change.kind) == (
        "council_vote_rules.dmn",
        "council_vote_high_titles_award",
        "inputEntry",
    )
    assert change.details == ('text: "in ["CSTD_TINH", "CSTD_TQ"]" → "in ["CSTD_TINH"]"',)


def test_reordered_dmn_rules_are_a_change_of_their_table():
    first = re.search(r'<rule id="council_vote_high_titles">.*?</rule>', VOTE_RULES, re.DOTALL).group(0)
    second = re.search(r'<rule id="council_vote_majority">.*?</rule>', VOTE_RULES, re.DOTALL).group(0)
    swapped = edited(edited(VOTE_RULES, first, "FIRST_RULE"), second, first).replace("FIRST_RULE", second)
    change = only_change(diff(VOTE_RULES, swapped, name="council_vote_rules.dmn"))
    assert (change.element_id, change.kind) == ("council_vote_threshold_table", "decisionTable")
    assert change.details == (
        'order: "council_vote_high_titles, council_vote_majority" → "council_vote_majority, council_vote_high_titles"',
    )


def test_an_element_moved_into_a_subprocess_changes_its_parent():
    subprocess = '<bpmn:subProcess id="notify_block"></bpmn:subProcess>'
    old = edited(NOMINATION, '<bpmn:endEvent id="published"', subprocess + '<bpmn:endEvent id="published"')
    task = re.search(r'<bpmn:userTask id="notify_result".*?</bpmn:userTask>', old, re.DOTALL).group(0)
    new = edited(edited(old, task, ""), "</bpmn:subProcess>", task + "</bpmn:subProcess>")
    change = only_change(diff(old, new))
    assert (change.element_id, change.details) == ("notify_result", ('parent: "nomination" → "notify_block"',))


def test_a_layout_only_change_is_not_a_content_change():
    new = edited(NOMINATION, '<dc:Bounds x="192" y="112"', '<dc:Bounds x="292" y="112"')
    result = diff(NOMINATION, new)
    assert (result.added, result.removed, result.changed) == ((), (), ())
    assert result.layout_changed == ("nomination.bpmn",) and not result.empty


def test_moving_a_new_element_alone_is_not_a_layout_change():
    task = '<bpmn:manualTask id="archive"/>'
    shape = '<bpmndi:BPMNShape id="archive_di" bpmnElement="archive"><dc:Bounds x="1" y="2" width="3" height="4"/>'
    old = edited(NOMINATION, '<bpmn:endEvent id="published"', task + '<bpmn:endEvent id="published"')
    old = edited(old, "</bpmndi:BPMNPlane>", shape + "</bpmndi:BPMNShape></bpmndi:BPMNPlane>")
    new = edited(old, 'x="1" y="2"', 'x="5" y="2"')
    new = edited(new, '<bpmn:manualTask id="archive"/>', '<bpmn:manualTask id="archive" name="Lưu"/>')
    result = diff(old, new)
    assert [c.element_id for c in result.changed] == ["archive"] and result.layout_changed == ()


def test_prefixes_attribute_order_and_whitespace_are_not_changes():
    new = NOMINATION.replace("bpmn:", "semantic:").replace("xmlns:bpmn=", "xmlns:semantic=")
    new = new.replace("dc:", "geometry:").replace("xmlns:dc=", "xmlns:geometry=")
    new = edited(new, 'id="to_notify" sourceRef="sign_decision"', 'sourceRef="sign_decision" id="to_notify"')
    new = edited(new, ">approved == True<", ">\n        approved  ==  True\n      <")
    new = new.replace("\n    ", "\n  ")
    assert new != NOMINATION
    assert diff(NOMINATION, new).empty


def test_a_qualified_value_with_another_namespace_is_a_change():
    new = edited(
        NOMINATION,
        'xsi:type="bpmn:tFormalExpression">approved == True',
        'xsi:type="spiffworkflow:tFormalExpression">approved == True',
    )
    change = only_change(diff(NOMINATION, new))
    assert change.element_id == "bloc_approved"
    assert change.details == ('condition@xsi:type: "tFormalExpression" → "spiffworkflow:tFormalExpression"',)


def test_a_form_schema_change_lists_its_json_pointers():
    schema = json.loads(FORM)
    schema["properties"]["reason"]["maxLength"] = 500
    schema["properties"]["notes"] = {"type": "string"}
    del schema["then"]
    result = diff_bundles(
        [BundleFile("review_outcome.json", FORM.encode())],
        [BundleFile("review_outcome.json", json.dumps(schema, indent=4).encode())],
    )
    (change,) = result.changed
    assert (change.file, change.element_id, change.kind) == ("review_outcome.json", "review_outcome.json", "form")
    assert change.details == (
        "changed /properties/reason/maxLength: 2000 → 500",
        "added /properties/notes",
        "removed /then",
    )


def test_a_reformatted_form_schema_is_unchanged():
    reformatted = json.dumps(json.loads(FORM), indent=1, ensure_ascii=False)
    result = diff_bundles(
        [BundleFile("review_outcome.json", FORM.encode())], [BundleFile("review_outcome.json", reformatted.encode())]
    )
    assert result.empty


def test_added_and_removed_files_are_listed_by_name():
    result = diff_bundles(
        [BundleFile("old.json", b"{}"), BundleFile("same.json", b"{}")],
        [BundleFile("same.json", b"{}"), BundleFile("new.bpmn", NOMINATION.encode())],
    )
    assert (result.files_added, result.files_removed) == (("new.bpmn",), ("old.json",))
    assert (result.added, result.removed, result.changed) == ((), (), ())


def large_process(tasks: int, due: str = "1") -> str:
    nodes = "".join(
        f'<bpmn:userTask id="t{i}" name="Task {i}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="dueWorkingDays" value="{due if i == tasks // 2 else 1}"/>'
        f"</spiffworkflow:properties></bpmn:extensionElements>"
        f"<bpmn:incoming>f{i}</bpmn:incoming><bpmn:outgoing>f{i + 1}</bpmn:outgoing></bpmn:userTask>"
        f'<bpmn:sequenceFlow id="f{i + 1}" sourceRef="t{i}" targetRef="t{i + 1}"/>'
        for i in range(tasks)
    )
    shapes = "".join(
        f'<bpmndi:BPMNShape id="t{i}_di" bpmnElement="t{i}"><dc:Bounds x="{i * 10}" y="0" width="100" height="80"/>'
        "</bpmndi:BPMNShape>"
        for i in range(tasks)
    )
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        f'id="defs"><bpmn:process id="p">{nodes}</bpmn:process><bpmndi:BPMNDiagram id="d">'
        f'<bpmndi:BPMNPlane id="plane" bpmnElement="p">{shapes}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'
        "</bpmn:definitions>"
    )


def test_in_a_diagram_of_500_elements_only_the_changed_one_is_named():
    result = diff(large_process(250), large_process(250, due="2"), name="large.bpmn")
    assert [c.element_id for c in result.changed] == ["t125"]
    assert result.added == result.removed == ()
