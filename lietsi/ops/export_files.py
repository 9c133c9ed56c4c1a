"""The export folder of a run: identifications and donor profiles (CSV and JSON), the province's
consenting reference profiles in EMPOP's EMP format, and the national-matching export
(`national/`), each file written atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lietsi.ops.export import empop_files, remove_stale_temporaries, write_atomic, write_frame
from lietsi.ops.national_export import write_national_export
from lietsi.ops.reports import QueryRunner

# Inside the export folder: what the province sends to national matching.
NATIONAL_DIR = "national"


@dataclass(frozen=True)
class Exports:
    written: dict[str, int]  # export → records written
    waiting: dict[str, str]  # export → why it is not written yet
    stale_temporaries_removed: int


def write_exports(folder: Path, run: QueryRunner, province: str) -> Exports:
    """Write every export whose query can run (`run`: the query's result, or why it cannot run yet)."""
    removed = remove_stale_temporaries(folder)
    written: dict[str, int] = {}
    waiting: dict[str, str] = {}
    for name, kind in (("identifications", "identifications"), ("donor_profiles", "donor_profiles")):
        result = run(f"export_{name}")
        if isinstance(result, str):
            waiting[name] = result
            continue
        write_frame(result, folder, name, kind, json_columns=("evidence",))
        written[name] = result.height
    references = run("export_empop_references")
    dataset = f"{province}: liệt sĩ identification campaign"
    if isinstance(references, str):
        waiting["empop_references"] = references
    else:
        files = empop_files(references, dataset)
        for path in folder.glob("empop_references*.emp"):
            path.unlink()
        for i, text in enumerate(files.values()):
            write_atomic(folder / f"empop_references{'' if i == 0 else f'_{i + 1}'}.emp", text.encode())
        written["empop_references"] = references.height
    national, national_waiting = write_national_export(folder / NATIONAL_DIR, run, province)
    written.update({f"national_{name}": rows for name, rows in national.items()})
    waiting.update({f"national_{name}": why for name, why in national_waiting.items()})
    return Exports(written, waiting, removed)
