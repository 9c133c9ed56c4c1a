"""The national run's candidates (`inbox/quoc_gia/`, optional) → `marts.national_candidates` and the
council's page `quoc_gia/index.html` (docs/national.md).

Most runs have no such folder: the table is then empty and the page says so. Rows that concern
neither the province's remains nor its martyrs go to `ops.quarantine_national_candidates`.
"""

import dagster as dg
import polars as pl

from lietsi.ops.national_candidates import national_candidates, national_candidates_page
from lietsi.ops.pages import Footer, write_page
from lietsi.ops.site import NATIONAL_PAGE
from lietsi.places import province_of
from resources import SettingsResource

GROUP = "matching"


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "quoc_gia": dg.AssetIn(key=["raw", "quoc_gia"]),
        "hai_cot": dg.AssetIn(key=["raw", "hai_cot"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
    },
    outs={
        "candidates": dg.AssetOut(
            key=["marts", "national_candidates"],
            description="Candidates of the national run that concern the province: its cemeteries' remains "
            "named as another province's martyr, its martyrs named for remains elsewhere (side), with "
            "status, posterior and reasons. Empty when inbox/quoc_gia/ is absent (normal).",
        ),
        "quarantine": dg.AssetOut(
            key=["ops", "quarantine_national_candidates"],
            description="Rows of inbox/quoc_gia/ naming neither a remains nor a martyr of the province.",
        ),
    },
)
def national_candidates_asset(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    quoc_gia: pl.DataFrame,
    hai_cot: pl.DataFrame,
    martyrs: pl.DataFrame,
):
    candidates, refused = national_candidates(quoc_gia, hai_cot, martyrs)
    if quoc_gia.is_empty():
        context.log.info("inbox/quoc_gia/ is empty or missing: no candidate from the national run")
    footer = Footer(province_of(martyrs), context.run_id)
    page = write_page(
        settings.run_out(context.run_id), NATIONAL_PAGE, national_candidates_page(candidates, footer)
    )
    by_side = dict(candidates["side"].value_counts().iter_rows()) if candidates.height else {}
    yield dg.Output(
        candidates,
        output_name="candidates",
        metadata={
            "rows": candidates.height,
            "by_side": str(by_side),
            "page": dg.MetadataValue.path(str(page)),
        },
    )
    yield dg.Output(refused, output_name="quarantine", metadata={"rows": refused.height})
