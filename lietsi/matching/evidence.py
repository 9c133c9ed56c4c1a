"""The weight of each piece of evidence that a remains is a given martyr, as a likelihood ratio.

Every factor is LR = P(observation | the remains are this martyr) / P(observation | they are someone
else), "someone else" being a martyr drawn from the pool of martyrs still missing. The numerator
is a stated assumption (a field of `EvidenceSettings`, documented in docs/matching.md); the
denominator is measured on the pool itself (how many missing martyrs share that sex, age band,
death district, given name …), which the caller passes in. Factors that cannot be evaluated
(a blank estimate, a place that could not be parsed) have LR 1 and say why.

The DNA factor follows SWGDAM: for `cannot_exclude`, LR = 1/p with p the upper Clopper–Pearson
bound of the haplotype's frequency among x matches in n database profiles; an `inconclusive`
pair gets no DNA weight (LR set by `inconclusive_lr`, 1 by default) and can never be proposed on
its own; an exclusion is LR 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from lietsi.names import initials_compatible, key_variant, name_similarity, normalise_text
from lietsi.reasons import reason
from lietsi.reasons import text as reason_text
from lietsi.stats import clopper_pearson_upper


@dataclass(frozen=True)
class Factor:
    name: str
    lr: float
    why: list[dict]  # reasons (lietsi.reasons): the explanation, Vietnamese first on the pages
    values: dict[str, Any] = field(default_factory=dict)
    # For a factor whose numerator the province's data can re-estimate (`estimate_numerators`): the
    # numerator table and outcome, and the denominator, so that lr = table[outcome] / den.
    cell: tuple[str, str] | None = None
    den: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": self.name, "lr": round(self.lr, 6), "text": reason_text(self.why), "codes": self.why,
            **self.values,
        }  # fmt: skip


@dataclass(frozen=True)
class EvidenceSettings:
    """Assumptions behind each likelihood ratio (numerators); denominators come from the pool."""

    confidence: float = 0.95  # one-sided level of the Clopper–Pearson upper bound
    # Maternal kinship within villages (θ, the chance that a random other line of the remains'
    # community shares the haplotype by descent): p = θ + (1 − θ)·p. NRC II (1996) recommends
    # θ = 0.01 for subpopulation structure (0.03 for small isolated ones); Buckleton, Krawczak &
    # Weir (2011, FSI Genetics 5:78) carry the correction to lineage markers. docs/matching.md §3.
    theta: float = 0.01
    inconclusive_lr: float = 1.0  # SWGDAM: no LR for an inconclusive pair
    # P(estimated sex wrong | true martyr): anthropological sexing of war remains.
    sex_error: float = 0.05
    # P(true age at death inside the estimated range / only within the tolerance around it /
    # farther | true martyr): brackets from worn or partial bones are sometimes off by a few years.
    age_tolerance_years: int = 3
    age_given_match: tuple[tuple[str, float], ...] = (("inside", 0.75), ("near", 0.15), ("outside", 0.1))
    # P(how the recovery place relates to the martyr's place | true martyr), by the source of his
    # place (`death`: the recorded place of death; `unit`: the area of a local unit, `Du kích xã X`
    # fought in commune X, `Huyện đội Y` in district Y, used when finer than the recorded place) and
    # the finest admin level both places are known at (3 commune, 2 district, 1 province or
    # Cambodia, 0 neither placed: fronts such as `Mặt trận Tây Nam`, compared as texts). A record
    # gives where the man fell to the precision the clerk knew; remains are gathered where they lay,
    # usually there, sometimes in the next commune or district (field graves moved, battles spanning
    # units), and now and then the record is wrong. A local unit's man mostly fell in its area, less
    # surely than where a record says he fell. The values of each table sum to 1.
    place_given_match: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
        ("death:3", (("commune", 0.6), ("district", 0.2), ("province", 0.12), ("elsewhere", 0.08))),
        ("death:2", (("district", 0.8), ("province", 0.12), ("elsewhere", 0.08))),
        ("death:1", (("province", 0.92), ("elsewhere", 0.08))),
        ("death:0", (("same_text", 0.5), ("different", 0.5))),
        ("unit:3", (("commune", 0.5), ("district", 0.25), ("province", 0.15), ("elsewhere", 0.1))),
        ("unit:2", (("district", 0.7), ("province", 0.2), ("elsewhere", 0.1))),
        ("unit:1", (("province", 0.9), ("elsewhere", 0.1))),
        ("unit:0", (("same_text", 0.01), ("different", 0.99))),
    )
    # Distance bands (km) between the recovery coordinates and the death place's unit centroid.
    distance_bands_km: tuple[float, ...] = (5.0, 20.0, 60.0)
    distance_band_given_match: tuple[float, ...] = (0.45, 0.30, 0.15, 0.10)
    # P(recovery recorded before the recorded death | true martyr): a clerical error in either date.
    date_error: float = 0.02
    # Share of a unit's dead buried in its operating area, smoothing for small units.
    unit_area_pseudocount: float = 1.0
    # Artefact inscription: P(it names the martyr | true martyr, an inscription was read).
    inscription_names_owner: float = 0.8
    name_match_min_similarity: float = 0.91
    # Hometown named on an artefact.
    hometown_named_given_match: float = 0.8
    # Floor on any measured pool share, so one odd record cannot make an LR explode.
    min_share: float = 1e-3


def numerator_tables(s: EvidenceSettings) -> dict[str, dict[str, float]]:
    """The numerators the province's data can re-estimate, as tables of P(outcome | true martyr)."""
    tables = {
        "sex": {"agree": 1 - s.sex_error, "disagree": s.sex_error},
        "age": dict(s.age_given_match),
        "date": {"before": s.date_error, "after": 1 - s.date_error},
        "artefact": {"names": s.inscription_names_owner, "other": 1 - s.inscription_names_owner},
        "distance": {str(i): p for i, p in enumerate(s.distance_band_given_match)},
    }
    for key, outcomes in s.place_given_match:
        tables[f"place:{key}"] = dict(outcomes)
    return tables


