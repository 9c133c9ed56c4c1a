"""Printable worklists: where each relative and line is listed, and one sheet per commune."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lietsi.kinship.worklist import WorklistResult, sampling_worklist
from lietsi.names import sort_key
from lietsi.places import OUTSIDE_PROVINCE, UNIT_COLUMNS, admin_units, grouping_key

ROLE_VI = {
    "primary": "Lấy mẫu (chính)",
    "backup": "Lấy mẫu (dự phòng)",
    "ask_consent": "Hỏi ý kiến đồng ý",
    "refused": "Không lấy mẫu (từ chối)",
    "no_donor": "Chưa có người cho mẫu",
}


OUTSIDE_LABEL = "Thân nhân sống ngoài tỉnh (relatives living outside the province)"


UNPLACED_LABEL = "(chưa rõ xã)"


def worklist_places(
    relatives: pl.DataFrame,
    martyrs: pl.DataFrame,
    home: str | None,
    identified_elsewhere: frozenset[str] = frozenset(),
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Where each relative and martyr is listed, as the grouping key of `places.grouping_key`.

    A relative is listed where they live (`address_commune/district/province`), else under the
    commune that surveyed them (`survey_commune`, a commune of the home province); someone living
    in another province goes to the one "outside the province" list. A martyr's line without a
    donor is listed in his home commune. A martyr needs no sample when his grave is identified, or
    when another province's council confirmed his remains (`identified_elsewhere`: martyr ids).
    Returns (relatives with `commune`, martyrs with `commune` and `needs_sample`, the units:
    `commune` key and `places.UNIT_COLUMNS`).
    """
    rel = relatives
    for c in ("address_commune", "address_district", "address_province", "survey_commune"):
        if c not in rel.columns:
            rel = rel.with_columns(pl.lit(None, pl.String).alias(c))
    lives = admin_units(rel, "address_commune", "address_district", "address_province", home)
    surveyed = admin_units(rel.select("survey_commune"), "survey_commune", home_province=home)
    placed = pl.col("commune_code").is_not_null() | pl.col("in_province").not_().fill_null(False)
    rel_units = pl.concat(
        [
            lives.select("relative_id", *UNIT_COLUMNS).filter(placed),
            pl.concat([rel.select("relative_id"), surveyed.select(*UNIT_COLUMNS)], how="horizontal"),
        ]
    ).unique("relative_id", keep="first", maintain_order=True)
    mar = martyrs
    for c in ("hometown_commune", "hometown_district", "hometown_province", "grave_status"):
        if c not in mar.columns:
            mar = mar.with_columns(pl.lit(None, pl.String).alias(c))
    mar_units = admin_units(
        mar.select("martyr_id", "hometown_commune", "hometown_district", "hometown_province", "grave_status"),
        "hometown_commune",
        "hometown_district",
        "hometown_province",
        home,
    )
    units = (
        pl.concat([rel_units.select(*UNIT_COLUMNS), mar_units.select(*UNIT_COLUMNS)])
        .with_columns(grouping_key().alias("commune"))
        .drop_nulls("commune")
        .unique("commune", keep="first", maintain_order=True)
    )
    rel = relatives.join(
        rel_units.select("relative_id", grouping_key().alias("commune")), on="relative_id", how="left"
    )
    mar = mar_units.select(
        "martyr_id",
        grouping_key().alias("commune"),
        (
            (pl.col("grave_status").fill_null("") != "Đã xác định")
            & ~pl.col("martyr_id").is_in(list(identified_elsewhere))
        ).alias("needs_sample"),
    )
    return rel, mar, units


def with_units(result: WorklistResult, units: pl.DataFrame) -> WorklistResult:
    """Replace the grouping key the worklist was ranked by (`commune`: a commune code, `ngoai-tinh`
    or `?<written name>`, see `places.grouping_key`) by `unit_key` and the unit's codes and names.

    `units` has `commune` (the key) and `places.UNIT_COLUMNS`.
    """
    table = units.select(
        pl.col("commune").alias("unit_key"),
        "commune_code",
        "commune_name",
        "district_code",
        pl.col("district_name").alias("district"),
        "in_province",
    )

    def add(frame: pl.DataFrame) -> pl.DataFrame:
        rest = [c for c in frame.columns if c != "commune"]
        return (
            frame.rename({"commune": "unit_key"})
            .join(table, on="unit_key", how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("unit_key") == OUTSIDE_PROVINCE)
                .then(pl.lit(OUTSIDE_LABEL))
                .otherwise(pl.coalesce("commune_name", pl.col("unit_key").str.strip_prefix("?")))
                .alias("commune")
            )
            .select("unit_key", "commune_code", "commune", "district_code", "district", "in_province", *rest)
        )

    return WorklistResult(add(result.worklist), add(result.lines))


