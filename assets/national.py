"""The national run (issue 18; its own code location, pipelines/national.py; docs/national.md).

`national_exports` reads NATIONAL_INBOX_DIR (one folder per province export) into
`national.martyrs`, `national.references`, `national.remains` and `national.provinces`, with what
was refused in `ops.quarantine` and the row accounting per file in `ops.national_files`;
`national_match` runs `lietsi.national.country.match_country` into `national.candidates` and
`national.identifications`; `national_returns` writes each province's share back
(`NATIONAL_OUT_DIR/return/<province_code>/quoc_gia/`). Blocking checks gate the steps after them.
"""

import dagster as dg
import polars as pl

from assets._shared import counts_markdown, violations_check
from lietsi.national.country import CountryExports, match_country, read_exports
from lietsi.national.formats import RETURN_DIR, RETURN_FILE
from lietsi.ops.national_returns import write_returns
from lietsi.schema import QUOC_GIA
from resources import NationalSettingsResource, WarehouseResource

GROUP = "national"
MARTYRS = dg.AssetKey(["national", "martyrs"])
REFERENCES = dg.AssetKey(["national", "references"])
REMAINS = dg.AssetKey(["national", "remains"])
PROVINCES = dg.AssetKey(["national", "provinces"])
FILES = dg.AssetKey(["ops", "national_files"])
QUARANTINE = dg.AssetKey(["ops", "quarantine"])
CANDIDATES = dg.AssetKey(["national", "candidates"])
IDENTIFICATIONS = dg.AssetKey(["national", "identifications"])
RETURNS = dg.AssetKey(["ops", "national_returns"])


@dg.multi_asset(
    group_name=GROUP,
    outs={
        "martyrs": dg.AssetOut(
            key=MARTYRS, description="Every province's martyrs, keyed province_code:martyr_id."
        ),
        "references": dg.AssetOut(
            key=REFERENCES,
            description="Every province's consenting references (sample id, maternal line, martyrs).",
        ),
        "remains": dg.AssetOut(
            key=REMAINS, description="Every province's remains samples, keyed province_code:remains_id."
        ),
        "provinces": dg.AssetOut(key=PROVINCES, description="One row per province export read."),
        "files": dg.AssetOut(
            key=FILES,
            description="One row per file a manifest names: checksum, status, rows read/kept/quarantined.",
        ),
        "quarantine": dg.AssetOut(
            key=QUARANTINE,
            description="What was refused (a folder, a file, a row) and why; `rows` it stands for.",
        ),
    },
)
def national_exports(context: dg.AssetExecutionContext, national: NationalSettingsResource):
    exports = read_exports(national.inbox)
    if exports.provinces.is_empty():
        context.log.warning(f"no province export accepted in {national.inbox}")
    for why in exports.quarantine["reason"].unique().sort().to_list():
        context.log.warning(f"refused: {why}")
    provinces = ", ".join(f"{c} {p}" for c, p, _ in exports.provinces.iter_rows())
    yield dg.Output(exports.martyrs, output_name="martyrs", metadata={"rows": exports.martyrs.height})
    yield dg.Output(
        exports.references, output_name="references", metadata={"rows": exports.references.height}
    )
    yield dg.Output(exports.remains, output_name="remains", metadata={"rows": exports.remains.height})
    yield dg.Output(
        exports.provinces,
        output_name="provinces",
        metadata={"provinces": exports.provinces.height, "read": provinces or "none"},
    )
    yield dg.Output(exports.files, output_name="files", metadata={"files": exports.files.height})
    yield dg.Output(
        exports.quarantine,
        output_name="quarantine",
        metadata={
            "entries": exports.quarantine.height,
            "reasons": counts_markdown(exports.quarantine["reason"], empty="nothing refused"),
        },
    )


