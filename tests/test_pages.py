"""The pages people read: safe names and links, one worklist per commune code, a hostile inbox run
through the pipeline with every page opened in headless Chromium, and the landing page followed to
a district, a worklist, a map and an evidence page."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from browser import elements, render_many, render_with_console, require_chromium
from hostile_inbox import HOSTILE_REMAINS_IDS
from ops_province import province_run

from lietsi.ops.pages import link, safe_name, write_page


def test_safe_name_keeps_safe_ids_and_encodes_everything_else():
    assert safe_name("HC91-00001") == "HC91-00001"
    names = {
        i: safe_name(i)
        for i in (*HOSTILE_REMAINS_IDS, "Mỹ Đức", "My Duc", "my-duc", "x", "X", "", "a/b", "a\\b")
    }
    assert len(set(names.values())) == len(names), "two ids share a file name"
    for name in names.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,89}", name), name
    assert safe_name("../../pwned-x").startswith("pwned-x-")


def test_links_are_relative_paths_of_safe_names(tmp_path):
    assert link("../identifications/HC-1.html") == "../identifications/HC-1.html"
    for bad in ("javascript:alert(1)", "http://example.org/x", "/etc/passwd", "a b.html", "x.html?q=1", ""):
        with pytest.raises(ValueError):
            link(bad)
    root = tmp_path / "out"
    write_page(root, "a/b.html", "ok")
    assert (root / "a" / "b.html").stat().st_mode & 0o777 == 0o644
    with pytest.raises(ValueError):
        write_page(root, "../escape.html", "no")
    assert not (tmp_path / "escape.html").exists()


def test_one_worklist_page_per_commune_code_whatever_the_spelling():
    from test_kinship import _lines

    from lietsi.kinship.sheets import commune_sheets, with_units, worklist_places
    from lietsi.kinship.worklist import sampling_worklist

    rows = [("LS-1", "TN-a", "mẹ", "Nam"), ("LS-2", "TN-b", "mẹ", "Nam"), ("LS-3", "TN-c", "mẹ", "Nam")]
    candidates, _ = _lines(rows)
    relatives = pl.DataFrame(
        {
            "relative_id": ["TN-a", "TN-b", "TN-c"],
            "consent": ["Có"] * 3,
            "address_commune": [None, None, None],
            "address_district": [None, None, None],
            "address_province": [None, None, None],
            "survey_commune": ["Mỹ Đức", "phường Mì Đức", "Mì Đức"],
        }
    )
    martyrs = pl.DataFrame(
        {
            "martyr_id": ["LS-1", "LS-2", "LS-3"],
            "hometown_commune": ["Mỹ Đức", "Mì Đức", None],
            "hometown_district": ["Hà Tiên", None, None],
            "hometown_province": ["Kiên Giang"] * 3,
            "grave_status": [None] * 3,
        }
    )
    rel, mar, units = worklist_places(relatives, martyrs, "Kiên Giang")
    result = with_units(sampling_worklist(candidates, rel, mar), units)
    sheets = commune_sheets(result.worklist, result.lines, {}, {})
    assert [(s.commune_code, s.commune, s.district) for s in sheets] == [("30778", "Mỹ Đức", "Hà Tiên")]
    assert sheets[0].rows.height == 3
    assert sorted(sheets[0].rows["priority_rank"].to_list()) == [1, 2, 3]


def test_a_martyr_another_province_identified_is_not_sampled_for():
    """LS-2's remains were confirmed by another province's council (the national run's return): his
    mother is no longer on the worklist; LS-1's still is."""
    from test_kinship import _lines

    from lietsi.kinship.sheets import worklist_places
    from lietsi.kinship.worklist import sampling_worklist

    candidates, _ = _lines([("LS-1", "TN-a", "mẹ", "Nam"), ("LS-2", "TN-b", "mẹ", "Nam")])
    relatives = pl.DataFrame({"relative_id": ["TN-a", "TN-b"], "consent": ["Có"] * 2})
    martyrs = pl.DataFrame({"martyr_id": ["LS-1", "LS-2"], "hometown_commune": ["Bình An"] * 2})
    for settled, sampled in ((frozenset(), ["TN-a", "TN-b"]), (frozenset({"LS-2"}), ["TN-a"])):
        rel, mar, _ = worklist_places(relatives, martyrs, "Kiên Giang", settled)
        result = sampling_worklist(candidates, rel, mar)
        assert sorted(result.worklist["relative_id"].to_list()) == sampled
    line = result.lines.filter(pl.col("martyr_ids").list.contains("LS-2"))
    assert line["status"].to_list() == ["not_needed"]


def test_relatives_in_another_province_are_listed_as_such():
    from lietsi.kinship.sheets import OUTSIDE_LABEL, worklist_places
    from lietsi.places import OUTSIDE_PROVINCE

    relatives = pl.DataFrame(
        {
            "relative_id": ["TN-a", "TN-b"],
            "address_commune": ["Bình Hòa", "Bình An"],
            "address_district": ["Châu Thành", "Châu Thành"],
            "address_province": ["An Giang", "Kiên Giang"],
            "survey_commune": ["Bình An", "Bình An"],
        }
    )
    martyrs = pl.DataFrame({"martyr_id": ["LS-1"], "hometown_commune": ["Bình An"]})
    rel, _, units = worklist_places(relatives, martyrs, "Kiên Giang")
    assert dict(rel.select("relative_id", "commune").iter_rows()) == {
        "TN-a": OUTSIDE_PROVINCE,
        "TN-b": "30898",
    }
    assert OUTSIDE_PROVINCE in units["commune"].to_list() and OUTSIDE_LABEL.startswith(
        "Thân nhân sống ngoài tỉnh"
    )


def test_hostile_inbox_runs_and_writes_nothing_outside_out_dir(hostile):
    folder, result, replace, created = hostile.folder, hostile.run, hostile.replaced, hostile.created
    assert result.returncode == 0, result.stderr[-3000:]
    assert replace, "no remains id was made hostile"
    out = (folder / "out").resolve()
    # Besides OUT_DIR, only the warehouse and Dagster's own home (DAGSTER_HOME) are written.
    allowed = (out, hostile.dagster_home.resolve())
    outside = [
        p
        for p in created
        if not any(p.resolve().is_relative_to(a) for a in allowed)
        and not p.name.startswith("warehouse.duckdb")
    ]
    assert outside == []
    assert [p for p in folder.parent.parent.rglob("*pwned*") if not p.resolve().is_relative_to(out)] == []


def test_no_payload_runs_in_any_output_page(hostile):
    require_chromium()
    folder, result, replace = hostile.folder, hostile.run, hostile.replaced
    assert result.returncode == 0
    out = (folder / "out" / "latest").resolve()
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 20
    results, console = render_many(pages)
    assert console == []
    assert [r["page"] for r in results] == [p.resolve().as_uri() for p in pages]
    reached = set()
    for r in results:
        assert "error" not in r, r
        assert "pwned" not in r["dataset"], f"payload ran in {r['page']}"
        for href in r["links"]:
            assert not re.match(r"\s*(javascript|data|vbscript):", href, re.I), f"{r['page']}: {href}"
        if "dataset.pwned" in r["html"].lower():
            reached.add(r["page"].removeprefix(out.resolve().as_uri() + "/").split("/")[0].split(".")[0])
    # The payloads did reach the pages, as text: landing, worklists, maps, evidence and district pages.
    assert reached >= {"index", "worklists", "maps", "identifications", "huyen"}
    identified = {p.name for p in (out / "identifications").glob("*.html")}
    assert {safe_name(i) + ".html" for i in replace.values()} & identified, "no hostile remains id page"


# --- the landing page, followed as a reader would --------------------------------------------


def _follow(page: Path, css_class: str) -> Path:
    dom, console = render_with_console(page)
    assert console == [], f"{page}: {console}"
    links = elements(dom, "a", css_class)
    assert links, f"no {css_class} link on {page}"
    target = (page.parent / links[0]["href"]).resolve()
    assert target.is_file(), target
    return target


def test_landing_page_leads_to_a_district_a_worklist_a_map_and_an_evidence_page(tmp_path_factory):
    require_chromium()
    run = province_run(tmp_path_factory)
    assert run.returncode == 0, run.stderr[-3000:]
    landing = run.pages / "index.html"
    dom, console = render_with_console(landing)
    assert console == []
    for label in ("Tiến độ so với chỉ tiêu", "Xác định danh tính theo tình trạng", "Kinh phí", "Các huyện"):
        assert label in dom
    # Vietnamese number formats: money with dots and đ, shares with a decimal comma.
    assert re.search(r"<b>\d{1,3}(\.\d{3})+ đ</b>", dom)
    assert re.search(r"<b>\d{1,3},\d%</b>", dom)
    assert "Kiên Giang" in dom and re.search(r"Lần chạy \(run\) <code>[0-9a-f-]{36}</code>", dom)

    district = _follow(landing, "district")
    district_dom, _ = render_with_console(district)
    assert "Huyện" in district_dom and "Các xã" in district_dom

    # The next actions: from the landing page, and from each district page that has them.
    assert 'id="link-next-actions" href="next_actions/index.html"' in landing.read_text(encoding="utf-8")
    actions_dom, console = render_with_console(run.pages / "next_actions" / "index.html")
    assert console == [] and "Việc cần làm tiếp" in actions_dom and 'id="page-footer"' in actions_dom
    linked = [p for p in (run.pages / "huyen").glob("*.html") if 'class="next-actions"' in p.read_text()]
    assert linked
    for page in linked:
        href = re.search(r'class="next-actions" href="([^"]+)"', page.read_text(encoding="utf-8"))[1]
        assert (page.parent / href).resolve().is_file(), href

    worklist = _follow(landing, "worklist")
    worklist_dom, console = render_with_console(worklist)
    assert console == [] and "Danh sách lấy mẫu ADN thân nhân" in worklist_dom

    commune_map = _follow(landing, "map")
    map_dom, console = render_with_console(commune_map)
    assert console == [] and elements(map_dom, "path", "leaflet-interactive")
    assert "Trang chủ (home)" in map_dom

    evidence = _follow(landing, "evidence")
    evidence_dom, console = render_with_console(evidence)
    assert console == []
    assert 'id="review-reason"' in evidence_dom and "Ứng viên cạnh tranh" in evidence_dom
    # The review reason comes before everything else on the page.
    assert evidence_dom.index('id="review-reason"') < evidence_dom.index("Ứng viên cạnh tranh")
    assert re.search(r"<b>\d,\d{4}</b>", evidence_dom)  # posterior with a decimal comma
