"""From profiles, kinship and records to scored (remains, martyr) candidates.

1. References: profiles of relatives who share the martyr's mtDNA (`shares_mtdna` true) and
   consented to give a sample. Relatives without recorded consent are never compared.
2. Maternal lines: martyrs and relatives joined by a shared reference form one line (two brothers
   and their sister are one line); the frequency database holds one profile per line.
3. DNA: every (remains, reference) pair within one difference from the deletion-key index
   (`candidate_search`), re-compared by the forensic rules (`matching.compare`); the martyr's
   verdict is his best reference's, and a reference of his that excludes is flagged.
4. Evidence: the DNA LR and the non-genetic factors (`evidence`), each against the pool of missing
   martyrs; posterior over the pool with the "nobody in the pool" hypothesis.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

import polars as pl

from lietsi.dates import from_columns
from lietsi.geo import haversine_km
from lietsi.lab.comparison import Comparison, ComparisonRules, compare
from lietsi.lab.frequencies import relative_lines
from lietsi.lab.mtdna import format_range, intersect_ranges, parse_range, parse_variants, range_length
from lietsi.matching.candidate_search import find_candidates
from lietsi.matching.council import Council, decision_identifications, no_decisions
from lietsi.matching.evidence import (
    Candidate,
    EvidenceSettings,
    Factor,
    PriorModel,
    RemainsTerms,
    age_factor,
    artefact_name_factor,
    date_factor,
    distance_band,
    distance_factor,
    dna_factor,
    estimate,
    hometown_factor,
    inscriptions,
    numerator_tables,
    parse_age_range,
    place_factor,
    place_level,
    place_relation,
    posteriors,
    sex_factor,
    stated_prior,
    unit_area_factor,
    with_numerators,
)
from lietsi.names import key_variant
from lietsi.places import most_common_province, parse_place, place_key, province_of, unit_point
from lietsi.reasons import encode, reason
from lietsi.reasons import text as reason_text

IDENTIFIED = "Đã xác định"


@dataclass(frozen=True)
class MatchSettings:
    rules: ComparisonRules = field(default_factory=ComparisonRules)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    # Prior share of register remains belonging to no missing martyr of the pool (martyrs of other
    # provinces, civilians): a setting, since nothing in the inputs measures it without bias.
    p_outside: float = 0.5
    # Prior weight of a missing martyr by grave status: register remains are gathered remains, so a
    # martyr recorded as not yet gathered (`Chưa quy tập`) is a less likely owner (records lag).
    status_weights: tuple[tuple[str, float], ...] = (("Chưa xác định", 1.0), ("Chưa quy tập", 0.25))
    default_status_weight: float = 1.0
    # `proposed`: the pair's posterior with the DNA frequency at its 95% upper bound ≥
    # proposed_threshold, no excluding reference, no competitor (docs/matching.md §6).
    proposed_threshold: float = 0.99
    review_threshold: float = 0.05
    # Re-estimate the numerators and p_outside on the province's own remains (EM, Fellegi–Sunter
    # style; `evidence.estimate_numerators`), the stated values as a prior worth this many remains.
    estimate_numerators: bool = True
    numerator_prior_strength: float = 20.0
    # The best estimate of a haplotype's frequency: the median-unbiased (50%) Clopper–Pearson bound.
    # It weighs the DNA inside the estimate (a mixture fitted on deliberately low DNA weights would
    # over-state p_outside) and in `posterior`, the calibrated probability decisions rest on; the
    # reported `lr` and `posterior_bound` keep the 95% bound (SWGDAM).
    estimation_confidence: float = 0.5
    # θ of the best estimate. θ = 0.01 (`EvidenceSettings.theta`) is NRC II's conservative ceiling
    # for village structure, not an estimate of it: kept in `lr` and `posterior_bound`, which the
    # decision reads, it made `posterior` and the estimate under-confident (a match capped below
    # LR 100 made true pairs look half-likely and pushed p_outside up; docs/matching.md §9).
    # The best estimate of a random other line's match probability is the database frequency.
    estimation_theta: float = 0.0


# --- references and maternal lines ----------------------------------------------------------------


def relative_consent(phieu_02: pl.DataFrame, relative_links: pl.DataFrame) -> pl.DataFrame:
    """relative_id, consent: true when the donor's form 02 rows say `Có` and none says `Không`;
    false when one says `Không`; null when never asked. Form 01 records no consent."""
    rows = phieu_02.select(
        pl.lit("phieu_02").alias("source"),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "consent",
    )
    links = relative_links.select(
        pl.col("source").cast(pl.String),
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "relative_id",
    )
    return (
        rows.join(links, on=["source", "file", "row_number"])
        .group_by("relative_id")
        .agg(
            pl.when((pl.col("consent") == "Không").any())
            .then(False)
            .when((pl.col("consent") == "Có").any())
            .then(True)
            .otherwise(None)
            .alias("consent")
        )
    )


def reference_table(
    reference_profiles: pl.DataFrame, candidates: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(references, refused) from relatives' profiles and maternal candidates.

    reference_profiles: relative_id, range, haplotype, consent (bool; null = not recorded).
    candidates: martyr_id, relative_id, shares_mtdna.
    references: relative_id, martyr_id, line_id, range, haplotype (one row per martyr served).
    refused: profiles set aside (no consent, or no martyr whose mtDNA they share), with the reason
    (Vietnamese) and its code (`reason_codes`, `lietsi.reasons`).
    """
    prof = reference_profiles.select("relative_id", "range", "haplotype", "consent")
    no_consent = prof.filter(pl.col("consent").fill_null(False).not_())
    usable = prof.filter(pl.col("consent").fill_null(False))
    sharing = (
        candidates.filter(pl.col("shares_mtdna").fill_null(False)).select("martyr_id", "relative_id").unique()
    )
    refs = usable.join(sharing, on="relative_id")
    unlinked = usable.join(sharing, on="relative_id", how="anti")
    refused = pl.concat(
        [
            no_consent.select("relative_id", **_reason_columns([reason("refusal.no_consent")])),
            unlinked.select("relative_id", **_reason_columns([reason("refusal.no_martyr")])),
        ]
    )
    line_of = relative_lines(candidates)
    refs = refs.with_columns(
        pl.col("relative_id").replace_strict(line_of, default=None, return_dtype=pl.String).alias("line_id")
    ).select("relative_id", "martyr_id", "line_id", "range", "haplotype")
    return refs, refused


# --- DNA ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _profile(range_text: str, haplotype: str):
    return parse_range(range_text), parse_variants(haplotype)


@lru_cache(maxsize=200_000)
def compare_profiles(
    a_range: str, a_hap: str, b_range: str, b_hap: str, rules: ComparisonRules
) -> Comparison:
    ra, va = _profile(a_range, a_hap or "")
    rb, vb = _profile(b_range, b_hap or "")
    return compare(va, ra, vb, rb, rules)


@dataclass(frozen=True)
class Database:
    """A population database of mtDNA profiles, one per maternal line: what x and n count."""

    name: str
    version: str
    profiles: pl.DataFrame  # line_id, range, haplotype


