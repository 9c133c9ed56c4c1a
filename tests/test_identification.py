"""The matching stage on a hand-made province: consent, lines, scoring, statuses, evaluation."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from lietsi.lab.comparison import ComparisonRules
from lietsi.matching.evaluation import calibration, evaluate, martyr_uid_map
from lietsi.matching.identification import identify, mtdna_only_baseline
from lietsi.matching.references import reference_table, relative_consent
from lietsi.matching.sensitivity import Hypotheses, Term, Totals, posterior_under, sensitivity
from lietsi.matching.settings import MatchSettings
from lietsi.ops.match_report import aligned_sites, identification_page, summary_page

CR = "16024-16569,1-576"
RARE = "73G 263G 315.1C 16129A 16172C 16223T 16304C 16311C"
COMMON = "73G 263G 315.1C 16189C 16217C"
PLACE = "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang"


def _martyrs() -> pl.DataFrame:
    rows = [
        ("M1", "Nguyễn Văn Thành", "Nam", 1950, date(1972, 3, 12), PLACE, "Chưa xác định"),
        ("M2", "Trần Văn Hùng", "Nam", 1948, date(1970, 5, 1), "Mặt trận Tây Nam", "Chưa xác định"),
        ("M3", "Lê Văn Bảy", "Nam", 1949, date(1971, 1, 1), "Mặt trận Tây Nam", "Chưa xác định"),
        ("M4", "Phạm Văn Tư", "Nam", 1947, date(1969, 1, 1), "Mặt trận Tây Ninh", "Đã xác định"),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["martyr_id", "full_name", "sex", "birth_year", "death_date", "death_place", "grave_status"],
        orient="row",
    )
    return frame.with_columns(
        hometown_commune=pl.lit("Bình An"),
        hometown_district=pl.lit("Châu Thành"),
        hometown_province=pl.lit("Kiên Giang"),
        unit=pl.lit("Tiểu đoàn 207"),
        aliases=pl.lit([], dtype=pl.List(pl.String)),
    )


def _references() -> tuple[pl.DataFrame, pl.DataFrame]:
    profiles = pl.DataFrame(
        [
            ("R1", CR, RARE, True),  # M1's sister
            ("R2", CR, COMMON, True),  # M2's mother
            ("R3", CR, COMMON, True),  # M3's niece (sister's daughter)
            ("R4", CR, RARE, None),  # consent never recorded: must not be compared
            ("R5", CR, RARE, False),  # refused
        ],
        schema=["relative_id", "range", "haplotype", "consent"],
        orient="row",
    )
    candidates = pl.DataFrame(
        [("M1", "R1", True), ("M2", "R2", True), ("M3", "R3", True), ("M2", "R4", True), ("M3", "R5", True)],
        schema=["martyr_id", "relative_id", "shares_mtdna"],
        orient="row",
    )
    return profiles, candidates


def _remains() -> tuple[pl.DataFrame, pl.DataFrame]:
    remains = pl.DataFrame(
        [
            ("HC1", PLACE, 'bi đông khắc chữ "Thành"', "Nam", "18-25", date(1985, 1, 1), "year"),
            ("HC2", "Mặt trận Tây Nam", None, "Nam", None, date(1990, 1, 1), "year"),
            ("HC3", "Mặt trận Tây Ninh", None, None, None, None, None),
        ],
        schema=["remains_id", "recovery_place", "artefacts", "est_sex", "est_age", "recovery_date",
                "recovery_date_precision"],
        orient="row",
    )  # fmt: skip
    # The rest of the register (no usable profile): the population the non-genetic evidence is
    # measured against, recovered across the province and at the fronts.
    elsewhere = ["xã Mỹ Đức, huyện Hà Tiên", "xã Vĩnh Hòa Hiệp, huyện Châu Thành", "huyện Gò Quao",
                 "Mặt trận Tây Ninh", "Chiến trường Campuchia", "xã Đông Hòa, huyện An Minh"]  # fmt: skip
    rest = pl.DataFrame(
        {
            "remains_id": [f"HC{100 + i}" for i in range(30)],
            "recovery_place": [elsewhere[i % len(elsewhere)] for i in range(30)],
            "artefacts": [None] * 30,
            "est_sex": ["Nam"] * 27 + ["Nữ"] * 3,
            "est_age": ["30-40", "18-25", None] * 10,
            "recovery_date": [date(1970 + i, 1, 1) for i in range(30)],
            "recovery_date_precision": ["year"] * 30,
        }
    )
    remains = pl.concat([remains, rest])
    remains = remains.with_columns(
        cemetery=pl.lit("Nghĩa trang liệt sĩ tỉnh Kiên Giang"),
        lat=pl.lit(None, pl.Float64),
        lon=pl.lit(None, pl.Float64),
    )
    profiles = pl.DataFrame(
        [("HC1", CR, RARE), ("HC2", CR, COMMON), ("HC3", CR, "73G 263G 16362C 16519C")],
        schema=["remains_id", "range", "haplotype"],
        orient="row",
    )
    return remains, profiles


def _population(references: pl.DataFrame) -> pl.DataFrame:
    # A population database: the references (those who consented) plus unrelated profiles.
    others = pl.DataFrame(
        {
            "relative_id": [f"P{i}" for i in range(200)],
            "range": [CR] * 200,
            "haplotype": [
                f"73G 263G {16100 + i}C" if i % 2 else f"73G 263G {16100 + i}T" for i in range(200)
            ],
        }
    ).with_columns(consent=pl.lit(True))
    return pl.concat([references, others])


def test_profiles_without_recorded_consent_are_never_compared():
    profiles, candidates = _references()
    refs, refused = reference_table(profiles, candidates)
    assert set(refs["relative_id"]) == {"R1", "R2", "R3"}
    assert set(refused["relative_id"]) == {"R4", "R5"}


def test_consent_from_form_02_rows():
    phieu_02 = pl.DataFrame(
        {"file": ["a.csv"] * 4, "row_number": [1, 2, 3, 4], "consent": ["Có", "Không", "Có", None]}
    )
    links = pl.DataFrame(
        {
            "source": ["phieu_02"] * 4,
            "file": ["a.csv"] * 4,
            "row_number": [1, 2, 3, 4],
            "relative_id": ["A", "B", "B", "C"],
        }
    )
    consent = dict(relative_consent(phieu_02, links).iter_rows())
    assert consent == {"A": True, "B": False, "C": None}


def test_identify_a_small_province():
    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()
    result = identify(
        remains, remains_profiles, references, candidates, martyrs, population=_population(references)
    )
    pairs = {
        (r, m): v
        for r, m, v in result.match_candidates.select("remains_id", "martyr_id", "verdict").iter_rows()
    }
    # HC1 matches M1's rare line; HC2 matches the common haplotype shared by M2's and M3's lines.
    assert pairs[("HC1", "M1")] == "cannot_exclude"
    assert {("HC2", "M2"), ("HC2", "M3")} <= pairs.keys()
    assert not any(r == "HC3" for r, _ in pairs)
    ids = {r["remains_id"]: r for r in result.identifications.iter_rows(named=True)}
    assert ids["HC1"]["martyr_id"] == "M1"
    hc1 = result.match_candidates.filter(pl.col("remains_id") == "HC1").row(0, named=True)
    hc2 = result.match_candidates.filter(pl.col("remains_id") == "HC2")
    # the artefact name and the place make HC1 sure; HC2 stays split between two brothers' lines
    assert hc1["posterior"] > 0.99
    assert hc2["posterior"].max() < 0.6
    if "HC2" in ids:
        assert ids["HC2"]["status"] == "needs_review"
        assert len(json.loads(ids["HC2"]["competitors"])) == 1
    evidence = json.loads(ids["HC1"]["evidence"])
    assert {f["factor"] for f in evidence["factors"]} >= {"dna", "sex", "age", "place", "date", "artefact"}
    assert evidence["dna"]["verdict"] == "cannot_exclude"
    outcomes = dict(result.remains_outcomes.select("remains_id", "outcome").iter_rows())
    assert outcomes["HC3"] == "unresolved"
    reasons = dict(result.martyr_outcomes.select("martyr_id", "reason").iter_rows())
    assert "M4" not in reasons  # identified grave: not in the pool of missing martyrs
    # the baseline proposes HC1 (one line) but not HC2 (two lines)
    assert dict(result.baseline.iter_rows()) == {"HC1": "M1"}


def test_evaluation_against_truth():
    ids = pl.DataFrame(
        {
            "remains_id": ["HC1", "HC2", "HC5"],
            "martyr_id": ["M1", "M2", "M3"],
            "status": ["proposed", "needs_review", "proposed"],
            "posterior": [0.995, 0.4, 0.991],
        }
    )
    baseline = pl.DataFrame({"remains_id": ["HC1", "HC5"], "martyr_id": ["M1", "M3"]})
    truth = pl.DataFrame(
        {
            "remains_id": ["HC1", "HC2", "HC5", "HC6"],
            "martyr_uid": ["LS1", "LS3", "LS9", "LS2"],
            "in_province": ["true", "true", "false", "true"],
        }
    )
    links = pl.DataFrame(
        {"source": ["registry"] * 3, "source_record_id": ["a", "b", "c"], "martyr_id": ["M1", "M2", "M3"]}
    )
    records = pl.DataFrame(
        {"source": ["registry"] * 3, "source_record_id": ["a", "b", "c"], "martyr_uid": ["LS1", "LS2", "LS3"]}
    )
    metrics, wrong = evaluate(ids, baseline, truth, martyr_uid_map(links, records))
    by = {r["method"]: r for r in metrics.iter_rows(named=True)}
    assert by["proposed"]["proposals"] == 2 and by["proposed"]["correct"] == 1
    assert by["proposed"]["precision"] == 0.5 and by["proposed"]["out_of_province"] == 1
    assert by["proposed"]["recall"] == 1 / 3  # HC1, HC2, HC6 are identifiable
    assert set(wrong.filter(pl.col("method") == "proposed")["remains_id"]) == {"HC5"}
    bands = calibration(ids, truth, martyr_uid_map(links, records))
    top = bands.filter(pl.col("posterior_from") == 0.99).row(0, named=True)
    assert (top["pairs"], top["correct"]) == (2, 1)
    assert bands["pairs"].sum() == 3


def test_html_pages_show_aligned_differences():
    rules = ComparisonRules()
    sites = aligned_sites(CR, "16093Y 16223T 315.1C 73G", CR, "16093C 16223T 16362C 73G", rules)
    by_site = {s[0]: s for s in sites}
    assert by_site["16362"][4] == "DIFFERENCE"
    assert by_site["16093"][4].startswith("heteroplasmy")
    assert by_site["315.1"][4].startswith("ignored")
    assert [s[0] for s in sites][:3] == ["16093", "16223", "16362"]  # control-region order
    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()
    result = identify(
        remains, remains_profiles, references, candidates, martyrs, population=_population(references)
    )
    rec = result.identifications.filter(pl.col("remains_id") == "HC1").row(0, named=True)
    page = identification_page(
        rec,
        martyrs.row(0, named=True),
        remains.row(0, named=True),
        remains_profiles.row(0, named=True),
        references.row(0, named=True),
        rules,
    )
    assert "Nguyễn Văn Thành" in page and "likelihood ratio" in page and "Competing candidates" in page
    summary = summary_page(
        "Kiên Giang", result.identifications, result.remains_outcomes, result.martyr_outcomes, 0.5, {}
    )
    assert "Unresolved remains" in summary and "HC1" in summary


def test_baseline_requires_exactly_one_line():
    pairs = pl.DataFrame(
        {
            "remains_id": ["A", "B", "B", "C"],
            "martyr_id": ["M1", "M2", "M3", "M4"],
            "line_id": ["L1", "L2", "L3", "L4"],
            "verdict": ["cannot_exclude", "cannot_exclude", "cannot_exclude", "inconclusive"],
        }
    )
    assert dict(mtdna_only_baseline(pairs).iter_rows()) == {"A": "M1"}


def test_places_cambodia_fronts_and_local_units():
    from lietsi.matching.geography import CAMBODIA, place_units, unit_place

    assert place_units("Tỉnh Kampot, Campuchia") == {
        "commune": None,
        "district": "Kampot",
        "province": CAMBODIA,
    }
    assert place_units("Siem Reap - Campuchia")["district"] == "Siem Reap"
    assert place_units("Chiến trường K") == {"commune": None, "district": None, "province": CAMBODIA}
    # a front names a war region: not the district U Minh of Cà Mau
    assert place_units("Mặt trận U Minh", "Kiên Giang") == {
        "commune": None,
        "district": None,
        "province": None,
    }
    # without the province's default, `xã Bình An, huyện Châu Thành` is read elsewhere
    assert place_units("xã Bình An, huyện Châu Thành", "Kiên Giang")["province"] == "Kiên Giang"
    communes = {"binh an": {("Châu Thành", "Bình An")}, "my duc": {("Hà Tiên", "Mỹ Đức"), ("Mỹ Đức", "x")}}
    assert unit_place("Du kích xã Bình An", "Kiên Giang", communes) == {
        "commune": "Bình An",
        "district": "Châu Thành",
        "province": "Kiên Giang",
    }
    assert unit_place("Du kích xã Mỹ Đức", "Kiên Giang", communes) is None  # ambiguous name
    assert unit_place("H.đội Châu Thành", "Kiên Giang", communes)["district"] == "Châu Thành"
    assert unit_place("Tiểu đoàn 207", "Kiên Giang", communes) is None


def test_register_denominators_are_shares_of_the_register():
    from lietsi.matching.evidence import EvidenceSettings
    from lietsi.matching.register import build_register, remains_features

    remains, _ = _remains()
    reg = build_register(remains_features(remains, "Kiên Giang"), EvidenceSettings())
    # P(estimate | someone else) is the share of the register's estimates
    est = remains["est_sex"].drop_nulls()
    assert reg.sex_share("Nữ") == pytest.approx((est == "Nữ").sum() / est.len())
    shares = reg.age_shares(22, 3)
    assert sum(shares.values()) == pytest.approx(1.0) and shares["inside"] > 0
    death = {"commune": "Bình An", "district": "Châu Thành", "province": "Kiên Giang"}
    by_outcome = reg.place_shares("binh an chau thanh kien giang", death)
    for level in {lv for lv, _ in by_outcome}:
        assert sum(v for (lv, _), v in by_outcome.items() if lv == level) == pytest.approx(1.0)
    assert by_outcome[(3, "commune")] < 0.2  # one of the register's commune-level places is his


def test_factor_numbers_key_every_input_of_each_factor():
    """`scoring.FactorNumbers` computes each non-genetic factor once per distinct value of what it
    reads: two pairs that differ in one input must not share its LR. Each remains and each martyr
    below differs from the first in one field; every pair's numbers must be its own."""
    from lietsi.matching.evidence import numerator_tables, with_numerators
    from lietsi.matching.identification import prepare
    from lietsi.matching.register import build_register, remains_features
    from lietsi.matching.scoring import FactorNumbers, nongenetic_factors, point_settings

    settings = MatchSettings()
    references, candidates = _references()
    remains, profiles = _remains()
    prepared = prepare(remains, profiles, references, candidates, _martyrs(), settings)
    features = remains_features(prepared.remains, prepared.province)
    reg = build_register(features, settings.evidence)
    hc1, hc2 = features["HC1"], features["HC2"]
    variants = [
        hc1,
        {**hc1, "est_sex": "Nữ"},
        {**hc1, "age_range": (40, 50)},
        {
            **hc1,
            "place": hc2["place"],
            "place_key": hc2["place_key"],
            "recovery_place": hc2["recovery_place"],
        },
        {**hc1, "place_key": None, "place": {}, "lat": 10.0, "lon": 105.1},
        {**hc1, "place_key": None, "place": {}, "lat": 10.0, "lon": 106.5},
        {**hc1, "recovery": date(1960, 1, 1), "recovery_last": date(1960, 12, 31)},
        # Recovered in 1972, M1 fell on 12 March 1972: before his death unless the year is read.
        {**hc1, "recovery": date(1972, 1, 1), "recovery_last": None},
        {**hc1, "recovery": date(1972, 1, 1), "recovery_last": date(1972, 12, 31)},
        {**hc1, "cemetery_province": "Tây Ninh"},
        {**hc1, "inscriptions": ["Hùng"]},
        {**hc1, "artefacts": "bi đông ghi Bình An"},
        {**hc1, "artefacts": "bi đông ghi Châu Thành"},  # M1's district: his district is read
        hc2,
    ]
    m1 = next(m for m in prepared.missing.iter_rows(named=True) if m["martyr_id"] == "M1")
    martyrs = [
        m1,
        {**m1, "sex": "Nữ"},
        {**m1, "birth_year": 1930},
        {**m1, "death_date": date(1990, 1, 1)},
        {**m1, "unit": "Trung đoàn 1"},
        {**m1, "full_name": "Nguyễn Văn Hùng"},
        {**m1, "aliases": ["Ba Hùng"]},
        {**m1, "hometown_commune": "Mỹ Đức"},
        {**m1, "hometown_district": "Hà Tiên"},
        *(m for m in prepared.missing.iter_rows(named=True) if m["martyr_id"] != "M1"),
    ]
    # M2 fell at a front (no province on record): the unit-area factor reads his unit.
    martyrs.append({**next(m for m in martyrs if m["martyr_id"] == "M2"), "unit": None})
    # A unit-area baseline below the unit's share of its deaths there, so that his unit weighs.
    baseline = {"Kiên Giang": 0.2, "Tây Ninh": 0.4}
    # Every variant against every martyr, as one run's pairs: the keys are coded together.
    pair_remains = np.repeat(np.arange(len(variants)), len(martyrs))
    pair_martyr = np.tile(np.arange(len(martyrs)), len(variants))
    keys = FactorNumbers(prepared.pool, variants, martyrs, pair_remains, pair_martyr)
    numbers = keys.of(reg, settings.evidence, baseline)
    lrs = set()
    for i, (a, b) in enumerate(zip(pair_remains.tolist(), pair_martyr.tolist(), strict=True)):
        r, m = variants[a], martyrs[b]
        alone = nongenetic_factors(r, m, prepared.pool, reg, settings.evidence, baseline)
        assert numbers.pair(i) == [(f.name, f.lr, f.cell, f.den) for f in alone], (r["remains_id"], m)
        lrs.add(tuple(f.lr for f in alone))
    # The variants do change the factors (the test would pass on identical pairs otherwise), and the
    # keys share what they have in common.
    assert len(lrs) > len(variants) + len(martyrs)
    assert sum(len(reps) for reps in keys.reps) < 7 * len(variants) * len(martyrs) / 2
    # The columns: each pair's product of its factors, as `math.prod` gives it.
    assert numbers.product().tolist() == [
        math.prod(n[1] for n in numbers.pair(i)) for i in range(len(pair_remains))
    ]
    # Under other numerators and the best estimate's settings (as `score_candidates` scores after
    # its estimate), the factors `SETTLED` reuse the first numbers: the same as computed afresh.
    tables = numerator_tables(settings.evidence)
    other = with_numerators(
        point_settings(settings.evidence, settings),
        {t: {o: v / 2 for o, v in outcomes.items()} for t, outcomes in tables.items()},
    )
    afresh = keys.of(reg, other, baseline)
    reused = keys.of(reg, other, baseline, numbers.settled())
    assert [reused.pair(i) for i in range(len(pair_remains))] == [
        afresh.pair(i) for i in range(len(pair_remains))
    ]
    assert afresh.product().tolist() != numbers.product().tolist()


