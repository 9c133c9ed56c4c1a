"""Who the remains could be: the prior over the pool, the posterior, and its EM re-estimation.

Each remains is one missing martyr or nobody in the pool (`OUTSIDE`). `PriorModel` spreads the
prior over groups of missing martyrs, `posteriors` combines it with the pairs' likelihood ratios,
`estimate` re-fits the numerator tables and the group shares on the province's own remains
(Fellegi–Sunter style EM).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

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
    # p_outside where remains were recovered (`area_outside`): an area not listed takes `p_outside`.
    areas: dict[str, float] = field(default_factory=dict)

    @property
    def p_outside(self) -> float:
        return self.masses.get(OUTSIDE, 0.0)

    def prior(self, group: str) -> float:
        return self.masses.get(group, 0.0) / max(self.sizes.get(group, 0.0), 1e-9)

    def at(self, area: str | None) -> PriorModel:
        """The prior of remains recovered in `area`: its own share of outsiders, the pool's groups
        scaled to the rest in their province-wide proportions."""
        if area not in self.areas:
            return self
        p = self.areas[area]
        scale = (1 - p) / (1 - self.p_outside) if self.p_outside < 1 else 0.0
        masses = {g: m * scale for g, m in self.masses.items() if g != OUTSIDE}
        return PriorModel({**masses, OUTSIDE: p}, self.sizes)


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
    # The martyr, so that his remains are counted once (`one_body`); None: a national run's
    # candidates summed by group and cell.
    martyr: str | None = None


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
    sampled: dict[str, float] | None = None,
    areas: list[str | None] | None = None,
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
    `sampled`: per group, how many of its martyrs have a reference profile. When given, a group's
    share is read from its sampled martyrs alone and scaled to the whole group (`anchored_shares`):
    only the DNA separates a pool martyr from `outside` well, the place of the unsampled barely.
    A candidate that names its martyr counts in that share as at most one remains (`one_body`).
    `areas`: where each remains was recovered (None: not known). When given with `sampled`, each
    area's share of outsiders is read the same way from its own remains (`area_outside`) and
    weighs them in the E-step: other provinces' men lie where their units fought, not evenly.
    """
    tables = {t: dict(v) for t, v in tables0.items()}
    masses = dict(prior0.masses)
    sizes = prior0.sizes
    by_area = areas if areas is not None and sampled is not None else [None] * len(terms)
    outside_in: dict[str, float] = {}
    it = 0
    while it < iterations:
        it += 1
        counts = {t: dict.fromkeys(v, 0.0) for t, v in tables.items()}
        for cells in known or []:
            for (t, o), _ in cells:
                counts[t][o] += 1.0
        shares = dict.fromkeys(masses, 0.0)
        dna_shares = dict.fromkeys(masses, 0.0)
        model = PriorModel(masses, sizes, outside_in)
        area_dna: dict[str, dict[str, float]] = {}
        claims: dict[tuple[str, str], dict[str | None, float]] = {}  # (martyr, group) → area → mass
        for r, area in zip(terms, by_area, strict=True):
            here = model.at(area)
            prior = {g: here.prior(g) for g in masses if g != OUTSIDE}
            lrs = [prior[c.group] * c.fixed * _lr(tables, c.cells) for c in r.candidates]
            unscored = {gc: prior[gc[0]] * tables[gc[1][0]][gc[1][1]] * v for gc, v in r.unscored.items()}
            flat = {g: prior[g] * v for g, v in r.unscored_flat.items()}
            denominator = here.p_outside + sum(lrs) + sum(unscored.values()) + sum(flat.values())
            if area is not None:
                area_dna.setdefault(area, {})
            for c, lr in zip(r.candidates, lrs, strict=True):
                shares[c.group] += lr / denominator
                if c.martyr is not None:
                    claim = claims.setdefault((c.martyr, c.group), {})
                    claim[area] = claim.get(area, 0.0) + lr / denominator
                else:
                    dna_shares[c.group] += lr / denominator
                    if area is not None:
                        area_dna[area][c.group] = area_dna[area].get(c.group, 0.0) + lr / denominator
                for (t, o), _ in c.cells:
                    counts[t][o] += lr / denominator
            for (g, (t, o)), v in unscored.items():
                shares[g] += v / denominator
                counts[t][o] += v / denominator
            for g, v in flat.items():
                shares[g] += v / denominator
            shares[OUTSIDE] += here.p_outside / denominator
        for (_, g), claim in claims.items():
            for area, mass in one_body(claim).items():
                dna_shares[g] += mass
                if area is not None:
                    area_dna[area][g] = area_dna[area].get(g, 0.0) + mass
        new = {
            t: {o: (strength * tables0[t][o] + n) / (strength + sum(c.values())) for o, n in c.items()}
            for t, c in counts.items()
        }
        if sampled is not None:
            shares = anchored_shares(shares, dna_shares, sizes, sampled, len(terms))
        new_masses = {
            g: (strength * prior0.masses[g] + n) / (strength + len(terms)) for g, n in shares.items()
        }
        new_areas = (
            area_outside(
                area_dna,
                Counter(a for a in by_area if a is not None),
                sizes,
                sampled,
                new_masses[OUTSIDE],
                strength,
            )
            if sampled is not None and area_dna
            else {}
        )
        change = max(
            [
                *(abs(new_masses[g] - masses[g]) for g in masses),
                *(abs(new[t][o] - tables[t][o]) for t in new for o in new[t]),
                *(abs(p - outside_in.get(a, new_masses[OUTSIDE])) for a, p in new_areas.items()),
            ]
        )
        tables, masses, outside_in = new, new_masses, new_areas
        if change < tolerance:
            break
    return tables, PriorModel(masses, sizes, outside_in), it


