"""What auditors read: instances found by nomination, nominee, unit, award, campaign, decision,
dates, actor and status; an instance's timeline with the data before and after each change; the
diagram of the version it ran at any event and the state replay rebuilds there; the council's
tallies and attendance (never a member's choice) and the decision. Every query is scoped to the
principal (workflows.nominations.access): what an auditor may not see does not exist for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Mapping

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

import engine
from engine.definitions import BPMN_NS, BundleFile, parse_xml
from engine.history import INSTANCE_MIGRATED, INSTANCE_STARTED, TASK_COMPLETED, TASK_DELEGATED, TASK_ESCALATED
from engine.models import DefinitionFile, HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance

from ..accounts.principals import Principal
from ..awards.models import Award
from ..decisions.models import Decision
from ..errors import DomainError, NotFoundError
from ..nominations import access
from ..nominations.models import STATES, Campaign, Nomination
from ..nominations.summaries import NominationSummary, summaries_of
from ..nominees.models import Person
from ..org.models import Unit, User
from ..paging import Page, Paging
from ..uow import Services
from . import records

INSTANCE_STATUSES = ("running", "suspended", "completed", "terminated")
_TEXT_FIELDS = ("nomination", "nominee", "unit", "award", "campaign", "decision", "actor", "status", "instance_status")
_DATE_FIELDS = ("started_from", "started_to", "ended_from", "ended_to")
# Events that move a task between people record {"from", "to"}: what moved.
_REASSIGNED = {TASK_DELEGATED: "claimed_by", TASK_ESCALATED: "assignment"}


@dataclass(frozen=True)
class Criteria:
    """What to look for; None is no filter. Date bounds are whole local days, both included."""

    nomination: str | None = None  # a nomination id
    nominee: str | None = None  # part of the nominated person's or unit's name
    unit: str | None = None  # nominating or nominee unit: its id or part of its name
    award: str | None = None  # an award code
    campaign: str | None = None  # a campaign id
    decision: str | None = None  # a decision's code (15/QĐ-UBND) or number, award or revocation
    actor: str | None = None  # anyone who acted in the history: user id, username or part of a name
    status: str | None = None  # the nomination's status
    instance_status: str | None = None  # running | suspended | completed | terminated
    started_from: date | None = None
    started_to: date | None = None
    ended_from: date | None = None
    ended_to: date | None = None

    @classmethod
    def of(cls, values: Mapping[str, str]) -> "Criteria":
        """Criteria from a query string; blanks are no filter, dates are yyyy-mm-dd or dd/mm/yyyy.
        Raises DomainError `invalid_search` naming the field."""
        found: dict[str, Any] = {name: (values.get(name) or "").strip() or None for name in _TEXT_FIELDS}
        for name in _DATE_FIELDS:
            text = (values.get(name) or "").strip()
            found[name] = _parse_date(name, text) if text else None
        return cls(**found)

    def __post_init__(self):
        if self.status is not None and self.status not in STATES:
            raise DomainError("invalid_search", f"status must be one of {', '.join(STATES)}, not {self.status!r}")
        if self.instance_status is not None and self.instance_status not in INSTANCE_STATUSES:
            raise DomainError(
                "invalid_search",
                f"instance_status must be one of {', '.join(INSTANCE_STATUSES)}, not {self.instance_status!r}",
            )
        for low, high in (("started_from", "started_to"), ("ended_from", "ended_to")):
            if getattr(self, low) and getattr(self, high) and getattr(self, low) > getattr(self, high):
                raise DomainError("invalid_search", f"{low} is after {high}")


def _parse_date(name: str, text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise DomainError("invalid_search", f"{name} must be a date (dd/mm/yyyy or yyyy-mm-dd), not {text!r}")


@dataclass(frozen=True)
class InstanceRow:
    id: str
    process_id: str
    process_name: str
    version: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    events: int
    nomination: NominationSummary | None


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class SearchChoices:
    """What the search form offers: only what the auditor's scope holds."""

    campaigns: list[Choice]
    awards: list[Choice]
    units: list[Choice]


