"""The register's remains as the reference population, and the factors measured on it.

P(observation | the remains are someone else) for the estimated sex and age, the recovery place,
date and coordinates is the share of the register's remains showing it (`Register`), since those
observations describe remains. `remains_features` parses each remains once; the sex, age, place,
distance and date factors weigh a pair against those shares.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from lietsi.dates import from_columns
from lietsi.geo import haversine_km
from lietsi.matching.evidence import EvidenceSettings, Factor, floored_share
from lietsi.matching.geography import LEVELS, place_level, place_units
from lietsi.matching.pool import inscriptions
from lietsi.names import normalise_text
from lietsi.places import parse_units, place_key
from lietsi.reasons import reason


@dataclass
class Register:
    """The register's remains as the reference population: P(observation | the remains are someone
    else) is measured here, since the observations (estimated sex and age, recovery place, date
    and coordinates) describe remains, and remains of nobody in the pool are among them."""

    sex: Counter
    age_ranges: list[tuple[int, int]]  # the register's age estimates
    recovery_last: list[date]  # sorted latest days of the recovery dates
    places: Counter  # recovery place key → remains
    key_places: dict[str, dict[str, str | None]]
    points: list[tuple[float, float]]
    place_share_cache: dict[str, dict[tuple[int, str], float]] = field(default_factory=dict)
    place_index: dict[int, tuple[int, Counter, Counter, Counter, Counter]] | None = None
    band_share_cache: dict[tuple[float, float], tuple[float, ...]] = field(default_factory=dict)
    age_share_cache: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)

    def sex_share(self, est: str) -> float | None:
        total = sum(self.sex.values())
        return self.sex[est] / total if total else None

    def age_shares(self, age: int, tolerance: int) -> dict[str, float] | None:
        """Shares of the estimates containing `age`, containing it only within the tolerance, not."""
        if not self.age_ranges:
            return None
        cached = self.age_share_cache.get((age, tolerance))
        if cached is None:
            n = len(self.age_ranges)
            inside = sum(lo <= age <= hi for lo, hi in self.age_ranges) / n
            widened = sum(lo - tolerance <= age <= hi + tolerance for lo, hi in self.age_ranges) / n
            cached = {"inside": inside, "near": widened - inside, "outside": 1 - widened}
            self.age_share_cache[(age, tolerance)] = cached
        return cached

    def before_share(self, death: date) -> float | None:
        if not self.recovery_last:
            return None
        return bisect.bisect_left(self.recovery_last, death) / len(self.recovery_last)

    def place_shares(self, death_key: str, death: dict[str, str | None]) -> dict[tuple[int, str], float]:
        """P(outcome | level) over the register's recovery places, against one place of death:
        `place_relation` of every register place, counted from the register's places by level and
        unit (`place_index`), so each place of death costs a few look-ups, not one comparison per
        recovery place (a country has tens of thousands of each)."""
        cached = self.place_share_cache.get(death_key)
        if cached is not None:
            return cached
        counts: Counter = Counter()
        if death_key:
            for relation, n in self._relations(death_key, death):
                if n > 0:
                    counts[relation] += n
        by_level: Counter = Counter()
        for (level, _), n in counts.items():
            by_level[level] += n
        shares = {rel: n / by_level[rel[0]] for rel, n in counts.items()}
        self.place_share_cache[death_key] = shares
        return shares

    def _relations(self, death_key: str, death: dict[str, str | None]) -> list[tuple[tuple[int, str], int]]:
        """(relation, remains) against one place of death, for the register places of each level."""
        if self.place_index is None:
            self.place_index = _place_index(self.places, self.key_places)
        out = []
        death_level = place_level(death)
        province, district = death.get("province"), death.get("district")
        for own_level, (total, provinces, districts, communes, keys) in self.place_index.items():
            level = min(own_level, death_level)
            if level == 0:
                same = keys[death_key]
                out += [((0, "same_text"), same), ((0, "different"), total - same)]
                continue
            in_province = provinces[province]
            out.append(((level, "elsewhere"), total - in_province))
            if level == 1:
                out.append(((1, "province"), in_province))
                continue
            in_district = districts[(province, district)]
            out.append(((level, "province"), in_province - in_district))
            if level == 2:
                out.append(((2, "district"), in_district))
                continue
            in_commune = communes[(province, district, death.get("commune"))]
            out += [((3, "district"), in_district - in_commune), ((3, "commune"), in_commune)]
        return out

    def band_shares(self, centroid: tuple[float, float], s: EvidenceSettings) -> tuple[float, ...]:
        cached = self.band_share_cache.get(centroid)
        if cached is None:
            bands = Counter(distance_band(haversine_km(*p, *centroid), s) for p in self.points)
            n = max(len(self.points), 1)
            cached = tuple(bands[i] / n for i in range(len(s.distance_bands_km) + 1))
            self.band_share_cache[centroid] = cached
        return cached


def _place_index(
    places: Counter, key_places: dict[str, dict[str, str | None]]
) -> dict[int, tuple[int, Counter, Counter, Counter, Counter]]:
    """The register's recovery places by their level (`place_level`): (remains, by province, by
    (province, district), by (province, district, commune), by text key)."""
    index: dict[int, tuple[list[int], Counter, Counter, Counter, Counter]] = {}
    for key, n in places.items():
        if not key:
            continue
        place = key_places[key]
        total, provinces, districts, communes, keys = index.setdefault(
            place_level(place), ([0], Counter(), Counter(), Counter(), Counter())
        )
        total[0] += n
        provinces[place.get("province")] += n
        districts[(place.get("province"), place.get("district"))] += n
        communes[(place.get("province"), place.get("district"), place.get("commune"))] += n
        keys[key] += n
    return {level: (total[0], *rest) for level, (total, *rest) in index.items()}


def remains_features(remains: pl.DataFrame, default_province: str | None = None) -> dict[str, dict]:
    """Parsed recovery place, cemetery province, dates, age range, inscriptions per remains.
    `default_province`: the province of place texts that name none (`identification.prepare`'s
    run province); None in a national run, whose texts name their own."""
    out: dict[str, dict] = {}
    for rec in remains.iter_rows(named=True):
        recovery = from_columns(rec.get("recovery_date"), rec.get("recovery_date_precision"))
        cemetery = parse_units(rec.get("cemetery"), default_province)
        out[rec["remains_id"]] = {
            **rec,
            "place": place_units(rec.get("recovery_place"), default_province),
            "place_key": place_key(rec.get("recovery_place")),
            "cemetery_province": cemetery.province,
            "recovery": recovery.value if recovery else None,
            "recovery_last": recovery.last_day() if recovery else None,
            "age_range": parse_age_range(rec.get("est_age")),
            "inscriptions": inscriptions(rec.get("artefacts")),
        }
    return out


def build_register(features: dict[str, dict], s: EvidenceSettings) -> Register:
    places: Counter = Counter()
    key_places: dict[str, dict[str, str | None]] = {}
    for r in features.values():
        if r["place_key"]:
            places[r["place_key"]] += 1
            key_places.setdefault(r["place_key"], r["place"])
    return Register(
        sex=Counter(r["est_sex"] for r in features.values() if r.get("est_sex")),
        age_ranges=[r["age_range"] for r in features.values() if r["age_range"]],
        recovery_last=sorted(
            r["recovery_last"] or r["recovery"] for r in features.values() if r["recovery"] is not None
        ),
        places=places,
        key_places=key_places,
        points=[
            (float(r["lat"]), float(r["lon"]))
            for r in features.values()
            if r.get("lat") is not None and r.get("lon") is not None
        ],
    )


def _binary(
    name: str,
    event: bool,
    outcomes: tuple[str, str],
    p_match: float,
    q: float,
    why: list[dict],
    values: dict[str, Any],
    s: EvidenceSettings,
) -> Factor:
    """LR of an event with P = p_match for the true martyr and q for someone else, or of its absence."""
    den = q if event else floored_share(1 - q, s)
    lr = (p_match if event else 1 - p_match) / den
    return Factor(name, lr, why, values, (name, outcomes[0] if event else outcomes[1]), den)


def sex_factor(
    est_sex: str | None, martyr_sex: str | None, est_share: float | None, s: EvidenceSettings
) -> Factor:
    """est_share = P(this estimate | the remains are someone else): the share of the register's sex
    estimates that read `est_sex` (estimation errors included, so no correction is needed)."""
    if not est_sex or not martyr_sex or est_share is None:
        return Factor("sex", 1.0, [reason("factor.sex_unknown")])
    q = floored_share(est_share, s)
    values = {"register_share": round(q, 4)}
    if est_sex == martyr_sex:
        why = [reason("factor.sex_agrees", est_sex=est_sex, share=q)]
        return Factor("sex", (1 - s.sex_error) / q, why, values, ("sex", "agree"), q)
    why = [reason("factor.sex_disagrees", est_sex=est_sex, martyr_sex=martyr_sex)]
    return Factor("sex", s.sex_error / q, why, values, ("sex", "disagree"), q)


_AGE = re.compile(r"(\d{1,2})\s*(?:-|–|đến|den|to)\s*(\d{1,2})")
_NUM = re.compile(r"\d{1,2}")


def parse_age_range(text: str | None) -> tuple[int, int] | None:
    """`18-25`, `18 – 25 tuổi`, `khoảng 20` (± 3), `trên 30` → (low, high) years."""
    if not text:
        return None
    t = normalise_text(str(text)).lower()
    m = _AGE.search(t)
    if m:
        lo, hi = sorted((int(m.group(1)), int(m.group(2))))
        return lo, hi
    nums = [int(n) for n in _NUM.findall(t)]
    if not nums:
        return None
    if "trên" in t or "tren" in t or ">" in t:
        return nums[0], 60
    if "dưới" in t or "duoi" in t or "<" in t:
        return 14, nums[0]
    return nums[0] - 3, nums[0] + 3


def age_factor(
    est_age: tuple[int, int] | None,
    age_at_death: int | None,
    shares: dict[str, float] | None,
    s: EvidenceSettings,
) -> Factor:
    """shares = P(the martyr's age at death falls inside / near / outside the estimate | the remains
    are someone else): the shares of the register's age estimates that contain his age, that
    contain it only once widened by the tolerance, and the rest."""
    if est_age is None or age_at_death is None or shares is None:
        return Factor("age", 1.0, [reason("factor.age_unknown")])
    lo, hi = est_age
    tol = s.age_tolerance_years
    outcome = (
        "inside"
        if lo <= age_at_death <= hi
        else "near"
        if lo - tol <= age_at_death <= hi + tol
        else "outside"
    )
    q = floored_share(shares[outcome], s)
    p1 = dict(s.age_given_match)[outcome]
    return Factor(
        "age",
        p1 / q,
        [reason(f"factor.age_{outcome}", age=age_at_death, lo=lo, hi=hi, tolerance=tol)],
        {"estimated": f"{lo}-{hi}", "age_at_death": age_at_death, "register_share": round(q, 4)},
        ("age", outcome),
        q,
    )


def place_factor(
    relation: tuple[int, str] | None,
    share: float | None,
    s: EvidenceSettings,
    detail: str = "",
    source: str = "death",
) -> Factor:
    """share = P(this outcome at this level | the remains are someone else): among the register's
    remains whose recovery place is known at the same level against the martyr's place of death,
    the share in this outcome."""
    if relation is None or share is None:
        return Factor("place", 1.0, [reason("factor.place_unknown")])
    level, outcome = relation
    table = f"{source}:{level}"
    p1 = dict(dict(s.place_given_match)[table])[outcome]
    q = floored_share(share, s)
    why = [
        reason(f"factor.{'place' if source == 'death' else 'unit_place'}_{outcome}"),
        reason(f"factor.compared_at_{LEVELS[level].replace(' ', '_')}", detail=detail or "–"),
    ]
    return Factor(
        "place",
        p1 / q,
        why,
        {
            "source": source,
            "level": LEVELS[level],
            "category": outcome,
            "p_match": round(p1, 4),
            "register_share": round(q, 4),
        },
        (f"place:{table}", outcome),
        q,
    )


def distance_band(km: float, s: EvidenceSettings) -> int:
    for i, edge in enumerate(s.distance_bands_km):
        if km <= edge:
            return i
    return len(s.distance_bands_km)


def distance_factor(km: float | None, pool_share: float | None, s: EvidenceSettings) -> Factor:
    """pool_share = share of the register's recovery coordinates in the same distance band from the
    martyr's place of death (P(band | the remains are someone else))."""
    if km is None or pool_share is None:
        return Factor("distance", 1.0, [reason("factor.distance_unknown")])
    band = distance_band(km, s)
    edges = (0.0, *s.distance_bands_km, math.inf)
    q = floored_share(pool_share, s)
    label = (
        f"{edges[band]:g}–{edges[band + 1]:g} km"
        if band < len(s.distance_bands_km)
        else f"> {edges[band]:g} km"
    )
    return Factor(
        "distance",
        s.distance_band_given_match[band] / q,
        [reason("factor.distance", km=km, band=label)],
        {"km": round(km, 1), "band": label, "register_share": round(q, 4)},
        ("distance", str(band)),
        q,
    )


def date_factor(
    recovery: date | None,
    recovery_last: date | None,
    death: date | None,
    before_share: float | None,
    s: EvidenceSettings,
) -> Factor:
    """`recovery_last`: the latest day a partial recovery date stands for; `death`: earliest day.
    before_share = P(recovered before this death | the remains are someone else): the share of the
    register's dated remains recovered before it."""
    if recovery is None or death is None or before_share is None:
        return Factor("date", 1.0, [reason("factor.date_unknown")])
    q = floored_share(before_share, s)
    values = {"register_share_before": round(q, 4)}
    if (recovery_last or recovery) < death:
        why = [reason("factor.date_before", recovered=recovery.isoformat(), died=death.isoformat())]
        return _binary("date", True, ("before", "after"), s.date_error, q, why, values, s)
    why = [reason("factor.date_after", died=death.year, recovered=recovery.year)]
    return _binary("date", False, ("before", "after"), s.date_error, q, why, values, s)
