"""Free-text Vietnamese places (hometowns, addresses, places of death) → commune/district/province.

Forms write `xã Bình An, huyện Châu Thành, tỉnh Kiên Giang`, `Bình An - Châu Thành - KG`,
`P. Vĩnh Thanh, Tp Rạch Giá`, or a province that no longer exists (`Hà Tây`, `Minh Hải`). The text
is tidied (separators, unit-type abbreviations, province initials, historical provinces) and
handed to the pre-2025 (63-province) parser of `vietnamadminunits`, the maintained package that
ships the official unit list with old names and spelling variants as keywords. What cannot be
mapped is kept with the reason, never guessed.

Units are the pre-2025 ones because martyrs' records use them (and older ones); the 2025
merger's names are tried last, as a fallback that yields a province only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Literal

import polars as pl
from unidecode import unidecode
from vietnamadminunits import convert_address, parse_address
from vietnamadminunits.converter import converter_2025

from lietsi.names import normalise_text

# To choose among the wards a split commune became in 2025, the converter geocodes the address
# online (ArcGIS) when it reads a street in it, and a commune named like its district (`thị trấn
# Thiệu Hóa, huyện Thiệu Hóa`) reads as one. Place texts never leave the machine and a run works
# offline: a split commune gets the package's default successor ward, as when it reads no street.
converter_2025.get_geo_location = lambda address: None

Status = Literal["mapped", "district", "province", "unmapped"]

# Unit-type abbreviations written before a name. Longest first so `TX` wins over `T.`.
_TYPE_ABBR = (
    (r"t\.?\s?p\.?\s?h\.?\s?c\.?\s?m\.?", "Thành phố Hồ Chí Minh"),
    (r"tp\.?|t\.p\.?|thành phố", "Thành phố"),
    (r"tx\.?|t\.x\.?|thị xã", "Thị xã"),
    (r"tt\.?|t\.t\.?|thị trấn", "Thị trấn"),
    (r"h\.|huyện", "Huyện"),
    (r"x\.|xã", "Xã"),
    (r"p\.|phường", "Phường"),
    (r"q\.|quận", "Quận"),
    (r"t\.|tỉnh", "Tỉnh"),
)
_TYPE_RE = re.compile(
    r"(?<![\w])(" + "|".join(p for p, _ in _TYPE_ABBR) + r")(?=\s|[A-ZĐÂĂÊÔƠƯ]|$)", re.IGNORECASE
)

# Provinces that existed in the records' time and were later split or merged (pre-2025 successors).
HISTORICAL_PROVINCES: dict[str, tuple[str, ...]] = {
    "ha tay": ("Hà Nội",),
    "ha son binh": ("Hà Nội", "Hòa Bình"),
    "ha nam ninh": ("Hà Nam", "Nam Định", "Ninh Bình"),
    "nam ha": ("Hà Nam", "Nam Định"),
    "hai hung": ("Hải Dương", "Hưng Yên"),
    "ha bac": ("Bắc Giang", "Bắc Ninh"),
    "vinh phu": ("Vĩnh Phúc", "Phú Thọ"),
    "bac thai": ("Bắc Kạn", "Thái Nguyên"),
    "cao lang": ("Cao Bằng", "Lạng Sơn"),
    "hoang lien son": ("Lào Cai", "Yên Bái"),
    "nghe tinh": ("Nghệ An", "Hà Tĩnh"),
    "binh tri thien": ("Quảng Bình", "Quảng Trị", "Huế"),
    "thua thien hue": ("Huế",),
    "thua thien": ("Huế",),
    "quang nam da nang": ("Quảng Nam", "Đà Nẵng"),
    "nghia binh": ("Quảng Ngãi", "Bình Định"),
    "phu khanh": ("Phú Yên", "Khánh Hòa"),
    "thuan hai": ("Ninh Thuận", "Bình Thuận"),
    "gia lai kon tum": ("Gia Lai", "Kon Tum"),
    "dong nai cu": ("Đồng Nai",),
    "song be": ("Bình Dương", "Bình Phước"),
    "minh hai": ("Bạc Liêu", "Cà Mau"),
    "cuu long": ("Vĩnh Long", "Trà Vinh"),
    "hau giang cu": ("Cần Thơ", "Hậu Giang", "Sóc Trăng"),
    "sai gon": ("Hồ Chí Minh",),
}

# Conventional initials that are unambiguous; others (`BD`, `QN`, `BT`…) are resolved only when they
# match the default province.
_PROVINCE_INITIALS_FIXED = {
    "hcm": "Hồ Chí Minh",
    "tphcm": "Hồ Chí Minh",
    "hn": "Hà Nội",
    "brvt": "Bà Rịa - Vũng Tàu",
}


@dataclass(frozen=True)
class Place:
    text: str
    commune: str | None = None
    district: str | None = None
    province: str | None = None
    commune_code: str | None = None
    district_code: str | None = None
    province_code: str | None = None
    status: Status = "unmapped"
    reason: str | None = None
    # The commune after the 2025 merger: where an old name (`Sóc Sơn, Hòn Đất, Kiên Giang`) and a
    # record already written with the new units (`Xã Mỹ Thuận, Tỉnh An Giang`) meet.
    commune_2025_code: str | None = None


@lru_cache(maxsize=1)
def _provinces() -> dict[str, str]:
    from vietnamadminunits.parser.parser_legacy import DICT_PROVINCE

    return {v["provinceShort"]: v["provinceShort"] for v in DICT_PROVINCE.values()}


def _initials(name: str) -> str:
    return "".join(w[0] for w in unidecode(name).lower().replace("-", " ").split())


@lru_cache(maxsize=1)
def _initials_table() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for short in _provinces():
        table.setdefault(_initials(short), []).append(short)
    return table


def _province_from_initials(token: str, default_province: str | None) -> str | None:
    key = unidecode(token).lower().replace(".", "").replace("-", "").replace(" ", "")
    if key in _PROVINCE_INITIALS_FIXED:
        return _PROVINCE_INITIALS_FIXED[key]
    candidates = _initials_table().get(key, [])
    if len(candidates) == 1:
        return candidates[0]
    if default_province and default_province in candidates:
        return default_province
    return None


def _tidy(text: str) -> str:
    s = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110")
    s = re.sub(r"\s+[-–—/|;]\s+|[–—|;]", ", ", s)
    s = _TYPE_RE.sub(lambda m: _type_word(m.group(1)) + " ", s)
    s = re.sub(r"\s+", " ", s)
    return re.sub(r"\s*,\s*", ", ", s).strip(" ,")


def _type_word(abbr: str) -> str:
    for pattern, word in _TYPE_ABBR:
        if re.fullmatch(pattern, abbr, re.IGNORECASE):
            return word
    return abbr


def _components(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _resolve_province_tokens(parts: list[str], default_province: str | None) -> tuple[list[str], list[str]]:
    """Replace initials (`KG`) and historical provinces by pre-2025 names; return (parts, notes)."""
    notes: list[str] = []
    out: list[str] = []
    for part in parts:
        bare = re.sub(r"^(Tỉnh|Thành phố)\s+", "", part)
        key = re.sub(r"[^a-z ]", " ", unidecode(bare).lower())
        key = re.sub(r"\s+", " ", key).strip()
        if re.fullmatch(r"[A-ZĐ][A-ZĐ.\-]{1,5}", bare.replace(" ", "")):
            province = _province_from_initials(bare, default_province)
            if province:
                out.append(province)
                notes.append(f"province initials {bare} read as {province}")
                continue
        if key in HISTORICAL_PROVINCES:
            successors = HISTORICAL_PROVINCES[key]
            notes.append(f"historical province {bare} (now {', '.join(successors)})")
            out.append("|".join(successors))
            continue
        out.append(part)
    return out, notes


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", unidecode(text).lower())


_UNIT_TYPE = re.compile(r"^(quận|huyện|thị xã|thành phố|phường|xã|thị trấn)\s+", re.IGNORECASE)


def _names(text: str, place: Place) -> bool:
    """Does `text` name the finest unit `place` found, word for word (without diacritics only when
    the text is written without them)?"""
    unit = place.commune if place.status == "mapped" else place.district
    if not unit:
        return True
    unit = _UNIT_TYPE.sub("", unit)  # `Quận 1` is written `Q.1`
    if unidecode(text) == text:
        return f" {_ascii(unit).strip()} " in f" {_ascii(text)} "
    words = " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", text).lower()))
    name = " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", unit).lower()))
    return f" {name} " in f" {words} "


# Forms repeat the same addresses, with and without the default province added.
@lru_cache(maxsize=100_000)
def _parse(address: str) -> Place:
    unit = parse_address(address, mode="LEGACY", keep_street=False)
    status: Status = "unmapped"
    if unit.ward:
        status = "mapped"
    elif unit.district:
        status = "district"
    elif unit.province:
        status = "province"
    return Place(
        text=address,
        commune=unit.short_ward,
        district=unit.short_district,
        province=unit.short_province,
        commune_code=unit.ward_code,
        district_code=unit.district_code,
        province_code=unit.province_code,
        status=status,
    )


_RANK = {"mapped": 3, "district": 2, "province": 1, "unmapped": 0}


@lru_cache(maxsize=500_000)
def parse_place(text: str | None, default_province: str | None = None) -> Place:
    """Map a free-text place to pre-2025 commune / district / province, or say why not.

    `default_province` is assumed when the text names no province (forms of one province often
    omit it); the reason then says so.
    """
    place = parse_units(text, default_province)
    if place.status == "unmapped":  # blank, or only the 2025 fallback, which has its code
        return place
    if place.commune:
        return replace(place, commune_2025_code=_commune_2025(place.commune, place.district, place.province))
    # No pre-2025 commune: the text may name a post-2025 one (`Xã Mỹ Thuận, Tỉnh An Giang`).
    return replace(place, commune_2025_code=_parse_2025(_tidy(place.text)))


@lru_cache(maxsize=500_000)
def parse_units(text: str | None, default_province: str | None = None) -> Place:
    """`parse_place` without the commune's 2025 code (None unless only the 2025 fallback placed
    it): for callers that read the pre-2025 units alone — the 2025 lookup was about half of
    parsing a country's recovery places (docs/national_scale.md)."""
    if text is None or not str(text).strip():
        return Place(text="", reason="blank")
    original = str(text)
    parts, notes = _resolve_province_tokens(_components(_tidy(original)), default_province)
    addresses = [", ".join(parts)]
    historical = [p for p in parts if "|" in p]
    if historical:
        rest = [p for p in parts if "|" not in p]
        addresses = [", ".join([*rest, s]) for s in historical[0].split("|")]
    best: Place | None = None
    for address in addresses:
        place = _parse(address)
        if place.province and (best is None or _RANK[place.status] > _RANK[best.status]):
            best = place
    assumed_province = False
    # A province found without its name in the text is the parser's guess from a district or commune
    # name that exists in several provinces (`huyện Châu Thành` is in ten): the default goes first.
    guessed = best is not None and _ascii(best.province or "") not in _ascii(", ".join(parts))
    if default_province and (best is None or guessed or best.status in ("province", "unmapped")):
        # Forms of one province often omit it; an assumed province counts only if it finds a unit in it.
        assumed = _parse(", ".join(p.replace("|", " ") for p in parts) + ", " + default_province)
        if _RANK[assumed.status] >= max(_RANK["district"], _RANK[best.status] if guessed and best else 0):
            if best is not None and not guessed and best.province != assumed.province:
                notes.append(f"text names {best.province}, unit is in {assumed.province} (merged?)")
            else:
                notes.append(f"province {default_province} assumed")
            best, assumed_province = assumed, True
    if best is not None and guessed and not assumed_province and not _names(original, best):
        # The parser matches names loosely (`xã Vĩnh Tú` as the city of Vinh, `huyện Châu Thành` as
        # Yên Châu, Sơn La): a guessed province stands only on a unit the text itself names.
        notes.append(f"{best.district or best.province}, {best.province} guessed, not named in the text")
        best = None
    if best is None:
        return _fallback_2025(original, notes)
    names_commune = len(parts) >= 3 or (assumed_province and len(parts) >= 2)
    if best.status == "district" and not names_commune:
        notes.append("no commune in the text")
    elif best.status == "district":
        notes.append(f"commune not recognised in {best.district}: {parts[0]}")
    elif best.status == "province":
        notes.append(f"district and commune not recognised in {best.province}")
    return Place(**{**asdict(best), "text": original, "reason": "; ".join(notes) or None})


