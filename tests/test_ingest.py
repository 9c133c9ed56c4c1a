"""Raw layer: every dirt kind of the input contract, header tolerance and row accounting."""

import json
import unicodedata
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.encodings import to_legacy
from lietsi.ingest.headers import match_headers
from lietsi.ingest.inbox import read_batch, read_folder
from lietsi.privacy import keyed_hash
from lietsi.schema import KET_QUA_ADN, PHIEU_02, REGISTRY

KEY = b"test-key"
HEADER = "Mã hồ sơ,Nguồn,Họ và tên,Năm sinh,Ngày hy sinh,Giới tính"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, source=REGISTRY):
    batch = read_batch(path, source, KEY)
    raw, quarantine, log = batches_to_frames([batch], source)
    assert log["records_read"][0] == raw.height + quarantine.height
    return raw, quarantine, batch


def test_clean_file_types_partial_values(tmp_path):
    raw, quarantine, _ = read(
        write(
            tmp_path / "a.csv",
            f"{HEADER}\nR1,Sở LĐTBXH,Nguyễn Văn Thành,khoảng 1950,3/1972,Nam\n"
            "R2,BCHQS tỉnh,Lê Thị Hoa,1948,,nữ\n",
        )
    )
    assert quarantine.is_empty()
    first = raw.row(0, named=True)
    assert (first["birth_year"], first["birth_year_approx"]) == (1950, True)
    assert str(first["death_date"]) == "1972-03-01" and first["death_date_precision"] == "month"
    assert raw["sex"].to_list() == ["Nam", "Nữ"]
    assert raw["row_number"].to_list() == [1, 2]


@pytest.mark.parametrize("legacy", ["tcvn3", "vni"])
@pytest.mark.parametrize("as_bytes", [True, False], ids=["latin1-bytes", "utf8-rendering"])
def test_legacy_encoded_files_are_converted(tmp_path, legacy, as_bytes):
    text = to_legacy(f"{HEADER}\nR1,Sở LĐTBXH,Nguyễn Văn Thành,1950,12/03/1972,Nam\n", legacy)
    path = write(tmp_path / "legacy.csv", text, "latin-1" if as_bytes else "utf-8")
    raw, quarantine, batch = read(path)
    assert quarantine.is_empty()
    assert raw["full_name"][0] == "Nguyễn Văn Thành"
    assert raw["source_system"][0] == "Sở LĐTBXH"
    assert legacy in batch.encoding


def test_nfd_text_becomes_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", f"{HEADER}\nR1,Sở LĐTBXH,Huỳnh Thị Thủy,1950,,Nữ\n")
    raw, _, _ = read(write(tmp_path / "nfd.csv", nfd))
    assert raw["full_name"][0] == unicodedata.normalize("NFC", "Huỳnh Thị Thủy")


def test_semicolon_bom_and_header_variants(tmp_path):
    text = (
        "\ufeffMA HO SO ; NGUON;HO VA TEN:;nam sinh;Ngay hy sinh;GIOI TINH;Ghi chú\n"
        "R1;X;Trần Văn An;1950;1972;Nam;đã xác minh\n"
    )
    raw, quarantine, batch = read(write(tmp_path / "v.csv", text))
    assert quarantine.is_empty()
    assert raw["full_name"][0] == "Trần Văn An"
    assert batch.delimiter == ";"
    assert json.loads(raw["extra"][0]) == {"Ghi chú": "đã xác minh"}


def test_header_typo_matches_and_missing_required_column_fails_the_batch(tmp_path):
    mapping, _ = match_headers(["Mã hồ sơ", "Họ và tne"], REGISTRY)
    assert {f.column for f in mapping.values()} == {"record_id", "full_name"}
    raw, quarantine, batch = read(write(tmp_path / "bad.csv", "Mã hồ sơ,Năm sinh\nR1,1950\nR2,1951\n"))
    assert batch.status == "failed" and "'Họ và tên'" in batch.message
    assert raw.is_empty()
    assert quarantine["row_number"].to_list() == [1, 2]
    assert quarantine["reason"].str.contains("missing required column").all()


