"""One profile per sample: results read and merged (:mod:`lietsi.lab.results`), joined to the sample
log, classified into haplogroups and linked to the surveyed relatives."""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import replace as _replace

import polars as pl

from lietsi.ingest.batches import QUARANTINE_SCHEMA
from lietsi.lab.haplogroups import classify
from lietsi.lab.mtdna import (
    CONTROL_REGION,
    Ranges,
    format_range,
    format_variants,
    intersect_ranges,
    parse_range,
    parse_variants,
    range_length,
)
from lietsi.lab.results import (
    REASONS,
    LabResult,
    QcRules,
    merge_duplicates,
    profile_flags,
    profile_reason,
    read_result,
)

SOURCE = "ket_qua_adn"
SAMPLE_KINDS = {"Hài cốt": "remains", "Thân nhân": "relative"}
# A profile reads the "full control region" when it misses at most this share of 16024-16569,1-576.
FULL_CR_COVERAGE = 0.99


def is_full_control_region(ranges: Ranges) -> bool:
    covered = range_length(intersect_ranges(ranges, CONTROL_REGION))
    return covered >= FULL_CR_COVERAGE * range_length(CONTROL_REGION)


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


@dataclass(frozen=True)
class ProfilingRun:
    """What :func:`profile_samples` made of the lab results, and how long each part took."""

    profiles: pl.DataFrame
    quarantine: pl.DataFrame
    read_seconds: float
    classify_seconds: float

    @property
    def distinct_haplotypes(self) -> int:
        """Distinct (range, haplotype) pairs, each classified once."""
        return self.profiles.select("range", "haplotype").n_unique() if self.profiles.height else 0


def profile_samples(
    results: pl.DataFrame, samples: pl.DataFrame, relatives: pl.DataFrame | None, qc: QcRules | None = None
) -> ProfilingRun:
    """`raw.ket_qua_adn` + `raw.mau_adn` + `core.relatives` → profiles with haplogroups and donors,
    and the quarantine."""
    started = time.perf_counter()
    profiles, quarantine = build_profiles(results, samples, qc)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    profiles = assign_haplogroups(profiles)
    classify_seconds = time.perf_counter() - started
    profiles = link_relatives(profiles, relatives)
    return ProfilingRun(profiles, quarantine, read_seconds, classify_seconds)


def profiling_figures(results: pl.DataFrame, run: ProfilingRun) -> dict[str, int | float]:
    """Counts and timings of a profiling run (no personal data: they go to the run's metadata)."""
    profiles = run.profiles
    full = profiles.filter(pl.col("full_control_region"))
    return {
        "results_read": results.height,
        "fasta_results": int((results["format"] == "fasta").sum()) if "format" in results else 0,
        "profiles": profiles.height,
        "remains_profiles": int((profiles["sample_kind"] == "remains").sum()),
        "relative_profiles": int((profiles["sample_kind"] == "relative").sum()),
        "relatives_linked": int(profiles["relative_id"].is_not_null().sum()),
        "full_control_region": full.height,
        "flagged": int(profiles["qc_flags"].is_not_null().sum()),
        "distinct_haplotypes_classified": run.distinct_haplotypes,
        "read_and_align_seconds": round(run.read_seconds, 2),
        "classify_seconds": round(run.classify_seconds, 2),
        "median_haplogroup_quality": float(full["haplogroup_quality"].median() or 0.0),
    }


def non_canonical_samples(profiles: pl.DataFrame) -> list[str]:
    """Sample ids whose range or haplotype is not in canonical notation (it does not re-format to
    itself), or whose sample kind is unknown."""
    bad = []
    for sample_id, kind, rng, hap in profiles.select(
        "sample_id", "sample_kind", "range", "haplotype"
    ).iter_rows():
        try:
            canonical = format_range(parse_range(rng)) == rng and format_variants(parse_variants(hap)) == hap
        except ValueError:
            canonical = False
        if not canonical or kind not in ("remains", "relative"):
            bad.append(sample_id)
    return bad
