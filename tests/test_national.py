"""The national run (issue 18, docs/national.md) on small hand-made province exports written with the
province's own writer: a remains in Quảng Trị's cemetery named as Nghệ An's martyr, refusals that
cost only themselves, hostile names, the return path and the province reading it back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_folder
from lietsi.matching.evidence import EvidenceSettings
from lietsi.matching.geography import MILITARY_REGIONS, military_region
from lietsi.matching.pool import build_pool
from lietsi.matching.scoring import unit_area_evidence
from lietsi.national.country import (
    adapt,
    match_country,
    national_settings,
    prepare_country,
    read_exports,
    search,
    weigh,
)
from lietsi.national.formats import RETURN_DIR, RETURN_FILE
from lietsi.national.listing import _best_pairs, _reference_sets
from lietsi.ops.national_candidates import national_candidates, national_candidates_page
from lietsi.ops.national_export import write_national_export
from lietsi.ops.national_returns import write_returns
from lietsi.ops.pages import Footer
from lietsi.schema import QUOC_GIA, is_personal

RANGE = "16024-16569,1-576"
# The haplotype shared by Nghệ An's martyr's mother line and the remains in Quảng Trị.
SHARED = "73G 150T 263G 315.1C 16129A 16223T 16290T 16319A"
PHONE = "0912 345 678"


def _haplotype(i: int) -> str:
    """Distinct background lines: two sites from a grid far from the shared profile's."""
    return f"73G 263G 315.1C {16100 + i % 40}C {16400 + i // 40}G"


def _martyr(mid: str, name: str, province: str, death_place: str, **extra: object) -> dict:
    return {
        "martyr_id": mid, "full_name": name, "sex": "Nam", "birth_year": 1950,
        "hometown_commune_code": None, "hometown_district_code": None, "hometown_province_code": None,
        "hometown_province": province, "unit": "Trung đoàn 27", "death_date": "1972-07-15",
        "death_date_precision": "day", "death_place": death_place, "cemetery": None,
        "grave_status": "Chưa xác định", "hometown_commune": None, "hometown_district": None, "aliases": "",
    } | extra  # fmt: skip


def _remains(
    rid: str,
    haplotype: str | None,
    cemetery: str,
    place: str,
    artefacts: str = "",
    confirmed: str | None = None,
) -> dict:
    return {
        "remains_id": rid, "sample_id": f"M{rid}" if haplotype else None,
        "range": RANGE if haplotype else None,
        "haplotype": haplotype, "haplogroup": None, "cemetery": cemetery, "recovery_date": "1998-04-02",
        "recovery_date_precision": "day", "recovery_place": place, "lat": None, "lon": None,
        "artefacts": artefacts, "est_sex": "Nam", "est_age": "20-25",
        "council_confirmed_martyr_id": confirmed,
    }  # fmt: skip


def _write(
    folder: Path, province: str, martyrs: list[dict], references: list[dict], remains: list[dict]
) -> None:
    frames = {
        "export_national_martyrs": pl.DataFrame(martyrs),
        "export_national_references": pl.DataFrame(references)
        if references
        else "waiting for core.relatives",
        "export_national_remains": pl.DataFrame(remains) if remains else "waiting for raw.hai_cot",
    }
    write_national_export(folder, frames.__getitem__, province)


def _country(inbox: Path) -> None:
    """Quảng Trị (45): cemeteries, few families. Nghệ An (40): families, no cemetery. Tây Ninh (72):
    both. Nghệ An's martyr LS-NA-1 fell in Hải Lăng; his mother's line matches remains HC-QT-1."""
    lines = 60  # Nghệ An's background lines: the frequency database of the country
    _write(
        inbox / "nghe_an",
        "Nghệ An",
        [_martyr("LS-NA-1", "Nguyễn Văn Sáu", "Nghệ An", "Hải Lăng, Quảng Trị")]
        + [_martyr(f"LS-NA-{i}", f"Trần Văn B{i}", "Nghệ An", "Quảng Trị") for i in range(2, lines + 2)],
        [{"sample_id": "MTN-1", "maternal_line_id": "ML-1", "martyr_ids": ["LS-NA-1"], "range": RANGE,
          "haplotype": SHARED, "haplogroup": "M7b1a1"}]
        + [{"sample_id": f"MTN-{i}", "maternal_line_id": f"ML-{i}", "martyr_ids": [f"LS-NA-{i}"],
            "range": RANGE, "haplotype": _haplotype(i), "haplogroup": None} for i in range(2, lines + 2)],
        [],
    )  # fmt: skip
    _write(
        inbox / "quang_tri",
        "Quảng Trị",
        [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")],
        [{"sample_id": "MTN-1", "maternal_line_id": "ML-1", "martyr_ids": ["LS-QT-1"], "range": RANGE,
          "haplotype": _haplotype(500), "haplogroup": None}],
        [_remains("HC-QT-1", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "xã Hải Thượng, huyện Hải Lăng",
                  f"võng, gọi {PHONE}"),
         _remains("HC-QT-2", _haplotype(900), "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng"),
         _remains("HC-QT-3", None, "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng")],
    )  # fmt: skip
    _write(
        inbox / "tay_ninh",
        "Tây Ninh",
        [_martyr("LS-TN-1", "Phạm Văn Bảy", "Tây Ninh", "Campuchia")],
        [{"sample_id": "MTN-1", "maternal_line_id": "ML-1", "martyr_ids": ["LS-TN-1"], "range": RANGE,
          "haplotype": _haplotype(700), "haplogroup": None}],
        [_remains("HC-TN-1", _haplotype(701), "Nghĩa trang liệt sĩ Tây Ninh", "Tân Biên, Tây Ninh")],
    )  # fmt: skip


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory):
    inbox = tmp_path_factory.mktemp("national") / "inbox"
    _country(inbox)
    exports = read_exports(inbox)
    return inbox, exports, match_country(exports)


