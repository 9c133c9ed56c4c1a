"""Every pair of profiles within one difference, without comparing all pairs.

Comparing 300,000 remains with 500,000 references pair by pair is 1.5·10¹¹ comparisons. Instead:

1. Profiles are grouped by (range, haplotype): identical profiles are handled once.
2. For each pair of ranges (one remains range, one reference range) the haplotypes are projected
   on the range both cover, with the comparison rules' ignored variants (C-stretch length
   variants, hotspots) removed. A point heteroplasmy expands the profile into one version per
   base it stands for (with the rCRS base meaning "no variant"), so two profiles are concordant
   at a site exactly when some pair of their versions is equal there.
3. A haplotype is a set of (site, allele) tokens, one per site; its key is the XOR of 64-bit token
   hashes. Its one-difference neighbourhood is the set of deletion keys `key ^ hash(token)`, one
   per token. Two haplotypes differ at ≤ 1 site exactly when one of these joins matches:
   key = key (0 differences); deletion = key (one has a variant the other lacks);
   (deletion, site) = (deletion, site) with different alleles (both vary at one site).
   A hash collision can only add a candidate, never lose one; the pipeline re-compares every
   candidate with `lietsi.lab.comparison.compare`, so the final result is exact.

The joins are hash joins in polars, so the work grows with the number of distinct haplotypes and
of pairs found, not with the product of the two sides.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from lietsi.lab.comparison import ComparisonRules, compare
from lietsi.lab.mtdna import HETEROPLASMY_CODES, Ranges, intersect_ranges, parse_range, parse_variant, rcrs

_TOKEN_SCHEMA = {"exp": pl.UInt32, "pos": pl.Int32, "site": pl.Int64, "h": pl.UInt64}
# Beyond this many versions a profile (too many heteroplasmies) is compared one by one instead.
MAX_EXPANSIONS = 64


def _token_hash(site: tuple[int, int], allele: str) -> int:
    digest = hashlib.blake2b(f"{site[0]}.{site[1]}{allele}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass
class PreparedSide:
    """One side's profiles, grouped by (range, haplotype) and expanded into token rows."""

    members: pl.DataFrame  # id, group
    groups: pl.DataFrame  # group, range, haplotype
    ranges: dict[str, Ranges]  # range text → intervals
    group_range: dict[str, list[int]]  # range text → groups with that range
    expansions: pl.DataFrame  # exp, group
    tokens: pl.DataFrame  # exp, pos, site, h
    oversized: list[int]  # groups with more than MAX_EXPANSIONS versions

    def restrict(self, groups: list[int]) -> PreparedSide:
        """The side's `groups` only, with their numbers: `group_pairs` on a batch of one side."""
        kept = set(groups)
        batch = pl.DataFrame({"group": sorted(kept)}, schema={"group": pl.UInt32})
        expansions = self.expansions.join(batch, on="group", how="semi", maintain_order="left")
        group_range = {r: g for r, gs in self.group_range.items() if (g := [x for x in gs if x in kept])}
        return PreparedSide(
            members=self.members.join(batch, on="group", how="semi", maintain_order="left"),
            groups=self.groups.join(batch, on="group", how="semi", maintain_order="left"),
            ranges={r: self.ranges[r] for r in group_range},
            group_range=group_range,
            expansions=expansions,
            tokens=self.tokens.join(expansions.select("exp"), on="exp", how="semi", maintain_order="left"),
            oversized=[g for g in self.oversized if g in kept],
        )


class _TokenCache:
    def __init__(self, rules: ComparisonRules) -> None:
        self.rules = rules
        self._options: dict[str, list[list[tuple[int, int, int]]]] = {}
        self._ref = rcrs()

    def options(self, token: str) -> list[list[tuple[int, int, int]]]:
        """Per site of the token, the alternative (pos, site, hash) entries; [] means no token."""
        cached = self._options.get(token)
        if cached is not None:
            return cached
        out: list[list[tuple[int, int, int]]] = []
        for v in parse_variant(token):
            if self.rules.ignored(v):
                continue
            site = (v.position, v.insertion)
            site_id = v.position * 1000 + v.insertion
            bases = HETEROPLASMY_CODES.get(v.allele) if self.rules.heteroplasmy_concordance else None
            if bases is None:
                out.append([(v.position, site_id, _token_hash(site, v.allele))])
                continue
            reference = "-" if v.insertion else self._ref[v.position - 1]
            alternatives = []
            for base in sorted(bases):
                # The reference base is "no variant": the version carries no token at this site.
                alternatives.append(
                    (v.position, site_id, 0)
                    if base == reference
                    else (v.position, site_id, _token_hash(site, base))
                )
            out.append(alternatives)
        self._options[token] = out
        return out