def database_version(profiles: pl.DataFrame) -> str:
    """A digest of the database's content: the same profiles give the same version."""
    digest = hashlib.sha256()
    for row in profiles.select("line_id", "range", "haplotype").sort("line_id").iter_rows():
        digest.update("\t".join(str(v) for v in row).encode() + b"\n")
    return digest.hexdigest()[:12]


def province_database(population: pl.DataFrame, candidates: pl.DataFrame) -> Database:
    """The province's database: profiles of relatives who consented (a donor who did not is never
    processed), one per maternal line (its smallest relative id); a relative on no recorded line is
    a line of their own. population: relative_id, range, haplotype, consent."""
    line_of = relative_lines(candidates)
    members = (
        population.filter(pl.col("consent").fill_null(False))
        .with_columns(
            line_id=pl.col("relative_id")
            .replace_strict(line_of, default=None, return_dtype=pl.String)
            .fill_null(pl.lit("relative:") + pl.col("relative_id"))
        )
        .sort("relative_id")
        .unique("line_id", keep="first", maintain_order=True)
        .select("line_id", "range", "haplotype")
    )
    name = "province references (consenting relatives, one per maternal line)"
    return Database(name, database_version(members), members)


def dna_pairs(
    remains_profiles: pl.DataFrame,
    refs: pl.DataFrame,
    database: Database,
    rules: ComparisonRules,
    independent: Database | None = None,
) -> pl.DataFrame:
    """(remains, martyr) pairs within one difference on the martyr's best reference, with the
    database count x and size n counted for that pair (`pair_counts`)."""
    rp = remains_profiles.select(id="remains_id", range="range", haplotype="haplotype")
    ref_profiles = refs.unique("relative_id").select(id="relative_id", range="range", haplotype="haplotype")
    found = find_candidates(rp, ref_profiles, rules).rename({"id_a": "remains_id", "id_b": "relative_id"})
    prof = remains_profiles.select("remains_id", r_range="range", r_hap="haplotype")
    pairs = found.join(
        refs.select("relative_id", "martyr_id", "line_id", "range", "haplotype"), on="relative_id"
    ).join(prof, on="remains_id")
    rows = []
    for rec in pairs.iter_rows(named=True):
        c = compare_profiles(rec["r_range"], rec["r_hap"], rec["range"], rec["haplotype"], rules)
        rows.append(
            {
                "remains_id": rec["remains_id"],
                "martyr_id": rec["martyr_id"],
                "relative_id": rec["relative_id"],
                "line_id": rec["line_id"],
                "reference_range": rec["range"],
                "differences": c.differences,
                "verdict": c.verdict,
                "compared_range": format_range(c.compared_range) if c.compared_range else "",
                "differing_sites": "; ".join(s.label for s in c.sites),
                "heteroplasmies": "; ".join(s.label for s in c.concordant_heteroplasmies),
                "ignored": "; ".join(f"{v} ({why})" for v, why in c.ignored),
            }
        )
    schema = {
        "remains_id": pl.String, "martyr_id": pl.String, "relative_id": pl.String, "line_id": pl.String,
        "reference_range": pl.String, "differences": pl.Int64, "verdict": pl.String,
        "compared_range": pl.String, "differing_sites": pl.String, "heteroplasmies": pl.String,
        "ignored": pl.String,
    }  # fmt: skip
    compared = pl.DataFrame(rows, schema=schema).filter(pl.col("verdict") != "not_comparable")
    best = (
        compared.sort(["remains_id", "martyr_id", "differences", "relative_id"])
        .group_by("remains_id", "martyr_id", maintain_order=True)
        .agg(pl.all().first(), n_references_matching=pl.len())
    )
    best = best.join(
        _reference_conflicts(remains_profiles, refs, best, rules), on=["remains_id", "martyr_id"], how="left"
    )
    best = best.join(pair_counts(best, remains_profiles, database, rules), on=["remains_id", "line_id",
        "compared_range"], how="left", nulls_equal=True)  # fmt: skip
    if independent is not None:
        other = pair_counts(best, remains_profiles, independent, rules, own_line=False).select(
            "remains_id", "line_id", "compared_range", x_independent="x", n_independent="n",
            independent_database="database", independent_version="database_version",
        )  # fmt: skip
        best = best.join(other, on=["remains_id", "line_id", "compared_range"], how="left", nulls_equal=True)
    return best


def pair_counts(
    pairs: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    database: Database,
    rules: ComparisonRules,
    own_line: bool = True,
) -> pl.DataFrame:
    """x and n of each pair (remains_id, line_id, compared_range), counted on the range compared
    (remains ∩ reference): n the database profiles that read all of it, x those of them that
    cannot be excluded from the remains on it. The pair's own maternal line is the case, not the
    population (SWGDAM: frequencies from a database independent of the case): when the database
    holds it, it leaves n and, if it matches, x (`own_line_removed`)."""
    keys = pairs.select("remains_id", "line_id", "compared_range").unique()
    schema = {"remains_id": pl.String, "line_id": pl.String, "compared_range": pl.String, "x": pl.Int64,
              "n": pl.Int64, "own_line_removed": pl.Boolean, "database": pl.String,
              "database_version": pl.String}  # fmt: skip
    if keys.is_empty():
        return pl.DataFrame(schema=schema)
    haplotype = dict(remains_profiles.select("remains_id", "haplotype").iter_rows())
    queries = keys.select("remains_id", "compared_range").unique()
    query_frame = queries.select(
        id=pl.col("remains_id") + "\t" + pl.col("compared_range"),
        range="compared_range",
        haplotype=pl.col("remains_id").replace_strict(haplotype, return_dtype=pl.String).fill_null(""),
    )
    members = database.profiles.select(id="line_id", range="range", haplotype="haplotype")
    member_range = dict(members.select("id", "range").iter_rows())

    @lru_cache(maxsize=4096)
    def reads_all(compared: str, member: str) -> bool:
        wanted = parse_range(compared)
        return range_length(intersect_ranges(wanted, parse_range(member))) == range_length(wanted)

    n_of = {
        compared: sum(
            count for rg, count in Counter(member_range.values()).items() if reads_all(compared, rg)
        )
        for compared in queries["compared_range"].unique().to_list()
    }
    matched: dict[tuple[str, str], set[str]] = {}
    for query, line, _ in find_candidates(query_frame, members, rules, max_differences=0).iter_rows():
        remains_id, compared = query.split("\t")
        if reads_all(compared, member_range[line]):
            matched.setdefault((remains_id, compared), set()).add(line)
    rows = []
    for remains_id, line_id, compared in keys.iter_rows():
        hits = matched.get((remains_id, compared), set())
        own = own_line and line_id in member_range and reads_all(compared, member_range[line_id])
        x = len(hits) - (own and line_id in hits)
        rows.append((remains_id, line_id, compared, x, n_of[compared] - own, own, database.name,
                     database.version))  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def not_comparable_martyrs(
    remains_profiles: pl.DataFrame, refs: pl.DataFrame, rules: ComparisonRules
) -> dict[str, list[str]]:
    """remains_id → sampled martyrs none of whose references shares `rules.min_overlap` positions
    with the remains' range. Such a pair cannot be compared: for that remains the martyr counts as
    unsampled (DNA LR 1, his place and prior as for any martyr without a reference), never as
    excluded."""
    ranges_of: dict[str, set[str]] = {}
    for martyr_id, rg in refs.select("martyr_id", "range").unique().iter_rows():
        ranges_of.setdefault(martyr_id, set()).add(rg)

    @lru_cache(maxsize=4096)
    def overlap(a: str, b: str) -> int:
        return range_length(intersect_ranges(parse_range(a), parse_range(b)))

    by_range: dict[str, list[str]] = {}
    out: dict[str, list[str]] = {}
    for remains_id, rg in remains_profiles.select("remains_id", "range").iter_rows():
        if rg not in by_range:
            by_range[rg] = sorted(
                m for m, rgs in ranges_of.items() if all(overlap(rg, o) < rules.min_overlap for o in rgs)
            )
        if by_range[rg]:
            out[remains_id] = by_range[rg]
    return out


