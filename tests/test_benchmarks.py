"""`make bench` is not run by CI: at least every benchmark module must import and build its data."""

import importlib
import pkgutil

import benchmarks


def test_every_benchmark_module_imports_and_has_main():
    names = [m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")]
    assert {"linkage", "matching", "identification", "province"} <= set(names)
    for name in names:
        assert callable(importlib.import_module(f"benchmarks.{name}").main)


def test_matching_benchmark_profiles_are_canonical_haplotypes():
    from benchmarks.matching import CR, synthetic_profiles
    from lietsi.lab.mtdna import format_variants, parse_variants

    frame = synthetic_profiles(50, "R", [(CR, 1.0)], seed=1)
    assert frame.height == 50
    for text in frame["haplotype"]:
        assert format_variants(parse_variants(text)) == text
