"""The model changes of issue 14's calibration work, on hand-made numbers: the unit-area factor's
denominator, the stated numerator of a place compared as text, Turing's frequency of a haplotype
one line carries, and θ measured on the province's own donors by commune."""

from __future__ import annotations

import polars as pl
import pytest

from lietsi.formations import formation
from lietsi.lab.comparison import ComparisonRules
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.frequency import Spectrum, spectra
from lietsi.matching.geography import place_units
from lietsi.matching.pool import build_pool, unit_area_factor
from lietsi.matching.register import build_register, remains_features
from lietsi.matching.scoring import front_share, point_lr, prior_group, unit_area_baselines
from lietsi.matching.stage import remains_frame
from lietsi.matching.structure import (
    commune_theta,
    commune_weight,
    database_theta,
    effective_lines,
    founder_frequencies,
    founder_frequency,
)

CR = "16024-16569,1-576"
KG = "Kiên Giang"


def _martyrs(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["martyr_id", "death_place", "unit"], orient="row").with_columns(
        grave_status=pl.lit("Chưa xác định"),
        full_name=pl.lit("Nguyễn Văn A"),
        hometown_commune=pl.lit(None, pl.String),
        hometown_district=pl.lit(None, pl.String),
        hometown_province=pl.lit(None, pl.String),
    )


def test_unit_area_factor_averages_one_over_the_front_placed_martyrs():
    # Unit D1 lost 3 of its 4 recorded dead in Kiên Giang, D2 1 of 4; two martyrs of each fell on
    # a front (no province on record): the factor ranks them, its mean over them is 1.
    placed = [(f"P{i}", "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang", "D1") for i in range(3)]
    placed += [("P3", "tỉnh Cà Mau", "D1"), ("P4", "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang", "D2")]
    placed += [(f"P{5 + i}", "tỉnh Cà Mau", "D2") for i in range(3)]
    # and a local unit whose 4 dead the records place in the province: most recorded deaths there
    placed += [(f"L{i}", "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang", "D3") for i in range(4)]
    fronts = [("F1", "Mặt trận Tây Nam", "D1"), ("F2", "Mặt trận Tây Nam", "D1"),
              ("F3", "Mặt trận Tây Nam", "D2"), ("F4", "Mặt trận Tây Nam", "D2")]  # fmt: skip
    missing, pool = build_pool(_martyrs(placed + fronts), KG)
    baseline = unit_area_baselines(list(missing.iter_rows(named=True)), pool, {KG}, EvidenceSettings())[KG]
    assert baseline == pytest.approx((0.75 + 0.75 + 0.25 + 0.25) / 4)
    s = EvidenceSettings()
    lrs = [
        unit_area_factor(KG, unit, pool.unit_provinces[formation(unit)][KG], 4, baseline, s).lr
        for _, _, unit in fronts
    ]
    assert sum(lrs) / len(lrs) == pytest.approx(1.0, abs=0.05)
    assert lrs[0] > 1 > lrs[-1]  # D1 fought here more than D2
    # against the share of all recorded deaths there (8 of 12), as before, every front-placed
    # martyr's pair was weighed down: mean 0.8
    old = [
        unit_area_factor(KG, unit, pool.unit_provinces[formation(unit)][KG], 4, 8 / 12, s).lr
        for _, _, unit in fronts
    ]
    assert sum(old) / len(old) == pytest.approx(0.8, abs=0.01)


def test_a_place_compared_as_text_takes_the_registers_share_of_fronts():
    remains = remains_frame(
        pl.DataFrame(
            {
                "remains_id": [f"H{i}" for i in range(10)],
                "recovery_place": ["Mặt trận Tây Nam", *["xã Bình An, huyện Châu Thành"] * 8, None],
            }
        )
    )
    reg = build_register(remains_features(remains, KG), EvidenceSettings())
    assert front_share(reg) == pytest.approx(1 / 9)  # of the 9 with a recovery place