def with_numerators(s: EvidenceSettings, tables: dict[str, dict[str, float]]) -> EvidenceSettings:
    """Settings whose numerators are `tables` (as `numerator_tables` returns them)."""
    places = tuple(
        (key, tuple((o, tables[f"place:{key}"][o]) for o, _ in outcomes))
        for key, outcomes in s.place_given_match
    )
    bands = tuple(tables["distance"][str(i)] for i in range(len(s.distance_band_given_match)))
    return replace(
        s,
        sex_error=tables["sex"]["disagree"],
        age_given_match=tuple((o, tables["age"][o]) for o, _ in s.age_given_match),
        date_error=tables["date"]["before"],
        inscription_names_owner=tables["artefact"]["names"],
        distance_band_given_match=bands,
        place_given_match=places,
    )


def dna_factor(
    verdict: str,
    differences: int,
    x: int,
    n: int,
    s: EvidenceSettings,
    independent: tuple[int, int] | None = None,
) -> Factor:
    """x of n: profiles of the province's database (one per maternal line, read over the whole
    range compared) that cannot be excluded from the remains' profile on that range; `independent`
    the same count in an independent database when one is configured. The frequency is the larger
    of the two upper bounds, then corrected for maternal kinship within villages:
    p = θ + (1 − θ)·p_upper (Balding–Nichols for a haploid marker)."""
    if verdict == "exclusion":
        why = [reason("factor.dna_excluded", differences=differences)]
        return Factor("dna", 0.0, why, {"differences": differences})
    p_province = clopper_pearson_upper(x, n, s.confidence)
    p_other = clopper_pearson_upper(*independent, s.confidence) if independent and independent[1] else None
    source = "independent" if p_other is not None and p_other > p_province else "province"
    p_upper = p_other if source == "independent" else p_province
    p = s.theta + (1 - s.theta) * p_upper
    values = {"differences": differences, "x": x, "n": n, "p_upper": round(p_upper, 6), "theta": s.theta}
    values |= {"frequency_from": source, "p": round(p, 6)}
    if independent is not None:
        values |= {"x_independent": independent[0], "n_independent": independent[1]}
    if verdict == "cannot_exclude":
        numbers = {"x": x, "n": n, "p_upper": p_upper, "confidence": s.confidence, "p": p, "theta": s.theta}
        why = (
            reason("factor.dna_cannot_exclude", **numbers, lr=1.0 / p)
            if source == "province"
            else reason(
                "factor.dna_cannot_exclude_independent",
                **numbers,
                lr=1.0 / p,
                x_independent=independent[0],
                n_independent=independent[1],
            )
        )
        return Factor("dna", 1.0 / p, [why], values)
    return Factor(
        "dna",
        s.inconclusive_lr,
        [reason("factor.dna_inconclusive", differences=differences, lr=s.inconclusive_lr)],
        values,
    )


