"""The ground truth behind a synthetic inbox (`TRUTH_DIR`): what really happened, for evaluation only.

The generator writes it (`lietsi.synth.truth`); every evaluation reads it here, the same way: all
columns as text, a table that is absent is `None`. A real province has no truth folder, and nothing
but the evaluations ever reads one.

File and column names are a contract between the generator and the evaluations; columns may be
added at the end, never renamed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

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


class TruthFolder:
    """A truth folder, or none (`folder=None` or missing): `has` is then false for every table."""

    def __init__(self, folder: Path | None):
        self.folder = folder if folder is not None and folder.is_dir() else None

    def has(self, *tables: str) -> bool:
        return self.folder is not None and all((self.folder / f"{t}.csv").is_file() for t in tables)

    def read(self, table: str) -> pl.DataFrame:
        """Every column as text (ids such as `0123` keep their zeros); callers cast what they measure."""
        if table not in TABLES:
            raise KeyError(f"no truth table {table!r}")
        if not self.has(table):
            raise FileNotFoundError(f"truth table {table}.csv is missing")
        return pl.read_csv(self.folder / f"{table}.csv", infer_schema=False)

    def read_optional(self, table: str) -> pl.DataFrame | None:
        return self.read(table) if self.has(table) else None