def test_turing_frequency_of_a_haplotype_one_line_carries():
    rules = ComparisonRules()
    # 53 lines: one type on 3 lines, 10 types on 2 (one of them written once with a length variant
    # the comparison ignores), 30 singletons. N1 = 30, N2 = 10: a singleton's frequency is
    # 2·10/30/53 = 0.0126, against the median-unbiased 0.69/52 of "0 of n" that it replaces.
    profiles = [(CR, "16189C 16217C")] * 3 + [(CR, "16223T"), (CR, "16223T 315.1C")]
    profiles += [(CR, f"16{100 + i}C 16129A") for i in range(9) for _ in range(2)]
    profiles += [(CR, f"16{100 + i}T") for i in range(30)]
    spectrum = spectra(profiles, [CR], rules)[CR]
    assert spectrum == Spectrum(53, {3: 1, 2: 10, 1: 30})
    assert spectrum.singleton_frequency() == pytest.approx(2 * 10 / 30 / 53)
    # no doubletons, or too few to say anything: no estimate (the pair keeps its count)
    assert Spectrum(200, {1: 200}).singleton_frequency() is None
    assert Spectrum(203, {1: 201, 2: 1}).singleton_frequency() is None
    point = EvidenceSettings(confidence=0.5, theta=0.0)
    pair = {"verdict": "cannot_exclude", "differences": 0, "x": 0, "n": 52, "own_line_removed": True,
            "compared_range": CR}  # fmt: skip
    assert point_lr(pair, point, {CR: spectrum}) == pytest.approx(1 / spectrum.singleton_frequency())
    # a haplotype other lines carry keeps the counting estimate; so does an independent database
    counted = point_lr({**pair, "x": 1}, point, None)
    assert point_lr({**pair, "x": 1}, point, {CR: spectrum}) == counted
    independent = {**pair, "x_independent": 0, "n_independent": 500}
    assert point_lr(independent, point, {CR: spectrum}) == point_lr(independent, point, None)


def test_a_haplotype_other_lines_carry_weighs_at_its_count_in_the_best_estimate():
    """x ≥ 1 other lines: the best estimate is x/n, not the median-unbiased bound (x + ~0.67)/n."""
    mle = EvidenceSettings(confidence=0.5, theta=0.0, counted_mle=True)
    pair = {"verdict": "cannot_exclude", "differences": 0, "x": 3, "n": 52, "own_line_removed": True,
            "compared_range": CR}  # fmt: skip
    assert point_lr(pair, mle, None) == pytest.approx(52 / 3)
    # the median-unbiased bound of 3 of 52 is the median of Beta(4, 49): about 3.67/52
    bound = point_lr(pair, EvidenceSettings(confidence=0.5, theta=0.0), None)
    assert bound == pytest.approx(52 / 3.67, rel=0.01)
    # θ of the estimate still applies; x = 0 keeps Turing's frequency; an independent database and
    # an inconclusive pair keep theirs
    theta = EvidenceSettings(confidence=0.5, theta=0.01, counted_mle=True)
    assert point_lr(pair, theta, None) == pytest.approx(1 / (0.01 + 0.99 * 3 / 52))
    spectrum = Spectrum(53, {2: 10, 1: 30})
    single = {**pair, "x": 0}
    assert point_lr(single, mle, {CR: spectrum}) == pytest.approx(1 / spectrum.singleton_frequency())
    independent = {**pair, "x_independent": 2, "n_independent": 500}
    assert point_lr(independent, mle, None) == point_lr(
        independent, EvidenceSettings(confidence=0.5, theta=0.0), None
    )
    assert point_lr({**pair, "verdict": "inconclusive", "differences": 1}, mle, None) == 1.0


def test_theta_on_the_database_types_each_line_on_the_range_most_lines_read():
    # commune A: 4 lines of one type on CR (1000G lies outside it), B: 4 distinct; a B line of A's
    # type read over a shorter range and a line of no known commune are left out: θ = 0.5 as above
    rows = [(f"a{i}", CR, "16223T" if i % 2 else "16223T 1000G") for i in range(4)]
    rows += [(f"b{i}", CR, f"{16100 + i}C") for i in range(4)]
    rows += [("b4", "16024-16365", "16223T"), ("z", CR, "16223T")]
    communes = {**{f"a{i}": "A" for i in range(4)}, **{f"b{i}": "B" for i in range(5)}}
    profiles = pl.DataFrame(rows, schema=["line_id", "range", "haplotype"], orient="row")
    assert database_theta(profiles, communes, ComparisonRules()) == pytest.approx(0.5)