def test_scored_pairs_take_each_dna_lr_of_their_own_inputs():
    """`scoring._ScoredPairs` computes the DNA LRs once per distinct value of what they read
    (`_DNA_INPUTS`) and joins them back to the pairs: pairs that differ from the first in one
    input (a null included) must each carry the LRs computed for them alone."""
    from lietsi.matching.frequency import Spectrum
    from lietsi.matching.scoring import _DNA_INPUTS, _ScoredPairs, pair_dna_factor, point_lr, point_settings

    settings = MatchSettings()
    s = settings.evidence
    point = point_settings(s, settings)
    first = {
        "verdict": "cannot_exclude", "differences": 0, "x": 0, "n": 400, "x_independent": None,
        "n_independent": None, "compared_range": CR, "own_line_removed": True,
    }  # fmt: skip
    variants = [
        first,
        {**first, "verdict": "inconclusive", "differences": 1},
        {**first, "differences": 1},
        {**first, "x": 1},
        {**first, "x": 3},
        {**first, "n": 40},
        {**first, "x_independent": 0, "n_independent": 1000},
        {**first, "x_independent": 2, "n_independent": 1000},
        {**first, "compared_range": "16024-16365"},
        {**first, "own_line_removed": False},
        {**first, "own_line_removed": None},
        first,  # a repeat: shares the first's LRs
    ]
    assert set(first) == set(_DNA_INPUTS)
    pairs = pl.DataFrame(
        [{"remains_id": "R", "martyr_id": f"M{i}", **v} for i, v in enumerate(variants)],
        schema_overrides={
            "x_independent": pl.Int64,
            "n_independent": pl.Int64,
            "own_line_removed": pl.Boolean,
        },
    )
    spectra = {CR: Spectrum(400, {1: 200, 2: 40}), "16024-16365": Spectrum(300, {1: 90, 2: 30})}
    scored = _ScoredPairs.of(pairs, {"R": {}}, [f"M{i}" for i in range(len(variants))], s, point, spectra)
    alone = [(pair_dna_factor(v, s).lr, point_lr(v, point, spectra)) for v in variants]
    assert list(zip(scored.bound.tolist(), scored.best.tolist(), strict=True)) == alone
    # The variants do change the LRs (the test would pass on identical pairs otherwise).
    assert len(set(alone)) >= 8


