"""Reading inbox files into typed raw rows, with every rejected row accounted for.

A file is a batch. Reading a batch yields accepted rows (typed per `lietsi.schema`) and
quarantined rows (with a reason), or fails the whole batch with a message naming the problem
(binary junk, a missing required column). Nothing is dropped silently: for every batch
`records_read == rows_clean + rows_quarantined`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process
from unidecode import unidecode

from lietsi.dates import parse_partial_date, parse_year
from lietsi.ingest.encodings import Legacy, detect_legacy, from_legacy, unconvertible
from lietsi.privacy import (
    identifier_hash,
    keyed_hash,
    normalise_citizen_id,
    normalise_phone,
    redact_identifiers,
)
from lietsi.schema import Field, Source

TABLE_SUFFIXES = (".csv", ".xlsx")
FASTA_SUFFIXES = (".fasta", ".fa", ".fas")
_HEADER_SCAN_ROWS = 15
_MAX_YEAR = 2026
_SPACES = re.compile(r"\s+")
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


# Columns outside the contract whose header says they hold an identifier (`SĐT`, `Số CMND`, `CCCD
# mẹ`, `Hộ chiếu`): their values are hashed whatever they look like.
_IDENTIFIER_HEADER = re.compile(
    r"\b(?:cmnd|cmt|cccd|can cuoc|chung minh|ho chieu|sdt|dt|dien thoai|phone|mobile)\b"
)


class BatchError(Exception):
    """The whole file cannot be read as a batch of this source."""


@dataclass(frozen=True)
class FileLimits:
    """Per-file bounds: a file beyond one is rejected with the reason, so no file can exhaust the run.

    The defaults are far above any real export (a province's registry is ~50,000 rows; a complete
    mitochondrial genome is 16,569 bases) and far below what hurts: aligning a sequence costs time
    quadratic in its length.
    """

    max_bytes: int = 200_000_000
    max_rows: int = 1_000_000
    max_cells: int = 50_000_000
    max_sequence_length: int = 20_000


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


def clean_text(value: object) -> str | None:
    """NFC, trimmed, single-spaced text; None for blanks."""
    if value is None:
        return None
    text = str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110")).strip()
    return text or None


def header_key(text: str) -> str:
    """Comparable header: no diacritics, case, punctuation or spacing (`Họ và tên:` = `HO VA TEN`)."""
    flat = unidecode(unicodedata.normalize("NFC", text)).lower()
    return _SPACES.sub(" ", re.sub(r"[^a-z0-9]+", " ", flat)).strip()


def match_headers(headers: list[str], source: Source) -> tuple[dict[int, Field], list[str]]:
    """Map each header position to a field; unknown headers are returned to be kept as extras.

    Exact key match first, then a close fuzzy match (typos like `Ho va tne`); each field is taken
    once. A missing required field fails the batch with its contract label.
    """
    keys = {}
    for f in source.fields:
        for label in (f.header, *f.aliases):
            keys[header_key(label)] = f
    mapping: dict[int, Field] = {}
    extras: list[str] = []
    taken: set[str] = set()
    for i, header in enumerate(headers):
        key = header_key(header or "")
        if not key:
            continue
        hit = keys.get(key)
        if hit is None:
            best = process.extractOne(key, list(keys), scorer=fuzz.ratio, score_cutoff=85)
            hit = keys[best[0]] if best else None
        if hit is None or hit.column in taken:
            extras.append(header)
            continue
        mapping[i] = hit
        taken.add(hit.column)
    missing = [f for f in source.fields if f.required and f.column not in taken]
    if missing:
        names = ", ".join(f"'{f.header}'" for f in missing)
        raise BatchError(f"missing required column {names}; headers found: {headers}")
    return mapping, extras


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise BatchError("binary content (NUL bytes): not a CSV file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:_HEADER_SCAN_ROWS])
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _bounded(rows: Iterable[list], limits: FileLimits) -> list[list]:
    """The rows, or a BatchError as soon as the file passes its row or cell limit."""
    records: list[list] = []
    cells = 0
    for row in rows:
        records.append(row)
        cells += len(row)
        if len(records) > limits.max_rows:
            raise BatchError(f"more than {limits.max_rows:,} rows (LIETSI_MAX_ROWS)")
        if cells > limits.max_cells:
            raise BatchError(f"more than {limits.max_cells:,} cells (LIETSI_MAX_CELLS)")
    return records


def _read_csv_records(data: bytes, limits: FileLimits) -> tuple[list[list[str]], str, str]:
    text, encoding = _decode(data)
    delimiter = _sniff_delimiter(text)
    try:
        records = _bounded(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), limits)
    except csv.Error as exc:
        # An unclosed quote swallows the rest of the file into one field until the field limit.
        raise BatchError(f"CSV cannot be parsed (an unclosed quote?): {exc}") from exc
    return records, encoding, delimiter


def _read_xlsx_records(data: bytes, limits: FileLimits) -> list[list[str]]:
    import openpyxl

    try:
        # An XLSX is a zip: a small file can expand to gigabytes (openpyxl loads the shared strings whole).
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
        if expanded > limits.max_bytes:
            raise BatchError(f"expands to more than {limits.max_bytes:,} bytes (LIETSI_MAX_FILE_BYTES)")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = _bounded(
            (["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)), limits
        )
        book.close()
    except BatchError:
        raise
    except Exception as exc:
        raise BatchError(f"not a readable XLSX workbook: {type(exc).__name__}: {exc}") from exc
    # Spreadsheets store no trailing empty cells: a short row is padded, never "truncated".
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _find_header(records: list[list], source: Source) -> int:
    """Index of the header row: the first of the first rows that names most contract fields.

    Exports often put a title (`DANH SÁCH LIỆT SĨ …`) above the header.
    """
    known = {header_key(label) for f in source.fields for label in (f.header, *f.aliases)}
    best, best_hits = None, 0
    for i, rec in enumerate(records[:_HEADER_SCAN_ROWS]):
        hits = sum(header_key(str(c)) in known for c in rec if c not in (None, ""))
        if hits > best_hits:
            best, best_hits = i, hits
    if best is None:
        raise BatchError(f"no header row naming the contract's columns for '{source.folder}'")
    return best


def _is_blank(rec: Iterable) -> bool:
    return all(clean_text(c) is None for c in rec)


def _to_enum(value: str, allowed: tuple[str, ...]) -> str | None:
    key = header_key(value)
    for option in allowed:
        if header_key(option) == key:
            return option
    return None


class RowTyper:
    """Types one source's row dicts and collects parse warnings."""

    def __init__(self, source: Source, hash_key: bytes) -> None:
        self.source = source
        self.hash_key = hash_key
        self._identifier_columns: dict[str, bool] = {}

    def type_row(self, cells: dict[str, str | None]) -> dict:
        out: dict = {}
        warnings: list[str] = []
        for f in self.source.fields:
            value = cells.get(f.column)
            _TYPERS[f.kind](self, f, value, out, warnings)
        for column, allowed in self.source.enums.items():
            value = out.get(column)
            if value is not None and value not in allowed:
                canonical = _to_enum(value, allowed)
                if canonical is None:
                    warnings.append(f"{column}: '{value}' is not one of {list(allowed)}")
                out[column] = canonical
        # Warnings quote the value: a phone typed into a year column must not come back in clear.
        out["parse_warnings"] = redact_identifiers("; ".join(warnings), self.hash_key) or None
        return out

    def _text(self, f: Field, value: str | None, out: dict, warnings: list[str]) -> None:
        out[f.column] = value

    def _year(self, f: Field, value: str | None, out: dict, warnings: list[str]) -> None:
        year, approx = parse_year(value)
        if value is not None and (year is None or year > _MAX_YEAR):
            warnings.append(f"{f.column}: '{value}' is not a year")
            year = None
        out[f.column], out[f"{f.column}_approx"] = year, approx

    def _date(self, f: Field, value: str | None, out: dict, warnings: list[str]) -> None:
        parsed = parse_partial_date(value)
        if value is not None and parsed is None:
            warnings.append(f"{f.column}: '{value}' is not a date")
        out[f.column] = parsed.value if parsed else None
        out[f"{f.column}_precision"] = parsed.precision if parsed else None
        out[f"{f.column}_approx"] = parsed.approx if parsed else None
        out[f"{f.column}_text"] = value

    def _number(self, f: Field, value: str | None, out: dict, warnings: list[str]) -> None:
        number: float | None = None
        if value is not None:
            try:
                number = float(value.replace(",", ".").replace(" ", ""))
            except ValueError:
                warnings.append(f"{f.column}: '{value}' is not a number")
        if f.kind == "int" and number is not None:
            if not number.is_integer():
                warnings.append(f"{f.column}: '{value}' is not a whole number")
                number = None
            else:
                number = int(number)
        out[f.column] = number

    def _identifier(self, f: Field, value: str | None, out: dict, warnings: list[str]) -> None:
        normalise = normalise_citizen_id if f.kind == "citizen_id" else normalise_phone
        clean = normalise(value)
        if value is not None and clean is None:
            warnings.append(f"{f.column}: malformed {f.kind.replace('_', ' ')}")
        out[f"{f.column}_hash"] = keyed_hash(clean, self.hash_key) if clean else None
        out[f"{f.column}_valid"] = None if value is None else clean is not None

    def redact(self, cells: dict[str, str | None]) -> dict[str, str | None]:
        """A row safe to keep in the quarantine: the identifier columns, and anything else that looks
        like an identifier, replaced by keyed hashes."""
        return {
            column: value
            if value is None
            else identifier_hash(value, self.hash_key)
            if self._holds_identifiers(column)
            else redact_identifiers(value, self.hash_key)
            for column, value in cells.items()
        }

    def _holds_identifiers(self, column: str) -> bool:
        """A contract identifier column, or a header that names one (`SĐT`, `Số CMND`); memoised per file."""
        if column not in self._identifier_columns:
            kinds = {f.column: f.kind for f in self.source.fields}
            self._identifier_columns[column] = kinds.get(column) in ("citizen_id", "phone") or bool(
                _IDENTIFIER_HEADER.search(header_key(column))
            )
        return self._identifier_columns[column]

    def raw_json(self, value: object) -> str:
        """`value` (cells, a list of cells, a file preview) as JSON text for the quarantine, redacted."""
        if isinstance(value, dict):
            value = {redact_identifiers(k, self.hash_key): v for k, v in self.redact(value).items()}
        elif isinstance(value, list):
            value = [None if v is None else redact_identifiers(str(v), self.hash_key) for v in value]
        return json.dumps(value, ensure_ascii=False)


