"""How much a pair's posterior rests on the two assumptions the data inform least (issue 14).

The share of the register's remains that belong to nobody in the pool (`p_outside`) is estimated
on the province's own remains and was measured off by up to 0.09 on the benchmark's provinces
(docs/matching.md §9); the place model (where a man fell against where his remains were
recovered) is the non-genetic factor that carries most weight. The evidence page of each
identification shows the pair's posterior with `p_outside` lower and higher than estimated, and
with the place left out, so the council sees whether the conclusion survives either being wrong.

`Hypotheses` holds one remains' terms as `mixture.posteriors` weighs them (their sums, and the
terms of the candidates an evidence page may read: a country's remains hold millions); `posterior_under`
recomputes the posterior of one candidate under another `p_outside` (the pool's group shares
rescaled to the rest, each group keeping its part) or without the place factor (every candidate's
place LR and the unsampled martyrs' place terms set to 1). The numerators and group shares stay
those estimated with the place on: the table answers "what if this assumption were different for
this remains", not "what would a new estimate give". The other remains' claims on the martyr stay
as estimated too (`Hypotheses.one_body`): the pair's posterior counts them (one martyr, one body),
so the "as estimated" row is the pair's `posterior`.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field

import numpy as np


# Slots: one per scored pair (millions in a country run), a third of the memory of a dict.
@dataclass(frozen=True, slots=True)
class Term:
    """One candidate of a remains: his prior, the DNA LR at the best estimate and at the 95% bound,
    the product of the non-genetic factors, and the place (or distance) factor among them."""

    prior: float
    lr_point: float
    lr_bound: float
    lr_nongenetic: float
    lr_place: float


@dataclass(frozen=True, slots=True)
class Totals:
    """Σ prior × DNA LR × the other factors over every scored candidate of a remains: the DNA at
    its best estimate or at its 95% bound, with the place factor or without it."""

    point: float
    bound: float
    point_no_place: float
    bound_no_place: float

    @classmethod
    def of(
        cls,
        prior: np.ndarray,
        lr_point: np.ndarray,
        lr_bound: np.ndarray,
        lr_nongenetic: np.ndarray,
        lr_place: np.ndarray,
    ) -> Totals:
        """From the candidates' columns, each term as `_weight` computes it and summed in the
        candidates' order (a Python sum, not numpy's pairwise one), so a page's figures do not
        depend on whether the terms were held as columns or as `Term`s."""
        no_place = np.divide(lr_nongenetic, lr_place, out=np.zeros(len(lr_place)), where=lr_place != 0)
        return cls(
            *(
                sum((prior * lr * other).tolist())
                for other in (lr_nongenetic, no_place)
                for lr in (lr_point, lr_bound)
            )
        )

    def get(self, place: bool, bound: bool) -> float:
        if place:
            return self.bound if bound else self.point
        return self.bound_no_place if bound else self.point_no_place


@dataclass(frozen=True)
class Hypotheses:
    """A remains' hypotheses: `outside` (nobody in the pool) with prior `p_outside`, the scored
    candidates' `totals`, the terms of the candidates an evidence page may read (`candidates`),
    and the missing martyrs with no comparable reference (`unscored`: Σ prior × place LR;
    `unscored_no_place`: Σ prior)."""

    p_outside: float
    unscored: float
    unscored_no_place: float
    totals: Totals
    candidates: dict[str, Term]
    # One martyr, one body (`mixture.one_body_terms`): per candidate its factor (best estimate, 95%
    # bound), and what the remains' claims add to its total (the same two), held as estimated.
    one_body: dict[str, tuple[float, float]] = field(default_factory=dict)
    lift: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def of(
        cls, p_outside: float, unscored: float, unscored_no_place: float, candidates: dict[str, Term]
    ) -> Hypotheses:
        """Every candidate's term kept (a province's remains: its pages may read any of them)."""
        columns = np.array([astuple(t) for t in candidates.values()], dtype=np.float64).reshape(-1, 5).T
        return cls(p_outside, unscored, unscored_no_place, Totals.of(*columns), candidates)


def _weight(t: Term, place: bool, bound: bool) -> float:
    other = t.lr_nongenetic if place else t.lr_nongenetic / t.lr_place if t.lr_place else 0.0
    return t.prior * (t.lr_bound if bound else t.lr_point) * other


def posterior_under(
    h: Hypotheses,
    martyr_id: str,
    p_outside: float | None = None,
    place: bool = True,
    bound: bool = False,
) -> float:
    """P(remains = martyr_id | evidence) with `p_outside` (default: the one used), with or without
    the place factor, the DNA at its best estimate or at its 95% bound (`bound`); one body per
    martyr as the run found it (`Hypotheses.one_body`), so that "as estimated" is the pair's
    `posterior`."""
    alone = _alone(h, martyr_id, p_outside, place, bound)
    if martyr_id not in h.one_body:
        return alone
    # The other remains' claims on him and this remains' other candidates as estimated; this pair's
    # own posterior under the assumption (`mixture.one_body_terms`).
    factor, lift = h.one_body[martyr_id][bound], h.lift[bound]
    estimated = _alone(h, martyr_id, None, True, bound)
    return alone * factor / (1 + lift + (alone - estimated) * (factor - 1))


def _alone(h: Hypotheses, martyr_id: str, p_outside: float | None, place: bool, bound: bool) -> float:
    """The pair's posterior among its remains' hypotheses alone (`mixture.posteriors`)."""
    p = h.p_outside if p_outside is None else p_outside
    # The pool's share of the remains is 1 − p_outside; its groups keep their parts of it.
    scale = (1 - p) / (1 - h.p_outside) if h.p_outside < 1 else 0.0
    unscored = (h.unscored if place else h.unscored_no_place) * scale
    denominator = p + unscored + scale * h.totals.get(place, bound)
    return scale * _weight(h.candidates[martyr_id], place, bound) / denominator if denominator > 0 else 0.0


def sensitivity(h: Hypotheses, martyr_id: str, spread: float) -> list[dict]:
    """The evidence page's table: the pair's posterior (best estimate and at the 95% bound) with
    `p_outside` as estimated, `spread` lower and higher (clipped to 0.01–0.99), and with the place
    model off. Rows: scenario, p_outside, place (on/off), posterior, posterior_bound."""
    low, high = max(0.01, h.p_outside - spread), min(0.99, h.p_outside + spread)
    rows = []
    for scenario, p, place in (
        ("p_outside_low", low, True),
        ("as_estimated", h.p_outside, True),
        ("p_outside_high", high, True),
        ("place_off", h.p_outside, False),
    ):
        rows.append(
            {
                "scenario": scenario,
                "p_outside": round(p, 4),
                "place": place,
                "posterior": round(posterior_under(h, martyr_id, p, place), 6),
                "posterior_bound": round(posterior_under(h, martyr_id, p, place, bound=True), 6),
            }
        )
    return rows
