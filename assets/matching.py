"""Matching: remains ↔ missing martyrs by mtDNA and the other evidence → `marts.match_candidates`,
`marts.identifications`, HTML evidence pages and an evaluation against the synthetic truth. The
method is in lietsi.lab.comparison / candidate_search / evidence / identification / assignment and
docs/matching.md.
"""

import json

import dagster as dg
import polars as pl

from assets._shared import preview, violations_check
from lietsi.lab.comparison import ComparisonRules
from lietsi.matching.assignment import expected_false_share
from lietsi.matching.council import council_from_decisions
from lietsi.matching.evaluation import calibration, evaluate, martyr_uid_map
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.identification import identify, mtdna_only_baseline
from lietsi.matching.references import relative_consent
from lietsi.matching.settings import MatchSettings
from lietsi.ops.match_report import identification_page, summary_page
from lietsi.ops.pages import Footer, safe_name, write_page
from lietsi.ops.readiness import describe, waiting_for
from lietsi.places import province_of
from lietsi.truth import TruthFolder
from resources import SettingsResource, WarehouseResource

GROUP = "matching"
CANDIDATES = dg.AssetKey(["marts", "match_candidates"])
IDENTIFICATIONS = dg.AssetKey(["marts", "identifications"])
OUTCOMES = dg.AssetKey(["marts", "identification_outcomes"])
EVALUATION = dg.AssetKey(["marts", "matching_evaluation"])
MIN_PRECISION = 0.99
PIPELINE_STATUSES = ("proposed", "needs_review")


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
        )


def _remains_frame(hai_cot: pl.DataFrame) -> pl.DataFrame:
    cols = ["remains_id", "cemetery", "recovery_date", "recovery_date_precision", "recovery_place",
            "lat", "lon", "artefacts", "est_sex", "est_age"]  # fmt: skip
    present = [pl.col(c) if c in hai_cot.columns else pl.lit(None).alias(c) for c in cols]
    return hai_cot.select(present).unique("remains_id", keep="first", maintain_order=True)


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
):
    match_settings = config.settings()
    remains = _remains_frame(hai_cot)
    remains_profiles = profiles.filter(
        (pl.col("sample_kind") == "remains") & pl.col("remains_id").is_not_null()
    ).select("remains_id", "sample_id", "range", "haplotype")
    # A profile of remains the register does not list yet (its file has not arrived) waits for it:
    # the prior and the non-genetic evidence come from the register row.
    unregistered = remains_profiles.join(remains, on="remains_id", how="anti")
    if unregistered.height:
        context.log.info(f"{unregistered.height} remains profiles wait for their row in the remains register")
        remains_profiles = remains_profiles.join(remains.select("remains_id"), on="remains_id", how="semi")
    consent = relative_consent(phieu_02, relative_links)
    reference_profiles = (
        profiles.filter((pl.col("sample_kind") == "relative") & pl.col("relative_id").is_not_null())
        .select("relative_id", "range", "haplotype")
        .join(consent, on="relative_id", how="left")
    )
    result = identify(
        remains,
        remains_profiles,
        reference_profiles,
        maternal_candidates,
        martyrs,
        match_settings,
        council=council_from_decisions(council_decisions),
    )
    ids = result.identifications
    # Lab results reach this stage as profiles.
    rows = {"hai_cot": hai_cot.height, "ket_qua_adn": profiles.height, "phieu_02": phieu_02.height}
    waiting = describe(waiting_for(rows, "matching"))
    if waiting:
        context.log.info(f"waiting for inputs:\n{waiting}")
    pages_dir = settings.run_out(context.run_id) / "identifications"
    pages = _write_pages(
        context,
        settings,
        result,
        martyrs,
        remains,
        result.remains_profiles,
        reference_profiles,
        match_settings,
    )
    status = ids["status"].value_counts() if ids.height else pl.DataFrame({"status": [], "count": []})
    counts = dict(status.iter_rows()) if ids.height else {}
    context.log.info(f"{ids.height} identifications: {counts}; pages in {pages_dir}")
    yield dg.Output(
        result.match_candidates,
        output_name="candidates",
        metadata={
            "pairs": result.match_candidates.height,
            "cannot_exclude": int((result.match_candidates["verdict"] == "cannot_exclude").sum())
            if result.match_candidates.height
            else 0,
            "references_refused": result.refused_references.height,
            "references_without_consent": int(
                result.refused_references["reason_codes"].str.contains('"refusal.no_consent"').sum()
            ),
            "p_outside": result.p_outside,
            "frequency_database": f"{result.database.name}, version {result.database.version}, "
            f"{result.database.profiles.height} lines",
            "remains_with_discordant_samples": preview(result.discordant, 20),
            "numerators": dg.MetadataValue.json(result.numerators),
            "prior_groups": preview(
                pl.DataFrame(
                    [
                        {
                            "group": g,
                            "martyrs": result.prior.sizes.get(g),
                            "share": m,
                            "per_martyr": result.prior.prior(g),
                        }
                        for g, m in sorted(result.prior.masses.items())
                    ]
                ),
                20,
            ),
            "preview": preview(
                result.match_candidates.select(
                    "remains_id", "martyr_id", "differences", "verdict", "lr", "lr_nongenetic", "posterior"
                ).sort("posterior", descending=True)
                if result.match_candidates.height
                else result.match_candidates
            ),
        },
    )
    yield dg.Output(
        ids,
        output_name="identifications",
        metadata={
            "confirmed": counts.get("confirmed", 0),
            "proposed": counts.get("proposed", 0),
            "waiting_for": waiting or "nothing",
            "remains_profiles_not_in_register": unregistered.height,
            "needs_review": counts.get("needs_review", 0),
            "rejected": counts.get("rejected", 0),
            "expected_false_share_of_proposed": expected_false_share(ids),
            "mtdna_only_baseline_proposals": result.baseline.height,
            "html_pages": len(pages),
            "summary_page": dg.MetadataValue.path(str(pages_dir / "index.html")),
            "summary_url": dg.MetadataValue.url((pages_dir / "index.html").resolve().as_uri()),
            "preview": preview(ids.drop("evidence", "competitors") if ids.height else ids),
        },
    )
    outcomes = pl.concat(
        [
            result.remains_outcomes.select(
                kind=pl.lit("remains"),
                id="remains_id",
                outcome="outcome",
                reason="reason",
                reason_codes="reason_codes",
            ),
            result.martyr_outcomes.select(
                kind=pl.lit("martyr"),
                id="martyr_id",
                outcome="outcome",
                reason="reason",
                reason_codes="reason_codes",
            ),
        ]
    )
    yield dg.Output(
        outcomes,
        output_name="outcomes",
        metadata={
            "by_outcome": preview(outcomes.group_by("kind", "outcome").len().sort("kind", "outcome"), 20),
            "unresolved_reasons": preview(
                result.remains_outcomes.filter(pl.col("outcome") == "unresolved")
                .with_columns(reason=pl.col("reason_codes").str.extract(r'"code": "([^"]+)"'))
                .group_by("reason")
                .len()
                .sort("len", descending=True),
                10,
            ),
        },
    )


