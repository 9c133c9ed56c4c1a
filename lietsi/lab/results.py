"""Lab results → parsed, canonical, QC'd results; a sample's agreeing results merged.

1. **Read.** A CSV row's range and haplotype are parsed (:mod:`lietsi.lab.mtdna`), rebuilt as the
   sequence they describe and re-called from it (:func:`lietsi.lab.alignment.normalize_profile`), so
   ``310.1C`` becomes ``315.1C``, ``58C 60.1T`` becomes ``57.1C``, and a FASTA read of the same
   sample gives the same text. A FASTA record is aligned to rCRS
   (:func:`lietsi.lab.alignment.call_read`).
2. **QC** (reasons in :data:`REASONS`): lab verdict ``Không đạt``; unreadable range or haplotype;
   read that does not align; range too short for the control region's informative sites; too many
   ambiguous bases; more than two point heteroplasmies; variants outside the range read.
3. **Duplicates.** Results of one sample that agree on the range both cover are merged (union of
   ranges); results that disagree are all quarantined — which one is right is the lab's call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import replace as _replace

from lietsi.lab.alignment import AlignmentError, call_read, normalize_profile
from lietsi.lab.mtdna import (
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
    range_length,
    restrict,
    without_positions,
)

LAB_FAILED = "Không đạt"
# HV1 and HV2 cores: where most of the control region's informative sites are. A profile must cover
# this share of them to be worth comparing.
INFORMATIVE_SITES: Ranges = ((16024, 16365), (73, 340))


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
