"""Lab stage: laboratory results (EMPOP rows and FASTA reads) → one quality-checked profile per sample.

Every result row of `raw.ket_qua_adn` ends either in a profile or in the quarantine with a reason:

1. **Read.** A CSV row's range and haplotype are parsed (:mod:`lietsi.lab.mtdna`), rebuilt as the
   sequence they describe and re-called from it (:func:`lietsi.lab.alignment.normalize_profile`), so
   ``310.1C`` becomes ``315.1C``, ``58C 60.1T`` becomes ``57.1C``, and a FASTA read of the same
   sample gives the same text. A FASTA record is aligned to rCRS
   (:func:`lietsi.lab.alignment.call_read`).
2. **QC** (reasons in :data:`REASONS`): lab verdict ``Không đạt``; unreadable range or haplotype;
   read that does not align; range too short for the control region's informative sites; too many
   ambiguous bases; more than two point heteroplasmies; variants outside the range read; sample id
   not in the sample log (`mau_adn`).
3. **Duplicates.** Results of one sample that agree on the range both cover are merged (union of
   ranges); results that disagree are all quarantined — which one is right is the lab's call.
4. **Join** to the sample log: sample kind (remains / relative), remains id (``Mã hài cốt``) or the
   donor's citizen-id hash, which :func:`link_relatives` turns into ``relative_id``.
5. **Haplogroup** (:mod:`lietsi.lab.haplogroups`), once per distinct (range, haplotype).
6. **Population frequencies** (:func:`haplotype_frequencies`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace as _replace

import polars as pl

from lietsi.ingest.batches import QUARANTINE_SCHEMA
from lietsi.kinship.maternal import maternal_lines
from lietsi.lab.alignment import AlignmentError, call_read, normalize_profile
from lietsi.lab.comparison import ComparisonRules, effective_sites
from lietsi.lab.haplogroups import classify
from lietsi.lab.mtdna import (
    CONTROL_REGION,
    Ranges,
    ReferenceBaseError,
    UnknownCodeError,
    Variant,
    format_range,
    format_variants,
    intersect_ranges,
    normalize_ranges,
    parse_range,
    parse_reported,
    parse_variants,
    range_length,
    restrict,
    without_positions,
)
from lietsi.stats import clopper_pearson_upper

SOURCE = "ket_qua_adn"
SAMPLE_KINDS = {"Hài cốt": "remains", "Thân nhân": "relative"}
LAB_FAILED = "Không đạt"
# HV1 and HV2 cores: where most of the control region's informative sites are. A profile must cover
# this share of them to be worth comparing.
INFORMATIVE_SITES: Ranges = ((16024, 16365), (73, 340))
# A profile reads the "full control region" when it misses at most this share of 16024-16569,1-576.
FULL_CR_COVERAGE = 0.99


@dataclass(frozen=True)
class QcRules:
    """Thresholds of the lab QC (asset config in `assets/lab.py`)."""

    # Share of the HV1/HV2 cores (INFORMATIVE_SITES) a profile must read: one whole core (HV1-only
    # profiles are common for degraded remains and still exclude) ...
    min_informative_coverage: float = 0.50
    # ... and below this share the profile is kept but flagged as partial.
    partial_below: float = 0.90
    # Read N (and three-base IUPAC codes) allowed, as a share of the aligned read.
    max_ambiguous_fraction: float = 0.01
    # Point heteroplasmies beyond this suggest a mixture or contamination.
    max_heteroplasmies: int = 2


REASONS = {
    "lab_failed": "lab verdict Không đạt (result failed at the lab)",
    "no_range": "CSV result without a range (Vùng đọc được)",
    "bad_range": "range is not rCRS notation",
    "bad_haplotype": "haplotype is not EMPOP notation",
    "contradicts_rcrs": "a variant's stated reference base contradicts rCRS",
    "unknown_code": "unknown IUPAC code in the haplotype",
    "no_alignment": "sequence does not align to rCRS",
    "too_short": "range too short for the control region's informative sites",
    "ambiguous": "too many ambiguous bases (N) in the read",
    "heteroplasmies": "too many point heteroplasmies (mixture or contamination?)",
    "outside_range": "variants reported outside the range read",
    "unknown_sample": "sample id not in the sample log (mau_adn)",
    "duplicate_disagrees": "several results for the sample disagree",
}


@dataclass(frozen=True)
class LabResult:
    """One result row after reading and QC; ``reason`` is set when it is rejected."""

    sample_id: str
    source_format: str
    file: str
    row_number: int
    ranges: Ranges = ()
    variants: tuple[Variant, ...] = ()
    flags: tuple[str, ...] = ()
    reason: str | None = None
    lab: str | None = None
    result_date: object = None
    raw: str = "{}"
    ambiguous: int = 0

    @property
    def heteroplasmies(self) -> int:
        return sum(v.is_heteroplasmy for v in self.variants)


def _raw_json(row: dict) -> str:
    keep = ("sample_id", "lab", "result_date_text", "range", "haplotype", "quality", "format")
    out = {k: row.get(k) for k in keep if row.get(k) is not None}
    if row.get("sequence"):
        out["sequence_length"] = len(row["sequence"])
        out["sequence_start"] = row["sequence"][:30]
    return json.dumps(out, ensure_ascii=False, default=str)


def informative_coverage(ranges: Ranges) -> float:
    return range_length(intersect_ranges(ranges, INFORMATIVE_SITES)) / range_length(INFORMATIVE_SITES)


def is_full_control_region(ranges: Ranges) -> bool:
    covered = range_length(intersect_ranges(ranges, CONTROL_REGION))
    return covered >= FULL_CR_COVERAGE * range_length(CONTROL_REGION)


def read_result(row: dict, qc: QcRules | None = None, check_profile: bool = True) -> LabResult:
    """A `raw.ket_qua_adn` row (as a dict) → parsed, canonical, QC'd result.

    With ``check_profile=False`` the range and heteroplasmy checks are left to the caller, who applies
    :func:`profile_reason` after merging a sample's results (HV1 and HV2 may come as two rows).
    """
    qc = qc or QcRules()
    fmt = (row.get("format") or "csv").lower()
    base = LabResult(
        sample_id=(row.get("sample_id") or "").strip(),
        source_format=fmt,
        file=row.get("file") or "",
        row_number=int(row.get("row_number") or 0),
        lab=row.get("lab"),
        result_date=row.get("result_date"),
        raw=_raw_json(row),
    )

    def reject(key: str, detail: str = "") -> LabResult:
        return _replace(base, reason=REASONS[key] + (f": {detail}" if detail else ""))

    if (row.get("quality") or "").strip() == LAB_FAILED:
        return reject("lab_failed")
    flags: list[str] = []
    ambiguous = 0
    if fmt == "fasta":
        try:
            call = call_read(row.get("sequence") or "")
        except AlignmentError as exc:
            return reject("no_alignment", str(exc))
        ranges, variants, ambiguous = call.ranges, call.variants, call.ambiguous
        aligned = range_length(ranges) + ambiguous
        if ambiguous > qc.max_ambiguous_fraction * aligned:
            return reject("ambiguous", f"{ambiguous} of {aligned} aligned bases")
        if call.strand == "-":
            flags.append("read was the reverse complement")
        if ambiguous:
            flags.append(f"{ambiguous} ambiguous bases left out of the range")
    else:
        if not (row.get("range") or "").strip():
            return reject("no_range")
        try:
            ranges = parse_range(row["range"])
        except ValueError as exc:
            return reject("bad_range", str(exc))
        try:
            reported, unread = parse_reported(row.get("haplotype"))
        except ReferenceBaseError as exc:
            return reject("contradicts_rcrs", str(exc))
        except UnknownCodeError as exc:
            return reject("unknown_code", str(exc))
        except ValueError as exc:
            return reject("bad_haplotype", str(exc))
        if unread:
            # N or a three-base code: the lab did not call the base, so the site is not read.
            ranges = without_positions(ranges, unread)
            flags.append(f"not read (N or ambiguous base), out of the range: {', '.join(map(str, unread))}")
        norm = normalize_profile(ranges, reported)
        if norm.outside_range:
            return reject("outside_range", format_variants(norm.outside_range))
        variants = norm.variants
        if norm.same_as_rcrs:
            flags.append(f"rCRS base reported as a difference, dropped: {format_variants(norm.same_as_rcrs)}")
        rest = tuple(v for v in reported if v not in norm.same_as_rcrs)
        if format_variants(rest) != format_variants(variants):
            flags.append(
                f"re-called from its sequence: {format_variants(rest)} → {format_variants(variants)}"
            )
        if not (row.get("haplotype") or "").strip():
            flags.append("no differences from rCRS reported")
    result = _replace(base, ranges=ranges, variants=variants, flags=tuple(flags), ambiguous=ambiguous)
    return result if not check_profile else _replace(result, reason=profile_reason(result, qc))


def profile_reason(result: LabResult, qc: QcRules | None = None) -> str | None:
    """Why a (possibly merged) profile is unusable: too short a range, too many heteroplasmies."""
    qc = qc or QcRules()
    coverage = informative_coverage(result.ranges)
    if coverage < qc.min_informative_coverage:
        return (
            f"{REASONS['too_short']}: {format_range(result.ranges)} reads {coverage:.0%} of "
            f"{format_range(INFORMATIVE_SITES)}, need {qc.min_informative_coverage:.0%}"
        )
    if result.heteroplasmies > qc.max_heteroplasmies:
        hets = format_variants(v for v in result.variants if v.is_heteroplasmy)
        return f"{REASONS['heteroplasmies']}: {hets}, more than {qc.max_heteroplasmies}"
    return None


def profile_flags(result: LabResult, qc: QcRules | None = None) -> tuple[str, ...]:
    """Warnings for a usable profile (kept, but a reviewer should know)."""
    qc = qc or QcRules()
    coverage = informative_coverage(result.ranges)
    if coverage < qc.partial_below:
        return (f"partial control region: reads {coverage:.0%} of {format_range(INFORMATIVE_SITES)}",)
    return ()


def merge_duplicates(results: list[LabResult]) -> tuple[LabResult | None, list[LabResult]]:
    """Accepted results of one sample → (merged result, []) when they agree on the range they
    share, or (None, all of them rejected) when any two disagree."""
    if len(results) == 1:
        return results[0], []
    for i, a in enumerate(results):
        for b in results[i + 1 :]:
            common = intersect_ranges(a.ranges, b.ranges)
            va, vb = restrict(a.variants, common), restrict(b.variants, common)
            if va != vb:
                only_a = format_variants(set(va) - set(vb)) or "-"
                only_b = format_variants(set(vb) - set(va)) or "-"
                detail = (
                    f"{a.file}#{a.row_number} has {only_a}, {b.file}#{b.row_number} has {only_b} "
                    f"on {format_range(common)}"
                )
                rejected = [
                    _replace(r, reason=f"{REASONS['duplicate_disagrees']}: {detail}") for r in results
                ]
                return None, rejected
    ranges = normalize_ranges(span for r in results for span in r.ranges)
    variants = tuple(sorted({v for r in results for v in r.variants}))
    first = min(results, key=lambda r: (r.file, r.row_number))
    formats = "+".join(sorted({r.source_format for r in results}))
    flags = sorted({f for r in results for f in r.flags} | {f"merged {len(results)} agreeing results"})
    return _replace(first, ranges=ranges, variants=variants, source_format=formats, flags=tuple(flags)), []


PROFILE_SCHEMA = {
    "sample_id": pl.Utf8,
    "sample_kind": pl.Utf8,
    "range": pl.Utf8,
    "haplotype": pl.Utf8,
    "haplogroup": pl.Utf8,
    "haplogroup_quality": pl.Float64,
    "haplogroup_runner_up": pl.Utf8,
    "range_length": pl.Int64,
    "full_control_region": pl.Boolean,
    "heteroplasmies": pl.Int32,
    "source_format": pl.Utf8,
    "results": pl.Int32,
    "lab": pl.Utf8,
    "remains_id": pl.Utf8,
    "citizen_id_hash": pl.Utf8,
    "qc_flags": pl.Utf8,
    "file": pl.Utf8,
    "row_number": pl.Int64,
}


def _sample_log(samples: pl.DataFrame) -> dict[str, dict]:
    """First row per sample id of `raw.mau_adn` (later repeats only add nothing we use)."""
    log: dict[str, dict] = {}
    for row in samples.sort(["file", "row_number"]).iter_rows(named=True):
        sid = (row.get("sample_id") or "").strip()
        if sid and sid not in log:
            log[sid] = row
    return log


def build_profiles(
    results: pl.DataFrame, samples: pl.DataFrame, qc: QcRules | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`raw.ket_qua_adn` + `raw.mau_adn` → (profiles without haplogroups, quarantine)."""
    log = _sample_log(samples)
    by_sample: dict[str, list[LabResult]] = {}
    rejected: list[LabResult] = []
    for row in results.sort(["file", "row_number"]).iter_rows(named=True):
        result = read_result(row, qc, check_profile=False)
        if result.reason is None and result.sample_id not in log:
            result = _replace(result, reason=REASONS["unknown_sample"])
        if result.reason is not None:
            rejected.append(result)
        else:
            by_sample.setdefault(result.sample_id, []).append(result)
    rows = []
    for sample_id in sorted(by_sample):
        merged, disagreeing = merge_duplicates(by_sample[sample_id])
        rejected.extend(disagreeing)
        if merged is None:
            continue
        reason = profile_reason(merged, qc)
        if reason is not None:
            rejected.extend(_replace(r, reason=reason) for r in by_sample[sample_id])
            continue
        merged = _replace(merged, flags=(*merged.flags, *profile_flags(merged, qc)))
        rows.append(_profile_row(merged, len(by_sample[sample_id]), log[sample_id]))
    profiles = pl.DataFrame(rows, schema=PROFILE_SCHEMA)
    quarantine = pl.DataFrame(
        [
            {"source": SOURCE, "file": r.file, "row_number": r.row_number, "reason": r.reason, "raw": r.raw}
            for r in sorted(rejected, key=lambda r: (r.file, r.row_number))
        ],
        schema=QUARANTINE_SCHEMA,
    )
    return profiles, quarantine


