"""One run per sensor tick for whatever arrived in the inbox, and an audit record for every finished run.

The inbox sensor remembers, in its cursor, the checksum of every file it has started a run for: a
file dropped again with the same bytes (same name or another) starts nothing, a changed file is a new
batch. Its first tick starts from the files the warehouse already holds (`ops.batches`), so a new
Dagster home over a full inbox starts nothing rather than one run per file. All files new at a tick
go in one run (a district office drops 20 files at once: one run, not 20 queued writers), and that
run materialises only what is downstream of the folders that changed once every table it reads
exists. The checksum is only recomputed when a file's size or modification time changes, so a tick
over a large inbox reads only what is new.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from assets.audit import record_run
from lietsi.ingest.inbox import file_name
from pipelines.jobs import full_pipeline_job
from resources import SettingsResource, WarehouseResource, existing_tables
from resources.outputs import publish_latest

BATCH_ID = 16  # hex digits of the SHA-256 kept as `batch_id` in ops.batches


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


def new_batches(
    inbox: Path, cursor: str | None, known: set[str] = frozenset()
) -> tuple[list[tuple[str, str]], str]:
    """(relative path, sha256) of each file whose content has not started a run yet, and the new cursor.

    `known` holds batch ids (first 16 hex digits of the SHA-256) already in the warehouse: on the
    first tick they count as seen.
    """
    state = json.loads(cursor) if cursor else {}
    seen: dict[str, str] = {d[:BATCH_ID]: f for d, f in state.get("seen", {}).items()}
    stats: dict[str, list] = state.get("stats", {})
    fresh: list[tuple[str, str]] = []
    current: dict[str, list] = {}
    for path in inbox_files(inbox):
        relative = f"{path.parent.name}/{file_name(path)}"
        stat = path.lstat()
        known_stat = stats.get(relative)
        if known_stat and known_stat[:2] == [stat.st_size, stat.st_mtime_ns]:
            current[relative] = known_stat
            continue
        digest = file_digest(path)
        current[relative] = [stat.st_size, stat.st_mtime_ns, digest]
        if digest[:BATCH_ID] not in seen:
            seen[digest[:BATCH_ID]] = relative
            if digest[:BATCH_ID] not in known:
                fresh.append((relative, digest))
    return fresh, json.dumps({"seen": seen, "stats": current}, sort_keys=True)


def _materialised_batches(warehouse: WarehouseResource) -> set[str]:
    """Batch ids of the files the warehouse already holds (none while it has no `ops.batches`)."""
    if not warehouse.has_table("ops", "batches"):
        return set()
    with warehouse.connect() as con:
        return {b for (b,) in con.execute("SELECT DISTINCT batch_id FROM ops.batches").fetchall() if b}


def _existing_assets(warehouse: WarehouseResource) -> set[dg.AssetKey]:
    with warehouse.connect() as con:
        return {dg.AssetKey(name.split(".", 1)) for name in existing_tables(con)}


def _loaded_inputs(repository: dg.RepositoryDefinition, keys: set[dg.AssetKey]) -> set[dg.AssetKey]:
    """The assets whose tables the IO manager loads for `keys` (inputs, not ordering-only deps)."""
    loaded = set()
    for key in keys:
        definition = repository.assets_defs_by_key.get(key)
        if definition is None:
            continue
        for name, upstream in definition.keys_by_input_name.items():
            if not definition.node_def.input_def_named(name).dagster_type.is_nothing:
                loaded.add(upstream)
    return loaded


def downstream_selection(
    repository: dg.RepositoryDefinition, folders: set[str], existing: set[dg.AssetKey]
) -> list[dg.AssetKey] | None:
    """Assets to refresh when only `folders` changed, or None for the whole pipeline.

    None whenever a table that a selected asset loads from outside the selection does not exist
    yet (a first drop, or a stage stopped by a blocking check last time): the full run builds it.
    """
    graph = repository.asset_graph
    ingest = [k for k in graph.get_all_asset_keys() if k.path[0] == "raw" and k.path[-1] in folders]
    # An ingest step writes the raw table, its quarantine and its batch log together.
    siblings = {s for k in ingest for s in graph.get(k).execution_set_asset_keys}
    selected = dg.AssetSelection.assets(*siblings).downstream().resolve(graph)
    selected = {s for k in selected for s in graph.get(k).execution_set_asset_keys}
    if not _loaded_inputs(repository, selected) - selected <= existing:
        return None
    return sorted(selected, key=lambda k: k.to_user_string())


@dg.sensor(
    job=full_pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One run per tick for every new or changed inbox file, downstream of their folders; "
    "a re-dropped file starts nothing.",
)
def inbox_sensor(
    context: dg.SensorEvaluationContext, settings: SettingsResource, warehouse: WarehouseResource
):
    known = _materialised_batches(warehouse) if context.cursor is None else set()
    fresh, cursor = new_batches(settings.inbox, context.cursor, known)
    if not fresh:
        return dg.SensorResult(skip_reason="no new file in the inbox", cursor=cursor)
    folders = {relative.split("/", 1)[0] for relative, _ in fresh}
    selection = None
    if context.repository_def is not None:
        selection = downstream_selection(context.repository_def, folders, _existing_assets(warehouse))
    batch_ids = sorted(digest[:BATCH_ID] for _, digest in fresh)
    request = dg.RunRequest(
        run_key="inbox:" + hashlib.sha256(",".join(batch_ids).encode()).hexdigest()[:16],
        asset_selection=selection,
        tags={
            # The first new file names the run in the audit; the others are counted.
            "inbox/file": fresh[0][0],
            "inbox/files": str(len(fresh)),
            "inbox/folders": ",".join(sorted(folders)),
            "lietsi/trigger": "inbox",
        },
    )
    context.log.info(f"{len(fresh)} new file(s) in {', '.join(sorted(folders))}: one run")
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def _audit(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, settings: SettingsResource
) -> None:
    run_id = context.dagster_run.run_id
    rows = record_run(context.instance, run_id, warehouse)
    context.log.info(f"audit: run {run_id} recorded ({rows} rows)")
    if publish_latest(Path(settings.out_dir), run_id):
        context.log.info(f"{settings.out_dir}/latest now shows run {run_id}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="audit_successful_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes ops.run_audit for a run that finished and points OUT_DIR/latest at its pages.",
)
def audit_successful_runs(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, settings: SettingsResource
) -> None:
    _audit(context, warehouse, settings)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="audit_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes ops.run_audit for a run that failed, whose own audit step never ran; points "
    "OUT_DIR/latest at the pages it wrote.",
)
def audit_failed_runs(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, settings: SettingsResource
) -> None:
    _audit(context, warehouse, settings)
