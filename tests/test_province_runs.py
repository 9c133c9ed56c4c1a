"""A province as it really runs: `make pipeline` without a truth, on any part of the inbox, on files
arriving in drops, with its pages in a fresh folder per run."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from lietsi.ops.audit import table_fingerprints
from lietsi.ops.readiness import waiting_for
from lietsi.schema import SOURCES
from lietsi.synth.drops import apply_drop, plan_drops, write_drops
from pipelines.instance import ensure_instance_config
from pipelines.run import run_pipeline
from pipelines.summary import summary_tables
from resources import SettingsResource, WarehouseIOManager, WarehouseResource
from resources.outputs import publish_latest, run_folder
from tests.ops_province import ProvinceRun, province_run

FOLDERS = list(SOURCES)
SCHEMAS = ("raw", "core", "marts", "ops", "reports", "analyst")
HASH_KEY = "ops-test-key"  # the key tests/ops_province.py runs with: same hashes, same tables


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> ProvinceRun:
    return province_run(tmp_path_factory)


def _resources(folder: Path) -> dict:
    warehouse = WarehouseResource(path=str(folder / "warehouse.duckdb"))
    settings = SettingsResource(
        inbox_dir=str(folder / "inbox"), truth_dir="", out_dir=str(folder / "out"), hash_key=HASH_KEY
    )
    return {
        "warehouse": warehouse,
        "settings": settings,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }


def _columns(path: Path) -> dict[str, list[str]]:
    """Column names of every table (types of empty frames may be narrower: docs/operations.md)."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema IN {SCHEMAS} AND table_name NOT LIKE 'run\\_%' ESCAPE '\\' "
            "ORDER BY 1, ordinal_position"
        ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _fingerprints(path: Path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        prints = table_fingerprints(con, SCHEMAS)
    # The audit tables hold run ids and times: they differ between any two runs by design.
    return prints.filter(~pl.col("table_name").str.starts_with("ops.run_")).sort("table_name")


# 1. The production path -------------------------------------------------------------------------


def test_make_pipeline_without_a_truth_exits_0_and_prints_no_accuracy(province):
    assert province.returncode == 0, province.stderr
    assert "== rows per source ==" in province.summary and "== tables ==" in province.summary
    assert "accuracy" not in province.summary
    # A full inbox waits for nothing.
    assert "waiting for inputs" not in province.summary
    tables = province.warehouse.query(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%evaluation%'"
    )
    assert tables.is_empty()
    home = province.folder / "dagster_home"
    assert (home / "dagster.yaml").is_file()


def test_each_run_writes_its_pages_in_its_own_folder_and_latest_points_to_it(province):
    runs = [p for p in (province.out / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1
    assert province.pages.is_symlink() and province.pages.resolve() == runs[0].resolve()
    for page in ("bao_cao_tien_do.html", "identifications/index.html", "worklists/index.html",
                 "next_actions/index.html"):  # fmt: skip
        assert (province.pages / page).is_file(), page
    assert "latest/index.html" in (province.out / "index.html").read_text(encoding="utf-8")
    assert any((province.pages / "maps").rglob("*.html"))
    audit = province.warehouse.query("SELECT run_id FROM ops.run_audit")["run_id"].to_list()
    assert audit == [runs[0].name]


def test_latest_moves_whole_and_old_runs_are_pruned(tmp_path):
    first = run_folder(tmp_path, "run-1")
    (first / "maps").mkdir()
    (first / "maps" / "old_commune.html").write_text("x", encoding="utf-8")
    assert publish_latest(tmp_path, "run-1") == tmp_path / "latest"
    # OUT_DIR/index.html sends the reader to the latest run's landing page, written atomically
    # (no temporary left) and readable by the province's other accounts.
    entry = tmp_path / "index.html"
    text = entry.read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=latest/index.html">' in text
    assert '<a href="latest/index.html">' in text
    assert "run-1" not in text and entry.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".index.html.*"))
    second = run_folder(tmp_path, "run-2")
    (second / "bao_cao_tien_do.html").write_text("y", encoding="utf-8")
    # A run still writing does not show in latest.
    assert (tmp_path / "latest" / "maps" / "old_commune.html").exists()
    publish_latest(tmp_path, "run-2")
    assert sorted(p.name for p in (tmp_path / "latest").iterdir()) == ["bao_cao_tien_do.html"]
    assert publish_latest(tmp_path, "never-wrote") is None
    assert entry.read_text(encoding="utf-8") == text  # the same page whatever the run
    for i in range(3, 8):
        run_folder(tmp_path, f"run-{i}")
        publish_latest(tmp_path, f"run-{i}", keep=3)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run-5", "run-6", "run-7"]
    with pytest.raises(ValueError):
        run_folder(tmp_path, "../escape")


def test_make_ui_and_pipeline_give_dagster_one_warehouse_writer(tmp_path):
    assert ensure_instance_config(tmp_path) == tmp_path / "dagster.yaml"
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [{"key": "lietsi/warehouse", "value": "writer", "limit": 1}]
    (tmp_path / "dagster.yaml").write_text("# the province's own\n", encoding="utf-8")
    assert ensure_instance_config(tmp_path) is None
    assert (tmp_path / "dagster.yaml").read_text(encoding="utf-8") == "# the province's own\n"


def test_the_sensor_refreshes_only_what_is_downstream_of_the_new_files(province, tmp_path):
    from pipelines.definitions import defs
    from pipelines.sensors import inbox_sensor

    shutil.copytree(province.inbox, tmp_path / "inbox")
    shutil.copy(province.warehouse.path, tmp_path / "warehouse.duckdb")
    resources = _resources(tmp_path)

    def tick(cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            cursor=cursor,
            resources={"settings": resources["settings"], "warehouse": resources["warehouse"]},
            definitions=defs,
        )
        return inbox_sensor(context)

    # A new Dagster home over an inbox the warehouse already holds: nothing to run.
    first = tick(None)
    assert first.run_requests == []
    # A commune sends a header-only export: a new batch of that folder, nothing else changes.
    forms = sorted((tmp_path / "inbox" / "phieu_ho_gia_dinh").glob("*.csv"))[0]
    header = forms.read_text(encoding="utf-8-sig").splitlines()[0]
    (forms.parent / "phieu_ho_bo_sung.csv").write_text(header + "\n", encoding="utf-8")
    (request,) = tick(first.cursor).run_requests
    selection = set(request.asset_selection)
    assert {dg.AssetKey(["raw", "phieu_ho_gia_dinh"]), dg.AssetKey(["marts", "search_sites"])} <= selection
    assert dg.AssetKey(["ops", "run_audit"]) in selection
    assert not {dg.AssetKey(["raw", "registry"]), dg.AssetKey(["core", "martyrs"])} & selection
    # Dagster runs that part of the pipeline on the built warehouse.
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=request.asset_selection,
        resources=resources,
        raise_on_error=False,
    )
    assert result.success
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["core", "martyrs"]) not in materialised
    assert dg.AssetKey(["marts", "search_sites"]) in materialised


