"""The register of unidentified remains (hài cốt chưa xác định danh tính) in the province.

Part of the remains are this province's martyrs whose grave is `Chưa xác định` (gathered into a
cemetery, name unknown) and who fell in the province or in Cambodia (remains found elsewhere lie
in that province's cemeteries); the rest are martyrs of other provinces who fell here or in
Cambodia. Remains are found near where the martyr fell: the same commune mostly, else the same
district (graves were sometimes moved). Recovery happened after death, mostly in the gathering
campaigns from 1976 on; an artefact names the martyr for about one remains in eight, and forensic
estimates of sex and age are partial and sometimes wrong.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from lietsi.schema import HAI_COT
from lietsi.synth import names, places
from lietsi.synth.config import DEMO, GeneratorConfig
from lietsi.synth.dirt import Dirt, partial_date
from lietsi.synth.martyrs import Martyr, other_province_martyrs
from lietsi.synth.truth import Truth
from lietsi.synth.writers import FileStyle, Sink

# Of the province's martyrs whose grave is unidentified: those who fell in the province or in
# Cambodia (repatriated by the province's teams) are mostly in its register; a few who fell
# elsewhere were brought home.
P_IN_REGISTER = 0.85
P_IN_REGISTER_FROM_ELSEWHERE = 0.05
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


@dataclass(frozen=True)
class Placement:
    """A province as part of a generated country (`lietsi.synth.country`) rather than alone: its
    `martyrs` (deaths consistent with where their remains lie), who of them lies in its register
    (`in_register`, uids), and `others`, other provinces' martyrs in its register (uids and line
    ids renamed into this province's truth)."""

    martyrs: tuple[Martyr, ...]
    in_register: frozenset[str]
    others: tuple[Martyr, ...]


@dataclass
class Remains:
    remains_id: str
    martyr: Martyr
    sample_id: str
    cemetery: str
    collected: dt.date | None = None
    where: places.Commune | None = None  # recovery commune (None: recovered in Cambodia)
    abroad: str = ""


def _artefacts(rng: random.Random, m: Martyr, config: GeneratorConfig) -> str:
    items = rng.sample(_PLAIN_ARTEFACTS, rng.randint(1, 3))
    if rng.random() < config.p_inscription:
        if rng.random() < config.p_inscription_of_other:
            label = names.given_name(names.full_name(rng, "Nam"))
        else:
            label = rng.choice(
                [
                    names.given_name(m.name),
                    m.alias or names.given_name(m.name),
                    names.abbreviate(m.name),
                    m.name,
                ]
            )
        carrier = rng.choice(("bi đông khắc chữ", "ca nhôm khắc tên", "thẻ nhựa ghi", "võng dù có chữ"))
        items.insert(rng.randrange(len(items) + 1), f'{carrier} "{label}"')
    return ", ".join(items)


def _age_range(rng: random.Random, age: int) -> str:
    """A forensic age bracket: usually around the true age, sometimes off (worn or partial bones)."""
    centre = age + rng.gauss(0, 2.0 if rng.random() < 0.9 else 7.0)
    width = rng.choice((5, 6, 8, 10))
    lo = max(15, round(centre - width / 2))
    return f"{lo}-{lo + width}"


def _in_register(rng: random.Random, m: Martyr, province: places.Province) -> bool:
    local = m.death.commune is None or m.death.commune.province == province.name
    return rng.random() < (P_IN_REGISTER if local else P_IN_REGISTER_FROM_ELSEWHERE)


def write_remains(
    inbox: Path,
    martyrs: list[Martyr],
    province: places.Province,
    seed: int,
    truth: Truth,
    config: GeneratorConfig = DEMO,
    placement: Placement | None = None,
) -> tuple[list[Remains], list[Martyr]]:
    rng = random.Random(f"{seed}:remains")
    if placement is None:
        own = [m for m in martyrs if m.grave_status == "Chưa xác định" and _in_register(rng, m, province)]
        count = max(1, round(len(own) * config.other_per_own))
        others = other_province_martyrs(seed, province, count, len(martyrs), config)
    else:
        own = [m for m in martyrs if m.uid in placement.in_register]
        others = list(placement.others)
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
            truth.dirt,
        ),
        Sink(inbox, HAI_COT, "hai_cot_nghia_trang_huyen.csv", FileStyle(), truth.dirt),
    ]
    for k, m in enumerate(pool):
        rid = f"HC{province.code}-{k + 1:05d}"
        sample = f"MHC{k + 1:05d}" if rng.random() < 0.88 else ""
        where, abroad = places.recovery_place(rng, m.death)
        local = where is not None and where.province == province.name
        cem = places.cemetery(rng, province, where.district if local else None)
        first = m.death_date.year + 1
        if abroad:  # repatriation from Cambodia: from the 1980s, mostly the K-teams since 2001
            year = rng.randint(max(first, 2001), 2024) if rng.random() < 0.8 else rng.randint(first, 2000)
        elif rng.random() < 0.9:
            year = rng.randint(max(first, 1976), 2024)
        else:
            year = rng.randint(first, max(first + 1, 1976))
        recovered = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        kinds: list[str] = []
        lat = lon = ""
        if where is not None and rng.random() < 0.3:
            la, lo = places.point_in(rng, where)
            lat, lon = f"{la:.6f}", f"{lo:.6f}"
        artefacts = ""
        if rng.random() < config.p_artefacts:
            artefacts = _artefacts(rng, m, config)
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
            "recovery_place": dirt.text(places.recovery_text(rng, where, abroad), kinds),
            "lat": lat,
            "lon": lon,
            "artefacts": artefacts,
            "est_sex": est_sex,
            "est_age": _age_range(rng, age) if rng.random() < 0.5 else "",
            "sample_id": sample,
        }
        sinks[0 if k < half else 1].row(row, kinds)
        out.append(Remains(rid, m, sample, cem, where=where, abroad=abroad))
        truth.write(
            "remains",
            {
                "remains_id": rid,
                "martyr_uid": m.uid,
                "in_province": m.in_province,
                "sample_id": sample,
                **places.place_columns("recovery", where, abroad),
            },
        )
    for s in sinks:
        s.close()
    return out, others
