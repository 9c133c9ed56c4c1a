"""What to sample or sequence next: for each unresolved remains and each missing martyr without a
usable reference, the action that most raises the expected number of identifications per đồng.

Actions and their expected gain (identifications expected from doing it; docs/matching.md §9):

- **sample a maternal relative** of a martyr with no usable reference (the relative from
  `marts.sampling_worklist`: its primary, backup, or a relative still to be asked for consent, not
  yet sampled): gain = P(his remains are among the register's profiled, unexplained remains)
  × the province's conversion (the share of remains with a DNA match, `cannot_exclude`, that
  the run proposed; council-confirmed remains left out, a re-run confirms nothing). P(present) spreads
  the unexplained remains not from outside the pool (1 − p_outside) equally over the unresolved
  missing martyrs, as the prior does within a group;
- **sample a second relative** of a candidate line of an unresolved remains, when the line's
  reference cannot settle it: the comparison is inconclusive (one difference: a mutation or a
  heteroplasmy between relative and martyr), or the reference read less than the remains; gain =
  conversion × the pair's posterior. A second relative of a line that already matches on the whole
  range adds nothing: his mtDNA reads the same;
- **sequence the whole mitogenome** of a remains whose control-region haplotype is compatible with
  several candidate lines (and one reference per line): gain = P(the coding region separates
  lines that share a control region) × conversion × Σ over those lines holding one missing martyr
  of the line's posterior. Brothers on one line stay inseparable by any mtDNA;
- **re-test a failed sample** (lab verdict `Không đạt`, or rejected by QC): a remains' sample:
  retest success × the share of profiled remains identified; a relative's sample of a martyr
  without a usable reference: retest success × the gain of sampling him.

Costs are settings (`ActionCosts`); each subject gets its best action by gain per million đồng, and
the actions are ranked across the province.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from lietsi.places import admin_unit, parse_place, province_of
from lietsi.reasons import decode, encode, reason
from lietsi.reasons import text as reason_text

ROLE_ORDER = {"primary": 0, "backup": 1, "ask_consent": 2}
UNKNOWN_DISTRICT = "(district not known)"


@dataclass(frozen=True)
class ActionCosts:
    """Unit costs in đồng. The plan budgets 10,000,000 đ per pair of samples analysed (one remains
    and one relative), so one sample analysed is 5,000,000 đ; the others are assumptions."""

    sample_vnd: int = 5_000_000  # collect and analyse one relative's sample (control region)
    mitogenome_vnd: int = 15_000_000  # whole mitogenome of one sample already extracted (assumed)
    retest_vnd: int = 5_000_000  # analyse a failed sample again (assumed: one sample analysed)


@dataclass(frozen=True)
class ActionSettings:
    costs: ActionCosts = field(default_factory=ActionCosts)
    # Share of failed samples that give a usable profile on a second try (assumed; degraded bone
    # fails more often than a relative's swab, a single figure keeps the ranking simple).
    retest_success: float = 0.6
    # P(the coding region separates two lines that share a control-region haplotype): whole
    # mitogenomes split most control-region matches of unrelated maternal lines (assumed).
    mitogenome_separates: float = 0.8
    # The conversion stated before the run measures it, worth `rate_prior_weight` remains.
    default_conversion: float = 0.3
    rate_prior_weight: float = 5.0
    default_p_outside: float = 0.4


_SCHEMA = {
    "rank": pl.Int64,
    "subject_kind": pl.String,
    "subject_id": pl.String,
    "district_code": pl.String,  # the district's code (null when its text resolves to none)
    "district": pl.String,  # its official name, or the text as written when it has no code
    "action": pl.String,
    "target": pl.String,
    "expected_identifications": pl.Float64,
    "cost_vnd": pl.Int64,
    "identifications_per_million_vnd": pl.Float64,
    "explanation": pl.String,  # Vietnamese (lietsi.reasons)
    "explanation_codes": pl.String,  # the same as JSON codes with parameters
    "alternatives": pl.String,
}


@dataclass(frozen=True)
class Action:
    action: str
    target: str | None
    gain: float
    cost: int
    explanation: list[dict]  # reasons (lietsi.reasons)

    @property
    def per_million(self) -> float:
        return self.gain / (self.cost / 1e6) if self.cost else 0.0


@dataclass(frozen=True)
class Province:
    """What the run knows, as the actions need it."""

    conversion: float  # remains with a DNA match (not confirmed) → proposed
    identified_share: float  # profiled remains not confirmed → proposed
    p_present: float  # P(an unresolved missing martyr's remains are among the unexplained profiled)
    p_outside: float


def province_rates(
    outcomes: pl.DataFrame, candidates: pl.DataFrame, identifications: pl.DataFrame, s: ActionSettings
) -> Province:
    """The province's rates from the matching stage's outputs (`marts.identification_outcomes`,
    `marts.match_candidates`, `marts.identifications`).

    An action's result is read by the next run of the pipeline, which proposes: it confirms nothing
    (the council does). So the rates are measured on what the run itself decided: council-confirmed
    remains (always named, and chosen by the council among the proposals) are left out of both
    sides; counted in, they would make every action look better than the per-pair rule allows."""
    proposed = set(identifications.filter(pl.col("status") == "proposed")["remains_id"].to_list())
    confirmed = set(identifications.filter(pl.col("status") == "confirmed")["remains_id"].to_list())
    # What a successful action produces: a remains its DNA cannot exclude from a martyr. Whether
    # the pair is then proposed hangs on the rest of the evidence (with the DNA's likelihood ratio
    # capped by θ, no mtDNA match alone reaches 0.99), not on how many lines the remains matches:
    # on the demo none of the 80 remains matching a single line is proposed, while remains matching
    # several lines are, when an artefact or a place names one martyr.
    matched = (
        set(candidates.filter(pl.col("verdict") == "cannot_exclude")["remains_id"].to_list()) - confirmed
    )
    # Shrunk towards the stated default: a province with few matches says little yet.
    conversion = (len(proposed & matched) + s.rate_prior_weight * s.default_conversion) / (
        len(matched) + s.rate_prior_weight
    )
    remains = outcomes.filter(pl.col("kind") == "remains")
    unprofiled = remains.filter(pl.col("reason_codes").fill_null("").str.contains('"outcome.no_profile"'))
    profiled = remains.height - unprofiled.height
    p_outside = _p_outside(identifications, s)
    unexplained = max(profiled - len(proposed | confirmed), 0)
    martyrs = outcomes.filter(pl.col("kind") == "martyr")
    open_martyrs = martyrs.filter(
        ~pl.col("outcome").is_in(["proposed", "confirmed", "identified_elsewhere"])
    ).height
    p_present = min(1.0, unexplained * (1 - p_outside) / open_martyrs) if open_martyrs else 0.0
    undecided = profiled - len(confirmed)
    return Province(conversion, len(proposed) / undecided if undecided > 0 else 0.0, p_present, p_outside)


def _p_outside(identifications: pl.DataFrame, s: ActionSettings) -> float:
    """The share of remains belonging to nobody in the pool, as the matching stage estimated it."""
    for text in identifications.filter(pl.col("status").is_in(["proposed", "needs_review"]))["evidence"]:
        value = (json.loads(text or "{}").get("prior") or {}).get("p_outside_pool")
        if value is not None:
            return float(value)
    return s.default_p_outside


def _remains_actions(
    pairs: pl.DataFrame, members: dict[str, int], rates: Province, s: ActionSettings
) -> list[Action]:
    """Actions for one unresolved profiled remains from its candidate pairs (line_id, martyr_id,
    verdict, posterior, compared_range, reference_range, range of the remains)."""
    actions: list[Action] = []
    compatible = pairs.filter(pl.col("verdict") == "cannot_exclude")
    lines = compatible.group_by("line_id").agg(pl.col("posterior").sum(), pl.col("martyr_id").n_unique())
    if lines.height >= 2:
        single = lines.filter(pl.col("line_id").map_elements(lambda x: members.get(x, 1) == 1, pl.Boolean))
        gain = s.mitogenome_separates * rates.conversion * float(single["posterior"].sum())
        names = ", ".join(sorted(lines["line_id"].to_list()))
        actions.append(
            Action(
                "sequence_mitogenome",
                names,
                gain,
                s.costs.mitogenome_vnd * (1 + lines.height),
                [reason("action.sequence_mitogenome", n_lines=lines.height, lines=names)],
            )
        )
    for rec in pairs.sort("posterior", "martyr_id", descending=[True, False]).iter_rows(named=True):
        partial = rec["compared_range"] != rec["remains_range"]
        if rec["verdict"] == "inconclusive" or (rec["verdict"] == "cannot_exclude" and partial):
            why = (
                reason(
                    "action.second_relative_inconclusive", line_id=rec["line_id"], martyr_id=rec["martyr_id"]
                )
                if rec["verdict"] == "inconclusive"
                else reason(
                    "action.second_relative_partial",
                    compared_range=rec["compared_range"],
                    martyr_id=rec["martyr_id"],
                )
            )
            actions.append(
                Action(
                    "sample_second_relative",
                    f"{rec['line_id']} (martyr {rec['martyr_id']})",
                    rates.conversion * float(rec["posterior"]),
                    s.costs.sample_vnd,
                    [why],
                )
            )
    return actions


def _sample_action(martyr_id: str, donors: pl.DataFrame, gain: float, s: ActionSettings) -> Action | None:
    if donors.is_empty():
        return None
    best = donors.row(0, named=True)
    ask = best["role"] == "ask_consent"
    why = [
        reason(
            "action.ask_consent_and_sample" if ask else "action.sample_relative",
            relative_id=best["relative_id"],
            kin=best["kin_path"] or best["relationship_text"],
            line_id=best["maternal_line_id"],
            martyr_id=martyr_id,
        )
    ]
    if best["_unlinkable"]:
        why.append(reason("action.correct_citizen_id"))
    return Action("ask_consent_and_sample" if ask else "sample_relative", best["relative_id"], gain,
                  s.costs.sample_vnd, why)  # fmt: skip


def next_actions(
    outcomes: pl.DataFrame,
    candidates: pl.DataFrame,
    identifications: pl.DataFrame,
    worklist: pl.DataFrame,
    sampled_relatives: set[str],
    failed_samples: pl.DataFrame,
    districts: dict[tuple[str, str], str],
    remains_ranges: dict[str, str],
    settings: ActionSettings | None = None,
    unlinkable_relatives: frozenset[str] = frozenset(),
    province: str | None = None,
) -> pl.DataFrame:
    """`marts.next_actions`: one row per unresolved remains and per missing martyr without a usable
    reference, with its best action, ranked by expected identifications per million đồng.

    outcomes: marts.identification_outcomes (kind, id, outcome, reason); candidates:
    marts.match_candidates; worklist: marts.sampling_worklist; sampled_relatives: relatives with a
    usable profile; failed_samples: sample_id, kind (`remains`/`relative`), subject (remains_id,
    or martyr_id the relative shares mtDNA with); districts: (kind, id) → district;
    remains_ranges: remains_id → the range its profile read. unlinkable_relatives: relatives with no
    valid citizen id on the forms (a sample is logged by citizen id): another donor of the line is
    preferred, and the action says to correct the id first. province: the run's province, in which
    a district text is resolved to its code and official name (`district_code`, `district`).
    """
    s = settings or ActionSettings()
    rates = province_rates(outcomes, candidates, identifications, s)
    members = dict(candidates.group_by("line_id").agg(pl.col("martyr_id").n_unique()).iter_rows())
    pairs = candidates.with_columns(
        remains_range=pl.col("remains_id").replace_strict(
            remains_ranges, default=None, return_dtype=pl.String
        )
    )
    by_remains = {k[0]: g for k, g in pairs.group_by("remains_id")}
    failed = {
        (k, sub): sid for sid, k, sub in failed_samples.select("sample_id", "kind", "subject").iter_rows()
    }
    donors = (
        worklist.filter(
            pl.col("role").is_in(list(ROLE_ORDER)) & ~pl.col("relative_id").is_in(list(sampled_relatives))
        )
        .with_columns(
            pl.col("martyr_ids").cast(pl.String).str.split(","),
            _role=pl.col("role").replace_strict(ROLE_ORDER),
            _unlinkable=pl.col("relative_id").is_in(list(unlinkable_relatives)),
        )
        .explode("martyr_ids")
        .sort("_unlinkable", "_role", "priority_rank", "relative_id")
    )
    donors_of = {k[0]: g for k, g in donors.group_by("martyr_ids", maintain_order=True)}
    empty_donors = donors.clear()
    rows = []
    unresolved = outcomes.filter(
        ((pl.col("kind") == "remains") & (pl.col("outcome") == "unresolved"))
        | ((pl.col("kind") == "martyr") & (pl.col("outcome") == "no_reference"))
    ).sort("kind", "id")
    for kind, subject, outcome_codes in unresolved.select("kind", "id", "reason_codes").iter_rows():
        actions: list[Action] = []
        if kind == "remains":
            if subject in by_remains:
                actions += _remains_actions(by_remains[subject], members, rates, s)
            if ("remains", subject) in failed:
                actions.append(
                    Action(
                        "retest_sample",
                        failed[("remains", subject)],
                        s.retest_success * rates.identified_share,
                        s.costs.retest_vnd,
                        [reason("action.retest_remains", share=rates.identified_share)],
                    )
                )
        else:
            gain = rates.p_present * rates.conversion
            sample = _sample_action(subject, donors_of.get(subject, empty_donors), gain, s)
            if sample:
                actions.append(sample)
            if ("relative", subject) in failed:
                actions.append(
                    Action(
                        "retest_sample",
                        failed[("relative", subject)],
                        s.retest_success * gain,
                        s.costs.retest_vnd,
                        [reason("action.retest_relative")],
                    )
                )
        useful = sorted((a for a in actions if a.gain > 0), key=lambda a: (-a.per_million, a.action))
        district = districts.get((kind, subject)) or UNKNOWN_DISTRICT
        if not useful:
            rows.append(_none_row(kind, subject, district, decode(outcome_codes)))
            continue
        best = useful[0]
        rows.append(
            {
                "subject_kind": kind,
                "subject_id": subject,
                "district": district,
                "action": best.action,
                "target": best.target,
                "expected_identifications": round(best.gain, 4),
                "cost_vnd": best.cost,
                "identifications_per_million_vnd": round(best.per_million, 5),
                "explanation": reason_text(best.explanation),
                "explanation_codes": encode(best.explanation),
                "alternatives": json.dumps(
                    [
                        {
                            "action": a.action,
                            "target": a.target,
                            "expected": round(a.gain, 4),
                            "cost_vnd": a.cost,
                        }
                        for a in useful[1:]
                    ],
                    ensure_ascii=False,
                ),
            }
        )
    groups = district_groups(sorted({r["district"] for r in rows}), province)
    for row in rows:
        key, row["district"], _ = groups[row["district"]]
        row["district_code"] = None if key.startswith("?") else key
    frame = pl.DataFrame(rows, schema={k: v for k, v in _SCHEMA.items() if k != "rank"})
    ranked = frame.filter(pl.col("action") != "none").sort(
        "identifications_per_million_vnd", "subject_kind", "subject_id", descending=[True, False, False]
    )
    ranked = ranked.with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    rest = frame.filter(pl.col("action") == "none").with_columns(rank=pl.lit(None, pl.Int64))
    return pl.concat([ranked, rest]).select(list(_SCHEMA))


def _none_row(kind: str, subject: str, district: str, outcome: list[dict]) -> dict:
    why = [reason(f"action.none_{kind}"), *outcome]
    return {
        "subject_kind": kind,
        "subject_id": subject,
        "district": district,
        "action": "none",
        "target": None,
        "expected_identifications": 0.0,
        "cost_vnd": 0,
        "identifications_per_million_vnd": 0.0,
        "explanation": reason_text(why),
        "explanation_codes": encode(why),
        "alternatives": "[]",
    }


def failed_samples(
    results: pl.DataFrame,
    samples: pl.DataFrame,
    profiles: pl.DataFrame,
    relatives: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
) -> pl.DataFrame:
    """sample_id, kind, subject: samples with a result (`raw.ket_qua_adn`) but no usable profile
    (lab verdict `Không đạt` or rejected by QC). subject: the remains, or each martyr whose mtDNA the
    donor shares."""
    schema = {"sample_id": pl.String, "kind": pl.String, "subject": pl.String}
    usable = set(profiles["sample_id"].to_list())
    tried = (
        results.select(pl.col("sample_id").cast(pl.String))
        .unique()
        .filter(~pl.col("sample_id").is_in(list(usable)))
    )
    if tried.is_empty() or samples.is_empty():
        return pl.DataFrame(schema=schema)
    log = tried.join(
        samples.select(
            pl.col("sample_id").cast(pl.String),
            "sample_kind",
            pl.col("remains_id").cast(pl.String),
            "citizen_id_hash",
        ).unique("sample_id"),
        on="sample_id",
    )
    remains = log.filter((pl.col("sample_kind") == "Hài cốt") & pl.col("remains_id").is_not_null()).select(
        "sample_id", kind=pl.lit("remains"), subject="remains_id"
    )
    donors = (
        maternal_candidates.filter(pl.col("shares_mtdna").fill_null(False))
        .select("martyr_id", "relative_id")
        .join(relatives.select("relative_id", "citizen_id_hash"), on="relative_id")
    )
    kin = (
        log.filter(pl.col("sample_kind") == "Thân nhân")
        .join(donors, on="citizen_id_hash")
        .select("sample_id", kind=pl.lit("relative"), subject="martyr_id")
    )
    return pl.concat([remains, kin]).unique().sort("kind", "subject", "sample_id").select(list(schema))


def subject_districts(
    martyrs: pl.DataFrame, candidates: pl.DataFrame, remains: pl.DataFrame, province: str | None
) -> dict[tuple[str, str], str]:
    """(kind, id) → district whose office acts: a martyr's home district (his family is there); a
    remains' most probable candidate's home district, else the district it was recovered in."""
    home = {m: d for m, d in martyrs.select("martyr_id", "hometown_district").iter_rows() if d}
    out: dict[tuple[str, str], str] = {("martyr", m): d for m, d in home.items()}
    best = candidates.sort("posterior", "martyr_id", descending=[True, False]).unique(
        "remains_id", keep="first"
    )
    for r, m in best.select("remains_id", "martyr_id").iter_rows():
        if m in home:
            out[("remains", r)] = home[m]
    for r, place in remains.select("remains_id", "recovery_place").iter_rows():
        if ("remains", r) not in out:
            district = parse_place(place, province).district
            if district:
                out[("remains", r)] = district
    return out


def district_groups(districts: list[str], province: str | None) -> dict[str, tuple[str, str, bool]]:
    """District text → (key, label, in the province): the district code and its official name where
    the text resolves (`lietsi.places.admin_unit`, as the worklists and district pages group), so
    `Châu Thành` and `huyện Châu Thanh` share one page; the text itself, marked `?`, where it does not."""
    out = {}
    for text in districts:
        unit = admin_unit(None, text, None, province) if text != UNKNOWN_DISTRICT else None
        if unit and unit["district_code"]:
            out[text] = (str(unit["district_code"]), str(unit["district_name"]), unit["in_province"] is True)
        else:
            out[text] = (f"?{text}", text, False)
    return out


def province_next_actions(
    settings: ActionSettings,
    outcomes: pl.DataFrame,
    candidates: pl.DataFrame,
    identifications: pl.DataFrame,
    worklist: pl.DataFrame,
    profiles: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    relatives: pl.DataFrame,
    martyrs: pl.DataFrame,
    hai_cot: pl.DataFrame,
    mau_adn: pl.DataFrame,
    ket_qua_adn: pl.DataFrame,
) -> tuple[pl.DataFrame, str | None]:
    """(marts.next_actions, the province) from the matching stage's outputs and the warehouse's
    profiles, relatives, martyrs and lab files."""
    province = province_of(martyrs, hai_cot["recovery_place"] if hai_cot.height else None)
    remains_profiles = profiles.filter(pl.col("sample_kind") == "remains")
    ranges = dict(
        remains_profiles.sort("range_length", descending=True)
        .unique("remains_id", keep="first")
        .select("remains_id", "range")
        .iter_rows()
    )
    failed = failed_samples(ket_qua_adn, mau_adn, profiles, relatives, maternal_candidates)
    actions = next_actions(
        outcomes,
        candidates,
        identifications,
        worklist,
        set(profiles["relative_id"].drop_nulls().to_list()),
        failed,
        subject_districts(martyrs, candidates, hai_cot, province),
        ranges,
        settings,
        frozenset(relatives.filter(pl.col("citizen_id_hash").is_null())["relative_id"].to_list()),
        province=province,
    )
    return actions, province


def actions_summary(actions: pl.DataFrame) -> dict[str, object]:
    """What the asset reports: subjects, ranked actions, their expected identifications and cost, by
    action (10 rows) and the top 20."""
    ranked = actions.filter(pl.col("rank").is_not_null())
    by_action = ranked.group_by("action").agg(
        pl.len().alias("subjects"),
        pl.col("expected_identifications").sum().round(2).alias("expected_identifications"),
        (pl.col("cost_vnd").sum() / 1e6).alias("cost_million_vnd"),
    )
    return {
        "subjects": actions.height,
        "actions": ranked.height,
        "expected_identifications": float(ranked["expected_identifications"].sum()),
        "cost_million_vnd": float(ranked["cost_vnd"].sum() / 1e6),
        "by_action": by_action.sort("action").head(10),
        "top_actions": ranked.select(
            "rank",
            "subject_kind",
            "subject_id",
            "district_code",
            "district",
            "action",
            "target",
            "expected_identifications",
            "identifications_per_million_vnd",
        ).head(20),
    }