# --- issue 13: per-pair counts, not comparable, several samples, consenting database ------------------


def test_x_and_n_are_counted_on_the_range_the_pair_compared():
    from lietsi.matching.dna import Database, pair_counts

    hv1 = "16024-16365"
    members = pl.DataFrame(
        [
            ("L1", CR, "16223T 73G"),  # the pair's own line: the case, not the population
            ("L2", CR, "16223T 263G"),  # differs from the remains only outside HV1
            ("L3", CR, "16129A 73G"),
            ("L4", hv1, "16223T"),
            ("L5", "16100-16365", "16223T"),  # does not read all of the compared range
        ],
        schema=["line_id", "range", "haplotype"],
        orient="row",
    )
    database = Database("test db", "v1", members)
    remains = pl.DataFrame({"remains_id": ["HC"], "range": [CR], "haplotype": ["16223T 73G"]})
    pairs = pl.DataFrame({"remains_id": ["HC", "HC"], "line_id": ["L1", "L9"], "compared_range": [hv1, CR]})
    counts = {r["line_id"]: r for r in pair_counts(pairs, remains, database, ComparisonRules()).to_dicts()}
    # on HV1: L1..L4 read it; L2 and L4 match; L1 is the pair's own line and leaves both counts
    assert (counts["L1"]["x"], counts["L1"]["n"], counts["L1"]["own_line_removed"]) == (2, 3, True)
    # on the whole control region (another pair): only L1 matches among the three full profiles
    assert (counts["L9"]["x"], counts["L9"]["n"], counts["L9"]["own_line_removed"]) == (1, 3, False)
    assert counts["L1"]["database"] == "test db" and counts["L1"]["database_version"] == "v1"


