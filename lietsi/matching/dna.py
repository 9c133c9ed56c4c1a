"""DNA: (remains, martyr) pairs, the frequency database and the DNA likelihood ratio.

Every (remains, reference) pair within one difference from the deletion-key index
(`candidate_search`) is re-compared by the forensic rules (`lietsi.lab.comparison`); the martyr's
verdict is his best reference's, and a reference of his that excludes is flagged. x and n, the
DNA factor's denominator, are counted in the province's database (one profile per maternal line)
on the range compared.

The DNA factor follows SWGDAM: for `cannot_exclude`, LR = 1/p with p the upper Clopper–Pearson
bound of the haplotype's frequency among x matches in n database profiles; an `inconclusive`
pair gets no DNA weight (LR set by `inconclusive_lr`, 1 by default) and can never be proposed on
its own; an exclusion is LR 0.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

import polars as pl

from lietsi.lab.comparison import (
    Comparison,
    ComparisonRules,
    Difference,
    comparable,
    compare_sites,
    effective_sites,
    ignored_variants,
    site_difference,
    site_label,
)
from lietsi.lab.frequencies import relative_lines
from lietsi.lab.mtdna import Ranges, format_range, intersect_ranges, parse_range, parse_variants, range_length
from lietsi.matching import candidate_search
from lietsi.matching.candidate_search import find_candidates
from lietsi.matching.evidence import EvidenceSettings, Factor
from lietsi.reasons import encode, reason
from lietsi.reasons import text as reason_text
from lietsi.stats import clopper_pearson_upper


# A profile's variants, parsed once per haplotype text (its range is read apart: `_common_range`).
@lru_cache(maxsize=200_000)
def _variants(haplotype: str):
    return parse_variants(haplotype)


@lru_cache(maxsize=200_000)
def compare_profiles(
    a_range: str, a_hap: str, b_range: str, b_hap: str, rules: ComparisonRules
) -> Comparison:
    common = _common_range(a_range, b_range)
    return compare_sites(_sites(a_hap, common, rules), _sites(b_hap, common, rules), common, rules)


@lru_cache(maxsize=4096)
def _common_range(a_range: str, b_range: str) -> Ranges:
    return intersect_ranges(parse_range(a_range), parse_range(b_range))


# The range compared, as a pair's text: a few distinct ranges for millions of pairs nationally.
@lru_cache(maxsize=4096)
def _range_text(ranges: Ranges) -> str:
    return format_range(ranges) if ranges else ""


# A remains' profile is compared with each of its candidates' references, a common reference with
# many remains: each profile's sites on a range are found once (`comparison.effective_sites`).
@lru_cache(maxsize=65_536)
def _sites(haplotype: str, common: Ranges, rules: ComparisonRules):
    return effective_sites(_variants(haplotype or ""), common, rules)


@dataclass(frozen=True)
class Database:
    """A population database of mtDNA profiles, one per maternal line: what x and n count."""

    name: str
    version: str
    profiles: pl.DataFrame  # line_id, range, haplotype


def database_version(profiles: pl.DataFrame) -> str:
    """A digest of the database's content: the same profiles give the same version."""
    digest = hashlib.sha256()
    for row in profiles.select("line_id", "range", "haplotype").sort("line_id").iter_rows():
        digest.update("\t".join(str(v) for v in row).encode() + b"\n")
    return digest.hexdigest()[:12]


def province_database(population: pl.DataFrame, candidates: pl.DataFrame) -> Database:
    """The province's database: profiles of relatives who consented (a donor who did not is never
    processed), one per maternal line (its smallest relative id); a relative on no recorded line is
    a line of their own. population: relative_id, range, haplotype, consent."""
    line_of = relative_lines(candidates)
    members = (
        population.filter(pl.col("consent").fill_null(False))
        .with_columns(
            line_id=pl.col("relative_id")
            .replace_strict(line_of, default=None, return_dtype=pl.String)
            .fill_null(pl.lit("relative:") + pl.col("relative_id"))
        )
        .sort("relative_id")
        .unique("line_id", keep="first", maintain_order=True)
        .select("line_id", "range", "haplotype")
    )
    name = "province references (consenting relatives, one per maternal line)"
    return Database(name, database_version(members), members)


