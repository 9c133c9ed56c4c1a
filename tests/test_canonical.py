"""Canonical profiles: one sequence, one profile, whatever notation the lab wrote it in (issue 13).

Property tests over PhyloTree's equivalent notations (`rules.csv`) and random indel placements in
the control region's repeats: two spellings of one sequence give 0 differences and one frequency
key; one real substitution gives exactly one difference.
"""

import csv
import os
import random
from pathlib import Path

import polars as pl
import pytest

from lietsi.lab.alignment import apply_variants, call_read, normalize_profile
from lietsi.lab.comparison import DEFAULT_HOTSPOTS, ComparisonRules, compare
from lietsi.lab.frequencies import frequency_key
from lietsi.lab.mtdna import CONTROL_REGION, Variant, covers, format_variants, parse_variants, rcrs
from lietsi.lab.profiles import build_profiles

# ../shared/reference next to the repo, as on CI; LIETSI_SHARED_DIR points elsewhere on a dev machine.
SHARED = Path(os.environ.get("LIETSI_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
RULES = SHARED / "reference" / "mtdna" / "rules.csv"
needs_rules = pytest.mark.skipif(not RULES.is_file(), reason="../shared/reference not present")

CR = CONTROL_REGION


def canonical(text: str) -> tuple[Variant, ...]:
    return normalize_profile(CR, parse_variants(text)).variants


def differences(a: str, b: str) -> int:
    return compare(canonical(a), CR, canonical(b), CR).differences


def same_sequence(a: tuple[Variant, ...], b: tuple[Variant, ...]) -> bool:
    return apply_variants(CR, a) == apply_variants(CR, b)


def in_control_region(variants: tuple[Variant, ...]) -> bool:
    return all(covers(CR, v.position) for v in variants)


@pytest.mark.parametrize(
    ("written", "other"),
    [
        ("57.1C", "58C 60.1T"),
        ("56d 58A", "55.1T 59d 60d"),
        ("188.1GC 193C 195d 196d", "189G 192C 194T 195C 196C"),
        ("309.1CT 310C", "309.1C 315.1C"),
    ],
)
def test_the_issues_examples_are_one_sequence(written, other):
    assert same_sequence(parse_variants(written), parse_variants(other))
    assert canonical(written) == canonical(other)
    assert differences(written, other) == 0
    assert frequency_key(canonical(written), CR) == frequency_key(canonical(other), CR)


def _rules_pairs() -> list[tuple[str, str]]:
    pairs = []
    with RULES.open(newline="") as f:
        for row in csv.DictReader(f):
            a, b = row["error"].strip(), row["expected"].strip()
            try:
                va, vb = parse_variants(a), parse_variants(b)
            except ValueError:
                continue  # `573.XC` (any number of Cs) and the like: a pattern, not a sequence
            if in_control_region(va + vb) and same_sequence(va, vb):
                pairs.append((a, b))
    return pairs


@needs_rules
def test_every_equivalent_pair_of_phylotree_rules_is_one_profile():
    pairs = _rules_pairs()
    assert len(pairs) >= 40  # the file's control-region equivalences, not an empty loop
    wrong = [
        (a, b, format_variants(canonical(a)), format_variants(canonical(b)))
        for a, b in pairs
        if canonical(a) != canonical(b)
        or normalize_profile(CR, canonical(a)).variants != canonical(a)
        or differences(a, b) != 0
        or frequency_key(canonical(a), CR) != frequency_key(canonical(b), CR)
    ]
    assert wrong == []


def _repeats(min_units: int = 2) -> list[tuple[int, int, int]]:
    """(first position, unit length, copies) of homopolymers (≥ 3) and di-/tri-nucleotide repeats
    (≥ min_units copies) in the control region, rCRS positions, away from the range's ends (where a
    read cannot tell a deletion from the end of what it read)."""
    seq = rcrs()
    found = []
    for lo, hi in ((a + 25, b - 25) for a, b in CR):
        for unit in (1, 2, 3):
            p = lo
            while p + unit <= hi:
                motif = seq[p - 1 : p - 1 + unit]
                copies = 1
                while p + (copies + 1) * unit - 1 <= hi and seq[p - 1 + copies * unit :].startswith(motif):
                    copies += 1
                if copies >= (3 if unit == 1 else min_units) and len(set(motif)) == unit:
                    found.append((p, unit, copies))
                    p += copies * unit
                else:
                    p += 1
    return found


def _background(rng: random.Random, avoid: range) -> list[Variant]:
    """A few substitutions away from the repeat under test, as a real haplotype carries."""
    seq = rcrs()
    out = []
    for _ in range(rng.randint(0, 6)):
        lo, hi = rng.choice(CR)
        p = rng.randint(lo, hi)
        if p in avoid or p - 1 in avoid or p + 1 in avoid or p == 3107:
            continue
        out.append(Variant(p, 0, rng.choice(sorted(set("ACGT") - {seq[p - 1]}))))
    return out


def test_random_indel_placements_in_repeats_are_one_profile():
    rng = random.Random(13)
    seq = rcrs()
    repeats = _repeats()
    assert len(repeats) > 50
    checked = 0
    for _ in range(120):
        start, unit, copies = rng.choice(repeats)
        motif = seq[start - 1 : start - 1 + unit]
        span = range(start - 1, start + copies * unit + 1)
        background = _background(rng, span)
        spellings = set()
        if rng.random() < 0.5:
            # One copy deleted, written at each copy of the repeat.
            for copy in range(copies):
                first = start + copy * unit
                spellings.add(tuple(Variant(first + i, 0, "del") for i in range(unit)))
        else:
            # One copy inserted, written after each copy (and before the first).
            for copy in range(copies + 1):
                after = start + copy * unit - 1
                spellings.add(tuple(Variant(after, i + 1, motif[i]) for i in range(unit)))
        profiles = [tuple(sorted(set(background) | set(s))) for s in spellings]
        assert all(same_sequence(profiles[0], p) for p in profiles)
        calls = {normalize_profile(CR, p).variants for p in profiles}
        assert len(calls) == 1, (start, unit, copies, [format_variants(p) for p in profiles], calls)
        (call,) = calls
        assert normalize_profile(CR, call).variants == call  # the canonical form is a fixed point
        (read,) = apply_variants(CR, profiles[0])
        assert call_read(read).variants == call  # a FASTA read of the sequence: the same profile
        keys = {frequency_key(normalize_profile(CR, p).variants, CR) for p in profiles}
        assert len(keys) == 1
        checked += len(profiles)
    assert checked > 240


def _hotspot_site(v: Variant) -> bool:
    return any(
        (h.position, h.insertion, h.allele) == (v.position, v.insertion, v.allele)
        for text in DEFAULT_HOTSPOTS
        for h in parse_variants(text)
    )


def test_any_single_real_substitution_is_exactly_one_difference():
    rng = random.Random(7)
    seq = rcrs()
    rules = ComparisonRules()
    tried = 0
    while tried < 150:
        lo, hi = rng.choice(CR)
        p = rng.randint(lo, hi)
        base = rng.choice(sorted(set("ACGT") - {seq[p - 1]}))
        substitution = Variant(p, 0, base)
        if p == 3107 or _hotspot_site(substitution):
            continue
        background = _background(rng, range(p - 1, p + 2))
        # An indel in a repeat elsewhere, written where the lab chose.
        start, unit, copies = rng.choice(_repeats())
        if not start <= p < start + copies * unit + 1 and abs(start - p) > 5:
            background.append(Variant(start + rng.randrange(copies) * unit, 0, "del"))
        background = sorted(set(background))
        a = normalize_profile(CR, tuple(background)).variants
        b = normalize_profile(CR, tuple(sorted({*background, substitution}))).variants
        c = compare(a, CR, b, CR, rules)
        assert c.differences == 1, (format_variants(background), substitution, c.sites)
        tried += 1


def test_csv_row_and_fasta_read_of_one_sample_are_one_profile():
    sequence_haplotype = "56d 58A 16223T 16519C"
    lab_notation = "55.1T 59d 60d 16223T 16519C"
    (read,) = apply_variants(CR, parse_variants(sequence_haplotype))
    results = pl.DataFrame(
        [
            {"sample_id": "S1", "format": "csv", "range": "16024-16569,1-576", "haplotype": lab_notation,
             "sequence": None, "quality": "Đạt", "file": "a.csv", "row_number": 2},
            {"sample_id": "S1", "format": "fasta", "range": None, "haplotype": None,
             "sequence": read, "quality": None, "file": "b.fasta", "row_number": 1},
        ]
    )  # fmt: skip
    samples = pl.DataFrame(
        [{"sample_id": "S1", "sample_kind": "Hài cốt", "remains_id": "HC1", "file": "m.csv", "row_number": 2}]
    )
    profiles, quarantine = build_profiles(results, samples)
    assert quarantine.is_empty()
    assert profiles["haplotype"].to_list() == [format_variants(canonical(sequence_haplotype))]
    assert profiles["results"].to_list() == [2]
