"""Comparison-ready columns of martyr records: units of repeated rows, parsed names and places,
death dates as intervals of days, normalised certificates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import polars as pl
from unidecode import unidecode

from lietsi.linkage.records import MARTYR_FIELDS
from lietsi.names import key_variant, name_frame
from lietsi.places import most_common_province, place_frame, place_key


def normalise_certificate(col: str) -> pl.Expr:
    # `TQGC 12/345`, `12-345` and `12345` are one certificate: keep letters and digits only.
    return pl.col(col).str.replace_all(r"[^0-9]", "").str.strip_chars_start("0").replace("", None)


def _each_distinct(col: str, key: Callable[[str], str]) -> pl.Expr:
    return pl.col(col).map_batches(
        # Each distinct text once: a column of a million rows holds a few thousand places.
        lambda s: s.replace_strict(
            (u := s.drop_nulls().unique()), [key(v) or None for v in u.to_list()], default=None
        ),
        return_dtype=pl.String,
    )


def ascii_words(col: str) -> pl.Expr:
    """Lower-case ascii words via the name keys' unidecode, for free text like units."""
    return _each_distinct(col, place_key)


def address_key(col: str) -> pl.Expr:
    """`ascii_words` of addresses, the number of every hamlet, quarter or xóm they name written one
    way (`Ấp Chín` / `ấp 09` / `Ấp IX`, `xóm Ba` / `xóm 3`, `thôn Một`): a key for addresses in
    which no commune was found."""
    return _each_distinct(col, _address_words)


def _address_words(address: str) -> str:
    parts = _PARTS.split(address.strip())
    return place_key(", ".join(" ".join(h) if (h := _hamlet_head(p)) else p for p in parts))


# The hamlet (ấp, thôn), urban quarter (khu phố, khóm) or xóm an address part names, and its
# number as hands write it: `Ấp 7`, `ấp 07`, `Ấp VII`, `ấp Bảy`.
_PARTS = re.compile(r"\s*[,;]\s*|\s+[-–]\s+")
_HAMLET = re.compile(r"^(ap|thon|khu pho|kp|khom|xom)\b\.?\s*(.+)$")
_HAMLET_NUMBERS = {
    **{
        w: str(i)
        for i, w in enumerate(("mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi"), 1)
    },
    "tu": "4",
    **{r: str(i) for i, r in enumerate(("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"), 1)},
}


def _hamlet_head(part: str) -> tuple[str, str] | None:
    """(unit word, number normalised) of an address part naming a hamlet, quarter or xóm (`Ấp VII`
    → `ap`, `7`); None for any other part."""
    match = _HAMLET.match(unidecode(part).strip().lower())
    if not match:
        return None
    value = re.sub(r"[^a-z0-9]+", " ", match.group(2)).strip()
    return match.group(1), str(int(value)) if value.isdigit() else _HAMLET_NUMBERS.get(value, value)


@lru_cache(maxsize=100_000)
def hamlet_key(address: str | None) -> str | None:
    """The hamlet or quarter an address names first, its number normalised (`Ấp VII` → `7`); None
    when the address does not start with one — nor with a xóm, which a hand may add inside a
    hamlet or leave out."""
    head = _hamlet_head(_PARTS.split(address.strip(), maxsplit=1)[0]) if address else None
    if head is None or head[0] == "xom":
        return None
    return head[1] or None


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
        normalise_certificate("certificate_no").alias("cert"),
        ascii_words("unit").alias("unit_key"),
        ascii_words("hometown").alias("home_key"),
        # Same source system (or survey commune) and record id (or form number): the same record.
        pl.concat_str(["source", "source_system", "source_record_id"], separator="|").alias("record_key"),
    )