def _profile_row(result: LabResult, count: int, sample: dict) -> dict:
    kind = SAMPLE_KINDS.get((sample.get("sample_kind") or "").strip())
    flags = list(result.flags)
    remains_id = (sample.get("remains_id") or "").strip() or None
    citizen_hash = sample.get("citizen_id_hash") if sample.get("citizen_id_valid", True) else None
    if kind == "remains" and not remains_id:
        flags.append("remains sample without Mã hài cốt in the sample log")
    if kind == "relative" and not citizen_hash:
        flags.append("relative sample without a valid citizen id in the sample log")
    if kind is None:
        flags.append(f"unknown sample kind {sample.get('sample_kind')!r} in the sample log")
    return {
        "sample_id": result.sample_id,
        "sample_kind": kind,
        "range": format_range(result.ranges),
        "haplotype": format_variants(result.variants),
        "haplogroup": None,
        "haplogroup_quality": None,
        "haplogroup_runner_up": None,
        "range_length": range_length(result.ranges),
        "full_control_region": is_full_control_region(result.ranges),
        "heteroplasmies": result.heteroplasmies,
        "source_format": result.source_format,
        "results": count,
        "lab": result.lab,
        "remains_id": remains_id if kind == "remains" else None,
        "citizen_id_hash": citizen_hash if kind == "relative" else None,
        "qc_flags": "; ".join(flags) or None,
        "file": result.file,
        "row_number": result.row_number,
    }


