"""The cost of one task completion through the engine API with persistence, against the bare
SpiffWorkflow step (deserialize -> complete -> serialize), measured in the same run.

    python -m bench.engine_step [--instances 20] [--steps 25] [--database-url URL] [--json PATH]

Both sides run the same diagram and the same sequence of completions, alternating step by
step so that both see the same machine at the same moment; the engine side adds
the actor check, the human_task projection, hash-chained history, timer-job sync and one
committed transaction per step (SQLite in a temporary folder unless --database-url is given).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

import engine
from web.database import upgrade_database
from workflows.bootstrap import bootstrap
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as ps

from . import write_json

BUNDLE = Path(__file__).parent / "bundle"
PROCESS_ID = "bench_step"
ACTOR = "bench_reviewer"


class BareSpiff:
    """Stock SpiffWorkflow, as an embedding application without our engine would use it: the
    whole workflow (spec included) serialized to JSON between steps."""

    def __init__(self):
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(BUNDLE / "step.bpmn"))
        self.spec = parser.get_spec(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def start(self) -> str:
        workflow = BpmnWorkflow(self.spec)
        workflow.get_tasks(state=TaskState.READY)[0].data.update({"unit": "unit:BENCH"})
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def step(self, stored: str, done: bool) -> str:
        workflow = self.serializer.deserialize_json(stored)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if isinstance(t.task_spec, UserTask))
        task.data.update({"done": done})
        task.run()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)


class EngineSteps:
    """The same steps through thidua's service layer: one committed transaction each."""

    def __init__(self, database_url: str):
        self.services = bootstrap(database_url)
        upgrade_database(self.services.database)
        with self.services.uow() as uow:
            uow.session.add(User(id=ACTOR, username=ACTOR, full_name="Bench", active=True))
            uow.session.flush()
            uow.session.add(RoleAssignment(user_id=ACTOR, role="reviewer", scope="unit:BENCH"))
            uow.commit()
        ps.deploy(self.services, [BUNDLE], ACTOR)

    def start(self) -> str:
        result = ps.start_process(self.services, PROCESS_ID, ACTOR, {"unit": "unit:BENCH"})
        return result.opened[0].id

    def step(self, task_id: str, done: bool) -> str | None:
        result = self.services.in_transaction(engine.complete_task, task_id, ACTOR, {"done": done})
        return result.opened[0].id if result.opened else None


def measure(database_url: str, instances: int, steps: int) -> tuple[list[float], list[float], float]:
    """Alternate bare and engine steps so that both see the same machine at the same moment.
    Returns both steps' wall times and the ratio of the CPU time this process spent on them
    (the engine's own work, without the time it waits for the database's round trips and
    commits; the database server's CPU is not counted)."""
    bare, ours = BareSpiff(), EngineSteps(database_url)
    bare_timings, engine_timings = [], []
    bare_cpu = engine_cpu = 0.0
    for _ in range(instances):
        stored, task_id = bare.start(), ours.start()
        for step in range(steps):
            done = step == steps - 1
            began, cpu = time.perf_counter(), time.process_time()
            stored = bare.step(stored, done)
            bare_timings.append(time.perf_counter() - began)
            bare_cpu += time.process_time() - cpu
            began, cpu = time.perf_counter(), time.process_time()
            task_id = ours.step(task_id, done)
            engine_timings.append(time.perf_counter() - began)
            engine_cpu += time.process_time() - cpu
    ours.services.dispose()
    return bare_timings, engine_timings, round(engine_cpu / bare_cpu, 2)


def summary(timings: list[float]) -> dict:
    ordered = sorted(timings)
    return {
        "steps": len(timings),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        measure(f"sqlite:///{folder}/warm-up.sqlite3", 2, 5)  # imports, parser and statement caches
        bare_timings, engine_timings, cpu_ratio = measure(url, args.instances, args.steps)
    bare, engine = summary(bare_timings), summary(engine_timings)
    result = {
        "database": url.split(":", 1)[0],
        "bare_spiffworkflow_step": bare,
        "engine_api_step": engine,
        "ratio_median": round(engine["median_ms"] / bare["median_ms"], 2),
        "ratio_mean": round(engine["mean_ms"] / bare["mean_ms"], 2),
        "ratio_cpu": cpu_ratio,
        "target_ratio": 2.0,
    }
    print(f"{'step':<28}{'n':>6}{'median ms':>12}{'mean ms':>10}{'p95 ms':>10}")
    for name in ("bare_spiffworkflow_step", "engine_api_step"):
        row = result[name]
        print(f"{name:<28}{row['steps']:>6}{row['median_ms']:>12}{row['mean_ms']:>10}{row['p95_ms']:>10}")
    print(
        f"engine / bare: {result['ratio_median']}x median, {result['ratio_mean']}x mean (target <= 2.0x); "
        f"{cpu_ratio}x in this process's CPU time"
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
