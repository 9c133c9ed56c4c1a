"""The national run's candidates in the province (`inbox/quoc_gia/`, docs/national.md): which of them
concern this province, and the page that shows them to the identification council.

A row concerns the province when its remains lie in the province's register (`raw.hai_cot`) or its
martyr is in the province's registry (`core.martyrs`); a row naming neither (a folder meant for
another province, a register that changed since the export) goes to the quarantine with the reason.
"""

from __future__ import annotations

import polars as pl

from lietsi.ops.pages import Footer, render
from lietsi.schema import NATIONAL_STATUSES

SIDES = {
    "remains_here": "Hài cốt tại nghĩa trang của tỉnh, liệt sĩ tỉnh khác "
    "(remains here, martyr of another province)",
    "martyr_here": "Liệt sĩ của tỉnh, hài cốt ở tỉnh khác (martyr of this province, remains elsewhere)",
    "both_here": "Hài cốt và liệt sĩ đều của tỉnh (both in this province)",
}
_COLUMNS = {
    "remains_province_code": pl.String, "remains_id": pl.String, "cemetery": pl.String,
    "martyr_province_code": pl.String, "martyr_id": pl.String, "martyr_name": pl.String,
    "status": pl.String, "posterior": pl.Float64, "posterior_bound": pl.Float64, "review_rank": pl.Int64,
    "reasons": pl.String, "side": pl.String, "file": pl.String, "row_number": pl.Int64,
}  # fmt: skip


def national_candidates(
    quoc_gia: pl.DataFrame, hai_cot: pl.DataFrame, martyrs: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(marts.national_candidates, the rows that concern neither side of the province, with reason)."""
    if quoc_gia.is_empty():
        return pl.DataFrame(schema=_COLUMNS), pl.DataFrame(
            schema={"file": pl.String, "row_number": pl.Int64, "reason": pl.String}
        )
    remains = set(hai_cot["remains_id"].drop_nulls().to_list()) if "remains_id" in hai_cot.columns else set()
    registry = set(martyrs["martyr_id"].drop_nulls().to_list()) if "martyr_id" in martyrs.columns else set()
    english = {vi: en for en, vi in NATIONAL_STATUSES.items()}
    rows = quoc_gia.with_columns(
        status=pl.col("status").replace_strict(english, default=None),
        _remains=pl.col("remains_id").is_in(list(remains)),
        _martyr=pl.col("martyr_id").is_in(list(registry)),
    ).with_columns(
        side=pl.when(pl.col("_remains") & pl.col("_martyr"))
        .then(pl.lit("both_here"))
        .when(pl.col("_remains"))
        .then(pl.lit("remains_here"))
        .when(pl.col("_martyr"))
        .then(pl.lit("martyr_here"))
    )
    kept = rows.filter(pl.col("side").is_not_null()).select(
        pl.col(c).cast(t) if c in rows.columns else pl.lit(None, t).alias(c) for c, t in _COLUMNS.items()
    )
    refused = rows.filter(pl.col("side").is_null()).select(
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        reason=pl.lit("neither the remains is in this province's register nor the martyr in its registry"),
    )
    return kept.sort("status", "posterior", descending=[True, True], nulls_last=True), refused


def national_candidates_page(candidates: pl.DataFrame, footer: Footer) -> str:
    """`quoc_gia/index.html`: the candidates by side, most probable first (jinja2 escapes every value)."""
    groups = [
        (label, candidates.filter(pl.col("side") == side).to_dicts())
        for side, label in SIDES.items()
        if (candidates["side"] == side).any()
    ]
    return render(
        "national_candidates.html",
        footer,
        "../",
        groups=groups,
        statuses={en: f"{vi} ({en.replace('_', ' ')})" for en, vi in NATIONAL_STATUSES.items()},
        total=candidates.height,
    )
