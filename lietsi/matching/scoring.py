"""Evidence per pair: every factor of each DNA candidate pair, the prior and the posterior.

`score_candidates` builds the register and the factors of each (remains, martyr) pair, re-estimates
the numerators and the prior on the province's remains (`mixture.estimate`) and gives each pair
its posterior over the pool, with the "nobody in the pool" hypothesis.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from lietsi.formations import formation
from lietsi.geo import haversine_km
from lietsi.matching.dna import pair_dna_factor
from lietsi.matching.evidence import EvidenceSettings, Factor, numerator_tables, with_numerators
from lietsi.matching.frequency import Spectrum
from lietsi.matching.geography import CAMBODIA, military_region, place_level, place_relation
from lietsi.matching.mixture import (
    Candidate,
    CandidateColumns,
    PriorModel,
    estimate,
    one_body_terms,
    posteriors,
    stated_prior,
)
from lietsi.matching.pool import (
    Pool,
    artefact_lr,
    artefact_name_factor,
    given_name_key,
    hometown_factor,
    unit_area_factor,
)
from lietsi.matching.register import (
    Register,
    age_factor,
    build_register,
    date_factor,
    distance_band,
    distance_factor,
    place_factor,
    remains_features,
    sex_factor,
)
from lietsi.matching.sensitivity import Hypotheses, Term, Totals
from lietsi.matching.settings import MatchSettings
from lietsi.matching.structure import commune_weight, effective_lines, founder_frequencies, founder_frequency
from lietsi.names import key_variant
from lietsi.reasons import reason


def _age_at_death(birth_year: int | None, death: date | None) -> int | None:
    if birth_year is None or death is None:
        return None
    age = death.year - int(birth_year)
    return age if 10 <= age <= 80 else None


def nongenetic_factors(
    r: dict,
    m: dict,
    pool: Pool,
    reg: Register,
    s: EvidenceSettings,
    unit_baseline: dict[str, float] | None = None,
) -> list[Factor]:
    """Every non-genetic factor for remains r and martyr m (rows as dicts). `unit_baseline`: per
    cemetery province, the unit-area factor's denominator (`unit_area_baselines`); without it, the
    share of all recorded deaths there."""
    return [factor(r, m, pool, reg, s, unit_baseline) for factor, *_ in NONGENETIC]


def _sex(r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None) -> Factor:
    est_sex = r.get("est_sex")
    return sex_factor(est_sex, m.get("sex"), reg.sex_share(est_sex) if est_sex else None, s)


def _age(r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None) -> Factor:
    age = _age_at_death(m.get("birth_year"), m.get("death_date"))
    shares = reg.age_shares(age, s.age_tolerance_years) if r["age_range"] and age is not None else None
    return age_factor(r["age_range"], age, shares, s)


def _date(r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None) -> Factor:
    death = m.get("death_date")
    return date_factor(
        r["recovery"], r["recovery_last"], death, reg.before_share(death) if death else None, s
    )


def _unit_area(
    r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None
) -> Factor:
    return unit_area_evidence(r, m, pool, s, baseline)


def _artefact(
    r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None
) -> Factor:
    names = [m.get("full_name") or "", *(m.get("aliases") or [])]
    given = given_name_key(m.get("full_name"))
    full = key_variant(m.get("full_name") or "")
    return artefact_name_factor(
        r["inscriptions"],
        names,
        pool.given[given] / pool.size if given and pool.size else None,
        pool.full[full] / pool.size if full and pool.size else None,
        s,
        max(
            (pool.given[given_name_key(a)] / pool.size for a in m.get("aliases") or [] if given_name_key(a)),
            default=None,
        )
        if pool.size
        else None,
    )


def _hometown(
    r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None
) -> Factor:
    home = m.get("hometown_commune")
    return hometown_factor(
        r.get("artefacts"),
        home,
        m.get("hometown_district"),
        pool.hometown[home] / pool.size if home and pool.size else None,
        s,
    )


def unit_area_evidence(
    r: dict, m: dict, pool: Pool, s: EvidenceSettings, baseline: dict[str, float] | None
) -> Factor:
    """Where the martyr's unit lost its men, when his own record places his death in no province
    (a front): with a placed death the place factor already says it, and counting the unit too
    would count one fact twice."""
    death = pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {})
    if death.get("province"):
        return Factor(
            "unit_area",
            1.0,
            [reason("factor.unit_area_place_known")],
        )
    area = loss_area(r["cemetery_province"], s)
    unit = formation(m.get("unit"))
    unit_counts = _unit_deaths(pool, unit, s)
    return unit_area_factor(
        area,
        unit,
        unit_counts[area] if area else 0,
        sum(unit_counts.values()),
        baseline.get(area) if baseline is not None else _death_share(pool, area, s),
        s,
    )


def loss_area(province: str | None, s: EvidenceSettings) -> str | None:
    """Where a unit's losses are counted: the province, or its military region in a national run."""
    return military_region(province) if s.unit_area_by_region else province


def _unit_deaths(pool: Pool, unit: str | None, s: EvidenceSettings) -> Counter:
    table = pool.unit_regions if s.unit_area_by_region else pool.unit_provinces
    return table.get(formation(unit) or "", Counter())


def _death_share(pool: Pool, area: str | None, s: EvidenceSettings) -> float | None:
    deaths = pool.death_regions if s.unit_area_by_region else pool.death_province_all
    all_deaths = sum(deaths.values())
    return deaths[area] / all_deaths if area and all_deaths else None


def unit_area_baselines(
    missing: list[dict], pool: Pool, provinces: set[str], s: EvidenceSettings
) -> dict[str, float]:
    """Per cemetery area (`loss_area`: its province, or its military region), the unit-area factor's
    denominator: the mean, over the missing martyrs the factor weighs (no province on record, a unit
    with recorded deaths), of their unit's share of deaths there (the numerator is smoothed towards
    it). The factor then averages 1 over those martyrs: it ranks them against each other, and how
    many of their remains lie in the register is their prior group's share, estimated on the remains
    (`mixture.estimate`). Against the share of all recorded deaths — mostly men whose death the
    records place in this province — every front-placed martyr's pair was weighed down (true pairs
    at LR 0.68–0.77 on average; docs/matching.md §9)."""
    # Martyrs of one unit share its shares: count them per unit, then average per area.
    weighed: Counter = Counter()
    for m in missing:
        death = pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {})
        if not death.get("province") and m.get("unit") and _unit_deaths(pool, m["unit"], s):
            weighed[m["unit"]] += 1
    men = sum(weighed.values())
    out: dict[str, float] = {}
    for area in {loss_area(p, s) for p in provinces} - {None}:
        share = _death_share(pool, area, s)
        if share is None:
            continue
        if not men:
            out[area] = share
            continue
        total = 0.0
        for unit, n in weighed.items():
            counts = _unit_deaths(pool, unit, s)
            total += n * counts[area] / sum(counts.values())
        out[area] = total / men
    return out


def _place_or_distance(
    r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings, baseline: dict | None = None
) -> Factor:
    """The recovery place against the recorded place of death. The texts and their admin units come
    first; the distance from the recovery coordinates only when the register gives no recovery place
    text (one factor, not both: they measure the same thing)."""
    inputs = _place_inputs(r, m, pool)
    if inputs[0] == "distance":
        _, lat, lon, centroid = inputs
        km = haversine_km(float(lat), float(lon), *centroid)
        return distance_factor(km, reg.band_shares(centroid, s)[distance_band(km, s)], s)
    _, relation, death_key, source = inputs
    against = m.get("death_place") if source == "death" else m.get("unit")
    return _related(relation, death_key, pool, reg, s, source, f"{r.get('recovery_place')} / {against}")


def _place_inputs(r: dict, m: dict, pool: Pool) -> tuple:
    return _place_key(_place_remains(r), _place_martyr(m, pool), pool)


def _place_remains(r: dict) -> tuple:
    """What the place factor reads of the remains: its place (key and admin units), and its
    coordinates when it has no place text."""
    place = (r["place_key"], tuple((r["place"] or {}).items()))
    return place if r["place_key"] else (*place, r.get("lat"), r.get("lon"))


