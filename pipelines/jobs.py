"""One job for the whole pipeline and one per stage (asset group), for re-running a single stage."""

from __future__ import annotations

import dagster as dg

full_pipeline_job = dg.define_asset_job("full_pipeline", selection=dg.AssetSelection.all())


def build_jobs(assets: list) -> list[dg.UnresolvedAssetJobDefinition]:
    groups = sorted(
        {spec.group_name for a in assets if isinstance(a, dg.AssetsDefinition) for spec in a.specs}
    )
    stage_jobs = [
        dg.define_asset_job(f"{group}_stage", selection=dg.AssetSelection.groups(group)) for group in groups
    ]
    return [full_pipeline_job, *stage_jobs]
