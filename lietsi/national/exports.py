"""The national inbox: one folder per province export (docs/national_export.md), read and validated.

Every byte is hostile. A folder's name is never used in an output path nor shown as written (it is
shown bounded and without control characters); a province is known by the two-digit official code
its manifest states. A manifest of an unknown format or major version, or without a known province
code, refuses its folder; a file whose SHA-256 differs from the manifest's, that is missing, too
large or unreadable refuses that file only; a row without its id, or repeating one, is quarantined.
Every row read lands in a national table or in the quarantine (`CountryExports.files` counts them).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lietsi.ingest.batches import BatchError
from lietsi.ingest.inbox import read_no_follow
from lietsi.national.formats import MANIFEST, NATIONAL_FORMAT, NATIONAL_TABLES, NATIONAL_VERSION
from lietsi.places import province_codes
from lietsi.schema import FORMULA_START

MAX_MANIFEST_BYTES = 1_000_000
MAX_FILE_BYTES = 2_000_000_000
MAX_TEXT = 500  # characters kept of any text cell (a clerk's longest place or artefact list)
MAX_LABEL = 80  # characters of a folder name shown in tables
# The id of each file's rows, and the columns a file is useless without.
ROW_ID = {"martyrs": "martyr_id", "references": "sample_id", "remains": "remains_id"}
REQUIRED = {
    "martyrs": ("martyr_id",),
    "references": ("sample_id", "maternal_line_id", "martyr_ids", "range", "haplotype"),
    "remains": ("remains_id",),
}
# Columns a row is useless without. Not the haplotype: a profile identical to rCRS on the range
# read has no difference to write, and the CSV carries it as an empty cell.
NOT_BLANK = {
    "martyrs": ("martyr_id",),
    "references": ("sample_id", "maternal_line_id", "martyr_ids", "range"),
    "remains": ("remains_id",),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_PROVINCE_CODE = re.compile(r"^[0-9]{2}$")
QUARANTINE_SCHEMA = {
    "folder": pl.String,
    "province_code": pl.String,
    "file": pl.String,
    "row_number": pl.Int64,
    "rows": pl.Int64,  # rows this entry stands for (a refused file: all of its rows)
    "reason": pl.String,
}
FILES_SCHEMA = {
    "folder": pl.String,
    "province_code": pl.String,
    "province": pl.String,
    "file": pl.String,
    "sha256": pl.String,
    "status": pl.String,  # accepted / refused
    "rows_read": pl.Int64,
    "rows_kept": pl.Int64,
    "rows_quarantined": pl.Int64,
}


@dataclass(frozen=True)
class CountryExports:
    """The country's exports: every accepted row with `province_code` and its national id, and what
    was refused and why."""

    martyrs: pl.DataFrame  # province_code, national_martyr_id, the export's columns
    references: pl.DataFrame  # province_code, national_sample_id, the export's columns
    remains: pl.DataFrame  # province_code, national_remains_id, the export's columns
    provinces: pl.DataFrame  # province_code, province, folder: one row per accepted export
    files: pl.DataFrame  # one row per file named by a manifest (FILES_SCHEMA): the row accounting
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA


def safe_text(text: object, limit: int = MAX_TEXT) -> str:
    """Text as the national run stores and shows it: NFC, no control or direction characters,
    bounded."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", str(text)))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def folder_label(path: Path) -> str:
    """A folder's name as tables show it (never as a path): undecodable bytes as `\\xNN`, bounded."""
    return safe_text(os.fsencode(path.name).decode("utf-8", "backslashreplace"), MAX_LABEL)


def qualified(code: pl.Expr | str, column: str) -> pl.Expr:
    """`<province_code>:<id>`: ids are unique only inside their province."""
    prefix = pl.lit(code) if isinstance(code, str) else code
    return pl.concat_str(prefix, pl.lit(":"), pl.col(column))


