"""Candidate search at national scale: 300,000 remains × 500,000 reference profiles.

Haplotypes come from the generator's lineage sampler (`lietsi.synth.haplotypes`: Vietnamese
haplogroup shares, PhyloTree 17 motifs, shared private mutations, lab-level heteroplasmy and
C-stretch noise), read over a realistic mix of ranges (full control region, HV1+HV2, HV1 only).
The timed part is `prepare` + `group_pairs`: every (remains, reference) pair within one difference,
returned as pairs of profile groups (identical range and haplotype); the number of profile pairs
they stand for is counted, not listed (hundreds of millions with common haplotypes). A sample of
remains is then checked against brute force over every reference group.

Target: ≤ 60 s on the 2-core machine. Run with `python -m benchmarks.matching` or `make bench`.
"""

from __future__ import annotations

import random
import sys
import time

import polars as pl

from lietsi.lab.comparison import ComparisonRules, compare
from lietsi.lab.mtdna import parse_range, parse_variants
from lietsi.matching.candidate_search import group_pairs, pair_count, prepare
from lietsi.synth.haplotypes import haplotype_text, new_lineage, observed, restrict

N_REMAINS = 300_000
N_REFERENCES = 500_000
TARGET_SECONDS = 60.0
CR, HV12, HV1 = "16024-16569,1-576", "16024-16365,73-340", "16024-16365"
REMAINS_RANGES = ((CR, 0.60), (HV12, 0.25), (HV1, 0.15))
REFERENCE_RANGES = ((CR, 0.85), (HV12, 0.12), (HV1, 0.03))
_REGIONS = {CR: ((16024, 16569), (1, 576)), HV12: ((16024, 16365), (73, 340)), HV1: ((16024, 16365),)}


def synthetic_profiles(n: int, prefix: str, ranges, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    names = [r for r, _ in ranges]
    weights = [w for _, w in ranges]
    ids, range_col, haps = [], [], []
    for i in range(n):
        lineage = new_lineage(rng, f"{prefix}{i}", salt=7)
        read = rng.choices(names, weights)[0]
        region = _REGIONS[read]
        ids.append(f"{prefix}{i}")
        range_col.append(read)
        haps.append(haplotype_text(restrict(observed(rng, lineage.variants), region)))
    return pl.DataFrame({"id": ids, "range": range_col, "haplotype": haps})


def brute_force_check(remains: pl.DataFrame, side_a, side_b, pairs: pl.DataFrame, rules, n: int) -> int:
    """Compare `n` random remains groups with every reference group; return the mismatches."""
    rng = random.Random(3)
    groups_a = side_a.groups.rows()
    groups_b = [(g, parse_range(r), parse_variants(h)) for g, r, h in side_b.groups.iter_rows()]
    found = {(a, b): d for a, b, d in pairs.iter_rows()}
    mismatches = 0
    for g, r, h in rng.sample(groups_a, n):
        ra, va = parse_range(r), parse_variants(h)
        for gb, rb, vb in groups_b:
            c = compare(va, ra, vb, rb, rules)
            expected = c.differences if c.verdict != "not_comparable" and c.differences <= 1 else None
            if found.get((g, gb)) != expected:
                mismatches += 1
    return mismatches


def main() -> int:
    rules = ComparisonRules()
    t0 = time.perf_counter()
    remains = synthetic_profiles(N_REMAINS, "R", REMAINS_RANGES, seed=1)
    references = synthetic_profiles(N_REFERENCES, "F", REFERENCE_RANGES, seed=2)
    print(f"matching: generated {remains.height:,} remains and {references.height:,} references "
          f"in {time.perf_counter() - t0:.1f} s (not timed)")  # fmt: skip

    t1 = time.perf_counter()
    side_a = prepare(remains, rules)
    side_b = prepare(references, rules)
    pairs = group_pairs(side_a, side_b, rules)
    elapsed = time.perf_counter() - t1

    n_pairs = pair_count(side_a, side_b, pairs)
    zero = pair_count(side_a, side_b, pairs.filter(pl.col("differences") == 0))
    print(f"matching: {side_a.groups.height:,} remains groups × {side_b.groups.height:,} reference groups → "
          f"{pairs.height:,} group pairs = {n_pairs:,} profile pairs within one difference "
          f"({zero:,} with none) in {elapsed:.1f} s (target ≤ {TARGET_SECONDS:.0f} s)")  # fmt: skip
    mismatches = brute_force_check(remains, side_a, side_b, pairs, rules, n=3)
    print(f"matching: brute-force check of 3 remains groups against every reference group: "
          f"{mismatches} mismatches")  # fmt: skip
    ok = elapsed <= TARGET_SECONDS and mismatches == 0
    print(f"matching: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