def _place_martyr(m: dict, pool: Pool) -> tuple:
    mid = m["martyr_id"]
    return (
        pool.centroids.get(mid),
        pool.martyr_place_key.get(mid, ""),
        pool.martyr_place_source.get(mid, "death"),
    )


def _place_key(remains: tuple, martyr: tuple, pool: Pool) -> tuple:
    """What the place (or distance) factor's numbers read: the recovery coordinates and the
    centroid of the martyr's place when the remains have no place text, else how the recovery
    place relates to the martyr's (`place_relation`), his place's key and its source (the place of
    death or his local unit's area); the texts enter the reasons only."""
    place_key, place, *coordinates = remains
    centroid, death_key, source = martyr
    if coordinates and None not in coordinates and centroid is not None:
        return "distance", *coordinates, centroid
    relation = place_relation(place_key, dict(place), death_key, pool.key_places.get(death_key, {}))
    return "place", relation, death_key, source


def _related(
    relation: tuple[int, str] | None,
    death_key: str,
    pool: Pool,
    reg: Register,
    s: EvidenceSettings,
    source: str,
    detail: str,
) -> Factor:
    """The place factor of a recovery place that stands in `relation` to the martyr's place."""
    share = (
        reg.place_shares(death_key, pool.key_places.get(death_key, {})).get(relation) if relation else None
    )
    return place_factor(relation, share, s, detail=detail, source=source)


def _date_key(recovery: tuple, death: date | None, pool: Pool) -> tuple:
    """What the date factor's numbers read: the martyr's date of death and whether the remains were
    recovered before it (None when either date is unknown)."""
    first, last = recovery
    return death, None if first is None or death is None else (last or first) < death


def _unit_key(cemetery_province: str | None, martyr: tuple, pool: Pool) -> tuple:
    """What the unit-area factor reads: whether the martyr's place names a province (then nothing
    else: `unit_area_evidence` leaves it to the place factor), else the cemetery's province and
    his unit."""
    placed, unit = martyr
    return (True,) if placed else (False, cemetery_province, unit)


def _placed(m: dict, pool: Pool) -> bool:
    return bool(pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {}).get("province"))


def _both(remains: object, martyr: object, pool: Pool) -> tuple:
    return remains, martyr


def _read_remains(remains: object, martyr: object, pool: Pool) -> tuple:
    """What a factor of the remains' text reads (the artefact's inscriptions, its text against the
    home commune): nothing of the martyr when the remains have none — the factor is then 1 for
    every martyr (`artefact_unread`, `hometown_unknown`), so their pairs share one key instead of
    one per martyr's name or commune (most of the pairs of a country)."""
    return (remains, martyr) if remains else ()


# Each non-genetic factor, in the order of `nongenetic_factors`, with what its numbers read: of the
# remains, of the martyr (and the pool's rows of him), and the key made of the two. `FactorNumbers`
# computes a factor once per distinct key, so the key must hold every input of the factor's LR, cell
# and den, and read the pair only through the two sides: an input left out and two pairs that
# differ only there would silently share an LR.
NONGENETIC: tuple[
    tuple[
        Callable[..., Factor],
        Callable[[dict], object],
        Callable[[dict, Pool], object],
        Callable[[Any, Any, Pool], object],
    ],
    ...,
] = (
    (_sex, lambda r: r.get("est_sex"), lambda m, pool: m.get("sex"), _both),
    (
        _age,
        lambda r: r["age_range"],
        lambda m, pool: _age_at_death(m.get("birth_year"), m.get("death_date")),
        _both,
    ),
    (_place_or_distance, _place_remains, _place_martyr, _place_key),
    (_date, lambda r: (r["recovery"], r["recovery_last"]), lambda m, pool: m.get("death_date"), _date_key),
    (
        _unit_area,
        lambda r: r["cemetery_province"],
        lambda m, pool: (_placed(m, pool), m.get("unit")),
        _unit_key,
    ),
    (
        _artefact,
        lambda r: tuple(r["inscriptions"]),
        lambda m, pool: (m.get("full_name"), tuple(m.get("aliases") or ())),
        _read_remains,
    ),
    (
        _hometown,
        lambda r: r.get("artefacts"),
        lambda m, pool: (m.get("hometown_commune"), m.get("hometown_district")),
        _read_remains,
    ),
)

Numbers = tuple[str, float, "tuple[str, str] | None", float]  # a factor's name, LR, cell and den


def _same(n: Numbers, s: EvidenceSettings) -> Numbers:
    return n


def _artefact_again(n: Numbers, s: EvidenceSettings) -> Numbers:
    name, _, cell, den = n
    return n if cell is None else (name, artefact_lr(cell, den, s), cell, den)


# The factors of `NONGENETIC` whose numbers under other numerators (`with_numerators`) and the best
# estimate's settings (`point_settings`) follow from their numbers under one (`PairFactors.settled`),
# and how: the unit area and the hometown read neither; the artefact's name matching reads neither,
# and its LR is its outcome's numerator over its den (`pool.artefact_lr`).
SETTLED: dict[Callable[..., Factor], Callable[[Numbers, EvidenceSettings], Numbers]] = {
    _unit_area: _same,
    _hometown: _same,
    _artefact: _artefact_again,
}


def _classes(values: list) -> tuple[np.ndarray, list]:
    """Each value's class (equal values, one class) and each class's value."""
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))
    return codes, list(index)


