"""Prints what a run produced: rows in, clean and quarantined per source and reason, then table sizes."""

from __future__ import annotations

import polars as pl

from resources import warehouse_from_env


def summary_tables() -> dict[str, pl.DataFrame]:
    warehouse = warehouse_from_env()
    with warehouse.connect(read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'marts', 'ops') ORDER BY 1, 2"
        ).fetchall()
        names = {f"{s}.{t}" for s, t in tables}
        out: dict[str, pl.DataFrame] = {}
        if "ops.batches" in names:
            out["sources"] = con.execute(
                """
                SELECT source, count(*) AS files, sum(records_read)::BIGINT AS rows_in,
                       sum(rows_clean)::BIGINT AS clean,
                       sum(rows_quarantined)::BIGINT AS quarantined,
                       count(*) FILTER (WHERE status = 'failed') AS failed_files
                FROM ops.batches GROUP BY source ORDER BY source
                """
            ).pl()
        if "ops.quarantine" in names:
            out["quarantine"] = con.execute(
                """
                SELECT source, regexp_replace(reason, '''[^'']*''|\\d+', '…', 'g') AS reason, count(*) AS rows
                FROM ops.quarantine GROUP BY ALL ORDER BY source, rows DESC
                """
            ).pl()
        counts = [
            {"table": name, "rows": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]}
            for name in sorted(names)
            if not name.startswith(("ops.quarantine_", "ops.batches_"))
        ]
        out["tables"] = pl.DataFrame(counts, schema={"table": pl.Utf8, "rows": pl.Int64})
    return out


def main() -> None:
    pl.Config.set_tbl_rows(60)
    pl.Config.set_fmt_str_lengths(70)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    for title, frame in summary_tables().items():
        print(f"\n== {title} ==")
        print(frame)


if __name__ == "__main__":
    main()
