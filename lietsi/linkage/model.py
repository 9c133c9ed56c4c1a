"""The Fellegi–Sunter model: u from random pairs, m and the prior by EM on blocked pairs, and the
match weight of a pair with term-frequency adjustments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from lietsi.linkage.blocking import TRAINING_RULES
from lietsi.linkage.comparison import COMPARISONS, compare


@dataclass
class FSModel:
    """m and u per comparison level, the match prior, and term frequencies of names."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float
    # comparison → (value → term frequency, Σ tf²), for the fields in TF_FIELDS.
    tf: dict[str, tuple[dict[str, float], float]] = field(default_factory=dict)
    iterations: int = 0

    def level_weights(self) -> pl.DataFrame:
        rows = []
        for c in COMPARISONS:
            for i, label in enumerate(c.labels):
                m, u = float(self.m[c.name][i]), float(self.u[c.name][i])
                rows.append((c.name, i, label, m, u, math.log2(m / u)))
        return pl.DataFrame(rows, schema=["comparison", "level", "label", "m", "u", "weight"], orient="row")


def _random_pairs(n: int, size: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size)
    b = rng.integers(0, n, size)
    keep = a != b
    return pl.DataFrame({"uid_l": np.minimum(a, b)[keep], "uid_r": np.maximum(a, b)[keep]}).unique()


def estimate_u(features: pl.DataFrame, size: int = 200_000, seed: int = 7) -> dict[str, np.ndarray]:
    """u-probabilities: level frequencies among random pairs, which are almost all non-matches."""
    n = features.height
    if n < 2:
        return {c.name: np.full(len(c.labels), 1.0 / len(c.labels)) for c in COMPARISONS}
    pairs = _random_pairs(n, min(size, n * (n - 1) // 2 * 2), seed)
    levels = compare(features, pairs)
    out = {}
    for c in COMPARISONS:
        counts = np.bincount(
            levels[c.name].to_numpy()[levels[c.name].to_numpy() >= 0], minlength=len(c.labels)
        )
        # Half a pair of smoothing keeps rare agreement levels finite without inventing evidence.
        out[c.name] = (counts + 0.5) / (counts.sum() + 0.5 * len(c.labels))
    return out


def fit_em(
    levels: pl.DataFrame,
    u: dict[str, np.ndarray],
    m_start: dict[str, np.ndarray],
    prior: float = 0.5,
    exclude: tuple[str, ...] = (),
    max_iter: int = 50,
    tol: float = 1e-5,
) -> tuple[dict[str, np.ndarray], float, int]:
    """m-probabilities and the match prior by expectation–maximisation with u fixed.

    Comparisons in `exclude` are left out of the likelihood and keep their starting m.
    """
    used = [c for c in COMPARISONS if c.name not in exclude]
    m = {k: v.copy() for k, v in m_start.items()}
    arrays = {c.name: levels[c.name].to_numpy().astype(np.int64) for c in used}
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        log_bf = np.zeros(levels.height)
        for c in used:
            lv = arrays[c.name]
            known = lv >= 0
            log_bf[known] += np.log(m[c.name][lv[known]]) - np.log(u[c.name][lv[known]])
        p = 1.0 / (1.0 + np.exp(-np.clip(np.log(prior / (1 - prior)) + log_bf, -50, 50)))
        new_prior = float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
        delta = abs(new_prior - prior)
        for c in used:
            lv = arrays[c.name]
            known = lv >= 0
            sums = np.bincount(lv[known], weights=p[known], minlength=len(c.labels)) + 1e-3
            new_m = sums / sums.sum()
            delta = max(delta, float(np.abs(new_m - m[c.name]).max()))
            m[c.name] = new_m
        prior = new_prior
        if delta < tol:
            break
    return m, prior, iterations


def _log_bf(levels: pl.DataFrame, m: dict[str, np.ndarray], u: dict[str, np.ndarray]) -> np.ndarray:
    out = np.zeros(levels.height)
    for c in COMPARISONS:
        lv = levels[c.name].to_numpy().astype(np.int64)
        known = lv >= 0
        out[known] += (np.log2(m[c.name]) - np.log2(u[c.name]))[lv[known]]
    return out


M_FLOOR = 1e-3


def train(levels: pl.DataFrame, u: dict[str, np.ndarray], min_pairs: int = 20) -> FSModel:
    """Fit m by EM on each training rule's pairs (that rule's fields left out), then the prior.

    Each comparison's m is the mean of its estimates over the rules that could estimate it; the
    match prior is then fitted on all candidate pairs with m and u fixed.
    """
    start = {c.name: np.array(c.m_start, dtype=float) for c in COMPARISONS}
    estimates: dict[str, list[np.ndarray]] = {c.name: [] for c in COMPARISONS}
    iterations = 0
    for rule, excluded in TRAINING_RULES.items():
        col = f"by_{rule}"
        if col not in levels.columns:
            continue
        sub = levels.filter(pl.col(col))
        if sub.height < min_pairs:
            continue
        m, _, it = fit_em(sub, u, start, exclude=excluded)
        iterations += it
        for c in COMPARISONS:
            if c.name not in excluded:
                estimates[c.name].append(m[c.name])
    m = {k: np.mean(v, axis=0) if v else start[k] for k, v in estimates.items()}
    # No level is impossible among matches: a floor keeps one clerical slip from vetoing a link.
    m = {k: np.maximum(v, M_FLOOR) / np.maximum(v, M_FLOOR).sum() for k, v in m.items()}
    log_bf = _log_bf(levels, m, u) * math.log(2)
    prior = 0.5
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(math.log(prior / (1 - prior)) + log_bf, -50, 50)))
        new_prior = float(np.clip(p.mean(), 1e-6, 1 - 1e-6)) if levels.height else prior
        if abs(new_prior - prior) < 1e-7:
            break
        prior = new_prior
    return FSModel(m=m, u=u, prior=prior, iterations=iterations)


