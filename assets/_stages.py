"""The asset keys other stage modules define, so operations assets can run after whatever exists.

Operations assets (analyst views, reports, the run audit) must run after the stages, but a stage's
module may not exist yet while the project grows; depending on keys nobody defines would show
phantom assets in the UI. They depend on exactly the keys found here.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import dagster as dg

# The operations modules run after the stages and import each other explicitly where one needs
# another; discovery skips them so that no module imports itself half-initialised.
OPERATIONS_MODULES = frozenset({"analyst", "audit", "privacy", "reports"})


def stage_keys() -> list[dg.AssetKey]:
    """Keys of every asset defined at module level in the stage modules of `assets`."""
    import assets

    keys: set[dg.AssetKey] = set()
    for info in pkgutil.iter_modules(assets.__path__):
        if info.name.startswith("_") or info.name in OPERATIONS_MODULES:
            continue
        try:
            module = importlib.import_module(f"assets.{info.name}")
        except Exception as exc:
            # pipelines.definitions imports every module too and reports the error there; here a
            # broken stage must not also break the operations assets' own tests.
            warnings.warn(f"assets.{info.name} does not import: {exc}", stacklevel=2)
            continue
        for definition in dg.load_assets_from_modules([module]):
            if isinstance(definition, dg.AssetsDefinition):
                keys.update(definition.keys)
    return sorted(keys, key=lambda k: k.to_user_string())
