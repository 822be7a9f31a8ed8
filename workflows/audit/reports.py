"""Auditors' reports over the nominations they may see (nominations.access.nomination_visible), for
one campaign or year or all: nominations counted by campaign, award, nominating unit, bloc,
status and process state; the time each user-task step took (median and 90th percentile, in
hours and in working days); and how often each step ran late or climbed its escalation ladder.

The counts and rates are aggregate SQL; a task reached a rung of its ladder when its history
has that rung's event. Only the start and end of completed tasks come back to Python, for the
percentiles (SQLite has no percentile_cont) and the working days (the calendar is Python's);
no snapshot is read."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from sqlalchemy import ColumnElement, and_, exists, func, null, or_, select, true
from sqlalchemy.orm import Session

from engine import TASK_COMPLETED, TASK_OPEN, Calendar, history
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance

from ..accounts.principals import Principal
from ..awards.models import Award
from ..errors import DomainError
from ..nominations.access import nomination_visible
from ..nominations.models import STATES, Campaign, Nomination
from ..org.models import Bloc, Unit
from ..uow import Services

DIMENSIONS = ("campaign", "award", "unit", "bloc", "status", "process")
# The rungs of the escalation ladder, in the order a late task climbs them, and their events.
STAGES = {
    "reminded": history.TASK_REMINDED,
    "overdue": history.TASK_OVERDUE,
    "escalated": history.TASK_ESCALATED,
}
MIN_YEAR, MAX_YEAR = 1945, 2100


@dataclass(frozen=True)
class ReportFilters:
    campaign: str | None = None
    year: int | None = None  # the campaign's year

    @classmethod
    def of(cls, values: Mapping[str, str]) -> "ReportFilters":
        """The filters of a query string; blanks are no filter. Raises DomainError invalid_year."""
        campaign = (values.get("campaign") or "").strip() or None
        text = (values.get("year") or "").strip()
        if not text:
            return cls(campaign)
        if not (text.isascii() and text.isdigit() and len(text) == 4) or not MIN_YEAR <= int(text) <= MAX_YEAR:
            raise DomainError(
                "invalid_year", f"year must be a whole number from {MIN_YEAR} to {MAX_YEAR}, not {text!r}"
            )
        return cls(campaign, int(text))


@dataclass(frozen=True)
class CampaignOption:
    id: str
    name: str
    year: int


@dataclass(frozen=True)
class Count:
    key: str | None  # campaign id, award code, unit id, bloc id, status or process state; None: none
    label: str | None  # the campaign's, award's, unit's or bloc's name
    count: int


@dataclass(frozen=True)
class StepTime:
    """How long the completed tasks of one step took, from opening to completion."""

    process_id: str
    element_id: str
    process: str  # the process's name
    name: str
    count: int
    median_hours: float
    p90_hours: float
    # Working days as deadlines count them: the day a task opened is not counted.
    median_working_days: float
    p90_working_days: float


@dataclass(frozen=True)
class StepRates:
    """Tasks of a step (process_id and element_id None: of every step) that had a deadline and were completed or
    are still open; how many ran late (completed after the deadline, or open past it) and how
    many reached each rung of the escalation ladder."""

    process_id: str | None
    element_id: str | None
    process: str | None
    name: str | None
    tasks: int
    late: int
    reminded: int
    overdue: int
    escalated: int

    def rate(self, what: str) -> float | None:
        """The share of `tasks` that are `what` (late, reminded, overdue, escalated); None without tasks."""
        return getattr(self, what) / self.tasks if self.tasks else None


@dataclass(frozen=True)
class Report:
    filters: ReportFilters
    at: datetime  # "now" for the tasks still open
    total: int  # nominations
    counts: dict[str, list[Count]]  # by dimension
    step_times: list[StepTime]
    step_rates: list[StepRates]
    overall: StepRates


def campaigns(services: Services, principal: Principal) -> list[CampaignOption]:
    """The campaigns the principal may report on: those of the jurisdictions they are scoped to
    and those with a nomination they may see; newest year first."""
    with services.session_factory() as session:
        rows = session.execute(
            select(Campaign.id, Campaign.name, Campaign.year)
            .where(_campaign_visible(principal))
            .order_by(Campaign.year.desc(), Campaign.name, Campaign.id)
        )
        return [CampaignOption(*row) for row in rows]


def report(services: Services, principal: Principal, filters: ReportFilters = ReportFilters()) -> Report:
    """Every table of the report under the filters. Raises DomainError unknown_campaign when the
    campaign filter names none the principal may report on."""
    now = services.clock()
    with services.session_factory() as session:
        if filters.campaign is not None:
            known = session.scalar(
                select(Campaign.id).where(Campaign.id == filters.campaign, _campaign_visible(principal))
            )
            if known is None:
                raise DomainError("unknown_campaign", f"no campaign {filters.campaign!r} among those you may see")
        where = _nomination_conditions(principal, filters)
        counts = {dimension: _counts(session, dimension, where) for dimension in DIMENSIONS}
        steps = _steps(session, where, now)
        completed = _completed_tasks(session, where)
    step_rates = [step for step in steps if step.tasks]
    # Out of the session: on SQLite it holds the write lock (engine.database).
    step_times = _step_times(services.calendar, steps, completed)
    overall = StepRates(
        None,
        None,
        None,
        None,
        *(sum(getattr(step, name) for step in step_rates) for name in ("tasks", "late", *STAGES)),
    )
    return Report(filters, now, sum(c.count for c in counts["campaign"]), counts, step_times, step_rates, overall)


def percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _campaign_visible(principal: Principal) -> ColumnElement[bool]:
    if principal.unscoped:
        return true()
    jurisdictions = {scope.partition(":")[2] for scope in principal.scopes if scope.startswith("jurisdiction:")}
    seen = exists().where(Nomination.campaign_id == Campaign.id, nomination_visible(principal))
    return or_(Campaign.jurisdiction_id.in_(jurisdictions), seen) if jurisdictions else seen


def _nomination_conditions(principal: Principal, filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions = [nomination_visible(principal)]
    if filters.campaign is not None:
        conditions.append(Nomination.campaign_id == filters.campaign)
    if filters.year is not None:
        conditions.append(Nomination.campaign_id.in_(select(Campaign.id).where(Campaign.year == filters.year)))
    return conditions


def _counts(session: Session, dimension: str, where: list) -> list[Count]:
    key, label, joined, on = {
        "campaign": (Nomination.campaign_id, Campaign.name, Campaign, Campaign.id == Nomination.campaign_id),
        "award": (
            Nomination.award_code,
            Award.title,
            Award,
            and_(Award.rule_set_id == Nomination.rule_set_id, Award.code == Nomination.award_code),
        ),
        "unit": (Nomination.nominating_unit_id, Unit.name, Unit, Unit.id == Nomination.nominating_unit_id),
        "bloc": (Nomination.bloc_id, Bloc.name, Bloc, Bloc.id == Nomination.bloc_id),
        "status": (Nomination.status, None, None, None),
        "process": (ProcessInstance.status, None, ProcessInstance, ProcessInstance.id == Nomination.instance_id),
    }[dimension]
    query = select(key, func.max(label) if label is not None else null(), func.count()).select_from(Nomination)
    if joined is not None:
        query = query.outerjoin(joined, on)
    rows = [Count(*row) for row in session.execute(query.where(*where).group_by(key))]
    if dimension == "status":
        return sorted(rows, key=lambda row: STATES.index(row.key) if row.key in STATES else len(STATES))
    return sorted(rows, key=lambda row: (-row.count, row.label or row.key or ""))


def _tasks(*columns, where: list):
    """A query over the tasks of the nominations (and of their revocations) under `where`."""
    return (
        select(*columns)
        .select_from(HumanTask)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .join(Nomination, Nomination.id == ProcessInstance.business_key)
        .where(*where)
    )


# A step is an element of a process, whichever version: the ad hoc route's receive_nomination
# is another step than the merit route's.
_STEP = (ProcessDefinition.process_id, HumanTask.element_id)


def _steps(session: Session, where: list, now: datetime) -> list[StepRates]:
    """Every step with its rates (no tasks: none had a deadline), process by process, each
    process's steps in the order they first opened and, among those that opened together, the
    most run first: the order of the ladder, near enough. One pass over the tasks."""
    deadline = and_(HumanTask.due_at.is_not(None), HumanTask.state.in_((TASK_OPEN, TASK_COMPLETED)))
    late = or_(
        and_(HumanTask.state == TASK_COMPLETED, HumanTask.ended_at > HumanTask.due_at),
        and_(HumanTask.state == TASK_OPEN, HumanTask.due_at < now),
    )

    def reached(event_type: str) -> ColumnElement[bool]:
        return exists().where(
            HistoryEvent.instance_id == HumanTask.instance_id,
            HistoryEvent.task_id == HumanTask.id,
            HistoryEvent.type == event_type,
        )

    rows = session.execute(
        _tasks(
            *_STEP,
            func.max(ProcessDefinition.name),
            func.max(HumanTask.name),  # names may change between versions: one stands for all
            func.count().filter(deadline),
            func.count().filter(and_(deadline, late)),
            *(func.count().filter(and_(deadline, reached(event_type))) for event_type in STAGES.values()),
            func.min(HumanTask.created_at).label("first_opened"),
            func.count().label("runs"),
            where=where,
        ).group_by(*_STEP)
    ).all()
    first_of_process: dict[str, datetime] = {}
    for row in rows:
        first_of_process[row.process_id] = min(row.first_opened, first_of_process.get(row.process_id, row.first_opened))
    rows.sort(
        key=lambda row: (first_of_process[row.process_id], row.process_id, row.first_opened, -row.runs, row.element_id)
    )
    return [StepRates(*row[:-2]) for row in rows]


def _completed_tasks(session: Session, where: list) -> list:
    return session.execute(
        _tasks(
            *_STEP,
            HumanTask.created_at,
            HumanTask.ended_at,
            where=[*where, HumanTask.state == TASK_COMPLETED, HumanTask.ended_at.is_not(None)],
        )
    ).all()


def _step_times(calendar: Calendar, steps: list[StepRates], rows: list) -> list[StepTime]:
    working_days = _working_days(calendar, [(row.created_at, row.ended_at) for row in rows])
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    days: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, worked in zip(rows, working_days, strict=True):
        hours[row.process_id, row.element_id].append((row.ended_at - row.created_at).total_seconds() / 3600)
        days[row.process_id, row.element_id].append(worked)
    return [
        StepTime(
            *key,
            step.process,
            step.name,
            len(hours[key]),
            percentile(hours[key], 0.5),
            percentile(hours[key], 0.9),
            percentile(days[key], 0.5),
            percentile(days[key], 0.9),
        )
        for step in steps
        if (key := (step.process_id, step.element_id)) in hours
    ]


def _working_days(calendar: Calendar, spans: list[tuple[datetime, datetime]]) -> list[int]:
    """calendar.working_days_between of each (start, end), from a running count over the sorted
    instants: each day of the whole period is looked at once, however many tasks there are."""
    running: dict[datetime, int] = {}
    count, previous = 0, None
    for moment in sorted({moment for span in spans for moment in span}):
        if previous is not None:
            count += calendar.working_days_between(previous, moment)
        running[moment] = count
        previous = moment
    return [running[end] - running[start] for start, end in spans]
