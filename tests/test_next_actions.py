"""What to sample or sequence next, on hand-made cases whose best action is known."""

from __future__ import annotations

import itertools
import json
import re

import polars as pl

from lietsi.matching.next_actions import (
    ActionSettings,
    failed_samples,
    next_actions,
    province_rates,
    subject_districts,
)
from lietsi.ops.next_action_pages import district_page_path, district_pages
from lietsi.ops.pages import Footer, code_version
from lietsi.reasons import codes_of, encode, reason, text

CR = "16024-16569,1-576"
HV1 = "16024-16365"


def _candidates(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "remains_id": pl.String,
            "martyr_id": pl.String,
            "line_id": pl.String,
            "verdict": pl.String,
            "posterior": pl.Float64,
            "compared_range": pl.String,
        },
        orient="row",
    )


def _outcomes(remains: list[str], martyrs: list[tuple[str, str]]) -> pl.DataFrame:
    several = [reason("outcome.several_compatible", n_match=2, best=0.45)]
    rows = [("remains", r, "unresolved", text(several), encode(several)) for r in remains]
    rows += [("martyr", m, o, None, None) for m, o in martyrs]
    return pl.DataFrame(rows, schema=["kind", "id", "outcome", "reason", "reason_codes"], orient="row")


def _worklist(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"commune": pl.String, "priority_rank": pl.Int32, "maternal_line_id": pl.String,
                "role": pl.String, "martyr_id": pl.String, "martyr_ids": pl.String, "relative_id": pl.String,
                "relationship_text": pl.String, "kin_path": pl.String},
        orient="row",
    )  # fmt: skip


NO_IDS = pl.DataFrame(schema={"remains_id": pl.String, "martyr_id": pl.String, "status": pl.String,
                              "evidence": pl.String})  # fmt: skip
NO_FAILED = pl.DataFrame(schema={"sample_id": pl.String, "kind": pl.String, "subject": pl.String})


def _run(candidates, outcomes, worklist, sampled=frozenset(), failed=NO_FAILED, ranges=None):
    districts = {("remains", "HC1"): "Châu Thành", ("martyr", "M9"): "<b>Gò Quao</b>"}
    return next_actions(
        outcomes, candidates, NO_IDS, worklist, set(sampled), failed, districts,
        ranges or {"HC1": CR, "HC2": CR}, ActionSettings(),
    )  # fmt: skip


def test_two_lines_sharing_a_haplotype_need_a_mitogenome_not_another_relative() -> None:
    # HC1's control region matches two unrelated lines, each fully read: a second relative of either
    # line reads the same haplotype again and separates nothing; a mitogenome can.
    candidates = _candidates(
        [("HC1", "MA", "L1", "cannot_exclude", 0.45, CR), ("HC1", "MB", "L2", "cannot_exclude", 0.45, CR)]
    )
    worklist = _worklist(
        [
            ("X", 1, "L1", "backup", "MA", "MA", "R12", "em gái", "sister"),
            ("X", 2, "L2", "backup", "MB", "MB", "R22", "mẹ", "mother"),
        ]
    )
    actions = _run(candidates, _outcomes(["HC1"], [("MA", "not_found"), ("MB", "not_found")]), worklist)
    row = actions.filter(pl.col("subject_id") == "HC1").row(0, named=True)
    assert row["action"] == "sequence_mitogenome"
    assert row["target"] == "L1, L2"
    # one remains with a DNA match, not proposed: conversion (0 + 5 × 0.3) / (1 + 5), the stated
    # 0.3 shrunk by what the run saw
    assert abs(row["expected_identifications"] - 0.8 * 0.25 * 0.9) < 1e-9
    assert row["cost_vnd"] == 3 * 15_000_000  # the remains and one reference per line
    assert not any(a["action"] == "sample_second_relative" for a in json.loads(row["alternatives"]))


