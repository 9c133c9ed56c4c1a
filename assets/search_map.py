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
from pathlib import Path

import dagster as dg
import polars as pl

from assets._shared import expectations_check, preview
from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_folder
from lietsi.ops import maps
from lietsi.ops.pages import Footer, contained, safe_name
from lietsi.ops.readiness import describe, waiting_for
from lietsi.places import (
    UNIT_COLUMNS,
    admin_units,
    grouping_key,
    province_of,
    unit_label,
    unit_point,
    with_unit_codes,
)
from lietsi.search_map import (
    COVERAGE_TARGET,
    SITE_STATUS,
    MergeConfig,
    apply_status,
    compare_coverage,
    lead_metrics,
    merge_sites,
    prepare_reports,
    site_leads,
    site_metrics,
    village_coverage,
    village_index,
)
from lietsi.truth import TruthFolder
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
    """Coverage target and site-merging thresholds (see lietsi.search_map.MergeConfig)."""

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
    coverage = village_coverage(ket_luan_dia_ban, phieu_ho_gia_dinh, target=config.coverage_target)
    reports, form_quarantine = prepare_reports(phieu_ho_gia_dinh, village_index(ket_luan_dia_ban))
    merged = merge_sites(reports, config.merge_config())
    status_batches = read_folder(
        settings.inbox / SITE_STATUS.folder, SITE_STATUS, settings.hash_key_bytes(), settings.file_limits()
    )
    status_rows, status_rejected, _ = batches_to_frames(status_batches, SITE_STATUS)
    sites, status_quarantine = apply_status(merged.sites, merged.site_reports, status_rows)
    quarantine = pl.concat([coverage.quarantine, form_quarantine, status_rejected, status_quarantine])

    home = province_of(None, _provinces(coverage.villages, sites))
    villages = with_unit_codes(coverage.villages, home)
    sites = with_unit_codes(sites, home)
    yield dg.Output(
        villages,
        output_name="villages",
        metadata={
            "villages": villages.height,
            "waiting_for": describe(
                waiting_for(
                    {
                        "ket_luan_dia_ban": ket_luan_dia_ban.height,
                        "phieu_ho_gia_dinh": phieu_ho_gia_dinh.height,
                    },
                    "search_map",
                )
            )
            or "nothing",
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
    )
    yield dg.Output(
        coverage.communes,
        output_name="communes",
        metadata={
            "communes": coverage.communes.height,
            "behind_schedule": int(coverage.communes["behind_schedule"].sum()),
            "preview": preview(
                coverage.communes.select("commune", "coverage", "villages", "behind_reason"), 15
            ),
        },
    )
    yield dg.Output(
        coverage.districts, output_name="districts", metadata={"districts": coverage.districts.height}
    )
    yield dg.Output(
        sites,
        output_name="sites",
        metadata={
            "reports": reports.height,
            "sites": sites.height,
            "multi_report_sites": int((sites["report_count"] > 1).sum()),
            "sites_without_coordinates": int(sites["lat"].is_null().sum()),
            "merges_refused_by_safeguards": merged.refused_merges,
            "status_files": len(status_batches),
            "by_status": dg.MetadataValue.md(
                "\n".join(f"- {s}: {n}" for s, n in sites.group_by("status").len().sort("status").iter_rows())
                or "no site"
            ),
            "preview": preview(sites.sort("report_count", descending=True)),
        },
    )
    yield dg.Output(
        merged.site_reports, output_name="site_reports", metadata={"rows": merged.site_reports.height}
    )
    if not status_batches:
        context.log.info(f"inbox/{SITE_STATUS.folder}/ is empty or missing: every site stays 'reported'")
    yield dg.Output(quarantine, output_name="quarantine", metadata={"rows": quarantine.height})


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


def _provinces(*frames: pl.DataFrame) -> pl.Series:
    """Every province these rows name (the maps are of one province)."""
    columns = [f["province"].cast(pl.String) for f in frames if "province" in f.columns]
    return pl.concat(columns) if columns else pl.Series("province", [], pl.String)


def _with_units(frame: pl.DataFrame, home: str | None) -> pl.DataFrame:
    """`frame` (commune, district, province text) with its unit codes and names, its grouping key
    and its district's key (code, else the name written)."""
    units = admin_units(frame.drop(UNIT_COLUMNS, strict=False), "commune", "district", "province", home)
    return units.with_columns(
        grouping_key().fill_null("?").alias("unit_key"),
        pl.coalesce("district_code", pl.lit("?") + pl.col("district_name"), pl.lit("?")).alias(
            "district_key"
        ),
    )


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
    root = out / "maps"
    files: list[dict] = []
    home = province_of(None, _provinces(sites, communes))
    footer = Footer(home, context.run_id)
    sites = _with_units(sites, home)
    communes = _with_units(communes, home)

    def written(kind: str, unit: dict, path: Path, count: int) -> None:
        files.append(
            # Relative to the output folder, so that the same inputs give the same table anywhere.
            {
                "kind": kind,
                "district_code": unit.get("district_code"),
                "district": unit.get("district_name"),
                "commune_code": unit.get("commune_code"),
                "commune": unit.get("commune_name"),
                "path": path.relative_to(out).as_posix(),
                "features": count,
            }
        )

    for (district_key, commune_key), group in sites.group_by("district_key", "unit_key", maintain_order=True):
        unit = group.row(0, named=True)
        folder = f"maps/{safe_name(district_key)}"
        ids = group["site_id"]
        reports = site_reports.filter(pl.col("site_id").is_in(ids.implode()))
        commune_leads = leads.filter(pl.col("site_id").is_in(ids.implode()))
        centre = unit_point(
            unit["commune_name"], unit["district_name"], unit["province_name"], commune_only=True
        )
        label = unit_label(unit["commune_name"], unit["commune_code"])
        fmap = maps.commune_map(label, group, reports, commune_leads, centre=centre, tiles=config.tiles)
        maps.add_page_chrome(
            fmap, footer, "../../", [("tong-quan-do-phu.html", "Tổng quan huyện (district)")]
        )
        path = maps.save_map(fmap, contained(out, out / f"{folder}/{safe_name(commune_key)}.html"))
        written("commune_map", unit, path, group.height)
        geo = maps.sites_geojson(group.drop(UNIT_COLUMNS, "unit_key", "district_key"), reports, commune_leads)
        path = maps.save_geojson(geo, contained(out, out / f"{folder}/{safe_name(commune_key)}.geojson"))
        written("commune_geojson", unit, path, len(geo["features"]))

    mapped = {(f["district_code"], f["commune_code"]) for f in files if f["kind"] == "commune_map"}
    for (district_key,), group in communes.group_by("district_key", maintain_order=True):
        unit = group.row(0, named=True)
        group = group.with_columns(
            pl.struct("commune_name", "commune_code")
            .map_elements(lambda u: unit_label(u["commune_name"], u["commune_code"]), return_dtype=pl.String)
            .alias("commune")
        )
        centroids = {}
        for r in group.iter_rows(named=True):
            located = sites.filter((pl.col("unit_key") == r["unit_key"]) & pl.col("lat").is_not_null())
            point = unit_point(r["commune_name"], r["district_name"], r["province_name"], commune_only=True)
            if point is None and located.height:
                point = (located["lat"].mean(), located["lon"].mean())
            if point is not None:
                centroids[r["commune"]] = point
        district = unit_label(unit["district_name"], unit["district_code"])
        fmap = maps.district_overview(district, group, centroids, tiles=config.tiles)
        commune_links = [
            (f"{safe_name(r['unit_key'])}.html", r["commune"])
            for r in group.iter_rows(named=True)
            if (r["district_code"], r["commune_code"]) in mapped
        ]
        maps.add_page_chrome(fmap, footer, "../../", commune_links)
        path = maps.save_map(
            fmap,
            contained(out, out / f"maps/{safe_name(district_key)}/tong-quan-do-phu.html"),
        )
        written("district_overview", unit, path, len(centroids))

    all_geo = maps.sites_geojson(sites.drop(UNIT_COLUMNS, "unit_key", "district_key"), site_reports, leads)
    written(
        "all_sites_geojson",
        {},
        maps.save_geojson(all_geo, root / "search_sites.geojson"),
        len(all_geo["features"]),
    )
    frame = pl.DataFrame(
        files,
        schema={
            "kind": pl.Utf8,
            "district_code": pl.Utf8,
            "district": pl.Utf8,
            "commune_code": pl.Utf8,
            "commune": pl.Utf8,
            "path": pl.Utf8,
            "features": pl.Int64,
        },
        orient="row",
    )
    context.add_output_metadata(
        {
            "folder": dg.MetadataValue.path(str(root)),
            "commune_maps": frame.filter(pl.col("kind") == "commune_map").height,
            "district_overviews": frame.filter(pl.col("kind") == "district_overview").height,
            "files": preview(frame, 30),
        }
    )
    return frame


# --------------------------------------------------------------------------------------------
# Evaluation and checks


def _truth_tables(settings: SettingsResource) -> dict[str, pl.DataFrame] | None:
    truth = TruthFolder(settings.truth)
    if not truth.has("site_reports", "village_coverage"):
        return None
    optional = {name: truth.read(name) for name in ("sites", "martyr_records") if truth.has(name)}
    return {
        **optional,
        "site_reports": truth.read("site_reports"),
        "village_coverage": truth.read("village_coverage").with_columns(
            pl.col("households", "forms_out", "forms_back").cast(pl.Int64),
            pl.col("coverage").cast(pl.Float64),
            pl.col("concluded").str.to_lowercase().is_in(["true", "1", "yes"]),
        ),
    }


def _evaluate(settings: SettingsResource, warehouse: WarehouseResource) -> dict | None:
    truth = _truth_tables(settings)
    if truth is None:
        return None
    ours = warehouse.query("SELECT site_id, form_number FROM marts.search_site_reports")
    villages = warehouse.query("SELECT * FROM marts.village_coverage")
    metrics = site_metrics(ours, truth["site_reports"])
    comparison = compare_coverage(villages, truth["village_coverage"])
    result = {"sites": metrics, "coverage": comparison}
    leads_judgeable = {"sites", "martyr_records"} <= truth.keys() and all(
        warehouse.has_table(schema, table)
        for schema, table in (("marts", "search_leads"), ("core", "martyr_links"))
    )
    if leads_judgeable:
        result["leads"] = lead_metrics(
            warehouse.query("SELECT site_id, martyr_id FROM marts.search_leads"),
            ours,
            truth["sites"],
            truth["site_reports"],
            _martyr_uids(warehouse, truth["martyr_records"]),
        )
    return result


def _martyr_uids(warehouse: WarehouseResource, records: pl.DataFrame) -> pl.DataFrame:
    """martyr_id → the generator's martyr_uid, by the majority of the martyr's input records."""
    links = warehouse.query("SELECT source, file, row_number, martyr_id FROM core.martyr_links")
    return (
        links.join(
            records.with_columns(pl.col("row_number").cast(pl.Int64)).select(
                "source", "file", "row_number", "martyr_uid"
            ),
            on=["source", "file", "row_number"],
        )
        .group_by("martyr_id", "martyr_uid")
        .len()
        .sort("len", "martyr_uid", descending=[True, False])
        .unique("martyr_id", keep="first")
        .select("martyr_id", "martyr_uid")
    )


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
    schema = {"entity": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
    result = _evaluate(settings, warehouse)
    if result is None:
        context.add_output_metadata({"status": "no truth"})
        return pl.DataFrame(schema=schema)
    comparison = result["coverage"]
    rows = [("sites", k, float(v)) for k, v in result["sites"].items()]
    rows += [("leads", k, float(v)) for k, v in result.get("leads", {}).items()]
    rows += [
        ("coverage", "villages_truth", float(comparison["households"].is_not_null().sum())),
        ("coverage", "villages_ours", float(comparison["households_ours"].is_not_null().sum())),
        ("coverage", "villages_equal", float(comparison["equal"].sum())),
        ("coverage", "villages_different", float((~comparison["equal"]).sum())),
    ]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    context.add_output_metadata(
        {
            "status": "evaluated",
            **{f"{e}_{m}": v for e, m, v in rows},
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
    truth = _truth_tables(settings)
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
    truth = _truth_tables(settings)
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
