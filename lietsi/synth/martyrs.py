"""The martyrs themselves: who they were, when and where they fell, where they rest.

Each family index gets its own seeded generator, so a martyr's facts do not depend on how many
other martyrs or which output folders are generated (a registry-only national run and a full
province run agree on every martyr they share).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass, replace

from lietsi.synth import haplotypes, names, places
from lietsi.synth.config import DEMO, GeneratorConfig
from lietsi.synth.families import MartyrCore
from lietsi.synth.names import Picker

# Deaths per year, 1945-1989: the anti-French war, the quieter late 1950s, the American war with
# its peaks in 1968 (Tết) and 1972, and the south-western border war of 1977-1979 (Kiên Giang
# borders Cambodia).
_YEAR_WEIGHTS = {
    **{y: 1.0 for y in range(1945, 1955)},
    **{y: 0.3 for y in range(1955, 1960)},
    **{y: 0.8 for y in range(1960, 1965)},
    1965: 1.5,
    1966: 1.6,
    1967: 1.8,
    1968: 4.0,
    1969: 3.0,
    1970: 2.6,
    1971: 2.6,
    1972: 3.6,
    1973: 2.5,
    1974: 2.5,
    1975: 2.4,
    1976: 0.4,
    1977: 1.4,
    1978: 1.8,
    1979: 1.5,
    **{y: 0.5 for y in range(1980, 1985)},
    **{y: 0.25 for y in range(1985, 1990)},
}
DEATH_YEAR = Picker([(str(y), w) for y, w in _YEAR_WEIGHTS.items()])
_AGE = Picker(
    [
        (str(a), w)
        for a, w in zip(
            range(16, 41),
            (1, 3, 6, 8, 9, 9, 8, 7, 6, 5, 4, 3.5, 3, 2.5, 2, 1.8, 1.5, 1.2, 1, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3),
            strict=True,
        )
    ]
)
GRAVE_STATUS = Picker([("Đã xác định", 55), ("Chưa xác định", 30), ("Chưa quy tập", 15)])
RANKS = (
    "Chiến sĩ",
    "Binh nhì",
    "Binh nhất",
    "Hạ sĩ",
    "Trung sĩ",
    "Thượng sĩ",
    "Thiếu úy",
    "Trung úy",
    "Đại úy",
)
_POSITIONS = (
    "Chiến sĩ",
    "Chiến sĩ",
    "Chiến sĩ",
    "Tiểu đội trưởng",
    "Tiểu đội phó",
    "Trung đội trưởng",
    "Đại đội phó",
    "Y tá",
    "Liên lạc",
    "Chính trị viên",
    "Xã đội phó",
)
P_BROTHERS = 0.06
P_FEMALE = 0.05


@dataclass(slots=True)
class Martyr:
    uid: str
    family_idx: int
    core: MartyrCore
    alias: str
    commune: places.Commune
    in_province: bool
    death_date: dt.date
    death: places.DeathPlace
    unit: str
    unit_abbr: str
    rank: str
    position: str
    enlistment: dt.date
    grave_status: str
    cemetery: str
    grave_position: str
    certificate_no: str
    lineage: haplotypes.Lineage

    @property
    def name(self) -> str:
        return self.core.name

    @property
    def sex(self) -> str:
        return self.core.sex

    @property
    def death_place(self) -> str:
        return self.death.text

    @property
    def birth_year(self) -> int:
        return self.core.birth_year


def _date_in(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _one(
    rng: random.Random,
    uid: str,
    family_idx: int,
    province: places.Province,
    commune: places.Commune,
    in_province: bool,
    seed: int,
    config: GeneratorConfig,
    *,
    sex: str | None = None,
    surname: str | None = None,
    mother_name: str | None = None,
    father_name: str | None = None,
    birth_year: int | None = None,
    lineage: haplotypes.Lineage | None = None,
    rank0: int | None = None,
    brother_of: str | None = None,
    fell_here: bool = False,
) -> Martyr:
    sex = sex or ("Nữ" if rng.random() < P_FEMALE else "Nam")
    if birth_year is None:
        death_year = int(DEATH_YEAR(rng))
        birth_year = death_year - int(_AGE(rng))
    else:
        # A brother: the war's year profile, restricted to the years he was of fighting age.
        lo, hi = max(1945, birth_year + 16), min(1989, birth_year + 40)
        death_year = next(
            (y for y in (int(DEATH_YEAR(rng)) for _ in range(30)) if lo <= y <= hi), rng.randint(lo, hi)
        )
    surname = surname or names.surname(rng)
    father_name = father_name or names.full_name(rng, "Nam", surname)
    mother_name = mother_name or names.full_name(rng, "Nữ")
    name = names.full_name(rng, sex, surname)
    if lineage is None:
        lineage = haplotypes.new_lineage(rng, f"ML{family_idx:07d}", seed)
        if in_province and config.p_commune_founder:
            lineage = _founder_line(seed, config, commune, lineage)
    rank = rank0 if rank0 is not None else min(int(rng.expovariate(0.45)), 7)
    core = MartyrCore(
        uid, name, sex, birth_year, death_year, mother_name, father_name, lineage.uid, rank, brother_of
    )
    r = rng.random()
    alias = ""
    if r < 0.25:
        alias = names.birth_order_alias(rank, False, name)
    elif r < 0.35:
        alias = names.nom_de_guerre(rng)
    death = _date_in(rng, death_year)
    unit = places.unit(rng, province, main_force=fell_here)
    rank_name = "Du kích" if unit.commune is not None else rng.choice(RANKS)
    enlist_year = max(
        birth_year + 15, death_year - rng.randint(0, min(8, max(0, death_year - birth_year - 16)))
    )
    status = GRAVE_STATUS(rng)
    cemetery = places.cemetery(rng, province) if status == "Đã xác định" else ""
    return Martyr(
        uid=uid,
        family_idx=family_idx,
        core=core,
        alias=alias,
        commune=commune,
        in_province=in_province,
        death_date=death,
        death=places.death_place(
            rng,
            province,
            death_year,
            unit.commune,
            unit.district,
            local=fell_here,
            levels=config.death_level_cuts,
        ),
        # Interned: a national run holds a million martyrs but only thousands of distinct units.
        unit=sys.intern(unit.name),
        unit_abbr=sys.intern(unit.abbr),
        rank=rank_name,
        position=rng.choice(_POSITIONS),
        enlistment=min(_date_in(rng, enlist_year), death),
        grave_status=status,
        cemetery=cemetery,
        grave_position=places.grave_position(rng) if cemetery else "",
        certificate_no=certificate_number(seed, uid) if rng.random() < 0.85 else "",
        lineage=lineage,
    )


def _founder_line(
    seed: int, config: GeneratorConfig, commune: places.Commune, own: haplotypes.Lineage
) -> haplotypes.Lineage:
    """With `config.p_commune_founder`, the line descends from one of its commune's founder lines:
    the founder's haplotype under the family's own line id (unrelated families, one haplotype).
    Drawn from generators of their own, so the martyr's other facts do not change."""
    rng = random.Random(f"{seed}:founder-of:{own.uid}")
    if rng.random() >= config.p_commune_founder:
        return own
    k = rng.randrange(config.founders_per_commune)
    key = f"{seed}:founder:{commune.province}:{commune.district}:{commune.name}:{k}"
    return replace(haplotypes.new_lineage(random.Random(key), own.uid, seed), uid=own.uid)


