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

And against a remains of another province: it does not descend from any of the province's
communes' founders, so it carries a haplotype with the ancestral frequency, not with the
database's count, in which a commune's copies by descent each count once
(`founder_frequency`, the Balding–Nichols estimate under the same θ).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import polars as pl
from scipy.special import digamma

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
    # Each distinct range and haplotype read once: a country's lines share them (at 10%, 36,168
    # lines of 15,336 haplotypes).
    full = {
        read: range_length(intersect_ranges(wanted, parse_range(read))) == range_length(wanted)
        for read in profiles["range"].unique().to_list()
    }
    types: dict[str, tuple] = {}
    lines = []
    for line, read, haplotype in profiles.select("line_id", "range", "haplotype").iter_rows():
        if line in line_communes and full[read]:
            if haplotype not in types:
                types[haplotype] = haplotype_type(parse_variants(haplotype), wanted, rules)
            lines.append((line_communes[line], types[haplotype]))
    return commune_theta(lines)


def founder_frequency(
    theta: float, communes: Iterable[int], own: int, unplaced: int, lines: float
) -> float | None:
    """The frequency of a haplotype among lines that do not descend from the candidate's founders:
    the Balding–Nichols maximum-likelihood ancestral frequency, which a remains of another province
    carries it with. `communes`: per other home commune, its database lines carrying it; `own`:
    the lines of the candidate's own commune carrying it besides his; `unplaced`: carriers of no
    known commune; `lines`: the database's effective size (`effective_lines`). Under θ a commune's
    carriers after its first are mostly copies by descent: the j-th after the first counts
    λf/(λf + j), λ = (1 − θ)/θ, not 1 (the likelihood's score in f), and the candidate's own line
    is his commune's first. None when no line outside his commune carries it: for a remains of
    another province it is a type one founding shows (`frequency.Spectrum.singleton_frequency`).
    At θ = 0 (no structure) every carrier is a line of its own: x/n."""
    counts = [c for c in communes if c]
    if not counts and not unplaced:
        return None
    if theta <= 0:
        return (unplaced + sum(counts) + own) / lines
    lam = (1 - theta) / theta
    larger = max([*counts, own + 1])

    def founders(f: float) -> float:
        # A commune's c − 1 carriers after its first (`after[c]`): the sums of the terms j = 1 … c − 1
        # in turn, each the sum before it plus the next term, as `sum` adds them one by one; then
        # the communes' 1 + after[c] in their order. A national run weighs millions of pairs, each
        # over the communes of its remains' other candidates: a sum per commune was hours at 100%.
        after: list[float] = [0, 0]
        for j in range(1, larger):
            after.append(after[j] + lam * f / (lam * f + j))
        return unplaced + sum(1 + after[c] for c in counts) + after[own + 1]

    f = (unplaced + len(counts)) / lines
    for _ in range(100):
        new = founders(f) / lines
        if abs(new - f) <= 1e-12:
            break
        f = new
    return new


def founder_frequencies(
    theta: float, communes: np.ndarray, own: np.ndarray, unplaced: np.ndarray, lines: np.ndarray
) -> np.ndarray:
    """`founder_frequency` of many haplotypes at once, the same floats: row k's `communes[k]` (a
    matrix's row of counts, 0 where a row has fewer communes), `own[k]`, `unplaced[k]`,
    `lines[k]`; NaN where it gives None. A remains with a thousand candidates' communes has as
    many keys to weigh, each over all those communes: one by one in Python that was most of
    `weigh` at 100% under θ > 0."""
    communes = np.asarray(communes, dtype=np.int64)
    own, unplaced = np.asarray(own, dtype=np.int64), np.asarray(unplaced, dtype=np.int64)
    lines = np.asarray(lines, dtype=np.float64)
    placed = (communes > 0).sum(axis=1)
    out = np.full(len(lines), np.nan)
    if theta <= 0:
        out[:] = (unplaced + communes.sum(axis=1) + own) / lines
        out[(placed == 0) & (unplaced == 0)] = np.nan
        return out
    lam = (1 - theta) / theta
    active = np.nonzero((placed > 0) | (unplaced > 0))[0]
    f = (unplaced[active] + placed[active]) / lines[active]
    counts, mine = communes[active], own[active] + 1
    for _ in range(100):
        if not len(active):
            break
        larger = int(max(counts.max(initial=0), mine.max()))
        # `after[:, c]`: a commune's c − 1 carriers after its first, the terms j = 1 … c − 1 added one
        # after another as `founder_frequency` adds them.
        after = np.zeros((len(active), larger + 1))
        term = lam * f
        for j in range(1, larger):
            after[:, j + 1] = after[:, j] + term / (term + j)
        # The communes' 1 + after[c] in their order (`cumsum` adds along a row one by one; a row's
        # padding adds 0.0, which changes no float).
        each = np.where(counts > 0, 1 + np.take_along_axis(after, counts, axis=1), 0.0)
        summed = np.cumsum(each, axis=1)[:, -1] if counts.shape[1] else np.zeros(len(active))
        last = np.take_along_axis(after, mine[:, None], axis=1)[:, 0]
        new = (unplaced[active] + summed + last) / lines[active]
        out[active] = new
        going = np.abs(new - f) > 1e-12
        active, f, counts, mine = active[going], new[going], counts[going], mine[going]
    return out


def effective_lines(theta: float, communes: Iterable[int]) -> float:
    """Database lines per line once commune structure is counted: under θ, m lines of one commune
    inform the ancestral frequency as λ·(ψ(λ + m) − ψ(λ)) independent lines would (the score of
    the Balding–Nichols likelihood at a rare type); the ratio over the communes' lines."""
    sizes = [m for m in communes if m]
    if theta <= 0 or not sizes:
        return 1.0
    lam = (1 - theta) / theta
    return sum(lam * (digamma(lam + m) - digamma(lam)) for m in sizes) / sum(sizes)