def test_brothers_on_one_line_have_no_mtdna_action() -> None:
    candidates = _candidates(
        [("HC1", "MA", "L1", "cannot_exclude", 0.45, CR), ("HC1", "MB", "L1", "cannot_exclude", 0.45, CR)]
    )
    actions = _run(candidates, _outcomes(["HC1"], []), _worklist([]))
    row = actions.row(0, named=True)
    assert (row["action"], row["rank"]) == ("none", None)
    assert codes_of(row["explanation_codes"]) == ["action.none_remains", "outcome.several_compatible"]
    assert row["explanation"].startswith("không việc lấy mẫu hay giải trình tự nào phân biệt được")
    assert "anh em cùng dòng mẹ" in row["explanation"]


def test_an_inconclusive_or_partial_reference_asks_for_a_second_relative() -> None:
    candidates = _candidates(
        [
            ("HC1", "MA", "L1", "inconclusive", 0.6, CR),
            ("HC2", "MB", "L2", "cannot_exclude", 0.5, HV1),  # the reference read HV1 only
        ]
    )
    actions = _run(candidates, _outcomes(["HC1", "HC2"], []), _worklist([]))
    by = {r["subject_id"]: r for r in actions.iter_rows(named=True)}
    assert by["HC1"]["action"] == by["HC2"]["action"] == "sample_second_relative"
    # one single-line remains, not identified: the stated 0.3 (worth 5 remains) shrinks to 0.25
    assert abs(by["HC1"]["expected_identifications"] - 0.25 * 0.6) < 1e-9
    assert [by["HC1"]["rank"], by["HC2"]["rank"]] == [1, 2]  # the more probable pair first


def test_a_martyr_without_reference_gets_his_first_unsampled_relative() -> None:
    worklist = _worklist(
        [
            ("X", 1, "L9", "primary", "M9", "M9,M10", "R91", "mẹ", "mother"),
            ("X", 2, "L9", "backup", "M9", "M9,M10", "R92", "em gái", "sister"),
        ]
    )
    outcomes = _outcomes(["HC1"], [("M9", "no_reference"), ("M10", "no_reference")])
    candidates = _candidates([("HC1", "MA", "L1", "cannot_exclude", 0.45, CR)])
    actions = _run(candidates, outcomes, worklist, sampled={"R91"})  # the mother's sample is in
    row = actions.filter(pl.col("subject_id") == "M9").row(0, named=True)
    assert (row["action"], row["target"]) == ("sample_relative", "R92")
    assert row["cost_vnd"] == 5_000_000
    # R92 has no valid citizen id on the forms: his sample could not be linked, so the line's
    # other donor (still to be asked) comes first, and R92's action says to correct the id.
    more = pl.concat(
        [worklist, _worklist([("X", 3, "L9", "ask_consent", "M9", "M9,M10", "R93", "dì", "aunt")])]
    )
    districts = {}
    preferred = next_actions(outcomes, candidates, NO_IDS, more, {"R91"}, NO_FAILED, districts, {"HC1": CR},
                             unlinkable_relatives=frozenset({"R92"}))  # fmt: skip
    row = preferred.filter(pl.col("subject_id") == "M9").row(0, named=True)
    assert (row["action"], row["target"]) == ("ask_consent_and_sample", "R93")
    alone = next_actions(outcomes, candidates, NO_IDS, worklist, {"R91"}, NO_FAILED, districts, {"HC1": CR},
                         unlinkable_relatives=frozenset({"R92"}))  # fmt: skip
    row = alone.filter(pl.col("subject_id") == "M9").row(0, named=True)
    assert codes_of(row["explanation_codes"]) == ["action.sample_relative", "action.correct_citizen_id"]
    assert "sửa trên phiếu 02" in row["explanation"]
    # A failed sample of a remains is worth re-testing.
    failed = pl.DataFrame({"sample_id": ["S1"], "kind": ["remains"], "subject": ["HC7"]})
    outcomes = pl.concat([outcomes, _outcomes(["HC7"], [])])
    ids = pl.DataFrame(
        {"remains_id": ["HC1"], "martyr_id": ["MA"], "status": ["proposed"], "evidence": ["{}"]}
    )
    again = next_actions(outcomes, candidates, ids, worklist, set(), failed, {}, {"HC1": CR})
    assert again.filter(pl.col("subject_id") == "HC7")["action"].to_list() == ["retest_sample"]