def _share(value: float, s: EvidenceSettings) -> float:
    return min(1.0, max(value, s.min_share))


def _binary(
    name: str,
    event: bool,
    outcomes: tuple[str, str],
    p_match: float,
    q: float,
    why: list[dict],
    values: dict[str, Any],
    s: EvidenceSettings,
) -> Factor:
    """LR of an event with P = p_match for the true martyr and q for someone else, or of its absence."""
    den = q if event else _share(1 - q, s)
    lr = (p_match if event else 1 - p_match) / den
    return Factor(name, lr, why, values, (name, outcomes[0] if event else outcomes[1]), den)


def sex_factor(
    est_sex: str | None, martyr_sex: str | None, est_share: float | None, s: EvidenceSettings
) -> Factor:
    """est_share = P(this estimate | the remains are someone else): the share of the register's sex
    estimates that read `est_sex` (estimation errors included, so no correction is needed)."""
    if not est_sex or not martyr_sex or est_share is None:
        return Factor("sex", 1.0, [reason("factor.sex_unknown")])
    q = _share(est_share, s)
    values = {"register_share": round(q, 4)}
    if est_sex == martyr_sex:
        why = [reason("factor.sex_agrees", est_sex=est_sex, share=q)]
        return Factor("sex", (1 - s.sex_error) / q, why, values, ("sex", "agree"), q)
    why = [reason("factor.sex_disagrees", est_sex=est_sex, martyr_sex=martyr_sex)]
    return Factor("sex", s.sex_error / q, why, values, ("sex", "disagree"), q)


_AGE = re.compile(r"(\d{1,2})\s*(?:-|–|đến|den|to)\s*(\d{1,2})")
_NUM = re.compile(r"\d{1,2}")


def parse_age_range(text: str | None) -> tuple[int, int] | None:
    """`18-25`, `18 – 25 tuổi`, `khoảng 20` (± 3), `trên 30` → (low, high) years."""
    if not text:
        return None
    t = normalise_text(str(text)).lower()
    m = _AGE.search(t)
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return lo, hi
    nums = [int(n) for n in _NUM.findall(t)]
    if not nums:
        return None
    if "trên" in t or "tren" in t or ">" in t:
        return nums[0], 60
    if "dưới" in t or "duoi" in t or "<" in t:
        return 14, nums[0]
    return nums[0] - 3, nums[0] + 3


def age_factor(
    est_age: tuple[int, int] | None,
    age_at_death: int | None,
    shares: dict[str, float] | None,
    s: EvidenceSettings,
) -> Factor:
    """shares = P(the martyr's age at death falls inside / near / outside the estimate | the remains
    are someone else): the shares of the register's age estimates that contain his age, that
    contain it only once widened by the tolerance, and the rest."""
    if est_age is None or age_at_death is None or shares is None:
        return Factor("age", 1.0, [reason("factor.age_unknown")])
    lo, hi = est_age
    tol = s.age_tolerance_years
    outcome = (
        "inside"
        if lo <= age_at_death <= hi
        else "near"
        if lo - tol <= age_at_death <= hi + tol
        else "outside"
    )
    q = _share(shares[outcome], s)
    p1 = dict(s.age_given_match)[outcome]
    return Factor(
        "age",
        p1 / q,
        [reason(f"factor.age_{outcome}", age=age_at_death, lo=lo, hi=hi, tolerance=tol)],
        {"estimated": f"{lo}-{hi}", "age_at_death": age_at_death, "register_share": round(q, 4)},
        ("age", outcome),
        q,
    )