def merge_remains_samples(
    remains_profiles: pl.DataFrame, rules: ComparisonRules
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Several samples of one remains (two bones, a re-test) are compared with each other. When
    they agree (no difference on the range both read) the remains is matched on the one read over
    the longest range; when any two differ the remains is not matched at all (two people in one
    grave, or a contaminated sample) and is returned with the reason for the lab.
    Returns (one profile per remains, discordant remains: remains_id, reason, reason_codes)."""
    frame = remains_profiles
    if "sample_id" not in frame.columns:
        frame = frame.with_columns(sample_id=pl.col("remains_id") + "#" + pl.int_range(pl.len()).cast(str))
    kept: list[dict] = []
    discordant: list[tuple[str, str | None, str | None]] = []
    for _, group in frame.sort("remains_id", "sample_id").group_by("remains_id", maintain_order=True):
        samples = group.to_dicts()
        conflicts = []
        for a, b in itertools.combinations(samples, 2):
            c = compare_profiles(a["range"], a["haplotype"], b["range"], b["haplotype"], rules)
            if c.differences:
                sites = "; ".join(s.label for s in c.sites)
                conflicts.append(f"{a['sample_id']} / {b['sample_id']} differ at {sites}")
        if conflicts:
            codes = [reason("outcome.discordant_samples", conflicts="; ".join(conflicts))]
            discordant.append((samples[0]["remains_id"], reason_text(codes), encode(codes)))
        else:
            longest = max(range_length(parse_range(r["range"])) for r in samples)
            kept.append(next(r for r in samples if range_length(parse_range(r["range"])) == longest))
    merged = pl.DataFrame(kept, schema=frame.schema) if kept else frame.clear()
    return merged.select(remains_profiles.columns), pl.DataFrame(
        discordant,
        schema={"remains_id": pl.String, "reason": pl.String, "reason_codes": pl.String},
        orient="row",
    )


def _reference_conflicts(
    remains_profiles: pl.DataFrame, refs: pl.DataFrame, best: pl.DataFrame, rules: ComparisonRules
) -> pl.DataFrame:
    """For each candidate pair, the martyr's other references that exclude the remains."""
    prof = {
        r: (rg, h) for r, rg, h in remains_profiles.select("remains_id", "range", "haplotype").iter_rows()
    }
    by_martyr: dict[str, list[tuple[str, str, str]]] = {}
    for rel, m, rg, h in refs.select("relative_id", "martyr_id", "range", "haplotype").iter_rows():
        by_martyr.setdefault(m, []).append((rel, rg, h))
    rows = []
    for remains_id, martyr_id in best.select("remains_id", "martyr_id").iter_rows():
        r_range, r_hap = prof[remains_id]
        excluding = [
            rel
            for rel, rg, h in by_martyr.get(martyr_id, [])
            if compare_profiles(r_range, r_hap, rg, h, rules).verdict == "exclusion"
        ]
        rows.append((remains_id, martyr_id, ", ".join(sorted(excluding)) or None))
    return pl.DataFrame(
        rows,
        schema={"remains_id": pl.String, "martyr_id": pl.String, "excluding_references": pl.String},
        orient="row",
    )


# --- the pool of missing martyrs -------------------------------------------------------------------


@dataclass
class Pool:
    """The missing martyrs: who the remains could be, their places of death and names."""

    size: int
    # martyr_id → key of his place: the recorded place of death, or his local unit's area when finer
    martyr_place_key: dict[str, str]
    martyr_place_source: dict[str, str]  # martyr_id → `death` or `unit`
    key_places: dict[str, dict[str, str | None]]  # place key → parsed admin units
    centroids: dict[str, tuple[float, float]]  # martyr_id → centroid of the death place
    given: Counter
    full: Counter
    hometown: Counter
    death_province_all: Counter  # over all martyrs (unit areas need every recorded death)
    unit_provinces: dict[str, Counter]


@dataclass
class Register:
    """The register's remains as the reference population: P(observation | the remains are someone
    else) is measured here, since the observations (estimated sex and age, recovery place, date
    and coordinates) describe remains, and remains of nobody in the pool are among them."""

    sex: Counter
    age_ranges: list[tuple[int, int]]  # the register's age estimates
    recovery_last: list[date]  # sorted latest days of the recovery dates
    places: Counter  # recovery place key → remains
    key_places: dict[str, dict[str, str | None]]
    points: list[tuple[float, float]]
    place_share_cache: dict[str, dict[tuple[int, str], float]] = field(default_factory=dict)
    band_share_cache: dict[tuple[float, float], tuple[float, ...]] = field(default_factory=dict)
    age_share_cache: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)

    def sex_share(self, est: str) -> float | None:
        total = sum(self.sex.values())
        return self.sex[est] / total if total else None

    def age_shares(self, age: int, tolerance: int) -> dict[str, float] | None:
        """Shares of the estimates containing `age`, containing it only within the tolerance, not."""
        if not self.age_ranges:
            return None
        cached = self.age_share_cache.get((age, tolerance))
        if cached is None:
            n = len(self.age_ranges)
            inside = sum(lo <= age <= hi for lo, hi in self.age_ranges) / n
            widened = sum(lo - tolerance <= age <= hi + tolerance for lo, hi in self.age_ranges) / n
            cached = {"inside": inside, "near": widened - inside, "outside": 1 - widened}
            self.age_share_cache[(age, tolerance)] = cached
        return cached

    def before_share(self, death: date) -> float | None:
        if not self.recovery_last:
            return None
        return bisect.bisect_left(self.recovery_last, death) / len(self.recovery_last)

    def place_shares(self, death_key: str, death: dict[str, str | None]) -> dict[tuple[int, str], float]:
        """P(outcome | level) over the register's recovery places, against one place of death."""
        cached = self.place_share_cache.get(death_key)
        if cached is not None:
            return cached
        counts: Counter = Counter()
        for key, n in self.places.items():
            relation = place_relation(key, self.key_places[key], death_key, death)
            if relation:
                counts[relation] += n
        by_level: Counter = Counter()
        for (level, _), n in counts.items():
            by_level[level] += n
        shares = {rel: n / by_level[rel[0]] for rel, n in counts.items()}
        self.place_share_cache[death_key] = shares
        return shares

    def band_shares(self, centroid: tuple[float, float], s: EvidenceSettings) -> tuple[float, ...]:
        cached = self.band_share_cache.get(centroid)
        if cached is None:
            bands = Counter(distance_band(haversine_km(*p, *centroid), s) for p in self.points)
            n = max(len(self.points), 1)
            cached = tuple(bands[i] / n for i in range(len(s.distance_bands_km) + 1))
            self.band_share_cache[centroid] = cached
        return cached


