"""Which candidate pairs the national run scores one by one, and the sum of the others.

At the country's scale a remains of a common haplotype has thousands of candidate martyrs within
one difference (2.7 billion (remains, reference) pairs at 100%), and scoring a pair one by one
costs ~0.5 ms and ~20 kB (docs/national_scale.md). Most of them fell in other provinces: their
place factor is the same `elsewhere` outcome (`different` against a front), none of their other
factors is known to single one out, and they enter the remains' posterior only through its
denominator. `list_candidates` works on profile groups (`candidate_search.group_pairs`; the DNA
factor depends only on the two profiles and the database count), takes the martyrs by their set of
reference groups (every martyr of a set has the same best pair with a remains group), runs per
batch of remains groups, and

- lists, for every remains, with N = `MatchSettings.listed_candidates`: the N candidates of its
  profile whose DNA and place factors as a pair from another province would be the strongest (DNA
  LR × the stated numerator of the place outcome / its register share; all of them when it has no
  more); every candidate who fell in its district; the N strongest (DNA × own place factor) of
  the others who fell in its province; the N strongest (DNA × unit-area factor) of the martyrs
  whose record places the death in no province and whose unit lost more of its men than the pool
  in the remains' cemetery area; and, when its estimated sex is the rarer in the register, every
  candidate of that sex: the pairs a decision or a council can turn on (docs/national_scale.md
  measures what the others change);
- sums the other candidates of each remains per prior group and place cell, as the martyrs
  without a reference are summed (`scoring.unscored_terms`): Σ DNA LR / den of their place
  outcome, at the best estimate and at the 95% bound (`scoring.FarTerms`). Their other factors are
  taken at their average, 1, as the unsampled martyrs' are.

The listed pairs then go through `dna.dna_pairs` and the scoring exactly as in a province run.
What the sums leave out (docs/national_scale.md): the own line is assumed counted in x for a
`cannot_exclude` pair (x and n less one), the martyr's best reference is the one with the fewest
differences, the commune weights (`structure`) read the listed pairs only, and a far pair a
council rejected is still summed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from lietsi.formations import formation
from lietsi.lab.mtdna import format_range, intersect_ranges, parse_range
from lietsi.matching import candidate_search
from lietsi.matching.dna import DatabaseSide, database_side, pair_counts, pair_dna_factor
from lietsi.matching.evidence import EvidenceSettings, floored_share, numerator_tables
from lietsi.matching.frequency import spectra
from lietsi.matching.geography import place_level
from lietsi.matching.identification import Prepared
from lietsi.matching.register import Register, build_register, remains_features
from lietsi.matching.scoring import (
    FarTerms,
    front_share,
    loss_area,
    point_lr,
    point_settings,
    prior_group,
    unit_area_baselines,
    unit_area_evidence,
)
from lietsi.matching.settings import MatchSettings

# A remains' recovery place level: 0–3 (`geography.place_level`), or no place text at all.
NO_PLACE = -1
_FAR_SCHEMA = {
    "remains_id": pl.String, "prior_group": pl.String, "table": pl.String, "outcome": pl.String,
    "lr_point": pl.Float64, "lr_bound": pl.Float64, "lr_dna": pl.Float64,
}  # fmt: skip
# The sums' order (one row per remains and cell): what a re-run and another batching give alike.
FAR_ORDER = ("remains_id", "prior_group", "table", "outcome")


@dataclass(frozen=True)
class Listing:
    found: pl.DataFrame  # remains_id, relative_id, differences: the pairs `dna.dna_pairs` compares
    far: pl.DataFrame  # the sums of the other candidates (`_FAR_SCHEMA`), one row per remains and cell


def _martyr_cells(prepared: Prepared, settings: MatchSettings, register: Register) -> pl.DataFrame:
    """Per missing martyr and recovery level k of a remains: his prior group, the province and
    district he fell in, the level compared at, and the place cell and 1/den of a pair with a
    remains of another province (`table`, `outcome`, `w`) and of his province, not his district
    (`table_p`, `outcome_p`, `w_p`)."""
    pool, s = prepared.pool, settings.evidence
    rows = []
    for m in prepared.missing.iter_rows(named=True):
        mid = m["martyr_id"]
        group = prior_group(m, pool, prepared.province, prepared.here)
        key = pool.martyr_place_key.get(mid, "")
        source = pool.martyr_place_source.get(mid, "death")
        death = pool.key_places.get(key, {})
        level = place_level(death) if key else 0
        shares = register.place_shares(key, death) if key else {}
        district = f"{death.get('province')} / {death.get('district')}" if death.get("district") else None
        for k in (NO_PLACE, 0, 1, 2, 3):
            lvl = min(k, level) if key and k != NO_PLACE else None
            cells = []
            for outcome in ("elsewhere" if lvl else "different", "province"):
                share = shares.get((lvl, outcome)) if lvl is not None else None
                if share is None or (outcome == "province" and not lvl):
                    cells += [None, None, 1.0]
                else:
                    cells += [f"place:{source}:{lvl}", outcome, 1.0 / floored_share(share, s)]
            rows.append((mid, k, group, m.get("sex"), death.get("province"), district, lvl, *cells))
    schema = {"martyr_id": pl.String, "k": pl.Int8, "prior_group": pl.String, "sex_m": pl.String,
              "province_m": pl.String,
              "district_m": pl.String, "lvl": pl.Int8, "table": pl.String, "outcome": pl.String,
              "w": pl.Float64, "table_p": pl.String, "outcome_p": pl.String, "w_p": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _unit_areas(prepared: Prepared, settings: MatchSettings, features: dict) -> pl.DataFrame:
    """(martyr_id, area, unit_lr): the cemetery areas (`scoring.loss_area`: military regions
    nationally) where the unit of a martyr whose record places his death in no province lost more
    of its men than the pool did (unit-area factor above 1): such a pair is listed."""
    pool, s = prepared.pool, settings.evidence
    missing = list(prepared.missing.iter_rows(named=True))
    provinces = {f["cemetery_province"] for f in features.values() if f["cemetery_province"]}
    baseline = unit_area_baselines(missing, pool, provinces, s)
    areas = {loss_area(p, s): p for p in sorted(provinces)}
    above: dict[str, list[tuple[str, float]]] = {}
    rows = []
    for m in missing:
        unit = formation(m.get("unit"))
        if not unit or pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {}).get("province"):
            continue
        if unit not in above:
            factors = {
                a: unit_area_evidence({"cemetery_province": p}, m, pool, s, baseline).lr
                for a, p in areas.items()
            }
            above[unit] = [(a, lr) for a, lr in factors.items() if lr > 1.0]
        rows += [(m["martyr_id"], area, lr) for area, lr in above[unit]]
    schema = {"martyr_id": pl.String, "area": pl.String, "unit_lr": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _remains_places(
    side: candidate_search.PreparedSide, features: dict, s: EvidenceSettings, register: Register
) -> pl.DataFrame:
    """Per profiled remains: its group, recovery level, province, district, cemetery area, and its
    estimated sex when that is the rarer in the register (its sex factor then singles a martyr out)."""
    rows = []
    for remains_id, group in side.members.iter_rows():
        r = features.get(remains_id) or {}
        place = r.get("place") or {}
        k = place_level(place) if r.get("place_key") else NO_PLACE
        district = f"{place.get('province')} / {place.get('district')}" if place.get("district") else None
        area = loss_area(r.get("cemetery_province"), s)
        sex = r.get("est_sex")
        rare = sex if sex and (register.sex_share(sex) or 1.0) < 0.5 else None
        rows.append((remains_id, group, k, place.get("province"), district, area, rare))
    schema = {"remains_id": pl.String, "group_a": pl.UInt32, "k": pl.Int8, "province_r": pl.String,
              "district_r": pl.String, "area_r": pl.String, "sex_r": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


class _DnaLrs:
    """(group_a, group_b) → the DNA LR at the 95% bound and at the best estimate, from the verdict
    and x, n of the remains group's profile on the range compared (`dna.pair_counts`), batch after
    batch of group pairs: the database's side, the spectra of the ranges compared and the LR of
    each distinct (verdict, differences, x, n, range compared) are computed once for all batches."""

    def __init__(
        self,
        a: candidate_search.PreparedSide,
        b: candidate_search.PreparedSide,
        prepared: Prepared,
        settings: MatchSettings,
        database: DatabaseSide | None = None,
    ) -> None:
        self.prepared, self.settings = prepared, settings
        if database is not None:
            self.database = database
        self.range_a = a.groups.select(group_a="group", range_a="range")
        self.range_b = b.groups.select(group_b="group", range_b="range")
        self.profiles = a.groups.select(
            remains_id=pl.col("group").cast(pl.String), range="range", haplotype="haplotype"
        )
        self.point = point_settings(settings.evidence, settings)
        self.spectrum: dict | None = {} if settings.estimation_good_turing else None
        self.read: set[str] = set()  # ranges compared whose spectrum was looked for
        self.lrs: dict[tuple, tuple[float, float]] = {}

    @cached_property
    def database(self) -> DatabaseSide:
        return database_side(self.prepared.database, self.settings.rules)

    def __call__(self, pairs: pl.DataFrame) -> pl.DataFrame:
        rules, s = self.settings.rules, self.settings.evidence
        pairs = pairs.join(self.range_a, on="group_a").join(self.range_b, on="group_b")
        # Millions of group pairs share a few ranges and difference counts: each is read once.
        compared = pl.DataFrame(
            [
                (ra, rb, format_range(intersect_ranges(parse_range(ra), parse_range(rb))))
                for ra, rb in pairs.select("range_a", "range_b").unique().iter_rows()
            ],
            schema={"range_a": pl.String, "range_b": pl.String, "compared_range": pl.String},
            orient="row",
        )
        verdicts = pairs.select(pl.col("differences").unique()).with_columns(
            verdict=pl.col("differences").map_elements(rules.verdict, return_dtype=pl.String)
        )
        pairs = pairs.join(compared, on=["range_a", "range_b"]).join(verdicts, on="differences")
        queries = (
            pairs.filter(pl.col("verdict") == "cannot_exclude")
            .select(
                remains_id=pl.col("group_a").cast(pl.String),
                line_id=pl.lit(""),
                compared_range="compared_range",
            )
            .unique()
        )
        database = self.database if queries.height else None
        counts = pair_counts(
            queries, self.profiles, self.prepared.database, rules, own_line=False, prepared=database
        ).select(group_a=pl.col("remains_id").cast(pl.UInt32), compared_range="compared_range", x="x", n="n")
        pairs = pairs.join(counts, on=["group_a", "compared_range"], how="left")
        ranges = set(pairs["compared_range"].unique().to_list()) - self.read
        if self.spectrum is not None and ranges:
            lines = self.prepared.database.profiles.select("range", "haplotype")
            self.spectrum.update(spectra(lines.iter_rows(), ranges, rules))
        self.read |= ranges
        keys = pairs.select("verdict", "differences", "x", "n", "compared_range").unique()
        for verdict, differences, x, n, compared_range in keys.iter_rows():
            if (verdict, differences, x, n, compared_range) in self.lrs:
                continue
            # The martyr's own line is the case, not the population: counted in x when it matches.
            own = verdict == "cannot_exclude" and bool(x)
            rec = {"verdict": verdict, "differences": differences, "x": (x or 0) - own, "n": (n or 0) - own,
                   "compared_range": compared_range, "own_line_removed": own}  # fmt: skip
            self.lrs[(verdict, differences, x, n, compared_range)] = (
                pair_dna_factor(rec, s).lr,
                point_lr(rec, self.point, self.spectrum),
            )
        lr_frame = pl.DataFrame(
            [(*key, *self.lrs[key]) for key in keys.iter_rows()],
            schema={**keys.schema, "lr_bound": pl.Float64, "lr_point": pl.Float64},
            orient="row",
        )
        return pairs.join(
            lr_frame, on=["verdict", "differences", "x", "n", "compared_range"], how="left", nulls_equal=True
        ).select("group_a", "group_b", "lr_bound", "lr_point")


def list_candidates(prepared: Prepared, settings: MatchSettings) -> Listing:
    """The pairs to score one by one, and the sums of the others (module docstring), for the whole
    country at once."""
    batches = list(listed_batches(prepared, settings))
    return Listing(
        pl.concat(batch.found for batch in batches).sort("remains_id", "relative_id"),
        pl.concat(batch.far for batch in batches).sort(*FAR_ORDER, nulls_last=True),
    )


def listed_batches(
    prepared: Prepared, settings: MatchSettings, database: DatabaseSide | None = None
) -> Iterator[Listing]:
    """`list_candidates` per batch of remains groups (`_pairing_batches`): each remains is in one
    batch, with all its listed pairs (sorted by remains and reference) and its sums, so a caller can
    compare a batch's pairs and let its frames go before the next. `database`: the frequency
    database's side (`dna.database_side`) when the caller counts against it too."""
    cap = settings.listed_candidates
    rules, s = settings.rules, settings.evidence
    remains = prepared.remains_profiles.select(id="remains_id", range="range", haplotype="haplotype")
    references = prepared.refs.unique("relative_id").select(
        id="relative_id", range="range", haplotype="haplotype"
    )
    a = candidate_search.prepare(remains, rules)
    b = candidate_search.prepare(references, rules)
    martyr_index = prepared.refs.select("martyr_id").unique().sort("martyr_id").with_row_index("m")
    relatives = (
        b.members.rename({"id": "relative_id", "group": "group_b"})
        .join(prepared.refs.select("relative_id", "martyr_id"), on="relative_id")
        .join(martyr_index, on="martyr_id")
        .select("group_b", "relative_id", "m")
    )
    features = remains_features(prepared.remains, prepared.province)
    register = build_register(features, s)
    places = _remains_places(a, features, s, register)
    levels = places.select("group_a", "k").unique()
    cells = _martyr_cells(prepared, settings, register).join(martyr_index, on="martyr_id").drop("martyr_id")
    areas = _unit_areas(prepared, settings, features).join(martyr_index, on="martyr_id").drop("martyr_id")
    stated = numerator_tables(s, front_share(register))
    numerators = pl.DataFrame(
        [(t, o, v) for t, outcomes in stated.items() for o, v in outcomes.items()],
        schema={"table": pl.String, "outcome": pl.String, "p1": pl.Float64},
        orient="row",
    )
    # A martyr's candidate pair is on his reference with the fewest differences. Martyrs are taken
    # by their set of reference groups (nearly always one; several when a family's donors were read
    # over different ranges): every martyr of a set is a candidate of a remains group on the same
    # pair, so they need no row per (remains group, martyr) except where a rule reads them.
    of_set, set_members = _reference_sets(relatives)
    # Each martyr's stated numerator of his far place outcome (`p1`) is joined once here, not to
    # every batch's candidate rows.
    single = of_set.join(cells, on="m").join(numerators, on=["table", "outcome"], how="left")

    # The `cap` strongest far pairs of a remains group come from the `cap` strongest of each of its
    # sets (the DNA LR is one per set); ties and rounding at the cut kept.
    strength = single.with_columns(key=pl.col("w") * pl.col("p1").fill_null(1.0))
    cut = strength.group_by("set", "k").agg(pl.col("key").sort(descending=True).head(cap).min().alias("cut"))
    cell = ["prior_group", "table", "outcome"]
    martyrs = _Martyrs(
        single=single,
        strongest=strength.join(cut, on=["set", "k"])
        .filter(pl.col("key") >= pl.col("cut") * (1 - 1e-9))
        .drop("key", "cut"),
        per_set=single.group_by("set", "k", *cell).agg(_sum("w"), count=pl.len()),
        areas=areas,
        in_areas=single.join(areas.select("m", "area"), on="m"),
    )
    sizes = single.group_by("set", "k").len()
    # The remains' parsed records (a dict per remains) are not read again: not held by the batches.
    del features, register, strength, cells
    dna_lrs = _DnaLrs(a, b, prepared, settings, database)
    b_keys: dict = {}
    # The group pairs grow with the square of the country: they are found, weighed and listed per
    # batch of remains groups (`_pairing_batches`), the reference side's keys prepared once.
    for batch in _pairing_batches(a, b):
        pairs = candidate_search.group_pairs(a.restrict(batch), b, rules, b_keys=b_keys)
        paired = _best_pairs(pairs.join(dna_lrs(pairs), on=["group_a", "group_b"]), set_members).join(
            levels, on="group_a"
        )
        # Every step below is per remains group: they go in batches of about `_BATCH_ROWS`
        # candidate rows (martyrs of their sets), so that memory does not grow with the country.
        weights = (
            paired.join(sizes, on=["set", "k"])
            .group_by("group_a")
            .agg(rows=pl.col("len").sum())
            .sort("group_a")
            .with_columns(batch=pl.col("rows").cum_sum() // _BATCH_ROWS)
        )
        # Cut once: joining the whole batch with each small batch's groups read it again each time.
        batch_of = weights.select("group_a", "batch")
        paired_in = paired.join(batch_of, on="group_a").partition_by("batch", as_dict=True, include_key=False)
        places_in = places.join(batch_of, on="group_a").partition_by("batch", as_dict=True, include_key=False)
        paired = paired.clear()
        near, far = [], []
        for key in list(paired_in) or [None]:  # no pair at all: one empty batch
            n, f = _list_batch(paired_in.pop(key, paired), places_in.pop(key, places.clear()), martyrs, cap)
            near.append(n)
            far.append(f)
        found = (
            pl.concat(near)
            .join(relatives, on="m")
            .join(pairs, on=["group_a", "group_b"])
            .select("remains_id", "relative_id", "differences")
            .unique(["remains_id", "relative_id"])
            .sort("remains_id", "relative_id")
        )
        yield Listing(found, pl.concat(far).sort(*FAR_ORDER, nulls_last=True))


# Remains groups × reference groups paired in one batch (`_pairing_batches`): the group pairs of
# a batch are 0.4% (at 30%) to 1.1% (at 1%) of this in the generated countries: 3 batches at 30%,
# 21 at 100%.
_PAIRING_PRODUCT = 500_000_000


def _pairing_batches(a: candidate_search.PreparedSide, b: candidate_search.PreparedSide) -> list[list[int]]:
    """The remains groups in batches of about `_PAIRING_PRODUCT` / (reference groups) each, taken
    every n-th so that the common haplotypes' groups spread over the batches; at least one batch."""
    n = max(1, -(-a.groups.height * b.groups.height // _PAIRING_PRODUCT))
    groups = a.groups["group"].to_list()
    return [groups[i::n] for i in range(n)]


# Candidate rows (remains group × martyr of its sets, per recovery level) handled at once: bounds
# what a batch adds to the frames all batches share (at most ~2.5 GB at 30% of the country).
_BATCH_ROWS = 2_000_000


@dataclass(frozen=True)
class _Martyrs:
    """The candidate martyrs' side of the listing, the same for every batch of remains groups."""

    single: pl.DataFrame  # m, set, k, his place cells (`_martyr_cells`), p1: the numerator of his far cell
    strongest: pl.DataFrame  # the rows of `single` among the `cap` strongest far pairs of their set
    per_set: pl.DataFrame  # set, k, prior group and cell: Σ 1/den and how many martyrs
    areas: pl.DataFrame  # m, area, unit_lr (`_unit_areas`)
    in_areas: pl.DataFrame  # `single` with each area of his unit (`areas`): joined once, not per batch


def _list_batch(
    paired: pl.DataFrame, places: pl.DataFrame, martyrs: _Martyrs, cap: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For the remains groups of `paired` (group_a, set, DNA LRs, k) and their remains (`places`):
    the listed candidates (remains_id, group_a, m) and the sums of the others (`_far_sums`)."""
    single, areas = martyrs.single, martyrs.areas

    def candidates(
        rows: pl.DataFrame, where: pl.DataFrame | None = None, on: tuple[str, ...] = ()
    ) -> pl.DataFrame:
        """Candidate rows (one per remains group, level and martyr) with their far-pair score: the
        martyrs of `rows` (per set and level) paired with the remains groups of their set, where
        `where` (group_a, k, *`on`) says so."""
        frame = paired if where is None else paired.join(where, on=["group_a", "k"])
        return (
            frame.join(rows, on=["set", "k", *on])
            .with_columns(score=pl.col("lr_point") * pl.col("w") * pl.col("p1").fill_null(1.0))
            .select(*_ROW, "score")
        )

    top = (
        candidates(martyrs.strongest)
        .filter(pl.struct(pl.col("score").neg(), "m").rank("ordinal").over("group_a", "k") <= cap)
        .drop("score")
    )
    # Each class numbered once: the rules below rank, group and join by its number, not its six columns.
    classes = places.select(*CLASS).unique().with_row_index("class")
    places = places.join(classes, on=CLASS, nulls_equal=True).select("remains_id", "group_a", "k", "class")
    # The candidates a rule below reads: who fell in the remains' province, whose unit fought in
    # its area, of its rare sex.
    ruled = (
        pl.concat(
            [
                candidates(
                    single, classes.select("group_a", "k", province_m="province_r").unique(), ("province_m",)
                ),
                candidates(
                    martyrs.in_areas, classes.select("group_a", "k", area="area_r").unique(), ("area",)
                ),
                candidates(
                    single, classes.select("group_a", "k", sex_m="sex_r").drop_nulls().unique(), ("sex_m",)
                ),
            ]
        )
        .unique(["group_a", "k", "m"])
        .drop("score")
    )
    rest = ruled.join(top.select("group_a", "k", "m"), on=["group_a", "k", "m"], how="anti")
    # Σ over every candidate of a remains group as from another province: per set and cell once (its
    # martyrs are fixed), then per (remains group, set); less the strongest, listed.
    cell = ["prior_group", "table", "outcome"]
    every = paired.join(martyrs.per_set, on=["set", "k"]).select(
        "group_a",
        "k",
        *cell,
        lr_point=pl.col("lr_point") * pl.col("w"),
        lr_bound=pl.col("lr_bound") * pl.col("w"),
        lr_dna=pl.col("lr_point") * pl.col("count"),
    )
    total = (
        pl.concat([every, _terms(top, -1.0, ["group_a", "k"])])
        .group_by("group_a", "k", *cell)
        .agg(_sum("lr_point", "lr_bound", "lr_dna"))
    )
    # The rules below read a class's candidates through what decides them alone — the province and
    # district, the cemetery area, the rare sex — not once per class: a province's candidates
    # repeated for each district, area and sex a remains group has there grew faster than the country.
    provinces = classes.select("group_a", "k", province_m="province_r").unique()
    same = rest.join(provinces, on=["group_a", "k", "province_m"], how="semi").with_columns(
        rank=pl.struct((pl.col("lr_point") * pl.col("w_p")).neg(), "m")
        .rank("ordinal")
        .over("group_a", "k", "province_m")
    )
    # A remains whose estimated sex is the rarer lists every candidate of that sex.
    sexes = classes.select("class", "group_a", "k", sex_m="sex_r").join(rest, on=["group_a", "k", "sex_m"])
    listed = pl.concat(
        [
            _same_province(same, classes, cap),
            _by_unit_area(rest, classes, areas, cap),
            sexes.select("class", *_ROW),
        ]
    ).unique(["class", "m"])
    near = pl.concat(
        [
            places.join(top, on=["group_a", "k"]).select("remains_id", "group_a", "m"),
            places.join(listed.select("class", "m"), on="class").select("remains_id", "group_a", "m"),
        ]
    ).unique()
    return near, _far_sums(places, classes, total, same, listed)


# A candidate row: a remains group, a martyr at its recovery level k, their DNA LRs and his place cells.
_ROW = ["group_a", "m", "lr_point", "lr_bound", "k", "prior_group", "sex_m", "province_m", "district_m",
        "lvl", "table", "outcome", "w", "table_p", "outcome_p", "w_p"]  # fmt: skip


def _reference_sets(relatives: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(m, set): each martyr's set of reference groups; (set, group_b): the groups of each set."""
    keyed = (
        relatives.select("group_b", "m")
        .unique()
        .group_by("m")
        .agg(pl.col("group_b").sort())
        .with_columns(
            set=pl.col("group_b").cast(pl.List(pl.String)).list.join(" ").rank("dense").cast(pl.UInt32)
        )
    )
    return keyed.select("m", "set"), keyed.unique("set").select("set", "group_b").explode("group_b")


def _best_pairs(lrs: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """(group_a, set, lr_point, lr_bound): the pair of a remains group with the martyrs of a set, on
    the set's reference group with the fewest differences (the first group among equals), the same
    for every martyr of the set."""
    # The first on (differences, group_b) as one number, found per group without sorting the rows.
    first = (pl.col("differences").cast(pl.UInt64) * 2**32 + pl.col("group_b")).arg_min()
    return (
        lrs.join(members, on="group_b")
        .group_by("group_a", "set")
        .agg(pl.col("lr_point", "lr_bound").get(first))
    )


# What the remains of one class share: their candidates, and which of them are listed.
CLASS = ["group_a", "k", "province_r", "district_r", "area_r", "sex_r"]


def _sum(*columns: str) -> pl.Expr:
    """A group's sum of each column in one order whatever the order of its rows, which the joins
    before it do not fix: the same inputs give the same sums to the bit (`make same-outputs`)."""
    return pl.col(*columns).sort().sum()


def _terms(frame: pl.DataFrame, sign: float, keys: list[str], suffix: str = "") -> pl.DataFrame:
    """Each candidate row's term of the sums: DNA LR × 1/den of its place cell (`suffix` "_p": of
    its province cell), at the best estimate and the 95% bound, and its DNA LR, times `sign`."""
    w = pl.col(f"w{suffix}")
    return frame.select(
        *keys, "prior_group", table=f"table{suffix}", outcome=f"outcome{suffix}",
        lr_point=sign * pl.col("lr_point") * w, lr_bound=sign * pl.col("lr_bound") * w,
        lr_dna=sign * pl.col("lr_point"),
    )  # fmt: skip


def _same_province(same: pl.DataFrame, classes: pl.DataFrame, cap: int) -> pl.DataFrame:
    """(class, candidate row) listed by the same-province rule: every candidate of `same` (the
    candidates who fell in a class's province, `rank`ed per remains group, level and province) who
    fell in the class's district, compared at district level or finer (`strong`), and the `cap`
    first of the others. Decided per (remains group, level, province, district), not per class."""
    keys = ["group_a", "k", "province_m"]
    districts = classes.select(*keys[:2], province_m="province_r", district_m="district_r").unique()
    strong = same.filter(pl.col("lvl") >= 2).join(districts, on=[*keys, "district_m"])
    count = strong.group_by(*keys, "district_m").agg(n=pl.len())
    # The `cap` first of a district's others are among the province's `cap` + (its strong) first: only
    # those are paired with the district, so that a province's candidates are not taken once per district.
    most = count.group_by(*keys).agg(most=pl.col("n").max())
    heads = same.join(most, on=keys, how="left").filter(pl.col("rank") <= cap + pl.col("most").fill_null(0))
    others = (
        districts.rename({"district_m": "district_r"})
        .join(heads.drop("most"), on=keys)
        .join(
            count.rename({"district_m": "district_r"}), on=[*keys, "district_r"], how="left", nulls_equal=True
        )
        .filter(
            (pl.col("rank") <= cap + pl.col("n").fill_null(0))
            & ~((pl.col("lvl") >= 2) & (pl.col("district_m") == pl.col("district_r")).fill_null(False))
        )
        .filter(pl.col("rank").rank("ordinal").over(*keys, "district_r") <= cap)
    )
    listed = pl.concat([strong.select(*_ROW, district_r="district_m"), others.select(*_ROW, "district_r")])
    return (
        classes.select("class", "group_a", "k", "district_r", province_m="province_r")
        .join(listed, on=[*keys, "district_r"], nulls_equal=True)
        .select("class", *_ROW)
    )


def _by_unit_area(rest: pl.DataFrame, classes: pl.DataFrame, areas: pl.DataFrame, cap: int) -> pl.DataFrame:
    """(class, candidate row) listed by the unit-area rule: the `cap` strongest (DNA × unit-area
    factor) of the candidates whose unit fought in the class's cemetery area, per area."""
    where = classes.select("group_a", "k", area="area_r").unique()
    units = (
        rest.join(areas, on="m")
        .join(where, on=["group_a", "k", "area"], how="semi")
        .filter(
            pl.struct((pl.col("lr_point") * pl.col("unit_lr")).neg(), "m")
            .rank("ordinal")
            .over("group_a", "k", "area")
            <= cap
        )
    )
    return (
        classes.select("class", "group_a", "k", area="area_r")
        .join(units, on=["group_a", "k", "area"])
        .select("class", *_ROW)
    )


def _far_sums(
    places: pl.DataFrame, classes: pl.DataFrame, total: pl.DataFrame, same: pl.DataFrame, listed: pl.DataFrame
) -> pl.DataFrame:
    """Per remains: Σ over its candidates not listed of DNA LR × 1/den of their place cell, per
    prior group and cell (`_FAR_SCHEMA`): every candidate outside the strongest, as from another
    province (`total`), less those a rule listed (`listed`, per class), and those who fell in its
    province (`same`) moved to their own place cell (same province, another district) unless
    listed. A candidate a rule looked at and did not list, from another province, stays in the
    first sum."""
    if classes.is_empty() or total.is_empty():
        return pl.DataFrame(schema=_FAR_SCHEMA)
    cell = ["prior_group", "table", "outcome"]
    sums = ["lr_point", "lr_bound", "lr_dna"]
    keys = ["group_a", "k", "province_m"]
    provinces = classes.select("class", "group_a", "k", province_m="province_r")
    listed = listed.join(provinces.select("class", province_r="province_m"), on="class").with_columns(
        same=(pl.col("province_m") == pl.col("province_r")).fill_null(False)
    )
    # A province's candidates that no class of the remains group lists are moved once per province;
    # those some class lists, per class. Moving every one once and taking the listed back per class
    # left a class's own-cell sum as a difference of large ones (30%: relative errors up to 10⁻¹¹).
    inside = listed.filter("same").select("class", "m", listed=pl.lit(True))
    somewhere = listed.filter("same").select(*keys, "m").unique()
    moved = (
        same.join(somewhere, on=[*keys, "m"], how="anti")
        .pipe(lambda rows: pl.concat([_terms(rows, -1.0, keys), _terms(rows, 1.0, keys, "_p")]))
        .group_by(*keys, *cell)
        .agg(_sum(*sums))
    )
    each = (
        provinces.join(same.join(somewhere, on=[*keys, "m"], how="semi"), on=keys)
        .join(inside, on=["class", "m"], how="left")
        .with_columns(pl.col("listed").fill_null(False))
    )
    far = (
        pl.concat(
            [
                classes.join(total, on=["group_a", "k"]).select("class", *cell, *sums),
                provinces.join(moved, on=keys).select("class", *cell, *sums),
                _terms(each, -1.0, ["class"]),
                _terms(each.filter(~pl.col("listed")), 1.0, ["class"], "_p"),
                _terms(listed.filter(~pl.col("same")), -1.0, ["class"]),
            ]
        )
        .group_by("class", *cell)
        .agg(_sum(*sums).clip(lower_bound=0.0))
        .filter(pl.col("lr_dna") > 1e-6)
    )
    return places.join(far, on="class").select(*_FAR_SCHEMA).sort(*FAR_ORDER, nulls_last=True)


def far_terms(far: pl.DataFrame) -> dict[str, FarTerms]:
    """The far sums as `scoring.score_candidates` reads them, per remains."""
    out: dict[str, dict] = {}
    # A few hundred groups and cells over millions of rows: one key object each, not one per row.
    groups: dict[str, str] = {}
    cells: dict[tuple, tuple] = {}
    for remains_id, group, table, outcome, point, bound, dna in far.iter_rows():
        t = out.setdefault(
            remains_id, {"cells": {}, "flat": {}, "cells_bound": {}, "flat_bound": {}, "dna": {}}
        )
        group = groups.setdefault(group, group)
        if table is None:
            t["flat"][group] = t["flat"].get(group, 0.0) + point
            t["flat_bound"][group] = t["flat_bound"].get(group, 0.0) + bound
        else:
            cell = cells.setdefault((group, table, outcome), (group, (table, outcome)))
            t["cells"][cell] = point
            t["cells_bound"][cell] = bound
        t["dna"][group] = t["dna"].get(group, 0.0) + dna
    return {r: FarTerms(**t) for r, t in out.items()}
