"""Is the expected gain of `marts.next_actions` real? Demo province → follow-up → re-run.

The demo province (Kiên Giang, 1,826 martyrs, seed 7) is generated and run as `make demo` runs it;
the generator then carries out the top N ranked actions (`lietsi.synth.follow_up`: relatives
sampled, failed samples re-tested, whole mitogenomes, each result failing at a realistic rate) and
the pipeline runs again on the inbox with the follow-up drop. Printed per action kind: actions
applied, their expected identifications (the sum of `expected_identifications`), the standard
deviation of that count (each action a Bernoulli trial), and the observed gain: subjects of those
actions identified (`proposed` or `confirmed`) after the re-run and not before, with how many are
right by the truth; and the province's change in `proposed` + `confirmed`, which also counts
losses (a new reference can become a competitor of an existing proposal).

Run: `python -m benchmarks.next_actions [--top 400] [--seed 7]` (`make bench` runs the default).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.identification import run_on
from lietsi.matching.evaluation import martyr_uid_map
from lietsi.synth import generate
from lietsi.synth.config import config
from lietsi.synth.follow_up import APPLIED, write_follow_up
from lietsi.truth import TruthFolder

CACHE = Path(__file__).resolve().parent.parent / "data" / "bench" / "next_actions"
PROVINCE, MARTYRS, SEED = "Kiên Giang", 1826, 7
TOP = 400
NAMED = ("proposed", "confirmed")


def identified(warehouse: Path, truth: Path) -> pl.DataFrame:
    """remains_id, martyr_id, status, correct: the run's proposed and confirmed pairs."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = con.sql("SELECT remains_id, martyr_id, status FROM marts.identifications").pl()
        links = con.sql("SELECT source, source_record_id, martyr_id FROM core.martyr_links").pl()
    folder = TruthFolder(truth)
    truth_remains = folder.read("remains").select("remains_id", true_uid="martyr_uid")
    uid_map = martyr_uid_map(links, folder.read("martyr_records"))
    return (
        ids.filter(pl.col("status").is_in(NAMED))
        .join(uid_map, on="martyr_id", how="left")
        .join(truth_remains, on="remains_id", how="left")
        .select(
            "remains_id",
            "martyr_id",
            "status",
            correct=(pl.col("martyr_uid") == pl.col("true_uid")).fill_null(False),
        )
    )


def gain_table(chosen: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Per action kind: applied actions, expected and observed identifications gained.

    `chosen`: the applied actions (action, subject_kind, subject_id, expected_identifications);
    a subject counts as gained when it is in `after` (remains id or martyr id) and not in `before`."""
    new = after.join(before.select("remains_id", "martyr_id"), on=["remains_id", "martyr_id"], how="anti")
    gained_remains = dict(new.select("remains_id", "correct").iter_rows())
    gained_martyrs = dict(new.select("martyr_id", "correct").iter_rows())
    rows = []
    for (action,), group in chosen.group_by("action", maintain_order=True):
        p = group["expected_identifications"]
        hits = [
            (gained_remains if kind == "remains" else gained_martyrs).get(subject)
            for kind, subject in group.select("subject_kind", "subject_id").iter_rows()
        ]
        rows.append(
            {
                "action": action,
                "applied": group.height,
                "expected": float(p.sum()),
                "sd": math.sqrt(float((p * (1 - p)).sum())),
                "observed": sum(h is not None for h in hits),
                "right": sum(h is True for h in hits),
            }
        )
    schema = {"action": pl.String, "applied": pl.Int64, "expected": pl.Float64, "sd": pl.Float64,
              "observed": pl.Int64, "right": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).sort("action")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--martyrs", type=int, default=MARTYRS)
    args = parser.parse_args(argv)
    folder = CACHE / f"demo-{args.martyrs}-seed{args.seed}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, PROVINCE, args.martyrs, args.seed, config=config("demo"))
    run_on(folder)
    warehouse, truth = folder / "warehouse.duckdb", folder / "truth"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        actions = con.sql("SELECT * FROM marts.next_actions WHERE rank IS NOT NULL ORDER BY rank").pl()
    before = identified(warehouse, truth)
    shutil.copy(warehouse, folder / "warehouse_before.duckdb")
    drop = write_follow_up(folder, warehouse, args.top, seed=args.seed)
    run_on(folder)
    after = identified(warehouse, truth)
    # The follow-up carries out the top N in rank order; an action it cannot carry out (a relative
    # still to be asked for consent, a donor it cannot trace) is left out of the expectation too.
    top = actions.head(args.top)
    applicable = top.filter(pl.col("action").is_in(APPLIED))
    table = gain_table(applicable, before, after)
    print(
        f"demo province, seed {args.seed}: top {args.top} actions "
        f"({top['cost_vnd'].sum() / 1e6:,.0f} million đồng); applied {dict(drop.applied)}, "
        f"not applicable {dict(drop.skipped)}; {len(drop.results)} lab results "
        f"({sum(r['Chất lượng'] != 'Đạt' for r in drop.results)} failed)"
    )
    print("| action | applied | expected | sd | observed (subjects newly identified) | of them right |")
    print("|---|---|---|---|---|---|")
    for r in table.iter_rows(named=True):
        print(
            f"| {r['action']} | {r['applied']} | {r['expected']:.2f} | {r['sd']:.2f} | {r['observed']} "
            f"| {r['right']} |"
        )
    total_sd = math.sqrt(float((table["sd"] ** 2).sum()))
    print(
        f"| all | {table['applied'].sum()} | {table['expected'].sum():.2f} | {total_sd:.2f} | "
        f"{table['observed'].sum()} | {table['right'].sum()} |"
    )
    counts = {
        name: {s: frame.filter(pl.col("status") == s).height for s in NAMED}
        for name, frame in (("before", before), ("after", after))
    }
    print(
        f"province proposed + confirmed: {sum(counts['before'].values())} → "
        f"{sum(counts['after'].values())} ({counts}); right: {before['correct'].sum()} → "
        f"{after['correct'].sum()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
