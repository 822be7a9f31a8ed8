"""Service functions of the process designers. Each owns its transaction.

A draft is opened from the newest version of a process (the .bpmn file holding it plus the
bundle's form schemas and decision files) or from a rule set's current decision tables; saves
are optimistic on the draft's revision; validate runs the engine's deploy checks and our lint
rules; deploy turns a draft without errors into a new immutable process version or a new
rule set revision, and removes the draft."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import case, func, select

import engine
from engine import (
    BundleDiff,
    BundleFile,
    ConcurrentUpdateError,
    DefinitionError,
    MigrationCheck,
    Problem,
    UnitOfWork,
    check_migration,
    diff_bundles,
    latest_definition,
    migrate_instance,
    validate_bundle,
    validate_decision_files,
)
from engine.definitions import BPMN_NS, MAX_BUNDLE_BYTES, MAX_FILE_BYTES, parse_xml
from engine.models import DefinitionFile, HumanTask, ProcessDefinition, ProcessInstance

from ..audit import operations
from ..awards.models import Award, RuleFile, RuleSet, RuleSetRevision
from ..bootstrap import Services
from ..errors import DomainError, NotFoundError
from ..nominees.features import PERSON_FEATURES, UNIT_FEATURES
from ..org.models import ROLES
from .models import DRAFT_KINDS, PROCESS, RULES, Draft

logger = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,195}\.(bpmn|dmn|json)$")
# What the rule sets' decision tables are given: the nominee's features (eligibility), the award
# and the council's size (vote rules), the step (deadlines).
RULE_DATA = (*PERSON_FEATURES, *UNIT_FEATURES, "award_code", "members", "step")
# What every process instance starts with besides its forms' fields (workflows.nominations).
PROCESS_DATA = ("award_code", "rule_set_id", "unit_scope", "bloc_scope", "jurisdiction_scope", "nomination_id")
ACTIVE = ("running", "suspended")


class InvalidDraftError(DomainError):
    """The draft has errors; deploy refused. `problems` are all the validator found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.details = {"problems": [asdict(problem) for problem in problems]}
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("invalid_draft", f"the draft has {len(errors)} error(s): {errors[0].message}")


class StaleDraftError(ConcurrentUpdateError):
    """Someone saved the draft after the revision the editor had; says who and the revision now."""

    def __init__(self, subject: str, revision: int | None, updated_by: str | None):
        self.details = {"revision": revision, "updated_by": updated_by}
        super().__init__(f"the draft of {subject} (now at revision {revision}, saved by {updated_by})")


@dataclass(frozen=True)
class DraftView:
    id: str
    kind: str
    subject: str
    title: str
    base_version: int | None
    revision: int
    files: dict[str, str]
    updated_by: str
    updated_at: datetime

    @property
    def file_names(self) -> list[str]:
        return list(self.files)


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
class Deployment:
    kind: str
    subject: str
    version: int


@dataclass(frozen=True)
class InstanceRow:
    instance_id: str
    business_key: str | None
    status: str
    started_at: datetime
    open_tasks: tuple[str, ...]


@dataclass(frozen=True)
class MigrationOutcome:
    instance_id: str
    moved: bool
    reasons: tuple[str, ...]


# --- reading -----------------------------------------------------------------------------------


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
        drafts = dict(session.execute(select(Draft.subject, Draft.id).where(Draft.kind == PROCESS)).all())
    entries: dict[str, list] = {}
    names = {}
    for definition, total, running in rows:
        names.setdefault(definition.process_id, definition.name)
        entries.setdefault(definition.process_id, []).append(
            VersionRow(
                definition.id, definition.version, definition.deployed_at, definition.deployed_by, running or 0, total
            )
        )
    return [ProcessEntry(pid, names[pid], tuple(versions), drafts.get(pid)) for pid, versions in entries.items()]


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
        drafts = dict(session.execute(select(Draft.subject, Draft.id).where(Draft.kind == RULES)).all())
    return [
        RuleSetEntry(
            rule_set.id,
            rule_set.name,
            rule_set.jurisdiction_id,
            revision.revision,
            revision.deployed_at,
            revision.deployed_by,
            drafts.get(rule_set.id),
        )
        for rule_set, revision in rows
    ]


