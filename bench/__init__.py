"""Benchmarks: figures printed and written as JSON, never timed unit tests."""

import json
from pathlib import Path


def write_json(path: Path | None, result: dict) -> None:
    """Also keep the figures as JSON when a path is given."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
