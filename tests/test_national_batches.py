"""The national search in batches (`lietsi.national.listing`, `dna.dna_pairs`): on a small generated
country, the group pairs, their DNA LRs, the listing and the listed pairs' comparison found batch by
batch are those of one batch, so that a batch that loses or repeats a pair fails."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from lietsi.matching import candidate_search, dna
from lietsi.matching.identification import candidate_pairs
from lietsi.national import listing
from lietsi.national.country import (
    adapt,
    assign_country,
    national_candidates,
    national_settings,
    prepare_country,
    read_exports,
    search,
    weigh,
)
from lietsi.synth.country_scale import generate_country, write_country

FRACTION = 0.001  # 1,200 martyrs, 300 remains, 500 donors


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("country")
    write_country(generate_country(FRACTION, seed=5), out)
    settings = national_settings()
    return prepare_country(adapt(read_exports(out / "inbox")), settings), settings


def _sides(prepared, settings):
    rules = settings.rules
    remains = prepared.remains_profiles.select(id="remains_id", range="range", haplotype="haplotype")
    references = prepared.refs.unique("relative_id").select(
        id="relative_id", range="range", haplotype="haplotype"
    )
    return candidate_search.prepare(remains, rules), candidate_search.prepare(references, rules)


def _small_batches(monkeypatch: pytest.MonkeyPatch, a, b) -> None:
    """About eight batches of remains groups, and few candidate rows per listing batch."""
    monkeypatch.setattr(listing, "_PAIRING_PRODUCT", a.groups.height * b.groups.height // 8)
    monkeypatch.setattr(listing, "_BATCH_ROWS", 500)


def test_group_pairs_and_dna_lrs_batch_by_batch_are_the_countrys(prepared, monkeypatch):
    prepared, settings = prepared
    a, b = _sides(prepared, settings)
    whole = candidate_search.group_pairs(a, b, settings.rules)
    whole_lrs = listing._DnaLrs(a, b, prepared, settings)(whole)
    _small_batches(monkeypatch, a, b)
    batches = listing._pairing_batches(a, b)
    assert len(batches) >= 8
    assert sorted(g for batch in batches for g in batch) == a.groups["group"].to_list()
    b_keys: dict = {}
    lrs = listing._DnaLrs(a, b, prepared, settings)
    pairs, dna = [], []
    for batch in batches:
        found = candidate_search.group_pairs(a.restrict(batch), b, settings.rules, b_keys=b_keys)
        assert set(found["group_a"].to_list()) <= set(batch)
        pairs.append(found)
        dna.append(lrs(found))
    batched = pl.concat(pairs)
    assert whole.height > 1000 and batched.height == whole.height  # none lost, none repeated
    assert batched.sort(pl.all()).equals(whole.sort(pl.all()))
    assert pl.concat(dna).sort(pl.all()).equals(whole_lrs.sort(pl.all()))
    # Each distinct (verdict, differences, x, n, range) is weighed once for every batch.
    assert len(lrs.lrs) < whole.height


def test_the_listing_in_small_batches_lists_and_sums_what_one_batch_does(prepared, monkeypatch):
    prepared, settings = prepared
    one = listing.list_candidates(prepared, settings)
    _small_batches(monkeypatch, *_sides(prepared, settings))
    batched = listing.list_candidates(prepared, settings)
    assert one.found.height > 100 and one.far.height > 100
    assert batched.found.equals(one.found)
    assert batched.far.equals(one.far)  # each sum in one order, whatever the batches


def test_the_listing_does_not_depend_on_the_order_of_the_rows(prepared):
    """The same exports in another row order list the same pairs and sum them to the same bits:
    a re-run's joins may meet the rows in another order."""
    prepared, settings = prepared
    one = listing.list_candidates(prepared, settings)
    shuffled = replace(
        prepared,
        refs=prepared.refs.sample(fraction=1.0, shuffle=True, seed=1),
        missing=prepared.missing.sample(fraction=1.0, shuffle=True, seed=2),
        remains=prepared.remains.sample(fraction=1.0, shuffle=True, seed=3),
    )
    other = listing.list_candidates(shuffled, settings)
    assert one.far.height > 100 and other.found.equals(one.found)
    assert other.far.equals(one.far)


