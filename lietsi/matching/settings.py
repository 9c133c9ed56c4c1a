"""The matching stage's settings: forensic rules, evidence numerators, prior and thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

from lietsi.lab.comparison import ComparisonRules
from lietsi.matching.evidence import EvidenceSettings


@dataclass(frozen=True)
class MatchSettings:
    rules: ComparisonRules = field(default_factory=ComparisonRules)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    # Prior share of register remains belonging to no missing martyr of the pool (martyrs of other
    # provinces, civilians): a setting, since nothing in the inputs measures it without bias.
    p_outside: float = 0.5
    # Prior weight of a missing martyr by grave status: register remains are gathered remains, so a
    # martyr recorded as not yet gathered (`Chưa quy tập`) is a less likely owner (records lag).
    status_weights: tuple[tuple[str, float], ...] = (("Chưa xác định", 1.0), ("Chưa quy tập", 0.25))
    default_status_weight: float = 1.0
    # `proposed`: the pair's posterior with the DNA frequency at its 95% upper bound ≥
    # proposed_threshold, no excluding reference, no competitor (docs/matching.md §6).
    proposed_threshold: float = 0.99
    review_threshold: float = 0.05
    # Re-estimate the numerators and p_outside on the province's own remains (EM, Fellegi–Sunter
    # style; `mixture.estimate`), the stated values as a prior worth this many remains.
    estimate_numerators: bool = True
    numerator_prior_strength: float = 20.0
    # The best estimate of a haplotype's frequency: the median-unbiased (50%) Clopper–Pearson bound
    # where neither Turing's estimate nor the count x/n applies (below: x = 0 without a Turing
    # estimate, or an independent database's count).
    # It weighs the DNA inside the estimate (a mixture fitted on deliberately low DNA weights would
    # over-state p_outside) and in `posterior`, the calibrated probability decisions rest on; the
    # reported `lr` and `posterior_bound` keep the 95% bound (SWGDAM).
    estimation_confidence: float = 0.5
    # θ of the best estimate. θ = 0.01 (`EvidenceSettings.theta`) is NRC II's conservative ceiling
    # for village structure, not an estimate of it: kept in `lr` and `posterior_bound`, which the
    # decision reads, it made `posterior` and the estimate under-confident (a match capped below
    # LR 100 made true pairs look half-likely and pushed p_outside up; docs/matching.md §9).
    # The best estimate of a random other line's match probability is the database frequency.
    estimation_theta: float = 0.0
    # The best estimate of the frequency of a haplotype only the candidate's own line carries
    # (x = 0): Turing's estimate from the database's own spectrum (`frequency`), rather than the
    # median-unbiased bound 0.69/n, which over-stated how often such a haplotype matches by chance
    # 2–3 times (docs/matching.md §9).
    estimation_good_turing: bool = True
    # The best estimate of the frequency of a haplotype x ≥ 1 other lines of the database carry:
    # x/n (maximum likelihood) rather than the median-unbiased bound (about (x + 0.67)/n). On the
    # remains of other provinces, which match no pool martyr, a calibrated LR averages 1 per
    # sampled martyr (E[LR | not him] = 1); with the bound it averaged 0.82–0.88 on the benchmark's
    # `demo` and `borderland` provinces, with x/n 0.94–1.01 (docs/matching.md §9).
    estimation_counted_mle: bool = True
    # θ of maternal lines within a commune, measured on the province's donors (`structure`): a
    # missing martyr with no reference from a commune whose lines carry the remains' haplotype is
    # weighed up as a possible source of it (founder lines of a village).
    estimate_commune_theta: bool = True
    # p_outside per recovery district (`mixture.area_outside`), read from the district's own remains
    # and shrunk towards the province's: other provinces' men lie where their units fought, so the
    # share of outsiders among a district's remains differs between districts (docs/matching.md §9).
    outside_by_area: bool = True
    # The evidence page's sensitivity table (`sensitivity`): the pair's posterior with p_outside
    # this much lower and higher than estimated. The estimate was off by up to 0.09 on the
    # benchmark's six provinces (docs/matching.md §9).
    p_outside_spread: float = 0.15
    # A national run at the country's scale: each remains lists this many of its strongest
    # candidates and those its place, unit area or sex single out; the others enter its posterior as
    # sums by prior group and place cell (`lietsi.national.listing`). None (the province run):
    # every pair listed.
    listed_candidates: int | None = None
