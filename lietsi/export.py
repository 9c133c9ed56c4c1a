"""Exports for the national identity database and the families' notification, written atomically.

Each file is written to a temporary file in the same folder, flushed to disk, then renamed over
the target (`os.replace`): a reader, or a copy job picking up the folder, sees the old file or the
new one, never half of one; a run killed mid-write leaves at most a `.tmp` file, which the next
export removes. The formats are documented in docs/operations.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import polars as pl

FORMAT_VERSION = "1"


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that `path` is never seen partly written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; outputs are read by the province's other accounts like every page.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temporaries(folder: Path) -> int:
    """Delete `.tmp` files a killed export left behind; returns how many."""
    stale = list(folder.glob(".*.tmp")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with `;` (CSV has no lists); everything else as is."""
    return frame.with_columns(
        pl.col(c).cast(pl.List(pl.Utf8)).list.join(";")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )


def _embedded(value: object) -> object:
    """A JSON document stored as text (the evidence) becomes nested JSON; other values stay."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def write_frame(
    frame: pl.DataFrame, folder: Path, name: str, kind: str, json_columns: tuple[str, ...] = ()
) -> list[Path]:
    """`<name>.csv` (UTF-8 with BOM, so Excel shows Vietnamese) and `<name>.json`, both atomic.

    The JSON file wraps the records with the format version, the record kind and the row count, so a
    receiver can tell a complete file of the expected format from anything else; `json_columns` hold
    JSON text that is nested as JSON there.
    """
    csv = "\ufeff" + _csv_ready(frame).write_csv()
    records = [
        {k: _embedded(v) if k in json_columns else v for k, v in row.items()} for row in frame.to_dicts()
    ]
    document = {
        "format": f"lietsi.{kind}",
        "format_version": FORMAT_VERSION,
        "records": frame.height,
        "data": records,
    }
    text = json.dumps(document, ensure_ascii=False, indent=1, default=str, sort_keys=False)
    return [
        write_atomic(folder / f"{name}.csv", csv.encode("utf-8")),
        write_atomic(folder / f"{name}.json", text.encode("utf-8")),
    ]