def one_body(claim: dict[str | None, float]) -> dict[str | None, float]:
    """One martyr's E-step mass over the remains that claim him (by recovery area), counted as at
    most one remains: he has one body. Each remains' posterior is computed alone, so a martyr whose
    line a common haplotype matches collects chance mass from several remains on top of his own
    (measured: 10–20 remains a province beyond one per martyr, docs/matching.md §9); counted in full
    it inflates his group's share of the register (`anchored_shares`) and lowers `p_outside`."""
    total = sum(claim.values())
    scale = 1.0 / total if total > 1.0 else 1.0
    return {area: mass * scale for area, mass in claim.items()}


def area_outside(
    dna_shares: dict[str, dict[str, float]],
    remains: Counter,
    sizes: dict[str, float],
    sampled: dict[str, float],
    p_outside: float,
    strength: float,
) -> dict[str, float]:
    """Per recovery area, the share of its remains that belong to nobody in the pool: the rest of
    its pool count read from the sampled martyrs as in `anchored_shares` (the E-step's mass on
    each group's DNA candidates among the area's remains × group size / sampled martyrs), shrunk
    towards the province's `p_outside` with the weight of `strength` remains (few remains say
    little about their area). Groups with no sampled martyr hold almost no remains and are left out."""
    out = {}
    for area, n in remains.items():
        pool = sum(m * sizes[g] / sampled[g] for g, m in dna_shares.get(area, {}).items() if sampled.get(g))
        raw = min(max(1 - pool / n, 0.0), 1.0)
        out[area] = (strength * p_outside + n * raw) / (strength + n)
    return out


def anchored_shares(
    shares: dict[str, float],
    dna_shares: dict[str, float],
    sizes: dict[str, float],
    sampled: dict[str, float],
    remains: int,
) -> dict[str, float]:
    """Expected remains per group (and `outside`, the rest) with each group's count read from its
    martyrs that have a reference: their expected remains (`dna_shares`, the E-step's mass on DNA
    candidates) × group size / sampled martyrs. Whether a martyr's family gave a usable reference
    does not depend on whether his remains are in the register, so the sampled part of a group
    stands for the whole; the unsampled part is told from `outside` by the place alone, which
    barely separates them (docs/matching.md §9), so its count would rest on that weak likelihood.
    A group with no sampled martyr keeps its plain mixture count."""
    out = {
        g: dna_shares[g] * sizes[g] / sampled[g] if sampled.get(g) else n
        for g, n in shares.items()
        if g != OUTSIDE
    }
    pool = sum(out.values())
    if pool > remains:  # more than every remains: scale the pool down, nobody is outside
        out = {g: n * remains / pool for g, n in out.items()}
        pool = float(remains)
    return {**out, OUTSIDE: remains - pool}
