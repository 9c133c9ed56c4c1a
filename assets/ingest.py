"""Ingest: one asset per inbox folder → `raw.<folder>`, its quarantine and its batch log.

Each file is a batch; a broken file fails its own batch (rows quarantined with the reason) and the
run goes on. Blocking checks gate everything downstream: the folder's great-expectations suite, and
row accounting (rows read = rows kept + rows quarantined, per file, as stored in the warehouse).
"""

import dagster as dg
import polars as pl

from assets._shared import counts_markdown, expectations_check, preview
from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_folder
from lietsi.schema import SOURCES, Source
from resources import SettingsResource, WarehouseResource
from resources.sql import sql_text

GROUP = "ingest"


def build_ingest_asset(source: Source) -> dg.AssetsDefinition:
    raw_key = dg.AssetKey(["raw", source.folder])
    quarantine_key = dg.AssetKey(["ops", f"quarantine_{source.folder}"])
    batches_key = dg.AssetKey(["ops", f"batches_{source.folder}"])

    @dg.multi_asset(
        name=f"ingest_{source.folder}",
        group_name=GROUP,
        outs={
            "raw": dg.AssetOut(key=raw_key, description=source.description, is_required=True),
            "quarantine": dg.AssetOut(
                key=quarantine_key, description=f"Rejected rows of inbox/{source.folder}/ with reasons."
            ),
            "batches": dg.AssetOut(
                key=batches_key,
                description=f"One row per file of inbox/{source.folder}/: checksum, counts, status.",
            ),
        },
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
    )
    def _ingest(context: dg.AssetExecutionContext, settings: SettingsResource):
        batches = read_folder(
            settings.inbox / source.folder, source, settings.hash_key_bytes(), settings.file_limits()
        )
        raw, quarantine, log = batches_to_frames(batches, source)
        failed = log.filter(pl.col("status") == "failed")
        for row in failed.iter_rows(named=True):
            context.log.error(f"inbox/{source.folder}/{row['file']}: batch rejected: {row['message']}")
        if not batches:
            context.log.info(f"inbox/{source.folder}/ is empty or missing: nothing to ingest")
        yield dg.Output(
            raw,
            output_name="raw",
            metadata={
                "files": len(batches),
                "rows_clean": raw.height,
                "rows_quarantined": quarantine.height,
                "failed_batches": failed.height,
                "quarantine_reasons": counts_markdown(
                    quarantine["reason"].str.replace(r"'[^']*'", "'…'"), empty="no row quarantined"
                ),
                "preview": preview(raw, 5),
            },
        )
        yield dg.Output(quarantine, output_name="quarantine", metadata={"rows": quarantine.height})
        yield dg.Output(log, output_name="batches", metadata={"files": log.height})

    return _ingest


def build_raw_checks(source: Source) -> list[dg.AssetChecksDefinition]:
    raw_key = dg.AssetKey(["raw", source.folder])
    _expectations = expectations_check(raw_key, f"raw_{source.folder}", source.description)

    @dg.asset_check(
        asset=raw_key,
        name="row_accounting",
        blocking=True,
        additional_deps=[
            dg.AssetKey(["ops", f"quarantine_{source.folder}"]),
            dg.AssetKey(["ops", f"batches_{source.folder}"]),
        ],
        description="Per file: rows read = rows in the raw table + rows in the quarantine.",
    )
    def _row_accounting(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        mismatches = warehouse.query(sql_text("ops", "row_accounting").format(folder=source.folder))
        return dg.AssetCheckResult(
            passed=mismatches.is_empty(),
            metadata={
                "files_not_adding_up": mismatches.height,
                "details": dg.MetadataValue.md(str(mismatches)),
            },
        )

    return [_expectations, _row_accounting]


ingest_assets = [build_ingest_asset(s) for s in SOURCES.values()]
raw_checks = [check for s in SOURCES.values() for check in build_raw_checks(s)]
