"""The Dagster code location: every asset and check of the `assets` package, jobs, schedule, sensor.

Stage modules only define assets; this module discovers them, so adding a stage never means
editing a central list. Each asset group gets its own job for re-runs of one stage.
"""

from __future__ import annotations

import dagster as dg

from assets import asset_modules
from pipelines.jobs import build_jobs
from pipelines.operations import build_union_asset
from pipelines.schedules import nightly_schedule, with_freshness
from pipelines.sensors import audit_failed_runs, audit_successful_runs, inbox_sensor
from resources import resources_from_env

_resources = resources_from_env()


def _is_evaluation(key: dg.AssetKey) -> bool:
    """Evaluation assets (`marts.<stage>_evaluation`) score a stage against a synthetic truth."""
    return key.path[-1].endswith("_evaluation")


def _without_evaluation(definitions: list) -> list:
    """A real province has no truth: its UI and runs show no evaluation asset nor their checks."""
    return [
        d
        for d in definitions
        if not (
            isinstance(d, dg.AssetsDefinition)
            and any(_is_evaluation(k) for k in (*d.keys, *(c.asset_key for c in d.check_keys)))
        )
    ]


_modules = asset_modules()
_stage_assets = dg.load_assets_from_modules(_modules)
_checks = dg.load_asset_checks_from_modules(_modules)
_with_truth = _resources["settings"].truth is not None
if not _with_truth:
    _stage_assets, _checks = _without_evaluation(_stage_assets), _without_evaluation(_checks)

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


def _no_evaluation_deps(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec without its deps on evaluation assets (the run audit waits for them when they exist)."""
    deps = [d for d in spec.deps if not _is_evaluation(d.asset_key)]
    return spec if len(deps) == len(spec.deps) else spec.replace_attributes(deps=deps)


defs = with_freshness(
    dg.Definitions(
        assets=all_assets,
        asset_checks=_checks,
        jobs=build_jobs(all_assets),
        schedules=[nightly_schedule],
        sensors=[inbox_sensor, audit_successful_runs, audit_failed_runs],
        resources=_resources,
        executor=dg.in_process_executor,
    )
)
if not _with_truth:
    defs = defs.map_asset_specs(func=_no_evaluation_deps)
