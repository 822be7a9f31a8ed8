"""Which councils a principal works for: those of the jurisdictions they hold a role in."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.principals import Principal
from ..errors import NotFoundError
from ..org.models import Council


def councils_of(session, principal: Principal) -> list[Council]:
    """The councils of the jurisdictions the principal holds a role in (all, for an unscoped role)."""
    query = select(Council)
    if not principal.unscoped:
        jurisdictions = [scope.partition(":")[2] for scope in principal.scopes if scope.startswith("jurisdiction:")]
        query = query.where(Council.jurisdiction_id.in_(jurisdictions))
    return list(session.scalars(query.order_by(Council.name)))


def council_of(session, principal: Principal, council_id: str, missing: tuple[str, str] | None = None) -> Council:
    """A council the principal holds a role in the jurisdiction of; NotFoundError otherwise."""
    for found in councils_of(session, principal):
        if found.id == council_id:
            return found
    raise NotFoundError(*(missing or ("council", council_id)))
