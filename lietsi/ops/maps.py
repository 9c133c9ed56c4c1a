"""Offline interactive maps: folium figures with Leaflet inlined, commune site maps, GeoJSON.

folium writes `<script src=…cdn…>` links for Leaflet, jQuery, Bootstrap and Font Awesome. District
offices often open these files on machines without internet, where such a page shows nothing. The
maps here load no script or stylesheet from the network: Leaflet 1.9.4's JS and CSS come from the
`django-js-lib-leaflet` package data (an unmodified release build, BSD-2, no dependencies) and are
written into the page; markers are Leaflet circle markers, which need neither images nor the
Bootstrap/Font Awesome plugins. Background tiles are optional and the only network requests: with
no connection the markers, popups and legend still work on a blank background.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import folium
import polars as pl
from branca.element import MacroElement
from jinja2 import Template
from unidecode import unidecode

from lietsi.ops import formats
from lietsi.ops.pages import Footer, link, render

STATUS_COLOURS = {
    "reported": "#e67e22",
    "verified": "#2e86de",
    "excavated": "#27ae60",
    "no remains found": "#7f8c8d",
}
STATUS_LABELS_VI = {
    "reported": "Đã báo cáo",
    "verified": "Đã xác minh",
    "excavated": "Đã khai quật",
    "no remains found": "Không tìm thấy hài cốt",
}
COVERAGE_BANDS = ((0.95, "#27ae60", "≥ 95%"), (0.80, "#f39c12", "80–95%"), (0.0, "#c0392b", "< 80%"))

_LEAFLET_PACKAGE = "js_lib_leaflet"


@cache
def leaflet_assets() -> tuple[str, str]:
    """(JS, CSS) of the packaged Leaflet release."""
    folder = resources.files(_LEAFLET_PACKAGE) / "static" / "js_lib_leaflet"
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")
    if "Leaflet 1." not in js[:300]:
        raise RuntimeError(f"{_LEAFLET_PACKAGE} does not hold a Leaflet 1.x build")
    return js, css


class HtmlPopup(MacroElement):
    """A popup bound to its parent layer from an HTML string.

    folium.Popup builds its content with jQuery (`$(…)`), which the offline page does not load;
    Leaflet's own bindPopup takes HTML text directly.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup(
                {{ this.html|tojson }}, {"maxWidth": {{ this.max_width }}}
            );
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, max_width: int = 360) -> None:
        super().__init__()
        self._name = "HtmlPopup"
        self.html = html_text
        self.max_width = int(max_width)