class FactorNumbers:
    """`nongenetic_factors`' numbers (name, LR, cell, den) of many pairs (`pair_remains`,
    `pair_martyr`: indices into `remains` and `martyrs`), each factor computed once per distinct
    key (`NONGENETIC`), not once per pair — a country's pairs share few sexes, ages, place
    relations, dates of death, units and names. The keys are found once for every set of settings:
    each side of a key is read once per remains and once per martyr, and the key once per distinct
    (remains side, martyr side). Only the numbers are kept: a factor's reasons quote the pair's own
    texts and dates, so a pair whose factors are written computes them with `nongenetic_factors`."""

    def __init__(
        self,
        pool: Pool,
        remains: list[dict],
        martyrs: list[dict],
        pair_remains: np.ndarray,
        pair_martyr: np.ndarray,
    ) -> None:
        self.pool, self.remains, self.martyrs = pool, remains, martyrs
        self.pair_remains, self.pair_martyr = pair_remains, pair_martyr
        self.codes: list[np.ndarray] = []  # per factor, each pair's key (an index into `reps`)
        # Per factor and key: a pair of it, as an array (a factor of names or places has nearly a
        # key per pair, and as Python pairs of numbers they took ≈ 50 bytes a pair).
        self.reps: list[np.ndarray] = []
        used = np.unique(pair_martyr)
        for _, remains_side, martyr_side, key in NONGENETIC:
            r_class, r_values = _classes([remains_side(r) for r in remains])
            used_class, m_values = _classes([martyr_side(martyrs[i], pool) for i in used.tolist()])
            m_class = np.zeros(len(martyrs), dtype=np.int64)
            m_class[used] = used_class
            fine = r_class[pair_remains] * max(len(m_values), 1) + m_class[pair_martyr]
            distinct, first, inverse = np.unique(fine, return_index=True, return_inverse=True)
            keys: dict = {}
            reps: list[int] = []
            coarse = np.empty(len(distinct), dtype=np.int32)
            for j, (value, pair) in enumerate(zip(distinct.tolist(), first.tolist(), strict=True)):
                k = key(
                    r_values[value // max(len(m_values), 1)], m_values[value % max(len(m_values), 1)], pool
                )
                if k not in keys:
                    keys[k] = len(reps)
                    reps.append(pair)
                coarse[j] = keys[k]
            self.codes.append(coarse[inverse.reshape(-1)])
            self.reps.append(np.array(reps, dtype=np.int64))

    def of(
        self,
        reg: Register,
        s: EvidenceSettings,
        unit_baseline: dict[str, float] | None,
        settled: list[Settled | None] | None = None,
    ) -> PairFactors:
        """Every pair's numbers under one set of settings. `settled`: an earlier call's
        `PairFactors.settled`, with the same `reg` and `unit_baseline` and settings that differ from
        `s` only in the numerators or the DNA's estimation: its factors are not computed again, only
        weighed again (`SETTLED`)."""
        args = (self.pool, reg, s, unit_baseline)
        numbers = []
        for k, ((factor, *_), reps) in enumerate(zip(NONGENETIC, self.reps, strict=True)):
            kept = settled[k] if settled is not None else None
            if kept is not None:
                numbers.append([SETTLED[factor](n, s) for n in kept.numbers()])
                continue
            pairs = zip(self.pair_remains[reps].tolist(), self.pair_martyr[reps].tolist(), strict=True)
            fs = (factor(self.remains[i], self.martyrs[j], *args) for i, j in pairs)
            numbers.append([(f.name, f.lr, f.cell, f.den) for f in fs])
        return PairFactors(self.codes, numbers)


@dataclass(frozen=True)
class PairFactors:
    """The pairs' non-genetic numbers as columns (`FactorNumbers.of`): per factor, each pair's key
    and each key's numbers."""

    codes: list[np.ndarray]
    numbers: list[list[Numbers]]

    def pair(self, i: int) -> list[Numbers]:
        return [numbers[codes[i]] for codes, numbers in zip(self.codes, self.numbers, strict=True)]

    def settled(self) -> list[Settled | None]:
        """Per factor of `NONGENETIC`, its keys' numbers when it is `SETTLED`, else None: what
        `FactorNumbers.of` weighs again under the estimated numerators."""
        return [
            Settled.of(numbers) if factor in SETTLED else None
            for (factor, *_), numbers in zip(NONGENETIC, self.numbers, strict=True)
        ]

    def product(self, which: Callable[[Numbers], bool] = lambda n: True) -> np.ndarray:
        """Per pair, the product of the LRs of its factors `which` selects, multiplied in the order
        of the factors from 1, as `math.prod` does (the same float)."""
        out = np.ones(len(self.codes[0]) if self.codes else 0)
        for codes, numbers in zip(self.codes, self.numbers, strict=True):
            lr = np.array([n[1] for n in numbers], dtype=np.float64)[codes]
            taken = np.array([which(n) for n in numbers], dtype=bool)[codes]
            out = np.where(taken, out * lr, out)
        return out

    def cells(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]], np.ndarray]:
        """Per pair, the cells of its factors that have one, in the factors' order from the left
        (indices into the list returned, -1 beyond), and their denominators as codes into the
        array returned (a den of 1 beyond): a country's pairs share a few thousand dens, and as
        floats they were the EM's largest column."""
        keys: dict[tuple[str, str], int] = {}
        den_values = [1.0]
        n = len(self.codes[0]) if self.codes else 0
        per_factor = []
        filled = np.zeros(n, dtype=np.int64)  # per pair, its cells (then: its cells so far)
        for codes, numbers in zip(self.codes, self.numbers, strict=True):
            cell = np.array([-1 if c is None else keys.setdefault(c, len(keys)) for _, _, c, _ in numbers])
            per_factor.append((cell, np.arange(len(den_values), len(den_values) + len(numbers))))
            den_values.extend(d for *_, d in numbers)
            filled += cell.astype(np.int64)[codes] >= 0
        # As wide as the most cells of a pair, not one column per factor: a country's pairs are
        # tens of millions of rows.
        width = int(filled.max(initial=0))
        cells = np.full((n, width), -1, dtype=np.int32)
        dens = np.zeros((n, width), dtype=np.int32)
        filled[:] = 0
        for codes, (cell, den) in zip(self.codes, per_factor, strict=True):
            has = np.nonzero(cell.astype(np.int64)[codes] >= 0)[0]
            cells[has, filled[has]] = cell[codes[has]]
            dens[has, filled[has]] = den[codes[has]]
            filled[has] += 1
        return cells, dens, list(keys), np.array(den_values, dtype=np.float64)


@dataclass(frozen=True)
class Settled:
    """One factor's numbers per key as arrays, not a tuple per key: held through the estimate, whose
    memory is a country's peak. `cell`: an index into `cells`, -1 for none."""

    name: str
    lr: np.ndarray
    cell: np.ndarray
    cells: list[tuple[str, str]]
    den: np.ndarray

    @classmethod
    def of(cls, numbers: list[Numbers]) -> Settled:
        cells: dict[tuple[str, str], int] = {}
        return cls(
            numbers[0][0] if numbers else "",
            np.array([n[1] for n in numbers], dtype=np.float64),
            np.array(
                [-1 if n[2] is None else cells.setdefault(n[2], len(cells)) for n in numbers], dtype=np.int8
            ),
            list(cells),
            np.array([n[3] for n in numbers], dtype=np.float64),
        )

    def numbers(self) -> list[Numbers]:
        cells = [*self.cells, None]  # -1: none
        return [
            (self.name, lr, cells[c], den)
            for lr, c, den in zip(self.lr.tolist(), self.cell.tolist(), self.den.tolist(), strict=True)
        ]


def front_share(reg: Register) -> float | None:
    """The register's share of remains whose recovery place names no admin unit (a front, a text
    that does not parse), among those with a recovery place: the stated P(same text | true pair)
    of a place compared as text (`EvidenceSettings.place_given_match`, `death:0`). A martyr whose
    record names only a front has his remains' recovery place written as that front at most as
    often as any remains' is written as a front; the former stated 0.5 weighed every such pair
    down to LR ≈ 0.6 when the texts differ, as they almost always do (docs/matching.md §9)."""
    total = sum(reg.places.values())
    if not total:
        return None
    return sum(n for key, n in reg.places.items() if place_level(reg.key_places[key]) == 0) / total


def point_settings(s: EvidenceSettings, settings: MatchSettings) -> EvidenceSettings:
    """The evidence settings of the best-estimate DNA LR (`point_lr`): the run's estimation
    confidence, theta and counted-haplotype estimator. One place, so the pairs scored and the
    national run's summed pairs (`lietsi.national.listing`) weigh the DNA alike."""
    return replace(
        s,
        confidence=settings.estimation_confidence,
        theta=settings.estimation_theta,
        counted_mle=settings.estimation_counted_mle,
    )


def point_lr(rec: dict, s: EvidenceSettings, spectra: dict[str, Spectrum] | None) -> float:
    """The pair's DNA LR at the best estimate (`s`: the estimate's confidence and θ). A
    `cannot_exclude` pair whose haplotype one line of the database carries (its own; x = 0) takes
    Turing's singleton frequency (`frequency.Spectrum`) when the range's spectrum gives one and no
    independent database is configured (its own counts then speak); one that x ≥ 1 other lines
    carry takes x/n when `s.counted_mle` (the median-unbiased bound, about (x + 0.67)/n, over-stated
    how often the remains of someone else match: docs/matching.md §9); otherwise the pair's factor
    at the estimate's confidence."""
    factor = pair_dna_factor(rec, s)
    if rec["verdict"] != "cannot_exclude" or rec.get("n_independent"):
        return factor.lr
    if s.counted_mle and rec["x"] >= 1 and rec["n"]:
        return 1.0 / (s.theta + (1 - s.theta) * rec["x"] / rec["n"])
    spectrum = (spectra or {}).get(rec["compared_range"])
    if spectrum is None:
        return factor.lr
    # Lines of the database carrying the haplotype: the x others, and its own when held.
    if rec["x"] + bool(rec.get("own_line_removed")) != 1:
        return factor.lr
    p = spectrum.singleton_frequency()
    return factor.lr if p is None else 1.0 / (s.theta + (1 - s.theta) * p)


def _commune(m: dict) -> str | None:
    commune = m.get("hometown_commune")
    return f"{m.get('hometown_district') or ''} / {commune}" if commune else None


def _commune_weights(
    pairs_of: list[tuple[str, bool, float]],
    commune_of: dict[str, str | None],
    sampled_in: Counter,
    theta: float,
) -> dict[str, float]:
    """commune → w_C for one remains: its `cannot_exclude` candidates per home commune, over the
    commune's sampled martyrs, against the haplotype's best-estimate frequency (the lowest of its
    pairs', so the weight is the larger). `pairs_of`: (martyr, `cannot_exclude`, best-estimate LR)."""
    matched: dict[str, set[str]] = {}
    frequency = 1.0
    for mid, cannot_exclude, best in pairs_of:
        if not cannot_exclude:
            continue
        frequency = min(frequency, 1.0 / best)
        commune = commune_of.get(mid)
        if commune:
            matched.setdefault(commune, set()).add(mid)
    return {
        c: commune_weight(theta, len(ms), sampled_in[c], frequency)
        for c, ms in matched.items()
        if sampled_in.get(c)
    }