# 2. Any part of the inbox -----------------------------------------------------------------------

# Each folder alone and each folder left out, plus the lab alone (a lab re-sends its results). The
# default suite runs two of them (~30-60 s each, `make test` must stay under 10 minutes): the
# registry alone (a campaign's first weeks) and the lab alone (lab profiles whose remains the
# register does not list yet); `pytest -m slow` runs the whole matrix.
_FAST = {"alone:registry", "lab"}
_SUBSETS = [
    *((f"alone:{f}", [f]) for f in FOLDERS),
    *((f"without:{f}", [g for g in FOLDERS if g != f]) for f in FOLDERS),
    ("lab", ["mau_adn", "ket_qua_adn"]),
]


@pytest.mark.parametrize(
    ("folders"),
    [
        pytest.param(folders, id=name, marks=() if name in _FAST else pytest.mark.slow)
        for name, folders in _SUBSETS
    ],
)
def test_every_stage_runs_on_any_part_of_the_inbox(province, tmp_path, monkeypatch, folders):
    # A fresh province has no council decisions yet (xac_nhan/): that folder stays missing.
    folders = [f for f in folders if (province.inbox / f).is_dir()]
    (tmp_path / "inbox").mkdir()
    for folder in folders:
        shutil.copytree(province.inbox / folder, tmp_path / "inbox" / folder)
    resources = _resources(tmp_path)
    result = run_pipeline(resources=resources)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    blocked = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert result.success and not failed and not blocked, (failed, blocked)

    # Every table of the full run exists, with the same columns, rows or not.
    expected = _columns(Path(province.warehouse.path))
    assert _columns(tmp_path / "warehouse.duckdb") == expected

    warehouse = resources["warehouse"]
    rows = {f: warehouse.query(f"SELECT count(*) AS n FROM raw.{f}")["n"][0] for f in FOLDERS}
    assert {f for f, n in rows.items() if n} == set(folders)
    # What each stage waits for is said in the summary and in the stage's asset metadata.
    monkeypatch.setenv("WAREHOUSE_PATH", warehouse.path)
    monkeypatch.delenv("TRUTH_DIR", raising=False)
    monkeypatch.delenv("WAREHOUSE_KEY", raising=False)
    tables = summary_tables()
    assert "accuracy against the synthetic truth" not in tables
    waiting = set(tables["waiting for inputs"].iter_rows()) if "waiting for inputs" in tables else set()
    assert waiting == {(n.stage, n.output, n.missing) for n in waiting_for(rows)}
    if "hai_cot" not in folders:
        assert ("matching", "identifications", "no remains register yet") in waiting
    if "phieu_01" not in folders and "phieu_02" not in folders:
        assert ("linkage", "relatives", "no form 01 or form 02 yet") in waiting
        assert warehouse.query("SELECT count(*) AS n FROM core.relatives")["n"][0] == 0
        meta = result.asset_materializations_for_node("relative_linkage")[0].metadata
        assert meta["waiting_for"].value == "no form 01 or form 02 yet: no relatives"
    if "hai_cot" not in folders:
        assert warehouse.query("SELECT count(*) AS n FROM marts.identifications")["n"][0] == 0
        meta = {
            m.asset_key.path[-1]: m.metadata
            for m in result.asset_materializations_for_node("identifications_asset")
        }
        assert "no remains register yet: no identifications" in meta["identifications"]["waiting_for"].value


