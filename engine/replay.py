"""Replay: rebuild an instance from its definition version and the inputs its history recorded,
event by event, and check each event against the rebuilt workflow. At the end the rebuilt state
is compared with the stored snapshot and the inbox projection, so a snapshot changed behind the
engine's back shows up. Replay never writes.

SpiffWorkflow gives tasks fresh ids, so a recorded task id is matched to the rebuilt task of the
same element that waits at that point (the first such task the first time the id appears)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from . import history
from .definitions import LoadedDefinition, load_definition
from .errors import EngineError, InstanceNotFoundError, ReplayRangeError
from .models import HistoryEvent, HumanTask, ProcessInstance
from .uow import UnitOfWork

# Events that change no workflow state but name a task that must be waiting at that point.
_TASK_NOTES = (
    history.TASK_CLAIMED,
    history.TASK_UNCLAIMED,
    history.TASK_DELEGATED,
    history.TASK_REMINDED,
    history.TASK_OVERDUE,
    history.TASK_ESCALATED,
)
_STATUS_AFTER = {
    history.INSTANCE_SUSPENDED: "suspended",
    history.INSTANCE_RESUMED: "running",
    history.INSTANCE_TERMINATED: "terminated",
    history.INSTANCE_COMPLETED: "completed",
}


@dataclass(frozen=True)
class ReplayStep:
    seq: int
    type: str
    element_id: str | None
    ok: bool
    detail: str | None = None  # why the event disagrees with the rebuilt workflow


@dataclass(frozen=True)
class ElementStates:
    """The rebuilt workflow at one event: the elements whose tasks completed (the path taken), the
    ones waiting (ready user tasks, waiting timers), and the process data there."""

    completed: frozenset[str]
    active: frozenset[str]
    data: dict[str, Any]


@dataclass(frozen=True)
class Replay:
    instance_id: str
    at: int
    head: int
    steps: tuple[ReplayStep, ...]
    mismatch: ReplayStep | None
    states: ElementStates
    # Compared with the stored snapshot and open tasks when replayed to the end; None otherwise.
    snapshot_matches: bool | None
    snapshot_differences: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.mismatch is None and self.snapshot_matches is not False


@dataclass
class _Rebuild:
    """The replay's running state."""

    uow: UnitOfWork
    definition: LoadedDefinition | None = None
    workflow: Any = None  # the runtime's workflow, rebuilt event by event
    status: str = "running"
    task_ids: dict[str, str] = field(default_factory=dict)  # recorded task id -> rebuilt task id

    def waiting(self, event: HistoryEvent):
        """The rebuilt task an event's task stands for, if it waits now; raises _Disagree if not."""
        if self.workflow is None:
            raise _Disagree("the instance has not started here")
        rebuilt = self.task_ids.get(event.task_id)
        ready, timers = self.uow.runtime.waits(self.workflow)
        waits = {wait.id: wait.element_id for wait in ready} | {wait.task_id: wait.element_id for wait in timers}
        if rebuilt is None:
            taken = set(self.task_ids.values())
            rebuilt = next((i for i, e in waits.items() if e == event.element_id and i not in taken), None)
            if rebuilt is not None:
                self.task_ids[event.task_id] = rebuilt
        if rebuilt is None or rebuilt not in waits:
            raise _Disagree(f"{event.element_id} is not waiting in the rebuilt workflow")
        return rebuilt


class _Disagree(Exception):
    pass


def replay_instance(uow: UnitOfWork, instance_id: str, at: int | None = None) -> Replay:
    """Replay an instance's history up to event `at` (all of it by default).

    Raises InstanceNotFoundError, ReplayRangeError."""
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise InstanceNotFoundError(instance_id)
    head = instance.history_seq
    at = head if at is None else at
    if not 1 <= at <= head:
        raise ReplayRangeError(instance_id, at, head)
    events = uow.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.seq <= at)
        .order_by(HistoryEvent.seq)
    ).all()
    rebuild = _Rebuild(uow)
    steps, prev_hash = [], history.GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        step = _step(rebuild, event, expected_seq, prev_hash)
        steps.append(step)
        prev_hash = event.hash
        if not step.ok:
            break
    mismatch = next((step for step in steps if not step.ok), None)
    if mismatch is None and len(steps) < at:
        mismatch = ReplayStep(len(steps) + 1, "missing", None, False, "the event is missing from history")
        steps.append(mismatch)
    differences: tuple[str, ...] = ()
    matches = None
    if at == head and mismatch is None:
        differences = tuple(_compare_with_stored(rebuild, instance))
        matches = not differences
    return Replay(instance_id, at, head, tuple(steps), mismatch, _states(rebuild), matches, differences)


def _step(rebuild: _Rebuild, event: HistoryEvent, expected_seq: int, prev_hash: str) -> ReplayStep:
    def disagree(detail: str) -> ReplayStep:
        return ReplayStep(event.seq, event.type, event.element_id, False, detail)

    if event.seq != expected_seq:
        return disagree(f"expected event {expected_seq} here")
    if event.prev_hash != prev_hash or history.event_hash(event.instance_id, event.seq, event, prev_hash) != event.hash:
        return disagree("the event's content does not match its hash")
    try:
        _apply(rebuild, event)
    except _Disagree as exc:
        return disagree(str(exc))
    except EngineError as exc:
        return disagree(f"the rebuilt workflow fails here: {exc}")
    return ReplayStep(event.seq, event.type, event.element_id, True)