LEVELS = {3: "commune", 2: "district", 1: "province", 0: "not placed"}


def place_level(place: dict[str, str | None]) -> int:
    """3 commune, 2 district, 1 province, 0 not placed (a front, a foreign place, unparsed)."""
    if not place.get("province"):
        return 0
    if not place.get("district"):
        return 1
    return 3 if place.get("commune") else 2


def place_relation(
    recovery_key: str, recovery: dict[str, str | None], death_key: str, death: dict[str, str | None]
) -> tuple[int, str] | None:
    """(level, outcome): the finest admin level both places are known at, and how they relate there
    (`commune`/`district`/`province` = the finest unit they share, `elsewhere` = other provinces;
    at level 0 only the texts compare: `same_text` or `different`). None when either is blank.

    Keys are `lietsi.places.place_key` texts; places are parsed admin units (commune/district/province).
    """
    if not recovery_key or not death_key:
        return None
    level = min(place_level(recovery), place_level(death))
    if level == 0:
        return 0, "same_text" if recovery_key == death_key else "different"
    if recovery["province"] != death["province"]:
        return level, "elsewhere"
    if level >= 2 and recovery["district"] == death["district"]:
        return level, "commune" if level == 3 and recovery["commune"] == death["commune"] else "district"
    return level, "province"


def place_factor(
    relation: tuple[int, str] | None,
    share: float | None,
    s: EvidenceSettings,
    detail: str = "",
    source: str = "death",
) -> Factor:
    """share = P(this outcome at this level | the remains are someone else): among the register's
    remains whose recovery place is known at the same level against the martyr's place of death,
    the share in this outcome."""
    if relation is None or share is None:
        return Factor("place", 1.0, [reason("factor.place_unknown")])
    level, outcome = relation
    table = f"{source}:{level}"
    p1 = dict(dict(s.place_given_match)[table])[outcome]
    q = _share(share, s)
    why = [
        reason(f"factor.{'place' if source == 'death' else 'unit_place'}_{outcome}"),
        reason(f"factor.compared_at_{LEVELS[level].replace(' ', '_')}", detail=detail or "–"),
    ]
    return Factor(
        "place",
        p1 / q,
        why,
        {
            "source": source,
            "level": LEVELS[level],
            "category": outcome,
            "p_match": round(p1, 4),
            "register_share": round(q, 4),
        },
        (f"place:{table}", outcome),
        q,
    )


def distance_band(km: float, s: EvidenceSettings) -> int:
    for i, edge in enumerate(s.distance_bands_km):
        if km <= edge:
            return i
    return len(s.distance_bands_km)


def distance_factor(km: float | None, pool_share: float | None, s: EvidenceSettings) -> Factor:
    """pool_share = share of the register's recovery coordinates in the same distance band from the
    martyr's place of death (P(band | the remains are someone else))."""
    if km is None or pool_share is None:
        return Factor("distance", 1.0, [reason("factor.distance_unknown")])
    band = distance_band(km, s)
    edges = (0.0, *s.distance_bands_km, math.inf)
    q = _share(pool_share, s)
    label = (
        f"{edges[band]:g}–{edges[band + 1]:g} km"
        if band < len(s.distance_bands_km)
        else f"> {edges[band]:g} km"
    )
    return Factor(
        "distance",
        s.distance_band_given_match[band] / q,
        [reason("factor.distance", km=km, band=label)],
        {"km": round(km, 1), "band": label, "register_share": round(q, 4)},
        ("distance", str(band)),
        q,
    )


def date_factor(
    recovery: date | None,
    recovery_last: date | None,
    death: date | None,
    before_share: float | None,
    s: EvidenceSettings,
) -> Factor:
    """`recovery_last`: the latest day a partial recovery date stands for; `death`: earliest day.
    before_share = P(recovered before this death | the remains are someone else): the share of the
    register's dated remains recovered before it."""
    if recovery is None or death is None or before_share is None:
        return Factor("date", 1.0, [reason("factor.date_unknown")])
    q = _share(before_share, s)
    values = {"register_share_before": round(q, 4)}
    if (recovery_last or recovery) < death:
        why = [reason("factor.date_before", recovered=recovery.isoformat(), died=death.isoformat())]
        return _binary("date", True, ("before", "after"), s.date_error, q, why, values, s)
    why = [reason("factor.date_after", died=death.year, recovered=recovery.year)]
    return _binary("date", False, ("before", "after"), s.date_error, q, why, values, s)


