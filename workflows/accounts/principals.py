"""Who is acting: a signed-in user with the roles and scopes they hold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..org.models import RoleAssignment, User


@dataclass(frozen=True)
class Principal:
    """The signed-in user with the roles and scopes they hold."""

    id: str
    username: str
    full_name: str
    unit_id: str | None
    assignments: tuple[tuple[str, str | None], ...]

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope for _, scope in self.assignments if scope)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for role, _ in self.assignments)

    @property
    def unscoped(self) -> bool:
        """Holds some role everywhere (scope NULL)."""
        return any(scope is None for _, scope in self.assignments)


def principal_of(session: Session, user: User) -> Principal:
    """The user as a principal, with the roles they hold now."""
    rows = session.execute(
        select(RoleAssignment.role, RoleAssignment.scope)
        .where(RoleAssignment.user_id == user.id)
        .order_by(RoleAssignment.role, RoleAssignment.scope)
    )
    return Principal(user.id, user.username, user.full_name, user.unit_id, tuple((r.role, r.scope) for r in rows))