@lru_cache(maxsize=50_000)
def _parse_2025(address: str) -> str | None:
    unit = parse_address(address, mode="FROM_2025", keep_street=False)
    return unit.ward_code if unit.ward else None


@lru_cache(maxsize=50_000)
def _commune_2025(commune: str, district: str | None, province: str | None) -> str | None:
    try:
        unit = convert_address(", ".join(p for p in (commune, district, province) if p))
    except (ValueError, KeyError, AttributeError):
        return None
    return unit.ward_code if unit.ward else None


def _fallback_2025(original: str, notes: list[str]) -> Place:
    unit = parse_address(_tidy(original), mode="FROM_2025", keep_street=False)
    if unit.province:
        return Place(
            text=original,
            status="unmapped",
            commune_2025_code=_parse_2025(_tidy(original)),
            reason="; ".join(
                [
                    *notes,
                    f"only a post-2025 unit recognised ({unit.short_ward or ''} {unit.short_province}); "
                    "no single pre-2025 unit",
                ]
            ),
        )
    return Place(text=original, reason="; ".join([*notes, "no province, district or commune recognised"]))


PLACE_COLUMNS = {
    "commune": pl.String,
    "district": pl.String,
    "province": pl.String,
    "commune_code": pl.String,
    "district_code": pl.String,
    "province_code": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "commune_2025_code": pl.String,
}


