"""Rows of the search map that cannot be used, as `ops.quarantine_search_map` rows."""

from __future__ import annotations

import json

import polars as pl

from lietsi.ingest.batches import QUARANTINE_SCHEMA

# Living people's names never leave the raw layer (the quarantine is read by operators).
_PRIVATE_COLUMNS = frozenset({"household_head"})


def _raw_json(row: dict) -> str:
    keep = {k: v for k, v in row.items() if k not in _PRIVATE_COLUMNS and not k.startswith("_")}
    return json.dumps(keep, ensure_ascii=False, default=str, sort_keys=True)


def quarantine_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA, orient="row")


def quarantine_row(source: str, row: dict, reason: str) -> dict:
    return {
        "source": source,
        "file": row.get("file"),
        "row_number": row.get("row_number"),
        "reason": reason,
        "raw": _raw_json(row),
    }
