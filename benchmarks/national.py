"""National matching accuracy on a generated country (issue 18): what the national run names that
the province runs cannot.

A country of five provinces (`lietsi.synth.country`: Nghệ An, Quảng Trị, Tây Ninh, Kiên Giang, Thái
Bình; 300 martyrs each, a seed no setting was chosen on) is generated; each province's pipeline runs
on its own inbox in a fresh process (`pipelines.run` with its own INBOX_DIR, WAREHOUSE_PATH, OUT_DIR,
as `make pipeline`; the truth only for the evaluation assets), its `export/national/` is copied into
a national inbox, and `make national` runs on it. Scored against `truth/national_remains.csv`, per
province where the remains lie and in total:

- remains of martyrs of the country's other provinces: how many there are, how many the national
  run names (`proposed`, right martyr) and how many the province runs name (none can: the martyr
  is not in their registry);
- precision of the national run's `proposed` (goal ≥ 0.99) and of the province runs';
- recall of `proposed` on the remains of the province's own registered martyrs: national against
  province.

A martyr is "registered" when his province's run resolved him (`core.martyr_links` against the
province's truth: `lietsi.matching.evaluation.martyr_uid_map`).

Run: `python -m benchmarks.national [--provinces 5] [--martyrs 300] [--seed 211]` (`make bench` runs
it with its defaults, a few minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.identification import run_on
from lietsi.matching.evaluation import martyr_uid_map
from lietsi.synth import generate_country
from lietsi.synth.country import choose
from lietsi.truth import TruthFolder

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "data" / "bench" / "national"
PROVINCES = 5
MARTYRS = 300
SEED = 211  # no test, threshold or setting was chosen on this seed
NOT_AVAILABLE = "national run not available"
# Identification rows a council reads: proposed, and the top candidate of a remains put to review.
_ROWS = "status IN ('proposed', 'needs_review')"


@dataclass(frozen=True)
class Country:
    folder: Path
    codes: dict[str, str]  # province code → name
    truth: pl.DataFrame  # national_remains: where each remains lies and whose it is
    uid_map: pl.DataFrame  # (province_code, martyr_id) → martyr_uid of every registered martyr
    province_rows: pl.DataFrame  # identifications: province_code, remains_id, martyr_…, status
    profiled: pl.DataFrame  # (province_code, remains_id) of remains with a profile in the export


def run_provinces(folder: Path, run: bool = True) -> Country:
    """Each province's pipeline on its inbox; its export copied to `folder/national/inbox/<code>/`
    (`run=False`: the runs already in `folder`)."""
    provinces = pl.read_csv(folder / "truth" / "provinces.csv", infer_schema=False)
    codes = dict(zip(provinces["province_code"], provinces["province"], strict=True))
    inbox = folder / "national" / "inbox"
    maps, rows, profiled = [], [], []
    for code, name in codes.items():
        here = folder / "provinces" / code
        if run:
            wall = run_on(here)
            print(f"national: {name} ({code}): province pipeline {wall:.0f} s", flush=True)
            shutil.copytree(here / "out" / "latest" / "export" / "national", inbox / code)
        with duckdb.connect(str(here / "warehouse.duckdb"), read_only=True) as con:
            links = con.sql("SELECT source, source_record_id, martyr_id FROM core.martyr_links").pl()
            ids = con.sql(
                f"SELECT remains_id, martyr_id, status FROM marts.identifications WHERE {_ROWS}"
            ).pl()
        records = TruthFolder(here / "truth").read("martyr_records")
        maps.append(martyr_uid_map(links, records).with_columns(province_code=pl.lit(code)))
        rows.append(ids.with_columns(province_code=pl.lit(code), martyr_province_code=pl.lit(code)))
        remains = pl.read_csv(inbox / code / "remains.csv", infer_schema=False)
        profiled.append(
            remains.filter(pl.col("range").is_not_null())  # rCRS-identical: a range, no variants
            .select(province_code=pl.lit(code), remains_id="remains_id")
            .unique()
        )
    truth = pl.read_csv(folder / "truth" / "national_remains.csv", infer_schema=False).fill_null("")
    return Country(folder, codes, truth, pl.concat(maps), _ids(pl.concat(rows)), pl.concat(profiled))


def _ids(frame: pl.DataFrame) -> pl.DataFrame:
    columns = ("province_code", "remains_id", "martyr_province_code", "martyr_id", "status")
    return frame.select(*(pl.col(c).cast(pl.String) for c in columns))


def run_national(country: Country) -> pl.DataFrame:
    """`make national` on the collected exports; its identifications, ids split by province."""
    folder = country.folder / "national"
    (folder / "dagster_home").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "NATIONAL_INBOX_DIR": str(folder / "inbox"),
        "NATIONAL_WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        "NATIONAL_OUT_DIR": str(folder / "out"),
        "DAGSTER_HOME": str(folder / "dagster_home"),
    }
    env.pop("WAREHOUSE_KEY", None)
    start = time.perf_counter()
    proc = subprocess.run(
        ["make", "--no-print-directory", "national"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    (folder / "national.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"the national run failed (see {folder / 'national.log'})")
    print(f"national: national run {time.perf_counter() - start:.0f} s", flush=True)
    return read_national(folder)


def read_national(folder: Path) -> pl.DataFrame:
    """The national run's identifications (`national.identifications`), ids split by province."""
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            "SELECT remains_province_code AS province_code, remains_id, martyr_province_code, martyr_id, "
            f"status FROM national.identifications WHERE {_ROWS}"
        ).pl()
    return _ids(rows)


