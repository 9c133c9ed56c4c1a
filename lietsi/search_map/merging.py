"""Site merging: household reports of one grave joined by distance, place words and martyr names."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import polars as pl

from lietsi.geo import haversine_km
from lietsi.graphs import constrained_union
from lietsi.names import BIRTH_ORDER, key_variant, name_similarity
from lietsi.search_map.keys import clean_reported_name, fold, natural_key, site_id_for, village_key


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
        if any(not evidence.places_compatible(x, y) for x in wider for y in wider if x != y):
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
