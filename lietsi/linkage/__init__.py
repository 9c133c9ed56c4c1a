"""Record linkage: the same martyr in the registry, on form 01 and on every row of form 02.

Method (Fellegi–Sunter, in the manner of Splink but on polars frames end to end):

1. **Records.** `martyr_records` brings the three sources to one shape; rows of one form that repeat
   the same martyr block are collapsed into one *unit* (form 02 has one row per relative).
2. **Features.** Names are parsed once per distinct value (`lietsi.names`), hometowns once per
   distinct text (`lietsi.places`), death dates keep their precision as an interval of days.
3. **Blocking.** Candidate pairs are the union of equi-joins on several keys, each with a place key
   so blocks stay small at national scale (name × birth year × 2025 commune, and ±1 year; name ×
   death year × 2025 commune; given name × commune × birth year; mother × birth year; certificate;
   record id …, see `BLOCKING_RULES`). Each rule is a polars self-join; blocks larger than
   `max_block` are skipped and counted.
4. **Comparison levels** per field, vectorised (rapidfuzz `cpdist` for Jaro-Winkler).
5. **Model.** u-probabilities from random pairs (almost all non-matches), m-probabilities and the
   match prior by EM on the blocked pairs. Agreement on a name is adjusted by the frequency of that
   name (term-frequency adjustment): `u(value) = u(level) · tf(value) / Σ tf²`, so agreeing on
   `Nguyễn Văn Hùng` adds less weight than agreeing on a rare name.
6. **Clustering.** Pairs above the threshold form connected components; the pairs inside a component
   that blocking missed are scored too. A component that would hold two certificate numbers, two
   clearly different mothers' names, two sexes, or a pair the model rejects is rebuilt greedily from
   its strongest edges, refusing any merge that breaks a safeguard.
7. **Golden records and stable ids.** One row per cluster with the best value of each field and the
   sources behind it; the id is a hash of the cluster's first (source in arrival order — registry,
   form 02, form 01 —, source_record_id, file, row_number), so it does not change when the same
   inputs are linked again, nor when a later drop adds forms to a martyr the registry named.

Relatives are resolved in `link_relatives`: keyed citizen-id hash first, then name, birth year and
address.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lietsi.graphs import UnionFind, constrained_union
from lietsi.names import key_variant, name_frame, written_alike
from lietsi.places import most_common_province, place_frame, place_key
from lietsi.stats import pairwise_metrics
from lietsi.truth import TruthFolder

SOURCES = ("registry", "phieu_01", "phieu_02")

# Source columns → common martyr columns. A source without a column gets nulls.
_MARTYR_COLUMNS: dict[str, dict[str, str]] = {
    "registry": {
        "source_record_id": "record_id",
        "source_system": "source_system",
        "name_text": "full_name",
        "alias_text": "alias",
        "sex": "sex",
        "birth_year": "birth_year",
        "birth_year_approx": "birth_year_approx",
        "hometown": "hometown",
        "death_date": "death_date",
        "death_date_precision": "death_date_precision",
        "death_place": "death_place",
        "unit": "unit",
        "rank": "rank",
        "mother_name": "mother_name",
        "father_name": "father_name",
        "certificate_no": "certificate_no",
        "grave_status": "grave_status",
        "cemetery": "cemetery",
        "grave_position": "grave_position",
    },
    "phieu_01": {
        "source_record_id": "form_no",
        "source_system": "survey_commune",
        "name_text": "martyr_name",
        "birth_year": "martyr_birth_year",
        "birth_year_approx": "martyr_birth_year_approx",
        "hometown": "martyr_hometown",
        "death_date": "death_date",
        "death_date_precision": "death_date_precision",
        "cemetery": "cemetery",
        "grave_position": "grave_position",
    },
    "phieu_02": {
        "source_record_id": "form_no",
        "source_system": "survey_commune",
        "name_text": "martyr_name",
        "sex": "martyr_sex",
        "birth_year": "martyr_birth_year",
        "birth_year_approx": "martyr_birth_year_approx",
        "hometown": "martyr_hometown",
        "death_date": "death_date",
        "death_date_precision": "death_date_precision",
        "death_place": "death_place",
        "unit": "unit",
        "mother_name": "martyr_mother_name",
        "certificate_no": "certificate_no",
    },
}
_TYPES: dict[str, pl.DataType] = {
    "source_record_id": pl.String(),
    "source_system": pl.String(),
    "name_text": pl.String(),
    "alias_text": pl.String(),
    "sex": pl.String(),
    "birth_year": pl.Int32(),
    "birth_year_approx": pl.Boolean(),
    "hometown": pl.String(),
    "death_date": pl.Date(),
    "death_date_precision": pl.String(),
    "death_place": pl.String(),
    "unit": pl.String(),
    "rank": pl.String(),
    "mother_name": pl.String(),
    "father_name": pl.String(),
    "certificate_no": pl.String(),
    "grave_status": pl.String(),
    "cemetery": pl.String(),
    "grave_position": pl.String(),
}
MARTYR_FIELDS = list(_TYPES)


def _select(frame: pl.DataFrame, mapping: dict[str, str], types: dict[str, pl.DataType]) -> list[pl.Expr]:
    exprs = []
    for col, dtype in types.items():
        src = mapping.get(col)
        if src is not None and src in frame.columns:
            exprs.append(pl.col(src).cast(dtype, strict=False).alias(col))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(col))
    return exprs


def martyr_records(
    registry: pl.DataFrame | None, phieu_01: pl.DataFrame | None, phieu_02: pl.DataFrame | None
) -> pl.DataFrame:
    """Every input row that names a martyr, in one shape: `source, file, row_number, …fields`."""
    frames = []
    for source, frame in zip(SOURCES, (registry, phieu_01, phieu_02), strict=True):
        if frame is None or frame.is_empty():
            continue
        frames.append(
            frame.select(
                pl.lit(source).alias("source"),
                pl.col("file").cast(pl.String),
                pl.col("row_number").cast(pl.Int64),
                *_select(frame, _MARTYR_COLUMNS[source], _TYPES),
            )
        )
    if not frames:
        return pl.DataFrame(schema={"source": pl.String, "file": pl.String, "row_number": pl.Int64, **_TYPES})
    return pl.concat(frames, how="vertical").with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c, t in _TYPES.items() if t == pl.String()
    )


# ---------------------------------------------------------------------------------------------
# Features


def _norm_cert(col: str) -> pl.Expr:
    # `TQGC 12/345`, `12-345` and `12345` are one certificate: keep letters and digits only.
    return pl.col(col).str.replace_all(r"[^0-9]", "").str.strip_chars_start("0").replace("", None)


def _ascii_key(col: str) -> pl.Expr:
    """Lower-case ascii words via the name keys' unidecode, for free text like units."""
    return pl.col(col).map_batches(
        # Each distinct text once: a column of a million rows holds a few thousand places.
        lambda s: s.replace_strict(
            (u := s.drop_nulls().unique()), [place_key(v) or None for v in u.to_list()], default=None
        ),
        return_dtype=pl.String,
    )


