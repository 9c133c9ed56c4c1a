"""Identification accuracy and calibration on every generator configuration (issue 14).

For each configuration of `lietsi.synth.config` (`demo`, `borderland`, `homefront`) a province is
generated at province scale (Kiên Giang, 1,826 martyrs) with a seed no test or setting was chosen
on, and the whole pipeline runs on it in a fresh process, exactly as `make pipeline` runs it, with
the truth folder given only to the evaluation assets. Nothing is fitted to these provinces: the
model's settings are the ones chosen on the demo.

Printed per configuration: precision and recall of `proposed`, of every identification row
(proposed + review) and of the mtDNA-only baseline; out-of-province remains proposed; the run's
expected share of wrong proposals (mean 1 − posterior), reported next to the observed one;
relatives' linkage precision/recall; and the calibration of `posterior` and of `posterior_bound`
over every candidate pair (expected = mean posterior against observed = share right, per bin; the
Brier score; the largest gap among bins of ≥ 20 pairs).

Each calibration bin carries the Wilson 95% interval of its observed share; each run, the χ² of
its bins against a calibrated model and how many bins a calibrated model with the same posteriors
would miss ±0.05 by chance; and with several seeds (`--seed 101,202`) every configuration's pairs
are also pooled over them. With 20–50 pairs a bin a perfect model misses ±0.05 often: these let a
reader tell a systematic gap from noise. The target stays ±0.05 in every bin of ≥ 20 pairs.

Run: `python -m benchmarks.identification [--configs demo,borderland] [--martyrs 700] [--seed 101,202]
[--reuse]` (`--reuse` measures the warehouses a previous run left instead of running again)
(`make bench` runs every benchmark module's `main()` with its defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from lietsi.matching.evaluation import (
    MIN_PAIRS,
    bins_outside,
    calibration_chi2,
    chance_misses,
    judged_pairs,
    martyr_uid_map,
    reliability,
)
from lietsi.synth import generate
from lietsi.synth.config import CONFIGS, config
from lietsi.truth import TruthFolder

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "data" / "bench" / "identification"
PROVINCE = "Kiên Giang"
MARTYRS = 1826
SEED = 101  # no test, threshold or numerator was chosen on this seed


def run_pipeline(name: str, martyrs: int, seed: int) -> tuple[Path, float]:
    """Generate the configuration's province and run the pipeline on it; (folder, wall seconds)."""
    folder = CACHE / f"{name}-{martyrs}-seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, PROVINCE, martyrs, seed, config=config(name))
    return folder, run_on(folder)


