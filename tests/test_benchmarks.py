"""`make bench` is not run by CI: at least every benchmark module must import and build its data."""

import importlib
import pkgutil

import pytest

import benchmarks


def test_every_benchmark_module_imports_and_has_main():
    names = [m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")]
    assert {"linkage", "matching", "identification", "province", "national_scale"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"benchmarks.{name}").main)


def test_matching_benchmark_profiles_are_canonical_haplotypes():
    from benchmarks.matching import CR, synthetic_profiles
    from lietsi.lab.mtdna import format_variants, parse_variants

    frame = synthetic_profiles(50, "R", [(CR, 1.0)], seed=1)
    assert frame.height == 50
    for text in frame["haplotype"]:
        assert format_variants(parse_variants(text)) == text


def test_national_benchmark_scores_proposals_against_the_country_truth(tmp_path):
    """Right martyr = right province and right man; out-of-province names counted apart; a remains
    of a martyr nobody sent named is a wrong proposal; a review row is not a name."""
    import polars as pl

    from benchmarks.national import Country, judge, measure

    def frame(rows, columns):
        return pl.DataFrame(rows, schema=columns, orient="row")

    ids = ["province_code", "remains_id", "martyr_province_code", "martyr_id", "status"]
    country = Country(
        folder=tmp_path,
        codes={"01": "A", "02": "B"},
        truth=frame(
            [
                ("01", "r1", "01", "u1"),
                ("01", "r2", "02", "u1"),
                ("01", "r3", "", ""),
                ("02", "r4", "02", "u2"),
                ("02", "r5", "01", "u1"),
            ],
            ["province_code", "remains_id", "martyr_province_code", "martyr_uid"],
        ),
        uid_map=frame(
            [("m1", "u1", "01"), ("n1", "u1", "02"), ("n2", "u2", "02")],
            ["martyr_id", "martyr_uid", "province_code"],
        ),
        province_rows=frame(
            [("01", "r1", "01", "m1", "proposed"), ("02", "r4", "02", "n1", "proposed")], ids
        ),
        profiled=frame([("01", "r2")], ["province_code", "remains_id"]),
    )
    national = frame(
        [
            ("01", "r1", "01", "m1", "proposed"),
            ("01", "r2", "02", "n1", "proposed"),
            ("01", "r3", "02", "n2", "proposed"),
            ("02", "r5", "01", "m1", "needs_review"),
        ],
        ids,
    )
    assert judge(country, national)["correct"].to_list() == [True, True, False, True]
    total = measure(country, national).row(-1, named=True)
    assert (total["remains"], total["other"], total["other_registered"], total["other_profiled"]) == (
        5,
        2,
        2,
        1,
    )
    assert total["own_registered"] == 2
    assert (total["national_other_named"], total["national_other_top"], total["national_own_named"]) == (
        1,
        2,
        1,
    )
    assert (total["national_proposed"], total["national_precision"]) == (3, 2 / 3)
    assert (total["province_other_named"], total["province_own_named"], total["province_precision"]) == (
        0,
        1,
        0.5,
    )
    a = measure(country, None).row(0, named=True)
    assert a["province"] == "A (01)" and "national_proposed" not in a


def test_a_child_step_reports_its_own_peak_memory_not_its_parents():
    """Issue 18: a child started by a parent holding the generated data reported the parent's peak
    (Linux carries ru_maxrss across exec). `benchmarks._process` reads the child's own."""
    from benchmarks._process import run_child

    held = bytearray(400 * 1024**2)
    held[::4096] = b"x" * len(held[::4096])  # touch every page: resident, not just reserved
    child = run_child(["benchmarks._process"])
    assert child["wall_s"] > 0
    assert child["peak_bytes"] < 200 * 1024**2 < len(held)


def test_a_failed_child_step_keeps_its_whole_traceback(tmp_path):
    """The table keeps one line of a failed step; where it failed (the frame that ran out of
    memory at 100%) is in the traceback, kept in the step's log."""
    from benchmarks._process import run_child

    log = tmp_path / "weigh.stderr"
    args = ["benchmarks.national_scale", "--child", "weigh", "--data", str(tmp_path), "--fractions", "0.01"]
    child = run_child(args, log=log)
    assert "prepared.pickle" in child["error"]
    kept = log.read_text(encoding="utf-8")
    assert kept.startswith("Traceback") and "run_step" in kept and child["error"] in kept


def test_national_scale_tables_say_which_steps_finished():
    from benchmarks.national_scale import curve, table

    rows = [
        {"fraction": 0.1, "step": "read", "compute_s": 1.0, "wall_s": 2.0, "peak_bytes": 1024**3, "rows": 5},
        {"fraction": 0.1, "step": "search", "error": "MemoryError", "wall_s": 30.0},
    ]
    assert "| 10% | search | failed after 30 s: MemoryError" in table(rows)
    assert "| 10% | 32 | 1.00 | no |" in curve(rows, [0.1])


@pytest.mark.slow
def test_national_scale_runs_the_country_step_by_step(tmp_path, capsys):
    """The scale benchmark end to end on a tiny country: every step in its own process, the tables,
    the accuracy against the truth (a minute: slow)."""
    from benchmarks.national_scale import STEPS, main

    assert main(["--fractions", "0.001", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for step in STEPS:
        assert f"| 0.1% | {step} |" in out
    assert "| 0.1% |" in out.split("| fraction | end to end (s)")[1]
    assert "proposed correct" in out
    assert (tmp_path / "0.001-seed7" / "work" / "identifications.parquet").exists()


def test_identification_benchmark_pools_seeds_and_tells_noise_from_a_systematic_gap():
    """Two seeds of one configuration pool into one reliability table; a bin outside ±0.05 whose
    expected share lies inside the observed share's Wilson interval is counted apart."""
    from benchmarks.identification import misses, pooled

    def run(posterior, correct):
        return {"judged": {"posterior": (posterior, correct)}}

    # Seed A: 20 pairs at 0.3, 8 right (+0.10: 0.3 is inside Wilson [0.22, 0.61]).
    # Seed B: 20 pairs at 0.3, 14 right (+0.40: 0.3 is below Wilson [0.48, 0.85]).
    by_seed = {
        1: {"demo": run([0.3] * 20, [True] * 8 + [False] * 12)},
        2: {"demo": run([0.3] * 20, [True] * 14 + [False] * 6)},
    }
    table, _ = pooled(by_seed)["demo"]["calibration"]["posterior"]
    bin_ = table.filter(table["pairs"] > 0).row(0, named=True)
    assert (bin_["pairs"], bin_["correct"]) == (40, 22)
    assert misses(table) == "1 of 1 / 1"
    alone, _ = pooled({1: by_seed[1]})["demo"]["calibration"]["posterior"]
    assert misses(alone) == "1 of 1 / 0"


def test_identification_benchmark_reports_each_seeds_outside_share_error():
    """The pooled table states, per seed, how far the estimated p_outside is from the true share of
    other provinces' remains: an error of one sign on every seed is systematic, not noise."""
    from benchmarks.identification import pooled, pooled_table

    def run(estimated, true):
        return {"judged": {"posterior": ([0.3] * 20, [True] * 6 + [False] * 14)},
                "p_outside": estimated, "p_outside_true": true}  # fmt: skip

    together = pooled(
        {1: {"demo": run(0.30, 0.37)}, 2: {"demo": run(0.40, 0.38)}, 3: {"demo": run(None, 0.4)}}
    )
    assert together["demo"]["p_outside_errors"] == pytest.approx([-0.07, 0.02])
    assert "| -0.070, +0.020 |" in pooled_table(together)
