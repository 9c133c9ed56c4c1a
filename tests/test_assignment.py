"""The per-pair decision rule of `lietsi.matching.assignment` on hand-made cases (issue 14, item 1)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from lietsi.matching.assignment import Thresholds, assign, expected_false_share, solve
from lietsi.reasons import codes_of, text


def _scored(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["remains_id", "martyr_id", "posterior", "posterior_bound", "verdict", "excluding_references"],
        orient="row",
    )


def _by_remains(scored: pl.DataFrame, t: Thresholds | None = None) -> dict[str, dict]:
    return {r["remains_id"]: r for r in assign(scored, t).iter_rows(named=True)}


def test_a_pair_at_095_is_not_proposed_and_one_at_0995_without_competitor_is() -> None:
    ids = _by_remains(
        _scored(
            [
                ("r1", "m1", 0.95, 0.95, "cannot_exclude", None),
                ("r2", "m2", 0.999, 0.995, "cannot_exclude", None),
            ]
        )
    )
    assert ids["r1"]["status"] == "needs_review"
    assert codes_of(ids["r1"]["reason_codes"]) == ["review.posterior_below_threshold"]
    assert "khi tần suất haplotype ở cận trên 95%, dưới ngưỡng 0.99" in ids["r1"]["reasons"]
    assert ids["r2"]["status"] == "proposed" and ids["r2"]["reasons"] is None
    assert ids["r2"]["reason_codes"] is None
    assert ids["r2"]["review_rank"] is None and ids["r1"]["review_rank"] == 1


def test_the_rule_reads_the_posterior_at_the_95_percent_bound() -> None:
    # Best estimate 0.999 but 0.98 with the frequency at its bound: not proposed.
    ids = _by_remains(_scored([("r1", "m1", 0.999, 0.98, "cannot_exclude", None)]))
    assert ids["r1"]["status"] == "needs_review"
    assert codes_of(ids["r1"]["reason_codes"]) == ["review.posterior_below_threshold"]
    assert "xác suất 0.9800 khi tần suất haplotype ở cận trên 95%" in ids["r1"]["reasons"]
    # The threshold is a setting.
    pair = _scored([("r1", "m1", 0.999, 0.98, "cannot_exclude", None)])
    ids = _by_remains(pair, Thresholds(proposed=0.975))
    assert ids["r1"]["status"] == "proposed"


def test_the_run_does_not_gate_a_pair() -> None:
    """Many proposals near the threshold do not push a well-supported pair out (no run-level
    error budget); the run's expected error is reported instead."""
    rows = [(f"r{i}", f"m{i}", 0.991, 0.991, "cannot_exclude", None) for i in range(10)]
    ids = assign(_scored(rows))
    assert set(ids["status"]) == {"proposed"}
    assert expected_false_share(ids) == pytest.approx(0.009)
    assert expected_false_share(ids.clear()) == 0.0


def test_an_excluding_reference_or_a_competitor_sends_a_strong_pair_to_review() -> None:
    ids = _by_remains(
        _scored(
            [
                # another reference of m1 excludes the remains
                ("r1", "m1", 0.999, 0.995, "cannot_exclude", "TN-2"),
                # another remains claims m2 above the review threshold
                ("r2", "m2", 0.999, 0.995, "cannot_exclude", None),
                ("r3", "m2", 0.10, 0.08, "cannot_exclude", None),
                # the remains also fits another martyr above the review threshold
                ("r4", "m4", 0.999, 0.995, "cannot_exclude", None),
                ("r4", "m5", 0.06, 0.05, "cannot_exclude", None),
                # inconclusive DNA is never proposed
                ("r6", "m6", 0.999, 0.995, "inconclusive", None),
            ]
        )
    )
    assert "review.excluded_by_reference" in codes_of(ids["r1"]["reason_codes"])
    assert "bị loại trừ bởi mẫu đối chiếu TN-2" in ids["r1"]["reasons"]
    assert ids["r2"]["status"] == "needs_review"
    assert "liệt sĩ này cũng phù hợp với hài cốt r3" in ids["r2"]["reasons"]
    assert "review.martyr_fits_other_remains" in codes_of(ids["r2"]["reason_codes"])
    assert ids["r4"]["status"] == "needs_review"
    assert "hài cốt này cũng phù hợp với liệt sĩ m5" in ids["r4"]["reasons"]
    assert "review.remains_fits_other_martyrs" in codes_of(ids["r4"]["reason_codes"])
    assert ids["r6"]["status"] == "needs_review" and "ADN chưa kết luận được" in ids["r6"]["reasons"]
    assert "review.dna_inconclusive" in codes_of(ids["r6"]["reason_codes"])
    # the English second line of the same reasons, from the catalogue
    assert "martyr also fits remains r3 (" in text(ids["r2"]["reason_codes"], "en")
    assert all(r["status"] == "needs_review" for r in ids.values())
    # The queue is ranked by posterior, most probable first, each row with its reason.
    queue = sorted(ids.values(), key=lambda r: r["review_rank"])
    assert [r["review_rank"] for r in queue] == list(range(1, len(queue) + 1))
    assert [r["posterior"] for r in queue] == sorted((r["posterior"] for r in queue), reverse=True)
    assert all(r["reasons"] for r in queue)


