"""Interchange: each of the 21 BPMN MIWG reference models loads in bpmn-js as the designer sets it up
(the npm build the app serves, with our spiffworkflow moddle extension) and saves back semantically
equal (tests/xml_semantics.py), apart from the losses of bpmn-js listed in KNOWN_LOSSES.

A model with known losses is a strict xfail raising KnownLoss: it fails for real if bpmn-js makes any
other difference, and turns into a failure (XPASS strict) once bpmn-js stops making them."""

from __future__ import annotations

import re

import pytest

from tests.conftest import MIWG
from tests.xml_semantics import semantic_differences

MODELS = sorted(path.name for path in MIWG.glob("*.bpmn"))
SCREENSHOT_MODEL = "C.1.0.bpmn"
VENDOR = "/vendor/bpmn-js"
STYLES = ("assets/diagram-js.css", "assets/bpmn-js.css", "assets/bpmn-font/css/bpmn.css")
DESCRIPTOR = "/static/designer/spiffworkflow-moddle.json"
ROUND_TRIP = """async ([models, descriptorUrl]) => {
  const descriptor = await (await fetch(descriptorUrl)).json();
  const container = document.createElement('div');
  container.style.cssText = 'width: 1200px; height: 800px; position: relative';
  document.body.replaceChildren(container);
  window.modeler = new BpmnJS({container, moddleExtensions: {spiffworkflow: descriptor}});
  const results = {};
  for (const [name, xml] of Object.entries(models)) {
    try {
      const {warnings} = await window.modeler.importXML(xml);
      const {xml: saved} = await window.modeler.saveXML({format: true});
      results[name] = {warnings: warnings.map((w) => w.message), saved};
    } catch (error) {
      results[name] = {error: String(error.message || error), warnings: (error.warnings || []).map((w) => w.message)};
    }
  }
  return results;
}"""
SHOW = """async (xml) => {
  await window.modeler.importXML(xml);
  window.modeler.get('canvas').zoom('fit-viewport');
}"""

# What bpmn-js 18 loses or changes, each with the differences it shows as (regular expressions).
GATEWAY_MARKER = (
    'adds isMarkerVisible="true" to exclusive gateway shapes that lack it (BPMN DI: absent means no X marker)',
    r"/bpmndi:BPMNShape\[@id=[^]]+\]: attribute isMarkerVisible='true' was added$",
)
CARRIAGE_RETURN = (
    "writes a carriage return (&#xD;) of a name attribute raw, so the name reads back with a space instead",
    r"\]: attribute name='[^']*\\r[^']*' became '",
)
SUBPROCESS_DIAGRAM = (
    "adds an empty BPMNDiagram (no id) with a BPMNPlane for each collapsed sub-process",
    r"^/bpmn:definitions\[[^/]*\]/bpmndi:BPMNDiagram\[\d+\]: element was added$",
)
ORPHAN_DI = (
    "drops the BPMNShape/BPMNEdge of every element of Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450, "
    "a process no participant of the collaboration references",
    r"/bpmndi:BPMN(Shape|Edge)\[@id=[ES]\d+__[0-9a-f-]+\]: element was lost$",
)
MESSAGE_KIND = (
    'drops messageVisibleKind="initiating" from the BPMNEdge of a message flow '
    "(bpmn-moddle's default; the XSD has none)",
    r"/bpmndi:BPMNEdge\[@id=[^]]+\]: attribute messageVisibleKind='initiating' was lost$",
)
EDGE_WITHOUT_ELEMENT = (
    "drops BPMNEdge _985753e3-a4ce-486b-908a-509d382259ed, which has no bpmnElement",
    r"/bpmndi:BPMNEdge\[@id=_985753e3-a4ce-486b-908a-509d382259ed\]: element was lost$",
)
UNRESOLVED_REFERENCE = (
    "drops the outMessageRef of 3 operations, whose reference triso:unspecified does not resolve",
    r"/bpmn:operation\[@id=[^]]+\]/bpmn:outMessageRef\[1\]: element was lost$",
)
CDATA_WHITESPACE = (
    "drops the whitespace around the CDATA body of 3 data output transformations",
    r"/bpmn:transformation\[1\]: text '\\n +<ns1:literalExpression .*\\n +' became '<ns1:literalExpression ",
)
FORMAL_EXPRESSION = (
    'writes <formalExpression> as <expression xsi:type="tFormalExpression"> in a resourceAssignmentExpression',
    r"/bpmn:resourceAssignmentExpression\[@id=[^]]+\]/bpmn:(formalExpression\[1\]: element was lost"
    r"|expression\[1\]: element was added)$",
)
QUALIFIED_TWIN = (
    "drops triso:constraintsType where the same element also has an unqualified constraintsType",
    r"/triso:allowedValues\[1\]: attribute triso:constraintsType='enumeration' was lost$",
)
KNOWN_LOSSES = {
    "A.2.1.bpmn": [CARRIAGE_RETURN, GATEWAY_MARKER],
    "A.3.0.bpmn": [SUBPROCESS_DIAGRAM],
    "B.1.0.bpmn": [ORPHAN_DI, SUBPROCESS_DIAGRAM],
    "B.2.0.bpmn": [ORPHAN_DI, MESSAGE_KIND, SUBPROCESS_DIAGRAM],
    "C.1.0.bpmn": [CARRIAGE_RETURN, GATEWAY_MARKER],
    "C.1.1.bpmn": [CARRIAGE_RETURN, GATEWAY_MARKER],
    "C.3.0.bpmn": [GATEWAY_MARKER, SUBPROCESS_DIAGRAM],
    "C.7.0.bpmn": [EDGE_WITHOUT_ELEMENT],
    "C.8.1.bpmn": [
        UNRESOLVED_REFERENCE,
        CDATA_WHITESPACE,
        FORMAL_EXPRESSION,
        QUALIFIED_TWIN,
    ],
}