def test_theta_is_read_from_lines_of_one_commune_sharing_a_haplotype():
    # commune A: 4 lines of one founder haplotype; commune B: 4 distinct; no type crosses communes
    lines = [("A", "F")] * 4 + [("B", f"b{i}") for i in range(4)]
    # within pairs 12, 6 of them the same type; between pairs 16, none: θ = 0.5
    assert commune_theta(lines) == pytest.approx(0.5)
    # no clustering: as many same-type pairs across communes as within → θ ≤ 0 → 0
    mixed = [("A", "F"), ("A", "G"), ("B", "F"), ("B", "G")]
    assert commune_theta(mixed) == 0.0
    assert commune_theta([("A", "F"), ("A", "G")]) is None  # no pair across communes
    # the weight of a martyr of a commune where 2 of 4 sampled lines carry the haplotype
    # (θ = 0.5, λ = 1, province frequency 0.01): (2 + 0.01)/(4 + 1)/0.01 = 40.2; none carries it: 0.2
    assert commune_weight(0.5, 2, 4, 0.01) == pytest.approx(40.2)
    assert commune_weight(0.5, 0, 4, 0.01) == pytest.approx(0.2)
    assert commune_weight(0.0, 2, 4, 0.01) == 1.0


def test_a_communes_carriers_count_about_once_in_the_frequency_a_remains_from_elsewhere_matches():
    # θ = 0.5 (λ = 1), 100 effective lines. Three carriers in three communes: three founders, f = 3/100
    # as the count says. Three carriers in one commune: its first counts 1, the next two
    # f/(f + 1) and f/(f + 2) (copies by descent), f = (1 + f/(f + 1) + f/(f + 2))/100 ≈ 0.01015.
    assert founder_frequency(0.5, [1, 1, 1], 0, 0, 100) == pytest.approx(0.03)
    assert founder_frequency(0.5, [3], 0, 0, 100) == pytest.approx(0.01015, rel=1e-3)
    # Two more carriers in the candidate's own commune (his line its first) add about as little;
    # carriers of no known commune count in full.
    assert founder_frequency(0.5, [1], 2, 0, 100) == pytest.approx(0.01015, rel=1e-3)
    assert founder_frequency(0.5, [], 0, 2, 100) == pytest.approx(0.02)
    # Without structure (θ → 0) every carrier counts: x/n.
    assert founder_frequency(1e-9, [3], 2, 0, 100) == pytest.approx(0.05, rel=1e-4)
    # No carrier outside the candidate's commune: for a remains of elsewhere a type one founding
    # shows, which the singleton's estimate reads (None here).
    assert founder_frequency(0.5, [], 3, 0, 100) is None
    # The database's size once structure is counted: a commune of m lines informs as
    # λ·(ψ(λ + m) − ψ(λ)) lines: 1 for m = 1, 1 + 1/2 + 1/3 for m = 3 (λ = 1); no structure, 1.
    assert effective_lines(0.5, [1, 3]) == pytest.approx((1 + 1 + 1 / 2 + 1 / 3) / 4)
    assert effective_lines(0.0, [1, 3]) == 1.0


def _communes(haplotypes: dict[str, str], unsampled: tuple[str, ...] = ()):
    """A province whose martyrs' home commune is their id's first letter, all fallen on one front:
    (martyrs, consenting references on the full control region, maternal candidates); the
    `unsampled` martyrs have no reference."""
    from datetime import date

    rows = [(m, "Nam", 1950, date(1972, 1, 1), "Mặt trận Tây Nam", m[0]) for m in [*haplotypes, *unsampled]]
    columns = ["martyr_id", "sex", "birth_year", "death_date", "death_place", "hometown_commune"]
    martyrs = pl.DataFrame(rows, schema=columns, orient="row").with_columns(
        grave_status=pl.lit("Chưa xác định"),
        full_name=pl.col("martyr_id"), hometown_district=pl.lit("Châu Thành"), hometown_province=pl.lit(KG),
        unit=pl.lit(None, pl.String), aliases=pl.lit([], dtype=pl.List(pl.String)),
    )  # fmt: skip
    references = pl.DataFrame(
        [(f"R{m}", CR, h, True) for m, h in haplotypes.items()],
        schema=["relative_id", "range", "haplotype", "consent"],
        orient="row",
    )
    candidates = pl.DataFrame(
        [(m, f"R{m}", True) for m in haplotypes],
        schema=["martyr_id", "relative_id", "shares_mtdna"],
        orient="row",
    )
    return martyrs, references, candidates


