"""From profiles, kinship and records to scored (remains, martyr) candidates: the whole province.

1. References: profiles of relatives who share the martyr's mtDNA and consented (`references`).
2. Maternal lines: martyrs and relatives joined by a shared reference form one line (two brothers
   and their sister are one line); the frequency database holds one profile per line (`dna`).
3. DNA: every (remains, reference) pair within one difference, re-compared by the forensic rules;
   the martyr's verdict is his best reference's (`dna`).
4. Evidence: the DNA LR and the non-genetic factors, each against the pool of missing martyrs
   (`scoring`, with `register` and `pool`); posterior over the pool with the "nobody in the pool"
   hypothesis (`mixture`).
5. Assignment: one martyr per remains and statuses (`assignment`); outcomes of every remains and
   every missing martyr, and the evidence of each identification (this module).

`identify` runs the stages in turn: `prepare` (1–2), `candidate_pairs` (3), `evidence` (4) and
`decide` (5); the national run (`lietsi.national.country`) runs the same stages over the country.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import polars as pl

from lietsi.matching.council import Council, decision_identifications, no_decisions
from lietsi.matching.dna import (
    Database,
    DatabaseSide,
    dna_pairs,
    merge_remains_samples,
    not_comparable_martyrs,
    province_database,
)
from lietsi.matching.frequency import spectra
from lietsi.matching.mixture import PriorModel
from lietsi.matching.pool import Pool, build_pool
from lietsi.matching.references import reference_table
from lietsi.matching.scoring import FarTerms, Scoring, score_candidates
from lietsi.matching.sensitivity import Hypotheses, sensitivity
from lietsi.matching.settings import MatchSettings
from lietsi.matching.structure import database_theta
from lietsi.places import province_of
from lietsi.reasons import encode, reason
from lietsi.reasons import text as reason_text


@dataclass
class MatchResult:
    match_candidates: pl.DataFrame
    identifications: pl.DataFrame
    remains_outcomes: pl.DataFrame  # every remains: outcome, reason
    martyr_outcomes: pl.DataFrame  # every missing martyr: reference status, outcome
    refused_references: pl.DataFrame
    baseline: pl.DataFrame  # mtDNA-only: remains_id, martyr_id
    p_outside: float
    numerators: dict[str, dict[str, float]]  # P(outcome | true martyr) used (stated or re-estimated)
    prior: PriorModel  # group shares used (stated or re-estimated)
    database: Database  # the province's frequency database
    discordant: pl.DataFrame  # remains whose samples disagree: remains_id, reason (for the lab)
    remains_profiles: pl.DataFrame  # the profile each remains was matched on (one per remains)


@dataclass
class Prepared:
    """What the stages share: the references, the pool, the remains' profiles and the database."""

    remains: pl.DataFrame
    refs: pl.DataFrame  # relative_id, martyr_id, line_id, range, haplotype
    refused: pl.DataFrame
    missing_all: pl.DataFrame  # every missing martyr (pool statistics describe them all)
    missing: pl.DataFrame  # the hypotheses: the missing martyrs the council has not confirmed
    pool: Pool
    remains_profiles: pl.DataFrame  # one profile per remains (samples merged)
    discordant: pl.DataFrame
    database: Database
    province: str | None  # the default province of texts that name none (None nationally)
    here: frozenset[str] | None  # provinces whose cemeteries the remains lie in (None: the province)
    council: Council
    # martyr_id, remains_province_code, remains_id: martyrs whose remains another province's council
    # confirmed (`council.settled_elsewhere`); no hypotheses either
    elsewhere: pl.DataFrame | None = None