def run_on(folder: Path) -> float:
    """Run the pipeline in a fresh process on `folder`'s inbox (truth given to the evaluation
    assets only), as `make pipeline` does; wall seconds."""
    env = {
        **os.environ,
        "INBOX_DIR": str(folder / "inbox"),
        "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        "TRUTH_DIR": str(folder / "truth"),
        "OUT_DIR": str(folder / "out"),
    }
    for var in ("DAGSTER_HOME", "WAREHOUSE_KEY"):
        env.pop(var, None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    (folder / "pipeline.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"{folder.name}: the pipeline failed (see {folder / 'pipeline.log'})")
    return wall


def measure(folder: Path) -> dict:
    """Figures of one run, from its warehouse and truth."""
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        metrics = con.sql("SELECT * FROM marts.matching_evaluation").pl()
        candidates = con.sql(
            "SELECT remains_id, martyr_id, posterior, posterior_bound FROM marts.match_candidates"
        ).pl()
        proposed = con.sql("SELECT posterior FROM marts.identifications WHERE status = 'proposed'").pl()
        links = con.sql("SELECT source, source_record_id, martyr_id FROM core.martyr_links").pl()
        linkage = con.sql("SELECT * FROM marts.linkage_evaluation").pl()
        # The estimate's share of outsiders (every evidence page states it) and the profiled remains
        # it was read from (those the register lists).
        evidence = con.sql(
            "SELECT evidence FROM marts.identifications WHERE evidence IS NOT NULL LIMIT 1"
        ).fetchone()
        profiled = con.sql(
            "SELECT DISTINCT p.remains_id FROM marts.mtdna_profiles p JOIN raw.hai_cot h USING (remains_id) "
            "WHERE p.sample_kind = 'remains'"
        ).pl()
    truth = TruthFolder(folder / "truth")
    truth_remains, truth_records = truth.read("remains"), truth.read("martyr_records")
    uid_map = martyr_uid_map(links, truth_records)
    calibration, judged = {}, {}
    for column in ("posterior", "posterior_bound"):
        pairs = judged_pairs(candidates, truth_remains, uid_map, column).drop_nulls("posterior")
        judged[column] = (pairs["posterior"].to_list(), pairs["correct"].to_list())
        calibration[column] = reliability(*judged[column])
    values = {(e, m): v for e, m, v in linkage.iter_rows()}
    return {
        "methods": metrics,
        "expected_error": float((1 - proposed["posterior"]).mean()) if proposed.height else 0.0,
        "relatives": (values.get(("relatives", "precision")), values.get(("relatives", "recall"))),
        "calibration": calibration,
        "judged": judged,
        "remains": truth_remains.height,
        "other_share": float((truth_remains["in_province"] == "false").mean()),
        "p_outside": json.loads(evidence[0])["prior"]["p_outside_pool"] if evidence else None,
        "p_outside_true": float(
            (profiled.join(truth_remains, on="remains_id")["in_province"] == "false").mean()
        )
        if profiled.height
        else None,
    }


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def accuracy_table(results: dict[str, dict]) -> str:
    lines = [
        "| configuration | remains (other provinces) | method | proposals | correct | precision | recall "
        "| out-of-province proposed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for row in r["methods"].iter_rows(named=True):
            lines.append(
                f"| {name} | {r['remains']} ({r['other_share']:.0%}) | {row['method']} | {row['proposals']} "
                f"| {row['correct']} | {_f(row['precision'])} | {_f(row['recall'])} "
                f"| {row['out_of_province']} |"
            )
    return "\n".join(lines)


def summary_table(results: dict[str, dict]) -> str:
    lines = [
        "| configuration | `proposed`: expected wrong (mean 1 − posterior) | observed wrong "
        "| relatives' linkage precision / recall | Brier `posterior` | Brier `posterior_bound` "
        f"| largest calibration gap, bins ≥ {MIN_PAIRS} pairs (`posterior`) "
        "| bins outside ±0.05 / expected outside the observed share's 95% interval "
        "| χ² of the bins / bins (p) | bins a calibrated model misses by chance (90% range) "
        "| p_outside estimated (true share among the profiled remains) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        proposed = r["methods"].filter(pl.col("method") == "proposed").row(0, named=True)
        observed = 1 - proposed["precision"] if proposed["proposals"] else 0.0
        table, brier = r["calibration"]["posterior"]
        _, brier_bound = r["calibration"]["posterior_bound"]
        precision, recall = r["relatives"]
        lines.append(
            f"| {name} | {r['expected_error']:.4f} | {observed:.4f} | {_f(precision, 4)} / {_f(recall, 4)} "
            f"| {_f(brier, 4)} | {_f(brier_bound, 4)} | {largest_gap(table)} | {misses(table)} "
            f"| {noise(*r['judged']['posterior'])} | {_f(r['p_outside'])} ({_f(r['p_outside_true'])}) |"
        )
    return "\n".join(lines)


def largest_gap(table: pl.DataFrame) -> str:
    """The largest |observed − expected| among bins of ≥ MIN_PAIRS pairs, with its bin."""
    big = table.filter(pl.col("pairs") >= MIN_PAIRS)
    if not big.height:
        return "—"
    worst = big.sort(pl.col("gap").abs(), descending=True).row(0, named=True)
    return f"{worst['gap']:+.3f} ({worst['posterior_from']:g}–{worst['posterior_to']:g})"


def misses(table: pl.DataFrame) -> str:
    """Bins of ≥ MIN_PAIRS pairs outside ±0.05 (the target), and among them those whose expected
    share lies outside the observed share's Wilson 95% interval (what noise does not explain well)."""
    bins, off, beyond = bins_outside(table)
    return f"{off} of {bins} / {beyond}"


def noise(posterior: list[float], correct: list[bool]) -> str:
    """The χ² of the bins against a calibrated model (χ² / bins, p), and how many bins a calibrated
    model with these posteriors would miss ±0.05 by chance (mean, 90% range)."""
    statistic, df, p = calibration_chi2(posterior, correct)
    chance = chance_misses(posterior)
    low, high = np.percentile(chance, [5, 95]) if len(chance) else (0, 0)
    return f"{statistic:.1f} / {df} (p {p:.2g}) | {chance.mean():.1f} ({low:.0f}–{high:.0f})"


def calibration_cell(r: dict) -> str:
    """pairs, expected → observed [Wilson 95% interval of the observed share]."""
    if not r["pairs"]:
        return "0"
    return f"{r['pairs']:,}, {_f(r['expected'])} → {_f(r['observed'])} [{_f(r['low'], 2)}–{_f(r['high'], 2)}]"


def calibration_table(results: dict[str, dict], column: str) -> str:
    names = list(results)
    head = "| posterior | " + " | ".join(f"{n}: pairs, expected → observed [95%]" for n in names) + " |"
    lines = [head, "|---|" + "---|" * len(names)]
    tables = [results[n]["calibration"][column][0] for n in names]
    for i, row in enumerate(tables[0].iter_rows(named=True)):
        cells = [calibration_cell(t.row(i, named=True)) for t in tables]
        lines.append(f"| {row['posterior_from']:g}–{row['posterior_to']:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled(by_seed: dict[int, dict[str, dict]], column: str = "posterior") -> dict[str, dict]:
    """Per configuration, its seeds' pairs pooled: twice the pairs per bin, half the noise's
    share of a gap (a gap that persists pooled is systematic)."""
    out: dict[str, dict] = {}
    for results in by_seed.values():
        for name, r in results.items():
            posterior, correct = r["judged"][column]
            pooled_run = out.setdefault(name, {"judged": {column: ([], [])}, "p_outside_errors": []})
            p, c = pooled_run["judged"][column]
            p.extend(posterior)
            c.extend(correct)
            if r.get("p_outside") is not None and r.get("p_outside_true") is not None:
                pooled_run["p_outside_errors"].append(r["p_outside"] - r["p_outside_true"])
    for r in out.values():
        r["calibration"] = {column: reliability(*r["judged"][column])}
    return out


def pooled_table(results: dict[str, dict], column: str = "posterior") -> str:
    lines = [
        f"| configuration | Brier | largest gap, bins ≥ {MIN_PAIRS} pairs "
        "| bins outside ±0.05 / expected outside the 95% interval "
        "| χ² of the bins / bins (p) | bins a calibrated model misses by chance (90% range) "
        "| p_outside estimated − true, per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        table, brier = r["calibration"][column]
        errors = ", ".join(f"{e:+.3f}" for e in r.get("p_outside_errors", [])) or "—"
        lines.append(
            f"| {name} | {_f(brier, 4)} | {largest_gap(table)} | {misses(table)} "
            f"| {noise(*r['judged'][column])} | {errors} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configurations")
    parser.add_argument("--martyrs", type=int, default=MARTYRS)
    parser.add_argument("--seed", default=str(SEED), help="a seed, or comma-separated seeds (pooled too)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the warehouses a previous run left, if there"
    )
    args = parser.parse_args(argv if argv is not None else [])
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    by_seed: dict[int, dict[str, dict]] = {}
    failed = []
    for seed in [int(x) for x in args.seed.split(",") if x.strip()]:
        results = by_seed.setdefault(seed, {})
        for name in names:
            folder = CACHE / f"{name}-{args.martyrs}-seed{seed}"
            try:
                if args.reuse and (folder / "warehouse.duckdb").exists():
                    results[name] = measure(folder)
                    continue
                folder, wall = run_pipeline(name, args.martyrs, seed)
            except RuntimeError as exc:
                print(f"identification: {exc}", flush=True)
                failed.append(name)
                continue
            results[name] = measure(folder)
            print(f"identification: {name}, seed {seed}: pipeline {wall:.0f} s", flush=True)
    for seed, results in by_seed.items():
        if not results:
            continue
        print(f"\n{PROVINCE}, {args.martyrs:,} martyrs, seed {seed}\n")
        print(accuracy_table(results), "\n")
        print(summary_table(results), "\n")
        print(
            "Calibration of `posterior` (every candidate pair; [the observed share's Wilson 95% interval]):\n"
        )
        print(calibration_table(results, "posterior"), "\n")
        print("Calibration of `posterior_bound` (95% frequency bound):\n")
        print(calibration_table(results, "posterior_bound"))
    if len([r for r in by_seed.values() if r]) > 1:
        together = pooled(by_seed)
        print(f"\nCalibration of `posterior`, seeds {args.seed} pooled per configuration:\n")
        print(pooled_table(together), "\n")
        print(calibration_table(together, "posterior"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
