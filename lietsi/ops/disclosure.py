"""Scanning warehouse objects for direct identifiers of living people.

Used by the analyst schema's check and by the privacy tests. A finding names the object, the
column and what was found, never the value itself (the report of a leak must not leak).

What counts as an identifier here:
- a column whose name says it holds one (citizen id, phone, address, a relative's or household
  head's name, or any keyed hash: a hash is a pseudonym that links a row back to the person);
- a value that looks like a 12-digit citizen id (CCCD), a Vietnamese phone number, or a 64-hex-digit
  keyed hash;
- a value containing one of the given names of living relatives.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import duckdb
import polars as pl

from lietsi.privacy import CITIZEN_ID, PHONE

IDENTIFIER_COLUMN = re.compile(
    r"citizen|cccd|phone|dien_thoai|address|dia_chi|_hash$|^hash|relative_name|recipient_name|household_head",
    re.IGNORECASE,
)
KEYED_HASH = re.compile(r"\b[0-9a-f]{64}\b")
FINDING_SCHEMA = {"object": pl.Utf8, "column": pl.Utf8, "finding": pl.Utf8, "rows": pl.Int64}


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NameIndex:
    """Whole-word occurrences of any of a set of names, case-insensitive (`An` does not match `Anh`).

    Names and values are compared as sequences of words, so a value is searched with one set
    look-up per word window instead of a regular expression of thousands of alternatives (which took
    most of the analyst stage's time). Spacing and punctuation between the words of a name do not
    matter: `Nguyễn Thị,  Lựu` holds `Nguyễn Thị Lựu`.
    """

    names: frozenset[tuple[str, ...]]
    lengths: tuple[int, ...]

    def search(self, value: str) -> bool:
        words = [w.casefold() for w in _WORD.findall(value)]
        return any(
            tuple(words[i : i + n]) in self.names for n in self.lengths for i in range(len(words) - n + 1)
        )


def name_index(names: set[str]) -> NameIndex | None:
    """The index of `names` of three words or more: a two-word name (`Nguyễn Đức`, a form with the
    given name cut off) is the start of many other people's names, and would flag every martyr who
    has it."""
    return _index(frozenset(names))


# A scan asks for the same names once per column: the whole set is the cache key, so the words of
# each name are found once per scan, not once per column.
@functools.lru_cache(maxsize=4)
def _index(names: frozenset[str]) -> NameIndex | None:
    words = (_WORD.findall(n) for n in names if n)
    keys = frozenset(tuple(w.casefold() for w in found) for found in words if len(found) >= 3)
    if not keys:
        return None
    return NameIndex(keys, tuple(sorted({len(k) for k in keys})))


def value_findings(values: list[str], names: set[str]) -> dict[str, int]:
    """Counts of values holding a citizen id, a phone, a keyed hash or one of `names`."""
    counts: dict[str, int] = {}
    named = name_index(names)
    for value in values:
        found = []
        if CITIZEN_ID.search(value):
            found.append("citizen id pattern")
        if PHONE.search(value):
            found.append("phone pattern")
        if KEYED_HASH.search(value):
            found.append("keyed hash")
        if named is not None and named.search(value):
            found.append("living relative's name")
        for kind in found:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def scan_schema(con: duckdb.DuckDBPyConnection, schema: str, names: set[str]) -> pl.DataFrame:
    """Every identifier found in the tables and views of `schema` (columns by name, values by pattern)."""
    columns = con.execute(
        """
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = ? AND table_catalog = current_database()
        ORDER BY table_name, ordinal_position
        """,
        [schema],
    ).fetchall()
    findings = []
    for table, column in columns:
        name = f"{schema}.{table}"
        if IDENTIFIER_COLUMN.search(column):
            findings.append({"object": name, "column": column, "finding": "identifier column", "rows": None})
        values = [
            r[0]
            for r in con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {name} WHERE "{column}" IS NOT NULL'
            ).fetchall()
        ]
        for kind, count in value_findings(values, names).items():
            findings.append({"object": name, "column": column, "finding": kind, "rows": count})
    return pl.DataFrame(findings, schema=FINDING_SCHEMA)


# Where the warehouse keeps names of living people, and of the dead (to tell them apart).
_LIVING_NAME_COLUMNS = (
    ("core.relatives", "full_name"),
    ("raw.phieu_02", "relative_name"),
    ("raw.phieu_01", "recipient_name"),
    ("raw.phieu_ho_gia_dinh", "household_head"),
)
_MARTYR_NAME_COLUMNS = (
    ("core.martyrs", "full_name"),
    ("raw.registry", "full_name"),
    ("raw.phieu_01", "martyr_name"),
    ("raw.phieu_02", "martyr_name"),
)


def _names(con: duckdb.DuckDBPyConnection, columns: tuple[tuple[str, str], ...]) -> set[str]:
    present = {
        f"{s}.{t}.{c}"
        for s, t, c in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database()"
        ).fetchall()
    }
    names: set[str] = set()
    for table, column in columns:
        if f"{table}.{column}" in present:
            names.update(
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
                ).fetchall()
            )
    return names


def living_relative_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of living relatives and household heads, minus any that is also a martyr's name.

    A nephew named after his fallen uncle shares the name; the martyr's name is published, so its
    presence in an analyst view is not a leak.
    """
    return _names(con, _LIVING_NAME_COLUMNS) - _names(con, _MARTYR_NAME_COLUMNS)
