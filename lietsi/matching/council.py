"""The identification council's decisions (`xac_nhan/`) and what they do to the next run.

A decision names a (remains, martyr) pair: the martyr by the id the pipeline published or by his
certificate number (Số bằng TQGC). A later decision on the same pair replaces an earlier one
(decision date, then file and row order). In force:

- `Xác nhận` (confirmed): the remains and the martyr leave every pool; the pair becomes a
  `confirmed` identification, and its evidence teaches the model (`mixture.estimate`, known cases);
- `Bác bỏ` (rejected): the pair is never a candidate again — shown as a `rejected` identification —
  unless a new sample or lab result for either side is dated after the decision (`lifted`).

A row that cannot be used is quarantined with its reason: unknown decision, no date, unknown
remains, neither martyr id nor certificate, an id or certificate that names no martyr (or several),
or confirmations that contradict each other (one remains confirmed for two martyrs, or one martyr
for two remains).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from lietsi.ingest.batches import QUARANTINE_SCHEMA
from lietsi.reasons import encode, reason
from lietsi.reasons import text as reason_text
from lietsi.schema import XAC_NHAN

DECISIONS = {"Xác nhận": "confirmed", "Bác bỏ": "rejected"}

DECISION_SCHEMA = {
    "remains_id": pl.String,
    "martyr_id": pl.String,
    "decision": pl.String,
    "decision_date": pl.Date,
    "minutes_ref": pl.String,
    "retest_result": pl.String,
    "note": pl.String,
    "in_force": pl.Boolean,
    "lifted": pl.Boolean,
    "lifted_reason": pl.String,
    "file": pl.String,
    "row_number": pl.Int64,
}
PAIR_SCHEMA = {
    "remains_id": pl.String,
    "martyr_id": pl.String,
    "decision_date": pl.Date,
    "minutes_ref": pl.String,
    "retest_result": pl.String,
}

_DIGITS = re.compile(r"[^0-9]")


def certificate_key(text: str | None) -> str | None:
    """`TQGC 12/345`, `12-345` and `012345` are one certificate (as linkage compares them)."""
    digits = _DIGITS.sub("", text or "").lstrip("0")
    return digits or None


@dataclass(frozen=True)
class Council:
    decisions: pl.DataFrame  # every usable row (DECISION_SCHEMA): marts.council_decisions
    confirmed: pl.DataFrame  # pairs confirmed, in force (PAIR_SCHEMA)
    rejected: pl.DataFrame  # pairs rejected, in force and not lifted (PAIR_SCHEMA)
    quarantine: pl.DataFrame  # rows that cannot be used, with the reason

    @property
    def confirmed_remains(self) -> set[str]:
        return set(self.confirmed["remains_id"].to_list())

    @property
    def confirmed_martyrs(self) -> set[str]:
        return set(self.confirmed["martyr_id"].to_list())


def no_decisions() -> Council:
    return Council(
        pl.DataFrame(schema=DECISION_SCHEMA),
        pl.DataFrame(schema=PAIR_SCHEMA),
        pl.DataFrame(schema=PAIR_SCHEMA),
        pl.DataFrame(schema=QUARANTINE_SCHEMA),
    )


def _quarantine(row: dict, reason: str) -> dict:
    keep = {f.column: row.get(f.column) for f in XAC_NHAN.fields}
    raw = json.dumps({k: v for k, v in keep.items() if v is not None}, ensure_ascii=False, default=str)
    return {
        "source": XAC_NHAN.folder,
        "file": row.get("file"),
        "row_number": row.get("row_number"),
        "reason": reason,
        "raw": raw,
    }


def _warning(row: dict, column: str) -> str | None:
    for part in (row.get("parse_warnings") or "").split("; "):
        if part.startswith(f"{column}:"):
            return part.removeprefix(f"{column}:").strip()
    return None


def _martyr_of(
    row: dict, martyr_ids: set[str], by_certificate: dict[str, list[str]], elsewhere: frozenset[str]
) -> tuple[str | None, str]:
    """(martyr_id, '') or (None, why the row names no single martyr)."""
    mid = (row.get("martyr_id") or "").strip()
    cert = certificate_key(row.get("certificate_no"))
    named = sorted(set(by_certificate.get(cert, []))) if cert else []
    if mid:
        if mid not in martyr_ids and mid not in elsewhere:
            if ":" in mid:
                why = "is no candidate of the national run for this province's remains"
                return None, f"martyr id '{mid}' {why}"
            return None, f"unknown martyr id '{mid}'"
        if cert and named and mid not in named:
            cert_text = row.get("certificate_no")
            return None, f"martyr id '{mid}' and certificate '{cert_text}' name different martyrs"
        return mid, ""
    if not cert:
        return None, "neither a martyr id (Mã liệt sĩ) nor a certificate number (Số bằng TQGC)"
    if not named:
        return None, f"certificate '{row.get('certificate_no')}' matches no martyr"
    if len(named) > 1:
        return None, f"certificate '{row.get('certificate_no')}' matches several martyrs ({', '.join(named)})"
    return named[0], ""


def read_decisions(
    rows: pl.DataFrame,
    martyrs: pl.DataFrame,
    remains_ids: set[str],
    remains_evidence: dict[str, date] | None = None,
    martyr_evidence: dict[str, date] | None = None,
    elsewhere: frozenset[str] = frozenset(),
) -> Council:
    """The council's decisions (`raw.xac_nhan`) resolved against the run's martyrs and remains.

    martyrs: core.martyrs (martyr_id, certificate_no). remains_evidence / martyr_evidence: the
    latest sample or lab-result date per remains and per martyr (`evidence_dates`), which lift a
    rejection dated before it. elsewhere: other provinces' martyrs the national run named for this
    province's remains (`national_martyrs`), as `<province_code>:<martyr_id>`: a decision may name
    one of them, and the province's national export carries it back.
    """
    if rows.is_empty():
        return no_decisions()
    remains_evidence = remains_evidence or {}
    martyr_evidence = martyr_evidence or {}
    martyr_ids = set(martyrs["martyr_id"].to_list())
    by_certificate: dict[str, list[str]] = {}
    if "certificate_no" in martyrs.columns:
        for mid, cert in martyrs.select("martyr_id", "certificate_no").iter_rows():
            key = certificate_key(cert)
            if key:
                by_certificate.setdefault(key, []).append(mid)
    quarantine: list[dict] = []
    accepted: list[dict] = []
    for row in rows.sort("file", "row_number").iter_rows(named=True):
        decision = DECISIONS.get(row.get("decision") or "")
        remains_id = (row.get("remains_id") or "").strip()
        if decision is None:
            quarantine.append(_quarantine(row, f"unknown decision ({_warning(row, 'decision') or 'blank'})"))
            continue
        if row.get("decision_date") is None:
            text = row.get("decision_date_text")
            quarantine.append(_quarantine(row, f"decision date missing or not a date ('{text or ''}')"))
            continue
        if remains_id not in remains_ids:
            quarantine.append(_quarantine(row, f"unknown remains '{remains_id}' (not in the register)"))
            continue
        martyr_id, why = _martyr_of(row, martyr_ids, by_certificate, elsewhere)
        if martyr_id is None:
            quarantine.append(_quarantine(row, why))
            continue
        accepted.append({**row, "remains_id": remains_id, "martyr_id": martyr_id, "decision": decision})
    latest: dict[tuple[str, str], dict] = {}
    for row in sorted(accepted, key=lambda r: (r["decision_date"], r["file"], r["row_number"])):
        latest[(row["remains_id"], row["martyr_id"])] = row
    in_force = {id(r) for r in latest.values()}
    contradictions = _contradictions([r for r in latest.values() if r["decision"] == "confirmed"])
    records = []
    for row in accepted:
        if id(row) in contradictions:
            quarantine.append(_quarantine(row, contradictions[id(row)]))
            continue
        lifted, lifted_reason = None, None
        if row["decision"] == "rejected" and id(row) in in_force:
            lifted_reason = _lifting(row, remains_evidence, martyr_evidence)
            lifted = lifted_reason is not None
        records.append(
            {
                **{k: row.get(k) for k in DECISION_SCHEMA},
                "in_force": id(row) in in_force,
                "lifted": lifted,
                "lifted_reason": lifted_reason,
            }
        )
    decisions = pl.DataFrame(records, schema=DECISION_SCHEMA).sort(
        "remains_id", "martyr_id", "decision_date", "file", "row_number"
    )
    council = council_from_decisions(decisions)
    quarantined = pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA).sort("file", "row_number")
    return Council(council.decisions, council.confirmed, council.rejected, quarantined)


def council_from_decisions(decisions: pl.DataFrame) -> Council:
    """The decisions in force from `marts.council_decisions` (as `read_decisions` stored them)."""
    active = decisions.filter(pl.col("in_force"))
    pairs = list(PAIR_SCHEMA)
    return Council(
        decisions=decisions,
        confirmed=active.filter(pl.col("decision") == "confirmed").select(pairs),
        rejected=active.filter(
            (pl.col("decision") == "rejected") & ~pl.col("lifted").fill_null(False)
        ).select(pairs),
        quarantine=pl.DataFrame(schema=QUARANTINE_SCHEMA),
    )


def _contradictions(confirmed: list[dict]) -> dict[int, str]:
    """Confirmations in force that give one remains two martyrs, or one martyr two remains."""
    out: dict[int, str] = {}
    for key, other, label in (("remains_id", "martyr_id", "remains"), ("martyr_id", "remains_id", "martyr")):
        groups: dict[str, list[dict]] = {}
        for row in confirmed:
            groups.setdefault(row[key], []).append(row)
        for value, group in groups.items():
            if len(group) > 1:
                names = ", ".join(sorted(r[other] for r in group))
                for row in group:
                    out[id(row)] = f"council decisions contradict: {label} '{value}' confirmed for {names}"
    return out


def _lifting(row: dict, remains_evidence: dict[str, date], martyr_evidence: dict[str, date]) -> str | None:
    decided = row["decision_date"]
    newer = []
    if (d := remains_evidence.get(row["remains_id"])) and d > decided:
        newer.append(f"a sample or result of the remains dated {d.isoformat()}")
    if (d := martyr_evidence.get(row["martyr_id"])) and d > decided:
        newer.append(f"a sample or result of the martyr's maternal relatives dated {d.isoformat()}")
    if not newer:
        return None
    return f"rejected on {decided.isoformat()}, reconsidered: " + " and ".join(newer)


def _column(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)


def evidence_dates(
    samples: pl.DataFrame,
    results: pl.DataFrame,
    relatives: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
) -> tuple[dict[str, date], dict[str, date]]:
    """(remains_id → latest date, martyr_id → latest date) of a sample taken (`raw.mau_adn`) or a
    lab result returned (`raw.ket_qua_adn`) for the remains, or for a relative who shares the
    martyr's mtDNA (`marts.maternal_candidates`, donors linked by citizen-id hash)."""
    log = samples.select(
        _column(samples, "sample_id", pl.String),
        _column(samples, "remains_id", pl.String),
        _column(samples, "citizen_id_hash", pl.String),
        _column(samples, "collection_date", pl.Date).alias("date"),
    )
    if "result_date" in results.columns and results.height:
        returned = results.select("sample_id", date="result_date").join(
            log.select("sample_id", "remains_id", "citizen_id_hash").unique("sample_id"), on="sample_id"
        )
        log = pl.concat([log, returned.select(log.columns)])
    log = log.filter(pl.col("date").is_not_null())
    remains = dict(
        log.filter(pl.col("remains_id").is_not_null())
        .group_by("remains_id")
        .agg(pl.col("date").max())
        .iter_rows()
    )
    donors = (
        maternal_candidates.filter(pl.col("shares_mtdna").fill_null(False))
        .select("martyr_id", "relative_id")
        .join(relatives.select("relative_id", "citizen_id_hash"), on="relative_id")
        .filter(pl.col("citizen_id_hash").is_not_null())
    )
    martyr = dict(
        donors.join(log.select("citizen_id_hash", "date"), on="citizen_id_hash")
        .group_by("martyr_id")
        .agg(pl.col("date").max())
        .iter_rows()
    )
    return remains, martyr


