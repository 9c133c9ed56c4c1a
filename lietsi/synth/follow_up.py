"""A simulated follow-up of `marts.next_actions`: the field teams sample the relatives the top
`sample_relative` actions name, and the lab returns their control regions.

The generator knows each relative's true maternal haplotype (`truth/persons.csv`); the pipeline's
`relative_id` is traced to that person through the form row it was read from
(`core.relative_links` → `truth/relative_records.csv`). The drop is a new pair of files in
`mau_adn/` and `ket_qua_adn/`, as a province would receive it; the truth stays in `truth/`.
Only `sample_relative` actions are applied: a relative still to be asked for consent has no
recorded consent, and a mitogenome or a re-test needs a lab the generator does not simulate.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import polars as pl

from lietsi.schema import KET_QUA_ADN, MAU_ADN

CONTROL_REGION = "16024-16569,1-576"


def follow_up_rows(
    actions: pl.DataFrame, relative_links: pl.DataFrame, truth_dir: Path, top: int, collected: date
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(sample log rows, result rows) for the first `top` ranked `sample_relative` actions."""
    chosen = (
        actions.filter((pl.col("action") == "sample_relative") & pl.col("rank").is_not_null())
        .sort("rank")
        .head(top)
    )
    records = pl.read_csv(truth_dir / "relative_records.csv", infer_schema=False)
    persons = pl.read_csv(truth_dir / "persons.csv", infer_schema=False)
    traced = (
        chosen.select("rank", relative_id="target")
        .join(
            relative_links.select("relative_id", "source", "file", pl.col("row_number").cast(pl.String)),
            on="relative_id",
        )
        .join(
            records.select("source", "file", "row_number", "person_uid"), on=["source", "file", "row_number"]
        )
        .unique("relative_id", keep="first")
        .join(persons.select("person_uid", "citizen_id", "haplotype"), on="person_uid")
        .filter(pl.col("citizen_id").is_not_null() & pl.col("haplotype").is_not_null())
        .sort("rank")
    )
    log, results = [], []
    stamp = collected.strftime("%d/%m/%Y")
    for i, rec in enumerate(traced.iter_rows(named=True), start=1):
        sample_id = f"MTN-FU{i:04d}"
        log.append(
            {
                "Mã mẫu": sample_id,
                "Loại mẫu": "Thân nhân",
                "Mã hài cốt": "",
                "Số CCCD": rec["citizen_id"],
                "Ngày thu mẫu": stamp,
                "Nơi thu mẫu": "Trạm Y tế (follow-up)",
            }
        )
        results.append(
            {
                "Mã mẫu": sample_id,
                "Phòng thí nghiệm": "Follow-up lab",
                "Ngày trả kết quả": stamp,
                "Vùng đọc được": CONTROL_REGION,
                "Haplotype": rec["haplotype"],
                "Chất lượng": "Đạt",
            }
        )
    return log, results


def write_follow_up(out_dir: Path, warehouse: Path, top: int, collected: date = date(2026, 3, 1)) -> int:
    """Write the follow-up drop for the run stored in `warehouse`; returns the samples written."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        actions = con.execute("SELECT * FROM marts.next_actions").pl()
        links = con.execute("SELECT * FROM core.relative_links").pl()
    log, results = follow_up_rows(actions, links, Path(out_dir) / "truth", top, collected)
    inbox = Path(out_dir) / "inbox"
    for source, rows in ((MAU_ADN, log), (KET_QUA_ADN, results)):
        folder = inbox / source.folder
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"follow_up_{collected.isoformat()}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=[fld.header for fld in source.fields])
            writer.writeheader()
            writer.writerows(rows)
    return len(log)
