"""What every stage module shares: the expectations check builder and the frame preview for metadata."""

import dagster as dg
import polars as pl

from lietsi.quality import load_suite_config, validate
from resources import WarehouseResource


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


def preview(frame: pl.DataFrame, rows: int = 8) -> dg.MetadataValue:
    """The first rows of a frame as a markdown block for asset metadata in the UI."""
    with pl.Config(tbl_rows=rows, tbl_cols=12, fmt_str_lengths=50):
        return dg.MetadataValue.md(f"```\n{frame.head(rows)}\n```")