_TYPERS: dict[str, Callable] = {
    "text": RowTyper._text,
    "year": RowTyper._year,
    "date": RowTyper._date,
    "int": RowTyper._number,
    "float": RowTyper._number,
    "citizen_id": RowTyper._identifier,
    "phone": RowTyper._identifier,
}


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


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_name(path: Path) -> str:
    """The file's name as text: a name that is not UTF-8 (a Windows-1258 zip) shows its odd bytes as
    `\\xNN` instead of failing the folder, and stays distinct from other names."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def _read_no_follow(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing a symbolic link even if one replaced the file since it was listed."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise BatchError(f"cannot be opened (a symbolic link?): {exc.strerror}") from exc
    with os.fdopen(handle, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise BatchError(f"larger than {limit:,} bytes (LIETSI_MAX_FILE_BYTES)")
    return data


def rejected_batch(path: Path, source: Source, reason: str) -> Batch:
    """A file that is not read at all (a symbolic link, a file over the size limit): one quarantine row."""
    name = file_name(path)
    batch = Batch(source.folder, name, _checksum(f"unread:{name}".encode())[:16], path.lstat().st_size)
    batch.status, batch.message, batch.records_read = "failed", reason, 1
    batch.quarantine = [{"row_number": 0, "reason": f"batch rejected: {reason}", "raw": json.dumps({})}]
    return batch


def read_batch(path: Path, source: Source, hash_key: bytes, limits: FileLimits = FileLimits()) -> Batch:
    """Read one inbox file. Never raises: a broken file comes back with status `failed`."""
    if path.is_symlink():
        return rejected_batch(path, source, "symbolic link: not followed (copy the file into the inbox)")
    if path.lstat().st_size > limits.max_bytes:
        return rejected_batch(path, source, f"larger than {limits.max_bytes:,} bytes (LIETSI_MAX_FILE_BYTES)")
    try:
        data = _read_no_follow(path, limits.max_bytes)
    except BatchError as exc:
        return rejected_batch(path, source, str(exc))
    batch = Batch(source.folder, file_name(path), _checksum(data)[:16], len(data))
    typer = RowTyper(source, hash_key)
    try:
        if path.suffix.lower() in FASTA_SUFFIXES:
            if not source.sequences:
                raise BatchError(f"FASTA files are not expected in '{source.folder}'")
            _read_fasta(data, batch, typer, limits)
        elif path.suffix.lower() == ".xlsx":
            _read_records(_read_xlsx_records(data, limits), source, typer, batch)
        elif path.suffix.lower() == ".csv":
            records, batch.encoding, batch.delimiter = _read_csv_records(data, limits)
            _read_records(records, source, typer, batch)
        else:
            raise BatchError(f"unsupported file type '{path.suffix}' (expected .csv, .xlsx, .fasta)")
    except Exception as exc:
        # Any parser error is this file's failure, never the folder's: the message names the cause.
        text = str(exc) if isinstance(exc, BatchError) else f"unreadable file ({type(exc).__name__}: {exc})"
        text = redact_identifiers(text, hash_key)
        batch.status, batch.message = "failed", text
        quarantine_all(batch, f"batch rejected: {text}")
        if not batch.quarantine:
            preview = typer.raw_json({"first_bytes": data[:120].decode("latin-1")})
            batch.quarantine = [{"row_number": 0, "reason": f"batch rejected: {text}", "raw": preview}]
            batch.records_read = 1
    return batch


def quarantine_all(batch: Batch, reason: str) -> None:
    """Move every row of a batch, accepted or not, to the quarantine under one reason."""
    moved = [{"row_number": r["row_number"], "raw": r["_raw"]} for r in batch.rows]
    moved += [{"row_number": q["row_number"], "raw": q["raw"]} for q in batch.quarantine]
    batch.rows = []
    batch.quarantine = [{**q, "reason": reason} for q in sorted(moved, key=lambda q: q["row_number"])]


def _read_records(records: list[list], source: Source, typer: RowTyper, batch: Batch) -> None:
    if not records or all(_is_blank(r) for r in records):
        return
    legacy = detect_legacy([str(c) for rec in records for c in rec if isinstance(c, str)])
    if legacy:
        batch.encoding = f"{batch.encoding}/{legacy}"
        records = [[from_legacy(c, legacy) if isinstance(c, str) else c for c in rec] for rec in records]
    try:
        header_at = _find_header(records, source)
    except BatchError:
        _quarantine_unread(batch, [r for r in records if not _is_blank(r)], typer)
        raise
    headers = [str(clean_text(h) or "") for h in records[header_at]]
    data_rows = [r for r in records[header_at + 1 :] if not _is_blank(r)]
    try:
        mapping, extras = match_headers(headers, source)
    except BatchError:
        _quarantine_unread(batch, data_rows, typer)
        raise
    batch.extra_columns = extras
    batch.records_read = len(data_rows)
    extra_positions = {i: h for i, h in enumerate(headers) if i not in mapping and h}
    seen: dict[tuple, int] = {}
    for number, rec in enumerate(data_rows, start=1):
        is_last = number == len(data_rows)
        _read_record(rec, number, is_last, headers, mapping, extra_positions, legacy, typer, batch, seen)


def _quarantine_unread(batch: Batch, records: list[list], typer: RowTyper) -> None:
    """Keep the rows of a batch that cannot be read, so that the batch's rows are still counted."""
    batch.records_read = len(records)
    batch.quarantine = [
        {"row_number": n, "reason": "", "raw": typer.raw_json([clean_text(c) for c in rec])}
        for n, rec in enumerate(records, start=1)
    ]


