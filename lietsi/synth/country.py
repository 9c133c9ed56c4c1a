"""A generated country: several provinces whose cemeteries hold each other's martyrs.

Each province is a full inbox from the province generator (`generate.generate`); what a country
changes is who lies in each province's register of unidentified remains. A martyr whose grave is
unidentified (`Chưa xác định`) lies in one place, drawn from his home province's `flows` (the war's:
northern provinces' martyrs in Quảng Trị and the South, southern provinces' in Cambodia, repatriated
to the border provinces, and the Mekong); the rest of the share lies in provinces not generated.
His place and date of death are made consistent with where he lies (a province's front years; from
1977 a border province's remains are often repatriated from the Cambodian provinces its teams
search), and a martyr who lies outside his home province served in a main-force unit of that
region. Every register also holds remains of martyrs of provinces not generated (`nobody_sent`: no
province sends their families).

A remains of another generated province's martyr is that martyr, with his lineage (the haplotype his
family's references carry), renamed into the province's truth as any other province's martyr is;
`DIR/truth/national_remains.csv` says who every remains of the country really is.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from lietsi.synth import places
from lietsi.synth.config import config
from lietsi.synth.generate import generate
from lietsi.synth.martyrs import RANKS, Martyr, other_province_martyrs, province_martyrs
from lietsi.synth.remains import Placement
from lietsi.truth import TruthFolder

UNIDENTIFIED = "Chưa xác định"
NATIONAL_REMAINS = ("province_code", "remains_id", "martyr_province_code", "martyr_uid")
PROVINCE_COLUMNS = ("province_code", "province", "config", "seed", "martyrs")
# Line ids of other generated provinces' martyrs in a province's truth: apart from its own families'
# (`ML0000001`…) and from the martyrs nobody sent (`ML10000000`…).
_FOREIGN_LINES = 20_000_000


@dataclass(frozen=True)
class CountryProvince:
    """One province of the country: its generator configuration, where its martyrs' unidentified
    remains lie (`flows`: destination province → share; the rest lies in provinces not generated),
    and the share of its register that are martyrs of provinces not generated (`nobody_sent`)."""

    name: str
    config: str
    flows: tuple[tuple[str, float], ...]
    nobody_sent: float


_NORTH = (("Quảng Trị", 0.35), ("Tây Ninh", 0.20), ("Kiên Giang", 0.05), ("An Giang", 0.05))
_TAY_NINH = (("Tây Ninh", 0.65), ("Kiên Giang", 0.05), ("An Giang", 0.05))
_KIEN_GIANG = (("Kiên Giang", 0.70), ("An Giang", 0.10), ("Tây Ninh", 0.05))
_AN_GIANG = (("An Giang", 0.65), ("Kiên Giang", 0.15), ("Tây Ninh", 0.05))
# In the order `--provinces N` takes them: the first five carry every flow.
PROVINCES: tuple[CountryProvince, ...] = (
    CountryProvince("Nghệ An", "homefront", (("Nghệ An", 0.15), *_NORTH), 0.05),
    CountryProvince("Quảng Trị", "borderland", (("Quảng Trị", 0.75), ("Tây Ninh", 0.05)), 0.45),
    CountryProvince("Tây Ninh", "borderland", _TAY_NINH, 0.3),
    CountryProvince("Kiên Giang", "demo", _KIEN_GIANG, 0.2),
    CountryProvince("Thái Bình", "demo", (("Thái Bình", 0.15), *_NORTH), 0.05),
    CountryProvince("Hà Tĩnh", "homefront", (("Hà Tĩnh", 0.20), *_NORTH), 0.05),
    CountryProvince("An Giang", "demo", _AN_GIANG, 0.2),
)
# Years in which soldiers from elsewhere fell in a province: Quảng Trị through both wars to 1975;
# the southern provinces to the end of the Cambodian war (their border provinces' cemeteries
# receive the remains repatriated from Cambodia).
FRONT_YEARS = {"Quảng Trị": (1947, 1975)}
_YEARS = (1945, 1989)
# Cambodian provinces searched by each border province's repatriation teams (K-teams), and the
# share of its remains of men who fell from 1977 that come from there.
REPATRIATION = {
    "Tây Ninh": ("Kampong Cham", "Tbong Khmum", "Svay Rieng", "Kratie", "Prey Veng"),
    "Kiên Giang": ("Kampot", "Koh Kong", "Kep", "Preah Sihanouk", "Battambang", "Pursat"),
    "An Giang": ("Takeo", "Kandal", "Kampong Speu", "Kampong Chhnang"),
}
P_CAMBODIA = 0.55
# Main-force (regiment, division) pairs of each front: Route 9–Quảng Trị (the northern divisions),
# the South-East (Military Region 7, then Cambodia), the Mekong (Military Regions 8 and 9).
_MEKONG = ((20, 4), (1, 330), (2, 330), (3, 330), (1, 339), (10, 8), (10, 341))
REGION_UNITS = {
    "Quảng Trị": (
        (9, 304), (24, 304), (66, 304), (36, 308), (88, 308), (102, 308), (48, 320), (64, 320),
        (803, 324), (812, 324), (18, 325), (95, 325), (101, 325),
    ),
    "Tây Ninh": ((1, 9), (2, 9), (3, 9), (141, 7), (165, 7), (209, 7), (174, 5), (33, 5), (275, 5)),
    "Kiên Giang": _MEKONG,
    "An Giang": _MEKONG,
}  # fmt: skip


def province_seed(seed: int, code: str) -> int:
    """Each province's own seed: the country's seed with its official code (distinct people)."""
    return seed * 100 + int(code)


def choose(provinces: int | list[str]) -> list[CountryProvince]:
    """The first `provinces` of `PROVINCES`, or those named (in `PROVINCES` order)."""
    if isinstance(provinces, int):
        if not 2 <= provinces <= len(PROVINCES):
            raise ValueError(f"a country has 2 to {len(PROVINCES)} provinces, not {provinces}")
        return list(PROVINCES[:provinces])
    known = {p.name: p for p in PROVINCES}
    unknown = [n for n in provinces if n not in known]
    if unknown:
        raise ValueError(f"no flows for {', '.join(unknown)}: use {', '.join(known)}")
    return [p for p in PROVINCES if p.name in provinces]


def destination(rng: random.Random, home: CountryProvince, year: int, generated: set[str]) -> str | None:
    """Where the unidentified remains of a martyr of `home` who fell in `year` lie: a generated
    province by the home's flows, or None (a province not generated, or a front closed that year)."""
    r = rng.random()
    for dest, share in home.flows:
        if r < share:
            lo, hi = _YEARS if dest == home.name else FRONT_YEARS.get(dest, _YEARS)
            return dest if dest in generated and lo <= year <= hi else None
        r -= share
    return None


