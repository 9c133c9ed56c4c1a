"""The matching stage on the warehouse's tables: what `assets/matching.py` calls.

`match_province` takes the stage's inputs as the warehouse holds them (profiles of remains and
relatives, the register's remains, consent on form 02, the council's decisions) and runs
`identification.identify`; `evaluation_summary` scores the run against the synthetic truth. The
summaries are what the assets report about each output: counts and
frames bounded to the rows shown (the asset leaves personal columns out of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lietsi.matching.assignment import expected_false_share
from lietsi.matching.council import council_from_decisions, settled_elsewhere
from lietsi.matching.evaluation import calibration, evaluate, martyr_uid_map
from lietsi.matching.identification import MatchResult, identify, mtdna_only_baseline
from lietsi.matching.references import relative_consent
from lietsi.matching.settings import MatchSettings
from lietsi.truth import TruthFolder

SHOWN = 8  # rows of a frame a summary shows, unless it says otherwise


@dataclass(frozen=True)
class ProvinceMatch:
    result: MatchResult
    settings: MatchSettings
    remains: pl.DataFrame  # the register's remains as `identify` reads them
    reference_profiles: pl.DataFrame  # relative_id, range, haplotype, consent
    unregistered: int  # remains profiles whose row in the register has not arrived


def remains_frame(hai_cot: pl.DataFrame) -> pl.DataFrame:
    cols = ["remains_id", "cemetery", "recovery_date", "recovery_date_precision", "recovery_place",
            "lat", "lon", "artefacts", "est_sex", "est_age"]  # fmt: skip
    present = [pl.col(c) if c in hai_cot.columns else pl.lit(None).alias(c) for c in cols]
    return hai_cot.select(present).unique("remains_id", keep="first", maintain_order=True)


def match_province(
    settings: MatchSettings,
    profiles: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    martyrs: pl.DataFrame,
    relative_links: pl.DataFrame,
    hai_cot: pl.DataFrame,
    phieu_02: pl.DataFrame,
    council_decisions: pl.DataFrame,
    national_candidates: pl.DataFrame | None = None,
) -> ProvinceMatch:
    """`identify` on marts.mtdna_profiles, marts.maternal_candidates, core.martyrs,
    core.relative_links, raw.hai_cot, raw.phieu_02, marts.council_decisions and
    marts.national_candidates (the province's martyrs other provinces' councils confirmed)."""
    remains = remains_frame(hai_cot)
    remains_profiles = profiles.filter(
        (pl.col("sample_kind") == "remains") & pl.col("remains_id").is_not_null()
    ).select("remains_id", "sample_id", "range", "haplotype")
    # A profile of remains the register does not list yet (its file has not arrived) waits for it:
    # the prior and the non-genetic evidence come from the register row.
    unregistered = remains_profiles.join(remains, on="remains_id", how="anti")
    if unregistered.height:
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
        settings,
        council=council_from_decisions(council_decisions),
        elsewhere=settled_elsewhere(national_candidates),
    )
    return ProvinceMatch(result, settings, remains, reference_profiles, unregistered.height)


def status_counts(identifications: pl.DataFrame) -> dict[str, int]:
    """status → identifications."""
    return dict(identifications["status"].value_counts().iter_rows()) if identifications.height else {}


def candidates_summary(result: MatchResult) -> dict[str, object]:
    candidates = result.match_candidates
    return {
        "pairs": candidates.height,
        "cannot_exclude": int((candidates["verdict"] == "cannot_exclude").sum()) if candidates.height else 0,
        "references_refused": result.refused_references.height,
        "references_without_consent": int(
            result.refused_references["reason_codes"].str.contains('"refusal.no_consent"').sum()
        ),
        "p_outside": result.p_outside,
        "frequency_database": f"{result.database.name}, version {result.database.version}, "
        f"{result.database.profiles.height} lines",
        "remains_with_discordant_samples": result.discordant.head(20),
        "numerators": result.numerators,
        "prior_groups": pl.DataFrame(
            [
                {
                    "group": g,
                    "martyrs": result.prior.sizes.get(g),
                    "share": m,
                    "per_martyr": result.prior.prior(g),
                }
                for g, m in sorted(result.prior.masses.items())
            ]
        ).head(20),
        "preview": (
            candidates.select(
                "remains_id", "martyr_id", "differences", "verdict", "lr", "lr_nongenetic", "posterior"
            ).sort("posterior", descending=True)
            if candidates.height
            else candidates
        ).head(SHOWN),
    }


def identifications_summary(run: ProvinceMatch, waiting: str, html_pages: int) -> dict[str, object]:
    ids = run.result.identifications
    counts = status_counts(ids)
    return {
        "confirmed": counts.get("confirmed", 0),
        "proposed": counts.get("proposed", 0),
        "waiting_for": waiting or "nothing",
        "remains_profiles_not_in_register": run.unregistered,
        "needs_review": counts.get("needs_review", 0),
        "rejected": counts.get("rejected", 0),
        "expected_false_share_of_proposed": expected_false_share(ids),
        "mtdna_only_baseline_proposals": run.result.baseline.height,
        "html_pages": html_pages,
        "preview": (ids.drop("evidence", "competitors") if ids.height else ids).head(SHOWN),
    }


def outcome_table(result: MatchResult) -> pl.DataFrame:
    """marts.identification_outcomes: every remains and every missing martyr, one table."""
    columns = {"outcome": "outcome", "reason": "reason", "reason_codes": "reason_codes"}
    return pl.concat(
        [
            result.remains_outcomes.select(kind=pl.lit("remains"), id="remains_id", **columns),
            result.martyr_outcomes.select(kind=pl.lit("martyr"), id="martyr_id", **columns),
        ]
    )


def outcomes_summary(result: MatchResult, outcomes: pl.DataFrame) -> dict[str, object]:
    return {
        "by_outcome": outcomes.group_by("kind", "outcome").len().sort("kind", "outcome").head(20),
        "unresolved_reasons": result.remains_outcomes.filter(pl.col("outcome") == "unresolved")
        .with_columns(reason=pl.col("reason_codes").str.extract(r'"code": "([^"]+)"'))
        .group_by("reason")
        .len()
        .sort("len", descending=True)
        .head(10),
    }


def evaluation_summary(
    identifications: pl.DataFrame, candidates: pl.DataFrame, martyr_links: pl.DataFrame, truth: TruthFolder
) -> tuple[pl.DataFrame, dict[str, object]]:
    """(marts.matching_evaluation, its summary): precision and recall of each method against the
    synthetic truth; an empty table with the same columns when there is no truth folder."""
    if not truth.has("remains", "martyr_records"):
        # The columns of a scored run, so that `make pipeline`'s summary reads either.
        columns = ("proposals", "correct", "precision", "recall", "out_of_province", "identifiable")
        empty = pl.DataFrame(
            schema={"method": pl.String}
            | {c: pl.Float64 if c in ("precision", "recall") else pl.Int64 for c in columns}
        )
        return empty, {"truth": "no truth"}
    truth_remains, truth_records = truth.read("remains"), truth.read("martyr_records")
    baseline = (
        mtdna_only_baseline(candidates)
        if candidates.height
        else pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String})
    )
    uid_map = martyr_uid_map(martyr_links, truth_records)
    metrics, wrong = evaluate(identifications, baseline, truth_remains, uid_map)
    by_method = {r["method"]: r for r in metrics.iter_rows(named=True)}
    meta: dict[str, object] = {
        "metrics": metrics.head(SHOWN),
        "false_identifications": wrong.head(30),
        "calibration": calibration(candidates, truth_remains, uid_map).head(SHOWN),
        "calibration_at_95pct_bound": (
            calibration(candidates, truth_remains, uid_map, "posterior_bound")
            if "posterior_bound" in candidates.columns
            else pl.DataFrame()
        ).head(SHOWN),
    }
    for method, row in by_method.items():
        for k in ("proposals", "correct", "precision", "recall", "out_of_province"):
            meta[f"{method}_{k}"] = row[k]
    return metrics, meta
