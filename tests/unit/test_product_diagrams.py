"""The product's diagrams deploy, and carry diagram interchange for every element and flow, so
bpmn-js can draw them (designer and audit views)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine import parse_bundle, read_bundle
from workflows.bootstrap import build_evaluator

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
PROCESSES = sorted((BPMN / "processes").glob("*.bpmn"))


def test_processes_and_forms_deploy_as_one_bundle():
    definitions = parse_bundle(read_bundle([BPMN / "processes", BPMN / "forms"]), build_evaluator())
    assert {d.process_id for d in definitions} == {"nomination", "ad_hoc_nomination", "revocation"}


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_every_element_and_flow_is_drawn(path):
    root = etree.parse(str(path)).getroot()
    drawn = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    process = root.find("bpmn:process", NS)
    elements = {el.get("id") for el in process if el.get("id") and etree.QName(el).localname != "laneSet"}
    elements |= {lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)}
    elements |= {p.get("id") for p in root.iterfind(".//bpmn:participant", NS)}
    assert elements - drawn == set()
