"""Exports for the national identity database and the families' notification, written atomically.

Each file is written to a temporary file in the same folder, flushed to disk, then renamed over
the target (`os.replace`): a reader, or a copy job picking up the folder, sees the old file or the
new one, never half of one; a run killed mid-write leaves at most a `.tmp` file, which the next
export removes. The formats are documented in docs/operations.md.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import polars as pl

from lietsi.lab.mtdna import parse_range
from lietsi.schema import FORMULA_START

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


# OWASP CSV injection: a cell starting with one of these is run as a formula by Excel or LibreOffice.


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with `;` (CSV has no lists); text cells that a spreadsheet would run as a
    formula (`=HYPERLINK(…)` typed into a name on a form) prefixed with `'`, shown as text."""
    joined = frame.with_columns(
        pl.col(c).cast(pl.List(pl.Utf8)).list.join(";")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
    formula = "^[" + re.escape("".join(FORMULA_START)) + "]"
    return joined.with_columns(
        pl.when(pl.col(c).str.contains(formula)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in joined.schema.items()
        if t == pl.Utf8
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as CSV for spreadsheets: UTF-8 with BOM (Excel then shows Vietnamese), formulas
    neutralised. Every CSV the pipeline writes goes through here."""
    return ("\ufeff" + _csv_ready(frame).write_csv()).encode("utf-8")


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """`csv_bytes(frame)` written atomically to `path`."""
    return write_atomic(path, csv_bytes(frame))


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
        write_csv(frame, folder / f"{name}.csv"),
        write_atomic(folder / f"{name}.json", text.encode("utf-8")),
    ]


def _emp_range(ranges: tuple[tuple[int, int], ...]) -> str:
    """EMPOP writes the control region through the origin as one span (`16024-576`)."""
    spans = list(ranges)
    if len(spans) >= 2 and spans[0][1] == 16569 and spans[1][0] == 1 and spans[0][0] > spans[1][1]:
        spans = [(spans[0][0], spans[1][1]), *spans[2:]]
    return " ".join(f"{a}-{b}" for a, b in spans)


def _emp_variant(token: str) -> str:
    return token[: -len("del")] + "DEL" if token.endswith("del") else token


def empop_files(profiles: pl.DataFrame, dataset: str) -> dict[str, str]:
    """EMPOP's EMP text (Brandstätter et al. 2007; EMPOP's submission format): comment lines, a
    `#!` line with the range read, then one tab-separated row per sample: sample id, haplogroup
    (`?` when unknown), `1`, the variants (deletions as `DEL`). A file holds one range, so the
    profiles are written one file per range read. profiles: sample_id, range, haplotype, haplogroup.
    Returns {range text: file text}."""
    out: dict[str, str] = {}
    for (range_text,), group in profiles.sort("range", "sample_id").group_by("range", maintain_order=True):
        lines = [
            f"# {dataset}: mtDNA reference profiles of consenting donors, one per maternal line",
            f"# N={group.height}",
            f"#! {_emp_range(parse_range(range_text))}",
        ]
        for sample_id, haplotype, haplogroup in group.select(
            "sample_id", "haplotype", "haplogroup"
        ).iter_rows():
            variants = [_emp_variant(t) for t in (haplotype or "").split()]
            lines.append("\t".join([sample_id, haplogroup or "?", "1", *variants]))
        out[range_text] = "\n".join(lines) + "\n"
    return out