# The most commune terms kept for remains recovered at one place (`score_candidates`); beyond, the
# least recently read are dropped and computed again when read: a bound on their memory whatever
# the country's places × communes.
_COMMUNE_TERMS = 300_000

# A remains' distinct keys from which `_founder_weights` weighs them at once (`founder_frequencies`)
# rather than one by one: below it numpy's cost per call is more than the sums.
_VECTORISED = 256

# The most founder frequencies `_founder_weights` keeps, by what they read, for the remains after
# it: remains of one haplotype share their candidates' communes (at 10% with θ forced, 472,301 keys
# were 7,463 frequencies); a bound on their memory whatever the country.
_FOUNDER_KEYS = 200_000


def _founder_weights(
    pairs: _ScoredPairs,
    commune_of: dict[str, str | None],
    theta: float,
    lines: float,
    s: EvidenceSettings,
    spectra: dict[str, Spectrum] | None,
) -> None:
    """Each remains' best-estimate DNA LRs with the haplotype's frequency read as the founders'
    count (`structure.founder_frequency`): its `cannot_exclude` candidates' lines per home commune
    say which carriers share a commune; the pair's x others beyond them are of no known commune. A
    pair whose haplotype no line outside its martyr's commune carries takes the singleton's
    frequency (`point_lr`). Pairs x = 0 carry, or with an independent database, keep their LR.
    The frequency is computed once per distinct key of a remains' pairs (home commune, the other
    communes that hold the pair's own line, own carriers, x, n), not per pair: a remains at 100%
    has up to 1,281 candidates over as many communes, and per pair that was 924 s."""
    frame = pairs.frame
    index: dict[str, int] = {}
    homes = [commune_of.get(m) for m in pairs.martyr_ids]
    home_of = np.array([-1 if c is None else index.setdefault(c, len(index)) for c in homes], dtype=np.int64)[
        pairs.martyr
    ]
    line_of = frame["line_id"].cast(pl.Categorical).to_physical().cast(pl.Int64).fill_null(-1).to_numpy()
    x_of, n_of = (frame[c].fill_null(0).to_numpy() for c in ("x", "n"))
    independent = (
        frame["n_independent"].fill_null(0).to_numpy() != 0
        if "n_independent" in frame.columns
        else np.zeros(frame.height, dtype=bool)
    )
    weighed = pairs.cannot_exclude & ~independent & (x_of >= 1) & (n_of != 0)
    rows: list[int] = []
    frequencies: list[float | None] = []
    known: dict[tuple, float | None] = {}
    for start, end in pairs.slices.values():
        carriers = np.nonzero(pairs.cannot_exclude[start:end])[0] + start
        wanted = carriers[weighed[carriers]]
        if not len(wanted):
            continue
        by_commune: dict[int, set[int]] = {}
        for c, line in zip(home_of[carriers].tolist(), line_of[carriers].tolist(), strict=True):
            by_commune.setdefault(c, set()).add(line)
        placed = [(c, ls) for c, ls in by_commune.items() if c >= 0]
        column = {c: k for k, (c, _) in enumerate(placed)}
        sizes = [len(ls) for _, ls in placed]
        # The communes whose lines hold a line: its own commune's, and rarely another's.
        holders: dict[int, list[int]] = {}
        for c, ls in placed:
            for line in ls:
                holders.setdefault(line, []).append(c)
        keys: dict[tuple, int] = {}
        of_key = []
        for i, home, line, x, n in zip(
            wanted.tolist(),
            home_of[wanted].tolist(),
            line_of[wanted].tolist(),
            x_of[wanted].tolist(),
            n_of[wanted].tolist(),
            strict=True,
        ):
            elsewhere = tuple(c for c in holders.get(line, ()) if c != home)
            own = len(by_commune[home]) - (line in by_commune[home]) if home >= 0 else 0
            of_key.append(keys.setdefault((home, elsewhere, own, x, n), len(keys)))
            rows.append(i)
        found = _founder_frequencies(list(keys), sizes, column, theta, lines, known)
        frequencies.extend(found[k] for k in of_key)
    # A haplotype no line outside the martyr's commune carries: the singleton's frequency, per range.
    single = [k for k, f in enumerate(frequencies) if f is None]
    if single:
        ranges = frame["compared_range"].gather([rows[k] for k in single]).cast(pl.String).to_list()
        singleton: dict[str, float | None] = {}
        for k, compared in zip(single, ranges, strict=True):
            if compared not in singleton:
                spectrum = (spectra or {}).get(compared)
                singleton[compared] = spectrum.singleton_frequency() if spectrum is not None else None
            frequencies[k] = singleton[compared]
    for i, f in zip(rows, frequencies, strict=True):
        if f:
            pairs.best[i] = 1.0 / (s.theta + (1 - s.theta) * f)


def _founder_frequencies(
    keys: list[tuple],
    sizes: list[int],
    column: dict[int, int],
    theta: float,
    lines: float,
    known: dict[tuple, float | None],
) -> list[float | None]:
    """`founder_frequency` of each key of one remains (`_founder_weights`): `sizes`, each placed
    commune's lines among its candidates' (`column`: a commune's position). `known`: the
    frequencies of earlier remains, by what they read (the communes' lines, the home commune's and
    the others' holding the pair's line positions among them, own, unplaced, lines); the new ones
    are added to it up to `_FOUNDER_KEYS`."""
    total, shape = sum(sizes), tuple(sizes)
    reads = []
    for home, elsewhere, own, x, n in keys:
        others = total - (sizes[column[home]] if home >= 0 else 0) - len(elsewhere)
        where = (column[home] if home >= 0 else -1, tuple(column[c] for c in elsewhere))
        reads.append((shape, *where, own, max(x - own - others, 0), n * lines))
    found = {read: known[read] for read in reads if read in known}
    new = [k for k, read in enumerate(reads) if read not in found]
    if len(new) <= _VECTORISED:
        for k in new:
            home, elsewhere = keys[k][:2]
            own, unplaced, n_lines = reads[k][3:]
            others = [size - (c in elsewhere) for c, size in zip(column, sizes, strict=True) if c != home]
            found[reads[k]] = founder_frequency(theta, others, own, unplaced, n_lines)
    else:
        # Each key's row: every placed commune's lines, its home commune's left out (0 counts none)
        # and the pair's own line taken out of the others that hold it.
        communes = np.tile(np.array(sizes, dtype=np.int64), (len(new), 1))
        for row, k in enumerate(new):
            home, elsewhere = keys[k][:2]
            if home >= 0:
                communes[row, column[home]] = 0
            for c in elsewhere:
                communes[row, column[c]] -= 1
        own, unplaced, n_lines = (np.array(v) for v in zip(*(reads[k][3:] for k in new), strict=True))
        frequencies = founder_frequencies(theta, communes, own, unplaced, n_lines)
        for k, f in zip(new, frequencies.tolist(), strict=True):
            found[reads[k]] = None if np.isnan(f) else f
    for k in new:
        if len(known) >= _FOUNDER_KEYS:
            break
        known[reads[k]] = found[reads[k]]
    return [found[read] for read in reads]


def _by_group(cells: Counter) -> Counter:
    out: Counter = Counter()
    for (_, _, group), n in cells.items():
        out[group] += n
    return out


