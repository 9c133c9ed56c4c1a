"""Privacy: no clear identifier anywhere, an analyst schema without identifiers of the living,
consent respected, the warehouse encrypted at rest, and the hashing key required in production."""

import csv
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from ops_province import province_run

from assets.analyst import create_views, view_sql
from assets.ingest import build_ingest_asset
from assets.privacy import build_consent_check, consent_violations
from lietsi.ops.disclosure import CITIZEN_ID, PHONE, living_relative_names, scan_schema
from lietsi.schema import PHIEU_02
from resources import (
    DEV_HASH_KEY,
    MIN_KEY_LENGTH,
    MissingSecretError,
    SettingsResource,
    WarehouseIOManager,
    WarehouseResource,
    resources_from_env,
    settings_from_env,
    warehouse_from_env,
)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    # A failing step of another stage (its own tests report it) must not hide these results: each
    # test reads the tables it needs and fails on its own if they are missing.
    return province_run(tmp_path_factory)


def _all_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY 1, 2"
    ).fetchall()


def test_no_citizen_id_or_phone_is_stored_in_clear_anywhere(province):
    with open(province.truth / "persons.csv", encoding="utf-8") as handle:
        clear_ids = {row["citizen_id"] for row in csv.DictReader(handle) if row["citizen_id"]}
    assert len(clear_ids) > 50
    leaks = []
    with province.warehouse.connect(read_only=True) as con:
        tables = _all_tables(con)
        assert len(tables) > 40
        for schema, table in tables:
            columns = [r[0] for r in con.execute(f"DESCRIBE {schema}.{table}").fetchall()]
            for column in columns:
                values = con.execute(
                    f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {schema}.{table} '
                    f'WHERE "{column}" IS NOT NULL'
                ).fetchall()
                for (value,) in values:
                    if CITIZEN_ID.search(value) or PHONE.search(value) or any(i in value for i in clear_ids):
                        leaks.append(f"{schema}.{table}.{column}")
                        break
    assert leaks == []


def test_the_analyst_schema_holds_no_identifier_of_the_living(province):
    with province.warehouse.connect(read_only=True) as con:
        views = {t for s, t in _all_tables(con) if s == "analyst"}
        names = living_relative_names(con)
        findings = scan_schema(con, "analyst", names)
    # Every view whose mart the pipeline builds exists.
    assert views == set(view_sql())
    assert len(names) > 50
    assert findings.is_empty(), findings