def judge(country: Country, rows: pl.DataFrame) -> pl.DataFrame:
    """Each identification row with the truth of its remains and whether it names the right martyr."""
    named = rows.join(
        country.uid_map.rename({"martyr_uid": "named_uid", "province_code": "martyr_province_code"}),
        on=["martyr_province_code", "martyr_id"],
        how="left",
    )
    truth = country.truth.rename({"martyr_province_code": "true_province", "martyr_uid": "true_uid"})
    return named.join(truth, on=["province_code", "remains_id"], how="left").with_columns(
        correct=(
            (pl.col("martyr_province_code") == pl.col("true_province"))
            & (pl.col("named_uid") == pl.col("true_uid"))
        ).fill_null(False)
    )


def measure(country: Country, national: pl.DataFrame | None) -> pl.DataFrame:
    """One row per province where remains lie, and a total."""
    registered = country.uid_map.select(
        pl.col("province_code").alias("true_province"),
        pl.col("martyr_uid").alias("true_uid"),
        registered=True,
    ).unique()
    truth = (
        country.truth.rename({"martyr_province_code": "true_province", "martyr_uid": "true_uid"})
        .join(registered, on=["true_province", "true_uid"], how="left")
        .with_columns(
            own=pl.col("true_province") == pl.col("province_code"),
            other=(pl.col("true_province") != "") & (pl.col("true_province") != pl.col("province_code")),
            registered=pl.col("registered").fill_null(False),
        )
    )
    profiled = country.profiled.with_columns(profiled=True)
    truth = truth.join(profiled, on=["province_code", "remains_id"], how="left").with_columns(
        pl.col("profiled").fill_null(False)
    )
    runs = {"province": judge(country, country.province_rows)}
    if national is not None:
        runs["national"] = judge(country, national)
    rows = []
    for code in [*country.codes, None]:
        t = truth if code is None else truth.filter(pl.col("province_code") == code)
        row: dict[str, object] = {
            "province": "total" if code is None else f"{country.codes[code]} ({code})",
            "remains": t.height,
            "other": int(t["other"].sum()),
            "other_registered": int((t["other"] & t["registered"]).sum()),
            "other_profiled": int((t["other"] & t["registered"] & t["profiled"]).sum()),
            "own_registered": int((t["own"] & t["registered"]).sum()),
        }
        for run, judged in runs.items():
            every = judged if code is None else judged.filter(pl.col("province_code") == code)
            j = every.filter(pl.col("status") == "proposed")
            right = j.filter("correct")
            other = pl.col("true_province") != pl.col("province_code")
            row[f"{run}_proposed"] = j.height
            row[f"{run}_precision"] = right.height / j.height if j.height else None
            row[f"{run}_other_named"] = right.filter(other).height
            row[f"{run}_other_top"] = every.filter(pl.col("correct") & other).height
            row[f"{run}_own_named"] = right.filter(pl.col("true_province") == pl.col("province_code")).height
        rows.append(row)
    return pl.DataFrame(rows)


def _f(x: object, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _share(n: int, of: int) -> str:
    return f"{n} ({n / of:.0%})" if of else f"{n}"


def table(results: pl.DataFrame, national: bool) -> str:
    lines = [
        "| province (remains lie here) | remains | of other provinces' martyrs (with a profile) "
        "| named by national run (`proposed`, right martyr) | right martyr proposed or put to review, "
        "national | named by province run | `proposed` precision national / province "
        "| own martyrs' remains | recall of `proposed` on them, national / province |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results.iter_rows(named=True):
        other_of, own_of = r["other_registered"], r["own_registered"]
        if national:
            named = _share(r["national_other_named"], other_of)
            top = _share(r["national_other_top"], other_of)
            precision = f"{_f(r['national_precision'])} ({r['national_proposed']}) / "
            recall = f"{_f(r['national_own_named'] / own_of if own_of else None)} / "
        else:
            named = top = NOT_AVAILABLE
            precision, recall = f"{NOT_AVAILABLE} / ", f"{NOT_AVAILABLE} / "
        lines.append(
            f"| {r['province']} | {r['remains']} | {other_of} ({r['other_profiled']}) | {named} | {top} "
            f"| {_share(r['province_other_named'], other_of)} "
            f"| {precision}{_f(r['province_precision'])} ({r['province_proposed']}) | {own_of} "
            f"| {recall}{_f(r['province_own_named'] / own_of if own_of else None)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", type=int, default=PROVINCES)
    parser.add_argument("--martyrs", type=int, default=MARTYRS, help="martyrs per province")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--reuse", action="store_true", help="score the runs already in the cache again")
    args = parser.parse_args(argv if argv is not None else [])
    folder = CACHE / f"country-{args.provinces}-{args.martyrs}-seed{args.seed}"
    chosen = choose(args.provinces)
    if args.reuse:
        country = run_provinces(folder, run=False)
        national = (
            read_national(folder / "national")
            if (folder / "national" / "warehouse.duckdb").exists()
            else None
        )
        print(table(measure(country, national), national is not None))
        return 0
    shutil.rmtree(folder, ignore_errors=True)
    generate_country(folder, args.provinces, args.martyrs, args.seed)
    try:
        country = run_provinces(folder)
    except RuntimeError as exc:
        print(f"national: {exc}", flush=True)
        return 1
    national, failed = None, False
    try:
        national = run_national(country)
    except RuntimeError as exc:
        print(f"national: {exc}", flush=True)
        failed = True
    names = ", ".join(p.name for p in chosen)
    print(
        f"\nGenerated country of {len(chosen)} provinces ({names}), {args.martyrs:,} martyrs each, ", end=""
    )
    print(f"seed {args.seed}\n")
    print(table(measure(country, national), national is not None))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
