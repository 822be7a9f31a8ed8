"""What reviewers read: the inbox (my tasks, claimable, overdue, nominations I started or
watch) with filters, sort, pagination and counts; a task with everything needed to decide it;
a nomination with its files, history and comments (read by workflows.inbox.pages); what the award
register says a person or a collective received (a unit's with what came with the units it
succeeds). Every query is scoped to the principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine import TaskView, queries
from engine.models import HumanTask

from ..accounts.principals import Principal
from ..awards import eligibility
from ..awards.models import Award
from ..errors import DomainError, NotFoundError
from ..nominations import access
from ..nominations.models import Campaign, Nomination, NominationWatch
from ..nominations.summaries import NominationSummary, summaries_of, summary_from, summary_query
from ..nominees.models import SUBJECT_PERSON, SUBJECT_UNIT, AchievementRecord, Employment, Person
from ..org.lineage import lineage
from ..org.models import Unit
from ..paging import Page, Paging
from ..uow import Services
from . import pages

TASK_VIEWS = ("mine", "claimable", "overdue", "all")
NOMINATION_VIEWS = ("started", "watched", "mine", "visible")  # mine = started or watched
DUE_FILTERS = ("overdue", "today", "week")
TASK_SORTS = ("due", "-due", "created", "-created", "award", "status")
NOMINATION_SORTS = ("created", "-created", "award", "status")


@dataclass(frozen=True)
class Filters:
    campaign: str | None = None
    award: str | None = None
    unit: str | None = None  # the nominating unit
    bloc: str | None = None
    status: str | None = None  # the nomination's status
    due: str | None = None  # overdue | today | week

    @classmethod
    def of(cls, values) -> Filters:
        """The filters named in a mapping (a query string, a validated body); blanks are no filter."""
        return cls(**{name: values.get(name) or None for name in cls.__dataclass_fields__})

    def __post_init__(self):
        if self.due is not None and self.due not in DUE_FILTERS:
            raise DomainError("invalid_filter", f"due must be one of {', '.join(DUE_FILTERS)}, not {self.due!r}")


@dataclass(frozen=True)
class InboxItem:
    task: TaskView
    nomination: NominationSummary | None
    working_days_left: int | None  # negative: overdue by that many working days
    overdue: bool


def _filters_nominations(filters: Filters) -> bool:
    return any((filters.campaign, filters.award, filters.unit, filters.bloc, filters.status))


def _nomination_filters(query: Select, filters: Filters) -> Select:
    for column, value in (
        (Nomination.campaign_id, filters.campaign),
        (Nomination.award_code, filters.award),
        (Nomination.nominating_unit_id, filters.unit),
        (Nomination.bloc_id, filters.bloc),
        (Nomination.status, filters.status),
    ):
        if value:
            query = query.where(column == value)
    return query


def inbox(
    services: Services,
    principal: Principal,
    view: str = "all",
    filters: Filters = Filters(),
    sort: str = "due",
    paging: Paging = Paging(),
) -> Page:
    """Open tasks of one inbox view, each with its nomination; counts per view under the same filters."""
    _require_listing(view, TASK_VIEWS, sort, TASK_SORTS)
    with services.uow() as uow:
        session, now = uow.session, uow.clock()
        conditions = _view_conditions(principal, now)
        due_limit = _due_limit(uow, filters.due, now)
        by_nomination = _filters_nominations(filters)

        def scoped(query: Select, view_name: str, joined: bool) -> Select:
            # The nomination is joined only when a filter or the sort reads it: the counts and
            # the common sorts then stay on human_task's indexes.
            query = query.select_from(HumanTask).where(HumanTask.state == queries.TASK_OPEN, conditions[view_name])
            if due_limit is not None:
                query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < due_limit)
            if not joined:
                return query
            return _nomination_filters(query.outerjoin(Nomination, Nomination.id == HumanTask.business_key), filters)

        order = {
            "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at),
            "-due": (HumanTask.due_at.is_(None), HumanTask.due_at.desc(), HumanTask.created_at),
            "created": (HumanTask.created_at,),
            "-created": (HumanTask.created_at.desc(),),
            "award": (Nomination.award_code, HumanTask.due_at),
            "status": (Nomination.status, HumanTask.due_at),
        }[sort]
        offset = (paging.page - 1) * paging.per_page
        # Every view is a subset of "all": one pass counts them all.
        if by_nomination:
            # A join per task to read its nomination: one pass gives the page and every view's count
            # (window counts over "all", the view's tasks sorted first, the others dropped here).
            windows = [func.count().filter(conditions[name]).over() for name in TASK_VIEWS]
            rows = session.execute(
                scoped(select(HumanTask, conditions[view], *windows), "all", True)
                .order_by(case((conditions[view], 0), else_=1), *order, HumanTask.id)
                .limit(paging.per_page)
                .offset(offset)
            ).all()
            tasks = [row[0] for row in rows if row[1]]
            if rows:
                counted = rows[0][2:]
            elif offset == 0:  # nothing at all matches the filters: every view counts 0
                counted = (0,) * len(TASK_VIEWS)
            else:
                counted = None
        else:
            tasks = session.scalars(
                scoped(select(HumanTask), view, sort in ("award", "status"))
                .order_by(*order, HumanTask.id)
                .limit(paging.per_page)
                .offset(offset)
            ).all()
            counted = None
        if counted is None:  # no window counts: not joined, or a page past the end of what matches
            views = [func.count().filter(conditions[name]) for name in TASK_VIEWS]
            counted = session.execute(scoped(select(*views), "all", by_nomination)).one()
        counts = dict(zip(TASK_VIEWS, counted, strict=True))
        counts.update(_nomination_counts(session, principal, filters))
        found = summaries_of(session, {task.business_key for task in tasks if task.business_key})
        items = []
        for task in tasks:
            left, overdue = pages.due_state(uow, task.due_at, now)
            items.append(InboxItem(TaskView.of(task), found.get(task.business_key), left, overdue))
        return Page(items, counts[view], paging.page, paging.per_page, counts)


def nominations(
    services: Services,
    principal: Principal,
    view: str = "mine",
    filters: Filters = Filters(),
    sort: str = "-created",
    paging: Paging = Paging(),
) -> Page:
    """Nominations the principal started, watches, either (mine), or may see (visible)."""
    _require_listing(view, NOMINATION_VIEWS, sort, NOMINATION_SORTS)
    if filters.due:
        raise DomainError("invalid_filter", "the due filter applies to tasks, not nominations")
    with services.session_factory() as session:
        condition = _nomination_view(principal, view)
        query = _nomination_filters(select(Nomination.id).where(condition), filters)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        order = {
            "created": (Nomination.created_at,),
            "-created": (Nomination.created_at.desc(),),
            "award": (Nomination.award_code, Nomination.created_at),
            "status": (Nomination.status, Nomination.created_at),
        }[sort]
        rows = session.execute(
            _nomination_filters(summary_query().where(condition), filters)
            .order_by(*order, Nomination.id)
            .limit(paging.per_page)
            .offset((paging.page - 1) * paging.per_page)
        ).all()
        return Page([summary_from(row) for row in rows], total, paging.page, paging.per_page)


def nomination_detail(services: Services, principal: Principal, nomination_id: str) -> pages.NominationDetail:
    with services.session_factory() as session:
        return pages.nomination_page(session, principal, nomination_id)


def task_detail(services: Services, principal: Principal, task_id: str) -> pages.TaskDetail:
    """A task as its page shows it. NotFoundError when the principal may not see it."""
    with services.uow() as uow:
        return pages.task_page(uow, principal, task_id)


def task_nomination(services: Services, principal: Principal, task_id: str) -> str | None:
    """The nomination a task the principal sees belongs to (None for a task of no nomination)."""
    with services.session_factory() as session:
        access.require_task_visible(session, principal, task_id)
        return queries.find_task(session, task_id).business_key


def instance_history(services: Services, principal: Principal, instance_id: str) -> list[pages.HistoryEntry]:
    with services.session_factory() as session:
        access.require_instance_visible(session, principal, instance_id)
        return pages.history(session, [instance_id])


# --- helpers --------------------------------------------------------------------------------


def _require_listing(view: str, views: tuple[str, ...], sort: str, sorts: tuple[str, ...]) -> None:
    if view not in views:
        raise DomainError("invalid_view", f"view must be one of {', '.join(views)}, not {view!r}")
    if sort not in sorts:
        raise DomainError("invalid_sort", f"sort must be one of {', '.join(sorts)}, not {sort!r}")


def _view_conditions(principal: Principal, now: datetime) -> dict[str, Any]:
    mine = HumanTask.claimed_by == principal.id
    claimable = and_(HumanTask.claimed_by.is_(None), access.task_candidate(principal))
    return {
        "mine": mine,
        "claimable": claimable,
        "overdue": and_(or_(mine, claimable), HumanTask.due_at.is_not(None), HumanTask.due_at < now),
        "all": or_(mine, claimable),
    }


def _due_limit(uow, due: str | None, now: datetime) -> datetime | None:
    """Tasks due before this moment match the due filter."""
    if due is None:
        return None
    if due == "overdue":
        return now
    return uow.calendar.add_working_days(now, 1 if due == "today" else 5)


def _nomination_view(principal: Principal, view: str):
    visible = access.nomination_visible(principal)
    started = Nomination.created_by == principal.id
    watched = Nomination.id.in_(select(NominationWatch.nomination_id).where(NominationWatch.user_id == principal.id))
    return {
        "started": started,
        "watched": and_(watched, visible),
        "mine": or_(started, and_(watched, visible)),
        "visible": visible,
    }[view]


def _nomination_counts(session: Session, principal: Principal, filters: Filters) -> dict[str, int]:
    counts = {}
    for view in ("started", "watched"):
        query = _nomination_filters(select(func.count(Nomination.id)).where(_nomination_view(principal, view)), filters)
        counts[view] = session.scalar(query)
    return counts


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class CampaignChoice:
    id: str
    label: str
    year: int


@dataclass(frozen=True)
class NominationChoices:
    """What a unit officer picks from to start a nomination."""

    campaigns: list[CampaignChoice]
    awards: list[Choice]
    units: list[Choice]  # units the principal is a unit officer of
    persons: list[Choice]  # people of those units
    collectives: list[Choice]  # units that can be nominated for a collective award


def nomination_choices(services: Services, principal: Principal) -> NominationChoices:
    officer_units = sorted(
        scope.partition(":")[2] for role, scope in principal.assignments if role == "unit_officer" and scope
    )
    with services.uow() as uow:
        session = uow.session
        units = session.scalars(select(Unit).where(Unit.id.in_(officer_units)).order_by(Unit.name)).all()
        jurisdictions = {unit.jurisdiction_id for unit in units}
        campaigns = session.scalars(
            select(Campaign).where(Campaign.jurisdiction_id.in_(jurisdictions)).order_by(Campaign.year.desc())
        ).all()
        award_choices: dict[str, Choice] = {}
        for campaign in campaigns:
            try:
                rule_set = eligibility.rule_set_in_force(uow, campaign.jurisdiction_id, campaign.year)
            except DomainError:
                continue
            for award in session.scalars(select(Award).where(Award.rule_set_id == rule_set.id)):
                award_choices.setdefault(award.code, Choice(award.code, award.title))
        persons = session.scalars(
            select(Person).where(Person.unit_id.in_(officer_units)).order_by(Person.full_name)
        ).all()
        return NominationChoices(
            [CampaignChoice(c.id, c.name, c.year) for c in campaigns],
            sorted(award_choices.values(), key=lambda c: c.label),
            [Choice(u.id, u.name) for u in units],
            [Choice(p.id, p.full_name) for p in persons],
            [Choice(u.id, u.name) for u in units],  # a unit nominates itself as a collective
        )


@dataclass(frozen=True)
class RegisterEntry:
    year: int
    award_code: str
    award_title: str | None
    decision_code: str | None  # None: imported, or recorded before decisions were kept here
    decided_on: date | None
    decider_level: str | None
    counts_for_merit: bool
    revoked_on: date | None
    revoked_by: str | None
    received_by: str  # the subject, or the predecessor unit it came with
    received_by_name: str


@dataclass(frozen=True)
class Register:
    subject_kind: str
    subject_id: str
    name: str
    entries: list[RegisterEntry]  # newest year first


def awards_received(services: Services, principal: Principal, subject_kind: str, subject_id: str) -> Register:
    """NotFoundError for an unknown subject or one outside the principal's scope (a person is seen
    through the units that employed them)."""
    with services.session_factory() as session:
        if subject_kind == SUBJECT_PERSON:
            person = session.get(Person, subject_id)
            if person is None:
                raise NotFoundError("person", subject_id)
            units = set(session.scalars(select(Employment.unit_id).where(Employment.person_id == subject_id)))
            access.require_units_visible(session, principal, units | {person.unit_id}, "person", subject_id)
            name, subjects = person.full_name, {subject_id}
        elif subject_kind == SUBJECT_UNIT:
            unit = session.get(Unit, subject_id)
            if unit is None:
                raise NotFoundError("unit", subject_id)
            subjects = lineage(session, subject_id)
            access.require_units_visible(session, principal, subjects, "unit", subject_id)
            name = unit.name
        else:
            raise NotFoundError(subject_kind, subject_id)
        titles = dict(session.execute(select(Award.code, func.max(Award.title)).group_by(Award.code)).all())
        names = {subject_id: name}
        if subject_kind == SUBJECT_UNIT:
            names |= dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(subjects))).all())
        records = session.scalars(
            select(AchievementRecord)
            .where(AchievementRecord.subject_kind == subject_kind, AchievementRecord.subject_id.in_(subjects))
            .order_by(AchievementRecord.year.desc(), AchievementRecord.award_code, AchievementRecord.id)
        )
        entries = [
            RegisterEntry(
                record.year,
                record.award_code,
                titles.get(record.award_code),
                record.decision_code,
                record.decided_on,
                record.decider_level,
                record.counts_for_merit,
                record.revoked_on,
                record.revoked_by,
                record.subject_id,
                names.get(record.subject_id, record.subject_id),
            )
            for record in records
        ]
        return Register(subject_kind, subject_id, name, entries)
