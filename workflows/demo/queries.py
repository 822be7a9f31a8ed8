"""Who does what in the demo province, for `thidua demo --json` and the README."""

from __future__ import annotations

from sqlalchemy import select

from ..org.models import BlocMember, RoleAssignment, User
from ..uow import Services
from .services import DEMOS


def demo_users(services: Services, demo: str = "nam-dinh-2022") -> dict:
    """Who does what in the demo: {"password", "users": [{username, full_name, roles, unit, bloc}]}."""
    province = DEMOS[demo]
    with services.session_factory() as session:
        blocs = {
            m.unit_id: m.bloc_id for m in session.scalars(select(BlocMember).where(BlocMember.year == province.YEAR))
        }
        users = []
        for user in session.scalars(select(User).order_by(User.username)):
            roles = session.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id)).all()
            users.append(
                {
                    "username": user.username,
                    "full_name": user.full_name,
                    "roles": sorted(set(roles)),
                    "unit": user.unit_id,
                    "bloc": blocs.get(user.unit_id),
                }
            )
    return {"password": province.DEMO_PASSWORD, "users": users}