def draft(services: Services, draft_id: str) -> DraftView:
    with services.session_factory() as session:
        return _view(session, _draft(session, draft_id))


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
        files = [_definition_files(uow, latest_definition(uow, process_id, v).id) for v in (old, new)]
    return diff_bundles(*files)


def rule_set_diff(services: Services, rule_set_id: str, old: int, new: int) -> BundleDiff:
    with services.session_factory() as session:
        files = [_bundle(_rule_revision(session, rule_set_id, revision).files) for revision in (old, new)]
    return diff_bundles(*files)


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
            return _view(session, existing)
        if kind == PROCESS:
            try:
                definition = latest_definition(uow, subject)
            except engine.DefinitionNotFoundError:
                raise NotFoundError("process", subject) from None
            files, base = _process_files(uow, definition.id, subject), definition.version
        else:
            if session.get(RuleSet, subject) is None:
                raise NotFoundError("rule set", subject)
            newest = _newest_rule_revision(session, subject)
            files, base = dict(newest.files), newest.revision
        row = _new_draft(uow, kind, subject, base, files, actor)
        view = _view(session, row)
        uow.commit()
    logger.info("draft %s of %s %s opened by %s", view.id, kind, subject, actor)
    return view


def import_process(services: Services, name: str, content: bytes, actor: str) -> DraftView:
    """A draft for a new process from an uploaded BPMN file (from another tool, say): its first
    process becomes the draft's subject. Raises DefinitionError for a file that does not parse,
    DomainError when the process exists already (edit it instead) or is being drafted."""
    _check_file(name, content, allowed=(".bpmn",))
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
        row = _new_draft(uow, PROCESS, subject, None, {name: content.decode("utf-8")}, actor)
        view = _view(session, row)
        uow.commit()
    return view


def save_draft_file(services: Services, draft_id: str, name: str, content: bytes, revision: int, actor: str) -> int:
    """Store one file of a draft (a new name adds a file) if the draft is still at `revision`;
    returns the new revision. Raises ConcurrentUpdateError when someone saved in between,
    DefinitionError for a file that is too large, not UTF-8 or not well-formed XML."""
    with services.uow() as uow:
        row = _draft(uow.session, draft_id)
        _check_file(name, content, allowed=(".dmn",) if row.kind == RULES else (".bpmn", ".dmn", ".json"))
        if name.endswith((".bpmn", ".dmn")):
            parse_xml(BundleFile(name, content))
        files = dict(row.files) | {name: content.decode("utf-8")}
        if sum(len(text.encode("utf-8")) for text in files.values()) > MAX_BUNDLE_BYTES:
            raise DefinitionError(f"the draft would be larger than {MAX_BUNDLE_BYTES} bytes", file=name)
        new_revision = _bump(uow, row, revision, actor, files=files)
        uow.commit()
    return new_revision


def discard_draft(services: Services, draft_id: str, revision: int, actor: str) -> None:
    with services.uow() as uow:
        row = _draft(uow.session, draft_id)
        _bump(uow, row, revision, actor)
        uow.session.delete(row)
        uow.commit()
    logger.info("draft %s discarded by %s", draft_id, actor)


def validate_draft(services: Services, draft_id: str) -> list[Problem]:
    with services.session_factory() as session:
        row = _draft(session, draft_id)
        return _problems(session, services, row)