class KnownLoss(Exception):
    """bpmn-js changed the model in the known ways listed for it, and in no other."""


def _param(model: str):
    if model not in KNOWN_LOSSES:
        return model
    reason = "bpmn-js " + "; ".join(description for description, _ in KNOWN_LOSSES[model])
    return pytest.param(model, marks=pytest.mark.xfail(strict=True, raises=KnownLoss, reason=reason))


def _xml_text(content: bytes) -> str:
    """The document as text, decoded by its XML declaration (the browser gets a string)."""
    declared = re.match(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", content)
    return content.decode(declared.group(1).decode() if declared else "utf-8")


@pytest.fixture(scope="module")
def modeler_page(live_server, browser):
    """One page of the app with bpmn-js loaded as the designer loads it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    for style in STYLES:
        page.add_style_tag(url=f"{live_server.url}{VENDOR}/{style}")
    page.add_script_tag(url=f"{live_server.url}{VENDOR}/bpmn-modeler.production.min.js")
    yield page
    context.close()


@pytest.fixture(scope="module")
def round_trips(modeler_page, live_server) -> dict:
    """Model name -> {"saved": XML, "warnings": [...]} or {"error": ..., "warnings": [...]}, all in one go."""
    models = {name: _xml_text((MIWG / name).read_bytes()) for name in MODELS}
    return modeler_page.evaluate(ROUND_TRIP, [models, live_server.url + DESCRIPTOR])


def test_the_reference_suite_has_its_21_models():
    assert len(MODELS) == 21, MODELS


@pytest.mark.parametrize("model", [_param(model) for model in MODELS])
def test_a_reference_model_loads_and_saves_back_unchanged(round_trips, model):
    result = round_trips[model]
    assert "error" not in result, f"{model} does not load: {result['error']} (warnings: {result['warnings']})"
    differences = semantic_differences((MIWG / model).read_bytes(), result["saved"].encode("utf-8"))
    known = KNOWN_LOSSES.get(model, [])
    unexplained = [d for d in differences if not any(re.search(pattern, d) for _, pattern in known)]
    assert not unexplained, f"{model} (import warnings: {result['warnings']}):\n" + "\n".join(unexplained)
    gone = [description for description, pattern in known if not any(re.search(pattern, d) for d in differences)]
    assert not gone, f"{model}: bpmn-js no longer does this, update KNOWN_LOSSES: {gone}"
    if differences:
        raise KnownLoss("\n".join(differences))


def test_a_loaded_model_shows_the_bpmn_io_watermark(modeler_page, round_trips, shoot):
    modeler_page.evaluate(SHOW, _xml_text((MIWG / SCREENSHOT_MODEL).read_bytes()))
    assert modeler_page.locator(".djs-container svg .djs-element").count() > 50
    assert modeler_page.locator(".bjs-powered-by").is_visible()
    assert shoot(modeler_page, SCREENSHOT_MODEL.removesuffix(".bpmn")).stat().st_size > 0