def identify(
    remains: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    reference_profiles: pl.DataFrame,
    candidates: pl.DataFrame,
    martyrs: pl.DataFrame,
    settings: MatchSettings | None = None,
    population: pl.DataFrame | None = None,
    independent: Database | None = None,
    council: Council | None = None,
    elsewhere: pl.DataFrame | None = None,
) -> MatchResult:
    """Match every profiled remains against the references of the missing martyrs.

    remains: remains_id, cemetery, recovery_date, recovery_date_precision, recovery_place, lat, lon,
    artefacts, est_sex, est_age (raw.hai_cot). remains_profiles: remains_id, range, haplotype (and
    sample_id: several samples of one remains are checked against each other).
    reference_profiles: relative_id, range, haplotype, consent. candidates: marts.maternal_candidates.
    martyrs: core.martyrs. population: the profiles the province's frequency database is built from
    (relative_id, range, haplotype, consent; default the reference profiles). independent: a
    population database independent of the province, when one is configured. council: the
    identification council's decisions in force (`lietsi.matching.council`): confirmed remains and martyrs
    leave the pools and teach the numerators, rejected pairs are no candidates. elsewhere: martyrs
    whose remains another province's council confirmed (`council.settled_elsewhere`): they leave the
    pool, and their outcome says where they were identified.
    """
    settings = settings or MatchSettings()
    prepared = prepare(
        remains, remains_profiles, reference_profiles, candidates, martyrs, settings, population, council,
        elsewhere=elsewhere,
    )  # fmt: skip
    pairs = candidate_pairs(prepared, settings, independent)
    return decide(prepared, pairs, evidence(prepared, pairs, settings), settings)


def prepare(
    remains: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    reference_profiles: pl.DataFrame,
    candidates: pl.DataFrame,
    martyrs: pl.DataFrame,
    settings: MatchSettings,
    population: pl.DataFrame | None = None,
    council: Council | None = None,
    here: frozenset[str] | None = None,
    elsewhere: pl.DataFrame | None = None,
) -> Prepared:
    """References, maternal lines, the pool of missing martyrs, the remains' profiles and the
    frequency database (`identify`'s arguments). `here`: a national run's provinces whose cemeteries
    the remains lie in; its place texts name their province, so no default province is assumed."""
    council = council or no_decisions()
    refs, refused = reference_table(reference_profiles, candidates)
    province = (
        None
        if here is not None
        else province_of(martyrs, remains["recovery_place"] if remains.height else None)
    )
    # Pool statistics (names, places) describe every missing martyr; the confirmed are no hypotheses.
    missing_all, pool = build_pool(martyrs, province)
    gone = council.confirmed_martyrs | set(elsewhere["martyr_id"] if elsewhere is not None else [])
    missing = missing_all.filter(~pl.col("martyr_id").is_in(list(gone)))
    unconfirmed = remains_profiles.filter(~pl.col("remains_id").is_in(list(council.confirmed_remains)))
    rp, discordant = merge_remains_samples(unconfirmed, settings.rules)
    database = province_database(reference_profiles if population is None else population, candidates)
    return Prepared(
        remains, refs, refused, missing_all, missing, pool, rp, discordant, database, province, here, council,
        elsewhere,
    )  # fmt: skip


def candidate_pairs(
    prepared: Prepared,
    settings: MatchSettings,
    independent: Database | None = None,
    found: pl.DataFrame | None = None,
    counted: DatabaseSide | None = None,
    reference_sites: dict | None = None,
) -> pl.DataFrame:
    """Candidate search and DNA: every (remains, martyr) pair within one difference on the martyr's
    best reference (or the `found` pairs a national run lists), compared by the forensic rules and
    counted in the database (`dna.dna_pairs`; `counted`: its side, prepared once for several
    batches, and `reference_sites` the references' sites, kept for them); pairs the council
    rejected are no candidates."""
    return dna_pairs(
        prepared.remains_profiles,
        prepared.refs,
        prepared.database,
        settings.rules,
        independent,
        found,
        counted,
        reference_sites,
    ).join(
        prepared.council.rejected.select("remains_id", "martyr_id"),
        on=["remains_id", "martyr_id"],
        how="anti",
    )


