"""`python -m pipelines.instance`: a `dagster.yaml` in DAGSTER_HOME that runs one warehouse writer at a time.

DuckDB allows one writing process. Every job carries the tag `lietsi/warehouse=writer`
(pipelines/jobs.py); the run queue holds such runs to one at a time, whatever starts them (the
inbox sensor, the nightly schedule, a click in the UI). `make ui` and `make pipeline` call this; a
`dagster.yaml` the province already has is left as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

INSTANCE_YAML = """\
# Written by `make ui` / `make pipeline` (pipelines/instance.py); edit freely, it is not overwritten.
# DuckDB allows one writer: runs tagged lietsi/warehouse=writer wait in the queue for each other.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "lietsi/warehouse"
        value: "writer"
        limit: 1
"""


def ensure_instance_config(home: Path) -> Path | None:
    """Write `home/dagster.yaml` unless it exists; the path written, or None when left alone."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    if path.exists():
        return None
    path.write_text(INSTANCE_YAML, encoding="utf-8")
    return path


def main() -> int:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("DAGSTER_HOME is not set: nothing to configure", file=sys.stderr)
        return 1
    written = ensure_instance_config(Path(home))
    if written:
        print(f"wrote {written}: one warehouse writer at a time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