def test_evidence_states_the_range_database_and_own_line():
    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()
    result = identify(
        remains, remains_profiles, references, candidates, martyrs, population=_population(references)
    )
    row = result.match_candidates.filter(pl.col("remains_id") == "HC1").row(0, named=True)
    assert row["compared_range"] == CR and row["own_line_removed"] is True
    assert (
        row["database_version"] == result.database.version and row["n"] == result.database.profiles.height - 1
    )
    dna = json.loads(result.identifications.filter(pl.col("remains_id") == "HC1")["evidence"][0])["dna"]
    assert dna["frequency"]["range"] == CR and dna["frequency"]["own_line_removed"] is True
    dna_factor = json.loads(row["factors"])[0]
    assert [r["code"] for r in dna_factor["codes"]][1:] == ["factor.dna_counted", "factor.dna_own_line"]
    text = dna_factor["text"]  # Vietnamese
    assert CR in text and result.database.version in text and "đã bỏ dòng mẹ của chính cặp này" in text


def test_database_holds_only_consenting_donors_one_per_line():
    from lietsi.matching.dna import province_database

    references, candidates = _references()
    database = province_database(references, candidates)
    # R4 (consent never recorded) and R5 (refused) are not processed; R1, R2, R3 are three lines
    assert database.profiles.height == 3
    assert set(database.profiles["haplotype"]) == {RARE, COMMON}
    assert province_database(references, candidates).version == database.version  # reproducible


