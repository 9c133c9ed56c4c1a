"""Real administrative units (pre-July-2025 structure) and the places a war record names.

Units come from the `vietnamadminunits` package (its `admin_units_legacy` table: 63 provinces,
696 districts, ~10,000 communes with centroids and bounding boxes). Old names are the point:
martyr records were written decades before the 2025 merger.
"""

from __future__ import annotations

import random
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


DEATH_FRONTS = (
    "Mặt trận Tây Nam",
    "Chiến trường Campuchia",
    "Biên giới Tây Nam",
    "Mặt trận Quảng Trị",
    "Chiến trường miền Đông Nam Bộ",
    "Mặt trận Tây Ninh",
    "Chiến trường K",
    "Mặt trận Đồng Tháp Mười",
    "Mặt trận U Minh",
    "Chiến trường Tây Nguyên",
    "Mặt trận Long An",
)
CAMBODIAN_PLACES = ("Kampot", "Takeo", "Koh Kong", "Battambang", "Siem Reap", "Pursat", "Kampong Speu")


def death_place(rng: random.Random, province: Province, year: int) -> str:
    r = rng.random()
    if year >= 1977 and r < 0.6:
        return rng.choice(
            (
                "Chiến trường Campuchia",
                f"Tỉnh {rng.choice(CAMBODIAN_PLACES)}, Campuchia",
                "Biên giới Tây Nam",
                "Mặt trận Tây Nam",
            )
        )
    if r < 0.55:
        c = rng.choice(province.communes)
        return rng.choice(
            (
                f"{c.full}, {c.district_full}",
                f"{c.name}, {c.district}",
                f"{c.full}, {c.district_full}, tỉnh {c.province}",
            )
        )
    return rng.choice(DEATH_FRONTS)


def unit(rng: random.Random, province: Province) -> tuple[str, str]:
    """(full unit name, clerk's abbreviation) at death."""
    r = rng.random()
    if r < 0.3:
        c = rng.choice(province.communes)
        return (f"Du kích xã {c.name}", f"DK xã {c.name}")
    if r < 0.5:
        d = rng.choice(province.districts)
        return (f"Huyện đội {d}", f"H.đội {d}")
    if r < 0.7:
        b = rng.choice((207, 307, 309, 311, 312, 502, 512, 516, 261, 263))
        return (f"Tiểu đoàn {b}", f"D{b}")
    company, battalion = rng.randint(1, 4), rng.choice((1, 2, 3))
    regiment, division = rng.choice(((1, 9), (2, 9), (3, 9), (10, 8), (20, 4), (2, 330), (1, 339), (10, 341)))
    return (
        f"Đại đội {company}, Tiểu đoàn {battalion}, Trung đoàn {regiment}, Sư đoàn {division}",
        f"C{company} D{battalion} E{regiment} F{division}",
    )


def cemetery(rng: random.Random, province: Province) -> str:
    if rng.random() < 0.45:
        return f"Nghĩa trang liệt sĩ tỉnh {province.name}"
    return f"Nghĩa trang liệt sĩ {rng.choice(province.districts)}"


def grave_position(rng: random.Random) -> str:
    return f"Khu {rng.choice('ABCDE')}, hàng {rng.randint(1, 30)}, mộ {rng.randint(1, 60)}"
