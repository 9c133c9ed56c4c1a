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
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.stats import binomtest, chi2


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
        # The council's confirmed and rejected pairs are its decisions, not the method's.
        "proposed_or_review": identifications.filter(pl.col("status").is_in(["proposed", "needs_review"])),
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
# Reliability bins of `make bench`: the decision-relevant top split finely, the bulk of near-zero
# pairs (most candidate pairs of a remains are not him) in a bin of its own.
RELIABILITY_EDGES = (0.0, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)


def judged_pairs(
    candidates: pl.DataFrame, truth_remains: pl.DataFrame, uid_map: pl.DataFrame, column: str = "posterior"
) -> pl.DataFrame:
    """Candidate pairs with `posterior` (from `column`) and `correct`: the pair names the remains'
    true martyr."""
    truth = truth_remains.select("remains_id", pl.col("martyr_uid").alias("true_uid"))
    return (
        candidates.select("remains_id", "martyr_id", pl.col(column).alias("posterior"))
        .join(uid_map, on="martyr_id", how="left")
        .join(truth, on="remains_id", how="left")
        .with_columns(correct=(pl.col("martyr_uid") == pl.col("true_uid")).fill_null(False))
    )


def calibration(
    candidates: pl.DataFrame, truth_remains: pl.DataFrame, uid_map: pl.DataFrame, column: str = "posterior"
) -> pl.DataFrame:
    """Candidate pairs by posterior band (`column`): how many, and the share that is the true
    martyr. A well-calibrated model has a share inside each band; a conservative one, above it."""
    judged = judged_pairs(candidates, truth_remains, uid_map, column)
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


def reliability(
    posterior: Sequence[float], correct: Sequence[bool], edges: Sequence[float] = RELIABILITY_EDGES
) -> tuple[pl.DataFrame, float | None]:
    """Expected against observed per posterior bin, and the Brier score.

    Each bin [lo, hi) (the last one closed) holds `pairs` predictions; `expected` is their mean
    posterior (the share a calibrated model gets right), `observed` the share that is right, `gap`
    observed − expected (negative: over-confident). Brier = mean (posterior − outcome)²; None with
    no prediction. Posteriors outside [edges[0], edges[-1]] are an error, not dropped.
    `low`, `high`: the Wilson 95% interval of the observed share. With 20–50 pairs in a bin a
    calibrated model misses ±0.05 by chance often (about ±0.07 at 46 pairs and 0.33); an expected
    share outside the interval is a miss noise does not explain well.
    """
    if len(posterior) != len(correct):
        raise ValueError(f"{len(posterior)} posteriors for {len(correct)} outcomes")
    lo_all, hi_all = edges[0], edges[-1]
    bad = [p for p in posterior if p is None or not lo_all <= p <= hi_all]
    if bad:
        raise ValueError(f"posteriors outside [{lo_all}, {hi_all}]: {bad[:5]}")
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(len(edges) - 1)]
    for p, y in zip(posterior, correct, strict=True):
        k = min(bisect_right(edges, p) - 1, len(bins) - 1)
        bins[k].append((p, bool(y)))
    rows = []
    for (lo, hi), members in zip(itertools.pairwise(edges), bins, strict=True):
        n = len(members)
        expected = sum(p for p, _ in members) / n if n else None
        observed = sum(y for _, y in members) / n if n else None
        interval = binomtest(sum(y for _, y in members), n).proportion_ci(method="wilson") if n else None
        rows.append(
            {
                "posterior_from": float(lo),
                "posterior_to": float(hi),
                "pairs": n,
                "correct": sum(y for _, y in members),
                "expected": expected,
                "observed": observed,
                "gap": observed - expected if n else None,
                "low": float(interval.low) if interval else None,
                "high": float(interval.high) if interval else None,
            }
        )
    n = len(posterior)
    brier = sum((p - float(y)) ** 2 for p, y in zip(posterior, correct, strict=True)) / n if n else None
    schema = {
        "posterior_from": pl.Float64,
        "posterior_to": pl.Float64,
        "pairs": pl.Int64,
        "correct": pl.Int64,
        "expected": pl.Float64,
        "observed": pl.Float64,
        "gap": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema), brier


CALIBRATION_TOLERANCE = 0.05  # issue 14's target: |observed − expected| ≤ 0.05 in every bin
MIN_PAIRS = 20  # ... of at least this many pairs


def _big_bins(
    posterior: Sequence[float], edges: Sequence[float], min_pairs: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The posteriors as an array, and the index arrays of the bins holding ≥ min_pairs of them."""
    p = np.asarray(posterior, dtype=float)
    k = np.minimum(np.searchsorted(edges, p, side="right") - 1, len(edges) - 2)
    members = [np.flatnonzero(k == b) for b in range(len(edges) - 1)]
    return p, [m for m in members if len(m) >= min_pairs]


def calibration_chi2(
    posterior: Sequence[float],
    correct: Sequence[bool],
    edges: Sequence[float] = RELIABILITY_EDGES,
    min_pairs: int = MIN_PAIRS,
) -> tuple[float, int, float]:
    """(χ², degrees of freedom, p-value) of the reliability table's bins of ≥ min_pairs pairs
    against a calibrated model (Hosmer–Lemeshow's test with the bins fixed): per bin
    (right − Σ posterior)² / Σ posterior·(1 − posterior), the variance of the count a calibrated
    model gets right. A calibrated model gives χ² about the number of bins; a small p says the gaps
    are more than the pairs' own noise."""
    p, bins = _big_bins(posterior, edges, min_pairs)
    y = np.asarray(correct, dtype=float)
    total, df = 0.0, 0
    for m in bins:
        variance = float((p[m] * (1 - p[m])).sum())
        if variance > 0:
            total += float((y[m].sum() - p[m].sum()) ** 2 / variance)
            df += 1
    return total, df, float(chi2.sf(total, df)) if df else 1.0


def bins_outside(
    table: pl.DataFrame, min_pairs: int = MIN_PAIRS, tolerance: float = CALIBRATION_TOLERANCE
) -> tuple[int, int, int]:
    """From a `reliability` table: (bins of ≥ min_pairs pairs, those outside ±tolerance, those
    among them whose expected share lies outside the observed share's Wilson 95% interval)."""
    big = table.filter(pl.col("pairs") >= min_pairs)
    off = big.filter(pl.col("gap").abs() > tolerance + 1e-9)
    beyond = off.filter((pl.col("expected") < pl.col("low")) | (pl.col("expected") > pl.col("high")))
    return big.height, off.height, beyond.height


def chance_misses(
    posterior: Sequence[float],
    edges: Sequence[float] = RELIABILITY_EDGES,
    min_pairs: int = MIN_PAIRS,
    tolerance: float = CALIBRATION_TOLERANCE,
    draws: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """How many bins of ≥ min_pairs pairs a calibrated model with these posteriors misses by more
    than `tolerance`, by chance alone: each pair's outcome drawn with probability its posterior,
    `draws` times (one count per draw). With 20–50 pairs a bin, a perfect model misses ±0.05 often."""
    p, bins = _big_bins(posterior, edges, min_pairs)
    rng = np.random.default_rng(seed)
    out = np.zeros(draws, dtype=int)
    for m in bins:
        outcomes = rng.random((draws, len(m))) < p[m]
        out += np.abs(outcomes.mean(axis=1) - p[m].mean()) > tolerance + 1e-9
    return out
