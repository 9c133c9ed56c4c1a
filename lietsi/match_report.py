"""HTML pages for the reviewing officer: one per identification, and a province summary.

Pages name martyrs (public records) and remains; living relatives appear only by `relative_id`.
"""

from __future__ import annotations

import html
import json
from collections import Counter

import polars as pl

from lietsi.matching import ComparisonRules, concordant, reference_allele
from lietsi.mtdna import intersect_ranges, parse_range, parse_variants

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td:first-child{white-space:nowrap}
.diff{background:#fdd}.ign{color:#888}.het{background:#ffd}.ok{background:#dfd}
.summary{font-size:1.1em;padding:.6em;border-left:4px solid #36c;background:#f4f7ff}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _table(header: list[str], rows: list[list[object]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = ""
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body += f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


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


def identification_page(
    identification: dict,
    martyr: dict,
    remains: dict,
    remains_profile: dict | None,
    reference_profile: dict | None,
    rules: ComparisonRules,
) -> str:
    ev = json.loads(identification["evidence"])
    dna = ev["dna"]
    parts = [
        f"<h1>Hài cốt {_e(identification['remains_id'])} → liệt sĩ {_e(martyr.get('full_name'))} "
        f"({_e(identification['martyr_id'])})</h1>",
        f'<p class="summary">{_e(ev["summary"])}</p>',
        f"<p>Status: <b>{_e(identification['status'])}</b>"
        + (f" — {_e(identification.get('reasons'))}" if identification.get("reasons") else "")
        + f". Posterior probability {identification['posterior']:.4f} (best estimate of the haplotype's "
        f"frequency; {identification.get('posterior_bound', identification['posterior']):.4f} with the "
        "frequency at its 95% upper bound); prior for this martyr "
        f"{ev['prior']['this_martyr']:.2e} ({_e(ev['prior']['text'])}).</p>",
        "<h2>Martyr (liệt sĩ) and remains (hài cốt)</h2>",
        _table(
            ["", "martyr", "remains"],
            [
                ["sex / estimated sex", martyr.get("sex"), remains.get("est_sex")],
                ["born / estimated age", martyr.get("birth_year"), remains.get("est_age")],
                ["died / recovered", martyr.get("death_date"), remains.get("recovery_date")],
                ["place of death / recovery", martyr.get("death_place"), remains.get("recovery_place")],
                ["unit / cemetery", martyr.get("unit"), remains.get("cemetery")],
                [
                    "hometown / artefacts",
                    martyr.get("hometown_text") or martyr.get("hometown_commune"),
                    remains.get("artefacts"),
                ],
            ],
        ),
        "<h2>mtDNA comparison</h2>",
        f"<p>Verdict <b>{_e(dna['verdict'])}</b>, {dna['differences']} difference(s) on the range both "
        f"read ({_e(dna['compared_range'])}); reference donor {_e(dna['reference'])} (maternal line "
        f"{_e(dna['line'])}).</p>",
    ]
    if dna.get("excluding_references"):
        parts.append(
            f"<p><b>Warning:</b> reference(s) {_e(dna['excluding_references'])} of this martyr exclude.</p>"
        )
    if remains_profile and reference_profile:
        sites = aligned_sites(
            remains_profile["range"], remains_profile["haplotype"] or "",
            reference_profile["range"], reference_profile["haplotype"] or "", rules,
        )  # fmt: skip
        classes = [
            "diff"
            if v == "DIFFERENCE"
            else "ign"
            if v.startswith("ignored")
            else "het"
            if "hetero" in v
            else "ok"
            for *_, v in sites
        ]
        parts.append(
            _table(["site", "rCRS", "remains", "reference", "comparison"], [list(s) for s in sites], classes)
        )
    parts.append("<h2>Weight of each piece of evidence</h2>")
    parts.append(
        _table(
            ["factor", "likelihood ratio", "explanation"],
            [[f["factor"], f"{f['lr']:.4g}", f["text"]] for f in ev["factors"]],
        )
    )
    parts.append(f"<p>Combined likelihood ratio {ev['lr_total']:.4g}.</p>")
    parts.append("<h2>Competing candidates</h2>")
    competitors = ev.get("competitors") or []
    parts.append(
        _table(
            ["martyr", "posterior", "DNA verdict"],
            [[c["martyr_id"], f"{c['posterior']:.4f}", c["verdict"]] for c in competitors],
        )
        if competitors
        else "<p>None: no other missing martyr's reference is within one difference.</p>"
    )
    return _page(f"{identification['remains_id']} → {identification['martyr_id']}", "".join(parts))


def summary_page(
    province: str | None,
    identifications: pl.DataFrame,
    remains_outcomes: pl.DataFrame,
    martyr_outcomes: pl.DataFrame,
    p_outside: float,
    pages: dict[str, str],
    martyr_names: dict[str, str] | None = None,
) -> str:
    """Province summary: counts, the identifications with links, unresolved remains by reason."""
    status = Counter(identifications["status"].to_list())
    unresolved = remains_outcomes.filter(pl.col("outcome") == "unresolved")
    reasons = Counter(_bucket(r) for r in unresolved["reason"].to_list())
    martyrs = Counter(martyr_outcomes["outcome"].to_list())
    parts = [
        f"<h1>Identification of remains — {_e(province or 'province')}</h1>",
        _table(
            ["", "count"],
            [
                ["remains in the register", remains_outcomes.height],
                ["proposed identifications (đề xuất)", status.get("proposed", 0)],
                ["needs review (cần xem xét)", status.get("needs_review", 0)],
                ["unresolved remains", unresolved.height],
                [
                    "missing martyrs without a reference sample on their maternal line",
                    martyrs.get("no_reference", 0),
                ],
                ["missing martyrs sampled, no remains matches", martyrs.get("not_found", 0)],
            ],
        ),
        f"<p>Prior: a share {p_outside:.3f} of register remains belongs to no missing martyr of the "
        "province (martyrs of other provinces), estimated with the evidence's numerators on the "
        "register itself; the rest is shared by groups of missing martyrs (grave status, where they "
        "fell), equally within a group.</p>",
        "<h2>Identifications</h2>",
    ]
    rows = []
    for rec in identifications.sort(["status", "posterior"], descending=[True, True]).iter_rows(named=True):
        link = pages.get(rec["remains_id"])
        name = f'<a href="{_e(link)}">{_e(rec["remains_id"])}</a>' if link else _e(rec["remains_id"])
        rows.append(
            f"<tr><td>{name}</td><td>{_e((martyr_names or {}).get(rec['martyr_id'], ''))} "
            f"({_e(rec['martyr_id'])})</td><td>{_e(rec['status'])}</td>"
            f"<td>{rec['posterior']:.4f}</td><td>{_e(rec.get('reasons'))}</td></tr>"
        )
    parts.append(
        "<table><tr><th>remains</th><th>martyr</th><th>status</th><th>posterior</th>"
        "<th>review reasons</th></tr>" + "".join(rows) + "</table>"
    )
    parts.append("<h2>Unresolved remains, by reason</h2>")
    parts.append(_table(["reason", "remains"], [[r, n] for r, n in reasons.most_common()]))
    return _page("Identification summary", "".join(parts))


def _bucket(reason: str | None) -> str:
    """One bucket per kind of reason (reasons carry counts: `3 martyr(s) cannot be excluded; …`)."""
    if not reason:
        return "unknown"
    if "cannot be excluded" in reason:
        return "several compatible martyrs; the evidence does not single one out"
    return reason.split(" (")[0]
