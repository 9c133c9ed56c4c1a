"""The nightly run: everything in the inbox, every night at 01:00 Vietnam time."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import full_pipeline_job

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_full_pipeline",
    job=full_pipeline_job,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Materialise every asset from the inbox each night.",
)
