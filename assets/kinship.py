"""Kinship: who shares each martyr's mtDNA, maternal lines, and whom the collection teams sample.

`core.kinship_statements` reads the kinship text of every form row that names a relative of a
martyr (form 02 relatives, form 01 allowance recipients) with `lietsi.kinship`;
`marts.maternal_candidates` combines them per (martyr, relative) pair; `marts.maternal_lines` and
`marts.sampling_worklist` group the pairs that share mtDNA into maternal lines and rank the
donors of each (`lietsi.kinship.maternal`). The worklist is also written, one CSV and one printable HTML
page per commune, to `settings.out_dir/worklists`.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from assets._shared import preview
from lietsi.kinship.evaluation import evaluate
from lietsi.kinship.maternal import maternal_candidates, maternal_lines
from lietsi.kinship.sheets import ROLE_VI, commune_sheets, with_units, worklist_places
from lietsi.kinship.statements import kinship_statements
from lietsi.kinship.worklist import sampling_worklist
from lietsi.ops.export import write_csv
from lietsi.ops.pages import Footer, render, safe_name, write_page
from lietsi.ops.readiness import describe, waiting_for
from lietsi.places import province_of
from lietsi.truth import TruthFolder
from resources import IO_RETRY_POLICY, SettingsResource, WarehouseResource

GROUP = "kinship"
MIN_ACCURACY = 0.99
MIN_PARSED = 0.95
MIN_DECIDED = 0.95

_FORM_COLUMNS = {
    "phieu_02": ("relationship", "martyr_sex", "relative_sex", "survey_commune", "form_no"),
    "phieu_01": ("relationship", "survey_commune", "form_no"),
}


def _form_rows(form: pl.DataFrame, source: str) -> pl.DataFrame:
    cols = [
        pl.col(c).cast(pl.String) if c in form.columns else pl.lit(None, pl.String).alias(c)
        for c in _FORM_COLUMNS["phieu_02"]
    ]
    return form.select(
        pl.lit(source).alias("source"),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        *cols,
    )


def _keyed(links: pl.DataFrame, id_col: str) -> pl.DataFrame:
    return links.select(
        "source", pl.col("file").cast(pl.String), pl.col("row_number").cast(pl.Int64), id_col
    ).unique(["source", "file", "row_number"])


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
    rows = pl.concat([_form_rows(phieu_02, "phieu_02"), _form_rows(phieu_01, "phieu_01")])
    rows = rows.filter(pl.col("relationship").is_not_null() | pl.col("source").eq("phieu_02"))
    golden_sex = (
        martyrs.select("martyr_id", pl.col("sex").alias("_golden_sex")) if "sex" in martyrs.columns else None
    )
    rows = rows.join(_keyed(martyr_links, "martyr_id"), on=["source", "file", "row_number"], how="left").join(
        _keyed(relative_links, "relative_id"), on=["source", "file", "row_number"], how="left"
    )
    if golden_sex is not None:
        # The resolved martyr's sex (all his records) before one row's field.
        rows = (
            rows.join(golden_sex, on="martyr_id", how="left")
            .with_columns(pl.coalesce("_golden_sex", "martyr_sex").alias("martyr_sex"))
            .drop("_golden_sex")
        )
    out = kinship_statements(rows)
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
    candidates = maternal_candidates(statements)
    lines = maternal_lines(candidates)
    line_of = lines.filter(pl.col("member_kind") == "martyr").select(
        pl.col("member_id").alias("martyr_id"), "maternal_line_id"
    )
    candidates = candidates.join(line_of, on="martyr_id", how="left")
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
):
    home = province_of(martyrs)
    survey_commune = (
        statements.drop_nulls("relative_id")
        .sort("source", "file", "row_number")
        .group_by("relative_id")
        .agg(pl.col("survey_commune").drop_nulls().first())
    )
    rel, mar, units = worklist_places(
        relatives.join(survey_commune, on="relative_id", how="left"), martyrs, home
    )
    result = with_units(sampling_worklist(candidates, rel, mar), units)
    out = settings.run_out(context.run_id)
    written = _write_sheets(context, out, result, martyrs, relatives, home)
    lines, worklist = result.lines, result.worklist
    by_status = dict(lines.group_by("status").len().iter_rows())
    yield dg.Output(
        lines,
        output_name="lines",
        metadata={
            "lines": lines.height,
            **{f"status_{k}": int(v) for k, v in sorted(by_status.items())},
            "no_donor_reasons": preview(
                lines.filter(pl.col("status") == "no_donor")
                .group_by("reason")
                .len()
                .sort("len", descending=True)
            ),
        },
    )
    yield dg.Output(
        worklist,
        output_name="worklist",
        metadata={
            "rows": worklist.height,
            **{f"role_{k}": int(v) for k, v in sorted(worklist.group_by("role").len().iter_rows())},
            "communes": len(written),
            "worklists_dir": dg.MetadataValue.path(str(out / "worklists")),
            "worklists_index": dg.MetadataValue.url((out / "worklists" / "index.html").resolve().as_uri()),
            "preview": preview(worklist.drop("martyr_ids")),
        },
    )


def _write_sheets(
    context: dg.AssetExecutionContext,
    out: Path,
    result,
    martyrs: pl.DataFrame,
    relatives: pl.DataFrame,
    province: str | None,
) -> list[str]:
    folder = out / "worklists"
    folder.mkdir(parents=True, exist_ok=True)
    martyr_names = dict(martyrs.select("martyr_id", "full_name").iter_rows())
    relative_names = dict(relatives.select("relative_id", "full_name").iter_rows())
    sheets = commune_sheets(result.worklist, result.lines, martyr_names, relative_names)
    footer = Footer(province, context.run_id)
    districts: dict[str | None, dict] = {}
    for sheet in sheets:
        name = safe_name(sheet.key)
        write_csv(sheet.rows, folder / f"{name}.csv")
        page = render(
            "worklist.html", footer, "../", commune=sheet, rows=sheet.rows.to_dicts(), roles=ROLE_VI
        )
        write_page(out, f"worklists/{name}.html", page)
        label = sheet.district or ("Ngoài tỉnh (outside the province)" if not sheet.commune_code else None)
        district = districts.setdefault(
            sheet.district_code or label,
            {"code": sheet.district_code, "name": label or "(chưa rõ huyện)", "communes": []},
        )
        district["communes"].append(
            {
                "name": sheet.commune,
                "code": sheet.commune_code,
                "rows": sheet.rows.height,
                "page": f"{name}.html",
                "csv": f"{name}.csv",
            }
        )
    index = render(
        "worklist_index.html",
        footer,
        "../",
        districts=list(districts.values()),
        communes=sheets,
        total=sum(s.rows.height for s in sheets),
    )
    write_page(out, "worklists/index.html", index)
    return [s.key for s in sheets]


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
