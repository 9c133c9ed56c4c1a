"""The register of unidentified remains (hài cốt chưa xác định danh tính) in the province.

Part of the remains are this province's martyrs whose grave is `Chưa xác định` (gathered into a
cemetery, name unknown); the rest are martyrs of other provinces who fell here or were brought
back from Cambodia. Recovery happened after death, mostly in the gathering campaigns from 1976 on;
artefacts sometimes carry a name, and forensic estimates of sex and age are partial.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from lietsi.schema import HAI_COT
from lietsi.synth import names, places
from lietsi.synth.dirt import Dirt, partial_date
from lietsi.synth.martyrs import Martyr, other_province_martyrs
from lietsi.synth.writers import DirtHook, FileStyle, Sink

P_IN_REGISTER = 0.65  # of the province's martyrs whose grave is unidentified
OTHER_PER_OWN = 0.6  # other provinces' martyrs per own martyr in the register
_PLAIN_ARTEFACTS = (
    "lược nhôm",
    "cúc áo",
    "dép cao su",
    "võng dù",
    "bi đông",
    "ca nhôm",
    "bát sắt",
    "khuy áo quân phục",
    "mảnh tăng",
    "kẹp tóc",
    "nhẫn nhôm",
    "đồng hồ hỏng",
)


@dataclass
class Remains:
    remains_id: str
    martyr: Martyr
    sample_id: str
    cemetery: str
    collected: dt.date | None = None


def _artefacts(rng: random.Random, m: Martyr) -> str:
    items = rng.sample(_PLAIN_ARTEFACTS, rng.randint(1, 3))
    if rng.random() < 0.3:
        label = rng.choice(
            [names.given_name(m.name), m.alias or names.given_name(m.name), names.abbreviate(m.name)]
        )
        carrier = rng.choice(("bi đông khắc chữ", "ca nhôm khắc tên", "thẻ nhựa ghi", "võng dù có chữ"))
        items.insert(rng.randrange(len(items) + 1), f'{carrier} "{label}"')
    return ", ".join(items)


def _age_range(rng: random.Random, age: int) -> str:
    lo = max(16, age - rng.randint(1, 6))
    return f"{lo}-{lo + rng.choice((5, 7, 10))}"


def write_remains(
    inbox: Path, martyrs: list[Martyr], province: places.Province, seed: int, on_dirt: DirtHook
) -> tuple[list[Remains], list[Martyr]]:
    rng = random.Random(f"{seed}:remains")
    own = [m for m in martyrs if m.grave_status == "Chưa xác định" and rng.random() < P_IN_REGISTER]
    others = other_province_martyrs(seed, province, max(1, round(len(own) * OTHER_PER_OWN)), len(martyrs))
    pool = own + others
    rng.shuffle(pool)
    dirt = Dirt(rng)
    out: list[Remains] = []
    half = len(pool) // 2
    sinks = [
        Sink(
            inbox,
            HAI_COT,
            "hai_cot_nghia_trang_tinh.xlsx",
            FileStyle(
                fmt="xlsx",
                title=f"SỔ QUẢN LÝ HÀI CỐT LIỆT SĨ CHƯA XÁC ĐỊNH DANH TÍNH - {province.name.upper()}",
            ),
            on_dirt,
        ),
        Sink(inbox, HAI_COT, "hai_cot_nghia_trang_huyen.csv", FileStyle(), on_dirt),
    ]
    for k, m in enumerate(pool):
        rid = f"HC{province.code}-{k + 1:05d}"
        sample = f"MHC{k + 1:05d}" if rng.random() < 0.88 else ""
        cem = places.cemetery(rng, province)
        year = (
            rng.randint(max(m.death_date.year + 1, 1976), 2024)
            if rng.random() < 0.9
            else rng.randint(m.death_date.year + 1, max(m.death_date.year + 2, 1976))
        )
        recovered = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        kinds: list[str] = []
        place = m.death_place if rng.random() < 0.7 else places.death_place(rng, province, m.death_date.year)
        lat = lon = ""
        if rng.random() < 0.3:
            c = rng.choice(province.communes)
            la, lo = places.point_in(rng, c)
            lat, lon = f"{la:.6f}", f"{lo:.6f}"
        artefacts = ""
        if rng.random() < 0.4:
            artefacts = _artefacts(rng, m)
        est_sex = (
            ""
            if rng.random() < 0.3
            else (m.sex if rng.random() < 0.97 else ("Nam" if m.sex == "Nữ" else "Nữ"))
        )
        age = m.death_date.year - m.birth_year
        row = {
            "remains_id": rid,
            "cemetery": cem,
            "grave_position": places.grave_position(rng),
            "recovery_date": dirt.date(
                partial_date(rng, recovered.year, recovered.month, recovered.day, 0.4, 0.3), kinds
            ),
            "recovery_place": dirt.text(place, kinds),
            "lat": lat,
            "lon": lon,
            "artefacts": artefacts,
            "est_sex": est_sex,
            "est_age": _age_range(rng, age) if rng.random() < 0.5 else "",
            "sample_id": sample,
        }
        sinks[0 if k < half else 1].row(row, kinds)
        out.append(Remains(rid, m, sample, cem))
    for s in sinks:
        s.close()
    return out, others