def evidence(
    prepared: Prepared, pairs: pl.DataFrame, settings: MatchSettings, far: dict[str, FarTerms] | None = None
) -> Scoring:
    """Evidence: every factor of each pair against the pool, and its posterior over the pool with the
    "nobody in the pool" hypothesis (`scoring.score_candidates`); `far`: a national run's candidates
    summed rather than listed."""
    confirmed = prepared.council.confirmed.select("remains_id", "martyr_id")
    # The confirmed martyrs' rows only, not every missing martyr of the country as a dict.
    missing = prepared.missing_all.filter(pl.col("martyr_id").is_in(confirmed["martyr_id"].implode()))
    martyr_rows = {m["martyr_id"]: m for m in missing.iter_rows(named=True)}
    known = [(r, martyr_rows[m]) for r, m in confirmed.iter_rows() if m in martyr_rows]
    return score_candidates(
        pairs,
        prepared.remains,
        prepared.missing,
        prepared.pool,
        set(prepared.refs["martyr_id"].to_list()),
        settings,
        prepared.province,
        prepared.remains_profiles["remains_id"].to_list(),
        not_comparable_martyrs(prepared.remains_profiles, prepared.refs, settings.rules),
        known,
        prepared.here,
        spectra(
            prepared.database.profiles.select("range", "haplotype").iter_rows(),
            pairs["compared_range"].unique().to_list() if pairs.height else [],
            settings.rules,
        )
        if settings.estimation_good_turing
        else None,
        database_theta(
            prepared.database.profiles, _line_communes(prepared.refs, prepared.missing_all), settings.rules
        )
        if settings.estimate_commune_theta
        else None,
        far,
    )


def decide(prepared: Prepared, pairs: pl.DataFrame, scoring: Scoring, settings: MatchSettings) -> MatchResult:
    """The per-pair decision and the one-to-one assignment (`assignment.assign`), with the evidence
    of each identification and the outcome of every remains and every missing martyr."""
    from lietsi.matching.assignment import Thresholds, assign

    council, remains = prepared.council, prepared.remains
    scored, p_outside = scoring.scored, scoring.prior.p_outside
    thresholds = Thresholds(
        proposed=settings.proposed_threshold,
        review=settings.review_threshold,
        components_from_review_floor=settings.listed_candidates is not None,
    )
    identifications = assign(scored, thresholds)
    evidence = _evidence_json(
        scored, identifications, p_outside, scoring.hypotheses, settings.p_outside_spread
    )
    identifications = identifications.join(evidence, on=["remains_id", "martyr_id"], how="left")
    # A rejected pair leaves its remains and martyr as they are otherwise (unresolved, missing).
    standing = pl.concat(
        [identifications, decision_identifications(council).filter(pl.col("status") == "confirmed")],
        how="diagonal_relaxed",
    )
    identifications = pl.concat([identifications, decision_identifications(council)], how="diagonal_relaxed")
    rp = prepared.remains_profiles
    return MatchResult(
        match_candidates=scored,
        identifications=identifications,
        remains_outcomes=_remains_outcomes(remains, rp, pairs, scored, standing, prepared.discordant),
        martyr_outcomes=_martyr_outcomes(prepared.missing_all, prepared.refs, standing, prepared.elsewhere),
        refused_references=prepared.refused,
        baseline=mtdna_only_baseline(scored),
        p_outside=p_outside,
        numerators=scoring.numerators,
        prior=scoring.prior,
        database=prepared.database,
        discordant=prepared.discordant,
        remains_profiles=rp,
    )


def _line_communes(refs: pl.DataFrame, martyrs: pl.DataFrame) -> dict[str, str]:
    """line_id → the home commune (district / commune) of a martyr of the line."""
    home = {
        m: f"{d or ''} / {c}"
        for m, d, c in martyrs.select("martyr_id", "hometown_district", "hometown_commune").iter_rows()
        if c
    }
    return {line: home[m] for m, line in refs.select("martyr_id", "line_id").iter_rows() if m in home}


