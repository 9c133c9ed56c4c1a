"""Coverage per village, commune and district: forms back over households, against the target."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from lietsi.search_map.keys import village_tuple
from lietsi.search_map.quarantine import quarantine_frame, quarantine_row

COVERAGE_TARGET = 0.95
COVERAGE_TOLERANCE = 0.5e-4


@dataclass(frozen=True)
class Coverage:
    villages: pl.DataFrame
    communes: pl.DataFrame
    districts: pl.DataFrame
    quarantine: pl.DataFrame


_VILLAGE_SCHEMA = {
    "province": pl.Utf8,
    "district": pl.Utf8,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "households": pl.Int64,
    "forms_out": pl.Int64,
    "forms_back": pl.Int64,
    "coverage": pl.Float64,
    "concluded": pl.Boolean,
    "meeting_date": pl.Date,
    "conclusion": pl.Utf8,
    "forms_entered": pl.Int64,
    "forms_with_info": pl.Int64,
    "below_target": pl.Boolean,
    "no_conclusion": pl.Boolean,
    "forms_entered_mismatch": pl.Boolean,
    "file": pl.Utf8,
    "row_number": pl.Int64,
}


def _impossible(row: dict) -> str | None:
    households, out, back = row.get("households"), row.get("forms_out"), row.get("forms_back")
    if households is None or households <= 0:
        return f"households missing or not positive ({households})"
    if out is None or back is None:
        return "forms handed out or returned missing"
    if out < 0 or back < 0:
        return f"negative form count (out {out}, back {back})"
    if back > out:
        return f"impossible coverage: forms back ({back}) exceed forms handed out ({out})"
    if back > households:
        return f"impossible coverage: forms back ({back}) exceed households ({households})"
    return None


def _concluded(row: dict) -> bool:
    # A meeting date the ingest could not parse is still a meeting that was held.
    return bool(row.get("meeting_date") or row.get("meeting_date_text") or row.get("conclusion"))


def village_index(conclusions: pl.DataFrame) -> dict[tuple[str, str, str, str], int]:
    """Every village named in the conclusion table (valid or not) → its first row index."""
    index: dict[tuple[str, str, str, str], int] = {}
    for i, row in enumerate(conclusions.iter_rows(named=True)):
        index.setdefault(village_tuple(row), i)
    return index


class VillageResolver:
    """Finds the conclusion village of a household form: full key first, then commune + village.

    Household forms often leave the province or district blank; commune + village alone is used
    only when it names exactly one known village.
    """

    def __init__(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        self._full: set[tuple[str, str, str, str]] = set(keys)
        self._short: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
        for key in self._full:
            self._short.setdefault((key[2], key[3]), []).append(key)

    def resolve(self, row: dict) -> tuple[str, str, str, str] | None:
        key = village_tuple(row)
        if key in self._full:
            return key
        candidates = [
            k
            for k in self._short.get((key[2], key[3]), [])
            if (not key[0] or k[0] == key[0]) and (not key[1] or k[1] == key[1])
        ]
        return candidates[0] if len(candidates) == 1 else None


def village_coverage(
    conclusions: pl.DataFrame, forms: pl.DataFrame, *, target: float = COVERAGE_TARGET
) -> Coverage:
    """Coverage per village, commune and district, with the rows that cannot be counted quarantined.

    `conclusions` is `raw.ket_luan_dia_ban`, `forms` is `raw.phieu_ho_gia_dinh`. Coverage is forms
    returned over households (the campaign target is over 95% of households). When one village has
    several conclusion rows the last one (file name order, then row) is kept and the earlier ones
    are quarantined as superseded, so a corrected re-send replaces the first report.
    """
    quarantine: list[dict] = []
    chosen: dict[tuple[str, str, str, str], dict] = {}
    order = sorted(
        conclusions.iter_rows(named=True), key=lambda r: (r.get("file") or "", r.get("row_number") or 0)
    )
    for row in order:
        reason = _impossible(row)
        if reason:
            quarantine.append(quarantine_row("ket_luan_dia_ban", row, reason))
            continue
        key = village_tuple(row)
        earlier = chosen.get(key)
        if earlier is not None:
            same = all(earlier.get(c) == row.get(c) for c in ("households", "forms_out", "forms_back"))
            what = "duplicate of" if same else "superseded by"
            quarantine.append(
                quarantine_row(
                    "ket_luan_dia_ban", earlier, f"{what} {row.get('file')} row {row.get('row_number')}"
                )
            )
        chosen[key] = row

    resolver = VillageResolver(village_index(conclusions))
    entered: Counter = Counter()
    with_info: Counter = Counter()
    seen_forms: set[str] = set()
    for row in forms.iter_rows(named=True):
        form_no = (row.get("form_no") or "").strip().upper()
        if form_no in seen_forms:
            continue
        seen_forms.add(form_no)
        key = resolver.resolve(row)
        if key is None:
            continue
        entered[key] += 1
        if row.get("has_info") == "Có":
            with_info[key] += 1

    out: list[dict] = []
    for key, row in chosen.items():
        coverage = row["forms_back"] / row["households"]
        concluded = _concluded(row)
        out.append(
            {
                "province": row.get("province"),
                "district": row.get("district"),
                "commune": row.get("commune"),
                "village": row.get("village"),
                "households": row["households"],
                "forms_out": row["forms_out"],
                "forms_back": row["forms_back"],
                "coverage": coverage,
                "concluded": concluded,
                "meeting_date": row.get("meeting_date"),
                "conclusion": row.get("conclusion"),
                "forms_entered": entered[key],
                "forms_with_info": with_info[key],
                "below_target": coverage < target,
                "no_conclusion": not concluded,
                "forms_entered_mismatch": entered[key] != row["forms_back"],
                "file": row.get("file"),
                "row_number": row.get("row_number"),
            }
        )
    villages = pl.DataFrame(out, schema=_VILLAGE_SCHEMA, orient="row").sort(
        "province", "district", "commune", "village", nulls_last=True
    )
    communes = rollup(villages, ["province", "district", "commune"], target=target)
    districts = rollup(villages, ["province", "district"], target=target)
    return Coverage(villages, communes, districts, quarantine_frame(quarantine))


def rollup(villages: pl.DataFrame, by: Sequence[str], *, target: float = COVERAGE_TARGET) -> pl.DataFrame:
    """Coverage of a commune or district: sums over its villages, behind schedule with the reasons.

    A unit is behind schedule when its coverage is under target or a village has not yet held its
    conclusion meeting.
    """
    agg = (
        villages.group_by(list(by), maintain_order=True)
        .agg(
            pl.len().alias("villages"),
            pl.col("households").sum(),
            pl.col("forms_out").sum(),
            pl.col("forms_back").sum(),
            pl.col("forms_with_info").sum(),
            pl.col("concluded").sum().alias("villages_concluded"),
            pl.col("below_target").sum().alias("villages_below_target"),
        )
        .with_columns(
            (pl.col("forms_back") / pl.col("households")).alias("coverage"),
        )
    )
    reasons = pl.concat_list(
        pl.when(pl.col("coverage") < target)
        .then(pl.format("coverage {}% under target", (pl.col("coverage") * 100).round(1)))
        .otherwise(None),
        pl.when(pl.col("villages_concluded") < pl.col("villages"))
        .then(
            pl.format("{} village(s) without conclusion", pl.col("villages") - pl.col("villages_concluded"))
        )
        .otherwise(None),
    ).list.drop_nulls()
    return agg.with_columns(
        (reasons.list.len() > 0).alias("behind_schedule"),
        reasons.list.join("; ").alias("behind_reason"),
    ).sort(list(by), nulls_last=True)
