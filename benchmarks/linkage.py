"""Martyr linkage benchmark: ours (lietsi.linkage) vs Splink (DuckDB backend) on the same records.

Scales:
- `province`: synthetic Kiên Giang, 1,826 martyrs, registry + forms 01 and 02 (about 9,000 records);
- `national`: registry only, 533,000 martyrs — the generator writes about 2.25 registry records
  per martyr (several source systems, updates), so about 1.2 million records.

Data are generated once and ingested with `lietsi.ingest` into `data/bench/linkage/<scale>/`
(`records.parquet`: the rows `martyr_records` gives the linkage; `truth.parquet`: their true
martyr). Each system then runs in a fresh Python process that reads `records.parquet`, links, and
writes its clusters: wall time is measured around the process (start-up and reading included, the
same for both), peak memory is the process's own peak RSS (`VmHWM` of its address space, DuckDB's
threads included; not `getrusage`, which a child inherits from the parent that generated the data:
`benchmarks._process`). Precision, recall and F1 are pairwise, against the generator's truth.

Splink gets a standard configuration for this kind of data, as its documentation recommends:
names, places and mothers cleaned to lower-case ascii; blocking on name × birth year, surname +
given name × death year, certificate number, mother × given name; comparisons: full name
(Jaro-Winkler 0.95/0.88, term-frequency adjusted), birth year (exact, ±1, ±3), hometown
(Jaro-Winkler), death date (day/month/year), mother's name (Jaro-Winkler), certificate (exact);
u by random sampling, m by EM on two blocking rules, threshold 0.9 like ours.

Run: `python -m benchmarks.linkage [--scale province|national|both]` (default both; `make bench`
runs every benchmark module's `main()`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import polars as pl

from benchmarks._process import report, run_child

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "data" / "bench" / "linkage"
SCALES: dict[str, dict] = {
    "province": {"martyrs": 1826, "sources": {"registry", "phieu_01", "phieu_02"}},
    "national": {"martyrs": 533_000, "sources": {"registry"}},
}
SEED = 7
THRESHOLD = 0.9
KEYS = ["source", "file", "row_number"]


# ---------------------------------------------------------------------------------------------
# Data


def prepare(scale: str) -> Path:
    """Generate and ingest the scale's data once; return the folder with records and truth."""
    from lietsi.ingest.batches import batches_to_frames
    from lietsi.ingest.inbox import read_folder
    from lietsi.linkage.records import martyr_records, split_unusable
    from lietsi.schema import SOURCES
    from lietsi.synth import generate
    from lietsi.truth import TruthFolder

    spec = SCALES[scale]
    folder = CACHE / f"{scale}-{spec['martyrs']}-seed{SEED}"
    if (folder / "records.parquet").exists() and (folder / "truth.parquet").exists():
        return folder
    if not (folder / "truth" / "martyr_records.csv").exists():
        print(f"preparing {scale}: generating {spec['martyrs']:,} martyrs …", flush=True)
        generate(
            folder, province="Kiên Giang", martyrs=spec["martyrs"], seed=SEED, sources=set(spec["sources"])
        )
    print(f"preparing {scale}: ingesting …", flush=True)
    raw = {}
    for name in ("registry", "phieu_01", "phieu_02"):
        if name in spec["sources"]:
            batches = read_folder(folder / "inbox" / name, SOURCES[name], b"benchmark-hash-key")
            raw[name] = batches_to_frames(batches, SOURCES[name])[0]
    records, _ = split_unusable(martyr_records(raw.get("registry"), raw.get("phieu_01"), raw.get("phieu_02")))
    records.write_parquet(folder / "records.parquet")
    truth = (
        TruthFolder(folder / "truth")
        .read("martyr_records")
        .select("source", "file", pl.col("row_number").cast(pl.Int64), pl.col("martyr_uid").alias("true"))
    )
    truth.unique(KEYS).write_parquet(folder / "truth.parquet")
    return folder


# ---------------------------------------------------------------------------------------------
# The two systems (each runs in its own process)


def run_ours(records: pl.DataFrame) -> pl.DataFrame:
    from lietsi.linkage.martyrs import link_martyrs

    links = link_martyrs(records, threshold=THRESHOLD).links
    return links.select(*KEYS, pl.col("martyr_id").alias("pred"))


def _ascii(col: str) -> pl.Expr:
    from unidecode import unidecode

    return (
        pl.col(col)
        .str.normalize("NFC")
        .map_batches(
            lambda s: s.replace_strict(
                (u := s.drop_nulls().unique()), [unidecode(v) for v in u.to_list()], default=None
            ),
            return_dtype=pl.String,
        )
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9 ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace("", None)
    )