def _read_record(
    rec: list,
    number: int,
    is_last: bool,
    headers: list[str],
    mapping: dict[int, Field],
    extra_positions: dict[int, str],
    legacy: Legacy | None,
    typer: RowTyper,
    batch: Batch,
    seen: dict[tuple, int],
) -> None:
    values = [clean_text(c) for c in rec]
    raw_cells = {headers[i] if i < len(headers) else f"_{i}": v for i, v in enumerate(values)}

    def quarantine(reason: str, cells: dict) -> None:
        batch.quarantine.append({"row_number": number, "reason": reason, "raw": typer.raw_json(cells)})

    # Redacted when stored (`raw_json`): identifier columns by name, every value by meaning.
    if len(values) != len(headers):
        # Fields are shifted: every value is kept under the header at its position (`_<i>` past the
        # last one), none of them trusted to be what its header says.
        kind = "truncated row" if is_last and len(values) < len(headers) else "wrong number of fields"
        quarantine(f"{kind}: {len(values)} fields, header has {len(headers)}", raw_cells)
        return
    named = {mapping[i].column: v for i, v in enumerate(values) if i in mapping}
    named |= {extra_positions[i]: v for i, v in enumerate(values) if i in extra_positions}
    if legacy:
        bad = next((ch for v in values if v for ch in [unconvertible(v)] if ch), None)
        if bad:
            quarantine(f"legacy {legacy} text could not be converted (character {bad!r})", named)
            return
    cells = {mapping[i].column: v for i, v in enumerate(values) if i in mapping}
    missing = [c for c in typer.source.row_required if cells.get(c) is None]
    if missing:
        quarantine(f"required value missing: {', '.join(missing)}", cells)
        return
    fingerprint = tuple(values)
    if fingerprint in seen:
        quarantine(f"duplicate of row {seen[fingerprint]} in the same file", cells)
        return
    seen[fingerprint] = number
    row = typer.type_row(cells)
    if typer.source.sequences:
        row["format"] = "csv"
    extra = {extra_positions[i]: v for i, v in enumerate(values) if i in extra_positions and v}
    row.update(
        batch_id=batch.batch_id,
        file=batch.file,
        row_number=number,
        extra=typer.raw_json(extra) if extra else None,
        _raw=typer.raw_json(cells),
    )
    batch.rows.append(row)