def dna_pairs(
    remains_profiles: pl.DataFrame,
    refs: pl.DataFrame,
    database: Database,
    rules: ComparisonRules,
    independent: Database | None = None,
    found: pl.DataFrame | None = None,
    counted: DatabaseSide | None = None,
    reference_sites: dict | None = None,
) -> pl.DataFrame:
    """(remains, martyr) pairs within one difference on the martyr's best reference, with the
    database count x and size n counted for that pair (`pair_counts`). `found`: the (remains_id,
    relative_id) pairs to compare when the caller chose them (a national run lists only some,
    `lietsi.national.listing`); by default every pair within one difference. `counted`:
    `database`'s side (`database_side`) when the caller compares several batches against it;
    `reference_sites`: the references' sites (`compare_pairs`), kept by such a caller."""
    reference_sites = {} if reference_sites is None else reference_sites
    if found is None:
        rp = remains_profiles.select(id="remains_id", range="range", haplotype="haplotype")
        ref_profiles = refs.unique("relative_id").select(
            id="relative_id", range="range", haplotype="haplotype"
        )
        found = find_candidates(rp, ref_profiles, rules).rename({"id_a": "remains_id", "id_b": "relative_id"})
    if found.height <= _COMPARED_PAIRS:
        return _dna_pairs(
            remains_profiles, refs, database, rules, independent, found, counted, None, reference_sites
        )
    # A national run lists millions of pairs: compared per chunk of remains (a remains' pairs
    # together, the chunks in remains order), the databases prepared once.
    sides = counted or database_side(database, rules), independent and database_side(independent, rules)
    chunks = found.sort("remains_id").with_columns(
        chunk=(pl.int_range(pl.len()) // _COMPARED_PAIRS).min().over("remains_id")
    )
    return pl.concat(
        _dna_pairs(
            remains_profiles, refs, database, rules, independent, chunk.drop("chunk"), *sides, reference_sites
        )
        for _, chunk in chunks.group_by("chunk", maintain_order=True)
    )


# (remains, reference) pairs compared at once: a chunk's pairs and its profile pairs' comparison
# texts are Python rows until its frame is built.
_COMPARED_PAIRS = 500_000


def _dna_pairs(
    remains_profiles: pl.DataFrame,
    refs: pl.DataFrame,
    database: Database,
    rules: ComparisonRules,
    independent: Database | None,
    found: pl.DataFrame,
    counted: DatabaseSide | None,
    counted_independent: DatabaseSide | None,
    reference_sites: dict,
) -> pl.DataFrame:
    # A few thousand ranges and haplotypes over a million pairs: joined, made unique and looked up
    # by their categories' codes rather than by their texts.
    texts = pl.col("range", "haplotype").cast(pl.Categorical)
    prof = remains_profiles.select("remains_id", texts).rename({"range": "r_range", "haplotype": "r_hap"})
    references = refs.select("relative_id", "martyr_id", "line_id", texts)
    pairs = found.join(references, on="relative_id").join(prof, on="remains_id")
    # Every reference of each candidate martyr, for those that exclude the remains.
    others = (
        pairs.select("remains_id", "martyr_id")
        .unique()
        .join(references.drop("line_id"), on="martyr_id")
        .join(prof, on="remains_id")
    )
    # Pairs share profiles (common haplotypes): each distinct pair of profiles is compared once.
    profile = ["r_range", "r_hap", "range", "haplotype"]
    profile_pairs = pl.concat([pairs.select(profile), others.select(profile)]).unique(maintain_order=True)
    derived = compare_pairs(profile_pairs, rules, reference_sites)
    profile_pairs = pl.concat([profile_pairs, derived], how="horizontal")
    compared = pairs.join(
        profile_pairs,
        on=profile,
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).select(
        pl.col("remains_id").cast(pl.String),
        pl.col("martyr_id").cast(pl.String),
        pl.col("relative_id").cast(pl.String),
        pl.col("line_id").cast(pl.String),
        pl.col("range").cast(pl.String).alias("reference_range"),
        *_COMPARED,
    )
    compared = compared.filter(pl.col("verdict") != "not_comparable")
    # Each martyr's best reference is found on the four keys alone and its row then taken once:
    # sorting the wide rows and taking every column's first per group moved them twice.
    first = (
        compared.select("remains_id", "martyr_id", "differences", "relative_id")
        .with_row_index("row")
        .sort("remains_id", "martyr_id", "differences", "relative_id")
        .group_by("remains_id", "martyr_id", maintain_order=True)
        .agg(pl.col("row").first(), n_references_matching=pl.len())
    )
    best = compared[first["row"]].with_columns(first["n_references_matching"])
    excluding = (
        others.join(profile_pairs.select(*profile, "verdict"), on=profile, nulls_equal=True)
        .filter(pl.col("verdict") == "exclusion")
        .group_by(pl.col("remains_id").cast(pl.String), pl.col("martyr_id").cast(pl.String))
        .agg(excluding_references=pl.col("relative_id").cast(pl.String).sort().str.join(", "))
    )
    best = best.join(excluding, on=["remains_id", "martyr_id"], how="left")
    best = best.join(pair_counts(best, remains_profiles, database, rules, prepared=counted), on=["remains_id",
        "line_id", "compared_range"], how="left", nulls_equal=True)  # fmt: skip
    if independent is not None:
        other = pair_counts(
            best, remains_profiles, independent, rules, own_line=False, prepared=counted_independent
        ).select(
            "remains_id", "line_id", "compared_range", x_independent="x", n_independent="n",
            independent_database="database", independent_version="database_version",
        )  # fmt: skip
        best = best.join(other, on=["remains_id", "line_id", "compared_range"], how="left", nulls_equal=True)
    return best


# What a pair's row shows of its comparison (`compare_pairs`).
_COMPARED = {
    "differences": pl.Int64, "verdict": pl.String, "compared_range": pl.String,
    "differing_sites": pl.String, "heteroplasmies": pl.String, "ignored": pl.String,
}  # fmt: skip


def compare_pairs(
    profile_pairs: pl.DataFrame, rules: ComparisonRules, reference_sites: dict | None = None
) -> pl.DataFrame:
    """The comparison of each row's two profiles (range and haplotype of a, then of b) as a pair's
    row shows it (`_COMPARED`): `compare_profiles`' rules (`comparison.comparable`,
    `site_difference`, `ignored_variants`) without its objects, each profile's sites found once per
    range compared and each range pair's common range once (a national run compares hundreds of
    thousands of distinct profile pairs). `reference_sites`: b's sites, kept by a caller that
    compares several batches with the same references (`rules` the same)."""
    # Keyed by texts, whose hashes Python keeps: a profile's sites depend on its variants and the
    # range compared only. A national run's references meet the remains of every batch (21 at 100%):
    # their sites are found once per run, the remains' once per call.
    sites: dict[tuple[str | None, str], tuple] = {}
    kept: dict[tuple[str | None, str], tuple] = {} if reference_sites is None else reference_sites
    commons: dict[tuple[str, str], tuple[Ranges, bool, str]] = {}
    labels: dict[Difference, str] = {}
    ignored: dict[tuple[frozenset, frozenset], str] = {}

    def sites_of(haplotype: str | None, common: Ranges, common_text: str, cache: dict) -> tuple:
        """A profile's `effective_sites` on `common`, their items and the variants dropped, as
        frozensets (a frozenset keeps its hash and its members')."""
        key = (haplotype, common_text)
        found = cache.get(key)
        if found is None:
            effective, dropped = effective_sites(_variants(haplotype or ""), common, rules)
            found = cache[key] = (effective, frozenset(effective.items()), frozenset(dropped))
        return found

    def text(differences: list[Difference]) -> str:
        for d in differences:
            if d not in labels:
                labels[d] = site_label(*d)
        return "; ".join(labels[d] for d in differences)

    def ignored_text(dropped_a: frozenset, dropped_b: frozenset) -> str:
        key = (dropped_a, dropped_b)
        if key not in ignored:
            ignored[key] = "; ".join(f"{v} ({why})" for v, why in ignored_variants(dropped_a, dropped_b))
        return ignored[key]

    rows = []
    for a_range, a_hap, b_range, b_hap in profile_pairs.iter_rows():
        if (a_range, b_range) not in commons:
            common = _common_range(a_range, b_range)
            commons[(a_range, b_range)] = (common, comparable(common, rules), _range_text(common))
        common, can, range_text = commons[(a_range, b_range)]
        sites_a, items_a, dropped_a = sites_of(a_hap, common, range_text, sites)
        sites_b, items_b, dropped_b = sites_of(b_hap, common, range_text, kept)
        counted, hets = site_difference(sites_a, sites_b, rules, (items_a, items_b))
        rows.append((
            len(counted),
            rules.verdict(len(counted)) if can else "not_comparable",
            range_text,
            text(counted),
            text(hets),
            ignored_text(dropped_a, dropped_b),
        ))  # fmt: skip
    return pl.DataFrame(rows, schema=_COMPARED, orient="row")


@dataclass
class DatabaseSide:
    """A database's profiles prepared for `pair_counts`, once for a caller that counts several
    batches of pairs against it (the national listing)."""

    side: candidate_search.PreparedSide  # the lines as profile groups
    member_ranges: list[str]  # the ranges the lines were read over; a range's number is its place
    group_ranges: pl.DataFrame  # group_b, member (the number of its range)
    lines: pl.DataFrame  # line_id, line_group, member
    range_lines: Counter[str]  # range text → lines read over it
    keys: dict = field(default_factory=dict)  # `candidate_search.group_pairs`' keys of `side`
    reading: dict = field(default_factory=dict)  # compared range → `_reading_keys`


def database_side(database: Database, rules: ComparisonRules) -> DatabaseSide:
    members = database.profiles.select(id="line_id", range="range", haplotype="haplotype")
    side = candidate_search.prepare(members, rules)
    member_ranges = sorted(side.groups["range"].unique().to_list())
    numbers = pl.DataFrame({"range": member_ranges}, schema={"range": pl.String}).with_row_index("member")
    group_ranges = side.groups.join(numbers, on="range").select(group_b="group", member="member")
    lines = side.members.select(line_id="id", line_group="group").join(
        group_ranges, left_on="line_group", right_on="group_b"
    )
    range_of = dict(members.select("id", "range").iter_rows())
    return DatabaseSide(side, member_ranges, group_ranges, lines, Counter(range_of.values()))


@lru_cache(maxsize=4096)
def _reads_all(compared: str, member: str) -> bool:
    wanted = parse_range(compared)
    return range_length(intersect_ranges(wanted, parse_range(member))) == range_length(wanted)


def _reading_keys(
    db: DatabaseSide, compared_range: str, wanted: Ranges, rules: ComparisonRules
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The keys on `compared_range` (`wanted`) of the database's groups that read all of it:
    (group, key) of every such group; (key, lines): per key, the lines of the groups that have no
    other key there; (group, key) of the groups that have several (heteroplasmies). Kept in `db`
    for the next batch of pairs."""
    if compared_range not in db.reading:
        frames = []
        for member in db.member_ranges:
            common = intersect_ranges(wanted, db.side.ranges[member])
            # The range pairs `candidate_search.group_pairs` compares, of lines that read all of it.
            if sum(hi - lo + 1 for lo, hi in common) >= rules.min_overlap and _reads_all(
                compared_range, member
            ):
                frames.append(candidate_search.group_keys(db.side, member, common, db.keys))
        keys = pl.concat(frames) if frames else pl.DataFrame(schema={"group": pl.UInt32, "key": pl.UInt64})
        count = keys.group_by("group").len()
        alone = keys.join(count.filter(pl.col("len") == 1), on="group", how="semi")
        lines = (
            alone.join(db.side.members.group_by("group").agg(lines=pl.len()), on="group")
            .group_by("key")
            .agg(pl.col("lines").sum())
        )
        several = keys.join(count.filter(pl.col("len") > 1), on="group", how="semi")
        db.reading[compared_range] = (keys, lines, several)
    return db.reading[compared_range]


def pair_counts(
    pairs: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    database: Database,
    rules: ComparisonRules,
    own_line: bool = True,
    prepared: DatabaseSide | None = None,
) -> pl.DataFrame:
    """x and n of each pair (remains_id, line_id, compared_range), counted on the range compared
    (remains ∩ reference): n the database profiles that read all of it, x those of them that
    cannot be excluded from the remains on it. The pair's own maternal line is the case, not the
    population (SWGDAM: frequencies from a database independent of the case): when the database
    holds it, it leaves n and, if it matches, x (`own_line_removed`). `prepared`: the database's
    side (`database_side`) when the caller counts several batches against it."""
    schema = {"remains_id": pl.String, "line_id": pl.String, "compared_range": pl.String, "x": pl.Int64,
              "n": pl.Int64, "own_line_removed": pl.Boolean, "database": pl.String,
              "database_version": pl.String}  # fmt: skip
    if pairs.is_empty():
        return pl.DataFrame(schema=schema)
    db = prepared or database_side(database, rules)
    haplotype = dict(remains_profiles.select("remains_id", "haplotype").iter_rows())
    # A query is a remains' profile on a range compared, a range compared and a range read are
    # numbered: the frames below join on those numbers rather than on texts.
    compared_ranges = sorted(pairs["compared_range"].unique().to_list())
    n_of = {
        compared: sum(count for rg, count in db.range_lines.items() if _reads_all(compared, rg))
        for compared in compared_ranges
    }
    compared = pl.DataFrame(
        {"compared_range": compared_ranges, "n": list(n_of.values())},
        schema={"compared_range": pl.String, "n": pl.Int64},
    ).with_row_index("c")
    queries = (
        pairs.group_by("remains_id", "compared_range")
        .agg(pl.col("line_id").unique())
        .with_row_index("query")
        .join(compared, on="compared_range")
    )
    query_frame = queries.select(
        id="query",
        range="compared_range",
        haplotype=pl.col("remains_id").replace_strict(haplotype, return_dtype=pl.String).fill_null(""),
    )
    # Matched by profile group, counted by group size: a common haplotype matches thousands of
    # lines, and listing them per query grew with the square of a country; the counts are frames.
    query_side = candidate_search.prepare(query_frame, rules)
    reads = pl.DataFrame(
        [
            (c, member, _reads_all(compared_range, member_range))
            for c, compared_range in enumerate(compared_ranges)
            for member, member_range in enumerate(db.member_ranges)
        ],
        schema={"c": pl.UInt32, "member": pl.UInt32, "reads": pl.Boolean},
        orient="row",
    )
    query_groups = query_side.members.select(query="id", group_a="group")
    group_c = query_groups.join(queries.select("query", "c"), on="query").select("group_a", "c").unique()
    # A query and a line match when their profiles share a key on the range compared, among the
    # lines that read all of it: x is summed per key rather than over the matching pairs of groups
    # (a common haplotype's queries each match thousands of groups: they grew with the square of a
    # country). A group of several keys there (heteroplasmies) is paired with the queries, and a
    # group too varied for keys is compared one by one (`candidate_search.oversized_pairs`).
    queried, read, per_key, varied = [], [], [], []
    for c, compared_range in enumerate(compared_ranges):
        wanted, number = query_side.ranges[compared_range], pl.lit(c, pl.UInt32).alias("c")
        keys, lines, several = _reading_keys(db, compared_range, wanted, rules)
        own_keys = candidate_search.group_keys(query_side, compared_range, wanted)
        queried.append(own_keys.select(number, "key", group_a="group"))
        read.append(keys.select(number, "key", line_group="group"))
        per_key.append(lines.select(number, "key", "lines"))
        varied.append(several.select(number, "key", group_b="group"))
    query_keys, line_keys, key_lines, several = map(pl.concat, (queried, read, per_key, varied))
    sizes = db.side.members.group_by(pl.col("group").alias("group_b")).agg(lines=pl.len())
    paired = pl.concat(
        [
            query_keys.join(several, on=["c", "key"]).select("group_a", "group_b"),
            candidate_search.oversized_pairs(query_side, db.side, rules, 0)
            .join(group_c, on="group_a")
            .join(db.group_ranges, on="group_b")
            .join(reads.filter("reads"), on=["c", "member"], how="semi")
            .select("group_a", "group_b"),
        ]
    ).unique()
    x_of = (
        pl.concat(
            [
                query_keys.join(key_lines, on=["c", "key"]).select("group_a", "lines"),
                paired.join(sizes, on="group_b").select("group_a", "lines"),
            ]
        )
        .group_by("group_a")
        .agg(x=pl.col("lines").sum().cast(pl.Int64))
    )
    counted = (
        queries.join(query_groups, on="query", how="left")
        .explode("line_id")
        .join(x_of, on="group_a", how="left")
        .join(db.lines, on="line_id", how="left")
        .join(reads, on=["c", "member"], how="left")
    )
    # Whether the pair's own line is among those x counts: it shares a key with the query, or was
    # paired with it one by one.
    own_hits = pl.concat(
        [
            counted.select("group_a", "c", "line_group")
            .drop_nulls()
            .unique()
            .join(line_keys, on=["c", "line_group"])
            .join(query_keys, on=["group_a", "c", "key"], how="semi")
            .select("group_a", "line_group"),
            paired.select("group_a", line_group="group_b"),
        ]
    ).unique()
    counted = counted.join(
        own_hits.with_columns(hit=pl.lit(True)), on=["group_a", "line_group"], how="left"
    ).with_columns(own=pl.lit(own_line) & pl.col("reads").fill_null(False))
    return counted.select(
        "remains_id",
        "line_id",
        "compared_range",
        x=pl.col("x").fill_null(0) - (pl.col("own") & pl.col("hit").fill_null(False)).cast(pl.Int64),
        n=pl.col("n") - pl.col("own").cast(pl.Int64),
        own_line_removed="own",
        database=pl.lit(database.name, pl.String),
        database_version=pl.lit(database.version, pl.String),
    )


def not_comparable_martyrs(
    remains_profiles: pl.DataFrame, refs: pl.DataFrame, rules: ComparisonRules
) -> dict[str, list[str]]:
    """remains_id → sampled martyrs none of whose references shares `rules.min_overlap` positions
    with the remains' range. Such a pair cannot be compared: for that remains the martyr counts as
    unsampled (DNA LR 1, his place and prior as for any martyr without a reference), never as
    excluded."""
    ranges_of: dict[str, set[str]] = {}
    for martyr_id, rg in refs.select("martyr_id", "range").unique().iter_rows():
        ranges_of.setdefault(martyr_id, set()).add(rg)

    @lru_cache(maxsize=4096)
    def overlap(a: str, b: str) -> int:
        return range_length(intersect_ranges(parse_range(a), parse_range(b)))

    by_range: dict[str, list[str]] = {}
    out: dict[str, list[str]] = {}
    for remains_id, rg in remains_profiles.select("remains_id", "range").iter_rows():
        if rg not in by_range:
            by_range[rg] = sorted(
                m for m, rgs in ranges_of.items() if all(overlap(rg, o) < rules.min_overlap for o in rgs)
            )
        if by_range[rg]:
            out[remains_id] = by_range[rg]
    return out


def merge_remains_samples(
    remains_profiles: pl.DataFrame, rules: ComparisonRules
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Several samples of one remains (two bones, a re-test) are compared with each other. When
    they agree (no difference on the range both read) the remains is matched on the one read over
    the longest range; when any two differ the remains is not matched at all (two people in one
    grave, or a contaminated sample) and is returned with the reason for the lab.
    Returns (one profile per remains, discordant remains: remains_id, reason, reason_codes)."""
    frame = remains_profiles
    if "sample_id" not in frame.columns:
        frame = frame.with_columns(sample_id=pl.col("remains_id") + "#" + pl.int_range(pl.len()).cast(str))
    kept: list[dict] = []
    discordant: list[tuple[str, str | None, str | None]] = []
    for _, group in frame.sort("remains_id", "sample_id").group_by("remains_id", maintain_order=True):
        samples = group.to_dicts()
        conflicts = []
        for a, b in itertools.combinations(samples, 2):
            c = compare_profiles(a["range"], a["haplotype"], b["range"], b["haplotype"], rules)
            if c.differences:
                sites = "; ".join(s.label for s in c.sites)
                conflicts.append(f"{a['sample_id']} / {b['sample_id']} differ at {sites}")
        if conflicts:
            codes = [reason("outcome.discordant_samples", conflicts="; ".join(conflicts))]
            discordant.append((samples[0]["remains_id"], reason_text(codes), encode(codes)))
        else:
            longest = max(range_length(parse_range(r["range"])) for r in samples)
            kept.append(next(r for r in samples if range_length(parse_range(r["range"])) == longest))
    merged = pl.DataFrame(kept, schema=frame.schema) if kept else frame.clear()
    return merged.select(remains_profiles.columns), pl.DataFrame(
        discordant,
        schema={"remains_id": pl.String, "reason": pl.String, "reason_codes": pl.String},
        orient="row",
    )


def dna_factor(
    verdict: str,
    differences: int,
    x: int,
    n: int,
    s: EvidenceSettings,
    independent: tuple[int, int] | None = None,
) -> Factor:
    """x of n: profiles of the province's database (one per maternal line, read over the whole
    range compared) that cannot be excluded from the remains' profile on that range; `independent`
    the same count in an independent database when one is configured. The frequency is the larger
    of the two upper bounds, then corrected for maternal kinship within villages:
    p = θ + (1 − θ)·p_upper (Balding–Nichols for a haploid marker)."""
    if verdict == "exclusion":
        why = [reason("factor.dna_excluded", differences=differences)]
        return Factor("dna", 0.0, why, {"differences": differences})
    p_province = clopper_pearson_upper(x, n, s.confidence)
    p_other = clopper_pearson_upper(*independent, s.confidence) if independent and independent[1] else None
    source = "independent" if p_other is not None and p_other > p_province else "province"
    p_upper = p_other if source == "independent" else p_province
    p = s.theta + (1 - s.theta) * p_upper
    values = {"differences": differences, "x": x, "n": n, "p_upper": round(p_upper, 6), "theta": s.theta}
    values |= {"frequency_from": source, "p": round(p, 6)}
    if independent is not None:
        values |= {"x_independent": independent[0], "n_independent": independent[1]}
    if verdict == "cannot_exclude":
        numbers = {"x": x, "n": n, "p_upper": p_upper, "confidence": s.confidence, "p": p, "theta": s.theta}
        why = (
            reason("factor.dna_cannot_exclude", **numbers, lr=1.0 / p)
            if source == "province"
            else reason(
                "factor.dna_cannot_exclude_independent",
                **numbers,
                lr=1.0 / p,
                x_independent=independent[0],
                n_independent=independent[1],
            )
        )
        return Factor("dna", 1.0 / p, [why], values)
    return Factor(
        "dna",
        s.inconclusive_lr,
        [reason("factor.dna_inconclusive", differences=differences, lr=s.inconclusive_lr)],
        values,
    )


def pair_dna_factor(rec: dict, s: EvidenceSettings) -> Factor:
    """The pair's DNA factor, its text naming where x and n were counted."""
    independent = (rec["x_independent"], rec["n_independent"]) if rec.get("n_independent") else None
    factor = dna_factor(rec["verdict"], rec["differences"], rec["x"], rec["n"], s, independent)
    if factor.lr == 0.0:
        return factor
    own = "factor.dna_own_line" if rec.get("own_line_removed") else "factor.dna_own_line_absent"
    where = [
        reason(
            "factor.dna_counted",
            range=rec["compared_range"],
            database=rec.get("database"),
            version=rec.get("database_version"),
        ),
        reason(own),
    ]
    if independent:
        where.append(
            reason(
                "factor.dna_independent_database",
                database=rec.get("independent_database"),
                version=rec.get("independent_version"),
            )
        )
    values = {
        **factor.values,
        "range": rec["compared_range"],
        "database": rec.get("database"),
        "database_version": rec.get("database_version"),
        "own_line_removed": rec.get("own_line_removed"),
    }
    return replace(factor, why=[*factor.why, *where], values=values)
