"""Inbox queries at scale: my tasks, claimable, overdue, filtered and paged, through the service the
web inbox calls (workflows.inbox.queries.inbox), p50/p95 over many repetitions with varied users.

    python -m bench.inbox [--database sqlite|postgres|both] [--open-tasks 100000]
                          [--events 1000000] [--repeat 200] [--quick] [--json PATH]

The database is built by bench.data.prepare (SQLite in a temporary folder, PostgreSQL in a
throw-away database on 127.0.0.1:5432). Each query runs as a user drawn in turn from unit officers,
unit heads, bloc heads, board officers and deciders of every province. Target: p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from workflows.accounts.services import principal_of_user
from workflows.bootstrap import bootstrap
from workflows.inbox import queries as inbox
from workflows.inbox.queries import Filters
from workflows.nominations.models import Nomination
from workflows.org.models import RoleAssignment
from workflows.paging import Paging

from . import write_json
from .data import NOW, MovableClock, empty_database, prepare

TARGET_P95_MS = 50
ROLES = ("unit_officer", "unit_head", "bloc_head", "board_officer", "decider")
STATUSES = ("DRAFT", "BLOC_REVIEW", "SUBMITTED", "RECEIVED", "APPRAISED", "COUNCIL_VOTED")


def users(services, per_role: int, rng: random.Random) -> list:
    """`per_role` principals of each role, drawn across provinces."""
    with services.session_factory() as session:
        chosen = []
        for role in ROLES:
            holders = sorted(set(session.scalars(select(RoleAssignment.user_id).where(RoleAssignment.role == role))))
            chosen += rng.sample(holders, min(per_role, len(holders)))
    return [principal_of_user(services, user_id) for user_id in chosen]


def scenarios(services, rng: random.Random) -> dict:
    """Name -> function(principal) running one inbox query as the web inbox does."""
    with services.session_factory() as session:
        awards = sorted(set(session.scalars(select(Nomination.award_code))))

    def unit_of(principal) -> str | None:
        units = [scope.partition(":")[2] for scope in principal.scopes if scope.startswith("unit:")]
        return units[0] if units else principal.unit_id

    return {
        "mine": lambda p: inbox.inbox(services, p, "mine"),
        "claimable": lambda p: inbox.inbox(services, p, "claimable"),
        "overdue": lambda p: inbox.inbox(services, p, "overdue"),
        "all": lambda p: inbox.inbox(services, p, "all"),
        "filter award": lambda p: inbox.inbox(services, p, "all", Filters(award=rng.choice(awards))),
        "filter unit": lambda p: inbox.inbox(services, p, "all", Filters(unit=unit_of(p))),
        "filter status": lambda p: inbox.inbox(services, p, "all", Filters(status=rng.choice(STATUSES))),
        "filter due week": lambda p: inbox.inbox(services, p, "claimable", Filters(due="week"), "-due"),
        "paged (page 2-5)": lambda p: inbox.inbox(
            services, p, "all", sort="-created", paging=Paging(rng.randint(2, 5))
        ),
        "sort award, 100/page": lambda p: inbox.inbox(services, p, "all", sort="award", paging=Paging(1, 100)),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(url: str, repeat: int, seed: int) -> dict:
    """p50/p95 of every scenario on the prepared database at `url`."""
    rng = random.Random(seed)
    services = bootstrap(url, clock=MovableClock(NOW))
    principals = users(services, 8, rng)
    runs = scenarios(services, rng)
    for run in runs.values():  # warm the caches once: the figures are for a serving process
        run(principals[0])
    rows = {}
    for name, run in runs.items():
        timings, found = [], []
        for n in range(repeat):
            principal = principals[n % len(principals)]
            began = time.perf_counter()
            page = run(principal)
            timings.append((time.perf_counter() - began) * 1000)
            found.append(page.total)
        rows[name] = {
            "queries": repeat,
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 0.95), 2),
            "max_ms": round(max(timings), 2),
            "mean_total": round(statistics.mean(found)),
            "max_total": max(found),
        }
    with services.session_factory() as session:
        nominations = session.scalar(select(func.count()).select_from(Nomination))
    services.dispose()
    return {"nominations": nominations, "users": len(principals), "queries": rows}


def run(kind: str, open_tasks: int, events: int, repeat: int, seed: int) -> dict:
    with empty_database(kind) as url:
        dataset = prepare(url, open_tasks=open_tasks, history_events=events, seed=seed)
        return {"database": kind, "data": dataset.figures} | measure(url, repeat, seed)


def print_table(result: dict) -> None:
    data = result["data"]
    print(
        f"\n{result['database']}: {data['open_tasks']} open tasks, {data['events']} history events, "
        f"{result['nominations']} nominations ({data['clones']} clones in {data['seconds']} s), {result['users']} users"
    )
    print(f"{'query':<24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'rows (mean/max)':>18}  target p95 <= {TARGET_P95_MS}")
    for name, row in result["queries"].items():
        verdict = "ok" if row["p95_ms"] <= TARGET_P95_MS else "MISSED"
        print(
            f"{name:<24}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['max_ms']:>9}"
            f"{row['mean_total']:>10}/{row['max_total']:<7}  {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="history events")
    parser.add_argument("--repeat", type=int, default=200, help="queries per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="5,000 open tasks, 50,000 events, 40 queries each")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.open_tasks, args.events, args.repeat = 5_000, 50_000, 40
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = [run(database, args.open_tasks, args.events, args.repeat, args.seed) for database in databases]
    for result in results:
        print_table(result)
    write_json(args.json, {"target_p95_ms": TARGET_P95_MS, "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
