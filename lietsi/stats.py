"""Statistics shared by the stages: binomial bounds for frequencies, pairwise scores of clusterings."""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from scipy.stats import beta


@lru_cache(maxsize=65_536)
def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of a binomial proportion (x = 0: 1 − 0.05^(1/n))."""
    if n <= 0:
        return 1.0
    if x >= n:
        return 1.0
    return float(beta.ppf(confidence, x + 1, n - x))


def pairwise_metrics(predicted: pl.DataFrame, truth: pl.DataFrame, on: list[str]) -> dict[str, float]:
    """Pairwise precision, recall, F1 and cluster purity of `predicted` (on + `pred`) vs `truth`
    (on + `true`), counted from the contingency table (no pair enumeration)."""
    joined = predicted.join(truth, on=on, how="inner")

    def pairs(expr: pl.Expr) -> int:
        return int(
            joined.group_by(expr).len().select((pl.col("len") * (pl.col("len") - 1) // 2).sum()).item()
        )

    both = int(
        joined.group_by("pred", "true").len().select((pl.col("len") * (pl.col("len") - 1) // 2).sum()).item()
    )
    pred_pairs, true_pairs = pairs(pl.col("pred")), pairs(pl.col("true"))
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    purity = (
        joined.group_by("pred", "true").len().group_by("pred").agg(pl.col("len").max())["len"].sum()
        / joined.height
        if joined.height
        else 1.0
    )
    return {
        "records": joined.height,
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "correct_pairs": both,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "cluster_purity": float(purity),
        "predicted_clusters": joined["pred"].n_unique(),
        "true_clusters": joined["true"].n_unique(),
    }