def test_listed_pairs_compared_in_chunks_of_remains_are_compared_as_at_once(prepared, monkeypatch):
    prepared, settings = prepared
    found = listing.list_candidates(prepared, settings).found
    one = candidate_pairs(prepared, settings, found=found)
    monkeypatch.setattr(dna, "_COMPARED_PAIRS", found.height // 7)
    chunked = candidate_pairs(prepared, settings, found=found)
    assert one.height > 100 and chunked.equals(one)


def test_search_comparing_each_batch_gives_the_comparison_of_every_listed_pair(prepared, monkeypatch):
    """`country.search` compares each batch's listed pairs before listing the next: the same pairs,
    sums and order as comparing every listed pair at once."""
    prepared, settings = prepared
    listed = listing.list_candidates(prepared, settings)
    at_once = candidate_pairs(prepared, settings, found=listed.found)
    _small_batches(monkeypatch, *_sides(prepared, settings))
    pairs, far = search(prepared, settings)
    assert at_once.height > 100 and pairs.equals(at_once)
    assert far.equals(listed.far)


def test_weighing_pairs_read_with_categories_scores_them_as_strings(prepared, tmp_path):
    """The scale benchmark reads the listed pairs' repeated texts as categories
    (`national_scale.read_pairs`): the same scores, prior, numerators and hypotheses as from
    strings, and the same `national.candidates` once written."""
    from benchmarks.national_scale import CATEGORIES, IDS, read_pairs

    prepared, settings = prepared
    pairs, far = search(prepared, settings)
    pairs.write_parquet(tmp_path / "pairs.parquet")
    read = read_pairs(tmp_path / "pairs.parquet", categories=CATEGORIES + IDS)
    categories = {c for c, t in read.schema.items() if t == pl.Categorical}
    assert categories == set(CATEGORIES + IDS) & set(pairs.columns)
    as_text = weigh(prepared, pairs, settings, far)
    as_categories = weigh(prepared, read, settings, far)
    scored = as_categories.scored.with_columns(pl.col(pl.Categorical).cast(pl.String))
    assert as_text.scored.height > 100 and scored.equals(as_text.scored)
    assert (as_categories.prior, as_categories.numerators) == (as_text.prior, as_text.numerators)
    assert as_categories.hypotheses == as_text.hypotheses
    # `assign` reads the scored pairs back with the ids as text, the other repeated texts as categories.
    as_categories.scored.write_parquet(tmp_path / "scored.parquet")
    written = [
        national_candidates(assign_country(prepared, pairs, s, settings).match_candidates).collect()
        for s in (as_text, replace(as_categories, scored=read_pairs(tmp_path / "scored.parquet")))
    ]
    assert written[1].schema == written[0].schema and written[1].equals(written[0])


def test_far_sums_read_per_remains_add_the_flat_rows_and_keep_each_cell():
    far = pl.DataFrame(
        [
            ("r1", "g1", "place", "same", 2.0, 1.0, 4.0),
            ("r1", "g1", None, None, 3.0, 2.0, 5.0),
            ("r1", "g1", None, None, 0.5, 0.25, 1.0),
            ("r2", "g1", "place", "same", 7.0, 6.0, 8.0),
            ("r2", "g2", "place", "other", 1.5, 1.0, 2.0),
        ],
        schema=listing._FAR_SCHEMA,
        orient="row",
    )
    terms = listing.far_terms(far)
    assert terms["r1"].cells == {("g1", ("place", "same")): 2.0}
    assert (terms["r1"].flat, terms["r1"].flat_bound, terms["r1"].dna) == (
        {"g1": 3.5},
        {"g1": 2.25},
        {"g1": 10.0},
    )
    assert terms["r2"].cells == {("g1", ("place", "same")): 7.0, ("g2", ("place", "other")): 1.5}
    assert terms["r2"].cells_bound == {("g1", ("place", "same")): 6.0, ("g2", ("place", "other")): 1.0}
    assert (terms["r2"].flat, terms["r2"].dna) == ({}, {"g1": 8.0, "g2": 2.0})


def test_a_pair_listed_twice_is_found_by_its_texts_or_by_its_codes():
    from lietsi.matching.scoring import _listed_twice

    pairs = pl.DataFrame({"remains_id": ["r1", "r1", "r2", "r2"], "martyr_id": ["m1", "m2", "m1", "m2"]})
    twice = pl.concat([pairs, pairs.slice(2, 1)])
    for as_categories in (False, True):
        cast = pl.all().cast(pl.Categorical) if as_categories else pl.all()
        assert not _listed_twice(pairs.with_columns(cast))  # a remains or a martyr on several pairs
        assert _listed_twice(twice.with_columns(cast))


def _founder_weights_per_pair(pairs, commune_of, theta, lines, s, spectra) -> None:
    """The founder weights as they were computed before they were keyed (the oracle): per remains,
    per pair, each commune's lines counted again."""
    from lietsi.matching.structure import founder_frequency

    for start, end in pairs.slices.values():
        frame = pairs.frame.slice(start, end - start)
        read = ("martyr_id", "verdict", "line_id", "x", "n", "compared_range", "n_independent")
        recs = frame.select(c for c in read if c in frame.columns).to_dicts()
        by_commune: dict = {}
        for rec in recs:
            if rec["verdict"] == "cannot_exclude":
                by_commune.setdefault(commune_of.get(rec["martyr_id"]), set()).add(rec["line_id"])
        for i, rec in enumerate(recs, start=start):
            if rec["verdict"] != "cannot_exclude" or rec.get("n_independent") or rec["x"] < 1 or not rec["n"]:
                continue
            home, line = commune_of.get(rec["martyr_id"]), rec["line_id"]
            others = [len(ls) - (line in ls) for c, ls in by_commune.items() if c is not None and c != home]
            mine = by_commune.get(home, set())
            own = len(mine) - (line in mine) if home is not None else 0
            unplaced = max(rec["x"] - own - sum(others), 0)
            f = founder_frequency(theta, others, own, unplaced, rec["n"] * lines)
            if f is None:
                spectrum = (spectra or {}).get(rec["compared_range"])
                f = spectrum.singleton_frequency() if spectrum is not None else None
            if f:
                pairs.best[i] = 1.0 / (s.theta + (1 - s.theta) * f)


def test_weigh_under_commune_structure_equals_the_per_pair_oracle(prepared, monkeypatch):
    """With a commune θ > 0 (forced: a small country's database estimates 0), `weigh`'s founder
    weights keyed per remains (one by one and at once, `founder_frequencies`), its commune terms
    cached by recovery place and commune, give the scores, prior, numerators and hypotheses of the
    founder weights computed pair by pair and the commune terms computed for each remains."""
    from lietsi.matching import identification, scoring

    prepared, settings = prepared
    pairs, far = search(prepared, settings)
    without = weigh(prepared, pairs, settings, far)
    monkeypatch.setattr(identification, "database_theta", lambda *args: 0.05)
    runs = []
    keyed = scoring._founder_weights
    # The oracle keeps no commune terms (each remains' computed again), the others every one, or
    # only the last few read (the least recently read dropped and computed again).
    for founders, vectorised, kept in (
        (_founder_weights_per_pair, 256, 0),
        (keyed, 256, 10**6),
        (keyed, 0, 10**6),
        (keyed, 256, 3),
    ):
        monkeypatch.setattr(scoring, "_founder_weights", founders)
        monkeypatch.setattr(scoring, "_VECTORISED", vectorised)
        monkeypatch.setattr(scoring, "_COMMUNE_TERMS", kept)
        runs.append(weigh(prepared, pairs, settings, far))
    oracle = runs[0]
    changed = oracle.scored["lr_point"] != without.scored["lr_point"]
    assert changed.sum() > 10 and oracle.scored["posterior"].ne(without.scored["posterior"]).sum() > 10
    for run in runs[1:]:
        assert run.scored.equals(oracle.scored)
        assert (run.prior, run.numerators) == (oracle.prior, oracle.numerators)
        assert run.iterations == oracle.iterations
        assert run.hypotheses == oracle.hypotheses


def test_weighing_only_the_missing_martyrs_pairs_scores_as_all_the_pairs(prepared, tmp_path):
    """The scale benchmark reads for `weigh` only the pairs of missing martyrs (those it scores), so
    that `weigh` holds no second, filtered copy of them: the same scores, prior, numerators and
    hypotheses as from every listed pair."""
    from benchmarks.national_scale import CATEGORIES, IDS, read_pairs

    prepared, settings = prepared
    pairs, far = search(prepared, settings)
    pairs.write_parquet(tmp_path / "pairs.parquet")
    every = read_pairs(tmp_path / "pairs.parquet", categories=CATEGORIES + IDS)
    theirs = read_pairs(
        tmp_path / "pairs.parquet", categories=CATEGORIES + IDS, martyrs=prepared.missing["martyr_id"]
    )
    assert 100 < theirs.height < every.height
    whole, missing = weigh(prepared, every, settings, far), weigh(prepared, theirs, settings, far)
    assert missing.scored.equals(whole.scored)
    assert (missing.prior, missing.numerators) == (whole.prior, whole.numerators)
    assert missing.hypotheses == whole.hypotheses


def test_the_candidates_table_orders_tied_pairs_by_martyr() -> None:
    """Brothers on one maternal line score alike against a remains: the table lists them in their
    ids' order whatever order the scored pairs came in, so a re-run writes the same file."""
    rows = [
        ("01:R1", m, f"01:S-{m}", p)
        for m, p in [("01:M3", 0.4), ("01:M1", 0.4), ("02:M2", 0.4), ("01:M0", 0.9)]
    ]
    scored = pl.DataFrame(rows, schema=["remains_id", "martyr_id", "relative_id", "posterior"], orient="row")
    for frame in (scored, scored.reverse(), scored.sample(fraction=1.0, shuffle=True, seed=3)):
        table = national_candidates(frame).collect()
        assert table["national_martyr_id"].to_list() == ["01:M0", "01:M1", "01:M3", "02:M2"]
        assert table["martyr_province_code"].to_list() == ["01", "01", "01", "02"]


def test_the_same_province_rule_per_district_lists_what_it_lists_per_class():
    """The same-province rule decided per (remains group, level, province, district) lists for each
    class its district's candidates compared at district level and the `cap` strongest of the
    others, as ranking each class's candidates apart does: a district holding many of the
    province's strongest (so that its others reach beyond the province's `cap` first) included."""
    import random

    rng = random.Random(11)
    cap = 3
    districts = ["P / D1", "P / D2", "P / D3", "P / D4"]
    # D1 holds the strongest candidates, most of them compared at district level.
    rows = []
    for m in range(40):
        district = "P / D1" if m < 12 else rng.choice(districts)
        lr = 100.0 - m if m < 12 else rng.uniform(1.0, 80.0)
        lvl = 3 if m < 10 else rng.choice([1, 2, 3])
        rows.append((0, m, lr, lr, 3, "g", None, "P", district, lvl, None, None, 1.0, "t", "province", 1.0))
    same = pl.DataFrame(rows, schema=listing._ROW, orient="row").with_columns(
        pl.col("group_a", "m").cast(pl.UInt32), pl.col("k", "lvl").cast(pl.Int8)
    )
    same = same.with_columns(
        rank=pl.struct((pl.col("lr_point") * pl.col("w_p")).neg(), "m")
        .rank("ordinal")
        .over("group_a", "k", "province_m")
    )
    classes = (
        pl.DataFrame(
            [
                (0, 3, "P", d, area, sex)
                for d in ["P / D1", "P / D2", None]
                for area in ("a1", "a2")
                for sex in (None, "Nữ")
            ],
            schema=listing.CLASS,
            orient="row",
        )
        .with_columns(pl.col("group_a").cast(pl.UInt32), pl.col("k").cast(pl.Int8))
        .with_row_index("class")
    )
    got = listing._same_province(same, classes, cap)
    for c in classes.iter_rows(named=True):
        strong = {
            r["m"] for r in same.iter_rows(named=True) if r["lvl"] >= 2 and r["district_m"] == c["district_r"]
        }
        others = sorted(
            (-r["lr_point"] * r["w_p"], r["m"]) for r in same.iter_rows(named=True) if r["m"] not in strong
        )
        expected = strong | {m for _, m in others[:cap]}
        assert set(got.filter(pl.col("class") == c["class"])["m"]) == expected
    assert got.height == got.unique(["class", "m"]).height
