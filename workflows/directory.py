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
        query = (
            select(RoleAssignment.id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(User.id == user_id, User.active.is_(True), RoleAssignment.role == role)
        )
        query = query.where(or_(RoleAssignment.scope.is_(None), RoleAssignment.scope == org_scope))
        return session.scalar(query.limit(1)) is not None

    def assignments(self, session: Session, user_id: str) -> list[tuple[str, str | None]]:
        rows = session.execute(select(RoleAssignment.role, RoleAssignment.scope).where(RoleAssignment.user_id == user_id))
        return [(row.role, row.scope) for row in rows]
