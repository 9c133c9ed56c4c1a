"""Comparison rules on hand-made profiles, and the candidate index against brute force."""

from __future__ import annotations

import random

import polars as pl
import pytest

from lietsi.lab.comparison import ComparisonRules, compare
from lietsi.lab.mtdna import parse_range, parse_variants
from lietsi.matching.candidate_search import find_candidates

CR = "16024-16569,1-576"
# A B4-like control region (no hotspots, no C-stretch length variants).
BASE = "16182C 16183C 16189C 16217C 16519C 73G 263G 315.1C"


def cmp(a: str, b: str, a_range: str = CR, b_range: str = CR, rules: ComparisonRules | None = None):
    return compare(parse_variants(a), parse_range(a_range), parse_variants(b), parse_range(b_range), rules)


def test_identical_profiles_cannot_be_excluded():
    c = cmp(BASE, BASE)
    assert (c.differences, c.verdict) == (0, "cannot_exclude")


def test_one_difference_is_inconclusive_two_exclude():
    one = cmp(BASE, BASE + " 16362C")
    assert (one.differences, one.verdict) == (1, "inconclusive")
    assert [s.label for s in one.sites] == ["16362: T / C"]
    two = cmp(BASE, BASE + " 16362C 150T")
    assert (two.differences, two.verdict) == (2, "exclusion")


def test_different_alleles_at_one_site_are_one_difference():
    c = cmp("16223T 73G", "16223A 73G")
    assert c.differences == 1
    assert c.sites[0].allele_a == "T" and c.sites[0].allele_b == "A"


@pytest.mark.parametrize(
    "extra",
    ["16193.1C", "16193.1C 16193.2C", "16184del", "309.1C", "309.1C 309.2C", "310.1C", "303.1C", "573.1C"],
)
def test_c_stretch_length_variants_are_not_differences(extra):
    c = cmp(BASE, BASE + " " + extra)
    assert c.differences == 0, c.sites
    assert c.ignored


def test_substitution_inside_a_c_stretch_still_counts():
    # 16189C is a real substitution (haplogroup B marker), not length variation.
    c = cmp("16217C 73G", "16189C 16217C 73G")
    assert (c.differences, c.verdict) == (1, "inconclusive")


@pytest.mark.parametrize(
    "hotspot", ["16519C", "16182C", "16183C", "523del", "524del", "524.1A 524.2C", "3107del"]
)
def test_hotspots_are_not_differences(hotspot):
    assert cmp("16223T 73G", "16223T 73G " + hotspot).differences == 0


def test_rules_can_be_switched_off():
    strict = ComparisonRules(ignore_hotspots=False, ignore_length_variants_in_c_stretches=False)
    assert cmp("16223T", "16223T 16519C 16193.1C", rules=strict).differences == 2
    assert cmp("16223T", "16223T 16519C 16193.1C").differences == 0


def test_heteroplasmy_sharing_a_base_is_no_difference():
    # rCRS 16093 is T; Y = C/T.
    assert cmp("16093Y 16223T", "16223T").differences == 0
    assert cmp("16093Y 16223T", "16093C 16223T").differences == 0
    c = cmp("16093Y 16223T", "16093A 16223T")
    assert c.differences == 1
    assert cmp("16093Y", "16093C", rules=ComparisonRules(heteroplasmy_concordance=False)).differences == 1
    # two heteroplasmies sharing a base (Y = C/T, M = A/C) are concordant
    assert cmp("16093Y", "16093M").differences == 0


def test_only_the_range_both_cover_is_compared():
    a = "16223T 16362C 73G 263G"
    b = "16223T 16362C"  # read HV1 only, so 73G and 263G are outside its range
    c = cmp(a, b, CR, "16024-16400")
    assert c.differences == 0 and c.compared_range == ((16024, 16400),)
    assert cmp(a, b).differences == 2


def test_too_small_an_overlap_is_not_compared():
    c = cmp("16223T", "16223T", "16024-16365", "16300-16400")
    assert c.verdict == "not_comparable"
    rules = ComparisonRules(min_overlap=50)
    assert cmp("16223T", "16223T", "16024-16365", "16300-16400", rules=rules).verdict == "cannot_exclude"


def test_thresholds_are_settings():
    lenient = ComparisonRules(cannot_exclude_max=0, inconclusive_max=2)
    assert cmp("16223T", "16223T 16362C 150T", rules=lenient).verdict == "inconclusive"


# --- candidate index vs brute force -------------------------------------------------------

_SITES = [16093, 16129, 16172, 16189, 16217, 16223, 16257, 16261, 16290, 16304, 16311, 16362, 16519,
          73, 150, 152, 195, 199, 204, 249, 263, 489]  # fmt: skip
_RANGES = [CR, CR, CR, "16024-16365,73-340", "16024-16400", "1-16569"]


