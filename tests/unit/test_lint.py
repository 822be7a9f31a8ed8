"""The designer's validator: each lint rule flags what it should and nothing else, every problem
is reported (not only the first), the product diagrams pass, and no well-formed diagram crashes it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from engine import BundleFile, DefinitionError, Evaluator, parse_bundle, read_bundle
from engine.lint import Problem, validate_bundle, validate_decision_files
from tests.conftest import MIWG
from workflows.org.models import ROLES

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
MIWG_MODELS = sorted(MIWG.glob("*.bpmn"))
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

HEADER = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="definitions" targetNamespace="http://thidua.example/test">'
)
LANE = '<bpmn:laneSet id="lanes"><bpmn:lane id="clerk">{refs}</bpmn:lane></bpmn:laneSet>'


def process(
    *parts: str, executable: bool = True, name: str = "p.bpmn", lane: tuple[str, ...] = ("work",)
) -> BundleFile:
    refs = "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in lane)
    body = LANE.format(refs=refs) + "".join(parts)
    opening = f'<bpmn:process id="p" isExecutable="{str(executable).lower()}">'
    xml = f"{HEADER}{opening}{body}</bpmn:process></bpmn:definitions>"
    return BundleFile(name, xml.encode())


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
    )


def user_task(task_id: str = "work", properties: dict[str, str] | None = None) -> str:
    props = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in (properties or {}).items())
    extensions = (
        f"<bpmn:extensionElements><spiffworkflow:properties>{props}</spiffworkflow:properties></bpmn:extensionElements>"
        if props
        else ""
    )
    return f'<bpmn:userTask id="{task_id}">{extensions}</bpmn:userTask>'


START, END = '<bpmn:startEvent id="start"/>', '<bpmn:endEvent id="end"/>'
# start -> work -> end, work in lane "clerk"
SIMPLE = (START, user_task(), END, flow("f1", "start", "work"), flow("f2", "work", "end"))


def gateway(default: str | None = None, kind: str = "exclusiveGateway") -> str:
    attribute = f' default="{default}"' if default else ""
    return f'<bpmn:{kind} id="g"{attribute}/>'


def with_gateway(*flows: str, default: str | None = None, kind: str = "exclusiveGateway") -> BundleFile:
    """start -> g -> (end_a | end_b) with the given flows out of g."""
    return process(
        START,
        gateway(default, kind),
        '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>',
        flow("to_g", "start", "g"),
        *flows,
        lane=(),
    )


def lint(*files: BundleFile, roles=("clerk",), evaluator: Evaluator | None = None, **kwargs) -> list[Problem]:
    return validate_bundle(list(files), evaluator or Evaluator(), known_roles=roles, **kwargs)


def found(problems: list[Problem], code: str | None = None) -> set[tuple[str, str | None]]:
    return {(p.code, p.element_id) for p in problems if code is None or p.code == code}


def form(name: str, schema: dict) -> BundleFile:
    return BundleFile(name, json.dumps(schema).encode())


def test_a_sound_process_has_no_problems():
    assert lint(process(*SIMPLE)) == []


# Deploy checks


def test_a_file_that_is_not_well_formed_xml_is_one_deploy_problem_naming_it():
    problems = lint(process(*SIMPLE), BundleFile("broken.bpmn", b"<bpmn:definitions"))
    assert [(p.code, p.file, p.severity) for p in problems] == [("deploy", "broken.bpmn", "error")]
    assert "well-formed" in problems[0].message


def test_what_only_the_deploy_checks_refuse_is_reported_as_deploy():
    problems = lint(process(*SIMPLE, executable=False))
    assert [(p.code, p.file) for p in problems] == [("deploy", "p.bpmn")]
    assert "isExecutable" in problems[0].message


def test_a_refusal_that_a_lint_rule_reports_is_not_repeated_as_deploy():
    bad = with_gateway(flow("a", "g", "end_a", "x.__class__"), flow("b", "g", "end_b"), default="b")
    with pytest.raises(DefinitionError, match="refused"):
        parse_bundle([bad], Evaluator())
    problems = lint(bad)
    assert found(problems) == {("expression", "a")}


# Candidate roles


def test_a_user_task_outside_lanes_without_a_role_property_has_no_role():
    problems = lint(process(*SIMPLE, lane=()))
    assert found(problems) == {("no_role", "work")}  # the deploy check's refusal is not repeated
    assert problems[0].severity == "error"


def test_the_candidate_role_property_gives_a_task_its_role():
    task = user_task(properties={"candidateRole": "clerk"})
    assert lint(process(START, task, END, flow("f1", "start", "work"), flow("f2", "work", "end"), lane=())) == []


def test_an_unknown_role_is_named_with_the_known_ones():
    (problem,) = lint(process(*SIMPLE), roles=("manager", "director"))
    assert (problem.code, problem.element_id) == ("unknown_role", "work")
    assert "'clerk'" in problem.message and "director, manager" in problem.message


# Gateways


def test_a_gateway_without_default_and_an_unconditioned_flow_is_an_error_on_the_gateway():
    problems = lint(with_gateway(flow("a", "g", "end_a", "x > 1"), flow("b", "g", "end_b")))
    assert found(problems) == {("gateway_default", "g")}
    assert "no default flow" in problems[0].message and "flow b " in problems[0].message


def test_an_inclusive_gateway_needs_conditions_too():
    problems = lint(with_gateway(flow("a", "g", "end_a"), flow("b", "g", "end_b"), kind="inclusiveGateway"))
    assert found(problems) == {("gateway_default", "g")}


def test_a_gateway_whose_unconditioned_flow_is_the_default_passes():
    assert lint(with_gateway(flow("a", "g", "end_a", "x > 1"), flow("b", "g", "end_b"), default="b")) == []


def test_a_default_that_does_not_leave_the_gateway_is_an_error():
    problems = lint(with_gateway(flow("a", "g", "end_a", "x > 1"), flow("b", "g", "end_b", "x < 0"), default="to_g"))
    assert ("gateway_default", "g") in found(problems)
    assert any("to_g" in p.message and "does not leave" in p.message for p in problems)


def test_conditions_without_a_default_that_may_not_cover_every_case_are_a_warning():
    problems = lint(with_gateway(flow("a", "g", "end_a", "x > 1"), flow("b", "g", "end_b", "x < 0")))
    assert [(p.code, p.element_id, p.severity) for p in problems] == [("gateway_coverage", "g", "warning")]


@pytest.mark.parametrize(
    "first, second",
    [
        ("x < 5", "x >= 5"),
        ("x <= 5", "x  >  5"),
        ("approved", "not (approved)"),
        ("rank == 'A'", "rank != 'A'"),
        ("5 > x", "x >= 5"),
        ("role in ['a', 'b']", "role not in ['a', 'b']"),
        ("True", "x > 1"),
    ],
)
def test_conditions_that_visibly_cover_every_case_need_no_default(first, second):
    assert lint(with_gateway(flow("a", "g", "end_a", first), flow("b", "g", "end_b", second))) == []


@pytest.mark.parametrize("first, second", [("x < 5", "x > 5"), ("x == 1", "x == 2"), ("a", "not b")])
def test_conditions_that_are_not_complements_still_warn(first, second):
    problems = lint(with_gateway(flow("a", "g", "end_a", first), flow("b", "g", "end_b", second)))
    assert found(problems) == {("gateway_coverage", "g")}


# Reachability


def test_a_node_without_a_path_from_a_start_event_is_unreachable():
    orphan = '<bpmn:task id="orphan"/>'
    problems = lint(process(*SIMPLE, orphan, flow("f3", "orphan", "end")))
    assert found(problems) == {("unreachable", "orphan")}


def test_boundary_events_are_reached_through_their_activity():
    boundary = (
        '<bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:endEvent id="late_end"/>'
    )
    assert lint(process(*SIMPLE, boundary, flow("f3", "late", "late_end"))) == []


def test_link_catch_events_are_reached_from_throws_of_the_same_name():
    links = (
        '<bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="L"/></bpmn:intermediateThrowEvent>'
        '<bpmn:intermediateCatchEvent id="arrive"><bpmn:linkEventDefinition name="L"/></bpmn:intermediateCatchEvent>'
        '<bpmn:intermediateCatchEvent id="nowhere"><bpmn:linkEventDefinition name="M"/></bpmn:intermediateCatchEvent>'
    )
    problems = lint(
        process(
            START, user_task(), END, links, flow("f1", "start", "work"), flow("f2", "work", "go"),
            flow("f3", "arrive", "end"), flow("f4", "nowhere", "end"),
        )
    )  # fmt: skip
    assert found(problems) == {("unreachable", "nowhere")}


def test_an_event_subprocess_is_its_own_scope_entered_by_its_start_event():
    subprocess = (
        '<bpmn:subProcess id="on_cancel" triggeredByEvent="true">'
        '<bpmn:startEvent id="cancelled"><bpmn:signalEventDefinition/></bpmn:startEvent>'
        '<bpmn:task id="tidy"/><bpmn:task id="stuck"/><bpmn:endEvent id="tidied"/>'
        + flow("s1", "cancelled", "tidy")
        + flow("s2", "tidy", "tidied")
        + flow("s3", "cancelled", "stuck")
        + "</bpmn:subProcess>"
    )
    problems = lint(process(*SIMPLE, subprocess))
    assert found(problems) == {("dead_end", "stuck")}


def test_a_process_without_start_event_is_one_warning_on_the_process():
    problems = lint(process(user_task(), END, flow("f2", "work", "end")))
    assert ("unreachable", "p") in found(problems)
    assert [p.severity for p in problems if p.code == "unreachable"] == ["warning"]


def test_a_node_without_outgoing_flow_that_is_not_an_end_event_is_a_dead_end():
    problems = lint(process(*SIMPLE, '<bpmn:task id="stop"/>', flow("f3", "work", "stop")))
    assert found(problems, "dead_end") == {("dead_end", "stop")}
    assert "no outgoing sequence flow" in problems[0].message


def test_a_loop_without_exit_is_a_dead_end_for_each_of_its_nodes():
    loop = '<bpmn:task id="spin_a"/><bpmn:task id="spin_b"/>'
    problems = lint(
        process(
            *SIMPLE, loop, flow("f3", "start", "spin_a"), flow("f4", "spin_a", "spin_b"), flow("f5", "spin_b", "spin_a")
        )
    )
    assert found(problems) == {("dead_end", "spin_a"), ("dead_end", "spin_b")}
    assert all("no path to an end event" in p.message for p in problems)


# Expressions


def test_every_refused_expression_and_script_is_reported():
    script = '<bpmn:scriptTask id="compute"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    problems = lint(
        process(
            START, script, user_task(), END, flow("f0", "start", "compute"), flow("f1", "compute", "work"),
            flow("f2", "work", "end", "x.__class__"),
        )
    )  # fmt: skip
    assert found(problems) == {("expression", "compute"), ("expression", "f2")}
    assert all(p.severity == "error" and "refused" in p.message for p in problems)


def test_a_refused_timer_expression_is_reported_on_its_event():
    boundary = (
        '<bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>open('x')</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    )
    problems = lint(process(*SIMPLE, boundary, flow("f3", "late", "end")))
    assert found(problems) == {("expression", "late")}
    assert "open" in problems[0].message


def test_accepted_expressions_and_scripts_pass():
    script = (
        '<bpmn:scriptTask id="compute"><bpmn:script>total = sum([1, 2])\nbig = total &gt; 2</bpmn:script>'
        "</bpmn:scriptTask>"
    )
    bundle = process(
        START, script, user_task(), END, flow("f0", "start", "compute"), flow("f1", "compute", "work"),
        flow("f2", "work", "end"),
    )  # fmt: skip
    assert lint(bundle) == []


# Forms


def test_a_form_that_is_not_a_valid_json_schema_is_a_problem_of_its_file_with_the_json_path():
    problems = lint(process(*SIMPLE), form("bad.json", {"type": "object", "properties": {"x": {"type": "nope"}}}))
    problem = next(p for p in problems if p.code == "form_schema")
    assert (problem.file, problem.element_id, problem.severity) == ("bad.json", None, "error")
    assert "$.properties.x.type" in problem.message
    assert [p.code for p in problems] == ["form_schema"]  # not also as a deploy problem


def test_a_valid_form_schema_passes():
    assert lint(process(*SIMPLE), form("good.json", {"type": "object", "properties": {"x": {"type": "string"}}})) == []


def test_a_form_that_is_not_json_is_a_form_schema_problem():
    problems = lint(process(*SIMPLE), BundleFile("bad.json", b"{not json"))
    assert found(problems) == {("form_schema", None)}


def test_a_task_naming_a_form_that_is_not_in_the_bundle_is_form_missing():
    task = user_task(properties={"formSchema": "absent.json"})
    problems = lint(process(START, task, END, flow("f1", "start", "work"), flow("f2", "work", "end")))
    assert found(problems) == {("form_missing", "work")}
    assert "absent.json" in problems[0].message


def test_a_task_naming_a_form_of_the_bundle_passes():
    task = user_task(properties={"formSchema": "present.json"})
    bundle = process(START, task, END, flow("f1", "start", "work"), flow("f2", "work", "end"))
    assert lint(bundle, form("present.json", {"type": "object"})) == []


# Decision inputs


def dmn(name: str, decision: str, inputs: list[str], output: str = "result") -> BundleFile:
    columns = "".join(
        f'<input id="{decision}_in_{i}"><inputExpression id="{decision}_expr_{i}" typeRef="string">'
        f"<text>{text}</text></inputExpression></input>"
        for i, text in enumerate(inputs)
    )
    entries = "".join(f'<inputEntry id="{decision}_cell_{i}"><text></text></inputEntry>' for i in range(len(inputs)))
    xml = (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="{d}_defs" name="D" namespace="x">'
        '<decision id="{d}" name="D"><decisionTable id="{d}_table" hitPolicy="FIRST">{columns}'
        '<output id="{d}_out" name="{output}" typeRef="string"/>'
        '<rule id="{d}_rule">{entries}<outputEntry id="{d}_rule_out"><text>"x"</text></outputEntry></rule>'
        "</decisionTable></decision></definitions>"
    ).format(d=decision, columns=columns, output=output, entries=entries)
    return BundleFile(name, xml.encode())


def product_decisions() -> tuple[list[BundleFile], set[str]]:
    files = read_bundle([BPMN / "decisions"])
    names = {
        text.text.strip()
        for file in files
        for text in etree.fromstring(file.content).iterfind(".//dmn:inputExpression/dmn:text", DMN_NS)
    }
    return files, names


def test_the_product_decisions_read_only_the_data_they_are_given():
    files, names = product_decisions()
    assert validate_decision_files(files, Evaluator(), data_names=names) == []


def test_a_decision_input_reading_a_missing_name_is_dmn_input_on_that_input():
    files, names = product_decisions()
    problems = validate_decision_files(files, Evaluator(), data_names=names - {"members"})
    assert [(p.code, p.file, p.element_id) for p in problems] == [
        ("dmn_input", "council_quorum.dmn", "council_quorum_members")
    ]
    assert "'members'" in problems[0].message


def test_functions_builtins_and_comprehension_variables_are_not_data_names():
    evaluator = Evaluator({"working_days": lambda start, end: 0})
    decision = dmn("d.dmn", "d", ["len(items) + working_days(start, end) + sum([i for i in items])"])
    assert validate_decision_files([decision], evaluator, data_names={"items", "start", "end"}) == []
    problems = validate_decision_files([decision], evaluator, data_names={"items", "start"})
    assert [(p.code, p.element_id) for p in problems] == [("dmn_input", "d_in_0")]
    assert "'end'" in problems[0].message


def test_a_decision_file_that_does_not_load_is_a_deploy_problem():
    decision = dmn("d.dmn", "d", ["score"]).content.replace(b"<decisionTable", b"<decisionTable><oops/")
    problems = validate_decision_files([BundleFile("d.dmn", decision)], Evaluator(), data_names={"score"})
    assert [(p.code, p.file) for p in problems] == [("deploy", "d.dmn")]


def test_a_rule_with_more_cells_than_columns_is_dmn_table_on_the_rule_not_a_crash():
    decision = dmn("d.dmn", "d", ["score"]).content.replace(
        b'<inputEntry id="d_cell_0">', b'<inputEntry id="d_extra"><text></text></inputEntry><inputEntry id="d_cell_0">'
    )
    problems = validate_decision_files([BundleFile("d.dmn", decision)], Evaluator(), data_names={"score"})
    assert [(p.code, p.element_id) for p in problems] == [("dmn_table", "d_rule")]
    assert "2 inputEntry cells for 1 columns" in problems[0].message


def test_a_decision_without_a_table_and_a_file_without_a_decision_are_dmn_table_problems():
    tableless = re.sub(rb"<decisionTable.*</decisionTable>", b"", dmn("d.dmn", "d", ["score"]).content)
    empty = b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="e" name="E" namespace="x"/>'
    for files, expected in (
        ([BundleFile("d.dmn", tableless)], [("dmn_table", "d.dmn", "d")]),
        ([BundleFile("e.dmn", empty)], [("dmn_table", "e.dmn", None)]),
    ):
        problems = validate_decision_files(files, Evaluator(), data_names=())
        assert [(p.code, p.file, p.element_id) for p in problems] == expected
        assert [(p.code, p.file, p.element_id) for p in lint(process(*SIMPLE), *files)] == expected


def test_every_refused_decision_cell_of_a_bundle_is_reported():
    decision = dmn("d.dmn", "d", ["score"]).content.replace(
        b"<text></text></inputEntry>", b"<text>&gt; x.y</text></inputEntry>"
    )
    decision = decision.replace(b'<text>"x"</text>', b"<text>open(1)</text>")
    problems = lint(process(*SIMPLE), BundleFile("d.dmn", decision), data_names={"score"})
    assert found(problems) == {("expression", "d_cell_0"), ("expression", "d_rule_out")}


def test_bundle_decisions_may_read_form_fields_script_results_data_objects_and_decision_outputs():
    script = '<bpmn:scriptTask id="compute"><bpmn:script>level, extra = 1, 2</bpmn:script></bpmn:scriptTask>'
    data_object = '<bpmn:dataObject id="bonus_object" name="bonus"/>'
    bundle = [
        process(
            START,
            script,
            user_task(),
            END,
            data_object,
            flow("f0", "start", "compute"),
            flow("f1", "compute", "work"),
            flow("f2", "work", "end"),
        ),  # fmt: skip
        form("score.json", {"type": "object", "properties": {"score": {"type": "number"}}}),
        dmn("grade.dmn", "grade_decision", ["score + level + bonus + base", "rank"], output="grade"),
        dmn("rank.dmn", "rank_decision", ["grade"], output="rank"),
    ]
    assert found(lint(*bundle, data_names={"base"}), "dmn_input") == set()
    problems = lint(*bundle[:1], *bundle[2:], data_names={"base"})
    assert found(problems, "dmn_input") == {("dmn_input", "grade_decision_in_0")}
    assert any("'score'" in p.message for p in problems)


# Whole bundles


def test_problems_are_sorted_by_file_then_element():
    bundle = [
        process(*SIMPLE, '<bpmn:task id="z_orphan"/>', '<bpmn:task id="a_orphan"/>', name="b.bpmn", lane=()),
        process(*SIMPLE, name="a.bpmn"),
    ]
    problems = lint(*bundle, roles=())
    positions = [(p.file or "", p.element_id or "") for p in problems]
    assert positions == sorted(positions) and positions[0][0] == "a.bpmn"


def product_bundle() -> list[BundleFile]:
    return read_bundle([BPMN / "processes", BPMN / "forms"])


def test_the_product_diagrams_have_no_errors():
    problems = validate_bundle(product_bundle(), Evaluator(), known_roles=ROLES)
    for problem in problems:
        print(problem)
    assert [p for p in problems if p.severity == "error"] == []


def test_removing_the_default_of_a_gateway_of_nomination_is_gateway_default_on_that_gateway():
    bundle = [
        BundleFile(f.name, f.content.replace(b' default="to_intake_direct"', b"")) if f.name == "nomination.bpmn" else f
        for f in product_bundle()
    ]
    assert bundle != product_bundle()
    problems = validate_bundle(bundle, Evaluator(), known_roles=ROLES)
    assert [(p.code, p.file, p.element_id) for p in problems if p.severity == "error"] == [
        ("gateway_default", "nomination.bpmn", "has_bloc")
    ]


@pytest.mark.parametrize("path", MIWG_MODELS, ids=lambda p: p.name)
def test_miwg_reference_models_are_validated_without_crashing(path):
    problems = validate_bundle([BundleFile(path.name, path.read_bytes())], Evaluator(), known_roles=set())
    assert isinstance(problems, list)
    assert all(isinstance(p, Problem) and p.severity in ("error", "warning") and p.message for p in problems)


def test_there_are_21_miwg_reference_models():
    assert len(MIWG_MODELS) == 21