CAMBODIA = "Campuchia"
# Cambodian provinces as Vietnamese records write them (ascii keys): where the 1977–1989 dead fell
# and where repatriated remains were found. `chiến trường K` is the army's name for Cambodia.
_CAMBODIAN_PROVINCES = {
    "banteay meanchey": "Banteay Meanchey", "battambang": "Battambang", "bat tam bang": "Battambang",
    "kampong cham": "Kampong Cham", "kong pong cham": "Kampong Cham", "kampong chhnang": "Kampong Chhnang",
    "kampong speu": "Kampong Speu", "kampong thom": "Kampong Thom", "kampot": "Kampot", "cam pot": "Kampot",
    "kandal": "Kandal", "kep": "Kep", "koh kong": "Koh Kong", "kratie": "Kratie", "mondulkiri": "Mondulkiri",
    "oddar meanchey": "Oddar Meanchey", "pailin": "Pailin", "phnom penh": "Phnom Penh",
    "nong penh": "Phnom Penh", "preah sihanouk": "Preah Sihanouk", "kompong som": "Preah Sihanouk",
    "preah vihear": "Preah Vihear", "prey veng": "Prey Veng", "pursat": "Pursat", "poc xat": "Pursat",
    "ratanakiri": "Ratanakiri", "siem reap": "Siem Reap", "xiem riep": "Siem Reap",
    "stung treng": "Stung Treng", "svay rieng": "Svay Rieng", "svay rien": "Svay Rieng", "takeo": "Takeo",
    "ta keo": "Takeo", "tbong khmum": "Tbong Khmum",
}  # fmt: skip
_CAMBODIA_WORDS = re.compile(r"\b(campuchia|cam pu chia|cambodia|chien truong k|quoc te)\b")
# A front (mặt trận, chiến trường) or a border names a war region, not an admin unit: `Mặt trận U
# Minh` spans two provinces and is not the district U Minh.
_FRONT_WORDS = re.compile(r"^(mat tran|chien truong|bien gioi|mien)\b")


def _place_dict(text: str | None, default_province: str | None = None) -> dict[str, str | None]:
    """Admin units of a place; Cambodia is one more `province` whose provinces are `districts`;
    a front is not placed (compared as text)."""
    key = place_key(text)
    cambodian = next((name for k, name in _CAMBODIAN_PROVINCES.items() if f" {k} " in f" {key} "), None)
    if cambodian or _CAMBODIA_WORDS.search(key):
        return {"commune": None, "district": cambodian, "province": CAMBODIA}
    if _FRONT_WORDS.match(key):
        return {"commune": None, "district": None, "province": None}
    p = parse_place(text, default_province)
    return {"commune": p.commune, "district": p.district, "province": p.province}


_GUERRILLA = re.compile(r"^(?:du kich|dk)\s+(.+)$")
_DISTRICT_TROOPS = re.compile(r"^(?:doi|h doi|thi doi|thanh doi)\s+(.+)$")


def unit_place(
    unit: str | None, default_province: str | None, communes: dict[str, set[tuple[str, str]]]
) -> dict[str, str | None] | None:
    """Where a local unit fought: `Du kích xã X` (commune guerrillas) in commune X of the province,
    `Huyện đội Y` / `H.đội Y` (district troops) in district Y. `communes`: ascii commune name →
    (district, commune) known in the province; an ambiguous commune name gives nothing."""
    key = place_key(unit)
    if not key or not default_province:
        return None
    m = _GUERRILLA.match(key)
    if m:
        found = communes.get(m.group(1), set())
        if len(found) != 1:
            return None
        district, commune = next(iter(found))
        return {"commune": commune, "district": district, "province": default_province}
    m = _DISTRICT_TROOPS.match(key)
    if m:
        p = parse_place(m.group(1), default_province)
        if p.district and p.province == default_province:
            return {"commune": None, "district": p.district, "province": p.province}
    return None


def commune_index(martyrs: pl.DataFrame, province: str | None) -> dict[str, set[tuple[str, str]]]:
    """ascii commune name → (district, commune) of the province, from the martyrs' hometowns."""
    index: dict[str, set[tuple[str, str]]] = {}
    if not province or "hometown_commune" not in martyrs.columns:
        return index
    rows = martyrs.filter(pl.col("hometown_province") == province).select(
        "hometown_district", "hometown_commune"
    )
    for district, commune in rows.unique().iter_rows():
        if district and commune:
            index.setdefault(place_key(commune), set()).add((district, commune))
    return index


def _age_at_death(birth_year: int | None, death: date | None) -> int | None:
    if birth_year is None or death is None:
        return None
    age = death.year - int(birth_year)
    return age if 10 <= age <= 80 else None


def _given_key(name: str | None) -> str | None:
    key = key_variant(name or "")
    return key.split()[-1] if key else None


def build_pool(martyrs: pl.DataFrame, default_province: str | None = None) -> tuple[pl.DataFrame, Pool]:
    """(missing martyrs, their statistics); missing = grave not identified (`Đã xác định`)."""
    missing = martyrs.filter(pl.col("grave_status").fill_null("") != IDENTIFIED)
    martyr_key: dict[str, str] = {}
    martyr_source: dict[str, str] = {}
    key_places: dict[str, dict[str, str | None]] = {}
    centroids: dict[str, tuple[float, float]] = {}
    communes = commune_index(martyrs, default_province)
    units = missing["unit"] if "unit" in missing.columns else pl.Series([None] * missing.height)
    for (mid, text), unit in zip(missing.select("martyr_id", "death_place").iter_rows(), units, strict=True):
        key = place_key(text)
        if key and key not in key_places:
            key_places[key] = _place_dict(text, default_province)
        death = key_places.get(key, {})
        source = "death"
        local = unit_place(unit, default_province, communes)
        if local and _finer_and_consistent(local, death):
            key, source = f"unit {place_key(unit)}", "unit"
            key_places[key] = local
            death = local
        martyr_key[mid] = key
        martyr_source[mid] = source
        if not key:
            continue
        centroid = unit_point(death["commune"], death["district"], death["province"])
        if centroid:
            centroids[mid] = centroid
    unit_provinces: dict[str, Counter] = {}
    death_province_all: Counter = Counter()
    for unit, text in martyrs.select("unit", "death_place").iter_rows():
        province = parse_place(text, default_province).province
        if province:
            death_province_all[province] += 1
            if unit:
                unit_provinces.setdefault(unit, Counter())[province] += 1
    pool = Pool(
        size=missing.height,
        martyr_place_key=martyr_key,
        martyr_place_source=martyr_source,
        key_places=key_places,
        centroids=centroids,
        given=Counter(g for g in (_given_key(n) for n in missing["full_name"].to_list()) if g),
        full=Counter(k for k in (key_variant(n or "") for n in missing["full_name"].to_list()) if k),
        hometown=Counter(c for c in missing["hometown_commune"].to_list() if c),
        death_province_all=death_province_all,
        unit_provinces=unit_provinces,
    )
    return missing, pool


