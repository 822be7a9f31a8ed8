"""Importing a province's people from xlsx: `--people` people (one workbook) and `--years` yearly
ratings each (a second workbook), into the demo province on SQLite, through the administrator's
front door (workflows.nominees.services.import_records): each file is checked (a dry run), then
imported. Writing the workbooks is not timed.

    python -m bench.imports [--people 50000] [--years 5] [--json PATH]

Target: 50,000 people with 5 years of ratings imported in <= 60 s (both files, checks included).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from web.database import upgrade_database
from workflows.accounts.services import principal_of_user
from workflows.bootstrap import bootstrap
from workflows.demo.services import load_demo
from workflows.nominees.models import RATINGS
from workflows.records import imports
from workflows.records import services as record_services

from . import write_json

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60
UNITS = ("SO_Y_TE", "SO_GD_DT", "SO_TAI_CHINH", "HAI_HAU", "GIAO_THUY")


def header(kind: str) -> list[str]:
    return [column.name for column in imports.KINDS[kind].columns]


def run(people: int, years: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        services = bootstrap(f"sqlite:///{folder}/imports.sqlite3")
        upgrade_database(services.database)
        load_demo(services, ROOT / "bpmn")
        admin = principal_of_user(services, "admin")
        ids = [f"bench-{number:06d}" for number in range(people)]
        files = {
            "people": imports.workbook(
                header("people"),
                (
                    [i, f"Cán bộ {i}", UNITS[n % len(UNITS)], date(2010 + n % 12, 1 + n % 12, 1), None]
                    + [("female", "male")[n % 2], date(1970 + n % 30, 1 + n % 12, 1)]
                    for n, i in enumerate(ids)
                ),
            ),
            "ratings": imports.workbook(
                header("ratings"),
                (
                    [i, 2021 + year, RATINGS[(n + year) % len(RATINGS)]]
                    for n, i in enumerate(ids)
                    for year in range(years)
                ),
            ),
        }
        timings = {}
        for kind, content in files.items():
            for dry_run in (True, False):
                began = time.perf_counter()
                report = record_services.import_records(
                    services, admin, kind, f"{kind}.xlsx", content, dry_run=dry_run, reason="benchmark"
                )
                assert not report.errors, report.errors[:3]
                timings[f"{kind}_{'check' if dry_run else 'import'}_seconds"] = round(time.perf_counter() - began, 2)
            timings[f"{kind}_rows"] = report.rows
            timings[f"{kind}_file_bytes"] = len(content)
        services.dispose()
    total = sum(value for key, value in timings.items() if key.endswith("_seconds"))
    return {"database": "sqlite", **timings, "total_seconds": round(total, 1), "target_seconds": TARGET_SECONDS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.people, args.years)
    for key, value in result.items():
        print(f"  {key:<28}{value}")
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