def _local_area(m: Martyr, home: places.Province) -> list[places.Commune]:
    """The communes a local unit (`Du kích xã X`, `Huyện đội Y`) fought in; empty for main force."""
    if m.unit.startswith("Du kích xã "):
        name = m.unit.removeprefix("Du kích xã ")
        return [c for c in home.communes if c.name == name][:1]
    if m.unit.startswith("Huyện đội "):
        district = m.unit.removeprefix("Huyện đội ")
        return [c for c in home.communes if c.district == district]
    return []


def lies_in(
    rng: random.Random,
    m: Martyr,
    dest: places.Province,
    home: places.Province,
    cuts: tuple[float, float, float],
) -> Martyr:
    """The martyr, his death moved to `dest` if he did not fall there (nor in Cambodia, for a border
    province), and in a main-force unit of `dest`'s front if `dest` is not his home."""
    year = m.death_date.year
    c = m.death.commune
    fell_there = (c is not None and c.province == dest.name) or (
        c is None and (dest.name in REPATRIATION or dest.name == home.name)
    )
    death = m.death
    if not fell_there:
        if dest.name in REPATRIATION and year >= 1977 and rng.random() < P_CAMBODIA:
            death = places.fell_abroad(rng, rng.choice(REPATRIATION[dest.name]), year)
        else:
            area = _local_area(m, home) if dest.name == home.name else []
            death = places.fell_in(rng, rng.choice(area or list(dest.communes)), home, year, cuts)
    if dest.name == home.name:
        return replace(m, death=death)
    regiment, division = rng.choice(REGION_UNITS.get(dest.name, _MEKONG))
    company, battalion = rng.randint(1, 4), rng.choice((1, 2, 3))
    return replace(
        m,
        death=death,
        unit=sys.intern(
            f"Đại đội {company}, Tiểu đoàn {battalion}, Trung đoàn {regiment}, Sư đoàn {division}"
        ),
        unit_abbr=sys.intern(f"C{company} D{battalion} E{regiment} F{division}"),
        rank=rng.choice(RANKS) if m.rank == "Du kích" else m.rank,
    )


def _renamed(m: Martyr, uid: str, k: int) -> Martyr:
    """Another province's martyr in this province's truth: its uid and line id space."""
    line = f"ML{_FOREIGN_LINES + k:07d}"
    return replace(
        m,
        uid=uid,
        family_idx=_FOREIGN_LINES + k,
        in_province=False,
        core=replace(m.core, uid=uid, line_uid=line, brother_of=None),
        lineage=replace(m.lineage, uid=line),
    )