def _write_pages(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    result,
    martyrs: pl.DataFrame,
    remains: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    reference_profiles: pl.DataFrame,
    match_settings: MatchSettings,
) -> dict[str, str]:
    """Evidence pages `identifications/<safe remains id>.html` and the index; remains id → page."""
    out = settings.run_out(context.run_id)
    folder = out / "identifications"
    folder.mkdir(parents=True, exist_ok=True)
    martyr_rows = {m["martyr_id"]: m for m in martyrs.iter_rows(named=True)}
    names = {k: v.get("full_name") for k, v in martyr_rows.items()}
    districts = {k: v.get("hometown_district") for k, v in martyr_rows.items()}
    remains_rows = {r["remains_id"]: r for r in remains.iter_rows(named=True)}
    rp = {r["remains_id"]: r for r in remains_profiles.iter_rows(named=True)}
    refp = {r["relative_id"]: r for r in reference_profiles.iter_rows(named=True)}
    # Council decisions carry no DNA comparison of this run: the decision is their evidence, listed
    # in marts.council_decisions; the pages show the pipeline's own proposals and reviews.
    ids = result.identifications.filter(pl.col("status").is_in(PIPELINE_STATUSES))
    pages = {r: safe_name(r) + ".html" for r in ids["remains_id"].to_list()}
    held = dict(ids.select("martyr_id", "remains_id").iter_rows())
    candidates = result.match_candidates
    by_martyr: dict[str, list[dict]] = {}
    if candidates.height:
        for c in candidates.select("remains_id", "martyr_id", "posterior", "verdict").iter_rows(named=True):
            by_martyr.setdefault(c["martyr_id"], []).append(c)
    footer = Footer(province_of(martyrs), context.run_id)
    for rec in ids.iter_rows(named=True):
        reference = json.loads(rec["evidence"])["dna"]["reference"]
        conflicts = sorted(
            (c for c in by_martyr.get(rec["martyr_id"], []) if c["remains_id"] != rec["remains_id"]),
            key=lambda c: -c["posterior"],
        )
        page = identification_page(
            rec,
            martyr_rows.get(rec["martyr_id"], {}),
            remains_rows.get(rec["remains_id"], {}),
            rp.get(rec["remains_id"]),
            refp.get(reference),
            match_settings.rules,
            footer,
            martyr_names=names,
            pages=pages,
            remains_of_martyr=held,
            conflicts=conflicts,
        )
        write_page(out, f"identifications/{pages[rec['remains_id']]}", page)
    summary = summary_page(
        footer.province,
        result.identifications,
        result.remains_outcomes,
        result.martyr_outcomes,
        result.p_outside,
        pages,
        names,
        footer,
        districts,
    )
    write_page(out, "identifications/index.html", summary)
    return pages


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
    if not truth.has("remains", "martyr_records"):
        # The columns of a scored run, so that `make pipeline`'s summary reads either.
        columns = ("proposals", "correct", "precision", "recall", "out_of_province", "identifiable")
        empty = pl.DataFrame(
            schema={"method": pl.String}
            | {c: pl.Float64 if c in ("precision", "recall") else pl.Int64 for c in columns}
        )
        return dg.Output(empty, metadata={"truth": "no truth"})
    truth_remains, truth_records = truth.read("remains"), truth.read("martyr_records")
    baseline = (
        mtdna_only_baseline(candidates)
        if candidates.height
        else pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String})
    )
    uid_map = martyr_uid_map(martyr_links, truth_records)
    metrics, wrong = evaluate(identifications, baseline, truth_remains, uid_map)
    by_method = {r["method"]: r for r in metrics.iter_rows(named=True)}
    meta: dict = {
        "metrics": preview(metrics),
        "false_identifications": preview(wrong, 30),
        "calibration": preview(calibration(candidates, truth_remains, uid_map)),
        "calibration_at_95pct_bound": preview(
            calibration(candidates, truth_remains, uid_map, "posterior_bound")
            if "posterior_bound" in candidates.columns
            else pl.DataFrame()
        ),
    }
    for method, row in by_method.items():
        for k in ("proposals", "correct", "precision", "recall", "out_of_province"):
            meta[f"{method}_{k}"] = row[k]
    context.log.info(f"matching evaluation:\n{metrics}")
    return dg.Output(metrics, metadata=meta)


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
