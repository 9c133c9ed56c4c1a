"""One job for the whole pipeline and one per stage (asset group), for re-running a single stage.

Every step of these jobs reads or writes the warehouse file, so each job retries a failed step
(`IO_RETRY_POLICY`) before giving up: the usual failure at night is a lock held by a UI session,
which clears. Runs carry the `lietsi/warehouse` tag so the run queue can hold writers to one at a
time (see docs/operations.md, `run_queue.tag_concurrency_limits`).
"""

from __future__ import annotations

import dagster as dg

from resources import IO_RETRY_POLICY

WAREHOUSE_WRITER_TAG = {"lietsi/warehouse": "writer"}

full_pipeline_job = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all(),
    description="Every stage, from the inbox to the reports.",
    run_tags=WAREHOUSE_WRITER_TAG,
    op_retry_policy=IO_RETRY_POLICY,
)


def build_jobs(assets: list) -> list[dg.UnresolvedAssetJobDefinition]:
    groups = sorted(
        {spec.group_name for a in assets if isinstance(a, dg.AssetsDefinition) for spec in a.specs}
    )
    stage_jobs = [
        dg.define_asset_job(
            f"{group}_stage",
            selection=dg.AssetSelection.groups(group),
            description=f"Re-run the '{group}' stage alone on what the warehouse already holds.",
            run_tags=WAREHOUSE_WRITER_TAG,
            op_retry_policy=IO_RETRY_POLICY,
        )
        for group in groups
    ]
    return [full_pipeline_job, *stage_jobs]
