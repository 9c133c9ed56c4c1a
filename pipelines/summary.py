"""Prints what a run produced: rows per source, quarantine reasons, what the stages wait for, table sizes,
and accuracy against the synthetic truth only when `TRUTH_DIR` names one."""

from __future__ import annotations

import duckdb
import polars as pl

from lietsi.ops.audit import warehouse_tables
from lietsi.ops.readiness import waiting_for
from lietsi.schema import SOURCES
from resources import settings_from_env, warehouse_from_env
from resources.sql import sql_text

SCHEMAS = ("raw", "core", "marts", "ops", "reports", "analyst")


def _query(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame | None:
    """The result of `sql/ops/<name>.sql`, or None while a table it reads does not exist yet."""
    try:
        return con.execute(sql_text("ops", name)).pl()
    except duckdb.CatalogException:
        return None


def _clean_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in `raw.<folder>` per inbox folder (0 while a table does not exist)."""
    present = {name.removeprefix("raw.") for name in warehouse_tables(con, ("raw",))}
    return {
        folder: con.execute(f"SELECT count(*) FROM raw.{folder}").fetchone()[0] if folder in present else 0
        for folder in SOURCES
    }


def waiting_table(rows: dict[str, int]) -> pl.DataFrame:
    """One row per stage output that waits for an inbox folder."""
    return pl.DataFrame(
        [{"stage": n.stage, "output": n.output, "waits for": n.missing} for n in waiting_for(rows)],
        schema={"stage": pl.Utf8, "output": pl.Utf8, "waits for": pl.Utf8},
    )


def summary_tables() -> dict[str, pl.DataFrame]:
    queries = [("rows per source", "summary_sources"), ("quarantine", "summary_quarantine")]
    if settings_from_env().truth is not None:
        queries.append(("accuracy against the synthetic truth", "summary_accuracy"))
    with warehouse_from_env().connect(read_only=True) as con:
        out = {
            title: frame
            for title, name in queries
            if (frame := _query(con, name)) is not None and frame.height
        }
        waiting = waiting_table(_clean_rows(con))
        if waiting.height:
            out["waiting for inputs"] = waiting
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            f"WHERE table_schema IN {SCHEMAS} ORDER BY 1"
        ).fetchall()
        counts = [
            {"table": name, "rows": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]}
            for (name,) in tables
            if not name.startswith(("ops.quarantine_", "ops.batches_"))
        ]
        out["tables"] = pl.DataFrame(counts, schema={"table": pl.Utf8, "rows": pl.Int64})
    return out


def main() -> None:
    pl.Config.set_tbl_rows(80)
    pl.Config.set_fmt_str_lengths(70)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    for title, frame in summary_tables().items():
        print(f"\n== {title} ==")
        print(frame)


if __name__ == "__main__":
    main()
