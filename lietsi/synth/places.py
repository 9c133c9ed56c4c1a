"""Real administrative units (pre-July-2025 structure) and the places a war record names.

Units come from the `vietnamadminunits` package (its `admin_units_legacy` table: 63 provinces,
696 districts, ~10,000 communes with centroids and bounding boxes). Old names are the point:
martyr records were written decades before the 2025 merger.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from functools import cache, cached_property

from vietnamadminunits import convert_address
from vietnamadminunits.database import query

from lietsi.synth.names import strip_diacritics

# Central Highlands provinces, where villages are buôn (Ê Đê, Jrai) or bon (M'Nông).
HIGHLAND_PROVINCES = ("Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng", "Bình Phước")
# Provinces south of the Hải Vân pass call their hamlets ấp; the north and centre say thôn.
_SOUTHERN_FROM_CODE = 70


@dataclass(frozen=True)
class Commune:
    province: str
    district: str  # short name, e.g. "Châu Thành"
    district_type: str  # Huyện / Thị xã / Thành phố / Quận
    name: str  # short name, e.g. "Bình An"
    kind: str  # Xã / Phường / Thị trấn
    lat: float
    lon: float
    half_span: tuple[float, float]  # half the bounding box (lat, lon), for points inside

    @property
    def full(self) -> str:
        return f"{self.kind.lower()} {self.name}"

    @property
    def district_full(self) -> str:
        return f"{self.district_type.lower()} {self.district}"


@dataclass(frozen=True)
class Province:
    name: str
    code: str
    communes: tuple[Commune, ...]

    @cached_property
    def districts(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.communes:
            seen.setdefault(c.district, None)
        return list(seen)

    @property
    def southern(self) -> bool:
        return int(self.code) >= _SOUTHERN_FROM_CODE or self.name in HIGHLAND_PROVINCES

    @property
    def highland(self) -> bool:
        return self.name in HIGHLAND_PROVINCES


def _span(bounds: str | None) -> tuple[float, float]:
    if not bounds:
        return (0.01, 0.01)
    (a, b), (c, d) = (tuple(float(x) for x in part.strip().split(",")) for part in bounds.split("–"))
    return (abs(c - a) / 2 * 0.6, abs(d - b) / 2 * 0.6)


@cache
def province_names() -> tuple[str, ...]:
    rows = query("SELECT DISTINCT provinceShort, provinceCode FROM admin_units_legacy ORDER BY provinceCode")
    return tuple(r["provinceShort"] for r in rows)


def _canon(text: str) -> str:
    return strip_diacritics(text).lower().replace("tinh ", "").replace(" ", "")


@cache
def load_province(name: str) -> Province:
    wanted = _canon(name)
    matches = [p for p in province_names() if _canon(p) == wanted]
    if not matches:
        raise ValueError(f"unknown province {name!r} (pre-2025 names, e.g. 'Kiên Giang')")
    short = matches[0]
    rows = query(
        "SELECT provinceCode, districtShort, districtType, wardShort, wardType, wardLat, wardLon, "
        "wardBounds, districtCode, wardCode FROM admin_units_legacy "
        f"WHERE provinceShort = '{short}' AND wardShort IS NOT NULL "
        "ORDER BY districtCode, wardCode"
    )
    communes = tuple(
        Commune(
            province=short,
            district=r["districtShort"],
            district_type=r["districtType"],
            name=r["wardShort"],
            kind=r["wardType"] or "Xã",
            lat=float(r["wardLat"]),
            lon=float(r["wardLon"]),
            half_span=_span(r["wardBounds"]),
        )
        for r in rows
    )
    return Province(short, rows[0]["provinceCode"], communes)


def default_district(province: Province) -> str:
    """A rural district whose commune count is closest to 12 (the size of a search campaign)."""
    counts: dict[str, int] = {}
    rural: dict[str, bool] = {}
    for c in province.communes:
        counts[c.district] = counts.get(c.district, 0) + 1
        rural[c.district] = c.district_type == "Huyện"
    candidates = [d for d in counts if rural[d]] or list(counts)
    return min(candidates, key=lambda d: (abs(counts[d] - 12), d))


def village_word(province: Province, commune: Commune) -> str:
    if commune.kind in ("Phường", "Thị trấn"):
        return "Khu phố" if province.southern else "Tổ dân phố"
    if province.highland:
        return "Bon" if province.name == "Đắk Nông" else "Buôn"
    return "Ấp" if province.southern else "Thôn"


_HAMLET_NAMES = (
    "Phú Hòa",
    "Tân Lập",
    "Bình Minh",
    "Hòa Thuận",
    "Tân Phú",
    "An Lạc",
    "Thạnh Lợi",
    "Xẻo Đước",
    "Kênh Xáng",
    "Rạch Giồng",
    "Vĩnh Thành",
    "Minh Hòa",
    "Đông An",
    "Tây Sơn",
    "Trung Hòa",
    "Cây Dương",
    "Hòa Lợi",
    "Mương Điều",
    "Bần Ổi",
    "Thạnh Hưng",
    "Phước Lộc",
    "Kinh Tám",
    "Đồng Tâm",
    "Tân Hiệp",
    "Lộ Làng",
    "Giồng Kè",
    "Xóm Mới",
    "Bà Lý",
)
_HIGHLAND_NAMES = ("Ja", "Đrông", "Bu Dăr", "Ea Sier", "K'Mlăng", "Dơng", "Ko Siêr", "Ea Tul")


def villages(rng: random.Random, province: Province, commune: Commune) -> list[str]:
    """4–9 villages: numbered (`Ấp 3`) or named (`Ấp Xẻo Đước`), as communes name them."""
    word = village_word(province, commune)
    n = rng.randint(4, 9)
    if word in ("Buôn", "Bon"):
        return [f"{word} {name}" for name in rng.sample(_HIGHLAND_NAMES, min(n, len(_HIGHLAND_NAMES)))]
    if rng.random() < 0.5:
        return [f"{word} {i}" for i in range(1, n + 1)]
    return [f"{word} {name}" for name in rng.sample(_HAMLET_NAMES, n)]


def point_in(rng: random.Random, commune: Commune) -> tuple[float, float]:
    dlat, dlon = commune.half_span
    return (
        round(commune.lat + rng.uniform(-dlat, dlat), 6),
        round(commune.lon + rng.uniform(-dlon, dlon), 6),
    )


_PROVINCE_ABBREV = {
    "Kiên Giang": "KG",
    "Hồ Chí Minh": "TP.HCM",
    "Cần Thơ": "CT",
    "An Giang": "AG",
    "Cà Mau": "CM",
    "Bạc Liêu": "BL",
    "Sóc Trăng": "ST",
    "Hậu Giang": "HG",
}


def hometown_text(rng: random.Random, c: Commune, style: int | None = None) -> str:
    """A hometown as offices write it, in one of several customary formats."""
    style = rng.randrange(6) if style is None else style
    abbrev = _PROVINCE_ABBREV.get(c.province, "".join(w[0] for w in strip_diacritics(c.province).split()))
    if style == 0:
        return f"{c.full}, {c.district_full}, tỉnh {c.province}"
    if style == 1:
        return f"{c.name} - {c.district} - {abbrev}"
    if style == 2:
        return f"{c.name}, {c.district}, {c.province}"
    if style == 3:
        return f"Xã {c.name}, {c.district}" if c.kind == "Xã" else f"{c.kind} {c.name}, {c.district}"
    if style == 4:
        return f"{c.kind[0].upper()}. {c.name}, {c.district_type[0]}. {c.district}, {c.province}"
    return f"{c.name}, {c.district_full}"


@cache
def post_2025_name(c: Commune) -> str | None:
    """The commune as written since the 1 July 2025 merger (`Xã Bình An, Tỉnh An Giang`), if known.

    New records (the population database, relatives' current addresses) use the two-level
    structure; the converter ships with `vietnamadminunits`.
    """
    try:
        unit = convert_address(f"{c.kind} {c.name}, {c.district_type} {c.district}, Tỉnh {c.province}")
    except Exception:  # the converter raises on units it has no mapping for
        return None
    return unit.get_address() if unit.ward and unit.province else None


CAMBODIAN_PLACES = ("Kampot", "Takeo", "Koh Kong", "Battambang", "Siem Reap", "Pursat", "Kampong Speu")
# Where the big battles of the American war were, for main-force soldiers who fell far from home.
_FAR_BATTLEFIELDS = ("Quảng Trị", "Tây Ninh", "Bình Phước", "Long An", "Kon Tum", "Gia Lai", "Quảng Nam")
_CITIES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ")
# Fronts (mặt trận, chiến trường) as records name them, by the province where the soldier fell:
# the Mekong provinces were Military Regions 8 and 9 (Khu 8, Khu 9) of the B2 theatre.
_KHU_8 = ("Long An", "Tiền Giang", "Bến Tre", "Đồng Tháp")
_KHU_9 = (
    "Kiên Giang",
    "An Giang",
    "Cần Thơ",
    "Hậu Giang",
    "Sóc Trăng",
    "Bạc Liêu",
    "Cà Mau",
    "Vĩnh Long",
    "Trà Vinh",
)
_FRONTS = {
    **{p: ("Chiến trường Tây Nam Bộ", "Chiến trường Khu 9") for p in _KHU_9},
    **{p: ("Chiến trường Khu 8", "Chiến trường Trung Nam Bộ") for p in _KHU_8},
    "Đồng Tháp": ("Mặt trận Đồng Tháp Mười", "Chiến trường Khu 8"),
    "Long An": ("Mặt trận Long An", "Mặt trận Đồng Tháp Mười"),
    "Tây Ninh": ("Mặt trận Tây Ninh", "Chiến trường miền Đông Nam Bộ"),
    "Bình Phước": ("Chiến trường miền Đông Nam Bộ",),
    "Bình Dương": ("Chiến trường miền Đông Nam Bộ",),
    "Đồng Nai": ("Chiến trường miền Đông Nam Bộ",),
    "Quảng Trị": ("Mặt trận Quảng Trị", "Mặt trận Đường 9"),
    "Kon Tum": ("Chiến trường Tây Nguyên",),
    "Gia Lai": ("Chiến trường Tây Nguyên",),
    "Đắk Lắk": ("Chiến trường Tây Nguyên",),
}
# The U Minh forest front covers a few districts of Kiên Giang and Cà Mau only.
_U_MINH = {("Kiên Giang", d) for d in ("U Minh Thượng", "An Minh", "An Biên", "Vĩnh Thuận")} | {
    ("Cà Mau", d) for d in ("U Minh", "Thới Bình", "Trần Văn Thời")
}
# Provinces on the south-western border, where the 1977-1979 fighting was (Biên giới Tây Nam).
_SOUTH_WEST_BORDER = ("Kiên Giang", "An Giang", "Đồng Tháp", "Long An", "Tây Ninh", "Bình Phước")
# The northern border war, 1979-1989.
_NORTH_BORDER = ("Hà Giang", "Lạng Sơn", "Cao Bằng", "Lào Cai", "Quảng Ninh")
_CAMBODIA_TEXTS = (
    "Chiến trường Campuchia",
    "Mặt trận Campuchia",
    "Campuchia",
    "Chiến trường K",
    "Làm nhiệm vụ quốc tế tại Campuchia",
)


@dataclass(frozen=True, slots=True)
class DeathPlace:
    """Where a martyr fell (`commune` in Vietnam, or a Cambodian province `abroad`) and how his
    records write it (`text`, at `level` commune / district / province / front / abroad)."""

    text: str
    level: str
    commune: Commune | None
    abroad: str = ""


# One object per distinct place: a national run holds a million martyrs but far fewer places.
_death_place = cache(DeathPlace)


@cache
def _centre(name: str) -> tuple[float, float]:
    communes = load_province(name).communes
    return (sum(c.lat for c in communes) / len(communes), sum(c.lon for c in communes) / len(communes))


@cache
def nearby_provinces(name: str, k: int = 5) -> tuple[str, ...]:
    """The `k` provinces whose centres are nearest to this one's."""
    lat, lon = _centre(name)
    others = [p for p in province_names() if p != name]
    return tuple(
        sorted(others, key=lambda p: ((_centre(p)[0] - lat) ** 2 + (_centre(p)[1] - lon) ** 2, p))[:k]
    )


def province_text(rng: random.Random, province: str) -> str:
    if province in _CITIES:
        return rng.choice((province, f"TP {province}", f"thành phố {province}"))
    return rng.choice((province, province, f"tỉnh {province}"))


def front_text(rng: random.Random, c: Commune, year: int) -> str:
    if 1977 <= year <= 1979 and c.province in _SOUTH_WEST_BORDER:
        return rng.choice(("Mặt trận Tây Nam", "Biên giới Tây Nam"))
    if year >= 1979 and c.province in _NORTH_BORDER:
        return rng.choice(
            (
                "Biên giới phía Bắc",
                "Mặt trận phía Bắc",
                "Mặt trận Vị Xuyên" if c.province == "Hà Giang" else f"Mặt trận {c.province}",
            )
        )
    if (c.province, c.district) in _U_MINH and rng.random() < 0.6:
        return "Mặt trận U Minh"
    if c.province in _FRONTS:
        return rng.choice(_FRONTS[c.province])
    if _war_south(load_province(c.province)):
        return rng.choice(("Chiến trường miền Nam", f"Mặt trận {c.province}"))
    return f"Mặt trận {c.province}"


def _war_south(province: Province) -> bool:
    """South of the 17th parallel (Quảng Trị, code 45, and below): the southern battlefields of
    the American war, and the provinces whose soldiers went to Cambodia from 1977."""
    return int(province.code) >= 45


def death_place(
    rng: random.Random,
    province: Province,
    year: int,
    area: Commune | None = None,
    area_district: str | None = None,
    local: bool = False,
    levels: tuple[float, float, float] = (0.33, 0.55, 0.80),
) -> DeathPlace:
    """Where a martyr of `province` fell and how it is written.

    Commune guerrillas (`area`) and district troops (`area_district`) fell where they served;
    main-force soldiers at home, in a neighbouring province or on the big battlefields; from 1977
    on, for a province south of the 17th parallel, often in Cambodia; from 1979, for a northern
    one, often on the northern border. `local`: he fell in `province` or in Cambodia
    (martyrs of other provinces whose remains lie here). The text mixes levels as registries do:
    about half a commune or district, a quarter a province, a quarter a front or a country
    (`levels`: the cumulative commune / district / province shares, the rest front).
    """
    if year >= 1977 and _war_south(province) and rng.random() < 0.55:
        return fell_abroad(rng, rng.choice(CAMBODIAN_PLACES), year)
    if year >= 1979 and not _war_south(province) and area is None and rng.random() < 0.4:
        c = rng.choice(load_province(rng.choice(_NORTH_BORDER)).communes)
    elif area is not None and rng.random() < 0.8:
        c = area
    elif area is not None or area_district is not None:
        district = area.district if area is not None else area_district
        c = rng.choice([x for x in province.communes if x.district == district])
    else:
        r = rng.random()
        if not local and not _war_south(province) and 1955 <= year <= 1975:
            r = 0.8 if r < 0.8 else 0.0  # northern soldiers fell mostly on the southern battlefields
        if local or r < 0.45:
            home = province
        elif r < 0.8:
            home = load_province(rng.choice(nearby_provinces(province.name)))
        else:
            home = load_province(rng.choice([p for p in _FAR_BATTLEFIELDS if p != province.name]))
        c = rng.choice(home.communes)
    return fell_in(rng, c, province, year, levels)


def fell_abroad(rng: random.Random, where: str, year: int) -> DeathPlace:
    """He fell in the Cambodian province `where` in `year`, as his records write it."""
    text = rng.choice((*_CAMBODIA_TEXTS, f"Tỉnh {where}, Campuchia", f"{where}, Campuchia"))
    if year <= 1979 and rng.random() < 0.3:
        text = rng.choice(("Mặt trận Tây Nam", "Biên giới Tây Nam"))
    return _death_place(sys.intern(text), "abroad", None, where)


def fell_in(
    rng: random.Random,
    c: Commune,
    province: Province,
    year: int,
    levels: tuple[float, float, float] = (0.33, 0.55, 0.80),
) -> DeathPlace:
    """A martyr of `province` fell in commune `c` in `year`: the place as his records write it, at a
    level drawn from `levels` (a place in his own province may leave the province out)."""
    own = c.province == province.name
    prov = province_text(rng, c.province)
    r = rng.random()
    if r < levels[0]:
        level = "commune"
        options = [
            f"{c.full}, {c.district_full}, {prov}",
            f"{c.name}, {c.district}, {c.province}",
            f"{c.full}, {c.district_full}, tỉnh {c.province}" if c.province not in _CITIES else "",
        ]
        if own:
            options.append(f"{c.full}, {c.district_full}")
    elif r < levels[1]:
        level = "district"
        options = [f"{c.district_full}, {prov}", f"{c.district}, {c.province}"]
        if own:
            options.append(c.district_full)
    elif r < levels[2]:
        level, options = "province", [prov]
    else:
        level, options = "front", [front_text(rng, c, year)]
    text = rng.choice([o for o in options if o])
    return _death_place(sys.intern(text), level, c)


def place_columns(prefix: str, c: Commune | None, abroad: str) -> dict[str, str]:
    """Truth columns `<prefix>_country/_province/_district/_commune` of a place."""
    if c is None:
        return {f"{prefix}_country": "Campuchia" if abroad else "", f"{prefix}_province": abroad}
    return {
        f"{prefix}_country": "Việt Nam",
        f"{prefix}_province": c.province,
        f"{prefix}_district": c.district,
        f"{prefix}_commune": c.name,
    }


def recovery_place(rng: random.Random, death: DeathPlace) -> tuple[Commune | None, str]:
    """Where remains were found: near where he fell (same commune mostly, else the same district;
    graves were sometimes moved farther), or the same Cambodian province. (commune, abroad)."""
    if death.commune is None:
        return None, death.abroad if rng.random() < 0.85 else rng.choice(CAMBODIAN_PLACES)
    c = death.commune
    r = rng.random()
    if r < 0.72:
        return c, ""
    province = load_province(c.province)
    if r < 0.92:
        return rng.choice([x for x in province.communes if x.district == c.district]), ""
    return rng.choice(province.communes), ""


def recovery_text(rng: random.Random, c: Commune | None, abroad: str) -> str:
    """The recovery place as a gathering team writes it: the commune where they dug, sometimes only
    the district; the Cambodian province for remains repatriated from Cambodia."""
    if c is None:
        return rng.choice((f"Tỉnh {abroad}, Campuchia", f"{abroad} - Campuchia", "Campuchia"))
    if rng.random() < 0.2:
        return f"{c.district_full}, tỉnh {c.province}"
    return rng.choice(
        (
            f"{c.full}, {c.district_full}",
            f"{c.full}, {c.district_full}, tỉnh {c.province}",
            f"{c.name} - {c.district} - {c.province}",
            f"{village_word(load_province(c.province), c)} {rng.randint(1, 9)}, {c.full}, {c.district_full}",
        )
    )


@dataclass(frozen=True, slots=True)
class Unit:
    """A martyr's unit at death; `commune`/`district` where local troops served."""

    name: str
    abbr: str
    commune: Commune | None = None
    district: str | None = None


def unit(rng: random.Random, province: Province, main_force: bool = False) -> Unit:
    """The unit at death, full name and clerk's abbreviation. `main_force`: no local troops."""
    r = rng.random() if not main_force else 0.5 + rng.random() / 2
    if r < 0.3:
        c = rng.choice(province.communes)
        return Unit(f"Du kích xã {c.name}", f"DK xã {c.name}", commune=c)
    if r < 0.5:
        d = rng.choice(province.districts)
        return Unit(f"Huyện đội {d}", f"H.đội {d}", district=d)
    if r < 0.7:
        b = rng.choice((207, 307, 309, 311, 312, 502, 512, 516, 261, 263))
        return Unit(f"Tiểu đoàn {b}", f"D{b}")
    company, battalion = rng.randint(1, 4), rng.choice((1, 2, 3))
    regiment, division = rng.choice(((1, 9), (2, 9), (3, 9), (10, 8), (20, 4), (2, 330), (1, 339), (10, 341)))
    return Unit(
        f"Đại đội {company}, Tiểu đoàn {battalion}, Trung đoàn {regiment}, Sư đoàn {division}",
        f"C{company} D{battalion} E{regiment} F{division}",
    )


def cemetery(rng: random.Random, province: Province, district: str | None = None) -> str:
    """The provincial cemetery or a district's (`district`: the one nearest the grave, if known)."""
    if rng.random() < 0.45:
        return f"Nghĩa trang liệt sĩ tỉnh {province.name}"
    return f"Nghĩa trang liệt sĩ {district or rng.choice(province.districts)}"


def grave_position(rng: random.Random) -> str:
    return f"Khu {rng.choice('ABCDE')}, hàng {rng.randint(1, 30)}, mộ {rng.randint(1, 60)}"
