"""Consent: a donor who has not said yes is never compared.

The check reads which donor samples or relatives `marts.match_candidates` names (any column whose
name mentions `sample` or `relative`, plain or list) and fails if one of them belongs to a donor
whose consent (`core.relatives.consent`, from form 02's `Đồng ý cung cấp mẫu`) is not `Có`, or to
a donor sample that cannot be tied to a surveyed relative at all (no consent on record).
"""

import dagster as dg
import duckdb
import polars as pl

from assets import stage_keys
from resources import WarehouseResource
from resources.sql import sql_text

MATCH_CANDIDATES = dg.AssetKey(["marts", "match_candidates"])


def donor_references(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, set[str]]:
    """Column → the distinct sample or relative ids it names (lists flattened)."""
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND table_catalog = current_database()",
        [schema, name],
    ).fetchall()
    out: dict[str, set[str]] = {}
    for column, data_type in columns:
        if not any(word in column.lower() for word in ("sample", "relative")) or column == "remains_id":
            continue
        values = f'unnest("{column}")' if data_type.endswith("[]") else f'"{column}"'
        rows = con.execute(f"SELECT DISTINCT {values} FROM {table}").fetchall()
        out[column] = {str(r[0]) for r in rows if r[0] is not None}
    return out


def consent_violations(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, list[str]]:
    """(non-consenting donors named by match_candidates, the columns inspected)."""
    refused = con.execute(sql_text("ops", "non_consenting_donors")).pl()
    references = donor_references(con, "marts.match_candidates")
    named = set().union(*references.values()) if references else set()
    hits = refused.filter(pl.col("sample_id").is_in(named) | pl.col("relative_id").is_in(named))
    return hits, sorted(references)


def build_consent_check(asset: dg.AssetKey = MATCH_CANDIDATES) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="no_donor_without_consent",
        blocking=True,
        additional_deps=[dg.AssetKey(["marts", "mtdna_profiles"]), dg.AssetKey(["core", "relatives"])],
        description="No profile of a donor without recorded consent (`Có`) appears among the comparisons.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            hits, columns = consent_violations(con)
        if not columns:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description="match_candidates names no donor sample or relative: consent cannot be verified",
            )
        return dg.AssetCheckResult(
            passed=hits.is_empty(),
            metadata={
                "columns_inspected": ", ".join(columns),
                "donors_without_consent_compared": hits.height,
                "samples": dg.MetadataValue.md(", ".join(hits["sample_id"].to_list()) or "none"),
            },
        )

    return _check


consent_checks = [build_consent_check()] if MATCH_CANDIDATES in stage_keys() else []
