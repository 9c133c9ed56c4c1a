"""The national run's code location (`workspace.yaml`) and `make national`.

`defs`: the national assets and checks (`assets/national.py`), their job `national_job`, the
national resources (NATIONAL_INBOX_DIR, NATIONAL_WAREHOUSE_PATH, NATIONAL_OUT_DIR). `python -m
pipelines.national` materialises the job in process and prints what the run produced; it exits 1
only when a step failed, never because one province's file was refused.
"""

from __future__ import annotations

import os

import dagster as dg
import polars as pl

from assets import national
from pipelines.jobs import WAREHOUSE_WRITER_TAG
from pipelines.outcome import report
from resources import IO_RETRY_POLICY, national_resources_from_env

_resources = national_resources_from_env()

national_job = dg.define_asset_job(
    "national_job",
    selection=dg.AssetSelection.groups(national.GROUP),
    description="The national run: every province export in NATIONAL_INBOX_DIR, matched over the country.",
    run_tags=WAREHOUSE_WRITER_TAG,
    op_retry_policy=IO_RETRY_POLICY,
)

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([national]),
    asset_checks=dg.load_asset_checks_from_modules([national]),
    jobs=[national_job],
    resources=_resources,
    executor=dg.in_process_executor,
)

SUMMARY_SQL = {
    "provinces read": "SELECT province_code, province, folder FROM national.provinces ORDER BY 1",
    "files": "SELECT province_code, file, status, rows_read, rows_kept, rows_quarantined "
    "FROM ops.national_files ORDER BY 1, 2",
    "refused": 'SELECT folder, province_code, file, reason, count(*) AS entries, sum("rows") AS rows '
    "FROM ops.quarantine GROUP BY ALL ORDER BY 1, 2, 3",
    "identifications": "SELECT status, out_of_province, count(*) AS remains FROM national.identifications "
    "GROUP BY ALL ORDER BY 1, 2",
    "returned to provinces": 'SELECT province_code, "rows", path FROM ops.national_returns ORDER BY 1',
}


def summary_tables(warehouse=None) -> dict[str, pl.DataFrame]:
    """What `make national` prints: each table that exists and holds rows."""
    warehouse = warehouse or _resources["warehouse"]
    out = {}
    for title, sql in SUMMARY_SQL.items():
        try:
            frame = warehouse.query(sql)
        except Exception:  # a table a failed step never wrote: nothing to show for it
            continue
        if frame.height:
            out[title] = frame
    return out


def run_national(resources: dict[str, object] | None = None) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    warehouse = (resources or _resources)["warehouse"]
    with warehouse.session():
        return defs.resolve_job_def("national_job").execute_in_process(
            instance=instance, raise_on_error=False, resources=resources
        )


def main() -> int:
    result = run_national()
    tables = summary_tables()
    if not tables:
        print(f"no province export in {_resources['national'].inbox}: nothing to match")
    with pl.Config(tbl_rows=40, tbl_cols=12, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        for title, frame in tables.items():
            print(f"\n{title}\n{frame}")
    return report(result)


if __name__ == "__main__":
    raise SystemExit(main())
