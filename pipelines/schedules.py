"""The nightly run and the freshness every asset is held to because of it.

The full pipeline runs every night at 01:00 Vietnam time. An asset not refreshed for 26 hours has
missed a night (warning in the UI); after 50 hours, two nights, it is failing its freshness policy,
which the UI's asset health shows so a stale mart is never mistaken for today's.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from pipelines.jobs import full_pipeline_job

NIGHTLY_CRON = "0 1 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_full_pipeline",
    job=full_pipeline_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Materialise every asset from the inbox each night.",
    tags={"lietsi/trigger": "nightly"},
)

NIGHTLY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
)


def with_freshness(defs: dg.Definitions) -> dg.Definitions:
    """`defs` with the nightly freshness policy on every asset that does not set its own."""
    return defs.map_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, NIGHTLY_FRESHNESS, overwrite_existing=False)
    )
