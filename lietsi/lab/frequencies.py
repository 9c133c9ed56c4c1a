"""Haplotype frequencies in the reference population, with a Clopper–Pearson upper bound."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from lietsi.kinship.maternal import maternal_lines
from lietsi.lab.comparison import ComparisonRules, effective_sites
from lietsi.lab.mtdna import (
    CONTROL_REGION,
    Ranges,
    Variant,
    format_range,
    format_variants,
    intersect_ranges,
    parse_range,
    parse_variants,
    range_length,
)
from lietsi.stats import clopper_pearson_upper


def relative_lines(candidates: pl.DataFrame) -> dict[str, str]:
    """relative_id → maternal line id from `marts.maternal_candidates` (kinship's union-find)."""
    if "maternal_line_id" in candidates.columns:
        lines = candidates.filter(pl.col("shares_mtdna").fill_null(False)).select(
            pl.col("relative_id").alias("member_id"), "maternal_line_id"
        )
    else:
        lines = maternal_lines(candidates).filter(pl.col("member_kind") == "relative")
    return dict(lines.unique("member_id").select("member_id", "maternal_line_id").iter_rows())


def frequency_key(variants: Iterable[Variant], ranges: Ranges, rules: ComparisonRules | None = None) -> str:
    """The haplotype as the matching stage compares it: inside ``ranges``, without hotspots and
    C-stretch length variants (SWGDAM), canonical text."""
    kept, _ = effective_sites(variants, ranges, rules or ComparisonRules())
    return format_variants(Variant(p, k, a) for (p, k), a in kept.items())


FREQUENCY_SCHEMA = {
    "haplotype_key": pl.Utf8,
    "comparable_range": pl.Utf8,
    "count": pl.Int64,
    "database_n": pl.Int64,
    "frequency": pl.Float64,
    "upper_95": pl.Float64,
    "haplogroups": pl.Utf8,
    "example_sample_id": pl.Utf8,
}


def haplotype_frequencies(
    profiles: pl.DataFrame,
    lines: dict[str, str] | None = None,
    comparable: Ranges = CONTROL_REGION,
    rules: ComparisonRules | None = None,
    consenting: set[str] | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Frequency of each haplotype in the reference population, with a Clopper–Pearson 95% bound.

    Counting method: the reference population is the relatives' profiles (remains are the cases, not
    the population), only those in ``consenting`` when it is given (a donor who did not consent is
    never processed); profiles that do not cover all of ``comparable`` are left out (they cannot be
    compared on it); each maternal line counts once (the profile of its first sample id), and a
    relative not yet linked to a line counts as a line of its own; the haplotype is restricted to
    ``comparable`` with hotspots and C-stretch length variants masked, as matching compares.
    Returns the table and the counts behind it.
    """
    relatives = profiles.filter(pl.col("sample_kind") == "relative").sort("sample_id")
    stats = {"relative_profiles": relatives.height, "not_covering_range": 0, "same_line_dropped": 0}
    if consenting is not None:
        relatives = relatives.filter(pl.col("relative_id").is_in(sorted(consenting)))
        stats["without_consent"] = stats["relative_profiles"] - relatives.height
    need = range_length(comparable)
    seen_lines: set[str] = set()
    picked: list[tuple[str, str, str | None]] = []
    for row in relatives.iter_rows(named=True):
        ranges = parse_range(row["range"])
        if range_length(intersect_ranges(ranges, comparable)) < need:
            stats["not_covering_range"] += 1
            continue
        rid = row.get("relative_id")
        line = (lines or {}).get(rid) if rid else None
        line = line or f"sample:{row['sample_id']}"
        if line in seen_lines:
            stats["same_line_dropped"] += 1
            continue
        seen_lines.add(line)
        key = frequency_key(parse_variants(row["haplotype"]), comparable, rules)
        picked.append((key, row["sample_id"], row.get("haplogroup")))
    n = len(picked)
    stats["database_n"] = n
    if not picked:
        return pl.DataFrame(schema=FREQUENCY_SCHEMA), stats
    frame = pl.DataFrame(picked, schema=["haplotype_key", "sample_id", "haplogroup"], orient="row")
    table = (
        frame.group_by("haplotype_key")
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("haplogroup").drop_nulls().unique().sort().str.join(",").alias("haplogroups"),
            pl.col("sample_id").min().alias("example_sample_id"),
        )
        .with_columns(
            pl.lit(format_range(comparable)).alias("comparable_range"),
            pl.lit(n, pl.Int64).alias("database_n"),
            (pl.col("count") / n).alias("frequency"),
        )
    )
    upper = [clopper_pearson_upper(x, n) for x in table["count"]]
    table = table.with_columns(pl.Series("upper_95", upper, pl.Float64))
    return table.select(list(FREQUENCY_SCHEMA)).sort(
        ["count", "haplotype_key"], descending=[True, False]
    ), stats