def _read_fasta(data: bytes, batch: Batch, typer: RowTyper, limits: FileLimits) -> None:
    from Bio import SeqIO

    text, batch.encoding = _decode(data)
    if text.strip() and not text.lstrip().startswith(">"):
        raise BatchError("not a FASTA file: the first record does not start with '>'")
    batch.records_read = sum(line.startswith(">") for line in text.splitlines())
    if batch.records_read > limits.max_rows:
        raise BatchError(f"more than {limits.max_rows:,} records (LIETSI_MAX_ROWS)")
    for number, record in enumerate(SeqIO.parse(io.StringIO(text), "fasta"), start=1):
        sequence = str(record.seq).upper()
        raw = typer.raw_json({"id": record.id, "length": str(len(sequence))})
        if not record.id or not sequence:
            reason = "FASTA record without id" if not record.id else "FASTA record without sequence"
            batch.quarantine.append({"row_number": number, "reason": reason, "raw": raw})
            continue
        if len(sequence) > limits.max_sequence_length:
            reason = (
                f"FASTA record of {len(sequence):,} bases, longer than {limits.max_sequence_length:,} "
                "(LIETSI_MAX_SEQUENCE_LENGTH; a whole mitochondrial genome is 16,569)"
            )
            batch.quarantine.append({"row_number": number, "reason": reason, "raw": raw})
            continue
        batch.rows.append(
            {
                "sample_id": record.id,
                "format": "fasta",
                "sequence": sequence,
                "batch_id": batch.batch_id,
                "file": batch.file,
                "row_number": number,
                "_raw": raw,
            }
        )


