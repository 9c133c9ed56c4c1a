"""The martyr registry: several records per martyr, from source systems that disagree a little.

Each source system keeps its own list, in its own order and its own habits: the provincial
labour department (Sở LĐTBXH) writes full units and exact dates, the military command (BCHQS)
abbreviates units and keeps aliases, the national population database (CSDLQG dân cư) has few
military fields and northern surname spellings, a district office exports an XLSX with a title
row, and an old supplementary list survives only in VNI encoding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lietsi.schema import REGISTRY
from lietsi.synth import names, places
from lietsi.synth.config import DEMO, GeneratorConfig
from lietsi.synth.dirt import Dirt, partial_date
from lietsi.synth.martyrs import Martyr
from lietsi.synth.writers import DirtHook, FileStyle, Sink

_MAX_ROWS_PER_FILE = 250_000


@dataclass(frozen=True)
class SourceSystem:
    key: str
    label: str  # value of the `Nguồn` column
    coverage: float  # share of the province's martyrs it lists
    file_stem: str
    style: FileStyle
    id_prefix: str


def systems(province: places.Province, office_district: str) -> list[SourceSystem]:
    slug = names.strip_diacritics(office_district).lower().replace(" ", "_")
    return [
        SourceSystem("ldtbxh", "Sở LĐTBXH", 0.93, "so_ldtbxh", FileStyle(sep=";"), f"LS{province.code}-"),
        SourceSystem("csdlqg", "CSDLQG dân cư", 0.7, "csdlqg_dan_cu", FileStyle(bom=True), "QG"),
        SourceSystem("bchqs", "BCHQS tỉnh", 0.5, "bchqs_tinh", FileStyle(legacy="tcvn3"), "QS"),
        SourceSystem(
            "huyen",
            f"Phòng LĐTBXH {office_district}",
            0.6,
            f"phong_ldtbxh_{slug}",
            FileStyle(
                fmt="xlsx", title=f"DANH SÁCH LIỆT SĨ HUYỆN {office_district.upper()}", header_variant=True
            ),
            "H",
        ),
        SourceSystem(
            "bosung",
            "Danh sách bổ sung",
            0.03,
            "danh_sach_bo_sung",
            FileStyle(legacy="vni", legacy_as_bytes=False),
            "BS",
        ),
    ]


def _birth_year(rng: random.Random, m: Martyr, key: str, dirt: Dirt, kinds: list[str]) -> str:
    r = rng.random()
    if r < 0.05:
        return ""
    year = m.birth_year
    if key in ("bchqs", "bosung") and r < 0.15:
        year += rng.choice((-1, 1))  # a different year on a different paper
    return dirt.year(year, kinds)


def _death(rng: random.Random, m: Martyr, key: str) -> str:
    d = m.death_date
    p_day = {"ldtbxh": 0.75, "csdlqg": 0.5, "bchqs": 0.8, "huyen": 0.6, "bosung": 0.3}[key]
    if key == "bosung" and rng.random() < 0.3:
        return f"{d.day}-{d.month}-{d.year % 100:02d}"  # typed from an old ledger: `12-3-72`
    return partial_date(rng, d.year, d.month, d.day, p_day=p_day, p_month=0.15, approx=0.3)


def _hometown(rng: random.Random, m: Martyr, key: str, kinds: list[str]) -> str:
    if key == "csdlqg" and rng.random() < 0.15:
        new = places.post_2025_name(m.commune)
        if new:
            kinds.append("post_2025_name")
            return new
    return places.hometown_text(rng, m.commune)


def record(
    rng: random.Random,
    m: Martyr,
    system: SourceSystem,
    dirt: Dirt,
    southern: bool,
    p_death_place: float = 0.85,
) -> tuple[dict[str, object], list[str]]:
    kinds: list[str] = []
    key = system.key
    name = m.name
    if key == "csdlqg" and name.split()[0] in names.SOUTH_TO_NORTH and dirt.hit("northern_spelling"):
        name = names.northern_spelling(name)
        kinds.append("northern_spelling")
    name = dirt.name(name, kinds)
    alias = m.alias if (m.alias and rng.random() < (0.8 if key == "bchqs" else 0.4)) else ""
    if alias and key == "bchqs" and rng.random() < 0.15:
        # Military lists often keep the alias in the name cell: `Nguyễn Văn Thành (Tư Thành)`.
        name, alias = f"{name} ({alias})", ""
        kinds.append("alias_in_name")
    military = key in ("ldtbxh", "bchqs", "huyen")
    row: dict[str, object] = {
        "source_system": system.label,
        "full_name": name,
        "alias": alias,
        "sex": m.sex if rng.random() < 0.9 else "",
        "birth_year": _birth_year(rng, m, key, dirt, kinds),
        "hometown": dirt.text(_hometown(rng, m, key, kinds), kinds),
        "enlistment_date": partial_date(
            rng, m.enlistment.year, m.enlistment.month, m.enlistment.day, p_day=0.3, p_month=0.4
        )
        if military and rng.random() < 0.7
        else "",
        "rank": m.rank if military else "",
        "position": m.position if military and rng.random() < 0.7 else "",
        "unit": (m.unit_abbr if key == "bchqs" or rng.random() < 0.2 else m.unit) if key != "csdlqg" else "",
        "death_date": dirt.date(_death(rng, m, key), kinds),
        "death_place": m.death_place if rng.random() < p_death_place else "",
        "father_name": m.core.father_name if rng.random() < 0.6 else "",
        "mother_name": dirt.name(m.core.mother_name, kinds, allow_abbrev=False) if rng.random() < 0.8 else "",
        "grave_status": m.grave_status if rng.random() < 0.95 else "",
        "cemetery": m.cemetery,
        "grave_position": m.grave_position if rng.random() < 0.9 else "",
        "certificate_no": m.certificate_no if key in ("ldtbxh", "huyen") or rng.random() < 0.3 else "",
    }
    if not southern and row["full_name"].split()[0] in names.SOUTH_TO_NORTH:
        row["full_name"] = names.northern_spelling(str(row["full_name"]))
    return row, kinds


OnRecord = Callable[[str, str, str, int, str], None]  # source, record id, file, row, martyr uid


def write_registry(
    inbox: Path,
    martyrs: list[Martyr],
    province: places.Province,
    office_district: str,
    seed: int,
    on_dirt: DirtHook,
    on_record: OnRecord,
    config: GeneratorConfig = DEMO,
) -> None:
    """Write every source system's list; report each row's martyr through `on_record`."""
    all_systems = systems(province, office_district)
    rngs = {s.key: random.Random(f"{seed}:registry:{s.key}") for s in all_systems}
    listed: dict[str, list[Martyr]] = {}
    for s in all_systems:
        rng = rngs[s.key]
        listed[s.key] = [
            m
            for m in martyrs
            if (s.key != "huyen" or m.commune.district == office_district) and rng.random() < s.coverage
        ]
    # Every martyr is in at least one list: the provincial department's.
    elsewhere = {m.uid for key, ms in listed.items() if key != "ldtbxh" for m in ms}
    main = {m.uid for m in listed["ldtbxh"]}
    rng = rngs["ldtbxh"]
    listed["ldtbxh"] = [m for m in martyrs if m.uid in main or m.uid not in elsewhere]
    # A few martyrs were entered twice by the department (two record ids).
    listed["ldtbxh"] += [m for m in martyrs if rng.random() < 0.02]
    for system in all_systems:
        rows = sorted(listed[system.key], key=_sort_key(system.key))
        _write_system(inbox, system, rows, rngs[system.key], province, on_dirt, on_record, seed, config)


def _sort_key(key: str) -> Callable[[Martyr], tuple]:
    if key in ("ldtbxh", "huyen"):
        return lambda m: (m.commune.district, m.commune.name, names.given_name(m.name), m.uid)
    if key == "bchqs":
        return lambda m: (m.death_date, m.uid)
    return lambda m: (m.birth_year, m.commune.name, m.uid)


def _write_system(
    inbox: Path,
    system: SourceSystem,
    listed: list[Martyr],
    rng: random.Random,
    province: places.Province,
    on_dirt: DirtHook,
    on_record: OnRecord,
    seed: int,
    config: GeneratorConfig,
) -> None:
    dirt = Dirt(random.Random(f"{seed}:registry-dirt:{system.key}"))
    parts = max(1, -(-len(listed) // _MAX_ROWS_PER_FILE))
    ext = "xlsx" if system.style.fmt == "xlsx" else "csv"
    sink = None
    used_ids: set[int] = set()
    for i, m in enumerate(listed):
        if i % _MAX_ROWS_PER_FILE == 0:
            if sink:
                sink.close()
            part = f"_p{i // _MAX_ROWS_PER_FILE + 1:02d}" if parts > 1 else ""
            sink = Sink(inbox, REGISTRY, f"{system.file_stem}{part}.{ext}", system.style, on_dirt)
        if system.key == "csdlqg":
            n = rng.randrange(10**8, 10**9)
            while n in used_ids:
                n = rng.randrange(10**8, 10**9)
            used_ids.add(n)
            rid = f"QG{n}"
        else:
            rid = f"{system.id_prefix}{i + 1:06d}"
        row, kinds = record(rng, m, system, dirt, province.southern, config.p_death_place_registry)
        row["record_id"] = rid
        n_row = sink.row(row, kinds)
        on_record("registry", rid, sink.name, n_row, m.uid)
        if dirt.hit("duplicate_row"):
            n_row = sink.row(row, ["duplicate_row"])
            on_record("registry", rid, sink.name, n_row, m.uid)
    if sink:
        sink.close()
