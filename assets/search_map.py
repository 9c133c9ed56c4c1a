"""Search map: household forms and village conclusions → coverage, merged sites, leads and maps.

`marts.village_coverage` (+ commune and district roll-ups) is the steering committee's progress
report; `marts.search_sites` / `marts.search_site_reports` merge household reports of one grave;
`marts.search_leads` links sites that name a martyr to `core.martyrs`; `ops.search_map_files`
lists the offline HTML maps and GeoJSON written to `<out_dir>/maps/`. The optional status file
folder `trang_thai_diem/` (a project extension of the input contract, docs/search_map.md) sets
each site's status. `marts.search_map_evaluation` scores merging and coverage against the
synthetic truth.
"""

import json

import dagster as dg
import polars as pl

from assets._shared import expectations_check, preview
from lietsi.ops.map_files import write_search_maps
from lietsi.ops.readiness import describe, waiting_for
from lietsi.search_map.coverage import COVERAGE_TARGET
from lietsi.search_map.evaluation import (
    EVALUATION_SCHEMA,
    compare_coverage,
    evaluation_table,
    site_metrics,
    truth_tables,
)
from lietsi.search_map.leads import site_leads
from lietsi.search_map.merging import MergeConfig
from lietsi.search_map.status import SITE_STATUS
from lietsi.search_map.tables import SearchMap, search_map_tables
from resources import SettingsResource, WarehouseResource

GROUP = "search_map"
MIN_SITE_F1 = 0.95

_RAW = {
    "ket_luan_dia_ban": dg.AssetIn(key=["raw", "ket_luan_dia_ban"]),
    "phieu_ho_gia_dinh": dg.AssetIn(key=["raw", "phieu_ho_gia_dinh"]),
}
_SITES = dg.AssetKey(["marts", "search_sites"])
_SITE_REPORTS = dg.AssetKey(["marts", "search_site_reports"])
_VILLAGES = dg.AssetKey(["marts", "village_coverage"])
_COMMUNES = dg.AssetKey(["marts", "commune_coverage"])


class SearchMapConfig(dg.Config):
    """Coverage target and site-merging thresholds (see lietsi.search_map.merging.MergeConfig)."""

    coverage_target: float = COVERAGE_TARGET
    radius_m: float = MergeConfig.radius_m
    max_diameter_m: float = MergeConfig.max_diameter_m
    name_threshold: float = MergeConfig.name_threshold
    name_conflict: float = MergeConfig.name_conflict
    place_threshold: float = MergeConfig.place_threshold

    def merge_config(self) -> MergeConfig:
        return MergeConfig(
            radius_m=self.radius_m,
            max_diameter_m=self.max_diameter_m,
            name_threshold=self.name_threshold,
            name_conflict=self.name_conflict,
            place_threshold=self.place_threshold,
        )


@dg.multi_asset(
    group_name=GROUP,
    ins=_RAW,
    outs={
        "villages": dg.AssetOut(
            key=_VILLAGES,
            description="Per village: households, forms handed out and back, coverage (back / households), "
            "conclusion meeting held, forms with information; under-target and no-conclusion flags.",
        ),
        "communes": dg.AssetOut(
            key=_COMMUNES, description="Per commune: coverage roll-up; behind schedule with the reasons."
        ),
        "districts": dg.AssetOut(
            key=["marts", "district_coverage"], description="Per district: coverage roll-up."
        ),
        "sites": dg.AssetOut(
            key=_SITES,
            description="Distinct reported burial site or lead: household reports of one grave merged, "
            "with report count, mean coordinates and status.",
        ),
        "site_reports": dg.AssetOut(
            key=_SITE_REPORTS, description="Household form (Số phiếu) → the site it reports."
        ),
        "quarantine": dg.AssetOut(
            key=["ops", "quarantine_search_map"],
            description="Conclusion rows with impossible figures, superseded or duplicate rows, duplicate "
            "household forms, unusable status rows.",
        ),
    },
)
def search_map(
    context: dg.AssetExecutionContext,
    config: SearchMapConfig,
    settings: SettingsResource,
    ket_luan_dia_ban: pl.DataFrame,
    phieu_ho_gia_dinh: pl.DataFrame,
):
    result = search_map_tables(
        ket_luan_dia_ban,
        phieu_ho_gia_dinh,
        settings.inbox,
        settings.hash_key_bytes(),
        settings.file_limits(),
        target=config.coverage_target,
        config=config.merge_config(),
    )
    arrived = {"ket_luan_dia_ban": ket_luan_dia_ban.height, "phieu_ho_gia_dinh": phieu_ho_gia_dinh.height}
    coverage = result.coverage
    outputs = {
        "villages": result.villages,
        "communes": coverage.communes,
        "districts": coverage.districts,
        "sites": result.sites,
        "site_reports": result.merged.site_reports,
        "quarantine": result.quarantine,
    }
    if not result.status_files:
        context.log.info(f"inbox/{SITE_STATUS.folder}/ is empty or missing: every site stays 'reported'")
    metadata = _search_map_metadata(result, arrived)
    for name, frame in outputs.items():
        yield dg.Output(frame, output_name=name, metadata=metadata[name])