def unit_frame(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse rows that repeat one martyr block on one form into units.

    Returns (units, row_map): `units` has one row per distinct (source, file, source_record_id,
    block); `row_map` maps every input row (source, file, row_number) to its `uid`.
    """
    block = [c for c in MARTYR_FIELDS if c != "source_system"]
    keyed = records.with_columns(
        pl.struct(["source", "file", "source_system", *block]).hash(seed=7).alias("_block")
    )
    units = (
        keyed.sort(["source", "file", "row_number"])
        .group_by("_block", maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("n_rows"))
        .sort(["source", "file", "row_number"])
        .with_row_index("uid")
        .with_columns(pl.col("uid").cast(pl.Int64))
    )
    row_map = keyed.select("source", "file", "row_number", "_block").join(
        units.select("_block", "uid"), on="_block", how="left"
    )
    return units.drop("_block"), row_map.drop("_block")


def martyr_features(units: pl.DataFrame, default_province: str | None = None) -> pl.DataFrame:
    """Names, places, dates, mothers and certificates as comparison-ready columns."""
    names = name_frame(units["name_text"], units["sex"])
    aliases = name_frame(units["alias_text"], units["sex"]).select(
        pl.col("key_variant").alias("alias_variant"), pl.col("name_full").alias("alias_full")
    )
    mothers = name_frame(units["mother_name"], pl.Series(["Nữ"] * units.height)).select(
        pl.col("name_full").alias("mother_full"),
        pl.col("key_variant").alias("mother_variant"),
        pl.col("given_variant").alias("mother_given"),
    )
    fathers = name_frame(units["father_name"], pl.Series(["Nam"] * units.height)).select(
        pl.col("key_variant").alias("father_variant")
    )
    if default_province is None:
        default_province = most_common_province(units["hometown"])
    home = place_frame(units["hometown"], default_province, prefix="home_")
    frame = pl.concat([units, names, aliases, mothers, fathers, home], how="horizontal")
    start = pl.col("death_date")
    end = (
        pl.when(pl.col("death_date_precision") == "day")
        .then(start)
        .when(pl.col("death_date_precision") == "month")
        .then(start.dt.month_end())
        .otherwise(pl.date(start.dt.year(), 12, 31))
    )
    return frame.with_columns(
        # Candidate names: the name and every alias, for alias blocking and comparison.
        pl.concat_list(
            pl.col("key_variant"),
            pl.col("aliases").list.eval(pl.element().map_elements(key_variant, return_dtype=pl.String)),
            pl.col("alias_variant"),
        )
        .list.drop_nulls()
        .list.unique()
        .alias("candidate_variants"),
        start.dt.epoch("d").alias("death_start"),
        end.dt.epoch("d").alias("death_end"),
        start.dt.year().alias("death_year"),
        # `Đ. V. Lợi` → `d v loi`: what an abbreviated name can be compared on.
        pl.col("key_variant").str.replace_all(r"(\w)[\w.]*\s+", "$1 ").alias("initials"),
        _norm_cert("certificate_no").alias("cert"),
        _ascii_key("unit").alias("unit_key"),
        _ascii_key("hometown").alias("home_key"),
        # Same source system (or survey commune) and record id (or form number): the same record.
        pl.concat_str(["source", "source_system", "source_record_id"], separator="|").alias("record_key"),
    )


# ---------------------------------------------------------------------------------------------
# Blocking


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


# ---------------------------------------------------------------------------------------------
# Comparison levels


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


# ---------------------------------------------------------------------------------------------
# Fellegi–Sunter model


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


# ---------------------------------------------------------------------------------------------
# Clustering with safeguards


def _mothers_conflict(a: str, b: str) -> bool:
    """Two mothers' names that clearly disagree (not a typo, variant or abbreviation of each other)."""
    if a == b:
        return False
    ga, gb = a.split()[-1].rstrip("."), b.split()[-1].rstrip(".")
    if ga.startswith(gb) or gb.startswith(ga):
        return False
    # Given names more than one keystroke apart: `Huệ`/`Thúy` conflict even though the whole names
    # (`Nguyễn Thị Huệ`/`Nguyễn Thị Thúy`) are close by Jaro-Winkler; `Huệ`/`Hệu` is a typo.
    return OSA.distance(ga, gb) > 1


Attrs = tuple[frozenset[str], ...]


def _martyr_conflict(a: Attrs, b: Attrs) -> bool:
    certs, sexes = a[0] | b[0], a[2] | b[2]
    if len(certs) > 1 or len(sexes) > 1:
        return True
    return any(_mothers_conflict(x, y) for x in a[1] for y in b[1])


def safeguard_violations(frame: pl.DataFrame) -> pl.DataFrame:
    """Clusters holding two certificate numbers, two clearly different mothers or two sexes.

    `frame` has one row per record: `cluster`, `cert` (normalised), `mother_variant`, `sex`.
    """
    per = frame.group_by("cluster").agg(
        pl.col("cert").drop_nulls().unique().alias("certs"),
        pl.col("mother_variant").drop_nulls().unique().alias("mothers"),
        pl.col("sex").drop_nulls().unique().alias("sexes"),
    )
    rows = []
    for cluster_id, certs, mothers, sexes in per.filter(
        (pl.col("certs").list.len() > 1)
        | (pl.col("mothers").list.len() > 1)
        | (pl.col("sexes").list.len() > 1)
    ).iter_rows():
        if len(certs) > 1:
            rows.append((cluster_id, "two certificate numbers"))
        if len(sexes) > 1:
            rows.append((cluster_id, "two sexes"))
        if any(_mothers_conflict(a, b) for i, a in enumerate(mothers) for b in mothers[i + 1 :]):
            rows.append((cluster_id, "two different mothers"))
    return pl.DataFrame(rows, schema={"cluster": per.schema["cluster"], "violation": pl.String}, orient="row")


def violations_from_links(records: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Safeguard violations of stored links (`source, file, row_number, martyr_id`) over raw records."""
    mothers = name_frame(records["mother_name"], pl.Series(["Nữ"] * records.height))["key_variant"]
    frame = records.select("source", "file", "row_number", _norm_cert("certificate_no").alias("cert"), "sex")
    frame = frame.with_columns(mothers.alias("mother_variant")).join(
        links.select("source", "file", "row_number", pl.col("martyr_id").alias("cluster")),
        on=["source", "file", "row_number"],
    )
    return safeguard_violations(frame)


# A pair the model scores below this probability is taken as two different martyrs: no cluster may
# hold both, even when a chain of strong links (through a record that says little, like a year-only
# death date and no mother) would join them.
REJECT_PROBABILITY = 0.05


def cluster(
    features: pl.DataFrame, scored: pl.DataFrame, threshold: float, reject: float = REJECT_PROBABILITY
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Connected components of pairs with probability ≥ threshold, split where a safeguard breaks.

    A component is rebuilt from its strongest edges, refusing unsafe merges, when it holds two
    certificate numbers, two clearly different mothers, two sexes, or a pair scored below `reject`.
    Returns a frame `uid, cluster` (cluster = smallest uid of the cluster) and counts.
    """
    n = features.height
    edges = scored.filter(pl.col("match_probability") >= threshold).select("uid_l", "uid_r", "match_weight")
    graph = coo_matrix(
        (np.ones(edges.height), (edges["uid_l"].to_numpy(), edges["uid_r"].to_numpy())), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    comp = pl.DataFrame({"uid": np.arange(n, dtype=np.int64), "component": labels.astype(np.int64)})
    checked = comp.rename({"component": "cluster"}).join(
        features.select("uid", "cert", "mother_variant", "sex"), on="uid"
    )
    low = scored.filter(pl.col("match_probability") < reject).select("uid_l", "uid_r")
    rejected = low.with_columns(
        pl.Series("c_l", labels[low["uid_l"].to_numpy()]), pl.Series("c_r", labels[low["uid_r"].to_numpy()])
    ).filter(pl.col("c_l") == pl.col("c_r"))
    unsafe = set(safeguard_violations(checked)["cluster"].to_list())
    split = set(rejected["c_l"].to_list())
    stats = {
        "accepted pairs": edges.height,
        "components rebuilt by safeguards": len(unsafe),
        "components rebuilt for a rejected pair inside": len(split - unsafe),
    }
    if unsafe or split:
        pairs = set(zip(rejected["uid_l"].to_list(), rejected["uid_r"].to_list(), strict=True))
        comp = _rebuild(features, comp, edges, unsafe | split, pairs, stats)
    out = comp.with_columns(pl.col("uid").min().over("component").alias("cluster")).select("uid", "cluster")
    return out, stats


def _unscored_component_pairs(
    n: int, scored: pl.DataFrame, threshold: float, max_size: int = 200
) -> pl.DataFrame:
    """Pairs inside the components of pairs ≥ threshold that blocking did not produce."""
    edges = scored.filter(pl.col("match_probability") >= threshold)
    graph = coo_matrix(
        (np.ones(edges.height), (edges["uid_l"].to_numpy(), edges["uid_r"].to_numpy())), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    members = pl.DataFrame(
        {"uid": np.arange(n, dtype=np.int64), "component": labels.astype(np.int64)}
    ).filter(pl.len().over("component").is_between(3, max_size))
    return (
        members.join(members, on="component", suffix="_r")
        .filter(pl.col("uid") < pl.col("uid_r"))
        .select(pl.col("uid").alias("uid_l"), pl.col("uid_r"))
        .join(scored.select("uid_l", "uid_r"), on=["uid_l", "uid_r"], how="anti")
    )


def _rebuild(
    features: pl.DataFrame,
    comp: pl.DataFrame,
    edges: pl.DataFrame,
    suspect: set[int],
    rejected: set[tuple[int, int]],
    stats: dict[str, int],
) -> pl.DataFrame:
    """Re-cluster the suspect components from their strongest edges, refusing unsafe merges."""
    members = comp.filter(pl.col("component").is_in(list(suspect)))
    info = members.join(features.select("uid", "cert", "mother_variant", "sex"), on="uid")
    attrs: dict[int, Attrs] = {
        uid: (*(frozenset([v]) if v else frozenset() for v in (cert, mother, sex)), frozenset([uid]))
        for uid, _, cert, mother, sex in info.iter_rows()
    }

    def conflict(a: Attrs, b: Attrs) -> bool:
        if _martyr_conflict(a, b):
            return True
        return any((min(x, y), max(x, y)) in rejected for x in a[3] for y in b[3])

    sub = edges.filter(pl.col("uid_l").is_in(list(attrs))).sort("match_weight", descending=True)
    roots, refused = constrained_union(attrs, list(zip(sub["uid_l"], sub["uid_r"], strict=True)), conflict)
    stats["merges refused by safeguards"] = refused
    offset = int(comp["component"].max()) + 1
    new = pl.DataFrame(
        {"uid": list(roots), "new_component": [offset + r for r in roots.values()]},
        schema={"uid": pl.Int64, "new_component": pl.Int64},
    )
    return (
        comp.join(new, on="uid", how="left")
        .with_columns(pl.coalesce("new_component", "component").alias("component"))
        .drop("new_component")
    )


# ---------------------------------------------------------------------------------------------
# Orchestration, ids, golden records


@dataclass
class LinkageResult:
    links: pl.DataFrame  # one row per input row: source, source_record_id, file, row_number, martyr_id
    martyrs: pl.DataFrame  # golden records
    pairs: pl.DataFrame  # scored candidate pairs (uid_l, uid_r, levels, weights)
    model: FSModel
    stats: dict[str, int | float]


def stable_id(prefix: str, source: str, record_id: str | None, file: str, row_number: int) -> str:
    key = f"{source}\x1f{record_id or ''}\x1f{file}\x1f{row_number}"
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


# Sources in the order a province receives them: an id comes from the earliest source of its
# cluster, so records of later drops (forms after the registry) join a cluster without renaming it.
_ID_SOURCE_ORDER = {"registry": 0, "phieu_02": 1, "phieu_01": 2}


def _stable_ids(members: pl.DataFrame, group: str, prefix: str, id_col: str) -> pl.DataFrame:
    """`group → id` from the group's first (source in arrival order, source_record_id, file, row_number)."""
    order = ["source", "source_record_id", "file", "row_number"]
    arrival = pl.col("source").replace_strict(_ID_SOURCE_ORDER, default=9, return_dtype=pl.Int8)
    first = (
        members.sort([pl.col(group), arrival, *order], nulls_last=True)
        .group_by(group, maintain_order=True)
        .first()
    )
    return first.select(
        group,
        pl.struct(order)
        .map_elements(
            lambda r: stable_id(prefix, r["source"], r["source_record_id"], r["file"], r["row_number"]),
            return_dtype=pl.String,
        )
        .alias(id_col),
    )


_SOURCE_RANK = {"registry": 0, "phieu_02": 1, "phieu_01": 2}


def _with_counts(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """Add `_n_<col>`: how many records of the cluster carry the same value (for `_best`)."""
    return frame.with_columns(pl.len().over("_cluster", c).cast(pl.Int64).alias(f"_n_{c}") for c in cols)


def _best(col: str, *, prefer: str | None = None) -> pl.Expr:
    """The most frequent non-null value; ties broken by `prefer` (lower first), then source rank."""
    keys = [pl.col(col).is_null(), -pl.col(f"_n_{col}")]
    if prefer:
        keys.append(pl.col(prefer))
    return pl.col(col).sort_by([*keys, pl.col("_rank")]).first().alias(col)


def golden_martyrs(features: pl.DataFrame, clusters: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """One row per martyr: the best value of each field, and where the values came from."""
    precision_rank = pl.col("death_date_precision").replace_strict(
        {"day": 0, "month": 1, "year": 2}, default=3, return_dtype=pl.Int8
    )
    frame = (
        features.join(clusters, on="uid")
        .rename({"cluster": "_cluster"})
        .with_columns(
            pl.col("source").replace_strict(_SOURCE_RANK, default=9, return_dtype=pl.Int8).alias("_rank"),
            precision_rank.alias("_precision"),
            pl.col("home_status")
            .replace_strict({"mapped": 0, "district": 1, "province": 2}, default=3, return_dtype=pl.Int8)
            .alias("_home_rank"),
            pl.col("birth_year_approx").fill_null(False).cast(pl.Int8).alias("_approx"),
            pl.col("abbreviated").fill_null(False).cast(pl.Int8).alias("_abbr"),
        )
    )
    home_cols = [
        "home_commune",
        "home_district",
        "home_province",
        "home_commune_code",
        "home_district_code",
        "home_province_code",
        "hometown",
    ]
    best_cols = [
        "name_full",
        "sex",
        "birth_year",
        "death_date",
        "death_place",
        "unit",
        "rank",
        "mother_full",
        "father_name",
        "certificate_no",
        "grave_status",
        "cemetery",
        "grave_position",
    ]
    golden = (
        _with_counts(frame, best_cols)
        .group_by("_cluster")
        .agg(
            _best("name_full", prefer="_abbr"),
            pl.col("alias_full").drop_nulls().unique().sort().alias("aliases"),
            _best("sex"),
            _best("birth_year", prefer="_approx"),
            # The hometown fields come from one record so that commune, district and province agree.
            *[pl.col(c).sort_by(["_home_rank", "_rank", "row_number"]).first().alias(c) for c in home_cols],
            # The most precise death date; among equals the most frequent, then the best source.
            *[
                pl.col(c)
                .sort_by([pl.col("death_date").is_null(), "_precision", -pl.col("_n_death_date"), "_rank"])
                .first()
                .alias(c)
                for c in ("death_date", "death_date_precision")
            ],
            _best("death_place"),
            _best("unit"),
            _best("rank"),
            _best("mother_full"),
            _best("father_name"),
            _best("certificate_no"),
            _best("grave_status"),
            _best("cemetery"),
            _best("grave_position"),
            pl.col("source").unique().sort().alias("sources"),
            pl.col("n_rows").sum().alias("n_records"),
            (pl.col("source") == "phieu_01").any().alias("_on_form_01"),
        )
    )
    return (
        golden.join(ids, left_on="_cluster", right_on="cluster")
        .with_columns(
            # Form 01 lists martyrs whose grave is identified.
            pl.when(pl.col("grave_status").is_null() & pl.col("_on_form_01"))
            .then(pl.lit("Đã xác định"))
            .otherwise(pl.col("grave_status"))
            .alias("grave_status")
        )
        .select(
            "martyr_id",
            pl.col("name_full").alias("full_name"),
            "birth_year",
            pl.col("home_commune").alias("hometown_commune"),
            pl.col("home_district").alias("hometown_district"),
            pl.col("home_province").alias("hometown_province"),
            "death_date",
            "grave_status",
            "sex",
            "aliases",
            "death_date_precision",
            "death_place",
            "unit",
            "rank",
            pl.col("mother_full").alias("mother_name"),
            "father_name",
            "certificate_no",
            "cemetery",
            "grave_position",
            pl.col("hometown").alias("hometown_text"),
            pl.col("home_commune_code").alias("hometown_commune_code"),
            pl.col("home_district_code").alias("hometown_district_code"),
            pl.col("home_province_code").alias("hometown_province_code"),
            "sources",
            "n_records",
        )
        .sort("martyr_id")
    )


def link_martyrs(
    records: pl.DataFrame,
    *,
    threshold: float = 0.9,
    default_province: str | None = None,
    max_block: int = 400,
    u_sample: int = 200_000,
) -> LinkageResult:
    """Link martyr records into resolved martyrs (see the module docstring for the method)."""
    units, row_map = unit_frame(records)
    features = martyr_features(units, default_province).with_columns(
        (pl.col("death_date_precision") == "day").alias("death_precision_day")
    )
    pairs, stats = block_pairs(features, max_block=max_block)
    u = estimate_u(features, u_sample)
    levels = compare(features, pairs)
    model = train(levels, u)
    model.tf = {name: term_frequencies(features, col) for name, (col, _) in TF_FIELDS.items()}
    scored = score(levels, model)
    # Pairs that a chain of links puts in one component without being blocked together are scored
    # too, so that the clustering sees when the model rejects one of them.
    unseen = _unscored_component_pairs(features.height, scored, threshold)
    if unseen.height:
        scored = pl.concat([scored, score(compare(features, unseen), model)], how="diagonal_relaxed")
    stats["component pairs scored after blocking"] = unseen.height
    clusters, cstats = cluster(features, scored, threshold)
    stats.update(cstats)
    members = row_map.join(clusters, on="uid").join(units.select("uid", "source_record_id"), on="uid")
    ids = _stable_ids(members, "cluster", "LS-", "martyr_id")
    links = (
        members.join(ids, on="cluster")
        .join(scored_best(scored, clusters), on="uid", how="left")
        .select("source", "source_record_id", "file", "row_number", "martyr_id", "uid", "link_probability")
        .sort("source", "file", "row_number")
    )
    martyrs = golden_martyrs(features, clusters, ids)
    stats.update(
        {
            "records": records.height,
            "units": units.height,
            "martyrs": martyrs.height,
            "em_iterations": model.iterations,
            "em_prior": model.prior,
        }
    )
    return LinkageResult(links=links, martyrs=martyrs, pairs=scored, model=model, stats=stats)


def scored_best(scored: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Per unit, the best probability of a pair inside its cluster (1.0 for a singleton: nothing to link)."""
    inside = (
        scored.select("uid_l", "uid_r", "match_probability")
        .join(clusters.rename({"uid": "uid_l", "cluster": "c_l"}), on="uid_l")
        .join(clusters.rename({"uid": "uid_r", "cluster": "c_r"}), on="uid_r")
        .filter(pl.col("c_l") == pl.col("c_r"))
    )
    best = (
        pl.concat(
            [
                inside.select(pl.col("uid_l").alias("uid"), "match_probability"),
                inside.select(pl.col("uid_r").alias("uid"), "match_probability"),
            ]
        )
        .group_by("uid")
        .agg(pl.col("match_probability").max().alias("link_probability"))
    )
    return (
        clusters.select("uid")
        .join(best, on="uid", how="left")
        .with_columns(pl.col("link_probability").fill_null(1.0))
    )


# ---------------------------------------------------------------------------------------------
# Relatives


_RELATIVE_TYPES: dict[str, pl.DataType] = {
    "source_record_id": pl.String(),
    "name_text": pl.String(),
    "sex": pl.String(),
    "birth_year": pl.Int32(),
    "birth_year_approx": pl.Boolean(),
    "citizen_id_hash": pl.String(),
    "citizen_id_valid": pl.Boolean(),
    "phone_hash": pl.String(),
    "address": pl.String(),
    "relationship": pl.String(),
    "health": pl.String(),
    "consent": pl.String(),
}
_RELATIVE_COLUMNS = {
    "phieu_01": {
        "source_record_id": "form_no",
        "name_text": "recipient_name",
        "citizen_id_hash": "recipient_citizen_id_hash",
        "citizen_id_valid": "recipient_citizen_id_valid",
        "address": "address",
        "relationship": "relationship",
    },
    "phieu_02": {
        "source_record_id": "form_no",
        "name_text": "relative_name",
        "sex": "relative_sex",
        "birth_year": "relative_birth_year",
        "birth_year_approx": "relative_birth_year_approx",
        "citizen_id_hash": "citizen_id_hash",
        "citizen_id_valid": "citizen_id_valid",
        "phone_hash": "phone_hash",
        "address": "address",
        "relationship": "relationship",
        "health": "health",
        "consent": "consent",
    },
}


def relative_records(phieu_01: pl.DataFrame | None, phieu_02: pl.DataFrame | None) -> pl.DataFrame:
    """Every form row that names a living relative (form 01 recipient, form 02 relative)."""
    frames = []
    for source, frame in (("phieu_01", phieu_01), ("phieu_02", phieu_02)):
        if frame is None or frame.is_empty():
            continue
        mapping = _RELATIVE_COLUMNS[source]
        name_col = mapping["name_text"]
        if name_col not in frame.columns:
            continue
        frames.append(
            frame.filter(pl.col(name_col).is_not_null() & (pl.col(name_col).str.strip_chars() != "")).select(
                pl.lit(source).alias("source"),
                pl.col("file").cast(pl.String),
                pl.col("row_number").cast(pl.Int64),
                *_select(frame, mapping, _RELATIVE_TYPES),
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={"source": pl.String, "file": pl.String, "row_number": pl.Int64, **_RELATIVE_TYPES}
        )
    return pl.concat(frames, how="vertical")


def martyr_families(martyrs: pl.DataFrame) -> pl.DataFrame:
    """`martyr_id, family`: keys that martyrs of one family share.

    A martyr is his own family; martyrs from one hometown with the same mother (or father) are
    siblings. A relative named for two martyrs of one family (a sister, on the forms of both her
    fallen brothers) is one person far more often than two namesakes: families avoid giving a living
    member's name to a child.
    """
    n = martyrs.height
    place = pl.coalesce("hometown_commune_code", "hometown_district_code", "hometown_province_code")
    frame = martyrs.select("martyr_id", place.alias("_place")).with_columns(
        name_frame(martyrs["mother_name"], pl.Series(["Nữ"] * n))["key_variant"].alias("_mother"),
        name_frame(martyrs["father_name"], pl.Series(["Nam"] * n))["key_variant"].alias("_father"),
    )
    return pl.concat(
        [
            frame.select("martyr_id", pl.col("martyr_id").alias("family")),
            frame.select(
                "martyr_id", pl.concat_str([pl.lit("m"), "_mother", "_place"], separator="|").alias("family")
            ),
            frame.select(
                "martyr_id", pl.concat_str([pl.lit("f"), "_father", "_place"], separator="|").alias("family")
            ),
        ],
        how="vertical_relaxed",
    ).drop_nulls()


def _related_pairs(
    frame: pl.DataFrame, martyr_links: pl.DataFrame | None, families: pl.DataFrame | None
) -> pl.DataFrame:
    """(rid, rid_r) of relative rows whose martyrs are one family (or whose form is the same)."""
    keys = [
        frame.select(
            "rid", pl.concat_str(["source", "file", "source_record_id"], separator="|").alias("family")
        )
    ]
    if martyr_links is not None and families is not None:
        keys.append(
            frame.select("rid", "source", "file", "row_number")
            .join(
                martyr_links.select("source", "file", "row_number", "martyr_id"),
                on=["source", "file", "row_number"],
            )
            .join(families, on="martyr_id")
            .select("rid", "family")
        )
    fam = pl.concat(keys).drop_nulls().unique()
    return (
        fam.join(fam, on="family", suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .select("rid", "rid_r", pl.lit(True).alias("related"))
        .unique()
    )


def _canonical_ids(cids: pl.DataFrame, edges: pl.DataFrame) -> dict[str, str]:
    """Citizen-id hash → one id for all the hashes `edges` (pairs of hashes) say belong to one person."""
    uf: UnionFind[str] = UnionFind()
    for a, b in edges.iter_rows():
        uf.union(a, b)
    return {c: uf.find(c) for c in cids["cid"].drop_nulls().unique().to_list() if c in uf}


# `core.relatives`, also when there is no form row yet.
RELATIVES_SCHEMA: dict[str, pl.DataType] = {
    "relative_id": pl.String,
    "full_name": pl.String,
    "birth_year": pl.Int32,
    "citizen_id_hash": pl.String,
    "sex": pl.String,
    "address_commune": pl.String,
    "address_district": pl.String,
    "address_province": pl.String,
    "health": pl.String,
    "consent": pl.String,
    "phone_hash": pl.String,
    "sources": pl.List(pl.String),
    "n_records": pl.UInt32,
}


def link_relatives(
    records: pl.DataFrame,
    default_province: str | None = None,
    martyr_links: pl.DataFrame | None = None,
    families: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Resolve relatives: same valid citizen-id hash; else same name, compatible birth year, address.

    `martyr_links` (source, file, row_number → martyr_id) and `families` (`martyr_families`) say
    which rows concern martyrs of one family: only there may a missing birth year be passed over or
    two citizen ids be taken for one person's mistyped id.
    Returns (links, relatives): links one row per input row with `relative_id`; relatives one row
    per person with the best value of each field.
    """
    if records.is_empty():
        links = records.select("source", "source_record_id", "file", "row_number").with_columns(
            pl.lit(None, pl.String).alias("relative_id")
        )
        return links, pl.DataFrame(schema=RELATIVES_SCHEMA)
    frame = records.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64))
    names = name_frame(frame["name_text"], frame["sex"]).select(
        "name_full", "key_toneless", "key_variant", "given_variant"
    )
    if default_province is None:
        default_province = most_common_province(frame["address"])
    addr = place_frame(frame["address"], default_province, prefix="addr_").select(
        "addr_commune", "addr_district", "addr_province", "addr_commune_code"
    )
    frame = (
        pl.concat([frame, names, addr], how="horizontal")
        .with_columns(
            pl.when(pl.col("citizen_id_valid").fill_null(True)).then(pl.col("citizen_id_hash")).alias("cid"),
            _ascii_key("address").alias("addr_key"),
        )
        .with_columns(pl.coalesce("addr_commune_code", "addr_key").alias("addr_block"))
    )
    related = _related_pairs(frame, martyr_links, families)
    side = frame.drop_nulls(["key_variant", "addr_block"]).select(
        "rid",
        "key_variant",
        "key_toneless",
        "addr_block",
        "birth_year",
        "birth_year_approx",
        "phone_hash",
        "cid",
        "source",
        "file",
        "source_record_id",
    )
    same_form = (pl.col("file") == pl.col("file_r")) & (
        pl.col("source_record_id") == pl.col("source_record_id_r")
    )
    # Birth years equal, or one year apart when either is approximate; a year missing on one side
    # (form 01 does not ask it) only between rows of one martyr family.
    gap = (pl.col("birth_year") - pl.col("birth_year_r")).abs()
    approx = pl.col("birth_year_approx").fill_null(False) | pl.col("birth_year_approx_r").fill_null(False)
    years_agree = (
        pl.when(pl.col("birth_year").is_null() | pl.col("birth_year_r").is_null())
        .then(pl.col("related"))
        .otherwise((gap == 0) | ((gap <= 1) & approx))
    )
    same_toneless = (pl.col("key_toneless") == pl.col("key_toneless_r")).fill_null(False)
    # A name equal only without diacritics (`Nguyen Van An` / `Nguyễn Văn Ẩn`) needs both years, equal.
    names_agree = same_toneless | (gap == 0).fill_null(False)
    phones_agree = (
        pl.col("phone_hash").is_null()
        | pl.col("phone_hash_r").is_null()
        | (pl.col("phone_hash") == pl.col("phone_hash_r"))
    )
    name_pairs = (
        side.join(side, on=["key_variant", "addr_block"], suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .join(related, on=["rid", "rid_r"], how="left")
        .with_columns(pl.col("related").fill_null(False))
        .filter(years_agree.fill_null(False) & names_agree & phones_agree)
    )
    # Two citizen ids on rows with one name and address, on the forms of two martyrs of one family:
    # one person whose id was mistyped on one form (a dropped digit, a letter O). Two such rows on one
    # form are two people — a form lists each relative once.
    mistyped = name_pairs.filter(
        pl.col("related")
        & same_toneless
        & ~same_form.fill_null(False)
        & pl.col("cid").is_not_null()
        & pl.col("cid_r").is_not_null()
    ).select("cid", "cid_r")
    canonical = _canonical_ids(frame, mistyped)
    if canonical:
        frame = frame.with_columns(pl.col("cid").replace(canonical))
    # Edges, strongest first: (3) the same valid citizen-id hash; (2) a name edge on one form; (1) a
    # name edge across forms; (0) a keyboard slip in the name (one letter dropped, doubled or
    # swapped) with the same phone, or the same address commune and birth year.
    by_cid = frame.drop_nulls("cid").select("rid", "cid")
    cid_edges = by_cid.join(by_cid, on="cid", suffix="_r").select("rid", "rid_r", pl.lit(3).alias("strength"))
    name_edges = name_pairs.select(
        "rid", "rid_r", pl.when(same_form.fill_null(False)).then(2).otherwise(1).alias("strength")
    )
    fuzzy = frame.select("rid", "key_toneless", "addr_block", "birth_year", "phone_hash")
    candidates = pl.concat(
        [
            fuzzy.drop_nulls(["phone_hash"]).join(
                fuzzy.drop_nulls(["phone_hash"]), on="phone_hash", suffix="_r"
            ),
            fuzzy.drop_nulls(["addr_block", "birth_year"]).join(
                fuzzy.drop_nulls(["addr_block", "birth_year"]), on=["addr_block", "birth_year"], suffix="_r"
            ),
        ],
        how="diagonal_relaxed",
    ).filter(
        (pl.col("rid") < pl.col("rid_r"))
        & pl.col("key_toneless").is_not_null()
        & pl.col("key_toneless_r").is_not_null()
    )
    slips = (
        cpdist(
            candidates["key_toneless"].to_list(),
            candidates["key_toneless_r"].to_list(),
            scorer=OSA.distance,
            workers=-1,
        )
        if candidates.height
        else np.zeros(0)
    )
    fuzzy_edges = candidates.filter(pl.Series(slips <= 1)).select("rid", "rid_r", pl.lit(0).alias("strength"))
    # (0) The same name written by another hand (a middle name left out or abbreviated:
    # `Lê Kiệt` / `Lê Thành Kiệt`, `T. N. Nga` / `Trần Nga`): the same given name, and either the
    # same phone, or the same address commune and birth year (a year missing on one side only
    # between rows of one martyr family); birth years and phones never disagreeing.
    hands = frame.select("rid", "name_full", "given_variant", "addr_block", "birth_year", "phone_hash")
    by_phone = hands.drop_nulls(["phone_hash", "given_variant"])
    by_place = hands.drop_nulls(["addr_block", "given_variant"])
    alike = (
        pl.concat(
            [
                by_phone.join(by_phone, on=["phone_hash", "given_variant"], suffix="_r").with_columns(
                    pl.lit(True).alias("same_phone")
                ),
                by_place.join(by_place, on=["addr_block", "given_variant"], suffix="_r").with_columns(
                    pl.lit(False).alias("same_phone")
                ),
            ],
            how="diagonal_relaxed",
        )
        .filter(pl.col("rid") < pl.col("rid_r"))
        .join(related, on=["rid", "rid_r"], how="left")
        .filter(
            ~(pl.col("birth_year") != pl.col("birth_year_r")).fill_null(False)
            & ~(pl.col("phone_hash") != pl.col("phone_hash_r")).fill_null(False)
            & (
                pl.col("same_phone")
                | (pl.col("birth_year") == pl.col("birth_year_r")).fill_null(False)
                | pl.col("related").fill_null(False)
            )
        )
        .drop_nulls(["name_full", "name_full_r"])
        .unique(["rid", "rid_r"], maintain_order=True)
    )
    alike_edges = alike.filter(
        pl.Series(
            [written_alike(a, b) for a, b in zip(alike["name_full"], alike["name_full_r"], strict=True)],
            dtype=pl.Boolean,
        )
    ).select("rid", "rid_r", pl.lit(0).alias("strength"))
    all_edges = (
        pl.concat([cid_edges, name_edges, fuzzy_edges, alike_edges], how="vertical_relaxed")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .group_by("rid", "rid_r")
        .agg(pl.col("strength").max())
        .sort(["strength", "rid", "rid_r"], descending=[True, False, False])
    )
    cids = dict(frame.select("rid", "cid").iter_rows())
    attrs: dict[int, Attrs] = {r: (frozenset([c]) if c else frozenset(),) for r, c in cids.items()}
    # A person has one citizen id: no merge may bring two together.
    roots, _ = constrained_union(
        attrs,
        list(zip(all_edges["rid"], all_edges["rid_r"], strict=True)),
        lambda a, b: len(a[0] | b[0]) > 1,
    )
    frame = frame.with_columns(pl.col("rid").replace_strict(roots, return_dtype=pl.Int64).alias("cluster"))
    ids = _stable_ids(frame, "cluster", "TN-", "relative_id")
    frame = frame.join(ids, on="cluster")
    links = frame.select("source", "source_record_id", "file", "row_number", "relative_id").sort(
        "source", "file", "row_number"
    )
    relatives = (
        frame.with_columns(
            pl.col("source")
            .replace_strict({"phieu_02": 0, "phieu_01": 1}, default=9, return_dtype=pl.Int8)
            .alias("_rank"),
            pl.col("cluster").alias("_cluster"),
        )
        .pipe(
            _with_counts,
            [
                "name_full",
                "birth_year",
                "cid",
                "sex",
                "addr_commune",
                "addr_district",
                "addr_province",
                "health",
                "phone_hash",
            ],
        )
        .group_by("relative_id")
        .agg(
            _best("name_full"),
            _best("birth_year"),
            _best("cid"),
            _best("sex"),
            _best("addr_commune"),
            _best("addr_district"),
            _best("addr_province"),
            _best("health"),
            # Consent once given stays given unless refused later; any `Không` is respected.
            pl.when((pl.col("consent") == "Không").any())
            .then(pl.lit("Không"))
            .when((pl.col("consent") == "Có").any())
            .then(pl.lit("Có"))
            .otherwise(pl.lit(None, pl.String))
            .alias("consent"),
            _best("phone_hash"),
            pl.col("source").unique().sort().alias("sources"),
            pl.len().alias("n_records"),
        )
        .select(
            "relative_id",
            pl.col("name_full").alias("full_name"),
            "birth_year",
            pl.col("cid").alias("citizen_id_hash"),
            "sex",
            pl.col("addr_commune").alias("address_commune"),
            pl.col("addr_district").alias("address_district"),
            pl.col("addr_province").alias("address_province"),
            "health",
            "consent",
            "phone_hash",
            "sources",
            "n_records",
        )
        .sort("relative_id")
    )
    return links, relatives.cast(RELATIVES_SCHEMA)


# ---------------------------------------------------------------------------------------------
# Evaluation


def truth_metrics(
    martyr_links: pl.DataFrame, relative_links: pl.DataFrame | None, truth: TruthFolder
) -> pl.DataFrame:
    """Martyr and relative linkage against the generator's truth: `entity, metric, value` rows.

    Without `relative_links` only martyrs are measured (the martyr check runs before relatives exist).

    Truth rows join ours on (source, file, row_number): `martyr_records.csv` (martyr_uid) and
    `relative_records.csv` (person_uid).
    """
    on = ["source", "file", "row_number"]
    rows: list[tuple[str, str, float]] = []
    for entity, ours, table, uid, id_col in (
        ("martyrs", martyr_links, "martyr_records", "martyr_uid", "martyr_id"),
        ("relatives", relative_links, "relative_records", "person_uid", "relative_id"),
    ):
        if ours is None or not truth.has(table):
            continue
        expected = (
            truth.read(table)
            .select("source", "file", pl.col("row_number").cast(pl.Int64), pl.col(uid).alias("true"))
            .unique(on)
        )
        predicted = ours.select(*on, pl.col(id_col).alias("pred")).with_columns(
            pl.col("row_number").cast(pl.Int64)
        )
        metrics = pairwise_metrics(predicted, expected, on)
        metrics["truth_rows_unlinked"] = expected.join(predicted, on=on, how="anti").height
        rows.extend((entity, k, float(v)) for k, v in metrics.items())
    return pl.DataFrame(
        rows, schema={"entity": pl.String, "metric": pl.String, "value": pl.Float64}, orient="row"
    )


def split_unusable(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records with a usable name, quarantine rows for the rest: source, file, row_number, reason, raw)."""
    usable_name = pl.col("name_text").str.contains(r"[^\W\d_]")
    bad = records.filter(~usable_name.fill_null(False))
    quarantine = bad.select(
        "source",
        "file",
        "row_number",
        pl.lit("martyr name has no letters").alias("reason"),
        pl.struct("source_record_id", "name_text", "birth_year").struct.json_encode().alias("raw"),
    )
    return records.filter(usable_name.fill_null(False)), quarantine
