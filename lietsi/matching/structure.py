"""Maternal lines cluster by commune: θ measured on the province's own donors, used where it bites.

Unrelated families of one commune share a haplotype more often than its frequency in the
province's database says (founder lines of a village). θ, the chance that two lines of one commune
share a haplotype by descent, is read from the database itself (Weir's moment estimator for a
haploid marker): θ = (p_w − p_b)/(1 − p_b), p_w the share of pairs of lines of one commune (the
martyr's home commune) carrying the same haplotype, p_b the share among pairs of lines of
different communes. NRC II's θ = 0.01 is a ceiling a province should replace with this.

Where it bites: when c of the m sampled lines of commune C carry a remains' haplotype, a missing
martyr of C with no reference sample carries it not with the province's frequency f but with the
Balding–Nichols predictive (c + λ·f)/(m + λ), λ = (1 − θ)/θ — his term in the posterior is
weighed by that over f (`commune_weight`). A remains of another province does not descend from
C's founders: `outside` keeps f. Applying θ to every pair instead (the correction of the DNA LR,
θ + (1 − θ)·f) caps every match below 1/θ, which made `posterior` under-confident on every
generator configuration (docs/matching.md §9).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import polars as pl

from lietsi.lab.comparison import ComparisonRules
from lietsi.lab.mtdna import intersect_ranges, parse_range, parse_variants, range_length
from lietsi.matching.frequency import haplotype_type


def commune_theta(lines: Iterable[tuple[str, str]]) -> float | None:
    """θ from (commune, haplotype type) of the database's lines, one per line; None without a pair
    of lines of one commune or of two communes. Never below 0."""
    by_commune: dict[str, Counter] = {}
    types: Counter = Counter()
    for commune, haplotype in lines:
        by_commune.setdefault(commune, Counter())[haplotype] += 1
        types[haplotype] += 1

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    within = sum(pairs(sum(c.values())) for c in by_commune.values())
    within_same = sum(pairs(n) for c in by_commune.values() for n in c.values())
    total = pairs(sum(types.values()))
    between, between_same = total - within, sum(pairs(n) for n in types.values()) - within_same
    if not within or not between:
        return None
    p_w, p_b = within_same / within, between_same / between
    return max(0.0, (p_w - p_b) / (1 - p_b)) if p_b < 1 else None


def commune_weight(theta: float, carriers: int, lines: int, frequency: float) -> float:
    """w_C: how much more likely a martyr of commune C with no reference is the remains' source
    than the province's frequency f says, when `carriers` of C's `lines` sampled lines carry its
    haplotype: the Balding–Nichols predictive (c + λ·f)/(m + λ) over f, λ = (1 − θ)/θ."""
    if frequency <= 0 or theta <= 0:
        return 1.0
    lam = (1 - theta) / theta
    return (carriers + lam * frequency) / (lines + lam) / frequency


def database_theta(
    profiles: pl.DataFrame, line_communes: dict[str, str], rules: ComparisonRules
) -> float | None:
    """`commune_theta` on the database (line_id, range, haplotype): the lines whose commune is known
    (`line_communes`) and that read the range most lines read, typed as the comparison reads them."""
    if profiles.is_empty():
        return None
    text = Counter(profiles["range"].to_list()).most_common(1)[0][0]
    wanted = parse_range(text)
    lines = [
        (line_communes[line], haplotype_type(parse_variants(haplotype), wanted, rules))
        for line, read, haplotype in profiles.select("line_id", "range", "haplotype").iter_rows()
        if line in line_communes
        and range_length(intersect_ranges(wanted, parse_range(read))) == range_length(wanted)
    ]
    return commune_theta(lines)
