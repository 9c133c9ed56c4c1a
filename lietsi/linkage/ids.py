"""Stable ids: a hash of a cluster's first record in the order a province receives the sources."""

from __future__ import annotations

import hashlib

import polars as pl


def stable_id(prefix: str, source: str, record_id: str | None, file: str, row_number: int) -> str:
    key = f"{source}\x1f{record_id or ''}\x1f{file}\x1f{row_number}"
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


# Sources in the order a province receives them: an id comes from the earliest source of its
# cluster, so records of later drops (forms after the registry) join a cluster without renaming it.
_ID_SOURCE_ORDER = {"registry": 0, "phieu_02": 1, "phieu_01": 2}


def stable_ids(members: pl.DataFrame, group: str, prefix: str, id_col: str) -> pl.DataFrame:
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
