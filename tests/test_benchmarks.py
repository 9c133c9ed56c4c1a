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