def decision_identifications(council: Council) -> pl.DataFrame:
    """`marts.identifications` rows of the council's decisions: `confirmed` pairs, and `rejected`
    pairs still in force (not proposed again), each with the decision as its evidence."""
    rows = []
    for status, frame in (("confirmed", council.confirmed), ("rejected", council.rejected)):
        for rec in frame.iter_rows(named=True):
            label = "confirmed" if status == "confirmed" else "rejected"
            summary = (
                f"Remains {rec['remains_id']} → martyr {rec['martyr_id']}: {label} by the identification "
                f"council on {rec['decision_date'].isoformat()} (minutes {rec['minutes_ref'] or 'not given'})"
            )
            decided = [
                reason(
                    f"council.{status}",
                    date=rec["decision_date"].isoformat(),
                    minutes=rec["minutes_ref"] or "–",
                )
            ]
            evidence = {
                "summary": summary,
                "status": status,
                "council": {
                    "decision_date": rec["decision_date"].isoformat(),
                    "minutes_ref": rec["minutes_ref"],
                    "retest_result": rec["retest_result"],
                },
            }
            rows.append(
                {
                    "remains_id": rec["remains_id"],
                    "martyr_id": rec["martyr_id"],
                    "status": status,
                    # A decision, not a probability: the pipeline's posterior no longer applies.
                    "posterior": None,
                    "reasons": reason_text(decided),
                    "reason_codes": encode(decided),
                    "competitors": "[]",
                    "evidence": json.dumps(evidence, ensure_ascii=False),
                }
            )
    schema = {
        "remains_id": pl.String, "martyr_id": pl.String, "status": pl.String, "posterior": pl.Float64,
        "reasons": pl.String, "reason_codes": pl.String, "competitors": pl.String, "evidence": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def council_of_run(
    xac_nhan: pl.DataFrame,
    martyrs: pl.DataFrame,
    hai_cot: pl.DataFrame,
    mau_adn: pl.DataFrame,
    ket_qua_adn: pl.DataFrame,
    relatives: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    national_candidates: pl.DataFrame | None = None,
) -> Council:
    """`read_decisions` on the run's tables, with the evidence dates that lift a rejection and the
    other provinces' martyrs of `marts.national_candidates`."""
    remains_dates, martyr_dates = evidence_dates(mau_adn, ket_qua_adn, relatives, maternal_candidates)
    remains_ids = set(hai_cot["remains_id"].drop_nulls().to_list())
    elsewhere = frozenset()
    if national_candidates is not None:
        elsewhere = national_martyrs(national_candidates, remains_ids)
    return read_decisions(xac_nhan, martyrs, remains_ids, remains_dates, martyr_dates, elsewhere)


def settled_elsewhere(national_candidates: pl.DataFrame | None) -> pl.DataFrame:
    """martyr_id, remains_province_code, remains_id: the province's martyrs whose remains another
    province's council confirmed (`marts.national_candidates`: side `martyr_here`, status
    `confirmed`), as the national run returned them."""
    schema = {"martyr_id": pl.String, "remains_province_code": pl.String, "remains_id": pl.String}
    if national_candidates is None or national_candidates.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        national_candidates.filter((pl.col("side") == "martyr_here") & (pl.col("status") == "confirmed"))
        .select(list(schema))
        .unique("martyr_id", keep="first", maintain_order=True)
        .sort("martyr_id")
    )


