"""Evaluation against the synthetic truth: site merging, martyr leads and village coverage."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lietsi.places import place_key
from lietsi.search_map.coverage import COVERAGE_TOLERANCE
from lietsi.stats import pairwise_metrics
from lietsi.truth import TruthFolder


def cluster_f1(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """Sites recovered exactly (same member forms), as precision/recall/F1 over the shared forms."""
    items = set(predicted) & set(truth)

    def groups(assign: dict[str, str]) -> set[frozenset[str]]:
        out: dict[str, set[str]] = {}
        for item in items:
            out.setdefault(assign[item], set()).add(item)
        return {frozenset(g) for g in out.values()}

    p, t = groups(predicted), groups(truth)
    exact = len(p & t)
    precision = exact / len(p) if p else 1.0
    recall = exact / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def site_metrics(site_reports: pl.DataFrame, truth_reports: pl.DataFrame) -> dict[str, float]:
    """Site merging against the truth (`site_reports.csv`: form_number, site_uid).

    Pairwise precision/recall/F1 (pairs of forms put in one site) from the linkage stage's
    `pairwise_metrics`, plus exact-cluster F1; forms on one side only are counted separately.
    """
    predicted = site_reports.select(
        pl.col("form_number").str.strip_chars().str.to_uppercase(), pl.col("site_id").alias("pred")
    ).unique("form_number")
    truth = truth_reports.select(
        pl.col("form_number").cast(pl.Utf8).str.strip_chars().str.to_uppercase(),
        pl.col("site_uid").cast(pl.Utf8).alias("true"),
    ).unique("form_number")
    metrics = pairwise_metrics(predicted, truth, ["form_number"])
    exact = cluster_f1(dict(predicted.iter_rows()), dict(truth.iter_rows()))
    metrics.update({f"cluster_{k}": v for k, v in exact.items()})
    metrics["forms_only_ours"] = predicted.join(truth, on="form_number", how="anti").height
    metrics["forms_only_truth"] = truth.join(predicted, on="form_number", how="anti").height
    return metrics


def lead_metrics(
    leads: pl.DataFrame,
    site_reports: pl.DataFrame,
    truth_sites: pl.DataFrame,
    truth_reports: pl.DataFrame,
    martyr_uids: pl.DataFrame,
) -> dict[str, float]:
    """Martyr links against the truth: a lead is right when its martyr is the true site's martyr.

    Our site stands for the true site most of its forms report; `martyr_uids` maps `martyr_id` to
    the generator's `martyr_uid` (through the linkage stage's record links). Recall counts true
    sites naming a martyr that the linkage resolved.
    """
    form = pl.col("form_number").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
    truth_of_site = (
        site_reports.select("site_id", form)
        .join(truth_reports.select(form, pl.col("site_uid").cast(pl.Utf8)), on="form_number")
        .group_by("site_id", "site_uid")
        .len()
        .sort("len", "site_uid", descending=[True, False])
        .unique("site_id", keep="first")
        .join(truth_sites.select(pl.col("site_uid").cast(pl.Utf8), "martyr_uid"), on="site_uid", how="left")
    )
    judged = leads.join(truth_of_site.select("site_id", "martyr_uid"), on="site_id", how="inner").join(
        martyr_uids.select("martyr_id", pl.col("martyr_uid").alias("lead_uid")), on="martyr_id", how="left"
    )
    correct = judged.filter(pl.col("lead_uid") == pl.col("martyr_uid"))
    findable = truth_sites.filter(
        pl.col("martyr_uid").is_not_null()
        & (pl.col("martyr_uid") != "")
        & pl.col("martyr_uid").is_in(martyr_uids["martyr_uid"].implode())
    )
    found = truth_of_site.join(correct.select("site_id").unique(), on="site_id")["site_uid"].n_unique()
    return {
        "leads": judged.height,
        "leads_correct": correct.height,
        "lead_precision": correct.height / judged.height if judged.height else 1.0,
        "sites_with_resolved_martyr": findable.height,
        "lead_recall": found / findable.height if findable.height else 1.0,
    }


def compare_coverage(villages: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Truth villages next to ours, one row per village of either side, with `equal` per row.

    Counts and the concluded flag must be identical; coverage to half of the truth file's last
    decimal (it stores 4), since ours is the exact ratio.
    """

    def keyed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col(c).map_elements(place_key, return_dtype=pl.Utf8).alias(f"_{c}")
            for c in ("district", "commune", "village")
        )

    cols = ["households", "forms_out", "forms_back", "coverage", "concluded"]
    t = keyed(truth.select("district", "commune", "village", *cols))
    o = keyed(villages.select("district", "commune", "village", *cols))
    joined = t.join(o, on=["_district", "_commune", "_village"], how="full", suffix="_ours", coalesce=True)
    equal = pl.lit(True)
    for c in ("households", "forms_out", "forms_back", "concluded"):
        equal = equal & (pl.col(c) == pl.col(f"{c}_ours")).fill_null(False)
    equal = equal & ((pl.col("coverage") - pl.col("coverage_ours")).abs() <= COVERAGE_TOLERANCE).fill_null(
        False
    )
    return joined.with_columns(equal.alias("equal")).drop("_district", "_commune", "_village")