class TextTooltip(MacroElement):
    """A tooltip bound to its parent layer, its text escaped as HTML and passed as a JSON string.

    folium.Tooltip writes its text raw inside a JavaScript template literal, where a commune named
    `${…}` or `<img onerror=…>` would run; here the text is only ever text.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip(
                {{ this.text|tojson }}, {{ this.options|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, text: str, *, permanent: bool = False, direction: str = "auto") -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.text = html.escape(text)
        self.options = {"permanent": permanent, "direction": direction, "sticky": not permanent}


def offline_map(
    location: tuple[float, float], *, zoom_start: int = 13, tiles: str | None = None
) -> folium.Map:
    """A folium map whose page needs no network: Leaflet inlined, no CDN links.

    `tiles` is a folium tile name or URL template for online viewers, or None for none.
    """
    fmap = folium.Map(location=list(location), zoom_start=zoom_start, tiles=None, control_scale=True)
    # Instance attributes shadow folium's class-level CDN lists, which render() turns into links.
    fmap.default_js = []
    fmap.default_css = []
    js, css = leaflet_assets()
    # The source map is not shipped inline; the comment would only make dev tools look for it.
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    header = fmap.get_root().header
    # "</script" inside an inline script would end it early; Leaflet has none, but stay safe.
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(
        folium.Element("<script>" + js.replace("</script", "<\\/script") + "</script>"),
        name="leaflet_js_inline",
    )
    if tiles:
        folium.TileLayer(tiles).add_to(fmap)
    return fmap


def external_resources(page: str) -> list[str]:
    """Script and stylesheet URLs a page would fetch (empty for an offline map)."""
    return re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"']?(https?://[^\"' >]+)", page)


def slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", unidecode(text or "unknown").lower()).strip("-") or "unknown"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def site_popup(site: dict, reports: list[dict], leads: list[dict]) -> str:
    """HTML popup: the site, its reports (form number, type, place, description), linked martyrs."""
    status = site.get("status") or "reported"
    lines = [
        f"<b>Điểm {_e(site['site_id'])}</b><br>",
        f"Thôn: {_e(site.get('village'))} · Trạng thái: {_e(STATUS_LABELS_VI.get(status, status))}"
        f" ({_e(status)})<br>",
        f"Số phiếu báo (reports): {_e(site.get('report_count'))}",
        "<ul class='reports'>",
    ]
    for r in reports:
        parts = [p for p in (r.get("info_type"), r.get("martyr_name"), r.get("place")) if p]
        desc = r.get("description") or ""
        if len(desc) > 160:
            desc = desc[:157] + "…"
        lines.append(
            f"<li>Phiếu {_e(r.get('form_number'))}: {_e(' · '.join(parts))}"
            + (f"<br><i>{_e(desc)}</i>" if desc else "")
            + "</li>"
        )
    lines.append("</ul>")
    if leads:
        lines.append("<b>Liệt sĩ liên quan (linked martyrs)</b><ul class='martyrs'>")
        for m in leads:
            lines.append(
                f"<li>{_e(m.get('martyr_name'))} ({_e(m.get('martyr_id'))}) — {_e(m.get('confidence'))}"
                + (", chưa có thông tin mộ" if m.get("without_grave") else "")
                + "</li>"
            )
        lines.append("</ul>")
    return "".join(lines)


def legend(title: str, items: Iterable[tuple[str, str]], extra: str = "") -> folium.Element:
    rows = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{colour};margin-right:6px'></span>{_e(label)}</div>"
        for colour, label in items
    )
    return folium.Element(
        "<div id='legend' style='position:fixed;bottom:24px;right:10px;z-index:1000;background:white;"
        "padding:8px 10px;border:1px solid #999;border-radius:4px;font:13px sans-serif;max-width:320px;"
        f"max-height:45%;overflow:auto'><b>{_e(title)}</b>{rows}{extra}</div>"
    )


def _centre(points: list[tuple[float, float]], fallback: tuple[float, float] | None) -> tuple[float, float]:
    if points:
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    return fallback or (16.0, 106.0)


def commune_map(
    commune: str,
    sites: pl.DataFrame,
    site_reports: pl.DataFrame,
    leads: pl.DataFrame,
    *,
    centre: tuple[float, float] | None = None,
    tiles: str | None = None,
) -> folium.Map:
    """One commune's sites as circle markers coloured by status; unlocated sites listed in the legend."""
    reports_by_site: dict[str, list[dict]] = {}
    for r in site_reports.iter_rows(named=True):
        reports_by_site.setdefault(r["site_id"], []).append(r)
    leads_by_site: dict[str, list[dict]] = {}
    for m in leads.iter_rows(named=True):
        leads_by_site.setdefault(m["site_id"], []).append(m)
    rows = list(sites.iter_rows(named=True))
    located = [r for r in rows if r["lat"] is not None and r["lon"] is not None]
    fmap = offline_map(_centre([(r["lat"], r["lon"]) for r in located], centre), zoom_start=14, tiles=tiles)
    for site in located:
        colour = STATUS_COLOURS.get(site["status"], STATUS_COLOURS["reported"])
        folium.CircleMarker(
            location=[site["lat"], site["lon"]],
            radius=6 + min(site["report_count"], 10),
            color=colour,
            fill=True,
            fill_color=colour,
            fill_opacity=0.7,
        ).add_child(TextTooltip(f"{site['site_id']} · {site['report_count']} phiếu")).add_child(
            HtmlPopup(
                site_popup(
                    site, reports_by_site.get(site["site_id"], []), leads_by_site.get(site["site_id"], [])
                )
            )
        ).add_to(fmap)
    if located:
        fmap.fit_bounds(
            [
                [min(r["lat"] for r in located), min(r["lon"] for r in located)],
                [max(r["lat"] for r in located), max(r["lon"] for r in located)],
            ],
            padding=(30, 30),
            max_zoom=16,
        )
    unlocated = [r for r in rows if r["lat"] is None or r["lon"] is None]
    extra = ""
    if unlocated:
        items = "".join(
            f"<li>{_e(r['site_id'])} — {_e(r.get('village'))}: {_e(r.get('place') or r.get('martyr_names'))}"
            f" ({r['report_count']} phiếu)</li>"
            for r in unlocated
        )
        extra = f"<div><b>Chưa có toạ độ (no coordinates): {len(unlocated)}</b><ul>{items}</ul></div>"
    title = f"Xã {commune}: {len(rows)} điểm"
    keys = [(STATUS_COLOURS[s], f"{STATUS_LABELS_VI[s]} ({s})") for s in STATUS_COLOURS]
    fmap.get_root().html.add_child(legend(title, keys, extra))
    return fmap


