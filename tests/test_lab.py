"""Lab stage: QC reasons, duplicates, joins, frequencies, and the assets on a small inbox."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.ingest import build_ingest_asset
from assets.lab import haplotype_frequencies_asset, mtdna_profiles, profiles_canonical
from lietsi.lab.alignment import apply_variants
from lietsi.lab.evaluation import evaluate_against_truth
from lietsi.lab.frequencies import haplotype_frequencies, relative_lines
from lietsi.lab.mtdna import format_range, parse_range, parse_variants
from lietsi.lab.profiles import assign_haplogroups, build_profiles, link_relatives
from lietsi.lab.results import QcRules, read_result
from lietsi.schema import KET_QUA_ADN, MAU_ADN
from lietsi.stats import clopper_pearson_upper
from resources import WarehouseResource

CR = "16024-16569,1-576"
M7 = "73G 150T 199C 263G 309.1C 315.1C 489C 16129A 16223T 16297C"
B5 = "73G 263G 315.1C 16140C 16182C 16183C 16189C 16193.1C 16266T"


def fasta_of(haplotype: str, rng: str = CR) -> str:
    (read,) = apply_variants(parse_range(rng), parse_variants(haplotype))
    return read


def csv_row(sample_id: str, haplotype: str, rng: str = CR, quality: str = "Đạt", row: int = 1) -> dict:
    return {
        "sample_id": sample_id,
        "format": "csv",
        "range": rng,
        "haplotype": haplotype,
        "quality": quality,
        "lab": "Viện Pháp y",
        "file": "kq.csv",
        "row_number": row,
    }


def fasta_row(sample_id: str, sequence: str, row: int = 1) -> dict:
    return {
        "sample_id": sample_id,
        "format": "fasta",
        "sequence": sequence,
        "file": "kq.fasta",
        "row_number": row,
    }


def results_frame(rows: list[dict]) -> pl.DataFrame:
    columns = [
        "sample_id",
        "format",
        "range",
        "haplotype",
        "quality",
        "lab",
        "sequence",
        "file",
        "row_number",
    ]
    return pl.DataFrame(
        [{c: r.get(c) for c in columns} for r in rows], schema_overrides={"row_number": pl.Int64}
    )


def sample_log(rows: list[tuple[str, str, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "sample_id": s,
                "sample_kind": k,
                "remains_id": r,
                "citizen_id_hash": h,
                "citizen_id_valid": h is not None,
                "file": "mau.csv",
                "row_number": i + 1,
            }
            for i, (s, k, r, h) in enumerate(rows)
        ]
    )


# --- one result ----------------------------------------------------------------------------------


def test_csv_result_is_canonicalised_and_flagged():
    result = read_result(csv_row("S1", "16223T 73G 263A 310.1C"))
    assert result.reason is None
    assert " ".join(str(v) for v in result.variants) == "73G 315.1C 16223T"
    assert any("263A" in f for f in result.flags)  # rCRS base reported as a difference
    recalled = [f for f in result.flags if f.startswith("re-called from its sequence")]
    assert any("310.1C" in f and "→ 73G 315.1C" in f for f in recalled)


@pytest.mark.parametrize(
    "row, reason",
    [
        (csv_row("S", M7, quality="Không đạt"), "lab verdict Không đạt"),
        (csv_row("S", M7, rng=""), "without a range"),
        (csv_row("S", M7, rng="16024-99999"), "range is not rCRS notation"),
        (csv_row("S", "16223Q"), "unknown IUPAC code in the haplotype: unknown IUPAC code Q"),
        (csv_row("S", "16223T 16093X"), "unknown IUPAC code"),
        (csv_row("S", "T16223C 73G"), "stated reference base contradicts rCRS: 'T16223C' states"),
        (csv_row("S", "16223 73G"), "haplotype is not EMPOP notation"),
        (csv_row("S", "16223T 600G"), "variants reported outside the range read: 600G"),
        (csv_row("S", "16129A", rng="16024-16200"), "range too short"),
        (csv_row("S", "16093Y 16129R 16223Y"), "too many point heteroplasmies"),
        (fasta_row("S", "ACGT" * 200), "does not align to rCRS"),
        (fasta_row("S", fasta_of(M7)[:300] + "N" * 40 + fasta_of(M7)[340:]), "too many ambiguous bases"),
    ],
)
def test_qc_reasons(row, reason):
    result = read_result(row)
    assert result.reason is not None and reason in result.reason


def test_a_stated_reference_base_that_agrees_with_rcrs_is_accepted():
    result = read_result(csv_row("S", "C16223T A73G"))
    assert result.reason is None and " ".join(map(str, result.variants)) == "73G 16223T"


@pytest.mark.parametrize("code", ["N", "B", "H", "V"])
def test_n_and_ambiguous_bases_mark_the_site_as_not_read(code):
    result = read_result(csv_row("S", f"73G 16093{code} 16223T"))
    assert result.reason is None
    assert " ".join(map(str, result.variants)) == "73G 16223T"  # never the rCRS base, never a variant
    assert format_range(result.ranges) == "16024-16092,16094-16569,1-576"  # the site is not read
    assert any("not read" in f and "16093" in f for f in result.flags)


def test_hv1_only_profile_is_kept_and_flagged_partial():
    results = results_frame([csv_row("H1", "16129A 16223T 16297C", rng="16024-16365")])
    profiles, quarantine = build_profiles(results, sample_log([("H1", "Hài cốt", "HC-9", None)]))
    assert quarantine.is_empty() and profiles["range"].to_list() == ["16024-16365"]
    assert "partial control region" in profiles["qc_flags"][0]
    assert not profiles["full_control_region"][0]


def test_qc_thresholds_are_settings():
    two_hets = csv_row("S", "16093Y 16129R")
    assert read_result(two_hets).reason is None
    assert "too many point heteroplasmies" in read_result(two_hets, QcRules(max_heteroplasmies=1)).reason


def test_fasta_with_a_few_ns_is_kept_with_a_split_range():
    read = fasta_of(M7)
    result = read_result(fasta_row("S", read[:100] + "NN" + read[102:]))
    assert result.reason is None
    assert result.ranges == ((16024, 16123), (16126, 16569), (1, 576))


# --- many results ---------------------------------------------------------------------------------


def test_build_profiles_merges_joins_and_quarantines():
    results = results_frame(
        [
            csv_row("R1", M7, row=1),
            fasta_row("R1", fasta_of(M7), row=1),  # same sample, FASTA and EMPOP agree → merged
            csv_row("D1", B5, row=2),
            csv_row("D2", "16129A 16223T 16297C", rng="16024-16569", row=3),  # HV1 and HV2 as two rows:
            csv_row("D2", "73G 150T 199C 263G 309.1C 315.1C 489C", rng="1-576", row=4),  # merged
            csv_row("X1", M7, row=5),
            csv_row("X1", B5, row=6),  # disagree → both quarantined
            csv_row("U1", M7, row=7),  # not in the sample log
            csv_row("F1", M7, quality="Không đạt", row=8),
        ]
    )
    log = sample_log(
        [
            ("R1", "Hài cốt", "HC-01", None),
            ("D1", "Thân nhân", None, "hash-d1"),
            ("D2", "Thân nhân", None, "hash-d2"),
            ("X1", "Hài cốt", "HC-02", None),
            ("F1", "Hài cốt", "HC-03", None),
        ]
    )
    profiles, quarantine = build_profiles(results, log)
    by_id = {r["sample_id"]: r for r in profiles.iter_rows(named=True)}
    assert sorted(by_id) == ["D1", "D2", "R1"]
    assert by_id["R1"]["source_format"] == "csv+fasta" and by_id["R1"]["results"] == 2
    assert by_id["R1"]["haplotype"] == M7 and by_id["R1"]["remains_id"] == "HC-01"
    assert by_id["R1"]["sample_kind"] == "remains" and by_id["D1"]["sample_kind"] == "relative"
    assert by_id["D2"]["range"] == CR and by_id["D2"]["haplotype"] == M7
    assert by_id["D1"]["citizen_id_hash"] == "hash-d1"
    reasons = dict(zip(quarantine["row_number"], quarantine["reason"], strict=True))
    assert "disagree" in reasons[5] and "disagree" in reasons[6]
    assert "not in the sample log" in reasons[7]
    assert "Không đạt" in reasons[8]
    # Every result is accounted for: merged into a profile or quarantined.
    assert profiles["results"].sum() + quarantine.height == results.height
    assert set(quarantine.columns) == {"source", "file", "row_number", "reason", "raw"}

    profiles = assign_haplogroups(profiles)
    assert profiles.filter(pl.col("sample_id") == "R1")["haplogroup"][0] == "M7b1a1"
    linked = link_relatives(
        profiles, pl.DataFrame({"relative_id": ["REL-9"], "citizen_id_hash": ["hash-d1"]})
    )
    assert dict(zip(linked["sample_id"], linked["relative_id"], strict=True)) == {
        "D1": "REL-9",
        "D2": None,
        "R1": None,
    }


# --- frequencies ----------------------------------------------------------------------------------


def test_clopper_pearson_upper_bound():
    assert clopper_pearson_upper(0, 706) == pytest.approx(1 - 0.05 ** (1 / 706))
    assert clopper_pearson_upper(0, 706) == pytest.approx(0.00423, abs=1e-5)
    assert clopper_pearson_upper(5, 5) == 1.0
    assert 3 / 100 < clopper_pearson_upper(3, 100) < 0.1


def test_frequencies_count_each_maternal_line_once():
    profiles = pl.DataFrame(
        {
            "sample_id": ["A", "B", "C", "D", "E", "R"],
            "sample_kind": ["relative"] * 5 + ["remains"],
            "range": [CR, CR, CR, CR, "16024-16569", CR],
            # C differs from A only by a C-stretch length variant: same haplotype for matching.
            "haplotype": [M7, M7, M7.replace("309.1C ", "309.1C 309.2C "), B5, B5, B5],
            "haplogroup": ["M7b1a1"] * 3 + ["B5a"] * 3,
            "relative_id": ["r1", "r2", "r3", "r4", "r5", None],
        }
    )
    # r1 and r2 are the same maternal line (two relatives of one martyr), r3 another family.
    candidates = pl.DataFrame(
        {
            "martyr_id": ["m1", "m1", "m2"],
            "relative_id": ["r1", "r2", "r3"],
            "shares_mtdna": [True, True, True],
        }
    )
    table, stats = haplotype_frequencies(profiles, relative_lines(candidates))
    assert stats["database_n"] == 2 + 1  # lines m1, m2 and relative r4; E does not cover HV2
    assert stats["same_line_dropped"] == 1 and stats["not_covering_range"] == 1
    counts = dict(zip(table["haplotype_key"], table["count"], strict=True))
    m7_key = "73G 150T 199C 263G 489C 16129A 16223T 16297C"  # hotspots and length variants masked
    assert counts[m7_key] == 2
    # Only donors who consented are counted.
    _, consent_stats = haplotype_frequencies(profiles, relative_lines(candidates), consenting={"r1", "r3"})
    assert consent_stats["database_n"] == 2 and consent_stats["without_consent"] == 3
    row = table.filter(pl.col("haplotype_key") == m7_key).row(0, named=True)
    assert row["frequency"] == pytest.approx(2 / 3) and row["upper_95"] == pytest.approx(
        clopper_pearson_upper(2, 3)
    )


# --- assets on a small inbox ------------------------------------------------------------------------


def _write_inbox(inbox: Path) -> None:
    (inbox / "ket_qua_adn").mkdir(parents=True)
    (inbox / "mau_adn").mkdir(parents=True)
    (inbox / "ket_qua_adn" / "kq.csv").write_text(
        "Mã mẫu,Phòng thí nghiệm,Ngày trả kết quả,Vùng đọc được,Haplotype,Chất lượng\n"
        f"HC1,Viện,12/03/2024,{CR.replace(',', ';')},{M7},Đạt\n"
        f"TN1,Viện,12/03/2024,{CR.replace(',', ';')},{B5},Đạt\n"
        f"TN2,Viện,12/03/2024,{CR.replace(',', ';')},{M7},Không đạt\n",
        encoding="utf-8",
    )
    (inbox / "ket_qua_adn" / "kq.fasta").write_text(f">TN3 lab read\n{fasta_of(M7)}\n>ZZ9\n{'ACGT' * 100}\n")
    (inbox / "mau_adn" / "mau.csv").write_text(
        "Mã mẫu,Loại mẫu,Mã hài cốt,Số CCCD\nHC1,Hài cốt,HC-0001,\nTN1,Thân nhân,,091234567890\n"
        "TN2,Thân nhân,,091234567891\nTN3,Thân nhân,,091234567892\n",
        encoding="utf-8",
    )


def test_assets_materialise_with_checks(workspace):
    _write_inbox(Path(workspace["settings"].inbox_dir))

    @dg.asset(key=["core", "relatives"], deps=[dg.AssetKey(["raw", "mau_adn"])])
    def relatives(warehouse: WarehouseResource) -> pl.DataFrame:
        hashes = warehouse.query("SELECT citizen_id_hash FROM raw.mau_adn WHERE sample_id = 'TN1'")
        return pl.DataFrame({"relative_id": ["REL-1"], "citizen_id_hash": hashes["citizen_id_hash"]})

    result = dg.materialize(
        [
            build_ingest_asset(KET_QUA_ADN),
            build_ingest_asset(MAU_ADN),
            relatives,
            mtdna_profiles,
            haplotype_frequencies_asset,
            profiles_canonical,
        ],
        resources=workspace,
    )
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    warehouse = workspace["warehouse"]
    profiles = warehouse.query("SELECT * FROM marts.mtdna_profiles ORDER BY sample_id")
    assert profiles["sample_id"].to_list() == ["HC1", "TN1", "TN3"]
    assert profiles["haplogroup"].to_list()[0] == "M7b1a1"
    assert profiles["relative_id"].to_list() == [None, "REL-1", None]
    assert profiles.filter(pl.col("sample_id") == "TN3")["haplotype"][0] == M7
    quarantine = warehouse.query("SELECT * FROM ops.quarantine_lab ORDER BY file, row_number")
    assert quarantine.height == 2
    assert any("Không đạt" in r for r in quarantine["reason"]) and any(
        "align" in r for r in quarantine["reason"]
    )
    # No form 02 in this inbox, so no donor's consent is on record: nobody is counted.
    frequencies = warehouse.query("SELECT * FROM marts.haplotype_frequencies")
    assert frequencies.height == 0


def test_evaluation_against_truth():
    profiles = pl.DataFrame(
        {
            "sample_id": ["A", "B"],
            "range": [CR, CR],
            "haplotype": [M7, B5],
            "haplogroup": ["M7b1a1", "B5a"],
            "full_control_region": [True, True],
        }
    )
    truth = pl.DataFrame(
        {
            "sample_id": ["A", "B", "C"],
            "range": [CR, CR, CR],
            "haplotype": [M7, B5 + " 16519C", M7],
            "haplogroup": ["M7b1a1", "B5a1", "M7b1a1"],
            "failed": ["false", "false", "true"],
        }
    )
    quarantine = pl.DataFrame({"raw": ['{"sample_id": "C"}']})
    metrics = dict(evaluate_against_truth(profiles, quarantine, truth).select("metric", "value").iter_rows())
    assert metrics["haplotype_agreement"] == 0.5
    assert metrics["haplogroup_agreement_full_cr"] == 0.5
    assert metrics["haplogroup_same_lineage_full_cr"] == 1.0
    assert metrics["failed_results_quarantined"] == 1.0