def truth_tables(folder: Path | None) -> dict[str, pl.DataFrame] | None:
    """The truth tables the search map is judged on, typed; None without a truth to judge by."""
    truth = TruthFolder(folder)
    if not truth.has("site_reports", "village_coverage"):
        return None
    optional = {name: truth.read(name) for name in ("sites", "martyr_records") if truth.has(name)}
    return {
        **optional,
        "site_reports": truth.read("site_reports"),
        "village_coverage": truth.read("village_coverage").with_columns(
            pl.col("households", "forms_out", "forms_back").cast(pl.Int64),
            pl.col("coverage").cast(pl.Float64),
            pl.col("concluded").str.to_lowercase().is_in(["true", "1", "yes"]),
        ),
    }


def martyr_uids(links: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """martyr_id → the generator's martyr_uid, by the majority of the martyr's input records.

    `links` is `core.martyr_links` (source, file, row_number, martyr_id), `records` the truth's
    `martyr_records`."""
    return (
        links.join(
            records.with_columns(pl.col("row_number").cast(pl.Int64)).select(
                "source", "file", "row_number", "martyr_uid"
            ),
            on=["source", "file", "row_number"],
        )
        .group_by("martyr_id", "martyr_uid")
        .len()
        .sort("len", "martyr_uid", descending=[True, False])
        .unique("martyr_id", keep="first")
        .select("martyr_id", "martyr_uid")
    )


EVALUATION_SCHEMA = {"entity": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}


def evaluation_table(
    truth: dict[str, pl.DataFrame],
    site_reports: pl.DataFrame,
    villages: pl.DataFrame,
    leads: pl.DataFrame | None = None,
    links: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(entity, metric, value rows, the village comparison) of the search map against `truth`.

    Leads are judged when the truth has sites and martyr records and `leads` (`marts.search_leads`)
    and `links` (`core.martyr_links`) are given."""
    comparison = compare_coverage(villages, truth["village_coverage"])
    rows = [("sites", k, float(v)) for k, v in site_metrics(site_reports, truth["site_reports"]).items()]
    if {"sites", "martyr_records"} <= truth.keys() and leads is not None and links is not None:
        judged = lead_metrics(
            leads,
            site_reports,
            truth["sites"],
            truth["site_reports"],
            martyr_uids(links, truth["martyr_records"]),
        )
        rows += [("leads", k, float(v)) for k, v in judged.items()]
    rows += [
        ("coverage", "villages_truth", float(comparison["households"].is_not_null().sum())),
        ("coverage", "villages_ours", float(comparison["households_ours"].is_not_null().sum())),
        ("coverage", "villages_equal", float(comparison["equal"].sum())),
        ("coverage", "villages_different", float((~comparison["equal"]).sum())),
    ]
    return pl.DataFrame(rows, schema=EVALUATION_SCHEMA, orient="row"), comparison