def deploy_draft(services: Services, draft_id: str, revision: int, actor: str, reason: str) -> Deployment:
    """Deploy a draft without errors as the next version (process) or revision (rule set) and
    remove the draft; the operation log records the change with `reason`. Raises DomainError
    reason_required, InvalidDraftError, ConcurrentUpdateError (the draft was saved since
    `revision`, or a newer version was deployed since the draft was opened)."""
    action = {PROCESS: operations.PROCESS_DEPLOY, RULES: operations.RULES_DEPLOY}
    reason = operations.require_reason(reason, "deploy")
    with services.uow() as uow:
        session = uow.session
        row = _draft(session, draft_id)
        if row.revision != revision:
            raise StaleDraftError(row.subject, row.revision, row.updated_by)
        problems = _problems(session, services, row)
        if any(p.severity == "error" for p in problems):
            raise InvalidDraftError(problems)
        if row.kind == PROCESS:
            deployment, old, new = _deploy_process(uow, services, row, actor)
        else:
            deployment, old, new = _deploy_rules(uow, row, actor)
        _bump(uow, row, revision, actor)
        session.delete(row)
        operations.record(
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


def plan_migration(
    services: Services, process_id: str, instance_ids: Sequence[str], target_version: int
) -> list[MigrationCheck]:
    """The dry run: which instances can move to the target version, and why the others cannot."""
    with services.uow() as uow:
        target = latest_definition(uow, process_id, target_version)
        return check_migration(uow, list(instance_ids), target.id)


def migrate(
    services: Services, process_id: str, instance_ids: Sequence[str], target_version: int, actor: str, reason: str
) -> list[MigrationOutcome]:
    """Move each instance in its own transaction, with its operation log entry: one that cannot
    move is left as it was. Raises DomainError reason_required before any moves."""
    reason = operations.require_reason(reason, operations.MIGRATE)
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
                operations.record(
                    uow.session,
                    actor=actor,
                    action=operations.MIGRATE,
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


def _draft(session, draft_id: str) -> Draft:
    row = session.get(Draft, draft_id)
    if row is None:
        raise NotFoundError("draft", draft_id)
    return row


def _view(session, row: Draft) -> DraftView:
    if row.kind == PROCESS:
        title = session.scalar(
            select(ProcessDefinition.name)
            .where(ProcessDefinition.process_id == row.subject)
            .order_by(ProcessDefinition.version.desc())
            .limit(1)
        )
    else:
        title = session.scalar(select(RuleSet.name).where(RuleSet.id == row.subject))
    order = {".bpmn": 0, ".dmn": 1, ".json": 2}
    files = {name: row.files[name] for name in sorted(row.files, key=lambda n: (order[n[n.rindex(".") :]], n))}
    return DraftView(
        row.id,
        row.kind,
        row.subject,
        title or row.subject,
        row.base_version,
        row.revision,
        files,
        row.updated_by,
        row.updated_at,
    )


def _new_draft(uow: UnitOfWork, kind: str, subject: str, base: int | None, files: dict, actor: str) -> Draft:
    now = uow.clock()
    row = Draft(
        id=str(uuid.uuid4()),
        kind=kind,
        subject=subject,
        base_version=base,
        files=files,
        revision=1,
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def _bump(uow: UnitOfWork, row: Draft, revision: int, actor: str, **changes) -> int:
    """The optimistic write: only from the revision the editor saw, in one conditional UPDATE."""
    result = uow.session.execute(
        Draft.__table__.update()
        .where(Draft.id == row.id, Draft.revision == revision)
        .values(revision=revision + 1, updated_by=actor, updated_at=uow.clock(), **changes)
    )
    if result.rowcount != 1:
        current = uow.session.execute(select(Draft.revision, Draft.updated_by).where(Draft.id == row.id)).first() or (
            None,
            None,
        )
        raise StaleDraftError(row.subject, *current)
    uow.session.expire(row)
    return revision + 1


def _check_file(name: str, content: bytes, *, allowed: tuple[str, ...]) -> None:
    if not FILE_NAME.match(name) or not name.endswith(allowed):
        raise DefinitionError(
            f"file names are letters, digits, '.', '_' or '-' and end in {', '.join(allowed)}", file=name
        )
    if len(content) > MAX_FILE_BYTES:
        raise DefinitionError(f"file is larger than {MAX_FILE_BYTES} bytes", file=name)
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"not UTF-8 text (byte {exc.start})", file=name) from exc


def _bundle(files: dict[str, str]) -> list[BundleFile]:
    return [BundleFile(name, text.encode("utf-8")) for name, text in sorted(files.items())]


def _definition_files(uow: UnitOfWork, definition_id: int) -> list[BundleFile]:
    rows = uow.session.execute(
        select(DefinitionFile.name, DefinitionFile.content).where(DefinitionFile.definition_id == definition_id)
    )
    return [BundleFile(name, content.encode("utf-8")) for name, content in rows]


def _process_files(uow: UnitOfWork, definition_id: int, process_id: str) -> dict[str, str]:
    """The files a draft of a process starts with: the .bpmn file that holds the process and the
    bundle's decision and form files (other processes deployed in the same bundle stay out)."""
    files = {}
    for file in _definition_files(uow, definition_id):
        if file.name.endswith(".bpmn"):
            root = parse_xml(file)
            if not any(p.get("id") == process_id for p in root.iter(f"{{{BPMN_NS}}}process")):
                continue
        files[file.name] = file.content.decode("utf-8")
    return files


def _problems(session, services: Services, row: Draft) -> list[Problem]:
    evaluator = services.runtime.evaluator
    files = _bundle(row.files)
    if row.kind == PROCESS:
        problems = validate_bundle(files, evaluator, known_roles=ROLES, data_names=PROCESS_DATA)
        processes = {
            process.get("id") for file in files if file.name.endswith(".bpmn") for process in _safe_processes(file)
        }
        if row.subject not in processes:
            problems.append(Problem("subject_missing", f"no process {row.subject} in the draft", None, None, "error"))
        return problems
    problems = validate_decision_files(files, evaluator, data_names=RULE_DATA)
    decisions = _decision_ids(files)
    for code, decision in session.execute(
        select(Award.code, Award.eligibility_decision).where(Award.rule_set_id == row.subject)
    ):
        if decisions is not None and decision not in decisions:
            problems.append(
                Problem(
                    "decision_missing",
                    f"award {code} is judged by decision {decision}, which no file of the draft holds",
                    None,
                    None,
                    "error",
                )
            )
    return problems


def _safe_processes(file: BundleFile):
    try:
        return list(parse_xml(file).iter(f"{{{BPMN_NS}}}process"))
    except DefinitionError:
        return []  # reported by the validator


def _decision_ids(files: list[BundleFile]) -> set[str] | None:
    ids = set()
    for file in files:
        try:
            root = parse_xml(file)
        except DefinitionError:
            return None  # reported by the validator
        ids |= {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("}decision")}
    return ids


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
    deployed = engine.deploy_bundle(uow, _bundle(row.files), services.runtime.evaluator, actor)
    mine = next(d for d in deployed if d.process_id == row.subject)
    if not mine.created:
        raise DomainError("nothing_changed", f"the draft is identical to version {mine.version} of {row.subject}")
    old = None
    if latest is not None:
        previous = latest_definition(uow, row.subject, latest)
        old = {"version": latest, "files": _digests(_definition_files(uow, previous.id))}
    new = {"version": mine.version, "files": _digests(_bundle(row.files))}
    return Deployment(PROCESS, row.subject, mine.version), old, new


def _deploy_rules(uow: UnitOfWork, row: Draft, actor: str) -> tuple[Deployment, dict, dict]:
    """The deployment, and the rule set before and after it for the operation log."""
    session = uow.session
    newest = _newest_rule_revision(session, row.subject)
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
    old = {"revision": newest.revision, "files": _digests(_bundle(newest.files))}
    new = {"revision": revision, "files": _digests(_bundle(row.files))}
    return Deployment(RULES, row.subject, revision), old, new


def _digests(files: list[BundleFile]) -> dict[str, str]:
    """File name -> SHA-256 of its content: what the log keeps of a version (the files
    themselves stay with the version)."""
    return {file.name: hashlib.sha256(file.content).hexdigest() for file in files}


def _newest_rule_revision(session, rule_set_id: str) -> RuleSetRevision:
    return session.scalars(
        select(RuleSetRevision)
        .where(RuleSetRevision.rule_set_id == rule_set_id)
        .order_by(RuleSetRevision.revision.desc())
        .limit(1)
    ).one()


def _rule_revision(session, rule_set_id: str, revision: int) -> RuleSetRevision:
    row = session.get(RuleSetRevision, (rule_set_id, revision))
    if row is None:
        raise NotFoundError("rule set revision", f"{rule_set_id}/{revision}")
    return row
