"""The sampling worklist: whom the collection teams sample first.

Per maternal line, the living relatives on it ranked — the martyr's mother first, then the frail
(`Nặng`, then `Yếu`), then the oldest, then the closest on the line — one primary and one backup
among those who consented (`Có`); those not yet asked (blank) who would rank as primary or
backup are listed to be asked; those who refused (`Không`) are listed and never sampled. A line
without a donor says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

HEALTH_RANK = {"Nặng": 2, "Yếu": 1, "Bình thường": 0}


ROLE_ORDER = {"primary": 0, "ask_consent": 1, "backup": 2, "refused": 3}


@dataclass(frozen=True)
class WorklistResult:
    worklist: pl.DataFrame
    lines: pl.DataFrame


def _steps(kin_path: str | None) -> int:
    return kin_path.count(">") + 1 if kin_path else 99


def sampling_worklist(
    candidates: pl.DataFrame, relatives: pl.DataFrame, martyrs: pl.DataFrame
) -> WorklistResult:
    """Rank the donors of every maternal line.

    `candidates` are `maternal_candidates` with `maternal_line_id`; `relatives` has `relative_id`
    and optionally `birth_year, health, consent, commune, alive`; `martyrs` has `martyr_id` and
    optionally `commune` (where a line without donor is listed) and `needs_sample` (False for a
    martyr whose grave is identified: his line is not sampled for him).
    """
    rel = _with_defaults(
        relatives,
        {
            "birth_year": pl.Int32,
            "health": pl.String,
            "consent": pl.String,
            "commune": pl.String,
            "alive": pl.Boolean,
        },
    )
    mar = _with_defaults(martyrs, {"commune": pl.String, "needs_sample": pl.Boolean})
    mar = mar.with_columns(pl.col("needs_sample").fill_null(True))
    line_of = candidates.select("martyr_id", "maternal_line_id").unique()
    members = line_of.join(mar.select("martyr_id", "needs_sample", "commune"), on="martyr_id", how="left")
    lines = members.group_by("maternal_line_id").agg(
        pl.col("martyr_id").unique().sort().alias("martyr_ids"),
        pl.col("needs_sample").fill_null(True).any().alias("needs_sample"),
        pl.col("commune").drop_nulls().mode().sort().first().alias("martyr_commune"),
    )
    donors = (
        candidates.filter(pl.col("shares_mtdna").fill_null(False))
        .with_columns(
            pl.col("kin_path").map_elements(_steps, return_dtype=pl.Int32).alias("steps"),
            (pl.col("kin_path") == "mother").alias("is_mother"),
        )
        .sort("steps", "martyr_id")
        .group_by("maternal_line_id", "relative_id", maintain_order=True)
        .agg(
            pl.col("martyr_id").first(),
            pl.col("relationship_text").first(),
            pl.col("kin_path").first(),
            pl.col("steps").first(),
            pl.col("is_mother").any(),
            pl.col("relative_sex").first(),
        )
        .join(rel, on="relative_id", how="left")
        .filter(pl.col("alive").fill_null(True))
        .with_columns(
            pl.col("health").replace_strict(HEALTH_RANK, default=0, return_dtype=pl.Int8).alias("_frail"),
            pl.when(pl.col("consent") == "Có")
            .then(pl.lit("yes"))
            .when(pl.col("consent") == "Không")
            .then(pl.lit("refused"))
            .otherwise(pl.lit("not_asked"))
            .alias("_consent"),
        )
        .sort(
            ["maternal_line_id", "is_mother", "_frail", "birth_year", "steps", "relative_id"],
            descending=[False, True, True, False, False, False],
            nulls_last=True,
        )
    )
    rows: list[dict] = []
    for (line_id,), group in donors.group_by("maternal_line_id", maintain_order=True):
        rows.extend(_roles(line_id, group))
    worklist = pl.DataFrame(rows, schema=_WORKLIST_SCHEMA) if rows else pl.DataFrame(schema=_WORKLIST_SCHEMA)
    lines = _line_status(lines, donors, worklist, candidates)
    worklist = worklist.join(
        lines.select("maternal_line_id", "needs_sample", "martyr_ids"), on="maternal_line_id"
    )
    worklist = (
        worklist.filter(pl.col("needs_sample"))
        .drop("needs_sample")
        .with_columns(pl.col("martyr_ids").list.join(","))
        .with_columns(pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int8).alias("_role"))
        .sort("commune", "_role", "_line_rank", "maternal_line_id", nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("commune").alias("priority_rank"))
        .drop("_role", "_line_rank")
    )
    return WorklistResult(worklist.select(list(_WORKLIST_COLUMNS)), lines)


_WORKLIST_SCHEMA = {
    "maternal_line_id": pl.String,
    "martyr_id": pl.String,
    "relative_id": pl.String,
    "role": pl.String,
    "reason": pl.String,
    "relationship_text": pl.String,
    "kin_path": pl.String,
    "relative_sex": pl.String,
    "birth_year": pl.Int32,
    "health": pl.String,
    "consent": pl.String,
    "commune": pl.String,
    "_line_rank": pl.Int32,
}


_WORKLIST_COLUMNS = (
    "commune",
    "priority_rank",
    "maternal_line_id",
    "role",
    "martyr_id",
    "martyr_ids",
    "relative_id",
    "relationship_text",
    "kin_path",
    "relative_sex",
    "birth_year",
    "health",
    "consent",
    "reason",
)


def _with_defaults(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in columns.items() if c not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _why(d: dict) -> str:
    parts = ["the martyr's mother" if d["is_mother"] else d["kin_path"]]
    if d["health"] in ("Nặng", "Yếu"):
        parts.append(f"health {d['health']}")
    if d["birth_year"]:
        parts.append(f"born {d['birth_year']}")
    return ", ".join(parts)


def _roles(line_id: str, group: pl.DataFrame) -> list[dict]:
    """Primary and backup among the consenting; the unasked who would rank as high; the refused."""
    out = []
    consenting = position = 0
    for rank, d in enumerate(group.iter_rows(named=True), start=1):
        if d["_consent"] == "refused":
            role, reason = "refused", "refused to give a sample (Không): do not sample"
        else:
            position += 1
            if d["_consent"] == "yes" and consenting < 2:
                role = "primary" if consenting == 0 else "backup"
                consenting += 1
                reason = _why(d)
            elif d["_consent"] == "not_asked" and position <= 2:
                # Would be primary or backup if they agree.
                role, reason = "ask_consent", "not yet asked for consent; " + _why(d)
            else:
                continue
        out.append(
            {
                "maternal_line_id": line_id,
                "martyr_id": d["martyr_id"],
                "relative_id": d["relative_id"],
                "role": role,
                "reason": reason,
                "relationship_text": d["relationship_text"],
                "kin_path": d["kin_path"],
                "relative_sex": d["relative_sex"],
                "birth_year": d["birth_year"],
                "health": d["health"],
                "consent": d["consent"],
                "commune": d["commune"],
                "_line_rank": rank,
            }
        )
    return out


def _line_status(
    lines: pl.DataFrame, donors: pl.DataFrame, worklist: pl.DataFrame, candidates: pl.DataFrame
) -> pl.DataFrame:
    counts = donors.group_by("maternal_line_id").agg(
        pl.len().alias("living_donors"),
        (pl.col("_consent") == "yes").sum().alias("consenting"),
        (pl.col("_consent") == "not_asked").sum().alias("not_asked"),
        (pl.col("_consent") == "refused").sum().alias("refused"),
    )
    undecided = (
        candidates.filter(pl.col("shares_mtdna").is_null())
        .group_by("maternal_line_id")
        .agg(pl.col("relative_id").n_unique().alias("undecided_relatives"))
    )
    primary_commune = (
        worklist.filter(pl.col("role") != "refused")
        .group_by("maternal_line_id")
        .agg(pl.col("commune").sort_by("_line_rank").first().alias("donor_commune"))
    )
    out = (
        lines.join(counts, on="maternal_line_id", how="left")
        .join(undecided, on="maternal_line_id", how="left")
        .join(primary_commune, on="maternal_line_id", how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in ("living_donors", "consenting", "not_asked", "refused", "undecided_relatives")
        )
    )
    status = (
        pl.when(~pl.col("needs_sample"))
        .then(pl.lit("not_needed"))
        .when(pl.col("consenting") > 0)
        .then(pl.lit("ready"))
        .when(pl.col("not_asked") > 0)
        .then(pl.lit("ask_consent"))
        .otherwise(pl.lit("no_donor"))
    )
    reason = (
        pl.when(~pl.col("needs_sample"))
        .then(pl.lit("every martyr of the line has an identified grave"))
        .when(pl.col("consenting") > 0)
        .then(pl.lit(None, pl.String))
        .when(pl.col("not_asked") > 0)
        .then(pl.lit("donors on the line not yet asked for consent"))
        .when(pl.col("refused") > 0)
        .then(pl.lit("every living relative on the line refused"))
        .when(pl.col("undecided_relatives") > 0)
        .then(
            pl.format(
                "no relative known to be on the line; {} relative(s) need kinship review",
                pl.col("undecided_relatives"),
            )
        )
        .otherwise(pl.lit("no living relative on the maternal line in the forms"))
    )
    return (
        out.with_columns(
            status.alias("status"),
            reason.alias("reason"),
            pl.coalesce("donor_commune", "martyr_commune").alias("commune"),
            pl.col("martyr_ids").list.len().alias("martyrs"),
        )
        .select(
            "maternal_line_id",
            "commune",
            "status",
            "reason",
            "martyrs",
            "martyr_ids",
            "needs_sample",
            "living_donors",
            "consenting",
            "not_asked",
            "refused",
            "undecided_relatives",
        )
        .sort("maternal_line_id")
    )
