"""Lab: laboratory results (EMPOP rows, FASTA reads) → `marts.mtdna_profiles`, its quarantine, population
haplotype frequencies, and an evaluation against the synthetic truth. The method is in lietsi.lab
and docs/lab.md.
"""

import importlib.util

import dagster as dg
import polars as pl

from assets._shared import counts_markdown, preview
from lietsi.lab.evaluation import EVALUATION_SCHEMA, evaluate_against_truth
from lietsi.lab.frequencies import haplotype_frequencies, relative_lines
from lietsi.lab.profiles import non_canonical_samples, profile_samples, profiling_figures
from lietsi.lab.results import QcRules
from lietsi.matching.references import relative_consent
from lietsi.ops.readiness import describe, waiting_for
from lietsi.truth import TruthFolder
from resources import SettingsResource, WarehouseResource

GROUP = "lab"
PROFILES = dg.AssetKey(["marts", "mtdna_profiles"])
FREQUENCIES = dg.AssetKey(["marts", "haplotype_frequencies"])
CANDIDATES = dg.AssetKey(["marts", "maternal_candidates"])
MIN_HAPLOGROUP_AGREEMENT = 0.98
# Maternal lines come from the kinship stage; until its module exists, relatives count one line each.
_KINSHIP_DEPS = [CANDIDATES] if importlib.util.find_spec("assets.kinship") else []
# Consent is on the relatives' forms (form 02) as linked to relatives.
_CONSENT_DEPS = [dg.AssetKey(["raw", "phieu_02"]), dg.AssetKey(["core", "relative_links"])]


class LabConfig(dg.Config):
    min_informative_coverage: float = QcRules.min_informative_coverage
    partial_below: float = QcRules.partial_below
    max_ambiguous_fraction: float = QcRules.max_ambiguous_fraction
    max_heteroplasmies: int = QcRules.max_heteroplasmies


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "ket_qua_adn": dg.AssetIn(key=["raw", "ket_qua_adn"]),
        "mau_adn": dg.AssetIn(key=["raw", "mau_adn"]),
        "relatives": dg.AssetIn(key=["core", "relatives"]),
    },
    outs={
        "profiles": dg.AssetOut(
            key=PROFILES,
            description="One row per sample with a usable mtDNA profile: canonical EMPOP range and "
            "haplotype, PhyloTree 17 haplogroup, QC flags, remains id or donor (relative_id).",
        ),
        "quarantine": dg.AssetOut(
            key=["ops", "quarantine_lab"],
            description="Lab results rejected by QC, each with its reason.",
        ),
    },
)
def mtdna_profiles(
    context: dg.AssetExecutionContext,
    config: LabConfig,
    ket_qua_adn: pl.DataFrame,
    mau_adn: pl.DataFrame,
    relatives: pl.DataFrame,
):
    qc = QcRules(
        min_informative_coverage=config.min_informative_coverage,
        partial_below=config.partial_below,
        max_ambiguous_fraction=config.max_ambiguous_fraction,
        max_heteroplasmies=config.max_heteroplasmies,
    )
    run = profile_samples(ket_qua_adn, mau_adn, relatives, qc)
    profiles, quarantine = run.profiles, run.quarantine
    context.log.info(
        f"{ket_qua_adn.height} results → {profiles.height} profiles, {quarantine.height} quarantined; "
        f"{run.distinct_haplotypes} distinct (range, haplotype) classified in {run.classify_seconds:.1f} s"
    )
    waiting = waiting_for({"ket_qua_adn": ket_qua_adn.height, "mau_adn": mau_adn.height}, "lab")
    yield dg.Output(
        profiles,
        output_name="profiles",
        metadata={
            **profiling_figures(ket_qua_adn, run),
            "waiting_for": describe(waiting) or "nothing",
            "haplogroups": counts_markdown(profiles["haplogroup"], top=15),
            "preview": preview(profiles.drop("citizen_id_hash")),
        },
    )
    reasons = quarantine["reason"].str.replace(r":.*$", "")
    yield dg.Output(
        quarantine,
        output_name="quarantine",
        metadata={"rows": quarantine.height, "reasons": counts_markdown(reasons, top=15)},
    )


