"""Reports: per-district progress, campaign costs, the HTML page in headless Chromium, the exports."""

import hashlib
import json
import re
from datetime import datetime

import polars as pl
import pytest
from browser import render, require_chromium
from ops_province import province_run

from assets.reports import EXPORT_DIR, REPORT_FILE
from lietsi.ops.export import remove_stale_temporaries, write_atomic, write_frame
from lietsi.ops.export_files import NATIONAL_DIR
from lietsi.ops.formats import money, number
from lietsi.ops.national_export import write_national_export
from lietsi.ops.reports import OUTSIDE_DISTRICT, UNKNOWN_DISTRICT, merge_progress, render_report
from lietsi.places import province_codes
from lietsi.privacy import REMOVED_IDENTIFIER
from lietsi.schema import is_personal


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    # A failing step of another stage (its own tests report it) must not hide these results: each
    # test reads the tables it needs and fails on its own if they are missing.
    return province_run(tmp_path_factory)


def test_progress_merges_metrics_per_district_code_other_provinces_apart():
    merged = merge_progress(
        {
            "a": pl.DataFrame(
                {
                    "district": ["Châu Thành", "Châu Thành", "huyện Châu Thành", None],
                    "province": ["Kiên Giang", "An Giang", None, None],
                    "relatives_surveyed": [3, 33, 2, 1],
                }
            ),
            "b": pl.DataFrame({"district": ["An Biên"], "province": ["Kiên Giang"], "samples_taken": [2]}),
        },
        "Kiên Giang",
    )
    assert merged.columns == ["district_code", "district", "relatives_surveyed", "samples_taken"]
    assert merged.rows() == [
        ("905", "Châu Thành", 5, 0),
        ("908", "An Biên", 0, 2),
        (None, OUTSIDE_DISTRICT, 33, 0),
        (None, UNKNOWN_DISTRICT, 1, 0),
    ]


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
        | pl.col("district").is_in([UNKNOWN_DISTRICT, OUTSIDE_DISTRICT])
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
    for chart in ("funnel-chart", "progress-chart", "cost-chart"):
        assert re.search(rf'id="{chart}">\s*<svg', dom), chart
    # The province total row adds the district rows up.
    relatives = province.warehouse.query("SELECT sum(relatives_surveyed) AS n FROM reports.district_progress")
    assert re.search(r'id="province-total".*?' + re.escape(number(relatives.item())), dom, re.S)
    total = province.warehouse.query("SELECT sum(total_vnd) AS t FROM reports.campaign_costs").item()
    assert money(total) in dom
    assert "not yet available" not in dom
    assert "<script" not in dom
    assert not re.findall(r"https?://(?!www\.w3\.org/)", dom)


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


