"""The council loop: decisions read from `xac_nhan/`, confirmed pairs leave the pools, rejected
pairs stay out until new evidence, malformed rows are quarantined with their reason."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from lietsi.ingest.batches import batches_to_frames
from lietsi.ingest.inbox import read_folder
from lietsi.matching.council import evidence_dates, national_martyrs, read_decisions, settled_elsewhere
from lietsi.matching.evidence import EvidenceSettings, numerator_tables
from lietsi.matching.identification import identify
from lietsi.matching.mixture import estimate, stated_prior
from lietsi.ops.match_report import summary_page
from lietsi.schema import XAC_NHAN
from resources.sql import sql_text
from tests.test_identification import RARE, _martyrs, _population, _references, _remains

HEADER = (
    "Mã hài cốt,Mã liệt sĩ,Số bằng TQGC,Quyết định,Ngày quyết định,Số biên bản,Kết quả giám định lại,Ghi chú"
)


def _raw(tmp_path: Path, lines: list[str]) -> pl.DataFrame:
    folder = tmp_path / "inbox" / XAC_NHAN.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hoi_dong.csv").write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    raw, quarantine, _ = batches_to_frames(read_folder(folder, XAC_NHAN, b"k"), XAC_NHAN)
    assert quarantine.is_empty()
    return raw


def _province():
    martyrs = _martyrs().with_columns(certificate_no=pl.Series(["TQGC 12/345", None, None, None]))
    references, candidates = _references()
    remains, remains_profiles = _remains()
    # HC4 carries M1's rare haplotype too: once M1 is confirmed as HC1, HC4 cannot be him.
    remains_profiles = pl.concat(
        [
            remains_profiles,
            pl.DataFrame(
                {"remains_id": ["HC4"], "range": [remains_profiles["range"][0]], "haplotype": [RARE]}
            ),
        ]
    )
    remains = pl.concat(
        [remains, remains.filter(pl.col("remains_id") == "HC3").with_columns(remains_id=pl.lit("HC4"))]
    )
    return martyrs, references, candidates, remains, remains_profiles


def _identify(council=None):
    martyrs, references, candidates, remains, remains_profiles = _province()
    return identify(
        remains,
        remains_profiles,
        references,
        candidates,
        martyrs,
        population=_population(references),
        council=council,
    )


def _council(tmp_path: Path, lines: list[str], remains_dates=None, martyr_dates=None):
    martyrs, *_, remains, _ = _province()
    return read_decisions(
        _raw(tmp_path, lines), martyrs, set(remains["remains_id"]), remains_dates, martyr_dates
    )


def test_a_confirmed_pair_leaves_both_pools_and_is_counted(tmp_path: Path) -> None:
    before = _identify()
    assert ("HC4", "M1") in set(before.match_candidates.select("remains_id", "martyr_id").iter_rows())
    # The martyr named by his certificate, written another way than in the registry.
    council = _council(tmp_path, ["HC1,,12-345,Xác nhận,15/01/2026,BB-01/2026,Phù hợp,"])
    assert council.quarantine.is_empty()
    after = _identify(council)
    pairs = after.match_candidates.select("remains_id", "martyr_id")
    assert "HC1" not in pairs["remains_id"].to_list()  # the remains left the pool
    assert "M1" not in pairs["martyr_id"].to_list()  # and so did the martyr: HC4 is not him
    rows = after.identifications.filter(pl.col("remains_id") == "HC1")
    assert rows.select("martyr_id", "status").rows() == [("M1", "confirmed")]
    assert json.loads(rows["evidence"][0])["council"]["minutes_ref"] == "BB-01/2026"
    assert dict(after.remains_outcomes.select("remains_id", "outcome").iter_rows())["HC1"] == "confirmed"
    assert dict(after.martyr_outcomes.select("martyr_id", "outcome").iter_rows())["M1"] == "confirmed"
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA core")
    con.register("ids", after.identifications.select("remains_id", "martyr_id", "status").to_arrow())
    con.register("m", _martyrs().to_arrow())
    con.execute("CREATE TABLE marts.identifications AS SELECT * FROM ids")
    con.execute("CREATE TABLE core.martyrs AS SELECT * FROM m")
    report = pl.from_arrow(con.execute(sql_text("reports", "progress_identifications")).arrow())
    assert report["identifications_confirmed"].sum() == 1
    # The identifications index counts and lists it too, without an evidence page of this run.
    index = summary_page(
        "Kiên Giang", after.identifications, after.remains_outcomes, after.martyr_outcomes, 0.5, {}
    )
    assert '<tr><td>Đã xác nhận (confirmed)</td><td class="num">1</td></tr>' in index
    assert re.search(r"<tr><td>HC1</td>", index)


def test_a_rejected_pair_is_not_proposed_again_until_new_evidence(tmp_path: Path) -> None:
    before = _identify()
    first = before.identifications.filter(pl.col("remains_id") == "HC1").row(0, named=True)
    assert (first["martyr_id"], first["status"]) == ("M1", "needs_review")  # HC4 claims M1 too
    line = "HC1,M1,,Bác bỏ,2026-01-15,BB-02/2026,Không phù hợp,xương lẫn"
    council = _council(tmp_path, [line])
    after = _identify(council)
    assert ("HC1", "M1") not in set(after.match_candidates.select("remains_id", "martyr_id").iter_rows())
    hc1 = after.identifications.filter(pl.col("remains_id") == "HC1")
    assert hc1.select("martyr_id", "status").rows() == [("M1", "rejected")]
    # An older sample changes nothing; a new sample of the remains after the decision reopens the pair.
    old = _council(tmp_path, [line], remains_dates={"HC1": date(2025, 12, 1)})
    assert old.rejected.height == 1
    new = _council(tmp_path, [line], remains_dates={"HC1": date(2026, 2, 1)})
    assert new.rejected.is_empty()
    assert "2026-02-01" in new.decisions["lifted_reason"][0]
    reopened = _identify(new).identifications.filter(pl.col("remains_id") == "HC1")
    assert reopened.select("martyr_id", "status").rows() == [("M1", "needs_review")]
    # A result for one of the martyr's maternal relatives does the same.
    assert _council(tmp_path, [line], martyr_dates={"M1": date(2026, 3, 1)}).rejected.is_empty()


def test_a_later_decision_on_the_same_pair_replaces_the_earlier(tmp_path: Path) -> None:
    council = _council(
        tmp_path,
        ["HC1,M1,,Xác nhận,2026-03-01,BB-05,Phù hợp,", "HC1,M1,,Bác bỏ,2026-01-15,BB-02,,"],
    )
    assert council.confirmed.select("remains_id", "martyr_id").rows() == [("HC1", "M1")]
    assert council.rejected.is_empty()
    assert sorted(council.decisions["in_force"].to_list()) == [False, True]


def test_malformed_decisions_are_quarantined_with_their_reason(tmp_path: Path) -> None:
    council = _council(
        tmp_path,
        [
            "HC1,M1,,Đồng ý,2026-01-15,BB-1,,",  # not a decision the contract knows
            "HC1,,,Xác nhận,2026-01-15,BB-2,,",  # no martyr at all
            "HC1,,99/999,Xác nhận,2026-01-15,BB-3,,",  # a certificate nobody holds
            "HC999,M1,,Xác nhận,2026-01-15,BB-4,,",  # not in the register
            "HC1,M9,,Bác bỏ,2026-01-15,BB-5,,",  # not a martyr id the pipeline published
            "HC1,M1,,Bác bỏ,sớm,BB-6,,",  # no usable date
            "HC2,M2,,Xác nhận,2026-01-15,BB-7,,",  # two confirmations of one martyr
            "HC3,M2,,Xác nhận,2026-01-16,BB-8,,",
            "HC1,M1,,Bác bỏ,2026-01-15,BB-9,,",  # the one good row
        ],
    )
    reasons = dict(council.quarantine.select("row_number", "reason").iter_rows())
    assert "unknown decision" in reasons[1] and "Đồng ý" in reasons[1]
    assert reasons[2].startswith("neither a martyr id")
    assert reasons[3] == "certificate '99/999' matches no martyr"
    assert reasons[4].startswith("unknown remains 'HC999'")
    assert reasons[5] == "unknown martyr id 'M9'"
    assert reasons[6].startswith("decision date missing")
    assert reasons[7].startswith("council decisions contradict") and reasons[8] == reasons[7]
    assert council.decisions.select("row_number").to_series().to_list() == [9]
    # every row accounted for: usable or quarantined
    assert council.decisions.height + council.quarantine.height == 9
    assert all(json.loads(r) for r in council.quarantine["raw"])


def test_confirmed_cases_count_as_known_pairs_in_the_estimate() -> None:
    tables = numerator_tables(EvidenceSettings())
    prior = stated_prior({"g": 10.0}, {}, 0.5)
    stated, _, _, _ = estimate([], tables, prior, strength=20.0)
    known = [(("sex", "disagree"), 0.05)] * 20
    learnt, _, _, _ = estimate([], tables, prior, strength=20.0, known=[tuple(known[:1])] * 20)
    assert stated["sex"]["disagree"] == tables["sex"]["disagree"]
    # 20 confirmed pairs whose sex disagreed, against a prior worth 20: halfway to 1.
    assert abs(learnt["sex"]["disagree"] - (20 * tables["sex"]["disagree"] + 20) / 40) < 1e-9


def test_evidence_dates_per_remains_and_per_martyr() -> None:
    samples = pl.DataFrame(
        {
            "sample_id": ["S1", "S2", "S3"],
            "remains_id": ["HC1", None, None],
            "citizen_id_hash": [None, "h1", "h2"],
            "collection_date": [date(2025, 1, 1), date(2025, 6, 1), date(2025, 7, 1)],
        }
    )
    results = pl.DataFrame({"sample_id": ["S1", "S2"], "result_date": [date(2026, 2, 1), None]})
    relatives = pl.DataFrame({"relative_id": ["R1", "R2"], "citizen_id_hash": ["h1", "h2"]})
    candidates = pl.DataFrame(
        {"martyr_id": ["M1", "M2"], "relative_id": ["R1", "R2"], "shares_mtdna": [True, False]}
    )
    remains, martyrs = evidence_dates(samples, results, relatives, candidates)
    assert remains == {"HC1": date(2026, 2, 1)}
    assert martyrs == {"M1": date(2025, 6, 1)}  # R2 does not share M2's mtDNA


def test_a_decision_may_name_another_provinces_martyr_the_national_run_put_forward(tmp_path: Path) -> None:
    """marts.national_candidates named Nghệ An's martyr 40:LS-NA-1 for HC1 (remains here); the council
    confirms him. An id of another province that the national run did not name is refused."""
    martyrs, *_, remains, _ = _province()
    national = pl.DataFrame(
        {"remains_id": ["HC1", "HC2"], "remains_province_code": ["91", "91"], "martyr_id": ["LS-NA-1", "M2"],
         "martyr_province_code": ["40", "91"]}
    )  # fmt: skip
    elsewhere = national_martyrs(national, set(remains["remains_id"]))
    assert elsewhere == {"40:LS-NA-1"}  # the province's own martyr M2 is no other province's
    council = read_decisions(
        _raw(
            tmp_path,
            [
                "HC1,40:LS-NA-1,,Xác nhận,15/01/2026,BB-02/2026,,",
                "HC2,40:LS-NA-9,,Bác bỏ,15/01/2026,BB-02/2026,,",
            ],
        ),
        martyrs,
        set(remains["remains_id"]),
        elsewhere=elsewhere,
    )
    assert council.confirmed.select("remains_id", "martyr_id").rows() == [("HC1", "40:LS-NA-1")]
    (why,) = council.quarantine["reason"].to_list()
    assert why == "martyr id '40:LS-NA-9' is no candidate of the national run for this province's remains"
    after = _identify(council)
    assert "HC1" not in after.match_candidates["remains_id"].to_list()
    rows = after.identifications.filter(pl.col("remains_id") == "HC1")
    assert rows.select("martyr_id", "status").rows() == [("40:LS-NA-1", "confirmed")]


def test_a_martyr_another_provinces_council_confirmed_leaves_the_pool() -> None:
    """Kiên Giang's council confirmed its remains HC-9 as this province's martyr M1 (the national run's
    return, marts.national_candidates): M1 is no candidate any more, and his outcome says where."""
    national = pl.DataFrame(
        {"remains_id": ["HC-9", "HC-8", "HC1"], "remains_province_code": ["91", "91", "40"],
         "martyr_id": ["M1", "M2", "LS-NA-1"], "status": ["confirmed", "needs_review", "confirmed"],
         "side": ["martyr_here", "martyr_here", "remains_here"]}
    )  # fmt: skip
    elsewhere = settled_elsewhere(national)
    assert elsewhere.rows() == [("M1", "91", "HC-9")]  # not M2 (in review), not a remains of ours
    before = _identify()
    assert "M1" in before.match_candidates["martyr_id"].to_list()
    martyrs, references, candidates, remains, remains_profiles = _province()
    after = identify(
        remains, remains_profiles, references, candidates, martyrs, population=_population(references),
        elsewhere=elsewhere,
    )  # fmt: skip
    assert "M1" not in after.match_candidates["martyr_id"].to_list()
    row = after.martyr_outcomes.filter(pl.col("martyr_id") == "M1").row(0, named=True)
    assert row["outcome"] == "identified_elsewhere"
    assert "HC-9" in row["reason"] and "91" in row["reason"]
    assert set(after.martyr_outcomes["martyr_id"]) == set(before.martyr_outcomes["martyr_id"])
