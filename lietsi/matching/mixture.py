"""Who the remains could be: the prior over the pool, the posterior, and its EM re-estimation.

Each remains is one missing martyr or nobody in the pool (`OUTSIDE`). `PriorModel` spreads the
prior over groups of missing martyrs, `posteriors` combines it with the pairs' likelihood ratios,
`estimate` re-fits the numerator tables and the group shares on the province's own remains
(Fellegi–Sunter style EM).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

OUTSIDE = "outside"


@dataclass(frozen=True)
class PriorModel:
    """Who the remains could be. `masses`: the prior share of the register's remains belonging to
    each group of missing martyrs (grave status × where he fell: this province, Cambodia, another
    province, a front), and to nobody in the pool (`outside`: martyrs of other provinces,
    civilians); within a group every martyr is equally likely (`sizes`: martyrs per group). So a
    martyr's prior is one over the number of missing martyrs of his group, times the group's share.
    """

    masses: dict[str, float]
    sizes: dict[str, float]
    # p_outside where remains were recovered (`area_outside`): an area not listed takes `p_outside`.
    areas: dict[str, float] = field(default_factory=dict)

    @property
    def p_outside(self) -> float:
        return self.masses.get(OUTSIDE, 0.0)

    def prior(self, group: str) -> float:
        return self.masses.get(group, 0.0) / max(self.sizes.get(group, 0.0), 1e-9)

    def at(self, area: str | None) -> PriorModel:
        """The prior of remains recovered in `area`: its own share of outsiders, the pool's groups
        scaled to the rest in their province-wide proportions."""
        if area not in self.areas:
            return self
        scale = self.scale(area)
        masses = {g: m * scale for g, m in self.masses.items() if g != OUTSIDE}
        return PriorModel({**masses, OUTSIDE: self.areas[area]}, self.sizes)

    def scale(self, area: str | None) -> float:
        """What `at(area)` multiplies the pool's groups by: the rest of the area's own share of
        outsiders over the rest of `p_outside` (1 where the area has no share of its own)."""
        if area not in self.areas:
            return 1.0
        return (1 - self.areas[area]) / (1 - self.p_outside) if self.p_outside < 1 else 0.0


def stated_prior(sizes: dict[str, float], weights: dict[str, float], p_outside: float) -> PriorModel:
    """p_outside for nobody in the pool, the rest over the groups by size × stated weight."""
    total = sum(sizes[g] * weights.get(g, 1.0) for g in sizes) or 1.0
    masses = {g: (1 - p_outside) * sizes[g] * weights.get(g, 1.0) / total for g in sizes}
    return PriorModel({**masses, OUTSIDE: p_outside}, sizes)


def posteriors(
    weights: np.ndarray, remains: np.ndarray, p_outside: np.ndarray, unscored_mass: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(P(remains = martyr | evidence) per scored pair, P(nobody in the pool | evidence) per remains).

    weights: each pair's prior times its combined LR; remains: each pair's remains (an index into
    `p_outside` and `unscored_mass`); unscored_mass: per remains, the same sum over pool martyrs
    that could not be scored but not excluded either (no reference profile on their maternal line,
    or a national run's candidates summed). Pool martyrs excluded by DNA contribute nothing. The
    "nobody in the pool" hypothesis has prior p_outside and LR 1. A remains' candidates are added in
    the pairs' order (`np.bincount`), so the same pairs give the same floats.
    """
    denominator = p_outside + np.bincount(remains, weights, len(p_outside)) + unscored_mass
    return weights / denominator[remains], p_outside / denominator


# Slots: one per scored pair (millions in a country run), a third of the memory of a dict.
@dataclass(frozen=True, slots=True)
class Candidate:
    """One scored (remains, martyr) pair for `estimate`: the martyr's prior `group`, `fixed` = the
    LRs that are not re-estimated (DNA, artefact, hometown, unit area), `cells` = (cell, den) of
    the rest."""

    group: str
    fixed: float
    cells: tuple[tuple[tuple[str, str], float], ...]
    # The martyr, so that his remains are counted as one body (`joint_count`); None: a national run's
    # candidates summed by group and cell.
    martyr: str | None = None


@dataclass
class CandidateColumns:
    """Scored pairs as candidates for `estimate`, as columns (a country's millions of pairs): per
    row `Candidate`'s fields — its remains (an index into `estimate`'s terms; the rows in the
    order of their remains), its group (an index into `groups`), `fixed`, its martyr (an index, -1
    for none; not the `Candidate` objects' martyrs), its cells (indices into `cell_keys` from the
    left, -1 beyond) and their `dens` (codes into `den_values`). A remains' rows come, in their
    order, before its
    `RemainsTerms.candidates`. `estimate` takes the arrays out of it (None after) as it merges
    them, so that each is freed once merged."""

    remains: np.ndarray | None
    group: np.ndarray | None
    groups: list[str]
    fixed: np.ndarray | None
    martyr: np.ndarray | None
    cells: np.ndarray | None  # (rows, width)
    dens: np.ndarray | None
    cell_keys: list[tuple[str, str]]
    den_values: np.ndarray
    # Per row, whether the DNA weighs it (`cannot_exclude`): an inconclusive pair (LR 1) is told
    # from `outside` by its other evidence alone, as an unsampled martyr is, and does not count in
    # its group's share (`anchored_shares`). None: every row counts.
    counted: np.ndarray | None = None

    def take(self, name: str) -> np.ndarray:
        """The column `name`, no longer held here."""
        column = getattr(self, name)
        setattr(self, name, None)
        return column