def test_an_unsampled_martyr_of_a_commune_whose_lines_carry_the_haplotype_takes_his_share():
    # Commune A: three sampled lines carry the founder haplotype F, a fourth does not, and A5 has
    # no reference; commune B: four sampled lines, all different. A remains carrying F matches
    # A1–A3; with θ measured on these lines (> 0), A5 is a likelier source than the province's
    # frequency of F says, and the candidates' posteriors give way to him.
    from lietsi.matching.identification import identify
    from lietsi.matching.settings import MatchSettings

    f_hap = "73G 263G 16129A 16172C 16304C"
    haplotypes = {"A1": f_hap, "A2": f_hap, "A3": f_hap, "A4": "73G 263G 16311C"}
    haplotypes |= {f"B{i}": f"73G 263G 16{200 + i}T" for i in range(1, 5)}
    martyrs, references, candidates = _communes(haplotypes, ("A5",))
    remains = remains_frame(
        pl.DataFrame({"remains_id": ["HC1", "HC2"], "recovery_place": ["huyện Châu Thành", "huyện Gò Quao"]})
    )
    profiles = pl.DataFrame({"remains_id": ["HC1"], "range": [CR], "haplotype": [f_hap]})

    def a1(settings: MatchSettings) -> float:
        result = identify(remains, profiles, references, candidates, martyrs, settings)
        scored = result.match_candidates.filter(pl.col("martyr_id") == "A1")
        return scored["posterior"][0]

    structured, flat = a1(MatchSettings()), a1(MatchSettings(estimate_commune_theta=False))
    assert structured < flat


def test_a_founder_haplotype_weighs_more_against_a_remains_from_elsewhere():
    # Commune A: three sampled lines carry the founder haplotype F; commune B: one line carries F
    # too; eight more communes, four distinct lines each. Counted flat, F is 3 of the 39 other lines;
    # with θ measured on these lines (> 0), A's three copies are about one founding, so a remains of
    # another province carries F less often than the count says and A1's best-estimate LR is higher.
    from lietsi.matching.identification import identify
    from lietsi.matching.settings import MatchSettings

    f_hap = "73G 263G 16129A 16172C 16304C"
    haplotypes = {"A1": f_hap, "A2": f_hap, "A3": f_hap, "A4": "73G 263G 16311C", "B1": f_hap}
    haplotypes |= {f"B{i}": f"73G 263G 16{200 + i}T" for i in range(2, 5)}
    haplotypes |= {
        f"{c}{i}": f"73G 263G 16{100 + 10 * k + i}C" for k, c in enumerate("CDEFGHIJ") for i in range(4)
    }
    martyrs, references, candidates = _communes(haplotypes)
    remains = remains_frame(pl.DataFrame({"remains_id": ["HC1"], "recovery_place": ["huyện Châu Thành"]}))
    profiles = pl.DataFrame({"remains_id": ["HC1"], "range": [CR], "haplotype": [f_hap]})

    def lr_point(settings: MatchSettings) -> tuple[int, float]:
        result = identify(remains, profiles, references, candidates, martyrs, settings)
        a1 = result.match_candidates.filter(pl.col("martyr_id") == "A1")
        return a1["x"][0], a1["lr_point"][0]

    (x, flat), (_, structured) = (
        lr_point(MatchSettings(estimate_commune_theta=False)),
        lr_point(MatchSettings()),
    )
    assert x == 3 and flat == pytest.approx(39 / 3)
    assert structured > 1.3 * flat


def test_remains_features_assume_no_province_the_caller_did_not_give():
    # A national run passes no default province: a text naming none is parsed as written, not in
    # the province most remains were recovered in (here Kiên Giang, which would place it there).
    bare = "xã Bình An, huyện Châu Thành"
    remains = remains_frame(
        pl.DataFrame(
            {
                "remains_id": ["H1", "H2", "H3", "H4"],
                "recovery_place": [*["xã Vĩnh Hòa, huyện U Minh Thượng, tỉnh Kiên Giang"] * 3, bare],
            }
        )
    )
    assert remains_features(remains)["H4"]["place"] == place_units(bare)
    assert remains_features(remains, KG)["H4"]["place"] == place_units(bare, KG)
    assert place_units(bare, KG)["province"] == KG != place_units(bare)["province"]


