"""mtDNA notation shared by the lab, matching and generator stages.

A profile is a set of differences from the revised Cambridge Reference Sequence (rCRS, NC_012920.1,
16,569 bp) written in EMPOP notation, plus the range of rCRS positions the lab read:

- substitution ``16223T``; point heteroplasmy with an IUPAC code ``16093Y``;
- insertion ``315.1C`` (first base inserted after position 315), ``524.1A 524.2C``; the compact
  ``309.1CC`` is accepted and expanded to ``309.1C 309.2C``;
- deletion ``249del``, also accepted as ``249-``, ``249d`` or ``249DEL``;
- range ``16024-16569,1-576`` (inclusive, 1-based; a control-region read wraps the origin).

Canonical text is one variant per inserted/changed base, sorted by (position, insertion index),
deletions written ``<pos>del``. Where an insertion or deletion sits in a repeat, the phylogenetic
(3'-most) placement is the lab's job or :mod:`lietsi.alignment`'s; this module only parses and
formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

RCRS_LENGTH = 16569
DELETION = "del"

BASES = frozenset("ACGT")
# Two-base IUPAC codes are the heteroplasmies labs report; three-base codes are accepted but rare.
# `D` is read as a deletion (HaploGrep writes `249D`/`249d`), never as the IUPAC "not C".
HETEROPLASMY_CODES: dict[str, frozenset[str]] = {
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "S": frozenset("CG"),
    "W": frozenset("AT"),
    "B": frozenset("CGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
}
ALLELES = BASES | frozenset(HETEROPLASMY_CODES)

_TOKEN = re.compile(r"^(?:[ACGT](?=\d))?(\d+)(?:\.(\d*))?([A-Za-z]+|-)$")
_DELETION_SPELLINGS = frozenset({"-", "d", "D", "del", "DEL", "Del"})
_SEPARATORS = re.compile(r"[\s,;]+")
_RANGE_PART = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


@dataclass(frozen=True, order=True)
class Variant:
    """One difference from rCRS: ``insertion`` is 0 except for the k-th inserted base ``pos.k``."""

    position: int
    insertion: int
    allele: str

    def __post_init__(self) -> None:
        if not 1 <= self.position <= RCRS_LENGTH:
            raise ValueError(f"position {self.position} outside rCRS 1-{RCRS_LENGTH}")
        if self.insertion < 0:
            raise ValueError(f"negative insertion index in {self.position}.{self.insertion}")
        if self.allele == DELETION:
            if self.insertion:
                raise ValueError(f"an inserted base cannot be deleted: {self.position}.{self.insertion}")
        elif self.allele not in ALLELES:
            raise ValueError(f"allele {self.allele!r} is not a base, IUPAC code or 'del'")

    @property
    def is_deletion(self) -> bool:
        return self.allele == DELETION

    @property
    def is_insertion(self) -> bool:
        return self.insertion > 0

    @property
    def is_heteroplasmy(self) -> bool:
        return self.allele in HETEROPLASMY_CODES

    def __str__(self) -> str:
        site = f"{self.position}.{self.insertion}" if self.insertion else str(self.position)
        return site + self.allele


def parse_variant(token: str) -> tuple[Variant, ...]:
    """One EMPOP token → its variants (several for a compact multi-base insertion ``309.1CC``)."""
    m = _TOKEN.match(token.strip())
    if not m:
        raise ValueError(f"not an EMPOP variant: {token!r}")
    position = int(m.group(1))
    dot, allele = m.group(2), m.group(3)
    if allele in _DELETION_SPELLINGS:
        if dot is not None:
            raise ValueError(f"an inserted base cannot be deleted: {token!r}")
        return (Variant(position, 0, DELETION),)
    allele = allele.upper()
    if dot is None:
        if len(allele) != 1:
            raise ValueError(f"a substitution has one allele: {token!r}")
        return (Variant(position, 0, allele),)
    # `309.CC` and `309.1CC` both mean two bases inserted after 309; `309.2C` alone is the 2nd one.
    first = int(dot) if dot else 1
    if first == 0:
        raise ValueError(f"insertion index starts at 1: {token!r}")
    return tuple(Variant(position, first + i, base) for i, base in enumerate(allele))


def parse_variants(text: str | None) -> tuple[Variant, ...]:
    """EMPOP text → canonical sorted variants. Raises ValueError naming the offending token.

    Repeating a variant is harmless; two different alleles at one site are an error.
    """
    by_site: dict[tuple[int, int], Variant] = {}
    for token in _SEPARATORS.split(text or ""):
        if not token:
            continue
        for v in parse_variant(token):
            seen = by_site.get((v.position, v.insertion))
            if seen is not None and seen != v:
                raise ValueError(f"conflicting alleles at one site: {seen} and {v}")
            by_site[(v.position, v.insertion)] = v
    return tuple(sorted(by_site.values()))


def format_variants(variants: Iterable[Variant]) -> str:
    """Canonical EMPOP text: sorted by (position, insertion), space separated."""
    return " ".join(str(v) for v in sorted(set(variants)))


def canonical_haplotype(text: str | None) -> str:
    return format_variants(parse_variants(text))


Ranges = tuple[tuple[int, int], ...]
# The control region as labs read it: HV1 through the origin to HV2/HV3 (rCRS 16024-16569, 1-576).
CONTROL_REGION: Ranges = ((16024, RCRS_LENGTH), (1, 576))


def normalize_ranges(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Merge overlapping/adjacent intervals, sorted by start; a control-region set lists its HV1 part
    first, so a read through the origin is written ``16024-16569,1-576`` as labs do."""
    spans: list[tuple[int, int]] = []
    for start, end in ranges:
        for a, b in ((start, RCRS_LENGTH), (1, end)) if start > end else ((start, end),):
            if not (1 <= a <= b <= RCRS_LENGTH):
                raise ValueError(f"range {a}-{b} outside rCRS 1-{RCRS_LENGTH}")
            spans.append((a, b))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    hv1_start, hv2_end = CONTROL_REGION[0][0], CONTROL_REGION[1][1]
    if all(b <= hv2_end or a >= hv1_start for a, b in merged):
        merged.sort(key=lambda span: (span[0] < hv1_start, span[0]))
    return tuple(merged)


