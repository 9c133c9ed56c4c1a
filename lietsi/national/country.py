"""The national run: every province's families against every cemetery's remains.

`read_exports` (`exports`) reads the inbox; `match_country` runs the province matching library
(`lietsi.matching.identification`) over the whole country through an adapter (`adapt`) from the
export frames to the frames it reads, in four stages a benchmark can time one by one:

1. `prepare_country`: references, maternal lines, the pool (every missing martyr of every province
   that sent an export), the remains' profiles and the frequency database (one profile per maternal
   line of the country);
2. `search`: candidate search and DNA comparison of the (remains, martyr) pairs within one
   difference that `listing` lists, and the sums of the others (every pair in a small country);
3. `weigh`: the evidence of each pair (the recovery place against the place of death across
   provinces, the unit's area from every province's records of where it lost men, sex, age, date,
   artefacts) and its posterior over the pool, with the hypothesis "a martyr of no province that
   sent an export" (the province run's "nobody in the pool");
4. `assign_country`: the per-pair decision and the one-to-one assignment over the whole country.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import polars as pl

from lietsi import reasons
from lietsi.matching.dna import DatabaseSide, database_side
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.geography import place_units
from lietsi.matching.identification import MatchResult, Prepared, candidate_pairs, decide, evidence, prepare
from lietsi.matching.pool import IDENTIFIED
from lietsi.matching.scoring import Scoring
from lietsi.matching.settings import MatchSettings
from lietsi.national.exports import CountryExports, qualified, read_exports
from lietsi.national.listing import far_terms, listed_batches


@dataclass(frozen=True)
class Frames:
    """The export frames as `identification.prepare` reads them (ids qualified by province)."""

    remains: pl.DataFrame
    remains_profiles: pl.DataFrame
    reference_profiles: pl.DataFrame
    candidates: pl.DataFrame
    martyrs: pl.DataFrame
    here: frozenset[str]  # provinces whose cemeteries sent remains
    rejected: pl.DataFrame  # remains_id, martyr_id: pairs a province's council rejected
    confirmed: pl.DataFrame  # national_remains_id, martyr_id: pairs a province's council confirmed


@dataclass(frozen=True)
class CountryMatch:
    result: MatchResult
    candidates: pl.DataFrame  # national.candidates
    identifications: pl.DataFrame  # national.identifications


def _qualify_places(frame: pl.DataFrame, columns: tuple[str, ...], province: str) -> pl.DataFrame:
    """Place texts that name no province are in `province` (a province's forms omit their own): the
    adapter writes it out, since the country has no one default province."""
    out = {}
    for column in columns:
        if column not in frame.columns:
            continue
        texts = frame[column].unique().drop_nulls().to_list()
        mapping = {}
        for text in texts:
            if not place_units(text)["province"] and place_units(text, province)["province"] == province:
                mapping[text] = f"{text}, {province}"
        out[column] = pl.col(column).replace(mapping) if mapping else pl.col(column)
    return frame.with_columns(**out) if out else frame


def _per_province(frame: pl.DataFrame, provinces: dict[str, str], columns: tuple[str, ...]) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    parts = [
        _qualify_places(part, columns, provinces[code])
        for (code,), part in frame.group_by("province_code", maintain_order=True)
    ]
    return pl.concat(parts, how="diagonal_relaxed")


def _council_martyr(column: str) -> pl.Expr:
    """The martyr a province's council decided on: its own (qualified here), or another province's
    as the national run named him to it (`<province_code>:<martyr_id>`, `lietsi.matching.council`)."""
    return (
        pl.when(pl.col(column).str.contains(":", literal=True))
        .then(pl.col(column))
        .otherwise(qualified(pl.col("province_code"), column))
    )


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, pl.String).alias(column)


def adapt(exports: CountryExports) -> Frames:
    """Export frames → the frames the matching library reads: martyr, remains, sample and line ids
    become `<province_code>:<id>`; references by sample id become relatives (the sample id stands
    for the donor) with their maternal candidates; place texts name their province."""
    provinces = dict(exports.provinces.select("province_code", "province").iter_rows())
    m = exports.martyrs
    martyrs = m.select(
        pl.col("national_martyr_id").alias("martyr_id"),
        *(
            _text(m, c)
            for c in (
                "full_name",
                "sex",
                "unit",
                "death_place",
                "cemetery",
                "grave_status",
                "hometown_commune",
                "hometown_district",
                "hometown_province",
            )
        ),
        _text(m, "birth_year").cast(pl.Int32, strict=False).alias("birth_year"),
        _text(m, "death_date").str.to_date(strict=False).alias("death_date"),
        _text(m, "death_date_precision"),
        pl.when(_text(m, "aliases").str.len_chars() > 0)
        .then(_text(m, "aliases").str.split(";"))
        .otherwise(pl.lit([], pl.List(pl.String)))
        .alias("aliases"),
        pl.col("province_code").replace_strict(provinces, default=None).alias("province"),
        "province_code",
    )
    martyrs = _per_province(martyrs, provinces, ("death_place",)).drop("province_code")
    r = exports.remains
    # A pair the province's council confirmed is settled: the remains is not matched again and the
    # martyr is no longer missing (his registry row may still say otherwise).
    confirmed = (
        r.filter(pl.col("council_confirmed_martyr_id").str.len_chars() > 0).select(
            "national_remains_id",
            _council_martyr("council_confirmed_martyr_id").alias("martyr_id"),
        )
        if "council_confirmed_martyr_id" in r.columns
        else pl.DataFrame(schema={"national_remains_id": pl.String, "martyr_id": pl.String})
    )
    martyrs = martyrs.with_columns(
        grave_status=pl.when(pl.col("martyr_id").is_in(confirmed["martyr_id"].implode()))
        .then(pl.lit(IDENTIFIED))
        .otherwise(pl.col("grave_status"))
    )
    remains_rows = r.select(
        pl.col("national_remains_id").alias("remains_id"),
        *(
            _text(r, c)
            for c in (
                "cemetery",
                "recovery_place",
                "artefacts",
                "est_sex",
                "est_age",
                "recovery_date_precision",
                "sample_id",
                "range",
                "haplotype",
            )
        ),
        _text(r, "recovery_date").str.to_date(strict=False).alias("recovery_date"),
        _text(r, "lat").cast(pl.Float64, strict=False).alias("lat"),
        _text(r, "lon").cast(pl.Float64, strict=False).alias("lon"),
        "province_code",
    )
    remains_rows = _per_province(remains_rows, provinces, ("cemetery", "recovery_place"))
    remains = remains_rows.select(
        "remains_id", "cemetery", "recovery_date", "recovery_date_precision", "recovery_place",
        "lat", "lon", "artefacts", "est_sex", "est_age",
    ).unique("remains_id", keep="first", maintain_order=True)  # fmt: skip
    remains_profiles = remains_rows.filter(
        pl.col("haplotype").is_not_null()
        & pl.col("range").is_not_null()
        & pl.col("remains_id").is_in(confirmed["national_remains_id"].implode()).not_()
    ).select(
        "remains_id", qualified(pl.col("province_code"), "sample_id").alias("sample_id"), "range", "haplotype"
    )
    refs = exports.references
    reference_profiles = refs.select(
        pl.col("national_sample_id").alias("relative_id"), "range", "haplotype", consent=pl.lit(True)
    ).unique("relative_id", keep="first", maintain_order=True)
    candidates = (
        refs.select(
            pl.col("national_sample_id").alias("relative_id"),
            qualified(pl.col("province_code"), "maternal_line_id").alias("maternal_line_id"),
            pl.col("martyr_ids").str.split(";").alias("martyr_id"),
            "province_code",
        )
        .explode("martyr_id")
        .filter(pl.col("martyr_id").str.len_chars() > 0)
        .select(
            "relative_id",
            "maternal_line_id",
            qualified(pl.col("province_code"), "martyr_id").alias("martyr_id"),
            shares_mtdna=pl.lit(True),
        )
    )
    rejected = (
        r.select(
            "national_remains_id",
            pl.col("council_rejected_martyr_ids").str.split(";").alias("martyr_id"),
            "province_code",
        )
        .explode("martyr_id")
        .filter(pl.col("martyr_id").str.len_chars() > 0)
        .select(
            pl.col("national_remains_id").alias("remains_id"),
            _council_martyr("martyr_id").alias("martyr_id"),
        )
        .unique()
        if "council_rejected_martyr_ids" in r.columns
        else pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String})
    )
    with_remains = exports.remains["province_code"].unique().to_list()
    return Frames(
        remains=remains,
        remains_profiles=remains_profiles,
        reference_profiles=reference_profiles,
        candidates=candidates,
        martyrs=martyrs,
        here=frozenset(provinces[c] for c in with_remains if c in provinces),
        rejected=rejected,
        confirmed=confirmed,
    )


def prepare_country(frames: Frames, settings: MatchSettings) -> Prepared:
    """Stage 1: references, lines, the country's pool, remains profiles, the frequency database."""
    return prepare(
        frames.remains,
        frames.remains_profiles,
        frames.reference_profiles,
        frames.candidates,
        frames.martyrs,
        settings,
        here=frames.here,
    )


def search(
    prepared: Prepared, settings: MatchSettings, rejected: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Stage 2: candidate search and the DNA comparison of each listed pair, and the sums of the
    candidates not listed (`listing`; None when `settings.listed_candidates` is None: every pair
    listed); a pair a province's council rejected (`Frames.rejected`) is no candidate, as in the
    province run."""

    def compared(
        found: pl.DataFrame | None = None, counted: DatabaseSide | None = None, sites: dict | None = None
    ) -> pl.DataFrame:
        pairs = candidate_pairs(prepared, settings, found=found, counted=counted, reference_sites=sites)
        return pairs if rejected is None else pairs.join(rejected, on=["remains_id", "martyr_id"], how="anti")

    if settings.listed_candidates is None:
        return compared(), None
    # Each batch's listed pairs are compared before the next batch is listed, so that the listing's
    # frames are not held at once. A remains is in one batch; the compared pairs are cut by ranges
    # of remains as they come, held compressed in memory (Arrow IPC, zstd: at 100% they are ~2.5 GB
    # as frames, next to the listing's batches) and each range sorted at the end: the order one
    # comparison of all of them gives, without a second copy of every pair.
    counted = database_side(prepared.database, settings.rules)
    # The references' sites found once for every batch (`dna.compare_pairs`).
    sites: dict = {}
    ids = prepared.remains_profiles.select("remains_id").unique().sort("remains_id")
    part_of = ids.with_columns(part=pl.int_range(pl.len(), dtype=pl.UInt32) * _SORTED_PARTS // pl.len())
    parts: dict[int, list[bytes]] = {}
    sums = []
    for listing in listed_batches(prepared, settings, counted):
        batch = compared(listing.found, counted, sites)
        cut = batch.join(part_of, on="remains_id").partition_by("part", as_dict=True, include_key=False)
        for (part,), rows in cut.items():
            packed = io.BytesIO()
            rows.write_ipc(packed, compression="zstd")
            parts.setdefault(part, []).append(packed.getvalue())
        sums.append(listing.far)
        empty = batch.clear()
    # The database's side, the references' sites and the last batch's frames.
    del counted, sites, listing, batch, cut
    pairs = pl.concat(
        [
            empty,
            *(
                pl.concat(map(pl.read_ipc, parts.pop(p))).sort("remains_id", "martyr_id")
                for p in sorted(parts)
            ),
        ]
    )
    # Each batch's sums are in `FAR_ORDER` and a remains' sums are in one batch: ordered by remains
    # alone (a stable sort of one column), they are in `FAR_ORDER`. At 100% the four-column sort of
    # the country's sums ran out of 11 GB (a 0.34 GB row encoding).
    return pairs, pl.concat(sums).sort("remains_id", maintain_order=True)


def weigh(
    prepared: Prepared, pairs: pl.DataFrame, settings: MatchSettings, far: pl.DataFrame | None = None
) -> Scoring:
    """Stage 3: every factor of each listed pair and its posterior over the country's pool, the
    candidates not listed in its denominator (`far`, `search`'s sums)."""
    return evidence(prepared, pairs, settings, far_terms(far) if far is not None else None)


def assign_country(
    prepared: Prepared, pairs: pl.DataFrame, scoring: Scoring, settings: MatchSettings
) -> MatchResult:
    """Stage 4: the per-pair decision and the one-to-one assignment over the whole country."""
    return decide(prepared, pairs, scoring, settings)


# Ranges of remains the compared pairs are sorted in (`search`): the sort holds 1/16 of them twice.
_SORTED_PARTS = 16

# A remains with more candidate martyrs than this lists those who fell in its recovery province and
# sums the others (`listing`); measured against listing every pair in docs/national_scale.md.
LISTED_CANDIDATES = 10


def national_settings(listed_candidates: int | None = LISTED_CANDIDATES) -> MatchSettings:
    """The province's settings, with a unit's area counted by military region: over the country a
    unit's dead are recorded by every province its men came from, across the provinces it fought in;
    and candidates listed one by one up to `listed_candidates` per remains (None: every pair)."""
    return MatchSettings(
        evidence=replace(EvidenceSettings(), unit_area_by_region=True), listed_candidates=listed_candidates
    )


def match_country(exports: CountryExports, settings: MatchSettings | None = None) -> CountryMatch:
    """The national run on validated exports (the four stages in turn); `national_settings` unless
    told otherwise."""
    settings = settings or national_settings()
    frames = adapt(exports)
    prepared = prepare_country(frames, settings)
    pairs, far = search(prepared, settings, frames.rejected)
    result = assign_country(prepared, pairs, weigh(prepared, pairs, settings, far), settings)
    identifications = national_identifications(result, exports, frames.confirmed)
    return CountryMatch(result, national_candidates(result.match_candidates).collect(), identifications)


def _province(column: str) -> pl.Expr:
    return pl.col(column).str.split(":").list.first()


_CANDIDATE_COLUMNS = (
    "differences", "verdict", "compared_range", "differing_sites", "x", "n", "lr", "lr_point",
    "lr_nongenetic", "lr_total", "prior_group", "prior", "posterior", "posterior_bound", "factors",
)  # fmt: skip


def national_candidates(scored: pl.DataFrame) -> pl.LazyFrame:
    """national.candidates: every scored pair, both provinces, its factors and posterior — as a
    plan: at 100% its 15 million rows with their texts as strings (the rules' sites, the excluding
    references) do not fit in memory beside the run, so the benchmark streams them to a file."""
    present = [c for c in _CANDIDATE_COLUMNS if c in scored.columns]
    return (
        scored.lazy()
        .select("remains_id", "martyr_id", "relative_id", *present)
        # Ties (brothers of one line score alike) in the martyrs' order: a total order (one row per
        # remains and martyr), the same file on every run.
        .sort(
            pl.col("remains_id").cast(pl.String),
            "posterior",
            pl.col("martyr_id").cast(pl.String),
            descending=[False, True, False],
            nulls_last=True,
        )
        .select(
            _province("remains_id").alias("remains_province_code"),
            pl.col("remains_id").alias("national_remains_id"),
            _province("martyr_id").alias("martyr_province_code"),
            pl.col("martyr_id").alias("national_martyr_id"),
            pl.col("relative_id").alias("reference_sample_id"),
            *present,
        )
        .with_columns(
            # The pairs' repeated texts may be categories in memory (`benchmarks.national_scale`): the
            # table holds them as text.
            pl.col(pl.Categorical).cast(pl.String)
        )
    )


def national_identifications(
    result: MatchResult, exports: CountryExports, confirmed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """national.identifications: one row per remains with a candidate (proposed / needs_review), both
    provinces, the martyr's name and the remains' cemetery (what a council reads first); and each
    pair a province's council confirmed for another province's martyr (`confirmed`), which that
    martyr's province learns from its return."""
    ids = result.identifications
    if confirmed is not None and confirmed.height:
        across = confirmed.rename({"national_remains_id": "remains_id"}).filter(
            _province("remains_id") != _province("martyr_id")
        )
        why = {
            code: (reasons.text(reasons.encode([r])), reasons.encode([r]))
            for code in across.select(_province("remains_id"))["remains_id"].unique().to_list()
            for r in [reasons.reason("council.confirmed_where_remains_lie", province_code=code)]
        }
        ids = pl.concat(
            [
                ids,
                across.with_columns(
                    status=pl.lit("confirmed"),
                    reasons=_province("remains_id").replace_strict({c: v[0] for c, v in why.items()}),
                    reason_codes=_province("remains_id").replace_strict({c: v[1] for c, v in why.items()}),
                ),
            ],
            how="diagonal_relaxed",
        )
    names = exports.martyrs.select("national_martyr_id", martyr_name=_text(exports.martyrs, "full_name"))
    cemeteries = exports.remains.unique("national_remains_id", keep="first").select(
        "national_remains_id", *(c for c in ("cemetery",) if c in exports.remains.columns)
    )
    out = ids.select(
        _province("remains_id").alias("remains_province_code"),
        pl.col("remains_id").alias("national_remains_id"),
        pl.col("remains_id").str.splitn(":", 2).struct.field("field_1").alias("remains_id"),
        _province("martyr_id").alias("martyr_province_code"),
        pl.col("martyr_id").alias("national_martyr_id"),
        pl.col("martyr_id").str.splitn(":", 2).struct.field("field_1").alias("martyr_id"),
        "status", "posterior", "posterior_bound", "reasons", "reason_codes", "review_rank", "evidence",
    )  # fmt: skip
    if "cemetery" not in cemeteries.columns:
        cemeteries = cemeteries.with_columns(cemetery=pl.lit(None, pl.String))
    return (
        out.join(names, on="national_martyr_id", how="left")
        .join(cemeteries, on="national_remains_id", how="left")
        .with_columns(out_of_province=pl.col("remains_province_code") != pl.col("martyr_province_code"))
        .sort("national_remains_id")
    )


__all__ = ["CountryExports", "CountryMatch", "match_country", "read_exports"]