def _finer_and_consistent(local: dict[str, str | None], death: dict[str, str | None]) -> bool:
    """A unit's area replaces the recorded place of death when it is finer and inside it (or the
    record names only a front)."""
    if place_level(local) <= place_level(death):
        return False
    if not death.get("province"):
        return True
    if death["province"] != local["province"]:
        return False
    return not death.get("district") or death["district"] == local["district"]


# --- evidence per pair -------------------------------------------------------------------------------


def remains_features(remains: pl.DataFrame, default_province: str | None = None) -> dict[str, dict]:
    """Parsed recovery place, cemetery province, dates, age range, inscriptions per remains."""
    default = default_province or (
        most_common_province(remains["recovery_place"]) if remains.height else None
    )
    out: dict[str, dict] = {}
    for rec in remains.iter_rows(named=True):
        recovery = from_columns(rec.get("recovery_date"), rec.get("recovery_date_precision"))
        cemetery = parse_place(rec.get("cemetery"), default)
        out[rec["remains_id"]] = {
            **rec,
            "place": _place_dict(rec.get("recovery_place"), default),
            "place_key": place_key(rec.get("recovery_place")),
            "cemetery_province": cemetery.province,
            "recovery": recovery.value if recovery else None,
            "recovery_last": recovery.last_day() if recovery else None,
            "age_range": parse_age_range(rec.get("est_age")),
            "inscriptions": inscriptions(rec.get("artefacts")),
        }
    return out


def build_register(features: dict[str, dict], s: EvidenceSettings) -> Register:
    places: Counter = Counter()
    key_places: dict[str, dict[str, str | None]] = {}
    for r in features.values():
        if r["place_key"]:
            places[r["place_key"]] += 1
            key_places.setdefault(r["place_key"], r["place"])
    return Register(
        sex=Counter(r["est_sex"] for r in features.values() if r.get("est_sex")),
        age_ranges=[r["age_range"] for r in features.values() if r["age_range"]],
        recovery_last=sorted(
            r["recovery_last"] or r["recovery"] for r in features.values() if r["recovery"] is not None
        ),
        places=places,
        key_places=key_places,
        points=[
            (float(r["lat"]), float(r["lon"]))
            for r in features.values()
            if r.get("lat") is not None and r.get("lon") is not None
        ],
    )


def nongenetic_factors(r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings) -> list[Factor]:
    """Every non-genetic factor for remains r and martyr m (rows as dicts)."""
    factors: list[Factor] = []
    est_sex = r.get("est_sex")
    factors.append(sex_factor(est_sex, m.get("sex"), reg.sex_share(est_sex) if est_sex else None, s))

    death = m.get("death_date")
    age = _age_at_death(m.get("birth_year"), death)
    shares = reg.age_shares(age, s.age_tolerance_years) if r["age_range"] and age is not None else None
    factors.append(age_factor(r["age_range"], age, shares, s))

    factors.append(_place_or_distance(r, m, pool, reg, s))
    factors.append(
        date_factor(r["recovery"], r["recovery_last"], death, reg.before_share(death) if death else None, s)
    )
    factors.append(_unit_area(r, m, pool, s))

    names = [m.get("full_name") or "", *(m.get("aliases") or [])]
    given = _given_key(m.get("full_name"))
    full = key_variant(m.get("full_name") or "")
    factors.append(
        artefact_name_factor(
            r["inscriptions"],
            names,
            pool.given[given] / pool.size if given and pool.size else None,
            pool.full[full] / pool.size if full and pool.size else None,
            s,
            max(
                (pool.given[_given_key(a)] / pool.size for a in m.get("aliases") or [] if _given_key(a)),
                default=None,
            )
            if pool.size
            else None,
        )
    )
    home = m.get("hometown_commune")
    factors.append(
        hometown_factor(
            r.get("artefacts"),
            home,
            m.get("hometown_district"),
            pool.hometown[home] / pool.size if home and pool.size else None,
            s,
        )
    )
    return factors


def _unit_area(r: dict, m: dict, pool: Pool, s: EvidenceSettings) -> Factor:
    """Where the martyr's unit lost its men, when his own record places his death in no province
    (a front): with a placed death the place factor already says it, and counting the unit too
    would count one fact twice."""
    death = pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {})
    if death.get("province"):
        return Factor(
            "unit_area",
            1.0,
            [reason("factor.unit_area_place_known")],
        )
    cem = r["cemetery_province"]
    unit = m.get("unit")
    unit_counts = pool.unit_provinces.get(unit or "", Counter())
    all_deaths = sum(pool.death_province_all.values())
    return unit_area_factor(
        cem,
        unit,
        unit_counts[cem] if cem else 0,
        sum(unit_counts.values()),
        pool.death_province_all[cem] / all_deaths if cem and all_deaths else None,
        s,
    )


def _place_or_distance(r: dict, m: dict, pool: Pool, reg: Register, s: EvidenceSettings) -> Factor:
    """The recovery place against the recorded place of death. The texts and their admin units come
    first; the distance from the recovery coordinates only when the register gives no recovery place
    text (one factor, not both: they measure the same thing)."""
    death_key = pool.martyr_place_key.get(m["martyr_id"], "")
    lat, lon = r.get("lat"), r.get("lon")
    centroid = pool.centroids.get(m["martyr_id"])
    if not r["place_key"] and lat is not None and lon is not None and centroid is not None:
        km = haversine_km(float(lat), float(lon), *centroid)
        return distance_factor(km, reg.band_shares(centroid, s)[distance_band(km, s)], s)
    source = pool.martyr_place_source.get(m["martyr_id"], "death")
    against = m.get("death_place") if source == "death" else m.get("unit")
    return _place(
        r["place_key"], r["place"], death_key, pool, reg, s, source, f"{r.get('recovery_place')} / {against}"
    )


def _place(
    key: str,
    place: dict,
    death_key: str,
    pool: Pool,
    reg: Register,
    s: EvidenceSettings,
    source: str = "death",
    detail: str = "",
) -> Factor:
    death = pool.key_places.get(death_key, {})
    relation = place_relation(key, place, death_key, death)
    share = reg.place_shares(death_key, death).get(relation) if relation else None
    return place_factor(relation, share, s, detail=detail, source=source)


def unscored_terms(
    r: dict, unsampled: Counter, pool: Pool, reg: Register, s: EvidenceSettings
) -> tuple[dict[tuple[str, tuple[str, str]], float], dict[str, float]]:
    """The missing martyrs with no reference profile (they cannot be excluded), by prior group and
    place cell: ((group, cell) → Σ 1/den, group → how many have a place that cannot be compared).
    Their other factors are taken at their average, 1."""
    cells: dict[tuple[str, tuple[str, str]], float] = {}
    flat: dict[str, float] = {}
    for (key, source, group), n in unsampled.items():
        f = _place(r["place_key"], r["place"], key, pool, reg, s, source)
        if f.cell is None:
            flat[group] = flat.get(group, 0.0) + n
        else:
            cells[(group, f.cell)] = cells.get((group, f.cell), 0.0) + n / f.den
    return cells, flat


