"""The national run at a fraction of the country: each step's time and its own peak memory.

A country is generated directly in the export format (`lietsi.synth.country_scale`: at 100%, 1.2
million martyrs, 300,000 remains, 500,000 donors over the 63 real provinces) into
`data/bench/national/<fraction>-seed<seed>/` (kept: a second run reuses it), then the national run
(`lietsi.national.country`) runs step by step, **each step in its own Python process** that reads
the previous step's output from disk (pickle / parquet) and writes its own:

| step | what |
|---|---|
| generate | the country's exports and its truth |
| read | `read_exports`: manifests, SHA-256, every row validated |
| prepare | `adapt` + `prepare_country`: ids qualified, the pool, references, frequency database |
| count | the (remains, reference) pairs within one difference, counted, not listed (`pair_count`) |
| search | `search`: candidate search and the DNA comparison of every pair within one difference |
| weigh | `weigh`: every factor of each pair, the EM estimate, the posteriors |
| assign | `assign_country` + the national tables: decision and one-to-one assignment |

`compute (s)` is the step's own function; `wall (s)` is the whole process (start-up, reading the
previous step's output, writing its own); `peak (GB)` is that process's own peak resident memory
(`benchmarks._process`: VmHWM, not `getrusage`, which a child inherits). A step that fails or runs
past its time limit stops the fraction; the table says so. Accuracy of the run against the truth:
precision of `proposed`, and how many remains of out-of-province martyrs it names.

Run: `python -m benchmarks.national_scale` (default fractions 0.3% and 1%, what `make bench` runs),
`--fractions 0.1 0.3 1.0` for the scaling curve of docs/national_scale.md (or
`NATIONAL_SCALE_FRACTIONS=0.1,0.3,1.0 make bench`). `--step-timeout` (seconds, default 3600 or
`NATIONAL_SCALE_STEP_TIMEOUT`) bounds each step; `--memory-limit` (GB, default 14 or
`NATIONAL_SCALE_MEMORY_GB`) bounds each step's address space, so a step that outgrows the machine
fails alone with a MemoryError instead of waking the kernel's OOM killer on the shared machine.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import polars as pl

from benchmarks._process import ROOT, report, run_child

CACHE = ROOT / "data" / "bench" / "national"
SEED = 7
STEPS = ("generate", "read", "prepare", "count", "search", "weigh", "assign")
DEFAULT_FRACTIONS = (0.003, 0.01)
TARGET_SECONDS = 30 * 60  # 100% end to end
# polars' jemalloc keeps the address space it frees (`retain`): under `--memory-limit` (an address
# space limit) a step then failed with 7 GB resident at 30%; released, the limit bounds memory.
CHILD_ENV = {**os.environ, "_RJEM_MALLOC_CONF": "retain:false"}


def folder_of(fraction: float, seed: int = SEED, cache: Path = CACHE) -> Path:
    return cache / f"{fraction:g}-seed{seed}"


def _load(path: Path):
    with path.open("rb") as f:
        return pickle.load(f)


def _dump(value, path: Path) -> None:
    with path.open("wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)


# The pairs' texts that repeat over millions of rows (a range, a verdict, the database's name and
# version, the rules ignored, a reference's and a line's id on each of their pairs, the few
# thousand site lists, the prior group): categories in a step's memory (at 100% they were 2.8 of
# the listed pairs' 4 GB as strings, and `weigh` copies the pairs it filters); the code reads them
# as Python strings, and `national_candidates` writes them as text.
CATEGORIES = (
    "relative_id", "line_id", "reference_range", "verdict", "compared_range", "differing_sites",
    "heteroplasmies", "ignored", "excluding_references", "database", "database_version", "prior_group",
)  # fmt: skip


# The pairs' ids: categories in `weigh`, which only groups pairs by them and looks them up (its
# output carries them on as categories); text in `assign`, which sorts and joins by them.
IDS = ("remains_id", "martyr_id")


def read_pairs(
    path: Path,
    columns: list[str] | None = None,
    categories: tuple[str, ...] = CATEGORIES,
    martyrs: pl.Series | None = None,
) -> pl.DataFrame:
    """A parquet file of pairs (`search`'s, `weigh`'s scored ones), `categories` as categories and
    the other texts as strings (a file written from categories reads back as categories), read in
    streaming (the strings are never held whole); `martyrs`: only the pairs of these martyrs."""
    frame = pl.scan_parquet(path)
    frame = frame.select(columns) if columns is not None else frame
    frame = frame.filter(pl.col("martyr_id").is_in(martyrs.implode())) if martyrs is not None else frame
    schema = frame.collect_schema()
    texts = [c for c, t in schema.items() if t in (pl.String, pl.Categorical)]
    return frame.with_columns(
        pl.col(c).cast(pl.Categorical if c in categories else pl.String) for c in texts
    ).collect(engine="streaming")


# ---------------------------------------------------------------------------------------------
# One step (in its own process)


def run_step(step: str, folder: Path, fraction: float, seed: int, exact: bool = False) -> dict:
    """Run `step` on the files of `folder`; its measurements (rows, pairs, compute seconds). `exact`:
    every candidate pair listed (`MatchSettings.listed_candidates` None), into `work-exact/`."""
    from lietsi.national import country

    work = folder / ("work-exact" if exact else "work")
    settings = country.national_settings(None if exact else country.LISTED_CANDIDATES)
    start = time.perf_counter()
    out: dict = {}
    if step == "generate":
        from lietsi.synth.country_scale import generate_country, write_country

        shutil.rmtree(folder / "inbox", ignore_errors=True)
        rows = write_country(generate_country(fraction, seed), folder)
        out = {"rows": sum(rows.values())}
    elif step == "read":
        exports = country.read_exports(folder / "inbox")
        elapsed = time.perf_counter() - start
        _dump(exports, work / "exports.pickle")
        out = {"rows": exports.martyrs.height + exports.references.height + exports.remains.height}
        return {**out, "compute_s": elapsed}
    elif step == "prepare":
        exports = _load(work / "exports.pickle")
        start = time.perf_counter()
        frames = country.adapt(exports)
        prepared = country.prepare_country(frames, settings)
        elapsed = time.perf_counter() - start
        _dump(prepared, work / "prepared.pickle")
        frames.rejected.write_parquet(work / "rejected.parquet")
        return {"rows": prepared.missing.height, "compute_s": elapsed}
    elif step == "count":
        from lietsi.matching import candidate_search

        prepared = _load(work / "prepared.pickle")
        start = time.perf_counter()
        remains = prepared.remains_profiles.select(id="remains_id", range="range", haplotype="haplotype")
        references = prepared.refs.unique("relative_id").select(
            id="relative_id", range="range", haplotype="haplotype"
        )
        a = candidate_search.prepare(remains, settings.rules)
        b = candidate_search.prepare(references, settings.rules)
        count = candidate_search.pair_count(a, b, candidate_search.group_pairs(a, b, settings.rules))
        return {"rows": count, "compute_s": time.perf_counter() - start}
    elif step == "search":
        prepared = _load(work / "prepared.pickle")
        start = time.perf_counter()
        pairs, far = country.search(prepared, settings, pl.read_parquet(work / "rejected.parquet"))
        elapsed = time.perf_counter() - start
        pairs.write_parquet(work / "pairs.parquet")
        (work / "far.parquet").unlink(missing_ok=True)
        if far is not None:
            far.write_parquet(work / "far.parquet")
        return {"rows": pairs.height, "compute_s": elapsed}
    elif step == "weigh":
        prepared = _load(work / "prepared.pickle")
        # `weigh` scores the missing martyrs' pairs: read only those, and it holds no second copy
        # of the country's pairs (1.1 GB at 100%).
        missing = prepared.missing["martyr_id"]
        pairs = read_pairs(work / "pairs.parquet", categories=CATEGORIES + IDS, martyrs=missing)
        far = pl.read_parquet(work / "far.parquet") if (work / "far.parquet").exists() else None
        start = time.perf_counter()
        scoring = country.weigh(prepared, pairs, settings, far)
        elapsed = time.perf_counter() - start
        del prepared, pairs, far
        # The scored pairs as parquet, the rest pickled: a pickled frame is first serialised whole
        # in memory.
        scoring.scored.write_parquet(work / "scored.parquet")
        _dump(replace(scoring, scored=scoring.scored.clear()), work / "scoring.pickle")
        return {"rows": scoring.scored.height, "compute_s": elapsed}
    elif step == "assign":
        prepared = _load(work / "prepared.pickle")
        # `decide` reads of the listed pairs only each remains' verdicts (its outcome).
        pairs = read_pairs(work / "pairs.parquet", ["remains_id", "verdict"])
        scoring = replace(_load(work / "scoring.pickle"), scored=read_pairs(work / "scored.parquet"))
        exports = _load(work / "exports.pickle")
        start = time.perf_counter()
        result = country.assign_country(prepared, pairs, scoring, settings)
        identifications = country.national_identifications(result, exports)
        identifications.write_parquet(work / "identifications.parquet")
        # The candidates table reads the scored pairs only: the rest goes first (at 100% its sort of
        # the country's 15 million pairs did not fit beside it in 15 GB).
        scored, rows = result.match_candidates, identifications.height
        del prepared, pairs, scoring, exports, result, identifications
        country.national_candidates(scored).sink_parquet(work / "candidates.parquet")
        return {"rows": rows, "compute_s": time.perf_counter() - start}
    return {**out, "compute_s": time.perf_counter() - start}


# ---------------------------------------------------------------------------------------------
# Measurement


def accuracy(folder: Path, work: str = "work") -> dict[str, float | int]:
    """`proposed` against the truth: correct of proposed, out-of-province remains named."""
    ids = pl.read_parquet(folder / work / "identifications.parquet")
    truth = pl.read_csv(folder / "truth" / "national_remains.csv", infer_schema=False).select(
        pl.concat_str("province_code", pl.lit(":"), "remains_id").alias("national_remains_id"),
        pl.concat_str("martyr_province_code", pl.lit(":"), "martyr_id").alias("true_martyr"),
        pl.col("martyr_province_code") != pl.col("province_code"),
    )
    truth = truth.rename({truth.columns[2]: "true_out_of_province"})
    proposed = ids.filter(pl.col("status") == "proposed").join(truth, on="national_remains_id", how="left")
    correct = proposed.filter(pl.col("national_martyr_id") == pl.col("true_martyr"))
    out_of_province = truth.filter(pl.col("true_out_of_province").fill_null(False)).height
    return {
        "proposed": proposed.height,
        "correct": correct.height,
        "out_of_province_named": correct.filter(pl.col("true_out_of_province")).height,
        "out_of_province_remains": out_of_province,
    }


def validation(folder: Path) -> str:
    """The run with summed candidates (`work/`) against the one listing every pair (`work-exact/`):
    its decisions and the posteriors of the pairs it listed."""
    keys = ["national_remains_id", "national_martyr_id"]
    ids = [
        pl.read_parquet(folder / w / "identifications.parquet").filter(
            pl.col("status").is_in(["proposed", "needs_review"])
        )
        for w in ("work", "work-exact")
    ]
    decided = ids[0].select(*keys, "status").join(ids[1].select(*keys, "status"), on="national_remains_id",
                                                  how="full", suffix="_exact", coalesce=True)  # fmt: skip
    same = decided.filter(
        (pl.col("national_martyr_id") == pl.col("national_martyr_id_exact"))
        & (pl.col("status") == pl.col("status_exact"))
    ).height
    proposed = [i.filter(pl.col("status") == "proposed") for i in ids]
    cand = [
        pl.read_parquet(folder / w / "candidates.parquet").select(*keys, "posterior")
        for w in ("work", "work-exact")
    ]
    both = cand[0].join(cand[1], on=keys, suffix="_exact")
    diff = both.select((pl.col("posterior") - pl.col("posterior_exact")).abs().max()).item() or 0.0
    return (
        f"{same} of {decided.height} decided remains with the same martyr and status; proposed "
        f"{proposed[0].height} (exact {proposed[1].height}, "
        f"{proposed[0].join(proposed[1], on=keys).height} the same); "
        f"{both.height:,} listed pairs of {cand[1].height:,}, posterior max |difference| {diff:.2e}"
    )


def measure(
    fraction: float,
    seed: int,
    timeout: float,
    memory_gb: float,
    fresh: bool,
    cache: Path = CACHE,
    exact: bool = False,
) -> list[dict]:
    folder = folder_of(fraction, seed, cache)
    work = folder / ("work-exact" if exact else "work")
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for step in STEPS:
        if step == "generate" and not fresh and (folder / "truth" / "references.csv").exists():
            rows.append({"fraction": fraction, "step": step, "note": "cached"})
            continue
        args = ["benchmarks.national_scale", "--child", step, "--data", str(folder), "--seed", str(seed),
                "--memory-limit", str(memory_gb), *(["--exact"] if exact else [])]  # fmt: skip
        log = work / f"{step}.stderr"
        result = run_child([*args, "--fractions", str(fraction)], env=CHILD_ENV, timeout=timeout, log=log)
        rows.append({"fraction": fraction, "step": step, **result})
        print(f"national_scale: {_pct(fraction)} {step}: {_line(rows[-1])}", flush=True)
        if "error" in result:
            print(f"national_scale: the step's whole stderr is in {log}", flush=True)
            break
    return rows


def _pct(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _line(row: dict) -> str:
    if "error" in row:
        return f"failed after {row.get('wall_s', 0):.0f} s: {row['error']}"
    if "note" in row:
        return row["note"]
    return (
        f"{row['compute_s']:.1f} s compute, {row['wall_s']:.1f} s wall, "
        f"{row['peak_bytes'] / 1024**3:.2f} GB, {row.get('rows', 0):,} rows"
    )


def table(rows: list[dict]) -> str:
    lines = [
        "| fraction | step | compute (s) | wall (s) | peak (GB) | rows out |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r or "note" in r:
            lines.append(f"| {_pct(r['fraction'])} | {r['step']} | {_line(r)} ||||")
            continue
        lines.append(
            f"| {_pct(r['fraction'])} | {r['step']} | {r['compute_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['peak_bytes'] / 1024**3:.2f} | {r.get('rows', 0):,} |"
        )
    return "\n".join(lines)


def curve(rows: list[dict], fractions: list[float]) -> str:
    """End to end per fraction: the sum of the steps' wall times, the largest step peak."""
    lines = ["| fraction | end to end (s) | largest peak (GB) | finished |", "|---|---|---|---|"]
    for f in fractions:
        mine = [r for r in rows if r["fraction"] == f and "note" not in r]
        done = [r for r in mine if "error" not in r]
        finished = len(done) == len(mine) and any(r["step"] == "assign" for r in done)
        wall = sum(r["wall_s"] for r in mine)
        peak = max((r["peak_bytes"] for r in done), default=0) / 1024**3
        lines.append(f"| {_pct(f)} | {wall:.0f} | {peak:.2f} | {'yes' if finished else 'no'} |")
    return "\n".join(lines)