def test_the_scan_finds_what_it_looks_for(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA analyst")
    con.execute(
        "CREATE VIEW analyst.leaky AS SELECT * FROM (VALUES "
        "('Bà Nguyễn Thị Lựu, em gái', 'cccd 091055001234', '0912 345 678', 'x'), "
        "('ok', 'ok', 'ok', '" + "ab" * 32 + "')) t(note, id_text, contact, citizen_id_hash)"
    )
    findings = scan_schema(con, "analyst", {"Nguyễn Thị Lựu"})
    assert set(findings["finding"]) == {
        "living relative's name",
        "citizen id pattern",
        "phone pattern",
        "keyed hash",
        "identifier column",
    }


def test_a_view_over_a_mart_not_built_yet_is_left_out_not_failed(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.martyrs AS SELECT 'LS-1' AS martyr_id, 'Nguyễn Văn Thành' AS full_name, "
        "1950 AS birth_year, '30898' AS hometown_commune_code, 'Bình An' AS hometown_commune, "
        "'905' AS hometown_district_code, 'Châu Thành' AS hometown_district, "
        "'Kiên Giang' AS hometown_province, DATE '1972-03-01' AS death_date, 'Chưa quy tập' AS grave_status, "
        "'0912345678' AS phone_hash"
    )
    outcome = create_views(con)
    assert outcome["martyrs"] is None
    assert "identifications" in outcome["identifications"]
    # The allow-list keeps a column a stage adds later (here a phone hash) out of the view.
    assert [r[0] for r in con.execute("DESCRIBE analyst.martyrs").fetchall()] == [
        "martyr_id",
        "full_name",
        "birth_year",
        "hometown_commune_code",
        "hometown_commune",
        "hometown_district_code",
        "hometown_district",
        "hometown_province",
        "death_date",
        "grave_status",
    ]


def _consent_tables(con: duckdb.DuckDBPyConnection, compared: list[str]) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS core; CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE core.relatives AS SELECT * FROM (VALUES "
        "('TN-yes', 'Có'), ('TN-no', 'Không'), ('TN-unasked', NULL)) t(relative_id, consent)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE marts.mtdna_profiles AS SELECT * FROM (VALUES "
        "('M1', 'relative', 'TN-yes'), ('M2', 'relative', 'TN-no'), ('M3', 'relative', 'TN-unasked'), "
        "('M4', 'relative', NULL), ('H1', 'remains', NULL)) t(sample_id, sample_kind, relative_id)"
    )
    rows = ", ".join(f"('H1', 'LS-1', '{r}')" for r in compared)
    con.execute(
        f"CREATE OR REPLACE TABLE marts.match_candidates AS SELECT * FROM (VALUES {rows}) "
        "t(remains_id, martyr_id, relative_id)"
    )


@pytest.mark.parametrize(
    ("compared", "violating"),
    [(["TN-yes"], []), (["TN-yes", "TN-no"], ["M2"]), (["TN-unasked"], ["M3"])],
)
def test_consent_violations_name_every_donor_compared_without_a_yes(tmp_path, compared, violating):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _consent_tables(con, compared)
    hits, columns = consent_violations(con)
    assert columns == ["relative_id"]
    assert sorted(hits["sample_id"]) == violating


def test_the_consent_check_blocks_when_a_refusing_donor_was_compared(workspace):
    with workspace["warehouse"].connect() as con:
        _consent_tables(con, ["TN-yes", "TN-no"])
    key = dg.AssetKey(["marts", "match_candidates"])

    @dg.asset(key=key)
    def match_candidates() -> None: ...

    check = build_consent_check(key)
    result = dg.materialize([match_candidates, check], resources=workspace, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.blocking
    assert evaluation.metadata["donors_without_consent_compared"].value == 1


def test_the_synthetic_run_compares_no_donor_without_consent(province):
    with province.warehouse.connect(read_only=True) as con:
        hits, columns = consent_violations(con)
        compared = con.execute("SELECT count(DISTINCT relative_id) FROM marts.match_candidates").fetchone()[0]
    assert "relative_id" in columns and compared > 0
    assert hits.is_empty()


def _phieu_02(inbox: Path) -> None:
    folder = inbox / "phieu_02"
    folder.mkdir(parents=True)
    (folder / "f.csv").write_text(
        "Số phiếu,Họ tên liệt sĩ,Họ tên thân nhân,Quan hệ với liệt sĩ,Số CCCD,Số điện thoại\n"
        "F1,Nguyễn Văn Thành,Nguyễn Thị Lựu,em gái ruột,091055001234,0912345678\n",
        encoding="utf-8",
    )


def test_the_encrypted_warehouse_opens_only_with_its_key(tmp_path):
    path = tmp_path / "encrypted.duckdb"
    warehouse = WarehouseResource(path=str(path), encryption_key="tinh-kien-giang-2025")
    settings = SettingsResource(
        inbox_dir=str(tmp_path / "inbox"), truth_dir="", out_dir=str(tmp_path / "out"), hash_key="k"
    )
    _phieu_02(tmp_path / "inbox")
    result = dg.materialize(
        [build_ingest_asset(PHIEU_02)],
        resources={
            "warehouse": warehouse,
            "settings": settings,
            "io_manager": WarehouseIOManager(warehouse=warehouse),
        },
    )
    assert result.success
    assert "Nguyễn Thị Lựu".encode() not in path.read_bytes()

    with warehouse.connect(read_only=True) as con:
        assert con.execute("SELECT relative_name FROM raw.phieu_02").fetchall() == [("Nguyễn Thị Lựu",)]
    with pytest.raises(duckdb.Error, match=r"(?i)encrypt"):
        duckdb.connect(str(path), read_only=True).execute("SELECT * FROM raw.phieu_02")
    wrong = WarehouseResource(path=str(path), encryption_key="wrong-key")
    with pytest.raises(duckdb.Error, match=r"(?i)wrong encryption key"), wrong.connect(read_only=True):
        pass


@pytest.mark.parametrize("key", [None, "tinh-kien-giang-2025"])
def test_a_session_shares_one_open_warehouse_and_still_checks_the_key(tmp_path, key):
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path), encryption_key=key)
    # Another resource of the same warehouse (as Dagster builds one per run) shares the session.
    same = WarehouseResource(path=str(path), encryption_key=key)
    with warehouse.session():
        with warehouse.connect() as con:
            con.execute("CREATE SCHEMA raw; CREATE TABLE raw.t AS SELECT 1 AS x")
        with same.connect(read_only=True) as con:
            assert con.execute("SELECT x FROM raw.t").fetchall() == [(1,)]
        if key:
            wrong = WarehouseResource(path=str(path), encryption_key="wrong-key")
            with pytest.raises(duckdb.Error), wrong.connect(read_only=True):
                pass
    # The session closed the file: a fresh connection opens it, and the table was kept.
    with WarehouseResource(path=str(path), encryption_key=key).connect(read_only=True) as con:
        assert con.execute("SELECT x FROM raw.t").fetchall() == [(1,)]


PRODUCTION_HASH_KEY = "h" * MIN_KEY_LENGTH
PRODUCTION_WAREHOUSE_KEY = "w" * MIN_KEY_LENGTH


