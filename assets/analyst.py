"""The `analyst` schema: one view per `sql/analyst/*.sql` file, with no direct identifier of the living.

`sql/analyst/dictionary.toml` describes every view and column once: it becomes the views' and
columns' `COMMENT ON`, the assets' descriptions and column schemas in Dagster, and the data
dictionary page (`<out_dir>/analyst/tu_dien_du_lieu.html`). A view or column it does not describe
stops the stage with the name of what is missing.

Analysts get only this schema. Each view selects an explicit list of columns (an allow-list), so a
column added to a mart later never reaches analysts by accident. A view whose mart does not exist
yet is left out of this run (and its stale version dropped) instead of failing the run; each view
carries a check that scans its columns and values for citizen ids, phones, keyed hashes and the
names of living relatives (`lietsi.ops.disclosure`).
"""

import tomllib
from functools import cache

import dagster as dg
import duckdb
import polars as pl

from assets import stage_keys
from assets.reports import province_in_warehouse, report_assets
from lietsi.ops.disclosure import living_relative_names, scan_schema
from lietsi.ops.pages import Footer
from lietsi.ops.site import write_data_dictionary
from resources import IO_RETRY_POLICY, SettingsResource, WarehouseResource
from resources.sql import SQL_ROOT, referenced_tables, sql_files

GROUP = "analyst"


def view_sql() -> dict[str, str]:
    """View name → its SELECT, one per file of sql/analyst."""
    return sql_files("analyst")


@cache
def dictionary() -> dict[str, dict]:
    """View → {"description": text, "columns": {column: text}} from sql/analyst/dictionary.toml."""
    return tomllib.loads((SQL_ROOT / "analyst" / "dictionary.toml").read_text(encoding="utf-8"))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_views(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """COMMENT ON each view and its columns from the dictionary; a column it does not describe is an
    error, so that no undocumented column reaches analysts."""
    entries = dictionary()
    for name in names:
        entry = entries.get(name)
        if entry is None:
            raise KeyError(f"analyst.{name} is not in sql/analyst/dictionary.toml")
        con.execute(f"COMMENT ON VIEW analyst.{name} IS {_quoted(entry['description'])}")
        columns = [r[0] for r in con.execute(f"DESCRIBE analyst.{name}").fetchall()]
        missing = [c for c in columns if c not in entry["columns"]]
        if missing:
            raise KeyError(f"analyst.{name}: columns {missing} are not in sql/analyst/dictionary.toml")
        for column in columns:
            con.execute(f'COMMENT ON COLUMN analyst.{name}."{column}" IS {_quoted(entry["columns"][column])}')


def column_schema(name: str) -> dg.TableSchema:
    """The view's columns and their descriptions, for the asset's `dagster/column_schema`."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(column, description=text)
            for column, text in dictionary().get(name, {}).get("columns", {}).items()
        ]
    )


def referenced_keys(sql: str) -> list[dg.AssetKey]:
    return sorted((dg.AssetKey(t.split(".")) for t in referenced_tables(sql)), key=lambda k: k.path)


def create_views(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """(Re)create every analyst view; view → None when created, else why it is not available."""
    con.execute("CREATE SCHEMA IF NOT EXISTS analyst")
    outcome: dict[str, str | None] = {}
    for name, sql in view_sql().items():
        try:
            con.execute(f"CREATE OR REPLACE VIEW analyst.{name} AS {sql}")
            con.execute(f"SELECT * FROM analyst.{name} LIMIT 0")
            comment_views(con, [name])
            outcome[name] = None
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            con.execute(f"DROP VIEW IF EXISTS analyst.{name}")
            outcome[name] = str(exc).splitlines()[0]
    return outcome


def _specs() -> tuple[list[dg.AssetSpec], list[dg.AssetCheckSpec]]:
    defined = set(stage_keys()) | {key for a in report_assets for key in a.keys}
    specs, checks = [], []
    for name, sql in view_sql().items():
        key = dg.AssetKey(["analyst", name])
        specs.append(
            dg.AssetSpec(
                key,
                deps=[k for k in referenced_keys(sql) if k in defined],
                description=f"View over the marts for analysts: {dictionary()[name]['description']}",
                group_name=GROUP,
                skippable=True,
                metadata={"dagster/column_schema": column_schema(name)},
            )
        )
        checks.append(
            dg.AssetCheckSpec(
                "no_identifiers",
                asset=key,
                description="No citizen id, phone, keyed hash, address or living relative's name.",
            )
        )
    return specs, checks


_SPECS, _CHECKS = _specs()


@dg.multi_asset(specs=_SPECS, check_specs=_CHECKS, retry_policy=IO_RETRY_POLICY, can_subset=True)
def analyst_views(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
):
    """(Re)create the analyst views whose marts exist, and scan each for identifiers."""
    with warehouse.connect() as con:
        outcome = create_views(con)
        province = province_in_warehouse(con)
        findings = scan_schema(con, "analyst", living_relative_names(con))
        counts = {
            name: con.execute(f"SELECT count(*) FROM analyst.{name}").fetchone()[0]
            for name, reason in outcome.items()
            if reason is None
        }
    write_data_dictionary(
        settings.run_out(context.run_id),
        Footer(province, context.run_id),
        sorted(dictionary().items()),
        {name for name, reason in outcome.items() if reason is not None},
    )
    selected = {key.path[1] for key in context.selected_asset_keys}
    for name, reason in outcome.items():
        if reason is not None:
            context.log.info(f"analyst.{name} not yet available: {reason}")
            continue
        if name not in selected:
            continue
        yield from _view_results(name, counts[name], findings)


def _view_results(name: str, rows: int, findings: pl.DataFrame) -> list:
    """The view's materialisation and its identifier check from the schema scan's `findings`."""
    key = dg.AssetKey(["analyst", name])
    found = findings.filter(findings["object"] == f"analyst.{name}")
    return [
        dg.MaterializeResult(asset_key=key, metadata={"dagster/row_count": rows}),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="no_identifiers",
            passed=found.is_empty(),
            metadata={
                "findings": found.height,
                "details": dg.MetadataValue.md(str(found) if found.height else "none"),
            },
        ),
    ]
