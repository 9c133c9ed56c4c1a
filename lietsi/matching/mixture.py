"""Who the remains could be: the prior over the pool, the posterior, and its EM re-estimation.

Each remains is one missing martyr or nobody in the pool (`OUTSIDE`). `PriorModel` spreads the
prior over groups of missing martyrs, `posteriors` combines it with the pairs' likelihood ratios,
`estimate` re-fits the numerator tables and the group shares on the province's own remains
(Fellegi–Sunter style EM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    sampled: dict[str, float] | None = None,
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
        dna_shares = dict.fromkeys(masses, 0.0)
        prior = {g: masses[g] / max(sizes.get(g, 0.0), 1e-9) for g in masses if g != OUTSIDE}
        for r in terms:
            lrs = [prior[c.group] * c.fixed * _lr(tables, c.cells) for c in r.candidates]
            unscored = {gc: prior[gc[0]] * tables[gc[1][0]][gc[1][1]] * v for gc, v in r.unscored.items()}
            flat = {g: prior[g] * v for g, v in r.unscored_flat.items()}
            denominator = masses[OUTSIDE] + sum(lrs) + sum(unscored.values()) + sum(flat.values())
            for c, lr in zip(r.candidates, lrs, strict=True):
                shares[c.group] += lr / denominator
                dna_shares[c.group] += lr / denominator
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
        if sampled is not None:
            shares = anchored_shares(shares, dna_shares, sizes, sampled, len(terms))
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
