"""A run per new inbox file, and an audit record for every finished run.

The inbox sensor remembers, in its cursor, the checksum of every file it has started a run for: a
file dropped again with the same bytes (same name or another) starts nothing, a changed file is a new
batch. The checksum is only recomputed when a file's size or modification time changes, so a tick
over a large inbox reads only what is new.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from assets.audit import record_run
from lietsi.ingest import file_name
from pipelines.jobs import full_pipeline_job
from resources import SettingsResource, WarehouseResource


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(
        p for p in inbox.glob("*/*") if (p.is_symlink() or p.is_file()) and not p.name.startswith(".")
    )


def file_digest(path: Path) -> str:
    if path.is_symlink():
        # Never followed (ingest rejects it): the link itself is what arrived.
        return hashlib.sha256(b"symlink:" + os.fsencode(os.readlink(path))).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_batches(inbox: Path, cursor: str | None) -> tuple[list[tuple[str, str]], str]:
    """(relative path, sha256) of each file whose content has not started a run yet, and the new cursor."""
    state = json.loads(cursor) if cursor else {}
    seen: dict[str, str] = state.get("seen", {})
    stats: dict[str, list] = state.get("stats", {})
    fresh: list[tuple[str, str]] = []
    current: dict[str, list] = {}
    for path in inbox_files(inbox):
        relative = f"{path.parent.name}/{file_name(path)}"
        stat = path.lstat()
        known = stats.get(relative)
        if known and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            current[relative] = known
            continue
        digest = file_digest(path)
        current[relative] = [stat.st_size, stat.st_mtime_ns, digest]
        if digest not in seen:
            seen[digest] = relative
            fresh.append((relative, digest))
    return fresh, json.dumps({"seen": seen, "stats": current}, sort_keys=True)


@dg.sensor(
    job=full_pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A full run for each new or changed inbox file; a re-dropped file starts nothing.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    fresh, cursor = new_batches(settings.inbox, context.cursor)
    requests = [
        dg.RunRequest(
            run_key=f"{relative}:{digest[:16]}",
            tags={
                "inbox/file": relative,
                "inbox/folder": relative.split("/", 1)[0],
                "inbox/sha256": digest,
                "lietsi/trigger": "inbox",
            },
        )
        for relative, digest in fresh
    ]
    if not requests:
        return dg.SensorResult(skip_reason="no new file in the inbox", cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def _audit(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
    rows = record_run(context.instance, context.dagster_run.run_id, warehouse)
    context.log.info(f"audit: run {context.dagster_run.run_id} recorded ({rows} rows)")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="audit_successful_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes ops.run_audit for a run that finished.",
)
def audit_successful_runs(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
    _audit(context, warehouse)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="audit_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes ops.run_audit for a run that failed, whose own audit step never ran.",
)
def audit_failed_runs(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
    _audit(context, warehouse)