def test_components_from_the_review_floor_choose_what_every_edge_chooses() -> None:
    """The national run builds the components from the edges at or above the review floor: an edge
    below it is never chosen (its remains' "unassigned" column is worth the floor), so without
    exact ties the assignment is the one every edge gives."""
    rng = np.random.default_rng(3)
    rows = [
        (f"r{r}", f"m{m}", float(p), float(p), "cannot_exclude", None)
        for r in range(40)
        for m in rng.choice(60, size=6, replace=False)
        for p in [rng.uniform(0.001, 0.6)]
    ]
    scored = _scored(rows)
    floor = Thresholds(components_from_review_floor=True)
    chosen = solve(scored, floor)
    assert chosen == solve(scored, Thresholds())
    assert chosen and all(p >= floor.review for r, m, p, *_ in rows if chosen.get(r) == m)
    assert sum(p < floor.review for *_, p, _, _, _ in rows) > 10  # edges the floor drops
    assert assign(scored, floor).equals(assign(scored))


@pytest.mark.parametrize("first", ["m1", "m2"])
def test_posteriors_equal_but_for_their_last_bits_are_a_tie_settled_by_the_ids(first: str) -> None:
    """Which of two tied candidates wins must not depend on which one's sum came out a bit larger."""
    bump = {first: 0.4 + 1e-15}
    rows = [("r1", m, bump.get(m, 0.4), 0.4, "cannot_exclude", None) for m in ("m2", "m1")]
    ids = _by_remains(_scored(rows))
    assert ids["r1"]["martyr_id"] == "m1"
    assert ids["r1"]["status"] == "needs_review"
    alone = _by_remains(_scored([*rows, ("r0", "m1", 0.9, 0.9, "cannot_exclude", None)]))
    assert alone["r1"]["martyr_id"] == "m2"  # m1 is taken: r1 gets its tied rival, not nothing


def test_a_row_lists_its_best_competitors_in_the_rounded_order_and_counts_every_candidate() -> None:
    """Only the candidates a row reads leave the columns (a country scores millions of pairs): the
    competitors listed are the best after rounding (`_DECIMALS`), ties to the smaller id, even when
    the raw posteriors would have kept another one."""
    rows = [
        ("r1", "m_a", 0.9, 0.9, "cannot_exclude", None),
        ("r1", "m_b", 0.04, 0.04, "cannot_exclude", None),
        ("r1", "m_d", 0.03 + 1e-13, 0.03, "cannot_exclude", None),
        ("r1", "m_c", 0.03, 0.03, "cannot_exclude", None),
        ("r1", "m_e", 0.01, 0.01, "cannot_exclude", None),
        ("r2", "m_a", 0.02, 0.02, "cannot_exclude", None),
    ]
    ids = _by_remains(_scored(rows), Thresholds(competitors_listed=2))
    assert set(ids) == {"r1"}  # r2 has no candidate at the review floor
    assert ids["r1"]["martyr_id"] == "m_a" and ids["r1"]["n_candidates"] == 5
    assert [c["martyr_id"] for c in json.loads(ids["r1"]["competitors"])] == ["m_b", "m_c"]