# Fields whose agreement is adjusted by the frequency of the agreeing value: column, and how many
# of the comparison's first levels are agreement on the whole value.
TF_FIELDS: dict[str, tuple[str, int]] = {"name": ("key_variant", 4), "mother": ("mother_variant", 1)}


def term_frequencies(features: pl.DataFrame, column: str) -> tuple[dict[str, float], float]:
    """Share of records holding each value of `column`, and Σ share² (chance two random records agree)."""
    counts = features.group_by(column).len().drop_nulls()
    total = counts["len"].sum()
    if not total:
        return {}, 0.0
    tf = counts.with_columns(pl.col("len") / total)
    return dict(tf.iter_rows()), float((tf["len"] ** 2).sum())


def score(levels: pl.DataFrame, model: FSModel, tf_cap: float = 6.0) -> pl.DataFrame:
    """Match weight (log2 Bayes factor + prior odds) and probability per pair, tf-adjusted."""
    w = math.log2(model.prior / (1 - model.prior)) + _log_bf(levels, model.m, model.u)
    tf_adj = np.zeros(levels.height)
    for comparison, (column, n_levels) in TF_FIELDS.items():
        if comparison not in model.tf or f"{column}_l" not in levels.columns:
            continue
        tf, sum_tf2 = model.tf[comparison]
        if not tf or sum_tf2 <= 0:
            continue
        values = levels[f"{column}_l"].replace_strict(tf, default=None, return_dtype=pl.Float64).to_numpy()
        lv = levels[comparison].to_numpy()
        applies = (lv >= 0) & (lv < n_levels) & ~np.isnan(values)
        # u(value) = u(level) · tf(value) / Σ tf²: common values weigh less, rare values more.
        tf_adj[applies] += np.clip(np.log2(sum_tf2 / values[applies]), -tf_cap, tf_cap)
    w = w + tf_adj
    return levels.with_columns(
        pl.Series("tf_adjustment", tf_adj),
        pl.Series("match_weight", w),
        pl.Series("match_probability", 1.0 / (1.0 + np.power(2.0, -np.clip(w, -60, 60)))),
    )
