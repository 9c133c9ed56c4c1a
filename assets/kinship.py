"""Kinship: who shares each martyr's mtDNA, maternal lines, and whom the collection teams sample.

`core.kinship_statements` reads the kinship text of every form row that names a relative of a
martyr (form 02 relatives, form 01 allowance recipients) with `lietsi.kinship.statements`;
`marts.maternal_candidates` combines them per (martyr, relative) pair; `marts.maternal_lines` and
`marts.sampling_worklist` group the pairs that share mtDNA into maternal lines and rank the
donors of each (`lietsi.kinship.maternal`, `lietsi.kinship.worklist`, `lietsi.kinship.sheets`). The
worklist is also written, one CSV and one printable HTML page per commune, to
`settings.out_dir/worklists` (`lietsi.ops.worklist_pages`).
"""

import dagster as dg
import polars as pl

from assets._shared import preview
from lietsi.kinship.evaluation import evaluate
from lietsi.kinship.maternal import candidates_with_lines
from lietsi.kinship.sheets import commune_worklist
from lietsi.kinship.statements import form_statements
from lietsi.matching.council import settled_elsewhere
from lietsi.ops.readiness import describe, waiting_for
from lietsi.ops.worklist_pages import write_worklist_pages
from lietsi.places import province_of
from lietsi.truth import TruthFolder
from resources import IO_RETRY_POLICY, SettingsResource, WarehouseResource

GROUP = "kinship"
MIN_ACCURACY = 0.99
MIN_PARSED = 0.95
MIN_DECIDED = 0.95