national_row_accounting = violations_check(
    REMAINS,
    "row_accounting",
    "Per export file: rows read = rows in the national table + rows in ops.quarantine.",
    folder="national",
    additional_deps=[MARTYRS, REFERENCES, FILES, QUARANTINE],
)


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "martyrs": dg.AssetIn(key=MARTYRS),
        "references": dg.AssetIn(key=REFERENCES),
        "remains": dg.AssetIn(key=REMAINS),
        "provinces": dg.AssetIn(key=PROVINCES),
        "files": dg.AssetIn(key=FILES),
        "quarantine": dg.AssetIn(key=QUARANTINE),
    },
    outs={
        "candidates": dg.AssetOut(
            key=CANDIDATES,
            description="Every scored (remains, martyr) pair of the country: both provinces, DNA, factors, "
            "prior and posterior (the alternative: a martyr of no province that sent an export).",
        ),
        "identifications": dg.AssetOut(
            key=IDENTIFICATIONS,
            description="One row per remains with a candidate after the country's one-to-one assignment: "
            "status proposed / needs_review, posterior, posterior at the 95% bound, reasons, both provinces.",
        ),
    },
)
def national_match(
    context: dg.AssetExecutionContext,
    martyrs: pl.DataFrame,
    references: pl.DataFrame,
    remains: pl.DataFrame,
    provinces: pl.DataFrame,
    files: pl.DataFrame,
    quarantine: pl.DataFrame,
):
    run = match_country(CountryExports(martyrs, references, remains, provinces, files, quarantine))
    ids = run.identifications
    by_status = dict(ids["status"].value_counts().iter_rows()) if ids.height else {}
    context.log.info(f"national run: {run.candidates.height} pairs scored, {by_status} identifications")
    yield dg.Output(
        run.candidates,
        output_name="candidates",
        metadata={"pairs": run.candidates.height, "p_outside": run.result.p_outside},
    )
    yield dg.Output(
        ids,
        output_name="identifications",
        metadata={
            "proposed": by_status.get("proposed", 0),
            "needs_review": by_status.get("needs_review", 0),
            "out_of_province": int(ids["out_of_province"].sum()) if ids.height else 0,
        },
    )


national_one_to_one = violations_check(
    IDENTIFICATIONS,
    "one_to_one",
    "A remains is named once; a martyr is proposed for one remains at most.",
    folder="national",
)


@dg.asset(
    key=RETURNS,
    group_name=GROUP,
    ins={"identifications": dg.AssetIn(key=IDENTIFICATIONS), "provinces": dg.AssetIn(key=PROVINCES)},
    description=f"One row per province: {RETURN_DIR}/<province_code>/{QUOC_GIA.folder}/{RETURN_FILE} "
    "and its manifest, written to NATIONAL_OUT_DIR (rows, SHA-256).",
)
def national_returns(
    national: NationalSettingsResource, identifications: pl.DataFrame, provinces: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    written = write_returns(national.out, identifications, provinces["province_code"].to_list())
    return dg.Output(written, metadata={"provinces": written.height, "rows": int(written["rows"].sum())})


@dg.asset_check(
    asset=RETURNS,
    name="only_own_rows",
    blocking=True,
    description="Each province's return file holds only rows of its cemeteries or its registry, and "
    "every national identification reaches the provinces on both of its sides.",
)
def national_returns_only_own_rows(
    national: NationalSettingsResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    returns = warehouse.query("SELECT * FROM ops.national_returns")
    ids = warehouse.query("SELECT remains_province_code, martyr_province_code FROM national.identifications")
    problems = []
    for code, rows, _, path in returns.iter_rows():
        sent = pl.read_csv(national.out / path / RETURN_FILE, infer_schema=False)
        headers = {f.column: f.header for f in QUOC_GIA.fields}
        own = (sent[headers["remains_province_code"]] == code) | (
            sent[headers["martyr_province_code"]] == code
        )
        expected = ids.filter(
            (pl.col("remains_province_code") == code) | (pl.col("martyr_province_code") == code)
        )
        if sent.height != rows or not own.all() or sent.height != expected.height:
            problems.append(code)
    return dg.AssetCheckResult(
        passed=not problems, metadata={"provinces_wrong": ", ".join(problems) or "none"}
    )
