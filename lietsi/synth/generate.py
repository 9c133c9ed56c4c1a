"""Generate a synthetic province: every inbox folder of the input contract, plus the ground truth."""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

from lietsi.schema import ANSWER_FOLDERS, SOURCES
from lietsi.synth import places
from lietsi.synth.config import CONFIGS, DEMO, GeneratorConfig, config
from lietsi.synth.council import write_council
from lietsi.synth.drops import write_drops
from lietsi.synth.follow_up import write_follow_up
from lietsi.synth.forms import FormsResult, write_forms
from lietsi.synth.haplotypes import Lineage, new_lineage
from lietsi.synth.lab import write_lab
from lietsi.synth.martyrs import Martyr, province_martyrs
from lietsi.synth.places import place_columns
from lietsi.synth.registry import write_registry
from lietsi.synth.remains import write_remains
from lietsi.synth.search_map import write_search_map
from lietsi.synth.truth import Truth

# Folders that depend on each other's draws: forms feed the lab's relative samples, the remains
# register feeds the lab's remains samples.
SOURCE_GROUPS = {
    "registry": ("registry",),
    "forms": ("phieu_01", "phieu_02"),
    "remains": ("hai_cot",),
    "lab": ("mau_adn", "ket_qua_adn"),
    "search_map": ("phieu_ho_gia_dinh", "ket_luan_dia_ban"),
}


def _expand(sources: set[str] | None) -> set[str]:
    if not sources:
        # The council's decisions (`--council-from`) and the national run's candidates answer a
        # previous run, not a new province.
        return set(SOURCES) - set(ANSWER_FOLDERS)
    out: set[str] = set()
    for s in sources:
        if s in SOURCE_GROUPS:
            out.update(SOURCE_GROUPS[s])
        elif s in SOURCES:
            out.add(s)
        else:
            raise ValueError(
                f"unknown source {s!r}: use folders {sorted(SOURCES)} or groups {sorted(SOURCE_GROUPS)}"
            )
    if out & {"mau_adn", "ket_qua_adn"}:
        # Samples come from the remains register and from relatives who consented on form 02.
        out.update(("phieu_01", "phieu_02", "hai_cot", "mau_adn", "ket_qua_adn"))
    return out


def generate(
    out_dir: Path,
    province: str,
    martyrs: int,
    seed: int,
    district: str | None = None,
    sources: set[str] | None = None,
    config: GeneratorConfig = DEMO,
) -> None:
    """Write `out_dir/inbox/<folder>/…` and `out_dir/truth/*.csv` for a synthetic province.

    The same arguments give byte-identical files. `sources` limits the folders written (folder
    names or the groups registry/forms/remains/lab/search_map); truth tables cover what was written.
    `config` holds the province's assumptions (`lietsi.synth.config`: `demo`, `borderland`,
    `homefront`).
    """
    out_dir = Path(out_dir)
    wanted = _expand(sources)
    inbox, truth_dir = out_dir / "inbox", out_dir / "truth"
    for folder in wanted:
        shutil.rmtree(inbox / folder, ignore_errors=True)
    shutil.rmtree(truth_dir, ignore_errors=True)
    prov = places.load_province(province)
    district = district or places.default_district(prov)
    if district not in prov.districts:
        raise ValueError(f"district {district!r} is not in {prov.name}: {', '.join(prov.districts)}")
    ms = province_martyrs(seed, prov, martyrs, config)
    truth = Truth(truth_dir)

    def record(source: str, rid: str, file: str, row: int, uid: str) -> None:
        truth.write(
            "martyr_records",
            {"source": source, "source_record_id": rid, "file": file, "row_number": row, "martyr_uid": uid},
        )

    try:
        if "registry" in wanted:
            write_registry(inbox, ms, prov, district, seed, truth.dirt, record, config)
        forms = FormsResult()
        lineages: dict[str, Lineage] = {m.lineage.uid: m.lineage for m in ms}
        if wanted & {"phieu_01", "phieu_02"}:
            forms = write_forms(inbox, ms, prov, seed, truth, record, config)
            for c in forms.sampled_candidates:
                line = c.person.line_uid
                if line not in lineages:
                    lineages[line] = new_lineage(random.Random(f"{seed}:line:{line}"), line, seed)
        others: list[Martyr] = []
        if "hai_cot" in wanted:
            remains, others = write_remains(inbox, ms, prov, seed, truth, config)
            if wanted & {"mau_adn", "ket_qua_adn"}:
                write_lab(inbox, remains, forms.sampled_candidates, lineages, seed, truth)
        if wanted & {"phieu_ho_gia_dinh", "ket_luan_dia_ban"}:
            write_search_map(inbox, prov, district, ms, seed, truth)
        for m in (*ms, *others):
            _write_martyr(truth, m)
    finally:
        truth.close()