@dataclass(frozen=True)
class CommuneSheet:
    """One commune's printable worklist (or the list of relatives outside the province)."""

    key: str
    commune: str
    commune_code: str | None
    district: str | None
    district_code: str | None
    rows: pl.DataFrame


def commune_sheets(
    worklist: pl.DataFrame, lines: pl.DataFrame, martyr_names: dict[str, str], relative_names: dict[str, str]
) -> list[CommuneSheet]:
    """One printable table per commune (by `unit_key`): the worklist rows, then the lines still
    without donor; sorted by district and commune name (Vietnamese letters folded, `Đ` with `D`)."""
    unit = ["unit_key", "commune_code", "commune", "district_code", "district"]
    rows = worklist.with_columns(
        pl.col("martyr_id").replace_strict(martyr_names, default=None).alias("martyr_name"),
        pl.col("relative_id").replace_strict(relative_names, default=None).alias("relative_name"),
    ).select(
        *unit,
        "priority_rank",
        "role",
        "martyr_name",
        "relative_name",
        "relationship_text",
        "birth_year",
        "health",
        "consent",
        "reason",
        "maternal_line_id",
        "martyr_id",
        "relative_id",
    )
    open_lines = lines.filter(pl.col("status") == "no_donor").with_columns(
        pl.col("martyr_ids").list.first().alias("martyr_id")
    )
    missing = open_lines.select(
        *unit,
        pl.lit(None, pl.Int32).alias("priority_rank"),
        pl.lit("no_donor").alias("role"),
        pl.col("martyr_id").replace_strict(martyr_names, default=None).alias("martyr_name"),
        pl.lit(None, pl.String).alias("relative_name"),
        pl.lit(None, pl.String).alias("relationship_text"),
        pl.lit(None, pl.Int32).alias("birth_year"),
        pl.lit(None, pl.String).alias("health"),
        pl.lit(None, pl.String).alias("consent"),
        pl.col("reason"),
        pl.col("maternal_line_id"),
        pl.col("martyr_id"),
        pl.lit(None, pl.String).alias("relative_id"),
    )
    sheet = pl.concat([rows, missing.cast(rows.schema)]).with_columns(
        pl.col("unit_key").fill_null("?"), pl.col("commune").fill_null(UNPLACED_LABEL)
    )
    out = []
    for (key,), group in sheet.group_by("unit_key", maintain_order=True):
        first = group.row(0, named=True)
        out.append(
            CommuneSheet(
                key=key,
                commune=first["commune"],
                commune_code=first["commune_code"],
                district=first["district"],
                district_code=first["district_code"],
                rows=group.drop(unit),
            )
        )
    return sorted(
        out,
        key=lambda s: (s.key == OUTSIDE_PROVINCE, sort_key(s.district), sort_key(s.commune), s.key),
    )


def commune_worklist(
    candidates: pl.DataFrame,
    statements: pl.DataFrame,
    relatives: pl.DataFrame,
    martyrs: pl.DataFrame,
    home: str | None,
    identified_elsewhere: frozenset[str] = frozenset(),
) -> WorklistResult:
    """`sampling_worklist` listed by commune: a relative where they live, else where they were surveyed
    (their first statement's `survey_commune`), a line without donor in its martyr's commune; the
    lines of martyrs another province's council identified (`worklist_places`) are not sampled."""
    survey_commune = (
        statements.drop_nulls("relative_id")
        .sort("source", "file", "row_number")
        .group_by("relative_id")
        .agg(pl.col("survey_commune").drop_nulls().first())
    )
    rel, mar, units = worklist_places(
        relatives.join(survey_commune, on="relative_id", how="left"), martyrs, home, identified_elsewhere
    )
    return with_units(sampling_worklist(candidates, rel, mar), units)
