"""Linkage against the synthetic truth: pairwise precision, recall and F1 of martyrs and relatives."""

from __future__ import annotations

import polars as pl

from lietsi.stats import pairwise_metrics
from lietsi.truth import TruthFolder


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
