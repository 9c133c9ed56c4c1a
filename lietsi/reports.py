"""The provincial progress and cost report: per-district figures merged, and a one-page HTML page.

Charts are inline SVG written here (no JavaScript, no CDN): the report is opened offline on the
province's machines and printed; a bar chart needs nothing more.
"""

from __future__ import annotations

import html
from datetime import datetime

import polars as pl

UNKNOWN_DISTRICT = "(không rõ huyện — district unknown)"

# Column → Vietnamese label (English gloss), in the order of the campaign's funnel.
PROGRESS_COLUMNS: dict[str, str] = {
    "relatives_surveyed": "Thân nhân đã khảo sát (relatives surveyed)",
    "donors_consenting": "Đồng ý cho mẫu (donors consenting)",
    "samples_taken": "Mẫu đã thu (samples taken)",
    "results_back": "Đã có kết quả (results back)",
    "identifications_proposed": "Đề xuất xác định (identifications proposed)",
    "identifications_needs_review": "Cần xem xét (needs review)",
    "identifications_confirmed": "Đã xác nhận (confirmed)",
}
FUNNEL = ("relatives_surveyed", "donors_consenting", "samples_taken", "results_back")
_COLOURS = ("#1f6f8b", "#3c9d9b", "#e2a03f", "#c8553d", "#6a4c93", "#8d99ae", "#2a9d8f")


