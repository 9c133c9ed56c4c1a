"""Kinship statements: each form row naming a relative of a martyr, its kinship text read and
decided (does the relative share the martyr's mtDNA?).
"""

from __future__ import annotations

import polars as pl

from lietsi.kinship.grammar import parse_kinship
from lietsi.kinship.kin_paths import Kinship
from lietsi.kinship.mtdna import parse_sex, shares_mtdna


def _sex_word(sex: str | None) -> str | None:
    return {"M": "Nam", "F": "Nữ"}.get(sex or "")


def kinship_statements(rows: pl.DataFrame) -> pl.DataFrame:
    """Decide each form row: does the named relative share the martyr's mtDNA?

    `rows` has `source, file, row_number, martyr_id, relative_id, relationship` and optionally
    `martyr_sex`, `relative_sex` (the forms' `Nam`/`Nữ`). Adds `relationship_text, kin_path,
    parsed, shares_mtdna, review_reason, martyr_sex_needed, note`; `martyr_sex`/`relative_sex`
    become `M`/`F`, the relative's from the kinship text when it says, else from the form.
    """
    for col in ("martyr_sex", "relative_sex"):
        if col not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(col))
    rows = rows.with_columns(
        pl.col("martyr_sex").map_elements(parse_sex, return_dtype=pl.String),
        pl.col("relative_sex").map_elements(parse_sex, return_dtype=pl.String).alias("_form_relative_sex"),
    ).drop("relative_sex")
    keys = rows.select("relationship", "martyr_sex", "_form_relative_sex").unique()
    out: list[dict] = []
    for text, martyr_sex, form_sex in keys.iter_rows():
        kin: Kinship = parse_kinship(text)
        decision = shares_mtdna(kin, martyr_sex)
        text_sex = kin.relative_sex
        note = None
        if text_sex and form_sex and text_sex != form_sex:
            note = f"kinship text names a {_sex_word(text_sex)}, the form says {_sex_word(form_sex)}"
        out.append(
            {
                "relationship": text,
                "martyr_sex": martyr_sex,
                "_form_relative_sex": form_sex,
                "kin_path": kin.kin_path,
                "parsed": kin.parsed,
                "shares_mtdna": decision.shares,
                "review_reason": decision.reason,
                "martyr_sex_needed": decision.martyr_sex_needed,
                "relative_sex": text_sex or form_sex,
                "note": note,
            }
        )
    decided = pl.DataFrame(
        out,
        schema={
            "relationship": pl.String,
            "martyr_sex": pl.String,
            "_form_relative_sex": pl.String,
            "kin_path": pl.String,
            "parsed": pl.Boolean,
            "shares_mtdna": pl.Boolean,
            "review_reason": pl.String,
            "martyr_sex_needed": pl.Boolean,
            "relative_sex": pl.String,
            "note": pl.String,
        },
    )
    return (
        rows.join(
            decided,
            on=["relationship", "martyr_sex", "_form_relative_sex"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .drop("_form_relative_sex")
        .rename({"relationship": "relationship_text"})
    )


# Both forms give statements of one shape; form 01 has no sex columns, so they come out null.
_STATEMENT_COLUMNS = ("relationship", "martyr_sex", "relative_sex", "survey_commune", "form_no")


def _form_rows(form: pl.DataFrame, source: str) -> pl.DataFrame:
    cols = [
        pl.col(c).cast(pl.String) if c in form.columns else pl.lit(None, pl.String).alias(c)
        for c in _STATEMENT_COLUMNS
    ]
    return form.select(
        pl.lit(source).alias("source"),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        *cols,
    )


def _keyed(links: pl.DataFrame, id_col: str) -> pl.DataFrame:
    return links.select(
        "source", pl.col("file").cast(pl.String), pl.col("row_number").cast(pl.Int64), id_col
    ).unique(["source", "file", "row_number"])


def form_statements(
    phieu_01: pl.DataFrame,
    phieu_02: pl.DataFrame,
    martyr_links: pl.DataFrame,
    relative_links: pl.DataFrame,
    martyrs: pl.DataFrame,
) -> pl.DataFrame:
    """`kinship_statements` of every form row naming a relative, with its martyr and relative ids."""
    rows = pl.concat([_form_rows(phieu_02, "phieu_02"), _form_rows(phieu_01, "phieu_01")])
    rows = rows.filter(pl.col("relationship").is_not_null() | pl.col("source").eq("phieu_02"))
    golden_sex = (
        martyrs.select("martyr_id", pl.col("sex").alias("_golden_sex")) if "sex" in martyrs.columns else None
    )
    rows = rows.join(_keyed(martyr_links, "martyr_id"), on=["source", "file", "row_number"], how="left").join(
        _keyed(relative_links, "relative_id"), on=["source", "file", "row_number"], how="left"
    )
    if golden_sex is not None:
        # The resolved martyr's sex (all his records) before one row's field.
        rows = (
            rows.join(golden_sex, on="martyr_id", how="left")
            .with_columns(pl.coalesce("_golden_sex", "martyr_sex").alias("martyr_sex"))
            .drop("_golden_sex")
        )
    return kinship_statements(rows)