def prepare(profiles: pl.DataFrame, rules: ComparisonRules) -> PreparedSide:
    """`profiles` has columns id, range, haplotype (canonical EMPOP text)."""
    grouped = (
        profiles.select("id", "range", "haplotype")
        .with_columns(pl.col("haplotype").fill_null(""))
        .with_columns(group=pl.struct("range", "haplotype").rank("dense").cast(pl.UInt32) - 1)
    )
    members = grouped.select("id", "group")
    groups = grouped.unique("group").sort("group").select("group", "range", "haplotype")
    cache = _TokenCache(rules)
    ranges: dict[str, Ranges] = {}
    group_range: dict[str, list[int]] = {}
    exp_group: list[int] = []
    t_exp: list[int] = []
    t_pos: list[int] = []
    t_site: list[int] = []
    t_h: list[int] = []
    oversized: list[int] = []
    for group, range_text, haplotype in groups.iter_rows():
        if range_text not in ranges:
            ranges[range_text] = parse_range(range_text)
        group_range.setdefault(range_text, []).append(group)
        fixed: list[tuple[int, int, int]] = []
        varying: list[list[tuple[int, int, int]]] = []
        for token in haplotype.split():
            for alternatives in cache.options(token):
                if len(alternatives) == 1:
                    fixed.append(alternatives[0])
                else:
                    varying.append(alternatives)
        n_versions = 1
        for alternatives in varying:
            n_versions *= len(alternatives)
        if n_versions > MAX_EXPANSIONS:
            oversized.append(group)
            continue
        for choice in itertools.product(*varying):
            exp = len(exp_group)
            exp_group.append(group)
            for pos, site, h in itertools.chain(fixed, choice):
                if h:
                    t_exp.append(exp)
                    t_pos.append(pos)
                    t_site.append(site)
                    t_h.append(h)
    expansions = pl.DataFrame(
        {"exp": range(len(exp_group)), "group": exp_group}, schema={"exp": pl.UInt32, "group": pl.UInt32}
    )
    tokens = pl.DataFrame({"exp": t_exp, "pos": t_pos, "site": t_site, "h": t_h}, schema=_TOKEN_SCHEMA)
    return PreparedSide(members, groups, ranges, group_range, expansions, tokens, oversized)


def _in_ranges(column: str, ranges: Ranges) -> pl.Expr:
    expr = pl.lit(False)
    for lo, hi in ranges:
        expr = expr | pl.col(column).is_between(lo, hi)
    return expr


def _keys(side: PreparedSide, groups: list[int], common: Ranges) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Full keys (exp, key) and deletion keys (exp, key, site, h) on the common range."""
    exps = side.expansions.filter(pl.col("group").is_in(groups)).select("exp")
    tokens = side.tokens.join(exps, on="exp", how="semi").filter(_in_ranges("pos", common))
    full = exps.join(tokens.group_by("exp").agg(key=pl.col("h").bitwise_xor()), on="exp", how="left").select(
        "exp", pl.col("key").fill_null(0)
    )
    deletions = tokens.join(full, on="exp").select(
        "exp", (pl.col("key") ^ pl.col("h")).alias("key"), "site", "h"
    )
    return full, deletions


def _cached_keys(
    side: PreparedSide, range_text: str, common: Ranges, cache: dict
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`_keys` of the groups read over `range_text`, kept in `cache` per (range, common range)."""
    key = (range_text, tuple(common))
    if key not in cache:
        cache[key] = _keys(side, side.group_range[range_text], common)
    return cache[key]


def group_keys(
    side: PreparedSide, range_text: str, common: Ranges, cache: dict | None = None
) -> pl.DataFrame:
    """(group, key): the full keys on `common` of the versions of the groups read over
    `range_text`, each (group, key) once; two groups share a key exactly when `group_pairs` pairs
    them with 0 differences on that range. `cache`: `group_pairs`' `b_keys` for that side."""
    full, _ = _cached_keys(side, range_text, common, {} if cache is None else cache)
    return full.join(side.expansions, on="exp").select("group", "key").unique()


def _pairs_for(
    a: PreparedSide,
    a_range: str,
    b: PreparedSide,
    b_range: str,
    common: Ranges,
    max_differences: int,
    b_keys: dict,
):
    full_a, del_a = _keys(a, a.group_range[a_range], common)
    full_b, del_b = _cached_keys(b, b_range, common, b_keys)
    found = [full_a.join(full_b, on="key", suffix="_b").select("exp", "exp_b", d=pl.lit(0, pl.UInt8))]
    if max_differences >= 1:
        found += [
            del_a.join(full_b, on="key", suffix="_b").select("exp", "exp_b", d=pl.lit(1, pl.UInt8)),
            full_a.join(del_b, on="key", suffix="_b").select("exp", "exp_b", d=pl.lit(1, pl.UInt8)),
            del_a.join(del_b, on=["key", "site"], suffix="_b")
            .filter(pl.col("h") != pl.col("h_b"))
            .select("exp", "exp_b", d=pl.lit(1, pl.UInt8)),
        ]
    return pl.concat(found)