def status_weight(grave_status: str | None, settings: MatchSettings) -> float:
    return dict(settings.status_weights).get(grave_status or "", settings.default_status_weight)


def prior_group(m: dict, pool: Pool, default_province: str | None) -> str:
    """`<grave status> / <where he fell>`: this province (`here`), Cambodia, another province, or no
    province on record (a front, blank). Remains are gathered where men fell, so the groups' shares
    of the register differ; they are stated flat and estimated on the province's remains."""
    place = pool.key_places.get(pool.martyr_place_key.get(m["martyr_id"], ""), {})
    province = place.get("province")
    where = (
        "unplaced"
        if not province
        else "here"
        if province == default_province
        else "cambodia"
        if province == CAMBODIA
        else "elsewhere"
    )
    return f"{m.get('grave_status') or 'unknown'} / {where}"


@dataclass(frozen=True)
class Scoring:
    scored: pl.DataFrame
    prior: PriorModel
    numerators: dict[str, dict[str, float]]
    iterations: int


def score_candidates(
    pairs: pl.DataFrame,
    remains: pl.DataFrame,
    missing: pl.DataFrame,
    pool: Pool,
    sampled_martyrs: set[str],
    settings: MatchSettings,
    default_province: str | None = None,
    profiled: list[str] | None = None,
    not_comparable: dict[str, list[str]] | None = None,
    known: list[tuple[str, dict]] | None = None,
) -> Scoring:
    """Add DNA LR, non-genetic LR, the factors and the posterior to each DNA candidate pair, with
    the prior and the numerator tables used (re-estimated on the profiled remains when
    `settings.estimate_numerators`). `not_comparable`: per remains, sampled martyrs whose
    references it cannot be compared with (`not_comparable_martyrs`); they count as unsampled.
    `known`: (remains_id, martyr row) pairs the council confirmed, counted in the estimate as pairs
    whose truth is known (docs/matching.md §9)."""
    s = settings.evidence
    features = remains_features(remains, default_province)
    reg = build_register(features, s)
    martyr_rows = {m["martyr_id"]: m for m in missing.iter_rows(named=True)}
    group = {mid: prior_group(m, pool, default_province) for mid, m in martyr_rows.items()}
    sizes = dict(Counter(group.values()))
    weights = {
        g: status_weight(
            next(m.get("grave_status") for mid, m in martyr_rows.items() if group[mid] == g), settings
        )
        for g in sizes
    }
    prior = stated_prior(sizes, weights, settings.p_outside)

    def cell(mid: str) -> tuple[str, str, str]:
        return pool.martyr_place_key.get(mid, ""), pool.martyr_place_source.get(mid, "death"), group[mid]

    unsampled = Counter(cell(mid) for mid in martyr_rows if mid not in sampled_martyrs)
    blind = {
        remains_id: unsampled + Counter(cell(m) for m in martyrs if m in martyr_rows)
        for remains_id, martyrs in (not_comparable or {}).items()
    }
    # The unsampled martyrs' terms depend on the remains' recovery place only (their numerators
    # enter through the cells), so remains recovered at one place share them; computed once for the
    # estimate and the scoring.
    unscored_cache: dict[tuple, tuple[dict, dict]] = {}

    def unscored(remains_id: str) -> tuple[dict, dict]:
        r = features[remains_id]
        place = tuple(sorted((r["place"] or {}).items()))
        key = (r["place_key"] or "", place, remains_id if remains_id in blind else None)
        if key not in unscored_cache:
            unscored_cache[key] = unscored_terms(r, blind.get(remains_id, unsampled), pool, reg, s)
        return unscored_cache[key]

    pairs = pairs.filter(pl.col("martyr_id").is_in(list(martyr_rows)))
    groups = {k[0]: g for k, g in pairs.group_by("remains_id", maintain_order=True) if k[0] in features}
    tables = numerator_tables(s)
    iterations = 0
    point = replace(
        s,
        confidence=settings.estimation_confidence,
        theta=settings.estimation_theta,
    )
    if settings.estimate_numerators:
        ids = [r for r in (profiled if profiled is not None else list(groups)) if r in features]
        terms = [
            _terms(features[r], groups.get(r), martyr_rows, group, pool, reg, unscored(r), point) for r in ids
        ]
        known_cells = [
            tuple((f.cell, f.den) for f in nongenetic_factors(features[r], m, pool, reg, point) if f.cell)
            for r, m in known or []
            if r in features
        ]
        tables, prior, iterations = estimate(
            terms, tables, prior, settings.numerator_prior_strength, known=known_cells
        )
        s = with_numerators(s, tables)
        point = with_numerators(point, tables)
    rows = []
    for remains_id, pairs_of in groups.items():
        r = features[remains_id]
        scored = {}
        for rec in pairs_of.iter_rows(named=True):
            m = martyr_rows[rec["martyr_id"]]
            dna = _dna(rec, s)
            best = _dna(rec, point).lr
            others = nongenetic_factors(r, m, pool, reg, s)
            scored[rec["martyr_id"]] = (rec, dna, best, others, math.prod(f.lr for f in others))
        cells, flat = unscored(remains_id)
        mass = sum(prior.prior(g) * v for g, v in flat.items()) + sum(
            prior.prior(g) * tables[t][o] * v for (g, (t, o)), v in cells.items()
        )
        post, _ = posteriors(
            {mid: prior.prior(group[mid]) * v[2] * v[4] for mid, v in scored.items()}, prior.p_outside, mass
        )
        bound, _ = posteriors(
            {mid: prior.prior(group[mid]) * v[1].lr * v[4] for mid, v in scored.items()},
            prior.p_outside,
            mass,
        )
        for mid, (rec, dna, best, others, lr_ng) in scored.items():
            rows.append(
                {
                    **rec,
                    "lr": dna.lr,
                    "lr_point": best,
                    "lr_nongenetic": lr_ng,
                    "lr_total": dna.lr * lr_ng,
                    "prior_group": group[mid],
                    "prior": prior.prior(group[mid]),
                    "posterior": post[mid],
                    "posterior_bound": bound[mid],
                    "factors": json.dumps(
                        [dna.as_dict(), *(f.as_dict() for f in others)], ensure_ascii=False
                    ),
                }
            )
    if not rows:
        frame = pairs.with_columns(
            lr=pl.lit(None, pl.Float64),
            lr_point=pl.lit(None, pl.Float64),
            lr_nongenetic=pl.lit(None, pl.Float64),
            lr_total=pl.lit(None, pl.Float64),
            prior_group=pl.lit(None, pl.String),
            prior=pl.lit(None, pl.Float64),
            posterior=pl.lit(None, pl.Float64),
            posterior_bound=pl.lit(None, pl.Float64),
            factors=pl.lit(None, pl.String),
        )
    else:
        frame = pl.DataFrame(rows, infer_schema_length=None)
    return Scoring(frame, prior, tables, iterations)


