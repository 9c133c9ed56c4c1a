"""File bytes to records: text encoding, CSV delimiter, XLSX workbooks."""

from __future__ import annotations

import csv
import io
import zipfile

from lietsi.ingest.batches import BatchError
from lietsi.ingest.headers import HEADER_SCAN_ROWS
from lietsi.ingest.limits import FileLimits, bounded_records


def decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise BatchError("binary content (NUL bytes): not a CSV file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def read_csv_records(data: bytes, limits: FileLimits) -> tuple[list[list[str]], str, str]:
    text, encoding = decode(data)
    delimiter = _sniff_delimiter(text)
    try:
        records = bounded_records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), limits)
    except csv.Error as exc:
        # An unclosed quote swallows the rest of the file into one field until the field limit.
        raise BatchError(f"CSV cannot be parsed (an unclosed quote?): {exc}") from exc
    return records, encoding, delimiter


def read_xlsx_records(data: bytes, limits: FileLimits) -> list[list[str]]:
    import openpyxl

    try:
        # An XLSX is a zip: a small file can expand to gigabytes (openpyxl loads the shared strings whole).
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
        if expanded > limits.max_bytes:
            raise BatchError(f"expands to more than {limits.max_bytes:,} bytes (LIETSI_MAX_FILE_BYTES)")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = bounded_records(
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