def _apply(rebuild: _Rebuild, event: HistoryEvent) -> None:
    runtime, data = rebuild.uow.runtime, event.data
    if event.type == history.INSTANCE_STARTED:
        if rebuild.workflow is not None:
            raise _Disagree("the instance started twice")
        rebuild.definition = load_definition(rebuild.uow, data["definition_id"])
        definition = rebuild.definition
        rebuild.workflow = runtime.new_workflow(definition.content_hash, definition.spec, dict(data["data"]))
    elif event.type == history.TASK_COMPLETED:
        task_id = rebuild.waiting(event)
        current = runtime.task_data(rebuild.workflow, task_id)
        for key, value in (data.get("before") or {}).items():
            if _plain(current.get(key)) != _plain(value):
                raise _Disagree(
                    f"{key!r} was {_plain(value)!r} before the step, the rebuilt workflow has it as "
                    f"{_plain(current.get(key))!r}"
                )
        runtime.complete_user_task(rebuild.workflow, task_id, dict(data.get("input") or {}) | (data.get("facts") or {}))
    elif event.type == history.TIMER_FIRED:
        runtime.fire_timer(rebuild.workflow, rebuild.waiting(event))
    elif event.type in _TASK_NOTES:
        rebuild.waiting(event)
    elif event.type == history.INSTANCE_MIGRATED:
        if rebuild.workflow is None:
            raise _Disagree("the instance has not started here")
        rebuild.definition = load_definition(rebuild.uow, data["to"]["definition_id"])
        misfits = runtime.migrate(rebuild.workflow, rebuild.definition.content_hash, rebuild.definition.spec)
        if misfits:
            raise _Disagree(f"the rebuilt workflow cannot move: {misfits[0].element_id} {misfits[0].kind}")
    elif event.type == history.INSTANCE_TERMINATED:
        runtime.cancel(rebuild.workflow)
    elif event.type == history.INSTANCE_COMPLETED:
        if rebuild.workflow is None or not runtime.is_completed(rebuild.workflow):
            raise _Disagree("history says the instance completed; the rebuilt workflow has not")
    elif event.type not in _STATUS_AFTER:
        raise _Disagree(f"unknown event type {event.type}")
    rebuild.status = _STATUS_AFTER.get(event.type, rebuild.status)


def _states(rebuild: _Rebuild) -> ElementStates:
    workflow = rebuild.workflow
    if workflow is None:
        return ElementStates(frozenset(), frozenset(), {})
    runtime = rebuild.uow.runtime
    ready, timers = runtime.waits(workflow)
    active = {wait.element_id for wait in ready} | {wait.element_id for wait in timers}
    data = ready[0].data if ready else runtime.last_data(workflow)
    return ElementStates(runtime.completed_elements(workflow), frozenset(active), _plain(data))


def _compare_with_stored(rebuild: _Rebuild, instance: ProcessInstance) -> list[str]:
    """What differs between the rebuilt workflow and the stored snapshot and open tasks."""
    uow = rebuild.uow
    differences = []
    if rebuild.definition is None or rebuild.definition.id != instance.definition_id:
        return [f"the instance is on definition {instance.definition_id}, history leads to another"]
    if rebuild.status != instance.status:
        differences.append(f"status is {instance.status}, history leads to {rebuild.status}")
    definition = rebuild.definition
    try:
        stored = uow.runtime.load(definition.content_hash, definition.spec, instance.snapshot)
    except EngineError as exc:
        return differences + [f"the stored snapshot does not load: {exc}"]
    rebuilt, kept = uow.runtime.task_states(rebuild.workflow), uow.runtime.task_states(stored)
    for (element, state), count in sorted((kept - rebuilt).items()):
        differences.append(f"the snapshot has {count} more {element} tasks {state} than history leads to")
    for (element, state), count in sorted((rebuilt - kept).items()):
        differences.append(f"the snapshot has {count} fewer {element} tasks {state} than history leads to")
    stored_data, rebuilt_data = _waiting_data(uow, stored), _waiting_data(uow, rebuild.workflow)
    if stored_data != rebuilt_data:
        differences.append(f"the data of the waiting tasks differs: {_first_difference(stored_data, rebuilt_data)}")
    open_elements = Counter(
        uow.session.scalars(
            select(HumanTask.element_id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        )
    )
    ready, _ = uow.runtime.waits(rebuild.workflow) if rebuild.status in ("running", "suspended") else ([], [])
    if open_elements != Counter(wait.element_id for wait in ready):
        differences.append(
            f"open tasks are {sorted(open_elements.elements())}, history leads to "
            f"{sorted(wait.element_id for wait in ready)}"
        )
    return differences


def _waiting_data(uow: UnitOfWork, workflow) -> list[tuple[str, Any]]:
    ready, timers = uow.runtime.waits(workflow)
    waits = [(wait.element_id, wait.data) for wait in ready]
    waits += [(wait.element_id, uow.runtime.task_data(workflow, wait.task_id)) for wait in timers]
    return sorted(
        ((element, _plain(data)) for element, data in waits), key=lambda pair: json.dumps(pair, sort_keys=True)
    )


def _first_difference(stored: list, rebuilt: list) -> str:
    for (element, kept), (_, built) in zip(stored, rebuilt, strict=False):
        for key in sorted(set(kept) | set(built)):
            if kept.get(key) != built.get(key):
                return f"{element}.{key} is {kept.get(key)!r} in the snapshot, {built.get(key)!r} by history"
    return "the waiting tasks differ"


def _plain(value: Any) -> Any:
    """A value as history stores it (JSON), so that rebuilt and recorded values compare."""
    return json.loads(json.dumps(value, default=str))