def test_xlsx_with_a_title_row_above_the_header(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH LIỆT SĨ TỈNH KIÊN GIANG"])
    sheet.append([])
    sheet.append(HEADER.split(","))
    sheet.append(["R1", "CSDLQG dân cư", "Phạm Văn Bảy", 1949, "5/1968", "Nam"])
    path = tmp_path / "registry.xlsx"
    book.save(path)
    raw, quarantine, _ = read(path)
    assert quarantine.is_empty()
    assert raw["full_name"].to_list() == ["Phạm Văn Bảy"]
    assert raw["birth_year"].to_list() == [1949]


def test_truncated_duplicate_and_incomplete_rows_are_quarantined_with_reasons(tmp_path):
    text = (
        f"{HEADER}\n"
        "R1,X,Nguyễn Văn A,1950,1972,Nam\n"
        "R1,X,Nguyễn Văn A,1950,1972,Nam\n"
        "R2,X,,1950,1972,Nam\n"
        "R3,X,Lê Văn B,1951,1973,Nam\n"
        "R4,X,Trần Văn"
    )
    raw, quarantine, _ = read(write(tmp_path / "t.csv", text))
    assert raw["record_id"].to_list() == ["R1", "R3"]
    reasons = dict(zip(quarantine["row_number"], quarantine["reason"], strict=True))
    assert reasons[2] == "duplicate of row 1 in the same file"
    assert reasons[3] == "required value missing: full_name"
    assert reasons[5].startswith("truncated row")


def test_malformed_dates_and_years_are_kept_with_warnings(tmp_path):
    raw, quarantine, _ = read(write(tmp_path / "d.csv", f"{HEADER}\nR1,X,Võ Văn C,19xx,32/13/1972,Nam\n"))
    assert quarantine.is_empty()
    row = raw.row(0, named=True)
    assert row["birth_year"] is None and row["death_date"] is None
    assert row["death_date_text"] == "32/13/1972"
    assert "not a date" in row["parse_warnings"] and "not a year" in row["parse_warnings"]


def test_citizen_ids_and_phones_are_only_kept_as_keyed_hashes(tmp_path):
    header = ",".join(f.header for f in PHIEU_02.fields)
    row = [
        "F1",
        "Bình An",
        "1/2024",
        "Nguyễn Văn A",
        "Nam",
        "1950",
        "Bình An",
        "1972",
        "",
        "",
        "",
        "",
        "Nguyễn Thị B",
        "Nữ",
        "1955",
        "91155000123",
        "0912 345 678",
        "Bình An",
        "em gái ruột",
        "Yếu",
        "Có",
    ]
    bad = [*row]
    bad[0], bad[15] = "F2", "0911-ABC"
    raw, quarantine, _ = read(
        write(tmp_path / "p.csv", f"{header}\n{','.join(row)}\n{','.join(bad)}\n"), PHIEU_02
    )
    assert quarantine.is_empty()
    assert raw["citizen_id_hash"][0] == keyed_hash("091155000123", KEY)
    assert raw["citizen_id_valid"].to_list() == [True, False]
    assert raw["citizen_id_hash"][1] is None
    assert raw["phone_hash"][0] == keyed_hash("0912345678", KEY)
    stored = raw.write_csv()
    assert "91155000123" not in stored and "0912 345 678" not in stored and "345678" not in stored


def test_quarantined_rows_never_hold_clear_identifiers(tmp_path):
    header = ",".join(f.header for f in PHIEU_02.fields)
    row = [
        "F1",
        "",
        "",
        "Nguyễn Văn A",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "091155000123",
        "0912345678",
        "",
        "mẹ",
        "",
        "",
    ]
    _, quarantine, _ = read(write(tmp_path / "p.csv", f"{header}\n{','.join(row)}\n"), PHIEU_02)
    assert quarantine["reason"][0] == "required value missing: relative_name"
    assert "091155000123" not in quarantine["raw"][0] and "0912345678" not in quarantine["raw"][0]


def test_binary_junk_fails_only_its_own_batch(tmp_path):
    folder = tmp_path / "registry"
    write(folder / "a_good.csv", f"{HEADER}\nR1,X,Đỗ Văn D,1950,1972,Nam\n")
    (folder / "b_junk.csv").write_bytes(b"\x00\x01\x02PK\x03\x04 not text")
    write(folder / "c_empty.csv", "")
    batches = read_folder(folder, REGISTRY, KEY)
    raw, quarantine, log = batches_to_frames(batches, REGISTRY)
    assert log["status"].to_list() == ["ok", "failed", "ok"]
    assert raw["full_name"].to_list() == ["Đỗ Văn D"]
    assert quarantine["file"].to_list() == ["b_junk.csv"]
    assert quarantine["reason"][0].startswith("batch rejected: binary content")


def test_re_dropped_file_does_not_duplicate_rows(tmp_path):
    folder = tmp_path / "registry"
    text = f"{HEADER}\nR1,X,Đỗ Văn D,1950,1972,Nam\nR2,X,Bùi Thị E,1952,1970,Nữ\n"
    write(folder / "export.csv", text)
    write(folder / "export (1).csv", text)
    raw, quarantine, log = batches_to_frames(read_folder(folder, REGISTRY, KEY), REGISTRY)
    assert raw.height == 2
    assert quarantine.height == 2
    assert set(log["status"]) == {"ok", "duplicate"}


def test_fasta_records_land_with_the_lab_results(tmp_path):
    folder = tmp_path / "ket_qua_adn"
    write(folder / "r.csv", "Mã mẫu,Vùng đọc được,Haplotype,Chất lượng\nS1,16024-16569,16223T,Đạt\n")
    write(folder / "r.fasta", ">S2\nACGT\nACGT\n>S3\nTTTT\n")
    raw, quarantine, _ = batches_to_frames(read_folder(folder, KET_QUA_ADN, KEY), KET_QUA_ADN)
    assert quarantine.is_empty()
    assert raw.select("sample_id", "format", "sequence").rows() == [
        ("S1", "csv", None),
        ("S2", "fasta", "ACGTACGT"),
        ("S3", "fasta", "TTTT"),
    ]


def test_row_accounting_over_a_dirty_folder(tmp_path):
    folder = tmp_path / "registry"
    write(folder / "1.csv", f"{HEADER}\nR1,X,A B,1950,1972,Nam\nR1,X,A B,1950,1972,Nam\nR2,X,,1,2,Nam\nR3,X")
    write(folder / "2.csv", to_legacy(f"{HEADER}\nR9,X,Hồ Văn F,1950,1972,Nam\n", "tcvn3"), "latin-1")
    (folder / "3.csv").write_bytes(b"\x00junk")
    write(folder / "4.csv", "Mã hồ sơ\nR1\nR2\nR3\n")
    raw, quarantine, log = batches_to_frames(read_folder(folder, REGISTRY, KEY), REGISTRY)
    per_file = (
        log.select("file", "records_read")
        .join(raw.group_by("file").len("clean"), on="file", how="left")
        .join(quarantine.group_by("file").len("quarantined"), on="file", how="left")
        .fill_null(0)
    )
    assert (per_file["records_read"] == per_file["clean"] + per_file["quarantined"]).all()
    assert per_file.sort("file")["records_read"].to_list() == [4, 1, 1, 3]
    assert raw.filter(pl.col("file") == "2.csv")["full_name"].to_list() == ["Hồ Văn F"]


def test_xlsx_rows_without_trailing_cells_are_padded_not_truncated(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["R1", "X", "Lý Văn G"])
    sheet.append(["R2", "X", "Ngô Thị H", 1950, "1972", "Nữ"])
    path = tmp_path / "short.xlsx"
    book.save(path)
    raw, quarantine, _ = read(path)
    assert quarantine.is_empty()
    assert raw["full_name"].to_list() == ["Lý Văn G", "Ngô Thị H"]
