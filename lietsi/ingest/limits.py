"""Per-file bounds of an inbox file: bytes, rows, cells, sequence length."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lietsi.ingest.batches import BatchError


@dataclass(frozen=True)
class FileLimits:
    """Per-file bounds: a file beyond one is rejected with the reason, so no file can exhaust the run.

    The defaults are far above any real export (a province's registry is ~50,000 rows; a complete
    mitochondrial genome is 16,569 bases) and far below what hurts: aligning a sequence costs time
    quadratic in its length.
    """

    max_bytes: int = 200_000_000
    max_rows: int = 1_000_000
    max_cells: int = 50_000_000
    max_sequence_length: int = 20_000


def bounded_records(rows: Iterable[list], limits: FileLimits) -> list[list]:
    """The rows, or a BatchError as soon as the file passes its row or cell limit."""
    records: list[list] = []
    cells = 0
    for row in rows:
        records.append(row)
        cells += len(row)
        if len(records) > limits.max_rows:
            raise BatchError(f"more than {limits.max_rows:,} rows (LIETSI_MAX_ROWS)")
        if cells > limits.max_cells:
            raise BatchError(f"more than {limits.max_cells:,} cells (LIETSI_MAX_CELLS)")
    return records