def most_common_province(texts: pl.Series, sample: int = 2000) -> str | None:
    """The province most texts name: the default for texts that omit it."""
    distinct = texts.drop_nulls().value_counts(sort=True).head(sample)
    counts: dict[str, int] = {}
    for text, n in distinct.iter_rows():
        p = parse_place(text).province
        if p:
            counts[p] = counts.get(p, 0) + n
    return max(counts, key=counts.__getitem__) if counts else None


def place_frame(texts: pl.Series, default_province: str | None = None, prefix: str = "") -> pl.DataFrame:
    """Parse a column of place texts (each distinct text once); one output row per input row."""
    frame = pl.DataFrame({"_t": texts.cast(pl.String)})
    distinct = frame.unique()
    rows = []
    for (t,) in distinct.iter_rows():
        p = parse_place(t, default_province)
        rows.append((t, *(getattr(p, c) for c in PLACE_COLUMNS)))
    parsed = pl.DataFrame(rows, schema={"_t": pl.String, **PLACE_COLUMNS}, orient="row")
    out = frame.join(parsed, on="_t", how="left", nulls_equal=True, maintain_order="left").drop("_t")
    return out.rename({c: prefix + c for c in PLACE_COLUMNS}) if prefix else out


@lru_cache(maxsize=100_000)
def place_key(text: str | None) -> str:
    """A cheap comparison key for places that could not be mapped: ascii words, types dropped."""
    if not text:
        return ""
    s = unidecode(normalise_text(_tidy(text))).lower()
    s = re.sub(r"\b(thanh pho|thi xa|thi tran|huyen|xa|phuong|quan|tinh|ap|thon|xom)\b", " ", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


# --- administrative units: grouping keys for worklists, reports and maps -----------------------

UNIT_COLUMNS = {
    "commune_code": pl.String,
    "commune_name": pl.String,
    "district_code": pl.String,
    "district_name": pl.String,
    "province_code": pl.String,
    "province_name": pl.String,
    "in_province": pl.Boolean,
}
_UNIT_TYPES = re.compile(r"^(?:thanh pho|thi xa|thi tran|huyen|xa|phuong|quan|tinh|tp|tx|tt|h|x|p|q)\b\.?\s*")


def _unit_key(text: str | None) -> str:
    """Spelling-proof key of one unit name: no tones, no type word, `y` read as `i` (`Mì Đức` =
    `phường Mỹ Đức`), no punctuation."""
    if not text:
        return ""
    s = re.sub(r"[^a-z0-9 ]+", " ", unidecode(normalise_text(str(text))).lower()).strip()
    s = _UNIT_TYPES.sub("", s)
    return re.sub(r"\s+", "", s.replace("y", "i"))


@lru_cache(maxsize=1)
def _legacy_units() -> dict[str, list[dict[str, str]]]:
    """Province short name → every pre-2025 commune of it, with its district, codes and keys."""
    from vietnamadminunits.parser.parser_legacy import (
        DICT_PROVINCE,
        DICT_PROVINCE_DISTRICT,
        DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED,
    )

    out: dict[str, list[dict[str, str]]] = {}
    for pkey, province in DICT_PROVINCE.items():
        districts = DICT_PROVINCE_DISTRICT.get(pkey, {})
        rows = out.setdefault(province["provinceShort"], [])
        for dkey, wards in DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED.get(pkey, {}).items():
            district = districts.get(dkey)
            if district is None:
                continue
            for ward in wards.values():
                rows.append(
                    {
                        "commune_code": ward["wardCode"],
                        "commune_name": ward["wardShort"],
                        "district_code": district["districtCode"],
                        "district_name": district["districtShort"],
                        "province_code": province["provinceCode"],
                        "province_name": province["provinceShort"],
                        "commune_key": _unit_key(ward["wardShort"]),
                        "district_key": _unit_key(district["districtShort"]),
                    }
                )
    return out


@lru_cache(maxsize=100_000)
def admin_unit(
    commune: str | None, district: str | None, province: str | None, home_province: str | None
) -> dict[str, object]:
    """The commune a (commune, district, province) text names, as codes and official names.

    Old (pre-2025) names are looked up first: the full text through `parse_place`, then the commune
    alone among the communes of its province (the home province when none is written), spelling
    variants folded (`phường Mì Đức`, `Mì Đức`, `Mỹ Đức`), the district deciding between namesakes.
    A commune known only by its 2025 name gets its 2025 code prefixed `2025-`. What cannot be placed
    keeps its text as the name and no code; `in_province` says whether the unit lies in the home
    province (None when unknown).
    """
    home = parse_place(home_province).province if home_province else None
    text = ", ".join(p for p in (commune, district, province) if p)
    unit = None
    if commune and not district and not province:
        # A bare commune name is first a commune of the home province (`Mỹ Đức` is also a district
        # of Hà Nội, which the address parser would pick).
        unit = _commune_by_key(home, commune, None)
    found = parse_place(text, home) if text else Place(text="")
    if unit is None and found.status == "mapped":
        unit = {
            "commune_code": found.commune_code,
            "commune_name": found.commune,
            "district_code": found.district_code,
            "district_name": found.district,
            "province_code": found.province_code,
            "province_name": found.province,
        }
    if unit is None and commune:
        unit = _commune_by_key(found.province or home, commune, district)
    if unit is None and not commune and found.status == "district" and found.province:
        unit = {
            "commune_code": None,
            "commune_name": None,
            "district_code": found.district_code,
            "district_name": found.district,
            "province_code": found.province_code,
            "province_name": found.province,
        }
    new_code = None
    if unit is None and commune:
        new_code = _commune_2025_named(commune, found.province or province or home)
        # A commune the 2025 reform kept keeps its code: the record is the old commune, in the home
        # province (`Xã Mỹ Thuận, Tỉnh An Giang` is Hòn Đất's Mỹ Thuận of Kiên Giang).
        kept = [
            u
            for u in _legacy_units().get(home or "", [])
            if u["commune_code"] == new_code and u["commune_key"] == _unit_key(commune)
        ]
        if len(kept) == 1:
            unit = {k: v for k, v in kept[0].items() if not k.endswith("_key")}
    if unit is None:
        area = parse_place(", ".join(p for p in (district, province) if p), home) if district else None
        placed = area is not None and area.status in ("district", "mapped")
        unit = {
            # Only a 2025 unit recognised: its code, marked, since 2025 codes reuse old numbers.
            "commune_code": f"2025-{new_code}" if new_code else None,
            "commune_name": normalise_text(commune) if commune else None,
            "district_code": area.district_code if placed else None,
            "district_name": area.district if placed else (normalise_text(district) if district else None),
            "province_code": area.province_code if placed else found.province_code,
            "province_name": area.province if placed else (found.province or province),
        }
    known = unit["province_name"] is not None and home is not None
    unit["in_province"] = unit["province_name"] == home if known else None
    return unit


@lru_cache(maxsize=50_000)
def _commune_2025_named(commune: str, province: str | None) -> str | None:
    """The 2025 commune of that very name (the parser's guess from other words is not taken)."""
    for address in (f"{commune}, {province}" if province else None, commune):
        if not address:
            continue
        unit = parse_address(_tidy(address), mode="FROM_2025", keep_street=False)
        if unit.ward and _unit_key(unit.short_ward) == _unit_key(commune):
            return unit.ward_code
    return None


def _commune_by_key(province: str | None, commune: str, district: str | None) -> dict[str, object] | None:
    """The one commune of `province` whose name key is `commune`'s (the district's deciding), or None."""
    key, dkey = _unit_key(commune), _unit_key(district)
    matches = [u for u in _legacy_units().get(province or "", []) if key and u["commune_key"] == key]
    if dkey and len(matches) > 1:
        matches = [u for u in matches if u["district_key"] == dkey]
    if len(matches) != 1:
        return None
    return {k: v for k, v in matches[0].items() if not k.endswith("_key")}


def admin_units(
    frame: pl.DataFrame,
    commune: str,
    district: str | None = None,
    province: str | None = None,
    home_province: str | None = None,
) -> pl.DataFrame:
    """`frame` with the `UNIT_COLUMNS` of `admin_unit` for its commune/district/province columns,
    each distinct combination resolved once."""
    cols = [c for c in (commune, district, province) if c]
    distinct = frame.select(cols).unique()
    rows = []
    for rec in distinct.iter_rows(named=True):
        unit = admin_unit(
            rec[commune], rec.get(district) if district else None, rec.get(province) if province else None,
            home_province,
        )  # fmt: skip
        rows.append({**rec, **unit})
    resolved = pl.DataFrame(rows, schema={**distinct.schema, **UNIT_COLUMNS}, orient="row")
    return frame.join(resolved, on=cols, how="left", nulls_equal=True, maintain_order="left")


def unit_label(name: str | None, code: str | None) -> str:
    """How a unit is shown: its official name, or the text written when it could not be placed."""
    return name or ("(mã " + code + ")" if code else "(chưa rõ)")


def province_of(martyrs: pl.DataFrame | None, fallback: pl.Series | None = None) -> str | None:
    """The run's province: the one most martyrs' hometowns name; before the registry arrives, the
    one most `fallback` place texts name (recovery places, village conclusions). Places written
    without a province (`xã Bình An, huyện Châu Thành`) are in it."""
    if martyrs is not None and "hometown_province" in martyrs.columns:
        top = martyrs["hometown_province"].drop_nulls().mode().sort()
        if len(top):
            return str(top[0])
    return most_common_province(fallback) if fallback is not None and len(fallback) else None


@lru_cache(maxsize=1)
def province_codes() -> dict[str, str]:
    """Province (short official name, pre-2025) → its two-digit official code, and back."""
    from vietnamadminunits.parser.parser_legacy import DICT_PROVINCE

    names = {v["provinceShort"]: v["provinceCode"] for v in DICT_PROVINCE.values()}
    return names | {code: name for name, code in names.items()}


OUTSIDE_PROVINCE = "ngoai-tinh"


def grouping_key() -> pl.Expr:
    """The key a frame with `UNIT_COLUMNS` is grouped by: the commune code; one group for every
    place outside the province; the written name, marked, for a commune that could not be placed."""
    return (
        pl.when(pl.col("in_province").not_())
        .then(pl.lit(OUTSIDE_PROVINCE))
        .when(pl.col("commune_code").is_not_null())
        .then(pl.col("commune_code"))
        .when(pl.col("commune_name").is_not_null())
        .then(pl.lit("?") + pl.col("commune_name"))
        .otherwise(pl.lit(None, pl.String))
    )


@lru_cache(maxsize=1)
def _district_points() -> dict[str, tuple[float, float]]:
    from vietnamadminunits.parser.parser_legacy import DICT_PROVINCE_DISTRICT

    return {
        d["districtCode"]: (float(d["districtLat"]), float(d["districtLon"]))
        for districts in DICT_PROVINCE_DISTRICT.values()
        for d in districts.values()
        if d.get("districtLat") is not None and d.get("districtLon") is not None
    }


@lru_cache(maxsize=50_000)
def unit_point(
    commune: str | None, district: str | None, province: str | None, *, commune_only: bool = False
) -> tuple[float, float] | None:
    """Reference point of a pre-2025 unit from `vietnamadminunits`: the commune's, else the
    district's. A district alone is ambiguous (Châu Thành is in six provinces): the fallback needs
    the province too. `commune_only` refuses the district fallback (a commune map needs a commune)."""
    if commune_only and not commune:
        return None
    if not commune_only and (not province or not district):
        return None
    address = ", ".join(x for x in (commune, district, province) if x)
    try:
        unit = parse_address(address, mode="LEGACY", level=3)
    except (ValueError, KeyError, TypeError):
        return None
    if unit is None or unit.latitude is None or unit.longitude is None or (commune_only and not unit.ward):
        return None
    return float(unit.latitude), float(unit.longitude)


def district_centroid(code: str | None) -> tuple[float, float] | None:
    """The district's reference point (pre-2025 units), or None for an unknown code."""
    return _district_points().get(code or "")


def with_unit_codes(
    frame: pl.DataFrame, home_province: str | None, commune: str = "commune", district: str = "district"
) -> pl.DataFrame:
    """`frame` with `commune_code, commune_name, district_code, district_name` resolved from its
    commune, district and (if present) province columns: the keys to group by, the names to show."""
    province = "province" if "province" in frame.columns else None
    units = admin_units(frame.drop(UNIT_COLUMNS, strict=False), commune, district, province, home_province)
    return units.drop("province_code", "province_name", "in_province")