def _write_martyr(truth: Truth, m: Martyr) -> None:
    truth.write(
        "martyrs",
        {
            "martyr_uid": m.uid,
            "full_name": m.name,
            "sex": m.sex,
            "birth_year": m.birth_year,
            "hometown_commune": m.commune.name,
            "hometown_district": m.commune.district,
            "hometown_province": m.commune.province,
            "in_province": m.in_province,
            "death_date": m.death_date.isoformat(),
            "death_place": m.death_place,
            "unit": m.unit,
            "grave_status": m.grave_status,
            "mother_name": m.core.mother_name,
            "certificate_no": m.certificate_no,
            "maternal_line_uid": m.lineage.uid,
            "haplotype": m.lineage.haplotype,
            "haplogroup": m.lineage.haplogroup,
            "alias": m.alias,
            "father_name": m.core.father_name,
            "family_uid": f"F{m.family_idx:07d}" if m.in_province else "",
            "brother_of": m.core.brother_of,
            "haplogroup_bin": m.lineage.bin,
            "haplogroup_mitogenome": m.lineage.node,
            **place_columns("death", m.death.commune, m.death.abroad),
            "death_level": m.death.level,
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.synth",
        description="Generate a synthetic province: dirty inbox files and their ground truth.",
    )
    parser.add_argument(
        "--province", default="Kiên Giang", help="pre-2025 province name (default Kiên Giang)"
    )
    parser.add_argument("--martyrs", type=int, default=1826, help="number of the province's martyrs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data"), help="writes <out>/inbox and <out>/truth")
    parser.add_argument("--district", default=None, help="district of the search-map campaign")
    parser.add_argument(
        "--sources",
        default=None,
        help="comma-separated folders or groups (registry, forms, remains, lab, search_map)",
    )
    parser.add_argument(
        "--config", default="demo", choices=sorted(CONFIGS), help="generator configuration (default demo)"
    )
    parser.add_argument(
        "--council-from",
        type=Path,
        default=None,
        metavar="WAREHOUSE",
        help="instead of a province: the identification council's decisions on the run stored in "
        "WAREHOUSE, judged against <out>/truth, written to <out>/inbox/xac_nhan/",
    )
    parser.add_argument(
        "--confirm-share",
        type=float,
        default=0.5,
        help="with --council-from: share of right proposals confirmed",
    )
    parser.add_argument(
        "--follow-up-from",
        type=Path,
        default=None,
        metavar="WAREHOUSE",
        help="instead of a province: carry out the top --top actions of marts.next_actions in WAREHOUSE "
        "(relatives sampled, failed samples re-tested, whole mitogenomes; new files in "
        "<out>/inbox/mau_adn and ket_qua_adn)",
    )
    parser.add_argument("--top", type=int, default=40, help="with --follow-up-from: actions applied")
    parser.add_argument(
        "--drops",
        type=int,
        default=0,
        help="also split the inbox into <out>/drops/01, 02 …: the registry, then forms by district "
        "over N drops, then lab results over N drops (lietsi/synth/drops.py)",
    )
    args = parser.parse_args(argv)
    if args.follow_up_from is not None:
        drop = write_follow_up(args.out, args.follow_up_from, args.top, seed=args.seed)
        print(
            f"follow-up of {args.follow_up_from}: {len(drop.log)} relatives sampled, "
            f"{len(drop.results)} results; applied {dict(drop.applied)}, not applicable "
            f"{dict(drop.skipped)} → {args.out}/inbox"
        )
        return
    if args.council_from is not None:
        path = write_council(args.out, args.council_from, args.seed, args.confirm_share)
        print(f"council decisions on {args.council_from} → {path}")
        return
    sources = {s.strip() for s in args.sources.split(",") if s.strip()} if args.sources else None
    start = time.perf_counter()
    generate(args.out, args.province, args.martyrs, args.seed, args.district, sources, config(args.config))
    print(
        f"synthetic {args.province} ({args.config}): {args.martyrs} martyrs, seed {args.seed} → "
        f"{args.out}/inbox, {args.out}/truth ({time.perf_counter() - start:.1f} s)"
    )
    if args.drops:
        folders = write_drops(args.out, form_drops=args.drops, lab_drops=args.drops)
        print(f"{len(folders)} drops → {args.out}/drops/ (copy one at a time into the inbox)")
