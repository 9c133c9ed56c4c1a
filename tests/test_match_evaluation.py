"""Calibration of posteriors against outcomes: the reliability table and the Brier score."""

from __future__ import annotations

import pytest

from lietsi.matching.evaluation import bins_outside, calibration_chi2, chance_misses, reliability


def test_reliability_on_a_hand_made_case() -> None:
    posterior = [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.96, 1.0]
    correct = [False, False, False, True, True, False, True, True]
    table, brier = reliability(posterior, correct)
    rows = {(r["posterior_from"], r["posterior_to"]): r for r in table.to_dicts()}
    low = rows[(0.05, 0.2)]
    assert (low["pairs"], low["correct"]) == (4, 1)
    assert low["expected"] == pytest.approx(0.1)
    assert low["observed"] == pytest.approx(0.25)
    assert low["gap"] == pytest.approx(0.15)
    high = rows[(0.9, 0.95)]
    assert (high["pairs"], high["expected"], high["observed"]) == (2, pytest.approx(0.9), 0.5)
    assert high["gap"] == pytest.approx(-0.4)
    # 1.0 lands in the last bin, which is closed on the right.
    assert rows[(0.99, 1.0)]["pairs"] == 1 and rows[(0.99, 1.0)]["observed"] == 1.0
    assert rows[(0.95, 0.99)]["pairs"] == 1
    empty = rows[(0.0, 0.05)]
    assert empty["pairs"] == 0 and empty["expected"] is None and empty["gap"] is None
    assert table["pairs"].sum() == len(posterior)
    # (3·0.1² + 0.9²) + (0.1² + 0.9²) + 0.04² + 0² over 8 pairs.
    assert brier == pytest.approx((3 * 0.01 + 0.81 + 0.01 + 0.81 + 0.0016) / 8)


def test_a_perfect_forecaster_scores_zero_and_bad_input_is_refused() -> None:
    table, brier = reliability([0.0, 1.0, 1.0], [False, True, True])
    assert brier == 0.0
    assert table.filter(table["pairs"] > 0)["gap"].to_list() == [0.0, 0.0]
    assert reliability([], [])[1] is None
    with pytest.raises(ValueError, match="outside"):
        reliability([1.2], [True])
    with pytest.raises(ValueError, match="outcomes"):
        reliability([0.5], [])


def test_each_bin_carries_the_wilson_interval_of_its_observed_share() -> None:
    # 8 right of 10 at 0.85: Wilson 95%, (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96:
    # (0.8 + 0.19208 ± 1.96·√(0.016 + 0.009604)) / 1.38416 = 0.4902 … 0.9433.
    table, _ = reliability([0.85] * 10 + [0.1] * 4, [True] * 8 + [False] * 2 + [True, False, False, False])
    rows = {(r["posterior_from"], r["posterior_to"]): r for r in table.to_dicts()}
    high = rows[(0.8, 0.9)]
    assert high["low"] == pytest.approx(0.4902, abs=1e-4)
    assert high["high"] == pytest.approx(0.9433, abs=1e-4)
    # 1 of 4: (0.25 + 0.4802 ± 1.96·√(0.046875 + 0.060025)) / 1.9604 = 0.0456 … 0.6994; the expected
    # 0.1 is inside: a gap of +0.15 on four pairs is noise.
    low = rows[(0.05, 0.2)]
    assert (low["low"], low["high"]) == (pytest.approx(0.0456, abs=1e-4), pytest.approx(0.6994, abs=1e-4))
    assert low["low"] <= low["expected"] <= low["high"]
    assert rows[(0.0, 0.05)]["low"] is None


def test_calibration_chi2_weighs_each_bin_by_a_calibrated_model_s_variance() -> None:
    # 20 pairs at 0.5, 14 right: (14 − 10)² / (20 · 0.25) = 3.2 on one bin, p = 0.074;
    # 30 pairs at 0.1, 3 right: 0 (exactly as expected); 5 pairs at 0.9: too few, left out.
    posterior = [0.5] * 20 + [0.1] * 30 + [0.9] * 5
    correct = [True] * 14 + [False] * 6 + [True] * 3 + [False] * 27 + [False] * 5
    statistic, df, p = calibration_chi2(posterior, correct)
    assert (statistic, df) == (pytest.approx(3.2), 2)
    assert p == pytest.approx(0.2019, abs=1e-3)  # χ²(2) survival at 3.2: e^(−1.6)
    # the 0.5 bin alone misses ±0.05 (+0.20) with the expected share inside Wilson [0.48, 0.85]
    table, _ = reliability(posterior, correct)
    assert bins_outside(table) == (2, 1, 0)


def test_a_calibrated_model_misses_a_bin_of_twenty_by_chance_half_the_time() -> None:
    # 20 pairs at 0.5: |right/20 − 0.5| > 0.05 when right ≤ 8 or ≥ 12, P = 2 · P(Bin(20, ½) ≤ 8) = 0.503;
    # 40 pairs at 0.999 never miss.
    misses = chance_misses([0.5] * 20 + [0.999] * 40, draws=4000, seed=3)
    assert misses.mean() == pytest.approx(0.503, abs=0.03)
    assert set(misses.tolist()) <= {0, 1}
    assert chance_misses([0.5] * 19).sum() == 0  # a bin of fewer than 20 pairs is not judged
