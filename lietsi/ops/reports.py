"""The provincial progress and cost report: per-district figures merged by district code, rates
against the campaign's targets, and the one-page HTML report (`templates/report.html`).

Each metric comes with the district and province names its rows were recorded with; they are
resolved to district codes once (`lietsi.places.admin_unit`), so that An Giang's Châu Thành is not
counted in Kiên Giang's, and everything outside the province is one row, "ngoài tỉnh".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from lietsi.ops import charts
from lietsi.ops.pages import Footer, render, write_page
from lietsi.places import admin_unit
from lietsi.search_map.coverage import COVERAGE_TARGET

UNKNOWN_DISTRICT = "(không rõ huyện — district unknown)"
OUTSIDE_DISTRICT = "(ngoài tỉnh — outside the province)"
UNKNOWN_KEY, OUTSIDE_KEY = "~unknown", "~outside"

# Column → Vietnamese label (English gloss), in the order of the campaign's funnel.
PROGRESS_COLUMNS: dict[str, str] = {
    "households": "Số hộ (households)",
    "household_forms_back": "Phiếu hộ gia đình thu về (household forms back)",
    "relatives_surveyed": "Thân nhân đã khảo sát (relatives surveyed)",
    "donors_consenting": "Đồng ý cho mẫu (donors consenting)",
    "samples_taken": "Mẫu đã thu (samples taken)",
    "results_back": "Đã có kết quả (results back)",
    "identifications_proposed": "Đề xuất xác định (identifications proposed)",
    "identifications_needs_review": "Cần xem xét (needs review)",
    "identifications_confirmed": "Đã xác nhận (confirmed)",
}
# Rates shown against a target: (label, numerator, denominator, target share).
TARGETS: dict[str, tuple[str, str, str, float]] = {
    "household_coverage": (
        "Độ phủ hộ gia đình (household coverage)",
        "household_forms_back",
        "households",
        COVERAGE_TARGET,
    ),
    "sampled_share": (
        "Mẫu đã thu / người đồng ý (samples per consenting donor)",
        "samples_taken",
        "donors_consenting",
        1.0,
    ),
    "results_share": ("Mẫu đã có kết quả (samples with a result)", "results_back", "samples_taken", 1.0),
}
FUNNEL_LABELS = {
    "relatives_surveyed": "Đã khảo sát (surveyed)",
    "donors_consenting": "Đồng ý (consenting)",
    "samples_taken": "Đã lấy mẫu (sampled)",
    "results_back": "Có kết quả (result)",
    "matched": "Khớp hài cốt (matched)",
    "identifications_confirmed": "Đã xác nhận (confirmed)",
}


def _district_key(district: str | None, province: str | None, home: str | None) -> tuple[str, str, str]:
    """(key, district code, label) of a district written with its province, in `home`'s terms."""
    if not district and not province:
        return UNKNOWN_KEY, "", UNKNOWN_DISTRICT
    unit = admin_unit(None, district, province, home)
    if unit["in_province"] is False:
        return OUTSIDE_KEY, "", OUTSIDE_DISTRICT
    if unit["district_code"]:
        return str(unit["district_code"]), str(unit["district_code"]), str(unit["district_name"])
    return UNKNOWN_KEY, "", UNKNOWN_DISTRICT


def merge_progress(metrics: dict[str, pl.DataFrame], home: str | None = None) -> pl.DataFrame:
    """One row per district code with every available metric (0 where a district has none of it).

    `metrics` maps a metric file's name to its frame: `district`, optionally `province`, and count
    columns. Rows of another province make one `OUTSIDE_DISTRICT` row, rows without a place one
    `UNKNOWN_DISTRICT` row, both last. A metric whose tables do not exist yet is simply absent.
    """
    merged: pl.DataFrame | None = None
    labels: dict[str, tuple[str | None, str]] = {}
    for frame in metrics.values():
        if "province" not in frame.columns:
            frame = frame.with_columns(pl.lit(home, pl.String).alias("province"))
        keys = []
        for district, province in frame.select("district", "province").iter_rows():
            key, code, name = _district_key(district, province, home)
            labels[key] = (code or None, name)
            keys.append(key)
        frame = (
            frame.drop("district", "province")
            .with_columns(pl.Series("district_key", keys, pl.String))
            .group_by("district_key")
            .agg(pl.all().sum())
        )
        merged = frame if merged is None else merged.join(frame, on="district_key", how="full", coalesce=True)
    if merged is None:
        return pl.DataFrame(schema={"district_code": pl.Utf8, "district": pl.Utf8})
    counts = [c for c in PROGRESS_COLUMNS if c in merged.columns]
    return (
        merged.with_columns(
            pl.col(counts).fill_null(0).cast(pl.Int64),
            pl.col("district_key")
            .replace_strict({k: v[0] for k, v in labels.items()})
            .alias("district_code"),
            pl.col("district_key").replace_strict({k: v[1] for k, v in labels.items()}).alias("district"),
        )
        .sort(pl.col("district_key").str.starts_with("~"), "district_key")
        .select("district_code", "district", *counts)
    )


