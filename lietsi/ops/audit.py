"""What a run read and wrote, for the audit trail: code version, and a fingerprint of every table.

A table's fingerprint is its row count and an order-independent checksum of its rows (the sum of
DuckDB's row hashes), so two runs that produced the same content give the same fingerprint whatever
order rows were written in.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

import duckdb
import polars as pl

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT_SCHEMA = {"table_name": pl.Utf8, "rows": pl.Int64, "checksum": pl.Utf8}


def code_version(root: Path = PROJECT_ROOT) -> str:
    """`git:<commit>` (with `-dirty` for uncommitted changes) or `package:<version>` outside a clone."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return f"git:{result.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        try:
            return f"package:{importlib.metadata.version('lietsi')}"
        except importlib.metadata.PackageNotFoundError:
            return "unknown"


def warehouse_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[str]:
    """`schema.table` of every base table in the given schemas, sorted."""
    rows = con.execute(
        """
        SELECT table_schema || '.' || table_name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_catalog = current_database()
          AND list_contains($schemas, table_schema)
        ORDER BY 1
        """,
        {"schemas": list(schemas)},
    ).fetchall()
    return [r[0] for r in rows]


def table_fingerprints(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], exclude: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Row count and content checksum of each table of `schemas` (tables named in `exclude` left out)."""
    out = []
    for name in warehouse_tables(con, schemas):
        if name in exclude:
            continue
        rows, checksum = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {name} t"
        ).fetchone()
        out.append({"table_name": name, "rows": rows, "checksum": format(int(checksum), "x")})
    return pl.DataFrame(out, schema=FINGERPRINT_SCHEMA)
