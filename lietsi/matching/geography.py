"""Where men fell, as the matching stage compares places: Cambodia, fronts and local units.

`place_units` parses a place into admin units, with Cambodia as one more province (its provinces as
districts) and a front (`Mặt trận Tây Nam`) left unplaced; `unit_place` gives the area a local unit
fought in (`Du kích xã X`, `Huyện đội Y`); `place_relation` says how a recovery place and a place of
death relate at the finest level both are known at.
"""

from __future__ import annotations

import re
from collections import Counter

import polars as pl

from lietsi.places import parse_units, place_key

CAMBODIA = "Campuchia"
# Cambodian provinces as Vietnamese records write them (ascii keys): where the 1977–1989 dead fell
# and where repatriated remains were found. `chiến trường K` is the army's name for Cambodia.
_CAMBODIAN_PROVINCES = {
    "banteay meanchey": "Banteay Meanchey", "battambang": "Battambang", "bat tam bang": "Battambang",
    "kampong cham": "Kampong Cham", "kong pong cham": "Kampong Cham", "kampong chhnang": "Kampong Chhnang",
    "kampong speu": "Kampong Speu", "kampong thom": "Kampong Thom", "kampot": "Kampot", "cam pot": "Kampot",
    "kandal": "Kandal", "kep": "Kep", "koh kong": "Koh Kong", "kratie": "Kratie", "mondulkiri": "Mondulkiri",
    "oddar meanchey": "Oddar Meanchey", "pailin": "Pailin", "phnom penh": "Phnom Penh",
    "nong penh": "Phnom Penh", "preah sihanouk": "Preah Sihanouk", "kompong som": "Preah Sihanouk",
    "preah vihear": "Preah Vihear", "prey veng": "Prey Veng", "pursat": "Pursat", "poc xat": "Pursat",
    "ratanakiri": "Ratanakiri", "siem reap": "Siem Reap", "xiem riep": "Siem Reap",
    "stung treng": "Stung Treng", "svay rieng": "Svay Rieng", "svay rien": "Svay Rieng", "takeo": "Takeo",
    "ta keo": "Takeo", "tbong khmum": "Tbong Khmum",
}  # fmt: skip
_CAMBODIA_WORDS = re.compile(r"\b(campuchia|cam pu chia|cambodia|chien truong k|quoc te)\b")
# A front (mặt trận, chiến trường) or a border names a war region, not an admin unit: `Mặt trận U
# Minh` spans two provinces and is not the district U Minh.
_FRONT_WORDS = re.compile(r"^(mat tran|chien truong|bien gioi|mien)\b")


def place_units(text: str | None, default_province: str | None = None) -> dict[str, str | None]:
    """Admin units of a place; Cambodia is one more `province` whose provinces are `districts`;
    a front is not placed (compared as text)."""
    key = place_key(text)
    cambodian = next((name for k, name in _CAMBODIAN_PROVINCES.items() if f" {k} " in f" {key} "), None)
    if cambodian or _CAMBODIA_WORDS.search(key):
        return {"commune": None, "district": cambodian, "province": CAMBODIA}
    if _FRONT_WORDS.match(key):
        return {"commune": None, "district": None, "province": None}
    p = parse_units(text, default_province)
    return {"commune": p.commune, "district": p.district, "province": p.province}


_GUERRILLA = re.compile(r"^(?:du kich|dk)\s+(.+)$")
_DISTRICT_TROOPS = re.compile(r"^(?:doi|h doi|thi doi|thanh doi)\s+(.+)$")


def unit_place(
    unit: str | None, default_province: str | None, communes: dict[str, set[tuple[str, str]]]
) -> dict[str, str | None] | None:
    """Where a local unit fought: `Du kích xã X` (commune guerrillas) in commune X of the province,
    `Huyện đội Y` / `H.đội Y` (district troops) in district Y. `communes`: ascii commune name →
    (district, commune) known in the province; an ambiguous commune name gives nothing."""
    key = place_key(unit)
    if not key or not default_province:
        return None
    m = _GUERRILLA.match(key)
    if m:
        found = communes.get(m.group(1), set())
        if len(found) != 1:
            return None
        district, commune = next(iter(found))
        return {"commune": commune, "district": district, "province": default_province}
    m = _DISTRICT_TROOPS.match(key)
    if m:
        p = parse_units(m.group(1), default_province)
        if p.district and p.province == default_province:
            return {"commune": None, "district": p.district, "province": p.province}
    return None