@dg.asset(
    key=FREQUENCIES,
    group_name=GROUP,
    ins={"profiles": dg.AssetIn(key=PROFILES)},
    deps=[*_KINSHIP_DEPS, *_CONSENT_DEPS],
    description="Haplotype frequencies in the reference population (consenting relatives' profiles, one "
    "per maternal line, on the full control region, hotspots and C-stretch length variants masked), "
    "with the Clopper–Pearson one-sided 95% upper bound.",
)
def haplotype_frequencies_asset(
    context: dg.AssetExecutionContext, profiles: pl.DataFrame, warehouse: WarehouseResource
) -> dg.Output[pl.DataFrame]:
    lines = None
    if warehouse.has_table("marts", "maternal_candidates"):
        lines = relative_lines(warehouse.query("SELECT * FROM marts.maternal_candidates"))
    else:
        context.log.warning("marts.maternal_candidates missing: each relative counts as its own line")
    if warehouse.has_table("raw", "phieu_02") and warehouse.has_table("core", "relative_links"):
        forms = warehouse.query("SELECT * FROM raw.phieu_02")
        consent = relative_consent(forms, warehouse.query("SELECT * FROM core.relative_links"))
        consenting = set(consent.filter(pl.col("consent").fill_null(False))["relative_id"].to_list())
    else:
        context.log.warning("no consent records yet (raw.phieu_02, core.relative_links): no donor is counted")
        consenting = set()
    table, stats = haplotype_frequencies(profiles, lines, consenting=consenting)
    singletons = int((table["count"] == 1).sum()) if table.height else 0
    return dg.Output(
        table,
        metadata={
            **stats,
            "maternal_lines_known": lines is not None,
            "distinct_haplotypes": table.height,
            "seen_once": singletons,
            "random_match_probability": float((table["frequency"] ** 2).sum()) if table.height else 0.0,
            "preview": preview(table, 10),
        },
    )


@dg.asset(
    key=["marts", "lab_evaluation"],
    group_name=GROUP,
    ins={"profiles": dg.AssetIn(key=PROFILES), "quarantine": dg.AssetIn(key=["ops", "quarantine_lab"])},
    description="Profiles against the synthetic truth (samples.csv): haplotype and haplogroup "
    "agreement, failed samples caught. Empty when there is no truth folder.",
)
def lab_evaluation(
    profiles: pl.DataFrame, quarantine: pl.DataFrame, settings: SettingsResource
) -> dg.Output[pl.DataFrame]:
    truth = TruthFolder(settings.truth)
    if not truth.has("samples"):
        return dg.Output(pl.DataFrame(schema=EVALUATION_SCHEMA), metadata={"truth": "no truth"})
    metrics = evaluate_against_truth(profiles, quarantine, truth.read("samples"))
    return dg.Output(
        metrics,
        metadata={row["metric"]: row["value"] for row in metrics.iter_rows(named=True)}
        | {"table": preview(metrics, 20)},
    )


@dg.asset_check(
    asset=PROFILES,
    blocking=True,
    description="Every profile is in canonical notation (range and haplotype re-format to themselves), "
    "has a known sample kind, and sample ids are unique.",
)
def profiles_canonical(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    profiles = warehouse.query("SELECT sample_id, sample_kind, range, haplotype FROM marts.mtdna_profiles")
    bad = non_canonical_samples(profiles)
    duplicates = profiles.height - profiles["sample_id"].n_unique()
    return dg.AssetCheckResult(
        passed=not bad and duplicates == 0,
        metadata={
            "not_canonical_or_kind_unknown": len(bad),
            "examples": ", ".join(bad[:10]),
            "duplicate_ids": duplicates,
        },
    )


@dg.asset_check(
    asset=PROFILES,
    blocking=True,
    description="Every full control-region profile has a PhyloTree haplogroup.",
)
def haplogroups_assigned(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    missing = warehouse.query(
        "SELECT sample_id FROM marts.mtdna_profiles WHERE full_control_region AND haplogroup IS NULL"
    )
    return dg.AssetCheckResult(passed=missing.is_empty(), metadata={"missing": missing.height})


@dg.asset_check(
    asset=PROFILES,
    blocking=True,
    additional_deps=[dg.AssetKey(["ops", "quarantine_lab"]), dg.AssetKey(["raw", "ket_qua_adn"])],
    description="No result silently dropped: results read = results merged into profiles + quarantined.",
)
def results_accounted(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    counts = warehouse.query(
        """
        SELECT (SELECT count(*) FROM raw.ket_qua_adn) AS read,
               (SELECT coalesce(sum(results), 0) FROM marts.mtdna_profiles) AS merged,
               (SELECT count(*) FROM ops.quarantine_lab) AS quarantined
        """
    ).row(0, named=True)
    return dg.AssetCheckResult(
        passed=counts["read"] == counts["merged"] + counts["quarantined"],
        metadata={k: int(v) for k, v in counts.items()},
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "lab_evaluation"]),
    description="Haplogroup consistent with the synthetic truth (the truth or an ancestor of it) on full "
    f"control regions ≥ {MIN_HAPLOGROUP_AGREEMENT}.",
)
def haplogroup_agreement(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    rows = warehouse.query(
        "SELECT value, n FROM marts.lab_evaluation WHERE metric = 'haplogroup_consistent_full_cr'"
    )
    if rows.is_empty() or not rows["n"][0]:
        return dg.AssetCheckResult(passed=True, metadata={"truth": "no truth"})
    value = float(rows["value"][0])
    return dg.AssetCheckResult(passed=value >= MIN_HAPLOGROUP_AGREEMENT, metadata={"agreement": value})
