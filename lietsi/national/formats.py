"""The files provinces and the national run exchange: names, formats and versions (docs/national.md,
docs/national_export.md). The province writes its export with `lietsi.ops.national_export` and
reads the return through the `quoc_gia/` inbox source (`lietsi.schema.QUOC_GIA`)."""

from __future__ import annotations

# Province → national: `export/national/` (manifest.json and one CSV per table).
NATIONAL_FORMAT = "lietsi.national_export"
NATIONAL_VERSION = "1"
NATIONAL_TABLES = ("martyrs", "references", "remains")
MANIFEST = "manifest.json"

# National → province: `return/<province_code>/quoc_gia/ket_qua_quoc_gia.csv` and its manifest.
RETURN_DIR = "return"
RETURN_FORMAT = "lietsi.national_return"
RETURN_VERSION = "1"
RETURN_FILE = "ket_qua_quoc_gia.csv"
