"""Hostile input: a corpus of bad files dropped into a small province's inbox, run through the
production path (`python -m pipelines.run`, then `python -m pipelines.summary`, without TRUTH_DIR).

Each bad file must cost only itself (exit 0, every clean row of the other files kept, the bad file
quarantined with its reason), and after the run no clear citizen id, phone or key may be found in the
warehouse, DAGSTER_HOME (decompressed run snapshots and event logs included) or OUT_DIR.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sqlite3
import zlib
from pathlib import Path

import openpyxl
import polars as pl
from hostile_inbox import (
    HASH_KEY,
    HOSTILE_IDS,
    HOSTILE_PHONES,
    KEY,
    NON_UTF8_NAME,
    SECRET,
    WAREHOUSE_KEY,
    bad_files,
)

from assets._shared import preview
from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_batch, read_folder
from lietsi.ingest.limits import FileLimits
from lietsi.ops.export import csv_bytes
from lietsi.privacy import CITIZEN_ID, PHONE
from lietsi.schema import KET_QUA_ADN, PHIEU_02, REGISTRY, SOURCES
from pipelines.sensors import new_batches


def _identifier_columns() -> dict[str, set[str]]:
    """Folder → the contract headers of its citizen-id and phone columns."""
    return {
        s.folder: {f.header for f in s.fields if f.kind in ("citizen_id", "phone")}
        for s in SOURCES.values()
        if any(f.kind in ("citizen_id", "phone") for f in s.fields)
    }


def _written_identifiers(inbox: Path) -> set[str]:
    """Every citizen id and phone as written in the inbox's CSV and XLSX files (header-located)."""
    found: set[str] = set(HOSTILE_IDS) | set(HOSTILE_PHONES)
    for folder, headers in _identifier_columns().items():
        for path in sorted((inbox / folder).glob("*")):
            if path.is_symlink() or path.suffix not in (".csv", ".xlsx"):
                continue
            if path.suffix == ".csv":
                try:
                    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
                except (UnicodeDecodeError, csv.Error):
                    continue
            else:
                book = openpyxl.load_workbook(path, read_only=True)
                rows = [
                    ["" if v is None else str(v) for v in r]
                    for r in book.worksheets[0].iter_rows(values_only=True)
                ]
            header = next((i for i, r in enumerate(rows) if headers & set(r)), None)
            if header is None:
                continue
            columns = [j for j, h in enumerate(rows[header]) if h in headers]
            found |= {
                r[j].strip() for r in rows[header + 1 :] for j in columns if j < len(r) and r[j].strip()
            }
    return {v for v in found if len(re.sub(r"\D", "", v)) >= 8}


def _pattern(values: set[str]) -> re.Pattern[str]:
    """Any of the values, also without a leading zero or `+84` (as a spreadsheet or a clerk rewrites them)."""
    forms = set()
    for value in values:
        forms.add(value)
        digits = re.sub(r"[^\dOo]", "", value)
        forms.add(digits[1:] if digits.startswith("0") else digits[2:] if value.startswith("+84") else digits)
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def test_the_hostile_corpus_runs_through_the_production_path(hostile):
    assert hostile.run.returncode == 0, hostile.run.stderr[-3000:]
    assert hostile.summary.returncode == 0, hostile.summary.stderr[-3000:]
    assert "step failed" not in hostile.run.stderr


def test_each_bad_file_is_quarantined_with_its_reason(hostile):
    with hostile.warehouse.connect(read_only=True) as con:
        quarantine = con.execute("SELECT file, reason FROM ops.quarantine").pl()
    for name, reason in hostile.expected.items():
        reasons = quarantine.filter(pl.col("file") == name)["reason"].to_list()
        assert any(reason in r for r in reasons), (name, reasons[:3])
    with hostile.warehouse.connect(read_only=True) as con:
        link = con.execute(
            "SELECT status, message FROM ops.batches WHERE file = 'link_to_secrets.csv'"
        ).fetchall()
        small = con.execute("SELECT count(*) FROM raw.ket_qua_adn WHERE sample_id = 'SMALL-1'").fetchone()[0]
    assert link == [("failed", "symbolic link: not followed (copy the file into the inbox)")]
    assert small == 1