def unit_area_factor(
    cemetery_province: str | None,
    unit: str | None,
    unit_deaths_there: int,
    unit_deaths: int,
    pool_share: float | None,
    s: EvidenceSettings,
) -> Factor:
    """Is the cemetery's province where the martyr's unit fought? P1 = the unit's share of deaths in
    that province (smoothed), P2 = the whole pool's share."""
    if not cemetery_province or not unit or pool_share is None or unit_deaths == 0:
        return Factor("unit_area", 1.0, [reason("factor.unit_area_unknown")])
    q = _share(pool_share, s)
    p1 = (unit_deaths_there + s.unit_area_pseudocount * q) / (unit_deaths + s.unit_area_pseudocount)
    p1 = _share(p1, s)
    return Factor(
        "unit_area",
        p1 / q,
        [
            reason(
                "factor.unit_area",
                there=unit_deaths_there,
                total=unit_deaths,
                unit=unit,
                province=cemetery_province,
            )
        ],
        {"unit_share": round(p1, 4), "pool_share": round(q, 4)},
    )


_QUOTED = re.compile(r"[\"“”'‘’«»]([^\"“”'‘’«»]{1,60})[\"“”'‘’«»]")
_ENGRAVED = re.compile(
    r"\b(?:khắc|khac|ghi|tên|ten|chữ|chu)\s*(?:chữ|chu|tên|ten)?\s*:?\s*([^,;()]{1,40})", re.IGNORECASE
)


def inscriptions(artefacts: str | None) -> list[str]:
    """Text read on the artefacts: quoted words, or what follows `khắc` / `ghi` / `tên`."""
    if not artefacts:
        return []
    text = normalise_text(str(artefacts))
    found = [m.strip() for m in _QUOTED.findall(text)]
    if not found:
        found = [m.strip() for m in _ENGRAVED.findall(text)]
    return [f for f in found if f]


def _name_parts(name: str) -> list[str]:
    return [w for w in normalise_text(name).split() if w]


def artefact_name_factor(
    inscription_texts: list[str],
    martyr_names: list[str],
    given_share: float | None,
    full_share: float | None,
    s: EvidenceSettings,
    alias_share: float | None = None,
) -> Factor:
    """Does an inscription name the martyr? `martyr_names`: full name first, then aliases.
    given_share / full_share: pool share of the martyr's given name / full name (variant keys);
    alias_share: the largest pool share of his aliases' last words as given names (a nom de
    guerre `Ba Quý` is as common as soldiers called Quý, not as rare as his full name)."""
    if not inscription_texts:
        return Factor("artefact", 1.0, [reason("factor.artefact_unread")])
    names = [n for n in martyr_names if n]
    if not names:
        return Factor("artefact", 1.0, [reason("factor.artefact_no_martyr_name")])
    cell = ("artefact", "names")
    full = [t for t in inscription_texts if len(_name_parts(t)) >= 2]
    best_full = max((name_similarity(t, names[0]) for t in full), default=0.0)
    if best_full >= s.name_match_min_similarity and full_share is not None:
        q = _share(full_share, s)
        return Factor(
            "artefact",
            s.inscription_names_owner / q,
            [reason("factor.artefact_full_name", inscription=full[0])],
            {"similarity": round(best_full, 3), "pool_share": round(q, 5)},
            cell,
            q,
        )
    given = {key_variant(_name_parts(n)[-1]) for n in names[:1] if _name_parts(n)}
    aliases = {key_variant(n) for n in names[1:]} | {key_variant(_name_parts(n)[-1]) for n in names[1:]}
    for t in inscription_texts:
        words = _name_parts(t)
        if not words:
            continue
        initials_fit = len(words) == 1 or any(initials_compatible(t, n) for n in names)
        by_alias = key_variant(t) in aliases or (len(words) == 1 and key_variant(words[-1]) in aliases)
        if by_alias or (key_variant(words[-1]) in given and initials_fit):
            share = alias_share if by_alias and alias_share is not None else given_share
            q = _share(share if share is not None else 1.0, s)
            return Factor(
                "artefact",
                s.inscription_names_owner / q,
                [reason("factor.artefact_" + ("alias" if by_alias else "given_name"), inscription=t)],
                {"pool_share": round(q, 5)},
                cell,
                q,
            )
    # A name that is not his: the artefact may have been a comrade's, so this weighs, not excludes.
    q = _share(1 - (given_share or 0.0), s)
    return Factor(
        "artefact",
        (1 - s.inscription_names_owner) / q,
        [reason("factor.artefact_other_name", inscription=inscription_texts[0])],
        {"similarity": round(best_full, 3)},
        ("artefact", "other"),
        q,
    )


