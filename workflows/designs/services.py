"""What process designers do, each in one transaction: open a draft from the newest version of a
process or from a rule set's current decision tables (or import a new process), save its files
(optimistically, on the draft's revision), discard it, deploy a draft without errors as a new
immutable process version or rule set revision (recorded in the operation log), and move running
instances to another version."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import func, select

import engine
from engine import (
    BundleFile,
    ConcurrentUpdateError,
    DefinitionError,
    UnitOfWork,
    latest_definition,
    migrate_instance,
)
from engine.definitions import BPMN_NS, MAX_BUNDLE_BYTES, parse_xml
from engine.models import ProcessDefinition, ProcessInstance

from ..awards.models import RuleFile, RuleSet, RuleSetRevision
from ..errors import DomainError, NotFoundError
from ..operations import log
from ..uow import Services
from . import drafts
from .drafts import DraftView
from .models import DRAFT_KINDS, PROCESS, RULES, Draft

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deployment:
    kind: str
    subject: str
    version: int


@dataclass(frozen=True)
class MigrationOutcome:
    instance_id: str
    moved: bool
    reasons: tuple[str, ...]


# --- reading -----------------------------------------------------------------------------------


# --- drafts ------------------------------------------------------------------------------------


def open_draft(services: Services, kind: str, subject: str, actor: str) -> DraftView:
    """The draft of a process or rule set: the one being edited, or a new one from the newest
    version. Raises NotFoundError for an unknown process or rule set."""
    if kind not in DRAFT_KINDS:
        raise DomainError("invalid_draft_kind", f"a draft is of a process or of rules, not {kind!r}")
    with services.uow() as uow:
        session = uow.session
        existing = session.scalar(select(Draft).where(Draft.kind == kind, Draft.subject == subject))
        if existing is not None:
            return drafts.view_of(session, existing)
        if kind == PROCESS:
            try:
                definition = latest_definition(uow, subject)
            except engine.DefinitionNotFoundError:
                raise NotFoundError("process", subject) from None
            files, base = drafts.process_files(uow, definition.id, subject), definition.version
        else:
            if session.get(RuleSet, subject) is None:
                raise NotFoundError("rule set", subject)
            newest = drafts.newest_rule_revision(session, subject)
            files, base = dict(newest.files), newest.revision
        row = drafts.new_draft(uow, kind, subject, base, files, actor)
        view = drafts.view_of(session, row)
        uow.commit()
    logger.info("draft %s of %s %s opened by %s", view.id, kind, subject, actor)
    return view


def import_process(services: Services, name: str, content: bytes, actor: str) -> DraftView:
    """A draft for a new process from an uploaded BPMN file (from another tool, say): its first
    process becomes the draft's subject. Raises DefinitionError for a file that does not parse,
    DomainError when the process exists already (edit it instead) or is being drafted."""
    drafts.check_file(name, content, allowed=(".bpmn",))
    root = parse_xml(BundleFile(name, content))
    process = next(root.iter(f"{{{BPMN_NS}}}process"), None)
    if process is None or not process.get("id"):
        raise DefinitionError("the file holds no BPMN process", file=name)
    subject = process.get("id")
    with services.uow() as uow:
        session = uow.session
        exists = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_id == subject).limit(1))
        if exists is not None or session.scalar(
            select(Draft.id).where(Draft.kind == PROCESS, Draft.subject == subject)
        ):
            raise DomainError("process_exists", f"process {subject} exists or is being drafted: edit it instead")
        row = drafts.new_draft(uow, PROCESS, subject, None, {name: content.decode("utf-8")}, actor)
        view = drafts.view_of(session, row)
        uow.commit()
    return view


def save_draft_file(services: Services, draft_id: str, name: str, content: bytes, revision: int, actor: str) -> int:
    """Store one file of a draft (a new name adds a file) if the draft is still at `revision`;
    returns the new revision. Raises ConcurrentUpdateError when someone saved in between,
    DefinitionError for a file that is too large, not UTF-8 or not well-formed XML."""
    with services.uow() as uow:
        row = drafts.draft_of(uow.session, draft_id)
        drafts.check_file(name, content, allowed=(".dmn",) if row.kind == RULES else (".bpmn", ".dmn", ".json"))
        if name.endswith((".bpmn", ".dmn")):
            parse_xml(BundleFile(name, content))
        files = dict(row.files) | {name: content.decode("utf-8")}
        if sum(len(text.encode("utf-8")) for text in files.values()) > MAX_BUNDLE_BYTES:
            raise DefinitionError(f"the draft would be larger than {MAX_BUNDLE_BYTES} bytes", file=name)
        new_revision = drafts.bump(uow, row, revision, actor, files=files)
        uow.commit()
    return new_revision


def discard_draft(services: Services, draft_id: str, revision: int, actor: str) -> None:
    with services.uow() as uow:
        row = drafts.draft_of(uow.session, draft_id)
        drafts.bump(uow, row, revision, actor)
        uow.session.delete(row)
        uow.commit()
    logger.info("draft %s discarded by %s", draft_id, actor)


def deploy_draft(services: Services, draft_id: str, revision: int, actor: str, reason: str) -> Deployment:
    """Deploy a draft without errors as the next version (process) or revision (rule set) and
    remove the draft; the operation log records the change with `reason`. Raises DomainError
    reason_required, InvalidDraftError, ConcurrentUpdateError (the draft was saved since
    `revision`, or a newer version was deployed since the draft was opened)."""
    action = {PROCESS: log.PROCESS_DEPLOY, RULES: log.RULES_DEPLOY}
    reason = log.require_reason(reason, "deploy")
    with services.uow() as uow:
        session = uow.session
        row = drafts.draft_of(session, draft_id)
        if row.revision != revision:
            raise drafts.StaleDraftError(row.subject, row.revision, row.updated_by)
        problems = drafts.problems(session, services.runtime.evaluator, row)
        if any(p.severity == "error" for p in problems):
            raise drafts.InvalidDraftError(problems)
        if row.kind == PROCESS:
            deployment, old, new = _deploy_process(uow, services, row, actor)
        else:
            deployment, old, new = _deploy_rules(uow, row, actor)
        drafts.bump(uow, row, revision, actor)
        session.delete(row)
        log.record(
            session,
            actor=actor,
            action=action[row.kind],
            subject_type="process" if row.kind == PROCESS else "rule_set",
            subject_id=row.subject,
            reason=reason,
            old=old,
            new=new,
            at=uow.clock(),
        )
        uow.commit()
    logger.info("%s %s deployed as %s by %s", deployment.kind, deployment.subject, deployment.version, actor)
    return deployment


# --- migration ---------------------------------------------------------------------------------


def migrate(
    services: Services, process_id: str, instance_ids: Sequence[str], target_version: int, actor: str, reason: str
) -> list[MigrationOutcome]:
    """Move each instance in its own transaction, with its operation log entry: one that cannot
    move is left as it was. Raises DomainError reason_required before any moves."""
    reason = log.require_reason(reason, log.MIGRATE)
    outcomes = []
    for instance_id in instance_ids:
        try:
            with services.uow() as uow:
                target = latest_definition(uow, process_id, target_version)
                source = uow.session.execute(
                    select(ProcessDefinition.process_id, ProcessDefinition.version)
                    .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
                    .where(ProcessInstance.id == instance_id)
                ).first()
                migrate_instance(uow, instance_id, target.id, actor, reason)
                log.record(
                    uow.session,
                    actor=actor,
                    action=log.MIGRATE,
                    subject_type="instance",
                    subject_id=instance_id,
                    reason=reason,
                    old={"process_id": source.process_id, "version": source.version},
                    new={"process_id": target.process_id, "version": target.version},
                    at=uow.clock(),
                )
                uow.commit()
        except engine.MigrationError as exc:
            outcomes.append(MigrationOutcome(instance_id, False, exc.reasons))
        except (engine.InstanceNotFoundError, ConcurrentUpdateError, engine.ProcessError) as exc:
            outcomes.append(MigrationOutcome(instance_id, False, (str(exc),)))
        else:
            outcomes.append(MigrationOutcome(instance_id, True, ()))
    logger.info(
        "%d of %d instances of %s migrated to version %s by %s",
        sum(o.moved for o in outcomes),
        len(outcomes),
        process_id,
        target_version,
        actor,
    )
    return outcomes


# --- internals ---------------------------------------------------------------------------------


def _deploy_process(uow: UnitOfWork, services: Services, row: Draft, actor: str) -> tuple[Deployment, dict, dict]:
    """The deployment, and the process before and after it for the operation log."""
    session = uow.session
    latest = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == row.subject)
    )
    if latest != row.base_version:
        raise ConcurrentUpdateError(
            f"process {row.subject} (version {latest} was deployed after this draft was opened from "
            f"version {row.base_version}; discard the draft and edit version {latest})"
        )
    deployed = engine.deploy_bundle(uow, drafts.bundle(row.files), services.runtime.evaluator, actor)
    mine = next(d for d in deployed if d.process_id == row.subject)
    if not mine.created:
        raise DomainError("nothing_changed", f"the draft is identical to version {mine.version} of {row.subject}")
    old = None
    if latest is not None:
        previous = latest_definition(uow, row.subject, latest)
        old = {"version": latest, "files": _digests(drafts.definition_files(uow, previous.id))}
    new = {"version": mine.version, "files": _digests(drafts.bundle(row.files))}
    return Deployment(PROCESS, row.subject, mine.version), old, new


def _deploy_rules(uow: UnitOfWork, row: Draft, actor: str) -> tuple[Deployment, dict, dict]:
    """The deployment, and the rule set before and after it for the operation log."""
    session = uow.session
    newest = drafts.newest_rule_revision(session, row.subject)
    if newest.revision != row.base_version:
        raise ConcurrentUpdateError(
            f"rule set {row.subject} (revision {newest.revision} was deployed after this draft was opened from "
            f"revision {row.base_version})"
        )
    if newest.files == row.files:
        raise DomainError("nothing_changed", f"the draft is identical to revision {newest.revision} of {row.subject}")
    current = {f.name: f for f in session.scalars(select(RuleFile).where(RuleFile.rule_set_id == row.subject))}
    for name, text in row.files.items():
        if name in current:
            current[name].content = text
        else:
            session.add(RuleFile(rule_set_id=row.subject, name=name, content=text))
    for name in current.keys() - row.files.keys():
        session.delete(current[name])
    revision = newest.revision + 1
    session.add(
        RuleSetRevision(
            rule_set_id=row.subject,
            revision=revision,
            files=dict(row.files),
            deployed_at=uow.clock(),
            deployed_by=actor,
        )
    )
    session.flush()
    old = {"revision": newest.revision, "files": _digests(drafts.bundle(newest.files))}
    new = {"revision": revision, "files": _digests(drafts.bundle(row.files))}
    return Deployment(RULES, row.subject, revision), old, new


def _digests(files: list[BundleFile]) -> dict[str, str]:
    """File name -> SHA-256 of its content: what the log keeps of a version (the files
    themselves stay with the version)."""
    return {file.name: hashlib.sha256(file.content).hexdigest() for file in files}