def parse_range(text: str | None) -> Ranges:
    """``16024-16569,1-576`` (or ``;``/space separated, or wrapping ``16024-576``) → intervals."""
    parts: list[tuple[int, int]] = []
    cleaned = re.sub(r"\s*-\s*", "-", (text or "").strip())
    for part in _SEPARATORS.split(cleaned):
        if not part:
            continue
        m = _RANGE_PART.match(part)
        if not m:
            raise ValueError(f"not an rCRS range: {part!r}")
        start = int(m.group(1))
        parts.append((start, int(m.group(2)) if m.group(2) else start))
    if not parts:
        raise ValueError("empty range")
    return normalize_ranges(parts)


def format_range(ranges: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{a}-{b}" for a, b in normalize_ranges(ranges))


def covers(ranges: Iterable[tuple[int, int]], position: int) -> bool:
    return any(a <= position <= b for a, b in ranges)


def range_length(ranges: Iterable[tuple[int, int]]) -> int:
    return sum(b - a + 1 for a, b in normalize_ranges(ranges))


def intersect_ranges(left: Iterable[tuple[int, int]], right: Iterable[tuple[int, int]]) -> Ranges:
    """Positions read in both ranges (the only ones two profiles can be compared on)."""
    right = normalize_ranges(right)
    out = [
        (max(a, c), min(b, d)) for a, b in normalize_ranges(left) for c, d in right if max(a, c) <= min(b, d)
    ]
    return normalize_ranges(out) if out else ()


def restrict(variants: Iterable[Variant], ranges: Iterable[tuple[int, int]]) -> tuple[Variant, ...]:
    """Variants inside the range; an insertion after position p counts as inside when p is."""
    ranges = normalize_ranges(ranges)
    return tuple(sorted(v for v in variants if covers(ranges, v.position)))


@lru_cache(maxsize=1)
def rcrs() -> str:
    """The rCRS sequence (16,569 bp, position 3107 is the placeholder ``N``) from the evehap package
    data (genepi/phylotree-rcrs-17, MIT); index ``rcrs()[p - 1]`` for position p."""
    text = resources.files("evehap").joinpath("data/reference/rCRS.fasta").read_text()
    seq = "".join(line.strip() for line in text.splitlines() if line and not line.startswith(">")).upper()
    if len(seq) != RCRS_LENGTH:
        raise RuntimeError(f"evehap's rCRS has {len(seq)} bp, expected {RCRS_LENGTH}")
    return seq