def _dna(rec: dict, s: EvidenceSettings) -> Factor:
    """The pair's DNA factor, its text naming where x and n were counted."""
    independent = (rec["x_independent"], rec["n_independent"]) if rec.get("n_independent") else None
    factor = dna_factor(rec["verdict"], rec["differences"], rec["x"], rec["n"], s, independent)
    if factor.lr == 0.0:
        return factor
    own = "factor.dna_own_line" if rec.get("own_line_removed") else "factor.dna_own_line_absent"
    where = [
        reason(
            "factor.dna_counted",
            range=rec["compared_range"],
            database=rec.get("database"),
            version=rec.get("database_version"),
        ),
        reason(own),
    ]
    if independent:
        where.append(
            reason(
                "factor.dna_independent_database",
                database=rec.get("independent_database"),
                version=rec.get("independent_version"),
            )
        )
    values = {
        **factor.values,
        "range": rec["compared_range"],
        "database": rec.get("database"),
        "database_version": rec.get("database_version"),
        "own_line_removed": rec.get("own_line_removed"),
    }
    return replace(factor, why=[*factor.why, *where], values=values)


def _terms(
    r: dict,
    pairs_of: pl.DataFrame | None,
    martyr_rows: dict[str, dict],
    group: dict[str, str],
    pool: Pool,
    reg: Register,
    unscored: tuple[dict, dict],
    s: EvidenceSettings,
) -> RemainsTerms:
    """One remains' hypotheses for the estimate (`evidence.estimate`)."""
    candidates = []
    for rec in pairs_of.iter_rows(named=True) if pairs_of is not None else []:
        dna = _dna(rec, s)
        factors = nongenetic_factors(r, martyr_rows[rec["martyr_id"]], pool, reg, s)
        fixed = dna.lr * math.prod(f.lr for f in factors if f.cell is None)
        cells = tuple((f.cell, f.den) for f in factors if f.cell is not None)
        candidates.append(Candidate(group[rec["martyr_id"]], fixed, cells))
    cells, flat = unscored
    return RemainsTerms(tuple(candidates), cells, flat)


# --- the whole province --------------------------------------------------------------------------------


@dataclass
class MatchResult:
    match_candidates: pl.DataFrame
    identifications: pl.DataFrame
    remains_outcomes: pl.DataFrame  # every remains: outcome, reason
    martyr_outcomes: pl.DataFrame  # every missing martyr: reference status, outcome
    refused_references: pl.DataFrame
    baseline: pl.DataFrame  # mtDNA-only: remains_id, martyr_id
    p_outside: float
    numerators: dict[str, dict[str, float]]  # P(outcome | true martyr) used (stated or re-estimated)
    prior: PriorModel  # group shares used (stated or re-estimated)
    database: Database  # the province's frequency database
    discordant: pl.DataFrame  # remains whose samples disagree: remains_id, reason (for the lab)
    remains_profiles: pl.DataFrame  # the profile each remains was matched on (one per remains)


def identify(
    remains: pl.DataFrame,
    remains_profiles: pl.DataFrame,
    reference_profiles: pl.DataFrame,
    candidates: pl.DataFrame,
    martyrs: pl.DataFrame,
    settings: MatchSettings | None = None,
    population: pl.DataFrame | None = None,
    independent: Database | None = None,
    council: Council | None = None,
) -> MatchResult:
    """Match every profiled remains against the references of the missing martyrs.

    remains: remains_id, cemetery, recovery_date, recovery_date_precision, recovery_place, lat, lon,
    artefacts, est_sex, est_age (raw.hai_cot). remains_profiles: remains_id, range, haplotype (and
    sample_id: several samples of one remains are checked against each other).
    reference_profiles: relative_id, range, haplotype, consent. candidates: marts.maternal_candidates.
    martyrs: core.martyrs. population: the profiles the province's frequency database is built from
    (relative_id, range, haplotype, consent; default the reference profiles). independent: a
    population database independent of the province, when one is configured. council: the
    identification council's decisions in force (`lietsi.matching.council`): confirmed remains and martyrs
    leave the pools and teach the numerators, rejected pairs are no candidates.
    """
    from lietsi.matching.assignment import Thresholds, assign

    settings = settings or MatchSettings()
    council = council or no_decisions()
    refs, refused = reference_table(reference_profiles, candidates)
    province = province_of(martyrs, remains["recovery_place"] if remains.height else None)
    # Pool statistics (names, places) describe every missing martyr; the confirmed are no hypotheses.
    missing_all, pool = build_pool(martyrs, province)
    missing = missing_all.filter(~pl.col("martyr_id").is_in(list(council.confirmed_martyrs)))
    unconfirmed = remains_profiles.filter(~pl.col("remains_id").is_in(list(council.confirmed_remains)))
    rp, discordant = merge_remains_samples(unconfirmed, settings.rules)
    database = province_database(reference_profiles if population is None else population, candidates)
    pairs = dna_pairs(rp, refs, database, settings.rules, independent).join(
        council.rejected.select("remains_id", "martyr_id"), on=["remains_id", "martyr_id"], how="anti"
    )
    martyr_rows = {m["martyr_id"]: m for m in missing_all.iter_rows(named=True)}
    known = [(r, martyr_rows[m]) for r, m in council.confirmed.select("remains_id", "martyr_id").iter_rows()
             if m in martyr_rows]  # fmt: skip
    sampled = set(refs["martyr_id"].to_list())
    scoring = score_candidates(
        pairs,
        remains,
        missing,
        pool,
        sampled,
        settings,
        province,
        rp["remains_id"].to_list(),
        not_comparable_martyrs(rp, refs, settings.rules),
        known,
    )
    scored, p_outside = scoring.scored, scoring.prior.p_outside
    thresholds = Thresholds(proposed=settings.proposed_threshold, review=settings.review_threshold)
    identifications = assign(scored, thresholds)
    evidence = _evidence_json(scored, identifications, p_outside)
    identifications = identifications.join(evidence, on=["remains_id", "martyr_id"], how="left")
    # A rejected pair leaves its remains and martyr as they are otherwise (unresolved, missing).
    standing = pl.concat(
        [identifications, decision_identifications(council).filter(pl.col("status") == "confirmed")],
        how="diagonal_relaxed",
    )
    identifications = pl.concat([identifications, decision_identifications(council)], how="diagonal_relaxed")
    return MatchResult(
        match_candidates=scored,
        identifications=identifications,
        remains_outcomes=_remains_outcomes(remains, rp, pairs, scored, standing, discordant),
        martyr_outcomes=_martyr_outcomes(missing_all, refs, standing),
        refused_references=refused,
        baseline=mtdna_only_baseline(scored),
        p_outside=p_outside,
        numerators=scoring.numerators,
        prior=scoring.prior,
        database=database,
        discordant=discordant,
        remains_profiles=rp,
    )