def _range_pairs(
    a: PreparedSide, b: PreparedSide, rules: ComparisonRules
) -> Iterator[tuple[str, str, Ranges]]:
    for a_range, a_intervals in a.ranges.items():
        for b_range, b_intervals in b.ranges.items():
            common = intersect_ranges(a_intervals, b_intervals)
            if sum(hi - lo + 1 for lo, hi in common) >= rules.min_overlap:
                yield a_range, b_range, common


def group_pairs(
    a: PreparedSide,
    b: PreparedSide,
    rules: ComparisonRules | None = None,
    max_differences: int = 1,
    b_keys: dict | None = None,
) -> pl.DataFrame:
    """(group_a, group_b, differences) for every pair of profile groups within `max_differences`.
    `b_keys`: a dict the caller keeps while it pairs several batches of one side (`restrict`) with
    the same `b`: b's keys per (range, common range) are then computed once, not per batch."""
    if max_differences > 1:
        raise ValueError("the deletion-key index finds pairs within one difference")
    rules = rules or ComparisonRules()
    b_keys = {} if b_keys is None else b_keys
    found = [
        _pairs_for(a, ar, b, br, common, max_differences, b_keys)
        for ar, br, common in _range_pairs(a, b, rules)
    ]
    exp_pairs = (
        pl.concat(found)
        if found
        else pl.DataFrame(schema={"exp": pl.UInt32, "exp_b": pl.UInt32, "d": pl.UInt8})
    )
    pairs = (
        exp_pairs.join(a.expansions, on="exp")
        .join(b.expansions.rename({"exp": "exp_b", "group": "group_b"}), on="exp_b")
        .group_by("group", "group_b")
        .agg(differences=pl.col("d").min())
        .rename({"group": "group_a"})
    )
    brute = oversized_pairs(a, b, rules, max_differences)
    if brute.height:
        pairs = pl.concat([pairs, brute]).group_by("group_a", "group_b").agg(pl.col("differences").min())
    return pairs


def oversized_pairs(
    a: PreparedSide, b: PreparedSide, rules: ComparisonRules, max_differences: int
) -> pl.DataFrame:
    """Profiles with too many heteroplasmies to expand, compared one by one."""
    rows: list[tuple[int, int, int]] = []
    parsed: dict[str, tuple] = {}

    def variants(text: str) -> tuple:
        if text not in parsed:
            parsed[text] = tuple(v for token in text.split() for v in parse_variant(token))
        return parsed[text]

    def sweep(side: PreparedSide, other: PreparedSide, flip: bool) -> None:
        if not side.oversized:
            return
        mine = side.groups.filter(pl.col("group").is_in(side.oversized))
        for g, r, hap in mine.iter_rows():
            for og, orange, ohap in other.groups.iter_rows():
                c = compare(variants(hap), side.ranges[r], variants(ohap), other.ranges[orange], rules)
                if c.verdict != "not_comparable" and c.differences <= max_differences:
                    rows.append((og, g, c.differences) if flip else (g, og, c.differences))

    sweep(a, b, flip=False)
    sweep(b, a, flip=True)
    return pl.DataFrame(
        rows, schema={"group_a": pl.UInt32, "group_b": pl.UInt32, "differences": pl.UInt8}, orient="row"
    )


def find_candidates(
    a: pl.DataFrame, b: pl.DataFrame, rules: ComparisonRules | None = None, max_differences: int = 1
) -> pl.DataFrame:
    """(id_a, id_b, differences) for every pair of profiles within `max_differences`.

    `a` and `b` have columns id, range, haplotype.
    """
    rules = rules or ComparisonRules()
    side_a, side_b = prepare(a, rules), prepare(b, rules)
    pairs = group_pairs(side_a, side_b, rules, max_differences)
    return (
        pairs.join(side_a.members.rename({"id": "id_a", "group": "group_a"}), on="group_a")
        .join(side_b.members.rename({"id": "id_b", "group": "group_b"}), on="group_b")
        .select("id_a", "id_b", "differences")
        .sort("id_a", "id_b")
    )


def pair_count(a: PreparedSide, b: PreparedSide, pairs: pl.DataFrame) -> int:
    """Number of profile pairs that the group pairs stand for (without listing them)."""
    size_a = a.members.group_by("group").len().rename({"group": "group_a", "len": "n_a"})
    size_b = b.members.group_by("group").len().rename({"group": "group_b", "len": "n_b"})
    joined = pairs.join(size_a, on="group_a").join(size_b, on="group_b")
    return int(joined.select((pl.col("n_a").cast(pl.Int64) * pl.col("n_b")).sum()).item() or 0)