def unscored_terms(
    r: dict,
    unsampled: Counter,
    pool: Pool,
    reg: Register,
    s: EvidenceSettings,
    related: dict[tuple, Factor] | None = None,
) -> tuple[dict[tuple[str, tuple[str, str]], float], dict[str, float]]:
    """The missing martyrs with no reference profile (they cannot be excluded), by prior group and
    place cell: ((group, cell) → Σ 1/den, group → how many have a place that cannot be compared).
    Their other factors are taken at their average, 1. `related`: the place factors already
    computed under `s`, by (relation, place of death, source), what they read."""
    cells: dict[tuple[str, tuple[str, str]], float] = {}
    flat: dict[str, float] = {}
    related = {} if related is None else related
    factors: dict[tuple[str, str], Factor] = {}  # a place of death weighs the same for every group
    for (key, source, group), n in unsampled.items():
        f = factors.get((key, source))
        if f is None:
            relation = place_relation(r["place_key"], r["place"], key, pool.key_places.get(key, {}))
            f = related.get((relation, key, source))
            if f is None:
                f = related[(relation, key, source)] = _related(relation, key, pool, reg, s, source, "")
            factors[(key, source)] = f
        if f.cell is None:
            flat[group] = flat.get(group, 0.0) + n
        else:
            cells[(group, f.cell)] = cells.get((group, f.cell), 0.0) + n / f.den
    return cells, flat


def unscored_by_province(
    unsampled: Counter, pool: Pool, reg: Register, s: EvidenceSettings
) -> Callable[[dict], tuple[dict, dict]]:
    """`unscored_terms` for a country (`MatchSettings.listed_candidates`): the same sums, read as
    those of every place of death weighed as another province's (once per recovery level),
    corrected by the places of death in the remains' own province (for a place that names none, of
    its own text). A recovery place then costs its province's places of death, not the country's
    (the per-place loop was quadratic in places); only the order of the additions differs. The
    place factors are computed once per (relation, place of death, source), the correction of a
    province's places once per recovery level."""
    own: dict[str, Counter] = {}
    for cell, n in unsampled.items():
        province = pool.key_places.get(cell[0], {}).get("province")
        own.setdefault(f"province:{province}" if province else f"text:{cell[0]}", Counter())[cell] += n
    totals: dict[int, tuple[dict, dict]] = {}
    related: dict[tuple, Factor] = {}
    corrections: dict[tuple[int, str], tuple[dict, dict]] = {}

    def nowhere(level: int) -> dict:
        """A recovery place at `level` in no province of the country: every relation `elsewhere`."""
        units = {
            "province": "\0",
            "district": "\0" if level >= 2 else None,
            "commune": "\0" if level >= 3 else None,
        }
        return {"place_key": "\0", "place": units if level else {}}

    def terms(r: dict) -> tuple[dict, dict]:
        if not r["place_key"]:
            return unscored_terms(r, unsampled, pool, reg, s, related)
        level = place_level(r["place"] or {})
        if level not in totals:
            totals[level] = unscored_terms(nowhere(level), unsampled, pool, reg, s, related)
        province = (r["place"] or {}).get("province")
        where = f"province:{province}" if level else f"text:{r['place_key']}"
        mine = own.get(where, Counter())
        if (level, where) not in corrections:
            corrections[(level, where)] = unscored_terms(nowhere(level), mine, pool, reg, s, related)
        cells, flat = dict(totals[level][0]), dict(totals[level][1])
        for sign, (c, f) in ((-1, corrections[(level, where)]),
                             (1, unscored_terms(r, mine, pool, reg, s, related))):  # fmt: skip
            for k, v in c.items():
                cells[k] = cells.get(k, 0.0) + sign * v
            for k, v in f.items():
                flat[k] = flat.get(k, 0.0) + sign * v
        # Each term is n / den ≥ 1: what is below ½ is a cell the corrections emptied.
        return {k: v for k, v in cells.items() if v > 0.5}, {k: v for k, v in flat.items() if v > 0.5}

    return terms


def _expected_remains(prior: PriorModel, groups: list[str], remains: list[dict]) -> np.ndarray:
    """Per group, one martyr's expected remains among `remains` (ρ): his prior where each was
    recovered, summed (`mixture.one_body_posterior`)."""
    out = np.zeros(len(groups))
    for area, n in Counter(recovery_area(r) for r in remains).items():
        here = prior.at(area)
        out += n * np.array([here.prior(g) for g in groups])
    return out


def recovery_area(r: dict) -> str | None:
    """The district a remains was recovered in (`province / district`), the unit whose share of
    outsiders the estimate reads (`mixture.area_outside`); None when the place names no district."""
    place = r["place"] or {}
    return f"{place['province']} / {place['district']}" if place.get("district") else None


def status_weight(grave_status: str | None, settings: MatchSettings) -> float:
    return dict(settings.status_weights).get(grave_status or "", settings.default_status_weight)


def prior_group(m: dict, pool: Pool, default_province: str | None, here: frozenset[str] | None = None) -> str:
    """`<grave status> / <where he fell>`: this province (`here`), Cambodia, another province, or no
    province on record: blank (`unplaced`), or a place no admin unit reads, most often a front,
    one group per text in a province's run (`unplaced: <its key>`) — `Chiến trường Khu 9` is this
    province's own war region, `Mặt trận Quảng Trị` a thousand kilometres away, and how many of
    each front's men lie in the register is for the province's remains to tell (measured:
    docs/matching.md §9). A national run's register holds every front's men somewhere: there the
    split would say little and multiply the estimate's rows by the number of fronts (at 10% of the
    country, 132 groups, `weigh` 25 → 50 s), so its unplaced martyrs stay one group.
    Remains are gathered where men fell, so the groups' shares of the register differ; they are
    stated flat and estimated on the province's remains. A national run's `here` is every province
    whose cemeteries sent remains."""
    key = pool.martyr_place_key.get(m["martyr_id"], "")
    province = pool.key_places.get(key, {}).get("province")
    where = (
        (f"unplaced: {key}" if key and here is None else "unplaced")
        if not province
        else "here"
        if province in (here if here is not None else {default_province})
        else "cambodia"
        if province == CAMBODIA
        else "elsewhere"
    )
    return f"{m.get('grave_status') or 'unknown'} / {where}"


@dataclass(frozen=True)
class FarTerms:
    """A national run's candidates of one remains that were summed, not listed
    (`lietsi.national.listing`), as `unscored_terms` sums the martyrs without a reference:
    (group, place cell) → Σ DNA LR / den, group → Σ DNA LR where the place cannot be compared; at
    the DNA's best estimate, and at its 95% bound (`*_bound`); `dna`: group → Σ DNA LR (no place)."""

    cells: dict[tuple[str, tuple[str, str]], float]
    flat: dict[str, float]
    cells_bound: dict[tuple[str, tuple[str, str]], float]
    flat_bound: dict[str, float]
    dna: dict[str, float]


def _far_candidates(far: FarTerms | None) -> tuple[Candidate, ...]:
    """A remains' summed candidates for the estimate, as candidates of one cell each (prior × Σ
    LR/den × numerator): the E-step is linear in each candidate's term, so the sums count in the
    numerators, the group shares and the DNA shares as the pairs would."""
    if far is None:
        return ()
    summed = [Candidate(g, v, ((cell, 1.0),)) for (g, cell), v in far.cells.items()]
    return tuple(summed + [Candidate(g, v, ()) for g, v in far.flat.items()])


class _Lazy:
    """A remains' `RemainsTerms` for the estimate whose summed candidates and unscored sums are
    made when `estimate` reads them (`candidates`, `sums`), not held: with θ > 0 each remains' sums
    are dicts of its own (its communes' terms added), and held for every remains at once they and
    the far sums' `Candidate` objects grow with the country (the estimate lays them out as arrays)."""

    __slots__ = ("far", "sums")

    def __init__(self, far: FarTerms | None, sums: Callable[[], tuple[dict, dict]]) -> None:
        self.far, self.sums = far, sums

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return _far_candidates(self.far)


def _mass(here: PriorModel, tables: dict[str, dict[str, float]], cells: dict, flat: dict) -> float:
    """Prior × Σ LR of summed candidates: per group where the place cannot be compared (`flat`),
    times the place cell's numerator where it can (`cells`)."""
    return sum(here.prior(g) * v for g, v in flat.items()) + sum(
        here.prior(g) * tables[t][o] * v for (g, (t, o)), v in cells.items()
    )


@dataclass(frozen=True)
class Scoring:
    scored: pl.DataFrame
    prior: PriorModel
    numerators: dict[str, dict[str, float]]
    iterations: int
    hypotheses: dict[str, Hypotheses]  # per remains, the terms of its posterior (`sensitivity`)


