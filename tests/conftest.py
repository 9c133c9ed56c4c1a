"""Shared fixtures: an isolated warehouse, inbox and settings per test."""

from pathlib import Path

import pytest
from hostile_inbox import HostileRun, hostile_run

from resources import SettingsResource, WarehouseIOManager, WarehouseResource

TEST_HASH_KEY = "test-hash-key"


@pytest.fixture
def workspace(tmp_path: Path) -> dict:
    """Resources pointing at a temporary inbox, warehouse, truth and output folder."""
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    settings = SettingsResource(
        inbox_dir=str(tmp_path / "inbox"),
        truth_dir=str(tmp_path / "truth"),
        out_dir=str(tmp_path / "out"),
        hash_key=TEST_HASH_KEY,
    )
    return {
        "warehouse": warehouse,
        "settings": settings,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    """The hostile inbox run (payloads, hostile remains ids and bad files), once per session."""
    return hostile_run(tmp_path_factory)
