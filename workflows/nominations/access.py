"""Record-level scopes. A user sees a nomination when one of their roles is scoped to its
nominating or nominee unit, to the bloc of the nominating unit, or to the jurisdiction of its
campaign (or is held everywhere), or when they created it. A task is seen with its nomination,
or when the user is its candidate or claimer, who can act on it. What a user cannot see does not
exist for them (404); what they see but may not touch is forbidden (403)."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true, union
from sqlalchemy.orm import Session

from engine import queries
from engine.models import HumanTask, ProcessInstance

from ..accounts.principals import Principal
from ..errors import NotFoundError
from ..org.models import BlocMember, Jurisdiction, RoleAssignment, Unit, User
from .models import Campaign, Nomination

_KINDS = ("unit", "bloc", "jurisdiction")


def _scoped_ids(principal: Principal) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {kind: set() for kind in _KINDS}
    for scope in principal.scopes:
        kind, _, value = scope.partition(":")
        if kind in ids:
            ids[kind].add(value)
    return ids


# The clauses below are built once per principal (the key is their id, roles and scopes, so a
# cached clause cannot outlive a change of roles): building them showed on every request.
@functools.lru_cache(maxsize=1024)
def nomination_visible(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over Nomination: the nominations the principal may see."""
    if principal.unscoped:
        return true()
    ids = _scoped_ids(principal)
    conditions = [Nomination.created_by == principal.id]
    if ids["unit"]:
        conditions += [Nomination.nominating_unit_id.in_(ids["unit"]), Nomination.nominee_unit_id.in_(ids["unit"])]
    if ids["bloc"]:
        conditions.append(Nomination.bloc_id.in_(ids["bloc"]))
    if ids["jurisdiction"]:
        in_jurisdiction = select(Campaign.id).where(Campaign.jurisdiction_id.in_(ids["jurisdiction"]))
        conditions.append(Nomination.campaign_id.in_(in_jurisdiction))
    return or_(*conditions)


def task_candidate(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over HumanTask: tasks whose role and scope the principal holds."""
    pairs = [
        and_(HumanTask.candidate_role == role, true() if scope is None else HumanTask.org_scope == scope)
        for role, scope in principal.assignments
    ]
    return or_(*pairs) if pairs else false()


def actionable_tasks(*conditions) -> Select:
    """(user_id, task_id) of every open task each active user can act on, for all users at once:
    the rule of the "all" view (claimed by the user, or unclaimed with a role the user holds in
    the task's scope or everywhere). `conditions` are further filters over HumanTask."""
    holds_role = and_(
        HumanTask.claimed_by.is_(None),
        HumanTask.candidate_role == RoleAssignment.role,
        or_(RoleAssignment.scope.is_(None), RoleAssignment.scope == HumanTask.org_scope),
    )
    open_tasks = (HumanTask.state == queries.TASK_OPEN, *conditions)
    pairs = union(
        select(RoleAssignment.user_id, HumanTask.id.label("task_id")).join(HumanTask, holds_role).where(*open_tasks),
        select(HumanTask.claimed_by.label("user_id"), HumanTask.id.label("task_id")).where(
            HumanTask.claimed_by.is_not(None), *open_tasks
        ),
    ).subquery()
    return select(pairs.c.user_id, pairs.c.task_id).join(User, User.id == pairs.c.user_id).where(User.active.is_(True))


def require_nomination(session: Session, principal: Principal, nomination_id: str) -> Nomination:
    """The nomination if the principal may see it; NotFoundError otherwise."""
    nomination = session.scalars(
        select(Nomination).where(Nomination.id == nomination_id, nomination_visible(principal))
    ).one_or_none()
    if nomination is None:
        raise NotFoundError("nomination", nomination_id)
    return nomination


@functools.lru_cache(maxsize=1024)
def task_visible(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause over HumanTask and its Nomination (outer-joined on its business key): the
    principal is the task's candidate or claimer or sees its nomination."""
    return or_(
        HumanTask.claimed_by == principal.id,
        task_candidate(principal),
        and_(Nomination.id.is_not(None), nomination_visible(principal)),
    )


def require_task_visible(session: Session, principal: Principal, task_id: str) -> None:
    """NotFoundError unless the principal sees the task."""
    visible = session.scalar(
        select(HumanTask.id)
        .outerjoin(Nomination, Nomination.id == HumanTask.business_key)
        .where(HumanTask.id == task_id, task_visible(principal))
    )
    if visible is None:
        raise NotFoundError("task", task_id)


def require_instance_visible(session: Session, principal: Principal, instance_id: str) -> None:
    """An instance is seen through its nomination (or, without one, by an unscoped role)."""
    key = session.execute(
        select(ProcessInstance.business_key).where(ProcessInstance.id == instance_id)
    ).scalar_one_or_none()
    nomination = session.get(Nomination, key) if key else None
    if nomination is None:
        if key is None and principal.unscoped and session.get(ProcessInstance, instance_id) is not None:
            return
        raise NotFoundError("instance", instance_id)
    require_nomination(session, principal, nomination.id)


def require_units_visible(
    session: Session, principal: Principal, unit_ids: set[str], kind: str, record_id: str
) -> None:
    """A unit's records (its register, its people's) are seen by a role scoped to the unit, to a
    bloc it belonged to, or to its jurisdiction or the province above it (or held everywhere).
    NotFoundError otherwise,
    naming the record (`kind`, `record_id`) asked for."""
    if principal.unscoped:
        return
    ids = _scoped_ids(principal)
    if ids["unit"] & unit_ids:
        return
    conditions = []
    if ids["bloc"]:
        conditions.append(Unit.id.in_(select(BlocMember.unit_id).where(BlocMember.bloc_id.in_(ids["bloc"]))))
    if ids["jurisdiction"]:  # a province's roles see its communes' and wards' units too
        within = select(Jurisdiction.id).where(
            or_(Jurisdiction.id.in_(ids["jurisdiction"]), Jurisdiction.parent_id.in_(ids["jurisdiction"]))
        )
        conditions.append(Unit.jurisdiction_id.in_(within))
    if (
        not conditions
        or session.scalar(select(Unit.id).where(Unit.id.in_(unit_ids), or_(*conditions)).limit(1)) is None
    ):
        raise NotFoundError(kind, record_id)
