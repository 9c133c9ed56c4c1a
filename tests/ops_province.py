"""A small synthetic province run once through the whole pipeline, shared by the operations tests.

`province_run(tmp_path_factory)` generates one district of Kiên Giang (40 martyrs) and runs
`python -m pipelines.run` on it (as `make pipeline` does); the first test module that asks runs it,
later ones in the same session reuse the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lietsi.synth.generate import generate
from resources import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ProvinceRun:
    folder: Path
    inbox: Path
    truth: Path
    out: Path
    warehouse: WarehouseResource
    returncode: int
    stderr: str


def pipeline_env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "WAREHOUSE_KEY")}
    env.update(
        INBOX_DIR=str(folder / "inbox"),
        TRUTH_DIR=str(folder / "truth"),
        OUT_DIR=str(folder / "out"),
        WAREHOUSE_PATH=str(folder / "warehouse.duckdb"),
        LIETSI_HASH_KEY="ops-test-key",
    )
    env.update(extra)
    return env


def run_pipeline(folder: Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.run"],
        cwd=ROOT,
        env=pipeline_env(folder, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def province_run(factory: pytest.TempPathFactory) -> ProvinceRun:
    folder = factory.getbasetemp() / "ops_province"
    done = folder / "done"
    if not done.exists():
        folder.mkdir(exist_ok=True)
        generate(folder, "Kiên Giang", 40, 7, district="Châu Thành")
        # Evaluation against the truth belongs to each stage's tests; the operations tests read the
        # truth themselves, so the pipeline runs as in production, without it.
        result = run_pipeline(folder, TRUTH_DIR=str(folder / "no_truth"))
        done.write_text(f"{result.returncode}\n{result.stderr[-5000:]}", encoding="utf-8")
    code, _, stderr = done.read_text(encoding="utf-8").partition("\n")
    return ProvinceRun(
        folder=folder,
        inbox=folder / "inbox",
        truth=folder / "truth",
        out=folder / "out",
        warehouse=WarehouseResource(path=str(folder / "warehouse.duckdb")),
        returncode=int(code),
        stderr=stderr,
    )
