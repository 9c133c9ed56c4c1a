"""One martyr per remains, one remains per martyr, over the whole province.

Candidates form a bipartite graph (remains — martyr, weighted by the posterior). Each connected
component is solved as an assignment problem with `scipy.optimize.linear_sum_assignment`,
maximising the total log-posterior. Every remains also gets its own "leave unassigned" column
worth log(review threshold), so a remains is never forced onto a weak candidate.

Status of an assigned pair, decided for that pair alone:
- `proposed`: DNA `cannot_exclude`; no reference of the martyr excludes; the pair's posterior with
  the haplotype frequency at its 95% upper bound (`posterior_bound`, which already counts every
  other remains' claim on the martyr: one martyr, one body, `mixture.one_body_posterior`) ≥
  `proposed` (0.99); and no competitor within the assignment: no other remains claims the martyr, and no
  other martyr claims the remains, at a posterior ≥ the review threshold;
- `needs_review`: posterior ≥ the review threshold otherwise, or the remains lost a candidate above
  the review threshold to another remains (the conflict is listed, never settled by a guess). The
  review queue is ranked (`review_rank`: 1 = most probable first) and every row says why;
- nothing below the review threshold: the remains stays unresolved (see the province summary).

The run's expected share of wrong proposals (`expected_false_share`: mean 1 − posterior over the
proposals) is reported, not used as a gate: a pair is proposed on its own evidence, whatever
else the run holds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from lietsi.graphs import UnionFind
from lietsi.reasons import encode, listing, reason, text

_FORBIDDEN = -1e9
# Posteriors equal but for their last bits (two brothers on one line, summed in another order) are
# a tie: compared at this many decimals, the choice between them falls to the sorted ids, so a
# change in float summation order cannot flip it.
_DECIMALS = 9


@dataclass(frozen=True)
class Thresholds:
    proposed: float = 0.99  # on the pair's posterior at the 95% frequency bound
    review: float = 0.05  # review floor, and the posterior at which a rival claim is a competitor
    competitors_listed: int = 5
    # Build the components from the edges at or above the review floor only (the national run). An
    # edge below it is never chosen (its remains' own "unassigned" column is worth more), so the
    # optimum's value is the same; only an exact tie between optima could be broken differently,
    # which is why the province run, whose outputs are compared bit for bit, keeps every edge.
    components_from_review_floor: bool = False


def _components(edges: list[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    uf: UnionFind[tuple[str, str]] = UnionFind()
    for r, m in edges:
        uf.union(("r", r), ("m", m))
    groups: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for r, m in edges:
        g = groups.setdefault(uf.find(("r", r)), (set(), set()))
        g[0].add(r)
        g[1].add(m)
    return [(sorted(rs), sorted(ms)) for rs, ms in groups.values()]


def solve(scored: pl.DataFrame, t: Thresholds) -> dict[str, str]:
    """remains_id → martyr_id maximising the total log-posterior (unassigned remains left out)."""
    least = pl.col("posterior") >= t.review if t.components_from_review_floor else pl.col("posterior") > 0
    edges = scored.filter(least).select("remains_id", "martyr_id", "posterior")
    weight = {(r, m): round(math.log(p), _DECIMALS) for r, m, p in edges.iter_rows()}
    out: dict[str, str] = {}
    floor = math.log(t.review)
    components = _components(list(weight))
    # Each component's edges, gathered in one pass (not every edge read again for each component).
    component_of = {r: k for k, (remains, _) in enumerate(components) for r in remains}
    edges: list[list[tuple[str, str, float]]] = [[] for _ in components]
    for (r, m), w in weight.items():
        edges[component_of[r]].append((r, m, w))
    for (remains, martyrs), mine in zip(components, edges, strict=True):
        col = {m: j for j, m in enumerate(martyrs)}
        row = {r: i for i, r in enumerate(remains)}
        score = np.full((len(remains), len(martyrs) + len(remains)), _FORBIDDEN)
        for i in range(len(remains)):
            score[i, len(martyrs) + i] = floor
        for r, m, w in mine:
            score[row[r], col[m]] = w
        rows, cols = linear_sum_assignment(score, maximize=True)
        for i, j in zip(rows, cols, strict=True):
            if j < len(martyrs) and score[i, j] > _FORBIDDEN:
                out[remains[i]] = martyrs[j]
    return out


def assign(scored: pl.DataFrame, t: Thresholds | None = None) -> pl.DataFrame:
    """Identifications from scored candidates (remains_id, martyr_id, posterior, verdict,
    excluding_references): remains_id, martyr_id, status, posterior, reasons (Vietnamese) and
    reason_codes (JSON, `lietsi.reasons`), competitors (JSON)."""
    t = t or Thresholds()
    if scored.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    chosen = solve(scored, t)
    holders = {m: r for r, m in chosen.items()}
    by_remains = _remains_candidates(scored, t)
    by_martyr = _rivals(scored, set(chosen.values()), t.review)
    rows = []
    for remains_id, n_candidates, recs in by_remains:
        martyr_id = chosen.get(remains_id)
        reasons: list[dict] = []
        if martyr_id is None:
            best = recs[0]
            holder = holders.get(best.martyr_id)
            reasons.append(
                reason("review.best_candidate_held", martyr_id=best.martyr_id, holder=holder)
                if holder
                else reason("review.left_unassigned")
            )
            pick, posterior, bound, status = best, best.posterior, best.bound, "needs_review"
        else:
            # A chosen pair not among the kept rows lies below the review floor, as does one kept there.
            pick = next((c for c in recs if c.martyr_id == martyr_id), None)
            if pick is None or pick.posterior < t.review:
                continue
            posterior, bound = pick.posterior, pick.bound
            rivals = [(r, p) for r, p in by_martyr.get(martyr_id, []) if r != remains_id]
            alternatives = [
                (c.martyr_id, c.posterior)
                for c in recs
                if c.martyr_id != martyr_id and c.posterior >= t.review
            ]
            if rivals:
                reasons.append(reason("review.martyr_fits_other_remains", others=listing(rivals)))
            if alternatives:
                reasons.append(reason("review.remains_fits_other_martyrs", others=listing(alternatives)))
            if pick.verdict != "cannot_exclude":
                reasons.append(reason(f"review.dna_{pick.verdict}"))
            if pick.excluding_references:
                reasons.append(reason("review.excluded_by_reference", references=pick.excluding_references))
            if bound < t.proposed:
                reasons.append(reason("review.posterior_below_threshold", bound=bound, threshold=t.proposed))
            status = "needs_review" if reasons else "proposed"
        competitors = json.dumps(
            [
                {"martyr_id": c.martyr_id, "posterior": round(c.posterior, 6), "verdict": c.verdict}
                for c in recs
                if c.martyr_id != pick.martyr_id
            ][: t.competitors_listed]
        )
        rows.append(
            {
                "remains_id": remains_id,
                "martyr_id": pick.martyr_id,
                "status": status,
                "posterior": posterior,
                "posterior_bound": bound,
                "reasons": text(reasons),
                "reason_codes": encode(reasons),
                "competitors": competitors,
                "n_candidates": n_candidates,
                "review_rank": None,
            }
        )
    queue = sorted(
        (r for r in rows if r["status"] == "needs_review"), key=lambda r: (-r["posterior"], r["remains_id"])
    )
    for rank, row in enumerate(queue, start=1):
        row["review_rank"] = rank
    return pl.DataFrame(rows, schema=_SCHEMA).sort("remains_id")


class _Candidate(NamedTuple):
    martyr_id: str
    posterior: float
    bound: float  # the posterior at the 95% frequency bound (the posterior when not computed)
    verdict: str
    excluding_references: str | None


def _remains_candidates(scored: pl.DataFrame, t: Thresholds) -> list[tuple[str, int, list[_Candidate]]]:
    """Per remains with a candidate at or above the review floor: its number of candidates, and
    those a row reads, most probable first: every one at or above the floor, and the best
    `competitors_listed` + 1 (the pick and the competitors listed beside it).

    A country scores millions of pairs (100%: 15 million); what a row reads is a few per remains,
    so they are chosen by columns and only they become Python objects."""
    top = t.competitors_listed + 1
    excluding = pl.col("excluding_references") if "excluding_references" in scored.columns else pl.lit(None)
    kept = (
        scored.select(
            "remains_id",
            "martyr_id",
            "posterior",
            _bound(scored),
            "verdict",
            excluding.alias("excluding_references"),
        )
        .with_columns(
            n_candidates=pl.len().over("remains_id"),
            best=pl.col("posterior").max().over("remains_id"),
            # The ranking below rounds posteriors (`_DECIMALS`): every row within a rounding step of
            # the top-th raw posterior is kept, so the rounded ranking's first `top` are among them.
            cut=pl.col("posterior").top_k(top).min().over("remains_id") - 2 * 10.0**-_DECIMALS,
        )
        .filter(
            (pl.col("best") >= t.review)
            & ((pl.col("posterior") >= pl.col("cut")) | (pl.col("posterior") >= t.review))
        )
        .with_columns(pl.col("remains_id", "martyr_id", "verdict", "excluding_references").cast(pl.String))
        .group_by("remains_id", maintain_order=True)
        .agg(
            pl.col("n_candidates").first(),
            pl.struct("martyr_id", "posterior", "bound", "verdict", "excluding_references").alias(
                "candidates"
            ),
        )
    )
    out = []
    for remains_id, n_candidates, candidates in kept.iter_rows():
        recs = [_Candidate(**c) for c in candidates]
        recs.sort(key=lambda c: (-round(c.posterior, _DECIMALS), c.martyr_id))
        out.append(
            (remains_id, n_candidates, recs[:top] + [c for c in recs[top:] if c.posterior >= t.review])
        )
    return out


def _bound(scored: pl.DataFrame) -> pl.Expr:
    """`bound`: the posterior at the 95% frequency bound, the posterior where it was not computed."""
    return (pl.col("posterior_bound") if "posterior_bound" in scored.columns else pl.col("posterior")).alias(
        "bound"
    )


def _rivals(scored: pl.DataFrame, martyrs: set[str], review: float) -> dict[str, list[tuple[str, float]]]:
    """martyr_id → every claim on him at or above the review floor (remains_id, posterior), in the
    scored order: the rivals of his assigned remains."""
    claims = (
        scored.select("martyr_id", "remains_id", "posterior")
        .filter(pl.col("martyr_id").cast(pl.String).is_in(list(martyrs)), pl.col("posterior") >= review)
        .with_columns(pl.col("martyr_id", "remains_id").cast(pl.String))
        .group_by("martyr_id", maintain_order=True)
        .agg("remains_id", "posterior")
    )
    return {m: list(zip(r, p, strict=True)) for m, r, p in claims.iter_rows()}


def expected_false_share(identifications: pl.DataFrame) -> float:
    """The proposals' expected share of wrong identities, mean 1 − posterior (0 with none): what
    the run expects to get wrong if its posteriors are calibrated. Reported, never a gate."""
    proposed = identifications.filter(pl.col("status") == "proposed")
    return float((1 - proposed["posterior"]).mean()) if proposed.height else 0.0


_SCHEMA = {
    "remains_id": pl.String,
    "martyr_id": pl.String,
    "status": pl.String,
    "posterior": pl.Float64,
    "posterior_bound": pl.Float64,  # the posterior with the DNA frequency at its 95% upper bound
    "reasons": pl.String,  # the review reasons in Vietnamese (lietsi.reasons)
    "reason_codes": pl.String,  # the same as JSON codes with parameters, stable for analysts
    "competitors": pl.String,  # JSON list of {martyr_id, posterior, verdict}
    "n_candidates": pl.Int64,
    "review_rank": pl.Int64,  # position in the review queue (most probable first); null when proposed
}