def test_district_pages_escape_input_text_and_use_safe_file_names() -> None:
    worklist = _worklist([("X", 1, "L9", "primary", "M9", "M9", "R91", "mẹ", "mother")])
    actions = _run(_candidates([]), _outcomes(["HC1"], [("M9", "no_reference")]), worklist)
    # A district text no code resolves keeps its own page, under a safe name, its text escaped.
    hostile = "<script>alert(1)</script>/../../x"
    actions = actions.with_columns(
        pl.when(pl.col("subject_id") == "M9").then(pl.lit(hostile)).otherwise("district").alias("district"),
        pl.when(pl.col("subject_id") == "M9").then(None).otherwise("district_code").alias("district_code"),
    )
    pages = district_pages(actions, Footer("Kiên <Giang>", "run-1"))
    name = district_page_path(f"?{hostile}")
    assert name in pages and name.count("/") == 1 and "<" not in name and ".." not in name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[name]
    assert all("<script" not in html for html in pages.values())
    assert "Kiên &lt;Giang&gt;" in pages["next_actions/index.html"]
    assert "R91" in pages[name]


def test_next_action_pages_carry_the_shared_footer_and_one_page_per_district_code() -> None:
    worklist = _worklist(
        [
            ("X", 1, "L9", "primary", "M9", "M9", "R91", "mẹ", "mother"),
            ("X", 2, "L8", "primary", "M8", "M8", "R81", "mẹ", "mother"),
        ]
    )
    outcomes = _outcomes(["HC1"], [("M9", "no_reference"), ("M8", "no_reference")])
    # One district spelled two ways; Châu Thành (905) for the remains.
    districts = {
        ("remains", "HC1"): "Châu Thành",
        ("martyr", "M9"): "huyện Gò Quao",
        ("martyr", "M8"): "Go Quao",
    }
    actions = next_actions(
        outcomes, _candidates([]), NO_IDS, worklist, set(), NO_FAILED, districts, {"HC1": CR},
        province="Kiên Giang",
    )  # fmt: skip
    # The table stores the code and the official name, whichever spelling the forms used.
    stored = dict(actions.select("subject_id", "district_code").iter_rows())
    assert stored == {"HC1": "905", "M9": "907", "M8": "907"}
    assert set(actions.filter(pl.col("district_code") == "907")["district"]) == {"Gò Quao"}
    pages = district_pages(actions, Footer("Kiên Giang", "run-42"))
    assert sorted(pages) == ["next_actions/905.html", "next_actions/907.html", "next_actions/index.html"]
    go_quao = pages["next_actions/907.html"]
    assert "R91" in go_quao and "R81" in go_quao and "R91" not in pages["next_actions/905.html"]
    assert "Việc cần làm tiếp: Gò Quao" in go_quao  # the official name, not either spelling
    assert 'href="../huyen/907.html"' in go_quao and 'href="../index.html"' in go_quao
    assert "10.000.000 đ" in go_quao  # two samples at 5.000.000 đ, Vietnamese money format
    index = pages["next_actions/index.html"]
    assert index.count('href="907.html"') == 1 and "huyện Gò Quao" not in index
    for html in pages.values():
        footer = re.search(r'<footer class="site" id="page-footer">(.*?)</footer>', html, re.S)
        assert footer, html
        assert "Kiên Giang" in footer[1] and "run-42" in footer[1] and code_version() in footer[1]


