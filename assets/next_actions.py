"""What to sample or sequence next → `marts.next_actions` and a page per district.

The method (expected identifications gained per million đồng) is in lietsi.matching.next_actions and
docs/matching.md §9; costs and assumed rates are run config.
"""

import dagster as dg
import polars as pl

from assets._shared import preview
from lietsi.matching.next_actions import (
    ActionCosts,
    ActionSettings,
    failed_samples,
    next_actions,
    subject_districts,
)
from lietsi.ops.next_action_pages import PAGES, district_pages
from lietsi.ops.pages import Footer, write_page
from lietsi.places import province_of
from resources import SettingsResource

GROUP = "matching"
NEXT_ACTIONS = dg.AssetKey(["marts", "next_actions"])


class NextActionsConfig(dg.Config):
    """Unit costs in đồng (10,000,000 per pair of samples analysed in the plan) and assumed rates."""

    sample_vnd: int = ActionCosts.sample_vnd
    mitogenome_vnd: int = ActionCosts.mitogenome_vnd
    retest_vnd: int = ActionCosts.retest_vnd
    retest_success: float = ActionSettings.retest_success
    mitogenome_separates: float = ActionSettings.mitogenome_separates
    default_conversion: float = ActionSettings.default_conversion

    def settings(self) -> ActionSettings:
        return ActionSettings(
            costs=ActionCosts(self.sample_vnd, self.mitogenome_vnd, self.retest_vnd),
            retest_success=self.retest_success,
            mitogenome_separates=self.mitogenome_separates,
            default_conversion=self.default_conversion,
        )


@dg.asset(
    key=NEXT_ACTIONS,
    group_name=GROUP,
    ins={
        "outcomes": dg.AssetIn(key=["marts", "identification_outcomes"]),
        "candidates": dg.AssetIn(key=["marts", "match_candidates"]),
        "identifications": dg.AssetIn(key=["marts", "identifications"]),
        "worklist": dg.AssetIn(key=["marts", "sampling_worklist"]),
        "profiles": dg.AssetIn(key=["marts", "mtdna_profiles"]),
        "maternal_candidates": dg.AssetIn(key=["marts", "maternal_candidates"]),
        "relatives": dg.AssetIn(key=["core", "relatives"]),
        "martyrs": dg.AssetIn(key=["core", "martyrs"]),
        "hai_cot": dg.AssetIn(key=["raw", "hai_cot"]),
        "mau_adn": dg.AssetIn(key=["raw", "mau_adn"]),
        "ket_qua_adn": dg.AssetIn(key=["raw", "ket_qua_adn"]),
    },
    description="For each unresolved remains and each missing martyr without a usable reference, the "
    "action that most raises the expected number of identifications (sample a maternal relative, "
    "sequence a whole mitogenome, re-test a failed sample), ranked by expected identifications per "
    "million đồng; one HTML page per district in <out_dir>/next_actions/.",
)
def next_actions_asset(
    context: dg.AssetExecutionContext,
    config: NextActionsConfig,
    settings: SettingsResource,
    outcomes: pl.DataFrame,
    candidates: pl.DataFrame,
    identifications: pl.DataFrame,
    worklist: pl.DataFrame,
    profiles: pl.DataFrame,
    maternal_candidates: pl.DataFrame,
    relatives: pl.DataFrame,
    martyrs: pl.DataFrame,
    hai_cot: pl.DataFrame,
    mau_adn: pl.DataFrame,
    ket_qua_adn: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    province = province_of(martyrs, hai_cot["recovery_place"] if hai_cot.height else None)
    remains_profiles = profiles.filter(pl.col("sample_kind") == "remains")
    ranges = dict(
        remains_profiles.sort("range_length", descending=True)
        .unique("remains_id", keep="first")
        .select("remains_id", "range")
        .iter_rows()
    )
    failed = failed_samples(ket_qua_adn, mau_adn, profiles, relatives, maternal_candidates)
    actions = next_actions(
        outcomes,
        candidates,
        identifications,
        worklist,
        set(profiles["relative_id"].drop_nulls().to_list()),
        failed,
        subject_districts(martyrs, candidates, hai_cot, province),
        ranges,
        config.settings(),
        frozenset(relatives.filter(pl.col("citizen_id_hash").is_null())["relative_id"].to_list()),
        province=province,
    )
    out = settings.run_out(context.run_id)
    folder = out / PAGES
    pages = district_pages(actions, Footer(province, context.run_id))
    for path, html in pages.items():
        write_page(out, path, html)
    ranked = actions.filter(pl.col("rank").is_not_null())
    by_action = ranked.group_by("action").agg(
        pl.len().alias("subjects"),
        pl.col("expected_identifications").sum().round(2).alias("expected_identifications"),
        (pl.col("cost_vnd").sum() / 1e6).alias("cost_million_vnd"),
    )
    context.log.info(
        f"{ranked.height} next actions, {ranked['expected_identifications'].sum():.1f} expected "
        f"identifications for {ranked['cost_vnd'].sum() / 1e6:,.0f} million đồng; pages in {folder}"
    )
    return dg.Output(
        actions,
        metadata={
            "subjects": actions.height,
            "actions": ranked.height,
            "expected_identifications": float(ranked["expected_identifications"].sum()),
            "cost_million_vnd": float(ranked["cost_vnd"].sum() / 1e6),
            "by_action": preview(by_action.sort("action"), 10),
            "top_actions": preview(
                ranked.select(
                    "rank",
                    "subject_kind",
                    "subject_id",
                    "district_code",
                    "district",
                    "action",
                    "target",
                    "expected_identifications",
                    "identifications_per_million_vnd",
                ),
                20,
            ),
            "district_pages": len(pages) - 1,
            "index_page": dg.MetadataValue.path(str(folder / "index.html")),
        },
    )
