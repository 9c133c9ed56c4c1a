"""Each likelihood-ratio factor, the Clopper–Pearson bound, the posterior and the assignment."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest

from lietsi.geo import haversine_km
from lietsi.matching.assignment import Thresholds, assign, solve
from lietsi.matching.dna import dna_factor
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.geography import place_level, place_relation
from lietsi.matching.mixture import (
    OUTSIDE,
    Candidate,
    CandidateColumns,
    PriorModel,
    RemainsTerms,
    anchored_shares,
    area_outside,
    estimate,
    joint_count,
    one_body_posterior,
    posteriors,
    stated_prior,
)
from lietsi.matching.pool import artefact_name_factor, hometown_factor, inscriptions, unit_area_factor
from lietsi.matching.register import (
    age_factor,
    build_register,
    date_factor,
    distance_factor,
    parse_age_range,
    place_factor,
    sex_factor,
)
from lietsi.reasons import text as reason_text
from lietsi.stats import clopper_pearson_upper

S = EvidenceSettings()


# --- DNA ---------------------------------------------------------------------------------------------


def test_clopper_pearson_zero_count_matches_the_closed_form():
    # x = 0 of 706: 1 − 0.05^(1/706) = 0.00423, LR 236 (the Vietnamese database in the reference notes)
    p = clopper_pearson_upper(0, 706)
    assert p == pytest.approx(1 - 0.05 ** (1 / 706), rel=1e-9)
    assert 1 / p == pytest.approx(236.2, abs=0.5)


def test_clopper_pearson_bound_is_above_the_estimate_and_shrinks_with_n():
    for x, n in [(1, 100), (5, 612), (30, 1000)]:
        p = clopper_pearson_upper(x, n)
        assert x / n < p < 1
    assert clopper_pearson_upper(3, 1000) < clopper_pearson_upper(3, 100)
    assert clopper_pearson_upper(0, 0) == 1.0


def test_dna_factor_by_verdict():
    match = dna_factor("cannot_exclude", 0, 1, 612, S)
    p = clopper_pearson_upper(1, 612)
    assert match.lr == pytest.approx(1 / (S.theta + (1 - S.theta) * p))
    assert [r["code"] for r in match.why] == ["factor.dna_cannot_exclude"]
    text = reason_text(match.why)
    assert "1 trên 612 dòng mẹ" in text and f"θ = {S.theta:g}" in text
    assert "1 of 612" in reason_text(match.why, "en")
    common = dna_factor("cannot_exclude", 0, 23, 612, S)
    assert common.lr < match.lr  # a common haplotype weighs less
    assert dna_factor("inconclusive", 1, 1, 612, S).lr == 1.0  # SWGDAM: no LR for an inconclusive pair
    assert dna_factor("exclusion", 3, 0, 612, S).lr == 0.0


# --- non-genetic factors -------------------------------------------------------------------------------


def test_sex_factor():
    # the share is P(this estimate | someone else), measured on the register's estimates
    assert sex_factor("Nữ", "Nữ", 0.08, S).lr == pytest.approx(0.95 / 0.08)
    assert sex_factor("Nam", "Nam", 0.92, S).lr == pytest.approx(0.95 / 0.92)
    # a female estimate on a male martyr: P = the error rate, against how often anyone reads female
    assert sex_factor("Nữ", "Nam", 0.08, S).lr == pytest.approx(0.05 / 0.08)
    assert sex_factor("Nam", "Nữ", 0.92, S).lr < 0.06
    assert sex_factor(None, "Nam", None, S).lr == 1.0


def test_age_range_parsing_and_factor():
    assert parse_age_range("18-25") == (18, 25)
    assert parse_age_range("18 – 25 tuổi") == (18, 25)
    assert parse_age_range("khoảng 20") == (17, 23)
    assert parse_age_range("trên 30") == (30, 60)
    assert parse_age_range("") is None
    # 30% of the register's estimates contain 22, 20% more only once widened by 3 years
    shares = {"inside": 0.3, "near": 0.2, "outside": 0.5}
    inside = age_factor((18, 25), 22, shares, S)
    near = age_factor((18, 25), 27, shares, S)
    outside = age_factor((18, 25), 40, shares, S)
    p = dict(S.age_given_match)
    assert inside.lr == pytest.approx(p["inside"] / 0.3) and inside.cell == ("age", "inside")
    assert near.lr == pytest.approx(p["near"] / 0.2)
    assert outside.lr == pytest.approx(p["outside"] / 0.5)
    assert inside.lr > near.lr and outside.lr < 1
    assert age_factor(None, 22, None, S).lr == 1.0


def test_place_relation_by_the_finest_common_level():
    kg = {"commune": "Bình An", "district": "Châu Thành", "province": "Kiên Giang"}
    same_district = {"commune": "Minh Hòa", "district": "Châu Thành", "province": "Kiên Giang"}
    other_district = {"commune": "Mỹ Đức", "district": "Hà Tiên", "province": "Kiên Giang"}
    district_only = {"commune": None, "district": "Châu Thành", "province": "Kiên Giang"}
    province_only = {"commune": None, "district": None, "province": "Kiên Giang"}
    other_province = {"commune": None, "district": None, "province": "Long An"}
    front = {"commune": None, "district": None, "province": None}
    assert place_level(kg) == 3 and place_level(district_only) == 2 and place_level(front) == 0
    assert place_relation("binh an chau thanh", kg, "binh an chau thanh kg", kg) == (3, "commune")
    assert place_relation("a", kg, "b", same_district) == (3, "district")
    assert place_relation("a", kg, "b", other_district) == (3, "province")
    # a death recorded to the district: compared at district level, the commune is unknown
    assert place_relation("a", kg, "b", district_only) == (2, "district")
    assert place_relation("a", other_district, "b", district_only) == (2, "province")
    assert place_relation("a", kg, "b", province_only) == (1, "province")
    assert place_relation("a", kg, "b", other_province) == (1, "elsewhere")
    assert place_relation("mat tran tay nam", front, "mat tran tay nam", front) == (0, "same_text")
    assert place_relation("a", kg, "chien truong k", front) == (0, "different")
    assert place_relation("", kg, "b", kg) is None


def test_place_factor_numerator_by_level_and_measured_share():
    commune = place_factor((3, "commune"), 0.01, S)
    assert commune.lr == pytest.approx(dict(dict(S.place_given_match)["death:3"])["commune"] / 0.01)
    assert commune.cell == ("place:death:3", "commune") and commune.den == 0.01
    # a local unit's area is a weaker witness than the recorded place of death
    assert place_factor((3, "commune"), 0.01, S, source="unit").lr < commune.lr
    district = place_factor((2, "district"), 0.1, S)
    assert place_factor((3, "commune"), 0.002, S).lr > commune.lr > district.lr > 1
    assert place_factor((1, "elsewhere"), 0.5, S).lr < 1
    assert place_factor((0, "same_text"), 0.05, S).lr > 1
    for _, outcomes in S.place_given_match:
        assert sum(p for _, p in outcomes) == pytest.approx(1.0)
    assert place_factor(None, None, S).lr == 1.0


def test_distance_factor():
    # Rạch Giá to Hà Tiên is about 80 km
    km = haversine_km(10.0125, 105.0809, 10.3833, 104.4875)
    assert 70 < km < 90
    near = distance_factor(3.0, 0.01, S)
    far = distance_factor(km, 0.6, S)
    assert near.lr > 1 > far.lr
    assert distance_factor(None, None, S).lr == 1.0


def test_date_factor():
    death = date(1972, 3, 12)
    # 10% of the register was recovered before this death
    after = date_factor(date(1985, 1, 1), date(1985, 12, 31), death, 0.1, S)
    assert after.lr == pytest.approx((1 - S.date_error) / 0.9) and after.lr > 1
    before = date_factor(date(1970, 1, 1), date(1970, 12, 31), death, 0.1, S)
    assert before.lr == pytest.approx(S.date_error / 0.1) and before.lr < 1
    # a year-only recovery date of the death year may be after the death: not penalised
    assert date_factor(date(1972, 1, 1), date(1972, 12, 31), death, 0.1, S).lr > 1
    assert date_factor(None, None, death, None, S).lr == 1.0


def test_unit_area_factor():
    home = unit_area_factor("Kiên Giang", "Tiểu đoàn 207", 18, 20, 0.3, S)
    away = unit_area_factor("Kiên Giang", "Sư đoàn 330", 0, 20, 0.3, S)
    assert home.lr > 1 > away.lr
    assert unit_area_factor(None, "x", 0, 0, None, S).lr == 1.0


def test_inscriptions_are_read_from_artefact_text():
    assert inscriptions('bi đông khắc chữ "Thành", lược nhôm') == ["Thành"]
    assert inscriptions("ca nhôm khắc tên “Ng. V. Thành”") == ["Ng. V. Thành"]
    assert inscriptions("bi đông khắc chữ Thành, lược") == ["Thành"]
    assert inscriptions("lược nhôm, cúc áo") == []


def test_artefact_name_factor():
    names = ["Nguyễn Văn Thành", "Tư Thành"]
    full = artefact_name_factor(["Nguyễn Văn Thành"], names, 0.03, 0.001, S)
    given = artefact_name_factor(["Thành"], names, 0.03, 0.001, S)
    abbreviated = artefact_name_factor(["Ng. V. Thành"], names, 0.03, 0.001, S)
    other = artefact_name_factor(["Hùng"], names, 0.03, 0.001, S)
    assert full.lr == pytest.approx(0.8 / 0.001)
    assert given.lr == pytest.approx(0.8 / 0.03) == abbreviated.lr
    # someone else's name: P = 0.2 for his own remains, 1 − 0.03 for anyone else's
    assert other.lr == pytest.approx(0.2 / 0.97) and other.cell == ("artefact", "other")
    assert artefact_name_factor([], names, 0.03, 0.001, S).lr == 1.0
    # a nom de guerre weighs as the soldiers so called are common, not as rare as his full name
    guerre = artefact_name_factor(["Ba Quý"], ["Lê Văn Hải", "Ba Quý"], 0.03, 0.001, S, alias_share=0.02)
    assert guerre.lr == pytest.approx(0.8 / 0.02)


def test_hometown_factor():
    hit = hometown_factor("thẻ ghi Bình An - Châu Thành", "Bình An", "Châu Thành", 0.02, S)
    assert hit.lr == pytest.approx(0.8 / 0.02)
    assert hometown_factor("lược nhôm", "Bình An", "Châu Thành", 0.02, S).lr == 1.0


# --- posterior -------------------------------------------------------------------------------------------


def test_posterior_accounts_for_competitors_unsampled_martyrs_and_outsiders():
    prior = stated_prior({"a": 1000}, {}, 0.5)
    assert prior.prior("a") == pytest.approx(0.5 / 1000) and prior.p_outside == 0.5
    outside, nothing, one = np.array([prior.p_outside]), np.zeros(1), np.zeros(1, dtype=np.int64)
    alone, p0 = posteriors(np.array([prior.prior("a") * 1e6]), one, outside, nothing)
    assert alone[0] > 0.99 and p0[0] < 0.01
    # two brothers on one maternal line with the same evidence split the probability
    split, _ = posteriors(np.array([500.0, 500.0]), np.zeros(2, dtype=np.int64), outside, nothing)
    assert split[0] == pytest.approx(split[1]) and split[0] < 0.5
    # a weak match: the remains more likely belong to nobody in the pool
    weak, p0 = posteriors(np.array([prior.prior("a") * 100]), one, outside, np.array([0.15]))
    assert weak[0] < 0.2 and p0[0] > 0.5
    assert weak.sum() + p0[0] < 1  # the rest is the unsampled martyrs
    # each remains is its own denominator: a second remains' candidates do not dilute the first's
    two, p0 = posteriors(
        np.array([prior.prior("a") * 1e6, 500.0, 500.0]),
        np.array([0, 1, 1]),
        np.repeat(outside, 2),
        np.zeros(2),
    )
    assert two[0] == pytest.approx(alone[0]) and two[1] == pytest.approx(split[0]) and p0.shape == (2,)


def test_stated_prior_spreads_the_pool_share_by_group_size_and_weight():
    prior = stated_prior({"gathered": 300, "not_gathered": 100}, {"not_gathered": 0.25}, 0.4)
    assert sum(prior.masses.values()) == pytest.approx(1.0)
    assert prior.prior("not_gathered") == pytest.approx(0.25 * prior.prior("gathered"))


def _mixture(n_remains: int, true_commune: float, seed: int = 3) -> list[RemainsTerms]:
    """Remains drawn from the model itself: 60% belong to one of 100 sampled martyrs (group g), 40%
    to nobody. Each other martyr's reference matches by chance with probability 0.02 (DNA LR 50);
    the place agrees at commune level with probability `true_commune` for the true martyr, 0.05
    (the measured share) for anyone else."""
    import random

    rng = random.Random(seed)
    terms = []
    for _ in range(n_remains):
        owner = rng.randrange(100) if rng.random() < 0.6 else None
        candidates = []
        for k in range(100):
            if k != owner and rng.random() >= 0.02:
                continue
            commune = rng.random() < (true_commune if k == owner else 0.05)
            cell = (("place:death:3", "commune" if commune else "elsewhere"), 0.05 if commune else 0.95)
            candidates.append(Candidate("g", 50.0, (cell,)))
        terms.append(RemainsTerms(tuple(candidates), {}, {}))
    return terms


def test_em_recovers_the_numerator_and_the_outside_share():
    tables0 = {"place:death:3": {"commune": 0.5, "elsewhere": 0.5}}
    prior0 = stated_prior({"g": 100}, {}, 0.5)
    tables, prior, iterations, _ = estimate(_mixture(4000, 0.8), tables0, prior0, strength=20)
    # a statistical estimate (about 1,400 true pairs hidden among 10,000): within sampling error
    assert tables["place:death:3"]["commune"] == pytest.approx(0.8, abs=0.07)
    assert 1 < iterations < 200
    assert prior.p_outside == pytest.approx(0.4, abs=0.05)
    # with few remains the stated value (the prior) holds more weight
    few, _, _, _ = estimate(_mixture(10, 0.8), tables0, prior0, strength=20)
    assert abs(few["place:death:3"]["commune"] - 0.5) < abs(tables["place:death:3"]["commune"] - 0.5)


def test_anchored_shares_read_each_group_from_its_sampled_martyrs():
    # group a: 40 of 100 martyrs sampled, 6 remains expected on them → 15 on the group; group b has
    # no sampled martyr and keeps its mixture count; outside is the rest of the 50 remains.
    shares = anchored_shares(
        {"a": 9.0, "b": 2.0, OUTSIDE: 39.0},
        {"a": 6.0, "b": 0.0, OUTSIDE: 0.0},
        {"a": 100, "b": 10},
        {"a": 40},
        50,
    )
    assert shares == pytest.approx({"a": 15.0, "b": 2.0, OUTSIDE: 33.0})
    # a pool count above the number of remains is scaled down to it, with nobody outside
    full = anchored_shares({"a": 9.0, OUTSIDE: 1.0}, {"a": 9.0, OUTSIDE: 0.0}, {"a": 100}, {"a": 10}, 10)
    assert full == pytest.approx({"a": 10.0, OUTSIDE: 0.0})


def _half_sampled(n_remains: int, seed: int = 5) -> list[RemainsTerms]:
    """Remains drawn from the model: 60% belong to one of 200 martyrs of group g, 40% to nobody; the
    first 100 martyrs have a reference (a chance match with probability 0.002, so a match weighs LR 500), the
    other 100 none and no comparable place, so for every remains they are 100 hypotheses of LR 1,
    exactly like `outside`."""
    import random

    rng = random.Random(seed)
    terms = []
    for _ in range(n_remains):
        owner = rng.randrange(200) if rng.random() < 0.6 else None
        candidates = tuple(
            Candidate("g", 500.0, ()) for k in range(100) if k == owner or rng.random() < 0.002
        )
        terms.append(RemainsTerms(candidates, {}, {"g": 100.0}))
    return terms


def test_em_reads_the_outside_share_from_the_sampled_martyrs():
    prior0 = stated_prior({"g": 200}, {}, 0.5)
    _, prior, _, _ = estimate(_half_sampled(4000), {}, prior0, strength=20, sampled={"g": 100})
    # the sample holds 39% outsiders and 31.5% remains of sampled martyrs (read as 63% in the pool)
    assert prior.p_outside == pytest.approx(0.38, abs=0.035)
    # started far from the truth on either side, it comes back to it
    for start in (0.1, 0.9):
        _, other, _, _ = estimate(
            _half_sampled(4000), {}, stated_prior({"g": 200}, {}, start), strength=20, sampled={"g": 100}
        )
        assert other.p_outside == pytest.approx(0.38, abs=0.035)


def test_the_one_body_posterior_is_the_martyrs_own_enumeration():
    # One martyr, expected in the register with probability rho = Σ prior; each remains alone is him
    # (prior π_i, likelihood ratio L_i) or someone else. Enumerating where his one body lies gives
    # P(remains i is him | every remains) = π_i L_i / ((1 − rho) + Σ_j π_j L_j).
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 6))
        prior = rng.uniform(0.001, 0.15, n)
        lr = rng.uniform(0.01, 5000, n)
        alone = prior * lr / (prior * lr + 1 - prior)
        exact = prior * lr / (1 - prior.sum() + (prior * lr).sum())
        got = one_body_posterior(
            alone, prior, np.full(n, prior.sum()), np.zeros(n, dtype=np.int64), np.arange(n)
        )
        assert got == pytest.approx(exact, rel=1e-9)


def test_a_claim_no_other_remains_makes_rises_and_contested_claims_share_one_body():
    # Martyr 0 is claimed by two remains at 0.9 each; martyr 1 by one remains at 0.3 (ρ 0.6: every
    # other remains' DNA left him nowhere else); martyr 2 by one at 0.3 with ρ ≈ 0 (as before).
    p = np.array([0.9, 0.9, 0.3, 0.3])
    rho, martyrs = np.array([0.6, 0.6, 0.6, 1e-9]), np.array([0, 0, 1, 2])
    got = one_body_posterior(p, np.full(4, 1e-4), rho, martyrs, np.arange(4))
    assert got[0] == got[1] and 0.45 < got[0] < 0.5
    assert got[2] > 0.5 and got[3] == pytest.approx(0.3, abs=1e-4)
    # In the estimate, each claim counts as much in his group's share; a row naming no one keeps its mass.
    named, claims, mass = np.array([0, 1, 2]), np.array([0, 0, 1]), np.array([0.9, 0.9, 0.3, 0.2])
    claimed = joint_count(named, claims, mass, np.full(3, 1e-4), np.full(3, 0.6), np.arange(3))
    assert claimed.tolist() == pytest.approx([*got[:3], 0.2])


def test_two_brothers_one_remains_claims_alone_are_not_both_likelier_than_not():
    # One remains, its line shared by two brothers nobody else claims: 0.45 each alone, 0.1 outside.
    # Each rises (no other remains is either of them) but the remains is at most one of them.
    got = one_body_posterior(
        np.array([0.45, 0.45]),
        np.full(2, 1e-4),
        np.full(2, 0.6),
        np.array([0, 1]),
        np.zeros(2, dtype=np.int64),
    )
    assert got[0] == got[1] and 0.45 < got[0] < 0.5 and got.sum() < 1


def test_a_martyr_counts_as_one_remains_in_his_groups_share():

    # Group g: 2 martyrs, m sampled. Two remains match m strongly (one is his, the other shares his
    # haplotype), two match nobody. Counted per remains, m holds 2 remains, the group 4 of 4 and
    # nobody is outside; counted once, the group holds 2 and half the remains are outside.
    def terms(martyr):
        strong = RemainsTerms((Candidate("g", 1e6, (), martyr),), {}, {"g": 1.0})
        return [strong, strong, RemainsTerms((), {}, {"g": 1.0}), RemainsTerms((), {}, {"g": 1.0})]

    prior0 = stated_prior({"g": 2}, {}, 0.5)
    _, once, _, _ = estimate(terms("m"), {}, prior0, strength=1e-3, sampled={"g": 1})
    _, twice, _, _ = estimate(terms(None), {}, prior0, strength=1e-3, sampled={"g": 1})
    assert once.p_outside == pytest.approx(0.5, abs=0.01)
    assert twice.p_outside == pytest.approx(0.0, abs=0.01)


def test_area_outside_reads_each_district_from_its_sampled_martyrs():
    # district A: 50 remains, 6 expected on group a's sampled candidates → 15 in the pool, raw 0.7;
    # district B: 10 remains, 4 → 10 in the pool, raw 0. Both shrunk towards 0.5 with weight 20.
    areas = area_outside(
        {"A": {"a": 6.0}, "B": {"a": 4.0, "b": 3.0}},
        Counter({"A": 50, "B": 10}),
        {"a": 100, "b": 10},
        {"a": 40},
        p_outside=0.5,
        strength=20,
    )
    assert areas == pytest.approx({"A": (20 * 0.5 + 50 * 0.7) / 70, "B": (20 * 0.5) / 30})


def test_prior_at_an_area_takes_its_outside_share_and_scales_the_pool():
    prior = PriorModel({"a": 0.3, "b": 0.2, OUTSIDE: 0.5}, {"a": 30, "b": 10}, {"A": 0.8})
    here = prior.at("A")
    assert here.p_outside == 0.8
    assert here.masses == pytest.approx({"a": 0.12, "b": 0.08, OUTSIDE: 0.8})
    assert here.prior("a") == pytest.approx(0.004)
    assert prior.at("elsewhere") is prior and prior.at(None) is prior


def test_em_reads_each_district_outside_share():
    # District X: 10% outsiders; district Y: 70%. Remains drawn as in `_half_sampled`.
    import random

    rng = random.Random(11)
    terms, areas = [], []
    for district, outside in (("X", 0.1), ("Y", 0.7)) * 2000:
        owner = rng.randrange(200) if rng.random() >= outside else None
        candidates = tuple(
            Candidate("g", 500.0, ()) for k in range(100) if k == owner or rng.random() < 0.002
        )
        terms.append(RemainsTerms(candidates, {}, {"g": 100.0}))
        areas.append(district)
    prior0 = stated_prior({"g": 200}, {}, 0.5)
    _, prior, _, _ = estimate(terms, {}, prior0, strength=20, sampled={"g": 100}, areas=areas)
    assert prior.areas["X"] == pytest.approx(0.1, abs=0.05)
    assert prior.areas["Y"] == pytest.approx(0.7, abs=0.05)
    assert prior.p_outside == pytest.approx(0.4, abs=0.05)
    # without the districts, one share for all
    _, flat, _, _ = estimate(terms, {}, prior0, strength=20, sampled={"g": 100})
    assert flat.areas == {}


_COMMUNE, _ELSEWHERE, _AGREE = ("place:death:3", "commune"), ("place:death:3", "elsewhere"), ("sex", "agree")


def _hand_made() -> tuple[list[RemainsTerms], dict, PriorModel]:
    """Four remains over two groups: candidates with two, one and no re-estimated cell, unscored
    cells and flat groups, a remains with no candidate."""
    terms = [
        RemainsTerms(
            (
                Candidate("a", 40.0, ((_COMMUNE, 0.1), (_AGREE, 0.5))),
                Candidate("b", 3.0, ((_ELSEWHERE, 0.9),)),
            ),
            {("a", _ELSEWHERE): 12.0},
            {"b": 5.0},
        ),
        RemainsTerms((Candidate("b", 900.0, ((_COMMUNE, 0.2),)),), {}, {}),
        RemainsTerms((), {("b", _COMMUNE): 2.0}, {"a": 7.0}),
        RemainsTerms((Candidate("a", 0.5, ()),), {}, {"a": 1.0}),
    ]
    tables0 = {"place:death:3": {"commune": 0.6, "elsewhere": 0.4}, "sex": {"agree": 0.95, "disagree": 0.05}}
    return terms, tables0, stated_prior({"a": 10, "b": 20}, {}, 0.5)


def test_one_em_step_by_hand():
    # Every martyr's prior is 0.5 / 30. Remains 1: LRs 40·0.6/0.1·0.95/0.5 and 3·0.4/0.9, unsampled
    # martyrs of group a at 0.4 (Σ 1/den = 12), 5 flat martyrs of group b; remains 2: 900·0.6/0.2.
    # Then the M-step with the stated tables worth 2 remains.
    terms, tables0, prior0 = _hand_made()
    p = 0.5 / 30
    c1, c2, u1, f1 = p * 40 * (0.6 / 0.1) * (0.95 / 0.5), p * 3 * 0.4 / 0.9, p * 0.4 * 12, p * 5
    d1 = 0.5 + c1 + c2 + u1 + f1
    c3 = p * 900 * 0.6 / 0.2
    d2 = 0.5 + c3
    tables, prior, iterations, _ = estimate(terms[:2], tables0, prior0, strength=2.0, iterations=1)
    commune, elsewhere = c1 / d1 + c3 / d2, (c2 + u1) / d1
    assert iterations == 1
    assert tables["place:death:3"]["commune"] == pytest.approx(
        (2 * 0.6 + commune) / (2 + commune + elsewhere)
    )
    assert tables["sex"]["agree"] == pytest.approx((2 * 0.95 + c1 / d1) / (2 + c1 / d1))
    assert prior.masses["a"] == pytest.approx((2 * 0.5 / 3 + (c1 + u1) / d1) / 4)
    assert prior.masses["b"] == pytest.approx((2 * 1 / 3 + (c2 + f1) / d1 + c3 / d2) / 4)
    assert prior.p_outside == pytest.approx((2 * 0.5 + 0.5 / d1 + 0.5 / d2) / 4)


def test_em_over_arrays_gives_the_dict_loop_estimate_to_the_bit():
    """The values the former implementation (a Python loop over each remains' dicts, 093f6a7) gave
    on `_hand_made` with a confirmed pair: the arrays add each sum's terms in the same order, so
    every bit is the same. With the groups read from their sampled martyrs and two recovery areas,
    the values of the out-of-fold shares (`out_of_fold`, 2026-12-01), to the bit as well."""
    terms, tables0, prior0 = _hand_made()
    known = [((_COMMUNE, 0.1), (_AGREE, 0.5))]
    tables, prior, iterations, _ = estimate(terms, tables0, prior0, strength=2.0, known=known)
    assert iterations == 9
    assert tables == {
        "place:death:3": {"commune": 0.8394057805838193, "elsewhere": 0.16059421941618074},
        "sex": {"agree": 0.9748130220721731, "disagree": 0.02518697792782687},
    }
    assert prior.masses == {"a": 0.28293733344840494, "b": 0.28316203040443405, OUTSIDE: 0.43390063614716096}
    tables, prior, iterations, _ = estimate(
        terms,
        tables0,
        prior0,
        strength=2.0,
        known=known,
        sampled={"a": 4, "b": 5},
        areas=["X", None, "X", "Y"],
    )
    assert iterations == 5
    assert tables == {
        "place:death:3": {"commune": 0.8393216135787398, "elsewhere": 0.1606783864212601},
        "sex": {"agree": 0.9746129035111029, "disagree": 0.02538709648889712},
    }
    assert prior.masses == {"a": 0.306997464181687, "b": 0.5263358691516463, OUTSIDE: 0.16666666666666666}
    assert prior.areas == {"X": 0.08333333333333333, "Y": 0.4219269859574252}


def test_a_share_read_from_one_remains_does_not_confirm_that_remains():
    # Group a is one sampled martyr, matched strongly by one remains of 100: read with that remains,
    # a holds about 1 remains; read without it (what that remains' prior of him is made from), a
    # holds only the stated share. A group of 50 sampled martyrs, each matched by one remains, barely
    # moves without one of them.
    def run(size: int) -> np.ndarray:
        prior0 = stated_prior({"a": size, "b": 100 - size}, {}, 0.5)
        rows, none = np.arange(size, dtype=np.int32), np.zeros((size, 0), dtype=np.int32)
        columns = CandidateColumns(
            rows, np.zeros(size, dtype=np.int32), ["a"], np.full(size, 1e4), rows, none, none, [], np.ones(0),
            np.ones(size, dtype=bool),
        )  # fmt: skip
        # The matched remains' candidates are the columns; the other remains hold group b's martyrs.
        rest = [RemainsTerms((), {}, {})] * size + [RemainsTerms((), {}, {"b": 1.0})] * (100 - size)
        _, prior, _, own = estimate(rest, {}, prior0, strength=2.0, sampled={"a": size}, columns=columns)
        assert prior.masses["a"] == pytest.approx(size / 100, rel=0.15)
        return own

    assert run(1)[0] < 0.05
    assert run(50).min() > 0.95


# --- assignment -------------------------------------------------------------------------------------------


def _scored(rows):
    return pl.DataFrame(
        rows, schema=["remains_id", "martyr_id", "posterior", "verdict", "excluding_references"], orient="row"
    )


def test_assignment_resolves_a_conflict_by_total_log_posterior():
    # r1 prefers m1 slightly, but r2 has nobody else: the optimum gives m1 to r2 and m2 to r1.
    scored = _scored(
        [
            ("r1", "m1", 0.60, "cannot_exclude", None),
            ("r1", "m2", 0.35, "cannot_exclude", None),
            ("r2", "m1", 0.995, "cannot_exclude", None),
        ]
    )
    assert solve(scored, Thresholds()) == {"r1": "m2", "r2": "m1"}
    greedy_total = math.log(0.60) + math.log(Thresholds().review)
    assert math.log(0.35) + math.log(0.995) > greedy_total
    ids = {r["remains_id"]: r for r in assign(scored).iter_rows(named=True)}
    assert ids["r2"]["martyr_id"] == "m1"
    # r1's claim on m1 (0.60) is above the review threshold: m1's proposal is a conflict to review
    assert ids["r2"]["status"] == "needs_review" and "r1" in ids["r2"]["reasons"]
    assert ids["r1"]["martyr_id"] == "m2" and ids["r1"]["status"] == "needs_review"


def test_assignment_status_thresholds_and_no_forced_matches():
    scored = _scored(
        [
            ("r1", "m1", 0.995, "cannot_exclude", None),
            ("r2", "m2", 0.995, "inconclusive", None),
            ("r3", "m3", 0.995, "cannot_exclude", "REL-9"),
            ("r4", "m4", 0.5, "cannot_exclude", None),
            ("r5", "m5", 0.01, "cannot_exclude", None),
        ]
    )
    ids = {r["remains_id"]: r for r in assign(scored).iter_rows(named=True)}
    assert ids["r1"]["status"] == "proposed"
    assert ids["r2"]["status"] == "needs_review" and '"review.dna_inconclusive"' in ids["r2"]["reason_codes"]
    assert ids["r3"]["status"] == "needs_review" and "REL-9" in ids["r3"]["reasons"]
    assert ids["r4"]["status"] == "needs_review"
    assert "r5" not in ids  # below the review threshold: left unresolved, never guessed


def test_one_martyr_is_never_proposed_for_two_remains():
    scored = _scored(
        [
            ("r1", "m1", 0.999, "cannot_exclude", None),
            ("r2", "m1", 0.999, "cannot_exclude", None),
        ]
    )
    ids = assign(scored)
    assert ids.filter(pl.col("status") == "proposed").height == 0
    assert set(ids["status"]) == {"needs_review"}
    competitors = json.loads(ids.filter(pl.col("remains_id") == "r1")["competitors"][0])
    assert competitors == []


def test_a_rival_claim_below_the_review_threshold_does_not_block_a_strong_one():
    scored = _scored(
        [("r1", "m1", 0.9999, "cannot_exclude", None), ("r2", "m1", 0.04, "cannot_exclude", None)]
    )
    ids = {r["remains_id"]: r for r in assign(scored).iter_rows(named=True)}
    assert ids["r1"]["status"] == "proposed"
    assert "r2" not in ids  # below the review threshold
    # A rival at the review threshold or above is a competitor: both go to review.
    scored = _scored(
        [("r1", "m1", 0.9999, "cannot_exclude", None), ("r2", "m1", 0.06, "cannot_exclude", None)]
    )
    ids = {r["remains_id"]: r for r in assign(scored).iter_rows(named=True)}
    assert ids["r1"]["status"] == "needs_review" and "r2 (0.060)" in ids["r1"]["reasons"]
    # r2 lost its only candidate to r1: listed for review, never proposed
    assert ids["r2"]["status"] == "needs_review" and "r1" in ids["r2"]["reasons"]


def test_a_pair_that_needs_the_best_estimate_of_the_frequency_is_reviewed():
    scored = _scored([("r1", "m1", 0.999, "cannot_exclude", None)]).with_columns(
        posterior_bound=pl.Series([0.8])
    )
    row = assign(scored).row(0, named=True)
    assert row["status"] == "needs_review" and "cận trên 95%" in row["reasons"]
    assert '"review.posterior_below_threshold"' in row["reason_codes"]
    assert row["posterior_bound"] == pytest.approx(0.8)


def test_theta_caps_the_dna_weight_and_zero_theta_is_the_plain_count():
    plain = replace(S, theta=0.0)
    assert dna_factor("cannot_exclude", 0, 0, 700, plain).lr == pytest.approx(
        1 / clopper_pearson_upper(0, 700)
    )
    for n in (700, 70_000, 7_000_000):
        assert dna_factor("cannot_exclude", 0, 0, n, replace(S, theta=0.01)).lr < 100


def test_frequency_is_the_larger_of_the_province_and_an_independent_database():
    province_only = dna_factor("cannot_exclude", 0, 0, 700, S)
    rarer = dna_factor("cannot_exclude", 0, 0, 700, S, independent=(1, 50_000))
    commoner = dna_factor("cannot_exclude", 0, 0, 700, S, independent=(40, 2_000))
    assert rarer.lr == pytest.approx(province_only.lr) and rarer.values["frequency_from"] == "province"
    assert commoner.lr < province_only.lr and commoner.values["frequency_from"] == "independent"
    assert [r["code"] for r in commoner.why] == ["factor.dna_cannot_exclude_independent"]
    assert "cơ sở dữ liệu độc lập" in reason_text(commoner.why)


def test_register_place_shares_count_every_recovery_place_as_place_relation_does():
    """The register's place shares come from counts by level and unit (one look-up per level, a
    country has tens of thousands of places); they equal comparing every recovery place."""
    import random
    from collections import Counter

    rng = random.Random(5)
    units = [(p, d, c) for p in ("A", "B") for d in ("d1", "d2") for c in ("c1", "c2", None)]

    def place() -> dict:
        p, d, c = rng.choice(units)
        level = rng.choice((0, 1, 2, 3))
        return {
            "province": p if level >= 1 else None,
            "district": d if level >= 2 else None,
            "commune": c if level == 3 else None,
        }

    key_places = {f"k{i}": place() for i in range(60)}
    places = Counter({k: rng.randint(1, 4) for k in key_places})
    places[""] = 3  # remains without a recovery place text count nowhere
    key_places[""] = {}
    reg = build_register({}, EvidenceSettings())
    reg = replace(reg, places=places, key_places=key_places)
    for death_key, death in [*list(key_places.items())[:30], ("front", {}), ("", {"province": "A"})]:
        expected: Counter = Counter()
        for key, n in places.items():
            relation = place_relation(key, key_places[key], death_key, death)
            if relation:
                expected[relation] += n
        totals = Counter()
        for (level, _), n in expected.items():
            totals[level] += n
        assert reg.place_shares(death_key, death) == {r: n / totals[r[0]] for r, n in expected.items()}