def hometown_factor(
    artefacts: str | None, hometown_commune: str | None, hometown_district: str | None,
    pool_share: float | None, s: EvidenceSettings,
) -> Factor:  # fmt: skip
    """Does the artefact text name the martyr's home commune or district?
    pool_share = share of missing martyrs from that commune (or district)."""
    if not artefacts or not (hometown_commune or hometown_district) or pool_share is None:
        return Factor("hometown", 1.0, [reason("factor.hometown_unknown")])
    text = key_variant(str(artefacts))
    for unit in (hometown_commune, hometown_district):
        if unit and len(key_variant(unit)) >= 4 and f" {key_variant(unit)} " in f" {text} ":
            q = _share(pool_share, s)
            return Factor(
                "hometown",
                s.hometown_named_given_match / q,
                [reason("factor.hometown_named", unit=unit)],
                {"pool_share": round(q, 4)},
            )
    return Factor("hometown", 1.0, [reason("factor.hometown_not_named")])


OUTSIDE = "outside"


@dataclass(frozen=True)
class PriorModel:
    """Who the remains could be. `masses`: the prior share of the register's remains belonging to
    each group of missing martyrs (grave status × where he fell: this province, Cambodia, another
    province, a front), and to nobody in the pool (`outside`: martyrs of other provinces,
    civilians); within a group every martyr is equally likely (`sizes`: martyrs per group). So a
    martyr's prior is one over the number of missing martyrs of his group, times the group's share.
    """

    masses: dict[str, float]
    sizes: dict[str, float]

    @property
    def p_outside(self) -> float:
        return self.masses.get(OUTSIDE, 0.0)

    def prior(self, group: str) -> float:
        return self.masses.get(group, 0.0) / max(self.sizes.get(group, 0.0), 1e-9)


def stated_prior(sizes: dict[str, float], weights: dict[str, float], p_outside: float) -> PriorModel:
    """p_outside for nobody in the pool, the rest over the groups by size × stated weight."""
    total = sum(sizes[g] * weights.get(g, 1.0) for g in sizes) or 1.0
    masses = {g: (1 - p_outside) * sizes[g] * weights.get(g, 1.0) / total for g in sizes}
    return PriorModel({**masses, OUTSIDE: p_outside}, sizes)


def posteriors(
    prior_lrs: dict[str, float], p_outside: float, unscored_mass: float
) -> tuple[dict[str, float], float]:
    """(P(remains = martyr | evidence) per scored candidate, P(nobody in the pool | evidence)).

    prior_lrs: each candidate's prior times his combined LR; unscored_mass: the same sum over pool
    martyrs that could not be scored but not excluded either (no reference profile on their
    maternal line); pool martyrs excluded by DNA contribute nothing. The "nobody in the pool"
    hypothesis has prior p_outside and LR 1.
    """
    denominator = p_outside + sum(prior_lrs.values()) + unscored_mass
    return {m: v / denominator for m, v in prior_lrs.items()}, p_outside / denominator


