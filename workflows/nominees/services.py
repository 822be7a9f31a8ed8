"""People, each in one transaction: a unit officer registers someone who works in their unit (from
the nomination page), so that a unit is not limited to the people loaded before."""

from __future__ import annotations

import uuid
from datetime import date

from ..accounts.principals import Principal
from ..calendar.vietnam import today
from ..directory import SignedInDirectory
from ..errors import DomainError
from ..org.models import Unit, unit_scope
from ..uow import Services
from . import people

MAX_NAME_LENGTH = 200


def register_person(
    services: Services, principal: Principal, *, unit_id: str, full_name: str, recruited_on: date
) -> str:
    """The new person's id. Raises DomainError: not_unit_officer, person_name_invalid,
    recruited_in_future."""
    full_name = " ".join(full_name.split())
    if not full_name or len(full_name) > MAX_NAME_LENGTH:
        raise DomainError("person_name_invalid", f"a person's full name has 1 to {MAX_NAME_LENGTH} characters")
    with services.uow() as uow:
        directory = SignedInDirectory(services.directory, principal.id, principal.assignments)
        if uow.session.get(Unit, unit_id) is None or not directory.is_candidate(
            uow.session, principal.id, "unit_officer", unit_scope(unit_id)
        ):
            raise DomainError("not_unit_officer", f"{principal.id} is not a unit officer of {unit_id}")
        if recruited_on > today(uow):
            raise DomainError("recruited_in_future", f"recruited on {recruited_on:%d/%m/%Y}, after today")
        person_id = str(uuid.uuid4())
        people.add_person(
            uow.session, person_id=person_id, full_name=full_name, unit_id=unit_id, recruited_on=recruited_on
        )
        uow.commit()
    return person_id
