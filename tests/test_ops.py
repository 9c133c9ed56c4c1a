"""Orchestration: the inbox sensor, the nightly schedule, jobs with retries, freshness, the run audit."""

import hashlib
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.audit import run_audit
from assets.ingest import build_ingest_asset, build_raw_checks
from lietsi.schema import REGISTRY
from pipelines.jobs import build_jobs, full_pipeline_job
from pipelines.schedules import NIGHTLY_FRESHNESS, nightly_schedule, with_freshness
from pipelines.sensors import audit_failed_runs, inbox_sensor
from resources import IO_RETRY_POLICY, WarehouseResource

REGISTRY_CSV = "Mã hồ sơ,Họ và tên,Năm sinh\nR1,Nguyễn Văn Thành,1950\nR2,Lê Văn Hai,1948\n"


def _evaluate(
    workspace: dict, cursor: str | None, definitions: dg.Definitions | None = None
) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"settings": workspace["settings"], "warehouse": workspace["warehouse"]},
        definitions=definitions,
    )
    return inbox_sensor(context)


def test_a_new_inbox_file_requests_exactly_one_run_and_a_re_dropped_file_none(workspace):
    settings = workspace["settings"]
    folder = Path(settings.inbox_dir) / "registry"
    folder.mkdir(parents=True)
    first = _evaluate(workspace, None)
    assert first.run_requests == [] and first.skip_reason is not None

    (folder / "dot_1.csv").write_text(REGISTRY_CSV, encoding="utf-8")
    result = _evaluate(workspace, first.cursor)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.tags["inbox/file"] == "registry/dot_1.csv"
    assert (request.tags["inbox/folders"], request.tags["inbox/files"]) == ("registry", "1")
    assert request.run_key.startswith("inbox:")

    assert _evaluate(workspace, result.cursor).run_requests == []
    # The district office sends the same export again under another name: same bytes, no new run.
    (folder / "dot_1 (copy).csv").write_text(REGISTRY_CSV, encoding="utf-8")
    again = _evaluate(workspace, result.cursor)
    assert again.run_requests == []

    (folder / "dot_1.csv").write_text(REGISTRY_CSV + "R3,Trần Văn Ba,1947\n", encoding="utf-8")
    changed = _evaluate(workspace, again.cursor)
    assert [r.tags["inbox/file"] for r in changed.run_requests] == ["registry/dot_1.csv"]
    assert changed.run_requests[0].run_key != request.run_key


def test_twenty_files_dropped_at_once_make_one_run_request(workspace):
    inbox = Path(workspace["settings"].inbox_dir)
    first = _evaluate(workspace, None)
    for i in range(20):
        folder = inbox / ("registry" if i % 2 else "phieu_02")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"dot_{i}.csv").write_text(REGISTRY_CSV + f"R{i + 10},Võ Văn {i},1950\n", encoding="utf-8")
    result = _evaluate(workspace, first.cursor)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.tags["inbox/files"] == "20"
    assert request.tags["inbox/folders"] == "phieu_02,registry"
    # A warehouse that has never been built: the whole pipeline, not a part of it.
    assert request.asset_selection is None
    assert _evaluate(workspace, result.cursor).run_requests == []


def test_the_sensor_starts_from_the_files_the_warehouse_holds(workspace):
    inbox = Path(workspace["settings"].inbox_dir)
    (inbox / "registry").mkdir(parents=True)
    (inbox / "registry" / "dot_1.csv").write_text(REGISTRY_CSV, encoding="utf-8")
    assert dg.materialize([build_ingest_asset(REGISTRY)], resources=workspace).success
    # Mirror the operations union the full pipeline builds from each folder's batch log.
    with workspace["warehouse"].connect() as con:
        con.execute("CREATE VIEW ops.batches AS SELECT * FROM ops.batches_registry")
    # A new Dagster home (no cursor) over an inbox already materialised starts nothing.
    first = _evaluate(workspace, None)
    assert first.run_requests == []
    (inbox / "registry" / "dot_2.csv").write_text(REGISTRY_CSV + "R3,Trần Văn Ba,1947\n", encoding="utf-8")
    assert [r.tags["inbox/file"] for r in _evaluate(workspace, first.cursor).run_requests] == [
        "registry/dot_2.csv"
    ]


def test_the_nightly_schedule_and_the_sensor_start_the_full_pipeline():
    assert nightly_schedule.cron_schedule == "0 1 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert nightly_schedule.job_name == "full_pipeline"
    assert nightly_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert inbox_sensor.job_name == "full_pipeline"
    assert inbox_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_job_per_stage_each_retrying_failed_steps():
    @dg.asset(key=["marts", "a"], group_name="kinship")
    def a() -> None: ...

    @dg.asset(key=["marts", "b"], group_name="lab")
    def b() -> None: ...

    jobs = build_jobs([a, b])
    assert [j.name for j in jobs] == ["full_pipeline", "kinship_stage", "lab_stage"]
    defs = dg.Definitions(assets=[a, b], jobs=jobs)
    for name in ("full_pipeline", "kinship_stage"):
        assert defs.resolve_job_def(name).op_retry_policy == IO_RETRY_POLICY
    assert [n.name for n in defs.resolve_job_def("lab_stage").nodes] == ["marts__b"]


