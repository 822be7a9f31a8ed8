"""The engine's Directory port, answered from the org chart."""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from .org.models import Bloc, RoleAssignment, Unit, User, jurisdiction_scope

_roles, _users = RoleAssignment.__table__.c, User.__table__.c
# Core and compiled once: this runs on every task action, where the ORM's overhead was most of its cost.
_HOLDS_ROLE = (
    select(_roles.id)
    .join_from(RoleAssignment.__table__, User.__table__, _users.id == _roles.user_id)
    .where(_users.id == bindparam("user_id"), _users.active.is_(True), _roles.role == bindparam("role"))
    .where(or_(_roles.scope.is_(None), _roles.scope == bindparam("scope")))
    .limit(1)
)

_HOLDERS = (
    select(_users.id)
    .join_from(RoleAssignment.__table__, User.__table__, _users.id == _roles.user_id)
    .where(_users.active.is_(True), _roles.role == bindparam("role"))
    .where(or_(_roles.scope.is_(None), _roles.scope == bindparam("scope")))
    .distinct()
)


class OrgDirectory:
    """A user is a candidate for a task when they are active and hold its role in its scope
    (or hold the role without a scope). Queries run in the caller's session and transaction."""

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        if role is None:
            return False
        params = {"user_id": user_id, "role": role, "scope": org_scope}
        return session.connection().scalar(_HOLDS_ROLE, params) is not None

    def users_holding(self, session: Session, role: str | None, org_scope: str | None) -> list[str]:
        """The active users who are candidates for (`role`, `org_scope`), as is_candidate decides."""
        if role is None:
            return []
        return list(session.connection().scalars(_HOLDERS, {"role": role, "scope": org_scope}))

    def supervisor(self, session: Session, role: str, org_scope: str | None, to: str) -> tuple[str, str | None] | None:
        """Who is above a task's candidates. "supervisor": a unit's officers answer to its head,
        everyone else (unit heads, bloc heads, the board's officers, the council's secretary,
        the decider) to the head of the board of their jurisdiction. "board": the board's
        officers take the task over (the board's head, when it was theirs). The board's head
        answers to no one here."""
        kind, _, ident = (org_scope or "").partition(":")
        if to == "supervisor" and kind == "unit" and role != "unit_head":
            return "unit_head", org_scope
        jurisdiction = ident if kind == "jurisdiction" else None
        if kind in ("unit", "bloc"):
            model = Unit if kind == "unit" else Bloc
            jurisdiction = session.scalar(select(model.jurisdiction_id).where(model.id == ident))
        if jurisdiction is None or role == "board_head":
            return None
        board = jurisdiction_scope(jurisdiction)
        if to == "board" and role != "board_officer":
            return "board_officer", board
        return "board_head", board

    def assignments(self, session: Session, user_id: str) -> list[tuple[str, str | None]]:
        rows = session.execute(
            select(RoleAssignment.role, RoleAssignment.scope).where(RoleAssignment.user_id == user_id)
        )
        return [(row.role, row.scope) for row in rows]


class SignedInDirectory:
    """The org chart within one request of a signed-in user: whether *they* are a task's
    candidate is answered from the role assignments read with their session or token at the
    start of the request (a query less on every task action); anyone else is looked up."""

    def __init__(self, chart: OrgDirectory, user_id: str, assignments: tuple[tuple[str, str | None], ...]):
        self._chart, self._user_id, self._assignments = chart, user_id, assignments

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        if user_id != self._user_id:
            return self._chart.is_candidate(session, user_id, role, org_scope)
        return role is not None and any(
            held == role and scope in (None, org_scope) for held, scope in self._assignments
        )

    def supervisor(self, session: Session, role: str, org_scope: str | None, to: str) -> tuple[str, str | None] | None:
        return self._chart.supervisor(session, role, org_scope, to)
