"""Identifications against the synthetic ground truth, side by side with an mtDNA-only baseline.

The truth names remains by `martyr_uid`; the pipeline names martyrs by `martyr_id`. The bridge is
the record level: `core.martyr_links` (source, source_record_id → martyr_id) and the truth's
`martyr_records.csv` (source, source_record_id → martyr_uid); each martyr_id takes the uid most of
its records carry.

Recall is over the remains that can be identified at all: in-province remains whose martyr is in
`core.martyrs`. Precision is over what each method proposes.
"""

from __future__ import annotations

import itertools

import polars as pl


def martyr_uid_map(martyr_links: pl.DataFrame, truth_records: pl.DataFrame) -> pl.DataFrame:
    """martyr_id → martyr_uid (majority of the martyr's records)."""
    links = martyr_links.select(
        pl.col("source").cast(pl.String), pl.col("source_record_id").cast(pl.String), "martyr_id"
    )
    truth = truth_records.select(
        pl.col("source").cast(pl.String), pl.col("source_record_id").cast(pl.String), "martyr_uid"
    ).unique(["source", "source_record_id"])
    return (
        links.join(truth, on=["source", "source_record_id"])
        .group_by("martyr_id", "martyr_uid")
        .len()
        .sort(["martyr_id", "len", "martyr_uid"], descending=[False, True, False])
        .unique("martyr_id", keep="first", maintain_order=True)
        .select("martyr_id", "martyr_uid")
    )


def evaluate(
    identifications: pl.DataFrame,
    baseline: pl.DataFrame,
    truth_remains: pl.DataFrame,
    uid_map: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(metrics per method, wrong identifications listed).

    Methods: `proposed`, `proposed_or_review` (the top candidate of every row), and
    `mtdna_only_baseline`. Metrics: proposals, correct, precision, recall, out_of_province.
    """
    truth = truth_remains.select(
        "remains_id",
        pl.col("martyr_uid").alias("true_uid"),
        (pl.col("in_province").cast(pl.String).str.to_lowercase() == "true").alias("in_province"),
    )
    known_uids = set(uid_map["martyr_uid"].to_list())
    identifiable = truth.filter(pl.col("in_province") & pl.col("true_uid").is_in(list(known_uids))).height
    methods = {
        "proposed": identifications.filter(pl.col("status") == "proposed"),
        "proposed_or_review": identifications,
        "mtdna_only_baseline": baseline.with_columns(
            status=pl.lit("baseline"), posterior=pl.lit(None, pl.Float64)
        ),
    }
    rows = []
    wrong = []
    for name, frame in methods.items():
        judged = (
            frame.select("remains_id", "martyr_id", "status", "posterior")
            .join(uid_map, on="martyr_id", how="left")
            .join(truth, on="remains_id", how="left")
            .with_columns(correct=(pl.col("martyr_uid") == pl.col("true_uid")).fill_null(False))
        )
        n = judged.height
        correct = int(judged["correct"].sum())
        rows.append(
            {
                "method": name,
                "proposals": n,
                "correct": correct,
                "precision": correct / n if n else 1.0,
                "recall": correct / identifiable if identifiable else 0.0,
                "out_of_province": int((~judged["in_province"].fill_null(True)).sum()),
                "identifiable": identifiable,
            }
        )
        if name != "proposed_or_review":
            wrong.append(judged.filter(~pl.col("correct")).with_columns(method=pl.lit(name)))
    wrong_frame = (
        pl.concat(wrong).select(
            "method",
            "remains_id",
            "martyr_id",
            "status",
            "posterior",
            "martyr_uid",
            "true_uid",
            "in_province",
        )
        if wrong
        else pl.DataFrame()
    )
    return pl.DataFrame(rows), wrong_frame


CALIBRATION_EDGES = (0.0, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0000001)


def calibration(
    candidates: pl.DataFrame, truth_remains: pl.DataFrame, uid_map: pl.DataFrame, column: str = "posterior"
) -> pl.DataFrame:
    """Candidate pairs by posterior band (`column`): how many, and the share that is the true
    martyr. A well-calibrated model has a share inside each band; a conservative one, above it."""
    truth = truth_remains.select("remains_id", pl.col("martyr_uid").alias("true_uid"))
    judged = (
        candidates.select("remains_id", "martyr_id", pl.col(column).alias("posterior"))
        .join(uid_map, on="martyr_id", how="left")
        .join(truth, on="remains_id", how="left")
        .with_columns(correct=(pl.col("martyr_uid") == pl.col("true_uid")).fill_null(False))
    )
    rows = []
    for lo, hi in itertools.pairwise(CALIBRATION_EDGES):
        band = judged.filter((pl.col("posterior") >= lo) & (pl.col("posterior") < hi))
        n = band.height
        rows.append(
            {
                "posterior_from": lo,
                "posterior_to": min(hi, 1.0),
                "pairs": n,
                "correct": int(band["correct"].sum()),
                "share_correct": float(band["correct"].mean()) if n else None,
            }
        )
    return pl.DataFrame(rows)
