"""The country-scale generator (lietsi.synth.country_scale): the national export format, truth kept
apart, the flows of the war, and haplotypes that follow the families."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lietsi.lab import mtdna
from lietsi.lab.comparison import ComparisonRules, compare
from lietsi.ops.national_export import NATIONAL_FORMAT, NATIONAL_VERSION
from lietsi.schema import is_personal
from lietsi.synth.country_scale import EXPORT_COLUMNS, CountrySize, generate_country, write_country

FRACTION = 0.002  # 2,400 martyrs, 600 remains, 1,000 donors


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("country")
    write_country(generate_country(FRACTION, seed=3), out)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _table(country: Path, name: str) -> list[dict[str, str]]:
    return [
        {**row, "province_code": folder.name}
        for folder in sorted((country / "inbox").iterdir())
        for row in _read(folder / f"{name}.csv")
    ]


def test_sizes_follow_the_fraction() -> None:
    assert CountrySize.of(1.0) == CountrySize(1_200_000, 300_000, 500_000)
    assert CountrySize.of(0.1) == CountrySize(120_000, 30_000, 50_000)
    with pytest.raises(ValueError):
        CountrySize.of(1.5)


def test_each_province_folder_is_a_national_export_with_checksums(country: Path) -> None:
    folders = sorted((country / "inbox").iterdir())
    assert len(folders) >= 60  # the real provinces (63 before 2025)
    rows = Counter()
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert (manifest["format"], manifest["version"]) == (NATIONAL_FORMAT, NATIONAL_VERSION)
        assert manifest["province_code"] == folder.name and len(folder.name) == 2
        for name, columns in EXPORT_COLUMNS.items():
            data = (folder / f"{name}.csv").read_bytes()
            assert manifest["files"][f"{name}.csv"]["sha256"] == hashlib.sha256(data).hexdigest()
            table = _read(folder / f"{name}.csv")
            assert manifest["files"][f"{name}.csv"]["rows"] == len(table)
            assert tuple(csv.reader(io.StringIO(data.decode("utf-8")[1:])).__next__()) == columns
            rows[name] += len(table)
    assert rows == {"martyrs": 2400, "remains": 600, "references": 1000}
    assert not [c for columns in EXPORT_COLUMNS.values() for c in columns if is_personal(c)]


def test_truth_stays_out_of_the_inbox(country: Path) -> None:
    inbox_text = "".join(p.read_text(encoding="utf-8") for p in (country / "inbox").rglob("*.csv"))
    assert "line" not in _read(next((country / "inbox").iterdir()) / "remains.csv")[0]
    truth = pl.read_csv(country / "truth" / "national_remains.csv", infer_schema=False)
    assert truth.height == 600
    assert truth.columns[:4] == ["province_code", "remains_id", "martyr_province_code", "martyr_id"]
    # The martyrs of no registry: remains whose truth names nobody, and whose id no export carries.
    assert 0 < truth["martyr_id"].null_count() < truth.height * 0.2
    assert "martyr_province_code" not in inbox_text


def test_same_seed_same_bytes(country: Path, tmp_path: Path) -> None:
    write_country(generate_country(FRACTION, seed=3), tmp_path)
    for path in (country / "inbox").rglob("*"):
        if path.is_file():
            assert (tmp_path / path.relative_to(country)).read_bytes() == path.read_bytes()
    other = generate_country(FRACTION, seed=4)
    assert (
        other.remains["haplotype"].to_list()
        != generate_country(FRACTION, seed=3).remains["haplotype"].to_list()
    )


def test_haplotypes_follow_the_families(country: Path) -> None:
    """A remains with a reference reads as its martyr's family (within one difference, as a lab's
    length and heteroplasmy noise allows); unrelated families mostly differ."""
    truth = {
        (r["province_code"], r["remains_id"]): r["line"]
        for r in _read_plain(country / "truth" / "national_remains.csv")
    }
    ref_line = {
        (r["province_code"], r["sample_id"]): r["line"]
        for r in _read_plain(country / "truth" / "references.csv")
    }
    by_line: dict[str, list[dict[str, str]]] = {}
    for ref in _table(country, "references"):
        by_line.setdefault(ref_line[(ref["province_code"], ref["sample_id"])], []).append(ref)
    rules = ComparisonRules()
    same = unrelated = same_ok = unrelated_match = 0
    references = _table(country, "references")
    for remains in _table(country, "remains"):
        if not remains["haplotype"] and not remains["range"]:
            continue
        mine = by_line.get(truth[(remains["province_code"], remains["remains_id"])], [])
        va, ra = mtdna.parse_variants(remains["haplotype"]), mtdna.parse_range(remains["range"])
        for ref in mine:
            same += 1
            c = compare(
                va, ra, mtdna.parse_variants(ref["haplotype"]), mtdna.parse_range(ref["range"]), rules
            )
            same_ok += c.verdict != "excluded"
        other = references[(unrelated * 7919) % len(references)]
        if other not in mine:
            unrelated += 1
            c = compare(
                va, ra, mtdna.parse_variants(other["haplotype"]), mtdna.parse_range(other["range"]), rules
            )
            unrelated_match += c.differences == 0 and c.verdict != "not_comparable"
    assert same > 100 and same_ok == same
    assert unrelated > 300 and unrelated_match < unrelated * 0.1


def _read_plain(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_haplogroups_follow_the_published_shares(country: Path) -> None:
    groups = Counter(r["haplogroup"][:2] for r in _table(country, "references"))
    total = sum(groups.values())
    assert 0.10 < groups["B4"] / total < 0.25  # 17% of Vietnamese mitogenomes
    assert 0.08 < groups["F1"] / total < 0.30  # F1a 10%, F1* 7%


def test_the_flows_of_the_war(country: Path) -> None:
    """Northern martyrs of the American war lie in the South and in Quảng Trị; southern martyrs of the
    border war in Cambodia; remains repatriated from Cambodia lie in the south-western provinces."""
    truth = _read_plain(country / "truth" / "national_remains.csv")
    registered = [r for r in truth if r["martyr_province_code"]]
    north_home = [r for r in registered if int(r["martyr_province_code"]) < 40]
    north_found_south = [r for r in north_home if int(r["province_code"]) >= 45]
    assert len(north_home) > 50 and len(north_found_south) > 0.5 * len(north_home)
    assert sum(r["province_code"] == "45" for r in north_home) > 0.05 * len(north_home)
    martyrs = {(m["province_code"], m["martyr_id"]): m for m in _table(country, "martyrs")}
    south_late = [
        m for m in martyrs.values() if int(m["province_code"]) >= 45 and m["death_date"][:4] >= "1977"
    ]
    assert sum("Campuchia" in m["death_place"] for m in south_late) > 0.4 * len(south_late)
    remains = _table(country, "remains")
    repatriated = [r for r in remains if "Campuchia" in r["recovery_place"]]
    assert repatriated and {r["province_code"] for r in repatriated} <= {"72", "89", "91", "80", "87", "70"}


def test_the_national_run_reads_every_province_of_it(country: Path) -> None:
    from lietsi.national.country import read_exports

    exports = read_exports(country / "inbox")
    assert exports.provinces.height == len(list((country / "inbox").iterdir()))
    assert exports.files["status"].to_list() == ["accepted"] * exports.files.height
    assert (exports.martyrs.height, exports.remains.height) == (2400, 600)
    refused = exports.quarantine.filter(pl.col("file") == "references.csv").height
    assert exports.references.height + refused == 1000


def test_weigh_scores_each_pair_as_it_would_alone(country: Path) -> None:
    """`weigh` computes each non-genetic factor once per distinct input (`FactorNumbers`) and the DNA
    factors once per distinct count, over pairs kept as columns: each scored pair must carry the
    factors computed for it alone, and the pairs' order must not matter."""
    import math

    from lietsi.matching.dna import pair_dna_factor
    from lietsi.matching.evidence import with_numerators
    from lietsi.matching.register import build_register, remains_features
    from lietsi.matching.scoring import FactorNumbers, nongenetic_factors, unit_area_baselines
    from lietsi.national import country as national

    settings = national.national_settings()
    frames = national.adapt(national.read_exports(country / "inbox"))
    prepared = national.prepare_country(frames, settings)
    pairs, far = national.search(prepared, settings, frames.rejected)
    scoring = national.weigh(prepared, pairs, settings, far)
    scored = scoring.scored
    assert scored.height > 500 and scored["factors"].null_count() < scored.height
    # The frame is what one dict per pair gave: the types polars infers from Python rows.
    assert pl.DataFrame(scored.to_dicts(), infer_schema_length=None).schema == scored.schema

    features = remains_features(prepared.remains)
    s = with_numerators(settings.evidence, scoring.numerators)
    reg = build_register(features, s)
    martyrs = {m["martyr_id"]: m for m in prepared.missing.iter_rows(named=True)}
    cemeteries = {f["cemetery_province"] for f in features.values() if f["cemetery_province"]}
    units = unit_area_baselines(list(martyrs.values()), prepared.pool, cemeteries, s)
    for rec in scored.iter_rows(named=True):
        alone = nongenetic_factors(
            features[rec["remains_id"]], martyrs[rec["martyr_id"]], prepared.pool, reg, s, units
        )
        assert rec["lr_nongenetic"] == math.prod(f.lr for f in alone)
        assert rec["lr"] == pair_dna_factor(rec, s).lr
        assert rec["lr_total"] == rec["lr"] * rec["lr_nongenetic"]
        if rec["factors"] is not None:
            written = json.loads(rec["factors"])
            assert [f["lr"] for f in written[1:]] == [round(f.lr, 6) for f in alone]

    # Every remains against every martyr (far more combinations than the listed pairs, most
    # sharing a key with another): the numbers coded by key are each pair's own.
    rs, ms = list(features.values())[::7], list(martyrs.values())[::11]
    pair_remains = np.repeat(np.arange(len(rs)), len(ms))
    pair_martyr = np.tile(np.arange(len(ms)), len(rs))
    keys = FactorNumbers(prepared.pool, rs, ms, pair_remains, pair_martyr)
    numbers = keys.of(reg, s, units)
    for i, (a, b) in enumerate(zip(pair_remains.tolist(), pair_martyr.tolist(), strict=True)):
        alone = nongenetic_factors(rs[a], ms[b], prepared.pool, reg, s, units)
        assert numbers.pair(i) == [(f.name, f.lr, f.cell, f.den) for f in alone]
    assert sum(len(reps) for reps in keys.reps) < 0.5 * 7 * len(rs) * len(ms)

    # Pairs not grouped by remains: the same scores (to the last bits only: the estimate and each
    # remains' denominator add the terms in another order).
    shuffled = national.weigh(prepared, pairs.sample(fraction=1.0, shuffle=True, seed=1), settings, far)
    keys = ["remains_id", "martyr_id"]
    assert_frame_equal(shuffled.scored.sort(keys), scored.sort(keys), check_exact=False, rtol=1e-9)
