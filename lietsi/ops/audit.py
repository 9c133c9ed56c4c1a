"""What a run read and wrote, for the audit trail: code version, and a fingerprint of every table.

A table's fingerprint is its row count and an order-independent checksum of its rows (the sum of
DuckDB's row hashes), so two runs that produced the same content give the same fingerprint whatever
order rows were written in.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT_SCHEMA = {"table_name": pl.Utf8, "rows": pl.Int64, "checksum": pl.Utf8}
AUDIT_TABLES = ("ops.run_audit", "ops.run_inputs", "ops.run_row_counts", "ops.run_checks")
AUDITED_SCHEMAS = ("raw", "core", "marts", "ops", "reports")


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


def write_run_audit(con: duckdb.DuckDBPyConnection, run_id: str, run: dict, checks: pl.DataFrame) -> int:
    """Write (or rewrite) the audit rows of one run in one transaction; returns the number of rows written.

    `run` holds what the orchestrator knows of the run (`job_name`, `status`, `trigger`, `inbox_file`,
    `started_at`), `checks` its asset-check results; the inputs and table fingerprints are read from
    the warehouse. The audit tables (`sql/ops/audit_tables.sql`) must exist.
    """
    counts = table_fingerprints(con, AUDITED_SCHEMAS, exclude=AUDIT_TABLES).with_columns(
        pl.lit(run_id).alias("run_id")
    )
    batch_tables = [t for t in warehouse_tables(con, ("ops",)) if t.startswith("ops.batches_")]
    inputs = (
        con.execute(
            " UNION ALL ".join(
                f"SELECT $run_id AS run_id, source, file, size_bytes, batch_id AS checksum, status, "
                f"records_read, rows_clean, rows_quarantined FROM {t}"
                for t in batch_tables
            )
            + " ORDER BY source, file",
            {"run_id": run_id},
        ).pl()
        if batch_tables
        else None
    )
    summary = pl.DataFrame(
        [
            {
                "run_id": run_id,
                **run,
                "recorded_at": datetime.now(UTC).replace(tzinfo=None),
                "code_version": code_version(),
                "input_files": 0 if inputs is None else inputs.height,
                "tables": counts.height,
                "checks_passed": int(checks["passed"].sum()),
                "checks_failed": int((~checks["passed"]).sum()),
            }
        ]
    )
    con.execute("BEGIN TRANSACTION")
    for table, frame in (
        ("ops.run_audit", summary),
        ("ops.run_inputs", inputs),
        ("ops.run_row_counts", counts.select("run_id", "table_name", "rows", "checksum")),
        ("ops.run_checks", checks),
    ):
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        if frame is not None and frame.height:
            con.register("frame", frame.to_arrow())
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.unregister("frame")
    con.execute("COMMIT")
    return 1 + (0 if inputs is None else inputs.height) + counts.height + checks.height
