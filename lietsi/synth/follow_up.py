"""A simulated follow-up of `marts.next_actions`: the field teams and the lab carry out the top
ranked actions, and their results come back as a new drop, as a province would receive it.

- `sample_relative` / `sample_second_relative`: the relative the action names (the second: the
  line's first donor of `marts.sampling_worklist` not yet sampled) is sampled at the commune health
  station and the lab returns the control region of that person's true maternal haplotype;
- `retest_sample`: the failed sample is analysed again; the lab returns its true control region,
  under the same sample id;
- `sequence_mitogenome`: the remains' sample and one reference sample of each candidate line are
  sequenced whole (EMPOP rows over `1-16569`, the same sample ids). The coding region is the true
  lineage's: the PhyloTree motif of its whole-mitogenome node plus the line's private coding
  mutations (`coding_variants`); the control region agrees with what the lab read before.

Each result can fail as results do (`FAILURE`): a failed result is a `Không đạt` row. A relative
still to be asked for consent (`ask_consent_and_sample`) has no recorded consent: not applied.

The generator knows the truth (`truth/`); a pipeline `relative_id` is traced to its person through
the form row it was read from (`core.relative_links` → `truth/relative_records.csv`), a remains
through `truth/remains.csv`. The drop is a new pair of files in `mau_adn/` and `ket_qua_adn/`.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from lietsi.lab import mtdna
from lietsi.schema import KET_QUA_ADN, MAU_ADN
from lietsi.synth import haplotypes
from lietsi.truth import TruthFolder

CONTROL_REGION = mtdna.format_range(haplotypes.CONTROL_REGION)
MITOGENOME = ((1, 16569),)
# P(a result fails): a relative's swab as in the first drop; bone that failed once fails more often
# on a second extraction; a whole mitogenome of degraded bone needs long amplicons (assumed).
FAILURE = {"relative": 0.015, "retest_remains": 0.3, "mitogenome_remains": 0.15}
APPLIED = ("sample_relative", "sample_second_relative", "retest_sample", "sequence_mitogenome")
LAB = "Follow-up lab"


@dataclass
class Drop:
    """The follow-up's sample log rows, result rows, and what became of each chosen action."""

    log: list[dict[str, str]] = field(default_factory=list)
    results: list[dict[str, str]] = field(default_factory=list)
    applied: Counter = field(default_factory=Counter)  # action → actions carried out
    skipped: Counter = field(default_factory=Counter)  # action → actions that could not be


def coding_variants(line_uid: str, node: str) -> tuple[haplotypes.Variant, ...]:
    """The coding region (577-16023) of a maternal line: its node's PhyloTree motif plus 0-4
    private mutations at sites no PhyloTree node uses, drawn from the line's uid (so every member of
    the line carries the same, and unrelated lines sharing a control region mostly differ)."""
    motif = [
        v for v in haplotypes.motif(node, MITOGENOME) if not mtdna.covers(haplotypes.CONTROL_REGION, v[0])
    ]
    rng = random.Random(f"coding:{line_uid}")
    taken = haplotypes.tree_positions()
    ref = mtdna.rcrs()
    private: list[haplotypes.Variant] = []
    for _ in range(rng.choice((0, 1, 2, 3, 4))):
        pos = rng.randint(577, 16023)
        if pos not in taken:
            private.append((pos, 0, {"A": "G", "G": "A", "C": "T", "T": "C"}.get(ref[pos - 1], "A")))
    return tuple(sorted({(p, i): (p, i, a) for p, i, a in (*motif, *private)}.values()))


def mitogenome_text(read_range: str, read: str, true_cr: str, coding: tuple[haplotypes.Variant, ...]) -> str:
    """The whole mitogenome of a sample read before over `read_range` as `read`: that read where it
    was made (the lab's duplicates must agree), the true control region elsewhere, and the coding
    region."""
    old = mtdna.parse_range(read_range)
    rest = mtdna.without_positions(haplotypes.CONTROL_REGION, (p for a, b in old for p in range(a, b + 1)))
    variants = {
        *mtdna.parse_variants(read),
        *mtdna.restrict(mtdna.parse_variants(true_cr), rest),
        *(mtdna.Variant(*v) for v in coding),
    }
    return mtdna.format_variants(sorted(variants))


class _Truth:
    def __init__(self, truth_dir: Path, relative_links: pl.DataFrame) -> None:
        read = TruthFolder(truth_dir).read
        martyrs = read("martyrs")
        self.line_of = dict(martyrs.select("maternal_line_uid", "haplogroup_mitogenome").iter_rows())
        self.persons = {r["person_uid"]: r for r in read("persons").iter_rows(named=True)}
        by_martyr = {r["martyr_uid"]: r for r in martyrs.iter_rows(named=True)}
        self.remains = {
            r["remains_id"]: by_martyr.get(r["martyr_uid"]) for r in read("remains").iter_rows(named=True)
        }
        self.samples = {r["sample_id"]: r for r in read("samples").iter_rows(named=True)}
        records = read("relative_records").select("source", "file", "row_number", "person_uid")
        traced = relative_links.select(
            "relative_id", "source", "file", pl.col("row_number").cast(pl.String)
        ).join(records, on=["source", "file", "row_number"])
        self.person_of = dict(
            traced.unique("relative_id", keep="first").select("relative_id", "person_uid").iter_rows()
        )

    def lineage(self, sample: dict) -> tuple[str, str, str] | None:
        """(line uid, whole-mitogenome node, true control region) of a sample's donor."""
        if sample["kind"] == "remains":
            m = self.remains.get(sample["remains_id"])
            return (m["maternal_line_uid"], m["haplogroup_mitogenome"], m["haplotype"]) if m else None
        p = self.persons.get(sample["person_uid"])
        if not p or not p["haplotype"] or p["maternal_line_uid"] not in self.line_of:
            return None
        return p["maternal_line_uid"], self.line_of[p["maternal_line_uid"]], p["haplotype"]


