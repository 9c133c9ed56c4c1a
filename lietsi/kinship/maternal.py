"""Maternal lines and the sampling worklist: whom the collection teams sample first.

From the kinship statements of the forms (one per form row naming a relative of a martyr):

1. **candidates**: one row per (martyr, relative) pair, the statements combined — they agree, or
   the pair is left undecided for review;
2. **maternal lines**: martyrs and relatives joined by pairs that share mtDNA, closed under
   union-find. Two martyr brothers who both list their mother are one line; so are a martyr, his
   sister and her daughter. One good sample serves every martyr of a line, and no line is
   sampled twice;
3. **worklist**: per line, the living relatives on it ranked — the martyr's mother first, then
   the frail (`Nặng`, then `Yếu`), then the oldest, then the closest on the line — one primary and
   one backup among those who consented (`Có`); those not yet asked (blank) who would rank as
   primary or backup are listed to be asked; those who refused (`Không`) are listed and never
   sampled. A line without a donor says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from unidecode import unidecode

from lietsi.graphs import UnionFind
from lietsi.kinship import Kinship, parse_kinship, parse_sex, shares_mtdna
from lietsi.places import OUTSIDE_PROVINCE, UNIT_COLUMNS, admin_units, grouping_key

HEALTH_RANK = {"Nặng": 2, "Yếu": 1, "Bình thường": 0}
ROLE_ORDER = {"primary": 0, "ask_consent": 1, "backup": 2, "refused": 3}


def _sex_word(sex: str | None) -> str | None:
    return {"M": "Nam", "F": "Nữ"}.get(sex or "")


def kinship_statements(rows: pl.DataFrame) -> pl.DataFrame:
    """Decide each form row: does the named relative share the martyr's mtDNA?

    `rows` has `source, file, row_number, martyr_id, relative_id, relationship` and optionally
    `martyr_sex`, `relative_sex` (the forms' `Nam`/`Nữ`). Adds `relationship_text, kin_path,
    parsed, shares_mtdna, review_reason, martyr_sex_needed, note`; `martyr_sex`/`relative_sex`
    become `M`/`F`, the relative's from the kinship text when it says, else from the form.
    """
    for col in ("martyr_sex", "relative_sex"):
        if col not in rows.columns:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(col))
    rows = rows.with_columns(
        pl.col("martyr_sex").map_elements(parse_sex, return_dtype=pl.String),
        pl.col("relative_sex").map_elements(parse_sex, return_dtype=pl.String).alias("_form_relative_sex"),
    ).drop("relative_sex")
    keys = rows.select("relationship", "martyr_sex", "_form_relative_sex").unique()
    out: list[dict] = []
    for text, martyr_sex, form_sex in keys.iter_rows():
        kin: Kinship = parse_kinship(text)
        decision = shares_mtdna(kin, martyr_sex)
        text_sex = kin.relative_sex
        note = None
        if text_sex and form_sex and text_sex != form_sex:
            note = f"kinship text names a {_sex_word(text_sex)}, the form says {_sex_word(form_sex)}"
        out.append(
            {
                "relationship": text,
                "martyr_sex": martyr_sex,
                "_form_relative_sex": form_sex,
                "kin_path": kin.kin_path,
                "parsed": kin.parsed,
                "shares_mtdna": decision.shares,
                "review_reason": decision.reason,
                "martyr_sex_needed": decision.martyr_sex_needed,
                "relative_sex": text_sex or form_sex,
                "note": note,
            }
        )
    decided = pl.DataFrame(
        out,
        schema={
            "relationship": pl.String,
            "martyr_sex": pl.String,
            "_form_relative_sex": pl.String,
            "kin_path": pl.String,
            "parsed": pl.Boolean,
            "shares_mtdna": pl.Boolean,
            "review_reason": pl.String,
            "martyr_sex_needed": pl.Boolean,
            "relative_sex": pl.String,
            "note": pl.String,
        },
    )
    return (
        rows.join(
            decided,
            on=["relationship", "martyr_sex", "_form_relative_sex"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .drop("_form_relative_sex")
        .rename({"relationship": "relationship_text"})
    )


def maternal_candidates(statements: pl.DataFrame) -> pl.DataFrame:
    """One row per (martyr, relative) pair; statements that disagree leave the pair undecided."""
    pairs = statements.filter(pl.col("martyr_id").is_not_null() & pl.col("relative_id").is_not_null())
    ordered = pairs.sort(pl.col("shares_mtdna").is_null(), "source", "file", "row_number", nulls_last=True)
    grouped = ordered.group_by("martyr_id", "relative_id", maintain_order=True).agg(
        pl.col("relationship_text").first(),
        pl.col("kin_path").first(),
        pl.col("shares_mtdna").drop_nulls().unique().alias("_answers"),
        # Kin paths, not the texts: review reasons reach the analyst schema, free text may name people.
        pl.col("kin_path").filter(pl.col("shares_mtdna").is_not_null()).unique().alias("_texts"),
        pl.col("review_reason").first().alias("_reason"),
        pl.col("martyr_sex").drop_nulls().first(),
        pl.col("relative_sex").drop_nulls().first(),
        pl.col("martyr_sex_needed").any(),
        pl.col("note").drop_nulls().first(),
        pl.len().alias("statements"),
        pl.col("source").unique().sort().str.join(",").alias("sources"),
    )
    disagree = pl.col("_answers").list.len() > 1
    return grouped.with_columns(
        pl.when(pl.col("_answers").list.len() == 1)
        .then(pl.col("_answers").list.first())
        .alias("shares_mtdna"),
        pl.when(disagree)
        .then(pl.lit("statements disagree: ") + pl.col("_texts").list.sort().list.join(" / "))
        .when(pl.col("_answers").list.len() == 0)
        .then(pl.col("_reason"))
        .alias("review_reason"),
    ).select(
        "martyr_id",
        "relative_id",
        "relationship_text",
        "kin_path",
        "shares_mtdna",
        "review_reason",
        "martyr_sex",
        "relative_sex",
        "martyr_sex_needed",
        "note",
        "statements",
        "sources",
    )


def maternal_lines(candidates: pl.DataFrame, martyr_ids: Iterable[str] = ()) -> pl.DataFrame:
    """`member_kind` (`martyr`/`relative`), `member_id`, `maternal_line_id` for every martyr of the
    candidates (and of `martyr_ids`) and every relative who shares a martyr's mtDNA.

    A line's id is `ML-` + its smallest martyr id: stable while martyr ids are.
    """
    uf: UnionFind[str] = UnionFind()
    for m in martyr_ids:
        uf.find("m:" + m)
    for m in candidates["martyr_id"].unique().to_list():
        uf.find("m:" + m)
    shared = candidates.filter(pl.col("shares_mtdna").fill_null(False))
    for m, r in shared.select("martyr_id", "relative_id").iter_rows():
        uf.union("m:" + m, "r:" + r)
    # Martyr nodes ("m:") sort before relative nodes ("r:"), so every root is a martyr.
    rows = [(node[0] == "m", node[2:], "ML-" + uf.find(node)[2:]) for node in uf.parent]
    return pl.DataFrame(
        [("martyr" if is_m else "relative", member, line) for is_m, member, line in rows],
        schema={"member_kind": pl.String, "member_id": pl.String, "maternal_line_id": pl.String},
        orient="row",
    ).sort("maternal_line_id", "member_kind", "member_id")


@dataclass(frozen=True)
class WorklistResult:
    worklist: pl.DataFrame
    lines: pl.DataFrame


def _steps(kin_path: str | None) -> int:
    return kin_path.count(">") + 1 if kin_path else 99


def sampling_worklist(
    candidates: pl.DataFrame, relatives: pl.DataFrame, martyrs: pl.DataFrame
) -> WorklistResult:
    """Rank the donors of every maternal line.

    `candidates` are `maternal_candidates` with `maternal_line_id`; `relatives` has `relative_id`
    and optionally `birth_year, health, consent, commune, alive`; `martyrs` has `martyr_id` and
    optionally `commune` (where a line without donor is listed) and `needs_sample` (False for a
    martyr whose grave is identified: his line is not sampled for him).
    """
    rel = _with_defaults(
        relatives,
        {
            "birth_year": pl.Int32,
            "health": pl.String,
            "consent": pl.String,
            "commune": pl.String,
            "alive": pl.Boolean,
        },
    )
    mar = _with_defaults(martyrs, {"commune": pl.String, "needs_sample": pl.Boolean})
    mar = mar.with_columns(pl.col("needs_sample").fill_null(True))
    line_of = candidates.select("martyr_id", "maternal_line_id").unique()
    members = line_of.join(mar.select("martyr_id", "needs_sample", "commune"), on="martyr_id", how="left")
    lines = members.group_by("maternal_line_id").agg(
        pl.col("martyr_id").unique().sort().alias("martyr_ids"),
        pl.col("needs_sample").fill_null(True).any().alias("needs_sample"),
        pl.col("commune").drop_nulls().mode().sort().first().alias("martyr_commune"),
    )
    donors = (
        candidates.filter(pl.col("shares_mtdna").fill_null(False))
        .with_columns(
            pl.col("kin_path").map_elements(_steps, return_dtype=pl.Int32).alias("steps"),
            (pl.col("kin_path") == "mother").alias("is_mother"),
        )
        .sort("steps", "martyr_id")
        .group_by("maternal_line_id", "relative_id", maintain_order=True)
        .agg(
            pl.col("martyr_id").first(),
            pl.col("relationship_text").first(),
            pl.col("kin_path").first(),
            pl.col("steps").first(),
            pl.col("is_mother").any(),
            pl.col("relative_sex").first(),
        )
        .join(rel, on="relative_id", how="left")
        .filter(pl.col("alive").fill_null(True))
        .with_columns(
            pl.col("health").replace_strict(HEALTH_RANK, default=0, return_dtype=pl.Int8).alias("_frail"),
            pl.when(pl.col("consent") == "Có")
            .then(pl.lit("yes"))
            .when(pl.col("consent") == "Không")
            .then(pl.lit("refused"))
            .otherwise(pl.lit("not_asked"))
            .alias("_consent"),
        )
        .sort(
            ["maternal_line_id", "is_mother", "_frail", "birth_year", "steps", "relative_id"],
            descending=[False, True, True, False, False, False],
            nulls_last=True,
        )
    )
    rows: list[dict] = []
    for (line_id,), group in donors.group_by("maternal_line_id", maintain_order=True):
        rows.extend(_roles(line_id, group))
    worklist = pl.DataFrame(rows, schema=_WORKLIST_SCHEMA) if rows else pl.DataFrame(schema=_WORKLIST_SCHEMA)
    lines = _line_status(lines, donors, worklist, candidates)
    worklist = worklist.join(
        lines.select("maternal_line_id", "needs_sample", "martyr_ids"), on="maternal_line_id"
    )
    worklist = (
        worklist.filter(pl.col("needs_sample"))
        .drop("needs_sample")
        .with_columns(pl.col("martyr_ids").list.join(","))
        .with_columns(pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int8).alias("_role"))
        .sort("commune", "_role", "_line_rank", "maternal_line_id", nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("commune").alias("priority_rank"))
        .drop("_role", "_line_rank")
    )
    return WorklistResult(worklist.select(list(_WORKLIST_COLUMNS)), lines)


_WORKLIST_SCHEMA = {
    "maternal_line_id": pl.String,
    "martyr_id": pl.String,
    "relative_id": pl.String,
    "role": pl.String,
    "reason": pl.String,
    "relationship_text": pl.String,
    "kin_path": pl.String,
    "relative_sex": pl.String,
    "birth_year": pl.Int32,
    "health": pl.String,
    "consent": pl.String,
    "commune": pl.String,
    "_line_rank": pl.Int32,
}
_WORKLIST_COLUMNS = (
    "commune",
    "priority_rank",
    "maternal_line_id",
    "role",
    "martyr_id",
    "martyr_ids",
    "relative_id",
    "relationship_text",
    "kin_path",
    "relative_sex",
    "birth_year",
    "health",
    "consent",
    "reason",
)


def _with_defaults(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in columns.items() if c not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _why(d: dict) -> str:
    parts = ["the martyr's mother" if d["is_mother"] else d["kin_path"]]
    if d["health"] in ("Nặng", "Yếu"):
        parts.append(f"health {d['health']}")
    if d["birth_year"]:
        parts.append(f"born {d['birth_year']}")
    return ", ".join(parts)


def _roles(line_id: str, group: pl.DataFrame) -> list[dict]:
    """Primary and backup among the consenting; the unasked who would rank as high; the refused."""
    out = []
    consenting = position = 0
    for rank, d in enumerate(group.iter_rows(named=True), start=1):
        if d["_consent"] == "refused":
            role, reason = "refused", "refused to give a sample (Không): do not sample"
        else:
            position += 1
            if d["_consent"] == "yes" and consenting < 2:
                role = "primary" if consenting == 0 else "backup"
                consenting += 1
                reason = _why(d)
            elif d["_consent"] == "not_asked" and position <= 2:
                # Would be primary or backup if they agree.
                role, reason = "ask_consent", "not yet asked for consent; " + _why(d)
            else:
                continue
        out.append(
            {
                "maternal_line_id": line_id,
                "martyr_id": d["martyr_id"],
                "relative_id": d["relative_id"],
                "role": role,
                "reason": reason,
                "relationship_text": d["relationship_text"],
                "kin_path": d["kin_path"],
                "relative_sex": d["relative_sex"],
                "birth_year": d["birth_year"],
                "health": d["health"],
                "consent": d["consent"],
                "commune": d["commune"],
                "_line_rank": rank,
            }
        )
    return out


def _line_status(
    lines: pl.DataFrame, donors: pl.DataFrame, worklist: pl.DataFrame, candidates: pl.DataFrame
) -> pl.DataFrame:
    counts = donors.group_by("maternal_line_id").agg(
        pl.len().alias("living_donors"),
        (pl.col("_consent") == "yes").sum().alias("consenting"),
        (pl.col("_consent") == "not_asked").sum().alias("not_asked"),
        (pl.col("_consent") == "refused").sum().alias("refused"),
    )
    undecided = (
        candidates.filter(pl.col("shares_mtdna").is_null())
        .group_by("maternal_line_id")
        .agg(pl.col("relative_id").n_unique().alias("undecided_relatives"))
    )
    primary_commune = (
        worklist.filter(pl.col("role") != "refused")
        .group_by("maternal_line_id")
        .agg(pl.col("commune").sort_by("_line_rank").first().alias("donor_commune"))
    )
    out = (
        lines.join(counts, on="maternal_line_id", how="left")
        .join(undecided, on="maternal_line_id", how="left")
        .join(primary_commune, on="maternal_line_id", how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in ("living_donors", "consenting", "not_asked", "refused", "undecided_relatives")
        )
    )
    status = (
        pl.when(~pl.col("needs_sample"))
        .then(pl.lit("not_needed"))
        .when(pl.col("consenting") > 0)
        .then(pl.lit("ready"))
        .when(pl.col("not_asked") > 0)
        .then(pl.lit("ask_consent"))
        .otherwise(pl.lit("no_donor"))
    )
    reason = (
        pl.when(~pl.col("needs_sample"))
        .then(pl.lit("every martyr of the line has an identified grave"))
        .when(pl.col("consenting") > 0)
        .then(pl.lit(None, pl.String))
        .when(pl.col("not_asked") > 0)
        .then(pl.lit("donors on the line not yet asked for consent"))
        .when(pl.col("refused") > 0)
        .then(pl.lit("every living relative on the line refused"))
        .when(pl.col("undecided_relatives") > 0)
        .then(
            pl.format(
                "no relative known to be on the line; {} relative(s) need kinship review",
                pl.col("undecided_relatives"),
            )
        )
        .otherwise(pl.lit("no living relative on the maternal line in the forms"))
    )
    return (
        out.with_columns(
            status.alias("status"),
            reason.alias("reason"),
            pl.coalesce("donor_commune", "martyr_commune").alias("commune"),
            pl.col("martyr_ids").list.len().alias("martyrs"),
        )
        .select(
            "maternal_line_id",
            "commune",
            "status",
            "reason",
            "martyrs",
            "martyr_ids",
            "needs_sample",
            "living_donors",
            "consenting",
            "not_asked",
            "refused",
            "undecided_relatives",
        )
        .sort("maternal_line_id")
    )


# --- printable worklists ---------------------------------------------------------------------

ROLE_VI = {
    "primary": "Lấy mẫu (chính)",
    "backup": "Lấy mẫu (dự phòng)",
    "ask_consent": "Hỏi ý kiến đồng ý",
    "refused": "Không lấy mẫu (từ chối)",
    "no_donor": "Chưa có người cho mẫu",
}
OUTSIDE_LABEL = "Thân nhân sống ngoài tỉnh (relatives living outside the province)"
UNPLACED_LABEL = "(chưa rõ xã)"


def worklist_places(
    relatives: pl.DataFrame, martyrs: pl.DataFrame, home: str | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Where each relative and martyr is listed, as the grouping key of `places.grouping_key`.

    A relative is listed where they live (`address_commune/district/province`), else under the
    commune that surveyed them (`survey_commune`, a commune of the home province); someone living
    in another province goes to the one "outside the province" list. A martyr's line without a
    donor is listed in his home commune. Returns (relatives with `commune`, martyrs with `commune`
    and `needs_sample`, the units: `commune` key and `places.UNIT_COLUMNS`).
    """
    rel = relatives
    for c in ("address_commune", "address_district", "address_province", "survey_commune"):
        if c not in rel.columns:
            rel = rel.with_columns(pl.lit(None, pl.String).alias(c))
    lives = admin_units(rel, "address_commune", "address_district", "address_province", home)
    surveyed = admin_units(rel.select("survey_commune"), "survey_commune", home_province=home)
    placed = pl.col("commune_code").is_not_null() | pl.col("in_province").not_().fill_null(False)
    rel_units = pl.concat(
        [
            lives.select("relative_id", *UNIT_COLUMNS).filter(placed),
            pl.concat([rel.select("relative_id"), surveyed.select(*UNIT_COLUMNS)], how="horizontal"),
        ]
    ).unique("relative_id", keep="first", maintain_order=True)
    mar = martyrs
    for c in ("hometown_commune", "hometown_district", "hometown_province", "grave_status"):
        if c not in mar.columns:
            mar = mar.with_columns(pl.lit(None, pl.String).alias(c))
    mar_units = admin_units(
        mar.select("martyr_id", "hometown_commune", "hometown_district", "hometown_province", "grave_status"),
        "hometown_commune",
        "hometown_district",
        "hometown_province",
        home,
    )
    units = (
        pl.concat([rel_units.select(*UNIT_COLUMNS), mar_units.select(*UNIT_COLUMNS)])
        .with_columns(grouping_key().alias("commune"))
        .drop_nulls("commune")
        .unique("commune", keep="first", maintain_order=True)
    )
    rel = relatives.join(
        rel_units.select("relative_id", grouping_key().alias("commune")), on="relative_id", how="left"
    )
    mar = mar_units.select(
        "martyr_id",
        grouping_key().alias("commune"),
        (pl.col("grave_status").fill_null("") != "Đã xác định").alias("needs_sample"),
    )
    return rel, mar, units


def with_units(result: WorklistResult, units: pl.DataFrame) -> WorklistResult:
    """Replace the grouping key the worklist was ranked by (`commune`: a commune code, `ngoai-tinh`
    or `?<written name>`, see `places.grouping_key`) by `unit_key` and the unit's codes and names.

    `units` has `commune` (the key) and `places.UNIT_COLUMNS`.
    """
    table = units.select(
        pl.col("commune").alias("unit_key"),
        "commune_code",
        "commune_name",
        "district_code",
        pl.col("district_name").alias("district"),
        "in_province",
    )

    def add(frame: pl.DataFrame) -> pl.DataFrame:
        rest = [c for c in frame.columns if c != "commune"]
        return (
            frame.rename({"commune": "unit_key"})
            .join(table, on="unit_key", how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("unit_key") == OUTSIDE_PROVINCE)
                .then(pl.lit(OUTSIDE_LABEL))
                .otherwise(pl.coalesce("commune_name", pl.col("unit_key").str.strip_prefix("?")))
                .alias("commune")
            )
            .select("unit_key", "commune_code", "commune", "district_code", "district", "in_province", *rest)
        )

    return WorklistResult(add(result.worklist), add(result.lines))


@dataclass(frozen=True)
class CommuneSheet:
    """One commune's printable worklist (or the list of relatives outside the province)."""

    key: str
    commune: str
    commune_code: str | None
    district: str | None
    district_code: str | None
    rows: pl.DataFrame


def commune_sheets(
    worklist: pl.DataFrame, lines: pl.DataFrame, martyr_names: dict[str, str], relative_names: dict[str, str]
) -> list[CommuneSheet]:
    """One printable table per commune (by `unit_key`): the worklist rows, then the lines still
    without donor; sorted by district and commune name (Vietnamese letters folded, `Đ` with `D`)."""
    unit = ["unit_key", "commune_code", "commune", "district_code", "district"]
    rows = worklist.with_columns(
        pl.col("martyr_id").replace_strict(martyr_names, default=None).alias("martyr_name"),
        pl.col("relative_id").replace_strict(relative_names, default=None).alias("relative_name"),
    ).select(
        *unit,
        "priority_rank",
        "role",
        "martyr_name",
        "relative_name",
        "relationship_text",
        "birth_year",
        "health",
        "consent",
        "reason",
        "maternal_line_id",
        "martyr_id",
        "relative_id",
    )
    open_lines = lines.filter(pl.col("status") == "no_donor").with_columns(
        pl.col("martyr_ids").list.first().alias("martyr_id")
    )
    missing = open_lines.select(
        *unit,
        pl.lit(None, pl.Int32).alias("priority_rank"),
        pl.lit("no_donor").alias("role"),
        pl.col("martyr_id").replace_strict(martyr_names, default=None).alias("martyr_name"),
        pl.lit(None, pl.String).alias("relative_name"),
        pl.lit(None, pl.String).alias("relationship_text"),
        pl.lit(None, pl.Int32).alias("birth_year"),
        pl.lit(None, pl.String).alias("health"),
        pl.lit(None, pl.String).alias("consent"),
        pl.col("reason"),
        pl.col("maternal_line_id"),
        pl.col("martyr_id"),
        pl.lit(None, pl.String).alias("relative_id"),
    )
    sheet = pl.concat([rows, missing.cast(rows.schema)]).with_columns(
        pl.col("unit_key").fill_null("?"), pl.col("commune").fill_null(UNPLACED_LABEL)
    )
    out = []
    for (key,), group in sheet.group_by("unit_key", maintain_order=True):
        first = group.row(0, named=True)
        out.append(
            CommuneSheet(
                key=key,
                commune=first["commune"],
                commune_code=first["commune_code"],
                district=first["district"],
                district_code=first["district_code"],
                rows=group.drop(unit),
            )
        )
    return sorted(
        out,
        key=lambda s: (s.key == OUTSIDE_PROVINCE, sort_key(s.district), sort_key(s.commune), s.key),
    )


def sort_key(text: str | None) -> str:
    """Alphabetical order a Vietnamese reader expects from a list: tones and `Đ` folded."""
    return unidecode(text or "~").lower()


# --- evaluation against the synthetic truth --------------------------------------------------


def _truth_flag(col: str) -> pl.Expr:
    return pl.col(col).str.to_lowercase().is_in(["true", "1", "yes"])


def evaluate(
    statements: pl.DataFrame,
    candidates: pl.DataFrame,
    worklist: pl.DataFrame | None,
    relative_records: pl.DataFrame,
    persons: pl.DataFrame | None = None,
    lines: pl.DataFrame | None = None,
) -> dict[str, float | int]:
    """Quality of the stage against the generator's truth (`relative_records.csv`, `persons.csv`).

    Statements are joined to the truth on (source, file, row_number); a pair is correct when its
    decision equals the truth of every statement behind it. `martyrs_without_donor` counts martyrs
    with a living, consenting relative who truly shares their mtDNA but no primary donor.
    """
    truth = relative_records.select(
        "source",
        pl.col("file").cast(pl.String),
        pl.col("row_number").cast(pl.Int64),
        "person_uid",
        _truth_flag("shares_mtdna").alias("truth"),
    )
    s = statements.with_columns(pl.col("row_number").cast(pl.Int64)).join(
        truth, on=["source", "file", "row_number"], how="inner"
    )
    decided = s.filter(pl.col("shares_mtdna").is_not_null())
    pairs = (
        candidates.filter(pl.col("shares_mtdna").is_not_null())
        .join(s.select("martyr_id", "relative_id", "truth"), on=["martyr_id", "relative_id"])
        .group_by("martyr_id", "relative_id")
        .agg(
            pl.col("shares_mtdna").first(),
            (pl.col("truth") == pl.col("shares_mtdna")).all().alias("ok"),
            (pl.col("shares_mtdna") & ~pl.col("truth")).any().alias("false_share"),
        )
    )
    n = statements.height
    out: dict[str, float | int] = {
        "texts": n,
        "texts_parsed": _share(statements["parsed"].sum(), n),
        "texts_decided": _share(statements["shares_mtdna"].is_not_null().sum(), n),
        "texts_with_truth": s.height,
        "statement_accuracy": _share(
            int((decided["shares_mtdna"] == decided["truth"]).sum()), decided.height
        ),
        "statement_false_shares": int((decided["shares_mtdna"] & ~decided["truth"]).sum()),
        "statement_missed_shares": int((~decided["shares_mtdna"] & decided["truth"]).sum()),
        "undecided_truly_sharing": int(s.filter(pl.col("shares_mtdna").is_null())["truth"].sum()),
        "pairs_decided": pairs.height,
        "pair_accuracy": _share(int(pairs["ok"].sum()), pairs.height),
        "pair_false_shares": int(pairs["false_share"].sum()),
    }
    if persons is not None and worklist is not None:
        usable_people = persons.filter(_truth_flag("alive") & (pl.col("consent") == "Có")).select(
            "person_uid"
        )
        usable = s.filter(pl.col("truth")).join(usable_people, on="person_uid").select("martyr_id").unique()
        served = (
            worklist.filter(pl.col("role") == "primary")
            .select(pl.col("martyr_ids").str.split(",").alias("martyr_id"))
            .explode("martyr_id")
        )
        if lines is not None:
            # A martyr whose grave is identified needs no reference sample.
            not_needed = (
                lines.filter(~pl.col("needs_sample"))
                .select(pl.col("martyr_ids").alias("martyr_id"))
                .explode("martyr_id")
            )
            usable = usable.join(not_needed, on="martyr_id", how="anti")
        missing = usable.join(served, on="martyr_id", how="anti")
        out["martyrs_with_usable_relative"] = usable.height
        out["martyrs_without_donor"] = missing.height
    return out


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else float("nan")