def sites_geojson(sites: pl.DataFrame, site_reports: pl.DataFrame, leads: pl.DataFrame) -> dict:
    """GeoJSON FeatureCollection of located sites (RFC 7946: [lon, lat]) with their reports and links."""
    forms: dict[str, list[str]] = {}
    for r in site_reports.iter_rows(named=True):
        forms.setdefault(r["site_id"], []).append(r["form_number"])
    linked: dict[str, list[str]] = {}
    for m in leads.iter_rows(named=True):
        linked.setdefault(m["site_id"], []).append(m["martyr_id"])
    features = []
    for s in sites.iter_rows(named=True):
        if s["lat"] is None or s["lon"] is None:
            continue
        props = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in s.items()
            if k not in ("lat", "lon")
        }
        props["form_numbers"] = forms.get(s["site_id"], [])
        props["martyr_ids"] = linked.get(s["site_id"], [])
        features.append(
            {
                "type": "Feature",
                "id": s["site_id"],
                "geometry": {"type": "Point", "coordinates": [round(s["lon"], 7), round(s["lat"], 7)]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


@cache
def coverage_colour(coverage: float | None) -> str:
    for threshold, colour, _ in COVERAGE_BANDS:
        if coverage is not None and coverage >= threshold:
            return colour
    return COVERAGE_BANDS[-1][1]


def district_overview(
    district: str,
    communes: pl.DataFrame,
    centroids: dict[str, tuple[float, float]],
    *,
    tiles: str | None = None,
) -> folium.Map:
    """Coverage by commune as marked centroids (no boundaries are available), sized by households."""
    rows = list(communes.iter_rows(named=True))
    placed = [r for r in rows if r["commune"] in centroids]
    fmap = offline_map(_centre([centroids[r["commune"]] for r in placed], None), zoom_start=11, tiles=tiles)
    for r in placed:
        lat, lon = centroids[r["commune"]]
        colour = coverage_colour(r["coverage"])
        pct = formats.percent(r["coverage"])
        popup = (
            f"<b>Xã {_e(r['commune'])}</b><br>Độ phủ (coverage): {pct}<br>"
            f"Số hộ: {formats.number(r['households'])} · Phiếu phát: {formats.number(r['forms_out'])}"
            f" · Phiếu thu: {formats.number(r['forms_back'])}<br>"
            f"Thôn đã họp kết luận: {formats.number(r['villages_concluded'])}/"
            f"{formats.number(r['villages'])}<br>"
            f"Phiếu có thông tin: {formats.number(r['forms_with_info'])}"
            + (
                f"<br><b>Chậm tiến độ (behind schedule)</b>: {_e(r['behind_reason'])}"
                if r["behind_schedule"]
                else ""
            )
        )
        folium.CircleMarker(
            location=[lat, lon],
            radius=8 + min(12, (r["households"] or 0) ** 0.5 / 4),
            color="#000" if r["behind_schedule"] else colour,
            weight=3 if r["behind_schedule"] else 1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.75,
        ).add_child(TextTooltip(f"{r['commune']}: {pct}", permanent=True, direction="right")).add_child(
            HtmlPopup(popup, max_width=320)
        ).add_to(fmap)
    if placed:
        pts = [centroids[r["commune"]] for r in placed]
        fmap.fit_bounds(
            [
                [min(p[0] for p in pts), min(p[1] for p in pts)],
                [max(p[0] for p in pts), max(p[1] for p in pts)],
            ],
            padding=(40, 40),
        )
    missing = [r["commune"] for r in rows if r["commune"] not in centroids]
    extra = (
        f"<div>Không định vị được (not placed): {_e(', '.join(m or '?' for m in missing))}</div>"
        if missing
        else ""
    )
    items = [(colour, label) for _, colour, label in COVERAGE_BANDS]
    items.append(("#000", "viền đen: chậm tiến độ (black ring: behind schedule)"))
    fmap.get_root().html.add_child(legend(f"Huyện {district}: độ phủ theo xã", items, extra))
    # Permanent commune labels: small, so that neighbouring communes stay readable.
    fmap.get_root().header.add_child(
        folium.Element("<style>.leaflet-tooltip{font-size:11px;padding:1px 4px}</style>"), name="label_css"
    )
    return fmap


def add_page_chrome(
    fmap: folium.Map, footer: Footer, root: str, links: Iterable[tuple[str, str]] = ()
) -> None:
    """The shared page frame on a map: a bar linking home (and `links`: (href, label)), the footer."""
    bar = [f'<a href="{_e(link(root + "index.html"))}">Trang chủ (home)</a>']
    bar += [f'<a href="{_e(link(href))}">{_e(label)}</a>' for href, label in links]
    fmap.get_root().html.add_child(
        folium.Element(
            "<div id='page-nav' style='position:fixed;top:8px;left:54px;z-index:1000;background:#7a1f1f;"
            "padding:4px 10px;border-radius:4px;font:13px sans-serif'>"
            + " · ".join(b.replace("<a ", "<a style='color:#fff' ") for b in bar)
            + "</div><div style='position:fixed;bottom:0;left:0;z-index:1000;background:#ffffffdd;"
            "font:11px sans-serif'>" + render("footer.html", footer) + "</div>"
        ),
        name="page_chrome",
    )


def save_map(fmap: folium.Map, path: Path) -> Path:
    """Write the map page; refuses to write one that would fetch scripts or styles from the network."""
    page = fmap.get_root().render()
    remote = external_resources(page)
    if remote:
        raise ValueError(f"map page would load remote resources: {remote}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def save_geojson(collection: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return path
