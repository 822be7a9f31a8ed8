"""What a reviewer does to a task, each in one transaction and within their scope: claim it,
give it back, hand it to a colleague, complete it. A task the principal may not see raises
NotFoundError (404); one they see but may not act on, the engine's TaskNotAllowedError (403)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from sqlalchemy import select

import engine
from engine import StepResult, TaskDataError, TaskNotFoundError, TaskView, UnitOfWork
from engine.models import HumanTask

from ..accounts.principals import Principal
from ..directory import SignedInDirectory
from ..errors import DomainError
from ..nominations import access, steps
from ..operations import log
from ..org.models import User
from ..uow import Services

logger = logging.getLogger(__name__)
T = TypeVar("T")


def claim(services: Services, principal: Principal, task_id: str) -> TaskView:
    return _on_visible_task(services, principal, task_id, engine.claim_task)


def unclaim(services: Services, principal: Principal, task_id: str) -> TaskView:
    return _on_visible_task(services, principal, task_id, engine.unclaim_task)


def _on_visible_task(services: Services, principal: Principal, task_id: str, operation) -> TaskView:
    """`operation(uow, task_id, actor)` on a task the principal sees, in one transaction."""
    with _acting(services, principal) as uow:
        access.require_task_visible(uow.session, principal, task_id)
        view = operation(uow, task_id, principal.id)
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
        log.record_reassignment(
            uow.session,
            actor=principal.id,
            task=view,
            reason=reason,
            old={"claimed_by": claimed_by},
            new={"claimed_by": view.claimed_by},
            at=uow.clock(),
        )
        uow.commit()
    logger.info("task %s delegated by %s to %s", task_id, principal.id, delegate_id)
    return view


@dataclass(frozen=True)
class Refusal(Generic[T]):
    """A completion the task refused (its input or a rule of the domain), and the page read after it."""

    error: TaskDataError | DomainError
    page: T


def complete(
    services: Services,
    principal: Principal,
    task_id: str,
    data: dict | Callable[[dict | None], dict],
    *,
    refused: Callable[[UnitOfWork], T] | None = None,
) -> StepResult | Refusal[T]:
    """Complete a task; `data` is its input, or a function from its form schema to it (an HTML form
    is read by its schema). A refusal raises, unless `refused` is given: then the step is undone
    to a savepoint and `refused(uow)` reads, in the same transaction, what the page shows with it.
    Not seeing the task (not_found) and not being allowed to act on it (forbidden) always raise."""
    with _acting(services, principal) as uow:
        try:
            with uow.session.begin_nested() if refused else nullcontext():
                result = steps.complete_step(uow, principal.id, task_id, data, visible=access.task_visible(principal))
        except TaskNotFoundError:
            access.require_task_visible(uow.session, principal, task_id)  # a task out of scope is not known at all
            raise
        except (TaskDataError, DomainError) as error:
            if refused is None or error.code in ("not_found", "forbidden"):
                raise
            return Refusal(error, refused(uow))
        uow.commit()
    return result


def _acting(services: Services, principal: Principal) -> UnitOfWork:
    """A unit of work whose directory knows the principal's roles already."""
    uow = services.uow()
    uow.directory = SignedInDirectory(services.directory, principal.id, principal.assignments)
    return uow