def national_martyrs(national_candidates: pl.DataFrame, remains_ids: set[str]) -> frozenset[str]:
    """`<province_code>:<martyr_id>` of each other province's martyr the national run named for one of
    the province's remains (`marts.national_candidates`): the id a council decision writes for him."""
    if national_candidates.is_empty():
        return frozenset()
    named = national_candidates.filter(
        pl.col("remains_id").is_in(list(remains_ids))
        & (pl.col("martyr_province_code") != pl.col("remains_province_code"))
    ).select(pl.concat_str("martyr_province_code", pl.lit(":"), "martyr_id").alias("id"))
    return frozenset(named["id"].drop_nulls().to_list())


def council_summary(xac_nhan: pl.DataFrame, council: Council) -> dict[str, object]:
    """What the asset reports about marts.council_decisions (a preview of 8 decisions, notes left out)."""
    decisions = council.decisions
    return {
        "decision_rows": xac_nhan.height,
        "confirmed_in_force": council.confirmed.height,
        "rejected_in_force": council.rejected.height,
        "rejections_lifted_by_new_evidence": int(decisions["lifted"].fill_null(False).sum()),
        "superseded": int((~decisions["in_force"]).sum()),
        "quarantined": council.quarantine.height,
        "preview": decisions.drop("note").head(8),
    }
