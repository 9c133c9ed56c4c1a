"""A small synthetic province run once through the whole pipeline, shared by the operations tests.

`province_run(tmp_path_factory)` generates one district of Kiên Giang (40 martyrs) and runs on it,
without a truth, exactly the commands of the Makefile's `pipeline` target (as a province runs it);
the first test module that asks runs it, later ones in the same session reuse the folder.
"""

from __future__ import annotations

import os
import re
import shlex
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
    summary: str

    @property
    def pages(self) -> Path:
        """The pages of the last run (`OUT_DIR/latest`)."""
        return self.out / "latest"


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


def make_pipeline_commands() -> list[list[str]]:
    """The recipe of the Makefile's `pipeline` target, with `$(BIN)/python` as this interpreter."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^pipeline:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no pipeline target"
    return [
        [sys.executable if word == "$(BIN)/python" else word for word in shlex.split(line)]
        for line in recipe.group(1).splitlines()
    ]


def run_make_pipeline(folder: Path, **extra: str) -> list[subprocess.CompletedProcess[str]]:
    """Each command of `make pipeline`, in order, until one fails; DAGSTER_HOME inside `folder`."""
    env = pipeline_env(folder, DAGSTER_HOME=str(folder / "dagster_home"), **extra)
    env.pop("TRUTH_DIR")
    results = []
    for command in make_pipeline_commands():
        results.append(
            subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
            )
        )
        if results[-1].returncode:
            break
    return results


def province_run(factory: pytest.TempPathFactory) -> ProvinceRun:
    folder = factory.getbasetemp() / "ops_province"
    done = folder / "done"
    if not done.exists():
        folder.mkdir(exist_ok=True)
        generate(folder, "Kiên Giang", 40, 7, district="Châu Thành")
        # Evaluation against the truth belongs to each stage's tests; the operations tests read the
        # truth themselves, so the pipeline runs as in production, without it.
        results = run_make_pipeline(folder)
        code = max(r.returncode for r in results)
        stderr = "".join(r.stderr for r in results)[-5000:]
        (folder / "summary.txt").write_text(results[-1].stdout, encoding="utf-8")
        done.write_text(f"{code}\n{stderr}", encoding="utf-8")
    code, _, stderr = done.read_text(encoding="utf-8").partition("\n")
    return ProvinceRun(
        folder=folder,
        inbox=folder / "inbox",
        truth=folder / "truth",
        out=folder / "out",
        warehouse=WarehouseResource(path=str(folder / "warehouse.duckdb")),
        returncode=int(code),
        stderr=stderr,
        summary=(folder / "summary.txt").read_text(encoding="utf-8"),
    )