def test_a_reference_too_short_to_compare_counts_as_unsampled_not_excluded():
    from lietsi.matching.dna import not_comparable_martyrs

    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()

    def hc1_posterior(r3_range: str, r3_haplotype: str) -> tuple[float, pl.DataFrame]:
        refs = references.with_columns(
            range=pl.when(pl.col("relative_id") == "R3").then(pl.lit(r3_range)).otherwise("range"),
            haplotype=pl.when(pl.col("relative_id") == "R3")
            .then(pl.lit(r3_haplotype))
            .otherwise("haplotype"),
        )
        result = identify(remains, remains_profiles, refs, candidates, martyrs, population=_population(refs))
        hc1 = result.match_candidates.filter((pl.col("remains_id") == "HC1") & (pl.col("martyr_id") == "M1"))
        return hc1["posterior"][0], refs

    # M3's reference reads HV1 and excludes HC1 there: M3 drops out
    excluded, _ = hc1_posterior("16024-16365", "16189C 16217C")
    # M3's reference reads 400-576 only: 177 positions shared with HC1, below the minimum overlap
    blind, refs = hc1_posterior("400-576", "")
    ref_table, _ = reference_table(refs, candidates)
    assert not_comparable_martyrs(remains_profiles, ref_table, ComparisonRules())["HC1"] == ["M3"]
    # M3 still might be HC1 (he counts as a martyr without a reference): M1's posterior is lower
    assert blind < excluded