def test_failed_samples_and_districts() -> None:
    results = pl.DataFrame({"sample_id": ["S1", "S2", "S3", "S4"]})
    samples = pl.DataFrame(
        {
            "sample_id": ["S1", "S2", "S3", "S4"],
            "sample_kind": ["Hài cốt", "Thân nhân", "Hài cốt", "Thân nhân"],
            "remains_id": ["HC1", None, "HC2", None],
            "citizen_id_hash": [None, "h1", None, "h2"],
        }
    )
    profiles = pl.DataFrame({"sample_id": ["S3"]})  # S3 gave a usable profile
    relatives = pl.DataFrame({"relative_id": ["R1", "R2"], "citizen_id_hash": ["h1", "h2"]})
    maternal = pl.DataFrame(
        {"martyr_id": ["M1", "M2"], "relative_id": ["R1", "R2"], "shares_mtdna": [True, False]}
    )
    failed = failed_samples(results, samples, profiles, relatives, maternal)
    assert failed.rows() == [("S2", "relative", "M1"), ("S1", "remains", "HC1")]
    martyrs = pl.DataFrame({"martyr_id": ["M1", "M2"], "hometown_district": ["Châu Thành", None]})
    candidates = _candidates(
        [("HC1", "M1", "L1", "cannot_exclude", 0.4, CR), ("HC1", "M2", "L2", "inconclusive", 0.5, CR)]
    )
    remains = pl.DataFrame(
        {"remains_id": ["HC1", "HC2"], "recovery_place": ["x", "xã Mỹ Đức, huyện Hà Tiên"]}
    )
    districts = subject_districts(martyrs, candidates, remains, "Kiên Giang")
    assert districts[("martyr", "M1")] == "Châu Thành" and ("martyr", "M2") not in districts
    # HC1's most probable candidate (M2) has no district and its recovery place names none
    assert ("remains", "HC1") not in districts
    assert districts[("remains", "HC2")] == "Hà Tiên"


def test_an_empty_province_has_no_actions() -> None:
    empty = next_actions(
        _outcomes([], []), _candidates([]), NO_IDS, _worklist([]), set(), NO_FAILED, {}, {}, ActionSettings()
    )
    assert empty.is_empty() and "rank" in empty.columns
    assert list(district_pages(empty, Footer(None, None))) == ["next_actions/index.html"]


def test_council_confirmations_do_not_count_as_gains_an_action_can_bring() -> None:
    # Three remains match one line of one martyr: HC1 proposed, HC2 in review, HC3 confirmed by the
    # council (its candidate rows are gone). The next run proposes, it does not confirm: of the two
    # the run decided, one was proposed (1/2), not 2 of 3 as when the confirmation counted.
    candidates = _candidates(
        [("HC1", "MA", "L1", "cannot_exclude", 0.99, CR), ("HC2", "MB", "L2", "cannot_exclude", 0.6, CR)]
    )
    ids = pl.DataFrame(
        {
            "remains_id": ["HC1", "HC2", "HC3"],
            "martyr_id": ["MA", "MB", "MC"],
            "status": ["proposed", "needs_review", "confirmed"],
            "evidence": [None, None, None],
        }
    )
    outcomes = _outcomes(["HC2", "HC4"], [("MD", "no_reference")])
    outcomes = pl.concat(
        [
            outcomes,
            pl.DataFrame(
                [("remains", "HC1", "proposed", None, None), ("remains", "HC3", "confirmed", None, None)],
                schema=outcomes.schema,
                orient="row",
            ),
        ]
    )
    rates = province_rates(outcomes, candidates, ids, ActionSettings(rate_prior_weight=0.0))
    assert rates.conversion == 0.5
    # 4 profiled remains, 1 confirmed: 1 proposed of the 3 the run decided
    assert abs(rates.identified_share - 1 / 3) < 1e-9