@dataclass(frozen=True)
class RemainsTerms:
    """A profiled remains' hypotheses: its DNA candidates, and the missing martyrs with no reference
    on their line (`unscored`: (group, place cell) → Σ 1/den; `unscored_flat`: group → how many
    of them have a place that cannot be compared, LR 1)."""

    candidates: tuple[Candidate, ...]
    unscored: dict[tuple[str, tuple[str, str]], float]
    unscored_flat: dict[str, float]

    def sums(self) -> tuple[dict[tuple[str, tuple[str, str]], float], dict[str, float]]:
        """(unscored, unscored_flat): what `estimate` reads of them, once per remains."""
        return self.unscored, self.unscored_flat


def estimate(
    terms: list[RemainsTerms],
    tables0: dict[str, dict[str, float]],
    prior0: PriorModel,
    strength: float,
    iterations: int = 200,
    tolerance: float = 1e-5,
    known: list[tuple[tuple[tuple[str, str], float], ...]] | None = None,
    sampled: dict[str, float] | None = None,
    areas: list[str | None] | None = None,
    columns: CandidateColumns | None = None,
) -> tuple[dict[str, dict[str, float]], PriorModel, int, np.ndarray | None]:
    """(numerator tables, prior, iterations, own) re-estimated on the province's own remains by EM.

    The mixture of Fellegi–Sunter record linkage: each remains is one missing martyr or nobody in
    the pool; the E-step gives each hypothesis its posterior under the current numerators and group
    shares, the M-step sets each table to the posterior-weighted share of each outcome and each
    group's share (and `outside`) to its mean posterior. The stated assumptions enter as Dirichlet
    priors worth `strength` remains per table and for the group shares, so what few pairs show
    stays near what was assumed. The denominators stay measured; the ground truth is never used.
    `known`: the outcome cells of pairs the identification council confirmed; each counts with
    weight 1 in its tables at every step (its truth is known, not inferred). Confirmed remains
    have left the pool, so they do not enter the group shares.
    `sampled`: per group, how many of its martyrs have a reference profile. When given, a group's
    share is read from its sampled martyrs alone and scaled to the whole group (`anchored_shares`):
    only the DNA separates a pool martyr from `outside` well, the place of the unsampled barely.
    A martyr has one body: the candidates that name him count in that share jointly
    (`joint_count`), not each as if no other remains claimed him. Each remains weighs its
    candidates with their groups' shares read without its own mass (`out_of_fold`): a group of a
    few martyrs whose share is read from one remains' match would otherwise confirm that match
    with the share it made. `own` is that factor per candidate of `columns` (None without `sampled`
    or `columns`), which the posteriors read too.
    `areas`: where each remains was recovered (None: not known). When given with `sampled`, each
    area's share of outsiders is read the same way from its own remains (`area_outside`) and
    weighs them in the E-step: other provinces' men lie where their units fought, not evenly.
    `columns`: more candidates, as columns (`CandidateColumns`). A term may be any object with
    `RemainsTerms`' `candidates` and `sums()` (a national run's computes its sums when read).

    The E-step runs over arrays (`_Hypotheses`: one row per candidate, per unscored cell, per
    flat group and per remains; groups, cells and areas as integer indices). Its sums are
    `np.bincount` over rows laid out in the order the hypotheses were given, which adds each
    target's terms one after another in that order: the same sums, to the bit, as adding them
    remains by remains. The M-step works on the few hundred numbers of the tables and shares.
    """
    tables = {t: dict(v) for t, v in tables0.items()}
    masses = dict(prior0.masses)
    sizes = prior0.sizes
    by_area = areas if areas is not None and sampled is not None else [None] * len(terms)
    h = _Hypotheses(terms, tables, masses, by_area, known or [], columns)
    # The candidates are in `h`'s arrays: the columns given (a country's tens of millions of rows)
    # are freed here when the caller passed them on without keeping them (`score_candidates`).
    del columns
    outside_in: dict[str, float] = {}
    it = 0
    while it < iterations:
        it += 1
        counts, shares, dna_shares, area_dna = h.expected(tables, masses, sizes, outside_in)
        new = {
            t: {o: (strength * tables0[t][o] + n) / (strength + sum(c.values())) for o, n in c.items()}
            for t, c in counts.items()
        }
        if sampled is not None:
            shares = anchored_shares(shares, dna_shares, sizes, sampled, len(terms))
        new_masses = {
            g: (strength * prior0.masses[g] + n) / (strength + len(terms)) for g, n in shares.items()
        }
        new_areas = (
            area_outside(area_dna, h.area_remains, sizes, sampled, new_masses[OUTSIDE], strength)
            if sampled is not None and area_dna
            else {}
        )
        change = max(
            [
                *(abs(new_masses[g] - masses[g]) for g in masses),
                *(abs(new[t][o] - tables[t][o]) for t in new for o in new[t]),
                *(abs(p - outside_in.get(a, new_masses[OUTSIDE])) for a, p in new_areas.items()),
            ]
        )
        tables, masses, outside_in = new, new_masses, new_areas
        if sampled is not None:
            h.own = out_of_fold(h, shares, new_masses, prior0.masses, sizes, sampled, strength)
        if change < tolerance:
            break
    own = h.own[h.column_rows] if h.own is not None and h.column_rows is not None else None
    return tables, PriorModel(masses, sizes, outside_in), it, own


