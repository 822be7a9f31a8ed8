"""Bytes stored per completed nomination: its snapshot (process_instance), human_task projection,
history events and nomination row, with their indexes.

    python -m bench.storage [--database sqlite|postgres|both] [--nominations 5000] [--quick] [--json PATH]

bench.data.prepare builds the real nominations without clones; then about `--nominations`
completed nominations are cloned from the completed real ones (published, returned once then
published, rejected by the bloc, ad hoc) and each table's growth, indexes and TOAST included, is
divided by their number: pg_total_relation_size on PostgreSQL, the dbstat pages on SQLite. The
snapshot column's own bytes (pg_column_size, compressed; length on SQLite) are shown beside.
Target: <= 20 KB per completed nomination.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from engine.models import HistoryEvent, ProcessInstance

from . import write_json
from .data import clone, empty_database, prepare

TARGET_BYTES = 20 * 1024
TABLES = ("process_instance", "human_task", "history_event", "nomination")


def table_bytes(connection) -> dict[str, int]:
    """Bytes each table takes, its indexes (and TOAST) included."""
    if connection.dialect.name == "postgresql":
        return {
            table: connection.scalar(text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": table})
            for table in TABLES
        }
    pages = dict(
        connection.execute(
            text(
                "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name "
                "GROUP BY m.tbl_name"
            )
        ).all()
    )
    return {table: pages.get(table, 0) for table in TABLES}


def snapshot_bytes(connection) -> int:
    """Bytes of the ended instances' snapshots as stored (compressed on PostgreSQL)."""
    size = func.pg_column_size if connection.dialect.name == "postgresql" else func.length
    return connection.scalar(
        select(func.sum(size(ProcessInstance.snapshot))).where(ProcessInstance.ended_at.is_not(None))
    )


def measure(kind: str, nominations: int) -> dict:
    with empty_database(kind) as url:
        prepare(url, open_tasks=0, history_events=0)
        database = create_engine(url)
        with database.connect() as connection:
            before, snapshots_before = table_bytes(connection), snapshot_bytes(connection)
            events = connection.scalar(select(func.count()).select_from(HistoryEvent))
        # About 17 events per completed nomination: enough events for `nominations` clones.
        added = clone(url, open_tasks=0, history_events=events + nominations * 17)
        with database.connect() as connection:
            if kind == "sqlite":
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            after, snapshots_after = table_bytes(connection), snapshot_bytes(connection)
        database.dispose()
    clones = added["clones"]
    per_table = {table: round((after[table] - before[table]) / clones) for table in TABLES}
    return {
        "database": kind,
        "completed_nominations": clones,
        "events_per_nomination": round((added["events"] - events) / clones, 1),
        "bytes_per_nomination": per_table | {"total": sum(per_table.values())},
        "snapshot_column_bytes": round((snapshots_after - snapshots_before) / clones),
        "target_bytes": TARGET_BYTES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--nominations", type=int, default=5000, help="completed nominations cloned")
    parser.add_argument("--quick", action="store_true", help="500 nominations")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    nominations = 500 if args.quick else args.nominations
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = [measure(kind, nominations) for kind in kinds]
    print(f"{'database':<10}{'nominations':>12}{'events':>8}" + "".join(f"{t:>18}" for t in TABLES), end="")
    print(f"{'total':>10}{'snapshot col':>14}")
    for result in results:
        sizes = result["bytes_per_nomination"]
        print(
            f"{result['database']:<10}{result['completed_nominations']:>12}{result['events_per_nomination']:>8}"
            + "".join(f"{sizes[t]:>18}" for t in TABLES)
            + f"{sizes['total']:>10}{result['snapshot_column_bytes']:>14}"
        )
    print(f"bytes per completed nomination, indexes included; target <= {TARGET_BYTES} bytes")
    write_json(args.json, {"target_bytes": TARGET_BYTES, "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
