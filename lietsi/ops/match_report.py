"""HTML pages for the reviewing officer: one per identification, and a province summary.

Pages name martyrs (public records) and remains; living relatives appear only by `relative_id`.
The HTML is in `templates/evidence.html` and `templates/identifications_index.html`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl

from lietsi.lab.comparison import ComparisonRules, concordant, reference_allele
from lietsi.lab.mtdna import intersect_ranges, parse_range, parse_variants
from lietsi.matching.stage import ProvinceMatch
from lietsi.ops import charts
from lietsi.ops.pages import Footer, render, safe_name, write_page
from lietsi.places import province_of
from lietsi.reasons import codes_of, heading

# The statuses the pipeline itself gives; council decisions have no evidence page of this run.
PIPELINE_STATUSES = ("proposed", "needs_review")


def aligned_sites(
    remains_range: str,
    remains_haplotype: str,
    reference_range: str,
    reference_haplotype: str,
    rules: ComparisonRules,
) -> list[tuple[str, str, str, str, str]]:
    """(site, rCRS, remains, reference, verdict) for every site where either profile differs from
    rCRS inside the compared range, in rCRS order from 16024 (control-region reading order)."""
    common = intersect_ranges(parse_range(remains_range), parse_range(reference_range))
    a = {(v.position, v.insertion): v for v in parse_variants(remains_haplotype)}
    b = {(v.position, v.insertion): v for v in parse_variants(reference_haplotype)}
    out = []
    for site in sorted(a.keys() | b.keys(), key=lambda s: (s[0] < 16024, s)):
        if not any(lo <= site[0] <= hi for lo, hi in common):
            continue
        ref = reference_allele(site)
        va, vb = a.get(site), b.get(site)
        allele_a, allele_b = (va.allele if va else ref), (vb.allele if vb else ref)
        label = f"{site[0]}.{site[1]}" if site[1] else str(site[0])
        reason = next((rules.ignored(v) for v in (va, vb) if v is not None and rules.ignored(v)), None)
        if reason:
            verdict = f"ignored ({reason})"
        elif allele_a == allele_b:
            verdict = "same"
        else:
            verdict = "heteroplasmy, concordant" if concordant(allele_a, allele_b, rules) else "DIFFERENCE"
        out.append((label, ref, allele_a, allele_b, verdict))
    return out


STATUS_VI = {
    "proposed": "Đề xuất xác định (proposed)",
    "needs_review": "Cần xem xét (needs review)",
    "confirmed": "Đã xác nhận (confirmed)",
}
VERDICT_VI = {
    "cannot_exclude": "Không loại trừ (cannot exclude)",
    "inconclusive": "Chưa kết luận (inconclusive)",
    "exclude": "Loại trừ (exclude)",
}
FACTOR_VI = {
    "dna": "ADN ty thể (mtDNA)",
    "sex": "Giới tính (sex)",
    "age": "Tuổi (age)",
    "place": "Nơi hy sinh / quy tập (place)",
    "distance": "Khoảng cách (distance)",
    "date": "Thời gian (date)",
    "unit_area": "Địa bàn đơn vị (unit's area)",
    "artefact": "Di vật (artefacts)",
    "hometown": "Quê quán trên di vật (hometown)",
}

# Rows of the sensitivity table (`lietsi.matching.sensitivity`), Vietnamese (English).
SCENARIO_VI = {
    "p_outside_low": "p_outside thấp hơn ước lượng (p_outside lower than estimated)",
    "as_estimated": "Như ước lượng, đang dùng (as estimated, used)",
    "p_outside_high": "p_outside cao hơn ước lượng (p_outside higher than estimated)",
    "place_off": "Bỏ yếu tố nơi chốn (place model off)",
}


def _site_class(verdict: str) -> str:
    if verdict == "DIFFERENCE":
        return "diff"
    if verdict.startswith("ignored"):
        return "ign"
    return "het" if "hetero" in verdict else "ok"


def identification_page(
    identification: dict,
    martyr: dict,
    remains: dict,
    remains_profile: dict | None,
    reference_profile: dict | None,
    rules: ComparisonRules,
    footer: Footer | None = None,
    *,
    martyr_names: dict[str, str] | None = None,
    pages: dict[str, str] | None = None,
    remains_of_martyr: dict[str, str] | None = None,
    conflicts: list[dict] | None = None,
) -> str:
    """The evidence page: the review reason first, competitors and conflicting remains named and
    linked, both records side by side, the aligned sites and each factor's likelihood ratio.

    `pages` maps remains ids to their page (file name in the same folder); `remains_of_martyr` the
    martyr a competitor is identified with to that identification's remains id; `conflicts` are
    other remains with a candidate row for this martyr (remains_id, posterior, verdict).
    """
    ev = json.loads(identification["evidence"])
    names, pages, held = martyr_names or {}, pages or {}, remains_of_martyr or {}
    sites = []
    if remains_profile and reference_profile:
        aligned = aligned_sites(
            remains_profile["range"], remains_profile["haplotype"] or "",
            reference_profile["range"], reference_profile["haplotype"] or "", rules,
        )  # fmt: skip
        sites = [
            {"site": a, "ref": b, "remains": c, "reference": d, "verdict": v, "css": _site_class(v)}
            for a, b, c, d, v in aligned
        ]
    competitors = []
    for c in ev.get("competitors") or []:
        other = held.get(c["martyr_id"])
        competitors.append(
            {
                **c,
                "name": names.get(c["martyr_id"]),
                "page": pages.get(other) if other else None,
                "page_remains": other,
            }
        )
    conflict_rows = [{**c, "page": pages.get(c["remains_id"])} for c in conflicts or []]
    facts = [
        ("Giới tính / giới tính ước tính (sex)", martyr.get("sex"), remains.get("est_sex")),
        ("Năm sinh / tuổi ước tính (born / age)", martyr.get("birth_year"), remains.get("est_age")),
        ("Hy sinh / quy tập (died / recovered)", martyr.get("death_date"), remains.get("recovery_date")),
        ("Nơi hy sinh / nơi quy tập (place)", martyr.get("death_place"), remains.get("recovery_place")),
        ("Đơn vị / nghĩa trang (unit / cemetery)", martyr.get("unit"), remains.get("cemetery")),
        (
            "Quê quán / di vật (hometown / artefacts)",
            martyr.get("hometown_text") or martyr.get("hometown_commune"),
            remains.get("artefacts"),
        ),
    ]
    candidates = [(martyr.get("full_name") or identification["martyr_id"], identification["posterior"])]
    candidates += [(c["name"] or c["martyr_id"], c["posterior"]) for c in competitors]
    return render(
        "evidence.html",
        footer or Footer(None, None),
        "../",
        rec=identification,
        martyr=martyr,
        ev=ev,
        sites=sites,
        competitors=competitors,
        conflicts=conflict_rows,
        facts=facts,
        statuses=STATUS_VI,
        verdicts=VERDICT_VI,
        factors=FACTOR_VI,
        scenarios=SCENARIO_VI,
        chart=charts.posterior_bars(candidates),
        factor_chart=charts.log_lr_bars(
            [(FACTOR_VI.get(f["factor"], f["factor"]), f["lr"]) for f in ev["factors"]]
        ),
    )


def summary_page(
    province: str | None,
    identifications: pl.DataFrame,
    remains_outcomes: pl.DataFrame,
    martyr_outcomes: pl.DataFrame,
    p_outside: float,
    pages: dict[str, str],
    martyr_names: dict[str, str] | None = None,
    footer: Footer | None = None,
    martyr_districts: dict[str, str] | None = None,
) -> str:
    """Province summary: counts, the identifications with martyr names and links, unresolved remains."""
    status = Counter(identifications["status"].to_list())
    unresolved = remains_outcomes.filter(pl.col("outcome") == "unresolved")
    # One group per kind of reason: the first code of each remains (an outcome carries one).
    reasons = Counter(next(iter(codes_of(c)), None) for c in unresolved["reason_codes"].to_list())
    martyrs = Counter(martyr_outcomes["outcome"].to_list())
    counts = [
        ("Hài cốt trong sổ (remains in the register)", remains_outcomes.height),
        ("Đề xuất xác định (proposed identifications)", status.get("proposed", 0)),
        ("Cần xem xét (needs review)", status.get("needs_review", 0)),
        ("Đã xác nhận (confirmed)", status.get("confirmed", 0)),
        ("Hài cốt chưa xác định (unresolved remains)", unresolved.height),
        (
            "Liệt sĩ chưa có mẫu đối chiếu dòng mẹ (missing martyrs without a maternal reference)",
            martyrs.get("no_reference", 0),
        ),
        ("Liệt sĩ đã có mẫu, chưa khớp hài cốt (sampled, no remains matches)", martyrs.get("not_found", 0)),
        (
            "Liệt sĩ được tỉnh khác xác nhận hài cốt (identified by another province's council)",
            martyrs.get("identified_elsewhere", 0),
        ),
    ]
    rows = [
        {
            **rec,
            "page": pages.get(rec["remains_id"]),
            "martyr_name": (martyr_names or {}).get(rec["martyr_id"]),
            "district": (martyr_districts or {}).get(rec["martyr_id"]),
        }
        for rec in identifications.sort(["status", "posterior"], descending=True).iter_rows(named=True)
    ]
    return render(
        "identifications_index.html",
        footer or Footer(province, None),
        "../",
        counts=counts,
        rows=rows,
        statuses=STATUS_VI,
        p_outside=p_outside,
        reasons=[(heading(code) if code else None, n) for code, n in reasons.most_common()],
    )


def write_identification_pages(
    out: Path, run_id: str, run: ProvinceMatch, martyrs: pl.DataFrame
) -> dict[str, str]:
    """Evidence pages `identifications/<safe remains id>.html` and the index in `out`; remains id → page."""
    result = run.result
    folder = out / "identifications"
    folder.mkdir(parents=True, exist_ok=True)
    martyr_rows = {m["martyr_id"]: m for m in martyrs.iter_rows(named=True)}
    names = {k: v.get("full_name") for k, v in martyr_rows.items()}
    districts = {k: v.get("hometown_district") for k, v in martyr_rows.items()}
    remains_rows = {r["remains_id"]: r for r in run.remains.iter_rows(named=True)}
    rp = {r["remains_id"]: r for r in result.remains_profiles.iter_rows(named=True)}
    refp = {r["relative_id"]: r for r in run.reference_profiles.iter_rows(named=True)}
    # Council decisions carry no DNA comparison of this run: the decision is their evidence, listed
    # in marts.council_decisions; the pages show the pipeline's own proposals and reviews.
    ids = result.identifications.filter(pl.col("status").is_in(PIPELINE_STATUSES))
    pages = {r: safe_name(r) + ".html" for r in ids["remains_id"].to_list()}
    held = dict(ids.select("martyr_id", "remains_id").iter_rows())
    candidates = result.match_candidates
    by_martyr: dict[str, list[dict]] = {}
    if candidates.height:
        for c in candidates.select("remains_id", "martyr_id", "posterior", "verdict").iter_rows(named=True):
            by_martyr.setdefault(c["martyr_id"], []).append(c)
    footer = Footer(province_of(martyrs), run_id)
    for rec in ids.iter_rows(named=True):
        reference = json.loads(rec["evidence"])["dna"]["reference"]
        conflicts = sorted(
            (c for c in by_martyr.get(rec["martyr_id"], []) if c["remains_id"] != rec["remains_id"]),
            key=lambda c: -c["posterior"],
        )
        page = identification_page(
            rec,
            martyr_rows.get(rec["martyr_id"], {}),
            remains_rows.get(rec["remains_id"], {}),
            rp.get(rec["remains_id"]),
            refp.get(reference),
            run.settings.rules,
            footer,
            martyr_names=names,
            pages=pages,
            remains_of_martyr=held,
            conflicts=conflicts,
        )
        write_page(out, f"identifications/{pages[rec['remains_id']]}", page)
    summary = summary_page(
        footer.province,
        result.identifications,
        result.remains_outcomes,
        result.martyr_outcomes,
        result.p_outside,
        pages,
        names,
        footer,
        districts,
    )
    write_page(out, "identifications/index.html", summary)
    return pages