@dataclass(frozen=True)
class Candidate:
    """One scored (remains, martyr) pair for `estimate`: the martyr's prior `group`, `fixed` = the
    LRs that are not re-estimated (DNA, artefact, hometown, unit area), `cells` = (cell, den) of
    the rest."""

    group: str
    fixed: float
    cells: tuple[tuple[tuple[str, str], float], ...]


@dataclass(frozen=True)
class RemainsTerms:
    """A profiled remains' hypotheses: its DNA candidates, and the missing martyrs with no reference
    on their line (`unscored`: (group, place cell) → Σ 1/den; `unscored_flat`: group → how many
    of them have a place that cannot be compared, LR 1)."""

    candidates: tuple[Candidate, ...]
    unscored: dict[tuple[str, tuple[str, str]], float]
    unscored_flat: dict[str, float]


def _lr(tables: dict[str, dict[str, float]], cells: tuple[tuple[tuple[str, str], float], ...]) -> float:
    return math.prod(tables[t][o] / den for (t, o), den in cells)


def estimate(
    terms: list[RemainsTerms],
    tables0: dict[str, dict[str, float]],
    prior0: PriorModel,
    strength: float,
    iterations: int = 200,
    tolerance: float = 1e-5,
    known: list[tuple[tuple[tuple[str, str], float], ...]] | None = None,
) -> tuple[dict[str, dict[str, float]], PriorModel, int]:
    """(numerator tables, prior, iterations) re-estimated on the province's own remains by EM.

    The mixture of Fellegi–Sunter record linkage: each remains is one missing martyr or nobody in
    the pool; the E-step gives each hypothesis its posterior under the current numerators and group
    shares, the M-step sets each table to the posterior-weighted share of each outcome and each
    group's share (and `outside`) to its mean posterior. The stated assumptions enter as Dirichlet
    priors worth `strength` remains per table and for the group shares, so what few pairs show
    stays near what was assumed. The denominators stay measured; the ground truth is never used.
    `known`: the outcome cells of pairs the identification council confirmed; each counts with
    weight 1 in its tables at every step (its truth is known, not inferred). Confirmed remains
    have left the pool, so they do not enter the group shares.
    """
    tables = {t: dict(v) for t, v in tables0.items()}
    masses = dict(prior0.masses)
    sizes = prior0.sizes
    it = 0
    while it < iterations:
        it += 1
        counts = {t: dict.fromkeys(v, 0.0) for t, v in tables.items()}
        for cells in known or []:
            for (t, o), _ in cells:
                counts[t][o] += 1.0
        shares = dict.fromkeys(masses, 0.0)
        prior = {g: masses[g] / max(sizes.get(g, 0.0), 1e-9) for g in masses if g != OUTSIDE}
        for r in terms:
            lrs = [prior[c.group] * c.fixed * _lr(tables, c.cells) for c in r.candidates]
            unscored = {gc: prior[gc[0]] * tables[gc[1][0]][gc[1][1]] * v for gc, v in r.unscored.items()}
            flat = {g: prior[g] * v for g, v in r.unscored_flat.items()}
            denominator = masses[OUTSIDE] + sum(lrs) + sum(unscored.values()) + sum(flat.values())
            for c, lr in zip(r.candidates, lrs, strict=True):
                shares[c.group] += lr / denominator
                for (t, o), _ in c.cells:
                    counts[t][o] += lr / denominator
            for (g, (t, o)), v in unscored.items():
                shares[g] += v / denominator
                counts[t][o] += v / denominator
            for g, v in flat.items():
                shares[g] += v / denominator
            shares[OUTSIDE] += masses[OUTSIDE] / denominator
        new = {
            t: {o: (strength * tables0[t][o] + n) / (strength + sum(c.values())) for o, n in c.items()}
            for t, c in counts.items()
        }
        new_masses = {
            g: (strength * prior0.masses[g] + n) / (strength + len(terms)) for g, n in shares.items()
        }
        change = max(
            [
                *(abs(new_masses[g] - masses[g]) for g in masses),
                *(abs(new[t][o] - tables[t][o]) for t in new for o in new[t]),
            ]
        )
        tables, masses = new, new_masses
        if change < tolerance:
            break
    return tables, PriorModel(masses, sizes), it