def out_of_fold(
    h: _Hypotheses,
    counts: dict[str, float],
    masses: dict[str, float],
    stated: dict[str, float],
    sizes: dict[str, float],
    sampled: dict[str, float],
    strength: float,
) -> np.ndarray:
    """Per candidate, its group's share read without its own remains' mass (the last E-step's
    joint count on the group's candidates of that remains, scaled as `anchored_shares` scales it),
    over the share read with it: what its prior is multiplied by. `counts`: the groups' anchored
    counts the share `masses` was made from; `stated`: the stated shares (the Dirichlet prior)."""
    anchor = np.array([sizes[g] / sampled[g] if sampled.get(g) else 1.0 for g in h.groups])
    count = np.array([counts.get(g, 0.0) for g in h.groups])
    prior = np.array([stated.get(g, 0.0) for g in h.groups])
    full = np.array([masses.get(g, 0.0) for g in h.groups])
    mine = np.bincount(h.remains_group, h.counted_mass, h.n_remains_groups)[h.remains_group]
    g = h.cand_group
    without = (strength * prior[g] + np.maximum(count[g] - mine * anchor[g], 0.0)) / (strength + h.n - 1)
    return np.divide(without, full[g], out=np.ones(len(g)), where=full[g] > 0)


_CHUNK = 1 << 20  # rows of the candidate columns mapped at a time when merged (`_Hypotheses._add`)
_BUFFERS = {"q": np.int64, "d": np.float64}  # the typed buffers' items as numpy reads them


