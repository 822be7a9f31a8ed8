"""Run every benchmark scenario, print each table and write each one's JSON to a folder.

    python -m bench [--quick] [--only NAME ...] [--out bench/results]

A scenario is a module of this package with `main(argv)` taking `--json PATH`; those not present
are listed and skipped. `--quick` runs each with small counts (a smoke run, not the targets).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
# Each scenario with the arguments of a quick run.
SCENARIOS = {
    "engine_step": "--instances 5 --steps 10",
    "http": "--requests 200 --sequential 50 --clients 4 --step-instances 5 --step-steps 10",
    "inbox": "--quick",
    "storage": "--quick",
    "audit": "--instances 2000 --replays 5",
    "escalation": "--tasks 1000 --timers 30",
    "imports": "--people 2000",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run, not the targets")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), help="these scenarios only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON files")
    args = parser.parse_args(argv)

    for name in args.only or SCENARIOS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.{name}":
                raise
            print(f"== {name}: not present, skipped\n")
            continue
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        status = module.main(
            [*(SCENARIOS[name].split() if args.quick else []), "--json", str(args.out / f"{name}.json")]
        )
        print(f"({name}: {time.perf_counter() - began:.0f} s)\n", flush=True)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