def test_the_founders_frequency_is_the_formulas_to_the_bit():
    """`founder_frequency` sums each commune's copies by descent once per size, not per commune:
    the same additions in the same order as the formula written term by term, so the same floats."""
    import random

    def formula(theta, communes, own, unplaced, lines):
        counts = [c for c in communes if c]
        if not counts and not unplaced:
            return None
        lam = (1 - theta) / theta

        def founders(f):
            def after(c):
                return sum(lam * f / (lam * f + j) for j in range(1, c))

            return unplaced + sum(1 + after(c) for c in counts) + after(own + 1)

        f = (unplaced + len(counts)) / lines
        for _ in range(100):
            new = founders(f) / lines
            if abs(new - f) <= 1e-12:
                break
            f = new
        return new

    rng = random.Random(3)
    cases = [(0.5, [1, 1, 1], 0, 0, 100.0), (0.5, [], 3, 0, 100.0), (0.01, [1] * 40, 0, 2, 150.0)]
    for _ in range(300):
        communes = [rng.choice([0, 1, 1, 1, 1, 2, 3, 7]) for _ in range(rng.randint(0, 60))]
        theta = rng.choice([1e-4, 0.003, 0.02, 0.3])
        cases.append(
            (theta, communes, rng.choice([0, 0, 1, 4]), rng.choice([0, 0, 1, 5]), rng.uniform(20, 9000))
        )
    for case in cases:
        assert founder_frequency(*case) == formula(*case), case


def test_the_founders_frequencies_at_once_are_each_ones_to_the_bit():
    """`founder_frequencies` over a matrix of communes gives each row `founder_frequency`'s float
    (NaN for its None), whatever the other rows' sizes and iterations."""
    import random

    import numpy as np

    rng = random.Random(11)
    for theta in (0.0, 1e-4, 0.003, 0.05, 0.3):
        rows = [([1, 1, 1], 0, 0, 100.0), ([], 3, 0, 100.0), ([0, 0], 0, 0, 50.0), ([1] * 40, 0, 2, 150.0)]
        for _ in range(150):
            communes = [rng.choice([0, 1, 1, 1, 1, 2, 3, 7, 12]) for _ in range(rng.randint(0, 60))]
            rows.append((communes, rng.choice([0, 0, 1, 4]), rng.choice([0, 0, 1, 5]), rng.uniform(20, 9000)))
        width = max(len(c) for c, *_ in rows)
        matrix = np.array([[*c, *[0] * (width - len(c))] for c, *_ in rows])
        own, unplaced, lines = (np.array([row[k] for row in rows]) for k in (1, 2, 3))
        got = founder_frequencies(theta, matrix, own, unplaced, lines)
        for (communes, own, unplaced, lines), value in zip(rows, got.tolist(), strict=True):
            expected = founder_frequency(theta, communes, own, unplaced, lines)
            assert np.isnan(value) if expected is None else value == expected, (theta, communes, own)
    assert founder_frequencies(0.05, np.zeros((0, 0), dtype=np.int64), [], [], []).shape == (0,)


def test_without_structure_the_founders_frequency_counts_every_carrier():
    """θ = 0: each carrier is a line of its own (x/n), the limit the formula tends to as θ → 0."""
    communes, own, unplaced, lines = [1, 3, 2], 2, 1, 500.0
    assert founder_frequency(0.0, communes, own, unplaced, lines) == 9 / 500
    assert founder_frequency(1e-9, communes, own, unplaced, lines) == pytest.approx(9 / 500, rel=1e-6)
    assert founder_frequency(0.0, [], 4, 0, lines) is None


def test_each_front_named_on_a_record_is_a_prior_group_of_its_own_in_a_province():
    # A province's register holds many of its own war region's men and few of a far front's: each
    # front gets its share. Nationally every front's men lie somewhere in the register: one group.
    rows = [("K", "Chiến trường Khu 9", "D1"), ("Q", "Mặt trận Quảng Trị", "D1"), ("B", "", "D1"),
            ("H", "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang", "D1")]  # fmt: skip
    missing, pool = build_pool(_martyrs(rows), KG)
    by_id = {m["martyr_id"]: m for m in missing.iter_rows(named=True)}
    province = {mid: prior_group(m, pool, KG) for mid, m in by_id.items()}
    assert province == {
        "K": "Chưa xác định / unplaced: chien truong khu 9",
        "Q": "Chưa xác định / unplaced: mat tran quang tri",
        "B": "Chưa xác định / unplaced",
        "H": "Chưa xác định / here",
    }
    national = {mid: prior_group(m, pool, None, frozenset({KG})) for mid, m in by_id.items()}
    assert national == {**province, "K": "Chưa xác định / unplaced", "Q": "Chưa xác định / unplaced"}
