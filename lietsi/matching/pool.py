"""The pool of missing martyrs, and the factors whose denominators are measured on it.

`build_pool` gathers the missing martyrs (grave not identified) with their places of death (or
their local unit's area when finer), given and full names, hometowns and where each unit lost its
men. The artefact name, hometown and unit-area factors weigh an observation against the share of
the pool it would fit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import polars as pl

from lietsi.formations import formation
from lietsi.matching.evidence import EvidenceSettings, Factor, floored_share
from lietsi.matching.geography import by_region, commune_index, finer_and_consistent, place_units, unit_place
from lietsi.names import initials_compatible, key_variant, name_similarity, normalise_text
from lietsi.places import parse_units, place_key, unit_point
from lietsi.reasons import reason

IDENTIFIED = "Đã xác định"


@dataclass
class Pool:
    """The missing martyrs: who the remains could be, their places of death and names."""

    size: int
    # martyr_id → key of his place: the recorded place of death, or his local unit's area when finer
    martyr_place_key: dict[str, str]
    martyr_place_source: dict[str, str]  # martyr_id → `death` or `unit`
    key_places: dict[str, dict[str, str | None]]  # place key → parsed admin units
    centroids: dict[str, tuple[float, float]]  # martyr_id → centroid of the death place
    given: Counter
    full: Counter
    hometown: Counter
    death_province_all: Counter  # over all martyrs (unit areas need every recorded death)
    unit_provinces: dict[str, Counter]
    death_regions: Counter  # the same two, by military region (`geography.MILITARY_REGIONS`)
    unit_regions: dict[str, Counter]


def given_name_key(name: str | None) -> str | None:
    key = key_variant(name or "")
    return key.split()[-1] if key else None


def build_pool(martyrs: pl.DataFrame, default_province: str | None = None) -> tuple[pl.DataFrame, Pool]:
    """(missing martyrs, their statistics); missing = grave not identified (`Đã xác định`)."""
    missing = martyrs.filter(pl.col("grave_status").fill_null("") != IDENTIFIED)
    martyr_key: dict[str, str] = {}
    martyr_source: dict[str, str] = {}
    key_places: dict[str, dict[str, str | None]] = {}
    centroids: dict[str, tuple[float, float]] = {}
    units = missing["unit"] if "unit" in missing.columns else pl.Series([None] * missing.height)
    # A national pool names each martyr's province (`province`): his local unit fought there.
    homes = (
        missing["province"]
        if "province" in missing.columns
        else pl.Series([default_province] * missing.height)
    )
    communes = {home: commune_index(martyrs, home) for home in set(homes.to_list())}
    rows = zip(missing.select("martyr_id", "death_place").iter_rows(), units, homes, strict=True)
    for (mid, text), unit, home in rows:
        key = place_key(text)
        if key and key not in key_places:
            key_places[key] = place_units(text, default_province)
        death = key_places.get(key, {})
        source = "death"
        local = unit_place(unit, home, communes[home])
        if local and finer_and_consistent(local, death):
            key, source = (
                f"unit {place_key(unit)}" + ("" if home == default_province else f" / {home}"),
                "unit",
            )
            key_places[key] = local
            death = local
        martyr_key[mid] = key
        martyr_source[mid] = source
        if not key:
            continue
        centroid = unit_point(death["commune"], death["district"], death["province"])
        if centroid:
            centroids[mid] = centroid
    unit_provinces: dict[str, Counter] = {}
    death_province_all: Counter = Counter()
    for unit, text in martyrs.select("unit", "death_place").iter_rows():
        province = parse_units(text, default_province).province
        if province:
            death_province_all[province] += 1
            if formation(unit):
                unit_provinces.setdefault(formation(unit), Counter())[province] += 1
    pool = Pool(
        size=missing.height,
        martyr_place_key=martyr_key,
        martyr_place_source=martyr_source,
        key_places=key_places,
        centroids=centroids,
        given=Counter(g for g in (given_name_key(n) for n in missing["full_name"].to_list()) if g),
        full=Counter(k for k in (key_variant(n or "") for n in missing["full_name"].to_list()) if k),
        hometown=Counter(c for c in missing["hometown_commune"].to_list() if c),
        death_province_all=death_province_all,
        unit_provinces=unit_provinces,
        death_regions=by_region(death_province_all),
        unit_regions={unit: by_region(counts) for unit, counts in unit_provinces.items()},
    )
    return missing, pool


def unit_area_factor(
    cemetery_province: str | None,
    unit: str | None,
    unit_deaths_there: int,
    unit_deaths: int,
    pool_share: float | None,
    s: EvidenceSettings,
) -> Factor:
    """Is the cemetery's province where the martyr's unit fought? P1 = the unit's share of deaths in
    that province (smoothed), P2 = the whole pool's share."""
    if not cemetery_province or not unit or pool_share is None or unit_deaths == 0:
        return Factor("unit_area", 1.0, [reason("factor.unit_area_unknown")])
    q = floored_share(pool_share, s)
    p1 = (unit_deaths_there + s.unit_area_pseudocount * q) / (unit_deaths + s.unit_area_pseudocount)
    p1 = floored_share(p1, s)
    return Factor(
        "unit_area",
        p1 / q,
        [
            reason(
                "factor.unit_area",
                there=unit_deaths_there,
                total=unit_deaths,
                unit=unit,
                province=cemetery_province,
            )
        ],
        {"unit_share": round(p1, 4), "pool_share": round(q, 4)},
    )


