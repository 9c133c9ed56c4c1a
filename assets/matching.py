"""Matching: remains ↔ missing martyrs by mtDNA and the other evidence → `marts.match_candidates`,
`marts.identifications`, HTML evidence pages and an evaluation against the synthetic truth. The
method is in lietsi.lab.comparison and lietsi.matching (the stage's entry points in
lietsi.matching.stage) and docs/matching.md; the pages in lietsi.ops.match_report.
"""

import dagster as dg
import polars as pl

from assets._shared import summary_metadata, violations_check
from lietsi.lab.comparison import ComparisonRules
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.settings import MatchSettings
from lietsi.matching.stage import (
    candidates_summary,
    evaluation_summary,
    identifications_summary,
    match_province,
    outcome_table,
    outcomes_summary,
    status_counts,
)
from lietsi.ops.match_report import write_identification_pages
from lietsi.ops.readiness import describe, waiting_for
from lietsi.truth import TruthFolder
from resources import SettingsResource, WarehouseResource

GROUP = "matching"
CANDIDATES = dg.AssetKey(["marts", "match_candidates"])
IDENTIFICATIONS = dg.AssetKey(["marts", "identifications"])
OUTCOMES = dg.AssetKey(["marts", "identification_outcomes"])
EVALUATION = dg.AssetKey(["marts", "matching_evaluation"])
MIN_PRECISION = 0.99


class MatchingConfig(dg.Config):
    """Stage settings (defaults: docs/matching.md)."""

    proposed_threshold: float = 0.99
    review_threshold: float = 0.05
    p_outside: float = 0.5
    min_overlap: int = ComparisonRules.min_overlap
    inconclusive_max: int = ComparisonRules.inconclusive_max
    ignore_hotspots: bool = True
    ignore_length_variants_in_c_stretches: bool = True
    ignore_length_variants_in_ac_repeat: bool = True
    heteroplasmy_concordance: bool = True
    confidence: float = EvidenceSettings.confidence
    theta: float = EvidenceSettings.theta
    estimation_theta: float = MatchSettings.estimation_theta
    estimate_numerators: bool = True
    numerator_prior_strength: float = 20.0
    p_outside_spread: float = MatchSettings.p_outside_spread
    estimation_good_turing: bool = MatchSettings.estimation_good_turing
    estimation_counted_mle: bool = MatchSettings.estimation_counted_mle
    outside_by_area: bool = MatchSettings.outside_by_area

    def settings(self) -> MatchSettings:
        rules = ComparisonRules(
            min_overlap=self.min_overlap,
            inconclusive_max=self.inconclusive_max,
            ignore_hotspots=self.ignore_hotspots,
            ignore_length_variants_in_c_stretches=self.ignore_length_variants_in_c_stretches,
            ignore_length_variants_in_ac_repeat=self.ignore_length_variants_in_ac_repeat,
            heteroplasmy_concordance=self.heteroplasmy_concordance,
        )
        return MatchSettings(
            rules=rules,
            evidence=EvidenceSettings(confidence=self.confidence, theta=self.theta),
            p_outside=self.p_outside,
            proposed_threshold=self.proposed_threshold,
            review_threshold=self.review_threshold,
            estimate_numerators=self.estimate_numerators,
            numerator_prior_strength=self.numerator_prior_strength,
            estimation_theta=self.estimation_theta,
            p_outside_spread=self.p_outside_spread,
            estimation_good_turing=self.estimation_good_turing,
            estimation_counted_mle=self.estimation_counted_mle,
            outside_by_area=self.outside_by_area,
        )


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "profiles": dg.AssetIn(key=["marts", "mtdna_profiles"]),
        "maternal_candidates": dg.AssetIn(key=["marts", "maternal_candidates"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
        "relative_links": dg.AssetIn(key=["core", "relative_links"]),
        "hai_cot": dg.AssetIn(key=["raw", "hai_cot"]),
        "phieu_02": dg.AssetIn(key=["raw", "phieu_02"]),
        "council_decisions": dg.AssetIn(key=["marts", "council_decisions"]),
        "national_candidates": dg.AssetIn(key=["marts", "national_candidates"]),
    },
    outs={
        "candidates": dg.AssetOut(
            key=CANDIDATES,
            description="(remains, missing martyr) pairs within one mtDNA difference on the martyr's best "
            "reference: differences, verdict, DNA lr, non-genetic LR, posterior, the factors (JSON).",
        ),
        "identifications": dg.AssetOut(
            key=IDENTIFICATIONS,
            description="Remains with a proposed identity (`proposed`) or one to review (`needs_review`), "
            "one martyr per remains and one remains per proposed martyr; evidence (JSON), competitors.",
        ),
        "outcomes": dg.AssetOut(
            key=OUTCOMES,
            description="Every remains of the register and every missing martyr with the stage's outcome "
            "and, when unresolved, the reason (e.g. no reference sample on this maternal line).",
        ),
    },
)
def identifications_asset(
    context: dg.AssetExecutionContext,
    config: MatchingConfig,
    settings: SettingsResource,
    profiles: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    martyrs: pl.DataFrame,
    relative_links: pl.DataFrame,
    hai_cot: pl.DataFrame,
    phieu_02: pl.DataFrame,
    council_decisions: pl.DataFrame,
    national_candidates: pl.DataFrame,
):
    run = match_province(
        config.settings(),
        profiles,
        maternal_candidates,
        martyrs,
        relative_links,
        hai_cot,
        phieu_02,
        council_decisions,
        national_candidates,
    )
    if run.unregistered:
        context.log.info(f"{run.unregistered} remains profiles wait for their row in the remains register")
    # Lab results reach this stage as profiles.
    rows = {"hai_cot": hai_cot.height, "ket_qua_adn": profiles.height, "phieu_02": phieu_02.height}
    if waiting := describe(waiting_for(rows, "matching")):
        context.log.info(f"waiting for inputs:\n{waiting}")
    out = settings.run_out(context.run_id)
    pages = write_identification_pages(out, context.run_id, run, martyrs)
    index = out / "identifications" / "index.html"
    ids = run.result.identifications
    context.log.info(f"{ids.height} identifications: {status_counts(ids)}; pages in {index.parent}")
    metadata = summary_metadata(candidates_summary(run.result))
    yield dg.Output(run.result.match_candidates, output_name="candidates", metadata=metadata)
    metadata = summary_metadata(identifications_summary(run, waiting, len(pages)))
    metadata["summary_page"] = dg.MetadataValue.path(str(index))
    metadata["summary_url"] = dg.MetadataValue.url(index.resolve().as_uri())
    yield dg.Output(ids, output_name="identifications", metadata=metadata)
    outcomes = outcome_table(run.result)
    metadata = summary_metadata(outcomes_summary(run.result, outcomes))
    yield dg.Output(outcomes, output_name="outcomes", metadata=metadata)


