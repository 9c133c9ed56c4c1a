"""The weight of each piece of evidence that a remains is a given martyr, as a likelihood ratio.

Every factor is LR = P(observation | the remains are this martyr) / P(observation | they are someone
else), "someone else" being a martyr drawn from the pool of martyrs still missing. The numerator
is a stated assumption (a field of `EvidenceSettings`, documented in docs/matching.md); the
denominator is measured on the pool itself (how many missing martyrs share that sex, age band,
death district, given name …), which the caller passes in. Factors that cannot be evaluated
(a blank estimate, a place that could not be parsed) have LR 1 and say why.

This module holds what every factor shares: `Factor`, the numerators (`EvidenceSettings`, the
tables the province's data re-estimates) and the floor on measured shares. Each factor sits next to
the denominators it uses: the DNA factor in `dna` (database counts), the factors measured on the
register's remains in `register` (sex, age, place, distance, date), those measured on the pool of
missing martyrs in `pool` (artefact names, hometown, unit area).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lietsi.reasons import text as reason_text


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
    # The best estimate only (`scoring.point_lr`): a haplotype x ≥ 1 other lines carry at its
    # maximum-likelihood frequency x/n rather than the `confidence` bound (docs/matching.md §9).
    counted_mle: bool = False
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
    # Where a unit lost its men, counted by military region rather than by province: the national
    # run's setting, where a unit's dead are recorded by every province its men came from.
    unit_area_by_region: bool = False
    # Artefact inscription: P(it names the martyr | true martyr, an inscription was read).
    inscription_names_owner: float = 0.8
    name_match_min_similarity: float = 0.91
    # Hometown named on an artefact.
    hometown_named_given_match: float = 0.8
    # Floor on any measured pool share, so one odd record cannot make an LR explode.
    min_share: float = 1e-3


def numerator_tables(s: EvidenceSettings, front_share: float | None = None) -> dict[str, dict[str, float]]:
    """The numerators the province's data can re-estimate, as tables of P(outcome | true martyr).
    `front_share`: the register's share of recovery places written as a front, which replaces the
    stated `death:0` table (a place compared as text: same text / different) when given."""
    tables = {
        "sex": {"agree": 1 - s.sex_error, "disagree": s.sex_error},
        "age": dict(s.age_given_match),
        "date": {"before": s.date_error, "after": 1 - s.date_error},
        "artefact": {"names": s.inscription_names_owner, "other": 1 - s.inscription_names_owner},
        "distance": {str(i): p for i, p in enumerate(s.distance_band_given_match)},
    }
    for key, outcomes in s.place_given_match:
        tables[f"place:{key}"] = dict(outcomes)
    if front_share is not None:
        same = min(max(front_share, s.min_share), 1 - s.min_share)
        tables["place:death:0"] = {"same_text": same, "different": 1 - same}
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


def floored_share(value: float, s: EvidenceSettings) -> float:
    return min(1.0, max(value, s.min_share))
