"""Reports: the provincial progress report per district, the campaign's costs, and the exports.

Every figure is a SQL file of sql/reports/ run in DuckDB. A file whose tables do not exist yet (a
stage not built, or not run) is skipped and its figures show as "not yet available" in the HTML
page, never as zeros. Outputs:
- tables `reports.district_progress`, `reports.province_totals`, `reports.campaign_costs`;
- `<out_dir>/bao_cao_tien_do.html`: the one-page report with charts;
- `<out_dir>/export/identifications.{csv,json}` and `donor_profiles.{csv,json}` (docs/operations.md);
  `empop_references.emp` (one file per range read) for EMPOP and the national database.
"""

from functools import partial

import dagster as dg
import duckdb
import polars as pl

from assets import stage_keys
from lietsi.ops.export_files import write_exports
from lietsi.ops.pages import Footer
from lietsi.ops.reports import progress_tables, write_report
from lietsi.ops.site import write_site
from lietsi.places import province_of
from resources import IO_RETRY_POLICY, SettingsResource, WarehouseResource, existing_tables
from resources.sql import referenced_tables, sql_files, sql_text

GROUP = "reports"
REPORT_FILE = "bao_cao_tien_do.html"
EXPORT_DIR = "export"
# Reports read the stages; their own tables and ops are written by this module.
STAGE_SCHEMAS = ("raw", "core", "marts")


def run_report_sql(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame | str:
    """The query's result, or the reason it cannot run yet (the tables it needs that are missing)."""
    sql = sql_text("reports", name)
    missing = sorted(referenced_tables(sql, STAGE_SCHEMAS) - existing_tables(con))
    if missing:
        return f"waiting for {', '.join(missing)}"
    return con.execute(sql).pl()


def _store(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS reports")
    con.register("frame", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TABLE reports.{table} AS SELECT * FROM frame")
    con.unregister("frame")


def province_in_warehouse(con: duckdb.DuckDBPyConnection) -> str:
    """The run's province (`lietsi.places.province_of`) from the martyrs, else the village conclusions."""
    frames = {}
    for table, column in (("core.martyrs", "hometown_province"), ("raw.ket_luan_dia_ban", "province")):
        try:
            frames[table] = con.execute(f"SELECT {column} FROM {table}").pl()
        except duckdb.Error:
            frames[table] = pl.DataFrame()
    conclusions = frames["raw.ket_luan_dia_ban"]
    fallback = conclusions["province"] if "province" in conclusions.columns else None
    return province_of(frames["core.martyrs"], fallback) or "tỉnh (province)"


def _specs(names: list[str], sql_names: list[str], descriptions: dict[str, str]) -> list[dg.AssetSpec]:
    defined = set(stage_keys())
    needed = set().union(*(referenced_tables(sql_text("reports", n), STAGE_SCHEMAS) for n in sql_names))
    deps = sorted(
        (dg.AssetKey(t.split(".")) for t in needed if dg.AssetKey(t.split(".")) in defined), key=str
    )
    return [
        dg.AssetSpec(["reports", n], deps=deps, description=descriptions[n], group_name=GROUP, skippable=True)
        for n in names
    ]


_PROGRESS_METRICS = sorted(sql_files("reports", "progress_*.sql"))
_REPORT_SPECS = _specs(
    ["district_progress", "province_totals", "campaign_costs", "progress_report"],
    [*_PROGRESS_METRICS, "province_totals", "campaign_costs"],
    {
        "district_progress": "Per district code: households and household forms back, relatives surveyed, "
        "donors consenting, samples taken, results back, identifications proposed / needing review / "
        "confirmed; one row for other provinces and one for no known district.",
        "province_totals": "Province-wide sample and result counts, including remains samples.",
        "campaign_costs": "Campaign costs at the plan's unit rates (survey and summary forms, mtDNA pairs).",
        "progress_report": f"One-page HTML progress and cost report with charts (<out_dir>/{REPORT_FILE}).",
    },
)


@dg.multi_asset(specs=_REPORT_SPECS, retry_policy=IO_RETRY_POLICY, can_subset=False)
def progress_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
):
    """Run every report query whose tables exist, store the tables, and render the HTML page."""
    with warehouse.connect() as con:
        tables = progress_tables(partial(run_report_sql, con), _PROGRESS_METRICS, province_in_warehouse(con))
        for table, frame in tables.stored.items():
            _store(con, table, frame)
    path = write_report(settings.run_out(context.run_id), REPORT_FILE, tables, context.run_id)
    for what, reason in tables.unavailable.items():
        context.log.info(f"not yet available: {what} ({reason})")
    for table, frame in tables.stored.items():
        yield dg.MaterializeResult(
            asset_key=["reports", table],
            metadata={
                "dagster/row_count": frame.height,
                "preview": dg.MetadataValue.md(f"```\n{frame}\n```"),
            },
        )
    yield dg.MaterializeResult(
        asset_key=["reports", "progress_report"],
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(path.resolve().as_uri()),
            "districts": tables.progress.height,
            "not_yet_available": dg.MetadataValue.md(
                "\n".join(f"- {k}: {v}" for k, v in tables.unavailable.items()) or "none"
            ),
            "total_cost_vnd": int(tables.costs["total_vnd"].sum()) if tables.costs is not None else 0,
        },
    )


_EXPORT_SPECS = _specs(
    ["exports"],
    [
        "export_identifications",
        "export_donor_profiles",
        "export_empop_references",
        *sql_files("reports", "export_national_*.sql"),
    ],
    {
        "exports": f"CSV/JSON exports for the national identity database and families' notification "
        f"(<out_dir>/{EXPORT_DIR}/identifications.*, donor_profiles.*), linked by citizen-id hash; the "
        f"province's consenting reference profiles in EMPOP's EMP format (empop_references*.emp)."
    },
)


@dg.multi_asset(specs=_EXPORT_SPECS, retry_policy=IO_RETRY_POLICY)
def exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource):
    """Write the identification and donor-profile exports, each file atomically."""
    folder = settings.run_out(context.run_id) / EXPORT_DIR
    with warehouse.connect(read_only=True) as con:
        result = write_exports(folder, partial(run_report_sql, con), province_in_warehouse(con))
    for name, reason in result.waiting.items():
        context.log.info(f"export {name} not written: {reason}")
    if not result.written:
        return
    yield dg.MaterializeResult(
        asset_key=["reports", "exports"],
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            **{f"{k}_records": v for k, v in result.written.items()},
            "stale_temporaries_removed": result.stale_temporaries_removed,
        },
    )


