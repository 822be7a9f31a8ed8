"""The semantic XML comparator used by the interchange tests: what it ignores and what it reports."""

from __future__ import annotations

import pytest

from tests.xml_semantics import semantic_differences

ORIGINAL = b"""<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>
<!-- written by hand -->
<semantic:definitions xmlns:semantic="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:ext="http://example.org/ext"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tns="http://example.org/defs"
    id="Defs" targetNamespace="http://example.org/defs" exporter="Tool A" exporterVersion="1">
  <semantic:process id="P" isExecutable="1">
    <semantic:startEvent id="S" name="Start" isInterrupting="true">
      <semantic:outgoing>tns:F</semantic:outgoing>
    </semantic:startEvent>
    <semantic:task id="T" name="Check" completionQuantity="1">
      <semantic:extensionElements>
        <ext:hint level="2">keep me</ext:hint>
      </semantic:extensionElements>
      <semantic:incoming>F</semantic:incoming>
    </semantic:task>
    <semantic:sequenceFlow id="F" sourceRef="S" targetRef="T">
      <semantic:conditionExpression xsi:type="semantic:tFormalExpression">x &gt; 1</semantic:conditionExpression>
    </semantic:sequenceFlow>
  </semantic:process>
  <bpmndi:BPMNDiagram id="D">
    <bpmndi:BPMNPlane id="Plane" bpmnElement="P">
  <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="100.0" y="80.0" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="T_di" bpmnElement="tns:T"><dc:Bounds x="2E2" y="58" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="F_di" bpmnElement="F">
        <di:waypoint xsi:type="dc:Point" x="136.0" y="98.0"/>
        <di:waypoint xsi:type="dc:Point" x="170.0" y="98.0"/>
        <di:waypoint xsi:type="dc:Point" x="200.0" y="98.0"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</semantic:definitions>
"""

# What bpmn-js writes for the same document: other prefixes, a default namespace for the model, attribute
# order, indentation, numbers, exporter, xsi:type of the declared type and attributes at their XSD default
# left out, booleans spelled out, references without the prefix of the document's own namespace.
EQUIVALENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC" xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:x="http://example.org/ext" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:unused="urn:unused"
  targetNamespace="http://example.org/defs" id="Defs" exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="18">
  <bpmn:process isExecutable="true" id="P">
    <startEvent name="Start" id="S"><outgoing>F</outgoing></startEvent>
    <bpmn:task name="Check" id="T">
      <bpmn:extensionElements><x:hint level="2">keep me</x:hint></bpmn:extensionElements>
      <bpmn:incoming> F </bpmn:incoming>
    </bpmn:task>
    <bpmn:sequenceFlow targetRef="T" sourceRef="S" id="F">
      <bpmn:conditionExpression xsi:type="tFormalExpression">x &gt; 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="D">
    <bpmndi:BPMNPlane bpmnElement="P" id="Plane">
      <bpmndi:BPMNShape bpmnElement="S" id="S_di">
        <omgdc:Bounds height="36" width="36" y="80" x="100" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape bpmnElement="T" id="T_di">
        <omgdc:Bounds x="200" y="58.00" width="1e2" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge bpmnElement="F" id="F_di">
        <omgdi:waypoint x="136" y="98" />
        <omgdi:waypoint x="170" y="98" />
        <omgdi:waypoint x="200" y="98" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</definitions>
