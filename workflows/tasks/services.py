"""What a reviewer does to a task, each in one transaction and within their scope: claim it,
give it back, hand it to a colleague, complete it. A task the principal may not see raises
NotFoundError (404); one they see but may not act on, the engine's TaskNotAllowedError (403)."""

from __future__ import annotations

import logging

from sqlalchemy import select

import engine
from engine import StepResult, TaskNotFoundError, TaskView, UnitOfWork
from engine.models import HumanTask

from ..accounts.principals import Principal
from ..directory import SignedInDirectory
from ..errors import DomainError
from ..nominations import access, steps
from ..operations import log
from ..org.models import User
from ..uow import Services

logger = logging.getLogger(__name__)


def claim(services: Services, principal: Principal, task_id: str) -> TaskView:
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        view = engine.claim_task(uow, task_id, principal.id)
        uow.commit()
    return view


def unclaim(services: Services, principal: Principal, task_id: str) -> TaskView:
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        view = engine.unclaim_task(uow, task_id, principal.id)
        uow.commit()
    return view


def delegate(services: Services, principal: Principal, task_id: str, delegate_id: str, reason: str) -> TaskView:
    """Hand a task to a colleague of the same role and scope; the reason goes into history and
    the operation log."""
    reason = log.require_reason(reason, log.REASSIGN)
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        if uow.session.get(User, delegate_id) is None:
            raise DomainError("unknown_user", f"no user {delegate_id}")
        claimed_by = uow.session.scalar(select(HumanTask.claimed_by).where(HumanTask.id == task_id))
        view = engine.delegate_task(uow, task_id, principal.id, delegate_id, reason)
        log.record(
            uow.session,
            actor=principal.id,
            action=log.REASSIGN,
            subject_type="instance",
            subject_id=view.instance_id,
            reason=reason,
            old={"task_id": view.id, "task": view.element_id, "claimed_by": claimed_by},
            new={"task_id": view.id, "task": view.element_id, "claimed_by": view.claimed_by},
            at=uow.clock(),
        )
        uow.commit()
    logger.info("task %s delegated by %s to %s", task_id, principal.id, delegate_id)
    return view


def complete(services: Services, principal: Principal, task_id: str, data: dict) -> StepResult:
    with _acting(services, principal) as uow:
        try:
            result = steps.complete_step(uow, principal.id, task_id, data, visible=access.task_visible(principal))
        except TaskNotFoundError:
            access.require_task_visible(uow.session, principal, task_id)  # a task out of scope is not known at all
            raise
        uow.commit()
    return result


def _acting(services: Services, principal: Principal) -> UnitOfWork:
    """A unit of work whose directory knows the principal's roles already."""
    uow = services.uow()
    uow.directory = SignedInDirectory(services.directory, principal.id, principal.assignments)
    return uow