def follow_up_drop(
    actions: pl.DataFrame,
    relative_links: pl.DataFrame,
    worklist: pl.DataFrame,
    profiles: pl.DataFrame,
    candidates: pl.DataFrame,
    truth_dir: Path,
    top: int,
    collected: date,
    seed: int = 0,
) -> Drop:
    """The drop carrying out the first `top` ranked actions of `marts.next_actions` (with the run's
    `core.relative_links`, `marts.sampling_worklist`, `marts.mtdna_profiles`, `marts.match_candidates`)."""
    truth = _Truth(truth_dir, relative_links)
    rng = random.Random(f"{seed}:follow-up")
    drop = Drop()
    stamp = collected.strftime("%d/%m/%Y")
    sampled = set(profiles["relative_id"].drop_nulls().to_list())
    sample_of_remains = dict(
        profiles.filter(pl.col("sample_kind") == "remains").select("remains_id", "sample_id").iter_rows()
    )
    sample_of_relative = dict(profiles.select("relative_id", "sample_id").drop_nulls().iter_rows())
    references = (
        candidates.select("line_id", "relative_id").drop_nulls().unique().sort("line_id", "relative_id")
    )
    donors = worklist.filter(pl.col("role").is_in(["primary", "backup"])).sort("priority_rank", "relative_id")

    def result(sample_id: str, region: str, haplotype: str, fails: float) -> None:
        failed = rng.random() < fails
        drop.results.append(
            {
                "Mã mẫu": sample_id,
                "Phòng thí nghiệm": LAB,
                "Ngày trả kết quả": stamp,
                "Vùng đọc được": region,
                "Haplotype": "" if failed else haplotype,
                "Chất lượng": "Không đạt" if failed else "Đạt",
            }
        )

    def sample_relative(relative_id: str | None) -> bool:
        person = truth.persons.get(truth.person_of.get(relative_id or "", ""))
        if not person or not person["citizen_id"] or not person["haplotype"]:
            return False
        sample_id = f"MTN-FU{len(drop.log) + 1:04d}"
        drop.log.append(
            {
                "Mã mẫu": sample_id,
                "Loại mẫu": "Thân nhân",
                "Mã hài cốt": "",
                "Số CCCD": person["citizen_id"],
                "Ngày thu mẫu": stamp,
                "Nơi thu mẫu": "Trạm Y tế (follow-up)",
            }
        )
        sampled.add(relative_id)
        result(sample_id, CONTROL_REGION, person["haplotype"], FAILURE["relative"])
        return True

    def retest(sample_id: str) -> bool:
        sample = truth.samples.get(sample_id)
        origin = truth.lineage(sample) if sample else None
        if not origin:
            return False
        fails = FAILURE["retest_remains"] if sample["kind"] == "remains" else FAILURE["relative"]
        result(sample_id, CONTROL_REGION, origin[2], fails)
        return True

    def mitogenome(sample_id: str | None) -> bool:
        sample = truth.samples.get(sample_id or "")
        origin = truth.lineage(sample) if sample else None
        if not origin or not sample["haplotype"]:
            return False
        text = mitogenome_text(sample["range"], sample["haplotype"], origin[2], coding_variants(*origin[:2]))
        fails = FAILURE["mitogenome_remains"] if sample["kind"] == "remains" else FAILURE["relative"]
        result(sample_id, mtdna.format_range(MITOGENOME), text, fails)
        return True

    chosen = actions.filter(pl.col("rank").is_not_null()).sort("rank").head(top)
    for rec in chosen.iter_rows(named=True):
        kind, target = rec["action"], rec["target"] or ""
        if kind == "sample_relative":
            done = sample_relative(target)
        elif kind == "sample_second_relative":
            line = target.split(" ", 1)[0]
            second = donors.filter(
                (pl.col("maternal_line_id") == line) & ~pl.col("relative_id").is_in(list(sampled))
            )["relative_id"]
            done = not second.is_empty() and sample_relative(second[0])
        elif kind == "retest_sample":
            done = retest(target)
        elif kind == "sequence_mitogenome":
            lines = [x.strip() for x in target.split(",")]
            refs = [
                sample_of_relative.get(references.filter(pl.col("line_id") == line)["relative_id"].first())
                for line in lines
            ]
            done = mitogenome(sample_of_remains.get(rec["subject_id"]))
            done = [mitogenome(s) for s in refs].count(True) > 0 and done
        else:
            done = False
        (drop.applied if done else drop.skipped)[kind] += 1
    return drop


def write_follow_up(
    out_dir: Path, warehouse: Path, top: int, collected: date = date(2026, 3, 1), seed: int = 0
) -> Drop:
    """Write the follow-up drop for the run stored in `warehouse`, judged against `out_dir/truth`."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            con.execute(f"SELECT * FROM {t}").pl()
            for t in (
                "marts.next_actions",
                "core.relative_links",
                "marts.sampling_worklist",
                "marts.mtdna_profiles",
                "marts.match_candidates",
            )
        ]
    drop = follow_up_drop(*tables, Path(out_dir) / "truth", top, collected, seed)
    inbox = Path(out_dir) / "inbox"
    for source, rows in ((MAU_ADN, drop.log), (KET_QUA_ADN, drop.results)):
        folder = inbox / source.folder
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"follow_up_{collected.isoformat()}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=[fld.header for fld in source.fields])
            writer.writeheader()
            writer.writerows(rows)
    return drop
