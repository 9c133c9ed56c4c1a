"""Reports: per-district progress, campaign costs, the HTML page in headless Chromium, the exports."""

import json
import re
from datetime import datetime

import polars as pl
import pytest
from browser import render, require_chromium
from ops_province import province_run

from assets.reports import EXPORT_DIR, REPORT_FILE
from lietsi.export import remove_stale_temporaries, write_atomic, write_frame
from lietsi.reports import UNKNOWN_DISTRICT, format_vnd, merge_progress, render_report


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    # A failing step of another stage (its own tests report it) must not hide these results: each
    # test reads the tables it needs and fails on its own if they are missing.
    return province_run(tmp_path_factory)


def test_progress_merges_metrics_per_district_and_keeps_unknown_last():
    merged = merge_progress(
        {
            "a": pl.DataFrame({"district": ["Châu Thành", None], "relatives_surveyed": [3, 1]}),
            "b": pl.DataFrame({"district": ["An Biên"], "samples_taken": [2]}),
        }
    )
    assert merged.columns == ["district", "relatives_surveyed", "samples_taken"]
    assert merged.rows() == [("An Biên", 0, 2), ("Châu Thành", 3, 0), (UNKNOWN_DISTRICT, 1, 0)]


def test_costs_follow_the_plan_rates(province):
    costs = province.warehouse.query("SELECT * FROM reports.campaign_costs ORDER BY line")
    forms = province.warehouse.query(
        "SELECT (SELECT count(DISTINCT form_no) FROM raw.phieu_01) + (SELECT count(DISTINCT form_no) "
        "FROM raw.phieu_02) + (SELECT count(DISTINCT form_no) FROM raw.phieu_ho_gia_dinh) AS n"
    ).item()
    analysed = province.warehouse.query("SELECT count(DISTINCT sample_id) AS n FROM raw.ket_qua_adn").item()
    by_line = {r["line"]: r for r in costs.iter_rows(named=True)}
    assert sum(by_line[i]["quantity"] for i in (1, 2, 3)) == forms > 0
    assert {by_line[i]["unit_cost_vnd"] for i in (1, 2, 3)} == {5000}
    assert by_line[4]["total_vnd"] == by_line[5]["total_vnd"] == 3000 * forms
    assert by_line[6]["total_vnd"] == round(analysed / 2 * 10_000_000)


def test_district_progress_adds_up_to_the_province(province):
    progress = province.warehouse.query("SELECT * FROM reports.district_progress")
    relatives = province.warehouse.query("SELECT count(*) AS n FROM core.relatives").item()
    samples = province.warehouse.query(
        "SELECT count(DISTINCT sample_id) AS n FROM raw.mau_adn WHERE sample_kind = 'Thân nhân'"
    ).item()
    identifications = province.warehouse.query("SELECT count(*) AS n FROM marts.identifications").item()
    assert progress["relatives_surveyed"].sum() == relatives > 0
    assert progress["samples_taken"].sum() == samples > 0
    funnel = progress.select(
        (pl.col("donors_consenting") <= pl.col("relatives_surveyed"))
        | (pl.col("district") == UNKNOWN_DISTRICT)
    )
    assert funnel.to_series().all()
    assert (progress["results_back"] <= progress["samples_taken"]).all()
    assert (
        progress["identifications_proposed"].sum()
        + progress["identifications_needs_review"].sum()
        + progress["identifications_confirmed"].sum()
        == identifications
    )


def test_the_report_renders_in_headless_chromium(province):
    require_chromium()
    page = province.pages / REPORT_FILE
    dom = render(page)
    assert "Kiên Giang" in dom
    districts = province.warehouse.query("SELECT district FROM reports.district_progress")["district"]
    for district in districts:
        assert district in dom
    assert len(re.findall(r'<rect class="bar"', dom)) >= 4 * len(districts)
    total = province.warehouse.query("SELECT sum(total_vnd) AS t FROM reports.campaign_costs").item()
    assert format_vnd(total) in dom
    assert "not yet available" not in dom
    assert "<script" not in dom and "http" not in dom.replace("http://www.w3.org/2000/svg", "")


def test_a_report_without_marts_says_not_yet_available():
    page = render_report(
        "Kiên Giang",
        pl.DataFrame(schema={"district": pl.Utf8}),
        None,
        None,
        {
            "progress_identifications": "waiting for marts.identifications",
            "campaign_costs": "waiting for raw",
        },
        datetime(2025, 1, 1),
    )
    assert page.count("not yet available") == 3
    assert "marts.identifications" in page


def test_exports_link_identifications_and_profiles_by_citizen_id_hash(province):
    folder = province.pages / EXPORT_DIR
    document = json.loads((folder / "identifications.json").read_text(encoding="utf-8"))
    assert document["format"] == "lietsi.identifications" and document["records"] == len(document["data"])
    identifications = province.warehouse.query("SELECT count(*) AS n FROM marts.identifications").item()
    assert document["records"] == identifications > 0
    assert all(isinstance(r["evidence"], dict) for r in document["data"])
    profiles = json.loads((folder / "donor_profiles.json").read_text(encoding="utf-8"))["data"]
    hashes = {p["citizen_id_hash"] for p in profiles}
    linked = [h for r in document["data"] for h in r["donor_citizen_id_hashes"]]
    assert linked and set(linked) <= hashes
    consenting = province.warehouse.query(
        "SELECT DISTINCT citizen_id_hash FROM core.relatives WHERE consent = 'Có'"
    )["citizen_id_hash"]
    assert hashes <= set(consenting)
    csv = pl.read_csv(folder / "donor_profiles.csv")
    assert csv.height == len(profiles) and "citizen_id_hash" in csv.columns


def test_files_are_replaced_atomically_and_stale_temporaries_removed(tmp_path):
    target = tmp_path / "x.json"
    write_atomic(target, b"old")
    (tmp_path / ".x.json.abc.tmp").write_bytes(b"half")
    write_frame(pl.DataFrame({"a": [1]}), tmp_path, "x", "test")
    assert json.loads(target.read_text())["data"] == [{"a": 1}]
    assert remove_stale_temporaries(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json"]
