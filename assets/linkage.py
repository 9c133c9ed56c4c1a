"""Linkage: raw martyr and relative rows → resolved martyrs and relatives with stable ids.

`core.martyr_links` / `core.martyrs` come from a Fellegi–Sunter model (lietsi.linkage) over the
registry, form 01 and the martyr block of form 02; `core.relative_links` / `core.relatives` from
citizen-id hashes, then name, birth year and address, with the resolved martyrs telling which form rows
belong to one family. `marts.linkage_evaluation` scores both
against the synthetic ground truth when `settings.truth_dir` holds one. Blocking checks stop the
downstream stages when F1 on the synthetic province drops below 0.95 or a cluster breaks a
safeguard (two certificate numbers, two clearly different mothers, two sexes).
"""

import json

import dagster as dg
import polars as pl

from assets._shared import preview, violations_check
from lietsi.linkage.clustering import violations_from_links
from lietsi.linkage.evaluation import truth_metrics
from lietsi.linkage.martyrs import link_martyr_rows
from lietsi.linkage.records import martyr_records
from lietsi.linkage.relatives import link_form_relatives
from lietsi.ops.readiness import describe, waiting_for
from lietsi.truth import TruthFolder
from resources import SettingsResource, WarehouseResource

GROUP = "linkage"
MIN_F1 = 0.95

_RAW = {
    "registry": dg.AssetIn(key=["raw", "registry"]),
    "phieu_01": dg.AssetIn(key=["raw", "phieu_01"]),
    "phieu_02": dg.AssetIn(key=["raw", "phieu_02"]),
}


def _statspreview(stats: dict[str, int | float]) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "\n".join(f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}" for k, v in stats.items())
    )


class LinkageConfig(dg.Config):
    # Pairs at or above this match probability are linked (precision first: a wrong merge joins a
    # family with a stranger; a missed one only leaves two rows to review).
    threshold: float = 0.9
    max_block: int = 400


@dg.multi_asset(
    group_name=GROUP,
    ins={"registry": _RAW["registry"], "phieu_01": _RAW["phieu_01"], "phieu_02": _RAW["phieu_02"]},
    outs={
        "martyr_links": dg.AssetOut(
            key=["core", "martyr_links"],
            description="One row per input row naming a martyr: source, source_record_id, file, row_number, "
            "martyr_id, link_probability.",
        ),
        "martyrs": dg.AssetOut(
            key=["core", "martyrs"], description="One golden record per resolved martyr, with its sources."
        ),
        "weights": dg.AssetOut(
            key=["ops", "linkage_weights"],
            description="The Fellegi–Sunter model: m, u and match weight of every comparison level.",
        ),
        "quarantine": dg.AssetOut(
            key=["ops", "quarantine_linkage"], description="Martyr rows with no usable name."
        ),
    },
)
def martyr_linkage(
    config: LinkageConfig, registry: pl.DataFrame, phieu_01: pl.DataFrame, phieu_02: pl.DataFrame
):
    result, quarantine = link_martyr_rows(registry, phieu_01, phieu_02, config.threshold, config.max_block)
    weights = result.model.level_weights()
    rows = {"registry": registry.height, "phieu_01": phieu_01.height, "phieu_02": phieu_02.height}
    yield dg.Output(
        result.links,
        output_name="martyr_links",
        metadata={
            "rows": result.links.height,
            "martyrs": result.martyrs.height,
            "by_source": dg.MetadataValue.md(str(result.links.group_by("source").len().sort("source"))),
            "linkage": _statspreview(result.stats),
            "waiting_for": describe(waiting_for(rows, "linkage")) or "nothing",
            "preview": preview(result.links),
        },
    )
    yield dg.Output(
        result.martyrs,
        output_name="martyrs",
        metadata={
            "martyrs": result.martyrs.height,
            "multi_source": int((result.martyrs["sources"].list.len() > 1).sum()),
            "hometown_commune_mapped": int(result.martyrs["hometown_commune"].is_not_null().sum()),
            "preview": preview(result.martyrs),
        },
    )
    yield dg.Output(
        weights, output_name="weights", metadata={"levels": weights.height, "table": preview(weights, 60)}
    )
    yield dg.Output(quarantine, output_name="quarantine", metadata={"rows": quarantine.height})


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "phieu_01": _RAW["phieu_01"],
        "phieu_02": _RAW["phieu_02"],
        "martyr_links": dg.AssetIn(key=["core", "martyr_links"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
    },
    outs={
        "relative_links": dg.AssetOut(
            key=["core", "relative_links"],
            description="One row per form row naming a living relative: source, source_record_id, file, "
            "row_number, relative_id.",
        ),
        "relatives": dg.AssetOut(
            key=["core", "relatives"],
            description="One row per resolved living relative (no clear identifiers).",
        ),
    },
)
def relative_linkage(
    phieu_01: pl.DataFrame, phieu_02: pl.DataFrame, martyr_links: pl.DataFrame, martyrs: pl.DataFrame
):
    links, relatives = link_form_relatives(phieu_01, phieu_02, martyr_links, martyrs)
    yield dg.Output(
        links,
        output_name="relative_links",
        metadata={
            "rows": links.height,
            "relatives": relatives.height,
            "waiting_for": describe(
                waiting_for({"phieu_01": phieu_01.height, "phieu_02": phieu_02.height}, "linkage")
            )
            or "nothing",
            "preview": preview(links),
        },
    )
    yield dg.Output(
        relatives,
        output_name="relatives",
        metadata={
            "relatives": relatives.height,
            "with_citizen_id": int(relatives["citizen_id_hash"].is_not_null().sum()),
            "on_several_forms": int((relatives["n_records"] > 1).sum()),
        },
    )