def _manifest(folder: Path) -> tuple[dict | None, str]:
    """(manifest, '') or (None, why it is refused)."""
    try:
        manifest = json.loads(read_no_follow(folder / MANIFEST, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (BatchError, OSError, ValueError) as exc:  # JSON and UTF-8 errors are ValueErrors
        return None, f"manifest.json unreadable: {safe_text(exc, 200)}"
    if not isinstance(manifest, dict):
        return None, "manifest.json is not a JSON object"
    if manifest.get("format") != NATIONAL_FORMAT:
        return None, f"manifest format {safe_text(manifest.get('format'), 60)!r} is not {NATIONAL_FORMAT!r}"
    major = str(manifest.get("version", "")).split(".")[0]
    if major != NATIONAL_VERSION:
        return None, (
            f"manifest version {safe_text(manifest.get('version'), 20)!r}: this run reads major "
            f"version {NATIONAL_VERSION}"
        )
    code = manifest.get("province_code")
    if not isinstance(code, str) or not _PROVINCE_CODE.match(code) or code not in province_codes():
        return None, f"manifest province_code {safe_text(code, 20)!r} is no official two-digit province code"
    if not isinstance(manifest.get("files"), dict):
        return None, "manifest.json lists no files"
    return manifest, ""


def _unprefixed(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells as the province wrote them: the `'` the CSV writer put before a formula-like cell
    removed, control characters dropped, length bounded."""
    formula = "^'[" + re.escape("".join(FORMULA_START)) + "]"
    control = _CONTROL.pattern
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(formula))
        .then(pl.col(c).str.slice(1))
        .otherwise(pl.col(c))
        .str.normalize("NFC")
        .str.replace_all(control, "")
        .pipe(
            lambda text: (
                pl.when(text.str.len_chars() > MAX_TEXT)
                .then(text.str.slice(0, MAX_TEXT - 1) + "…")
                .otherwise(text)
            )
        )
        .alias(c)
        for c in frame.columns
    )


def _read_table(data: bytes, name: str) -> pl.DataFrame:
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8")
    frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})
    missing = [c for c in REQUIRED[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing)}")
    frame = _unprefixed(frame)
    if {"range", "haplotype"} <= set(frame.columns):
        frame = frame.with_columns(
            haplotype=pl.when(pl.col("range").is_not_null() & pl.col("haplotype").is_null())
            .then(pl.lit(""))
            .otherwise(pl.col("haplotype"))
        )
    return frame


def _split_rows(frame: pl.DataFrame, name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows kept, rows quarantined with `row_number` and `reason`): a row needs its id; an id
    repeated (a martyr, a remains sample) keeps its first row. References repeat a sample once per
    maternal line, so their key is (sample, line)."""
    key = ["sample_id", "maternal_line_id"] if name == "references" else [ROW_ID[name]]
    if name == "remains" and "sample_id" in frame.columns:
        key = ["remains_id", "sample_id"]
    numbered = frame.with_row_index("row_number", offset=1).with_columns(pl.col("row_number").cast(pl.Int64))
    blank = pl.any_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in NOT_BLANK[name]
    )
    repeated = pl.struct(key).is_first_distinct().not_()
    numbered = numbered.with_columns(
        reason=pl.when(blank)
        .then(pl.lit(f"{', '.join(NOT_BLANK[name])}: a value is blank"))
        .when(repeated)
        .then(pl.lit(f"{' and '.join(key)} repeated: the first row is kept"))
    )
    kept = numbered.filter(pl.col("reason").is_null()).drop("reason", "row_number")
    bad = numbered.filter(pl.col("reason").is_not_null()).select("row_number", "reason")
    return kept, bad


def read_exports(inbox: Path) -> CountryExports:
    """Every province export under `inbox` (one folder each), validated (module docstring)."""
    tables: dict[str, list[pl.DataFrame]] = {name: [] for name in NATIONAL_TABLES}
    quarantine: list[dict] = []
    files: list[dict] = []
    provinces: list[dict] = []
    listed = [p for p in inbox.iterdir() if not p.name.startswith(".")] if inbox.is_dir() else []
    folders = sorted(listed, key=lambda p: os.fsencode(p.name))
    manifests: dict[Path, dict] = {}
    for folder in folders:
        label = folder_label(folder)
        if folder.is_symlink() or not folder.is_dir():
            quarantine.append(_refusal(label, None, "", 0, "not a folder (a symbolic link is not followed)"))
            continue
        manifest, why = _manifest(folder)
        if manifest is None:
            quarantine.append(_refusal(label, None, MANIFEST, 0, f"export refused: {why}"))
            continue
        manifests[folder] = manifest
    # Two different exports of one province: which is current cannot be told, so neither is read;
    # the same export dropped twice is read once.
    by_code: dict[str, list[Path]] = {}
    for folder, manifest in manifests.items():
        by_code.setdefault(manifest["province_code"], []).append(folder)
    for code, same in sorted(by_code.items()):
        contents = {json.dumps(manifests[f]["files"], sort_keys=True) for f in same}
        if len(contents) > 1:
            for folder in same:
                why = f"export refused: {len(same)} different exports of province {code}; send one"
                quarantine.append(_refusal(folder_label(folder), code, MANIFEST, 0, why))
            continue
        for folder in same[1:]:
            why = f"export refused: the same export of province {code} as folder {folder_label(same[0])!r}"
            quarantine.append(_refusal(folder_label(folder), code, MANIFEST, 0, why))
        folder = same[0]
        label, manifest = folder_label(folder), manifests[folder]
        province = province_codes()[code]
        provinces.append({"province_code": code, "province": province, "folder": label})
        listed = manifest["files"]
        for entry_name in sorted(str(n) for n in listed):
            entry = listed[entry_name]
            shown = safe_text(entry_name, MAX_LABEL)
            table = entry_name.removesuffix(".csv")
            if table not in NATIONAL_TABLES or entry_name != f"{table}.csv":
                quarantine.append(
                    _refusal(label, code, shown, 0, "file refused: not a file of the export format")
                )
                continue
            row = {"folder": label, "province_code": code, "province": province, "file": entry_name}
            stated = entry.get("rows") if isinstance(entry, dict) else None
            stated = stated if isinstance(stated, int) and stated >= 0 else 0
            try:
                data = read_no_follow(folder / entry_name, MAX_FILE_BYTES)
                digest = hashlib.sha256(data).hexdigest()
                if not isinstance(entry, dict) or digest != entry.get("sha256"):
                    raise ValueError("its SHA-256 differs from the manifest's (changed on the way?)")
                frame = _read_table(data, table)
            except (BatchError, OSError, ValueError, pl.exceptions.PolarsError) as exc:
                why = f"file refused: {safe_text(exc, 200)}"
                quarantine.append(_refusal(label, code, entry_name, 0, why, stated))
                files.append(row | {"sha256": None, "status": "refused", "rows_read": stated, "rows_kept": 0,
                                    "rows_quarantined": stated})  # fmt: skip
                continue
            kept, bad = _split_rows(frame, table)
            quarantine.extend(
                _refusal(label, code, entry_name, n, f"row refused: {why}", 1) for n, why in bad.iter_rows()
            )
            files.append(row | {"sha256": digest, "status": "accepted", "rows_read": frame.height,
                                "rows_kept": kept.height, "rows_quarantined": bad.height})  # fmt: skip
            id_column = ROW_ID[table]
            national = {"martyrs": "national_martyr_id", "remains": "national_remains_id"}.get(
                table, "national_sample_id"
            )
            tables[table].append(
                kept.select(
                    pl.lit(code).alias("province_code"), qualified(code, id_column).alias(national), pl.all()
                )
            )
    return CountryExports(
        martyrs=_concat(tables["martyrs"], ("province_code", "national_martyr_id", "martyr_id")),
        references=_concat(
            tables["references"],
            ("province_code", "national_sample_id", *REQUIRED["references"]),
        ),
        remains=_concat(tables["remains"], ("province_code", "national_remains_id", "remains_id")),
        provinces=pl.DataFrame(
            provinces, schema={"province_code": pl.String, "province": pl.String, "folder": pl.String}
        ),
        files=pl.DataFrame(files, schema=FILES_SCHEMA),
        quarantine=pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA),
    )


def _refusal(folder: str, code: str | None, file: str, row_number: int, reason: str, rows: int = 0) -> dict:
    return {"folder": folder, "province_code": code, "file": file, "row_number": row_number, "rows": rows,
            "reason": reason}  # fmt: skip


def _concat(frames: list[pl.DataFrame], columns: tuple[str, ...]) -> pl.DataFrame:
    """Every province's rows of one file (columns a province lacks are null); the key columns
    even when no province sent the file."""
    if not frames:
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return pl.concat(frames, how="diagonal_relaxed")