def test_the_manifest_names_the_province_by_its_official_code(country):
    inbox, exports, _ = country
    manifest = json.loads((inbox / "quang_tri" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["province_code"] == "45" and manifest["version"] == "1"
    assert dict(exports.provinces.select("province_code", "province").iter_rows()) == {
        "40": "Nghệ An", "45": "Quảng Trị", "72": "Tây Ninh",
    }  # fmt: skip
    assert exports.quarantine.is_empty()
    assert exports.martyrs["national_martyr_id"].to_list()[:2] == ["40:LS-NA-1", "40:LS-NA-2"]


def test_a_remains_in_one_province_is_named_as_another_provinces_martyr(country):
    _, _, run = country
    named = run.identifications.filter(pl.col("national_remains_id") == "45:HC-QT-1").row(0, named=True)
    assert named["national_martyr_id"] == "40:LS-NA-1" and named["martyr_name"] == "Nguyễn Văn Sáu"
    assert named["remains_province_code"] == "45" and named["martyr_province_code"] == "40"
    assert named["out_of_province"] and named["status"] in ("proposed", "needs_review")
    # Quảng Trị's own martyr with the same sample id is another person: ids are province-qualified.
    pair = run.candidates.filter(pl.col("national_remains_id") == "45:HC-QT-1")
    assert pair["national_martyr_id"].to_list() == ["40:LS-NA-1"]
    assert pair["reference_sample_id"].to_list() == ["40:MTN-1"]
    # The place of death (Hải Lăng, Quảng Trị, written by Nghệ An) is compared with the recovery place
    # in Quảng Trị (which names no province: the adapter writes it out) at district level.
    place = next(f for f in json.loads(pair["factors"][0]) if f["factor"] == "place")
    assert place["level"] == "district" and place["category"] == "district"
    assert place["lr"] > 1


def test_the_pool_is_every_missing_martyr_of_every_province(country):
    _, exports, run = country
    frames = adapt(exports)
    assert frames.here == {"Quảng Trị", "Tây Ninh"}  # Nghệ An sent families, no cemetery
    outcomes = run.result.martyr_outcomes
    assert outcomes.height == exports.martyrs.height
    assert set(outcomes["martyr_id"].str.slice(0, 3)) == {"40:", "45:", "72:"}


def test_a_pair_the_province_council_confirmed_is_settled_nationally(tmp_path):
    _country(tmp_path / "inbox")
    _write(
        tmp_path / "inbox" / "quang_tri",
        "Quảng Trị",
        [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")],
        [],
        [_remains("HC-QT-1", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng"),
         _remains("HC-QT-2", _haplotype(900), "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng",
                  confirmed="LS-QT-1")],
    )  # fmt: skip
    run = match_country(read_exports(tmp_path / "inbox"))
    assert "45:LS-QT-1" not in run.result.martyr_outcomes["martyr_id"].to_list()  # no longer missing
    assert "45:HC-QT-2" not in run.result.remains_profiles["remains_id"].to_list()  # not matched again
    assert run.identifications["national_remains_id"].to_list() == ["45:HC-QT-1"]


def test_a_pair_the_province_council_rejected_is_no_national_candidate(tmp_path):
    """Quảng Trị's own martyr shares the remains' haplotype; its council rejected that pair."""
    _country(tmp_path / "inbox")

    def quang_tri(rejected: list[str]) -> set[str]:
        _write(
            tmp_path / "inbox" / "quang_tri",
            "Quảng Trị",
            [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")],
            [{"sample_id": "MTN-1", "maternal_line_id": "ML-1", "martyr_ids": ["LS-QT-1"], "range": RANGE,
              "haplotype": SHARED, "haplogroup": None}],
            [_remains("HC-QT-1", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng")
             | {"council_rejected_martyr_ids": rejected}],
        )  # fmt: skip
        run = match_country(read_exports(tmp_path / "inbox"))
        return set(run.candidates.filter(pl.col("national_remains_id") == "45:HC-QT-1")["national_martyr_id"])

    assert quang_tri([]) == {"40:LS-NA-1", "45:LS-QT-1"}
    assert quang_tri(["LS-QT-1", "LS-QT-7"]) == {"40:LS-NA-1"}


def test_a_units_area_is_counted_by_military_region_over_the_country():
    """A martyr recorded as fallen on a front: his division's other dead fell in Huế, so remains in a
    Quảng Trị cemetery (same region, Quân khu 4) fit where his unit fought; by province they do not."""
    martyrs = pl.DataFrame(
        {
            "martyr_id": ["A", "B", "C", "D", "E"],
            "full_name": ["Lê Văn A", "Lê Văn B", "Lê Văn C", "Lê Văn D", "Lê Văn E"],
            "death_place": [
                "Mặt trận Trị Thiên",
                "Phong Điền, Huế",
                "Hương Trà, Huế",
                "Tây Ninh",
                "Tây Ninh",
            ],
            "unit": ["Sư đoàn 324"] * 3 + ["Sư đoàn 5"] * 2,
            "grave_status": ["Chưa xác định"] * 5,
            "hometown_commune": [None] * 5,
        }
    )
    _, pool = build_pool(martyrs)
    remains, martyr = {"cemetery_province": "Quảng Trị"}, {"martyr_id": "A", "unit": "Sư đoàn 324"}
    by_province = unit_area_evidence(remains, martyr, pool, EvidenceSettings(), None)
    by_region = unit_area_evidence(remains, martyr, pool, national_settings().evidence, None)
    assert by_region.lr == pytest.approx((2 + 0.5) / 3 / 0.5, rel=1e-3) and by_province.lr <= 1
    assert "Quân khu 4" in by_region.why[0]["params"].values()
    assert military_region("Quảng Trị") == military_region("Huế") != military_region("Tây Ninh")
    assert len({p for ps in MILITARY_REGIONS.values() for p in ps} - {"Campuchia"}) == 63


def test_a_tampered_file_is_refused_and_the_rest_runs(tmp_path):
    inbox = tmp_path / "inbox"
    _country(inbox)
    remains = inbox / "tay_ninh" / "remains.csv"
    remains.write_bytes(remains.read_bytes().replace(b"HC-TN-1", b"HC-TN-9"))
    exports = read_exports(inbox)
    refused = exports.quarantine.filter(pl.col("province_code") == "72")
    assert refused.select("file", "rows").rows() == [("remains.csv", 1)]
    assert "SHA-256 differs" in refused["reason"][0]
    assert "72:LS-TN-1" in exports.martyrs["national_martyr_id"].to_list()  # the rest of Tây Ninh runs
    assert not exports.remains.filter(pl.col("province_code") == "72").height
    files = exports.files
    assert (files["rows_read"] == files["rows_kept"] + files["rows_quarantined"]).all()
    run = match_country(exports)
    assert run.identifications.filter(pl.col("national_remains_id") == "45:HC-QT-1")["national_martyr_id"][
        0
    ] == ("40:LS-NA-1")


def test_a_symbolic_link_is_not_followed_even_to_the_right_bytes(tmp_path):
    """Tây Ninh's remains.csv replaced by a link to a file with the very bytes the manifest vouches
    for (it could point anywhere on the machine): refused, and the rest of Tây Ninh runs."""
    inbox = tmp_path / "inbox"
    _country(inbox)
    remains = inbox / "tay_ninh" / "remains.csv"
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(remains.read_bytes())
    remains.unlink()
    remains.symlink_to(elsewhere)
    exports = read_exports(inbox)
    refused = exports.quarantine.filter(pl.col("province_code") == "72")
    assert refused.select("file", "rows").rows() == [("remains.csv", 1)]
    assert "symbolic link" in refused["reason"][0]
    assert "72:LS-TN-1" in exports.martyrs["national_martyr_id"].to_list()
    assert not exports.remains.filter(pl.col("province_code") == "72").height


def test_hostile_folders_manifests_and_rows_cost_only_themselves(tmp_path):
    inbox = tmp_path / "inbox"
    _country(inbox)
    hostile = inbox / "<img src=x onerror=alert(1)>\x1b[31m\u202e"
    (inbox / "quang_tri").rename(hostile)
    manifest = json.loads((hostile / "manifest.json").read_text(encoding="utf-8"))
    manifest["province"] = "Quảng Trị<img src=x onerror=alert(1)>"
    manifest["files"]["../../../etc/passwd"] = {"rows": 3, "sha256": "0" * 64}
    (hostile / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    # A row without its id and a repeated id, in a file whose checksum is then stated anew.
    martyrs = inbox / "tay_ninh" / "martyrs.csv"
    data = martyrs.read_bytes()
    row = data.splitlines()[1]
    data = data + row + b"\r\n" + row.replace(b"LS-TN-1", b"", 1) + b"\r\n"
    martyrs.write_bytes(data)
    tay_ninh = json.loads((inbox / "tay_ninh" / "manifest.json").read_text(encoding="utf-8"))
    tay_ninh["files"]["martyrs.csv"] = {"rows": 3, "sha256": __import__("hashlib").sha256(data).hexdigest()}
    (inbox / "tay_ninh" / "manifest.json").write_text(json.dumps(tay_ninh), encoding="utf-8")
    for name, change in (("version", {"version": "2"}), ("code", {"province_code": "../99"}),
                         ("format", {"format": "<b>other</b>"})):  # fmt: skip
        folder = inbox / f"bad_{name}"
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps(manifest | change), encoding="utf-8")
    (inbox / "not_json").mkdir()
    (inbox / "not_json" / "manifest.json").write_bytes(b"\xff\xfe{")

    exports = read_exports(inbox)
    assert sorted(exports.provinces["province_code"]) == ["40", "45", "72"]
    qt = exports.provinces.filter(pl.col("province_code") == "45").row(0, named=True)
    assert qt["province"] == "Quảng Trị"  # the official name, not the manifest's text
    assert not {"\x1b", "\u202e"} & set(qt["folder"]) and qt["folder"].startswith("<img src=x")
    reasons = exports.quarantine.select("folder", "file", "row_number", "reason").rows()
    by_folder = {f: r for f, _, _, r in reasons}
    assert "major version 1" in by_folder["bad_version"]
    assert "no official two-digit province code" in by_folder["bad_code"]
    assert "is not 'lietsi.national_export'" in by_folder["bad_format"]
    assert "unreadable" in by_folder["not_json"]
    assert any(f.endswith("passwd") and "not a file of the export format" in r for _, f, _, r in reasons)
    rows = {(n, r) for f, file, n, r in reasons if file == "martyrs.csv"}
    assert rows == {(2, "row refused: martyr_id repeated: the first row is kept"),
                    (3, "row refused: martyr_id: a value is blank")}  # fmt: skip
    assert exports.martyrs.filter(pl.col("province_code") == "72").height == 1
    # Every row is accounted for; the remains of the hostile folder's province are matched as before.
    files = exports.files
    assert (files["rows_read"] == files["rows_kept"] + files["rows_quarantined"]).all()
    assert match_country(exports).identifications["national_remains_id"].to_list()[:1] == ["45:HC-QT-1"]


def test_an_empty_inbox_or_a_country_without_cemeteries_runs_to_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    for inbox in (tmp_path / "empty", tmp_path / "missing"):
        run = match_country(read_exports(inbox))
        assert run.identifications.is_empty() and run.candidates.is_empty()
    _country(tmp_path / "inbox")
    for folder in ("quang_tri", "tay_ninh"):
        shutil.rmtree(tmp_path / "inbox" / folder)
    run = match_country(read_exports(tmp_path / "inbox"))  # Nghệ An's families, nobody's remains
    assert run.identifications.is_empty() and run.result.martyr_outcomes.height == 61


def test_two_different_exports_of_one_province_are_both_refused(tmp_path):
    inbox = tmp_path / "inbox"
    _country(inbox)
    again = inbox / "quang_tri_again"
    _write(again, "Quảng Trị", [_martyr("LS-QT-9", "Lê Văn Chín", "Quảng Trị", "Gio Linh")], [], [])
    exports = read_exports(inbox)
    assert "45" not in exports.provinces["province_code"].to_list()
    assert (
        exports.quarantine.filter(pl.col("province_code") == "45")["reason"].str.contains("2 different").all()
    )


def test_each_province_gets_back_only_its_rows(country, tmp_path):
    _, exports, run = country
    written = write_returns(tmp_path, run.identifications, exports.provinces["province_code"].to_list())
    assert written["province_code"].to_list() == ["40", "45", "72"]
    headers = {f.column: f.header for f in QUOC_GIA.fields}
    for code, rows, sha, path in written.iter_rows():
        folder = tmp_path / path
        assert folder == tmp_path / RETURN_DIR / code / "quoc_gia"
        sent = pl.read_csv(folder / RETURN_FILE, infer_schema=False)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["files"][RETURN_FILE] == {"rows": rows, "sha256": sha} and sent.height == rows
        mine = (sent[headers["remains_province_code"]] == code) | (
            sent[headers["martyr_province_code"]] == code
        )
        assert mine.all()
    nghe_an = pl.read_csv(tmp_path / RETURN_DIR / "40" / "quoc_gia" / RETURN_FILE, infer_schema=False)
    assert nghe_an[headers["remains_id"]].to_list() == ["HC-QT-1"]
    assert nghe_an[headers["martyr_id"]].to_list() == ["LS-NA-1"]
    assert nghe_an[headers["cemetery"]].to_list() == ["Nghĩa trang liệt sĩ Hải Lăng"]
    tay_ninh = pl.read_csv(tmp_path / RETURN_DIR / "72" / "quoc_gia" / RETURN_FILE, infer_schema=False)
    assert not tay_ninh.filter(pl.col(headers["remains_province_code"]) != "72").height


def test_no_personal_identifier_in_national_outputs(country, tmp_path):
    _, exports, run = country
    write_returns(tmp_path, run.identifications, exports.provinces["province_code"].to_list())
    frames = [exports.martyrs, exports.references, exports.remains, run.candidates, run.identifications]
    assert not [c for f in frames for c in f.columns if is_personal(c) or c in ("mother_name", "father_name")]
    text = "".join(f.write_csv() for f in frames) + "".join(
        p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()
    )
    assert "võng" in text and PHONE not in text and not re.search(r"\b0\d{9}\b", text.replace(" ", ""))


def _province_reads(tmp_path: Path, folder: Path | None) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """What the province run does with inbox/quoc_gia/: ingest, then marts.national_candidates."""
    inbox = tmp_path / "province_inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    if folder is not None:
        shutil.copytree(folder, inbox / "quoc_gia")
    raw, quarantine, _ = batches_to_frames(read_folder(inbox / "quoc_gia", QUOC_GIA, b"k"), QUOC_GIA)
    hai_cot = pl.DataFrame({"remains_id": ["HC-QT-1", "HC-QT-2", "HC-QT-3"]})
    martyrs = pl.DataFrame({"martyr_id": ["LS-QT-1"]})
    candidates, _ = national_candidates(raw, hai_cot, martyrs)
    page = national_candidates_page(candidates, Footer("Quảng Trị", "run-1"))
    return candidates, quarantine, page


def test_a_province_reads_its_national_candidates_or_runs_without_them(country, tmp_path):
    run = country[2]
    # A martyr's name as hostile as any: the council's page shows it as text.
    ids = run.identifications.with_columns(martyr_name=pl.lit("<script>alert(1)</script>"))
    write_returns(tmp_path / "out", ids, ["45"])
    candidates, quarantine, page = _province_reads(
        tmp_path / "with", tmp_path / "out" / RETURN_DIR / "45" / "quoc_gia"
    )
    assert quarantine.is_empty()
    row = candidates.filter(pl.col("remains_id") == "HC-QT-1").row(0, named=True)
    assert (
        row["side"] == "remains_here"
        and row["martyr_id"] == "LS-NA-1"
        and row["martyr_province_code"] == "40"
    )
    assert row["status"] in ("proposed", "needs_review") and 0 < row["posterior"] <= 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Hài cốt tại nghĩa trang của tỉnh" in page

    none, quarantine, page = _province_reads(tmp_path / "without", None)
    assert none.is_empty() and quarantine.is_empty() and 'id="none"' in page


def test_a_changed_return_file_is_refused_by_the_province(country, tmp_path):
    run = country[2]
    write_returns(tmp_path / "out", run.identifications, ["45"])
    folder = tmp_path / "out" / RETURN_DIR / "45" / "quoc_gia"
    sent = folder / RETURN_FILE
    sent.write_bytes(sent.read_bytes().replace(b"LS-NA-1", b"LS-NA-2"))
    candidates, quarantine, _ = _province_reads(tmp_path, folder)
    assert candidates.is_empty()
    assert quarantine["reason"].str.contains("SHA-256 differs").all() and quarantine.height == 1


def test_the_national_job_runs_and_its_checks_pass(tmp_path):
    from pipelines.national import defs, summary_tables
    from resources import NationalSettingsResource, WarehouseIOManager, WarehouseResource

    _country(tmp_path / "inbox")
    (tmp_path / "inbox" / "tay_ninh" / "remains.csv").write_bytes(b"tampered")
    # Not `national.duckdb`: a database named like its `national` schema makes DuckDB's names ambiguous.
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    resources = {
        "warehouse": warehouse,
        "national": NationalSettingsResource(
            inbox_dir=str(tmp_path / "inbox"), out_dir=str(tmp_path / "out")
        ),
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }
    result = defs.resolve_job_def("national_job").execute_in_process(
        resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"row_accounting": True, "one_to_one": True, "only_own_rows": True}
    tables = summary_tables(warehouse)
    assert tables["refused"]["file"].to_list() == ["remains.csv"]
    assert sorted(p.name for p in (tmp_path / "out" / RETURN_DIR).iterdir()) == ["40", "45", "72"]


@pytest.mark.parametrize("with_folder", [True, False], ids=["with quoc_gia", "without quoc_gia"])
def test_the_province_assets_read_quoc_gia_or_run_without_it(country, workspace, tmp_path, with_folder):
    """The province's own assets: ingest of inbox/quoc_gia/ with its blocking checks, then
    marts.national_candidates and the council's page; an absent folder fails nothing."""
    from assets.ingest import build_ingest_asset, build_raw_checks
    from assets.national_candidates import national_candidates_asset

    if with_folder:
        write_returns(tmp_path / "national", country[2].identifications, ["45"])
        shutil.copytree(
            tmp_path / "national" / RETURN_DIR / "45" / "quoc_gia", tmp_path / "inbox" / "quoc_gia"
        )

    @dg.multi_asset(
        outs={"hai_cot": dg.AssetOut(key=["raw", "hai_cot"]), "martyrs": dg.AssetOut(key=["core", "martyrs"])}
    )
    def province_stub():
        yield dg.Output(pl.DataFrame({"remains_id": ["HC-QT-1", "HC-QT-2"]}), output_name="hai_cot")
        yield dg.Output(
            pl.DataFrame({"martyr_id": ["LS-QT-1"], "hometown_province": ["Quảng Trị"]}),
            output_name="martyrs",
        )

    result = dg.materialize(
        [province_stub, build_ingest_asset(QUOC_GIA), *build_raw_checks(QUOC_GIA), national_candidates_asset],
        resources=workspace,
    )
    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "expectations": True, "row_accounting": True,
    }  # fmt: skip
    table = workspace["warehouse"].query("SELECT * FROM marts.national_candidates")
    pages = list((tmp_path / "out" / "runs").rglob("quoc_gia/index.html"))
    assert len(pages) == 1
    if with_folder:
        assert table.filter(pl.col("side") == "remains_here")["martyr_id"].to_list() == ["LS-NA-1"]
        assert "Nguyễn Văn Sáu" in pages[0].read_text(encoding="utf-8")
    else:
        assert table.is_empty() and 'id="none"' in pages[0].read_text(encoding="utf-8")


def test_a_cross_province_confirmation_settles_the_pair_and_reaches_the_martyrs_province(tmp_path):
    """Quảng Trị's council confirmed remains HC-QT-1 as Nghệ An's martyr 40:LS-NA-1 (the id its
    national candidates page shows); the national run no longer matches either, and Nghệ An's
    return carries the confirmation, which Nghệ An's run reads as its martyr's."""
    _country(tmp_path / "inbox")
    _write(
        tmp_path / "inbox" / "quang_tri",
        "Quảng Trị",
        [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")],
        [],
        [_remains("HC-QT-1", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng",
                  confirmed="40:LS-NA-1")],
    )  # fmt: skip
    exports = read_exports(tmp_path / "inbox")
    run = match_country(exports)
    assert "40:LS-NA-1" not in run.result.martyr_outcomes["martyr_id"].to_list()
    assert "45:HC-QT-1" not in run.result.remains_profiles["remains_id"].to_list()
    row = run.identifications.filter(pl.col("national_remains_id") == "45:HC-QT-1").row(0, named=True)
    assert (row["national_martyr_id"], row["status"], row["martyr_name"]) == (
        "40:LS-NA-1", "confirmed", "Nguyễn Văn Sáu",
    )  # fmt: skip
    assert "45" in row["reasons"] and "council.confirmed_where_remains_lie" in row["reason_codes"]
    write_returns(tmp_path / "out", run.identifications, exports.provinces["province_code"].to_list())
    raw, quarantine, _ = batches_to_frames(
        read_folder(tmp_path / "out" / RETURN_DIR / "40" / "quoc_gia", QUOC_GIA, b"k"), QUOC_GIA
    )
    assert quarantine.is_empty()
    candidates, _ = national_candidates(
        raw, pl.DataFrame({"remains_id": ["X"]}), pl.DataFrame({"martyr_id": ["LS-NA-1"]})
    )
    assert candidates.select("side", "status", "remains_id").rows() == [
        ("martyr_here", "confirmed", "HC-QT-1")
    ]


def test_a_profile_identical_to_rcrs_on_its_range_is_read_and_compared(tmp_path):
    """A reference and a remains with no difference from rCRS on the range read: an empty haplotype
    cell, which is a profile, not a blank (it was refused as one)."""
    _country(tmp_path / "inbox")
    na = tmp_path / "inbox" / "nghe_an"
    martyrs = pl.read_csv(na / "martyrs.csv", infer_schema=False).rename(lambda c: c.lstrip("\ufeff"))
    references = pl.read_csv(na / "references.csv", infer_schema=False).rename(lambda c: c.lstrip("\ufeff"))
    rcrs_ref = {"sample_id": "MTN-R", "maternal_line_id": "ML-R", "martyr_ids": ["LS-NA-R"], "range": RANGE,
                "haplotype": "", "haplogroup": "H2a2a1"}  # fmt: skip
    _write(
        na,
        "Nghệ An",
        [*martyrs.to_dicts(), _martyr("LS-NA-R", "Hồ Văn R", "Nghệ An", "Quảng Trị")],
        [*references.with_columns(pl.col("martyr_ids").str.split(";")).to_dicts(), rcrs_ref],
        [],
    )
    remains = _remains("HC-QT-R", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "huyện Hải Lăng")
    remains["haplotype"] = ""
    qt = [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")]
    _write(tmp_path / "inbox" / "quang_tri", "Quảng Trị", qt, [], [remains])
    exports = read_exports(tmp_path / "inbox")
    assert exports.quarantine.is_empty()
    assert exports.references.filter(pl.col("sample_id") == "MTN-R")["haplotype"].to_list() == [""]
    run = match_country(exports)
    pairs = run.candidates.filter(pl.col("national_remains_id") == "45:HC-QT-R")
    assert pairs["national_martyr_id"].to_list() == ["40:LS-NA-R"]
    assert pairs["differences"].to_list() == [0]


def _shared_line_families(
    inbox: Path, far: list[dict], background: list[dict] | None = None, more_references: tuple[dict, ...] = ()
) -> None:
    """The country of `_country`, with Nghệ An's LS-NA-1 (fell in Hải Lăng) and the martyrs `far`
    all on the haplotype of remains HC-QT-1, and `background` (LS-NA-2 to LS-NA-61; by default dead
    in Quảng Trị) on lines of their own: the country's frequency database."""
    _country(inbox)
    background = background or [
        _martyr(f"LS-NA-{i}", f"Trần Văn B{i}", "Nghệ An", "Quảng Trị") for i in range(2, 62)
    ]
    _write(
        inbox / "nghe_an",
        "Nghệ An",
        [_martyr("LS-NA-1", "Nguyễn Văn Sáu", "Nghệ An", "Hải Lăng, Quảng Trị"), *far, *background],
        [{"sample_id": f"MTN-{m}", "maternal_line_id": f"ML-{m}", "martyr_ids": [m], "range": RANGE,
          "haplotype": SHARED, "haplogroup": None} for m in ["LS-NA-1", *(f["martyr_id"] for f in far)]]
        + list(more_references)
        + [{"sample_id": f"MTN-{i}", "maternal_line_id": f"ML-{i}", "martyr_ids": [f"LS-NA-{i}"],
            "range": RANGE, "haplotype": _haplotype(i), "haplogroup": None} for i in range(2, 62)],
        [],
    )  # fmt: skip


def test_a_remains_with_many_far_candidates_keeps_its_posterior_when_they_are_summed(tmp_path):
    """Remains HC-QT-1 (Hải Lăng, Quảng Trị) shares its haplotype with Nghệ An's LS-NA-1, who fell in
    Hải Lăng, with 30 more of Nghệ An's martyrs, who fell in Tây Ninh, and with 4 who fell in Gio
    Linh (Quảng Trị, another district). Listing one candidate of each kind per remains lists LS-NA-1
    (he fell in its district) and one of Gio Linh, and sums the other 33 into the remains'
    denominator (`listing`), each with its own place cell: the listed pair's posterior is the one of
    the run that lists every pair (within 1%), and not the one it would have if they were dropped."""
    far = [f"LS-NA-F{i}" for i in range(30)] + [f"LS-NA-G{i}" for i in range(4)]
    died = ["Tân Biên, Tây Ninh"] * 30 + ["Gio Linh, Quảng Trị"] * 4
    # No sex, birth year, date or unit on record: their other factors are 1, as the sums take them.
    blank = {"sex": None, "birth_year": None, "death_date": None, "death_date_precision": None, "unit": None}
    _shared_line_families(
        tmp_path / "inbox",
        [_martyr(m, f"Hoàng Văn {m}", "Nghệ An", fell, **blank) for m, fell in zip(far, died, strict=True)],
    )
    _write(
        tmp_path / "inbox" / "quang_tri",
        "Quảng Trị",
        [_martyr("LS-QT-1", "Lê Văn Một", "Quảng Trị", "Gio Linh, Quảng Trị")],
        [],
        [_remains("HC-QT-1", SHARED, "Nghĩa trang liệt sĩ Hải Lăng", "xã Hải Thượng, huyện Hải Lăng")],
    )  # fmt: skip
    exports = read_exports(tmp_path / "inbox")
    pair = ("45:HC-QT-1", "40:LS-NA-1")

    def posterior(candidates: pl.DataFrame, remains: str = "national_remains_id") -> float:
        martyr = "national_martyr_id" if remains == "national_remains_id" else "martyr_id"
        chosen = (pl.col(remains) == pair[0]) & (pl.col(martyr) == pair[1])
        return candidates.filter(chosen)["posterior"].item()

    every = match_country(exports, national_settings(None)).candidates
    assert every.filter(pl.col("national_remains_id") == pair[0]).height == 35
    settings = national_settings(1)
    frames = adapt(exports)
    prepared = prepare_country(frames, settings)
    pairs, sums = search(prepared, settings, frames.rejected)
    listed = pairs.filter(pl.col("remains_id") == pair[0])["martyr_id"].to_list()
    assert len(listed) == 2 and pair[1] in listed and any(":LS-NA-G" in m for m in listed)
    # The 33 summed: those of Tây Ninh in the `elsewhere` cell, 3 of Gio Linh in `province`.
    assert sums["remains_id"].unique().to_list() == [pair[0]]
    assert set(sums["outcome"]) == {"elsewhere", "province"}
    summed = posterior(weigh(prepared, pairs, settings, sums).scored, "remains_id")
    dropped = posterior(weigh(prepared, pairs, settings).scored, "remains_id")
    # The estimate counts each listed martyr's claims jointly (`mixture.joint_count`, per martyr: not
    # linear), the summed ones at their own mass: the group shares, and so the posterior, differ in
    # the third digit (0.4% here), where the summed candidates left out move it by more than 5%.
    assert summed == pytest.approx(posterior(every), rel=0.01)
    assert summed == pytest.approx(posterior(match_country(exports, settings).candidates), rel=1e-12)
    assert dropped > 1.05 * posterior(every)


def test_martyrs_are_taken_by_their_set_of_reference_groups_on_the_pair_with_fewest_differences():
    """Martyrs 0 and 1 have references in profile groups 1 and 2, martyr 2 in group 1 only: 0 and 1
    form one set. Remains group 0 differs by one from group 1 and not at all from group 2: the set's
    pair is group 2's; remains group 1 matches both with no difference: the first group's."""
    relatives = pl.DataFrame(
        {"group_b": [1, 2, 2, 1, 1], "relative_id": ["a", "b", "c", "d", "e"], "m": [0, 0, 1, 1, 2]},
        schema={"group_b": pl.UInt32, "relative_id": pl.String, "m": pl.UInt32},
    )
    lrs = pl.DataFrame(
        {"group_a": [0, 0, 1, 1], "group_b": [1, 2, 2, 1], "differences": [1, 0, 0, 0],
         "lr_point": [2.0, 5.0, 4.0, 3.0], "lr_bound": [1.0, 2.5, 2.0, 1.5]},
        schema={"group_a": pl.UInt32, "group_b": pl.UInt32, "differences": pl.UInt8, "lr_point": pl.Float64,
                "lr_bound": pl.Float64},
    )  # fmt: skip
    of_set, members = _reference_sets(relatives)
    best = _best_pairs(lrs, members)
    sets = dict(of_set.iter_rows())
    assert sets[0] == sets[1] != sets[2]
    pairs = {(a, s): (point, bound) for a, s, point, bound in best.iter_rows()}
    assert pairs == {
        (0, sets[0]): (5.0, 2.5),
        (0, sets[2]): (2.0, 1.0),
        (1, sets[0]): (3.0, 1.5),
        (1, sets[2]): (3.0, 1.5),
    }


def _far_families(inbox: Path, hv1_donors: bool) -> None:
    """HC-QT-1 (Hải Lăng) shares its haplotype with Nghệ An's LS-NA-1, who fell in Hải Lăng, and with
    20 martyrs who fell in Tây Ninh; `hv1_donors`: each of the 20 families also gave a donor read over
    HV1 only, one difference from the remains there (a second profile group per martyr)."""
    far = [f"LS-NA-F{i}" for i in range(20)]
    blank = {"sex": None, "birth_year": None, "death_date": None, "death_date_precision": None, "unit": None}
    hv1 = "16129A 16223T 16290T 16311C 16319A"
    _shared_line_families(
        inbox,
        [_martyr(m, f"Hoàng Văn {m}", "Nghệ An", "Tân Biên, Tây Ninh", **blank) for m in far],
        more_references=tuple(
            {"sample_id": f"MTN-{m}-HV1", "maternal_line_id": f"ML-{m}", "martyr_ids": [m],
             "range": "16024-16365", "haplotype": hv1, "haplogroup": None} for m in far if hv1_donors
        ),
    )  # fmt: skip


def test_a_martyr_with_references_in_two_profile_groups_is_listed_and_summed_as_with_one(tmp_path):
    """The far families' second donor (HV1 only, one difference) puts each of those martyrs in two
    profile groups; his pair is on the full read (no difference) either way. Listing one candidate
    per remains gives the same listed martyrs and the same sums as the country without those donors,
    and the listed pair the posterior of the run that lists every pair (within 1%)."""
    settings = national_settings(1)
    runs = {}
    for hv1_donors in (False, True):
        inbox = tmp_path / f"hv1-{hv1_donors}"
        _far_families(inbox, hv1_donors)
        exports = read_exports(inbox)
        assert exports.quarantine.is_empty()
        frames = adapt(exports)
        prepared = prepare_country(frames, settings)
        pairs, sums = search(prepared, settings, frames.rejected)
        runs[hv1_donors] = (exports, prepared, pairs, sums)
    (_, _, one_pairs, one_sums), (exports, prepared, pairs, sums) = runs[False], runs[True]
    assert prepared.refs.filter(pl.col("relative_id").str.ends_with("-HV1")).height == 20
    assert pairs.filter(pl.col("remains_id") == "45:HC-QT-1")["martyr_id"].to_list() == ["40:LS-NA-1"]
    assert (
        pairs.select("remains_id", "martyr_id")
        .sort(pl.all())
        .equals(one_pairs.select("remains_id", "martyr_id").sort(pl.all()))
    )
    assert sums.select("remains_id", "prior_group", "table", "outcome").equals(
        one_sums.select("remains_id", "prior_group", "table", "outcome")
    )
    assert sums.filter(pl.col("remains_id") == "45:HC-QT-1")["lr_dna"].sum() > 0
    for column in ("lr_point", "lr_bound", "lr_dna"):
        assert sums[column].to_list() == pytest.approx(one_sums[column].to_list(), rel=1e-12)
    listed = weigh(prepared, pairs, settings, sums).scored
    every = match_country(exports, national_settings(None)).candidates
    assert every.filter(pl.col("national_remains_id") == "45:HC-QT-1").height == 21
    chosen = (pl.col("national_remains_id") == "45:HC-QT-1") & (pl.col("national_martyr_id") == "40:LS-NA-1")
    mine = (pl.col("remains_id") == "45:HC-QT-1") & (pl.col("martyr_id") == "40:LS-NA-1")
    # Within the third digit, not to the bit: the estimate counts each listed martyr's claims jointly,
    # the summed ones at their own mass (`mixture.joint_count`; as in the test above).
    assert listed.filter(mine)["posterior"].item() == pytest.approx(
        every.filter(chosen)["posterior"].item(), rel=0.01
    )


def test_every_candidate_a_rule_looked_at_and_did_not_list_is_summed(tmp_path):
    """HC-QT-1 (Hải Lăng) shares its haplotype with LS-NA-1, who fell there, and with six martyrs
    of Sư đoàn 325 whose records place their death at no province; the division lost its other men
    in Quảng Trị, so the unit-area rule reads all six for a Quảng Trị remains. Listing one of each
    kind lists the strongest far pair and one of the rule's: the other four must be summed into the
    remains' denominator, not dropped (a far sum too small makes every listed posterior too high)."""
    far = [f"LS-NA-F{i}" for i in range(6)]
    blank = {"sex": None, "birth_year": None, "death_date": None, "death_date_precision": None}
    _shared_line_families(
        tmp_path / "inbox",
        [_martyr(m, f"Hoàng Văn {m}", "Nghệ An", "Mặt trận phía Nam", unit="Sư đoàn 325", **blank)
         for m in far],
        [_martyr(f"LS-NA-{i}", f"Trần Văn B{i}", "Nghệ An", "Hải Lăng, Quảng Trị", unit="Sư đoàn 325")
         for i in range(2, 32)]
        + [_martyr(f"LS-NA-{i}", f"Trần Văn B{i}", "Nghệ An", "Tân Biên, Tây Ninh", unit="Sư đoàn 9")
           for i in range(32, 56)]
        + [_martyr(f"LS-NA-{i}", f"Trần Văn B{i}", "Nghệ An", "Mặt trận phía Nam", unit="Sư đoàn 9")
           for i in range(56, 62)],
    )  # fmt: skip
    exports = read_exports(tmp_path / "inbox")
    every = match_country(exports, national_settings(None)).candidates
    far_pairs = every.filter(pl.col("national_martyr_id").is_in([f"40:{m}" for m in far]))
    assert far_pairs.height == 6 and far_pairs["lr_point"].n_unique() == 1
    settings = national_settings(1)
    frames = adapt(exports)
    pairs, sums = search(prepare_country(frames, settings), settings, frames.rejected)
    listed = set(pairs.filter(pl.col("remains_id") == "45:HC-QT-1")["martyr_id"])
    assert len(listed) == 3 and "40:LS-NA-1" in listed  # the strongest far pair and the rule's one
    assert sums["lr_dna"].sum() == pytest.approx(4 * far_pairs["lr_point"][0], rel=1e-9)
