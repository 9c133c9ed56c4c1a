"""Clustering with safeguards: connected components of accepted pairs, rebuilt from their
strongest edges where two certificates, two mothers, two sexes or a rejected pair would meet.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lietsi.graphs import constrained_union
from lietsi.linkage.features import normalise_certificate
from lietsi.names import name_frame


def mothers_conflict(a: str, b: str) -> bool:
    """Two mothers' names that clearly disagree (not a typo, variant or abbreviation of each other)."""
    if a == b:
        return False
    ga, gb = a.split()[-1].rstrip("."), b.split()[-1].rstrip(".")
    if ga.startswith(gb) or gb.startswith(ga):
        return False
    # Given names more than one keystroke apart: `Huệ`/`Thúy` conflict even though the whole names
    # (`Nguyễn Thị Huệ`/`Nguyễn Thị Thúy`) are close by Jaro-Winkler; `Huệ`/`Hệu` is a typo.
    return OSA.distance(ga, gb) > 1


Attrs = tuple[frozenset[str], ...]


def _martyr_conflict(a: Attrs, b: Attrs) -> bool:
    certs, sexes = a[0] | b[0], a[2] | b[2]
    if len(certs) > 1 or len(sexes) > 1:
        return True
    return any(mothers_conflict(x, y) for x in a[1] for y in b[1])


def safeguard_violations(frame: pl.DataFrame) -> pl.DataFrame:
    """Clusters holding two certificate numbers, two clearly different mothers or two sexes.

    `frame` has one row per record: `cluster`, `cert` (normalised), `mother_variant`, `sex`.
    """
    per = frame.group_by("cluster").agg(
        pl.col("cert").drop_nulls().unique().alias("certs"),
        pl.col("mother_variant").drop_nulls().unique().alias("mothers"),
        pl.col("sex").drop_nulls().unique().alias("sexes"),
    )
    rows = []
    for cluster_id, certs, mothers, sexes in per.filter(
        (pl.col("certs").list.len() > 1)
        | (pl.col("mothers").list.len() > 1)
        | (pl.col("sexes").list.len() > 1)
    ).iter_rows():
        if len(certs) > 1:
            rows.append((cluster_id, "two certificate numbers"))
        if len(sexes) > 1:
            rows.append((cluster_id, "two sexes"))
        if any(mothers_conflict(a, b) for i, a in enumerate(mothers) for b in mothers[i + 1 :]):
            rows.append((cluster_id, "two different mothers"))
    return pl.DataFrame(rows, schema={"cluster": per.schema["cluster"], "violation": pl.String}, orient="row")


