"""Comparison levels per field, strongest agreement first, computed on pairs of records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist


@dataclass(frozen=True)
class Comparison:
    name: str
    labels: tuple[str, ...]
    # Levels 0..len(labels)-1, strongest agreement first; -1 when either side is unknown.
    levels: Callable[[pl.DataFrame], pl.Series]
    # Initial m-probabilities for EM.
    m_start: tuple[float, ...]


_COMPARE_COLUMNS = (
    "key_exact",
    "key_toneless",
    "key_ascii",
    "key_variant",
    "given_variant",
    "abbreviated",
    "initials",
    "candidate_variants",
    "sex",
    "birth_year",
    "death_start",
    "death_end",
    "death_precision_day",
    "home_commune_code",
    "home_district_code",
    "home_province_code",
    "home_key",
    "mother_variant",
    "mother_given",
    "father_variant",
    "cert",
    "unit_key",
    "record_key",
)


def _jw(frame: pl.DataFrame, col: str) -> np.ndarray:
    """Jaro-Winkler of the two sides, computed once per distinct pair of values (places and units
    repeat across millions of pairs)."""
    pairs = frame.select(
        pl.col(f"{col}_l").fill_null("").alias("l"), pl.col(f"{col}_r").fill_null("").alias("r")
    )
    if pairs.is_empty():
        return np.zeros(0, dtype=np.float32)
    distinct = pairs.unique()
    scores = cpdist(
        distinct["l"].to_list(), distinct["r"].to_list(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )
    return pairs.join(
        distinct.with_columns(pl.Series("jw", scores)), on=["l", "r"], how="left", maintain_order="left"
    )["jw"].to_numpy()


def _select_levels(conditions: list[np.ndarray], unknown: np.ndarray) -> pl.Series:
    levels = np.select(conditions, list(range(len(conditions))), default=len(conditions)).astype(np.int8)
    levels[unknown] = -1
    return pl.Series(levels)


def _null(frame: pl.DataFrame, col: str) -> np.ndarray:
    return (frame[f"{col}_l"].is_null() | frame[f"{col}_r"].is_null()).to_numpy()


def _eq(frame: pl.DataFrame, col: str) -> np.ndarray:
    return (frame[f"{col}_l"] == frame[f"{col}_r"]).fill_null(False).to_numpy()


def _name_levels(f: pl.DataFrame) -> pl.Series:
    jw = _jw(f, "key_variant")
    given_jw = _jw(f, "given_variant")
    alias = (
        f.select(pl.col("candidate_variants_l").list.set_intersection("candidate_variants_r").list.len() > 0)
        .to_series()
        .fill_null(False)
        .to_numpy()
    )
    # An unexpanded initial (`L. Q. Thủy`) agrees with `Lưu Quốc Thủy` (not `Kiều Đức Thủy`) when the
    # initials and the given name agree.
    abbreviated = (f["abbreviated_l"] | f["abbreviated_r"]).fill_null(False).to_numpy() & _eq(f, "initials")
    same_given = _eq(f, "given_variant")
    return _select_levels(
        [
            _eq(f, "key_exact"),
            _eq(f, "key_toneless"),
            _eq(f, "key_ascii"),
            _eq(f, "key_variant"),
            alias | abbreviated,
            # A typo: close overall and in the given name.
            (jw >= 0.9) & (given_jw >= 0.75),
            # Same given name, other words differ (a middle name dropped or changed).
            same_given & (jw >= 0.75),
            # Close overall but the given name differs: brothers (`Nguyễn Văn Hổ` / `Nguyễn Văn Hùng`).
            jw >= 0.85,
        ],
        _null(f, "key_variant"),
    )


def _birth_levels(f: pl.DataFrame) -> pl.Series:
    d = (f["birth_year_l"] - f["birth_year_r"]).abs().fill_null(99).to_numpy()
    return _select_levels([d == 0, d == 1, d <= 3], _null(f, "birth_year"))


def _death_levels(f: pl.DataFrame) -> pl.Series:
    ls, le = f["death_start_l"].fill_null(0).to_numpy(), f["death_end_l"].fill_null(0).to_numpy()
    rs, re_ = f["death_start_r"].fill_null(0).to_numpy(), f["death_end_r"].fill_null(0).to_numpy()
    both_day = (f["death_precision_day_l"] & f["death_precision_day_r"]).fill_null(False).to_numpy()
    gap = np.maximum(ls - re_, rs - le)
    overlap = gap <= 0
    return _select_levels([both_day & (ls == rs), overlap, gap <= 31, gap <= 366], _null(f, "death_start"))


def _home_levels(f: pl.DataFrame) -> pl.Series:
    jw = _jw(f, "home_key")
    return _select_levels(
        [
            _eq(f, "home_commune_code"),
            _eq(f, "home_key") | (jw >= 0.95),
            _eq(f, "home_district_code"),
            _eq(f, "home_province_code"),
        ],
        _null(f, "home_key"),
    )


def _mother_levels(f: pl.DataFrame) -> pl.Series:
    jw = _jw(f, "mother_variant")
    return _select_levels(
        [_eq(f, "mother_variant"), jw >= 0.9, _eq(f, "mother_given")], _null(f, "mother_variant")
    )


def _father_levels(f: pl.DataFrame) -> pl.Series:
    jw = _jw(f, "father_variant")
    return _select_levels([_eq(f, "father_variant"), jw >= 0.9], _null(f, "father_variant"))


def _exact_levels(col: str) -> Callable[[pl.DataFrame], pl.Series]:
    return lambda f: _select_levels([_eq(f, col)], _null(f, col))


def _unit_levels(f: pl.DataFrame) -> pl.Series:
    jw = _jw(f, "unit_key")
    return _select_levels([_eq(f, "unit_key"), jw >= 0.9], _null(f, "unit_key"))


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        (
            "exact",
            "toneless",
            "ascii",
            "variant",
            "alias/initials",
            "typo",
            "same given",
            "other given",
            "else",
        ),
        _name_levels,
        (0.7, 0.05, 0.08, 0.03, 0.05, 0.04, 0.02, 0.01, 0.02),
    ),
    Comparison("birth_year", ("same", "±1", "±3", "else"), _birth_levels, (0.85, 0.08, 0.05, 0.02)),
    Comparison(
        "death_date",
        ("same day", "compatible", "≤1 month", "≤1 year", "else"),
        _death_levels,
        (0.6, 0.3, 0.04, 0.03, 0.03),
    ),
    Comparison(
        "hometown",
        ("commune", "same text", "district", "province", "else"),
        _home_levels,
        (0.8, 0.05, 0.08, 0.04, 0.03),
    ),
    Comparison("mother", ("same", "jw≥0.9", "same given", "else"), _mother_levels, (0.85, 0.08, 0.04, 0.03)),
    Comparison("father", ("same", "jw≥0.9", "else"), _father_levels, (0.85, 0.1, 0.05)),
    Comparison("certificate", ("same", "else"), _exact_levels("cert"), (0.97, 0.03)),
    Comparison("sex", ("same", "else"), _exact_levels("sex"), (0.98, 0.02)),
    Comparison("unit", ("same", "jw≥0.9", "else"), _unit_levels, (0.7, 0.15, 0.15)),
)


def compare(features: pl.DataFrame, pairs: pl.DataFrame, chunk: int = 1_000_000) -> pl.DataFrame:
    """One row per pair with the level (int8, -1 unknown) of every comparison.

    Pairs are compared `chunk` at a time: both sides' columns are joined onto the pairs, and only
    the levels are kept, so memory stays bounded at national scale.
    """
    if pairs.height > chunk:
        return pl.concat(
            [compare(features, pairs.slice(i, chunk), chunk) for i in range(0, pairs.height, chunk)]
        )
    cols = [c for c in _COMPARE_COLUMNS if c in features.columns]
    side = features.select("uid", *cols)
    joined = pairs.join(side.rename({c: f"{c}_l" for c in cols}), left_on="uid_l", right_on="uid").join(
        side.rename({c: f"{c}_r" for c in cols}), left_on="uid_r", right_on="uid"
    )
    carried = ["uid_l", "uid_r", "key_variant_l", "key_variant_r", "mother_variant_l"]
    carried += [c for c in pairs.columns if c.startswith("by_")]
    return joined.select(c for c in carried if c in joined.columns).with_columns(
        c.levels(joined).alias(c.name) for c in COMPARISONS
    )
