"""Resources: the DuckDB warehouse, its IO manager, and settings, all configurable from the environment.

| variable | default | meaning |
|---|---|---|
| `INBOX_DIR` | `data/inbox` | folder with one sub-folder per source (input contract) |
| `WAREHOUSE_PATH` | `data/warehouse.duckdb` | the DuckDB file every stage writes |
| `WAREHOUSE_KEY` | unset | when set, the warehouse is encrypted at rest with this key |
| `LIETSI_HASH_KEY` | a development key | HMAC key for citizen ids and phones |
| `LIETSI_ENV` | `development` | `production` refuses to start without `LIETSI_HASH_KEY` |
| `TRUTH_DIR` | unset (`make demo`: `data/truth`) | synthetic ground truth, for evaluation assets only |
| `OUT_DIR` | `data/out` | pages, maps, worklists, exports: `runs/<run_id>/`, `latest` |
"""

from __future__ import annotations

import importlib.resources
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import polars as pl

from resources.outputs import run_folder

T = TypeVar("T")
DEV_HASH_KEY = "lietsi-development-key-not-for-real-data"
# Steps that read or write files (inbox, warehouse, out_dir) retry on transient I/O errors: a warehouse
# locked by a UI query, a network share that hiccups. Shared so every stage retries the same way.
IO_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
# Another process (the UI, an analyst's session) may hold the warehouse lock for a moment.
_LOCK_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0)


def httpfs_extension_path() -> str:
    """The httpfs extension shipped by the `duckdb-extension-httpfs` wheel.

    DuckDB writes encrypted databases only with the OpenSSL crypto that httpfs brings; loading it
    from the installed wheel works offline, where `INSTALL httpfs` would try to download it.
    """
    version = duckdb.__version__
    path = importlib.resources.files("duckdb_extension_httpfs") / "extensions" / f"v{version}"
    return str(path / "httpfs.duckdb_extension")


def _waiting_for_lock(open_database: Callable[[], T]) -> T:
    """`open_database()`, retried while another process holds the warehouse's file lock."""
    for wait in _LOCK_WAITS:
        try:
            return open_database()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            time.sleep(wait)
    return open_database()


class MissingSecretError(RuntimeError):
    pass


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file, optionally encrypted at rest (DuckDB AES-GCM database encryption)."""

    path: str
    encryption_key: str | None = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if not self.encryption_key:
            con = _waiting_for_lock(lambda: duckdb.connect(self.path, read_only=read_only))
        else:
            # Encrypted databases can only be attached; the key is a bound parameter, never SQL text.
            con = duckdb.connect(":memory:")
            con.execute(f"LOAD '{httpfs_extension_path()}'")
            mode = ", READ_ONLY" if read_only else ""
            attach = f"ATTACH '{self.path}' AS warehouse (ENCRYPTION_KEY $key{mode})"
            try:
                _waiting_for_lock(lambda: con.execute(attach, {"key": self.encryption_key}))
            except Exception:
                con.close()
                raise
            con.execute("USE warehouse")
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list | dict | None = None) -> pl.DataFrame:
        with self.connect() as con:
            return con.execute(sql, params).pl()


class SettingsResource(dg.ConfigurableResource):
    """Paths, the hashing key and stage thresholds."""

    inbox_dir: str
    truth_dir: str
    out_dir: str
    hash_key: str
    environment: str = "development"

    def hash_key_bytes(self) -> bytes:
        return self.hash_key.encode("utf-8")

    @property
    def inbox(self) -> Path:
        return Path(self.inbox_dir)

    @property
    def truth(self) -> Path | None:
        if not self.truth_dir:
            return None
        path = Path(self.truth_dir)
        return path if path.is_dir() else None

    def run_out(self, run_id: str) -> Path:
        """This run's page folder, `OUT_DIR/runs/<run_id>/` (resources.outputs): every writer uses it."""
        return run_folder(Path(self.out_dir), run_id)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Polars frames in and out of `<schema>.<table>` tables named by the asset key.

    Hand-written rather than `dagster-duckdb-polars` because the warehouse may be encrypted, which
    needs ATTACH on a connection the library does not let us open; the table is replaced in one
    statement so a killed run never leaves half a table.
    """

    warehouse: WarehouseResource

    @staticmethod
    def _table(key: dg.AssetKey) -> tuple[str, str]:
        if len(key.path) != 2:
            raise ValueError(f"asset key {key.to_user_string()} must be [schema, table]")
        return key.path[0], key.path[1]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | None) -> None:
        if obj is None:
            return
        schema, table = self._table(context.asset_key)
        with self.warehouse.connect() as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.register("frame", obj.to_arrow())
            con.execute(f"CREATE OR REPLACE TABLE {schema}.{table} AS SELECT * FROM frame")
            con.unregister("frame")
        context.add_output_metadata({"dagster/row_count": obj.height, "table": f"{schema}.{table}"})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        schema, table = self._table(context.asset_key)
        with self.warehouse.connect() as con:
            return con.execute(f"SELECT * FROM {schema}.{table}").pl()


def settings_from_env() -> SettingsResource:
    environment = os.environ.get("LIETSI_ENV", "development")
    key = os.environ.get("LIETSI_HASH_KEY")
    if not key:
        if environment == "production":
            raise MissingSecretError(
                "LIETSI_HASH_KEY is not set: in production citizen ids and phones must be hashed "
                "with the province's secret key. Set LIETSI_HASH_KEY and start again."
            )
        key = DEV_HASH_KEY
    return SettingsResource(
        inbox_dir=os.environ.get("INBOX_DIR", "data/inbox"),
        # Never a default: a real province's run must not be scored against a synthetic truth left
        # behind by an earlier demo.
        truth_dir=os.environ.get("TRUTH_DIR", ""),
        out_dir=os.environ.get("OUT_DIR", "data/out"),
        hash_key=key,
        environment=environment,
    )


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(
        path=os.environ.get("WAREHOUSE_PATH", "data/warehouse.duckdb"),
        encryption_key=os.environ.get("WAREHOUSE_KEY") or None,
    )


def resources_from_env() -> dict[str, object]:
    warehouse = warehouse_from_env()
    return {
        "warehouse": warehouse,
        "settings": settings_from_env(),
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }
