"""The printable sampling worklists: one CSV and one HTML page per commune, and an index by district."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lietsi.kinship.sheets import ROLE_VI, commune_sheets
from lietsi.kinship.worklist import WorklistResult
from lietsi.ops.export import write_csv
from lietsi.ops.pages import Footer, render, safe_name, write_page


def write_worklist_pages(
    out: Path,
    result: WorklistResult,
    martyrs: pl.DataFrame,
    relatives: pl.DataFrame,
    province: str | None,
    run_id: str,
) -> list[str]:
    """One CSV and one printable page per commune in `out/worklists`, and their index by district;
    returns the communes' keys."""
    folder = out / "worklists"
    folder.mkdir(parents=True, exist_ok=True)
    martyr_names = dict(martyrs.select("martyr_id", "full_name").iter_rows())
    relative_names = dict(relatives.select("relative_id", "full_name").iter_rows())
    sheets = commune_sheets(result.worklist, result.lines, martyr_names, relative_names)
    footer = Footer(province, run_id)
    districts: dict[str | None, dict] = {}
    for sheet in sheets:
        name = safe_name(sheet.key)
        write_csv(sheet.rows, folder / f"{name}.csv")
        page = render(
            "worklist.html", footer, "../", commune=sheet, rows=sheet.rows.to_dicts(), roles=ROLE_VI
        )
        write_page(out, f"worklists/{name}.html", page)
        label = sheet.district or ("Ngoài tỉnh (outside the province)" if not sheet.commune_code else None)
        district = districts.setdefault(
            sheet.district_code or label,
            {"code": sheet.district_code, "name": label or "(chưa rõ huyện)", "communes": []},
        )
        district["communes"].append(
            {
                "name": sheet.commune,
                "code": sheet.commune_code,
                "rows": sheet.rows.height,
                "page": f"{name}.html",
                "csv": f"{name}.csv",
            }
        )
    index = render(
        "worklist_index.html",
        footer,
        "../",
        districts=list(districts.values()),
        communes=sheets,
        total=sum(s.rows.height for s in sheets),
    )
    write_page(out, "worklists/index.html", index)
    return [s.key for s in sheets]
