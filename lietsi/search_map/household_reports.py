"""Household forms that point to a grave or burial place, one row per form number."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from lietsi.search_map.coordinates import clean_coordinates
from lietsi.search_map.coverage import VillageResolver
from lietsi.search_map.quarantine import quarantine_frame, quarantine_row

_REPORT_SCHEMA = {
    "form_no": pl.Utf8,
    "province": pl.Utf8,
    "district": pl.Utf8,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "info_type": pl.Utf8,
    "martyr_name": pl.Utf8,
    "description": pl.Utf8,
    "place": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "coordinate_note": pl.Utf8,
    "report_date": pl.Date,
    "village_known": pl.Boolean,
    "file": pl.Utf8,
    "row_number": pl.Int64,
}


_SITE_INFO_TYPES = frozenset({"Mộ liệt sĩ", "Nơi chôn cất"})


def _is_site_report(row: dict, lat: float | None) -> bool:
    """A form with information that points somewhere: a grave or burial place, a place or a point.

    Information about a martyr or a witness with no place (`Nhân chứng`, no `Địa điểm`) counts in
    the village's forms with information but is no site.
    """
    if row.get("has_info") != "Có":
        return False
    return row.get("info_type") in _SITE_INFO_TYPES or bool(row.get("place")) or lat is not None


def prepare_reports(
    forms: pl.DataFrame, known_villages: Iterable[tuple[str, str, str, str]] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reports, quarantine): household forms that carry information, one row per form number.

    A form number seen again with the same content is a duplicate; with other content it is a
    conflict. Either way the first is kept and the other quarantined. Coordinates are cleaned
    (swapped pairs repaired, points outside Vietnam dropped with a note, the report kept).
    """
    resolver = VillageResolver(known_villages)
    seen: dict[str, dict] = {}
    reports: list[dict] = []
    quarantine: list[dict] = []
    content = (
        "commune",
        "village",
        "has_info",
        "info_type",
        "martyr_name",
        "description",
        "place",
        "lat",
        "lon",
    )
    for row in sorted(
        forms.iter_rows(named=True), key=lambda r: (r.get("file") or "", r.get("row_number") or 0)
    ):
        form_no = (row.get("form_no") or "").strip().upper()
        if not form_no:
            quarantine.append(quarantine_row("phieu_ho_gia_dinh", row, "form number missing"))
            continue
        first = seen.get(form_no)
        if first is not None:
            same = all(first.get(c) == row.get(c) for c in content)
            reason = "duplicate form" if same else "form number reused with different content"
            quarantine.append(
                quarantine_row(
                    "phieu_ho_gia_dinh",
                    row,
                    f"{reason}: first in {first.get('file')} row {first.get('row_number')}",
                )
            )
            continue
        seen[form_no] = row
        lat, lon, note = clean_coordinates(row.get("lat"), row.get("lon"))
        if not _is_site_report(row, lat):
            continue
        reports.append(
            {
                "form_no": form_no,
                "province": row.get("province"),
                "district": row.get("district"),
                "commune": row.get("commune"),
                "village": row.get("village"),
                "info_type": row.get("info_type"),
                "martyr_name": row.get("martyr_name"),
                "description": row.get("description"),
                "place": row.get("place"),
                "lat": lat,
                "lon": lon,
                "coordinate_note": note,
                "report_date": row.get("report_date"),
                "village_known": resolver.resolve(row) is not None,
                "file": row.get("file"),
                "row_number": row.get("row_number"),
            }
        )
    frame = pl.DataFrame(reports, schema=_REPORT_SCHEMA, orient="row")
    return frame, quarantine_frame(quarantine)
