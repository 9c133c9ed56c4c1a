"""What a province sends to national matching: its martyrs, its consenting references' profiles and
the remains in its cemeteries, without citizen ids, phones or relatives' names (each province keeps
its own keys). Three CSV files and a manifest with the format version and each file's checksum, so
the national run can refuse a file that changed on the way. Format: docs/national_export.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from lietsi.national.formats import MANIFEST, NATIONAL_FORMAT, NATIONAL_TABLES, NATIONAL_VERSION
from lietsi.ops.export import csv_bytes, write_atomic
from lietsi.ops.reports import QueryRunner
from lietsi.places import province_codes
from lietsi.privacy import strip_identifiers
from lietsi.schema import is_personal

# Names of living relatives as the registry writes them: personal, and never sent.
RELATIVES_NAMES = frozenset({"mother_name", "father_name"})
# Text as clerks typed it: a phone or citizen id written into it is removed before it is sent.
FREE_TEXT = frozenset(
    {"full_name", "aliases", "unit", "death_place", "cemetery", "recovery_place", "artefacts"}
)


def write_national_export(
    folder: Path, run: QueryRunner, province: str
) -> tuple[dict[str, int], dict[str, str]]:
    """Write each file whose tables exist, and `manifest.json`, into `folder`: (rows per file written,
    why each other file waits). A province may hold only cemeteries, or only families: what it has
    is still sent."""
    frames, waiting = {}, {}
    for name in NATIONAL_TABLES:
        result = run(f"export_national_{name}")
        if isinstance(result, str):
            waiting[name] = result
        else:
            frames[name] = result
    leaked = sorted(c for f in frames.values() for c in f.columns if is_personal(c) or c in RELATIVES_NAMES)
    if leaked:
        raise ValueError(f"the national export would carry personal columns: {', '.join(leaked)}")
    if not frames:
        return {}, waiting
    frames = {
        name: frame.with_columns(
            pl.col(c).map_elements(strip_identifiers, return_dtype=pl.String)
            for c in frame.columns
            if c in FREE_TEXT and frame.schema[c] == pl.String
        )
        for name, frame in frames.items()
    }
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # read by the people who send it on, whatever the umask
    for stale in set(NATIONAL_TABLES) - set(frames):
        (folder / f"{stale}.csv").unlink(missing_ok=True)
    files = {}
    for name, frame in frames.items():
        data = csv_bytes(frame)
        write_atomic(folder / f"{name}.csv", data)
        files[f"{name}.csv"] = {"rows": frame.height, "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "format": NATIONAL_FORMAT,
        "version": NATIONAL_VERSION,
        "province": province,
        # The two-digit official code: what the national run keys the province's rows by (null when
        # the run could not tell its province, and the national run then refuses the export).
        "province_code": province_codes().get(province),
        "files": files,
        "waiting": waiting,
    }
    write_atomic(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return {name: frame.height for name, frame in frames.items()}, waiting
