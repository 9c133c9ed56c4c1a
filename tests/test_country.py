"""The generated country (issue 18, item 3): several provinces whose cemeteries hold each other's
martyrs by the war's flows, with the country's truth kept apart."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from lietsi.synth import places
from lietsi.synth.country import (
    FRONT_YEARS,
    PROVINCES,
    REGION_UNITS,
    REPATRIATION,
    choose,
    destination,
    generate_country,
)
from lietsi.truth import TruthFolder
from tests.ops_province import run_pipeline

CODES = {"Nghệ An": "40", "Quảng Trị": "45", "Tây Ninh": "72", "Kiên Giang": "91", "Thái Bình": "34"}


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("country")
    generate_country(out, 5, 150, 3)
    return out


def _truth(country: Path, code: str, table: str) -> pl.DataFrame:
    return TruthFolder(country / "provinces" / code / "truth").read(table)


def _national(country: Path) -> pl.DataFrame:
    return pl.read_csv(country / "truth" / "national_remains.csv", infer_schema=False).fill_null("")


def test_five_provinces_each_a_full_inbox_and_truth(country: Path) -> None:
    provinces = pl.read_csv(country / "truth" / "provinces.csv", infer_schema=False)
    assert dict(zip(provinces["province"], provinces["province_code"], strict=True)) == CODES
    for code in CODES.values():
        folder = country / "provinces" / code
        assert {p.name for p in (folder / "inbox").iterdir()} >= {"registry", "hai_cot", "ket_qua_adn"}
        martyrs = _truth(country, code, "martyrs").filter(pl.col("in_province") == "true")
        assert martyrs.height == 150
        # Hometowns over the real home province's communes, not one district's.
        assert set(martyrs["hometown_province"]) == {
            provinces.filter(pl.col("province_code") == code)["province"][0]
        }
        assert martyrs.select("hometown_district", "hometown_commune").unique().height > 40


def test_every_remains_of_the_country_is_in_the_national_truth_once(country: Path) -> None:
    national = _national(country)
    for code in CODES.values():
        ids = _truth(country, code, "remains")["remains_id"].to_list()
        assert sorted(national.filter(pl.col("province_code") == code)["remains_id"]) == sorted(ids)
    named = national.filter(pl.col("martyr_uid") != "")
    # A martyr's remains lie in at most one cemetery of the country.
    assert named.select("martyr_province_code", "martyr_uid").is_unique().all()
    assert national.select("province_code", "remains_id").is_unique().all()


def test_remains_of_another_province_are_that_provinces_martyr(country: Path) -> None:
    """Same man in both provinces' truths: lineage (the haplotype his family carries), name, dates,
    place of death and unit as his home registry states them; and his relatives on the maternal
    line in his home province carry that haplotype."""
    national = _national(country)
    cols = ["full_name", "birth_year", "death_date", "death_place", "unit", "haplotype", "haplogroup"]
    crossed = national.filter(
        (pl.col("martyr_uid") != "") & (pl.col("martyr_province_code") != pl.col("province_code"))
    )
    assert crossed.height > 30
    by_province = {code: _truth(country, code, "martyrs") for code in CODES.values()}
    remains = {code: _truth(country, code, "remains") for code in CODES.values()}
    persons = {code: _truth(country, code, "persons") for code in CODES.values()}
    for row in crossed.iter_rows(named=True):
        here, home = row["province_code"], row["martyr_province_code"]
        uid_here = remains[here].filter(pl.col("remains_id") == row["remains_id"])["martyr_uid"][0]
        as_here = by_province[here].filter(pl.col("martyr_uid") == uid_here).row(0, named=True)
        at_home = by_province[home].filter(pl.col("martyr_uid") == row["martyr_uid"]).row(0, named=True)
        assert as_here["in_province"] == "false" and at_home["in_province"] == "true"
        assert as_here["grave_status"] == at_home["grave_status"] == "Chưa xác định"
        assert {c: as_here[c] for c in cols} == {c: at_home[c] for c in cols}, row
        # Renamed into this province's truth: no collision with its own families' lines.
        assert as_here["maternal_line_uid"] not in set(
            by_province[here].filter(pl.col("in_province") == "true")["maternal_line_uid"]
        )
        family = persons[home].filter(pl.col("maternal_line_uid") == at_home["maternal_line_uid"])
        assert (family["haplotype"] == at_home["haplotype"]).all()


def test_deaths_and_units_agree_with_where_the_remains_lie(country: Path) -> None:
    national = _national(country).filter(pl.col("martyr_uid") != "")
    names = {v: k for k, v in CODES.items()}
    checked = Counter()
    for code, name in names.items():
        martyrs = _truth(country, code, "martyrs")
        remains = _truth(country, code, "remains").join(martyrs, on="martyr_uid")
        generated = set(national.filter(pl.col("province_code") == code)["remains_id"])
        for m in remains.filter(pl.col("remains_id").is_in(list(generated))).iter_rows(named=True):
            abroad = m["death_country"] == "Campuchia"
            assert m["death_province"] == name or (
                abroad and (name in REPATRIATION or m["in_province"] == "true")
            ), m
            if m["in_province"] == "false":
                lo, hi = FRONT_YEARS.get(name, (1945, 1989))
                assert lo <= int(m["death_date"][:4]) <= hi, m
                division = int(m["unit"].rsplit("Sư đoàn ", 1)[1])
                assert division in {d for _, d in REGION_UNITS[name]}, m
                checked[name] += 1
    # Northern men in Quảng Trị and Tây Ninh; southern men between the border provinces.
    assert checked["Quảng Trị"] > 10 and checked["Tây Ninh"] > 10 and checked["Kiên Giang"] > 3


def test_only_stated_flows_occur_and_nobody_sent_shares_hold(country: Path) -> None:
    national = _national(country)
    names = {v: k for k, v in CODES.items()}
    stated = {p.name: dict(p.flows) for p in PROVINCES}
    for row in national.filter(pl.col("martyr_uid") != "").iter_rows(named=True):
        home, here = names[row["martyr_province_code"]], names[row["province_code"]]
        assert stated[home].get(here, 0) > 0, (home, here)
    for p in choose(5):
        rows = national.filter(pl.col("province_code") == CODES[p.name])
        sent = rows.filter(pl.col("martyr_uid") != "").height
        assert rows.height - sent == round(p.nobody_sent / (1 - p.nobody_sent) * sent), p.name
    # Martyrs nobody sent come from provinces outside the country.
    qt = _truth(country, "45", "martyrs").filter(pl.col("in_province") == "false")
    homes = set(qt.join(_truth(country, "45", "remains"), on="martyr_uid")["hometown_province"])
    assert homes - set(CODES) and not (homes & {"Quảng Trị"})


def test_destinations_follow_the_stated_shares() -> None:
    rng = random.Random(5)
    generated = {p.name for p in choose(5)}
    for home in choose(5):
        n = 20_000
        counts = Counter(destination(rng, home, 1970, generated) for _ in range(n))
        expected = {d: s for d, s in home.flows if d in generated}
        for dest, share in expected.items():
            assert counts[dest] / n == pytest.approx(share, abs=0.012), (home.name, dest)
        assert counts[None] / n == pytest.approx(1 - sum(expected.values()), abs=0.012), home.name
    # A front closed that year: Quảng Trị after 1975 takes no northern soldier.
    north = choose(["Nghệ An", "Quảng Trị"])[0]
    assert "Quảng Trị" not in {destination(rng, north, 1980, generated) for _ in range(2000)}


def test_same_seed_gives_byte_identical_country(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 4), (b, 4), (c, 5)):
        generate_country(out, ["Nghệ An", "Quảng Trị"], 40, seed)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert (a / "truth/national_remains.csv").read_bytes() != (c / "truth/national_remains.csv").read_bytes()


def test_unknown_provinces_and_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="no flows"):
        choose(["Nghệ An", "Atlantis"])
    with pytest.raises(ValueError, match="2 to"):
        choose(1)
    assert places.load_province("Quảng Trị").code == CODES["Quảng Trị"]


def test_a_country_province_runs_through_the_province_pipeline(tmp_path: Path) -> None:
    """Quảng Trị of a small country through the province pipeline without a truth (as a province
    runs it): the run succeeds and its national export lists every remains of its register."""
    generate_country(tmp_path, ["Nghệ An", "Quảng Trị"], 30, 6)
    folder = tmp_path / "provinces" / "45"
    result = run_pipeline(folder, TRUTH_DIR="")
    assert result.returncode == 0, result.stderr[-3000:]
    export = folder / "out" / "latest" / "export" / "national"
    assert json.loads((export / "manifest.json").read_text(encoding="utf-8"))["province_code"] == "45"
    with open(export / "remains.csv", encoding="utf-8-sig", newline="") as fh:
        exported = {row["remains_id"] for row in csv.DictReader(fh)}
    national = _national(tmp_path).filter(pl.col("province_code") == "45")
    assert exported == set(national["remains_id"])
    assert (national["martyr_province_code"] == "40").any()
