"""Typing one source's rows per `lietsi.schema`: years, dates, numbers, enums, hashed identifiers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from lietsi.dates import parse_partial_date, parse_year
from lietsi.ingest.headers import header_key
from lietsi.privacy import (
    identifier_hash,
    keyed_hash,
    normalise_citizen_id,
    normalise_phone,
    redact_identifiers,
)
from lietsi.schema import Field, Source

_MAX_YEAR = 2026


# Columns outside the contract whose header says they hold an identifier (`SĐT`, `Số CMND`, `CCCD
# mẹ`, `Hộ chiếu`): their values are hashed whatever they look like.
_IDENTIFIER_HEADER = re.compile(
    r"\b(?:cmnd|cmt|cccd|can cuoc|chung minh|ho chieu|sdt|dt|dien thoai|phone|mobile)\b"
)


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