def test_several_samples_of_one_remains():
    from lietsi.matching.dna import merge_remains_samples
    from lietsi.reasons import codes_of

    profiles = pl.DataFrame(
        [
            ("HC1", "S1", "16024-16365", "16129A 16172C 16223T 16304C 16311C"),
            ("HC1", "S2", CR, RARE),  # agrees with S1 on HV1, reads more: kept
            ("HC2", "S3", CR, COMMON),
            ("HC2", "S4", CR, RARE),  # another person's bone, or contamination
        ],
        schema=["remains_id", "sample_id", "range", "haplotype"],
        orient="row",
    )
    merged, discordant = merge_remains_samples(profiles, ComparisonRules())
    assert merged.to_dicts() == [{"remains_id": "HC1", "sample_id": "S2", "range": CR, "haplotype": RARE}]
    hc2 = discordant.filter(pl.col("remains_id") == "HC2")
    ((reason, codes),) = hc2.select("reason", "reason_codes").rows()
    assert codes_of(codes) == ["outcome.discordant_samples"]
    assert reason.startswith("các mẫu của hài cốt không khớp nhau") and "S3 / S4" in reason
    # in the pipeline the discordant remains is not matched and is listed with the reason
    martyrs = _martyrs()
    references, candidates = _references()
    remains, _ = _remains()
    result = identify(remains, profiles, references, candidates, martyrs, population=_population(references))
    assert "HC2" not in set(result.match_candidates["remains_id"])
    outcomes = dict(result.remains_outcomes.select("remains_id", "reason_codes").iter_rows())
    assert codes_of(outcomes["HC2"]) == ["outcome.discordant_samples"]
    assert result.identifications.filter(pl.col("remains_id") == "HC1")["martyr_id"].to_list() == ["M1"]


