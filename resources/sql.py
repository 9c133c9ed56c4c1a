"""The SQL files of `sql/`: queries are kept as files so analysts can read and run them in DuckDB."""

from __future__ import annotations

import re
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
_TABLE_REFERENCE = re.compile(r"\b(raw|core|marts|reports|ops)\.(\w+)\b")


def sql_text(folder: str, name: str) -> str:
    """The SQL of `sql/<folder>/<name>.sql`."""
    return (SQL_ROOT / folder / f"{name}.sql").read_text(encoding="utf-8")


def sql_files(folder: str, pattern: str = "*.sql") -> dict[str, str]:
    """File stem → SQL for the files of `sql/<folder>` matching `pattern`, in name order."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((SQL_ROOT / folder).glob(pattern))}


def referenced_tables(
    sql: str, schemas: tuple[str, ...] = ("raw", "core", "marts", "reports", "ops")
) -> set[str]:
    """`schema.table` names a query reads (comments ignored)."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return {f"{s}.{t}" for s, t in _TABLE_REFERENCE.findall(body) if s in schemas}
