"""Services on a migrated database, users with roles, and the review fixture deployed."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import FIXTURES
from web.database import upgrade_database
from workflows.bootstrap import Services, bootstrap
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as process_services

# (username, role, scope)
REVIEW_USERS = [
    ("clerk_a", "clerk", "unit:A"),
    ("clerk_b", "clerk", "unit:B"),
    ("manager_a", "manager", "unit:A"),
    ("manager_a2", "manager", "unit:A"),
    ("clerk_manager_a", "clerk", "unit:A"),
    ("director", "director", None),
]


@pytest.fixture
def services(database_url, clock) -> Services:
    services = bootstrap(database_url, clock=clock)
    upgrade_database(services.database)
    yield services
    services.dispose()


def add_user(services: Services, username: str, role: str, scope: str | None) -> str:
    with services.uow() as uow:
        user = User(id=username, username=username, full_name=username.title(), active=True)
        uow.session.merge(user)
        uow.session.flush()
        uow.session.add(RoleAssignment(user_id=username, role=role, scope=scope))
        uow.commit()
    return username


@pytest.fixture
def review(services) -> Services:
    """Services with the review process deployed and its users in place."""
    for username, role, scope in REVIEW_USERS:
        add_user(services, username, role, scope)
    add_user(services, "clerk_manager_a", "manager", "unit:A")
    process_services.deploy(services, [FIXTURES / "review"], "tester")
    return services


def new_id() -> str:
    return str(uuid.uuid4())
