"""What reviewers do, each in one transaction and within their scope: claim, unclaim, delegate
and complete tasks, create nominations, comment, watch, attach and read dossier files, and the
council secretary's session sheet (attendance and tallies of many nominations at once).

A record the principal may not see raises NotFoundError (404); one they see but may not act on
raises ForbiddenError or the engine's TaskNotAllowedError (403)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, or_, select

import engine
from engine import StepResult, TaskNotFoundError, TaskView, UnitOfWork, queries
from engine.models import HumanTask, ProcessInstance

from ..accounts.services import Principal
from ..bootstrap import Services
from ..council import services as council
from ..council.models import CouncilSession, ItemVoter, SessionAttendance, SessionItem
from ..directory import SignedInDirectory
from ..dossiers.models import DossierFile
from ..dossiers.sniff import check_upload, safe_filename
from ..dossiers.store import BlobStore
from ..errors import DomainError, ForbiddenError, NotFoundError
from ..nominations import services as nominations
from ..nominations.models import Campaign, Nomination, NominationWatch, ReviewComment
from ..org.models import Council, CouncilMember, User, jurisdiction_scope
from ..processes.services import record_reassignment
from . import access
from .queries import FileEntry, NominationSummary, file_entry, summaries_of

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 4000
MAX_REASON_LENGTH = 2000


def claim(services: Services, principal: Principal, task_id: str) -> TaskView:
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        view = engine.claim_task(uow, task_id, principal.id)
        uow.commit()
    return view


def unclaim(services: Services, principal: Principal, task_id: str) -> TaskView:
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        view = engine.unclaim_task(uow, task_id, principal.id)
        uow.commit()
    return view


def delegate(services: Services, principal: Principal, task_id: str, delegate_id: str, reason: str) -> TaskView:
    """Hand a task to a colleague of the same role and scope; the reason goes into history and
    the operation log."""
    reason = _required_text(reason, "reason", MAX_REASON_LENGTH)
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        if uow.session.get(User, delegate_id) is None:
            raise DomainError("unknown_user", f"no user {delegate_id}")
        claimed_by = uow.session.scalar(select(HumanTask.claimed_by).where(HumanTask.id == task_id))
        view = engine.delegate_task(uow, task_id, principal.id, delegate_id, reason)
        record_reassignment(uow, principal.id, view, claimed_by, reason)
        uow.commit()
    logger.info("task %s delegated by %s to %s", task_id, principal.id, delegate_id)
    return view


def complete(services: Services, principal: Principal, task_id: str, data: dict) -> StepResult:
    with _acting(services, principal) as uow:
        try:
            result = nominations.complete_step(uow, principal.id, task_id, data, visible=access.task_visible(principal))
        except TaskNotFoundError:
            access.require_task_visible(uow.session, principal, task_id)  # a task out of scope is not known at all
            raise
        uow.commit()
    return result


def create_nomination(
    services: Services,
    principal: Principal,
    *,
    campaign_id: str,
    award_code: str,
    nominating_unit_id: str,
    year: int,
    person_id: str | None = None,
    unit_id: str | None = None,
    route: str = "merit",
) -> str:
    """Create a draft nomination (the principal must be a unit officer of the nominating unit)."""
    with services.uow() as uow:
        nomination = nominations.create_nomination(
            uow,
            principal.id,
            campaign_id=campaign_id,
            award_code=award_code,
            nominating_unit_id=nominating_unit_id,
            year=year,
            person_id=person_id,
            unit_id=unit_id,
            route=route,
        )
        nomination_id = nomination.id
        uow.commit()
    return nomination_id


def add_comment(services: Services, principal: Principal, nomination_id: str, text: str) -> None:
    text = _required_text(text, "text", MAX_COMMENT_LENGTH)
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        uow.session.add(
            ReviewComment(nomination_id=nomination_id, author_id=principal.id, text=text, created_at=uow.clock())
        )
        uow.commit()


def set_watching(services: Services, principal: Principal, nomination_id: str, watching: bool) -> None:
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        existing = uow.session.get(NominationWatch, (principal.id, nomination_id))
        if watching and existing is None:
            uow.session.add(NominationWatch(user_id=principal.id, nomination_id=nomination_id, created_at=uow.clock()))
        elif not watching and existing is not None:
            uow.session.delete(existing)
        uow.commit()


def attach_file(
    services: Services,
    store: BlobStore,
    principal: Principal,
    nomination_id: str,
    filename: str,
    stream: BinaryIO,
    max_bytes: int,
) -> FileEntry:
    """Store an uploaded file and attach it to the nomination. Only someone who may act on one of
    its open tasks attaches. The content is on disk (fsynced) before the row commits, so an
    acknowledged upload is never lost; a blob whose row never committed is harmless."""
    filename = safe_filename(filename)
    with services.uow() as uow:
        access.require_nomination(uow.session, principal, nomination_id)
        _require_open_task_actor(uow, principal, nomination_id)
    blob, media_type = store.put(stream, max_bytes, check=lambda path: check_upload(filename, path))
    file_id = str(uuid.uuid4())
    with services.uow() as uow:
        uow.session.add(
            DossierFile(
                id=file_id,
                nomination_id=nomination_id,
                sha256=blob.sha256,
                filename=filename,
                media_type=media_type,
                size=blob.size,
                uploaded_by=principal.id,
                uploaded_at=uow.clock(),
            )
        )
        uow.commit()
    logger.info("file %s (%d bytes) attached to nomination %s", file_id, blob.size, nomination_id)
    return file_entry(services, principal, file_id)


def file_path(services: Services, store: BlobStore, principal: Principal, file_id: str) -> tuple[FileEntry, Path]:
    """A dossier file's metadata and where its content lies, if the principal sees its nomination."""
    entry = file_entry(services, principal, file_id)
    path = store.path_of(entry.sha256)
    if not path.exists():
        raise FileNotFoundError(f"the content of file {file_id} is missing from the store")
    return entry, path


