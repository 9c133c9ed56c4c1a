"""Robustness: a corpus of bad inputs through the ingest assets, re-dropped files, a killed run.

Every bad file must leave the run standing and every row accounted for (rows read = rows kept +
rows quarantined, per file); a killed run followed by a re-run must leave the same warehouse as a
clean run.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from ops_province import ROOT, pipeline_env, run_pipeline

from assets.ingest import build_ingest_asset, build_raw_checks
from lietsi.ingest.encodings import to_legacy
from lietsi.ingest.inbox import read_batch
from lietsi.ops.audit import table_fingerprints
from lietsi.schema import PHIEU_02, REGISTRY
from lietsi.synth.generate import generate
from resources import WarehouseResource

HEADER = "Mã hồ sơ,Họ và tên,Năm sinh,Ngày hy sinh,Quê quán"
GOOD = "R{0},Nguyễn Văn Thành {0},1950,12/03/1972,xã Bình An huyện Châu Thành"
FORM_HEADER = (
    "Số phiếu,Họ tên liệt sĩ,Họ tên thân nhân,Quan hệ với liệt sĩ,Số CCCD,Số điện thoại,Đồng ý cung cấp mẫu"
)


def _registry_corpus(folder: Path) -> dict[str, int]:
    """Bad registry files; returns each file's expected rows read (data rows it holds)."""
    folder.mkdir(parents=True)
    rows = [GOOD.format(i) for i in range(1, 6)]
    files = {
        "clean.csv": (HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8"),
        "clean_again.csv": (HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8"),
        "empty.csv": b"",
        "header_only.csv": (HEADER + "\n").encode("utf-8"),
        "pipe_delimited.csv": (HEADER.replace(",", "|") + "\n" + rows[0].replace(",", "|") + "\n").encode(),
        "binary.csv": bytes(range(256)) * 8,
        "not_a_table.xlsx": b"PK\x03\x04 this is no workbook",
        "notes.txt": b"ghi chu",
        "tcvn3.csv": to_legacy(HEADER + "\n" + GOOD.format(7) + "\n", "tcvn3").encode("latin-1"),
        "nfd.csv": unicodedata.normalize("NFD", HEADER + "\n" + GOOD.format(8) + "\n").encode("utf-8"),
        "dirty_rows.csv": "\n".join(
            [
                HEADER,
                GOOD.format(9),
                GOOD.format(9),  # duplicate row
                "R10,,1950,1972,x",  # required name missing
                "R11,Lê Văn Mười Một,khoảng 1950,3/1972?,x",  # partial, approximate values
                "R12,Lê Văn Mười Hai,năm ngoái,32/13/1972,x",  # malformed year and date
                "R13,Trần Văn,1950",  # truncated last row
            ]
        ).encode("utf-8"),
        "missing_column.csv": "Mã hồ sơ,Năm sinh\nR14,1950\nR15,1951\n".encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {
        "clean.csv": 5,
        "clean_again.csv": 5,
        "empty.csv": 0,
        "header_only.csv": 0,
        "tcvn3.csv": 1,
        "nfd.csv": 1,
        "dirty_rows.csv": 6,
        "missing_column.csv": 2,
    }


def _ingest(workspace: dict, sources=(REGISTRY,)) -> dg.ExecuteInProcessResult:
    definitions = [build_ingest_asset(s) for s in sources]
    checks = [c for s in sources for c in build_raw_checks(s)]
    return dg.materialize([*definitions, *checks], resources=workspace, raise_on_error=False)


def test_a_corpus_of_bad_files_leaves_the_run_standing_and_every_row_accounted_for(workspace):
    inbox = Path(workspace["settings"].inbox_dir)
    expected = _registry_corpus(inbox / "registry")
    result = _ingest(workspace)
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["row_accounting"]
    warehouse = workspace["warehouse"]
    log = warehouse.query("SELECT * FROM ops.batches_registry ORDER BY file")
    assert sorted(log["file"]) == sorted(p.name for p in (inbox / "registry").iterdir())
    by_file = {r["file"]: r for r in log.iter_rows(named=True)}
    for name, rows in expected.items():
        assert by_file[name]["records_read"] == rows, name
    assert (log["records_read"] == log["rows_clean"] + log["rows_quarantined"]).all()
    status = {f: by_file[f]["status"] for f in by_file}
    assert status["clean_again.csv"] == "duplicate"
    for name in ("binary.csv", "not_a_table.xlsx", "notes.txt", "pipe_delimited.csv", "missing_column.csv"):
        assert status[name] == "failed", name
    raw = warehouse.query("SELECT file, full_name FROM raw.registry")
    names = set(raw["full_name"])
    assert {"Nguyễn Văn Thành 7", unicodedata.normalize("NFC", "Nguyễn Văn Thành 8")} <= names
    assert raw.filter(pl.col("file") == "clean.csv").height == 5
    assert raw.filter(pl.col("file") == "clean_again.csv").height == 0
    reasons = warehouse.query(
        "SELECT file, reason FROM ops.quarantine_registry WHERE file = 'dirty_rows.csv'"
    )
    assert {r.split(":")[0] for r in reasons["reason"]} == {
        "duplicate of row 1 in the same file",
        "required value missing",
        "truncated row",
    }


def test_re_dropping_the_same_file_does_not_duplicate_data(workspace):
    inbox = Path(workspace["settings"].inbox_dir)
    folder = inbox / "phieu_02"
    folder.mkdir(parents=True)
    text = FORM_HEADER + "\nF1,Nguyễn Văn Thành,Nguyễn Thị Lựu,em gái ruột,091055001234,0912345678,Có\n"
    (folder / "xa_binh_an.csv").write_text(text, encoding="utf-8")
    assert _ingest(workspace, (PHIEU_02,)).success
    first = workspace["warehouse"].query("SELECT * FROM raw.phieu_02")
    copy = folder / "xa_binh_an (1).csv"
    copy.write_text(text, encoding="utf-8")
    later = (folder / "xa_binh_an.csv").stat().st_mtime + 60
    os.utime(copy, (later, later))
    assert _ingest(workspace, (PHIEU_02,)).success
    second = workspace["warehouse"].query("SELECT * FROM raw.phieu_02")
    assert second.equals(first)
    assert workspace["warehouse"].query("SELECT count(*) AS n FROM ops.quarantine_phieu_02").item() == 1


def test_a_100k_row_file_is_read_with_every_row_accounted_for(tmp_path):
    path = tmp_path / "registry_100k.csv"
    lines = [HEADER] + [GOOD.format(i) for i in range(100_000)]
    lines[5000] = "R-bad,,1950,1972,x"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    batch = read_batch(path, REGISTRY, b"k")
    assert batch.records_read == 100_000
    assert len(batch.rows) == 99_999 and len(batch.quarantine) == 1
    assert time.monotonic() - started < 120


def _fingerprints(folder: Path) -> pl.DataFrame:
    with WarehouseResource(path=str(folder / "warehouse.duckdb")).connect(read_only=True) as con:
        prints = table_fingerprints(con, ("raw", "core", "marts", "ops", "reports", "analyst"))
    # The audit tables hold run ids and times: they differ between any two runs by design.
    return prints.filter(~pl.col("table_name").str.starts_with("ops.run_"))


@pytest.mark.slow
def test_a_killed_run_then_a_re_run_equals_a_clean_run(tmp_path):
    # One folder for both runs: some tables record output paths, which must not differ.
    generate(tmp_path, "Kiên Giang", 30, 11, district="Châu Thành", sources={"registry", "forms", "lab"})
    # Evaluation checks against a partial truth are not what this test is about.
    shutil.rmtree(tmp_path / "truth")
    assert run_pipeline(tmp_path).returncode == 0
    expected = _fingerprints(tmp_path)
    (tmp_path / "warehouse.duckdb").unlink()
    shutil.rmtree(tmp_path / "out")

    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.run"],
        cwd=ROOT,
        env=pipeline_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Kill once the warehouse exists (ingest has written) but long before the run can finish.
    deadline = time.monotonic() + 120
    while not (tmp_path / "warehouse.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)
    assert process.poll() is None, "the run finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert run_pipeline(tmp_path).returncode == 0
    got = _fingerprints(tmp_path)
    assert expected.height > 30
    joined = expected.join(got, on="table_name", how="full", coalesce=True, suffix="_rerun")
    differing = joined.filter(pl.col("checksum").ne_missing(pl.col("checksum_rerun")))["table_name"].to_list()
    assert differing == []
