"""Cell text and header rows: which row is the header, and which contract field each header names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from unidecode import unidecode

from lietsi.ingest.batches import BatchError
from lietsi.schema import Field, Source

HEADER_SCAN_ROWS = 15


_SPACES = re.compile(r"\s+")


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


def find_header(records: list[list], source: Source) -> int:
    """Index of the header row: the first of the first rows that names most contract fields.

    Exports often put a title (`DANH SÁCH LIỆT SĨ …`) above the header.
    """
    known = {header_key(label) for f in source.fields for label in (f.header, *f.aliases)}
    best, best_hits = None, 0
    for i, rec in enumerate(records[:HEADER_SCAN_ROWS]):
        hits = sum(header_key(str(c)) in known for c in rec if c not in (None, ""))
        if hits > best_hits:
            best, best_hits = i, hits
    if best is None:
        raise BatchError(f"no header row naming the contract's columns for '{source.folder}'")
    return best


def is_blank(rec: Iterable) -> bool:
    return all(clean_text(c) is None for c in rec)