def test_best_estimate_uses_the_database_frequency_and_the_bound_keeps_theta():
    # θ = 0.01 is a conservative ceiling for village structure: it caps the reported LR (and the
    # posterior the decision reads) below 100, but the best estimate, which `posterior` and the EM
    # rest on, weighs the database frequency (docs/matching.md §9).
    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()
    population = _population(references)

    def hc1(settings: MatchSettings) -> dict:
        result = identify(remains, remains_profiles, references, candidates, martyrs, settings, population)
        return result.match_candidates.filter(pl.col("remains_id") == "HC1").row(0, named=True)

    default = hc1(MatchSettings())
    capped = hc1(MatchSettings(estimation_theta=0.01))
    # 0 of 202 other consenting lines share the rare haplotype: median-unbiased p = 0.69 / 202
    assert default["lr_point"] == pytest.approx(202 / 0.693, rel=0.01)
    assert capped["lr_point"] < 100 < default["lr_point"]
    assert default["lr"] == capped["lr"] < 100  # the 95% bound statement keeps θ = 0.01
    assert default["posterior_bound"] == pytest.approx(capped["posterior_bound"], abs=0.02)
    assert default["posterior"] > capped["posterior"]


def test_sensitivity_recomputes_the_posterior_under_other_assumptions():
    h = Hypotheses.of(
        p_outside=0.5,
        unscored=0.3,
        unscored_no_place=0.2,
        candidates={
            "M1": Term(prior=0.01, lr_point=100.0, lr_bound=50.0, lr_nongenetic=4.0, lr_place=2.0),
            "M2": Term(prior=0.01, lr_point=10.0, lr_bound=10.0, lr_nongenetic=1.0, lr_place=1.0),
        },
    )
    assert posterior_under(h, "M1") == pytest.approx(4 / (0.5 + 0.3 + 4 + 0.1))
    assert posterior_under(h, "M1", bound=True) == pytest.approx(2 / (0.5 + 0.3 + 2 + 0.1))
    # p_outside 0.2: the pool's share goes from 0.5 to 0.8, every group keeping its part (× 1.6)
    assert posterior_under(h, "M1", 0.2) == pytest.approx(6.4 / (0.2 + 0.48 + 6.4 + 0.16))
    # place off: M1's place LR 2 and the unsampled martyrs' place terms leave
    assert posterior_under(h, "M1", place=False) == pytest.approx(2 / (0.5 + 0.2 + 2 + 0.1))
    rows = {r["scenario"]: r for r in sensitivity(h, "M1", 0.15)}
    assert [rows[k]["p_outside"] for k in ("p_outside_low", "as_estimated", "p_outside_high")] == [
        0.35,
        0.5,
        0.65,
    ]
    assert (
        rows["p_outside_low"]["posterior"]
        > rows["as_estimated"]["posterior"]
        > rows["p_outside_high"]["posterior"]
    )
    assert rows["place_off"]["place"] is False and rows["place_off"]["p_outside"] == 0.5


