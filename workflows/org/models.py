"""The org chart: jurisdictions, units, blocs (cụm/khối) with yearly membership and head, the
council and its members, and users with roles scoped to a unit, a bloc or a jurisdiction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase

# Roles a user can hold. Scopes are "unit:<id>", "bloc:<id>" or "jurisdiction:<id>".
ROLES = (
    "unit_officer",
    "unit_head",
    "bloc_head",
    "bloc_member",
    "board_officer",
    "board_head",
    "council_secretary",
    "council_member",
    "decider",
    "designer",
    "auditor",
    "admin",
)
COUNCIL_POSITIONS = ("chair", "standing_vice_chair", "vice_chair", "member")


def unit_scope(unit_id: str) -> str:
    return f"unit:{unit_id}"


def bloc_scope(bloc_id: str) -> str:
    return f"bloc:{bloc_id}"


def jurisdiction_scope(jurisdiction_id: str) -> str:
    return f"jurisdiction:{jurisdiction_id}"


class Jurisdiction(DomainBase):
    """A province, city or commune; `decision_suffix` numbers its decisions (e.g. QĐ-UBND)."""

    __tablename__ = "jurisdiction"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))  # province | city | commune
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.id"))
    decision_suffix: Mapped[str] = mapped_column(String(50))


class Unit(DomainBase):
    """An organisation that proposes: a department, a commune, an enterprise; `parent_id` is the
    unit it belongs to (a sở's phòng, a ward's tổ dân phố). It exists from `valid_from` to
    `valid_to` (None: no bound); a merger or split is told by UnitSuccession."""

    __tablename__ = "unit"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class UnitSuccession(DomainBase):
    """A unit that took over another (merged into it, or split from it) from `since`: the
    successor's awards and members' counts include its predecessor's."""

    __tablename__ = "unit_succession"

    successor_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    predecessor_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    since: Mapped[date] = mapped_column(Date)


class Bloc(DomainBase):
    """A cụm (by area) or khối (by sector) of units that compete and review each other."""

    __tablename__ = "bloc"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # cluster (cụm) | sector (khối)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), index=True)


class BlocMember(DomainBase):
    """A unit's membership of a bloc in a year; `is_head` marks the head unit (cụm trưởng)."""

    __tablename__ = "bloc_member"

    bloc_id: Mapped[str] = mapped_column(ForeignKey("bloc.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    is_head: Mapped[bool] = mapped_column(default=False)


class Council(DomainBase):
    """The emulation and commendation council (Hội đồng TĐKT) of a jurisdiction."""

    __tablename__ = "council"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), index=True)


class CouncilMember(DomainBase):
    """A member of a council; `unit_id` is the unit they come from (recusal)."""

    __tablename__ = "council_member"

    council_id: Mapped[str] = mapped_column(ForeignKey("council.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    position: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))


class User(DomainBase):
    __tablename__ = "app_user"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("unit.id"))
    email: Mapped[str | None] = mapped_column(String(320))  # None: in-app notifications only
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None: cannot sign in
    # Sign-in throttling lives in the database so that every web worker sees the same count.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleAssignment(DomainBase):
    """A role held within a scope (e.g. `unit:SO_NOI_VU`); scope NULL holds it everywhere."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(50))
    scope: Mapped[str | None] = mapped_column(String(200))