def mtdna_only_baseline(pairs: pl.DataFrame) -> pl.DataFrame:
    """Propose when exactly one reference line cannot be excluded and that line serves one martyr."""
    if pairs.is_empty():
        return pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String})
    # The columns it reads first: a country's scored pairs carry 27 (100%: 15 million rows).
    matching = pairs.select("remains_id", "martyr_id", "line_id", "verdict").filter(
        pl.col("verdict") == "cannot_exclude"
    )
    return (
        matching.group_by("remains_id")
        .agg(pl.col("line_id").n_unique().alias("lines"), pl.col("martyr_id").unique().alias("martyrs"))
        .filter((pl.col("lines") == 1) & (pl.col("martyrs").list.len() == 1))
        .select("remains_id", pl.col("martyrs").list.first().alias("martyr_id"))
        .sort("remains_id")
    )


def _evidence_json(
    scored: pl.DataFrame,
    ids: pl.DataFrame,
    p_outside: float,
    hypotheses: dict[str, Hypotheses],
    spread: float,
) -> pl.DataFrame:
    """The `evidence` column: a readable summary, every number behind the posterior, and how the
    posterior moves with p_outside and without the place model (`sensitivity`)."""
    if ids.is_empty():
        return pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String, "evidence": pl.String})
    picked = scored.join(
        ids.select("remains_id", "martyr_id", "status", "reasons", "competitors"),
        on=["remains_id", "martyr_id"],
    )
    rows = []
    for rec in picked.iter_rows(named=True):
        factors = json.loads(rec["factors"])
        strong = sorted(
            # The DNA factor is stated on its own; the summary names the strongest other evidence.
            (f for f in factors if f["lr"] != 1.0 and f["factor"] != "dna"),
            key=lambda f: -abs(math.log(max(f["lr"], 1e-12))),
        )
        summary = (
            f"Remains {rec['remains_id']} → martyr {rec['martyr_id']}: {rec['status']}, posterior "
            f"{rec['posterior']:.4f}; DNA {rec['verdict']} (LR {rec['lr']:,.0f} at the 95% bound, "
            f"{rec['lr_point']:,.0f} at the best estimate), other evidence LR "
            f"{rec['lr_nongenetic']:,.1f}"
            + (f"; strongest: {reason_text(strong[0]['codes'], 'en')}" if strong else "")
        )
        # The posterior used the share of outsiders where these remains were recovered (§9).
        h = hypotheses.get(rec["remains_id"])
        here = h.p_outside if h is not None else p_outside
        doc = {
            "summary": summary,
            "status": rec["status"],
            "reasons": rec["reasons"],
            "prior": {
                "this_martyr": rec["prior"],
                "group": rec["prior_group"],
                "p_outside_pool": p_outside,
                "p_outside_district": here,
                "text": f"{rec['prior']:.2e}: the share of the register's remains belonging to the "
                f"missing martyrs of his group ({rec['prior_group']}), read without these remains' own "
                "match, over their number; "
                f"{p_outside:.3f} of the remains belong to nobody in the pool, {here:.3f} of those "
                "recovered in this district",
            },
            "dna": {
                "verdict": rec["verdict"],
                "differences": rec["differences"],
                "reference": rec["relative_id"],
                "line": rec["line_id"],
                "compared_range": rec["compared_range"],
                "differing_sites": rec["differing_sites"],
                "concordant_heteroplasmies": rec["heteroplasmies"],
                "ignored_by_rules": rec["ignored"],
                "excluding_references": rec.get("excluding_references"),
                "frequency": {
                    "range": rec["compared_range"],
                    "database": rec.get("database"),
                    "database_version": rec.get("database_version"),
                    "x": rec["x"],
                    "n": rec["n"],
                    "own_line_removed": rec.get("own_line_removed"),
                    "independent_database": rec.get("independent_database"),
                    "x_independent": rec.get("x_independent"),
                    "n_independent": rec.get("n_independent"),
                },
            },
            "factors": factors,
            "lr_total": rec["lr_total"],
            "lr_dna_best_estimate": rec["lr_point"],
            "posterior": rec["posterior"],
            "posterior_at_95pct_bound": rec["posterior_bound"],
            "competitors": json.loads(rec["competitors"]),
            "sensitivity": sensitivity(hypotheses[rec["remains_id"]], rec["martyr_id"], spread),
        }
        rows.append((rec["remains_id"], rec["martyr_id"], json.dumps(doc, ensure_ascii=False, default=str)))
    return pl.DataFrame(
        rows, schema={"remains_id": pl.String, "martyr_id": pl.String, "evidence": pl.String}, orient="row"
    )


