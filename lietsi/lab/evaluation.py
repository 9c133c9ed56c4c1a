"""Lab profiles against the synthetic truth (the generator's `samples.csv`): haplotype and haplogroup
agreement, failed samples caught. Only for generated inboxes; a province's run has no truth."""

from __future__ import annotations

import polars as pl

from lietsi.lab.haplogroups import is_within
from lietsi.lab.mtdna import format_variants, parse_range, parse_variants, restrict

EVALUATION_SCHEMA = {"metric": pl.Utf8, "value": pl.Float64, "n": pl.Int64}


def evaluate_against_truth(
    profiles: pl.DataFrame, quarantine: pl.DataFrame, truth: pl.DataFrame
) -> pl.DataFrame:
    """Per-sample comparison with the generator's samples.csv."""
    joined = profiles.join(
        truth.select(
            "sample_id",
            pl.col("haplotype").alias("true_haplotype"),
            pl.col("haplogroup").alias("true_haplogroup"),
            pl.col("range").alias("true_range"),
        ),
        on="sample_id",
        how="inner",
    )
    haplotype_ok = [
        format_variants(restrict(parse_variants(t or ""), parse_range(r))) == h
        for r, h, t in joined.select("range", "haplotype", "true_haplotype").iter_rows()
    ]
    full = joined.filter(pl.col("full_control_region"))
    pairs = list(full.select("haplogroup", "true_haplogroup").iter_rows())
    exact = [p == t for p, t in pairs]
    # The answer is the truth or an ancestor of it: less specific where the control region cannot
    # tell subclades apart, never contradicting.
    consistent = [bool(p and t and is_within(t, p)) for p, t in pairs]
    nested = [bool(p and t and (is_within(p, t) or is_within(t, p))) for p, t in pairs]
    failed = truth.filter(pl.col("failed").str.to_lowercase() == "true")["sample_id"].to_list()
    caught = quarantine["raw"].str.json_path_match("$.sample_id").is_in(failed).sum() if failed else 0
    failed_in_profiles = profiles["sample_id"].is_in(failed).sum() if failed else 0

    def rate(flags: list[bool]) -> float:
        return round(sum(flags) / len(flags), 4) if flags else 0.0

    rows = [
        ("profiles_with_truth", float(joined.height), joined.height),
        ("haplotype_agreement", rate(haplotype_ok), len(haplotype_ok)),
        ("haplogroup_agreement_full_cr", rate(exact), len(exact)),
        ("haplogroup_consistent_full_cr", rate(consistent), len(consistent)),
        ("haplogroup_same_lineage_full_cr", rate(nested), len(nested)),
        ("failed_samples", float(len(failed)), len(failed)),
        ("failed_results_quarantined", float(caught), len(failed)),
        ("failed_samples_with_profile", float(failed_in_profiles), len(failed)),
    ]
    return pl.DataFrame(rows, schema=EVALUATION_SCHEMA, orient="row")
