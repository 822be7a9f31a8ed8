"""Deploying bundles: versions, idempotence, and nothing stored on refusal."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from engine import DefinitionError
from engine.models import DefinitionFile, ProcessDefinition
from tests.conftest import FIXTURES
from workflows.processes import queries as process_queries
from workflows.processes import services as ps


def _count(services, model):
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_deploy_versions_and_is_idempotent(services, tmp_path):
    bundle = tmp_path / "review"
    shutil.copytree(FIXTURES / "review", bundle)
    (first,) = ps.deploy(services, [bundle], "designer")
    (again,) = ps.deploy(services, [bundle], "designer")
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created, again.id) == (1, False, first.id)

    form = bundle / "prepare.json"
    form.write_text(form.read_text().replace('"maxLength": 200', '"maxLength": 300'))
    (second,) = ps.deploy(services, [bundle], "designer")
    assert (second.process_id, second.version, second.created) == ("review", 2, True)
    assert _count(services, DefinitionFile) == 8  # four files kept verbatim per version


def test_instances_start_on_the_latest_version(services, tmp_path):
    bundle = tmp_path / "review"
    shutil.copytree(FIXTURES / "review", bundle)
    ps.deploy(services, [bundle], "designer")
    (bundle / "review.bpmn").write_text((bundle / "review.bpmn").read_text().replace("Two-level review", "Review v2"))
    (v2,) = ps.deploy(services, [bundle], "designer")
    result = ps.start_process(services, "review", "someone", {"unit": "unit:A"})
    summaries = process_queries.definition_summaries(services)
    assert [(s.version, s.instances) for s in summaries] == [(1, 0), (2, 1)]
    assert result.status == "running" and v2.version == 2


def test_refused_bundle_stores_nothing(services, tmp_path):
    bundle = tmp_path / "review"
    shutil.copytree(FIXTURES / "review", bundle)
    bpmn = bundle / "review.bpmn"
    bpmn.write_text(bpmn.read_text().replace('"PT1H"', '__import__("os").getcwd()'))
    with pytest.raises(DefinitionError, match="approve_overdue"):
        ps.deploy(services, [bundle], "designer")
    assert _count(services, ProcessDefinition) == 0
    assert _count(services, DefinitionFile) == 0