def test_empop_export_holds_consenting_references_one_per_line(province):
    files = sorted((province.pages / EXPORT_DIR).glob("empop_references*.emp"))
    assert files
    rows = [
        line.split("\t")
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    consenting = province.warehouse.query(
        "SELECT p.sample_id FROM marts.mtdna_profiles p JOIN core.relatives r USING (relative_id) "
        "WHERE p.sample_kind = 'relative' AND r.consent = 'Có'"
    )["sample_id"]
    samples = [r[0] for r in rows]
    assert samples and set(samples) <= set(consenting) and len(samples) == len(set(samples))
    lines = province.warehouse.query(
        "SELECT p.sample_id, min(mc.maternal_line_id) AS line FROM marts.mtdna_profiles p "
        "JOIN marts.maternal_candidates mc USING (relative_id) WHERE mc.shares_mtdna GROUP BY 1"
    )
    line_of = dict(lines.iter_rows())
    exported_lines = [line_of[s] for s in samples if s in line_of]
    assert len(exported_lines) == len(set(exported_lines))  # one profile per maternal line
    assert all(r[2] == "1" and r[1] for r in rows)


def test_emp_format():
    from lietsi.ops.export import empop_files

    frame = pl.DataFrame(
        {
            "sample_id": ["S2", "S1", "S3"],
            "range": ["16024-16569,1-576", "16024-16569,1-576", "16024-16365"],
            "haplotype": ["16223T 249del 315.1C", "", "16129A"],
            "haplogroup": ["M7", None, "B4"],
        }
    )
    files = empop_files(frame, "test")
    full = files["16024-16569,1-576"].splitlines()
    assert "#! 16024-576" in full
    assert full[-2:] == ["S1\t?\t1", "S2\tM7\t1\t16223T\t249DEL\t315.1C"]
    assert "#! 16024-16365" in files["16024-16365"]


def test_every_analyst_view_and_column_is_documented_and_free_of_identifiers(province):
    from assets.analyst import dictionary
    from lietsi.ops.disclosure import living_relative_names, scan_schema
    from lietsi.ops.site import DICTIONARY_PAGE
    from resources.sql import sql_files

    for name, sql in sql_files("analyst").items():
        assert not re.search(r"SELECT\s+\*|\.\*", sql, re.I), f"analyst.{name} selects *"
    with province.warehouse.connect(read_only=True) as con:
        views = dict(
            con.execute(
                "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'analyst'"
            ).fetchall()
        )
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'analyst'"
        ).fetchall()
        findings = scan_schema(con, "analyst", living_relative_names(con))
    assert set(views) == set(sql_files("analyst")) == set(dictionary())
    assert all(views.values()), [v for v, c in views.items() if not c]
    assert [c for c in columns if not c[2]] == []
    documented = {(v, c) for v, entry in dictionary().items() for c in entry["columns"]}
    assert {(v, c) for v, c, _ in columns} == documented
    assert findings.is_empty(), findings
    # District and commune codes with their names wherever analysts group by place.
    by_view = {}
    for view, column, _ in columns:
        by_view.setdefault(view, set()).add(column)
    for view in (
        "district_progress",
        "identifications",
        "sampling_worklist",
        "search_sites",
        "village_coverage",
    ):
        assert {"district_code", "district"} <= by_view[view], view
    assert {"remains_id", "relative_id"} <= by_view["mtdna_profiles"]
    page = (province.pages / DICTIONARY_PAGE).read_text(encoding="utf-8")
    assert all(f"analyst.{v}" in page for v in views)


def test_identification_checks_find_what_they_forbid(tmp_path):
    import duckdb

    from resources.sql import sql_text

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.identifications AS SELECT * FROM (VALUES "
        "('R1', 'M1', 'proposed'), ('R2', 'M1', 'proposed'), ('R3', 'M2', 'needs_review'), "
        "('R3', 'M3', 'needs_review'), ('R4', 'M4', 'proposed'), ('R5', 'M5', 'confirmed')) "
        "t(remains_id, martyr_id, status)"
    )
    con.execute(
        "CREATE TABLE marts.match_candidates AS SELECT * FROM (VALUES "
        "('R1', 'M1', 'cannot_exclude'), ('R2', 'M1', 'cannot_exclude'), ('R4', 'M4', 'inconclusive')) "
        "t(remains_id, martyr_id, verdict)"
    )
    found = {
        name: con.execute(sql_text("checks", name)).fetchall()
        for name in (
            "identifications_one_martyr_per_remains",
            "identifications_one_remains_per_martyr",
            "identifications_proposed_cannot_exclude",
        )
    }
    assert [r[0] for r in found["identifications_one_martyr_per_remains"]] == ["R3"]
    assert [r[0] for r in found["identifications_one_remains_per_martyr"]] == ["M1"]
    # a council-confirmed pair has no comparison (it left the candidate pools): not a violation
    assert [r[:2] for r in found["identifications_proposed_cannot_exclude"]] == [("R4", "M4")]
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.martyrs AS SELECT * FROM (VALUES "
        "('M1', 'A', 1950, DATE '1970-01-01', '30898', '905'), "
        "('M2', 'B', 1950, DATE '1940-01-01', NULL, NULL), "
        "('M3', NULL, 1950, NULL, NULL, NULL), ('M3', 'C', 1950, NULL, NULL, NULL)) "
        "t(martyr_id, full_name, birth_year, death_date, hometown_commune_code, hometown_district_code)"
    )
    problems = {r[0]: r[-1] for r in con.execute(sql_text("checks", "martyrs_records_sound")).fetchall()}
    assert problems == {"M2": "died before birth", "M3": "martyr id not unique"}