def splink_input(records: pl.DataFrame) -> pl.DataFrame:
    """The records as a Splink user would clean them: lower-case ascii text, digits-only numbers."""
    return (
        records.with_row_index("unique_id")
        .select(
            pl.col("unique_id").cast(pl.Int64),
            _ascii("name_text").alias("full_name"),
            pl.col("birth_year").cast(pl.Int64),
            _ascii("hometown").alias("hometown"),
            pl.col("death_date"),
            pl.col("death_date").dt.year().alias("death_year"),
            _ascii("mother_name").alias("mother_name"),
            pl.col("certificate_no")
            .str.replace_all(r"\D", "")
            .str.strip_chars_start("0")
            .replace("", None)
            .alias("certificate"),
        )
        .with_columns(
            pl.col("full_name").str.split(" ").list.first().alias("surname"),
            pl.col("full_name").str.split(" ").list.last().alias("given"),
        )
    )


def run_splink(records: pl.DataFrame) -> pl.DataFrame:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = splink_input(records)
    birth_year = cl.CustomComparison(
        output_column_name="birth_year",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_year"),
            cll.AbsoluteDifferenceLevel("birth_year", 1),
            cll.AbsoluteDifferenceLevel("birth_year", 3),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("full_name", "birth_year"),
            block_on("surname", "given", "death_year"),
            block_on("certificate"),
            block_on("mother_name", "given"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("full_name", [0.95, 0.88]).configure(term_frequency_adjustments=True),
            birth_year,
            cl.JaroWinklerAtThresholds("hometown", [0.95, 0.85]),
            cl.AbsoluteDateDifferenceAtThresholds(
                "death_date", input_is_string=False, metrics=["day", "month", "year"], thresholds=[1, 1, 1]
            ),
            cl.JaroWinklerAtThresholds("mother_name", [0.95, 0.88]),
            cl.ExactMatch("certificate"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame.to_arrow()), settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("full_name", "birth_year", "hometown")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("full_name", "birth_year"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("certificate"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    result = pl.from_arrow(clusters.as_duckdbpyrelation().select("unique_id", "cluster_id").arrow())
    ids = records.with_row_index("unique_id").select(pl.col("unique_id").cast(pl.Int64), *KEYS)
    return ids.join(result.cast({"unique_id": pl.Int64}), on="unique_id").select(
        *KEYS, pl.col("cluster_id").cast(pl.String).alias("pred")
    )


SYSTEMS = {"ours": run_ours, "splink": run_splink}


def _child(system: str, folder: Path, out: Path) -> None:
    records = pl.read_parquet(folder / "records.parquet")
    start = time.perf_counter()
    SYSTEMS[system](records).write_parquet(out)
    report(linking_s=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Measurement


def measure(system: str, folder: Path) -> dict[str, float | str]:
    from lietsi.stats import pairwise_metrics

    out = folder / f"pred-{system}.parquet"
    child = run_child(["benchmarks.linkage", "--child", system, "--data", str(folder), "--out", str(out)])
    if "error" in child:
        return {"system": system, "error": child["error"]}
    truth = pl.read_parquet(folder / "truth.parquet")
    metrics = pairwise_metrics(pl.read_parquet(out), truth, KEYS)
    return {
        "system": system,
        "records": pl.scan_parquet(folder / "records.parquet").select(pl.len()).collect().item(),
        "wall_s": child["wall_s"],
        "linking_s": child["linking_s"],
        "peak_gb": child["peak_bytes"] / 1024**3,
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "f1": metrics["f1"],
    }


def table(rows: list[dict]) -> str:
    head = "| scale | system | records | wall (s) | linking (s) | peak RSS (GB) | precision | recall | F1 |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['scale']} | {r['system']} | failed: {r['error']} |||||||")
            continue
        lines.append(
            f"| {r['scale']} | {r['system']} | {r['records']:,} | {r['wall_s']:.1f} | {r['linking_s']:.1f} | "
            f"{r['peak_gb']:.2f} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="both")
    parser.add_argument("--system", choices=[*SYSTEMS, "both"], default="both")
    parser.add_argument("--child", choices=list(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        _child(args.child, args.data, args.out)
        return 0
    rows = []
    scales = list(SCALES) if args.scale == "both" else [args.scale]
    systems = list(SYSTEMS) if args.system == "both" else [args.system]
    for scale in scales:
        folder = prepare(scale)
        for system in systems:
            row = {"scale": scale, **measure(system, folder)}
            print(re.sub(r"\s+", " ", json.dumps(row)), flush=True)
            rows.append(row)
    print(table(rows))
    failed = [r for r in rows if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
