"""Resources: the DuckDB warehouse, its IO manager, and settings, all configurable from the environment.

| variable | default | meaning |
|---|---|---|
| `INBOX_DIR` | `data/inbox` | folder with one sub-folder per source (input contract) |
| `WAREHOUSE_PATH` | `data/warehouse.duckdb` | the DuckDB file every stage writes |
| `WAREHOUSE_KEY` | unset | when set, the warehouse (and DuckDB's spill files) are encrypted with this key |
| `LIETSI_HASH_KEY` | a development key | HMAC key for citizen ids and phones |
| `LIETSI_ENV` | `development` | exactly `development` or `production`; production requires both keys |
| `TRUTH_DIR` | unset (`make demo`: `data/truth`) | synthetic ground truth, for evaluation assets only |
| `OUT_DIR` | `data/out` | pages, maps, worklists, exports: `runs/<run_id>/`, `latest` |
| `NATIONAL_INBOX_DIR` | `data/national/inbox` | the national run's inbox: one folder per province export |
| `NATIONAL_WAREHOUSE_PATH` | `data/national/warehouse.duckdb` | the national run's DuckDB file |
| `NATIONAL_OUT_DIR` | `data/national/out` | the national run's results back to provinces (`return/`) |

The two keys are secrets: they are read from the environment by the resources when used and are
never resource config values, so they never reach Dagster's run history, snapshots or UI, and the
launchpad cannot replace them (nor the warehouse path) in production."""

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

from lietsi.ingest.limits import FileLimits
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
    """The environment does not hold what this mode of running requires (keys, an exact LIETSI_ENV)."""


DEVELOPMENT, PRODUCTION = "development", "production"
# Both keys are secrets an attacker could otherwise enumerate against: 32 characters is the length of
# `openssl rand -base64 24`, far beyond guessing.
MIN_KEY_LENGTH = 32
_DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def environment() -> str:
    """`LIETSI_ENV`, exactly `development` (the default) or `production`.

    Anything else (`Production`, `prod`, ` production`, an empty value) is refused rather than taken
    for development: a typo must never run a real province with the public development key.
    """
    value = os.environ.get("LIETSI_ENV", DEVELOPMENT)
    if value not in (DEVELOPMENT, PRODUCTION):
        raise MissingSecretError(
            f"LIETSI_ENV={value!r} is neither 'production' nor 'development' (exact, lower case, no "
            "spaces). Set LIETSI_ENV=production for a real province, or unset it for development."
        )
    return value


def _secret(variable: str) -> str | None:
    """A key from the environment, checked against the production rules; None when unset in development."""
    value = os.environ.get(variable) or None
    if environment() != PRODUCTION:
        return value
    if value is None:
        purpose = {
            "LIETSI_HASH_KEY": "citizen ids and phones must be hashed with the province's secret key",
            "WAREHOUSE_KEY": "the warehouse holds personal data and must be encrypted at rest",
        }[variable]
        raise MissingSecretError(
            f"{variable} is not set: in production {purpose}. Set {variable} and start again."
        )
    if len(value) < MIN_KEY_LENGTH:
        raise MissingSecretError(
            f"{variable} is {len(value)} characters long: production requires at least "
            f"{MIN_KEY_LENGTH} (for example `openssl rand -base64 32`)."
        )
    if value == DEV_HASH_KEY:
        raise MissingSecretError(f"{variable} is the public development key: production needs its own key.")
    return value


def check_environment() -> None:
    """Refuse to start when the environment breaks the production rules (called when definitions load)."""
    if environment() == PRODUCTION:
        hash_key, warehouse_key = _secret("LIETSI_HASH_KEY"), _secret("WAREHOUSE_KEY")
        if hash_key == warehouse_key:
            raise MissingSecretError("LIETSI_HASH_KEY and WAREHOUSE_KEY must be different keys.")


