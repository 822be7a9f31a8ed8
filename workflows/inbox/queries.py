"""What reviewers read: the inbox (my tasks, claimable, overdue, nominations I started or
watch) with filters, sort, pagination and counts; a task with everything needed to decide it;
a nomination with its files, history and comments. Every query is scoped to the principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

import engine
from engine import TaskView, queries
from engine.models import HistoryEvent, HumanTask, ProcessInstance

from ..accounts.principals import Principal
from ..awards import eligibility
from ..awards.models import Award
from ..calendar.vietnam import today
from ..dossiers.models import DossierFile
from ..errors import DomainError, NotFoundError
from ..nominations import access
from ..nominations.files import FileEntry, file_from, files_query
from ..nominations.models import Campaign, Nomination, NominationWatch, NoticeComment, ReviewComment
from ..nominations.steps import SYSTEM_STEPS
from ..nominations.summaries import NominationSummary, summaries_of, summary_from, summary_query
from ..nominees.models import Person
from ..org.models import RoleAssignment, Unit, User
from ..paging import Page, Paging
from ..uow import Services

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


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    type: str
    at: datetime
    actor: str | None
    actor_name: str | None
    element_id: str | None
    task_name: str | None  # the step's name when the event is about a task
    reason: str | None
    data: dict


@dataclass(frozen=True)
class CommentEntry:
    kind: str  # review | notice
    text: str
    author_name: str | None
    at: datetime
    resolution: str | None = None


@dataclass(frozen=True)
class NominationDetail:
    nomination: NominationSummary
    open_tasks: list[TaskView]
    files: list[FileEntry]
    history: list[HistoryEntry]
    comments: list[CommentEntry]
    watching: bool


@dataclass(frozen=True)
class Colleague:
    id: str
    full_name: str


@dataclass(frozen=True)
class TaskDetail:
    task: TaskView
    form_schema: dict | None
    nomination: NominationDetail | None
    eligibility: Any  # awards.EligibilityReport, or None when it cannot be computed
    can_act: bool  # candidate or claimer, and the task is open
    system_step: bool  # completed by the council's tally, not by a form
    colleagues: list[Colleague]  # whom the task can be delegated to
    working_days_left: int | None
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
    if view not in TASK_VIEWS:
        raise DomainError("invalid_view", f"view must be one of {', '.join(TASK_VIEWS)}, not {view!r}")
    if sort not in TASK_SORTS:
        raise DomainError("invalid_sort", f"sort must be one of {', '.join(TASK_SORTS)}, not {sort!r}")
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
            left, overdue = _due_state(uow, task.due_at, now)
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
    if view not in NOMINATION_VIEWS:
        raise DomainError("invalid_view", f"view must be one of {', '.join(NOMINATION_VIEWS)}, not {view!r}")
    if sort not in NOMINATION_SORTS:
        raise DomainError("invalid_sort", f"sort must be one of {', '.join(NOMINATION_SORTS)}, not {sort!r}")
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


def nomination_detail(services: Services, principal: Principal, nomination_id: str) -> NominationDetail:
    with services.session_factory() as session:
        return _nomination_detail(session, principal, nomination_id)


def task_detail(services: Services, principal: Principal, task_id: str) -> TaskDetail:
    """A task as its page shows it. NotFoundError when the principal may not see it."""
    with services.uow() as uow:
        session = uow.session
        context = _visible_task(uow, principal, task_id)
        task = context.task
        nomination = _nomination_detail(session, principal, context.business_key) if context.business_key else None
        is_open = task.state == queries.TASK_OPEN and context.instance_status == "running"
        candidate = uow.directory.is_candidate(session, principal.id, task.candidate_role, task.org_scope)
        can_act = is_open and (task.claimed_by == principal.id or (candidate and task.claimed_by is None))
        left, overdue = _due_state(uow, task.due_at, uow.clock()) if is_open else (None, False)
        return TaskDetail(
            task=task,
            form_schema=engine.form_schema(uow, context.definition_id, task.form),
            nomination=nomination,
            eligibility=_eligibility(uow, session, context.business_key) if nomination else None,
            can_act=can_act,
            system_step=task.element_id in SYSTEM_STEPS,
            colleagues=_colleagues(session, task, principal.id) if can_act else [],
            working_days_left=left,
            overdue=overdue,
        )


@dataclass(frozen=True)
class TaskForm:
    """What completing a task or attaching a file from it needs, without the page's extras
    (eligibility, history): these run on every form post."""

    name: str
    nomination_id: str | None
    schema: dict | None


def task_form(services: Services, principal: Principal, task_id: str) -> TaskForm:
    with services.uow() as uow:
        context = _visible_task(uow, principal, task_id)
        schema = engine.form_schema(uow, context.definition_id, context.task.form)
        return TaskForm(context.task.name, context.business_key, schema)


def _visible_task(uow, principal: Principal, task_id: str) -> queries.TaskContext:
    access.require_task_visible(uow.session, principal, task_id)
    context = queries.find_task(uow.session, task_id)
    if context is None:
        raise NotFoundError("task", task_id)
    return context


def instance_history(services: Services, principal: Principal, instance_id: str) -> list[HistoryEntry]:
    with services.session_factory() as session:
        access.require_instance_visible(session, principal, instance_id)
        return _history(session, [instance_id])


# --- helpers --------------------------------------------------------------------------------


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


def _due_state(uow, due_at: datetime | None, now: datetime) -> tuple[int | None, bool]:
    if due_at is None:
        return None, False
    return uow.calendar.working_days_left(now, due_at), due_at < now


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


def _nomination_detail(session: Session, principal: Principal, nomination_id: str) -> NominationDetail:
    access.require_nomination(session, principal, nomination_id)
    (summary,) = summaries_of(session, {nomination_id}).values()
    instance_ids = session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.business_key == nomination_id)
        .order_by(ProcessInstance.started_at)
    ).all()
    open_tasks = [task for instance_id in instance_ids for task in queries.open_tasks(session, instance_id=instance_id)]
    files = [file_from(row) for row in session.execute(files_query().where(DossierFile.nomination_id == nomination_id))]
    watching = session.get(NominationWatch, (principal.id, nomination_id)) is not None
    return NominationDetail(
        summary, open_tasks, files, _history(session, instance_ids), _comments(session, nomination_id), watching
    )


def _history(session: Session, instance_ids: list[str]) -> list[HistoryEntry]:
    if not instance_ids:
        return []
    rows = session.execute(
        select(HistoryEvent, User.full_name, HumanTask.name)
        .outerjoin(User, User.id == HistoryEvent.actor)
        .outerjoin(HumanTask, HumanTask.id == HistoryEvent.task_id)
        .where(HistoryEvent.instance_id.in_(instance_ids))
        .order_by(HistoryEvent.occurred_at, HistoryEvent.seq)
    )
    return [
        HistoryEntry(
            event.seq,
            event.type,
            event.occurred_at,
            event.actor,
            actor_name,
            event.element_id,
            task_name,
            event.reason,
            event.data or {},
        )
        for event, actor_name, task_name in rows
    ]


def _comments(session: Session, nomination_id: str) -> list[CommentEntry]:
    review = session.execute(
        select(ReviewComment, User.full_name)
        .join(User, User.id == ReviewComment.author_id)
        .where(ReviewComment.nomination_id == nomination_id)
    )
    notice = session.scalars(select(NoticeComment).where(NoticeComment.nomination_id == nomination_id))
    entries = [CommentEntry("review", c.text, name, c.created_at) for c, name in review]
    entries += [CommentEntry("notice", c.text, None, c.received_at, c.resolution) for c in notice]
    return sorted(entries, key=lambda entry: entry.at)


def _eligibility(uow, session: Session, nomination_id: str):
    nomination = session.get(Nomination, nomination_id)
    try:
        return eligibility.check_eligibility(
            uow,
            uow.runtime.evaluator,
            nomination.rule_set_id,
            nomination.award_code,
            person_id=nomination.person_id,
            unit_id=None if nomination.person_id else nomination.nominee_unit_id,
            year=nomination.achievement_year,
            as_of=today(uow),
        )
    except (DomainError, engine.EngineError):
        return None  # shown as "cannot be checked"; appraisal refuses with the reason


def _colleagues(session: Session, task: TaskView, actor: str) -> list[Colleague]:
    """Active users holding the task's role in its scope (or everywhere), except the actor."""
    if task.candidate_role is None:
        return []
    rows = session.execute(
        select(User.id, User.full_name)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            User.active.is_(True),
            User.id != actor,
            RoleAssignment.role == task.candidate_role,
            or_(RoleAssignment.scope.is_(None), RoleAssignment.scope == task.org_scope),
        )
        .distinct()
        .order_by(User.full_name)
    )
    return [Colleague(*row) for row in rows]


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
        collectives = session.scalars(
            select(Unit).where(Unit.jurisdiction_id.in_(jurisdictions)).order_by(Unit.name)
        ).all()
        return NominationChoices(
            [CampaignChoice(c.id, c.name, c.year) for c in campaigns],
            sorted(award_choices.values(), key=lambda c: c.label),
            [Choice(u.id, u.name) for u in units],
            [Choice(p.id, p.full_name) for p in persons],
            [Choice(u.id, u.name) for u in collectives],
        )
