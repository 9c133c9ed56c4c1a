"""A synthetic identification council answering a previous run (`inbox/xac_nhan/`).

The council sees the run's `marts.identifications`; the generator, which knows the truth, plays the
council's re-tests: it confirms a share of the correct `proposed` pairs and rejects the most
probable wrong pair it finds (a proposal or a review row). The truth stays in `truth/`: only the
decisions, as an office would export them, go to the inbox. Some rows name the martyr by his
certificate number instead of the pipeline's id, as the contract allows.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import polars as pl

from lietsi.matching.evaluation import martyr_uid_map
from lietsi.schema import XAC_NHAN
from lietsi.truth import TruthFolder


def council_decisions(
    identifications: pl.DataFrame,
    martyrs: pl.DataFrame,
    martyr_links: pl.DataFrame,
    truth_dir: Path,
    seed: int,
    confirm_share: float = 0.5,
    decided: date = date(2026, 1, 15),
) -> list[dict[str, str]]:
    """Decision rows (contract headers → text) for one council meeting on `decided`."""
    folder = TruthFolder(truth_dir)
    truth = folder.read("remains").select("remains_id", "martyr_uid")
    records = folder.read("martyr_records")
    judged = (
        identifications.filter(pl.col("status").is_in(["proposed", "needs_review"]))
        .join(martyr_uid_map(martyr_links, records), on="martyr_id", how="left")
        .join(truth.rename({"martyr_uid": "true_uid"}), on="remains_id", how="left")
        .with_columns(correct=(pl.col("martyr_uid") == pl.col("true_uid")).fill_null(False))
        .sort("remains_id")
    )
    rng = random.Random(f"{seed}:council")
    right = judged.filter((pl.col("status") == "proposed") & pl.col("correct")).to_dicts()
    confirmed = sorted(rng.sample(right, round(len(right) * confirm_share)), key=lambda r: r["remains_id"])
    wrong = judged.filter(~pl.col("correct")).sort("posterior", "remains_id", descending=[True, False])
    rejected = wrong.head(1).to_dicts()
    certificate = dict(martyrs.select("martyr_id", "certificate_no").iter_rows())
    rows = []
    for i, rec in enumerate([*confirmed, *rejected], start=1):
        is_confirmed = i <= len(confirmed)
        cert = certificate.get(rec["martyr_id"]) or ""
        by_certificate = bool(cert) and i % 3 == 0
        rows.append(
            {
                "Mã hài cốt": rec["remains_id"],
                "Mã liệt sĩ": "" if by_certificate else rec["martyr_id"],
                "Số bằng TQGC": cert if by_certificate else "",
                "Quyết định": "Xác nhận" if is_confirmed else "Bác bỏ",
                "Ngày quyết định": decided.strftime("%d/%m/%Y"),
                "Số biên bản": f"{i:03d}/BB-HĐXĐ",
                "Kết quả giám định lại": "Phù hợp" if is_confirmed else "Không phù hợp",
                "Ghi chú": "",
            }
        )
    return rows


def write_council(
    out_dir: Path, warehouse: Path, seed: int, confirm_share: float = 0.5, decided: date = date(2026, 1, 15)
) -> Path:
    """Write `out_dir/inbox/xac_nhan/hoi_dong_<date>.csv` answering the run stored in `warehouse`,
    judged against `out_dir/truth`."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids, martyrs, links = (
            con.execute(f"SELECT * FROM {table}").pl()
            for table in ("marts.identifications", "core.martyrs", "core.martyr_links")
        )
    rows = council_decisions(ids, martyrs, links, Path(out_dir) / "truth", seed, confirm_share, decided)
    folder = Path(out_dir) / "inbox" / XAC_NHAN.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"hoi_dong_{decided.isoformat()}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[fld.header for fld in XAC_NHAN.fields])
        writer.writeheader()
        writer.writerows(rows)
    return path