def violations_from_links(records: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Safeguard violations of stored links (`source, file, row_number, martyr_id`) over raw records."""
    mothers = name_frame(records["mother_name"], pl.Series(["Nữ"] * records.height))["key_variant"]
    frame = records.select(
        "source", "file", "row_number", normalise_certificate("certificate_no").alias("cert"), "sex"
    )
    frame = frame.with_columns(mothers.alias("mother_variant")).join(
        links.select("source", "file", "row_number", pl.col("martyr_id").alias("cluster")),
        on=["source", "file", "row_number"],
    )
    return safeguard_violations(frame)


# A pair the model scores below this probability is taken as two different martyrs: no cluster may
# hold both, even when a chain of strong links (through a record that says little, like a year-only
# death date and no mother) would join them.
REJECT_PROBABILITY = 0.05


def cluster(
    features: pl.DataFrame, scored: pl.DataFrame, threshold: float, reject: float = REJECT_PROBABILITY
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Connected components of pairs with probability ≥ threshold, split where a safeguard breaks.

    A component is rebuilt from its strongest edges, refusing unsafe merges, when it holds two
    certificate numbers, two clearly different mothers, two sexes, or a pair scored below `reject`.
    Returns a frame `uid, cluster` (cluster = smallest uid of the cluster) and counts.
    """
    n = features.height
    edges = scored.filter(pl.col("match_probability") >= threshold).select("uid_l", "uid_r", "match_weight")
    graph = coo_matrix(
        (np.ones(edges.height), (edges["uid_l"].to_numpy(), edges["uid_r"].to_numpy())), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    comp = pl.DataFrame({"uid": np.arange(n, dtype=np.int64), "component": labels.astype(np.int64)})
    checked = comp.rename({"component": "cluster"}).join(
        features.select("uid", "cert", "mother_variant", "sex"), on="uid"
    )
    low = scored.filter(pl.col("match_probability") < reject).select("uid_l", "uid_r")
    rejected = low.with_columns(
        pl.Series("c_l", labels[low["uid_l"].to_numpy()]), pl.Series("c_r", labels[low["uid_r"].to_numpy()])
    ).filter(pl.col("c_l") == pl.col("c_r"))
    unsafe = set(safeguard_violations(checked)["cluster"].to_list())
    split = set(rejected["c_l"].to_list())
    stats = {
        "accepted pairs": edges.height,
        "components rebuilt by safeguards": len(unsafe),
        "components rebuilt for a rejected pair inside": len(split - unsafe),
    }
    if unsafe or split:
        pairs = set(zip(rejected["uid_l"].to_list(), rejected["uid_r"].to_list(), strict=True))
        comp = _rebuild(features, comp, edges, unsafe | split, pairs, stats)
    out = comp.with_columns(pl.col("uid").min().over("component").alias("cluster")).select("uid", "cluster")
    return out, stats


def unscored_component_pairs(
    n: int, scored: pl.DataFrame, threshold: float, max_size: int = 200
) -> pl.DataFrame:
    """Pairs inside the components of pairs ≥ threshold that blocking did not produce."""
    edges = scored.filter(pl.col("match_probability") >= threshold)
    graph = coo_matrix(
        (np.ones(edges.height), (edges["uid_l"].to_numpy(), edges["uid_r"].to_numpy())), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    members = pl.DataFrame(
        {"uid": np.arange(n, dtype=np.int64), "component": labels.astype(np.int64)}
    ).filter(pl.len().over("component").is_between(3, max_size))
    return (
        members.join(members, on="component", suffix="_r")
        .filter(pl.col("uid") < pl.col("uid_r"))
        .select(pl.col("uid").alias("uid_l"), pl.col("uid_r"))
        .join(scored.select("uid_l", "uid_r"), on=["uid_l", "uid_r"], how="anti")
    )


def _rebuild(
    features: pl.DataFrame,
    comp: pl.DataFrame,
    edges: pl.DataFrame,
    suspect: set[int],
    rejected: set[tuple[int, int]],
    stats: dict[str, int],
) -> pl.DataFrame:
    """Re-cluster the suspect components from their strongest edges, refusing unsafe merges."""
    members = comp.filter(pl.col("component").is_in(list(suspect)))
    info = members.join(features.select("uid", "cert", "mother_variant", "sex"), on="uid")
    attrs: dict[int, Attrs] = {
        uid: (*(frozenset([v]) if v else frozenset() for v in (cert, mother, sex)), frozenset([uid]))
        for uid, _, cert, mother, sex in info.iter_rows()
    }

    def conflict(a: Attrs, b: Attrs) -> bool:
        if _martyr_conflict(a, b):
            return True
        return any((min(x, y), max(x, y)) in rejected for x in a[3] for y in b[3])

    sub = edges.filter(pl.col("uid_l").is_in(list(attrs))).sort("match_weight", descending=True)
    roots, refused = constrained_union(attrs, list(zip(sub["uid_l"], sub["uid_r"], strict=True)), conflict)
    stats["merges refused by safeguards"] = refused
    offset = int(comp["component"].max()) + 1
    new = pl.DataFrame(
        {"uid": list(roots), "new_component": [offset + r for r in roots.values()]},
        schema={"uid": pl.Int64, "new_component": pl.Int64},
    )
    return (
        comp.join(new, on="uid", how="left")
        .with_columns(pl.coalesce("new_component", "component").alias("component"))
        .drop("new_component")
    )
