"""The next-action pages: one per district (by code), its actions by rank, and an index."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lietsi.matching.next_actions import district_groups
from lietsi.names import sort_key
from lietsi.ops.pages import Footer, render, safe_name, write_page

PAGES = "next_actions"
ACTION_LABELS = {
    "sample_relative": "Lấy mẫu thân nhân (sample a maternal relative)",
    "ask_consent_and_sample": "Xin đồng ý rồi lấy mẫu (ask for consent, then sample)",
    "sample_second_relative": "Lấy mẫu thân nhân thứ hai (sample a second relative)",
    "sequence_mitogenome": "Giải trình tự toàn bộ hệ gen ty thể (sequence the whole mitogenome)",
    "retest_sample": "Phân tích lại mẫu hỏng (re-test a failed sample)",
}
SUBJECT_LABELS = {"remains": "Hài cốt", "martyr": "Liệt sĩ"}


def district_page_path(key: str) -> str:
    """The page of a district (its code, or `?text` when unresolved) inside OUT_DIR."""
    return f"{PAGES}/{safe_name(key)}.html"


def district_pages(actions: pl.DataFrame, footer: Footer) -> dict[str, str]:
    """Path inside OUT_DIR → HTML: one page per district code (a district with no code: one page per
    text as written), its actions by rank, and `next_actions/index.html`."""
    keyed = actions.with_columns(
        _key=pl.coalesce("district_code", pl.lit("?") + pl.col("district")), _label=pl.col("district")
    )
    coded = keyed.filter(pl.col("district_code").is_not_null())["district"].unique().to_list()
    # The site stage writes `huyen/<code>.html` for the province's districts only.
    home = {k for k, _, inside in district_groups(coded, footer.province).values() if inside}
    out: dict[str, str] = {}
    summary = []
    for (key,), group in keyed.sort("_key").group_by("_key", maintain_order=True):
        ranked = group.filter(pl.col("rank").is_not_null()).sort("rank")
        path = district_page_path(key)
        entry = {
            "district": group["_label"][0],
            "code": None if key.startswith("?") else key,
            "district_page": f"../huyen/{safe_name(key)}.html" if key in home else None,
            "file": path.removeprefix(f"{PAGES}/"),
            "actions": ranked.height,
            "expected": float(ranked["expected_identifications"].sum()),
            "cost": int(ranked["cost_vnd"].sum()),
        }
        out[path] = render(
            "next_actions_district.html",
            footer,
            "../",
            district=entry,
            actions=ranked.to_dicts(),
            without_action=group.filter(pl.col("rank").is_null()).to_dicts(),
            actions_vi=ACTION_LABELS,
            kinds=SUBJECT_LABELS,
        )
        summary.append(entry)
    summary.sort(key=lambda d: (d["code"] is None, sort_key(d["district"]), d["code"] or ""))
    out[f"{PAGES}/index.html"] = render("next_actions_index.html", footer, "../", districts=summary)
    return out


def write_district_pages(out: Path, actions: pl.DataFrame, footer: Footer) -> dict[str, str]:
    """The pages of `district_pages`, written inside `out`; path → HTML."""
    pages = district_pages(actions, footer)
    for path, html in pages.items():
        write_page(out, path, html)
    return pages