# 3. Files arriving over months ------------------------------------------------------------------


def test_drops_cover_every_file_once_in_campaign_order(province):
    drops = plan_drops(province.inbox, form_drops=2, lab_drops=2)
    files = sorted(p.relative_to(province.inbox).as_posix() for p in province.inbox.glob("*/*"))
    assert sorted(f for d in drops for f in d) == files
    assert {f.split("/")[0] for f in drops[0]} == {"registry"}
    assert {f.split("/")[0] for f in drops[1]} == {"phieu_01", "phieu_02", "hai_cot"}
    assert {f.split("/")[0] for f in drops[-1]} == {"ket_qua_adn"}
    # A lab batch's CSV and FASTA arrive together.
    assert {Path(f).stem for f in drops[-1]}.isdisjoint({Path(f).stem for f in drops[-2] if "ket_qua" in f})


def test_drops_give_the_warehouse_of_one_run_and_published_ids_never_change(province, tmp_path):
    generated = tmp_path / "generated"
    shutil.copytree(province.inbox, generated / "inbox")
    resources = _resources(tmp_path)
    warehouse = resources["warehouse"]
    published: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    run_ids = []
    for drop in write_drops(generated, form_drops=2, lab_drops=1):
        apply_drop(drop, tmp_path / "inbox")
        result = run_pipeline(resources=resources)
        assert result.success
        run_ids.append(result.run_id)
        published.append(
            (
                warehouse.query("SELECT source, file, row_number, martyr_id FROM core.martyr_links"),
                warehouse.query("SELECT source, file, row_number, relative_id FROM core.relative_links"),
            )
        )
    final_martyrs, final_relatives = published[-1]
    for martyrs, relatives in published[:-1]:
        for earlier, final, id_col in (
            (martyrs, final_martyrs, "martyr_id"),
            (relatives, final_relatives, "relative_id"),
        ):
            joined = earlier.join(final, on=["source", "file", "row_number"], suffix="_final")
            assert joined.height == earlier.height
            changed = joined.filter(pl.col(id_col) != pl.col(f"{id_col}_final"))
            # The one change allowed: a later record shows two published martyrs are one person;
            # the merged martyr keeps one of the published ids (docs/linkage.md, stable ids).
            assert changed[f"{id_col}_final"].is_in(earlier[id_col].implode()).all(), changed
            assert not changed[id_col].is_in(final[id_col].implode()).any(), changed

    # The last drop's warehouse is the one-run warehouse: same ids, same marts, same everything.
    assert _fingerprints(tmp_path / "warehouse.duckdb").equals(_fingerprints(Path(province.warehouse.path)))
    assert sorted(p.name for p in (tmp_path / "out" / "runs").iterdir()) == sorted(run_ids)
    assert (tmp_path / "out" / "latest").resolve().name == run_ids[-1]