_CERTIFICATE_SPACE = 10_000_000
_CERTIFICATE_STEP = 7_368_787  # coprime with the space: index → serial is a bijection


def certificate_number(seed: int, uid: str) -> str:
    """`Số bằng TQGC`: a serial unique to the martyr, as a certificate number is in the national
    register. The martyr's index goes through a bijection of the 7-digit space, so serials look
    scattered but never repeat within a run (up to ten million martyrs); the series letters are
    read off the serial (one series per block of two million)."""
    index = int(uid.removeprefix("LS"))
    if index >= _CERTIFICATE_SPACE:
        raise ValueError(f"certificate serials are 7 digits: {uid} is beyond them")
    serial = (index * _CERTIFICATE_STEP + seed * 1_000_003) % _CERTIFICATE_SPACE
    series = ("KA", "KB", "KC", "HT", "TQ")[serial * 5 // _CERTIFICATE_SPACE]
    return f"{series} {serial:07d}"


def province_martyrs(
    seed: int, province: places.Province, count: int, config: GeneratorConfig = DEMO
) -> list[Martyr]:
    """`count` martyrs of the province; about 6% of families lost two sons (same maternal line)."""
    out: list[Martyr] = []
    f = 0
    while len(out) < count:
        rng = random.Random(f"{seed}:martyr:{f}")
        commune = rng.choice(province.communes)
        first = _one(rng, f"LS{len(out) + 1:07d}", f, province, commune, True, seed, config)
        out.append(first)
        gap = rng.randint(2, 8)
        if len(out) < count and rng.random() < P_BROTHERS and first.birth_year + gap + 16 <= 1989:
            second = _one(
                rng,
                f"LS{len(out) + 1:07d}",
                f,
                province,
                commune,
                True,
                seed,
                config,
                sex="Nam",
                surname=first.name.split()[0],
                mother_name=first.core.mother_name,
                father_name=first.core.father_name,
                birth_year=first.birth_year + gap,
                lineage=first.lineage,
                rank0=first.core.birth_rank + max(1, min(3, gap // 2)),
                brother_of=first.uid,
            )
            out.append(second)
        f += 1
    return out


def other_province_martyrs(
    seed: int,
    province: places.Province,
    count: int,
    start: int,
    config: GeneratorConfig = DEMO,
    exclude: frozenset[str] = frozenset(),
) -> list[Martyr]:
    """Martyrs from elsewhere whose remains lie in this province's cemeteries (no family here);
    none from the provinces in `exclude` (a generated country's own)."""
    others = [p for p in places.province_names() if p != province.name and p not in exclude]
    out = []
    for k in range(count):
        rng = random.Random(f"{seed}:other:{k}")
        home = places.load_province(rng.choice(others))
        m = _one(
            rng,
            f"LS{start + k + 1:07d}",
            10_000_000 + k,
            province,
            rng.choice(home.communes),
            False,
            seed,
            config,
            fell_here=True,
        )
        m.grave_status, m.cemetery, m.grave_position = "Chưa xác định", "", ""
        out.append(m)
    return out