class _Hypotheses:
    """`estimate`'s hypotheses as arrays, and its E-step over them.

    Rows: candidates (`cand_*`: remains, group, fixed LR, its (martyr, group) index for
    `joint_count` or -1, up to `width` cells and their denominators as codes into `den_values`, a
    padding cell of numerator and denominator 1 where a candidate has fewer; after the layout, the
    claims, cells and dens as `_rows` keeps them), unscored cells (`unsc_*`: remains, group, cell,
    Σ 1/den) and flat groups (`flat_*`: remains, group, count), each in the order the remains and
    their terms were given. Cells index the tables flattened table by table, outcome by outcome
    (`cells`); groups index the prior's groups but `outside` (`groups`); areas index the recovery
    areas (`areas`; -1 for none).
    """

    def __init__(
        self,
        terms: list[RemainsTerms],
        tables: dict[str, dict[str, float]],
        masses: dict[str, float],
        by_area: list[str | None],
        known: list[tuple[tuple[tuple[str, str], float], ...]],
        columns: CandidateColumns | None = None,
    ) -> None:
        self.cells = [(t, o) for t, v in tables.items() for o in v]
        cell_index = {c: i for i, c in enumerate(self.cells)}
        pad = len(self.cells)  # the padding cell: numerator 1, denominator 1
        self.groups = [g for g in masses if g != OUTSIDE]
        group_index = {g: i for i, g in enumerate(self.groups)}
        self.area_remains = Counter(a for a in by_area if a is not None)
        self.areas = list(self.area_remains)
        area_index = {a: i for i, a in enumerate(self.areas)}
        self.n = len(terms)
        self.remains_area = np.array([-1 if a is None else area_index[a] for a in by_area], dtype=np.int32)
        width = max((len(c.cells) for r in terms for c in r.candidates), default=0)
        self.width = max(width, columns.cells.shape[1] if columns is not None else 0)
        # Typed buffers, not lists: a country's remains hold millions of unscored cells, and a
        # list's Python number per term took several times the arrays' memory.
        cand_remains, cand_group, cand_claim, cand_cells = array("q"), array("q"), array("q"), array("q")
        cand_fixed, cand_dens = array("d"), array("q")
        claim_index: dict[tuple[str, str], int] = {}
        # Denominators as codes into `den_values`: a country's candidates share a few thousand.
        den_index: dict[float, int] = {1.0: 0}
        unsc_remains, unsc_group, unsc_cell, unsc_value = array("q"), array("q"), array("q"), array("d")
        flat_remains, flat_group, flat_value = array("q"), array("q"), array("d")
        for i, r in enumerate(terms):
            for c in r.candidates:
                cand_remains.append(i)
                cand_group.append(group_index[c.group])
                cand_fixed.append(c.fixed)
                key = (c.martyr, c.group)
                cand_claim.append(-1 if c.martyr is None else claim_index.setdefault(key, len(claim_index)))
                more = self.width - len(c.cells)
                cand_cells.extend([*(cell_index[cell] for cell, _ in c.cells), *([pad] * more)])
                cand_dens.extend(
                    [*(den_index.setdefault(den, len(den_index)) for _, den in c.cells), *([0] * more)]
                )
            unscored, unscored_flat = r.sums()
            for (g, cell), v in unscored.items():
                unsc_remains.append(i)
                unsc_group.append(group_index[g])
                unsc_cell.append(cell_index[cell])
                unsc_value.append(v)
            for g, v in unscored_flat.items():
                flat_remains.append(i)
                flat_group.append(group_index[g])
                flat_value.append(v)
        self.own: np.ndarray | None = None  # `out_of_fold`, per candidate, once an M-step gave it
        self.counted_mass: np.ndarray | None = None  # the last E-step's `joint_count`
        self.column_rows: np.ndarray | None = None  # the columns' rows among the candidates
        self.cand_counted: np.ndarray | None = None
        if columns is None:
            # Indices as 32 bits: a country's candidates are tens of millions of rows.
            self.cand_remains = np.array(cand_remains, dtype=np.int32)
            self.cand_group = np.array(cand_group, dtype=np.int32)
            self.cand_fixed = np.array(cand_fixed, dtype=np.float64)
            self.cand_claim = np.array(cand_claim, dtype=np.int32)
            self.cand_cells = np.array(cand_cells, dtype=np.int32).reshape(len(cand_remains), self.width)
            self.cand_dens = np.array(cand_dens, dtype=np.int32).reshape(len(cand_remains), self.width)
            self.den_values = np.array(list(den_index), dtype=np.float64)
        else:
            # Handed over, as the columns are: `_add` frees each buffer once merged.
            objects = [cand_remains, cand_group, cand_claim, cand_fixed, cand_cells, cand_dens]
            del cand_remains, cand_group, cand_fixed, cand_claim, cand_cells, cand_dens
            self._add(columns, objects, cell_index, group_index, len(claim_index), list(den_index))
        self.unsc_remains = np.array(unsc_remains, dtype=np.int32)
        self.unsc_group = np.array(unsc_group, dtype=np.int32)
        self.unsc_cell = np.array(unsc_cell, dtype=np.int32)
        self.unsc_value = np.array(unsc_value, dtype=np.float64)
        self.flat_remains = np.array(flat_remains, dtype=np.int32)
        self.flat_group = np.array(flat_group, dtype=np.int32)
        self.flat_value = np.array(flat_value, dtype=np.float64)
        # Freed before the layout: 8 bytes an item, tens of millions of unscored cells at 100%.
        del unsc_remains, unsc_group, unsc_cell, unsc_value, flat_remains, flat_group, flat_value
        known_cells = [cell_index[cell] for cells in known for cell, _ in cells]
        self.known_cells = np.array(known_cells, dtype=np.int32)
        self._rows()
        self._layout()

    def _add(
        self,
        columns: CandidateColumns,
        objects: list[array],
        cell_index: dict[tuple[str, str], int],
        group_index: dict[str, int],
        claims: int,
        dens: list[float],
    ) -> None:
        """The candidates given as columns and those given as objects (`objects`: their remains,
        group, claim, fixed, cells and den codes (into `dens`) buffers, taken out of the list in
        that order), each
        remains' columns' rows before its objects': the rows in the order the terms would have
        listed them one by one. Each merged column is written in place into its one array, and its
        sources freed: a country's candidates are tens of millions of rows, and every copy held at
        once was the EM's peak."""
        pad = len(self.cells)
        remains_buf = objects.pop(0)
        ours = columns.take("remains")
        if len(ours) > 1 and not bool((ours[1:] >= ours[:-1]).all()):
            raise ValueError("candidate columns not in the order of their remains")
        theirs = np.frombuffer(remains_buf, dtype=_BUFFERS[remains_buf.typecode])
        total = len(ours) + len(theirs)
        # Where each row goes: after the other side's rows of an earlier remains (the columns' rows
        # of one remains before its objects').
        at = np.arange(len(ours)) + np.searchsorted(theirs, ours, "left")
        their_at = np.arange(len(theirs)) + np.searchsorted(ours, theirs, "right")

        def merged(mine: np.ndarray, buffer: array, dtype: type) -> np.ndarray:
            out = np.empty(total, dtype=dtype)
            out[their_at] = np.frombuffer(buffer, dtype=_BUFFERS[buffer.typecode])
            out[at] = mine
            return out

        self.cand_remains = merged(ours, remains_buf, np.int32)
        self.column_rows = at.astype(np.int32)
        counted = columns.take("counted")
        if counted is not None:
            self.cand_counted = np.ones(total, dtype=bool)
            self.cand_counted[at] = counted
        del ours, theirs, remains_buf, counted
        groups = np.array([group_index[g] for g in columns.groups], dtype=np.int32)[columns.take("group")]
        martyr = columns.take("martyr")
        named = martyr >= 0
        claim = np.full(len(martyr), -1, dtype=np.int32)
        claim[named] = claims + np.unique(
            martyr[named].astype(np.int64) * len(self.groups) + groups[named], return_inverse=True
        )[1].reshape(-1)
        del named, martyr
        self.cand_group = merged(groups, objects.pop(0), np.int32)
        del groups
        self.cand_claim = merged(claim, objects.pop(0), np.int32)
        del claim
        self.cand_fixed = merged(columns.take("fixed"), objects.pop(0), np.float64)
        # The cells and dens: the columns' own width, the rest padding (numerator and den 1).
        cells = columns.take("cells")
        width = cells.shape[1]
        lookup = np.array([*(cell_index[c] for c in columns.cell_keys), pad], dtype=np.int32)
        self.cand_cells = np.empty((total, self.width), dtype=np.int32)
        self.cand_cells[their_at] = np.frombuffer(objects.pop(0), dtype=np.int64).reshape(
            len(their_at), self.width
        )
        self.cand_cells[at, width:] = pad
        for start in range(0, len(at), _CHUNK):
            rows = at[start : start + _CHUNK]
            self.cand_cells[rows, :width] = lookup[cells[start : start + _CHUNK]]
        del cells
        # The objects' dens first, then the columns' (their codes shifted by as many).
        self.den_values = np.concatenate([np.array(dens, dtype=np.float64), columns.den_values])
        codes = columns.take("dens")
        self.cand_dens = np.empty((total, self.width), dtype=np.int32)
        self.cand_dens[their_at] = np.frombuffer(objects.pop(0), dtype=np.int64).reshape(
            len(their_at), self.width
        )
        self.cand_dens[at, width:] = 0
        for start in range(0, len(at), _CHUNK):
            self.cand_dens[at[start : start + _CHUNK], :width] = codes[start : start + _CHUNK] + len(dens)

    def _layout(self) -> None:
        """The order of the E-step's terms: remains by remains, its candidates (each with its cells
        in turn), then its unscored cells, then its flat groups, then `outside` — the order in
        which each target's sum adds them."""
        nc, nu, nf = len(self.cand_remains), len(self.unsc_remains), len(self.flat_remains)
        # Shares: one term per candidate, unscored cell, flat group and remains (`outside`).
        remains = np.concatenate(
            [self.cand_remains, self.unsc_remains, self.flat_remains, np.arange(self.n, dtype=np.int32)]
        )
        phase = np.repeat(np.arange(4, dtype=np.int8), [nc, nu, nf, self.n])
        self.share_order = np.lexsort((phase, remains)).astype(np.int32)  # stable: each block's own order
        del remains, phase
        outside = len(self.groups)
        targets = np.concatenate(
            [self.cand_group, self.unsc_group, self.flat_group, np.full(self.n, outside, dtype=np.int32)]
        )
        self.share_target = targets[self.share_order]
        # Counts: the known cells first, then a term per candidate cell and per unscored cell.
        real = self.cand_cells < len(self.cells)
        # Row-major, candidate by candidate: a candidate once per cell it has (`nonzero` of the mask
        # holds both coordinates in 64 bits: 0.9 GB at 100%, where the layout ran out of memory).
        sources = np.repeat(np.arange(nc, dtype=np.int32), np.count_nonzero(real, axis=1))
        remains = np.concatenate([self.cand_remains[sources], self.unsc_remains])
        phase = np.repeat(np.arange(2, dtype=np.int8), [len(sources), nu])
        count_order = np.lexsort((phase, remains)).astype(np.int32)
        del remains, phase
        self.count_target = np.concatenate(
            [self.known_cells, np.concatenate([self.cand_cells[real], self.unsc_cell])[count_order]]
        )
        del self.cand_cells, real
        # Each count term's row in the candidates then the unscored cells (the first blocks of
        # `expected`'s terms): one gather per E-step, not three copies of the terms.
        self.count_rows = np.concatenate([sources, np.arange(nc, nc + nu, dtype=np.int32)])[count_order]
        del sources, count_order
        # Areas' DNA shares: (area, group) of each candidate of a remains with an area.
        area = self.remains_area[self.cand_remains]
        self.area_rows = np.nonzero(area >= 0)[0].astype(np.int32)
        self.area_target = area[self.area_rows] * len(self.groups) + self.cand_group[self.area_rows]
        # Within an area, its groups in the order they first appear (the order `area_outside` adds
        # them); an area with remains but no candidate has no group.
        first = np.unique(self.area_target, return_index=True)
        self.area_groups = [
            (int(t) // len(self.groups), int(t) % len(self.groups)) for t in first[0][np.argsort(first[1])]
        ]

    def _rows(self) -> None:
        """What the E-step reads of each candidate, fixed across iterations: its prior's index in
        the flattened (area, group) prior (`cand_prior`; `unsc_prior` and `flat_prior` likewise),
        and its row of (cell, den) pairs as an index (`cand_row`) into the distinct rows
        (`row_cells`, `row_dens`: the dens as floats). A country's candidates share few rows (at 10%
        126,000 of 1.16 million): each row's product of numerator / den is computed once an
        iteration, the same floats in the same order, and the candidates' dens are freed (their
        cells once the layout has read them). Found before the layout, whose orders are then not
        yet held (the EM's peak at 100%). The candidates that claim a martyr (`claim_rows`,
        `claim_of`: what `joint_count` reads) are found once too."""
        ng = len(self.groups)
        # Each remains' row of the per-area prior and p_outside, remains without an area last.
        self.prior_area = area = np.where(self.remains_area < 0, len(self.areas), self.remains_area).astype(
            np.int32
        )
        self.cand_prior = area[self.cand_remains] * ng + self.cand_group
        self.unsc_prior = area[self.unsc_remains] * ng + self.unsc_group
        self.flat_prior = area[self.flat_remains] * ng + self.flat_group
        # Each candidate's (remains, group), as an index: what `out_of_fold` sums per E-step.
        key = self.cand_remains.astype(np.int64) * ng + self.cand_group
        unique, inverse = np.unique(key, return_inverse=True)
        self.remains_group, self.n_remains_groups = inverse.reshape(-1).astype(np.int32), len(unique)
        del key, unique, inverse
        self.claim_rows = np.nonzero(self.cand_claim >= 0)[0].astype(np.int32)
        self.claim_of = self.cand_claim[self.claim_rows]
        # What `joint_count` reads of each claim, fixed across iterations: its prior's index, its
        # group and its remains; and the remains per prior row (for ρ).
        self.claim_prior = self.cand_prior[self.claim_rows]
        self.claim_group = self.cand_group[self.claim_rows]
        self.claim_remains = self.cand_remains[self.claim_rows]
        self.area_counts = np.bincount(self.prior_area, minlength=len(self.areas) + 1)
        del self.cand_claim
        # Dens equal to the bit are one code (their quotients are the same floats).
        den = np.unique(self.den_values.view(np.int64), return_inverse=True)[1].reshape(-1)
        nd = int(den.max(initial=0)) + 1
        step = (len(self.cells) + 1) * nd
        # A column at a time (each a key of the row so far and the column's pair): one 64-bit
        # key per candidate at once, not a copy of the (rows, width) arrays.
        row = np.zeros(len(self.cand_cells), dtype=np.int64)
        for j in range(self.width):
            key = row * step + self.cand_cells[:, j].astype(np.int64) * nd + den[self.cand_dens[:, j]]
            del row
            row = np.unique(key, return_inverse=True)[1].reshape(-1)
            del key
        first = np.unique(row, return_index=True)[1]
        self.cand_row = row.astype(np.int32)
        del row
        self.row_cells = self.cand_cells[first]
        self.row_dens = self.den_values[self.cand_dens[first]]
        del self.cand_dens, self.den_values  # the cells: by the layout

    def expected(
        self,
        tables: dict[str, dict[str, float]],
        masses: dict[str, float],
        sizes: dict[str, float],
        outside_in: dict[str, float],
    ) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, float], dict[str, dict[str, float]]]:
        """The E-step: expected counts per table cell, expected remains per group (and `outside`),
        the same on DNA candidates alone, and per area and group (`estimate`)."""
        ng = len(self.groups)
        # Per area (and a last row for remains without one): each group's prior and p_outside, as
        # `PriorModel.at` gives them.
        model = PriorModel(masses, sizes, outside_in)
        p_outside = np.array([*(outside_in.get(a, model.p_outside) for a in self.areas), model.p_outside])
        scale = np.array([*(model.scale(a) for a in self.areas), 1.0], dtype=np.float64)
        group_masses = np.array([masses.get(g, 0.0) for g in self.groups], dtype=np.float64)
        group_sizes = np.array([max(sizes.get(g, 0.0), 1e-9) for g in self.groups], dtype=np.float64)
        prior = (group_masses[None, :] * scale[:, None] / group_sizes[None, :]).reshape(-1)
        numerators = np.array([*(tables[t][o] for t, o in self.cells), 1.0], dtype=np.float64)

        nc, nu, nf = len(self.cand_remains), len(self.unsc_remains), len(self.flat_remains)
        # Each distinct row's product of numerator / den (`_rows`), multiplied from 1 column by column.
        product = np.ones(len(self.row_cells))
        for j in range(self.width):
            product = product * (numerators[self.row_cells[:, j]] / self.row_dens[:, j])
        # The candidates' masses a chunk of rows at a time: at 100% each temporary column of them
        # (and numpy's 64-bit copy of each 32-bit index) is 160 MB.
        lrs = np.empty(nc)
        for start in range(0, nc, _CHUNK):
            rows = slice(start, start + _CHUNK)
            chunk = prior[self.cand_prior[rows]] * self.cand_fixed[rows]
            if self.own is not None:
                chunk = chunk * self.own[rows]
            lrs[rows] = chunk * product[self.cand_row[rows]]
        unscored = prior[self.unsc_prior] * numerators[self.unsc_cell]
        unscored = unscored * self.unsc_value
        flat = prior[self.flat_prior] * self.flat_value
        outside = p_outside[self.prior_area]
        denominator = (
            outside
            + np.bincount(self.cand_remains, lrs, self.n)
            + np.bincount(self.unsc_remains, unscored, self.n)
            + np.bincount(self.flat_remains, flat, self.n)
        )
        # The terms in one array, each block written in place (candidates, unscored cells, flat
        # groups, outside), and read through the layout's orders in chunks: at 100% they are tens
        # of millions, and each copy of them or of an index hundreds of MB.
        terms = np.empty(nc + nu + nf + self.n)
        cand, unsc = terms[:nc], terms[nc : nc + nu]
        for start in range(0, nc, _CHUNK):
            rows = slice(start, start + _CHUNK)
            np.divide(lrs[rows], denominator[self.cand_remains[rows]], out=cand[rows])
        np.divide(unscored, denominator[self.unsc_remains], out=unsc)
        np.divide(flat, denominator[self.flat_remains], out=terms[nc + nu : nc + nu + nf])
        np.divide(outside, denominator, out=terms[nc + nu + nf :])
        del lrs, unscored
        ordered = _take(terms, self.share_order, np.empty(len(self.share_order)))
        share = np.bincount(self.share_target, ordered, ng + 1)
        del ordered
        # The known cells' ones, then each count term's mass (`count_rows` into the candidates and
        # the unscored cells, the terms' first blocks).
        weights = np.ones(len(self.known_cells) + len(self.count_rows))
        _take(terms, self.count_rows, weights[len(self.known_cells) :])
        count = np.bincount(self.count_target, weights, len(self.cells))
        del weights
        counted = cand if self.cand_counted is None else np.where(self.cand_counted, cand, 0.0)
        pi = prior[self.claim_prior]
        if self.own is not None:
            pi = pi * self.own[self.claim_rows]
        # Each group's expected remains of one martyr (ρ): its prior summed over the remains, area by area.
        rho = self.area_counts @ prior.reshape(len(self.areas) + 1, ng)
        claimed = joint_count(
            self.claim_rows, self.claim_of, counted, pi, rho[self.claim_group], self.claim_remains
        )
        self.counted_mass = claimed
        del terms, cand, unsc, counted
        dna = np.bincount(self.cand_group, claimed, ng)
        by_area = np.bincount(self.area_target, claimed[self.area_rows], len(self.areas) * ng)
        counts: dict[str, dict[str, float]] = {t: {} for t in tables}
        for (t, o), n in zip(self.cells, count.tolist(), strict=True):
            counts[t][o] = n
        shares = {g: float(share[group_position]) for g, group_position in self._positions(masses).items()}
        dna_shares = {g: float(dna[i]) if i < ng else 0.0 for g, i in self._positions(masses).items()}
        area_dna: dict[str, dict[str, float]] = {a: {} for a in self.areas}
        for a, g in self.area_groups:
            area_dna[self.areas[a]][self.groups[g]] = float(by_area[a * ng + g])
        return counts, shares, dna_shares, area_dna

    def _positions(self, masses: dict[str, float]) -> dict[str, int]:
        """Each key of `masses` (in its order) → its row in the shares: its group, `outside` last."""
        index = {g: i for i, g in enumerate(self.groups)}
        return {g: index.get(g, len(self.groups)) for g in masses}