@dg.asset(
    key=["core", "kinship_statements"],
    group_name=GROUP,
    ins={
        "phieu_01": dg.AssetIn(key=["raw", "phieu_01"]),
        "phieu_02": dg.AssetIn(key=["raw", "phieu_02"]),
        "martyr_links": dg.AssetIn(key=["core", "martyr_links"]),
        "relative_links": dg.AssetIn(key=["core", "relative_links"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
    },
    description="One row per form row naming a relative of a martyr: the kinship text read into a kin "
    "path, whether the relative shares the martyr's mtDNA (null when the text does not say) and why.",
)
def kinship_statements_asset(
    context: dg.AssetExecutionContext,
    phieu_01: pl.DataFrame,
    phieu_02: pl.DataFrame,
    martyr_links: pl.DataFrame,
    relative_links: pl.DataFrame,
    martyrs: pl.DataFrame,
) -> pl.DataFrame:
    out = form_statements(phieu_01, phieu_02, martyr_links, relative_links, martyrs)
    n = out.height
    context.add_output_metadata(
        {
            "statements": n,
            "waiting_for": describe(
                waiting_for({"phieu_01": phieu_01.height, "phieu_02": phieu_02.height}, "kinship")
            )
            or "nothing",
            "parsed_share": float(out["parsed"].mean() or 0.0),
            "decided_share": float(out["shares_mtdna"].is_not_null().mean() or 0.0),
            "sharing": int(out["shares_mtdna"].sum() or 0),
            "without_martyr_or_relative_id": int(
                (out["martyr_id"].is_null() | out["relative_id"].is_null()).sum()
            ),
            "review_reasons": preview(
                out.filter(pl.col("review_reason").is_not_null())
                .group_by("review_reason")
                .len()
                .sort("len", descending=True),
                15,
            ),
            "preview": preview(
                out.select("relationship_text", "kin_path", "martyr_sex", "shares_mtdna", "review_reason")
            ),
        }
    )
    return out


@dg.asset(
    key=["marts", "maternal_candidates"],
    group_name=GROUP,
    ins={"statements": dg.AssetIn(key=["core", "kinship_statements"])},
    description="One row per (martyr, relative) pair from the forms: relationship_text, kin_path, "
    "shares_mtdna (true/false/null when undecidable), review_reason, and the pair's maternal_line_id.",
)
def maternal_candidates_asset(context: dg.AssetExecutionContext, statements: pl.DataFrame) -> pl.DataFrame:
    candidates = candidates_with_lines(statements)
    context.add_output_metadata(
        {
            "pairs": candidates.height,
            "sharing": int(candidates["shares_mtdna"].sum() or 0),
            "not_sharing": int((~candidates["shares_mtdna"]).sum() or 0),
            "undecided": int(candidates["shares_mtdna"].is_null().sum()),
            "statements_disagree": int(
                candidates["review_reason"].str.starts_with("statements disagree").sum() or 0
            ),
            "maternal_lines": int(candidates["maternal_line_id"].n_unique()),
            "preview": preview(
                candidates.select(
                    "martyr_id",
                    "relative_id",
                    "relationship_text",
                    "kin_path",
                    "shares_mtdna",
                    "maternal_line_id",
                )
            ),
        }
    )
    return candidates


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "candidates": dg.AssetIn(key=["marts", "maternal_candidates"]),
        "statements": dg.AssetIn(key=["core", "kinship_statements"]),
        "relatives": dg.AssetIn(key=["core", "relatives"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
        "national_candidates": dg.AssetIn(key=["marts", "national_candidates"]),
    },
    outs={
        "lines": dg.AssetOut(
            key=["marts", "maternal_lines"],
            description="One row per maternal line: its martyrs, donors by consent, status "
            "(ready/ask_consent/no_donor/not_needed) and, without a donor, the reason.",
        ),
        "worklist": dg.AssetOut(
            key=["marts", "sampling_worklist"],
            description="Relatives to sample next, per commune by priority_rank: one primary and one backup "
            "per maternal line, those to ask for consent, those who refused.",
        ),
    },
    retry_policy=IO_RETRY_POLICY,
)
def sampling_worklist_asset(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    candidates: pl.DataFrame,
    statements: pl.DataFrame,
    relatives: pl.DataFrame,
    martyrs: pl.DataFrame,
    national_candidates: pl.DataFrame,
):
    home = province_of(martyrs)
    settled = frozenset(settled_elsewhere(national_candidates)["martyr_id"].to_list())
    result = commune_worklist(candidates, statements, relatives, martyrs, home, settled)
    out = settings.run_out(context.run_id)
    written = write_worklist_pages(out, result, martyrs, relatives, home, context.run_id)
    yield dg.Output(
        result.lines,
        output_name="lines",
        metadata={
            "lines": result.lines.height,
            **{f"status_{k}": int(v) for k, v in sorted(result.lines.group_by("status").len().iter_rows())},
            "no_donor_reasons": preview(
                result.lines.filter(pl.col("status") == "no_donor")
                .group_by("reason")
                .len()
                .sort("len", descending=True)
            ),
        },
    )
    yield dg.Output(
        result.worklist,
        output_name="worklist",
        metadata={
            "rows": result.worklist.height,
            **{f"role_{k}": int(v) for k, v in sorted(result.worklist.group_by("role").len().iter_rows())},
            "communes": len(written),
            "worklists_dir": dg.MetadataValue.path(str(out / "worklists")),
            "worklists_index": dg.MetadataValue.url((out / "worklists" / "index.html").resolve().as_uri()),
            "preview": preview(result.worklist.drop("martyr_ids")),
        },
    )


def _evaluation(
    settings: SettingsResource, warehouse: WarehouseResource, worklist: bool = True
) -> dict[str, float | int] | None:
    """Metrics against the truth; `worklist=False` before the worklist is built (pairs only)."""
    truth = TruthFolder(settings.truth)
    if not truth.has("relative_records"):
        return None
    return evaluate(
        warehouse.query("SELECT * FROM core.kinship_statements"),
        warehouse.query("SELECT * FROM marts.maternal_candidates"),
        warehouse.query("SELECT * FROM marts.sampling_worklist") if worklist else None,
        truth.read("relative_records"),
        truth.read_optional("persons"),
        warehouse.query("SELECT * FROM marts.maternal_lines") if worklist else None,
    )


@dg.asset(
    key=["marts", "kinship_evaluation"],
    group_name=GROUP,
    deps=[dg.AssetKey(["marts", "sampling_worklist"]), dg.AssetKey(["marts", "maternal_lines"])],
    description="Share of kinship texts parsed and decided, accuracy of shares_mtdna per statement and per "
    "pair against the synthetic truth, false shares, martyrs with a usable relative but no donor.",
)
def kinship_evaluation(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
) -> pl.DataFrame:
    metrics = _evaluation(settings, warehouse)
    schema = {"metric": pl.String, "value": pl.Float64}
    if metrics is None:
        context.add_output_metadata({"status": "no truth"})
        return pl.DataFrame(schema=schema)
    context.add_output_metadata({"status": "evaluated", **metrics})
    return pl.DataFrame([(k, float(v)) for k, v in metrics.items()], schema=schema, orient="row")


@dg.asset_check(
    asset=dg.AssetKey(["marts", "maternal_candidates"]),
    name="shares_mtdna_correct",
    blocking=True,
    description=f"Kinship texts parsed ≥ {MIN_PARSED}; on the synthetic truth, decided pairs correct ≥ "
    f"{MIN_ACCURACY} and no pair marked sharing mtDNA that does not. A wrong 'shares' would let a "
    "stranger's sample exclude or identify a martyr, so it stops the matching stage.",
)
def shares_mtdna_check(settings: SettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    parsed = warehouse.query("SELECT avg(parsed::INT) AS p FROM core.kinship_statements")["p"][0]
    if parsed is None:
        return dg.AssetCheckResult(passed=True, metadata={"status": "no kinship statement yet"})
    metrics = _evaluation(settings, warehouse, worklist=False)
    if metrics is None:
        return dg.AssetCheckResult(
            passed=parsed >= MIN_PARSED, metadata={"status": "no truth", "parsed": parsed}
        )
    passed = (
        parsed >= MIN_PARSED
        and metrics["pair_accuracy"] >= MIN_ACCURACY
        and metrics["statement_accuracy"] >= MIN_ACCURACY
        and metrics["pair_false_shares"] == 0
        and metrics["statement_false_shares"] == 0
    )
    return dg.AssetCheckResult(passed=passed, metadata={"status": "evaluated", **metrics})


@dg.asset_check(
    asset=dg.AssetKey(["marts", "sampling_worklist"]),
    name="coverage",
    blocking=False,
    description=f"Kinship texts decided ≥ {MIN_DECIDED}, and on the synthetic truth every martyr with a "
    "living, consenting relative on his maternal line has a primary donor. A shortfall leaves work for "
    "review but nothing wrong downstream, so it warns.",
)
def worklist_coverage_check(settings: SettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    decided = warehouse.query(
        "SELECT avg((shares_mtdna IS NOT NULL)::INT) AS d FROM core.kinship_statements"
    )["d"][0]
    if decided is None:
        return dg.AssetCheckResult(passed=True, metadata={"status": "no kinship statement yet"})
    no_donor = warehouse.query("SELECT count(*) AS n FROM marts.maternal_lines WHERE status = 'no_donor'")[
        "n"
    ][0]
    metrics = _evaluation(settings, warehouse) or {}
    missing = metrics.get("martyrs_without_donor", 0)
    return dg.AssetCheckResult(
        passed=decided >= MIN_DECIDED and missing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"decided": decided, "lines_without_donor": int(no_donor), **metrics},
    )
