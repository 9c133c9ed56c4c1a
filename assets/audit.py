"""The run audit: what each run read, what it wrote, what its checks said, and which code ran.

Four `ops` tables keep one history across runs (rows of a run are replaced if it is recorded again):
- `ops.run_audit`: one row per run: job, status, trigger, inbox file, code version, totals;
- `ops.run_inputs`: the inbox files the run read (file name, size, checksum, rows read/kept/quarantined);
- `ops.run_row_counts`: every warehouse table after the run, with row count and content checksum;
- `ops.run_checks`: every asset check evaluated in the run and whether it passed.

The `ops.run_audit` asset records a run from inside it, as its last step. A run that fails or is
stopped by a blocking check never reaches that step, so the `audit_*_runs` run-status sensors
(pipelines/sensors.py) record finished runs again, with their final status, through `record_run`.
"""

import json
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets import stage_keys
from assets.reports import report_assets
from lietsi.ops.audit import write_run_audit
from resources import IO_RETRY_POLICY, WarehouseResource
from resources.sql import sql_text

GROUP = "operations"


def _check_results(instance: dg.DagsterInstance, run_id: str) -> pl.DataFrame:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    rows = []
    for record in records:
        data = record.event_log_entry.dagster_event.asset_check_evaluation_data
        rows.append(
            {
                "run_id": run_id,
                "asset": data.asset_key.to_user_string(),
                "check_name": data.check_name,
                "passed": data.passed,
                "severity": data.severity.value,
                "blocking": bool(data.blocking),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "run_id": pl.Utf8,
            "asset": pl.Utf8,
            "check_name": pl.Utf8,
            "passed": pl.Boolean,
            "severity": pl.Utf8,
            "blocking": pl.Boolean,
        },
    )


def record_run(
    instance: dg.DagsterInstance, run_id: str, warehouse: WarehouseResource, status: str | None = None
) -> int:
    """Write (or rewrite) the audit rows of one run; returns the number of rows written."""
    run = instance.get_run_by_id(run_id)
    record = instance.get_run_record_by_id(run_id)
    checks = _check_results(instance, run_id)
    tags = run.tags if run else {}
    started = datetime.fromtimestamp(record.start_time, UTC) if record and record.start_time else None
    facts = {
        "job_name": run.job_name if run else None,
        "status": status or (run.status.value if run else None),
        "trigger": tags.get("lietsi/trigger") or ("sensor" if "dagster/sensor_name" in tags else "manual"),
        "inbox_file": tags.get("inbox/file"),
        "started_at": started.replace(tzinfo=None) if started else None,
    }
    with warehouse.connect() as con:
        con.execute(sql_text("ops", "audit_tables"))
        return write_run_audit(con, run_id, facts, checks)


def _audit_specs() -> list[dg.AssetSpec]:
    # Analyst views are skippable (a view waits for its mart) and a skipped output would skip the
    # audit; they hold no data of their own, so the audit need not wait for them.
    upstream = [
        *stage_keys(),
        *(key for a in report_assets for key in a.keys),
        dg.AssetKey(["ops", "quarantine"]),
        dg.AssetKey(["ops", "batches"]),
    ]
    descriptions = {
        "run_audit": "One row per run: job, status, trigger, inbox file, code version, totals.",
        "run_inputs": "Per run: every inbox file read, with size, checksum and row counts.",
        "run_row_counts": "Per run: every warehouse table's row count and content checksum.",
        "run_checks": "Per run: every asset check evaluated and its result.",
    }
    return [
        dg.AssetSpec(["ops", name], deps=upstream, description=text, group_name=GROUP)
        for name, text in descriptions.items()
    ]


@dg.multi_asset(specs=_audit_specs(), retry_policy=IO_RETRY_POLICY, can_subset=False)
def run_audit(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Record this run in the audit tables, after every other asset of the run."""
    written = record_run(context.instance, context.run.run_id, warehouse, status="STARTED")
    with warehouse.connect(read_only=True) as con:
        audit = con.execute("SELECT * FROM ops.run_audit WHERE run_id = ?", [context.run.run_id]).pl()
    row = audit.row(0, named=True)
    preview = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False, indent=1)
    for name in ("run_audit", "run_inputs", "run_row_counts", "run_checks"):
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["ops", name]),
            metadata={"rows_written_for_run": written, "run": dg.MetadataValue.md(f"```\n{preview}\n```")},
        )