def _evaluate(
    settings: SettingsResource, warehouse: WarehouseResource, relatives: bool = True
) -> pl.DataFrame | None:
    truth = TruthFolder(settings.truth)
    if truth.folder is None:
        return None
    martyr_links = warehouse.query("SELECT source, file, row_number, martyr_id FROM core.martyr_links")
    relative_links = (
        warehouse.query("SELECT source, file, row_number, relative_id FROM core.relative_links")
        if relatives
        else None
    )
    return truth_metrics(martyr_links, relative_links, truth)


@dg.asset(
    key=["marts", "linkage_evaluation"],
    group_name=GROUP,
    deps=[dg.AssetKey(["core", "martyr_links"]), dg.AssetKey(["core", "relative_links"])],
    description="Pairwise precision, recall, F1 and cluster purity of martyr and relative linkage against "
    "the synthetic ground truth (settings.truth_dir).",
)
def linkage_evaluation(
    context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource
) -> pl.DataFrame:
    metrics = _evaluate(settings, warehouse)
    if metrics is None:
        context.add_output_metadata({"status": "no truth"})
        return pl.DataFrame(schema={"entity": pl.String, "metric": pl.String, "value": pl.Float64})
    meta: dict[str, float | str] = {"status": "evaluated"}
    for entity, metric, value in metrics.iter_rows():
        meta[f"{entity}_{metric}"] = value
    context.add_output_metadata({**meta, "table": preview(metrics, 30)})
    return metrics


@dg.asset_check(
    asset=dg.AssetKey(["core", "martyr_links"]),
    name="f1_on_synthetic_truth",
    blocking=True,
    description=f"Pairwise F1 of martyr linkage against the synthetic truth ≥ {MIN_F1} (passes with "
    "'no truth' when there is none).",
)
def martyr_f1_check(settings: SettingsResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    # Relative linkage waits for this check, so only martyrs can be measured here.
    metrics = _evaluate(settings, warehouse, relatives=False)
    if metrics is None:
        return dg.AssetCheckResult(passed=True, metadata={"status": "no truth"})
    values = {(e, m): v for e, m, v in metrics.iter_rows()}
    f1 = values[("martyrs", "f1")]
    return dg.AssetCheckResult(
        passed=f1 >= MIN_F1,
        metadata={
            "f1": f1,
            "precision": values[("martyrs", "precision")],
            "recall": values[("martyrs", "recall")],
        },
    )


@dg.asset_check(
    asset=dg.AssetKey(["core", "martyr_links"]),
    name="cluster_safeguards",
    blocking=True,
    description="No resolved martyr holds two certificate numbers, two clearly different mothers or two "
    "sexes.",
)
def martyr_safeguard_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    links = warehouse.query("SELECT source, file, row_number, martyr_id FROM core.martyr_links")
    records = martyr_records(
        warehouse.query("SELECT * FROM raw.registry"),
        warehouse.query("SELECT * FROM raw.phieu_01"),
        warehouse.query("SELECT * FROM raw.phieu_02"),
    )
    violations = violations_from_links(records, links)
    return dg.AssetCheckResult(
        passed=violations.is_empty(),
        metadata={
            "violations": violations.height,
            "details": dg.MetadataValue.md(json.dumps(violations.head(20).to_dicts(), ensure_ascii=False)),
        },
    )


martyr_records_sound = violations_check(
    dg.AssetKey(["core", "martyrs"]),
    "martyrs_records_sound",
    "Every resolved martyr has a unique id and a name, a birth year between 1850 and 2010, no death "
    "before birth, and no home commune code without its district code.",
)
