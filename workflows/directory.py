"""The engine's Directory port, answered from the org chart."""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from .org.models import RoleAssignment, User

_roles, _users = RoleAssignment.__table__.c, User.__table__.c
# Core and compiled once: this runs on every task action, where the ORM's overhead was most of its cost.
_HOLDS_ROLE = (
    select(_roles.id)
    .join_from(RoleAssignment.__table__, User.__table__, _users.id == _roles.user_id)
    .where(_users.id == bindparam("user_id"), _users.active.is_(True), _roles.role == bindparam("role"))
    .where(or_(_roles.scope.is_(None), _roles.scope == bindparam("scope")))
    .limit(1)
)


class OrgDirectory:
    """A user is a candidate for a task when they are active and hold its role in its scope
    (or hold the role without a scope). Queries run in the caller's session and transaction."""

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        if role is None:
            return False
        params = {"user_id": user_id, "role": role, "scope": org_scope}
        return session.connection().scalar(_HOLDS_ROLE, params) is not None

    def assignments(self, session: Session, user_id: str) -> list[tuple[str, str | None]]:
        rows = session.execute(
            select(RoleAssignment.role, RoleAssignment.scope).where(RoleAssignment.user_id == user_id)
        )
        return [(row.role, row.scope) for row in rows]