def test_a_remains_keeping_one_term_gives_its_posterior_over_every_term():
    """A country run keeps each remains' sums over every candidate and the terms of the pairs a
    page may read only: the posterior of a kept term is still over every candidate."""
    terms = {
        "M1": Term(prior=0.01, lr_point=100.0, lr_bound=50.0, lr_nongenetic=4.0, lr_place=2.0),
        "M2": Term(prior=0.02, lr_point=10.0, lr_bound=10.0, lr_nongenetic=1.0, lr_place=0.0),
        "M3": Term(prior=0.005, lr_point=3.0, lr_bound=1.5, lr_nongenetic=0.5, lr_place=0.25),
    }
    columns = [np.array([getattr(t, f) for t in terms.values()]) for f in Term.__slots__]
    one = Hypotheses(0.4, 0.3, 0.2, Totals.of(*columns), {"M1": terms["M1"]})
    for p, place, bound in ((0.4, True, False), (0.2, True, True), (0.6, False, False), (0.4, False, True)):
        scale = (1 - p) / (1 - 0.4)

        # M2's place LR 0: without the place its term is 0, as `posterior_under` has always read it
        weights = {
            m: scale
            * t.prior
            * (t.lr_bound if bound else t.lr_point)
            * (t.lr_nongenetic if place else (t.lr_nongenetic / t.lr_place if t.lr_place else 0.0))
            for m, t in terms.items()
        }
        expected = weights["M1"] / (p + scale * (0.3 if place else 0.2) + sum(weights.values()))
        assert posterior_under(one, "M1", p, place, bound) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(KeyError):
        posterior_under(one, "M2")


def test_every_evidence_page_shows_the_sensitivity_table_escaped():
    martyrs = _martyrs()
    references, candidates = _references()
    remains, remains_profiles = _remains()
    result = identify(
        remains, remains_profiles, references, candidates, martyrs, population=_population(references)
    )
    scored = dict(
        result.match_candidates.select(pl.concat_str("remains_id", "martyr_id"), "posterior").iter_rows()
    )
    for rec in result.identifications.iter_rows(named=True):
        rows = {r["scenario"]: r for r in json.loads(rec["evidence"])["sensitivity"]}
        assert set(rows) == {"p_outside_low", "as_estimated", "p_outside_high", "place_off"}
        # the page states the share of outsiders the posterior used: its district's (docs §9)
        prior = json.loads(rec["evidence"])["prior"]
        assert rows["as_estimated"]["p_outside"] == pytest.approx(prior["p_outside_district"], abs=1e-4)
        assert f"{prior['p_outside_district']:.3f} of those recovered in this district" in prior["text"]
        # as estimated: the pair's own posterior for these remains, as scored
        assert rows["as_estimated"]["posterior"] == pytest.approx(
            scored[rec["remains_id"] + rec["martyr_id"]], abs=1e-6
        )
        assert (
            rows["p_outside_high"]["posterior"]
            <= rows["as_estimated"]["posterior"]
            <= rows["p_outside_low"]["posterior"]
        )
    hc1 = result.identifications.filter(pl.col("remains_id") == "HC1").row(0, named=True)
    rows = {r["scenario"]: r for r in json.loads(hc1["evidence"])["sensitivity"]}
    # HC1 was recovered in M1's commune of death: without the place, its posterior falls
    assert rows["place_off"]["posterior"] < rows["as_estimated"]["posterior"]
    page = identification_page(
        hc1, martyrs.row(0, named=True), remains.row(0, named=True), None, None, ComparisonRules()
    )
    assert 'id="sensitivity"' in page and "place model off" in page and "Bỏ yếu tố nơi chốn" in page
    assert page.index("Bỏ yếu tố nơi chốn") < page.index("place model off")  # Vietnamese first
    # a tampered evidence document cannot inject markup through the table
    doc = json.loads(hc1["evidence"])
    doc["sensitivity"][0]["scenario"] = "<script>alert(1)</script>"
    tampered = {**hc1, "evidence": json.dumps(doc)}
    page = identification_page(
        tampered, martyrs.row(0, named=True), remains.row(0, named=True), None, None, ComparisonRules()
    )
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
