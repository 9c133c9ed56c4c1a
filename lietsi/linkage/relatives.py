"""Relative linkage: the same living relative on several form rows, and the martyr families that
say which rows may concern one person.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA
from rapidfuzz.process import cpdist

from lietsi.graphs import UnionFind, constrained_union
from lietsi.linkage.clustering import Attrs, mothers_conflict
from lietsi.linkage.features import address_key, hamlet_key
from lietsi.linkage.golden import RELATIVES_SCHEMA, golden_relatives
from lietsi.linkage.ids import stable_ids
from lietsi.linkage.records import relative_records
from lietsi.names import name_frame, written_alike
from lietsi.places import most_common_province, place_frame


def martyr_families(martyrs: pl.DataFrame) -> pl.DataFrame:
    """`martyr_id, family, lineage, mother`: keys that martyrs of one family share (`lineage`: the
    key is only a lineage's), and the martyr's mother (variant key).

    A martyr is his own family; martyrs from one hometown with the same mother (or father) are
    siblings — unless their mothers clearly differ (`_related_pairs`). A relative named for two
    martyrs of one family (a sister, on the forms of both her fallen brothers) is one person far
    more often than two namesakes: families avoid giving a living member's name to a child.
    Martyrs of one surname and home commune whose parents are not both on record may be one
    lineage (cousins, or brothers whose mother one record leaves out): weaker, see `_name_pairs`.
    """
    n = martyrs.height
    place = pl.coalesce("hometown_commune_code", "hometown_district_code", "hometown_province_code")
    frame = martyrs.select("martyr_id", "hometown_commune_code", place.alias("_place")).with_columns(
        name_frame(martyrs["mother_name"], pl.Series(["Nữ"] * n))["key_variant"].alias("_mother"),
        name_frame(martyrs["father_name"], pl.Series(["Nam"] * n))["key_variant"].alias("_father"),
        name_frame(martyrs["full_name"], pl.Series(["Nam"] * n))["surname_variant"].alias("_surname"),
    )
    keys = (
        (pl.col("martyr_id"), False),
        (pl.concat_str([pl.lit("m"), "_mother", "_place"], separator="|"), False),
        (pl.concat_str([pl.lit("f"), "_father", "_place"], separator="|"), False),
        (pl.concat_str([pl.lit("l"), "_surname", "hometown_commune_code"], separator="|"), True),
    )
    return pl.concat(
        [
            frame.select(
                "martyr_id",
                key.alias("family"),
                pl.lit(lineage).alias("lineage"),
                pl.col("_mother").alias("mother"),
            )
            for key, lineage in keys
        ],
        how="vertical_relaxed",
    ).drop_nulls("family")


def _related_pairs(
    frame: pl.DataFrame, martyr_links: pl.DataFrame | None, families: pl.DataFrame | None
) -> pl.DataFrame:
    """(rid, rid_r, related, lineage) of relative rows whose martyrs are one family (or whose form is
    the same) — or, `related` false, only one lineage."""
    keys = [
        frame.select(
            "rid",
            pl.concat_str(["source", "file", "source_record_id"], separator="|").alias("family"),
            pl.lit(False).alias("lineage"),
            pl.lit(None, pl.String).alias("mother"),
        )
    ]
    if martyr_links is not None and families is not None:
        keys.append(
            frame.select("rid", "source", "file", "row_number")
            .join(
                martyr_links.select("source", "file", "row_number", "martyr_id"),
                on=["source", "file", "row_number"],
            )
            .join(families, on="martyr_id")
            .select("rid", "family", "lineage", "mother")
        )
    fam = pl.concat(keys).drop_nulls("family").unique()
    pairs = (
        fam.join(fam, on="family", suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .group_by("rid", "rid_r")
        .agg(
            (~pl.col("lineage")).any().alias("related"),
            pl.col("mother").drop_nulls().first(),
            pl.col("mother_r").drop_nulls().first(),
        )
    )
    # Two martyrs of one father's name (or one lineage) in one commune whose mothers clearly differ
    # are two families: a namesake on each one's forms is two people.
    # Judged once per pair of mothers: a commune's lineage key relates many rows of few mothers.
    mothers = pairs.select("mother", "mother_r").drop_nulls().unique()
    apart = mothers.filter(
        pl.Series([mothers_conflict(a, b) for a, b in mothers.iter_rows()], dtype=pl.Boolean)
    )
    return (
        pairs.join(apart, on=["mother", "mother_r"], how="anti")
        .select("rid", "rid_r", "related", pl.lit(True).alias("lineage"))
        .sort("rid", "rid_r")
    )


def _canonical_ids(cids: pl.DataFrame, edges: pl.DataFrame) -> dict[str, str]:
    """Citizen-id hash → one id for all the hashes `edges` (pairs of hashes) say belong to one person."""
    uf: UnionFind[str] = UnionFind()
    for a, b in edges.iter_rows():
        uf.union(a, b)
    return {c: uf.find(c) for c in cids["cid"].drop_nulls().unique().to_list() if c in uf}


_SAME_FORM = (pl.col("file") == pl.col("file_r")) & (
    pl.col("source_record_id") == pl.col("source_record_id_r")
)
_SAME_TONELESS = (pl.col("key_toneless") == pl.col("key_toneless_r")).fill_null(False)
# Two hamlets (`Ấp 5` / `Ấp 8` of one commune) are two households: a name, birth year and commune in
# common are not enough there. Only a citizen id links across them (`_one_person`); name pairs check
# it too because they also decide which citizen ids are one mistyped id.
_HAMLETS_AGREE = ~(pl.col("hamlet") != pl.col("hamlet_r")).fill_null(False)


def relative_features(records: pl.DataFrame, default_province: str | None) -> pl.DataFrame:
    """Relative records numbered (`rid`) with name keys, address units, the valid citizen-id hash (`cid`)."""
    frame = records.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64))
    names = name_frame(frame["name_text"], frame["sex"]).select(
        "name_full", "key_toneless", "key_ascii", "key_variant", "given_variant"
    )
    if default_province is None:
        default_province = most_common_province(frame["address"])
    addr = place_frame(frame["address"], default_province, prefix="addr_").select(
        "addr_commune", "addr_district", "addr_province", "addr_commune_code"
    )
    frame = (
        pl.concat([frame, names, addr], how="horizontal")
        .with_columns(
            pl.when(pl.col("citizen_id_valid").fill_null(True)).then(pl.col("citizen_id_hash")).alias("cid"),
            address_key("address").alias("addr_key"),
            pl.col("address").map_elements(hamlet_key, return_dtype=pl.String).alias("hamlet"),
        )
        .with_columns(pl.coalesce("addr_commune_code", "addr_key").alias("addr_block"))
    )
    return frame


def _name_pairs(frame: pl.DataFrame, related: pl.DataFrame) -> pl.DataFrame:
    """Pairs of rows with one name and address whose birth years, names and phones agree."""
    side = frame.drop_nulls(["key_variant", "addr_block"]).select(
        "rid",
        "key_variant",
        "key_toneless",
        "addr_block",
        "hamlet",
        "birth_year",
        "birth_year_approx",
        "phone_hash",
        "cid",
        "source",
        "file",
        "source_record_id",
    )
    # Birth years equal, or one year apart when either is approximate; a year missing on one side
    # (form 01 does not ask it) only between rows of one martyr family, or of one lineage when both
    # rows name the same hamlet.
    gap = (pl.col("birth_year") - pl.col("birth_year_r")).abs()
    approx = pl.col("birth_year_approx").fill_null(False) | pl.col("birth_year_approx_r").fill_null(False)
    one_hamlet = (pl.col("hamlet") == pl.col("hamlet_r")).fill_null(False)
    years_agree = (
        pl.when(pl.col("birth_year").is_null() | pl.col("birth_year_r").is_null())
        .then(pl.col("related") | (pl.col("lineage") & one_hamlet))
        .otherwise((gap == 0) | ((gap <= 1) & approx))
    )
    # A name equal only without diacritics (`Nguyen Van An` / `Nguyễn Văn Ẩn`) needs both years, equal.
    names_agree = _SAME_TONELESS | (gap == 0).fill_null(False)
    phones_agree = (
        pl.col("phone_hash").is_null()
        | pl.col("phone_hash_r").is_null()
        | (pl.col("phone_hash") == pl.col("phone_hash_r"))
    )
    return (
        side.join(side, on=["key_variant", "addr_block"], suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .join(related, on=["rid", "rid_r"], how="left")
        .with_columns(pl.col("related", "lineage").fill_null(False))
        .filter(years_agree.fill_null(False) & names_agree & phones_agree & _HAMLETS_AGREE)
    )


def _merge_mistyped_ids(frame: pl.DataFrame, name_pairs: pl.DataFrame) -> pl.DataFrame:
    """One citizen-id hash for the ids that `name_pairs` show to be one person's, mistyped."""
    # Two citizen ids on rows with one name and address, on the forms of two martyrs of one family:
    # one person whose id was mistyped on one form (a dropped digit, a letter O). Two such rows on one
    # form are two people — a form lists each relative once — and so are two ids one form gives to two
    # of its rows (two sisters of one name, one of them also on a cousin's form).
    on_one_form = frame.drop_nulls("cid").select("file", "source_record_id", "cid").unique()
    apart = on_one_form.join(on_one_form, on=["file", "source_record_id"], suffix="_r").select("cid", "cid_r")
    mistyped = (
        name_pairs.filter(
            pl.col("related")
            & _SAME_TONELESS
            & ~_SAME_FORM.fill_null(False)
            & pl.col("cid").is_not_null()
            & pl.col("cid_r").is_not_null()
        )
        .select("cid", "cid_r")
        .join(apart, on=["cid", "cid_r"], how="anti")
    )
    canonical = _canonical_ids(frame, mistyped)
    if canonical:
        frame = frame.with_columns(pl.col("cid").replace(canonical))
    return frame


def _slip_edges(frame: pl.DataFrame, related: pl.DataFrame) -> pl.DataFrame:
    """(0) Names a keyboard slip apart, with the same phone or the same address commune and birth year
    (a year missing only between rows of one martyr family, as for names written alike)."""
    fuzzy = frame.select("rid", "key_toneless", "key_ascii", "addr_block", "birth_year", "phone_hash")
    in_family = (
        related.filter("related")
        .select("rid", "rid_r")
        .join(fuzzy, on="rid")
        .join(fuzzy, left_on="rid_r", right_on="rid", suffix="_r")
        .filter(
            (pl.col("addr_block") == pl.col("addr_block_r"))
            & ~(pl.col("birth_year") != pl.col("birth_year_r")).fill_null(False)
            & ~(pl.col("phone_hash") != pl.col("phone_hash_r")).fill_null(False)
        )
        .with_columns(pl.lit(True).alias("in_family"))
    )
    candidates = (
        pl.concat(
            [
                fuzzy.drop_nulls(["phone_hash"]).join(
                    fuzzy.drop_nulls(["phone_hash"]), on="phone_hash", suffix="_r"
                ),
                fuzzy.drop_nulls(["addr_block", "birth_year"]).join(
                    fuzzy.drop_nulls(["addr_block", "birth_year"]),
                    on=["addr_block", "birth_year"],
                    suffix="_r",
                ),
                in_family,
            ],
            how="diagonal_relaxed",
        )
        .with_columns(pl.col("in_family").fill_null(False))
        .filter(
            (pl.col("rid") < pl.col("rid_r"))
            & pl.col("key_toneless").is_not_null()
            & pl.col("key_toneless_r").is_not_null()
        )
        # Within a family a name written without diacritics is compared in ascii: its plain `D` may
        # be a `Đ` (`Nguyen Thi Dao` / `Nguyễn Thị Đào`, `Dang` / `Đặng`), not another letter.
        .with_columns(
            pl.when(
                pl.col("in_family")
                & (
                    (pl.col("key_ascii") == pl.col("key_toneless"))
                    | (pl.col("key_ascii_r") == pl.col("key_toneless_r"))
                )
            )
            .then(pl.col(ascii_key))
            .otherwise(pl.col(key))
            .alias(key)
            for key, ascii_key in (("key_toneless", "key_ascii"), ("key_toneless_r", "key_ascii_r"))
        )
        # Within a family a slip may come with a middle name left out on one side (`Phạm VVinh` /
        # `Phạm Văn Vinh`, `Dahn Tấn Khải` / `Danh Khải`): surname and given name are compared.
        .with_columns(
            pl.col(key).str.split(" ").alias(f"_{key}") for key in ("key_toneless", "key_toneless_r")
        )
        .with_columns(
            pl.when(
                pl.col("in_family")
                & (pl.min_horizontal(pl.col("_key_toneless", "_key_toneless_r").list.len()) == 2)
            )
            .then(pl.concat_str(pl.col(f"_{key}").list.first(), pl.col(f"_{key}").list.last(), separator=" "))
            .otherwise(pl.col(key))
            .alias(key)
            for key in ("key_toneless", "key_toneless_r")
        )
    )
    slips = (
        cpdist(
            candidates["key_toneless"].to_list(),
            candidates["key_toneless_r"].to_list(),
            scorer=OSA.distance,
            workers=-1,
        )
        if candidates.height
        else np.zeros(0)
    )
    # Within a family, one letter for another is how relatives are named (`Tùng`, his nephew `Dũng`),
    # not a slip: without a birth year on both rows only a letter dropped, doubled or swapped counts.
    renamed = pl.Series(
        [
            bool(f) and len(a) == len(b) and sorted(a) != sorted(b)
            for a, b, f in zip(
                candidates["key_toneless"], candidates["key_toneless_r"], candidates["in_family"], strict=True
            )
        ],
        dtype=pl.Boolean,
    )
    return candidates.filter(pl.Series(slips <= 1) & ~renamed).select(
        "rid", "rid_r", pl.lit(0).alias("strength")
    )


def _written_alike_edges(frame: pl.DataFrame, related: pl.DataFrame) -> pl.DataFrame:
    # (0) The same name written by another hand (a middle name left out or abbreviated:
    # `Lê Kiệt` / `Lê Thành Kiệt`, `T. N. Nga` / `Trần Nga`): the same given name, and either the
    # same phone, or the same address commune and birth year (a year missing on one side only
    # between rows of one martyr family); birth years and phones never disagreeing.
    hands = frame.select(
        "rid", "name_text", "name_full", "given_variant", "addr_block", "birth_year", "phone_hash"
    )
    by_phone = hands.drop_nulls(["phone_hash", "given_variant"])
    by_place = hands.drop_nulls(["addr_block", "given_variant"])
    alike = (
        pl.concat(
            [
                by_phone.join(by_phone, on=["phone_hash", "given_variant"], suffix="_r").with_columns(
                    pl.lit(True).alias("same_phone")
                ),
                by_place.join(by_place, on=["addr_block", "given_variant"], suffix="_r").with_columns(
                    pl.lit(False).alias("same_phone")
                ),
            ],
            how="diagonal_relaxed",
        )
        .filter(pl.col("rid") < pl.col("rid_r"))
        .join(related, on=["rid", "rid_r"], how="left")
        .filter(
            ~(pl.col("birth_year") != pl.col("birth_year_r")).fill_null(False)
            & ~(pl.col("phone_hash") != pl.col("phone_hash_r")).fill_null(False)
            & (
                pl.col("same_phone")
                | (pl.col("birth_year") == pl.col("birth_year_r")).fill_null(False)
                | pl.col("related").fill_null(False)
            )
        )
        .drop_nulls(["name_full", "name_full_r"])
        .unique(["rid", "rid_r"], maintain_order=True)
    )
    # Initials are also compared as written: the parsed name reads a woman's `T.` as `Thị`, but
    # `V. T. Lý` may be `Võ Thu Lý`.
    pairs = zip(
        alike["name_full"], alike["name_full_r"], alike["name_text"], alike["name_text_r"], strict=True
    )
    return alike.filter(
        pl.Series([written_alike(a, b) or written_alike(c, d) for a, b, c, d in pairs], dtype=pl.Boolean)
    ).select("rid", "rid_r", pl.lit(0).alias("strength"))


def _relative_edges(frame: pl.DataFrame, name_pairs: pl.DataFrame, related: pl.DataFrame) -> pl.DataFrame:
    """Edges between rows that may name one person, strongest first."""
    # Edges, strongest first: (3) the same valid citizen-id hash; (2) a name edge on one form; (1) a
    # name edge across forms; (0) a keyboard slip in the name (one letter dropped, doubled or
    # swapped) with the same phone, or the same address commune and birth year (or one martyr family).
    by_cid = frame.drop_nulls("cid").select("rid", "cid")
    cid_edges = by_cid.join(by_cid, on="cid", suffix="_r").select("rid", "rid_r", pl.lit(3).alias("strength"))
    name_edges = name_pairs.select(
        "rid", "rid_r", pl.when(_SAME_FORM.fill_null(False)).then(2).otherwise(1).alias("strength")
    )
    fuzzy_edges = _slip_edges(frame, related)
    alike_edges = _written_alike_edges(frame, related)
    return (
        pl.concat([cid_edges, name_edges, fuzzy_edges, alike_edges], how="vertical_relaxed")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .group_by("rid", "rid_r")
        .agg(pl.col("strength").max())
        .sort(["strength", "rid", "rid_r"], descending=[True, False, False])
    )


def _one_person(a: Attrs, b: Attrs) -> bool:
    """Whether two groups of rows (citizen ids, hamlets) may be one person: never two citizen ids;
    two hamlets only when one citizen id is on both sides (a relative who moved)."""
    (cids_a, hamlets_a), (cids_b, hamlets_b) = a, b
    if len(cids_a | cids_b) > 1:
        return False
    return not (hamlets_a and hamlets_b and hamlets_a.isdisjoint(hamlets_b)) or bool(cids_a & cids_b)


def _relative_ids(frame: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """`cluster` and `relative_id` per row: rows joined along the edges, never two citizen ids in one,
    nor two hamlets without one citizen id — a row without a hamlet does not bridge two."""
    attrs: dict[int, Attrs] = {
        r: (frozenset([c]) if c else frozenset(), frozenset([h]) if h else frozenset())
        for r, c, h in frame.select("rid", "cid", "hamlet").iter_rows()
    }
    roots, _ = constrained_union(
        attrs, list(zip(edges["rid"], edges["rid_r"], strict=True)), lambda a, b: not _one_person(a, b)
    )
    frame = frame.with_columns(pl.col("rid").replace_strict(roots, return_dtype=pl.Int64).alias("cluster"))
    ids = stable_ids(frame, "cluster", "TN-", "relative_id")
    frame = frame.join(ids, on="cluster")
    return frame


def link_relatives(
    records: pl.DataFrame,
    default_province: str | None = None,
    martyr_links: pl.DataFrame | None = None,
    families: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Resolve relatives: same valid citizen-id hash; else same name, compatible birth year, address.

    `martyr_links` (source, file, row_number → martyr_id) and `families` (`martyr_families`) say
    which rows concern martyrs of one family: only there may a missing birth year be passed over or
    two citizen ids be taken for one person's mistyped id.
    Returns (links, relatives): links one row per input row with `relative_id`; relatives one row
    per person with the best value of each field.
    """
    if records.is_empty():
        links = records.select("source", "source_record_id", "file", "row_number").with_columns(
            pl.lit(None, pl.String).alias("relative_id")
        )
        return links, pl.DataFrame(schema=RELATIVES_SCHEMA)
    frame = relative_features(records, default_province)
    related = _related_pairs(frame, martyr_links, families)
    name_pairs = _name_pairs(frame, related)
    frame = _merge_mistyped_ids(frame, name_pairs)
    frame = _relative_ids(frame, _relative_edges(frame, name_pairs, related))
    links = frame.select("source", "source_record_id", "file", "row_number", "relative_id").sort(
        "source", "file", "row_number"
    )
    return links, golden_relatives(frame)


def link_form_relatives(
    phieu_01: pl.DataFrame | None,
    phieu_02: pl.DataFrame | None,
    martyr_links: pl.DataFrame,
    martyrs: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`link_relatives` on the relatives of both forms; the martyr each row is about tells which rows
    belong to one family."""
    return link_relatives(
        relative_records(phieu_01, phieu_02), martyr_links=martyr_links, families=martyr_families(martyrs)
    )