def read_folder(
    folder: Path, source: Source, hash_key: bytes, limits: FileLimits = FileLimits()
) -> list[Batch]:
    """Every batch of one inbox folder, in file-name order (deterministic ids and outputs).

    A file whose bytes equal an earlier-arrived file's is a re-dropped batch: its rows are quarantined as
    duplicates so that re-sending a file never doubles the data. A symbolic link is never followed:
    it is a failed batch with the reason.
    """
    if not folder.is_dir():
        return []
    batches: list[Batch] = []
    first_of: dict[str, str] = {}
    files = [p for p in folder.iterdir() if (p.is_symlink() or p.is_file()) and not p.name.startswith(".")]
    # Of identical files the one that arrived first is the batch, whatever the copy is named
    # (`dot_1 (1).csv` sorts before `dot_1.csv`): rows keep their original file and ids.
    for path in sorted(files, key=lambda p: (p.lstat().st_mtime_ns, os.fsencode(p.name))):
        batch = read_batch(path, source, hash_key, limits)
        if batch.status == "ok" and batch.batch_id in first_of:
            batch.status = "duplicate"
            batch.message = f"identical to '{first_of[batch.batch_id]}'"
            quarantine_all(batch, f"duplicate batch: file identical to '{first_of[batch.batch_id]}'")
        first_of.setdefault(batch.batch_id, batch.file)
        batches.append(batch)
    return sorted(batches, key=lambda b: b.file)


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
