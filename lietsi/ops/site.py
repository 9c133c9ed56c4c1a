"""The province's pages at a glance: `index.html` (the landing page), one page per district under
`huyen/`, and the province map `maps/tinh.html` with districts coloured by household coverage.

Everything here links to pages the other stages wrote; a link is made only to a file that exists,
and only from safe names (`lietsi.ops.pages.safe_name`), so the landing page never points at a page
of yesterday's run or at a URL taken from the inbox.
"""

from __future__ import annotations

import html
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import folium
import polars as pl

from lietsi.names import sort_key
from lietsi.ops import charts, formats, maps
from lietsi.ops.match_report import STATUS_VI
from lietsi.ops.next_action_pages import district_page_path
from lietsi.ops.pages import Footer, contained, link, render, safe_name, write_page
from lietsi.ops.reports import PROGRESS_COLUMNS, TARGETS, with_rates
from lietsi.places import district_centroid

PROVINCE_MAP = "maps/tinh.html"
REPORT_PAGE = "bao_cao_tien_do.html"
DICTIONARY_PAGE = "analyst/tu_dien_du_lieu.html"
NEXT_ACTIONS_PAGE = "next_actions/index.html"
NATIONAL_PAGE = "quoc_gia/index.html"


@dataclass
class District:
    """One district's links and figures, gathered from the tables of the run."""

    code: str
    name: str
    figures: dict = field(default_factory=dict)
    communes: dict[str, dict] = field(default_factory=dict)
    overview: str | None = None
    identifications: list[dict] = field(default_factory=list)
    next_actions: str | None = None

    @property
    def page(self) -> str:
        return f"huyen/{safe_name(self.code)}.html"

    def commune(self, key: str, code: str | None, name: str | None) -> dict:
        return self.communes.setdefault(
            key, {"code": code, "name": name or "(chưa rõ xã)", "worklist": None, "map": None}
        )

    def sorted_communes(self) -> list[dict]:
        return sorted(self.communes.values(), key=lambda c: (sort_key(c["name"]), c["code"] or ""))


@dataclass
class Site:
    """What the landing page shows: districts, pages outside any district, headline figures."""

    districts: dict[str, District]
    other_worklists: list[dict]
    identifications: list[dict]
    status_counts: list[tuple[str, int]]
    progress: pl.DataFrame
    totals: dict | None
    costs: pl.DataFrame | None


def gather(
    out: Path,
    progress: pl.DataFrame | None,
    totals: dict | None,
    costs: pl.DataFrame | None,
    identifications: pl.DataFrame | None,
    worklist: pl.DataFrame | None,
    map_files: pl.DataFrame | None,
) -> Site:
    """Collect the links of every page that exists in `out`, by district code.

    `identifications`: remains_id, martyr_id, full_name, status, posterior, district_code, district;
    `worklist`: unit_key, commune_code, commune, district_code, district, rows;
    `map_files`: `ops.search_map_files`.
    """
    progress = with_rates(progress) if progress is not None else pl.DataFrame()
    districts: dict[str, District] = {}

    def district(code: str | None, name: str | None) -> District | None:
        if not code:
            return None
        found = districts.setdefault(code, District(code, name or code))
        if name and found.name == code:
            found.name = name
        return found

    for row in progress.iter_rows(named=True) if progress.height else []:
        d = district(row["district_code"], row["district"])
        if d:
            d.figures = row
    other_worklists = []
    for row in worklist.iter_rows(named=True) if worklist is not None else []:
        page = f"worklists/{safe_name(row['unit_key'])}.html"
        if not (out / page).is_file():
            continue
        d = district(row["district_code"], row["district"])
        if d is None:
            other_worklists.append({"name": row["commune"], "worklist": page, "rows": row["rows"]})
            continue
        entry = d.commune(row["unit_key"], row["commune_code"], row["commune"])
        entry["worklist"], entry["rows"] = page, row["rows"]
    for row in map_files.iter_rows(named=True) if map_files is not None else []:
        if not row["path"].endswith(".html") or not (out / row["path"]).is_file():
            continue
        d = district(row["district_code"], row["district"])
        if d is None:
            continue
        if row["kind"] == "district_overview":
            d.overview = row["path"]
        elif row["kind"] == "commune_map":
            key = row["commune_code"] or f"?{row['commune']}"
            d.commune(key, row["commune_code"], row["commune"])["map"] = row["path"]
    ids = []
    for row in identifications.iter_rows(named=True) if identifications is not None else []:
        page = f"identifications/{safe_name(row['remains_id'])}.html"
        entry = {**row, "page": page if (out / page).is_file() else None}
        ids.append(entry)
        d = district(row["district_code"], row["district"])
        if d:
            d.identifications.append(entry)
    for d in districts.values():
        if (out / district_page_path(d.code)).is_file():
            d.next_actions = district_page_path(d.code)
    status = Counter(r["status"] for r in ids)
    return Site(
        districts=dict(sorted(districts.items(), key=lambda kv: (sort_key(kv[1].name), kv[0]))),
        other_worklists=other_worklists,
        identifications=sorted(ids, key=lambda r: (r["status"] != "proposed", -(r["posterior"] or 0))),
        status_counts=[(STATUS_VI.get(s, s), n) for s, n in sorted(status.items())],
        progress=progress,
        totals=totals,
        costs=costs,
    )


def _rates(progress: pl.DataFrame) -> list[str]:
    return [k for k in TARGETS if k in progress.columns]


