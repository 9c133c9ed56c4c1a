"""Results back to the provinces: `return/<province_code>/quoc_gia/ket_qua_quoc_gia.csv` and its
`manifest.json` (SHA-256), one folder per province that sent an export.

A province receives the national identifications whose remains lie in its cemeteries or whose
martyr is in its registry, nothing else; it copies `quoc_gia/` into its inbox, where the province
run reads it (`lietsi.schema.QUOC_GIA`, an optional folder). The columns are that source's
Vietnamese headers, so the province reads them as it reads every inbox file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from lietsi.national.formats import RETURN_DIR, RETURN_FILE, RETURN_FORMAT, RETURN_VERSION
from lietsi.ops.export import csv_bytes, write_atomic
from lietsi.schema import NATIONAL_STATUSES, QUOC_GIA

RETURNS_SCHEMA = {"province_code": pl.String, "rows": pl.Int64, "sha256": pl.String, "path": pl.String}


def return_frame(identifications: pl.DataFrame, province_code: str) -> pl.DataFrame:
    """The rows of one province (its cemeteries' remains, its registry's martyrs), with the
    `quoc_gia/` headers."""
    mine = identifications.filter(
        (pl.col("remains_province_code") == province_code) | (pl.col("martyr_province_code") == province_code)
    ).sort("national_remains_id", "national_martyr_id")
    columns = [f.column for f in QUOC_GIA.fields]
    out = mine.with_columns(pl.col("status").replace_strict(NATIONAL_STATUSES, default=None)).select(
        pl.col(c) if c in mine.columns else pl.lit(None, pl.String).alias(c) for c in columns
    )
    return out.rename({f.column: f.header for f in QUOC_GIA.fields})


def write_returns(out_dir: Path, identifications: pl.DataFrame, province_codes: list[str]) -> pl.DataFrame:
    """One `quoc_gia/` folder per province code (validated codes only: never a name from the inbox);
    a province without candidates gets an empty file, so it knows the run saw it. One row per folder."""
    rows = []
    for code in sorted(set(province_codes)):
        if not (len(code) == 2 and code.isdigit()):
            raise ValueError(f"refusing to write a return folder for province code {code!r}")
        frame = return_frame(identifications, code)
        folder = out_dir / RETURN_DIR / code / QUOC_GIA.folder
        folder.mkdir(parents=True, exist_ok=True)
        data = csv_bytes(frame)
        write_atomic(folder / RETURN_FILE, data)
        digest = hashlib.sha256(data).hexdigest()
        manifest = {
            "format": RETURN_FORMAT,
            "version": RETURN_VERSION,
            "province_code": code,
            "files": {RETURN_FILE: {"rows": frame.height, "sha256": digest}},
        }
        write_atomic(
            folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        )
        rows.append((code, frame.height, digest, f"{RETURN_DIR}/{code}/{QUOC_GIA.folder}"))
    return pl.DataFrame(rows, schema=RETURNS_SCHEMA, orient="row")