def _search_map_metadata(result: SearchMap, arrived: dict[str, int]) -> dict[str, dict]:
    """Each output's metadata: counts, flags and a preview of what needs attention."""
    villages, sites, coverage = result.villages, result.sites, result.coverage
    return {
        "villages": {
            "villages": villages.height,
            "waiting_for": describe(waiting_for(arrived, "search_map")) or "nothing",
            "below_target": int(villages["below_target"].sum()),
            "without_conclusion": int(villages["no_conclusion"].sum()),
            "district_coverage": dg.MetadataValue.md(
                "\n".join(
                    f"- {r['district']}: {r['coverage']:.1%} of {r['households']} households"
                    for r in coverage.districts.iter_rows(named=True)
                )
                or "no village"
            ),
            "preview": preview(villages.filter(pl.col("below_target") | pl.col("no_conclusion"))),
        },
        "communes": {
            "communes": coverage.communes.height,
            "behind_schedule": int(coverage.communes["behind_schedule"].sum()),
            "preview": preview(
                coverage.communes.select("commune", "coverage", "villages", "behind_reason"), 15
            ),
        },
        "districts": {"districts": coverage.districts.height},
        "sites": {
            "reports": result.reports.height,
            "sites": sites.height,
            "multi_report_sites": int((sites["report_count"] > 1).sum()),
            "sites_without_coordinates": int(sites["lat"].is_null().sum()),
            "merges_refused_by_safeguards": result.merged.refused_merges,
            "status_files": result.status_files,
            "by_status": dg.MetadataValue.md(
                "\n".join(f"- {s}: {n}" for s, n in sites.group_by("status").len().sort("status").iter_rows())
                or "no site"
            ),
            "preview": preview(sites.sort("report_count", descending=True)),
        },
        "site_reports": {"rows": result.merged.site_reports.height},
        "quarantine": {"rows": result.quarantine.height},
    }


@dg.asset(
    key=["marts", "search_leads"],
    group_name=GROUP,
    ins={
        "sites": dg.AssetIn(key=_SITES),
        "site_reports": dg.AssetIn(key=_SITE_REPORTS),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
    },
    description="Site ↔ resolved martyr links from the reported name (corroborated by hometown or unit "
    "in the reports' text when possible); martyrs without grave information first.",
)
def search_leads(
    context: dg.AssetExecutionContext, sites: pl.DataFrame, site_reports: pl.DataFrame, martyrs: pl.DataFrame
) -> pl.DataFrame:
    leads = site_leads(sites, site_reports, martyrs)
    context.add_output_metadata(
        {
            "leads": leads.height,
            "sites_linked": leads["site_id"].n_unique(),
            "martyrs_without_grave": int(leads.filter("without_grave")["martyr_id"].n_unique()),
            "by_confidence": dg.MetadataValue.md(
                "\n".join(
                    f"- {c}: {n}"
                    for c, n in leads.group_by("confidence").len().sort("confidence").iter_rows()
                )
                or "no lead"
            ),
            "preview": preview(leads),
        }
    )
    return leads


class MapConfig(dg.Config):
    # Background tiles for viewers with internet; the markers, popups and legend work without.
    tiles: str | None = "OpenStreetMap"


@dg.asset(
    key=["ops", "search_map_files"],
    group_name=GROUP,
    ins={
        "sites": dg.AssetIn(key=_SITES),
        "site_reports": dg.AssetIn(key=_SITE_REPORTS),
        "leads": dg.AssetIn(key=["marts", "search_leads"]),
        "communes": dg.AssetIn(key=_COMMUNES),
    },
    description="Offline HTML maps (Leaflet inlined) and GeoJSON per commune, and a coverage overview per "
    "district, written to <out_dir>/maps/.",
)
def search_map_files(
    context: dg.AssetExecutionContext,
    config: MapConfig,
    settings: SettingsResource,
    sites: pl.DataFrame,
    site_reports: pl.DataFrame,
    leads: pl.DataFrame,
    communes: pl.DataFrame,
) -> pl.DataFrame:
    out = settings.run_out(context.run_id)
    frame = write_search_maps(out, context.run_id, sites, site_reports, leads, communes, tiles=config.tiles)
    context.add_output_metadata(
        {
            "folder": dg.MetadataValue.path(str(out / "maps")),
            "commune_maps": frame.filter(pl.col("kind") == "commune_map").height,
            "district_overviews": frame.filter(pl.col("kind") == "district_overview").height,
            "files": preview(frame, 30),
        }
    )
    return frame