def test_a_step_failing_on_transient_io_is_retried(workspace):
    attempts: list[int] = []

    @dg.asset(key=["marts", "flaky"], group_name="lab")
    def flaky(context: dg.AssetExecutionContext) -> None:
        attempts.append(context.retry_number)
        if context.retry_number == 0:
            raise OSError("network share went away")

    job = dg.define_asset_job(
        "j", selection=[dg.AssetKey(["marts", "flaky"])], op_retry_policy=dg.RetryPolicy(max_retries=2)
    )
    result = dg.Definitions(assets=[flaky], jobs=[job]).resolve_job_def("j").execute_in_process()
    assert result.success and attempts == [0, 1]


def test_every_asset_gets_the_nightly_freshness_policy_unless_it_has_its_own():
    own = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=30))

    @dg.asset(key=["marts", "nightly"], group_name="lab")
    def nightly() -> None: ...

    @dg.asset(key=["marts", "monthly"], group_name="lab", freshness_policy=own)
    def monthly() -> None: ...

    graph = with_freshness(dg.Definitions(assets=[nightly, monthly])).resolve_asset_graph()
    assert graph.get(dg.AssetKey(["marts", "nightly"])).freshness_policy == NIGHTLY_FRESHNESS
    assert graph.get(dg.AssetKey(["marts", "monthly"])).freshness_policy == own


def test_a_warehouse_locked_by_another_process_is_waited_for(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, time, sys; c = duckdb.connect(sys.argv[1]);"
            "c.execute('CREATE TABLE t AS SELECT 1 x'); print('locked', flush=True); time.sleep(2)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with WarehouseResource(path=str(path)).connect() as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert time.monotonic() - started > 0.4
    holder.wait(timeout=30)


def _registry_run(workspace: dict, csv: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    folder = Path(workspace["settings"].inbox_dir) / "registry"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dot_1.csv").write_text(csv, encoding="utf-8")
    return dg.materialize(
        [build_ingest_asset(REGISTRY), *build_raw_checks(REGISTRY), run_audit],
        resources=workspace,
        raise_on_error=False,
        instance=instance,
    )


def test_a_run_records_its_inputs_row_counts_checks_and_code_version(workspace):
    result = _registry_run(workspace, REGISTRY_CSV, dg.DagsterInstance.ephemeral())
    assert result.success
    warehouse = workspace["warehouse"]
    audit = warehouse.query("SELECT * FROM ops.run_audit").row(0, named=True)
    assert audit["run_id"] == result.run_id and audit["status"] == "STARTED"
    assert audit["code_version"].startswith(("git:", "package:"))
    assert (audit["input_files"], audit["checks_passed"], audit["checks_failed"]) == (1, 2, 0)
    data = REGISTRY_CSV.encode("utf-8")
    inputs = warehouse.query("SELECT file, size_bytes, checksum, records_read FROM ops.run_inputs")
    assert inputs.rows() == [("dot_1.csv", len(data), hashlib.sha256(data).hexdigest()[:16], 2)]
    counts = dict(warehouse.query("SELECT table_name, rows FROM ops.run_row_counts").rows())
    assert counts["raw.registry"] == 2 and counts["ops.quarantine_registry"] == 0
    assert "ops.run_audit" not in counts
    checks = warehouse.query("SELECT asset, check_name, passed FROM ops.run_checks ORDER BY 2").rows()
    assert checks == [("raw/registry", "expectations", True), ("raw/registry", "row_accounting", True)]


def test_a_run_stopped_by_a_blocking_check_is_audited_by_the_run_status_sensor(workspace):
    instance = dg.DagsterInstance.ephemeral()
    # 2000 is no martyr's birth year: the registry suite fails and the audit step never runs.
    bad_years = "Mã hồ sơ,Họ và tên,Năm sinh\nR1,A Văn B,2000\nR2,C Văn D,2001\n"
    result = _registry_run(workspace, bad_years, instance)
    assert not result.success
    assert "run_audit" not in {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    warehouse = workspace["warehouse"]
    assert (
        warehouse.query(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'run_audit'"
        ).item()
        == 0
    )

    context = dg.build_run_status_sensor_context(
        sensor_name="audit_failed_runs",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"warehouse": warehouse, "settings": workspace["settings"]},
    )
    audit_failed_runs(context)
    audit = warehouse.query("SELECT run_id, checks_passed, checks_failed FROM ops.run_audit").row(0)
    assert audit == (result.run_id, 1, 1)
    failed = warehouse.query("SELECT check_name FROM ops.run_checks WHERE NOT passed").to_series().to_list()
    assert failed == ["expectations"]


@pytest.mark.parametrize("job", [full_pipeline_job])
def test_pipeline_runs_are_tagged_as_warehouse_writers(job):
    assert job.run_tags == {"lietsi/warehouse": "writer"}
