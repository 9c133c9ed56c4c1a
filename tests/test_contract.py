"""The output contract on a whole pipeline run: every stable table, its required columns, stable ids.

Reads the contract itself (`../shared/contract/OUTPUTS.md`), so a table or column the contract adds
is checked without editing this file.
"""

import re
from pathlib import Path

import polars as pl
import pytest
from ops_province import province_run, run_pipeline

from lietsi.ops.audit import table_fingerprints
from resources import WarehouseResource

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract" / "OUTPUTS.md"
RAW_TABLES = [
    "registry",
    "phieu_01",
    "phieu_02",
    "hai_cot",
    "mau_adn",
    "ket_qua_adn",
    "phieu_ho_gia_dinh",
    "ket_luan_dia_ban",
]


def contract_tables() -> dict[str, list[str]]:
    if not CONTRACT.exists():
        pytest.skip(f"output contract not found at {CONTRACT}")
    tables: dict[str, list[str]] = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = re.findall(r"`([^`]+)`", cells[0])[0]
        # Parenthesised backticks are values (`verdict` (`exclusion`/…)), not columns.
        columns = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cells[2]))
        if name.startswith("raw."):
            for folder in RAW_TABLES:
                tables[f"raw.{folder}"] = ["file", "row_number"]
        else:
            tables[name] = columns
    return tables


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return province_run(tmp_path_factory)


def test_the_pipeline_run_succeeds(run):
    assert run.returncode == 0, run.stderr


def test_every_contract_table_has_its_required_columns(run):
    expected = contract_tables()
    assert len(expected) >= 20
    with run.warehouse.connect(read_only=True) as con:
        present = {
            f"{s}.{t}": set()
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        for s, t, c in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        ).fetchall():
            present[f"{s}.{t}"].add(c)
    missing_tables = sorted(set(expected) - set(present))
    assert missing_tables == []
    missing_columns = {
        t: sorted(set(cols) - present[t]) for t, cols in expected.items() if set(cols) - present[t]
    }
    assert missing_columns == {}


def test_contract_enumerations_hold(run):
    with run.warehouse.connect(read_only=True) as con:
        verdicts = {
            r[0] for r in con.execute("SELECT DISTINCT verdict FROM marts.match_candidates").fetchall()
        }
        statuses = {r[0] for r in con.execute("SELECT DISTINCT status FROM marts.identifications").fetchall()}
        shares = {
            r[0]
            for r in con.execute("SELECT DISTINCT shares_mtdna FROM marts.maternal_candidates").fetchall()
        }
    assert verdicts <= {"exclusion", "inconclusive", "cannot_exclude"}
    assert statuses <= {"proposed", "needs_review"}
    assert shares <= {True, False, None}


def test_every_input_row_is_in_a_raw_table_or_the_quarantine(run):
    with run.warehouse.connect(read_only=True) as con:
        read = con.execute("SELECT source, sum(records_read) FROM ops.batches GROUP BY source").fetchall()
        for source, records in read:
            if source not in RAW_TABLES:
                continue
            clean = con.execute(f"SELECT count(*) FROM raw.{source}").fetchone()[0]
            quarantined = con.execute(f"SELECT count(*) FROM ops.quarantine_{source}").fetchone()[0]
            assert records == clean + quarantined, source


# The default suite covers this with a stronger run: test_province_runs.py's drops test rebuilds the
# same inbox in four drops, in another process, and its last warehouse must equal this run's in every
# table of raw, core, marts, ops, reports and analyst (same ids, same outputs). This plain re-run
# (another 30-40 s of pipeline) stays for `pytest -m slow`.
@pytest.mark.slow
def test_a_re_run_on_the_same_inputs_gives_the_same_ids_and_outputs(run, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    (again / "inbox").symlink_to(run.inbox)
    assert run_pipeline(again, TRUTH_DIR=str(again / "no_truth")).returncode == 0

    def fingerprints(path: Path) -> pl.DataFrame:
        with WarehouseResource(path=str(path)).connect(read_only=True) as con:
            prints = table_fingerprints(con, ("raw", "core", "marts", "ops", "analyst"))
        # Audit tables record run ids and times, different in any two runs by design.
        return prints.filter(~pl.col("table_name").str.starts_with("ops.run_"))

    first = fingerprints(run.folder / "warehouse.duckdb")
    second = fingerprints(again / "warehouse.duckdb")
    assert first.height > 30
    assert first.sort("table_name").equals(second.sort("table_name"))
