"""A batch (one inbox file) and the tables it ends in: raw rows, quarantine rows, the batch log.

Nothing is dropped silently: for every batch `records_read == rows_clean + rows_quarantined`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from lietsi.schema import Source

BATCH_SCHEMA = {
    "source": pl.Utf8,
    "file": pl.Utf8,
    "batch_id": pl.Utf8,
    "size_bytes": pl.Int64,
    "encoding": pl.Utf8,
    "delimiter": pl.Utf8,
    "records_read": pl.Int64,
    "rows_clean": pl.Int64,
    "rows_quarantined": pl.Int64,
    "status": pl.Utf8,
    "message": pl.Utf8,
    "extra_columns": pl.Utf8,
}
QUARANTINE_SCHEMA = {
    "source": pl.Utf8,
    "file": pl.Utf8,
    "row_number": pl.Int64,
    "reason": pl.Utf8,
    "raw": pl.Utf8,
}


class BatchError(Exception):
    """The whole file cannot be read as a batch of this source."""


@dataclass
class Batch:
    folder: str
    file: str
    batch_id: str
    size: int
    rows: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str | None = None
    status: str = "ok"
    message: str = ""
    extra_columns: list[str] = field(default_factory=list)
    # Counted when the file is read, before rows are sorted into clean and quarantined, so the
    # row-accounting check compares two independent numbers.
    records_read: int = 0


def frame_schema(source: Source) -> dict[str, pl.DataType]:
    """Column types of `raw.<folder>`: stable even for an empty inbox folder."""
    types: dict[str, pl.DataType] = {"batch_id": pl.Utf8, "file": pl.Utf8, "row_number": pl.Int64}
    for f in source.fields:
        if f.kind == "text":
            types[f.column] = pl.Utf8
        elif f.kind == "year":
            types[f.column], types[f"{f.column}_approx"] = pl.Int32, pl.Boolean
        elif f.kind == "date":
            types[f.column] = pl.Date
            types[f"{f.column}_precision"] = pl.Utf8
            types[f"{f.column}_approx"] = pl.Boolean
            types[f"{f.column}_text"] = pl.Utf8
        elif f.kind == "int":
            types[f.column] = pl.Int64
        elif f.kind == "float":
            types[f.column] = pl.Float64
        else:
            types[f"{f.column}_hash"], types[f"{f.column}_valid"] = pl.Utf8, pl.Boolean
    if source.sequences:
        types["format"], types["sequence"] = pl.Utf8, pl.Utf8
    types["extra"] = pl.Utf8
    types["parse_warnings"] = pl.Utf8
    return types


def quarantine_all(batch: Batch, reason: str) -> None:
    """Move every row of a batch, accepted or not, to the quarantine under one reason."""
    moved = [{"row_number": r["row_number"], "raw": r["_raw"]} for r in batch.rows]
    moved += [{"row_number": q["row_number"], "raw": q["raw"]} for q in batch.quarantine]
    batch.rows = []
    batch.quarantine = [{**q, "reason": reason} for q in sorted(moved, key=lambda q: q["row_number"])]


def batches_to_frames(
    batches: list[Batch], source: Source
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(raw rows, quarantine rows, batch log) as typed frames."""
    schema = frame_schema(source)
    rows = [{k: v for k, v in r.items() if k in schema} for b in batches for r in b.rows]
    raw = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    quarantine = pl.DataFrame(
        [
            {"source": source.folder, "file": b.file, **{k: q[k] for k in ("row_number", "reason", "raw")}}
            for b in batches
            for q in b.quarantine
        ],
        schema=QUARANTINE_SCHEMA,
    )
    log = pl.DataFrame(
        [
            {
                "source": source.folder,
                "file": b.file,
                "batch_id": b.batch_id,
                "size_bytes": b.size,
                "encoding": b.encoding,
                "delimiter": b.delimiter,
                "records_read": b.records_read,
                "rows_clean": len(b.rows),
                "rows_quarantined": len(b.quarantine),
                "status": b.status,
                "message": b.message,
                "extra_columns": ", ".join(b.extra_columns) or None,
            }
            for b in batches
        ],
        schema=BATCH_SCHEMA,
    )
    return raw, quarantine, log
