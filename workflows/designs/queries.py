"""What process designers read: every process with its versions and running instances, the rule
sets, a draft and what the validator finds in it, the differences between two versions, the
instances still on a version and the dry run of moving them to another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import case, func, select

from engine import BundleDiff, MigrationCheck, Problem, check_migration, diff_bundles, latest_definition
from engine.models import HumanTask, ProcessDefinition, ProcessInstance

from ..awards.models import RuleSet, RuleSetRevision
from ..uow import Services
from . import drafts
from .drafts import DraftView
from .models import PROCESS, RULES, Draft

ACTIVE = ("running", "suspended")


@dataclass(frozen=True)
class VersionRow:
    definition_id: int
    version: int
    deployed_at: datetime
    deployed_by: str
    active: int
    total: int


@dataclass(frozen=True)
class ProcessEntry:
    process_id: str
    name: str
    versions: tuple[VersionRow, ...]
    draft_id: str | None


@dataclass(frozen=True)
class RuleSetEntry:
    rule_set_id: str
    name: str
    jurisdiction_id: str
    revision: int
    deployed_at: datetime
    deployed_by: str
    draft_id: str | None


@dataclass(frozen=True)
class InstanceRow:
    instance_id: str
    business_key: str | None
    status: str
    started_at: datetime
    open_tasks: tuple[str, ...]


def processes(services: Services) -> list[ProcessEntry]:
    """Every process with its versions (how many instances run on each) and its open draft."""
    active = func.sum(case((ProcessInstance.status.in_(ACTIVE), 1), else_=0))
    with services.session_factory() as session:
        rows = session.execute(
            select(ProcessDefinition, func.count(ProcessInstance.id), active)
            .outerjoin(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .group_by(ProcessDefinition.id)
            .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())
        ).all()
        open_drafts = dict(session.execute(select(Draft.subject, Draft.id).where(Draft.kind == PROCESS)).all())
    entries: dict[str, list] = {}
    names = {}
    for definition, total, running in rows:
        names.setdefault(definition.process_id, definition.name)
        entries.setdefault(definition.process_id, []).append(
            VersionRow(
                definition.id, definition.version, definition.deployed_at, definition.deployed_by, running or 0, total
            )
        )
    return [ProcessEntry(pid, names[pid], tuple(versions), open_drafts.get(pid)) for pid, versions in entries.items()]


def rule_sets(services: Services) -> list[RuleSetEntry]:
    newest = (
        select(RuleSetRevision.rule_set_id, func.max(RuleSetRevision.revision).label("revision"))
        .group_by(RuleSetRevision.rule_set_id)
        .subquery()
    )
    with services.session_factory() as session:
        rows = session.execute(
            select(RuleSet, RuleSetRevision)
            .join(newest, newest.c.rule_set_id == RuleSet.id)
            .join(
                RuleSetRevision,
                (RuleSetRevision.rule_set_id == RuleSet.id) & (RuleSetRevision.revision == newest.c.revision),
            )
            .order_by(RuleSet.jurisdiction_id, RuleSet.valid_from)
        ).all()
        open_drafts = dict(session.execute(select(Draft.subject, Draft.id).where(Draft.kind == RULES)).all())
    return [
        RuleSetEntry(
            rule_set.id,
            rule_set.name,
            rule_set.jurisdiction_id,
            revision.revision,
            revision.deployed_at,
            revision.deployed_by,
            open_drafts.get(rule_set.id),
        )
        for rule_set, revision in rows
    ]


def draft(services: Services, draft_id: str) -> DraftView:
    with services.session_factory() as session:
        return drafts.view_of(session, drafts.draft_of(session, draft_id))


def active_instances(services: Services, process_id: str, version: int) -> list[InstanceRow]:
    """Instances still running (or suspended) on a version, with their open tasks' names."""
    with services.uow() as uow:
        definition = latest_definition(uow, process_id, version)
        instances = uow.session.execute(
            select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status, ProcessInstance.started_at)
            .where(ProcessInstance.definition_id == definition.id, ProcessInstance.status.in_(ACTIVE))
            .order_by(ProcessInstance.started_at)
        ).all()
        tasks: dict[str, list[str]] = {}
        open_tasks = select(HumanTask.instance_id, HumanTask.name).where(
            HumanTask.instance_id.in_([row.id for row in instances]), HumanTask.state == "open"
        )
        for instance_id, name in uow.session.execute(open_tasks):
            tasks.setdefault(instance_id, []).append(name)
    return [
        InstanceRow(row.id, row.business_key, row.status, row.started_at, tuple(tasks.get(row.id, ())))
        for row in instances
    ]


def version_diff(services: Services, process_id: str, old: int, new: int) -> BundleDiff:
    """What changed between two versions of a process: elements added, removed and changed."""
    with services.uow() as uow:
        files = [drafts.definition_files(uow, latest_definition(uow, process_id, v).id) for v in (old, new)]
    return diff_bundles(*files)


def rule_set_diff(services: Services, rule_set_id: str, old: int, new: int) -> BundleDiff:
    with services.session_factory() as session:
        files = [drafts.bundle(drafts.rule_revision(session, rule_set_id, revision).files) for revision in (old, new)]
    return diff_bundles(*files)


def validate_draft(services: Services, draft_id: str) -> list[Problem]:
    with services.session_factory() as session:
        row = drafts.draft_of(session, draft_id)
        return drafts.problems(session, services.runtime.evaluator, row)


def plan_migration(
    services: Services, process_id: str, instance_ids: Sequence[str], target_version: int
) -> list[MigrationCheck]:
    """The dry run: which instances can move to the target version, and why the others cannot."""
    with services.uow() as uow:
        target = latest_definition(uow, process_id, target_version)
        return check_migration(uow, list(instance_ids), target.id)
