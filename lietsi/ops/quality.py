"""Great Expectations suites (JSON in `expectations/`) run against polars frames.

Suites are plain JSON so that a data engineer can read and edit them without Python; this module
turns them into GX 1.x `ExpectationSuite`s and validates a frame in an ephemeral context.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_examples: list


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    outcomes: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def describe(self) -> str:
        lines = [f"suite {self.suite}: {'passed' if self.success else 'FAILED'}"]
        for o in self.outcomes:
            mark = "ok" if o.success else "FAIL"
            detail = (
                f" ({o.unexpected_count} unexpected, e.g. {o.unexpected_examples[:3]})"
                if not o.success
                else ""
            )
            lines.append(f"- {mark} {o.expectation} {o.column or ''}{detail}")
        return "\n".join(lines)


def load_suite_config(name: str, directory: Path = EXPECTATIONS_DIR) -> dict:
    return json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))


@cache
def _gx_batch_definition():
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    source = context.data_sources.add_pandas("frames")
    return gx, source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def validate(frame: pl.DataFrame, suite_config: dict) -> SuiteResult:
    """Validate a frame against a suite config (`{"name": ..., "expectations": [{type, kwargs}]}`)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx, batch_definition = _gx_batch_definition()
    expectations = [
        ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj()
        for e in suite_config["expectations"]
        if all(c in frame.columns for c in _columns_of(e["kwargs"]))
    ]
    suite = gx.ExpectationSuite(name=suite_config["name"], expectations=expectations)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    result = batch.validate(suite)
    outcomes = [
        ExpectationOutcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=r.result.get("unexpected_count"),
            unexpected_examples=list(r.result.get("partial_unexpected_list") or []),
        )
        for r in result.results
    ]
    return SuiteResult(suite_config["name"], all(o.success for o in outcomes), outcomes)


def _columns_of(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    return list(kwargs.get("column_list", []))
