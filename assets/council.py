"""The identification council's decisions (`inbox/xac_nhan/`) → `marts.council_decisions`.

Each decision row is resolved against the run's remains and martyrs (`lietsi.matching.council`), or
against another province's martyr the national run named for one of the remains
(`marts.national_candidates`, id `<province_code>:<martyr_id>`); a row that cannot be used goes to
`ops.quarantine_council` with its reason. The matching stage reads the
decisions in force: confirmed pairs leave the pools, rejected pairs are no candidates until a new
sample or lab result for either side is dated after the decision.
"""

import dagster as dg
import polars as pl

from assets._shared import summary_metadata
from lietsi.matching.council import council_of_run, council_summary

GROUP = "matching"
DECISIONS = dg.AssetKey(["marts", "council_decisions"])


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "xac_nhan": dg.AssetIn(key=["raw", "xac_nhan"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
        "hai_cot": dg.AssetIn(key=["raw", "hai_cot"]),
        "mau_adn": dg.AssetIn(key=["raw", "mau_adn"]),
        "ket_qua_adn": dg.AssetIn(key=["raw", "ket_qua_adn"]),
        "relatives": dg.AssetIn(key=["core", "relatives"]),
        "maternal_candidates": dg.AssetIn(key=["marts", "maternal_candidates"]),
        "national_candidates": dg.AssetIn(key=["marts", "national_candidates"]),
    },
    outs={
        "decisions": dg.AssetOut(
            key=DECISIONS,
            description="Every usable decision of the identification council: pair, decision "
            "(confirmed/rejected), date, minutes, whether it is in force (a later decision on the pair "
            "replaces it) and whether a newer sample or result lifted a rejection.",
        ),
        "quarantine": dg.AssetOut(
            key=["ops", "quarantine_council"],
            description="Council decision rows that cannot be used, with the reason.",
        ),
    },
)
def council_decisions(
    context: dg.AssetExecutionContext,
    xac_nhan: pl.DataFrame,
    martyrs: pl.DataFrame,
    hai_cot: pl.DataFrame,
    mau_adn: pl.DataFrame,
    ket_qua_adn: pl.DataFrame,
    relatives: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    national_candidates: pl.DataFrame,
):
    council = council_of_run(
        xac_nhan, martyrs, hai_cot, mau_adn, ket_qua_adn, relatives, maternal_candidates, national_candidates
    )
    if xac_nhan.is_empty():
        context.log.info("inbox/xac_nhan/ is empty or missing: no council decision yet")
    metadata = summary_metadata(council_summary(xac_nhan, council))
    yield dg.Output(council.decisions, output_name="decisions", metadata=metadata)
    quarantine = council.quarantine
    yield dg.Output(quarantine, output_name="quarantine", metadata={"rows": quarantine.height})