# --------------------------------------------------------------------------------------------
# Evaluation and checks


@dg.asset(
    key=["marts", "search_map_evaluation"],
    group_name=GROUP,
    deps=[_SITE_REPORTS, _VILLAGES, dg.AssetKey(["marts", "search_leads"])],
    description="Site merging (pairwise and exact-cluster precision/recall/F1), village coverage "
    "(villages equal to the truth) and martyr leads (precision, recall) against the synthetic ground "
    "truth (settings.truth_dir).",
)
def search_map_evaluation(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
) -> pl.DataFrame:
    truth = truth_tables(settings.truth)
    if truth is None:
        context.add_output_metadata({"status": "no truth"})
        return pl.DataFrame(schema=EVALUATION_SCHEMA)
    leads_judgeable = all(
        warehouse.has_table(schema, table)
        for schema, table in (("marts", "search_leads"), ("core", "martyr_links"))
    )
    frame, comparison = evaluation_table(
        truth,
        warehouse.query("SELECT site_id, form_number FROM marts.search_site_reports"),
        warehouse.query("SELECT * FROM marts.village_coverage"),
        warehouse.query("SELECT site_id, martyr_id FROM marts.search_leads") if leads_judgeable else None,
        warehouse.query("SELECT source, file, row_number, martyr_id FROM core.martyr_links")
        if leads_judgeable
        else None,
    )
    context.add_output_metadata(
        {
            "status": "evaluated",
            **{f"{e}_{m}": v for e, m, v in frame.iter_rows()},
            "table": preview(frame, 30),
            "coverage_differences": preview(comparison.filter(~pl.col("equal")), 10),
        }
    )
    return frame


village_coverage_expectations = expectations_check(
    dg.AssetKey(["marts", "village_coverage"]),
    "marts_village_coverage",
    "coverage ≤ 100%, forms back ≤ forms out and ≤ households, one row per village.",
)
search_sites_expectations = expectations_check(
    dg.AssetKey(["marts", "search_sites"]),
    "marts_search_sites",
    "coordinates inside Vietnam's bounding box, unique site ids, known statuses.",
)


@dg.asset_check(
    asset=_SITES,
    name="villages_known",
    description="Every site's village has a conclusion row (kết luận địa bàn); unknown villages are listed "
    "for the district to correct (a warning, not a stop).",
)
def villages_known(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    unknown = warehouse.query(
        "SELECT commune, village, count(*) AS sites FROM marts.search_sites WHERE NOT village_known "
        "GROUP BY ALL ORDER BY sites DESC"
    )
    return dg.AssetCheckResult(
        passed=unknown.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unknown_villages": unknown.height,
            "details": dg.MetadataValue.md(json.dumps(unknown.head(20).to_dicts(), ensure_ascii=False)),
        },
    )


@dg.asset_check(
    asset=_SITES,
    name="merging_f1_on_synthetic_truth",
    additional_deps=[_SITE_REPORTS],
    description=f"Pairwise F1 of site merging against the synthetic truth ≥ {MIN_SITE_F1} (passes with "
    "'no truth' when there is none). Not blocking: a merge error is reviewable on the map, and the "
    "district still needs its maps.",
)
def site_merging_f1(settings: SettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    truth = truth_tables(settings.truth)
    if truth is None:
        return dg.AssetCheckResult(passed=True, metadata={"status": "no truth"})
    metrics = site_metrics(
        warehouse.query("SELECT site_id, form_number FROM marts.search_site_reports"), truth["site_reports"]
    )
    return dg.AssetCheckResult(passed=metrics["f1"] >= MIN_SITE_F1, metadata=metrics)


@dg.asset_check(
    asset=_VILLAGES,
    name="coverage_equals_truth",
    description="Every village's households, forms and conclusion equal the synthetic truth (passes with "
    "'no truth' when there is none).",
)
def coverage_equals_truth(settings: SettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    truth = truth_tables(settings.truth)
    if truth is None:
        return dg.AssetCheckResult(passed=True, metadata={"status": "no truth"})
    comparison = compare_coverage(
        warehouse.query("SELECT * FROM marts.village_coverage"), truth["village_coverage"]
    )
    different = comparison.filter(~pl.col("equal"))
    return dg.AssetCheckResult(
        passed=different.is_empty(),
        metadata={
            "villages": comparison.height,
            "different": different.height,
            "details": preview(different, 10),
        },
    )
