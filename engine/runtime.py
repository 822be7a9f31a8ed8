"""The SpiffWorkflow adapter: build, load, step and dump workflows. SpiffWorkflow's types and
exceptions stop here; callers get plain values."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError, ExpressionError, ProcessError
from .expressions import Evaluator, SafeScriptEngine

SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
SERIALIZER_VERSION = SPEC_SERIALIZER.VERSION
_SPEC_KEYS = ("spec", "subprocess_specs")
_SPEC_REF = "ThiduaSpecReference"


@dataclass(frozen=True)
class ReadyTask:
    id: str
    element_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str


MISFIT_REMOVED, MISFIT_RETYPED, MISFIT_PROCESS = "removed", "retyped", "process"


@dataclass(frozen=True)
class Misfit:
    """A task that keeps a workflow from moving to another version of its process."""

    element_id: str
    element_type: str  # BPMN type as the workflow has it, e.g. userTask
    state: str  # completed, waiting, running, expected, cancelled or failed
    kind: str  # its element was removed, became another type, or its subprocess's process is missing
    detail: str | None = None  # retyped: the new type; process: the process the subprocess runs


# The timers the job table handles; cycle timers are refused at deploy.
_TIMERS = (DurationTimerEventDefinition, TimeDateEventDefinition)


class Runtime:
    """Runs workflows with the safe script engine. One per database and process: it caches
    deployed definitions (immutable rows) by id and their restored specs by content hash, so
    loading an instance restores its tasks, never its diagram."""

    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator
        self.script_engine = SafeScriptEngine(evaluator)
        self.definitions: dict[int, Any] = {}
        self._specs: dict[str, tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]] = {}
        # Our own serializer in which a process spec is a reference to the cached spec objects.
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self._serializer.registry.register(
            BpmnProcessSpec, lambda spec: {"name": spec.name}, self._cached_spec, typename=_SPEC_REF
        )

    def new_workflow(self, content_hash: str, spec_dict: dict, data: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = self._specs_of(content_hash, spec_dict)
        with process_errors():
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(data)
        self.run(workflow)
        return workflow

    def load(self, content_hash: str, spec_dict: dict, snapshot: dict) -> BpmnWorkflow:
        _spec, subprocess_specs = self._specs_of(content_hash, spec_dict)
        state = dict(snapshot)
        state["spec"] = {"typename": _SPEC_REF, "key": content_hash, "name": None}
        state["subprocess_specs"] = {
            name: {"typename": _SPEC_REF, "key": content_hash, "name": name} for name in subprocess_specs
        }
        with process_errors():
            workflow = self._serializer.from_dict(state)
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> dict:
        """The workflow's state without its spec (the definition row holds that once)."""
        with process_errors():
            state = self._serializer.to_dict(workflow)
        for key in _SPEC_KEYS:
            state.pop(key, None)
        return state

    def _specs_of(self, content_hash: str, spec_dict: dict):
        specs = self._specs.get(content_hash)
        if specs is None:
            with process_errors():
                specs = (
                    SPEC_SERIALIZER.from_dict(copy.deepcopy(spec_dict["spec"])),
                    {
                        name: SPEC_SERIALIZER.from_dict(copy.deepcopy(value))
                        for name, value in spec_dict["subprocess_specs"].items()
                    },
                )
            self._specs[content_hash] = specs
        return specs

    def _cached_spec(self, reference: dict, **_kwargs) -> BpmnProcessSpec:
        spec, subprocess_specs = self._specs[reference["key"]]
        return spec if reference["name"] is None else subprocess_specs[reference["name"]]

    def run(self, workflow: BpmnWorkflow) -> None:
        """Run engine steps until only human tasks and timers wait. Timers are not refreshed
        against the wall clock here: the timer job table decides when they fire."""
        with process_errors():
            workflow.do_engine_steps()

    def waits(self, workflow: BpmnWorkflow) -> tuple[list[ReadyTask], list[WaitingTimer]]:
        """What the workflow waits on, in one walk of its task tree: ready user tasks and
        waiting timers."""
        ready, timers = [], []
        for task in _waits(workflow):
            if task.state == TaskState.READY:
                ready.append(ReadyTask(str(task.id), task.task_spec.bpmn_id, task.data))
            else:
                timers.append(WaitingTimer(str(task.id), task.task_spec.bpmn_id))
        return ready, timers

    def timer_due(self, workflow: BpmnWorkflow, task_id: str, now: datetime) -> datetime:
        """When a timer that starts waiting `now` is due: a duration counts from `now`
        (SpiffWorkflow's own reckoning uses the wall clock; the engine's clock is the one that
        counts), a date is absolute."""
        task = self._task(workflow, task_id)
        definition = task.task_spec.event_definition
        with process_errors(task.task_spec.bpmn_id):
            value = self.evaluator.evaluate(definition.expression, task.data)
            if isinstance(definition, DurationTimerEventDefinition):
                duration = TimerEventDefinition.parse_iso_duration(value)
                return now + TimerEventDefinition.get_timedelta_from_start(duration, now)
            return TimerEventDefinition.get_datetime(value)

    def complete_user_task(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise LookupError(task_id)
        with process_errors(task.task_spec.bpmn_id):
            task.data.update(data)
            task.run()
        self.run(workflow)

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
        task = self._task(workflow, task_id)
        return dict(task.data) if task is not None else {}

    def fire_timer(self, workflow: BpmnWorkflow, task_id: str) -> bool:
        """Fire a waiting timer now, whatever the wall clock says (the job table decides when)."""
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.WAITING:
            return False
        task.internal_data["event_fired"] = True
        with process_errors(task.task_spec.bpmn_id):
            workflow.refresh_timers()
        self.run(workflow)
        return True

    def migrate(self, workflow: BpmnWorkflow, content_hash: str, spec_dict: dict) -> list[Misfit]:
        """Move a workflow to another version of its process (SpiffWorkflow's diff and migration,
        for the top workflow and each subprocess). Tasks keep their ids; waiting tasks are reset
        and what follows them is predicted again on the new spec; tasks the move makes ready run,
        nothing else does.

        Returns what blocks the move: tasks, completed ones too, of elements the new version
        removed (predictions the move replaces do not count), subprocesses whose process it does
        not have, waiting user tasks and timers whose element became another type. The workflow
        is then partly moved and must be discarded."""
        spec, subprocess_specs = self._specs_of(content_hash, spec_dict)
        with process_errors():
            top_diff, sub_diffs = diff_workflow(SPEC_SERIALIZER.registry, workflow, spec, subprocess_specs)
        missing = [
            _misfit(workflow.get_task_from_id(sp_id), MISFIT_PROCESS, workflow.subprocesses[sp_id].spec.name)
            for sp_id, diff in sub_diffs.items()
            if diff is None
        ]
        if missing:
            return missing
        waiting = {task.id: (task.task_spec, _misfit(task, MISFIT_RETYPED)) for task in _waits(workflow)}
        with process_errors():
            migrate_workflow(top_diff, workflow, spec)
            for sp_id, subprocess in list(workflow.subprocesses.items()):
                migrate_workflow(sub_diffs[sp_id], subprocess, subprocess_specs[subprocess.spec.name])
            workflow.subprocess_specs = dict(subprocess_specs)
        misfits = _misfits(workflow, waiting)
        if not misfits:
            self.run(workflow)
        return misfits

    def cancel(self, workflow: BpmnWorkflow) -> None:
        with process_errors():
            workflow.cancel()

    @staticmethod
    def is_completed(workflow: BpmnWorkflow) -> bool:
        return workflow.is_completed()

    @staticmethod
    def task_states(workflow: BpmnWorkflow) -> Counter:
        """The workflow's tasks, sub-processes' included, as counts of (element id, state name):
        what two runs of the same inputs share, whatever their task ids. Tasks the parser adds
        (no element of the diagram) count under their spec's name."""
        return Counter(
            (task.task_spec.bpmn_id or task.task_spec.name, TaskState.get_name(task.state))
            for task in _all_tasks(workflow)
        )

    @staticmethod
    def completed_elements(workflow: BpmnWorkflow) -> frozenset[str]:
        """The diagram elements whose tasks completed: the path taken so far."""
        tasks = _all_tasks(workflow)
        return frozenset(task.task_spec.bpmn_id for task in tasks if task.state == TaskState.COMPLETED) - {None}

    @staticmethod
    def last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
        """The data of the task that ran last (the workflow's own before any did)."""
        return workflow.last_task.data if workflow.last_task else workflow.data

    @staticmethod
    def _task(workflow: BpmnWorkflow, task_id: str):
        try:
            return workflow.get_task_from_id(UUID(task_id))
        except (SpiffWorkflowException, ValueError, KeyError):
            return None


def _all_tasks(workflow: BpmnWorkflow):
    for each in (workflow, *workflow.subprocesses.values()):
        yield from each.tasks.values()


def _waits(workflow: BpmnWorkflow):
    """What a workflow waits on, in one walk of its task tree: ready user tasks, waiting timers."""
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if isinstance(task.task_spec, UserTask) if task.state == TaskState.READY else _is_timer(task.task_spec):
            yield task


def _is_timer(task_spec) -> bool:
    return isinstance(getattr(task_spec, "event_definition", None), _TIMERS)


def _misfits(workflow: BpmnWorkflow, waiting: dict[UUID, tuple]) -> list[Misfit]:
    """What does not fit a workflow just moved: tasks left on specs of the old version (not those
    below another such task: they only follow it), subprocesses now running another process than
    their task calls, waits that are no longer waits."""
    stale = {
        task.id: task
        for each in (workflow, *workflow.subprocesses.values())
        for task in each.tasks.values()
        if each.spec.task_specs.get(task.task_spec.name) is not task.task_spec
    }
    misfits = [
        _misfit(task, MISFIT_REMOVED) for task in stale.values() if task.parent is None or task.parent.id not in stale
    ]
    for sp_id, subprocess in workflow.subprocesses.items():
        task = workflow.get_task_from_id(sp_id)
        if getattr(task.task_spec, "spec", None) != subprocess.spec.name:
            misfits.append(_misfit(task, MISFIT_PROCESS, subprocess.spec.name))
    removed = {misfit.element_id for misfit in misfits}
    for task_id, (old_spec, wait) in waiting.items():
        task = Runtime._task(workflow, str(task_id))
        if task is None:
            misfits.append(replace(wait, kind=MISFIT_REMOVED))
        elif wait.element_id not in removed:
            alike = (
                isinstance(task.task_spec, UserTask) if isinstance(old_spec, UserTask) else _is_timer(task.task_spec)
            )
            if not alike:
                misfits.append(replace(wait, detail=_element_type(task.task_spec)))
    return list(dict.fromkeys(misfits))


def _misfit(task, kind: str, detail: str | None = None) -> Misfit:
    spec = task.task_spec
    return Misfit(
        spec.bpmn_id or spec.name, _element_type(spec), _STATE_WORDS.get(task.state, "expected"), kind, detail
    )


_STATE_WORDS = {
    TaskState.COMPLETED: "completed",
    TaskState.READY: "waiting",
    TaskState.WAITING: "waiting",
    TaskState.STARTED: "running",
    TaskState.CANCELLED: "cancelled",
    TaskState.ERROR: "failed",
}
# SpiffWorkflow's spec classes are named after the BPMN elements, but for these.
_BPMN_TYPES = {"SubWorkflowTask": "subProcess", "TransactionSubprocess": "transaction", "NoneTask": "task"}


def _element_type(task_spec) -> str:
    name = type(task_spec).__name__
    return _BPMN_TYPES.get(name) or name[0].lower() + name[1:]


class process_errors:
    """Re-raise SpiffWorkflow's exceptions as engine errors naming the element."""

    def __init__(self, element_id: str | None = None):
        self.element_id = element_id

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, EngineError):
            return False
        if isinstance(exc, SpiffWorkflowException):
            cause = exc
            while cause is not None and not isinstance(cause, ExpressionError):
                cause = getattr(cause, "exception", None) or cause.__cause__
            task_spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
            element_id = getattr(task_spec, "bpmn_id", None) or self.element_id
            reason = cause.reason if isinstance(cause, ExpressionError) else str(exc).splitlines()[0]
            raise ProcessError(element_id, reason) from exc
        return False