def _fractions(values: list[float] | None) -> list[float]:
    if values:
        return values
    env = os.environ.get("NATIONAL_SCALE_FRACTIONS")
    return [float(x) for x in env.split(",")] if env else list(DEFAULT_FRACTIONS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--step-timeout", type=float, default=float(os.environ.get("NATIONAL_SCALE_STEP_TIMEOUT", 3600))
    )
    parser.add_argument(
        "--memory-limit", type=float, default=float(os.environ.get("NATIONAL_SCALE_MEMORY_GB", 14))
    )
    parser.add_argument("--fresh", action="store_true", help="generate again even if the country is cached")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the countries are kept")
    parser.add_argument(
        "--exact",
        action="store_true",
        help="list every candidate pair (nothing summed), into work-exact/: the approximation's reference",
    )
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    fractions = _fractions(args.fractions)
    if args.child:
        limit = int(args.memory_limit * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        report(**run_step(args.child, args.data, fractions[0], args.seed, args.exact))
        return 0
    rows = []
    work = "work-exact" if args.exact else "work"
    for fraction in fractions:
        rows += measure(
            fraction, args.seed, args.step_timeout, args.memory_limit, args.fresh, args.cache, args.exact
        )
        folder = folder_of(fraction, args.seed, args.cache)
        if (folder / work / "identifications.parquet").exists() and not any(
            "error" in r for r in rows if r["fraction"] == fraction
        ):
            acc = accuracy(folder, work)
            print(
                f"national_scale: {_pct(fraction)}: {acc['correct']} of {acc['proposed']} proposed correct; "
                f"{acc['out_of_province_named']} of {acc['out_of_province_remains']} remains of "
                f"out-of-province martyrs named",
                flush=True,
            )
            if (folder / "work-exact" / "identifications.parquet").exists() and not args.exact:
                print(
                    f"national_scale: {_pct(fraction)} against every pair listed: {validation(folder)}",
                    flush=True,
                )
    print(table(rows))
    print(curve(rows, fractions))
    print(f"load average while measured: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