def commune_index(martyrs: pl.DataFrame, province: str | None) -> dict[str, set[tuple[str, str]]]:
    """ascii commune name → (district, commune) of the province, from the martyrs' hometowns."""
    index: dict[str, set[tuple[str, str]]] = {}
    if not province or "hometown_commune" not in martyrs.columns:
        return index
    rows = martyrs.filter(pl.col("hometown_province") == province).select(
        "hometown_district", "hometown_commune"
    )
    for district, commune in rows.unique().iter_rows():
        if district and commune:
            index.setdefault(place_key(commune), set()).add((district, commune))
    return index


# Military regions (quân khu) as the army has drawn them since the late 1970s, over the pre-2025
# provinces; Cambodia is one more. A unit fought across the provinces of a region, so where it lost
# its men is also counted by region (`unit_area_by_region`): its dead recorded in Thừa Thiên Huế
# say it fought in Quảng Trị's region too. Wartime fronts (B1–B5) drew other lines; the regions
# are the grouping every province's records share. Quân khu 3, 5 and 7 are as the government's
# 2024 appointment notices list them (vietnam.vn), Quân khu 2 is the nine north-western provinces.
MILITARY_REGIONS: dict[str, tuple[str, ...]] = {
    "Quân khu 1": ("Cao Bằng", "Bắc Kạn", "Lạng Sơn", "Thái Nguyên", "Bắc Giang", "Bắc Ninh"),
    "Quân khu 2": ("Hà Giang", "Tuyên Quang", "Lào Cai", "Yên Bái", "Lai Châu", "Điện Biên", "Sơn La",
                   "Phú Thọ", "Vĩnh Phúc"),
    "Quân khu 3": ("Quảng Ninh", "Hải Phòng", "Hải Dương", "Hưng Yên", "Thái Bình", "Nam Định", "Hà Nam",
                   "Ninh Bình", "Hòa Bình"),
    "Bộ Tư lệnh Thủ đô": ("Hà Nội",),
    "Quân khu 4": ("Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Huế"),
    "Quân khu 5": ("Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Ninh Thuận",
                   "Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông"),
    "Quân khu 7": ("Hồ Chí Minh", "Bình Dương", "Bình Phước", "Tây Ninh", "Đồng Nai", "Bà Rịa - Vũng Tàu",
                   "Long An", "Lâm Đồng", "Bình Thuận"),
    "Quân khu 9": ("Cần Thơ", "An Giang", "Kiên Giang", "Cà Mau", "Bạc Liêu", "Sóc Trăng", "Hậu Giang",
                   "Vĩnh Long", "Trà Vinh", "Bến Tre", "Tiền Giang", "Đồng Tháp"),
    CAMBODIA: (CAMBODIA,),
}  # fmt: skip
_REGION_OF = {province: region for region, provinces in MILITARY_REGIONS.items() for province in provinces}


def military_region(province: str | None) -> str | None:
    """The military region of a province (as `parse_place` names it), or None."""
    return _REGION_OF.get(province or "")


def by_region(counts: Counter) -> Counter:
    """Province counts summed by military region (provinces of no region are left out)."""
    out: Counter = Counter()
    for province, n in counts.items():
        region = military_region(province)
        if region:
            out[region] += n
    return out


LEVELS = {3: "commune", 2: "district", 1: "province", 0: "not placed"}


def place_level(place: dict[str, str | None]) -> int:
    """3 commune, 2 district, 1 province, 0 not placed (a front, a foreign place, unparsed)."""
    if not place.get("province"):
        return 0
    if not place.get("district"):
        return 1
    return 3 if place.get("commune") else 2


def place_relation(
    recovery_key: str, recovery: dict[str, str | None], death_key: str, death: dict[str, str | None]
) -> tuple[int, str] | None:
    """(level, outcome): the finest admin level both places are known at, and how they relate there
    (`commune`/`district`/`province` = the finest unit they share, `elsewhere` = other provinces;
    at level 0 only the texts compare: `same_text` or `different`). None when either is blank.

    Keys are `lietsi.places.place_key` texts; places are parsed admin units (commune/district/province).
    """
    if not recovery_key or not death_key:
        return None
    level = min(place_level(recovery), place_level(death))
    if level == 0:
        return 0, "same_text" if recovery_key == death_key else "different"
    if recovery["province"] != death["province"]:
        return level, "elsewhere"
    if level >= 2 and recovery["district"] == death["district"]:
        return level, "commune" if level == 3 and recovery["commune"] == death["commune"] else "district"
    return level, "province"


def finer_and_consistent(local: dict[str, str | None], death: dict[str, str | None]) -> bool:
    """A unit's area replaces the recorded place of death when it is finer and inside it (or the
    record names only a front)."""
    if place_level(local) <= place_level(death):
        return False
    if not death.get("province"):
        return True
    if death["province"] != local["province"]:
        return False
    return not death.get("district") or death["district"] == local["district"]
