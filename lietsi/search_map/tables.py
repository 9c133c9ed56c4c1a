"""The stage's tables from the raw tables: coverage, reports merged into sites, the status file applied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_folder
from lietsi.ingest.limits import FileLimits
from lietsi.places import province_of, with_unit_codes
from lietsi.search_map.coverage import COVERAGE_TARGET, Coverage, village_coverage, village_index
from lietsi.search_map.household_reports import prepare_reports
from lietsi.search_map.merging import MergeConfig, Sites, merge_sites
from lietsi.search_map.status import SITE_STATUS, apply_status


@dataclass(frozen=True)
class SearchMap:
    coverage: Coverage
    # The coverage's villages and the merged sites with their unit codes, status applied to the sites.
    villages: pl.DataFrame
    sites: pl.DataFrame
    reports: pl.DataFrame
    merged: Sites
    quarantine: pl.DataFrame
    status_files: int


def provinces_named(*frames: pl.DataFrame) -> pl.Series:
    """Every province these rows name (the maps are of one province)."""
    columns = [f["province"].cast(pl.String) for f in frames if "province" in f.columns]
    return pl.concat(columns) if columns else pl.Series("province", [], pl.String)


def search_map_tables(
    conclusions: pl.DataFrame,
    forms: pl.DataFrame,
    inbox: Path,
    hash_key: bytes,
    limits: FileLimits,
    *,
    target: float = COVERAGE_TARGET,
    config: MergeConfig | None = None,
) -> SearchMap:
    """Coverage of `conclusions` (`raw.ket_luan_dia_ban`), the sites of `forms`
    (`raw.phieu_ho_gia_dinh`) with the status file of `inbox` applied, and every rejected row."""
    coverage = village_coverage(conclusions, forms, target=target)
    reports, form_quarantine = prepare_reports(forms, village_index(conclusions))
    merged = merge_sites(reports, config)
    status_batches = read_folder(inbox / SITE_STATUS.folder, SITE_STATUS, hash_key, limits)
    status_rows, status_rejected, _ = batches_to_frames(status_batches, SITE_STATUS)
    sites, status_quarantine = apply_status(merged.sites, merged.site_reports, status_rows)
    quarantine = pl.concat([coverage.quarantine, form_quarantine, status_rejected, status_quarantine])
    home = province_of(None, provinces_named(coverage.villages, sites))
    return SearchMap(
        coverage,
        with_unit_codes(coverage.villages, home),
        with_unit_codes(sites, home),
        reports,
        merged,
        quarantine,
        len(status_batches),
    )
