"""Stage modules, one per stage, and their one discovery (stage modules first, then operations).

Adding a stage never means editing a central list: every public module of `assets` is a stage,
except the operations modules (analyst views, reports, the run audit, consent), which run after the
stages and depend on exactly the keys the stages define (no phantom assets in the UI).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import dagster as dg

# Operations modules import each other explicitly where one needs another; stage discovery skips
# them so that no module imports itself half-initialised.
OPERATIONS_MODULES = ("analyst", "audit", "privacy", "reports")
# The national run's assets: another code location (pipelines/national.py), not a province stage.
NATIONAL_MODULES = ("national",)


def stage_modules() -> list[ModuleType]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and info.name not in (*OPERATIONS_MODULES, *NATIONAL_MODULES)
    )
    return [importlib.import_module(f"assets.{name}") for name in names]


def asset_modules() -> list[ModuleType]:
    """Every module that defines assets or checks: the stages, then the operations."""
    return [*stage_modules(), *(importlib.import_module(f"assets.{n}") for n in OPERATIONS_MODULES)]


def stage_keys() -> list[dg.AssetKey]:
    """Keys of every asset the stage modules define."""
    keys = {
        key
        for definition in dg.load_assets_from_modules(stage_modules())
        if isinstance(definition, dg.AssetsDefinition)
        for key in definition.keys
    }
    return sorted(keys, key=lambda k: k.to_user_string())