"""

DEFS = "/bpmn:definitions[@id=Defs]"
TASK = f"{DEFS}/bpmn:process[@id=P]/bpmn:task[@id=T]"
PLANE = f"{DEFS}/bpmndi:BPMNDiagram[@id=D]/bpmndi:BPMNPlane[@id=Plane]"


def changed(old: str, new: str) -> bytes:
    text = ORIGINAL.decode()
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def test_a_document_equals_itself():
    assert semantic_differences(ORIGINAL, ORIGINAL) == []


def test_prefixes_order_whitespace_numbers_defaults_and_exporter_are_neutral():
    assert semantic_differences(ORIGINAL, EQUIVALENT) == []
    assert semantic_differences(EQUIVALENT, ORIGINAL) == []


def test_a_dropped_extension_element_is_reported_with_the_element_path():
    saved = changed('<ext:hint level="2">keep me</ext:hint>', "")
    assert semantic_differences(ORIGINAL, saved) == [f"{TASK}/bpmn:extensionElements[1]/ext:hint[1]: element was lost"]


def test_a_changed_extension_attribute_or_text_is_reported():
    assert semantic_differences(ORIGINAL, changed('level="2"', 'level="2.0"')) == [
        f"{TASK}/bpmn:extensionElements[1]/ext:hint[1]: attribute level='2' became '2.0'"
    ]
    assert semantic_differences(ORIGINAL, changed("keep me", "keep me ")) == [
        f"{TASK}/bpmn:extensionElements[1]/ext:hint[1]: text 'keep me' became 'keep me '"
    ]


def test_a_changed_attribute_is_reported():
    assert semantic_differences(ORIGINAL, changed('name="Check"', 'name="Check "')) == [
        f"{TASK}: attribute name='Check' became 'Check '"
    ]


def test_a_removed_waypoint_is_reported():
    saved = changed('<di:waypoint xsi:type="dc:Point" x="200.0" y="98.0"/>', "")
    assert semantic_differences(ORIGINAL, saved) == [
        f"{PLANE}/bpmndi:BPMNEdge[@id=F_di]/di:waypoint[3]: element was lost"
    ]


def test_a_moved_coordinate_is_reported_but_not_its_spelling():
    assert semantic_differences(ORIGINAL, changed('x="170.0"', 'x="170.5"')) == [
        f"{PLANE}/bpmndi:BPMNEdge[@id=F_di]/di:waypoint[2]: attribute x='170.0' became '170.5'"
    ]
    assert semantic_differences(ORIGINAL, changed('x="170.0"', 'x="1.7E2"')) == []


@pytest.mark.parametrize(
    ("old", "new", "difference"),
    [
        ('isInterrupting="true"', 'isInterrupting="false"', "attribute isInterrupting='true' became 'false'"),
        ('isInterrupting="true"', 'isInterrupting="0"', "attribute isInterrupting='true' became '0'"),
        ('name="Start" isInterrupting="true"', 'isInterrupting="true"', "attribute name='Start' was lost"),
        ('name="Start"', 'name="Start" parallelMultiple="true"', "attribute parallelMultiple='true' was added"),
    ],
)
def test_a_default_counts_only_when_it_is_the_xsd_default(old, new, difference):
    start = f"{DEFS}/bpmn:process[@id=P]/bpmn:startEvent[@id=S]"
    assert semantic_differences(ORIGINAL, changed(old, new)) == [f"{start}: {difference}"]


def test_an_attribute_without_an_xsd_default_is_reported_when_added():
    saved = changed('<bpmndi:BPMNShape id="S_di"', '<bpmndi:BPMNShape isMarkerVisible="true" id="S_di"')
    assert semantic_differences(ORIGINAL, saved) == [
        f"{PLANE}/bpmndi:BPMNShape[@id=S_di]: attribute isMarkerVisible='true' was added"
    ]


def test_reordered_shapes_of_a_plane_are_neutral_but_reordered_semantic_elements_and_waypoints_are_not():
    start, task = (line for line in ORIGINAL.decode().splitlines() if "<bpmndi:BPMNShape" in line)
    swapped_shapes = ORIGINAL.decode().replace(start, "@").replace(task, start).replace("@", task).encode()
    assert semantic_differences(ORIGINAL, swapped_shapes) == []

    start_event = '<semantic:startEvent id="S" name="Start" isInterrupting="true">'
    text = ORIGINAL.decode()
    first, second = text.index(start_event), text.index("<semantic:task ")
    end = text.index("</semantic:task>") + len("</semantic:task>")
    start_block, task_block = text[first:second], text[second:end]
    swapped = (text[:first] + task_block + "\n    " + start_block.rstrip() + text[end:]).encode()
    assert [d.split(": ", 1)[1] for d in semantic_differences(ORIGINAL, swapped)] == [
        "child elements reordered, first at position 1: bpmn:startEvent[@id=S] became bpmn:task[@id=T]"
    ]

    first_point, last_point = 'x="136.0" y="98.0"', 'x="200.0" y="98.0"'
    reversed_edge = text.replace(first_point, "@").replace(last_point, first_point).replace("@", last_point)
    assert any("di:waypoint[1]" in d for d in semantic_differences(ORIGINAL, reversed_edge.encode()))


def test_references_and_types_compare_by_namespace():
    foreign = changed('bpmnElement="tns:T"', 'xmlns:other="http://example.org/other" bpmnElement="other:T"')
    assert semantic_differences(ORIGINAL, foreign) == [
        f"{PLANE}/bpmndi:BPMNShape[@id=T_di]: attribute bpmnElement='tns:T' became 'other:T'"
    ]
    unbound = changed('xsi:type="semantic:tFormalExpression"', 'xsi:type="gone:tFormalExpression"')
    assert semantic_differences(ORIGINAL, unbound) == [
        f"{DEFS}/bpmn:process[@id=P]/bpmn:sequenceFlow[@id=F]/bpmn:conditionExpression[1]: "
        "attribute xsi:type='semantic:tFormalExpression' became 'gone:tFormalExpression'"
    ]
    assert semantic_differences(
        ORIGINAL, changed('xsi:type="dc:Point" x="136.0"', 'xsi:type="dc:Bounds" x="136.0"')
    ) == [f"{PLANE}/bpmndi:BPMNEdge[@id=F_di]/di:waypoint[1]: attribute xsi:type='dc:Point' became 'dc:Bounds'"]


def test_a_lost_element_with_an_id_is_named_by_its_id():
    saved = changed('<semantic:startEvent id="S" name="Start" isInterrupting="true">', '<semantic:startEvent id="S2">')
    assert semantic_differences(ORIGINAL, saved) == [
        f"{DEFS}/bpmn:process[@id=P]/bpmn:startEvent[@id=S]: element was lost",
        f"{DEFS}/bpmn:process[@id=P]/bpmn:startEvent[@id=S2]: element was added",
    ]