_QUOTED = re.compile(r"[\"“”'‘’«»]([^\"“”'‘’«»]{1,60})[\"“”'‘’«»]")
_ENGRAVED = re.compile(
    r"\b(?:khắc|khac|ghi|tên|ten|chữ|chu)\s*(?:chữ|chu|tên|ten)?\s*:?\s*([^,;()]{1,40})", re.IGNORECASE
)


def inscriptions(artefacts: str | None) -> list[str]:
    """Text read on the artefacts: quoted words, or what follows `khắc` / `ghi` / `tên`."""
    if not artefacts:
        return []
    text = normalise_text(str(artefacts))
    found = [m.strip() for m in _QUOTED.findall(text)]
    if not found:
        found = [m.strip() for m in _ENGRAVED.findall(text)]
    return [f for f in found if f]


def _name_parts(name: str) -> list[str]:
    return [w for w in normalise_text(name).split() if w]


def artefact_lr(cell: tuple[str, str], q: float, s: EvidenceSettings) -> float:
    """The artefact factor's LR of its outcome `cell` (an inscription names the martyr, or another
    name) and its pool share `q`: its matching reads no numerator, so a factor matched once is
    weighed again under other numerators from these two (`scoring.FactorNumbers.of`)."""
    return (s.inscription_names_owner if cell[1] == "names" else 1 - s.inscription_names_owner) / q


def artefact_name_factor(
    inscription_texts: list[str],
    martyr_names: list[str],
    given_share: float | None,
    full_share: float | None,
    s: EvidenceSettings,
    alias_share: float | None = None,
) -> Factor:
    """Does an inscription name the martyr? `martyr_names`: full name first, then aliases.
    given_share / full_share: pool share of the martyr's given name / full name (variant keys);
    alias_share: the largest pool share of his aliases' last words as given names (a nom de
    guerre `Ba Quý` is as common as soldiers called Quý, not as rare as his full name)."""
    if not inscription_texts:
        return Factor("artefact", 1.0, [reason("factor.artefact_unread")])
    names = [n for n in martyr_names if n]
    if not names:
        return Factor("artefact", 1.0, [reason("factor.artefact_no_martyr_name")])
    cell = ("artefact", "names")
    full = [t for t in inscription_texts if len(_name_parts(t)) >= 2]
    best_full = max((name_similarity(t, names[0]) for t in full), default=0.0)
    if best_full >= s.name_match_min_similarity and full_share is not None:
        q = floored_share(full_share, s)
        return Factor(
            "artefact",
            artefact_lr(cell, q, s),
            [reason("factor.artefact_full_name", inscription=full[0])],
            {"similarity": round(best_full, 3), "pool_share": round(q, 5)},
            cell,
            q,
        )
    given = {key_variant(_name_parts(n)[-1]) for n in names[:1] if _name_parts(n)}
    aliases = {key_variant(n) for n in names[1:]} | {key_variant(_name_parts(n)[-1]) for n in names[1:]}
    for t in inscription_texts:
        words = _name_parts(t)
        if not words:
            continue
        initials_fit = len(words) == 1 or any(initials_compatible(t, n) for n in names)
        by_alias = key_variant(t) in aliases or (len(words) == 1 and key_variant(words[-1]) in aliases)
        if by_alias or (key_variant(words[-1]) in given and initials_fit):
            share = alias_share if by_alias and alias_share is not None else given_share
            q = floored_share(share if share is not None else 1.0, s)
            return Factor(
                "artefact",
                artefact_lr(cell, q, s),
                [reason("factor.artefact_" + ("alias" if by_alias else "given_name"), inscription=t)],
                {"pool_share": round(q, 5)},
                cell,
                q,
            )
    # A name that is not his: the artefact may have been a comrade's, so this weighs, not excludes.
    q = floored_share(1 - (given_share or 0.0), s)
    other = ("artefact", "other")
    return Factor(
        "artefact",
        artefact_lr(other, q, s),
        [reason("factor.artefact_other_name", inscription=inscription_texts[0])],
        {"similarity": round(best_full, 3)},
        other,
        q,
    )


def hometown_factor(
    artefacts: str | None, hometown_commune: str | None, hometown_district: str | None,
    pool_share: float | None, s: EvidenceSettings,
) -> Factor:  # fmt: skip
    """Does the artefact text name the martyr's home commune or district?
    pool_share = share of missing martyrs from that commune (or district)."""
    if not artefacts or not (hometown_commune or hometown_district) or pool_share is None:
        return Factor("hometown", 1.0, [reason("factor.hometown_unknown")])
    text = key_variant(str(artefacts))
    for unit in (hometown_commune, hometown_district):
        if unit and len(key_variant(unit)) >= 4 and f" {key_variant(unit)} " in f" {text} ":
            q = floored_share(pool_share, s)
            return Factor(
                "hometown",
                s.hometown_named_given_match / q,
                [reason("factor.hometown_named", unit=unit)],
                {"pool_share": round(q, 4)},
            )
    return Factor("hometown", 1.0, [reason("factor.hometown_not_named")])
