"""The search map (bản đồ tìm kiếm): village coverage, merged site leads and their martyr links.

Districts hand a household form (phiếu hộ gia đình) to every household, collect what people know
of martyrs' graves (mộ liệt sĩ) and burial places (nơi chôn cất), and hold a conclusion meeting
(họp kết luận địa bàn) in each village (thôn / ấp / buôn / bon / tổ dân phố). This module turns
those two raw tables into:

- coverage per village, commune and district (forms back / households, target 95%), with the
  flags the district steering committee asks for; impossible figures (more forms back than handed
  out or than households) are quarantined, not reported;
- sites: household reports of the same grave merged (by distance when both carry coordinates,
  by fuzzy place description and martyr name within a village otherwise), with a stable id, a
  report count and a status from the optional status file (`trang_thai_diem/`);
- leads: sites that name a martyr linked to the resolved martyr, martyrs without grave first.

Pure functions on polars frames; no Dagster.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
from unidecode import unidecode

from lietsi.geo import haversine_km
from lietsi.graphs import constrained_union
from lietsi.ingest.batches import QUARANTINE_SCHEMA
from lietsi.names import BIRTH_ORDER, key_variant, name_similarity, normalise_text
from lietsi.places import place_key
from lietsi.schema import Field, Source
from lietsi.stats import pairwise_metrics

COVERAGE_TARGET = 0.95
COVERAGE_TOLERANCE = 0.5e-4

# Mainland Vietnam with its coastal islands (Phú Quốc, Côn Đảo, Bạch Long Vĩ), WGS84 degrees.
VN_LAT = (8.0, 23.5)
VN_LON = (102.0, 110.0)

STATUSES = ("reported", "verified", "excavated", "no remains found")
_STATUS_LABELS = {
    "reported": "reported",
    "da bao cao": "reported",
    "bao cao": "reported",
    "moi bao cao": "reported",
    "verified": "verified",
    "da xac minh": "verified",
    "xac minh": "verified",
    "excavated": "excavated",
    "da khai quat": "excavated",
    "khai quat": "excavated",
    "da quy tap": "excavated",
    "no remains found": "no remains found",
    "khong tim thay hai cot": "no remains found",
    "khong co hai cot": "no remains found",
    "khong thay hai cot": "no remains found",
}

SITE_STATUS = Source(
    folder="trang_thai_diem",
    description=(
        "Project extension of the input contract: status of search sites after field work "
        "(verified, excavated, no remains found), referenced by site id or household form number."
    ),
    fields=(
        Field("Mã điểm", "site_id", aliases=("Site id", "Mã điểm tìm kiếm")),
        Field("Số phiếu", "form_no", aliases=("Form number",)),
        Field("Trạng thái", "status", required=True, aliases=("Status",)),
        Field("Ngày cập nhật", "status_date", "date", aliases=("Date", "Ngày")),
        Field("Ghi chú", "note", aliases=("Note",)),
    ),
    row_required=("status",),
)

# Living people's names never leave the raw layer (the quarantine is read by operators).
_PRIVATE_COLUMNS = frozenset({"household_head"})

_WORD = re.compile(r"[a-z0-9]+")
# Village types `places.place_key` leaves in (it drops thôn, ấp, xóm and the commune types).
_VILLAGE_PREFIXES = (
    ("to", "dan", "pho"),
    ("khu", "pho"),
    ("buon",),
    ("bon",),
    ("ban",),
    ("lang",),
    ("tdp",),
    ("kp",),
    ("tt",),
    ("tx",),
    ("tp",),
)
_NAME_TITLES = frozenset({"liet", "si", "ls", "anh", "chu", "ong", "bac", "co", "ba", "chi", "em"})


# --------------------------------------------------------------------------------------------
# Text keys (names and places are normalised by `lietsi.names` / `lietsi.places`)


def fold(text: str | None) -> str:
    """Lower-case ASCII words of a Vietnamese text: tone placement, NFD/NFC and `Đ`/`Ð` vanish."""
    if not text:
        return ""
    return " ".join(_WORD.findall(unidecode(normalise_text(str(text))).lower()))


# Village tuples ask for the same few hundred texts tens of thousands of times.
@lru_cache(maxsize=100_000)
def village_key(text: str | None) -> str:
    """Comparable village/commune name: `Thôn 03` = `thon 3` = `3`, `TDP 5` = `Tổ dân phố 5` = `5`."""
    words = [(w.lstrip("0") or "0") if w.isdigit() else w for w in place_key(text).split()]
    for prefix in _VILLAGE_PREFIXES:
        if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
            words = words[len(prefix) :]
            break
    return " ".join(words)


def clean_reported_name(text: str | None) -> str:
    """A martyr's name as a household wrote it, without titles (`liệt sĩ`, `anh`, `chú`, `ông`)."""
    if not text or not str(text).strip():
        return ""
    words = normalise_text(str(text)).split()
    while len(words) > 2 and fold(words[0]) in _NAME_TITLES:
        words = words[1:]
    return " ".join(words)


