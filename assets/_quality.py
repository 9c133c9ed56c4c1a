"""The one way a stage turns a great-expectations suite into a blocking Dagster asset check."""

import dagster as dg

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
