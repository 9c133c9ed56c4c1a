"""The ground truth: what really happened behind the inbox files (evaluation only, never ingested).

File and column names are a contract with the evaluation helpers (linkage, kinship, lab, matching,
search map); columns may be added at the end, never renamed.
"""

from __future__ import annotations

import csv
from pathlib import Path

TABLES: dict[str, tuple[str, ...]] = {
    "martyrs": (
        "martyr_uid",
        "full_name",
        "sex",
        "birth_year",
        "hometown_commune",
        "hometown_district",
        "hometown_province",
        "in_province",
        "death_date",
        "death_place",
        "unit",
        "grave_status",
        "mother_name",
        "certificate_no",
        "maternal_line_uid",
        "haplotype",
        "haplogroup",
        "alias",
        "father_name",
        "family_uid",
        "brother_of",
        "haplogroup_bin",
        "haplogroup_mitogenome",
        "death_level",
        "death_country",
        "death_province",
        "death_district",
        "death_commune",
    ),
    "martyr_records": ("source", "source_record_id", "file", "row_number", "martyr_uid"),
    "persons": (
        "person_uid",
        "family_uid",
        "full_name",
        "sex",
        "birth_year",
        "alive",
        "health",
        "consent",
        "citizen_id",
        "maternal_line_uid",
        "haplotype",
        "martyr_uid",
    ),
    "relative_records": (
        "source",
        "file",
        "row_number",
        "person_uid",
        "martyr_uid",
        "relationship_text",
        "kin_path",
        "shares_mtdna",
    ),
    "remains": (
        "remains_id",
        "martyr_uid",
        "in_province",
        "sample_id",
        "recovery_country",
        "recovery_province",
        "recovery_district",
        "recovery_commune",
    ),
    "samples": (
        "sample_id",
        "kind",
        "remains_id",
        "person_uid",
        "range",
        "haplotype",
        "haplogroup",
        "failed",
        "format",
        "file",
        "row_number",
        "haplogroup_mitogenome",
        "haplogroup_range",
    ),
    "sites": (
        "site_uid",
        "province",
        "district",
        "commune",
        "village",
        "lat",
        "lon",
        "martyr_uid",
        "landmark",
        "location",
    ),
    "site_reports": ("form_number", "site_uid", "file", "row_number"),
    "village_coverage": (
        "province",
        "district",
        "commune",
        "village",
        "households",
        "forms_out",
        "forms_back",
        "coverage",
        "concluded",
    ),
    "dirt": ("folder", "file", "row_number", "kind"),
}


def fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Truth:
    def __init__(self, truth_dir: Path):
        truth_dir.mkdir(parents=True, exist_ok=True)
        self._fh = {}
        self._w = {}
        for name, cols in TABLES.items():
            fh = open(truth_dir / f"{name}.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._fh[name] = fh
            self._w[name] = csv.writer(fh, lineterminator="\n")
            self._w[name].writerow(cols)

    def write(self, table: str, row: dict[str, object]) -> None:
        self._w[table].writerow([fmt(row.get(c)) for c in TABLES[table]])

    def dirt(self, folder: str, file: str, row_number: int | None, kind: str) -> None:
        self._w["dirt"].writerow([folder, file, fmt(row_number), kind])

    def close(self) -> None:
        for fh in self._fh.values():
            fh.close()
