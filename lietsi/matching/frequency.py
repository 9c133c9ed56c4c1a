"""The best estimate of how often another maternal line carries a haplotype one line of the database shows.

The commonest strong match is a remains whose haplotype no line of the database carries but the
candidate's own (x = 0 of n): the counting estimate gives it the median-unbiased bound 0.69/n
whatever the province's lines look like. Most lines are the only one of their type, and a
haplotype seen once is, on average, rarer than one in n — it is a singleton because it is rare.
Turing's estimate (Good 1953) reads the size of that effect from the database's own spectrum: a
type seen once has frequency 2·N₂/N₁/n (N₁ types carried by one line, N₂ by two). Brenner's κ
method for lineage markers (2010, *Forensic Sci. Int. Genet.* 4:281) is the same idea with a
cruder count ((1 − κ)/n, κ = N₁/n).

Measured on the benchmark's six provinces (docs/matching.md §9; the truth read for the
measurement only): the share of other provinces' remains whose haplotype is that of a database
singleton was 0.11–0.16; 0.69/n per singleton predicts 0.30–0.35, Brenner's κ 0.25, Turing
0.13–0.22.

Types are haplotypes as the comparison reads them on the range compared (the variants its rules
ignore left out), among the database lines that read all of it, as x and n are counted. The
estimate is used for `lr_point` only; the reported `lr` and `posterior_bound` keep the 95%
Clopper–Pearson bound with θ (SWGDAM), which the decision reads. A haplotype two or more lines
carry keeps its count (x says something there), and a spectrum too thin to say more (Turing's
estimate with a relative standard error above one half: few doubletons) gives no estimate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from lietsi.lab.comparison import ComparisonRules
from lietsi.lab.mtdna import (
    Ranges,
    Variant,
    intersect_ranges,
    parse_range,
    parse_variants,
    range_length,
    restrict,
)

MAX_RELATIVE_ERROR = 0.5


@dataclass(frozen=True)
class Spectrum:
    """A database's frequency spectrum on one range: lines (n) and r → N_r, the types r lines carry."""

    lines: int
    counts: dict[int, int]

    def singleton_frequency(self) -> float | None:
        """Turing's frequency of a type one line carries, 2·N₂/N₁/n; None when N₁ or N₂ is 0 or
        its relative standard error exceeds `MAX_RELATIVE_ERROR`."""
        n1, n2 = self.counts.get(1, 0), self.counts.get(2, 0)
        if not n1 or not n2:
            return None
        star = 2 * n2 / n1
        error = math.sqrt(4 * n2 / n1**2 * (1 + n2 / n1))
        return star / self.lines if error <= MAX_RELATIVE_ERROR * star else None


def haplotype_type(
    variants: Iterable[Variant], wanted: Ranges, rules: ComparisonRules
) -> tuple[Variant, ...]:
    """A haplotype as the comparison reads it on a range: its variants there, those the rules
    ignore left out (two lines of one type cannot be told apart on that range)."""
    return tuple(v for v in restrict(variants, wanted) if not rules.ignored(v))


def spectra(
    profiles: Iterable[tuple[str, str]], ranges: Iterable[str], rules: ComparisonRules
) -> dict[str, Spectrum]:
    """The spectrum per compared range, over the database lines that read all of it (`profiles`:
    (range, haplotype), one per line)."""
    # A country's database holds hundreds of thousands of lines but far fewer distinct profiles
    # and ranges: each is read once, and a type counts its lines.
    lines = Counter(profiles)
    members = [(r, parse_variants(h), count) for (r, h), count in lines.items()]
    member_ranges = {r: parse_range(r) for r in {r for r, _, _ in members}}
    out: dict[str, Spectrum] = {}
    for text in set(ranges):
        wanted = parse_range(text)
        if not wanted:
            continue
        length = range_length(wanted)
        reads = {r: range_length(intersect_ranges(wanted, m)) == length for r, m in member_ranges.items()}
        types: Counter[tuple[Variant, ...]] = Counter()
        for r, variants, count in members:
            if reads[r]:
                types[haplotype_type(variants, wanted, rules)] += count
        if types:
            out[text] = Spectrum(sum(types.values()), dict(Counter(types.values())))
    return out