def _truth(tmp_path) -> None:
    from lietsi.synth.haplotypes import haplotype_text, motif

    cr = haplotype_text(motif("F1b"))
    pl.DataFrame(
        {"maternal_line_uid": ["ML1", "ML2"], "haplogroup_mitogenome": ["F1b", "F1b"],
         "martyr_uid": ["U1", "U2"], "haplotype": [cr, cr]}
    ).write_csv(tmp_path / "martyrs.csv")  # fmt: skip
    remains = pl.DataFrame({"remains_id": ["HC1", "HC2"], "martyr_uid": ["U1", "U2"]})
    remains.write_csv(tmp_path / "remains.csv")
    pl.DataFrame(
        {"source": ["phieu_02"] * 3, "file": ["f.csv"] * 3, "row_number": ["3", "4", "5"],
         "person_uid": ["P1", "P2", "P3"]}
    ).write_csv(tmp_path / "relative_records.csv")  # fmt: skip
    pl.DataFrame(
        {"person_uid": ["P1", "P2", "P3"], "citizen_id": ["079012345678", "079012345679", "079012345670"],
         "haplotype": ["73G", "263G", cr], "maternal_line_uid": ["ML9", "ML8", "ML2"]}
    ).write_csv(tmp_path / "persons.csv")  # fmt: skip
    pl.DataFrame(
        {"sample_id": ["MHC1", "MHC2", "MTN3"], "kind": ["remains", "remains", "relative"],
         "remains_id": ["HC1", "HC2", ""], "person_uid": ["", "", "P3"], "range": ["16024-16365", CR, CR],
         "haplotype": ["", "16189C 16232A 16249C 16304C 16311C", cr]}
    ).write_csv(tmp_path / "samples.csv")  # fmt: skip


def test_the_simulated_follow_up_carries_out_each_kind_of_action(tmp_path) -> None:
    from datetime import date

    from lietsi.lab import mtdna
    from lietsi.synth.follow_up import follow_up_drop

    _truth(tmp_path)
    actions = pl.DataFrame(
        {
            "rank": [3, 1, 2, 4, None],
            "subject_kind": ["martyr", "martyr", "remains", "remains", "martyr"],
            "subject_id": ["M1", "M2", "HC1", "HC2", "M3"],
            "action": ["sample_relative", "ask_consent_and_sample", "retest_sample", "sequence_mitogenome",
                       "none"],
            "target": ["R1", "R2", "MHC1", "L2", None],
        }
    )  # fmt: skip
    links = pl.DataFrame(
        {"relative_id": ["R1", "R2", "R3"], "source": ["phieu_02"] * 3, "file": ["f.csv"] * 3,
         "row_number": [3, 4, 5]}
    )  # fmt: skip
    profiles = pl.DataFrame(
        {"sample_id": ["MHC2", "MTN3"], "sample_kind": ["remains", "relative"], "remains_id": ["HC2", None],
         "relative_id": [None, "R3"]}
    )  # fmt: skip
    candidates = pl.DataFrame({"line_id": ["L2"], "relative_id": ["R3"]})
    drop = follow_up_drop(
        actions, links, _worklist([]), profiles, candidates, tmp_path, 10, date(2026, 3, 1), seed=1
    )
    # the relative still to be asked for consent is not sampled; every other action is carried out
    assert dict(drop.applied) == {"sample_relative": 1, "retest_sample": 1, "sequence_mitogenome": 1}
    assert dict(drop.skipped) == {"ask_consent_and_sample": 1}
    assert [r["Số CCCD"] for r in drop.log] == ["079012345678"]
    by_sample = {r["Mã mẫu"]: r for r in drop.results}
    assert set(by_sample) == {"MTN-FU0001", "MHC1", "MHC2", "MTN3"}
    # the re-test returns the remains' true control region under the failed sample's id
    assert by_sample["MHC1"]["Vùng đọc được"] == CR
    # the mitogenome agrees with the earlier control-region read and adds the coding region
    remains = mtdna.parse_variants(by_sample["MHC2"]["Haplotype"])
    assert by_sample["MHC2"]["Vùng đọc được"] == "1-16569"
    assert mtdna.restrict(remains, mtdna.parse_range(CR)) == mtdna.parse_variants(
        "16189C 16232A 16249C 16304C 16311C"
    )
    assert any(577 <= v.position <= 16023 for v in remains)


def test_lines_sharing_a_control_region_differ_in_the_coding_region() -> None:
    from lietsi.synth.follow_up import coding_variants

    same = [coding_variants(f"ML{i}", "F1b") for i in range(40)]
    assert coding_variants("ML1", "F1b") == same[1]  # one line, one coding region
    assert all(577 <= v[0] <= 16023 for v in same[0])
    # most unrelated lines of one node carry private coding mutations that separate them
    separated = sum(len(set(a) ^ set(b)) >= 2 for a, b in itertools.pairwise(same))
    assert 0.5 * len(same) < separated < len(same)
