"""Martyr linkage end to end: units, features, blocking, model, clustering, ids and golden records."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lietsi.linkage.blocking import block_pairs
from lietsi.linkage.clustering import cluster, unscored_component_pairs
from lietsi.linkage.comparison import compare
from lietsi.linkage.features import martyr_features, unit_frame
from lietsi.linkage.golden import golden_martyrs
from lietsi.linkage.ids import stable_ids
from lietsi.linkage.model import TF_FIELDS, FSModel, estimate_u, score, term_frequencies, train
from lietsi.linkage.records import martyr_records, split_unusable


@dataclass
class LinkageResult:
    links: pl.DataFrame  # one row per input row: source, source_record_id, file, row_number, martyr_id
    martyrs: pl.DataFrame  # golden records
    pairs: pl.DataFrame  # scored candidate pairs (uid_l, uid_r, levels, weights)
    model: FSModel
    stats: dict[str, int | float]


def link_martyrs(
    records: pl.DataFrame,
    *,
    threshold: float = 0.9,
    default_province: str | None = None,
    max_block: int = 400,
    u_sample: int = 200_000,
) -> LinkageResult:
    """Link martyr records into resolved martyrs (see the module docstring for the method)."""
    units, row_map = unit_frame(records)
    features = martyr_features(units, default_province).with_columns(
        (pl.col("death_date_precision") == "day").alias("death_precision_day")
    )
    pairs, stats = block_pairs(features, max_block=max_block)
    u = estimate_u(features, u_sample)
    levels = compare(features, pairs)
    model = train(levels, u)
    model.tf = {name: term_frequencies(features, col) for name, (col, _) in TF_FIELDS.items()}
    scored = score(levels, model)
    # Pairs that a chain of links puts in one component without being blocked together are scored
    # too, so that the clustering sees when the model rejects one of them.
    unseen = unscored_component_pairs(features.height, scored, threshold)
    if unseen.height:
        scored = pl.concat([scored, score(compare(features, unseen), model)], how="diagonal_relaxed")
    stats["component pairs scored after blocking"] = unseen.height
    clusters, cstats = cluster(features, scored, threshold)
    stats.update(cstats)
    members = row_map.join(clusters, on="uid").join(units.select("uid", "source_record_id"), on="uid")
    ids = stable_ids(members, "cluster", "LS-", "martyr_id")
    links = (
        members.join(ids, on="cluster")
        .join(scored_best(scored, clusters), on="uid", how="left")
        .select("source", "source_record_id", "file", "row_number", "martyr_id", "uid", "link_probability")
        .sort("source", "file", "row_number")
    )
    martyrs = golden_martyrs(features, clusters, ids)
    stats.update(
        {
            "records": records.height,
            "units": units.height,
            "martyrs": martyrs.height,
            "em_iterations": model.iterations,
            "em_prior": model.prior,
        }
    )
    return LinkageResult(links=links, martyrs=martyrs, pairs=scored, model=model, stats=stats)


def scored_best(scored: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Per unit, the best probability of a pair inside its cluster (1.0 for a singleton: nothing to link)."""
    inside = (
        scored.select("uid_l", "uid_r", "match_probability")
        .join(clusters.rename({"uid": "uid_l", "cluster": "c_l"}), on="uid_l")
        .join(clusters.rename({"uid": "uid_r", "cluster": "c_r"}), on="uid_r")
        .filter(pl.col("c_l") == pl.col("c_r"))
    )
    best = (
        pl.concat(
            [
                inside.select(pl.col("uid_l").alias("uid"), "match_probability"),
                inside.select(pl.col("uid_r").alias("uid"), "match_probability"),
            ]
        )
        .group_by("uid")
        .agg(pl.col("match_probability").max().alias("link_probability"))
    )
    return (
        clusters.select("uid")
        .join(best, on="uid", how="left")
        .with_columns(pl.col("link_probability").fill_null(1.0))
    )


def link_martyr_rows(
    registry: pl.DataFrame | None,
    phieu_01: pl.DataFrame | None,
    phieu_02: pl.DataFrame | None,
    threshold: float = 0.9,
    max_block: int = 400,
) -> tuple[LinkageResult, pl.DataFrame]:
    """The martyr rows of the three sources linked, and quarantine rows for those with no usable name."""
    records, quarantine = split_unusable(martyr_records(registry, phieu_01, phieu_02))
    return link_martyrs(records, threshold=threshold, max_block=max_block), quarantine
