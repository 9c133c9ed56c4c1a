"""Comparison of two mtDNA profiles by the SWGDAM / ISFG interpretation rules.

A profile is a set of differences from rCRS (`lietsi.lab.mtdna.Variant`) plus the range the lab read.
Two profiles are compared only on the range both cover. Length variation in the homopolymeric
C-stretches and in the AC repeat at 514-524, and the phylogenetic hotspots that labs call
inconsistently, are not counted, and a
point heteroplasmy (an IUPAC code such as `16093Y` = C/T) is no difference when it shares a base
with the other profile. The number of remaining differing sites gives the verdict:
0 → `cannot_exclude`, 1 → `inconclusive`, ≥ 2 → `exclusion` (all three thresholds are settings).

Every rule lives in `ComparisonRules`, so a laboratory with other conventions changes settings,
not code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from lietsi.lab.mtdna import BASES, HETEROPLASMY_CODES, Ranges, covers, intersect_ranges, parse_variant, rcrs

Verdict = Literal["cannot_exclude", "inconclusive", "exclusion", "not_comparable"]
Site = tuple[int, int]

# PhyloTree 17's hotspots, in PhyloTree notation (`309.1CC` = two inserted Cs, `523d` = deletion).
DEFAULT_HOTSPOTS: tuple[str, ...] = (
    "309.1C", "309.1CC", "315.1C", "523d", "524d", "524.1AC", "524.1ACAC",
    "3107d", "16182C", "16183C", "16193.1C", "16193.1CC", "16519C",
)  # fmt: skip
# Homopolymeric C-stretches where only substitutions count (HV1, HV2, HV3), inclusive rCRS positions.
DEFAULT_C_STRETCHES: Ranges = ((16180, 16193), (303, 316), (568, 573))
# The AC dinucleotide repeat (CACACACACAC, 514-524): its copy number varies between and within
# maternal relatives as the C-stretches' length does, and labs write one event as 523d 524d,
# 521-524d or 524.1ACAC; PhyloTree lists only some of those forms as hotspots.
DEFAULT_AC_REPEAT: Ranges = ((514, 524),)


class VariantLike(Protocol):
    position: int
    insertion: int
    allele: str


@dataclass(frozen=True)
class ComparisonRules:
    """The interpretation settings; the defaults are SWGDAM practice with PhyloTree's hotspots."""

    c_stretches: Ranges = DEFAULT_C_STRETCHES
    hotspots: tuple[str, ...] = DEFAULT_HOTSPOTS
    ignore_length_variants_in_c_stretches: bool = True
    ac_repeat: Ranges = DEFAULT_AC_REPEAT
    ignore_length_variants_in_ac_repeat: bool = True
    ignore_hotspots: bool = True
    heteroplasmy_concordance: bool = True
    # Fewer shared positions than this and the pair is not compared at all (`not_comparable`).
    min_overlap: int = 200
    # differences ≤ cannot_exclude_max → cannot_exclude; ≤ inconclusive_max → inconclusive; else exclusion
    cannot_exclude_max: int = 0
    inconclusive_max: int = 1
    _hotspot_keys: frozenset[tuple[int, int, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: set[tuple[int, int, str]] = set()
        for text in self.hotspots:
            keys.update((v.position, v.insertion, v.allele) for v in parse_variant(text))
        object.__setattr__(self, "_hotspot_keys", frozenset(keys))

    def ignored(self, v: VariantLike) -> str | None:
        """Why a variant is left out of the comparison, or None when it counts."""
        if self.ignore_hotspots and (v.position, v.insertion, v.allele) in self._hotspot_keys:
            return "hotspot"
        if v.insertion > 0 or v.allele == "del":
            if self.ignore_length_variants_in_c_stretches and covers(self.c_stretches, v.position):
                return "C-stretch length variant"
            if self.ignore_length_variants_in_ac_repeat and covers(self.ac_repeat, v.position):
                return "AC-repeat length variant"
        return None

    def verdict(self, differences: int) -> Verdict:
        if differences <= self.cannot_exclude_max:
            return "cannot_exclude"
        if differences <= self.inconclusive_max:
            return "inconclusive"
        return "exclusion"


def reference_allele(site: Site) -> str:
    """The rCRS base at a site; an insertion site has no base ('-')."""
    position, insertion = site
    return "-" if insertion else rcrs()[position - 1]


# Looked up for every differing site of every pair compared (millions nationally): built once.
_BASE_SETS: dict[str, frozenset[str]] = {**{b: frozenset(b) for b in BASES}, **HETEROPLASMY_CODES}


def base_set(allele: str) -> frozenset[str] | None:
    """The bases an allele stands for; None for a deletion or an absent inserted base."""
    return _BASE_SETS.get(allele)


def concordant(a: str, b: str, rules: ComparisonRules) -> bool:
    """Whether two alleles at one site are no difference (IUPAC heteroplasmy shares a base)."""
    if a == b:
        return True
    if not rules.heteroplasmy_concordance:
        return False
    set_a, set_b = base_set(a), base_set(b)
    return set_a is not None and set_b is not None and bool(set_a & set_b)


@dataclass(frozen=True)
class SiteDifference:
    position: int
    insertion: int
    allele_a: str  # base, IUPAC code, "del", or "-" for no inserted base
    allele_b: str

    @property
    def label(self) -> str:
        return site_label(self.position, self.insertion, self.allele_a, self.allele_b)


def site_label(position: int, insertion: int, allele_a: str, allele_b: str) -> str:
    """A differing site as a pair's text shows it (`16223: C / T`)."""
    site = f"{position}.{insertion}" if insertion else str(position)
    return f"{site}: {allele_a} / {allele_b}"


@dataclass(frozen=True)
class Comparison:
    differences: int
    verdict: Verdict
    compared_range: Ranges
    sites: tuple[SiteDifference, ...]  # the counted differences, in rCRS order
    concordant_heteroplasmies: tuple[SiteDifference, ...]
    ignored: tuple[tuple[str, str], ...]  # (variant, reason) left out by the rules


def variant_label(v: VariantLike) -> str:
    site = f"{v.position}.{v.insertion}" if v.insertion else str(v.position)
    return f"{site}{v.allele}"


def effective_sites(
    variants: Iterable[VariantLike], ranges: Ranges, rules: ComparisonRules
) -> tuple[dict[Site, str], list[tuple[str, str]]]:
    """The variants that count, keyed by site, restricted to `ranges`; and those the rules drop."""
    kept: dict[Site, str] = {}
    dropped: list[tuple[str, str]] = []
    for v in variants:
        if not covers(ranges, v.position):
            continue
        reason = rules.ignored(v)
        if reason:
            dropped.append((variant_label(v), reason))
        else:
            kept[(v.position, v.insertion)] = v.allele
    return kept, dropped


def compare(
    a: Sequence[VariantLike],
    a_range: Ranges,
    b: Sequence[VariantLike],
    b_range: Ranges,
    rules: ComparisonRules | None = None,
) -> Comparison:
    """Compare profile a with profile b on the range both cover."""
    rules = rules or ComparisonRules()
    common = intersect_ranges(a_range, b_range)
    return compare_sites(effective_sites(a, common, rules), effective_sites(b, common, rules), common, rules)


def compare_sites(
    a: tuple[dict[Site, str], list[tuple[str, str]]],
    b: tuple[dict[Site, str], list[tuple[str, str]]],
    common: Ranges,
    rules: ComparisonRules,
) -> Comparison:
    """`compare` on each profile's `effective_sites` on the range both cover: a caller comparing one
    profile with many computes its sites once per range."""
    (sites_a, dropped_a), (sites_b, dropped_b) = a, b
    counted, hets = site_difference(sites_a, sites_b, rules)
    return Comparison(
        differences=len(counted),
        verdict=rules.verdict(len(counted)) if comparable(common, rules) else "not_comparable",
        compared_range=common,
        sites=tuple(SiteDifference(*d) for d in counted),
        concordant_heteroplasmies=tuple(SiteDifference(*d) for d in hets),
        ignored=ignored_variants(dropped_a, dropped_b),
    )


# A differing site: (position, insertion, allele of a, allele of b).
Difference = tuple[int, int, str, str]


def comparable(common: Ranges, rules: ComparisonRules) -> bool:
    """Whether the range both profiles cover is long enough to compare them on."""
    return sum(hi - lo + 1 for lo, hi in common) >= rules.min_overlap


def site_difference(
    sites_a: dict[Site, str],
    sites_b: dict[Site, str],
    rules: ComparisonRules,
    items: tuple[frozenset[tuple[Site, str]], frozenset[tuple[Site, str]]] | None = None,
) -> tuple[list[Difference], list[Difference]]:
    """The counted differences and the concordant heteroplasmies between two profiles'
    `effective_sites`, each in rCRS order. `items`: each profile's sites' items as frozensets, kept
    by a caller comparing a profile with many (their hashes are not computed again per pair)."""
    counted: list[Difference] = []
    hets: list[Difference] = []
    items_a, items_b = items or (sites_a.items(), sites_b.items())
    # A site where both carry the same allele is no difference: only the others are looked at.
    for site in sorted({site for site, _ in items_a ^ items_b}):
        allele_a = sites_a.get(site) or reference_allele(site)
        allele_b = sites_b.get(site) or reference_allele(site)
        if allele_a == allele_b:
            continue
        diff = (site[0], site[1], allele_a, allele_b)
        if concordant(allele_a, allele_b, rules):
            hets.append(diff)
        else:
            counted.append(diff)
    return counted, hets


def ignored_variants(
    dropped_a: Iterable[tuple[str, str]], dropped_b: Iterable[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """The (variant, reason) pairs the rules left out of either profile, sorted."""
    return tuple(sorted(set(dropped_a) | set(dropped_b)))
