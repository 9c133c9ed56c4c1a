"""One hostile inbox run once per session through the production path, shared by test_hostile and
test_pages (each used to run its own: two whole pipelines for one purpose).

A small province (one district of Kiên Giang, 40 martyrs) gets payloads in the text columns of every
third CSV row and hostile remains ids (test_pages: nothing may run in a page or write outside OUT_DIR),
then a corpus of bad files (test_hostile: each costs only itself, no clear identifier or key is left).
It runs as `make pipeline` runs it, `python -m pipelines.run` then `python -m pipelines.summary`,
without TRUTH_DIR, with keys from the environment and DAGSTER_HOME inside the folder.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from ops_province import ROOT, pipeline_env

from lietsi.synth.generate import generate
from resources import MIN_KEY_LENGTH, WarehouseResource

HASH_KEY = "hostile-test-hash-key-".ljust(MIN_KEY_LENGTH, "h")
WAREHOUSE_KEY = "hostile-test-warehouse-key-".ljust(MIN_KEY_LENGTH, "w")
KEY = HASH_KEY.encode()
FORM_HEADER = (
    "Số phiếu,Họ tên liệt sĩ,Họ tên thân nhân,Quan hệ với liệt sĩ,Số CCCD,Số điện thoại,"
    "Địa chỉ thường trú,Đồng ý cung cấp mẫu"
)
# Identifiers only the hostile files hold, in the forms clerks write them.
HOSTILE_IDS = ("091055001234", "91055001235", "0910O5001236", "023456789")
HOSTILE_PHONES = ("0912345678", "+84 913 456 789", "0914 567 890", "0395556667")
SECRET = "TOP-SECRET-not-for-the-inbox"
NON_UTF8_NAME = b"danh_s\xe1ch_c\xf9.csv"


# Each payload, if it ever ran, would mark the document; escaped, it is only text.
MARK = "document.documentElement.dataset.pwned"
PAYLOADS = (
    f"<img src=x onerror={MARK}=1>",
    f"<script>{MARK}=2</script>",
    f"${{{MARK}=3}}",
    f"`+({MARK}=4)+`",
)
HOSTILE_REMAINS_IDS = (f"javascript:{MARK}=5//", "../../pwned-x", f"<img src=x onerror={MARK}=6>")
# Header words (lower case) of the text columns that reach a page or a map.
TEXT_COLUMNS = (
    "họ tên",
    "chủ hộ",
    "xã",
    "thôn",
    "di vật",
    "mô tả",
    "địa điểm",
    "nơi quy tập",
    "nghĩa trang",
    "đơn vị",
    "địa chỉ",
    "loại thông tin",
)
# (Kinship texts are left alone: a third of them unreadable stops the run at the kinship check,
# as it should.)


def bad_files(inbox: Path, outside: Path) -> dict[str, str]:
    """Bad files in `inbox`; returns file name → the reason its batch (or a row) must be quarantined for."""
    phieu_02, registry, lab = inbox / "phieu_02", inbox / "registry", inbox / "ket_qua_adn"
    for folder in (phieu_02, registry, lab):
        folder.mkdir(parents=True, exist_ok=True)
    expected = {}

    rows = "".join(
        f"H{i},Lê Văn Hùng,Lê Thị Mai,em gái,{HOSTILE_IDS[0]},{HOSTILE_PHONES[0]},Ấp 1,Có\n" for i in range(3)
    )
    unclosed = FORM_HEADER + "\n" + rows + 'H9,"Lê Văn Tư,Lê Thị Lan,em gái,' + "x" * 140_000 + "\n"
    (phieu_02 / "quote_never_closes.csv").write_text(unclosed, encoding="utf-8")
    expected["quote_never_closes.csv"] = "CSV cannot be parsed"

    (phieu_02 / "no_header.csv").write_text(
        "".join(
            f"X{i},{cid},{phone}\n"
            for i, (cid, phone) in enumerate(zip(HOSTILE_IDS, HOSTILE_PHONES, strict=True))
        ),
        encoding="utf-8",
    )
    expected["no_header.csv"] = "no header row"

    (phieu_02 / "missing_column.csv").write_text(
        "Số CCCD,Số điện thoại,Ghi chú\n"
        + "".join(f"{c},{p},gọi {p}\n" for c, p in zip(HOSTILE_IDS, HOSTILE_PHONES, strict=True)),
        encoding="utf-8",
    )
    expected["missing_column.csv"] = "missing required column"

    (phieu_02 / "binary.csv").write_bytes(
        f"CCCD {HOSTILE_IDS[1]} SĐT {HOSTILE_PHONES[3]}".encode() + b"\x00\x01" * 50
    )
    expected["binary.csv"] = "binary content"

    # One unquoted comma in the address shifts the phone into the address column; extra columns outside
    # the contract hold a phone and an old 9-digit CMND; formulas in the cells a spreadsheet would run.
    (phieu_02 / "shifted_and_extra.csv").write_text(
        FORM_HEADER + ",SĐT,Số CMND\n"
        f"S1,Trần Văn Lộc,Trần Thị Nga,em gái,{HOSTILE_IDS[2]},Ấp 2, xã Bình An,{HOSTILE_PHONES[1]},Có,,\n"
        f"S2,Phạm Văn Sơn,Phạm Thị Hoa,em gái,,,Ấp 3,Có,{HOSTILE_PHONES[2]},{HOSTILE_IDS[3]}\n"
        """S3,"=HYPERLINK(""http://x.invalid"",""mở"")",@SUM(1+1),+em gái,,,-Ấp 4,Có,,\n""",
        encoding="utf-8",
    )
    expected["shifted_and_extra.csv"] = "wrong number of fields"

    secrets = outside / "secrets.txt"
    secrets.write_text(f"{SECRET}\nLIETSI_HASH_KEY={HASH_KEY}\n", encoding="utf-8")
    (registry / "link_to_secrets.csv").symlink_to(secrets)
    expected["link_to_secrets.csv"] = "symbolic link"

    # A clean file under a name that is not UTF-8: its rows are kept under the decoded name.
    clean = "Mã hồ sơ,Họ và tên,Năm sinh\nNU-1,Đặng Văn Nam,1948\nNU-2,Đặng Văn Bắc,1950\n"
    (Path(os.fsdecode(bytes(registry) + b"/" + NON_UTF8_NAME))).write_text(clean, encoding="utf-8")

    bases = "ACGT" * 500_000
    (lab / "two_megabases.fasta").write_text(
        f">HUGE-1\n{bases}\n>SMALL-1\n{'ACGT' * 100}\n", encoding="utf-8"
    )
    expected["two_megabases.fasta"] = "FASTA record of 2,000,000 bases"
    return expected


def with_payloads(text: str, replace_ids: dict[str, str], every: int) -> str:
    """Payloads into the text columns of every `every`-th row; remains ids replaced everywhere."""
    for old, new in replace_ids.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return text
    header = [h.strip().lower() for h in rows[0]]
    targets = [i for i, h in enumerate(header) if any(h.startswith(w) for w in TEXT_COLUMNS)]
    for n, row in enumerate(rows[1:], start=1):
        if n % every:
            continue
        for k, i in enumerate(targets):
            if i < len(row):
                payload = PAYLOADS[(n + k) % len(PAYLOADS)]
                # Names keep their letters (linkage still works on them); places become the payload.
                row[i] = f"{row[i]} {payload}" if header[i].startswith(("họ tên", "chủ hộ")) else payload
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return ""


@dataclass(frozen=True)
class HostileRun:
    folder: Path
    inbox: Path
    out: Path
    dagster_home: Path
    warehouse: WarehouseResource
    expected: dict[str, str]
    replaced: dict[str, str]
    created: set[Path]
    run: subprocess.CompletedProcess[str]
    summary: subprocess.CompletedProcess[str]


def hostile_run(factory: pytest.TempPathFactory) -> HostileRun:
    """The province with payloads and bad files, run; `created` is every path the run added under
    the province's parent folder."""
    folder = factory.mktemp("hostile") / "province"
    folder.mkdir()
    generate(folder, "Kiên Giang", 40, 7, district="Châu Thành")
    truth = pl.read_csv(folder / "truth" / "remains.csv", infer_schema=False)
    register = "".join(_utf8(p) for p in (folder / "inbox" / "hai_cot").glob("*.csv"))
    known = truth.filter(pl.col("martyr_uid").is_not_null() & pl.col("sample_id").is_not_null())["remains_id"]
    ids = [r for r in known.to_list() if r in register]
    replaced = {
        old: HOSTILE_REMAINS_IDS[i % len(HOSTILE_REMAINS_IDS)] + f"{i:02d}" for i, old in enumerate(ids)
    }
    for path in sorted((folder / "inbox").rglob("*.csv")):
        # Legacy-encoded files stay as they are (their remains ids were not chosen).
        if text := _utf8(path):
            path.write_text(with_payloads(text, replaced, every=3), encoding="utf-8")
    (folder / "outside").mkdir()
    expected = bad_files(folder / "inbox", folder / "outside")
    dagster_home = folder / "dagster_home"
    dagster_home.mkdir()
    env = pipeline_env(
        folder,
        LIETSI_HASH_KEY=HASH_KEY,
        WAREHOUSE_KEY=WAREHOUSE_KEY,
        DAGSTER_HOME=str(dagster_home),
    )
    env.pop("TRUTH_DIR")
    before = set(folder.parent.rglob("*"))
    # As `make pipeline` runs them, in this order.
    run, summary = (
        subprocess.run(
            [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        for module in ("pipelines.run", "pipelines.summary")
    )
    return HostileRun(
        folder=folder,
        inbox=folder / "inbox",
        out=folder / "out",
        dagster_home=dagster_home,
        warehouse=WarehouseResource(path=str(folder / "warehouse.duckdb"), encryption_key=WAREHOUSE_KEY),
        expected=expected,
        replaced=replaced,
        created=set(folder.parent.rglob("*")) - before,
        run=run,
        summary=summary,
    )