def mtdna_only_baseline(pairs: pl.DataFrame) -> pl.DataFrame:
    """Propose when exactly one reference line cannot be excluded and that line serves one martyr."""
    if pairs.is_empty():
        return pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String})
    matching = pairs.filter(pl.col("verdict") == "cannot_exclude")
    return (
        matching.group_by("remains_id")
        .agg(pl.col("line_id").n_unique().alias("lines"), pl.col("martyr_id").unique().alias("martyrs"))
        .filter((pl.col("lines") == 1) & (pl.col("martyrs").list.len() == 1))
        .select("remains_id", pl.col("martyrs").list.first().alias("martyr_id"))
        .sort("remains_id")
    )


def _evidence_json(scored: pl.DataFrame, ids: pl.DataFrame, p_outside: float) -> pl.DataFrame:
    """The `evidence` column: a readable summary and every number behind the posterior."""
    if ids.is_empty():
        return pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String, "evidence": pl.String})
    picked = scored.join(
        ids.select("remains_id", "martyr_id", "status", "reasons", "competitors"),
        on=["remains_id", "martyr_id"],
    )
    rows = []
    for rec in picked.iter_rows(named=True):
        factors = json.loads(rec["factors"])
        strong = sorted(
            # The DNA factor is stated on its own; the summary names the strongest other evidence.
            (f for f in factors if f["lr"] != 1.0 and f["factor"] != "dna"),
            key=lambda f: -abs(math.log(max(f["lr"], 1e-12))),
        )
        summary = (
            f"Remains {rec['remains_id']} → martyr {rec['martyr_id']}: {rec['status']}, posterior "
            f"{rec['posterior']:.4f}; DNA {rec['verdict']} (LR {rec['lr']:,.0f} at the 95% bound, "
            f"{rec['lr_point']:,.0f} at the best estimate), other evidence LR "
            f"{rec['lr_nongenetic']:,.1f}"
            + (f"; strongest: {reason_text(strong[0]['codes'], 'en')}" if strong else "")
        )
        doc = {
            "summary": summary,
            "status": rec["status"],
            "reasons": rec["reasons"],
            "prior": {
                "this_martyr": rec["prior"],
                "group": rec["prior_group"],
                "p_outside_pool": p_outside,
                "text": f"{rec['prior']:.2e}: the share of the register's remains belonging to the "
                f"missing martyrs of his group ({rec['prior_group']}), over their number; "
                f"{p_outside:.3f} of the remains belong to nobody in the pool",
            },
            "dna": {
                "verdict": rec["verdict"],
                "differences": rec["differences"],
                "reference": rec["relative_id"],
                "line": rec["line_id"],
                "compared_range": rec["compared_range"],
                "differing_sites": rec["differing_sites"],
                "concordant_heteroplasmies": rec["heteroplasmies"],
                "ignored_by_rules": rec["ignored"],
                "excluding_references": rec.get("excluding_references"),
                "frequency": {
                    "range": rec["compared_range"],
                    "database": rec.get("database"),
                    "database_version": rec.get("database_version"),
                    "x": rec["x"],
                    "n": rec["n"],
                    "own_line_removed": rec.get("own_line_removed"),
                    "independent_database": rec.get("independent_database"),
                    "x_independent": rec.get("x_independent"),
                    "n_independent": rec.get("n_independent"),
                },
            },
            "factors": factors,
            "lr_total": rec["lr_total"],
            "lr_dna_best_estimate": rec["lr_point"],
            "posterior": rec["posterior"],
            "posterior_at_95pct_bound": rec["posterior_bound"],
            "competitors": json.loads(rec["competitors"]),
        }
        rows.append((rec["remains_id"], rec["martyr_id"], json.dumps(doc, ensure_ascii=False, default=str)))
    return pl.DataFrame(
        rows, schema={"remains_id": pl.String, "martyr_id": pl.String, "evidence": pl.String}, orient="row"
    )


def _remains_outcomes(
    remains: pl.DataFrame,
    rp: pl.DataFrame,
    pairs: pl.DataFrame,
    scored: pl.DataFrame,
    ids: pl.DataFrame,
    discordant: pl.DataFrame,
) -> pl.DataFrame:
    profiled = set(rp["remains_id"].to_list())
    blocked = {r: codes for r, _, codes in discordant.iter_rows()}
    with_pairs = pairs.group_by("remains_id").agg(
        (pl.col("verdict") == "cannot_exclude").sum().alias("n_match"), pl.len().alias("n_pairs")
    )
    pair_info = {r: (a, b) for r, a, b in with_pairs.iter_rows()}
    best = (
        {r: p for r, p in scored.group_by("remains_id").agg(pl.col("posterior").max()).iter_rows()}
        if not scored.is_empty()
        else {}
    )
    status = {r: s for r, s in ids.select("remains_id", "status").iter_rows()}
    rows = []
    for (remains_id,) in remains.select("remains_id").unique().sort("remains_id").iter_rows():
        if remains_id in status:
            rows.append((remains_id, status[remains_id], []))
        elif remains_id in blocked:
            rows.append((remains_id, "unresolved", json.loads(blocked[remains_id])))
        elif remains_id not in profiled:
            rows.append((remains_id, "unresolved", [reason("outcome.no_profile")]))
        elif remains_id not in pair_info:
            rows.append((remains_id, "unresolved", [reason("outcome.no_reference_match")]))
        else:
            n_match, n_pairs = pair_info[remains_id]
            why = (
                reason("outcome.only_inconclusive", n_pairs=n_pairs)
                if n_match == 0
                else reason("outcome.several_compatible", n_match=n_match, best=best.get(remains_id, 0.0))
            )
            rows.append((remains_id, "unresolved", [why]))
    return _outcome_frame("remains_id", rows)


def _reason_columns(codes: list[dict]) -> dict[str, pl.Expr]:
    """The `reason` (Vietnamese) and `reason_codes` (JSON) columns of a constant reason."""
    return {"reason": pl.lit(reason_text(codes), pl.String), "reason_codes": pl.lit(encode(codes), pl.String)}


def _outcome_frame(key: str, rows: list[tuple[str, str, list[dict]]]) -> pl.DataFrame:
    """key, outcome, reason (Vietnamese), reason_codes (JSON) from (id, outcome, reasons) rows."""
    return pl.DataFrame(
        [(k, outcome, reason_text(codes), encode(codes)) for k, outcome, codes in rows],
        schema={key: pl.String, "outcome": pl.String, "reason": pl.String, "reason_codes": pl.String},
        orient="row",
    )


def _martyr_outcomes(missing: pl.DataFrame, refs: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    sampled = set(refs["martyr_id"].to_list())
    status: dict[str, str] = {}
    # A martyr proposed for one remains may also head a review row of another: proposed wins.
    for m, s in ids.select("martyr_id", "status").iter_rows():
        if status.get(m) != "proposed":
            status[m] = s
    rows = []
    for (mid,) in missing.select("martyr_id").iter_rows():
        if mid in status:
            rows.append((mid, status[mid], []))
        elif mid not in sampled:
            rows.append((mid, "no_reference", [reason("outcome.no_reference_sample")]))
        else:
            rows.append((mid, "not_found", [reason("outcome.not_found")]))
    return _outcome_frame("martyr_id", rows)
