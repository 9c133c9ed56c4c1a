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


def test_a_child_step_reports_its_own_peak_memory_not_its_parents():
    """Issue 18: a child started by a parent holding the generated data reported the parent's peak
    (Linux carries ru_maxrss across exec). `benchmarks._process` reads the child's own."""
    from benchmarks._process import run_child

    held = bytearray(400 * 1024**2)
    held[::4096] = b"x" * len(held[::4096])  # touch every page: resident, not just reserved
    child = run_child(["benchmarks._process"])
    assert child["wall_s"] > 0
    assert child["peak_bytes"] < 200 * 1024**2 < len(held)


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