def natural_key(form_no: str) -> tuple:
    """Order form numbers as people do: `HGD-9` before `HGD-10`."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", form_no))


def site_id_for(smallest_form_no: str) -> str:
    """Stable id of a site: a hash of its smallest member form number (re-runs give the same id)."""
    digest = hashlib.sha1(smallest_form_no.strip().upper().encode("utf-8")).hexdigest()
    return f"site_{digest[:12]}"


def in_vietnam(lat: float | None, lon: float | None) -> bool:
    return (
        lat is not None
        and lon is not None
        and VN_LAT[0] <= lat <= VN_LAT[1]
        and VN_LON[0] <= lon <= VN_LON[1]
    )


def clean_coordinates(lat: float | None, lon: float | None) -> tuple[float | None, float | None, str | None]:
    """(lat, lon, note): swapped pairs are repaired, points outside Vietnam dropped with a note."""
    lat = None if lat is None or math.isnan(lat) else lat
    lon = None if lon is None or math.isnan(lon) else lon
    if lat is None and lon is None:
        return None, None, None
    if lat is None or lon is None:
        return None, None, "only one coordinate given"
    if in_vietnam(lat, lon):
        return lat, lon, None
    if in_vietnam(lon, lat):
        return lon, lat, "latitude and longitude swapped"
    return None, None, f"outside Vietnam ({lat}, {lon})"


def _raw_json(row: dict) -> str:
    keep = {k: v for k, v in row.items() if k not in _PRIVATE_COLUMNS and not k.startswith("_")}
    return json.dumps(keep, ensure_ascii=False, default=str, sort_keys=True)


def _quarantine_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA, orient="row")


def _village_tuple(row: dict) -> tuple[str, str, str, str]:
    return (
        village_key(row.get("province")),
        village_key(row.get("district")),
        village_key(row.get("commune")),
        village_key(row.get("village")),
    )


# --------------------------------------------------------------------------------------------
# Coverage


@dataclass(frozen=True)
class Coverage:
    villages: pl.DataFrame
    communes: pl.DataFrame
    districts: pl.DataFrame
    quarantine: pl.DataFrame


_VILLAGE_SCHEMA = {
    "province": pl.Utf8,
    "district": pl.Utf8,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "households": pl.Int64,
    "forms_out": pl.Int64,
    "forms_back": pl.Int64,
    "coverage": pl.Float64,
    "concluded": pl.Boolean,
    "meeting_date": pl.Date,
    "conclusion": pl.Utf8,
    "forms_entered": pl.Int64,
    "forms_with_info": pl.Int64,
    "below_target": pl.Boolean,
    "no_conclusion": pl.Boolean,
    "forms_entered_mismatch": pl.Boolean,
    "file": pl.Utf8,
    "row_number": pl.Int64,
}


def _impossible(row: dict) -> str | None:
    households, out, back = row.get("households"), row.get("forms_out"), row.get("forms_back")
    if households is None or households <= 0:
        return f"households missing or not positive ({households})"
    if out is None or back is None:
        return "forms handed out or returned missing"
    if out < 0 or back < 0:
        return f"negative form count (out {out}, back {back})"
    if back > out:
        return f"impossible coverage: forms back ({back}) exceed forms handed out ({out})"
    if back > households:
        return f"impossible coverage: forms back ({back}) exceed households ({households})"
    return None


def _concluded(row: dict) -> bool:
    # A meeting date the ingest could not parse is still a meeting that was held.
    return bool(row.get("meeting_date") or row.get("meeting_date_text") or row.get("conclusion"))


def village_index(conclusions: pl.DataFrame) -> dict[tuple[str, str, str, str], int]:
    """Every village named in the conclusion table (valid or not) → its first row index."""
    index: dict[tuple[str, str, str, str], int] = {}
    for i, row in enumerate(conclusions.iter_rows(named=True)):
        index.setdefault(_village_tuple(row), i)
    return index


class VillageResolver:
    """Finds the conclusion village of a household form: full key first, then commune + village.

    Household forms often leave the province or district blank; commune + village alone is used
    only when it names exactly one known village.
    """

    def __init__(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        self._full: set[tuple[str, str, str, str]] = set(keys)
        self._short: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
        for key in self._full:
            self._short.setdefault((key[2], key[3]), []).append(key)

    def resolve(self, row: dict) -> tuple[str, str, str, str] | None:
        key = _village_tuple(row)
        if key in self._full:
            return key
        candidates = [
            k
            for k in self._short.get((key[2], key[3]), [])
            if (not key[0] or k[0] == key[0]) and (not key[1] or k[1] == key[1])
        ]
        return candidates[0] if len(candidates) == 1 else None


def village_coverage(
    conclusions: pl.DataFrame, forms: pl.DataFrame, *, target: float = COVERAGE_TARGET
) -> Coverage:
    """Coverage per village, commune and district, with the rows that cannot be counted quarantined.

    `conclusions` is `raw.ket_luan_dia_ban`, `forms` is `raw.phieu_ho_gia_dinh`. Coverage is forms
    returned over households (the campaign target is over 95% of households). When one village has
    several conclusion rows the last one (file name order, then row) is kept and the earlier ones
    are quarantined as superseded, so a corrected re-send replaces the first report.
    """
    quarantine: list[dict] = []
    chosen: dict[tuple[str, str, str, str], dict] = {}
    order = sorted(
        conclusions.iter_rows(named=True), key=lambda r: (r.get("file") or "", r.get("row_number") or 0)
    )
    for row in order:
        reason = _impossible(row)
        if reason:
            quarantine.append(_q("ket_luan_dia_ban", row, reason))
            continue
        key = _village_tuple(row)
        earlier = chosen.get(key)
        if earlier is not None:
            same = all(earlier.get(c) == row.get(c) for c in ("households", "forms_out", "forms_back"))
            what = "duplicate of" if same else "superseded by"
            quarantine.append(
                _q("ket_luan_dia_ban", earlier, f"{what} {row.get('file')} row {row.get('row_number')}")
            )
        chosen[key] = row

    resolver = VillageResolver(village_index(conclusions))
    entered: Counter = Counter()
    with_info: Counter = Counter()
    seen_forms: set[str] = set()
    for row in forms.iter_rows(named=True):
        form_no = (row.get("form_no") or "").strip().upper()
        if form_no in seen_forms:
            continue
        seen_forms.add(form_no)
        key = resolver.resolve(row)
        if key is None:
            continue
        entered[key] += 1
        if row.get("has_info") == "Có":
            with_info[key] += 1

    out: list[dict] = []
    for key, row in chosen.items():
        coverage = row["forms_back"] / row["households"]
        concluded = _concluded(row)
        out.append(
            {
                "province": row.get("province"),
                "district": row.get("district"),
                "commune": row.get("commune"),
                "village": row.get("village"),
                "households": row["households"],
                "forms_out": row["forms_out"],
                "forms_back": row["forms_back"],
                "coverage": coverage,
                "concluded": concluded,
                "meeting_date": row.get("meeting_date"),
                "conclusion": row.get("conclusion"),
                "forms_entered": entered[key],
                "forms_with_info": with_info[key],
                "below_target": coverage < target,
                "no_conclusion": not concluded,
                "forms_entered_mismatch": entered[key] != row["forms_back"],
                "file": row.get("file"),
                "row_number": row.get("row_number"),
            }
        )
    villages = pl.DataFrame(out, schema=_VILLAGE_SCHEMA, orient="row").sort(
        "province", "district", "commune", "village", nulls_last=True
    )
    communes = rollup(villages, ["province", "district", "commune"], target=target)
    districts = rollup(villages, ["province", "district"], target=target)
    return Coverage(villages, communes, districts, _quarantine_frame(quarantine))


def rollup(villages: pl.DataFrame, by: Sequence[str], *, target: float = COVERAGE_TARGET) -> pl.DataFrame:
    """Coverage of a commune or district: sums over its villages, behind schedule with the reasons.

    A unit is behind schedule when its coverage is under target or a village has not yet held its
    conclusion meeting.
    """
    agg = (
        villages.group_by(list(by), maintain_order=True)
        .agg(
            pl.len().alias("villages"),
            pl.col("households").sum(),
            pl.col("forms_out").sum(),
            pl.col("forms_back").sum(),
            pl.col("forms_with_info").sum(),
            pl.col("concluded").sum().alias("villages_concluded"),
            pl.col("below_target").sum().alias("villages_below_target"),
        )
        .with_columns(
            (pl.col("forms_back") / pl.col("households")).alias("coverage"),
        )
    )
    reasons = pl.concat_list(
        pl.when(pl.col("coverage") < target)
        .then(pl.format("coverage {}% under target", (pl.col("coverage") * 100).round(1)))
        .otherwise(None),
        pl.when(pl.col("villages_concluded") < pl.col("villages"))
        .then(
            pl.format("{} village(s) without conclusion", pl.col("villages") - pl.col("villages_concluded"))
        )
        .otherwise(None),
    ).list.drop_nulls()
    return agg.with_columns(
        (reasons.list.len() > 0).alias("behind_schedule"),
        reasons.list.join("; ").alias("behind_reason"),
    ).sort(list(by), nulls_last=True)


def _q(source: str, row: dict, reason: str) -> dict:
    return {
        "source": source,
        "file": row.get("file"),
        "row_number": row.get("row_number"),
        "reason": reason,
        "raw": _raw_json(row),
    }


# --------------------------------------------------------------------------------------------
# Site leads


@dataclass(frozen=True)
class MergeConfig:
    """Thresholds for merging household reports into sites.

    Place agreement is a weighted overlap of the content words of two place descriptions (rare
    words such as a canal's name weigh more than `kênh` or `đầu xóm`); name scores are
    `lietsi.names.name_similarity` (1 all diacritics equal, 0.94 equal without them, 0.88 initials).
    """

    radius_m: float = 300.0
    # Reports of one commune are one site when their place words overlap this much (weighted
    # Jaccard), or when one description's words are all in the other's (`Ở đầu xóm`).
    place_threshold: float = 0.6
    # Two full martyr names agreeing this much support a merge; under `name_conflict` they are two
    # different martyrs and never one site. Given names alone and aliases never veto (a nom de
    # guerre need not resemble the name).
    name_threshold: float = 0.88
    name_conflict: float = 0.80
    # No two coordinates of one site further apart than this.
    max_diameter_m: float = 600.0


_REPORT_SCHEMA = {
    "form_no": pl.Utf8,
    "province": pl.Utf8,
    "district": pl.Utf8,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "info_type": pl.Utf8,
    "martyr_name": pl.Utf8,
    "description": pl.Utf8,
    "place": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "coordinate_note": pl.Utf8,
    "report_date": pl.Date,
    "village_known": pl.Boolean,
    "file": pl.Utf8,
    "row_number": pl.Int64,
}


_SITE_INFO_TYPES = frozenset({"Mộ liệt sĩ", "Nơi chôn cất"})


def _is_site_report(row: dict, lat: float | None) -> bool:
    """A form with information that points somewhere: a grave or burial place, a place or a point.

    Information about a martyr or a witness with no place (`Nhân chứng`, no `Địa điểm`) counts in
    the village's forms with information but is no site.
    """
    if row.get("has_info") != "Có":
        return False
    return row.get("info_type") in _SITE_INFO_TYPES or bool(row.get("place")) or lat is not None


def prepare_reports(
    forms: pl.DataFrame, known_villages: Iterable[tuple[str, str, str, str]] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reports, quarantine): household forms that carry information, one row per form number.

    A form number seen again with the same content is a duplicate; with other content it is a
    conflict. Either way the first is kept and the other quarantined. Coordinates are cleaned
    (swapped pairs repaired, points outside Vietnam dropped with a note, the report kept).
    """
    resolver = VillageResolver(known_villages)
    seen: dict[str, dict] = {}
    reports: list[dict] = []
    quarantine: list[dict] = []
    content = (
        "commune",
        "village",
        "has_info",
        "info_type",
        "martyr_name",
        "description",
        "place",
        "lat",
        "lon",
    )
    for row in sorted(
        forms.iter_rows(named=True), key=lambda r: (r.get("file") or "", r.get("row_number") or 0)
    ):
        form_no = (row.get("form_no") or "").strip().upper()
        if not form_no:
            quarantine.append(_q("phieu_ho_gia_dinh", row, "form number missing"))
            continue
        first = seen.get(form_no)
        if first is not None:
            same = all(first.get(c) == row.get(c) for c in content)
            reason = "duplicate form" if same else "form number reused with different content"
            quarantine.append(
                _q(
                    "phieu_ho_gia_dinh",
                    row,
                    f"{reason}: first in {first.get('file')} row {first.get('row_number')}",
                )
            )
            continue
        seen[form_no] = row
        lat, lon, note = clean_coordinates(row.get("lat"), row.get("lon"))
        if not _is_site_report(row, lat):
            continue
        reports.append(
            {
                "form_no": form_no,
                "province": row.get("province"),
                "district": row.get("district"),
                "commune": row.get("commune"),
                "village": row.get("village"),
                "info_type": row.get("info_type"),
                "martyr_name": row.get("martyr_name"),
                "description": row.get("description"),
                "place": row.get("place"),
                "lat": lat,
                "lon": lon,
                "coordinate_note": note,
                "report_date": row.get("report_date"),
                "village_known": resolver.resolve(row) is not None,
                "file": row.get("file"),
                "row_number": row.get("row_number"),
            }
        )
    frame = pl.DataFrame(reports, schema=_REPORT_SCHEMA, orient="row")
    return frame, _quarantine_frame(quarantine)


_BIRTH_ORDER = frozenset(fold(w) for w in BIRTH_ORDER)
_RELATION_WORDS = frozenset(
    {"o", "tai", "khu", "vuc", "cho", "gan", "canh", "phia", "sau", "truoc", "cach", "ben", "cua", "va", "la"}
)
_NUMBER = re.compile(r"\d+")


def _name_parts(name: str) -> tuple[str, str]:
    """(given-name key, kind): `full` (`Lê Văn Thành`), `alias` (`Tư Thành`) or `word` (`Thành`).

    A lone word may be a nom de guerre (`Thép`) that need not resemble the name; a birth-order
    alias still carries the given name.
    """
    words = key_variant(name).split() if name else []
    if not words:
        return "", "word"
    if len(words) == 1:
        return words[0], "word"
    return words[-1], "alias" if len(words) == 2 and words[0] in _BIRTH_ORDER else "full"


def _place_words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in fold(text).split() if w not in _RELATION_WORDS)