@dg.asset(
    key=EVALUATION,
    group_name=GROUP,
    ins={
        "identifications": dg.AssetIn(key=IDENTIFICATIONS),
        "candidates": dg.AssetIn(key=CANDIDATES),
        "martyr_links": dg.AssetIn(key=["core", "martyr_links"]),
    },
    description="Identifications against the synthetic truth: precision and recall of `proposed`, of "
    "every row, and of an mtDNA-only baseline (propose when exactly one reference line matches); "
    "false identifications in the metadata. Empty when there is no truth folder.",
)
def matching_evaluation(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    identifications: pl.DataFrame,
    candidates: pl.DataFrame,
    martyr_links: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    truth = TruthFolder(settings.truth)
    metrics, summary = evaluation_summary(identifications, candidates, martyr_links, truth)
    if metrics.height:
        context.log.info(f"matching evaluation:\n{metrics}")
    return dg.Output(metrics, metadata=summary_metadata(summary))


@dg.asset_check(
    asset=EVALUATION,
    name="proposed_identifications_correct",
    blocking=True,
    description=f"On the synthetic truth: precision of `proposed` ≥ {MIN_PRECISION} and no remains of an "
    "out-of-province martyr proposed. A wrong proposal would name the wrong soldier to a family.",
)
def proposed_identifications_correct(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    metrics = warehouse.query("SELECT * FROM marts.matching_evaluation")
    proposed = (
        metrics.filter(pl.col("method") == "proposed") if "method" in metrics.columns else metrics.clear()
    )
    if proposed.is_empty():
        return dg.AssetCheckResult(passed=True, metadata={"status": "no truth"})
    row = proposed.row(0, named=True)
    passed = row["precision"] >= MIN_PRECISION and row["out_of_province"] == 0
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "status": "evaluated",
            "precision": row["precision"],
            "recall": row["recall"],
            "proposals": row["proposals"],
            "out_of_province": row["out_of_province"],
        },
    )


@dg.asset_check(
    asset=EVALUATION,
    name="proposed_beat_mtdna_only_baseline",
    description="On the synthetic truth: `proposed` identifies more remains correctly than the mtDNA-only "
    "baseline (propose when exactly one reference line matches), at a higher precision. Not blocking: "
    "a weaker method names no wrong soldier, it leaves more remains to review.",
)
def proposed_beat_mtdna_only_baseline(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    metrics = warehouse.query("SELECT * FROM marts.matching_evaluation")
    if "method" not in metrics.columns or metrics.filter(pl.col("method") == "proposed").is_empty():
        return dg.AssetCheckResult(passed=True, metadata={"status": "no truth"})
    by = {r["method"]: r for r in metrics.iter_rows(named=True)}
    ours, base = by["proposed"], by["mtdna_only_baseline"]
    return dg.AssetCheckResult(
        passed=ours["correct"] > base["correct"] and ours["precision"] > base["precision"],
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "status": "evaluated",
            "proposed_correct": ours["correct"],
            "baseline_correct": base["correct"],
            "proposed_precision": ours["precision"],
            "baseline_precision": base["precision"],
        },
    )


one_martyr_per_remains = violations_check(
    IDENTIFICATIONS,
    "identifications_one_martyr_per_remains",
    "Each remains has at most one identification row (one martyr per remains).",
)
one_remains_per_martyr = violations_check(
    IDENTIFICATIONS,
    "identifications_one_remains_per_martyr",
    "Among proposed and confirmed identifications, each martyr is named for one remains only.",
)
proposed_cannot_exclude = violations_check(
    IDENTIFICATIONS,
    "identifications_proposed_cannot_exclude",
    "Every proposed pair's mtDNA comparison is 'cannot exclude': a name is never proposed against an "
    "inconclusive or excluding comparison (council-confirmed pairs leave the candidate pools).",
)
