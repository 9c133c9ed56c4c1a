"""Writes the ground truth (its tables and columns: `lietsi.truth.TABLES`) while the generator runs."""

from __future__ import annotations

import csv
from pathlib import Path

from lietsi.truth import TABLES


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