def _require_open_task_actor(uow, principal: Principal, nomination_id: str) -> None:
    actor_task = uow.session.scalar(
        select(HumanTask.id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.business_key == nomination_id,
            HumanTask.state == queries.TASK_OPEN,
            or_(
                HumanTask.claimed_by == principal.id,
                (HumanTask.claimed_by.is_(None)) & access.task_candidate(principal),
            ),
        )
        .limit(1)
    )
    if actor_task is None:
        raise ForbiddenError("only a reviewer working on one of its open tasks attaches files to a nomination")


def _required_text(text: str | None, name: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(f"{name}_required", f"{name} must not be empty")
    if len(text) > limit:
        raise DomainError(f"{name}_too_long", f"{name} is {len(text)} characters; the limit is {limit}")
    return text


# --- the council secretary's session sheet ---------------------------------------------------


@dataclass(frozen=True)
class SessionSummary:
    id: str
    council_id: str
    council_name: str
    scheduled_for: datetime
    status: str
    items: int


@dataclass(frozen=True)
class SheetMember:
    user_id: str
    full_name: str
    position: str
    present: bool | None  # None: attendance not recorded yet


@dataclass(frozen=True)
class SheetItem:
    nomination: NominationSummary
    voters: list[str]  # members who may vote on it (not recused)
    recused: list[str]
    yes: int | None
    no: int | None
    abstain: int | None
    passed: bool | None
    threshold: str | None


@dataclass(frozen=True)
class SessionSheet:
    session: SessionSummary
    jurisdiction_id: str
    members: list[SheetMember]
    items: list[SheetItem]


@dataclass(frozen=True)
class ItemTally:
    yes: int
    no: int
    abstain: int
    voted_user_ids: list[str]


def councils(services: Services, principal: Principal) -> list[Council]:
    """The councils of the jurisdictions the principal holds a role in."""
    with services.session_factory() as session:
        found = _councils(session, principal)
        session.expunge_all()
        return found


def council_sessions(services: Services, principal: Principal) -> list[SessionSummary]:
    """Sessions of the councils whose jurisdiction the principal holds a role in."""
    with services.session_factory() as session:
        councils = _councils(session, principal)
        rows = session.execute(
            select(CouncilSession, Council.name, func.count(SessionItem.id))
            .join(Council, Council.id == CouncilSession.council_id)
            .outerjoin(SessionItem, SessionItem.session_id == CouncilSession.id)
            .where(CouncilSession.council_id.in_([c.id for c in councils]))
            .group_by(CouncilSession.id, Council.name)
            .order_by(CouncilSession.scheduled_for.desc())
        ).all()
        return [_session_summary(s, name, items) for s, name, items in rows]


def awaiting_council(services: Services, principal: Principal, council_id: str) -> list[NominationSummary]:
    """Nominations waiting for this council's vote and on no planned session's agenda."""
    with services.session_factory() as session:
        found = _council(session, principal, council_id)
        planned = (
            select(SessionItem.nomination_id)
            .join(CouncilSession, CouncilSession.id == SessionItem.session_id)
            .where(CouncilSession.status == council.PLANNED)
        )
        ids = session.scalars(
            select(Nomination.id)
            .join(Campaign, Campaign.id == Nomination.campaign_id)
            .join(ProcessInstance, ProcessInstance.business_key == Nomination.id)
            .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
            .where(
                Campaign.jurisdiction_id == found.jurisdiction_id,
                HumanTask.element_id == "council_vote",
                HumanTask.state == queries.TASK_OPEN,
                Nomination.id.not_in(planned),
            )
        ).all()
        return sorted(summaries_of(session, set(ids)).values(), key=lambda s: (s.award_code, s.nominee_name))


def schedule_council_session(
    services: Services, principal: Principal, council_id: str, scheduled_for: datetime, nomination_ids: list[str]
) -> str:
    with services.uow() as uow:
        found = _council(uow.session, principal, council_id)
        _require_secretary(uow, principal, found)
        agenda = uow.session.scalars(select(Nomination).where(Nomination.id.in_(nomination_ids))).all()
        rule_sets = {nomination.rule_set_id for nomination in agenda}
        if len(rule_sets) > 1:
            raise DomainError("mixed_rule_sets", "one session votes on nominations under one rule set")
        if not rule_sets:
            raise DomainError("empty_agenda", "a session needs at least one nomination on its agenda")
        session_id = council.schedule_session(uow, council_id, scheduled_for, rule_sets.pop(), nomination_ids)
        uow.commit()
    return session_id


def session_sheet(services: Services, principal: Principal, session_id: str) -> SessionSheet:
    with services.session_factory() as session:
        council_session = session.get(CouncilSession, session_id)
        if council_session is None:
            raise NotFoundError("council session", session_id)
        found = _council(session, principal, council_session.council_id, missing=("council session", session_id))
        attendance = {
            a.user_id: a.present
            for a in session.scalars(select(SessionAttendance).where(SessionAttendance.session_id == session_id))
        }
        members = [
            SheetMember(member.user_id, name, member.position, attendance.get(member.user_id))
            for member, name in session.execute(
                select(CouncilMember, User.full_name)
                .join(User, User.id == CouncilMember.user_id)
                .where(CouncilMember.council_id == found.id)
                .order_by(User.full_name)
            )
        ]
        items = session.scalars(
            select(SessionItem).where(SessionItem.session_id == session_id).order_by(SessionItem.id)
        ).all()
        summaries = summaries_of(session, {item.nomination_id for item in items})
        sheet_items = []
        for item in items:
            voters = session.scalars(select(ItemVoter).where(ItemVoter.item_id == item.id)).all()
            sheet_items.append(
                SheetItem(
                    summaries[item.nomination_id],
                    sorted(v.user_id for v in voters if not v.recused),
                    sorted(v.user_id for v in voters if v.recused),
                    item.yes,
                    item.no,
                    item.abstain,
                    item.passed,
                    item.threshold,
                )
            )
        summary = _session_summary(council_session, found.name, len(items))
        return SessionSheet(summary, found.jurisdiction_id, members, sheet_items)


def record_session(
    services: Services,
    principal: Principal,
    session_id: str,
    present_user_ids: list[str],
    tallies: dict[str, ItemTally],
) -> dict[str, bool]:
    """Record attendance (on a planned session) and the tallies of many nominations in one
    transaction: all of it lands or none. Returns {nomination_id: passed}."""
    with services.uow() as uow:
        council_session = uow.session.get(CouncilSession, session_id)
        if council_session is None:
            raise NotFoundError("council session", session_id)
        found = _council(uow.session, principal, council_session.council_id, missing=("council session", session_id))
        _require_secretary(uow, principal, found)
        # Attendance is taken once, when the sheet is first recorded (the page then shows it read-only).
        if council_session.status == council.PLANNED:
            quorum = council.record_attendance(uow, session_id, present_user_ids)
            if not quorum.has_quorum:
                uow.commit()
                return {}
        results = {}
        for nomination_id, tally in tallies.items():
            try:
                nominations.record_council_vote(
                    uow,
                    principal.id,
                    session_id,
                    nomination_id,
                    yes=tally.yes,
                    no=tally.no,
                    abstain=tally.abstain,
                    voted_user_ids=tally.voted_user_ids,
                )
            except DomainError as error:
                raise DomainError(error.code, f"nomination {nomination_id}: {error.message}") from error
            results[nomination_id] = bool(
                uow.session.scalar(
                    select(SessionItem.passed).where(
                        SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id
                    )
                )
            )
        uow.commit()
    return results


def _councils(session, principal: Principal) -> list[Council]:
    query = select(Council)
    if not principal.unscoped:
        jurisdictions = [scope.partition(":")[2] for scope in principal.scopes if scope.startswith("jurisdiction:")]
        query = query.where(Council.jurisdiction_id.in_(jurisdictions))
    return list(session.scalars(query.order_by(Council.name)))


def _council(session, principal: Principal, council_id: str, missing: tuple[str, str] | None = None) -> Council:
    """A council the principal holds a role in the jurisdiction of; NotFoundError otherwise."""
    for found in _councils(session, principal):
        if found.id == council_id:
            return found
    raise NotFoundError(*(missing or ("council", council_id)))


def _require_secretary(uow, principal: Principal, found: Council) -> None:
    if not uow.directory.is_candidate(
        uow.session, principal.id, "council_secretary", jurisdiction_scope(found.jurisdiction_id)
    ):
        raise ForbiddenError(f"only the secretary of {found.name} records its sessions")


def _session_summary(council_session: CouncilSession, council_name: str, items: int) -> SessionSummary:
    return SessionSummary(
        council_session.id,
        council_session.council_id,
        council_name,
        council_session.scheduled_for,
        council_session.status,
        items,
    )


def _acting(services: Services, principal: Principal) -> UnitOfWork:
    """A unit of work whose directory knows the principal's roles already."""
    uow = services.uow()
    uow.directory = SignedInDirectory(services.directory, principal.id, principal.assignments)
    return uow
