"""`make pipeline`: materialise every asset from INBOX_DIR into WAREHOUSE_PATH, in process.

Runs are recorded in DAGSTER_HOME when it is set, so they show in the UI next to scheduled runs.
The run's pages are in `OUT_DIR/runs/<run_id>/`; `OUT_DIR/latest` points there once the run ends.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.audit import record_run
from pipelines.definitions import defs
from pipelines.outcome import report
from resources import settings_from_env, warehouse_from_env
from resources.outputs import publish_latest


def run_pipeline(
    tags: dict[str, str] | None = None, resources: dict[str, object] | None = None
) -> dg.ExecuteInProcessResult:
    """The full pipeline in this process; `resources` replace the environment's (tests)."""
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("full_pipeline")
    warehouse = resources["warehouse"] if resources else warehouse_from_env()
    settings = resources["settings"] if resources else settings_from_env()
    # One open warehouse for the whole run rather than a file open per input and output.
    with warehouse.session():
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags=tags or {}, resources=resources
        )
        # In-process runs have no daemon to fire the run-status sensors: record the audit here.
        record_run(instance, result.run_id, warehouse, status="SUCCESS" if result.success else "FAILURE")
    publish_latest(Path(settings.out_dir), result.run_id)
    return result


def main() -> int:
    return report(run_pipeline())


if __name__ == "__main__":
    raise SystemExit(main())