def score_candidates(
    pairs: pl.DataFrame,
    remains: pl.DataFrame,
    missing: pl.DataFrame,
    pool: Pool,
    sampled_martyrs: set[str],
    settings: MatchSettings,
    default_province: str | None = None,
    profiled: list[str] | None = None,
    not_comparable: dict[str, list[str]] | None = None,
    known: list[tuple[str, dict]] | None = None,
    here: frozenset[str] | None = None,
    spectra: dict[str, Spectrum] | None = None,
    theta: float | None = None,
    far: dict[str, FarTerms] | None = None,
) -> Scoring:
    """Add DNA LR, non-genetic LR, the factors and the posterior to each DNA candidate pair, with
    the prior and the numerator tables used (re-estimated on the profiled remains when
    `settings.estimate_numerators`). `not_comparable`: per remains, sampled martyrs whose
    references it cannot be compared with (`not_comparable_martyrs`); they count as unsampled.
    `known`: (remains_id, martyr row) pairs the council confirmed, counted in the estimate as pairs
    whose truth is known (docs/matching.md §9). `here`: `prior_group`'s provinces of a national run.
    `spectra`: per compared range, the database's
    frequency spectrum, from which the best estimate of a haplotype's frequency is read
    (`point_lr`, Good–Turing). `theta`: the province's commune θ (`structure.commune_theta`): a
    missing martyr with no reference whose home commune's sampled lines carry the remains'
    haplotype is weighed up by `structure.commune_weight`, and the best estimate of a haplotype's
    frequency counts a commune's carriers as its founders (`structure.founder_frequency`). `far`:
    per remains, a national run's
    candidates summed rather than listed (`FarTerms`), in the estimate and the denominators."""
    s = settings.evidence
    far = far or {}
    features = remains_features(remains, default_province)
    reg = build_register(features, s)
    martyr_rows = {m["martyr_id"]: m for m in missing.iter_rows(named=True)}
    cemeteries = {f["cemetery_province"] for f in features.values() if f["cemetery_province"]}
    units = unit_area_baselines(list(martyr_rows.values()), pool, cemeteries, s)
    group = {mid: prior_group(m, pool, default_province, here) for mid, m in martyr_rows.items()}
    sizes = dict(Counter(group.values()))
    weights = {
        g: status_weight(
            next(m.get("grave_status") for mid, m in martyr_rows.items() if group[mid] == g), settings
        )
        for g in sizes
    }
    prior = stated_prior(sizes, weights, settings.p_outside)

    def cell(mid: str) -> tuple[str, str, str]:
        return pool.martyr_place_key.get(mid, ""), pool.martyr_place_source.get(mid, "death"), group[mid]

    unsampled = Counter(cell(mid) for mid in martyr_rows if mid not in sampled_martyrs)
    blind = {
        remains_id: unsampled + Counter(cell(m) for m in martyrs if m in martyr_rows)
        for remains_id, martyrs in (not_comparable or {}).items()
    }
    # The unsampled martyrs' terms depend on the remains' recovery place only (their numerators
    # enter through the cells), so remains recovered at one place share them; computed once for the
    # estimate and the scoring.
    unscored_cache: dict[tuple, tuple[dict, dict]] = {}
    country = (
        unscored_by_province(unsampled, pool, reg, s) if settings.listed_candidates is not None else None
    )

    def unscored_base(remains_id: str) -> tuple[dict, dict]:
        r = features[remains_id]
        place = tuple(sorted((r["place"] or {}).items()))
        key = (r["place_key"] or "", place, remains_id if remains_id in blind else None)
        if key in unscored_cache:
            return unscored_cache[key]
        if country is not None and remains_id not in blind:
            unscored_cache[key] = country(r)
        else:
            unscored_cache[key] = unscored_terms(r, blind.get(remains_id, unsampled), pool, reg, s)
        return unscored_cache[key]

    tables = numerator_tables(s, front_share(reg))
    s = with_numerators(s, tables)
    iterations = 0
    settled = None
    point = point_settings(s, settings)
    # The pairs of missing martyrs, as `_ScoredPairs` holds them (no other copy is kept; none at all
    # when the caller gave only theirs, as the scale benchmark reads them).
    kept = pairs["martyr_id"].is_in(list(martyr_rows))
    scored = pairs if kept.all() else pairs.filter(kept)
    del kept
    scored_pairs = _ScoredPairs.of(scored, features, list(martyr_rows), s, point, spectra)
    del scored
    slices = scored_pairs.slices
    # Commune structure (`structure`): per remains, the weight of each commune's unsampled martyrs.
    commune_of = {mid: _commune(m) for mid, m in martyr_rows.items()}
    unsampled_in: dict[str, Counter] = {}
    for mid in martyr_rows:
        if mid not in sampled_martyrs and commune_of[mid]:
            unsampled_in.setdefault(commune_of[mid], Counter())[cell(mid)] += 1
    sampled_in = Counter(commune_of[m] for m in martyr_rows if m in sampled_martyrs and commune_of[m])
    if theta and point.counted_mle:
        lines = effective_lines(theta, sampled_in.values())
        _founder_weights(scored_pairs, commune_of, theta, lines, point, spectra)
    # Per remains, (w_C − 1, C) for each commune C whose lines carry the haplotype and that has
    # unsampled martyrs: found once, read by the estimate, the posteriors and the hypotheses.
    terms_of = (
        {
            r: [
                (w - 1, c)
                for c, w in _commune_weights(
                    scored_pairs.commune_inputs(*slices[r]), commune_of, sampled_in, theta
                ).items()
                if c in unsampled_in
            ]
            for r in slices
        }
        if theta
        else {}
    )

    def commune_terms(remains_id: str) -> list[tuple[float, str]]:
        return terms_of.get(remains_id, [])

    # A commune's unsampled martyrs weigh the same for every remains recovered at one place: their
    # terms are computed once per (recovery place, commune) — per remains and commune they were
    # 1,420 s at 100% — and the last `_COMMUNE_TERMS` read are kept, as items keyed by a number
    # per recovery place (as dicts keyed by the place they were 0.25 GB at 10%). The most recently
    # read, not the first: the remains are read by id, so by province, and a province's places
    # come back together (at 100%, kept as first read, those beyond were computed again at every
    # reading: 22% of `weigh`).
    commune_unscored: OrderedDict[tuple[int, str], tuple[tuple, tuple]] = OrderedDict()
    places: dict[tuple, int] = {}
    related: dict[tuple, Factor] = {}
    # Per commune, its unsampled martyrs' places of death and their provinces.
    reach: dict[str, tuple[set[str], set[str]]] = {}

    # Per remains: its recovery province, its place's number and its level's (read per commune).
    recovered_at: dict[str, tuple[str | None, int, int]] = {}

    def commune_sums(remains_id: str, commune: str) -> tuple[tuple, tuple]:
        r = features[remains_id]
        if remains_id not in recovered_at:
            place = r["place"] or {}
            number = places.setdefault((r["place_key"] or "", tuple(sorted(place.items()))), len(places))
            level = -1 - place_level(place) - 4 * bool(r["place_key"])
            recovered_at[remains_id] = place.get("province"), number, level
        province, number, level = recovered_at[remains_id]
        if commune not in reach:
            keys = {key for key, _, _ in unsampled_in[commune]}
            reach[commune] = keys, {pool.key_places.get(k, {}).get("province") for k in keys} - {None}
        keys, provinces = reach[commune]
        # Else no place of death of the commune's is the recovery place's text or in its province:
        # each relation (`place_relation`) is then `elsewhere` or `different` at the levels of the
        # two places, so the terms are those of every such place at its level (at 10%, most of the
        # 363,403 (place, commune) terms).
        key = (number if r["place_key"] in keys or province in provinces else level, commune)
        sums = commune_unscored.get(key)
        if sums is not None:
            commune_unscored.move_to_end(key)
            return sums
        cells, flat = unscored_terms(r, unsampled_in[commune], pool, reg, s, related)
        sums = tuple(cells.items()), tuple(flat.items())
        if _COMMUNE_TERMS:
            if len(commune_unscored) >= _COMMUNE_TERMS:
                commune_unscored.popitem(last=False)
            commune_unscored[key] = sums
        return sums

    def unscored(remains_id: str) -> tuple[dict, dict]:
        cells, flat = unscored_base(remains_id)
        extra = commune_terms(remains_id)
        if not extra:
            return cells, flat
        cells, flat = dict(cells), dict(flat)
        for w, commune in extra:
            more_cells, more_flat = commune_sums(remains_id, commune)
            for k, v in more_cells:
                cells[k] = cells.get(k, 0.0) + w * v
            for k, v in more_flat:
                flat[k] = flat.get(k, 0.0) + w * v
        return cells, flat

    remains_ids = list(slices)
    # Per pair: its remains (an index into `remains_ids`), its martyr's prior group.
    lengths = np.array([end - start for start, end in slices.values()], dtype=np.int64)
    pair_remains = np.repeat(np.arange(len(remains_ids)), lengths)
    groups = list(sizes)
    martyr_group = np.array([groups.index(group[mid]) for mid in scored_pairs.martyr_ids], dtype=np.int32)
    pair_group = martyr_group[scored_pairs.martyr]
    factors_of = FactorNumbers(
        pool,
        [features[r] for r in remains_ids],
        [martyr_rows[mid] for mid in scored_pairs.martyr_ids],
        pair_remains,
        scored_pairs.martyr,
    )
    own, estimated = None, slice(None)
    if settings.estimate_numerators:
        ids = [r for r in (profiled if profiled is not None else list(slices)) if r in features]
        numbers = factors_of.of(reg, point, units)
        settled = numbers.settled()
        cells, dens, cell_keys, den_values = numbers.cells()
        fixed = scored_pairs.best * numbers.product(lambda f: f[2] is None)
        del numbers
        # The estimate's candidates: each remains' pairs, the remains in the order of `ids`.
        where = [(i, slices[r]) for i, r in enumerate(ids) if r in slices]
        rows = np.concatenate([np.arange(start, end) for _, (start, end) in where] or [np.zeros(0, np.int64)])
        # The remains in the order of `ids` are usually the pairs' own order (a national run's):
        # then the columns are the pairs' arrays themselves, not copies (1.3 GB at 100%).
        if len(rows) == len(pair_group) and bool((rows == np.arange(len(rows))).all()):
            rows = slice(None)
        # Handed over to `estimate` (`pending.pop()`), which frees them once it holds them as its
        # own arrays; their sources are freed before it runs.
        pending = [
            CandidateColumns(
                np.repeat(
                    np.array([i for i, _ in where], dtype=np.int32),
                    np.array([end - start for _, (start, end) in where], dtype=np.int64),
                ),
                pair_group[rows],
                groups,
                fixed[rows],
                scored_pairs.martyr[rows],
                cells[rows],
                dens[rows],
                cell_keys,
                den_values,
                (scored_pairs.frame["verdict"] == "cannot_exclude").to_numpy()[rows],
            )
        ]
        estimated = rows
        del cells, dens, fixed, rows, where
        terms = [_Lazy(far.get(r), partial(unscored, r)) for r in ids]
        known_cells = [
            tuple(
                (f.cell, f.den) for f in nongenetic_factors(features[r], m, pool, reg, point, units) if f.cell
            )
            for r, m in known or []
            if r in features
        ]
        tables, prior, iterations, own = estimate(
            terms,
            tables,
            prior,
            settings.numerator_prior_strength,
            known=known_cells,
            sampled=dict(Counter(group[m] for m in martyr_rows if m in sampled_martyrs)),
            areas=[recovery_area(features[r]) if settings.outside_by_area else None for r in ids],
            columns=pending.pop(),
        )
        del terms  # the estimate's rows: freed before the posteriors
        s = with_numerators(s, tables)
        point = with_numerators(point, tables)
    by_group = _by_group(unsampled)
    # Per commune, its unsampled martyrs per group, summed once: at 100% each remains read weighs
    # dozens of communes, and summing them per remains was ≈ 65 s of its profile.
    commune_groups: dict[str, Counter] = {}

    def unsampled_groups(remains_id: str) -> dict[str, float]:
        """The remains' unscored martyrs (no comparable reference) per prior group, each weighed by
        his commune's weight (`structure`)."""
        out = dict(_by_group(blind[remains_id]) if remains_id in blind else by_group)
        for w, commune in commune_terms(remains_id):
            if commune not in commune_groups:
                commune_groups[commune] = _by_group(unsampled_in[commune])
            for g, n in commune_groups[commune].items():
                out[g] = out.get(g, 0.0) + w * n
        return out

    n = scored_pairs.frame.height
    # Computed again with the estimated numerators: a factor's LR is its own expression of them,
    # which the estimate's table / den equals to the last bits only.
    numbers = factors_of.of(reg, s, units, settled)
    lr_nongenetic = numbers.product()
    lr_place = numbers.product(lambda f: f[0] in PLACE)
    del numbers, factors_of
    # Per remains: the prior where it was recovered (per group), outside's, and the summed mass.
    prior_of = np.empty(n)
    p_outside = np.empty(len(remains_ids))
    mass, mass_bound = np.empty(len(remains_ids)), np.empty(len(remains_ids))
    at_area: dict[str | None, tuple[PriorModel, np.ndarray]] = {}
    for k, remains_id in enumerate(remains_ids):
        r = features[remains_id]
        area = recovery_area(r)
        if area not in at_area:
            here = prior.at(area)
            at_area[area] = here, np.array([here.prior(g) for g in groups], dtype=np.float64)
        here, by_prior = at_area[area]
        start, end = slices[remains_id]
        prior_of[start:end] = by_prior[pair_group[start:end]]
        p_outside[k] = here.p_outside
        cells, flat = unscored(remains_id)
        mass[k] = mass_bound[k] = _mass(here, tables, cells, flat)
        if remains_id in far:
            summed = far[remains_id]
            mass_bound[k] = mass[k] + _mass(here, tables, summed.cells_bound, summed.flat_bound)
            mass[k] += _mass(here, tables, summed.cells, summed.flat)
    commune_unscored.clear()  # their last use: freed before the scored frame is built
    if own is not None:
        prior_of[estimated] *= own  # each share read without the remains' own mass (`out_of_fold`)
    posterior, _ = posteriors(prior_of * scored_pairs.best * lr_nongenetic, pair_remains, p_outside, mass)
    posterior_bound, _ = posteriors(
        prior_of * scored_pairs.bound * lr_nongenetic, pair_remains, p_outside, mass_bound
    )
    # One martyr, one body: each pair's posterior given every other remains' claims on its martyr.
    register = profiled if profiled is not None else remains_ids
    rho = _expected_remains(prior, groups, [features[r] for r in register if r in features])
    martyr_of = np.asarray(scored_pairs.martyr)
    factor, lift = one_body_terms(posterior, prior_of, rho[pair_group], martyr_of, pair_remains)
    factor_bound, lift_bound = one_body_terms(
        posterior_bound, prior_of, rho[pair_group], martyr_of, pair_remains
    )
    posterior = posterior * factor / (1 + lift[pair_remains])
    posterior_bound = posterior_bound * factor_bound / (1 + lift_bound[pair_remains])
    # A council reads a pair at or above the review threshold (`assignment`): a national run at
    # scale writes the factors' JSON and keeps the hypotheses (`sensitivity`) for those pairs and
    # their remains only (most of a country's pairs are far below it, and their JSON and terms were
    # most of `weigh`'s memory).
    read = (
        np.ones(n, dtype=bool)
        if settings.listed_candidates is None
        else np.maximum(posterior, posterior_bound) >= settings.review_threshold
    )
    factors: list[str | None] = [None] * n
    for i in np.nonzero(read)[0].tolist():
        r, m = (
            features[remains_ids[pair_remains[i]]],
            martyr_rows[scored_pairs.martyr_ids[scored_pairs.martyr[i]]],
        )
        others = nongenetic_factors(r, m, pool, reg, s, units)
        dna = pair_dna_factor(scored_pairs.frame.row(i, named=True), s)
        factors[i] = json.dumps([dna.as_dict(), *(f.as_dict() for f in others)], ensure_ascii=False)
    # Every candidate weighs in a remains' totals; a page reads the terms of its read pairs only.
    hypotheses: dict[str, Hypotheses] = {}
    columns = (prior_of, scored_pairs.best, scored_pairs.bound, lr_nongenetic, lr_place)
    for k in np.unique(pair_remains[read]).tolist():
        remains_id = remains_ids[k]
        start, end = slices[remains_id]
        here = at_area[recovery_area(features[remains_id])][0]
        kept = start + np.nonzero(read[start:end])[0]
        hypotheses[remains_id] = Hypotheses(
            here.p_outside,
            float(mass[k]),
            sum(here.prior(g) * n for g, n in unsampled_groups(remains_id).items())
            + sum(here.prior(g) * v for g, v in (far[remains_id].dna if remains_id in far else {}).items()),
            Totals.of(*(np.asarray(c[start:end], dtype=np.float64) for c in columns)),
            {
                scored_pairs.martyr_ids[scored_pairs.martyr[i]]: Term(*(float(c[i]) for c in columns))
                for i in kept.tolist()
            },
            {
                scored_pairs.martyr_ids[scored_pairs.martyr[i]]: (float(factor[i]), float(factor_bound[i]))
                for i in kept.tolist()
            },
            (float(lift[k]), float(lift_bound[k])),
        )
    group_of = pl.Series(groups, dtype=pl.String).gather(pair_group) if n else None
    if not n:
        frame = scored_pairs.frame.with_columns(
            lr=pl.lit(None, pl.Float64),
            lr_point=pl.lit(None, pl.Float64),
            lr_nongenetic=pl.lit(None, pl.Float64),
            lr_total=pl.lit(None, pl.Float64),
            prior_group=pl.lit(None, pl.String),
            prior=pl.lit(None, pl.Float64),
            posterior=pl.lit(None, pl.Float64),
            posterior_bound=pl.lit(None, pl.Float64),
            factors=pl.lit(None, pl.String),
        )
    else:
        lr = np.array(scored_pairs.bound)
        frame = _as_from_rows(scored_pairs.frame).with_columns(
            lr=pl.Series(lr, dtype=pl.Float64),
            lr_point=pl.Series(scored_pairs.best, dtype=pl.Float64),
            lr_nongenetic=pl.Series(lr_nongenetic),
            lr_total=pl.Series(lr * lr_nongenetic),
            prior_group=group_of,
            prior=pl.Series(prior_of),
            posterior=pl.Series(posterior),
            posterior_bound=pl.Series(posterior_bound),
            factors=pl.Series(factors, dtype=pl.String if any(f is not None for f in factors) else pl.Null),
        )
    return Scoring(frame, prior, tables, iterations, hypotheses)