class _Evidence:
    """What the reports of a (growing) site say, and whether two sites may be one."""

    def __init__(self, rows: list[dict], config: MergeConfig) -> None:
        self.rows = rows
        self.config = config
        counts = Counter(w for r in rows for w in r["_words"])
        # Inverse document frequency over the district's reports: common words weigh little.
        self.weight = {w: math.log(1 + len(rows) / n) for w, n in counts.items()}

    def place_agreement(self, a: frozenset[str], b: frozenset[str]) -> tuple[float, bool]:
        """(weighted Jaccard, one contained in the other) of two place word sets."""
        if not a or not b:
            return 0.0, False
        inter = sum(self.weight.get(w, 1.0) for w in a & b)
        union = sum(self.weight.get(w, 1.0) for w in a | b)
        return inter / union, a <= b or b <= a

    def places_compatible(self, a: frozenset[str], b: frozenset[str]) -> bool:
        numbers_a = {w for w in a if _NUMBER.search(w)}
        numbers_b = {w for w in b if _NUMBER.search(w)}
        if numbers_a and numbers_b and not numbers_a & numbers_b:
            return False  # `cách trường 200m` is not `cách trường 500m`
        jaccard, contained = self.place_agreement(a, b)
        return contained or jaccard >= self.config.place_threshold

    def names_conflict(self, a: str, b: str) -> bool:
        """Two names of clearly different martyrs: full names that disagree, or given names that do."""
        (given_a, kind_a), (given_b, kind_b) = _name_parts(a), _name_parts(b)
        if kind_a == "full" and kind_b == "full":
            return name_similarity(a, b) < self.config.name_conflict
        return kind_a != "word" and kind_b != "word" and given_a != given_b

    def attrs(self, i: int) -> tuple[frozenset, ...]:
        r = self.rows[i]
        point = frozenset({(r["lat"], r["lon"])}) if r["lat"] is not None else frozenset()
        return (
            frozenset({r["_name"]}) if r["_name"] else frozenset(),
            frozenset({r["_words"]}) if r["_words"] else frozenset(),
            point,
        )

    def conflicts(self, a: tuple[frozenset, ...], b: tuple[frozenset, ...]) -> bool:
        if any(self.names_conflict(x, y) for x in a[0] for y in b[0]):
            return True
        if any(not self.places_compatible(x, y) for x in a[1] for y in b[1]):
            return True
        return any(1000 * haversine_km(*p, *q) > self.config.max_diameter_m for p in a[2] for q in b[2])


