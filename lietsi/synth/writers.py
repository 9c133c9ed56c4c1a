"""Inbox files as offices produce them: CSV (BOM, `;`), XLSX with a title row, legacy encodings.

A `Sink` writes one file row by row (so a national-scale registry never sits in memory), numbers
the data rows the way the raw layer does (1-based, header and title rows not counted), and reports
every file-level dirt kind to the truth. Output is deterministic: XLSX archives get fixed
timestamps, since openpyxl stamps the save time into `docProps/core.xml` and every zip entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from lietsi.ingest.encodings import Legacy, to_legacy
from lietsi.schema import Source
from lietsi.synth.names import strip_diacritics

_FIXED_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileStyle:
    fmt: str = "csv"  # csv | xlsx
    sep: str = ","
    bom: bool = False
    legacy: Legacy | None = None
    legacy_as_bytes: bool = True  # latin-1 bytes; False: UTF-8 text of the Latin-1 rendering
    nfd: bool = False
    title: str | None = None  # XLSX title row above the header
    header_variant: bool = False
    truncate: bool = False

    def kinds(self) -> list[str]:
        out = []
        if self.fmt == "csv" and self.sep == ";":
            out.append("semicolon")
        if self.bom:
            out.append("bom")
        if self.legacy:
            out.append(f"{self.legacy}_{'latin1' if self.legacy_as_bytes else 'utf8'}")
        if self.nfd:
            out.append("nfd_file")
        if self.title:
            out.append("xlsx_title_row")
        if self.header_variant:
            out.append("header_variant")
        if self.truncate:
            out.append("truncated_csv")
        return out


def header_variant(header: str, i: int) -> str:
    """`HO VA TEN`, `Họ và tên:`, ` họ và tên ` — the ways exports mangle labels."""
    k = i % 4
    if k == 0:
        return strip_diacritics(header).upper()
    if k == 1:
        return header + ":"
    if k == 2:
        return f" {header.lower()} "
    return header


DirtHook = Callable[[str, str, int | None, str], None]


class Sink:
    def __init__(self, inbox: Path, source: Source, name: str, style: FileStyle, on_dirt: DirtHook):
        self.folder = source.folder
        self.name = name
        self.path = inbox / source.folder / name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.style = style
        self.on_dirt = on_dirt
        self.columns = [f.column for f in source.fields]
        headers = [f.header for f in source.fields]
        if style.header_variant:
            headers = [header_variant(h, i) for i, h in enumerate(headers)]
        self.rows = 0
        for kind in style.kinds():
            on_dirt(self.folder, name, None, kind)
        if style.fmt == "xlsx":
            # A normal (not write-only) workbook records the sheet dimension, as Excel does; readers
            # in read-only mode rely on it to pad rows whose trailing cells are empty.
            self._wb = Workbook()
            self._ws = self._wb.active
            self._ws.title = "Sheet1"
            if style.title:
                self._ws.append([style.title])
                self._ws.append([])
            self._ws.append([self._cell(h) for h in headers])
        else:
            encoding = "utf-8-sig" if style.bom else "utf-8"
            if style.legacy and style.legacy_as_bytes:
                encoding = "latin-1"
            self._encoding = encoding
            self._fh = open(self.path, "w", encoding=encoding, newline="")  # noqa: SIM115
            self._csv = csv.writer(self._fh, delimiter=style.sep, lineterminator="\r\n")
            self._csv.writerow([self._cell(h) for h in headers])

    def _cell(self, value: object) -> object:
        if not isinstance(value, str):
            return value
        if self.style.nfd:
            value = unicodedata.normalize("NFD", value)
        if self.style.legacy:
            value = to_legacy(value, self.style.legacy)
        return value

    def row(self, values: dict[str, object], dirt: list[str] | tuple[str, ...] = ()) -> int:
        self.rows += 1
        cells = ["" if values.get(c) is None else values[c] for c in self.columns]
        if self.style.nfd or self.style.legacy:
            cells = [self._cell(c) for c in cells]
        if self.style.fmt == "xlsx":
            self._ws.append([None if c == "" else c for c in cells])
        else:
            self._csv.writerow(cells)
        for kind in dirt:
            self.on_dirt(self.folder, self.name, self.rows, kind)
        return self.rows

    def close(self) -> None:
        if self.style.fmt == "xlsx":
            self._wb.properties.creator = "lietsi.synth"
            buf = io.BytesIO()
            self._wb.save(buf)
            self.path.write_bytes(_fixed_zip(buf.getvalue()))
            return
        self._fh.close()
        if self.style.truncate and self.rows:
            # Cut on characters, not bytes: the file stays valid in its encoding, only the row is short.
            with open(self.path, encoding=self._encoding, newline="") as fh:
                body = fh.read().rstrip("\r\n")
            start = body.rfind("\n") + 1
            with open(self.path, "w", encoding=self._encoding, newline="") as fh:
                fh.write(body[: start + max(1, (len(body) - start) // 2)])
            self.on_dirt(self.folder, self.name, self.rows, "truncated_row")


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack an XLSX with fixed entry times and core-properties dates (byte-identical output)."""
    out = io.BytesIO()
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    head = text.find(f"<{tag}")
                    if head >= 0:
                        body = text.find(">", head) + 1
                        tail = text.find(f"</{tag}>", body)
                        text = text[:body] + stamp + text[tail:]
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


class FastaSink:
    """Lab sequences: one record per sample, id = sample id, 70 bases a line."""

    def __init__(self, inbox: Path, folder: str, name: str):
        self.path = inbox / folder / name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._fh = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.rows = 0

    def record(self, record_id: str, sequence: str) -> int:
        self.rows += 1
        self._fh.write(f">{record_id}\n")
        for i in range(0, len(sequence), 70):
            self._fh.write(sequence[i : i + 70] + "\n")
        return self.rows

    def close(self) -> None:
        self._fh.close()
