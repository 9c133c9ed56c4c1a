"""What each stage needs from the inbox, and what it waits for while a folder is empty or missing.

A province's inbox fills over months: the registry first, forms district by district, lab results in
batches. Every stage runs on whatever exists and writes empty tables for what it cannot build yet;
`waiting_for` says why, in the words the data team uses, for the asset metadata and the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    stage: str
    output: str
    folders: tuple[str, ...]  # met when any of these inbox folders has a clean row
    missing: str  # what the stage waits for, said to the data team

    def met(self, rows: Mapping[str, int]) -> bool:
        return any(rows.get(f, 0) > 0 for f in self.folders)


NEEDS: tuple[Need, ...] = (
    Need("linkage", "martyrs", ("registry", "phieu_01", "phieu_02"), "no registry, form 01 or form 02 yet"),
    Need("linkage", "relatives", ("phieu_01", "phieu_02"), "no form 01 or form 02 yet"),
    Need("kinship", "maternal lines and worklist", ("phieu_01", "phieu_02"), "no form 01 or form 02 yet"),
    Need("lab", "mtDNA profiles", ("ket_qua_adn",), "no lab results yet"),
    Need("lab", "sample kinds (remains / relative)", ("mau_adn",), "no sample collection log yet"),
    Need("matching", "identifications", ("hai_cot",), "no remains register yet"),
    Need("matching", "identifications", ("ket_qua_adn",), "no lab results yet"),
    Need("matching", "reference donors with consent", ("phieu_02",), "no form 02 yet"),
    Need("search_map", "search sites and leads", ("phieu_ho_gia_dinh",), "no household forms yet"),
    Need("search_map", "concluded villages", ("ket_luan_dia_ban",), "no village conclusions yet"),
)


def waiting_for(rows: Mapping[str, int], stage: str | None = None) -> list[Need]:
    """The needs not met by `rows` (clean rows per inbox folder), for one stage or all.

    A need naming a folder absent from `rows` is not judged: an asset passes only the folders it reads.
    """
    return [
        n
        for n in NEEDS
        if (stage is None or n.stage == stage) and all(f in rows for f in n.folders) and not n.met(rows)
    ]


def describe(needs: list[Need]) -> str:
    """One line per unmet need: `no form 02 yet: no reference donors with consent`."""
    return "\n".join(f"{n.missing}: no {n.output}" for n in needs)
