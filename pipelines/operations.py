"""`ops.quarantine` and `ops.batches`: views over every stage's part (`ops.quarantine_<stage>` …).

Views, not tables: a stage skipped by a failing blocking check must not hide the rows the other
stages rejected, and a view always shows each part as last written. Parts not written yet are
created empty so that the view can name them.
"""

import dagster as dg
import polars as pl

from lietsi.ingest.batches import BATCH_SCHEMA, QUARANTINE_SCHEMA
from resources import WarehouseResource

PART_SCHEMAS: dict[str, dict[str, pl.DataType]] = {"quarantine": QUARANTINE_SCHEMA, "batches": BATCH_SCHEMA}


def build_union_asset(name: str, parts: list[dg.AssetKey], description: str) -> dg.AssetsDefinition:
    tables = sorted(k.path[1] for k in parts)
    empty = pl.DataFrame(schema=PART_SCHEMAS[name])

    @dg.asset(key=dg.AssetKey(["ops", name]), group_name="operations", description=description)
    def _union(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS ops")
            con.register("empty_part", empty.to_arrow())
            for table in tables:
                con.execute(f"CREATE TABLE IF NOT EXISTS ops.{table} AS SELECT * FROM empty_part")
            # Warehouses written before the parts became views hold a table of this name.
            kind = con.execute(
                "SELECT table_type FROM information_schema.tables"
                " WHERE table_schema = 'ops' AND table_name = ?",
                [name],
            ).fetchone()
            if kind and kind[0] == "BASE TABLE":
                con.execute(f"DROP TABLE ops.{name}")
            union = " UNION ALL BY NAME ".join(f"SELECT * FROM ops.{t}" for t in tables)
            con.execute(f"CREATE OR REPLACE VIEW ops.{name} AS {union}")
        return dg.MaterializeResult(metadata={"parts": dg.MetadataValue.json(tables)})

    return _union