PLACE = ("place", "distance")  # the factors `sensitivity` leaves out for "without the place model"


# What `pair_dna_factor` and `point_lr` read of a pair (its other columns enter the reasons only).
_DNA_INPUTS = (
    "verdict", "differences", "x", "n", "x_independent", "n_independent", "compared_range",
    "own_line_removed",
)  # fmt: skip


@dataclass(frozen=True)
class _ScoredPairs:
    """The pairs scored, as columns: `frame` their rows grouped by remains (each remains where it
    first appears, its pairs in their order), and per pair its martyr (an index into `martyr_ids`),
    whether its verdict is `cannot_exclude`, and its DNA LR at the 95% bound (`bound`) and at the
    best estimate (`best`); `slices`: per remains, its pairs' [start, end)."""

    frame: pl.DataFrame
    martyr_ids: list[str]
    martyr: np.ndarray
    cannot_exclude: np.ndarray
    bound: np.ndarray
    best: np.ndarray
    slices: dict[str, tuple[int, int]]

    @classmethod
    def of(
        cls,
        pairs: pl.DataFrame,
        features: dict[str, dict],
        martyr_ids: list[str],
        s: EvidenceSettings,
        point: EvidenceSettings,
        spectra: dict[str, Spectrum] | None,
    ) -> _ScoredPairs:
        """The pairs of remains in `features`, each pair's DNA factors computed once per distinct
        value of what they read (`_DNA_INPUTS`; they do not depend on the numerators the estimate
        changes)."""
        kept = pairs["remains_id"].is_in(list(features))
        frame = pairs if kept.all() else pairs.filter(kept)  # no copy of a country's pairs for nothing
        if _listed_twice(frame):
            raise ValueError("a (remains, martyr) pair is listed twice")
        rows = frame.select("remains_id").with_row_index("row")
        order = rows.sort(pl.col("row").min().over("remains_id"), "row")["row"]
        if not order.equals(rows["row"]):
            frame = frame[order]
        # Each remains' pairs are one run now: its run lengths, not a group-by over every pair.
        runs = frame["remains_id"].rle()
        ends = runs.struct.field("len").cum_sum().to_list()
        ids = runs.struct.field("value").to_list()
        slices = dict(zip(ids, zip([0, *ends][:-1], ends, strict=True), strict=True))
        index = {mid: i for i, mid in enumerate(martyr_ids)}
        columns = [c for c in _DNA_INPUTS if c in frame.columns]
        inputs = frame.select(columns)
        distinct = inputs.unique(maintain_order=True)
        lrs = [
            (pair_dna_factor(rec, s).lr, point_lr(rec, point, spectra))
            for rec in distinct.iter_rows(named=True)
        ]
        distinct = distinct.with_columns(
            _bound=pl.Series([b for b, _ in lrs], dtype=pl.Float64),
            _best=pl.Series([b for _, b in lrs], dtype=pl.Float64),
        )
        # Only the two LRs come out of the join: the key columns of a country's pairs are not copied.
        found = (
            inputs.lazy()
            .join(distinct.lazy(), on=columns, how="left", nulls_equal=True, maintain_order="left")
            .select("_bound", "_best")
            .collect()
        )
        return cls(
            frame,
            martyr_ids,
            frame["martyr_id"].replace_strict(index, return_dtype=pl.Int32).to_numpy().astype(np.int32),
            (frame["verdict"] == "cannot_exclude").to_numpy(),
            found["_bound"].to_numpy().copy(),
            found["_best"].to_numpy().copy(),
            slices,
        )

    def martyrs(self, start: int, end: int) -> list[str]:
        return [self.martyr_ids[i] for i in self.martyr[start:end].tolist()]

    def commune_inputs(self, start: int, end: int) -> list[tuple[str, bool, float]]:
        """(martyr, verdict `cannot_exclude`, DNA LR at the best estimate) of each pair in the slice."""
        return list(
            zip(
                self.martyrs(start, end),
                self.cannot_exclude[start:end].tolist(),
                self.best[start:end].tolist(),
                strict=True,
            )
        )


