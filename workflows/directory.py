"""The engine's Directory port, answered from the org chart."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .org.models import RoleAssignment, User


class OrgDirectory:
    """A user is a candidate for a task when they are active and hold its role in its scope
    (or hold the role without a scope). Queries run in the caller's session and transaction."""

    def is_candidate(self, session: Session, user_id: str, role: str | None, org_scope: str | None) -> bool:
        if role is None:
            return False
        roles, users = RoleAssignment.__table__.c, User.__table__.c
        query = (
            select(roles.id)
            .join_from(RoleAssignment.__table__, User.__table__, users.id == roles.user_id)
            .where(users.id == user_id, users.active.is_(True), roles.role == role)
            .where(or_(roles.scope.is_(None), roles.scope == org_scope))
            .limit(1)
        )
        # A Core query: this runs on every task action, and the ORM's overhead is most of its cost.
        return session.connection().scalar(query) is not None

    def assignments(self, session: Session, user_id: str) -> list[tuple[str, str | None]]:
        rows = session.execute(select(RoleAssignment.role, RoleAssignment.scope).where(RoleAssignment.user_id == user_id))
        return [(row.role, row.scope) for row in rows]
