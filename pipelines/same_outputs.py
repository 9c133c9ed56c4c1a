"""Does a change keep behaviour? The same generated province through two versions of the code.

For renovations that must not change what the pipeline produces: the province is generated once,
then `pipelines.run` and `pipelines.summary` run on it with the code of `--base` (a git ref,
checked out in a temporary worktree) and with the working tree. Printed: the summary lines that
differ and the tables whose content differs (row count and content checksum,
`lietsi.ops.audit.table_fingerprints`). Exit 1 when anything differs.

    make same-outputs BASE=main                            # the demo province
    python -m pipelines.same_outputs --base HEAD~3 --martyrs 400
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from lietsi.ops.audit import table_fingerprints
from lietsi.synth.generate import generate

ROOT = Path(__file__).resolve().parents[1]
# The schemas a province and its auditors read; `ops` holds run ids and timings by design.
COMPARED_SCHEMAS = ("raw", "core", "marts", "reports")


def run_version(code: Path, province: Path, work: Path) -> tuple[str, pl.DataFrame]:
    """(summary text, table fingerprints) of the pipeline with the code in `code` on `province`."""
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"WAREHOUSE_KEY", "LIETSI_ENV"}}
    env.update(
        INBOX_DIR=str(province / "inbox"),
        TRUTH_DIR=str(province / "truth"),
        OUT_DIR=str(work / "out"),
        WAREHOUSE_PATH=str(work / "warehouse.duckdb"),
        DAGSTER_HOME=str(work / "dagster_home"),
        PYTHONPATH=str(code),
    )
    (work / "dagster_home").mkdir()
    for module in ("pipelines.run", "pipelines.summary"):
        result = subprocess.run(
            [sys.executable, "-m", module], cwd=code, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise SystemExit(f"{module} failed with the code in {code}:\n{result.stderr[-3000:]}")
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        fingerprints = table_fingerprints(con, COMPARED_SCHEMAS)
    return result.stdout, fingerprints


def differences(base: tuple[str, pl.DataFrame], head: tuple[str, pl.DataFrame]) -> list[str]:
    """Summary lines that differ (unified diff) and tables whose fingerprint differs."""
    out = list(
        difflib.unified_diff(
            base[0].splitlines(), head[0].splitlines(), "summary (base)", "summary (head)", lineterm=""
        )
    )
    joined = base[1].join(head[1], on="table_name", how="full", suffix="_head", coalesce=True)
    changed = joined.filter(
        pl.col("rows").ne_missing(pl.col("rows_head"))
        | pl.col("checksum").ne_missing(pl.col("checksum_head"))
    )
    out += [
        f"table {r['table_name']}: {r['rows']} rows (base) vs {r['rows_head']} rows (head), content differs"
        for r in changed.iter_rows(named=True)
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", required=True, help="git ref of the code to compare with")
    parser.add_argument("--province", default="Kiên Giang")
    parser.add_argument("--martyrs", type=int, default=1826)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lietsi-same-") as tmp:
        folder = Path(tmp)
        generate(folder / "province", args.province, args.martyrs, args.seed)
        base_code = folder / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_code), args.base], check=True
        )
        try:
            base = run_version(base_code, folder / "province", folder / "run_base")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_code)], check=False
            )
        head = run_version(ROOT, folder / "province", folder / "run_head")
    found = differences(base, head)
    print(
        "\n".join(found)
        if found
        else f"same outputs as {args.base}: summary and every table of {COMPARED_SCHEMAS}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