def landing_page(site: Site, footer: Footer, out: Path) -> str:
    rates = _rates(site.progress)
    coded = site.progress.filter(pl.col("district_code").is_not_null()) if site.progress.height else None
    chart = (
        charts.progress_against_targets(
            [(r["district"], {k: r[k] for k in rates}) for r in coded.iter_rows(named=True)],
            {k: (TARGETS[k][0], TARGETS[k][3]) for k in rates},
        )
        if coded is not None and coded.height and rates
        else None
    )
    sums = {c: int(site.progress[c].sum()) for c in PROGRESS_COLUMNS if c in site.progress.columns}
    province_rates = {
        key: (label, sums[num] / sums[den] if sums.get(den) else None, target)
        for key, (label, num, den, target) in TARGETS.items()
        if num in sums and den in sums
    }
    links = {
        "report": REPORT_PAGE if (out / REPORT_PAGE).is_file() else None,
        "identifications": "identifications/index.html"
        if (out / "identifications/index.html").is_file()
        else None,
        "worklists": "worklists/index.html" if (out / "worklists/index.html").is_file() else None,
        "province_map": PROVINCE_MAP if (out / PROVINCE_MAP).is_file() else None,
        "next_actions": NEXT_ACTIONS_PAGE if (out / NEXT_ACTIONS_PAGE).is_file() else None,
        "national": NATIONAL_PAGE if (out / NATIONAL_PAGE).is_file() else None,
        # Written by the analyst stage, which may run after this page in the same run.
        "dictionary": DICTIONARY_PAGE,
    }
    return render(
        "landing.html",
        footer,
        "",
        site=site,
        districts=list(site.districts.values()),
        links=links,
        sums=sums,
        labels=PROGRESS_COLUMNS,
        province_rates=province_rates,
        chart=chart,
        cost_total=int(site.costs["total_vnd"].sum())
        if site.costs is not None and site.costs.height
        else None,
        statuses=STATUS_VI,
    )


def district_page(d: District, footer: Footer) -> str:
    rates = [k for k in TARGETS if k in d.figures]
    return render(
        "district.html",
        footer,
        "../",
        district=d,
        communes=d.sorted_communes(),
        columns=[c for c in PROGRESS_COLUMNS if c in d.figures],
        labels=PROGRESS_COLUMNS,
        rates=rates,
        targets=TARGETS,
        statuses=STATUS_VI,
    )


def province_map(site: Site, footer: Footer, *, tiles: str | None = None) -> folium.Map:
    """Districts as circles at their reference point, coloured by household coverage, each linking
    to its district page."""
    placed = [(d, district_centroid(d.code)) for d in site.districts.values()]
    placed = [(d, p) for d, p in placed if p is not None]
    points = [p for _, p in placed]
    centre = (
        (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)) if points else None
    )
    fmap = maps.offline_map(centre or (16.0, 106.0), zoom_start=9, tiles=tiles)
    for d, (lat, lon) in placed:
        coverage = d.figures.get("household_coverage")
        households = d.figures.get("households")
        popup = (
            f"<b>Huyện {html.escape(d.name)}</b><br>Độ phủ hộ gia đình (coverage): "
            f"{formats.percent(coverage)}<br>Số hộ: {formats.number(households)}<br>"
            f"<a href='{html.escape(link('../' + d.page))}'>Trang huyện (district page)</a>"
        )
        folium.CircleMarker(
            location=[lat, lon],
            radius=14,
            color=maps.coverage_colour(coverage),
            fill=True,
            fill_color=maps.coverage_colour(coverage),
            fill_opacity=0.7 if coverage is not None else 0.2,
        ).add_child(
            maps.TextTooltip(f"{d.name}: {formats.percent(coverage)}", permanent=True, direction="right")
        ).add_child(maps.HtmlPopup(popup)).add_to(fmap)
    if len(points) > 1:
        fmap.fit_bounds(
            [
                [min(p[0] for p in points), min(p[1] for p in points)],
                [max(p[0] for p in points), max(p[1] for p in points)],
            ],
            padding=(40, 40),
        )
    items = [(colour, label) for _, colour, label in maps.COVERAGE_BANDS]
    fmap.get_root().html.add_child(
        maps.legend(f"{footer.province or 'Tỉnh'}: độ phủ hộ gia đình theo huyện (household coverage)", items)
    )
    maps.add_page_chrome(fmap, footer, "../", [(f"../{d.page}", d.name) for d, _ in placed])
    return fmap


def write_site(out: Path, read: dict[str, pl.DataFrame | None], footer: Footer) -> tuple[Site, Path]:
    """(the site, the landing page's path): the district pages, the province map and the landing page
    written into `out` from the tables of `sql/site/` (`read`: query name → result, None when a table
    it reads does not exist)."""
    totals = read["province_totals"]
    site = gather(
        out,
        read["district_progress"],
        totals.row(0, named=True) if totals is not None and totals.height else None,
        read["campaign_costs"],
        read["identifications"],
        read["worklists"],
        read["map_files"],
    )
    shutil.rmtree(out / "huyen", ignore_errors=True)
    for district in site.districts.values():
        write_page(out, district.page, district_page(district, footer))
    if site.districts:
        maps.save_map(province_map(site, footer), contained(out, out / PROVINCE_MAP))
    return site, write_page(out, "index.html", landing_page(site, footer, out))


def write_data_dictionary(
    out: Path, footer: Footer, views: list[tuple[str, dict]], unavailable: set[str]
) -> Path:
    """The analysts' data dictionary page (`DICTIONARY_PAGE`): every view and column described,
    the views not available in this run marked."""
    page = render("data_dictionary.html", footer, "../", views=views, unavailable=unavailable)
    return write_page(out, DICTIONARY_PAGE, page)