def _random_profiles(rng: random.Random, n: int, prefix: str, motifs: list[list[int]]) -> pl.DataFrame:
    from lietsi.lab.mtdna import format_variants, rcrs

    ref = rcrs()
    rows = []
    for i in range(n):
        sites = set(rng.choice(motifs))
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            sites ^= {rng.choice(_SITES)}
        tokens = []
        for p in sorted(sites):
            alt = {"A": "G", "G": "A", "C": "T", "T": "C"}[ref[p - 1]]
            tokens.append(f"{p}{alt}")
        r = 1.0 if 16093 in sites else rng.random()
        if r < 0.1:
            tokens.append("16093Y")
        elif r < 0.15:
            tokens.append("16093C")
        if rng.random() < 0.3:
            tokens.append("315.1C")
        if rng.random() < 0.2:
            tokens.append("16519C")
        if rng.random() < 0.05 and 249 not in sites:
            tokens.append("249del")
        hap = format_variants(parse_variants(" ".join(tokens)))
        rows.append((f"{prefix}{i}", rng.choice(_RANGES), hap))
    return pl.DataFrame(rows, schema=["id", "range", "haplotype"], orient="row")


def test_index_finds_exactly_the_pairs_brute_force_finds():
    rng = random.Random(11)
    motifs = [rng.sample(_SITES, 5) for _ in range(6)]
    a = _random_profiles(rng, 150, "r", motifs)
    b = _random_profiles(rng, 200, "m", motifs)
    found = {(x, y): d for x, y, d in find_candidates(a, b).iter_rows()}
    brute = {}
    for ida, ra, ha in a.iter_rows():
        for idb, rb, hb in b.iter_rows():
            c = cmp(ha, hb, ra, rb)
            if c.verdict != "not_comparable" and c.differences <= 1:
                brute[(ida, idb)] = c.differences
    assert len(brute) > 500  # the sample really exercises the index
    assert sum(1 for d in brute.values() if d == 1) > 100
    assert found == brute


def test_index_with_zero_differences_only():
    rng = random.Random(5)
    motifs = [rng.sample(_SITES, 5) for _ in range(6)]
    a = _random_profiles(rng, 60, "r", motifs)
    b = _random_profiles(rng, 60, "m", motifs)
    found = set(find_candidates(a, b, max_differences=0).select("id_a", "id_b").iter_rows())
    brute = {
        (ida, idb)
        for ida, ra, ha in a.iter_rows()
        for idb, rb, hb in b.iter_rows()
        if cmp(ha, hb, ra, rb).verdict == "cannot_exclude"
    }
    assert found == brute and found


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("16223T 524.1A 524.2C", "16223T 524.1A 524.2C 524.3A 524.4C 524.5A 524.6C"),  # 524.1ACAC vs ACACAC
        ("16223T 523del 524del", "16223T 521del 522del 523del 524del"),
        ("16223T", "16223T 519del 520del 521del 522del 523del 524del"),
    ],
)
def test_ac_repeat_length_is_like_a_c_stretch(a, b):
    c = cmp(a, b)
    assert c.differences == 0 and c.verdict == "cannot_exclude"
    assert any("AC-repeat length variant" in why for _, why in c.ignored)
    # configurable: counted when switched off, and a substitution in the repeat always counts
    strict = ComparisonRules(ignore_length_variants_in_ac_repeat=False, ignore_hotspots=False)
    assert cmp(a, b, rules=strict).differences >= 2
    assert cmp(a, a.replace("16223T", "16223T 518T")).differences == 1


# --- pairs compared in bulk ---------------------------------------------------------------

_HAND_MADE = [
    (CR, BASE),
    (CR, BASE + " 16093Y"),  # heteroplasmy sharing a base with 16093C, and with rCRS's T
    (CR, BASE + " 16093C"),
    (CR, BASE.replace("315.1C", "315.1C 315.2C") + " 16184T"),  # C-stretch length, and a substitution in it
    (CR, BASE + " 309.1C 523del 524del"),  # hotspot, AC-repeat length
    (CR, BASE + " 16223T 249del"),
    ("16024-16365", "16182C 16183C 16189C 16217C 16223T"),  # HV1 only
    ("16024-16365,73-340", "16189C 16217C 73G 263G 315.1C"),
    ("400-576", "489C"),  # too small an overlap with HV1
    (CR, None),  # no variant reported
]


