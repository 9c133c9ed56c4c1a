"""Leads: sites that name a martyr linked to the resolved martyr, martyrs without grave first."""

from __future__ import annotations

import polars as pl

from lietsi.names import key_variant, name_similarity
from lietsi.search_map.keys import clean_reported_name, fold, village_key

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
