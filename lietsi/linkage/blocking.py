"""Blocking: candidate pairs from equi-joins on keys that carry a place, and the EM training rules."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class BlockingRule:
    name: str
    keys: tuple[str, ...]
    # Shift the right side's `birth_year` by this many years (windows without a range join).
    year_shift: int = 0
    explode: str | None = None


# EM training sets, in the manner of Splink: pairs blocked on a rule say nothing about the fields
# the rule requires to agree, so those comparisons are left out when fitting on them.
TRAINING_RULES: dict[str, tuple[str, ...]] = {
    "name+birth+area": ("name", "birth_year", "hometown"),
    "certificate": ("certificate",),
    "mother+birth+area": ("mother", "birth_year", "hometown"),
}


# Every rule but the certificate and the record id carries a place key, so that blocks stay small at
# national scale (1.2 M records: `Nguyễn Văn Hùng` born 1950 is hundreds of people nationally, a few
# in one commune). The *area* is the commune after the 2025 merger: old names (`Sóc Sơn, Hòn Đất`)
# and records already written with the new units (`Xã Mỹ Thuận, Tỉnh An Giang`) meet there. The
# pre-2025 commune and district refine the rules on given name and surname, which are broader.
# Measured on 1.2 M synthetic registry records: 7.8 M candidate pairs holding 99.6 % of true pairs.
BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule(
        "name+birth+area",
        ("candidate_variants", "birth_year", "home_commune_2025_code"),
        explode="candidate_variants",
    ),
    BlockingRule("name+birth±1+area", ("key_variant", "birth_year", "home_commune_2025_code"), year_shift=1),
    BlockingRule("name+birth+district", ("key_variant", "birth_year", "home_district_code")),
    BlockingRule("name+death_year+area", ("key_variant", "death_year", "home_commune_2025_code")),
    BlockingRule("given+commune+birth", ("given_variant", "home_commune_code", "birth_year")),
    BlockingRule(
        "surname+commune+birth+death_year",
        ("surname_variant", "home_commune_code", "birth_year", "death_year"),
    ),
    BlockingRule("given+death_date+area", ("given_variant", "death_start", "home_commune_2025_code")),
    BlockingRule("mother+birth+area", ("mother_variant", "birth_year", "home_commune_2025_code")),
    BlockingRule("mother+given+area", ("mother_variant", "given_variant", "home_commune_2025_code")),
    BlockingRule("certificate", ("cert",)),
    BlockingRule("form", ("record_key",)),
)


def block_pairs(
    features: pl.DataFrame, rules: tuple[BlockingRule, ...] = BLOCKING_RULES, max_block: int = 400
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Candidate pairs (uid_l < uid_r) from the union of the rules; counts per rule for metadata."""
    pairs = []
    stats: dict[str, int] = {}
    for rule in rules:
        side = features.select("uid", *dict.fromkeys(rule.keys))
        if rule.explode:
            side = side.explode(rule.explode)
        side = side.drop_nulls(list(rule.keys))
        sizes = side.group_by(list(rule.keys)).len()
        too_big = sizes.filter(pl.col("len") > max_block)
        stats[f"{rule.name}: blocks skipped (> {max_block})"] = too_big.height
        if too_big.height:
            side = side.join(too_big.select(rule.keys), on=list(rule.keys), how="anti")
        right = side
        if rule.year_shift:
            right = side.with_columns(pl.col("birth_year") + rule.year_shift)
        joined = (
            side.join(right, on=list(rule.keys), suffix="_r")
            .select(
                pl.min_horizontal("uid", "uid_r").alias("uid_l"),
                pl.max_horizontal("uid", "uid_r").alias("uid_r"),
            )
            .filter(pl.col("uid_l") < pl.col("uid_r"))
            .unique()
        )
        stats[f"{rule.name}: pairs"] = joined.height
        pairs.append(joined)
    if not pairs:
        return pl.DataFrame(schema={"uid_l": pl.Int64, "uid_r": pl.Int64}), stats
    out = pl.concat(pairs).unique().sort("uid_l", "uid_r")
    # Which training rule produced a pair: EM is fitted on each with that rule's fields left out.
    for rule, joined in zip(rules, pairs, strict=True):
        if rule.name in TRAINING_RULES:
            out = out.join(
                joined.with_columns(pl.lit(True).alias(f"by_{rule.name}")), on=["uid_l", "uid_r"], how="left"
            ).with_columns(pl.col(f"by_{rule.name}").fill_null(False))
    stats["candidate pairs"] = out.height
    return out, stats
