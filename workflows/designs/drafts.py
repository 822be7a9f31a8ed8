"""Designers' drafts inside the caller's unit of work: one shared draft per process (its .bpmn file
plus the bundle's form schemas and decision files) or rule set (its decision tables), saved
optimistically on its revision; the files it may hold; and what the validator finds in it (the
engine's deploy checks and our lint rules)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from engine import (
    BundleFile,
    ConcurrentUpdateError,
    DefinitionError,
    Evaluator,
    Problem,
    UnitOfWork,
    validate_bundle,
    validate_decision_files,
)
from engine.definitions import BPMN_NS, MAX_FILE_BYTES, parse_xml
from engine.models import DefinitionFile, ProcessDefinition

from ..awards.models import Award, RuleSet, RuleSetRevision
from ..errors import DomainError, NotFoundError
from ..nominees.features import PERSON_FEATURES, UNIT_FEATURES
from ..org.models import ROLES
from .models import PROCESS, Draft

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,195}\.(bpmn|dmn|json)$")


# What the rule sets' decision tables are given: the nominee's features (eligibility), the award
# and the council's size (vote rules), the step (deadlines).
RULE_DATA = (*PERSON_FEATURES, *UNIT_FEATURES, "award_code", "members", "step")


# What every process instance starts with besides its forms' fields (workflows.nominations).
PROCESS_DATA = ("award_code", "rule_set_id", "unit_scope", "bloc_scope", "jurisdiction_scope", "nomination_id")


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


def draft_of(session, draft_id: str) -> Draft:
    row = session.get(Draft, draft_id)
    if row is None:
        raise NotFoundError("draft", draft_id)
    return row


def view_of(session, row: Draft) -> DraftView:
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


def new_draft(uow: UnitOfWork, kind: str, subject: str, base: int | None, files: dict, actor: str) -> Draft:
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


def bump(uow: UnitOfWork, row: Draft, revision: int, actor: str, **changes) -> int:
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


def check_file(name: str, content: bytes, *, allowed: tuple[str, ...]) -> None:
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


def bundle(files: dict[str, str]) -> list[BundleFile]:
    return [BundleFile(name, text.encode("utf-8")) for name, text in sorted(files.items())]


def definition_files(uow: UnitOfWork, definition_id: int) -> list[BundleFile]:
    rows = uow.session.execute(
        select(DefinitionFile.name, DefinitionFile.content).where(DefinitionFile.definition_id == definition_id)
    )
    return [BundleFile(name, content.encode("utf-8")) for name, content in rows]


def process_files(uow: UnitOfWork, definition_id: int, process_id: str) -> dict[str, str]:
    """The files a draft of a process starts with: the .bpmn file that holds the process and the
    bundle's decision and form files (other processes deployed in the same bundle stay out)."""
    files = {}
    for file in definition_files(uow, definition_id):
        if file.name.endswith(".bpmn"):
            root = parse_xml(file)
            if not any(p.get("id") == process_id for p in root.iter(f"{{{BPMN_NS}}}process")):
                continue
        files[file.name] = file.content.decode("utf-8")
    return files


def problems(session, evaluator: Evaluator, row: Draft) -> list[Problem]:
    """What the validator finds in the draft, and the process or decision it lacks."""
    files = bundle(row.files)
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


def newest_rule_revision(session, rule_set_id: str) -> RuleSetRevision:
    return session.scalars(
        select(RuleSetRevision)
        .where(RuleSetRevision.rule_set_id == rule_set_id)
        .order_by(RuleSetRevision.revision.desc())
        .limit(1)
    ).one()


def rule_revision(session, rule_set_id: str, revision: int) -> RuleSetRevision:
    row = session.get(RuleSetRevision, (rule_set_id, revision))
    if row is None:
        raise NotFoundError("rule set revision", f"{rule_set_id}/{revision}")
    return row