def _visible(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over ProcessInstance outer-joined to Nomination: an instance is seen
    through its nomination, or, without one, by an unscoped principal only."""
    if principal.unscoped:
        return true()
    return and_(Nomination.id.is_not(None), access.nomination_visible(principal))


def _day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _conditions(criteria: Criteria, zone: tzinfo) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.nomination:
        conditions.append(Nomination.id == criteria.nomination)
    if criteria.nominee:
        people = select(Person.id).where(Person.full_name.icontains(criteria.nominee, autoescape=True))
        units = select(Unit.id).where(Unit.name.icontains(criteria.nominee, autoescape=True))
        conditions.append(
            or_(
                Nomination.person_id.in_(people),
                and_(Nomination.person_id.is_(None), Nomination.nominee_unit_id.in_(units)),
            )
        )
    if criteria.unit:
        units = select(Unit.id).where(
            or_(Unit.id == criteria.unit, Unit.name.icontains(criteria.unit, autoescape=True))
        )
        conditions.append(or_(Nomination.nominating_unit_id.in_(units), Nomination.nominee_unit_id.in_(units)))
    if criteria.award:
        conditions.append(Nomination.award_code == criteria.award)
    if criteria.campaign:
        conditions.append(Nomination.campaign_id == criteria.campaign)
    if criteria.decision:
        matching = Decision.code == criteria.decision
        if criteria.decision.isdigit():
            matching = or_(matching, Decision.number == int(criteria.decision))
        decisions = select(Decision.id).where(matching)
        # A revocation decision is reached through the award decision it revoked.
        revoked = select(Decision.id).where(Decision.revoked_by_id.in_(decisions))
        conditions.append(or_(Nomination.decision_id.in_(decisions), Nomination.decision_id.in_(revoked)))
    if criteria.actor:
        users = select(User.id).where(
            or_(
                User.id == criteria.actor,
                User.username == criteria.actor,
                User.full_name.icontains(criteria.actor, autoescape=True),
            )
        )
        conditions.append(
            exists().where(
                HistoryEvent.instance_id == ProcessInstance.id,
                or_(HistoryEvent.actor == criteria.actor, HistoryEvent.actor.in_(users)),
            )
        )
    if criteria.status:
        conditions.append(Nomination.status == criteria.status)
    if criteria.instance_status:
        conditions.append(ProcessInstance.status == criteria.instance_status)
    for column, low, high in (
        (ProcessInstance.started_at, criteria.started_from, criteria.started_to),
        (ProcessInstance.ended_at, criteria.ended_from, criteria.ended_to),
    ):
        if low:
            conditions.append(column >= _day_start(low, zone))
        if high:
            conditions.append(column < _day_start(high + timedelta(days=1), zone))
    return conditions


def find_instances(
    services: Services, principal: Principal, criteria: Criteria, zone: tzinfo, paging: Paging | None = None
) -> Page:
    """Instances matching every criterion that the principal may see, newest first. `zone` is
    the time zone whose days the date bounds name."""
    paging = paging or Paging()
    with services.session_factory() as session:
        where = [_visible(principal), *_conditions(criteria, zone)]
        base = select(ProcessInstance.id).outerjoin(Nomination, Nomination.id == ProcessInstance.business_key)
        total = session.scalar(select(func.count()).select_from(base.where(*where).subquery()))
        rows = session.execute(
            select(ProcessInstance, ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.version)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .outerjoin(Nomination, Nomination.id == ProcessInstance.business_key)
            .where(*where)
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id)
            .limit(paging.per_page)
            .offset((paging.page - 1) * paging.per_page)
        ).all()
        nominations = summaries_of(session, {row[0].business_key for row in rows if row[0].business_key})
        items = [
            InstanceRow(
                instance.id,
                process_id,
                name,
                version,
                instance.status,
                instance.started_at,
                instance.ended_at,
                instance.history_seq,
                nominations.get(instance.business_key),
            )
            for instance, process_id, name, version in rows
        ]
        return Page(items, total, paging.page, paging.per_page)


def search_choices(services: Services, principal: Principal) -> SearchChoices:
    """Campaigns, awards and units of the nominations the principal may see."""
    visible = select(Nomination).where(access.nomination_visible(principal)).subquery()
    with services.session_factory() as session:
        campaigns = session.execute(
            select(Campaign.id, Campaign.name)
            .where(Campaign.id.in_(select(visible.c.campaign_id)))
            .order_by(Campaign.year.desc(), Campaign.name)
        ).all()
        awards = session.execute(
            select(Award.code, func.min(Award.title))
            .join(visible, and_(visible.c.rule_set_id == Award.rule_set_id, visible.c.award_code == Award.code))
            .group_by(Award.code)
            .order_by(Award.code)
        ).all()
        units = session.execute(
            select(Unit.id, Unit.name)
            .where(
                or_(
                    Unit.id.in_(select(visible.c.nominating_unit_id)),
                    Unit.id.in_(select(visible.c.nominee_unit_id)),
                )
            )
            .order_by(Unit.name)
        ).all()
    return SearchChoices(
        [Choice(*row) for row in campaigns], [Choice(*row) for row in awards], [Choice(*row) for row in units]
    )


# --- one instance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceInfo:
    id: str
    definition_id: int
    process_id: str
    process_name: str
    version: int
    status: str
    business_key: str | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    history_seq: int
    history_hash: str


@dataclass(frozen=True)
class Change:
    """One value an event changed: a form field, a fact the service established, a version."""

    field: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class TimelineEvent:
    seq: int
    type: str
    at: datetime
    actor: str | None
    actor_name: str | None
    task_id: str | None
    element_id: str | None
    element_name: str | None
    reason: str | None
    data: dict
    changes: tuple[Change, ...]
    definition_id: int  # the version the instance ran on after this event
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class RelatedInstance:
    id: str
    process_id: str
    status: str
    started_at: datetime


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceInfo
    nomination: NominationSummary | None
    events: list[TimelineEvent]
    council: list[records.CouncilVote]
    decision: records.DecisionInfo | None
    related: list[RelatedInstance]  # the nomination's other instances (e.g. its revocation)


@dataclass(frozen=True)
class Diagram:
    definition_id: int
    process_id: str
    version: int
    file_name: str
    xml: str


def instance_detail(services: Services, principal: Principal, instance_id: str) -> InstanceDetail:
    """An instance with its timeline, council votes and decision. NotFoundError outside the scope."""
    with services.uow() as uow:
        access.require_instance_visible(uow.session, principal, instance_id)
        return _detail(uow, _instance_info(uow.session, instance_id))


def _detail(uow, info: InstanceInfo) -> InstanceDetail:
    session, instance_id = uow.session, info.id
    events = _timeline(uow, info)
    nomination = summaries_of(session, {info.business_key}).get(info.business_key) if info.business_key else None
    related = []
    if nomination is not None:
        related = [
            RelatedInstance(*row)
            for row in session.execute(
                select(
                    ProcessInstance.id,
                    ProcessDefinition.process_id,
                    ProcessInstance.status,
                    ProcessInstance.started_at,
                )
                .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                .where(ProcessInstance.business_key == nomination.id, ProcessInstance.id != instance_id)
                .order_by(ProcessInstance.started_at)
            )
        ]
    return InstanceDetail(
        info,
        nomination,
        events,
        records.council_votes(session, nomination.id) if nomination else [],
        records.decision_of(session, nomination.id) if nomination else None,
        related,
    )


def diagram_at(services: Services, principal: Principal, instance_id: str, at: int | None = None) -> Diagram:
    """The BPMN file of the version the instance ran on after event `at` (default: now)."""
    with services.session_factory() as session:
        access.require_instance_visible(session, principal, instance_id)
        info = _instance_info(session, instance_id)
        definition_id = info.definition_id if at is None else _definition_at(session, info, _checked_seq(info, at))
        return _diagram(session, definition_id)


@dataclass(frozen=True)
class StateAt:
    """The state replay rebuilds after event `at`, and the version the instance ran on then."""

    replay: Any  # engine.Replay
    definition_id: int


def state_at(services: Services, principal: Principal, instance_id: str, at: int) -> StateAt:
    """Replay the instance up to event `at` (read-only). NotFoundError outside the scope;
    DomainError `invalid_seq` when the instance has no event `at`."""
    with services.uow() as uow:
        access.require_instance_visible(uow.session, principal, instance_id)
        info = _instance_info(uow.session, instance_id)
        definition_id = _definition_at(uow.session, info, _checked_seq(info, at))
        return StateAt(engine.replay_instance(uow, instance_id, at), definition_id)


@dataclass(frozen=True)
class ReplayedInstance:
    """An instance's replay and the instance as its page shows it, read in one transaction."""

    replay: Any  # engine.Replay
    detail: InstanceDetail


def replay_instance(services: Services, principal: Principal, instance_id: str, at: int | None = None):
    """Replay the instance (to its last event by default) and compare each step with history."""
    with services.uow() as uow:
        access.require_instance_visible(uow.session, principal, instance_id)
        info = _instance_info(uow.session, instance_id)
        if at is not None:
            _checked_seq(info, at)
        return ReplayedInstance(engine.replay_instance(uow, instance_id, at), _detail(uow, info))


# --- helpers ------------------------------------------------------------------------------------


def _instance_info(session: Session, instance_id: str) -> InstanceInfo:
    row = session.execute(
        select(ProcessInstance, ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.version)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id == instance_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError("instance", instance_id)
    instance, process_id, name, version = row
    return InstanceInfo(
        instance.id,
        instance.definition_id,
        process_id,
        name,
        version,
        instance.status,
        instance.business_key,
        instance.started_by,
        instance.started_at,
        instance.ended_at,
        instance.history_seq,
        instance.history_hash,
    )


def _checked_seq(info: InstanceInfo, at: int) -> int:
    if not 1 <= at <= info.history_seq:
        raise DomainError("invalid_seq", f"instance {info.id} has events 1 to {info.history_seq}, not {at}")
    return at


def _definition_after(event: HistoryEvent, current: int) -> int:
    if event.type == INSTANCE_STARTED and "definition_id" in event.data:
        return event.data["definition_id"]
    if event.type == INSTANCE_MIGRATED:
        return event.data["to"]["definition_id"]
    return current


def _definition_at(session: Session, info: InstanceInfo, at: int) -> int:
    """Migrations move an instance between versions: the one it ran on after event `at`."""
    definition_id = info.definition_id
    moves = session.scalars(
        select(HistoryEvent)
        .where(
            HistoryEvent.instance_id == info.id,
            HistoryEvent.seq <= at,
            HistoryEvent.type.in_((INSTANCE_STARTED, INSTANCE_MIGRATED)),
        )
        .order_by(HistoryEvent.seq)
    )
    for event in moves:
        definition_id = _definition_after(event, definition_id)
    return definition_id


def _diagram(session: Session, definition_id: int) -> Diagram:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFoundError("definition", str(definition_id))
    files = session.execute(
        select(DefinitionFile.name, DefinitionFile.content)
        .where(DefinitionFile.definition_id == definition_id, DefinitionFile.name.endswith(".bpmn"))
        .order_by(DefinitionFile.name)
    ).all()
    for name, content in files:
        root = parse_xml(BundleFile(name, content.encode("utf-8")))
        if any(p.get("id") == definition.process_id for p in root.iter(f"{{{BPMN_NS}}}process")):
            return Diagram(definition_id, definition.process_id, definition.version, name, content)
    raise NotFoundError("diagram of definition", str(definition_id))


def _element_names(session: Session, definition_ids: set[int]) -> dict[str, str]:
    """Element id -> name over the versions an instance ran on (later versions win)."""
    names: dict[str, str] = {}
    for definition_id in sorted(definition_ids):
        diagram = _diagram(session, definition_id)
        root = parse_xml(BundleFile(diagram.file_name, diagram.xml.encode("utf-8")))
        for element in root.iter():
            if element.get("id") and element.get("name"):
                names[element.get("id")] = " ".join(element.get("name").split())
    return names


def _field_titles(uow, definition_id: int, element_id: str | None) -> dict[str, str]:
    """The form's field titles of a user task (its JSON Schema's property titles)."""
    definition = engine.definitions.load_definition(uow, definition_id)
    form = (definition.task_meta.get(element_id) or {}).get("form") if element_id else None
    properties = (definition.forms.get(form) or {}).get("properties", {}) if form else {}
    return {key: spec.get("title", key) for key, spec in properties.items() if isinstance(spec, dict)}


def _changes(uow, event: HistoryEvent, definition_id: int) -> tuple[Change, ...]:
    data = event.data or {}
    if event.type == TASK_COMPLETED:
        titles = _field_titles(uow, definition_id, event.element_id)
        before = data.get("before") or {}
        values = {**(data.get("input") or {}), **(data.get("facts") or {})}
        return tuple(Change(key, titles.get(key, key), before.get(key), value) for key, value in values.items())
    if event.type == INSTANCE_STARTED:
        return tuple(Change(key, key, None, value) for key, value in (data.get("data") or {}).items())
    if event.type == INSTANCE_MIGRATED:
        return (Change("version", "version", data["from"].get("version"), data["to"].get("version")),)
    if "from" in data and "to" in data:
        field = _REASSIGNED.get(event.type, "assignment")
        return (Change(field, field, data["from"], data["to"]),)
    return ()


def _timeline(uow, info: InstanceInfo) -> list[TimelineEvent]:
    session = uow.session
    rows = session.execute(
        select(HistoryEvent, User.full_name, HumanTask.name)
        .outerjoin(User, User.id == HistoryEvent.actor)
        .outerjoin(HumanTask, HumanTask.id == HistoryEvent.task_id)
        .where(HistoryEvent.instance_id == info.id)
        .order_by(HistoryEvent.seq)
    ).all()
    definition_id = info.definition_id
    steps = []
    for event, _, _ in rows:
        definition_id = _definition_after(event, definition_id)
        steps.append(definition_id)
    names = _element_names(session, set(steps) | {info.definition_id})
    timeline = []
    for (event, actor_name, task_name), definition_id in zip(rows, steps, strict=True):
        timeline.append(
            TimelineEvent(
                seq=event.seq,
                type=event.type,
                at=event.occurred_at,
                actor=event.actor,
                actor_name=actor_name,
                task_id=event.task_id,
                element_id=event.element_id,
                element_name=task_name or names.get(event.element_id or ""),
                reason=event.reason,
                data=event.data or {},
                changes=_changes(uow, event, definition_id),
                definition_id=definition_id,
                hash=event.hash,
                prev_hash=event.prev_hash,
            )
        )
    return timeline
