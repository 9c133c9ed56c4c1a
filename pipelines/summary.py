"""Prints what a run produced: rows per source, quarantine reasons, accuracy against truth, table sizes."""

from __future__ import annotations

import duckdb
import polars as pl

from assets._shared import sql_text
from resources import warehouse_from_env

SCHEMAS = ("raw", "core", "marts", "ops", "reports", "analyst")


def _query(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame | None:
    """The result of `sql/ops/<name>.sql`, or None while a table it reads does not exist yet."""
    try:
        return con.execute(sql_text("ops", name)).pl()
    except duckdb.CatalogException:
        return None


def summary_tables() -> dict[str, pl.DataFrame]:
    with warehouse_from_env().connect(read_only=True) as con:
        out = {
            title: frame
            for title, name in (
                ("rows per source", "summary_sources"),
                ("quarantine", "summary_quarantine"),
                ("accuracy against the synthetic truth", "summary_accuracy"),
            )
            if (frame := _query(con, name)) is not None and frame.height
        }
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