def _listed_twice(frame: pl.DataFrame) -> bool:
    """Whether a (remains, martyr) pair is listed twice. Ids read as categories (a national run's
    pairs) are compared by their codes, two integers a pair: the pairs of texts took 2 GB at 100%."""
    ids = ("remains_id", "martyr_id")
    if all(isinstance(frame.schema[c], pl.Categorical) for c in ids):
        code = [pl.col(c).to_physical().cast(pl.UInt64) for c in ids]
        key = code[0] * 2**32 + code[1]
    else:
        key = pl.struct(*ids)
    return frame.select(key.n_unique()).item() < frame.height


def _as_from_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the types polars gives the same values read back from Python rows (as the
    scored frame was built, one dict per pair): integers as Int64, floats as Float64, a column with
    no value as Null. Categories stay categories: a national run reads its pairs' repeated texts as
    such (at 100% they were 2.8 of the pairs' 4 GB as strings), and its tables write them as
    strings (`lietsi.national.country.national_candidates`)."""

    def inferred(dtype: pl.DataType) -> pl.DataType:
        if dtype.is_integer():
            return pl.Int64()
        if dtype.is_float():
            return pl.Float64()
        if isinstance(dtype, pl.List):
            return pl.List(inferred(dtype.inner))
        return dtype

    return frame.with_columns(
        pl.col(c).cast(pl.Null if frame[c].null_count() == frame.height else inferred(t))
        for c, t in frame.schema.items()
    )