def merge_progress(metrics: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per district with every available metric (0 where a district has none of it).

    `metrics` maps a metric file's name to its frame: a `district` column and one or more count
    columns. A metric whose tables do not exist yet is simply absent; its column is then missing.
    """
    merged: pl.DataFrame | None = None
    for frame in metrics.values():
        frame = frame.with_columns(pl.col("district").fill_null(UNKNOWN_DISTRICT).cast(pl.Utf8))
        frame = frame.group_by("district").agg(pl.exclude("district").sum())
        merged = frame if merged is None else merged.join(frame, on="district", how="full", coalesce=True)
    if merged is None:
        return pl.DataFrame(schema={"district": pl.Utf8})
    counts = [c for c in PROGRESS_COLUMNS if c in merged.columns]
    return (
        merged.select("district", *counts)
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .sort(pl.col("district") == UNKNOWN_DISTRICT, "district")
    )


def format_vnd(amount: float) -> str:
    """`12.345.000 đ`: Vietnamese thousands separator."""
    return f"{round(amount):,}".replace(",", ".") + " đ"


def _bar_chart(rows: list[tuple[str, list[float]]], series: list[str], width: int = 860) -> str:
    """Horizontal grouped bars (one group per row label, one bar per series, value labels), legend above."""
    label_w, bar_h, gap = 230, 9, 8
    peak = max((v for _, values in rows for v in values), default=0) or 1
    group_h = bar_h * len(series) + gap
    height = group_h * len(rows) + 10
    scale = (width - label_w - 80) / peak
    colours = [_COLOURS[i % len(_COLOURS)] for i in range(len(series))]
    legend = "".join(
        f'<span class="key"><i style="background:{c}"></i>{html.escape(n)}</span>'
        for c, n in zip(colours, series, strict=True)
    )
    parts = [
        f'<div class="legend">{legend}</div>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="10">',
    ]
    for r, (label, values) in enumerate(rows):
        top = 4 + r * group_h
        parts.append(
            f'<text x="{label_w - 6}" y="{top + bar_h * len(series) / 2 + 4}" text-anchor="end">'
            f"{html.escape(label)}</text>"
        )
        for i, value in enumerate(values):
            y = top + i * bar_h
            w = max(value * scale, 0)
            colour = _COLOURS[i % len(_COLOURS)]
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{colour}"><title>{html.escape(series[i])}: {value:g}</title></rect>'
            )
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}">{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(frame: pl.DataFrame, labels: dict[str, str], money: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(labels.get(c, c))}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for column, value in row.items():
            if column in money and value is not None:
                text, cls = format_vnd(value), "num"
            elif isinstance(value, int | float):
                text, cls = f"{value:,g}".replace(",", "."), "num"
            else:
                text, cls = "" if value is None else str(value), ""
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _unavailable(what: str, reason: str) -> str:
    return (
        f'<p class="na">{html.escape(what)}: chưa có số liệu (not yet available — {html.escape(reason)}).</p>'
    )


_CSS = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:900px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:22px 0 6px;border-bottom:1px solid #ccc}
.meta{color:#555;font-size:12px} table{border-collapse:collapse;font-size:12px;margin:6px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left} td.num{text-align:right}
.na{color:#a33;font-style:italic} .kpi{display:inline-block;margin:4px 18px 4px 0}
.kpi b{display:block;font-size:18px} @media print{body{margin:8mm}}
.legend{font-size:11px;margin:6px 0} .key{margin-right:14px;white-space:nowrap}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


def render_report(
    province: str,
    progress: pl.DataFrame,
    costs: pl.DataFrame | None,
    totals: dict[str, int] | None,
    unavailable: dict[str, str],
    generated_at: datetime,
) -> str:
    """The one-page HTML report: headline figures, per-district table and chart, costs table and chart.

    `unavailable` maps a section or metric to why it is missing (its tables do not exist yet); each
    shows as "not yet available" rather than as zeros.
    """
    parts = [
        "<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'>",
        f"<title>Báo cáo tiến độ — {html.escape(province)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Báo cáo tiến độ xác định danh tính hài cốt liệt sĩ — {html.escape(province)}</h1>",
        "<p class='meta'>Provincial progress report: identification of martyrs' remains by DNA. "
        f"Lập lúc (generated) {generated_at:%Y-%m-%d %H:%M}.</p>",
        "<h2>Toàn tỉnh (province totals)</h2>",
    ]
    if totals:
        kpis = {
            "remains_registered": "Hài cốt đăng ký (remains registered)",
            "remains_samples": "Mẫu hài cốt (remains samples)",
            "relative_samples": "Mẫu thân nhân (relatives' samples)",
            "results_back": "Kết quả ADN (results back)",
            "results_failed": "Kết quả không đạt (failed results)",
        }
        parts.append(
            "".join(
                f"<div class='kpi' id='kpi-{k}'><b>{totals.get(k, 0):,}</b>{html.escape(v)}</div>".replace(
                    ",", "."
                )
                for k, v in kpis.items()
            )
        )
    else:
        parts.append(_unavailable("Toàn tỉnh", unavailable.get("province_totals", "no raw tables")))
    parts.append("<h2 id='progress'>Tiến độ theo huyện (progress by district)</h2>")
    for metric, reason in unavailable.items():
        if metric.startswith("progress_"):
            parts.append(_unavailable(metric.removeprefix("progress_").replace("_", " "), reason))
    counts = [c for c in PROGRESS_COLUMNS if c in progress.columns]
    if progress.height and counts:
        parts.append(_table(progress, {"district": "Huyện (district)", **PROGRESS_COLUMNS}))
        series = [c for c in FUNNEL if c in counts]
        if series:
            rows = [(r["district"], [float(r[c]) for c in series]) for r in progress.iter_rows(named=True)]
            parts.append(
                "<div id='progress-chart'>"
                + _bar_chart(rows, [PROGRESS_COLUMNS[c] for c in series])
                + "</div>"
            )
    elif not any(m.startswith("progress_") for m in unavailable):
        parts.append("<p>Chưa có thân nhân nào được khảo sát (no relative surveyed yet).</p>")
    parts.append("<h2 id='costs'>Kinh phí (campaign costs)</h2>")
    if costs is not None and costs.height:
        total = int(costs["total_vnd"].sum())
        labels = {
            "item": "Nội dung (item)",
            "unit": "Đơn vị (unit)",
            "quantity": "Số lượng (quantity)",
            "unit_cost_vnd": "Đơn giá (unit cost)",
            "total_vnd": "Thành tiền (amount)",
        }
        parts.append(_table(costs.drop("line"), labels, money=("unit_cost_vnd", "total_vnd")))
        parts.append(f"<p id='cost-total'><b>Tổng cộng (total): {format_vnd(total)}</b></p>")
        rows = [(r["item"].split(" (")[0][:34], [r["total_vnd"] / 1e6]) for r in costs.iter_rows(named=True)]
        parts.append("<div id='cost-chart'>" + _bar_chart(rows, ["triệu đồng (million đ)"]) + "</div>")
    else:
        parts.append(_unavailable("Kinh phí", unavailable.get("campaign_costs", "no survey data")))
    parts.append("</body></html>")
    return "\n".join(parts)
