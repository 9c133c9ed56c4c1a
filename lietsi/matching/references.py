"""References and maternal lines: which relatives' profiles may stand for which martyr.

References are profiles of relatives who share the martyr's mtDNA (`shares_mtdna` true) and
consented to give a sample; relatives without recorded consent are never compared. Martyrs and
relatives joined by a shared reference form one maternal line (`lietsi.lab.relative_lines`).
"""

from __future__ import annotations

import polars as pl

from lietsi.lab.frequencies import relative_lines
from lietsi.reasons import encode, reason
from lietsi.reasons import text as reason_text


def relative_consent(phieu_02: pl.DataFrame, relative_links: pl.DataFrame) -> pl.DataFrame:
    """relative_id, consent: true when the donor's form 02 rows say `Có` and none says `Không`;
    false when one says `Không`; null when never asked. Form 01 records no consent."""
    rows = phieu_02.select(
        pl.lit("phieu_02").alias("source"),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "consent",
    )
    links = relative_links.select(
        pl.col("source").cast(pl.String),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "relative_id",
    )
    return (
        rows.join(links, on=["source", "file", "row_number"])
        .group_by("relative_id")
        .agg(
            pl.when((pl.col("consent") == "Không").any())
            .then(False)
            .when((pl.col("consent") == "Có").any())
            .then(True)
            .otherwise(None)
            .alias("consent")
        )
    )


def reference_table(
    reference_profiles: pl.DataFrame, candidates: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(references, refused) from relatives' profiles and maternal candidates.

    reference_profiles: relative_id, range, haplotype, consent (bool; null = not recorded).
    candidates: martyr_id, relative_id, shares_mtdna.
    references: relative_id, martyr_id, line_id, range, haplotype (one row per martyr served).
    refused: profiles set aside (no consent, or no martyr whose mtDNA they share), with the reason
    (Vietnamese) and its code (`reason_codes`, `lietsi.reasons`).
    """
    prof = reference_profiles.select("relative_id", "range", "haplotype", "consent")
    no_consent = prof.filter(pl.col("consent").fill_null(False).not_())
    usable = prof.filter(pl.col("consent").fill_null(False))
    sharing = (
        candidates.filter(pl.col("shares_mtdna").fill_null(False)).select("martyr_id", "relative_id").unique()
    )
    refs = usable.join(sharing, on="relative_id")
    unlinked = usable.join(sharing, on="relative_id", how="anti")
    refused = pl.concat(
        [
            no_consent.select("relative_id", **_reason_columns([reason("refusal.no_consent")])),
            unlinked.select("relative_id", **_reason_columns([reason("refusal.no_martyr")])),
        ]
    )
    line_of = relative_lines(candidates)
    refs = refs.with_columns(
        pl.col("relative_id").replace_strict(line_of, default=None, return_dtype=pl.String).alias("line_id")
    ).select("relative_id", "martyr_id", "line_id", "range", "haplotype")
    return refs, refused


def _reason_columns(codes: list[dict]) -> dict[str, pl.Expr]:
    """The `reason` (Vietnamese) and `reason_codes` (JSON) columns of a constant reason."""
    return {"reason": pl.lit(reason_text(codes), pl.String), "reason_codes": pl.lit(encode(codes), pl.String)}
