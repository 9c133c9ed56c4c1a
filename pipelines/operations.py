"""`ops` tables gathered from every stage (quarantine, batch log), unioned inside DuckDB."""

import dagster as dg

from resources import WarehouseResource


def build_union_asset(name: str, parts: list[dg.AssetKey], description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["ops", name]),
        deps=parts,
        group_name="operations",
        description=description,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _union(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            present = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ops'"
                ).fetchall()
            }
            tables = [k.path[1] for k in parts if k.path[1] in present]
            con.execute("CREATE SCHEMA IF NOT EXISTS ops")
            if tables:
                union = " UNION ALL BY NAME ".join(f"SELECT * FROM ops.{t}" for t in sorted(tables))
                con.execute(f"CREATE OR REPLACE TABLE ops.{name} AS {union}")
            count = con.execute(f"SELECT count(*) FROM ops.{name}").fetchone()[0] if tables else 0
        return dg.MaterializeResult(metadata={"dagster/row_count": count, "parts": len(tables)})

    return _union
