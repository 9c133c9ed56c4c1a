"""Maternal candidates and lines.

1. **candidates**: one row per (martyr, relative) pair, the statements combined — they agree, or
   the pair is left undecided for review;
2. **maternal lines**: martyrs and relatives joined by pairs that share mtDNA, closed under
   union-find. Two martyr brothers who both list their mother are one line; so are a martyr, his
   sister and her daughter. One good sample serves every martyr of a line, and no line is
   sampled twice.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from lietsi.graphs import UnionFind


def maternal_candidates(statements: pl.DataFrame) -> pl.DataFrame:
    """One row per (martyr, relative) pair; statements that disagree leave the pair undecided."""
    pairs = statements.filter(pl.col("martyr_id").is_not_null() & pl.col("relative_id").is_not_null())
    ordered = pairs.sort(pl.col("shares_mtdna").is_null(), "source", "file", "row_number", nulls_last=True)
    grouped = ordered.group_by("martyr_id", "relative_id", maintain_order=True).agg(
        pl.col("relationship_text").first(),
        pl.col("kin_path").first(),
        pl.col("shares_mtdna").drop_nulls().unique().alias("_answers"),
        # Kin paths, not the texts: review reasons reach the analyst schema, free text may name people.
        pl.col("kin_path").filter(pl.col("shares_mtdna").is_not_null()).unique().alias("_texts"),
        pl.col("review_reason").first().alias("_reason"),
        pl.col("martyr_sex").drop_nulls().first(),
        pl.col("relative_sex").drop_nulls().first(),
        pl.col("martyr_sex_needed").any(),
        pl.col("note").drop_nulls().first(),
        pl.len().alias("statements"),
        pl.col("source").unique().sort().str.join(",").alias("sources"),
    )
    disagree = pl.col("_answers").list.len() > 1
    return grouped.with_columns(
        pl.when(pl.col("_answers").list.len() == 1)
        .then(pl.col("_answers").list.first())
        .alias("shares_mtdna"),
        pl.when(disagree)
        .then(pl.lit("statements disagree: ") + pl.col("_texts").list.sort().list.join(" / "))
        .when(pl.col("_answers").list.len() == 0)
        .then(pl.col("_reason"))
        .alias("review_reason"),
    ).select(
        "martyr_id",
        "relative_id",
        "relationship_text",
        "kin_path",
        "shares_mtdna",
        "review_reason",
        "martyr_sex",
        "relative_sex",
        "martyr_sex_needed",
        "note",
        "statements",
        "sources",
    )


def maternal_lines(candidates: pl.DataFrame, martyr_ids: Iterable[str] = ()) -> pl.DataFrame:
    """`member_kind` (`martyr`/`relative`), `member_id`, `maternal_line_id` for every martyr of the
    candidates (and of `martyr_ids`) and every relative who shares a martyr's mtDNA.

    A line's id is `ML-` + its smallest martyr id: stable while martyr ids are.
    """
    uf: UnionFind[str] = UnionFind()
    for m in martyr_ids:
        uf.find("m:" + m)
    for m in candidates["martyr_id"].unique().to_list():
        uf.find("m:" + m)
    shared = candidates.filter(pl.col("shares_mtdna").fill_null(False))
    for m, r in shared.select("martyr_id", "relative_id").iter_rows():
        uf.union("m:" + m, "r:" + r)
    # Martyr nodes ("m:") sort before relative nodes ("r:"), so every root is a martyr.
    rows = [(node[0] == "m", node[2:], "ML-" + uf.find(node)[2:]) for node in uf.parent]
    return pl.DataFrame(
        [("martyr" if is_m else "relative", member, line) for is_m, member, line in rows],
        schema={"member_kind": pl.String, "member_id": pl.String, "maternal_line_id": pl.String},
        orient="row",
    ).sort("maternal_line_id", "member_kind", "member_id")


def candidates_with_lines(statements: pl.DataFrame) -> pl.DataFrame:
    """`maternal_candidates` with the `maternal_line_id` of each pair's martyr."""
    candidates = maternal_candidates(statements)
    lines = maternal_lines(candidates)
    line_of = lines.filter(pl.col("member_kind") == "martyr").select(
        pl.col("member_id").alias("martyr_id"), "maternal_line_id"
    )
    return candidates.join(line_of, on="martyr_id", how="left")
