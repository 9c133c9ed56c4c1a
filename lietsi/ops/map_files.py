"""The search map's files: an offline HTML map and a GeoJSON per commune, a coverage overview per
district and every located site in one GeoJSON, under `<run folder>/maps/`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lietsi.ops import maps
from lietsi.ops.pages import Footer, contained, safe_name
from lietsi.places import UNIT_COLUMNS, admin_units, grouping_key, province_of, unit_label, unit_point
from lietsi.search_map.tables import provinces_named


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


def write_search_maps(
    out: Path,
    run_id: str,
    sites: pl.DataFrame,
    site_reports: pl.DataFrame,
    leads: pl.DataFrame,
    communes: pl.DataFrame,
    *,
    tiles: str | None,
) -> pl.DataFrame:
    """Write the maps into the run folder `out`; one row per file written (paths relative to `out`)."""
    root = out / "maps"
    files: list[dict] = []
    home = province_of(None, provinces_named(sites, communes))
    footer = Footer(home, run_id)
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
        fmap = maps.commune_map(label, group, reports, commune_leads, centre=centre, tiles=tiles)
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
        fmap = maps.district_overview(district, group, centroids, tiles=tiles)
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
    return frame