def _not_in_production(name: str, value: object) -> None:
    if value and environment() == PRODUCTION:
        raise MissingSecretError(
            f"the resource config value '{name}' is refused in production: it comes from the "
            "environment only, so run config (the launchpad) cannot replace it."
        )


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """`schema.table` of every table and view of the warehouse the connection uses."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


# The open database of each warehouse in a session, by (resolved path, encryption key).
_SESSIONS: dict[tuple[str, str | None], duckdb.DuckDBPyConnection] = {}
_ATTACHED = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file, optionally encrypted at rest (DuckDB AES-GCM database encryption).

    `path` and `encryption_key` are for tests and development only; left empty, the resource reads
    `WAREHOUSE_PATH` and `WAREHOUSE_KEY` when it connects, and in production it reads nothing else.
    """

    path: str = ""
    encryption_key: str | None = None
    # The national run's warehouse is another file, named by another variable.
    path_variable: str = "WAREHOUSE_PATH"
    default_path: str = _DEFAULT_WAREHOUSE

    @property
    def database(self) -> Path:
        _not_in_production("path", self.path)
        return Path(self.path or os.environ.get(self.path_variable) or self.default_path)

    def _key(self) -> str | None:
        _not_in_production("encryption_key", self.encryption_key)
        return self.encryption_key or _secret("WAREHOUSE_KEY")

    @property
    def temp_directory(self) -> Path:
        """DuckDB's spill folder, next to the warehouse (never `./.tmp` of whatever the working folder is)."""
        return self.database.parent / f".{self.database.name}.tmp"

    def _open(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        database, key = self.database, self._key()
        database.parent.mkdir(parents=True, exist_ok=True)
        temp = {"temp_directory": str(self.temp_directory)}
        if not key:
            return _waiting_for_lock(lambda: duckdb.connect(str(database), read_only=read_only, config=temp))
        # Encrypted databases can only be attached; the key is a bound parameter, never SQL text.
        # Spilled intermediate results hold the same personal data: DuckDB encrypts them too.
        con = duckdb.connect(":memory:", config=temp)
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute("SET temp_file_encryption = true")
        mode = ", READ_ONLY" if read_only else ""
        attach = f"ATTACH '{database}' AS {_ATTACHED} (ENCRYPTION_KEY $key{mode})"
        try:
            _waiting_for_lock(lambda: con.execute(attach, {"key": key}))
        except Exception:
            con.close()
            raise
        con.execute(f"USE {_ATTACHED}")
        return con

    def _session_key(self) -> tuple[str, str | None]:
        return str(self.database.resolve()), self._key()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep the warehouse open while the block runs: every :meth:`connect` inside it, from any
        resource of the same warehouse in this process, is a cursor on this one database.

        Opening the file costs ~30 ms of CPU (catalog load, and a checkpoint when the last
        connection closes); a run makes ~190 connections. The process holds the file's write lock
        for the whole block, so other processes wait for the lock until it ends (`_LOCK_WAITS`).
        """
        key = self._session_key()
        if key in _SESSIONS:
            yield
            return
        _SESSIONS[key] = self._open()
        try:
            yield
        finally:
            _SESSIONS.pop(key).close()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse; inside a :meth:`session`, a cursor on the session's
        (read-write) database, whatever `read_only` asks."""
        anchor = _SESSIONS.get(self._session_key())
        if anchor is None:
            con = self._open(read_only)
        else:
            con = anchor.cursor()
            if self._key():
                con.execute(f"USE {_ATTACHED}")
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list | dict | None = None) -> pl.DataFrame:
        with self.connect() as con:
            return con.execute(sql, params).pl()

    def has_table(self, schema: str, table: str) -> bool:
        """Whether `<schema>.<table>` exists: a stage whose inputs never arrived has not written it."""
        with self.connect() as con:
            return f"{schema}.{table}" in existing_tables(con)