def _remains_outcomes(
    remains: pl.DataFrame,
    rp: pl.DataFrame,
    pairs: pl.DataFrame,
    scored: pl.DataFrame,
    ids: pl.DataFrame,
    discordant: pl.DataFrame,
) -> pl.DataFrame:
    profiled = set(rp["remains_id"].to_list())
    blocked = {r: codes for r, _, codes in discordant.iter_rows()}
    with_pairs = pairs.group_by("remains_id").agg(
        (pl.col("verdict") == "cannot_exclude").sum().alias("n_match"), pl.len().alias("n_pairs")
    )
    pair_info = {r: (a, b) for r, a, b in with_pairs.iter_rows()}
    best = (
        {r: p for r, p in scored.group_by("remains_id").agg(pl.col("posterior").max()).iter_rows()}
        if not scored.is_empty()
        else {}
    )
    status = {r: s for r, s in ids.select("remains_id", "status").iter_rows()}
    rows = []
    for (remains_id,) in remains.select("remains_id").unique().sort("remains_id").iter_rows():
        if remains_id in status:
            rows.append((remains_id, status[remains_id], []))
        elif remains_id in blocked:
            rows.append((remains_id, "unresolved", json.loads(blocked[remains_id])))
        elif remains_id not in profiled:
            rows.append((remains_id, "unresolved", [reason("outcome.no_profile")]))
        elif remains_id not in pair_info:
            rows.append((remains_id, "unresolved", [reason("outcome.no_reference_match")]))
        else:
            n_match, n_pairs = pair_info[remains_id]
            why = (
                reason("outcome.only_inconclusive", n_pairs=n_pairs)
                if n_match == 0
                else reason("outcome.several_compatible", n_match=n_match, best=best.get(remains_id, 0.0))
            )
            rows.append((remains_id, "unresolved", [why]))
    return _outcome_frame("remains_id", rows)


def _outcome_frame(key: str, rows: list[tuple[str, str, list[dict]]]) -> pl.DataFrame:
    """key, outcome, reason (Vietnamese), reason_codes (JSON) from (id, outcome, reasons) rows."""
    return pl.DataFrame(
        [(k, outcome, reason_text(codes), encode(codes)) for k, outcome, codes in rows],
        schema={key: pl.String, "outcome": pl.String, "reason": pl.String, "reason_codes": pl.String},
        orient="row",
    )


def _martyr_outcomes(
    missing: pl.DataFrame, refs: pl.DataFrame, ids: pl.DataFrame, elsewhere: pl.DataFrame | None
) -> pl.DataFrame:
    sampled = set(refs["martyr_id"].to_list())
    settled = {} if elsewhere is None else {m: (p, r) for m, p, r in elsewhere.iter_rows()}
    status: dict[str, str] = {}
    # A martyr proposed for one remains may also head a review row of another: proposed wins.
    for m, s in ids.select("martyr_id", "status").iter_rows():
        if status.get(m) != "proposed":
            status[m] = s
    rows = []
    for (mid,) in missing.select("martyr_id").iter_rows():
        if mid in status:
            rows.append((mid, status[mid], []))
        elif mid in settled:
            province_code, remains_id = settled[mid]
            why = reason("outcome.identified_elsewhere", province_code=province_code, remains_id=remains_id)
            rows.append((mid, "identified_elsewhere", [why]))
        elif mid not in sampled:
            rows.append((mid, "no_reference", [reason("outcome.no_reference_sample")]))
        else:
            rows.append((mid, "not_found", [reason("outcome.not_found")]))
    return _outcome_frame("martyr_id", rows)
