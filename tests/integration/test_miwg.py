"""Interchange: each of the 21 BPMN MIWG reference models either deploys or is refused with a message
that names an element of the file and says why. None of them deploys today (most are not executable)."""

from __future__ import annotations

import pytest
from lxml import etree

from engine import BundleFile, DefinitionError, parse_bundle
from tests.conftest import MIWG
from workflows.bootstrap import build_evaluator

NOT_EXECUTABLE = 'no executable process in the bundle: set isExecutable="true" on process '
OPERATOR = "A Service Task must have an operator."
# Model -> (element the refusal names, the start of its reason).
REFUSALS = {
    "A.1.0.bpmn": ("WFP-6-", NOT_EXECUTABLE + "WFP-6-"),
    "A.2.0.bpmn": ("WFP-6-", NOT_EXECUTABLE + "WFP-6-"),
    "A.2.1.bpmn": ("_To9ZoTOCEeSknpIVFCxNIQ", NOT_EXECUTABLE + "_To9ZoTOCEeSknpIVFCxNIQ"),
    "A.3.0.bpmn": ("WFP-6-", NOT_EXECUTABLE + "WFP-6-"),
    "A.4.0.bpmn": ("WFP-6-1", NOT_EXECUTABLE + "WFP-6-1 (or on the other process)"),
    "A.4.1.bpmn": (
        "sid-34746A54-1D7D-46CA-B219-0C4CEAE51170",
        NOT_EXECUTABLE + "sid-34746A54-1D7D-46CA-B219-0C4CEAE51170 (or on the other process)",
    ),
    "B.1.0.bpmn": ("DS1373655174514", "data store 'Data Store Reference' has no implementation in this engine"),
    "B.2.0.bpmn": ("DS1373638079677", "data store 'Data Store Reference' has no implementation in this engine"),
    "C.1.0.bpmn": ("archiveInvoice", OPERATOR),
    "C.1.1.bpmn": (
        "sid-14ef3d18-7218-4f57-98f0-bb595114754b",
        "data store 'Financial Accounting System' has no implementation in this engine",
    ),
    "C.2.0.bpmn": ("WFP-Page_1-1", NOT_EXECUTABLE + "WFP-Page_1-1 (or on one of the 3 others)"),
    "C.3.0.bpmn": (
        "_cd6f230f-13c3-4027-aa3e-57de601a1ab2",
        "Exactly one start event is required in a SubWorkflow Task; found 0.",
    ),
    "C.4.0.bpmn": (
        "_d367181e-c25a-407e-a5fb-817a27698a30",
        "data store 'Employee Details' has no implementation in this engine",
    ),
    "C.5.0.bpmn": (
        "_776bd6ca-5f18-432f-a748-f1930bfdf16e",
        "data store 'Bank System' has no implementation in this engine",
    ),
    "C.6.0.bpmn": ("_898aa942-9a96-4405-ae71-22b5e2e3d235", NOT_EXECUTABLE + "_898aa942-9a96-4405-ae71-22b5e2e3d235"),
    "C.7.0.bpmn": ("_4a690dd7-809a-4fa9-ad63-515ac6685375", NOT_EXECUTABLE + "_4a690dd7-809a-4fa9-ad63-515ac6685375"),
    "C.8.0.bpmn": ("VacationRequestProcess", NOT_EXECUTABLE + "VacationRequestProcess"),
    "C.8.1.bpmn": ("_2b960d84-feb1-46a9-a1a1-c300dd996b99", OPERATOR),
    "C.9.0.bpmn": ("ServiceTask_GetCreditScore", OPERATOR),
    "C.9.1.bpmn": ("BoundaryEvent_1", "cycle timers are not supported: use a duration or a date"),
    "C.9.2.bpmn": (
        "CallActivity_RequestDocument",
        "A multiinstance task must specify a cardinality or a loop input data reference.",
    ),
}


@pytest.fixture(scope="module")
def evaluator():
    return build_evaluator()


def test_the_reference_suite_has_its_21_models():
    assert sorted(path.name for path in MIWG.glob("*.bpmn")) == sorted(REFUSALS)


@pytest.mark.parametrize("model", sorted(REFUSALS))
def test_a_reference_model_is_refused_naming_an_element_of_its_file(model, evaluator):
    content = (MIWG / model).read_bytes()
    with pytest.raises(DefinitionError) as caught:
        parse_bundle([BundleFile(model, content)], evaluator)
    error = caught.value
    element_id, reason = REFUSALS[model]
    assert (error.file, error.element_id) == (model, element_id), error
    assert error.reason.startswith(reason), error
    assert "cannot be parsed" not in error.reason
    assert etree.fromstring(content).xpath("//*[@id=$id]", id=element_id), f"{element_id} is not in {model}"
