"""The search map: coverage maths, site merging, status, links, and the maps in a real browser."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl
import pytest
from browser import elements, render, require_chromium, screenshot

from lietsi.geo import haversine_km
from lietsi.ingest.batches import frame_schema
from lietsi.ops import maps
from lietsi.schema import KET_LUAN_DIA_BAN, PHIEU_HO_GIA_DINH
from lietsi.search_map.coordinates import VN_LAT, VN_LON, clean_coordinates
from lietsi.search_map.coverage import village_coverage
from lietsi.search_map.evaluation import site_metrics
from lietsi.search_map.household_reports import prepare_reports
from lietsi.search_map.keys import clean_reported_name, site_id_for, village_key
from lietsi.search_map.leads import site_leads
from lietsi.search_map.merging import MergeConfig, Sites, merge_sites
from lietsi.search_map.status import STATUSES, apply_status

# The raw layer's own column types, so these hand-made frames look exactly like raw.* tables.
CONCLUSION_SCHEMA = frame_schema(KET_LUAN_DIA_BAN)
FORM_SCHEMA = frame_schema(PHIEU_HO_GIA_DINH)


def conclusions(rows: list[tuple]) -> pl.DataFrame:
    """(commune, village, households, out, back, meeting date, conclusion) rows of one district."""
    return pl.DataFrame(
        [
            {
                "province": "Kiên Giang",
                "district": "Châu Thành",
                "commune": c,
                "village": v,
                "households": h,
                "forms_out": o,
                "forms_back": b,
                "meeting_date": d,
                "meeting_date_text": d.strftime("%d/%m/%Y") if d else None,
                "conclusion": k,
                "file": "ket_luan.csv",
                "row_number": i,
            }
            for i, (c, v, h, o, b, d, k) in enumerate(rows, start=1)
        ],
        schema=CONCLUSION_SCHEMA,
        orient="row",
    )


def form(form_no: str, village: str = "Thôn 1", commune: str = "Bình An", **fields) -> dict:
    row = dict.fromkeys(FORM_SCHEMA)
    row.update(
        form_no=form_no,
        province="Kiên Giang",
        district="Châu Thành",
        commune=commune,
        village=village,
        household_head="Trần Văn Chủ",
        has_info="Có",
        file="phieu.csv",
    )
    row.update(fields)
    return row


def forms(rows: list[dict]) -> pl.DataFrame:
    for i, r in enumerate(rows, start=1):
        r.setdefault("row_number", i)
        if r["row_number"] is None:
            r["row_number"] = i
    return pl.DataFrame(rows, schema=FORM_SCHEMA, orient="row")


MEETING = date(2024, 5, 12)


# ---------------------------------------------------------------------------------------------
# Coverage


def test_coverage_is_forms_back_over_households_with_flags_and_rollups():
    concl = conclusions(
        [
            ("Bình An", "Thôn 1", 200, 200, 196, MEETING, "Có thông tin"),
            ("Bình An", "Thôn 2", 100, 98, 80, None, None),
            ("Minh Hòa", "Ấp Hòa Lợi", 50, 50, 50, MEETING, "Không có thông tin"),
        ]
    )
    fs = forms(
        [form("HGD-1"), form("HGD-2", has_info="Không"), form("HGD-3", village="thôn 02", has_info="Có")]
    )
    cov = village_coverage(concl, fs)
    v = {r["village"]: r for r in cov.villages.iter_rows(named=True)}
    assert v["Thôn 1"]["coverage"] == pytest.approx(0.98)
    assert v["Thôn 2"]["coverage"] == pytest.approx(0.80)
    assert v["Ấp Hòa Lợi"]["coverage"] == 1.0
    assert [v[k]["below_target"] for k in ("Thôn 1", "Thôn 2", "Ấp Hòa Lợi")] == [False, True, False]
    assert v["Thôn 2"]["concluded"] is False and v["Thôn 2"]["no_conclusion"] is True
    assert v["Thôn 1"]["concluded"] is True
    # "thôn 02" on the form is the conclusion's "Thôn 2".
    assert (v["Thôn 1"]["forms_entered"], v["Thôn 1"]["forms_with_info"]) == (2, 1)
    assert (v["Thôn 2"]["forms_entered"], v["Thôn 2"]["forms_with_info"]) == (1, 1)

    communes = {r["commune"]: r for r in cov.communes.iter_rows(named=True)}
    assert communes["Bình An"]["coverage"] == pytest.approx((196 + 80) / 300)
    assert communes["Bình An"]["villages"] == 2 and communes["Bình An"]["villages_concluded"] == 1
    assert communes["Bình An"]["behind_schedule"] is True
    assert "1 village(s) without conclusion" in communes["Bình An"]["behind_reason"]
    assert "under target" in communes["Bình An"]["behind_reason"]
    assert communes["Minh Hòa"]["behind_schedule"] is False
    district = cov.districts.row(0, named=True)
    assert (district["households"], district["forms_back"]) == (350, 326)
    assert district["coverage"] == pytest.approx(326 / 350)
    assert cov.quarantine.is_empty()


def test_impossible_coverage_is_quarantined_not_counted():
    concl = conclusions(
        [
            ("Bình An", "Thôn 1", 100, 90, 95, MEETING, "Có thông tin"),  # back > out
            ("Bình An", "Thôn 2", 80, 100, 90, MEETING, "Có thông tin"),  # back > households
            ("Bình An", "Thôn 3", 0, 0, 0, None, None),
            ("Bình An", "Thôn 4", 60, 60, 60, MEETING, "Có thông tin"),
        ]
    )
    cov = village_coverage(concl, forms([]))
    assert cov.villages["village"].to_list() == ["Thôn 4"]
    assert (cov.villages["coverage"] <= 1.0).all()
    reasons = dict(zip(cov.quarantine["row_number"], cov.quarantine["reason"], strict=True))
    assert "forms back (95) exceed forms handed out (90)" in reasons[1]
    assert "forms back (90) exceed households (80)" in reasons[2]
    assert "households" in reasons[3]
    assert set(cov.quarantine.columns) == {"source", "file", "row_number", "reason", "raw"}
    assert (cov.quarantine["source"] == "ket_luan_dia_ban").all()
    assert json.loads(cov.quarantine["raw"][0])["forms_back"] == 95


def test_later_conclusion_row_supersedes_earlier_one():
    concl = conclusions(
        [
            ("Bình An", "Thôn 1", 100, 100, 80, None, None),
            ("Bình An", "thôn 1", 100, 100, 97, MEETING, "Có thông tin"),
        ]
    )
    cov = village_coverage(concl, forms([]))
    assert cov.villages.height == 1
    assert cov.villages["forms_back"][0] == 97
    assert cov.quarantine["row_number"].to_list() == [1]
    assert cov.quarantine["reason"][0].startswith("superseded by")


def test_unparsed_meeting_date_still_counts_as_concluded():
    concl = conclusions([("Bình An", "Thôn 1", 10, 10, 10, None, None)]).with_columns(
        pl.lit("ngày 12 tháng 5").alias("meeting_date_text")
    )
    assert village_coverage(concl, forms([])).villages["concluded"][0] is True


# ---------------------------------------------------------------------------------------------
# Text keys and coordinates


def test_keys_fold_vietnamese_variants():
    assert village_key("Thôn 03") == village_key("thon 3") == "3"
    assert village_key("Xã Bình Hoà") == village_key("Binh Hòa") == "binh hoa"
    assert village_key("TDP 05") == village_key("Tổ dân phố 5") == "5"
    assert clean_reported_name("liệt sĩ NGUYỄN văn thành") == "Nguyễn Văn Thành"
    assert clean_reported_name("chú Ba") == "Chú Ba"  # a title is kept when it is the name


def test_coordinates_cleaned():
    assert clean_coordinates(9.86, 105.14) == (9.86, 105.14, None)
    lat, lon, note = clean_coordinates(105.14, 9.86)
    assert (lat, lon) == (9.86, 105.14) and "swapped" in note
    assert clean_coordinates(48.85, 2.35)[:2] == (None, None)
    assert clean_coordinates(None, None) == (None, None, None)
    assert 1000 * haversine_km(10.0, 105.0, 10.001, 105.0) == pytest.approx(111.2, abs=0.5)


# ---------------------------------------------------------------------------------------------
# Site merging


def _sites(rows: list[dict], **config) -> Sites:
    reports, _ = prepare_reports(forms(rows))
    return merge_sites(reports, MergeConfig(**config) if config else None)


def _groups(result: Sites) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for r in result.site_reports.iter_rows(named=True):
        groups.setdefault(r["site_id"], set()).add(r["form_number"])
    return {frozenset(g) for g in groups.values()}


def test_merge_by_distance_within_radius():
    rows = [
        form("HGD-1", lat=9.8600, lon=105.1400),
        form("HGD-2", lat=9.8615, lon=105.1405),  # ~175 m from HGD-1
        form("HGD-3", lat=9.8700, lon=105.1400),  # ~1.1 km away
    ]
    assert _groups(_sites(rows)) == {frozenset({"HGD-1", "HGD-2"}), frozenset({"HGD-3"})}
    assert _groups(_sites(rows, radius_m=100.0)) == {frozenset({f"HGD-{i}"}) for i in (1, 2, 3)}
    site = _sites(rows).sites.filter(pl.col("report_count") == 2).row(0, named=True)
    assert site["lat"] == pytest.approx(9.86075) and site["merged_by"] == "distance"


def test_distance_chain_is_cut_by_diameter_safeguard():
    # Five reports 250 m apart in a line: single linkage would make one 1 km site.
    rows = [form(f"HGD-{i}", lat=9.86 + i * 0.00225, lon=105.14) for i in range(5)]
    result = _sites(rows)
    assert result.refused_merges > 0
    for s in result.sites.iter_rows(named=True):
        members = result.site_reports.filter(pl.col("site_id") == s["site_id"])
        lats = members["lat"].to_list()
        assert 1000 * haversine_km(min(lats), 105.14, max(lats), 105.14) <= 600


def test_merge_by_text_within_commune():
    rows = [
        form("HGD-10", martyr_name="Nguyễn Văn Thành", place="Gò đất cạnh cây đa đầu thôn"),
        form("HGD-11", martyr_name="Ng. V. Thành", place="gần cây đa đầu thôn, chỗ gò đất"),
        # A household of the neighbouring village reports the same grave.
        form("HGD-12", martyr_name="Tư Thành", place="Go dat (canh cay da dau thon)", village="Thôn 2"),
        form(
            "HGD-16", martyr_name="Nguyễn Văn Thành", place="Gò đất cạnh cây đa đầu thôn", commune="Minh Hòa"
        ),
        form("HGD-13", place="Bờ kênh Xáng sau trường tiểu học"),
        form("HGD-14", place="Khu vực bờ kênh Xáng, sau trường tiểu học"),
        form("HGD-15", martyr_name="Trần Văn Bình", place="Gò đất cạnh cây đa đầu thôn"),
    ]
    assert _groups(_sites(rows)) == {
        frozenset({"HGD-10", "HGD-11", "HGD-12"}),
        frozenset({"HGD-16"}),
        frozenset({"HGD-13", "HGD-14"}),
        frozenset({"HGD-15"}),
    }


def test_place_words_decide_and_numbers_must_agree():
    rows = [
        form("HGD-1", place="gò đất cách trường học 200m"),
        form("HGD-2", place="Gò đất (cách trường học 200m)"),
        form("HGD-3", place="gò đất cách trường học 500m"),
        form("HGD-4", place="bờ sông đầu xóm"),
        form("HGD-5", place="bờ kênh đầu xóm"),
    ]
    assert _groups(_sites(rows)) == {
        frozenset({"HGD-1", "HGD-2"}),
        frozenset({"HGD-3"}),
        frozenset({"HGD-4"}),
        frozenset({"HGD-5"}),
    }


def test_vague_report_matching_two_places_is_not_guessed():
    rows = [
        form("HGD-1", place="gốc cây dầu đầu xóm"),
        form("HGD-2", place="đầu xóm, chỗ gốc cây dầu"),
        form("HGD-3", place="bờ kênh đầu xóm"),
        form("HGD-4", place="Ở đầu xóm"),
    ]
    assert _groups(_sites(rows)) == {
        frozenset({"HGD-1", "HGD-2"}),
        frozenset({"HGD-3"}),
        frozenset({"HGD-4"}),
    }
    # With only one place it could mean, it joins that place.
    assert _groups(_sites(rows[:2] + rows[3:])) == {frozenset({"HGD-1", "HGD-2", "HGD-4"})}


def test_given_names_and_aliases():
    rows = [
        form("HGD-1", martyr_name="Nguyễn Minh Toàn", place="bờ kênh giáp ranh ấp bên"),
        form("HGD-2", martyr_name="Toàn", place="Bờ kênh (giáp ranh ấp bên)"),
        form("HGD-3", martyr_name="Hai Lộc", place="bờ kênh giáp ranh ấp bên"),
        form("HGD-4", martyr_name="Triệu Công Lộc", place="Ở giáp ranh ấp bên"),
        # A nom de guerre need not resemble the name: the place alone may join it.
        form("HGD-5", martyr_name="Thép", place="sân đình cũ cuối ấp"),
        form("HGD-6", martyr_name="Nguyễn Chí An", place="Sân đình cũ (cuối ấp)"),
    ]
    assert _groups(_sites(rows)) == {
        frozenset({"HGD-1", "HGD-2"}),
        frozenset({"HGD-3", "HGD-4"}),
        frozenset({"HGD-5", "HGD-6"}),
    }


def test_names_that_disagree_are_never_one_site():
    rows = [
        form("HGD-1", martyr_name="Nguyễn Văn Thành", lat=9.86, lon=105.14),
        form("HGD-2", martyr_name="Lê Thị Hoa", lat=9.8601, lon=105.1401),
        form("HGD-3", lat=9.8602, lon=105.1400),
    ]
    groups = _groups(_sites(rows))
    assert not any({"HGD-1", "HGD-2"} <= g for g in groups)


def test_site_id_is_stable_and_comes_from_smallest_form_number():
    rows = [form("HGD-10", lat=9.86, lon=105.14), form("HGD-9", lat=9.8601, lon=105.14)]
    first = _sites(rows)
    again = _sites(list(reversed([dict(r, row_number=None) for r in rows])))
    assert first.sites["site_id"].to_list() == again.sites["site_id"].to_list()
    assert first.sites["site_id"][0] == site_id_for("HGD-9")
    assert re.fullmatch(r"site_[0-9a-f]{12}", first.sites["site_id"][0])
    assert site_id_for("HGD-9") != site_id_for("HGD-10")


def test_prepare_reports_drops_forms_without_information_and_quarantines_duplicates():
    rows = [
        form("HGD-1", lat=105.14, lon=9.86),
        form("HGD-1", lat=105.14, lon=9.86),
        form("HGD-2", has_info="Không"),
        form("HGD-3", place="Đồi cát", village="Thôn Lạ"),
        form("HGD-4", place="x", lat=1.0, lon=1.0),
    ]
    known = [("kien giang", "chau thanh", "binh an", "1")]
    reports, quarantine = prepare_reports(forms(rows), known)
    assert reports["form_no"].to_list() == ["HGD-1", "HGD-3", "HGD-4"]
    first = reports.row(0, named=True)
    assert (first["lat"], first["lon"]) == (9.86, 105.14) and "swapped" in first["coordinate_note"]
    assert reports["village_known"].to_list() == [True, False, True]
    assert reports.row(2, named=True)["lat"] is None
    assert quarantine.height == 1 and quarantine["reason"][0].startswith("duplicate form")
    assert "household_head" not in json.loads(quarantine["raw"][0])


# ---------------------------------------------------------------------------------------------
# Status file and martyr links


def test_status_by_form_number_and_site_id_latest_wins():
    result = _sites([form("HGD-1", lat=9.86, lon=105.14), form("HGD-5", lat=9.90, lon=105.20)])
    sid5 = site_id_for("HGD-5")
    status = pl.DataFrame(
        [
            {"site_id": None, "form_no": "hgd-1", "status": "Đã xác minh", "status_date": date(2024, 6, 1)},
            {"site_id": None, "form_no": "HGD-1", "status": "Đã khai quật", "status_date": date(2024, 7, 1)},
            {"site_id": sid5, "form_no": None, "status": "no remains found", "status_date": None},
            {"site_id": None, "form_no": "HGD-99", "status": "verified", "status_date": None},
            {"site_id": None, "form_no": "HGD-5", "status": "đang chờ", "status_date": None},
        ]
    ).with_columns(pl.lit("trang_thai.csv").alias("file"), pl.int_range(1, 6).alias("row_number"))
    sites, quarantine = apply_status(result.sites, result.site_reports, status)
    got = dict(zip(sites["site_id"], sites["status"], strict=True))
    assert got == {site_id_for("HGD-1"): "excavated", sid5: "no remains found"}
    assert sorted(quarantine["row_number"].to_list()) == [4, 5]
    assert set(sites["status"]) <= set(STATUSES)


def test_links_prefer_corroborated_martyr_and_rank_missing_graves_first():
    result = _sites(
        [
            form(
                "HGD-1",
                martyr_name="Nguyễn Văn Hùng",
                place="Gò Mả",
                description="quê xã Bình Hòa, hy sinh 1972",
            ),
            form("HGD-2", martyr_name="Lê Văn Tám", place="Rẫy ông Sáu", lat=9.9, lon=105.2),
        ]
    )
    martyrs = pl.DataFrame(
        {
            "martyr_id": ["M1", "M2", "M3"],
            "full_name": ["Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "Lê Văn Tám"],
            "hometown_commune": ["Bình Hòa", "Vĩnh Lợi", "Vĩnh Hòa"],
            "unit": [None, None, None],
            "grave_status": ["Đã xác định", "Chưa quy tập", "Chưa xác định"],
        }
    )
    leads = site_leads(result.sites, result.site_reports, martyrs)
    pairs = dict(zip(leads["martyr_id"], leads["confidence"], strict=True))
    assert pairs == {"M1": "corroborated", "M3": "name_only"}
    # M3 has no grave: first, although M1 is corroborated.
    assert leads["martyr_id"].to_list() == ["M3", "M1"]
    assert leads["lead_rank"].to_list() == [1, 2]


def test_hometown_in_the_sites_commune_or_district_corroborates():
    result = _sites([form("HGD-1", martyr_name="Phạm Văn Vũ", place="Gò Mả")])
    martyrs = pl.DataFrame(
        {
            "martyr_id": ["M1", "M2", "M3", "M4"],
            "full_name": ["Phạm Văn Vũ", "Phạm Văn Vũ", "Phạm Văn Vũ", "PHAM VAN VU"],
            "hometown_commune": ["Ngọc Thành", "Đông Hưng", "Bình An", "Bình An"],
            "hometown_district": ["Giồng Riềng", "Châu Thành", "Giồng Riềng", "Châu Thành"],
            "grave_status": ["Chưa quy tập"] * 4,
        }
    )
    leads = site_leads(result.sites, result.site_reports, martyrs)
    # M4 (written without diacritics) has the site's commune in the site's district: the one lead.
    # M3's "Bình An" is another district's commune, M2 only shares the district.
    assert leads.select("martyr_id", "confidence").rows() == [("M4", "corroborated")]
    without_m4 = site_leads(result.sites, result.site_reports, martyrs.filter(pl.col("martyr_id") != "M4"))
    assert without_m4.select("martyr_id", "confidence").rows() == [("M2", "same_district")]


def test_uncorroborated_namesakes_are_ambiguous():
    result = _sites([form("HGD-1", martyr_name="Nguyễn Văn Hùng", place="Gò Mả")])
    martyrs = pl.DataFrame(
        {"martyr_id": ["M1", "M2"], "full_name": ["Nguyễn Văn Hùng"] * 2, "grave_status": [None, None]}
    )
    leads = site_leads(result.sites, result.site_reports, martyrs)
    assert leads["confidence"].to_list() == ["ambiguous", "ambiguous"]
    assert leads["candidates"].to_list() == [2, 2]
    # A namesake whose grave is already identified gives way to one without.
    martyrs = martyrs.with_columns(pl.Series("grave_status", ["Đã xác định", "Chưa quy tập"]))
    leads = site_leads(result.sites, result.site_reports, martyrs)
    assert leads.select("martyr_id", "confidence").rows() == [("M2", "name_only")]


def test_site_metrics_pairwise_and_exact_clusters():
    truth = pl.DataFrame({"form_number": ["a", "b", "c", "d"], "site_uid": ["1", "1", "2", "3"]})

    def ours(assign: dict[str, str]) -> pl.DataFrame:
        return pl.DataFrame({"form_number": list(assign), "site_id": list(assign.values())})

    perfect = site_metrics(ours({"A": "x", "B": "x", "C": "y", "D": "z"}), truth)
    assert (perfect["f1"], perfect["cluster_f1"], perfect["forms_only_ours"]) == (1.0, 1.0, 0)
    split = site_metrics(ours({"a": "x", "b": "y", "c": "z", "d": "w"}), truth)
    assert split["recall"] == 0.0 and split["cluster_recall"] == pytest.approx(2 / 3)
    merged = site_metrics(ours({"a": "x", "b": "x", "c": "x", "d": "w", "e": "v"}), truth)
    assert merged["precision"] == pytest.approx(1 / 3)
    assert merged["cluster_recall"] == pytest.approx(1 / 3)
    assert merged["forms_only_ours"] == 1


# ---------------------------------------------------------------------------------------------
# Maps


def _map_inputs():
    rows = [
        form("HGD-1", martyr_name="Nguyễn Văn Thành", place="Gò Mả", lat=9.8600, lon=105.1400),
        form("HGD-2", martyr_name="Nguyễn Văn Thành", place="Gò Mả", lat=9.8605, lon=105.1402),
        form("HGD-3", place="Rẫy <b>ông</b> Sáu", lat=9.8700, lon=105.1500),
        form("HGD-4", place="Bờ kênh", lat=9.8650, lon=105.1300),
        form("HGD-5", place="không rõ vị trí"),
    ]
    result = _sites(rows)
    status = pl.DataFrame(
        {"site_id": [None], "form_no": ["HGD-4"], "status": ["Đã khai quật"], "status_date": [None]},
        schema={"site_id": pl.Utf8, "form_no": pl.Utf8, "status": pl.Utf8, "status_date": pl.Date},
    ).with_columns(pl.lit("s.csv").alias("file"), pl.lit(1).alias("row_number"))
    sites, _ = apply_status(result.sites, result.site_reports, status)
    martyrs = pl.DataFrame(
        {"martyr_id": ["M1"], "full_name": ["Nguyễn Văn Thành"], "grave_status": ["Chưa quy tập"]}
    )
    leads = site_leads(sites, result.site_reports, martyrs)
    return sites, result.site_reports, leads


def test_commune_map_is_offline_and_geojson_is_valid(tmp_path):
    sites, reports, leads = _map_inputs()
    page = maps.commune_map("Bình An", sites, reports, leads).get_root().render()
    assert maps.external_resources(page) == []
    assert "Leaflet 1.9.4" in page
    # Report text is escaped in popups, and the popup HTML is a JSON string in the page's script.
    site3 = sites.filter(pl.col("site_id") == site_id_for("HGD-3")).row(0, named=True)
    popup = maps.site_popup(site3, reports.filter(pl.col("site_id") == site3["site_id"]).to_dicts(), [])
    assert "Rẫy &lt;b&gt;ông&lt;/b&gt; Sáu" in popup
    assert "<b>ông</b>" not in page
    assert "không rõ vị trí" in page  # the unlocated site is listed in the legend
    collection = maps.sites_geojson(sites, reports, leads)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 3
    first = next(f for f in collection["features"] if f["properties"]["report_count"] == 2)
    assert first["geometry"]["coordinates"] == [pytest.approx(105.1401), pytest.approx(9.86025)]
    assert first["properties"]["martyr_ids"] == ["M1"]
    assert sorted(first["properties"]["form_numbers"]) == ["HGD-1", "HGD-2"]


def test_commune_map_renders_markers_in_headless_chromium(tmp_path):
    require_chromium()
    sites, reports, leads = _map_inputs()
    path = maps.save_map(maps.commune_map("Bình An", sites, reports, leads), tmp_path / "binh-an.html")
    dom = render(path)
    # Circle markers are SVG paths Leaflet draws into its overlay pane: one per located site.
    assert elements(dom, "div", "leaflet-overlay-pane")
    markers = elements(dom, "path", "leaflet-interactive")
    assert len(markers) == 3
    assert sorted(m["fill"] for m in markers) == sorted(["#e67e22", "#e67e22", "#27ae60"])
    assert elements(dom, "div", "leaflet-container")
    shot = screenshot(path, "search_map_commune")
    assert shot.stat().st_size > 5000


def test_district_overview_renders_in_headless_chromium(tmp_path):
    require_chromium()
    concl = conclusions(
        [
            ("Bình An", "Thôn 1", 200, 200, 196, MEETING, "Có thông tin"),
            ("Minh Hòa", "Ấp Hòa Lợi", 50, 50, 30, None, None),
        ]
    )
    cov = village_coverage(concl, forms([]))
    centroids = {"Bình An": (9.862, 105.143), "Minh Hòa": (9.90, 105.10)}
    fmap = maps.district_overview("Châu Thành", cov.communes, centroids)
    path = maps.save_map(fmap, tmp_path / "overview.html")
    dom = render(path)
    markers = elements(dom, "path", "leaflet-interactive")
    assert len(markers) == 2
    # Bình An is at 98% (green), Minh Hòa at 60% (red, ringed black: behind schedule).
    assert sorted(m["fill"] for m in markers) == ["#27ae60", "#c0392b"]
    assert sorted(m["stroke"] for m in markers) == ["#000", "#27ae60"]
    screenshot(path, "search_map_district")


# ---------------------------------------------------------------------------------------------
# Assets end to end: inbox → raw → marts, maps, evaluation and checks


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_search_map_assets_end_to_end(workspace, tmp_path):
    import dagster as dg

    from assets import search_map as stage
    from assets.ingest import build_ingest_asset
    from lietsi.schema import SOURCES

    inbox, truth = tmp_path / "inbox", tmp_path / "truth"
    _write(
        inbox / "ket_luan_dia_ban" / "kl.csv",
        "Tỉnh,Huyện,Xã,Thôn,Số hộ,Số phiếu phát,Số phiếu thu,Ngày họp kết luận,Kết luận\n"
        "Kiên Giang,Châu Thành,Bình An,Thôn 1,120,120,118,12/05/2024,Có thông tin\n"
        "Kiên Giang,Châu Thành,Bình An,Thôn 2,80,80,70,,\n"
        "Kiên Giang,Châu Thành,Minh Hòa,Ấp Hòa Lợi,60,50,55,01/06/2024,Không có thông tin\n",
    )
    _write(
        inbox / "phieu_ho_gia_dinh" / "hgd.csv",
        "Số phiếu,Tỉnh,Huyện,Xã,Thôn,Chủ hộ,Có thông tin,Loại thông tin,Họ tên liệt sĩ,Mô tả,Địa điểm,"
        "Vĩ độ,Kinh độ,Ngày khai\n"
        "HGD-1,Kiên Giang,Châu Thành,Bình An,Thôn 1,Lê Văn A,Có,Mộ liệt sĩ,Nguyễn Văn Thành,,Gò Mả,"
        "9.8600,105.1400,01/04/2024\n"
        "HGD-2,Kiên Giang,Châu Thành,Bình An,Thôn 1,Lê Văn B,Có,Mộ liệt sĩ,Ng. V. Thành,,Gò Mả,"
        "9.8610,105.1405,02/04/2024\n"
        "HGD-3,Kiên Giang,Châu Thành,Bình An,thôn 02,Lê Văn C,Có,Nơi chôn cất,,,Bờ kênh sau trường,,,\n"
        "HGD-4,Kiên Giang,Châu Thành,Bình An,Thôn 2,Lê Văn D,Có,Nơi chôn cất,,,bờ kênh sau trường học,,,\n"
        "HGD-5,Kiên Giang,Châu Thành,Bình An,Thôn 2,Lê Văn E,Không,,,,,,,\n",
    )
    _write(
        inbox / "trang_thai_diem" / "tt.csv",
        "Số phiếu,Trạng thái,Ngày cập nhật\nHGD-2,Đã xác minh,01/07/2024\nHGD-77,Đã khai quật,\n",
    )
    _write(
        truth / "site_reports.csv",
        "form_number,site_uid,file,row_number\nHGD-1,S1,hgd.csv,1\nHGD-2,S1,hgd.csv,2\n"
        "HGD-3,S2,hgd.csv,3\nHGD-4,S2,hgd.csv,4\n",
    )
    _write(
        truth / "village_coverage.csv",
        "province,district,commune,village,households,forms_out,forms_back,coverage,concluded\n"
        "Kiên Giang,Châu Thành,Bình An,Thôn 1,120,120,118,0.983333,true\n"
        "Kiên Giang,Châu Thành,Bình An,Thôn 2,80,80,70,0.875,false\n",
    )

    _write(
        truth / "sites.csv",
        "site_uid,province,district,commune,village,lat,lon,martyr_uid\n"
        "S1,Kiên Giang,Châu Thành,Bình An,Thôn 1,9.8605,105.14,U1\n"
        "S2,Kiên Giang,Châu Thành,Bình An,Thôn 2,,,\n",
    )
    _write(
        truth / "martyr_records.csv",
        "source,source_record_id,file,row_number,martyr_uid\nregistry,R1,r.csv,1,U1\n",
    )

    @dg.multi_asset(
        group_name="linkage",
        outs={
            "martyrs": dg.AssetOut(key=["core", "martyrs"]),
            "links": dg.AssetOut(key=["core", "martyr_links"]),
        },
    )
    def linkage_stub():
        yield dg.Output(
            pl.DataFrame(
                {"martyr_id": ["M1"], "full_name": ["Nguyễn Văn Thành"], "grave_status": ["Chưa quy tập"]}
            ),
            output_name="martyrs",
        )
        yield dg.Output(
            pl.DataFrame({"source": ["registry"], "file": ["r.csv"], "row_number": [1], "martyr_id": ["M1"]}),
            output_name="links",
        )

    checks = [
        stage.village_coverage_expectations,
        stage.search_sites_expectations,
        stage.villages_known,
        stage.site_merging_f1,
        stage.coverage_equals_truth,
    ]
    result = dg.materialize(
        [
            build_ingest_asset(SOURCES["ket_luan_dia_ban"]),
            build_ingest_asset(SOURCES["phieu_ho_gia_dinh"]),
            linkage_stub,
            stage.search_map,
            stage.search_leads,
            stage.search_map_files,
            stage.search_map_evaluation,
            *checks,
        ],
        resources=workspace,
        run_config={"ops": {"ops__search_map_files": {"config": {"tiles": None}}}},
    )
    assert result.success
    outcomes = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert outcomes == {
        "expectations": True,
        "villages_known": True,
        "merging_f1_on_synthetic_truth": True,
        "coverage_equals_truth": True,
    }
    wh = workspace["warehouse"]
    villages = wh.query("SELECT village, coverage, concluded FROM marts.village_coverage ORDER BY village")
    assert villages["village"].to_list() == ["Thôn 1", "Thôn 2"]  # Ấp Hòa Lợi: 55 back of 50 out
    sites = wh.query("SELECT site_id, report_count, status FROM marts.search_sites ORDER BY site_id")
    assert sorted(sites["report_count"].to_list()) == [2, 2]
    assert set(sites["status"]) == {"verified", "reported"}
    quarantine = wh.query("SELECT source, reason FROM ops.quarantine_search_map ORDER BY source")
    assert quarantine.rows() == [
        ("ket_luan_dia_ban", "impossible coverage: forms back (55) exceed forms handed out (50)"),
        ("trang_thai_diem", "no site with id '' or form 'HGD-77'"),
    ]
    leads = wh.query("SELECT site_id, martyr_id FROM marts.search_leads")
    assert leads.rows() == [(site_id_for("HGD-1"), "M1")]
    evaluation = {(e, m): v for e, m, v in wh.query("SELECT * FROM marts.search_map_evaluation").iter_rows()}
    assert evaluation[("sites", "f1")] == 1.0 and evaluation[("coverage", "villages_different")] == 0
    assert (evaluation[("leads", "lead_precision")], evaluation[("leads", "lead_recall")]) == (1.0, 1.0)
    files = wh.query("SELECT kind, path FROM ops.search_map_files")
    kinds = sorted(files["kind"].to_list())
    assert kinds == ["all_sites_geojson", "commune_geojson", "commune_map", "district_overview"]
    for path in files["path"]:
        # Paths are relative to the run's own folder, OUT_DIR/runs/<run_id>/.
        assert (
            path.startswith("maps/") and (tmp_path / "out" / "runs" / result.run_id / path).stat().st_size > 0
        )


def test_sites_suite_bounding_box_is_the_library_one():
    from lietsi.ops.quality import load_suite_config

    bounds = {
        e["kwargs"]["column"]: (e["kwargs"]["min_value"], e["kwargs"]["max_value"])
        for e in load_suite_config("marts_search_sites")["expectations"]
        if e["kwargs"].get("column") in ("lat", "lon")
    }
    assert bounds == {"lat": VN_LAT, "lon": VN_LON}
