"""What to sample or sequence next → `marts.next_actions` and a page per district.

The method (expected identifications gained per million đồng) is in lietsi.matching.next_actions and
docs/matching.md §9; costs and assumed rates are run config.
"""

import dagster as dg
import polars as pl

from assets._shared import summary_metadata
from lietsi.matching.next_actions import ActionCosts, ActionSettings, actions_summary, province_next_actions
from lietsi.ops.next_action_pages import PAGES, write_district_pages
from lietsi.ops.pages import Footer
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
    actions, province = province_next_actions(
        config.settings(), outcomes, candidates, identifications, worklist, profiles, maternal_candidates,
        relatives, martyrs, hai_cot, mau_adn, ket_qua_adn,
    )  # fmt: skip
    out = settings.run_out(context.run_id)
    pages = write_district_pages(out, actions, Footer(province, context.run_id))
    summary = actions_summary(actions)
    context.log.info(
        f"{summary['actions']} next actions, {summary['expected_identifications']:.1f} expected "
        f"identifications for {summary['cost_million_vnd']:,.0f} million đồng; pages in {out / PAGES}"
    )
    return dg.Output(
        actions,
        metadata=summary_metadata(summary)
        | {
            "district_pages": len(pages) - 1,
            "index_page": dg.MetadataValue.path(str(out / PAGES / "index.html")),
        },
    )
