"""A run per new inbox file: the file's folder, name and checksum identify the batch."""

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.jobs import full_pipeline_job
from resources import SettingsResource


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.glob("*/*") if p.is_file() and not p.name.startswith("."))


@dg.sensor(
    job=full_pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run for each new or changed file in the inbox.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    for path in inbox_files(settings.inbox):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        relative = path.relative_to(settings.inbox).as_posix()
        # The run key makes a re-dropped identical file a no-op; a changed file is a new batch.
        yield dg.RunRequest(
            run_key=f"{relative}:{digest}",
            tags={"inbox/file": relative, "inbox/folder": path.parent.name, "inbox/sha256": digest},
        )
