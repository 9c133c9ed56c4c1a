"""DNA samples and laboratory results: the collection log, CSV results and FASTA reads.

Remains are sampled in the cemetery; relatives who consented are sampled at their commune health
station, identified by citizen id. Maternal relatives are preferred (that is what the campaign
asks for), but some non-maternal relatives are sampled too, as happens. Each result reports the
range read: mostly the full control region, some HV1/HV2 only; old bone fails more often. About
15% of results come back as FASTA reads instead of EMPOP rows.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from lietsi.lab import mtdna
from lietsi.schema import KET_QUA_ADN, MAU_ADN
from lietsi.synth import haplotypes
from lietsi.synth.dirt import Dirt
from lietsi.synth.forms import Listed
from lietsi.synth.remains import Remains
from lietsi.synth.truth import Truth
from lietsi.synth.writers import FastaSink, FileStyle, Sink

LABS = ("Viện Pháp y Quân đội", "Viện Công nghệ Sinh học", "Trung tâm Phân tích ADN Hà Nội")
_CLASSIC = ((16024, 16400), (30, 407))
P_FASTA = 0.17  # of eligible results: ~15% of all results


@dataclass
class Sample:
    sample_id: str
    kind: str  # remains / relative
    variants: tuple[haplotypes.Variant, ...]
    lineage: haplotypes.Lineage
    collected: dt.date
    remains_id: str = ""
    person_uid: str = ""
    citizen_id: str = ""
    place: str = ""


def _date(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def write_lab(
    inbox: Path,
    remains: list[Remains],
    candidates: list[Listed],
    lineages: dict[str, haplotypes.Lineage],
    seed: int,
    truth: Truth,
) -> None:
    rng = random.Random(f"{seed}:lab")
    dirt = Dirt(rng)
    samples: list[Sample] = []
    for r in remains:
        if r.sample_id:
            collected = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(365 * 6))
            samples.append(
                Sample(
                    r.sample_id,
                    "remains",
                    r.martyr.lineage.variants,
                    r.martyr.lineage,
                    collected,
                    remains_id=r.remains_id,
                    place=r.cemetery,
                )
            )
    seen: set[str] = set()
    n = 0
    for c in candidates:
        if c.person.uid in seen or rng.random() > (0.75 if c.shares_mtdna else 0.15):
            continue
        seen.add(c.person.uid)
        n += 1
        line = lineages[c.person.line_uid]
        collected = dt.date(2024, 6, 1) + dt.timedelta(days=rng.randrange(400))
        samples.append(
            Sample(
                f"MTN{n:05d}",
                "relative",
                line.variants,
                line,
                collected,
                person_uid=c.person.uid,
                citizen_id=c.person.citizen_id,
                place=f"Trạm Y tế {c.commune.full}, {c.commune.district_full}",
            )
        )

    log_remains = Sink(inbox, MAU_ADN, "so_thu_mau_hai_cot.csv", FileStyle(bom=True), truth.dirt)
    log_relatives = Sink(inbox, MAU_ADN, "so_thu_mau_than_nhan.csv", FileStyle(), truth.dirt)
    for s in samples:
        kinds: list[str] = []
        row = {
            "sample_id": s.sample_id,
            "sample_kind": "Hài cốt" if s.kind == "remains" else "Thân nhân",
            "remains_id": s.remains_id,
            "citizen_id": dirt.citizen_id(s.citizen_id, kinds),
            "collection_date": _date(s.collected),
            "collection_place": s.place,
        }
        (log_remains if s.kind == "remains" else log_relatives).row(row, kinds)
    log_remains.close()
    log_relatives.close()

    csv_sinks = {
        lab: Sink(inbox, KET_QUA_ADN, f"ket_qua_{i + 1}.csv", FileStyle(), truth.dirt)
        for i, lab in enumerate(LABS)
    }
    fasta_sinks = {
        lab: FastaSink(inbox, KET_QUA_ADN.folder, f"ket_qua_{i + 1}.fasta") for i, lab in enumerate(LABS)
    }
    for s in sorted(samples, key=lambda s: (s.collected, s.sample_id)):
        sample = {
            "sample_id": s.sample_id,
            "kind": s.kind,
            "remains_id": s.remains_id,
            "person_uid": s.person_uid,
        }
        if rng.random() < 0.06:  # result not back yet
            truth.write("samples", {**sample, "failed": False, "format": ""})
            continue
        lab = rng.choice(LABS)
        old_bone = s.kind == "remains"
        failed = rng.random() < (0.10 if old_bone else 0.015)
        r = rng.random()
        region = haplotypes.CONTROL_REGION
        if r < (0.10 if old_bone else 0.05):
            region = haplotypes.HV1
        elif r < (0.25 if old_bone else 0.12):
            region = _CLASSIC
        seen_variants = haplotypes.restrict(haplotypes.observed(rng, s.variants), region)
        text = haplotypes.haplotype_text(seen_variants)
        # A FASTA read is one contiguous stretch (the control region wraps the origin).
        fmt = "fasta" if (not failed and region != _CLASSIC and rng.random() < P_FASTA) else "csv"
        returned = s.collected + dt.timedelta(days=rng.randint(30, 200))
        if fmt == "fasta":
            sink = fasta_sinks[lab]
            row_no = sink.record(s.sample_id, haplotypes.read_sequence(seen_variants, region))
            file = sink.name
        else:
            sink = csv_sinks[lab]
            row_no = sink.row(
                {
                    "sample_id": s.sample_id,
                    "lab": lab,
                    "result_date": _date(returned),
                    "range": mtdna.format_range(region),
                    "haplotype": "" if failed else text,
                    "quality": "Không đạt" if failed else "Đạt",
                }
            )
            file = sink.name
        truth.write(
            "samples",
            {
                **sample,
                "range": mtdna.format_range(region),
                "haplotype": "" if failed else text,
                "haplogroup": s.lineage.haplogroup,
                "failed": failed,
                "format": fmt,
                "file": file,
                "row_number": row_no,
                "haplogroup_mitogenome": s.lineage.node,
                "haplogroup_range": haplotypes.resolvable(s.lineage.node, region),
            },
        )
    for sink in (*csv_sinks.values(), *fasta_sinks.values()):
        sink.close()