def _distance_edges(reports: list[dict], radius_m: float) -> list[tuple[float, int, int, str]]:
    """Pairs of reports with coordinates within `radius_m`, found through a degree grid."""
    cell = radius_m / 111_000.0
    grid: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(reports):
        if r["lat"] is not None:
            grid.setdefault((int(r["lat"] // cell), int(r["lon"] // cell)), []).append(i)
    edges = []
    for (gx, gy), members in grid.items():
        # Longitude degrees shrink with latitude; at Vietnam's latitudes (≤ 23.5°) two cells suffice.
        neighbours = [
            j for dx in (-1, 0, 1) for dy in (-2, -1, 0, 1, 2) for j in grid.get((gx + dx, gy + dy), ())
        ]
        for i in members:
            for j in neighbours:
                if j <= i:
                    continue
                d = 1000 * haversine_km(
                    reports[i]["lat"], reports[i]["lon"], reports[j]["lat"], reports[j]["lon"]
                )
                if d <= radius_m:
                    edges.append((2.0 + (1.0 - d / radius_m), i, j, "distance"))
    return edges


def _name_support(a: str, b: str, evidence: _Evidence) -> float | None:
    """How much two reported names support one site: None when they are different martyrs."""
    if not a or not b:
        return 0.0
    if evidence.names_conflict(a, b):
        return None
    (given_a, kind_a), (given_b, kind_b) = _name_parts(a), _name_parts(b)
    if kind_a == "full" and kind_b == "full":
        similarity = name_similarity(a, b)
        return similarity if similarity >= evidence.config.name_threshold else 0.0
    if given_a == given_b:
        return 0.5
    # Perhaps a nom de guerre: allowed, but taken last, once the clusters carry the full names
    # that can veto it.
    return -2.5


def _text_score(a: dict, b: dict, evidence: _Evidence, ambiguous: set[int]) -> float | None:
    """Strength of a text link between two reports of one commune, or None for no link.

    Place words must agree (or one description be contained in the other); a matching martyr
    name, or the same village, ranks the link higher so that the likelier site is joined first.
    Without place words on one side, only a full name matching a full name links. A report whose
    words are contained in two incompatible descriptions (`Ở đầu xóm` when the commune has a
    `gò đất đầu xóm` and a `bờ kênh đầu xóm`) is not joined on containment alone: it stays a
    lead of its own rather than be guessed into one of them.
    """
    names = _name_support(a["_name"], b["_name"], evidence)
    if names is None:
        return None
    village = 0.1 if village_key(a["village"]) == village_key(b["village"]) else 0.0
    if a["_words"] and b["_words"]:
        if not evidence.places_compatible(a["_words"], b["_words"]):
            return None
        jaccard, _ = evidence.place_agreement(a["_words"], b["_words"])
        contained_only = jaccard < evidence.config.place_threshold
        if contained_only and names <= 0 and {a["_index"], b["_index"]} & ambiguous:
            return None
        return jaccard + 0.2 * names + village
    if names >= evidence.config.name_threshold:
        return 0.5 * names + village
    return None


def _ambiguous(members: list[int], reports: list[dict], evidence: _Evidence) -> set[int]:
    """Reports whose place words are a strict part of two descriptions that cannot be one place."""
    out = set()
    for i in members:
        words = reports[i]["_words"]
        if not words:
            continue
        wider = {reports[j]["_words"] for j in members if words < reports[j]["_words"]}
        if any(
            not evidence.places_compatible(x, y) for x in wider for y in wider if x < y or y < x or x != y
        ):
            out.add(i)
    return out


def _text_edges(reports: list[dict], evidence: _Evidence) -> list[tuple[float, int, int, str]]:
    """Text links within each commune: households of neighbouring villages report the same site."""
    blocks: dict[str, list[int]] = {}
    for i, r in enumerate(reports):
        blocks.setdefault(village_key(r["commune"]), []).append(i)
    edges = []
    for members in blocks.values():
        ambiguous = _ambiguous(members, reports, evidence)
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                a, b = reports[i], reports[j]
                if (
                    a["lat"] is not None
                    and b["lat"] is not None
                    and 1000 * haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])
                    > evidence.config.max_diameter_m
                ):
                    continue
                score = _text_score(a, b, evidence, ambiguous)
                if score is not None:
                    edges.append((score, i, j, "text"))
    return edges


@dataclass(frozen=True)
class Sites:
    sites: pl.DataFrame
    site_reports: pl.DataFrame
    refused_merges: int


_SITE_SCHEMA = {
    "site_id": pl.Utf8,
    "province": pl.Utf8,
    "district": pl.Utf8,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "report_count": pl.Int64,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "status": pl.Utf8,
    "status_date": pl.Date,
    "martyr_names": pl.Utf8,
    "place": pl.Utf8,
    "info_types": pl.Utf8,
    "merged_by": pl.Utf8,
    "first_report_date": pl.Date,
    "last_report_date": pl.Date,
    "village_known": pl.Boolean,
}

_SITE_REPORT_SCHEMA = {
    "site_id": pl.Utf8,
    "form_number": pl.Utf8,
    "village": pl.Utf8,
    "info_type": pl.Utf8,
    "martyr_name": pl.Utf8,
    "place": pl.Utf8,
    "description": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "coordinate_note": pl.Utf8,
    "report_date": pl.Date,
}


def _mode(values: list, fallback):
    counts = Counter(v for v in values if v)
    if not counts:
        return fallback
    top = max(counts.values())
    # Ties go to the value of the earliest member (members are in form-number order).
    return next(v for v in values if counts.get(v) == top)


def merge_sites(reports: pl.DataFrame, config: MergeConfig | None = None) -> Sites:
    """Merge household reports of one grave or burial place into sites.

    Edges: reports with coordinates within `radius_m` of each other; reports of one village
    (at least one without coordinates) whose martyr names and place descriptions match. Edges are
    taken strongest first into a union-find that refuses a merge when the site would hold two
    clearly different martyr names or two coordinates further apart than `max_diameter_m`: single
    linkage would otherwise chain neighbouring graves into one long site.
    """
    config = config or MergeConfig()
    rows = sorted(reports.iter_rows(named=True), key=lambda r: natural_key(r["form_no"]))
    for index, r in enumerate(rows):
        r["_index"] = index
        r["_name"] = clean_reported_name(r.get("martyr_name"))
        r["_words"] = _place_words(r.get("place"))
    evidence = _Evidence(rows, config)
    edges = _distance_edges(rows, config.radius_m) + _text_edges(rows, evidence)
    edges.sort(key=lambda e: (-e[0], e[1], e[2]))
    root_of, refused = constrained_union(
        {i: evidence.attrs(i) for i in range(len(rows))}, [(i, j) for _, i, j, _ in edges], evidence.conflicts
    )
    kinds: dict[int, set[str]] = {}
    for _, i, j, kind in edges:
        if root_of[i] == root_of[j]:
            kinds.setdefault(root_of[i], set()).add(kind)
    by_root: dict[int, list[int]] = {}
    for i in range(len(rows)):
        by_root.setdefault(root_of[i], []).append(i)
    site_rows, link_rows = [], []
    for root, members in by_root.items():
        merged = kinds.get(root, set())
        members.sort(key=lambda i: natural_key(rows[i]["form_no"]))
        group = [rows[i] for i in members]
        sid = site_id_for(group[0]["form_no"])
        located = [r for r in group if r["lat"] is not None]
        names = [r["martyr_name"] for r in group if r["martyr_name"]]
        dates = [r["report_date"] for r in group if r["report_date"] is not None]
        site_rows.append(
            {
                "site_id": sid,
                "province": _mode([r["province"] for r in group], None),
                "district": _mode([r["district"] for r in group], None),
                "commune": _mode([r["commune"] for r in group], None),
                "village": _mode([r["village"] for r in group], None),
                "report_count": len(group),
                "lat": sum(r["lat"] for r in located) / len(located) if located else None,
                "lon": sum(r["lon"] for r in located) / len(located) if located else None,
                "status": "reported",
                "status_date": None,
                "martyr_names": "; ".join(dict.fromkeys(names)) or None,
                "place": _mode([r["place"] for r in group], None),
                "info_types": ", ".join(sorted({r["info_type"] for r in group if r["info_type"]})) or None,
                "merged_by": "+".join(sorted(merged)) if merged else "single",
                "first_report_date": min(dates) if dates else None,
                "last_report_date": max(dates) if dates else None,
                "village_known": all(r["village_known"] for r in group),
            }
        )
        link_rows.extend(
            {"site_id": sid, "form_number": r["form_no"], **{k: r[k] for k in _SITE_REPORT_SCHEMA if k in r}}
            for r in group
        )
    sites = pl.DataFrame(site_rows, schema=_SITE_SCHEMA, orient="row").sort("site_id")
    site_reports = pl.DataFrame(link_rows, schema=_SITE_REPORT_SCHEMA, orient="row").sort(
        "site_id", "form_number"
    )
    return Sites(sites, site_reports, refused)


# --------------------------------------------------------------------------------------------
# Status file


def normalise_status(text: str | None) -> str | None:
    """`Đã khai quật` → `excavated`; None when the label is not one of the four statuses."""
    return _STATUS_LABELS.get(fold(text))


def apply_status(
    sites: pl.DataFrame, site_reports: pl.DataFrame, status: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(sites with status, quarantine of status rows that cannot be used).

    `status` is the `trang_thai_diem/` table (columns of `SITE_STATUS` plus `file`, `row_number`).
    A row names a site by `site_id` or by any member `form_no` (preferred: a form number outlives
    the site id when a smaller-numbered report later joins the site). The latest row per site
    wins, by `status_date` then file and row order.
    """
    if status is None or status.is_empty():
        return sites, _quarantine_frame([])
    by_form = dict(zip(site_reports["form_number"], site_reports["site_id"], strict=True))
    known = set(sites["site_id"])
    latest: dict[str, tuple[tuple, str, object]] = {}
    quarantine: list[dict] = []
    for row in status.iter_rows(named=True):
        label = normalise_status(row.get("status"))
        if label is None:
            quarantine.append(_q(SITE_STATUS.folder, row, f"unknown status '{row.get('status')}'"))
            continue
        sid = (row.get("site_id") or "").strip()
        form = (row.get("form_no") or "").strip().upper()
        target = sid if sid in known else by_form.get(form)
        if sid and form and sid in known and by_form.get(form) not in (None, sid):
            quarantine.append(_q(SITE_STATUS.folder, row, f"site {sid} and form {form} name different sites"))
            continue
        if target is None:
            quarantine.append(_q(SITE_STATUS.folder, row, f"no site with id '{sid}' or form '{form}'"))
            continue
        order = (
            row.get("status_date") is not None,
            row.get("status_date"),
            row.get("file") or "",
            row.get("row_number") or 0,
        )
        if target not in latest or order >= latest[target][0]:
            latest[target] = (order, label, row.get("status_date"))
    updates = pl.DataFrame(
        [{"site_id": k, "_status": v[1], "_status_date": v[2]} for k, v in latest.items()],
        schema={"site_id": pl.Utf8, "_status": pl.Utf8, "_status_date": pl.Date},
        orient="row",
    )
    out = (
        sites.join(updates, on="site_id", how="left")
        .with_columns(
            pl.coalesce("_status", "status").alias("status"),
            pl.coalesce("_status_date", "status_date").alias("status_date"),
        )
        .drop("_status", "_status_date")
    )
    return out, _quarantine_frame(quarantine)


# --------------------------------------------------------------------------------------------
# Links to resolved martyrs


_NO_GRAVE = frozenset({"chua xac dinh", "chua quy tap"})
_LEAD_SCHEMA = {
    "lead_rank": pl.Int64,
    "site_id": pl.Utf8,
    "martyr_id": pl.Utf8,
    "reported_name": pl.Utf8,
    "martyr_name": pl.Utf8,
    "name_score": pl.Float64,
    "hometown_match": pl.Boolean,
    "district_match": pl.Boolean,
    "unit_match": pl.Boolean,
    "candidates": pl.Int64,
    "confidence": pl.Utf8,
    "grave_status": pl.Utf8,
    "without_grave": pl.Boolean,
    "commune": pl.Utf8,
    "village": pl.Utf8,
    "report_count": pl.Int64,
    "status": pl.Utf8,
}


_TIERS = ("corroborated", "same_district", "name_only")


def _tier(candidate: dict) -> str:
    if candidate["hometown_match"] or candidate["unit_match"]:
        return "corroborated"
    return "same_district" if candidate["district_match"] else "name_only"


def _same_unit(martyr: dict, site: dict, level: str) -> bool:
    """The martyr's hometown `level` (commune/district) is the site's, in the same district."""
    ours, theirs = village_key(site.get(level)), village_key(martyr.get(f"hometown_{level}"))
    if not ours or ours != theirs:
        return False
    if level == "commune" and site.get("district") and martyr.get("hometown_district"):
        return village_key(site["district"]) == village_key(martyr["hometown_district"])
    return True


def _given_block(name: str) -> str:
    words = key_variant(name).split()
    return words[-1] if words else ""


def _mentions(haystack: str, needle: str | None) -> bool:
    key = village_key(needle)
    return bool(key) and f" {key} " in f" {haystack} "


def site_leads(
    sites: pl.DataFrame, site_reports: pl.DataFrame, martyrs: pl.DataFrame, *, name_threshold: float = 0.91
) -> pl.DataFrame:
    """Site ↔ martyr leads: a reported name matched to resolved martyrs (`core.martyrs`).

    Names are compared with `lietsi.names.name_similarity`; the default threshold (0.91) accepts
    agreement up to the spelling-variant key (Huỳnh/Hoàng, Võ/Vũ) and refuses bare initials and
    fuzzy look-alikes, since a wrong link sends a team to dig. A name alone is weak for common
    names, so each candidate records its corroboration: the martyr's hometown commune is the
    site's commune or is named in the reports, or the reports name his unit (`corroborated`);
    weaker, his hometown district is the site's district (`same_district`: households know the
    graves of their own district's sons best). Only the candidates of a site's best tier are kept,
    and of those, the martyrs without an identified grave when there are any; a site left with
    several is `ambiguous`. Ranked: martyrs without grave information first, then
    confidence, then the number of reports.
    """
    if martyrs.is_empty() or sites.is_empty():
        return pl.DataFrame(schema=_LEAD_SCHEMA)
    people = []
    for m in martyrs.iter_rows(named=True):
        aliases = m.get("aliases") or m.get("alias") or []
        aliases = [aliases] if isinstance(aliases, str) else list(aliases)
        names = {clean_reported_name(n) for n in (m.get("full_name"), *aliases)}
        people.append((m, {n for n in names if n}))
    # Blocking on the given name (last word, variant key) keeps this linear in practice.
    by_given: dict[str, list[int]] = {}
    for idx, (_, names) in enumerate(people):
        for n in names:
            by_given.setdefault(_given_block(n), []).append(idx)
    text_by_site: dict[str, str] = {}
    names_by_site: dict[str, list[str]] = {}
    for r in site_reports.iter_rows(named=True):
        text_by_site[r["site_id"]] = " ".join(
            x for x in (text_by_site.get(r["site_id"]), fold(r.get("description")), fold(r.get("place"))) if x
        )
        if r.get("martyr_name"):
            names_by_site.setdefault(r["site_id"], []).append(r["martyr_name"])
    leads: list[dict] = []
    for site in sites.iter_rows(named=True):
        sid = site["site_id"]
        text = text_by_site.get(sid, "")
        found: dict[str, dict] = {}
        for reported in dict.fromkeys(names_by_site.get(sid, [])):
            cleaned = clean_reported_name(reported)
            if not cleaned:
                continue
            for idx in dict.fromkeys(by_given.get(_given_block(cleaned), [])):
                m, names = people[idx]
                score = max(name_similarity(cleaned, n) for n in names)
                if score < name_threshold:
                    continue
                prev = found.get(m["martyr_id"])
                if prev is None or score > prev["name_score"]:
                    found[m["martyr_id"]] = {
                        "site_id": sid,
                        "martyr_id": m["martyr_id"],
                        "reported_name": reported,
                        "martyr_name": m.get("full_name"),
                        "name_score": score,
                        "hometown_match": _mentions(text, m.get("hometown_commune"))
                        or _same_unit(m, site, "commune"),
                        "district_match": _same_unit(m, site, "district"),
                        "unit_match": _mentions(text, m.get("unit")),
                        "grave_status": m.get("grave_status"),
                        "without_grave": fold(m.get("grave_status")) in _NO_GRAVE
                        or not m.get("grave_status"),
                        "commune": site["commune"],
                        "village": site["village"],
                        "report_count": site["report_count"],
                        "status": site["status"],
                    }
        candidates = list(found.values())
        for c in candidates:
            c["confidence"] = _tier(c)
        best = min((_TIERS.index(c["confidence"]) for c in candidates), default=0)
        candidates = [c for c in candidates if _TIERS.index(c["confidence"]) == best]
        # A namesake whose grave is already identified is unlikely to lie in a reported site.
        if any(c["without_grave"] for c in candidates):
            candidates = [c for c in candidates if c["without_grave"]]
        for c in candidates:
            c["candidates"] = len(candidates)
            if len(candidates) > 1:
                c["confidence"] = "ambiguous"
        leads.extend(candidates)
    if not leads:
        return pl.DataFrame(schema=_LEAD_SCHEMA)
    rank = {tier: i for i, tier in enumerate((*_TIERS, "ambiguous"))}
    leads.sort(
        key=lambda c: (
            not c["without_grave"],
            rank[c["confidence"]],
            -c["report_count"],
            -c["name_score"],
            c["site_id"],
            c["martyr_id"],
        )
    )
    for i, c in enumerate(leads, start=1):
        c["lead_rank"] = i
    return pl.DataFrame(leads, schema=_LEAD_SCHEMA, orient="row")


# --------------------------------------------------------------------------------------------
# Evaluation against the synthetic truth


def cluster_f1(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """Sites recovered exactly (same member forms), as precision/recall/F1 over the shared forms."""
    items = set(predicted) & set(truth)

    def groups(assign: dict[str, str]) -> set[frozenset[str]]:
        out: dict[str, set[str]] = {}
        for item in items:
            out.setdefault(assign[item], set()).add(item)
        return {frozenset(g) for g in out.values()}

    p, t = groups(predicted), groups(truth)
    exact = len(p & t)
    precision = exact / len(p) if p else 1.0
    recall = exact / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def site_metrics(site_reports: pl.DataFrame, truth_reports: pl.DataFrame) -> dict[str, float]:
    """Site merging against the truth (`site_reports.csv`: form_number, site_uid).

    Pairwise precision/recall/F1 (pairs of forms put in one site) from the linkage stage's
    `pairwise_metrics`, plus exact-cluster F1; forms on one side only are counted separately.
    """
    predicted = site_reports.select(
        pl.col("form_number").str.strip_chars().str.to_uppercase(), pl.col("site_id").alias("pred")
    ).unique("form_number")
    truth = truth_reports.select(
        pl.col("form_number").cast(pl.Utf8).str.strip_chars().str.to_uppercase(),
        pl.col("site_uid").cast(pl.Utf8).alias("true"),
    ).unique("form_number")
    metrics = pairwise_metrics(predicted, truth, ["form_number"])
    exact = cluster_f1(dict(predicted.iter_rows()), dict(truth.iter_rows()))
    metrics.update({f"cluster_{k}": v for k, v in exact.items()})
    metrics["forms_only_ours"] = predicted.join(truth, on="form_number", how="anti").height
    metrics["forms_only_truth"] = truth.join(predicted, on="form_number", how="anti").height
    return metrics


def lead_metrics(
    leads: pl.DataFrame,
    site_reports: pl.DataFrame,
    truth_sites: pl.DataFrame,
    truth_reports: pl.DataFrame,
    martyr_uids: pl.DataFrame,
) -> dict[str, float]:
    """Martyr links against the truth: a lead is right when its martyr is the true site's martyr.

    Our site stands for the true site most of its forms report; `martyr_uids` maps `martyr_id` to
    the generator's `martyr_uid` (through the linkage stage's record links). Recall counts true
    sites naming a martyr that the linkage resolved.
    """
    form = pl.col("form_number").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
    truth_of_site = (
        site_reports.select("site_id", form)
        .join(truth_reports.select(form, pl.col("site_uid").cast(pl.Utf8)), on="form_number")
        .group_by("site_id", "site_uid")
        .len()
        .sort("len", "site_uid", descending=[True, False])
        .unique("site_id", keep="first")
        .join(truth_sites.select(pl.col("site_uid").cast(pl.Utf8), "martyr_uid"), on="site_uid", how="left")
    )
    judged = leads.join(truth_of_site.select("site_id", "martyr_uid"), on="site_id", how="inner").join(
        martyr_uids.select("martyr_id", pl.col("martyr_uid").alias("lead_uid")), on="martyr_id", how="left"
    )
    correct = judged.filter(pl.col("lead_uid") == pl.col("martyr_uid"))
    findable = truth_sites.filter(
        pl.col("martyr_uid").is_not_null()
        & (pl.col("martyr_uid") != "")
        & pl.col("martyr_uid").is_in(martyr_uids["martyr_uid"].implode())
    )
    found = truth_of_site.join(correct.select("site_id").unique(), on="site_id")["site_uid"].n_unique()
    return {
        "leads": judged.height,
        "leads_correct": correct.height,
        "lead_precision": correct.height / judged.height if judged.height else 1.0,
        "sites_with_resolved_martyr": findable.height,
        "lead_recall": found / findable.height if findable.height else 1.0,
    }


def compare_coverage(villages: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Truth villages next to ours, one row per village of either side, with `equal` per row.

    Counts and the concluded flag must be identical; coverage to half of the truth file's last
    decimal (it stores 4), since ours is the exact ratio.
    """

    def keyed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col(c).map_elements(place_key, return_dtype=pl.Utf8).alias(f"_{c}")
            for c in ("district", "commune", "village")
        )

    cols = ["households", "forms_out", "forms_back", "coverage", "concluded"]
    t = keyed(truth.select("district", "commune", "village", *cols))
    o = keyed(villages.select("district", "commune", "village", *cols))
    joined = t.join(o, on=["_district", "_commune", "_village"], how="full", suffix="_ours", coalesce=True)
    equal = pl.lit(True)
    for c in ("households", "forms_out", "forms_back", "concluded"):
        equal = equal & (pl.col(c) == pl.col(f"{c}_ours")).fill_null(False)
    equal = equal & ((pl.col("coverage") - pl.col("coverage_ours")).abs() <= COVERAGE_TOLERANCE).fill_null(
        False
    )
    return joined.with_columns(equal.alias("equal")).drop("_district", "_commune", "_village")
