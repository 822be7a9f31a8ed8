"""Auditors' history at scale: verify-history throughput (events per second) and the time to build
the daily digests on 100,000 instances and about a million events, and replay time per nomination.

    python -m bench.audit [--instances 100000] [--spread-days 30] [--replays 20] [--json PATH]

Nominations run first through the product's services on the demo province (SQLite in a temporary
folder): the demo's own, left at several steps, and nominations taken up the whole merit ladder
to publication (one of them returned for supplement and resubmitted on the way) and one
rejected by its bloc. Their chains are then cloned with new instance ids, shifted over
`--spread-days` days, re-hashed with engine.history.link_events and bulk inserted until there
are `--instances` instances. Clones carry their history and chain head with an empty snapshot:
verification and digests read history only, and replay runs on the real nominations.

Targets: replay of a typical nomination (the whole ladder) <= 20 ms, verification >= 100,000
events per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select

from engine import history
from engine.history import NewEvent, link_events
from engine.models import HistoryEvent, ProcessInstance
from web.database import upgrade_database
from workflows.audit import queries as audit_queries
from workflows.audit import services as retention
from workflows.bootstrap import bootstrap
from workflows.demo.services import load_demo

from . import write_json
from .data import ROOT, START, MovableClock, fast_loading, up_the_ladder

BATCH = 2000  # clones per insert transaction
TARGET_REPLAY_MS, TARGET_EVENTS_PER_SECOND = 20, 100_000


def clone(url: str, instances: int, spread_days: int) -> tuple[int, float]:
    """Clone the real chains until there are `instances` instances; returns (events, seconds)."""
    database = create_engine(url)
    fast_loading(database)

    instance_rows = ProcessInstance.__table__
    event_rows = HistoryEvent.__table__
    with database.connect() as connection:
        templates = connection.execute(select(instance_rows).order_by(instance_rows.c.started_at)).all()
        chains = {
            row.id: [
                NewEvent(e.type, e.actor, e.occurred_at, e.data, e.task_id, e.element_id, e.reason)
                for e in connection.execute(
                    select(event_rows).where(event_rows.c.instance_id == row.id).order_by(event_rows.c.seq)
                )
            ]
            for row in templates
        }
    began = time.perf_counter()
    events = 0
    for first in range(len(templates), instances, BATCH):
        new_instances, new_events = [], []
        for n in range(first, min(first + BATCH, instances)):
            template = templates[n % len(templates)]
            shift = timedelta(days=n % spread_days)
            instance_id = str(uuid.uuid4())
            shifted = [
                NewEvent(e.type, e.actor, e.occurred_at + shift, e.data, e.task_id, e.element_id, e.reason)
                for e in chains[template.id]
            ]
            rows, (seq, head) = link_events(instance_id, (0, history.GENESIS_HASH), shifted)
            new_events += rows
            new_instances.append(
                template._asdict()
                | {
                    "id": instance_id,
                    "business_key": None,
                    "snapshot": {},
                    "history_seq": seq,
                    "history_hash": head,
                    "started_at": template.started_at + shift,
                    "updated_at": template.updated_at + shift,
                    "ended_at": template.ended_at and template.ended_at + shift,
                }
            )
        with database.begin() as connection:
            connection.execute(insert(instance_rows), new_instances)
            connection.execute(insert(event_rows), new_events)
        events += len(new_events)
    seconds = time.perf_counter() - began
    database.dispose()
    return events, seconds


def timed(function, *args, **kwargs):
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - began


def verification(services, workers: int) -> dict:
    report, seconds = timed(audit_queries.verify_history, services, workers=workers)
    assert report.ok, (report.broken[:3], report.problems[:3])
    return {
        "workers": workers,
        "instances": report.instances,
        "events": report.events,
        "days": report.days,
        "seconds": round(seconds, 2),
        "events_per_second": round(report.events / seconds),
    }


def replays(services, instance_ids: list[str], typical: str, repeat: int) -> dict:
    timings: dict[str, list[float]] = {instance_id: [] for instance_id in instance_ids}
    events = {}
    for _ in range(repeat):
        for instance_id in instance_ids:
            result, seconds = timed(audit_queries.replay, services, instance_id)
            assert result.ok, (instance_id, result.mismatch)
            timings[instance_id].append(seconds)
            events[instance_id] = result.head
    every = sorted(t for values in timings.values() for t in values)
    return {
        "instances": len(instance_ids),
        "replays": len(every),
        "events_per_instance": sorted(events.values()),
        "median_ms": round(statistics.median(every) * 1000, 2),
        "p95_ms": round(every[int(len(every) * 0.95) - 1] * 1000, 2),
        "typical_nomination_events": events[typical],
        "typical_nomination_median_ms": round(statistics.median(timings[typical]) * 1000, 2),
        "target_ms": TARGET_REPLAY_MS,
    }


def run(folder: str, instances: int, spread_days: int, repeat: int) -> dict:
    url = f"sqlite:///{folder}/audit.sqlite3"
    clock = MovableClock(START)
    services = bootstrap(url, clock=clock)
    upgrade_database(services.database)
    began = time.perf_counter()
    load_demo(services, ROOT / "bpmn")
    _ladder, typical = up_the_ladder(services, clock)
    with services.session_factory() as session:
        real = list(session.scalars(select(ProcessInstance.id)))
        real_events = session.scalar(select(func.count()).select_from(HistoryEvent))
    setup = time.perf_counter() - began
    cloned_events, clone_seconds = clone(url, instances, spread_days)
    result = {
        "database": "sqlite",
        "setup": {
            "real_nominations": len(real),
            "real_events": real_events,
            "services_seconds": round(setup, 1),
            "cloned_events": cloned_events,
            "clone_seconds": round(clone_seconds, 1),
        },
        "replay": replays(services, real, typical, repeat),
        "verify_one_process": verification(services, 1),
        "verify_two_processes": verification(services, 2),
    }
    clock.now = START + timedelta(days=spread_days + 1)
    built, seconds = timed(retention.build_digests, services, "bench")
    result["digests"] = {"days": len(built), "seconds": round(seconds, 2)}
    result["verify_with_digests"] = verification(services, 2)
    services.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--spread-days", type=int, default=30, help="days the clones' histories spread over")
    parser.add_argument("--replays", type=int, default=20, help="replays of each real nomination")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        result = run(folder, args.instances, args.spread_days, args.replays)
    setup, replay = result["setup"], result["replay"]
    print(
        f"{setup['real_nominations']} real nominations ({setup['real_events']} events) in "
        f"{setup['services_seconds']} s; {setup['cloned_events']} events cloned in {setup['clone_seconds']} s"
    )
    print(f"{'verify-history':<28}{'instances':>10}{'events':>10}{'days':>6}{'seconds':>9}{'events/s':>10}")
    for name in ("verify_one_process", "verify_two_processes", "verify_with_digests"):
        row = result[name]
        print(
            f"{name:<28}{row['instances']:>10}{row['events']:>10}{row['days']:>6}"
            f"{row['seconds']:>9}{row['events_per_second']:>10}"
        )
    print(f"daily digests: {result['digests']['days']} days built in {result['digests']['seconds']} s")
    print(
        f"replay: {replay['replays']} replays, median {replay['median_ms']} ms, p95 {replay['p95_ms']} ms; "
        f"typical nomination ({replay['typical_nomination_events']} events) {replay['typical_nomination_median_ms']} ms"
    )
    best = max(result[name]["events_per_second"] for name in ("verify_one_process", "verify_two_processes"))
    print(
        f"targets: replay <= {TARGET_REPLAY_MS} ms ({replay['typical_nomination_median_ms']} ms), "
        f"verification >= {TARGET_EVENTS_PER_SECOND} events/s ({best})"
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
