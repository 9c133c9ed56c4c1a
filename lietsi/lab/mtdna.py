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
(3'-most) placement is the lab's job or :mod:`lietsi.lab.alignment`'s; this module only parses and
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
# Two-base IUPAC codes are the point heteroplasmies labs report (`16093Y` = C/T).
HETEROPLASMY_CODES: dict[str, frozenset[str]] = {
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "S": frozenset("CG"),
    "W": frozenset("AT"),
}
# N and the three-base codes say the lab could not call the base: the site is not read (it leaves
# the range), never a heteroplasmy and never the rCRS base. `D` is read as a deletion (HaploGrep
# writes `249D`/`249d`), never as the IUPAC "not C".
UNREAD_CODES: dict[str, frozenset[str]] = {
    "B": frozenset("CGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
    "N": frozenset("ACGT"),
}
ALLELES = BASES | frozenset(HETEROPLASMY_CODES)

_TOKEN = re.compile(r"^([ACGT](?=\d))?(\d+)(?:\.(\d*))?([A-Za-z]+|-)$")
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


class ReferenceBaseError(ValueError):
    """A token states a reference base that is not rCRS's (`T16223C`: rCRS 16223 is C)."""


class UnknownCodeError(ValueError):
    """An allele letter that is neither a base, an IUPAC code, nor a deletion."""


def _read_token(token: str) -> tuple[tuple[Variant, ...], int | None]:
    """One EMPOP token → (its variants, the position it marks as not read, or None)."""
    m = _TOKEN.match(token.strip())
    if not m:
        raise ValueError(f"not an EMPOP variant: {token!r}")
    stated, position = m.group(1), int(m.group(2))
    dot, allele = m.group(3), m.group(4)
    if stated and 1 <= position <= RCRS_LENGTH and position != 3107 and rcrs()[position - 1] != stated:
        raise ReferenceBaseError(
            f"{token!r} states reference base {stated} at {position}, rCRS has {rcrs()[position - 1]}"
        )
    if allele in _DELETION_SPELLINGS:
        if dot is not None:
            raise ValueError(f"an inserted base cannot be deleted: {token!r}")
        return (Variant(position, 0, DELETION),), None
    allele = allele.upper()
    unknown = sorted(set(allele) - ALLELES - set(UNREAD_CODES))
    if unknown:
        raise UnknownCodeError(f"unknown IUPAC code {''.join(unknown)} in {token!r}")
    if set(allele) & set(UNREAD_CODES):
        return (), position
    if dot is None:
        if len(allele) != 1:
            raise ValueError(f"a substitution has one allele: {token!r}")
        return (Variant(position, 0, allele),), None
    # `309.CC` and `309.1CC` both mean two bases inserted after 309; `309.2C` alone is the 2nd one.
    first = int(dot) if dot else 1
    if first == 0:
        raise ValueError(f"insertion index starts at 1: {token!r}")
    return tuple(Variant(position, first + i, base) for i, base in enumerate(allele)), None


def parse_variant(token: str) -> tuple[Variant, ...]:
    """One EMPOP token → its variants (several for a compact multi-base insertion ``309.1CC``)."""
    variants, unread = _read_token(token)
    if unread is not None:
        raise ValueError(f"not a variant: {token!r} marks a base that was not read")
    return variants


def parse_reported(text: str | None) -> tuple[tuple[Variant, ...], tuple[int, ...]]:
    """A lab's EMPOP text → (canonical sorted variants, positions it marks as not read with `N` or
    a three-base code). Raises ValueError naming the offending token (`ReferenceBaseError`,
    `UnknownCodeError` for the two hygiene faults)."""
    by_site: dict[tuple[int, int], Variant] = {}
    unread: set[int] = set()
    for token in _SEPARATORS.split(text or ""):
        if not token:
            continue
        variants, position = _read_token(token)
        if position is not None:
            unread.add(position)
        for v in variants:
            seen = by_site.get((v.position, v.insertion))
            if seen is not None and seen != v:
                raise ValueError(f"conflicting alleles at one site: {seen} and {v}")
            by_site[(v.position, v.insertion)] = v
    return tuple(sorted(by_site.values())), tuple(sorted(unread))


def parse_variants(text: str | None) -> tuple[Variant, ...]:
    """EMPOP text → canonical sorted variants. Raises ValueError naming the offending token.

    Repeating a variant is harmless; two different alleles at one site are an error, and so is a
    base marked as not read (`parse_reported` accepts those).
    """
    variants, unread = parse_reported(text)
    if unread:
        raise ValueError(f"bases not read at {', '.join(map(str, unread))}")
    return variants


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


def without_positions(ranges: Iterable[tuple[int, int]], positions: Iterable[int]) -> Ranges:
    """The range with some positions taken out (bases the lab could not call)."""
    spans = list(normalize_ranges(ranges))
    for p in sorted(set(positions)):
        out: list[tuple[int, int]] = []
        for a, b in spans:
            if a <= p <= b:
                out += [(a, p - 1)] if a < p else []
                out += [(p + 1, b)] if p < b else []
            else:
                out.append((a, b))
        spans = out
    return normalize_ranges(spans) if spans else ()


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