def test_reports_and_exports_are_readable_by_the_province(province):
    for path in [province.pages / REPORT_FILE, *sorted((province.pages / EXPORT_DIR).rglob("*"))]:
        assert path.stat().st_mode & 0o777 == (0o755 if path.is_dir() else 0o644), path


def test_national_export_is_checksummed_and_carries_no_personal_identifier(province):
    folder = province.pages / EXPORT_DIR / NATIONAL_DIR
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "lietsi.national_export" and manifest["version"] == "1"
    assert manifest["province_code"] == province_codes()[manifest["province"]]
    assert set(manifest["files"]) == {"martyrs.csv", "references.csv", "remains.csv"}
    text = ""
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        frame = pl.read_csv(data, infer_schema=False)
        assert frame.height == entry["rows"]
        names = [c for c in frame.columns if c.endswith("_name")]
        assert not [c for c in frame.columns if is_personal(c)]
        assert names == (["full_name"] if name == "martyrs.csv" else [])  # the martyr's own name only
        text += data.decode("utf-8")
    assert (
        manifest["files"]["martyrs.csv"]["rows"]
        == province.warehouse.query("SELECT count(*) FROM core.martyrs").item()
    )
    relatives = province.warehouse.query(
        "SELECT citizen_id_hash, phone_hash, relative_id, consent FROM core.relatives"
    )
    keys = [k for c in ("citizen_id_hash", "phone_hash", "relative_id") for k in relatives[c].drop_nulls()]
    assert keys and not [k for k in keys if k in text]
    references = pl.read_csv(folder / "references.csv", infer_schema=False)
    consenting = province.warehouse.query(
        "SELECT p.sample_id FROM marts.mtdna_profiles p JOIN core.relatives r USING (relative_id) "
        "WHERE r.consent = 'Có'"
    )["sample_id"]
    assert references.height > 0 and set(references["sample_id"]) <= set(consenting)


def test_the_national_export_refuses_a_personal_column(tmp_path):
    frames = {
        "export_national_martyrs": pl.DataFrame({"martyr_id": ["LS-1"], "mother_name": ["Lê Thị A"]}),
        "export_national_references": pl.DataFrame({"sample_id": ["S1"]}),
        "export_national_remains": pl.DataFrame({"remains_id": ["HC1"]}),
    }
    with pytest.raises(ValueError, match="mother_name"):
        write_national_export(tmp_path, frames.__getitem__, "Kiên Giang")
    assert not list(tmp_path.iterdir())


def test_a_province_with_only_cemeteries_still_sends_its_remains(tmp_path):
    remains = pl.DataFrame(
        {"remains_id": ["HC1"], "haplotype": ["16223T"], "artefacts": ["võng, gọi 0912 345 678"]}
    )

    def run(name: str) -> pl.DataFrame | str:
        return remains if name == "export_national_remains" else "waiting for core.relatives"

    written, waiting = write_national_export(tmp_path, run, "Quảng Trị")
    assert written == {"remains": 1} and set(waiting) == {"martyrs", "references"}
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["province"] == "Quảng Trị" and manifest["province_code"] == "45"
    assert set(manifest["files"]) == {"remains.csv"} and manifest["waiting"]["martyrs"].startswith("waiting")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "remains.csv"]
    sent = pl.read_csv(tmp_path / "remains.csv", infer_schema=False)
    assert sent["artefacts"].to_list() == [f"võng, gọi {REMOVED_IDENTIFIER}"]  # a typed phone stays home
    assert write_national_export(tmp_path / "none", lambda name: "waiting for raw", "Quảng Trị") == (
        {},
        {n: "waiting for raw" for n in ("martyrs", "references", "remains")},
    )
    assert not (tmp_path / "none").exists()
