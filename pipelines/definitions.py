"""The Dagster code location: every asset and check of the `assets` package, jobs, schedule, sensor.

Stage modules only define assets; this module discovers them, so adding a stage never means
editing a central list. Each asset group gets its own job for re-runs of one stage.
"""

from __future__ import annotations

import dagster as dg

import assets
from pipelines.jobs import build_jobs
from pipelines.operations import build_union_asset
from pipelines.schedules import nightly_schedule, with_freshness
from pipelines.sensors import audit_failed_runs, audit_successful_runs, inbox_sensor
from resources import resources_from_env

_stage_assets = dg.load_assets_from_package_module(assets)
_checks = dg.load_asset_checks_from_package_module(assets)

_keys = [key for a in _stage_assets if isinstance(a, dg.AssetsDefinition) for key in a.keys]
_ops_tables = [
    build_union_asset(
        name,
        [k for k in _keys if k.path[0] == "ops" and k.path[1].startswith(f"{name}_")],
        description,
    )
    for name, description in (
        ("quarantine", "Every rejected input row of every stage: source, file, row_number, reason, raw."),
        ("batches", "Every inbox file read: checksum, size, encoding, rows read, kept and quarantined."),
    )
]
all_assets = [*_stage_assets, *_ops_tables]

defs = with_freshness(
    dg.Definitions(
        assets=all_assets,
        asset_checks=_checks,
        jobs=build_jobs(all_assets),
        schedules=[nightly_schedule],
        sensors=[inbox_sensor, audit_successful_runs, audit_failed_runs],
        resources=resources_from_env(),
        executor=dg.in_process_executor,
    )
)