def test_pairs_compared_in_bulk_are_compared_as_one_by_one():
    from lietsi.lab.mtdna import format_range
    from lietsi.matching.dna import compare_pairs, compare_profiles

    rng = random.Random(3)
    motifs = [rng.sample(_SITES, 5) for _ in range(4)]
    random_profiles = list(_random_profiles(rng, 40, "p", motifs).select("range", "haplotype").iter_rows())
    profiles = _HAND_MADE + random_profiles
    pairs = pl.DataFrame(
        [(*a, *b) for a in profiles for b in profiles],
        schema=["r_range", "r_hap", "range", "haplotype"],
        orient="row",
    )
    for rules in (ComparisonRules(), ComparisonRules(ignore_hotspots=False, heteroplasmy_concordance=False)):
        bulk = compare_pairs(pairs, rules)
        one_by_one = []
        for row in pairs.iter_rows():
            c = compare_profiles(*row, rules)
            one_by_one.append((
                c.differences,
                c.verdict,
                format_range(c.compared_range) if c.compared_range else "",
                "; ".join(s.label for s in c.sites),
                "; ".join(s.label for s in c.concordant_heteroplasmies),
                "; ".join(f"{v} ({why})" for v, why in c.ignored),
            ))  # fmt: skip
        assert bulk.rows() == one_by_one
        verdicts = bulk["verdict"].value_counts()
        # every rule the comparison applies is exercised
        assert set(verdicts["verdict"]) == {"cannot_exclude", "inconclusive", "exclusion", "not_comparable"}
        assert (bulk["heteroplasmies"] != "").any() == rules.heteroplasmy_concordance
        assert (bulk["ignored"] != "").any() and (bulk["differing_sites"].str.count_matches(";") >= 2).any()
        # The references' sites kept across calls (a national run's batches) compare as found afresh:
        # in halves, each half's remains against every reference, the second half reading the kept sites.
        kept: dict = {}
        halves = [pairs[: pairs.height // 2], pairs[pairs.height // 2 :]]
        assert pl.concat([compare_pairs(half, rules, kept) for half in halves]).rows() == one_by_one
        assert {hap for hap, _ in kept} == set(pairs["haplotype"])


def test_x_and_n_per_key_are_the_brute_force_counts():
    """`dna.pair_counts` sums x per key: against every line compared one by one, with lines whose
    heteroplasmy gives them two keys on a range and a line too varied for keys (> 64 versions)."""
    from lietsi.lab.mtdna import format_range, intersect_ranges, range_length, rcrs
    from lietsi.matching.dna import Database, database_side, pair_counts

    rng = random.Random(17)
    motifs = [rng.sample(_SITES, 5) for _ in range(4)]
    lines = _random_profiles(rng, 150, "L", motifs).rename({"id": "line_id"})
    ref = rcrs()
    varied = " ".join(f"{p}{'R' if ref[p - 1] in 'AG' else 'Y'}" for p in sorted(_SITES[:7]))
    lines = pl.concat([lines, pl.DataFrame([("Lx", CR, varied)], schema=lines.schema, orient="row")])
    remains = _random_profiles(rng, 40, "r", motifs).rename({"id": "remains_id"})
    remains = pl.concat([remains, pl.DataFrame([("rx", CR, varied)], schema=remains.schema, orient="row")])
    database = Database("test db", "v1", lines)
    rules = ComparisonRules()
    ranges = ["16024-16365", CR, "16024-16365,73-340", "16024-16400"]
    line_ids = [*lines["line_id"].to_list(), "L-none"]  # and a line the database does not hold
    rows = []
    for remains_id, remains_range, _ in remains.iter_rows():
        for compared in rng.sample(ranges, 2):
            common = intersect_ranges(parse_range(remains_range), parse_range(compared))
            if range_length(common) >= rules.min_overlap:
                rows += [(remains_id, line, format_range(common)) for line in rng.sample(line_ids, 3)]
    pairs = pl.DataFrame(rows, schema=["remains_id", "line_id", "compared_range"], orient="row").unique()

    profile = {r: h for r, _, h in remains.iter_rows()}
    line_rows = list(lines.iter_rows())

    def brute(remains_id: str, line_id: str, compared: str) -> tuple[int, int, bool]:
        wanted = parse_range(compared)
        reading = [
            (lid, rg, h)
            for lid, rg, h in line_rows
            if range_length(intersect_ranges(wanted, parse_range(rg))) == range_length(wanted)
        ]
        hap = profile[remains_id]
        matching = {
            lid for lid, rg, h in reading if cmp(hap, h, compared, rg, rules).verdict == "cannot_exclude"
        }
        own = any(lid == line_id for lid, _, _ in reading)
        return len(matching) - (own and line_id in matching), len(reading) - own, own

    expected = {key: brute(*key) for key in pairs.iter_rows()}
    side = database_side(database, rules)
    for _ in range(2):  # the second time from the database side's kept keys
        counted = pair_counts(pairs, remains, database, rules, prepared=side)
        got = {
            (r, line, c): (x, n, own)
            for r, line, c, x, n, own in counted.select(
                "remains_id", "line_id", "compared_range", "x", "n", "own_line_removed"
            ).iter_rows()
        }
        assert got == expected
    xs = [x for x, _, _ in expected.values()]
    assert max(xs) >= 10 and sum(own for *_, own in expected.values()) > 20
    assert any(r == "rx" and x > 0 for (r, _, _), (x, _, _) in expected.items())  # the varied profile counted