def with_rates(progress: pl.DataFrame) -> pl.DataFrame:
    """`progress` with each rate of `TARGETS` its columns allow (null where the denominator is 0)."""
    rates = [
        pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None).alias(key)
        for key, (_, num, den, _) in TARGETS.items()
        if num in progress.columns and den in progress.columns
    ]
    return progress.with_columns(rates) if rates else progress


def render_report(
    province: str,
    progress: pl.DataFrame,
    costs: pl.DataFrame | None,
    totals: dict[str, int] | None,
    unavailable: dict[str, str],
    generated_at: datetime,
    footer: Footer | None = None,
) -> str:
    """The one-page HTML report: headline figures, the funnel, per-district table and rates against
    the targets, costs table and chart.

    `unavailable` maps a section or metric to why it is missing (its tables do not exist yet); each
    shows as "not yet available" rather than as zeros.
    """
    footer = footer or Footer(province, None, generated_at)
    rated = with_rates(progress)
    counts = [c for c in PROGRESS_COLUMNS if c in progress.columns]
    rates = [k for k in TARGETS if k in rated.columns]
    in_province = rated.filter(pl.col("district_code").is_not_null()) if rated.height else rated
    sums = {c: int(progress[c].sum()) for c in counts}
    matched = sums.get("identifications_proposed", 0) + sums.get("identifications_needs_review", 0)
    funnel_values = {**sums, "matched": matched + sums.get("identifications_confirmed", 0)}
    funnel = [
        (label, funnel_values[key])
        for key, label in FUNNEL_LABELS.items()
        if key in funnel_values and (key != "matched" or "identifications_proposed" in sums)
    ]
    kpis = {
        "remains_registered": "Hài cốt đăng ký (remains registered)",
        "remains_samples": "Mẫu hài cốt (remains samples)",
        "relative_samples": "Mẫu thân nhân (relatives' samples)",
        "results_back": "Kết quả ADN (results back)",
        "results_failed": "Kết quả không đạt (failed results)",
    }
    return render(
        "report.html",
        footer,
        "",
        province=province,
        totals=totals,
        kpis=kpis,
        unavailable=unavailable,
        unavailable_progress={
            m.removeprefix("progress_").replace("_", " "): r
            for m, r in unavailable.items()
            if m.startswith("progress_")
        },
        columns=counts,
        labels=PROGRESS_COLUMNS,
        rates=rates,
        targets=TARGETS,
        rows=rated.to_dicts(),
        sums=sums,
        funnel_chart=charts.funnel(funnel) if funnel and funnel[0][1] else None,
        targets_chart=charts.progress_against_targets(
            [(r["district"], {k: r[k] for k in rates}) for r in in_province.iter_rows(named=True)],
            {k: (TARGETS[k][0], TARGETS[k][3]) for k in rates},
        )
        if rates and in_province.height
        else None,
        costs=costs.to_dicts() if costs is not None and costs.height else None,
        cost_total=int(costs["total_vnd"].sum()) if costs is not None and costs.height else None,
        cost_chart=charts.money_bars(
            [(r["item"].split(" (")[0], r["total_vnd"]) for r in costs.iter_rows(named=True)]
        )
        if costs is not None and costs.height
        else None,
    )


# A report query's result, or the reason it cannot run yet (the tables it needs that are missing).
QueryRunner = Callable[[str], pl.DataFrame | str]


@dataclass
class ProgressTables:
    """The report's tables (`stored`: table name → frame) and what is not yet available, and why."""

    province: str
    progress: pl.DataFrame
    totals: dict[str, int] | None = None
    costs: pl.DataFrame | None = None
    stored: dict[str, pl.DataFrame] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


def progress_tables(run: QueryRunner, metric_names: Iterable[str], province: str) -> ProgressTables:
    """Run every progress metric, the province totals and the costs; merge the metrics per district."""
    unavailable: dict[str, str] = {}
    metrics: dict[str, pl.DataFrame] = {}
    for name in metric_names:
        result = run(name)
        if isinstance(result, str):
            unavailable[name] = result
        else:
            metrics[name] = result
    tables = ProgressTables(province, merge_progress(metrics, province), unavailable=unavailable)
    totals_result = run("province_totals")
    costs_result = run("campaign_costs")
    tables.stored["district_progress"] = tables.progress
    if isinstance(totals_result, str):
        unavailable["province_totals"] = totals_result
    else:
        tables.stored["province_totals"] = totals_result
        tables.totals = totals_result.row(0, named=True)
    if isinstance(costs_result, str):
        unavailable["campaign_costs"] = costs_result
    else:
        tables.costs = tables.stored["campaign_costs"] = costs_result
    return tables


def write_report(out: Path, relative: str, tables: ProgressTables, run_id: str | None) -> Path:
    """Render the one-page report of `tables` and write it to `out/relative`."""
    now = datetime.now()
    page = render_report(
        tables.province,
        tables.progress,
        tables.costs,
        tables.totals,
        tables.unavailable,
        now,
        Footer(tables.province, run_id, now),
    )
    return write_page(out, relative, page)