def _optional(con: duckdb.DuckDBPyConnection, sql: str, tables: set[str]) -> pl.DataFrame | None:
    """The query's result, or None when a table it reads does not exist (that stage did not run)."""
    return con.execute(sql).pl() if referenced_tables(sql) <= tables else None


@dg.asset(
    key=["reports", "site_pages"],
    group_name=GROUP,
    deps=[
        dg.AssetKey(["reports", "progress_report"]),
        dg.AssetKey(["marts", "identifications"]),
        dg.AssetKey(["marts", "sampling_worklist"]),
        dg.AssetKey(["ops", "search_map_files"]),
        dg.AssetKey(["marts", "next_actions"]),
        dg.AssetKey(["marts", "national_candidates"]),
    ],
    description="The landing page <out_dir>/index.html (the province at a glance: progress against "
    "targets, identifications by status, costs, links to every district, commune, worklist, map and "
    "evidence page), one page per district (huyen/) and the province coverage map (maps/tinh.html).",
    retry_policy=IO_RETRY_POLICY,
)
def site_pages(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        tables = existing_tables(con)
        province = province_in_warehouse(con)
        read = {name: _optional(con, sql, tables) for name, sql in sql_files("site").items()}
    site, path = write_site(settings.run_out(context.run_id), read, Footer(province, context.run_id))
    return dg.MaterializeResult(
        metadata={
            "landing_page": dg.MetadataValue.path(str(path.resolve())),
            "url": dg.MetadataValue.url(path.resolve().as_uri()),
            "districts": len(site.districts),
            "evidence_pages": sum(1 for r in site.identifications if r["page"]),
        }
    )


report_assets = [progress_report, exports, site_pages]