def generate_country(
    out_dir: Path, provinces: int | list[str], martyrs: int, seed: int
) -> list[CountryProvince]:
    """Write `out_dir/provinces/<code>/{inbox,truth}` for every province of the country,
    `out_dir/truth/national_remains.csv` (the true martyr of every remains: his province's code and
    uid, empty when no generated province registers him) and `out_dir/truth/provinces.csv`.
    The same arguments give byte-identical files."""
    out_dir = Path(out_dir)
    chosen = choose(provinces)
    generated = {p.name for p in chosen}
    prov = {p.name: places.load_province(p.name) for p in chosen}
    seeds = {p.name: province_seed(seed, prov[p.name].code) for p in chosen}
    cast = {p.name: province_martyrs(seeds[p.name], prov[p.name], martyrs, config(p.config)) for p in chosen}
    lying: dict[str, list[tuple[str, Martyr]]] = {p.name: [] for p in chosen}
    for p in chosen:
        cuts = config(p.config).death_level_cuts
        for i, m in enumerate(cast[p.name]):
            if m.grave_status != UNIDENTIFIED:
                continue
            rng = random.Random(f"{seed}:country:{prov[p.name].code}:{m.uid}")
            dest = destination(rng, p, m.death_date.year, generated)
            if dest is None:
                continue
            cast[p.name][i] = moved = lies_in(rng, m, prov[dest], prov[p.name], cuts)
            lying[dest].append((p.name, moved))
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    with (
        open(truth_dir / "national_remains.csv", "w", encoding="utf-8", newline="") as nat,
        open(truth_dir / "provinces.csv", "w", encoding="utf-8", newline="") as provs,
    ):
        remains_out = csv.writer(nat, lineterminator="\n")
        provinces_out = csv.writer(provs, lineterminator="\n")
        remains_out.writerow(NATIONAL_REMAINS)
        provinces_out.writerow(PROVINCE_COLUMNS)
        for p in chosen:
            code, cfg = prov[p.name].code, config(p.config)
            here = lying[p.name]
            start = len(cast[p.name])
            nobody = round(p.nobody_sent / (1 - p.nobody_sent) * len(here))
            others = other_province_martyrs(
                seeds[p.name], prov[p.name], nobody, start, cfg, exclude=frozenset(generated)
            )
            true_martyr = {m.uid: (code, m.uid) for m in cast[p.name]}
            foreign = [(home, m) for home, m in here if home != p.name]
            for k, (home, m) in enumerate(foreign):
                uid = f"LS{start + nobody + k + 1:07d}"
                others.append(_renamed(m, uid, k))
                true_martyr[uid] = (prov[home].code, m.uid)
            placement = Placement(
                martyrs=tuple(cast[p.name]),
                in_register=frozenset(m.uid for home, m in here if home == p.name),
                others=tuple(others),
            )
            folder = out_dir / "provinces" / code
            generate(folder, p.name, martyrs, seeds[p.name], config=cfg, placement=placement)
            for row in TruthFolder(folder / "truth").read("remains").iter_rows(named=True):
                remains_out.writerow((code, row["remains_id"], *true_martyr.get(row["martyr_uid"], ("", ""))))
            provinces_out.writerow((code, p.name, p.config, seeds[p.name], martyrs))
    return chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.synth",
        description="Generate a synthetic country: several provinces' inboxes whose cemeteries hold "
        "each other's martyrs, each province's truth, and the country's (truth/national_remains.csv).",
    )
    parser.add_argument("--national", action="store_true", required=True, help="a country, not one province")
    parser.add_argument(
        "--provinces",
        default="5",
        help=f"how many (the first N of: {', '.join(p.name for p in PROVINCES)}) or comma-separated names",
    )
    parser.add_argument("--martyrs-per-province", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/country"))
    args = parser.parse_args(argv)
    wanted: int | list[str] = (
        int(args.provinces)
        if args.provinces.strip().isdigit()
        else [n.strip() for n in args.provinces.split(",") if n.strip()]
    )
    try:
        choose(wanted)
    except ValueError as exc:
        parser.error(str(exc))
    if args.martyrs_per_province < 1:
        parser.error("--martyrs-per-province must be at least 1")
    start = time.perf_counter()
    chosen = generate_country(args.out, wanted, args.martyrs_per_province, args.seed)
    print(
        f"synthetic country of {len(chosen)} provinces ({', '.join(p.name for p in chosen)}), "
        f"{args.martyrs_per_province} martyrs each, seed {args.seed} → {args.out}/provinces/<code>/inbox, "
        f"{args.out}/truth ({time.perf_counter() - start:.1f} s)"
    )
