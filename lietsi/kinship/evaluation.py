"""The kinship stage against the synthetic truth: statements, pairs and martyrs left without donor."""

from __future__ import annotations

import polars as pl


def _truth_flag(col: str) -> pl.Expr:
    return pl.col(col).str.to_lowercase().is_in(["true", "1", "yes"])


def evaluate(
    statements: pl.DataFrame,
    candidates: pl.DataFrame,
    worklist: pl.DataFrame | None,
    relative_records: pl.DataFrame,
    persons: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
) -> dict[str, float | int]:
    """Quality of the stage against the generator's truth (`relative_records.csv`, `persons.csv`).

    Statements are joined to the truth on (source, file, row_number); a pair is correct when its
    decision equals the truth of every statement behind it. `martyrs_without_donor` counts martyrs
    with a living, consenting relative who truly shares their mtDNA but no primary donor.
    """
    truth = relative_records.select(
        "source",
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "person_uid",
        _truth_flag("shares_mtdna").alias("truth"),
    )
    s = statements.with_columns(pl.col("row_number").cast(pl.Int64)).join(
        truth, on=["source", "file", "row_number"], how="inner"
    )
    decided = s.filter(pl.col("shares_mtdna").is_not_null())
    pairs = (
        candidates.filter(pl.col("shares_mtdna").is_not_null())
        .join(s.select("martyr_id", "relative_id", "truth"), on=["martyr_id", "relative_id"])
        .group_by("martyr_id", "relative_id")
        .agg(
            pl.col("shares_mtdna").first(),
            (pl.col("truth") == pl.col("shares_mtdna")).all().alias("ok"),
            (pl.col("shares_mtdna") & ~pl.col("truth")).any().alias("false_share"),
        )
    )
    n = statements.height
    out: dict[str, float | int] = {
        "texts": n,
        "texts_parsed": _share(statements["parsed"].sum(), n),
        "texts_decided": _share(statements["shares_mtdna"].is_not_null().sum(), n),
        "texts_with_truth": s.height,
        "statement_accuracy": _share(
            int((decided["shares_mtdna"] == decided["truth"]).sum()), decided.height
        ),
        "statement_false_shares": int((decided["shares_mtdna"] & ~decided["truth"]).sum()),
        "statement_missed_shares": int((~decided["shares_mtdna"] & decided["truth"]).sum()),
        "undecided_truly_sharing": int(s.filter(pl.col("shares_mtdna").is_null())["truth"].sum()),
        "pairs_decided": pairs.height,
        "pair_accuracy": _share(int(pairs["ok"].sum()), pairs.height),
        "pair_false_shares": int(pairs["false_share"].sum()),
    }
    if persons is not None and worklist is not None:
        usable_people = persons.filter(_truth_flag("alive") & (pl.col("consent") == "Có")).select(
            "person_uid"
        )
        usable = s.filter(pl.col("truth")).join(usable_people, on="person_uid").select("martyr_id").unique()
        served = (
            worklist.filter(pl.col("role") == "primary")
            .select(pl.col("martyr_ids").str.split(",").alias("martyr_id"))
            .explode("martyr_id")
        )
        if lines is not None:
            # A martyr whose grave is identified needs no reference sample.
            not_needed = (
                lines.filter(~pl.col("needs_sample"))
                .select(pl.col("martyr_ids").alias("martyr_id"))
                .explode("martyr_id")
            )
            usable = usable.join(not_needed, on="martyr_id", how="anti")
        missing = usable.join(served, on="martyr_id", how="anti")
        out["martyrs_with_usable_relative"] = usable.height
        out["martyrs_without_donor"] = missing.height
    return out


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else float("nan")
