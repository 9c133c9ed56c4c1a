"""What every stage module shares: the expectations check, the metadata preview and counts, the `sql/`
files."""

import math

import dagster as dg
import polars as pl

from lietsi.ops.quality import load_suite_config, validate
from lietsi.schema import is_personal
from resources import WarehouseResource
from resources.sql import sql_text


def expectations_check(key: dg.AssetKey, suite_name: str, description: str) -> dg.AssetChecksDefinition:
    """A blocking check running `expectations/<suite_name>.json` on the table behind `key`."""
    suite = load_suite_config(suite_name)
    table = ".".join(key.path)

    @dg.asset_check(
        asset=key,
        name="expectations",
        blocking=True,
        description=f"great-expectations suite expectations/{suite_name}.json: {description}",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        result = validate(warehouse.query(f"SELECT * FROM {table}"), suite)
        return dg.AssetCheckResult(
            passed=result.success,
            metadata={
                "failed_expectations": len(result.failures),
                "details": dg.MetadataValue.md(result.describe()),
            },
        )

    return _check


def _cell(value: object) -> str | int | float | bool | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _column_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return "bool" if dtype == pl.Boolean else "string"


def preview(frame: pl.DataFrame, rows: int = 8) -> dg.MetadataValue:
    """The first rows of a frame as a table for asset metadata in the UI, without personal columns.

    Metadata is stored in Dagster's run history, outside the warehouse: columns of
    `lietsi.schema.PERSONAL_COLUMNS` and keyed hashes are left out.
    """
    shown = frame.select(c for c in frame.columns if not is_personal(c)).head(rows)
    schema = dg.TableSchema(columns=[dg.TableColumn(c, _column_type(t)) for c, t in shown.schema.items()])
    records = [dg.TableRecord({k: _cell(v) for k, v in row.items()}) for row in shown.iter_rows(named=True)]
    return dg.MetadataValue.table(records, schema=schema)


def summary_metadata(summary: dict[str, object]) -> dict[str, object]:
    """A library summary as asset metadata: frames as previews of the rows the summary kept (without
    personal columns), dicts as JSON, the rest as is."""
    return {
        k: preview(v, v.height)
        if isinstance(v, pl.DataFrame)
        else dg.MetadataValue.json(v)
        if isinstance(v, dict)
        else v
        for k, v in summary.items()
    }


def counts_markdown(values: pl.Series, top: int | None = None, empty: str = "none") -> dg.MetadataValue:
    """`- <n> × <value>` per distinct value, most frequent first (the first `top`), for asset metadata."""
    counts = values.drop_nulls().value_counts(sort=True)
    if top is not None:
        counts = counts.head(top)
    return dg.MetadataValue.md("\n".join(f"- {n} × {v}" for v, n in counts.iter_rows()) or empty)


def violations_check(
    key: dg.AssetKey,
    sql_name: str,
    description: str,
    *,
    blocking: bool = True,
    folder: str = "checks",
    additional_deps: list[dg.AssetKey] | None = None,
) -> dg.AssetChecksDefinition:
    """A check that passes when `sql/<folder>/<sql_name>.sql` finds no row; it shows the rows found
    (pipeline ids only, no personal data)."""

    @dg.asset_check(
        asset=key,
        name=sql_name,
        blocking=blocking,
        description=description,
        additional_deps=additional_deps,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        found = warehouse.query(sql_text(folder, sql_name))
        rows = found.head(20).to_dicts()
        table = "\n".join(
            ["| " + " | ".join(found.columns) + " |", "|" + "---|" * len(found.columns)]
            + ["| " + " | ".join("" if v is None else str(v) for v in r.values()) + " |" for r in rows]
        )
        return dg.AssetCheckResult(
            passed=found.is_empty(),
            metadata={
                "violations": found.height,
                "first_violations": dg.MetadataValue.md(table if rows else "none"),
            },
        )

    return _check