def _production(monkeypatch, **keys: str | None) -> None:
    monkeypatch.setenv("LIETSI_ENV", "production")
    for variable, value in {
        "LIETSI_HASH_KEY": PRODUCTION_HASH_KEY,
        "WAREHOUSE_KEY": PRODUCTION_WAREHOUSE_KEY,
        **keys,
    }.items():
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"LIETSI_HASH_KEY": None}, "LIETSI_HASH_KEY is not set"),
        ({"WAREHOUSE_KEY": None}, "WAREHOUSE_KEY is not set"),
        ({"LIETSI_HASH_KEY": "province-secret"}, "at least 32"),
        ({"WAREHOUSE_KEY": "k"}, "at least 32"),
        ({"LIETSI_HASH_KEY": DEV_HASH_KEY}, "public development key"),
        ({"WAREHOUSE_KEY": PRODUCTION_HASH_KEY}, "different keys"),
    ],
)
def test_production_refuses_to_start_without_two_strong_keys(monkeypatch, keys, message):
    _production(monkeypatch, **keys)
    with pytest.raises(MissingSecretError, match=message):
        resources_from_env()


@pytest.mark.parametrize("value", ["Production", "prod", " production", "production ", "PRODUCTION", ""])
def test_a_near_miss_environment_name_is_refused_not_taken_for_development(monkeypatch, value):
    monkeypatch.setenv("LIETSI_ENV", value)
    monkeypatch.delenv("LIETSI_HASH_KEY", raising=False)
    with pytest.raises(MissingSecretError, match="neither 'production' nor 'development'"):
        settings_from_env()
    with pytest.raises(MissingSecretError, match="neither"):
        warehouse_from_env()


def test_keys_are_read_when_used_and_never_become_config(monkeypatch, tmp_path):
    _production(monkeypatch, WAREHOUSE_PATH=str(tmp_path / "w.duckdb"))
    resources = resources_from_env()
    config = repr(resources)
    assert "inbox_dir=" in config
    assert PRODUCTION_HASH_KEY not in config and PRODUCTION_WAREHOUSE_KEY not in config
    assert resources["settings"].hash_key_bytes() == PRODUCTION_HASH_KEY.encode()
    # The key is read at use time: a rotated key is used by the next run without reloading definitions.
    monkeypatch.setenv("LIETSI_HASH_KEY", "r" * MIN_KEY_LENGTH)
    assert resources["settings"].hash_key_bytes() == b"r" * MIN_KEY_LENGTH


def test_run_config_cannot_replace_the_keys_or_the_warehouse_in_production(monkeypatch, tmp_path):
    _production(monkeypatch, WAREHOUSE_PATH=str(tmp_path / "w.duckdb"))
    settings = SettingsResource(inbox_dir="i", truth_dir="", out_dir="o", hash_key="launchpad-key")
    with pytest.raises(MissingSecretError, match="'hash_key' is refused in production"):
        settings.hash_key_bytes()
    for override in ({"path": str(tmp_path / "other.duckdb")}, {"encryption_key": "x" * 40}):
        with (
            pytest.raises(MissingSecretError, match="refused in production"),
            WarehouseResource(**override).connect(),
        ):
            pass
    assert not (tmp_path / "other.duckdb").exists()


def test_the_encrypted_warehouse_spills_encrypted_next_to_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warehouse = WarehouseResource(path=str(tmp_path / "db" / "w.duckdb"), encryption_key="k" * 32)
    with warehouse.connect() as con:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('temp_directory', 'temp_file_encryption')"
            ).fetchall()
        )
    assert settings == {
        "temp_directory": str(tmp_path / "db" / ".w.duckdb.tmp"),
        "temp_file_encryption": "true",
    }
    assert not (tmp_path / ".tmp").exists()


def test_decimals_and_hex_ids_are_not_taken_for_identifiers():
    from lietsi.ops.disclosure import value_findings

    lookalikes = ['{"lr_total": 25582.036544588085}', "TN-068328829545", "LS-0905123456"]
    assert value_findings(lookalikes, set()) == {}
    assert value_findings(["CCCD 091155000123", "gọi 0912 345 678"], set()) == {
        "citizen id pattern": 1,
        "phone pattern": 1,
    }


def test_living_names_match_whole_words_in_any_case_and_spacing():
    from lietsi.ops.disclosure import name_index

    index = name_index({"Nguyễn Thị An", "Lê Văn", "Trần Văn Bình"})
    assert index.search("gặp bà NGUYỄN THỊ AN hôm qua")
    assert index.search("Trần Văn,  Bình (con)")
    assert not index.search("Nguyễn Thị Anh")  # another person: `An` is not `Anh`
    assert not index.search("Lê Văn Tám")  # two-word names are not searched
    assert name_index({"Lê Văn"}) is None