def assign_haplogroups(profiles: pl.DataFrame) -> pl.DataFrame:
    """Fill haplogroup columns, classifying each distinct (range, haplotype) once."""
    pairs = profiles.select("range", "haplotype").unique()
    calls = [classify(r, h) for r, h in pairs.iter_rows()]
    table = pairs.with_columns(
        pl.Series("haplogroup", [c.haplogroup for c in calls], pl.Utf8),
        pl.Series("haplogroup_quality", [c.quality for c in calls], pl.Float64),
        pl.Series("haplogroup_runner_up", [c.runner_up for c in calls], pl.Utf8),
    )
    columns = profiles.columns
    return (
        profiles.drop("haplogroup", "haplogroup_quality", "haplogroup_runner_up")
        .join(table, on=["range", "haplotype"], how="left", nulls_equal=True)
        .select(columns)
    )


def link_relatives(profiles: pl.DataFrame, relatives: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``relative_id`` (donor → `core.relatives` by citizen-id hash); null until linkage runs.

    A hash shared by several relatives (one person resolved twice) links to the smallest id and the
    profile is flagged, rather than guessing.
    """
    if relatives is None or relatives.is_empty():
        return profiles.with_columns(pl.lit(None, pl.Utf8).alias("relative_id"))
    by_hash = (
        relatives.filter(pl.col("citizen_id_hash").is_not_null())
        .group_by("citizen_id_hash")
        .agg(pl.col("relative_id").min(), pl.col("relative_id").n_unique().alias("_n"))
    )
    linked = profiles.join(by_hash, on="citizen_id_hash", how="left")
    ambiguous = pl.col("_n") > 1
    note = pl.lit("donor's citizen id matches several relatives")
    return linked.with_columns(
        pl.when(ambiguous)
        .then(pl.when(pl.col("qc_flags").is_null()).then(note).otherwise(pl.col("qc_flags") + "; " + note))
        .otherwise(pl.col("qc_flags"))
        .alias("qc_flags")
    ).drop("_n")


def relative_lines(candidates: pl.DataFrame) -> dict[str, str]:
    """relative_id → maternal line id from `marts.maternal_candidates` (kinship's union-find)."""
    if "maternal_line_id" in candidates.columns:
        lines = candidates.filter(pl.col("shares_mtdna").fill_null(False)).select(
            pl.col("relative_id").alias("member_id"), "maternal_line_id"
        )
    else:
        lines = maternal_lines(candidates).filter(pl.col("member_kind") == "relative")
    return dict(lines.unique("member_id").select("member_id", "maternal_line_id").iter_rows())


def frequency_key(variants: Iterable[Variant], ranges: Ranges, rules: ComparisonRules | None = None) -> str:
    """The haplotype as the matching stage compares it: inside ``ranges``, without hotspots and
    C-stretch length variants (SWGDAM), canonical text."""
    kept, _ = effective_sites(variants, ranges, rules or ComparisonRules())
    return format_variants(Variant(p, k, a) for (p, k), a in kept.items())


FREQUENCY_SCHEMA = {
    "haplotype_key": pl.Utf8,
    "comparable_range": pl.Utf8,
    "count": pl.Int64,
    "database_n": pl.Int64,
    "frequency": pl.Float64,
    "upper_95": pl.Float64,
    "haplogroups": pl.Utf8,
    "example_sample_id": pl.Utf8,
}


def haplotype_frequencies(
    profiles: pl.DataFrame,
    lines: dict[str, str] | None = None,
    comparable: Ranges = CONTROL_REGION,
    rules: ComparisonRules | None = None,
    consenting: set[str] | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Frequency of each haplotype in the reference population, with a Clopper–Pearson 95% bound.

    Counting method: the reference population is the relatives' profiles (remains are the cases, not
    the population), only those in ``consenting`` when it is given (a donor who did not consent is
    never processed); profiles that do not cover all of ``comparable`` are left out (they cannot be
    compared on it); each maternal line counts once (the profile of its first sample id), and a
    relative not yet linked to a line counts as a line of its own; the haplotype is restricted to
    ``comparable`` with hotspots and C-stretch length variants masked, as matching compares.
    Returns the table and the counts behind it.
    """
    relatives = profiles.filter(pl.col("sample_kind") == "relative").sort("sample_id")
    stats = {"relative_profiles": relatives.height, "not_covering_range": 0, "same_line_dropped": 0}
    if consenting is not None:
        relatives = relatives.filter(pl.col("relative_id").is_in(sorted(consenting)))
        stats["without_consent"] = stats["relative_profiles"] - relatives.height
    need = range_length(comparable)
    seen_lines: set[str] = set()
    picked: list[tuple[str, str, str | None]] = []
    for row in relatives.iter_rows(named=True):
        ranges = parse_range(row["range"])
        if range_length(intersect_ranges(ranges, comparable)) < need:
            stats["not_covering_range"] += 1
            continue
        rid = row.get("relative_id")
        line = (lines or {}).get(rid) if rid else None
        line = line or f"sample:{row['sample_id']}"
        if line in seen_lines:
            stats["same_line_dropped"] += 1
            continue
        seen_lines.add(line)
        key = frequency_key(parse_variants(row["haplotype"]), comparable, rules)
        picked.append((key, row["sample_id"], row.get("haplogroup")))
    n = len(picked)
    stats["database_n"] = n
    if not picked:
        return pl.DataFrame(schema=FREQUENCY_SCHEMA), stats
    frame = pl.DataFrame(picked, schema=["haplotype_key", "sample_id", "haplogroup"], orient="row")
    table = (
        frame.group_by("haplotype_key")
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("haplogroup").drop_nulls().unique().sort().str.join(",").alias("haplogroups"),
            pl.col("sample_id").min().alias("example_sample_id"),
        )
        .with_columns(
            pl.lit(format_range(comparable)).alias("comparable_range"),
            pl.lit(n, pl.Int64).alias("database_n"),
            (pl.col("count") / n).alias("frequency"),
        )
    )
    upper = [clopper_pearson_upper(x, n) for x in table["count"]]
    table = table.with_columns(pl.Series("upper_95", upper, pl.Float64))
    return table.select(list(FREQUENCY_SCHEMA)).sort(
        ["count", "haplotype_key"], descending=[True, False]
    ), stats
