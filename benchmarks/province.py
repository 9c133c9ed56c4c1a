"""End to end on the demo province: Kiên Giang, 1,826 martyrs, seed 7, as `make demo` runs it.

The generator writes the province into a temporary folder; `python -m pipelines.run` then runs in
a fresh process (imports included, as `make pipeline` does) with the run recorded in a temporary
Dagster home, whose step statistics give each step's time. Printed: the pipeline's wall time next
to the 45 s goal, its CPU time (user + system of the pipeline's process: the fair comparison on a
machine other jobs share, where wall time depends on the load), and the slowest steps.

Run with `python -m benchmarks.province` or `make bench`.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import polars as pl

from lietsi.synth.generate import generate

PROVINCE, MARTYRS, SEED = "Kiên Giang", 1826, 7
GOAL_SECONDS = 45.0
SLOWEST = 10
ROOT = Path(__file__).resolve().parents[1]


def step_times(home: Path) -> pl.DataFrame:
    """Seconds per step of the one run recorded in the Dagster home `home`, slowest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs(limit=1)
        stats = instance.get_run_step_stats(run.run_id)
    rows = [
        {"step": s.step_key, "seconds": round(s.end_time - s.start_time, 2)}
        for s in stats
        if s.start_time and s.end_time
    ]
    return pl.DataFrame(rows, schema={"step": pl.Utf8, "seconds": pl.Float64}).sort(
        "seconds", descending=True
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_province(folder: Path) -> tuple[float, float, int, pl.DataFrame]:
    """(wall seconds, CPU seconds, exit code, step times) of `python -m pipelines.run` on the province
    in `folder`."""
    home = folder / "dagster_home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_KEY"}
    env.update(
        INBOX_DIR=str(folder / "inbox"),
        TRUTH_DIR=str(folder / "truth"),
        OUT_DIR=str(folder / "out"),
        WAREHOUSE_PATH=str(folder / "warehouse.duckdb"),
        DAGSTER_HOME=str(home),
    )
    started, cpu_before = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
    return wall, cpu, result.returncode, step_times(home)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lietsi-province-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        generate(folder, PROVINCE, MARTYRS, SEED)
        generated = time.perf_counter() - started
        wall, cpu, code, steps = run_province(folder)
    load = os.getloadavg()[0]
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_fmt_str_lengths(60)
    print(
        pl.DataFrame(
            {
                "measure": [
                    f"generate {PROVINCE}, {MARTYRS:,} martyrs, seed {SEED}",
                    f"pipeline end to end (python -m pipelines.run, load {load:.1f})",
                    "pipeline, CPU time (user + system)",
                    "sum of step times",
                ],
                "seconds": [
                    round(generated, 1),
                    round(wall, 1),
                    round(cpu, 1),
                    round(float(steps["seconds"].sum()), 1),
                ],
                "goal": [
                    "—",
                    f"≤ {GOAL_SECONDS:.0f} s ({'met' if wall <= GOAL_SECONDS else 'not met'})",
                    f"≤ {GOAL_SECONDS:.0f} s ({'met' if cpu <= GOAL_SECONDS else 'not met'})",
                    "—",
                ],
            }
        )
    )
    print(f"slowest steps of {steps.height}:")
    print(steps.head(SLOWEST))
    return code


if __name__ == "__main__":
    sys.exit(main())
