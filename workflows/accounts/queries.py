"""Who the users are, for the administrators' users page: each with their unit and roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..org.models import RoleAssignment, Unit, User
from ..uow import Services


@dataclass(frozen=True)
class UserRow:
    username: str
    full_name: str
    unit: str | None
    active: bool
    locked: bool
    roles: tuple[tuple[str, str | None], ...]  # (role, scope), scope None: everywhere


def users(services: Services) -> list[UserRow]:
    """Every user, by username."""
    with services.session_factory() as session:
        roles: dict[str, list[tuple[str, str | None]]] = {}
        for user_id, role, scope in session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.scope).order_by(
                RoleAssignment.role, RoleAssignment.scope
            )
        ):
            roles.setdefault(user_id, []).append((role, scope))
        rows = session.execute(
            select(User, Unit.name).outerjoin(Unit, Unit.id == User.unit_id).order_by(User.username)
        ).all()
        return [
            UserRow(
                user.username,
                user.full_name,
                unit_name,
                user.active,
                user.locked_until is not None,
                tuple(roles.get(user.id, ())),
            )
            for user, unit_name in rows
        ]
