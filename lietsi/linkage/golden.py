"""Golden records: one row per resolved martyr and per resolved relative, the best value of each field
and its sources."""

from __future__ import annotations

import polars as pl

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


def golden_relatives(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per resolved relative (`core.relatives`): the best value of each field and its sources."""
    return (
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
    ).cast(RELATIVES_SCHEMA)