def _take(values: np.ndarray, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`values[index]` written into `out`, a chunk of `index` at a time: numpy reads a 32-bit index
    through a 64-bit copy of it, and the EM's indices are tens of millions at 100%."""
    for start in range(0, len(index), _CHUNK):
        np.take(values, index[start : start + _CHUNK], out=out[start : start + _CHUNK])
    return out


# Below 1 by the last bit: a posterior of 1 has infinite odds.
_BELOW_ONE = 1 - 2.0**-52
# A martyr's expected remains in the register above this is a share read from a handful of
# martyrs, not a certainty that he lies there: his claims keep a weight for "in none of them".
RHO_MAX = 0.95


def joint_count(
    named: np.ndarray,
    claims: np.ndarray,
    mass: np.ndarray,
    prior: np.ndarray,
    rho: np.ndarray,
    remains: np.ndarray,
) -> np.ndarray:
    """Each candidate's E-step mass (`mass`) with the candidates that claim one martyr counted as
    his one body: `one_body_posterior` of each claim (`named`: their positions in `mass`, `claims`
    the martyr's index for each, `prior`, `rho` and `remains` per claim); a candidate that names no
    one keeps its mass. A martyr whose line a common haplotype matches collects chance mass from
    several remains; counted each alone, it inflates his group's share of the register and lowers
    `p_outside`, and a claim no other remains makes counts only its own remains' posterior, though
    every other remains' DNA left him nowhere else."""
    out = mass.copy()
    out[named] = one_body_posterior(mass[named], prior, rho, claims, remains)
    return out


def one_body_posterior(
    posterior: np.ndarray, prior: np.ndarray, rho: np.ndarray, martyr: np.ndarray, remains: np.ndarray
) -> np.ndarray:
    """P(the remains is the martyr | every remains' evidence, and he lies in at most one) per
    claim, from each remains' own posterior (`posterior`), its prior of him (`prior`), his
    expected remains in the register (`rho`: his prior summed over its remains), his index
    (`martyr`) and the remains' (`remains`).

    Each remains' posterior was computed alone. Given the other remains' evidence, he is in none of
    them with weight 1 − ρ and in remains j with weight r_j = its odds × (1 − prior), so a claim's
    weight is multiplied by f = (1 − prior) / ((1 − ρ) + Σ_{j ≠ i} r_j): a claim no other remains
    makes rises (every other remains' DNA left him nowhere else), contested claims share one body.
    Then each remains' hypotheses are weighed again together — its claims by p·f, the rest of its
    posterior (outside, the unsampled martyrs) as it was — so that two brothers on one line, each
    claimed by this remains alone, are not both likelier than not. With one claim per remains and
    per martyr this is the martyr's own enumeration, r_i / (1 + Σ_j r_j) with r = odds × (1 − prior)
    / (1 − ρ) (docs/matching.md §9)."""
    factor, lift = one_body_terms(posterior, prior, rho, martyr, remains)
    return posterior * factor / (1 + lift[remains])


def one_body_terms(
    posterior: np.ndarray, prior: np.ndarray, rho: np.ndarray, martyr: np.ndarray, remains: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`one_body_posterior`'s terms: each claim's factor f, and per remains (an index) what its
    claims' weights add to its total, Σ p·(f − 1); the posterior is p·f / (1 + that)."""
    # Each claim's weight against "in none of the claimants": its odds × (1 − its prior).
    p = np.minimum(posterior, _BELOW_ONE)
    r = p / (1 - p) * (1 - prior)
    nowhere = np.maximum(1 - np.minimum(rho, RHO_MAX), 0.0)
    total = np.bincount(martyr, r, int(martyr.max(initial=-1)) + 1)
    factor = (1 - prior) / (nowhere + total[martyr] - r)
    lift = np.bincount(remains, posterior * factor - posterior, int(remains.max(initial=-1)) + 1)
    return factor, lift


def area_outside(
    dna_shares: dict[str, dict[str, float]],
    remains: Counter,
    sizes: dict[str, float],
    sampled: dict[str, float],
    p_outside: float,
    strength: float,
) -> dict[str, float]:
    """Per recovery area, the share of its remains that belong to nobody in the pool: the rest of
    its pool count read from the sampled martyrs as in `anchored_shares` (the E-step's mass on
    each group's DNA candidates among the area's remains × group size / sampled martyrs), shrunk
    towards the province's `p_outside` with the weight of `strength` remains (few remains say
    little about their area). Groups with no sampled martyr hold almost no remains and are left out."""
    out = {}
    for area, n in remains.items():
        pool = sum(m * sizes[g] / sampled[g] for g, m in dna_shares.get(area, {}).items() if sampled.get(g))
        raw = min(max(1 - pool / n, 0.0), 1.0)
        out[area] = (strength * p_outside + n * raw) / (strength + n)
    return out


def anchored_shares(
    shares: dict[str, float],
    dna_shares: dict[str, float],
    sizes: dict[str, float],
    sampled: dict[str, float],
    remains: int,
) -> dict[str, float]:
    """Expected remains per group (and `outside`, the rest) with each group's count read from its
    martyrs that have a reference: their expected remains (`dna_shares`, the E-step's mass on DNA
    candidates) × group size / sampled martyrs. Whether a martyr's family gave a usable reference
    does not depend on whether his remains are in the register, so the sampled part of a group
    stands for the whole; the unsampled part is told from `outside` by the place alone, which
    barely separates them (docs/matching.md §9), so its count would rest on that weak likelihood.
    A group with no sampled martyr keeps its plain mixture count."""
    out = {
        g: dna_shares[g] * sizes[g] / sampled[g] if sampled.get(g) else n
        for g, n in shares.items()
        if g != OUTSIDE
    }
    pool = sum(out.values())
    if pool > remains:  # more than every remains: scale the pool down, nobody is outside
        out = {g: n * remains / pool for g, n in out.items()}
        pool = float(remains)
    return {**out, OUTSIDE: remains - pool}