def test_every_clean_row_of_the_other_files_is_kept(hostile, tmp_path):
    """Per untouched file, the clean rows equal those of the same file read alone."""
    bad = set(hostile.expected) | {"shifted_and_extra.csv"}
    with hostile.warehouse.connect(read_only=True) as con:
        for source in SOURCES.values():
            folder = hostile.inbox / source.folder
            if not folder.is_dir() or source.folder not in {
                "registry",
                "phieu_02",
                "ket_qua_adn",
                "phieu_01",
            }:
                continue
            for path in sorted(folder.iterdir()):
                if path.name in bad or path.is_symlink():
                    continue
                alone = read_batch(path, source, KEY)
                name = alone.file
                kept = con.execute(
                    f"SELECT count(*) FROM raw.{source.folder} WHERE file = ?", [name]
                ).fetchone()[0]
                assert alone.status == "ok" and kept == len(alone.rows) > 0, (source.folder, name)
        decoded = NON_UTF8_NAME.decode("utf-8", "backslashreplace")
        assert con.execute("SELECT count(*) FROM raw.registry WHERE file = ?", [decoded]).fetchone()[0] == 2


def test_no_clear_identifier_or_key_is_left_anywhere_after_the_run(hostile):
    written = _written_identifiers(hostile.inbox)
    clear = _pattern(written)
    # The scan finds what it looks for: the inbox itself is full of it.
    assert len(written) > 50
    assert clear.search((hostile.inbox / "phieu_02" / "shifted_and_extra.csv").read_text(encoding="utf-8"))
    keys = re.compile("|".join(re.escape(k) for k in (HASH_KEY, WAREHOUSE_KEY, SECRET)))
    leaks: list[str] = []

    def scan(where: str, text: str) -> None:
        if (hit := keys.search(text)) is not None:
            leaks.append(f"{where}: a key or the secret file")
        elif (hit := clear.search(text)) is not None:
            leaks.append(f"{where}: identifier at {hit.start()}")

    with hostile.warehouse.connect(read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND data_type = 'VARCHAR'"
        ).fetchall()
        assert len(columns) > 200
        for schema, table, column in columns:
            values = con.execute(
                f'SELECT DISTINCT "{column}" FROM {schema}."{table}" WHERE "{column}" IS NOT NULL'
            )
            scan(f"{schema}.{table}.{column}", "\n".join(v for (v,) in values.fetchall()))

    scanned_snapshots = 0
    for path in sorted(hostile.dagster_home.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        scan(str(path.relative_to(hostile.dagster_home)), data.decode("utf-8", "replace"))
        if not data.startswith(b"SQLite format 3"):
            continue
        db = sqlite3.connect(path)
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            value = zlib.decompress(value)
                            scanned_snapshots += 1
                        except zlib.error:
                            pass
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        scan(f"{path.name}:{table}", value)
        db.close()
    assert scanned_snapshots > 0

    out_files = [p for p in hostile.out.rglob("*") if p.is_file()]
    assert len(out_files) > 10
    for path in out_files:
        scan(str(path.relative_to(hostile.out)), path.read_bytes().decode("utf-8", "replace"))
    assert leaks == []


def test_csv_outputs_hold_no_cell_a_spreadsheet_would_run(hostile):
    csvs = sorted(hostile.out.rglob("*.csv"))
    cells = set()
    for path in csvs:
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            assert not [c for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")], path.name
            cells.update(row)
    # The relationship `+em gái` of the hostile form reaches a commune's worklist, shown as text.
    assert "'+em gái" in cells


def test_one_writer_neutralises_formula_cells():
    frame = pl.DataFrame(
        {
            "name": ["=1+2", "+84 912", "-Ấp 4", "@SUM(A1)", "\tx", "\rx", "Nguyễn Văn An", None],
            "lr": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "ids": [["=a", "b"], [], ["c"], [], [], [], [], []],
        }
    )
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [
        "'=1+2",
        "'+84 912",
        "'-Ấp 4",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "Nguyễn Văn An",
        "",
    ]
    assert rows[1][1] == "-1.5" and rows[1][2] == "'=a;b"


# Fast checks of the same rules on single files.


def test_identifiers_are_hashed_by_meaning_wherever_they_land_in_the_quarantine(tmp_path):
    folder = tmp_path / "phieu_02"
    bad_files(tmp_path, tmp_path)
    raw, quarantine, log = batches_to_frames(read_folder(folder, PHIEU_02, KEY), PHIEU_02)
    text = "\n".join(quarantine["raw"].to_list() + quarantine["reason"].to_list() + log["message"].to_list())
    extras = "\n".join(raw["extra"].drop_nulls().to_list())
    for value in (*HOSTILE_IDS, *HOSTILE_PHONES):
        digits = re.sub(r"\D", "", value)
        assert digits[-8:] not in text + extras, value
    assert not CITIZEN_ID.search(text) and not PHONE.search(text)
    assert "hmac:" in extras and "hmac:" in text
    shifted = quarantine.filter(pl.col("file") == "shifted_and_extra.csv")
    assert shifted.height == 1 and "xã Bình An" in shifted["raw"][0]


def test_limits_reject_a_file_with_the_reason(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("Mã hồ sơ,Họ và tên\n" + "".join(f"R{i},Tên {i}\n" for i in range(50)), encoding="utf-8")
    for limits, reason in (
        (FileLimits(max_bytes=100), "larger than 100 bytes"),
        (FileLimits(max_rows=10), "more than 10 rows"),
        (FileLimits(max_cells=30), "more than 30 cells"),
    ):
        batch = read_batch(path, REGISTRY, KEY, limits)
        assert batch.status == "failed" and reason in batch.message
        assert batch.records_read == len(batch.quarantine) >= 1 and not batch.rows
    fasta = tmp_path / "long.fasta"
    fasta.write_text(">A\n" + "A" * 101 + "\n>B\n" + "C" * 100 + "\n", encoding="utf-8")
    batch = read_batch(fasta, KET_QUA_ADN, KEY, FileLimits(max_sequence_length=100))
    assert [r["sample_id"] for r in batch.rows] == ["B"]
    assert "FASTA record of 101 bases, longer than 100" in batch.quarantine[0]["reason"]


def test_a_broken_workbook_and_any_parser_error_fail_only_their_file(tmp_path):
    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "a_not_a_zip.xlsx").write_bytes(b"PK\x03\x04 truncated")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã hồ sơ", "Họ và tên"])
    for i in range(20):
        sheet.append([f"R{i}", f"Tên {i}"])
    book.save(folder / "b_wide.xlsx")
    (folder / "c_good.csv").write_text("Mã hồ sơ,Họ và tên\nR1,Nguyễn Văn An\n", encoding="utf-8")
    batches = {b.file: b for b in read_folder(folder, REGISTRY, KEY, FileLimits(max_cells=20))}
    size = (folder / "b_wide.xlsx").stat().st_size
    expanded = read_batch(folder / "b_wide.xlsx", REGISTRY, KEY, FileLimits(max_bytes=size))
    assert f"expands to more than {size:,} bytes" in expanded.message
    assert batches["a_not_a_zip.xlsx"].status == "failed"
    assert "not a readable XLSX workbook" in batches["a_not_a_zip.xlsx"].message
    assert "more than 20 cells" in batches["b_wide.xlsx"].message
    assert batches["c_good.csv"].status == "ok" and len(batches["c_good.csv"].rows) == 1


def test_the_inbox_sensor_neither_follows_links_nor_fails_on_odd_names(tmp_path):
    folder = tmp_path / "inbox" / "registry"
    folder.mkdir(parents=True)
    secrets = tmp_path / "secrets.txt"
    secrets.write_text(SECRET, encoding="utf-8")
    (folder / "link.csv").symlink_to(secrets)
    Path(os.fsdecode(bytes(folder) + b"/" + NON_UTF8_NAME)).write_text("x", encoding="utf-8")
    fresh, cursor = new_batches(tmp_path / "inbox", None)
    names = sorted(relative for relative, _ in fresh)
    assert names == ["registry/danh_s\\xe1ch_c\\xf9.csv", "registry/link.csv"]
    assert hashlib.sha256(SECRET.encode()).hexdigest() not in cursor
    cursor.encode("utf-8")


def test_metadata_previews_leave_out_personal_columns():
    frame = pl.DataFrame(
        {
            "relative_id": ["TN-1"],
            "relative_name": ["Lê Thị Mai"],
            "address": ["Ấp 1"],
            "relationship_text": ["em gái"],
            "health": ["Yếu"],
            "consent": ["Có"],
            "extra": ["{}"],
            "phone_hash": ["ab" * 32],
            "birth_year": [1950],
        }
    )
    shown = preview(frame)
    assert [c.name for c in shown.schema.columns] == ["relative_id", "birth_year"]
    assert shown.records[0].data == {"relative_id": "TN-1", "birth_year": 1950}