class SettingsResource(dg.ConfigurableResource):
    """Paths, per-file inbox limits and stage thresholds; the hashing key is read when used.

    `hash_key` is for tests and development only: empty, `LIETSI_HASH_KEY` (or the development key
    outside production) is read from the environment at use time.
    """

    inbox_dir: str
    truth_dir: str
    out_dir: str
    hash_key: str = ""
    max_file_bytes: int = FileLimits.max_bytes
    max_rows: int = FileLimits.max_rows
    max_cells: int = FileLimits.max_cells
    max_sequence_length: int = FileLimits.max_sequence_length

    def hash_key_bytes(self) -> bytes:
        _not_in_production("hash_key", self.hash_key)
        return (self.hash_key or _secret("LIETSI_HASH_KEY") or DEV_HASH_KEY).encode("utf-8")

    def file_limits(self) -> FileLimits:
        return FileLimits(self.max_file_bytes, self.max_rows, self.max_cells, self.max_sequence_length)

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
            # Quoted: `national.references` is a table name and an SQL keyword.
            con.execute(f'CREATE OR REPLACE TABLE {schema}."{table}" AS SELECT * FROM frame')
            con.unregister("frame")
        context.add_output_metadata({"dagster/row_count": obj.height, "table": f"{schema}.{table}"})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        schema, table = self._table(context.asset_key)
        with self.warehouse.connect() as con:
            return con.execute(f'SELECT * FROM {schema}."{table}"').pl()


def _limit(variable: str, default: int) -> int:
    value = os.environ.get(variable)
    if value is None:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise MissingSecretError(f"{variable}={value!r} is not a positive whole number")
    return int(value)


def settings_from_env() -> SettingsResource:
    """Settings from the environment; the hashing key itself stays there (checked now, read when used)."""
    check_environment()
    _secret("LIETSI_HASH_KEY")
    return SettingsResource(
        inbox_dir=os.environ.get("INBOX_DIR", "data/inbox"),
        # Never a default: a real province's run must not be scored against a synthetic truth left
        # behind by an earlier demo.
        truth_dir=os.environ.get("TRUTH_DIR", ""),
        out_dir=os.environ.get("OUT_DIR", "data/out"),
        max_file_bytes=_limit("LIETSI_MAX_FILE_BYTES", FileLimits.max_bytes),
        max_rows=_limit("LIETSI_MAX_ROWS", FileLimits.max_rows),
        max_cells=_limit("LIETSI_MAX_CELLS", FileLimits.max_cells),
        max_sequence_length=_limit("LIETSI_MAX_SEQUENCE_LENGTH", FileLimits.max_sequence_length),
    )


def warehouse_from_env() -> WarehouseResource:
    """The warehouse as configured by `WAREHOUSE_PATH` and `WAREHOUSE_KEY`, both read when it connects."""
    check_environment()
    return WarehouseResource()


def resources_from_env() -> dict[str, object]:
    warehouse = warehouse_from_env()
    return {
        "warehouse": warehouse,
        "settings": settings_from_env(),
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }


class NationalSettingsResource(dg.ConfigurableResource):
    """The national run's folders: its inbox (one folder per province export) and its outputs."""

    inbox_dir: str
    out_dir: str

    @property
    def inbox(self) -> Path:
        return Path(self.inbox_dir)

    @property
    def out(self) -> Path:
        return Path(self.out_dir)


def national_resources_from_env() -> dict[str, object]:
    """The national run's resources: `NATIONAL_INBOX_DIR`, `NATIONAL_WAREHOUSE_PATH` (encrypted with
    `WAREHOUSE_KEY` when set), `NATIONAL_OUT_DIR`."""
    check_environment()
    warehouse = WarehouseResource(
        path_variable="NATIONAL_WAREHOUSE_PATH", default_path="data/national/warehouse.duckdb"
    )
    return {
        "warehouse": warehouse,
        "national": NationalSettingsResource(
            inbox_dir=os.environ.get("NATIONAL_INBOX_DIR", "data/national/inbox"),
            out_dir=os.environ.get("NATIONAL_OUT_DIR", "data/national/out"),
        ),
        "io_manager": WarehouseIOManager(warehouse=warehouse),
    }
