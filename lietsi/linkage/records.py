"""Source columns → one shape: the martyr rows of the registry and both forms, the living relatives
of the forms, and the martyr rows set aside for having no usable name.
"""

from __future__ import annotations

import polars as pl

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


def select_columns(
    frame: pl.DataFrame, mapping: dict[str, str], types: dict[str, pl.DataType]
) -> list[pl.Expr]:
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
                *select_columns(frame, _MARTYR_COLUMNS[source], _TYPES),
            )
        )
    if not frames:
        return pl.DataFrame(schema={"source": pl.String, "file": pl.String, "row_number": pl.Int64, **_TYPES})
    return pl.concat(frames, how="vertical").with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c, t in _TYPES.items() if t == pl.String()
    )


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
                *select_columns(frame, mapping, _RELATIVE_TYPES),
            )
        )
    if not frames:
        return pl.DataFrame(
            schema={"source": pl.String, "file": pl.String, "row_number": pl.Int64, **_RELATIVE_TYPES}
        )
    return pl.concat(frames, how="vertical")


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
