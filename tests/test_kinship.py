"""Kinship texts as commune officers write them → kin path → shares the martyr's mtDNA?"""

from __future__ import annotations

import polars as pl
import pytest

from lietsi.kinship.grammar import parse_kinship
from lietsi.kinship.kin_paths import Half, Kind, Path, Step
from lietsi.kinship.mtdna import decide, parse_sex, shares_mtdna

T, F, N = True, False, None

# (text, kin path, shares for a male martyr, shares for a female martyr)
PHRASINGS = [
    ("mẹ", "mother", T, T),
    ("Mẹ ruột", "mother", T, T),
    ("mẹ đẻ", "mother", T, T),
    ("Mẹ liệt sĩ", "mother", T, T),
    ("má", "mother", T, T),
    ("ba", "father", F, F),  # Southern `ba` as written; `ba noi` below has lost its diacritics
    ("cha", "father", F, F),
    ("bố đẻ", "father", F, F),
    ("bà ngoại", "mother > mother", T, T),
    ("bà nội", "father > mother", F, F),
    ("ông ngoại", "mother > father", F, F),
    ("anh ruột", "brother(full)", T, T),
    ("chị ruột", "sister(full)", T, T),
    ("em ruột", "sibling(full)", T, T),
    ("em gái", "sister", T, T),
    ("chị gái", "sister", T, T),
    ("em trai ruột", "brother(full)", T, T),
    ("anh cùng mẹ khác cha", "brother(same_mother)", T, T),
    ("em gái cùng mẹ khác cha", "sister(same_mother)", T, T),
    ("em khác cha", "sibling(same_mother)", T, T),
    ("em cùng cha khác mẹ", "sibling(same_father)", F, F),
    ("anh trai cùng cha khác mẹ", "brother(same_father)", F, F),
    ("em trai (cùng cha khác mẹ)", "brother(same_father)", F, F),
    ("cùng mẹ khác cha", "sibling(same_mother)", T, T),
    ("con", "child", F, T),
    ("con gái", "daughter", F, T),
    ("anh họ (con của dì)", "mother > sister > son", T, T),
    ("chị họ (con của cậu)", "mother > brother > daughter", F, F),
    ("anh ho (con cua di)", "mother > sister > son", T, T),
    ("con trai", "son", F, T),
    ("con ruột", "child", F, T),
    ("cháu ngoại", "daughter > child", F, T),
    ("cháu nội", "son > child", F, F),
    ("con gái của con gái", "daughter > daughter", F, T),
    ("cháu gọi bằng cậu", "sister > child", T, N),  # a female martyr is nobody's cậu
    ("cháu gọi bằng dì", "sister > child", N, T),
    ("cháu gọi bằng chú", "brother > child", F, N),
    ("cháu gọi bằng cô", "brother > child", N, F),
    ("cháu gái gọi liệt sĩ bằng cậu ruột", "sister(full) > daughter", T, N),
    ("con của chị gái", "sister > child", T, T),
    ("con của em trai", "brother > child", F, F),
    ("con gái của chị gái", "sister > daughter", T, T),
    ("con chị gái", "sister > child", T, T),
    ("cháu (con của em trai)", "brother > child", F, F),
    ("cháu (con của chị gái)", "sister > child", T, T),
    ("cháu - con của em gái", "sister > child", T, T),
    ("dì", "mother > sister", T, T),
    ("dì ruột", "mother > sister(full)", T, T),
    ("dì (chị gái của mẹ)", "mother > sister", T, T),
    ("dì Hai", "mother > sister", T, T),
    ("cậu", "mother > brother", T, T),
    ("cậu ruột", "mother > brother(full)", T, T),
    ("chú", "father > brother", F, F),
    ("chú ruột", "father > brother(full)", F, F),
    ("cô", "father > sister", F, F),
    ("con của dì", "mother > sister > child", T, T),
    ("con dì", "mother > sister > child", T, T),
    ("anh em bạn dì", "mother > sister > child", T, T),
    ("con của cậu", "mother > brother > child", F, F),
    ("mợ", "mother > brother > wife", F, F),
    ("vợ", "wife", F, N),  # the text implies a male martyr
    ("vợ liệt sĩ", "wife", F, N),
    ("chồng", "husband", N, F),
    ("chị dâu", "brother > wife", F, F),
    ("anh rể", "sister > husband", F, F),
    ("mẹ nuôi", "step/adoptive mother", F, F),
    ("mẹ kế", "step/adoptive mother", F, F),
    ("em gái của liệt sĩ", "sister", T, T),
    ("Em ruột LS", "sibling(full)", T, T),
    ("liệt sĩ là cậu", "sister > child", T, N),
    # Typos and missing diacritics.
    ("em gai ruot", "sister(full)", T, T),
    ("me", "mother", T, T),
    ("ba ngoai", "mother > mother", T, T),
    ("ba noi", "father > mother", F, F),
    ("bà ngọai", "mother > mother", T, T),
    ("bà nogai", "mother > mother", T, T),
    ("cau ruot", "mother > brother(full)", T, T),
    ("con cua chi gai", "sister > child", T, T),
    ("emgái", "sister", T, T),
    ("CHỊ GÁI", "sister", T, T),
    ("mẹ (đã già)", "mother", T, T),
]


@pytest.mark.parametrize(("text", "path", "male", "female"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_phrasing(text: str, path: str, male: bool | None, female: bool | None) -> None:
    kin = parse_kinship(text)
    assert kin.kin_path == path
    assert shares_mtdna(kin, "M").shares is male
    assert shares_mtdna(kin, "F").shares is female


def test_at_least_forty_phrasings_with_both_answers() -> None:
    assert len(PHRASINGS) >= 40
    answers = {(m, f) for _, _, m, f in PHRASINGS}
    assert {(T, T), (F, F), (F, T)} <= answers


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("cháu", "can be read as"),
        ("cháu ruột", "can be read as"),
        ("bác", "mother's or the father's side"),
        ("bác gái", "mother's or the father's side"),
        ("bác ruột", "mother's or the father's side"),
        ("cháu gọi bằng bác", "man or a woman"),
        ("con của em", "man or a woman"),
        ("bà", "mother's or the father's side"),
        ("anh họ", "họ"),
        ("em họ (con của bác)", "mother's or the father's side"),
        ("chị họ (con trai của dì)", "describe different relatives"),
        ("họ hàng", "họ hàng"),
        ("ba ruot", "can be read as"),  # `ba` father or `bà` grandmother once diacritics are lost
        ("người hàng xóm", "not understood"),
        ("", "not understood"),
    ],
)
def test_ambiguous_texts_are_not_guessed(text: str, reason_part: str) -> None:
    for sex in ("M", "F", None):
        decision = shares_mtdna(text, sex)
        assert decision.shares is None
        assert reason_part in decision.reason


def test_martyr_sex_needed_only_for_the_martyrs_own_descendants() -> None:
    for text in ("con", "con gái", "cháu ngoại"):
        d = shares_mtdna(text, None)
        assert d.shares is None and d.martyr_sex_needed
        assert "martyr's sex" in d.reason
    for text in ("mẹ", "em gái", "cháu nội", "con của chị gái", "cậu", "cháu gọi bằng cậu"):
        d = shares_mtdna(text, None)
        assert d.shares is not None and not d.martyr_sex_needed


def test_text_contradicting_the_martyrs_sex_is_flagged() -> None:
    d = shares_mtdna("cháu gọi bằng dì", "M")
    assert d.shares is None and "female martyr" in d.reason
    # Without a recorded sex, the text's own implication decides.
    assert shares_mtdna("cháu gọi bằng dì", None).shares is True


def test_relative_sex_comes_from_the_text_when_stated() -> None:
    assert parse_kinship("con gái của chị gái").relative_sex == "F"
    assert parse_kinship("cậu").relative_sex == "M"
    assert parse_kinship("con của chị gái").relative_sex is None
    # The relative's sex does not change the answer for the pair: only their own children's.
    assert shares_mtdna("con trai của chị gái", "M").shares is True
    assert shares_mtdna("con gái của chị gái", "M").shares is True


def test_nesting_three_levels() -> None:
    kin = parse_kinship("con gái của con gái của chị gái")
    assert kin.kin_path == "sister > daughter > daughter"
    assert shares_mtdna(kin, "M").shares is True
    kin = parse_kinship("con của con trai của chị gái")
    assert kin.kin_path == "sister > son > child"
    assert shares_mtdna(kin, "M").shares is False


def test_contradictory_text_is_unreadable() -> None:
    assert not parse_kinship("anh gái").parsed
    assert not parse_kinship("em cùng mẹ khác mẹ").parsed
    assert not parse_kinship("cháu (vợ của em trai)").parsed


def test_kin_path_steps_and_decide_on_paths() -> None:
    path = parse_kinship("em gái cùng mẹ khác cha").readings[0]
    assert path.steps == (Step(Kind.SIBLING, "F", Half.SAME_MOTHER),)
    maternal_cousin = Path((Step(Kind.PARENT, "F"), Step(Kind.SIBLING, "F"), Step(Kind.CHILD, "M")))
    assert decide(maternal_cousin, "M").shares is True
    # A man passes nothing on: the son of a maternal cousin does not share.
    second = Path((*maternal_cousin.steps, Step(Kind.CHILD)))
    assert decide(second, "M").shares is False


def test_parse_sex() -> None:
    assert parse_sex("Nam") == "M"
    assert parse_sex("nữ") == "F"
    assert parse_sex("Nu") == "F"
    assert parse_sex("") is None
    assert parse_sex("không rõ") is None


def test_frame_level_statements_use_the_forms_sex_columns() -> None:
    from lietsi.kinship.statements import kinship_statements

    rows = pl.DataFrame(
        {
            "source": ["phieu_02"] * 4,
            "file": ["a.csv"] * 4,
            "row_number": [1, 2, 3, 4],
            "martyr_id": ["M1", "M1", "M2", "M3"],
            "relative_id": ["R1", "R2", "R3", "R4"],
            "relationship": ["con", "con gái", "cháu gọi bằng cậu", "em trai"],
            "martyr_sex": ["Nữ", None, "Nữ", "Nam"],
            "relative_sex": ["Nam", "Nữ", "Nam", "Nữ"],
        }
    )
    out = kinship_statements(rows).sort("row_number")
    assert out["shares_mtdna"].to_list() == [True, None, None, True]
    # The kinship text wins over the form's sex column when both say; a conflict is noted.
    assert out["relative_sex"].to_list() == ["M", "F", "M", "M"]
    reasons = out["review_reason"].to_list()
    assert reasons[0] is None and "martyr's sex" in reasons[1] and "female martyr" not in reasons[1]
    assert "male martyr" in reasons[2]
    # `em trai` on a row that says the relative is a woman: decided, but noted for review.
    assert "Nữ" in out["note"][3]


# --- maternal lines and the worklist ---------------------------------------------------------


def _statements(rows: list[tuple[str, str, str, str | None]]) -> pl.DataFrame:
    from lietsi.kinship.statements import kinship_statements

    return kinship_statements(
        pl.DataFrame(
            {
                "source": ["phieu_02"] * len(rows),
                "file": ["f.csv"] * len(rows),
                "row_number": list(range(1, len(rows) + 1)),
                "martyr_id": [r[0] for r in rows],
                "relative_id": [r[1] for r in rows],
                "relationship": [r[2] for r in rows],
                "martyr_sex": [r[3] for r in rows],
            }
        )
    )


def _lines(rows: list[tuple[str, str, str, str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    from lietsi.kinship.maternal import maternal_candidates, maternal_lines

    candidates = maternal_candidates(_statements(rows))
    lines = maternal_lines(candidates)
    line_of = dict(zip(lines["member_id"], lines["maternal_line_id"], strict=True))
    return candidates.with_columns(
        pl.col("martyr_id").replace_strict(line_of).alias("maternal_line_id")
    ), lines


def test_two_martyr_brothers_their_sister_and_her_daughter_are_one_line() -> None:
    _, lines = _lines(
        [
            ("LS-2", "TN-mother", "mẹ", "Nam"),
            ("LS-1", "TN-mother", "mẹ ruột", "Nam"),
            ("LS-1", "TN-sister", "em gái", "Nam"),
            ("LS-2", "TN-niece", "cháu gọi bằng cậu", "Nam"),
            ("LS-1", "TN-father", "cha", "Nam"),
            ("LS-3", "TN-other", "dì ruột", "Nữ"),
        ]
    )
    line_of = dict(zip(lines["member_id"], lines["maternal_line_id"], strict=True))
    assert line_of["LS-1"] == line_of["LS-2"] == line_of["TN-mother"] == line_of["TN-sister"] == "ML-LS-1"
    assert line_of["TN-niece"] == "ML-LS-1"
    assert "TN-father" not in line_of  # not on the maternal line
    assert line_of["LS-3"] == line_of["TN-other"] == "ML-LS-3"


def test_line_ids_do_not_depend_on_row_order() -> None:
    rows = [("LS-9", "TN-a", "mẹ", "Nam"), ("LS-4", "TN-a", "mẹ", "Nam"), ("LS-7", "TN-b", "em gái", "Nữ")]
    _, first = _lines(rows)
    _, second = _lines(rows[::-1])
    assert first.equals(second)
    assert set(first["maternal_line_id"]) == {"ML-LS-4", "ML-LS-7"}


def test_statements_that_disagree_leave_the_pair_for_review() -> None:
    from lietsi.kinship.maternal import maternal_candidates

    candidates = maternal_candidates(
        _statements(
            [
                ("LS-1", "TN-1", "em gái", "Nam"),
                ("LS-1", "TN-1", "cô", "Nam"),
                ("LS-2", "TN-2", "cháu", "Nam"),
                ("LS-2", "TN-2", "cháu (con của chị gái)", "Nam"),
            ]
        )
    ).sort("martyr_id")
    assert candidates["statements"].to_list() == [2, 2]
    assert candidates["shares_mtdna"].to_list() == [None, True]
    assert "disagree" in candidates["review_reason"][0]
    assert candidates["review_reason"][1] is None


def _worklist(rows, relatives: dict[str, dict], martyrs: dict[str, dict] | None = None):
    from lietsi.kinship.worklist import sampling_worklist

    candidates, _ = _lines(rows)
    rel = pl.DataFrame([{"relative_id": k, **v} for k, v in relatives.items()])
    mar = pl.DataFrame(
        [
            {"martyr_id": m, "commune": "Xã A", "needs_sample": True, **(martyrs or {}).get(m, {})}
            for m in candidates["martyr_id"].unique()
        ]
    )
    return sampling_worklist(candidates, rel, mar)


def test_worklist_ranks_the_mother_first_then_the_frail_then_the_oldest() -> None:
    rows = [
        ("LS-1", "TN-sis", "chị gái", "Nam"),
        ("LS-1", "TN-mom", "mẹ", "Nam"),
        ("LS-1", "TN-aunt", "dì ruột", "Nam"),
        ("LS-1", "TN-niece", "con của chị gái", "Nam"),
    ]
    base = {"consent": "Có", "commune": "Xã A"}
    result = _worklist(
        rows,
        {
            "TN-sis": {**base, "birth_year": 1950, "health": "Bình thường"},
            "TN-mom": {**base, "birth_year": 1930, "health": "Bình thường"},
            "TN-aunt": {**base, "birth_year": 1935, "health": "Bình thường"},
            "TN-niece": {**base, "birth_year": 1975, "health": "Nặng"},
        },
    )
    wl = result.worklist.sort("priority_rank")
    assert wl["relative_id"].to_list() == ["TN-mom", "TN-niece"]
    assert wl["role"].to_list() == ["primary", "backup"]
    assert wl["priority_rank"].to_list() == [1, 2]
    # Without the mother, the frail niece comes before the older healthy aunt.
    result = _worklist(
        rows[:1] + rows[2:],
        {
            "TN-sis": {**base, "birth_year": 1950, "health": "Yếu"},
            "TN-aunt": {**base, "birth_year": 1935, "health": "Bình thường"},
            "TN-niece": {**base, "birth_year": 1975, "health": "Nặng"},
        },
    )
    assert result.worklist.sort("priority_rank")["relative_id"].to_list() == ["TN-niece", "TN-sis"]


def test_worklist_asks_consent_lists_refusals_and_explains_lines_without_donor() -> None:
    rows = [
        ("LS-1", "TN-mom", "mẹ", "Nam"),
        ("LS-1", "TN-sis", "em gái", "Nam"),
        ("LS-1", "TN-bro", "anh ruột", "Nam"),
        ("LS-2", "TN-x", "em gái", "Nam"),
        ("LS-3", "TN-y", "cha", "Nam"),
        ("LS-4", "TN-z", "bác", "Nam"),
    ]
    result = _worklist(
        rows,
        {
            "TN-mom": {"consent": None, "birth_year": 1928, "commune": "Xã A"},
            "TN-sis": {"consent": "Không", "birth_year": 1950, "commune": "Xã A"},
            "TN-bro": {"consent": "Có", "birth_year": 1945, "commune": "Xã B"},
            "TN-x": {"consent": "Không", "birth_year": 1950, "commune": "Xã A"},
            "TN-y": {"consent": "Có", "birth_year": 1920, "commune": "Xã A"},
            "TN-z": {"consent": "Có", "birth_year": 1920, "commune": "Xã A"},
        },
    )
    roles = dict(zip(result.worklist["relative_id"], result.worklist["role"], strict=True))
    assert roles == {"TN-mom": "ask_consent", "TN-bro": "primary", "TN-sis": "refused", "TN-x": "refused"}
    status = {r["martyr_ids"][0]: (r["status"], r["reason"]) for r in result.lines.iter_rows(named=True)}
    assert status["LS-1"] == ("ready", None)
    assert status["LS-2"] == ("no_donor", "every living relative on the line refused")
    assert status["LS-3"][0] == "no_donor" and "no living relative" in status["LS-3"][1]
    assert status["LS-4"][0] == "no_donor" and "kinship review" in status["LS-4"][1]
    # Every martyr with a consenting relative on his line has a primary donor.
    assert set(result.worklist.filter(pl.col("role") == "primary")["martyr_id"]) == {"LS-1"}


def test_one_sample_serves_every_martyr_of_a_line_and_identified_graves_are_skipped() -> None:
    rows = [
        ("LS-1", "TN-mom", "mẹ", "Nam"),
        ("LS-2", "TN-mom", "mẹ", "Nam"),
        ("LS-3", "TN-s", "chị gái", "Nam"),
    ]
    result = _worklist(
        rows,
        {"TN-mom": {"consent": "Có", "birth_year": 1925}, "TN-s": {"consent": "Có", "birth_year": 1940}},
        {"LS-3": {"needs_sample": False}},
    )
    assert result.worklist["relative_id"].to_list() == ["TN-mom"]
    assert result.worklist["martyr_ids"].to_list() == ["LS-1,LS-2"]
    assert result.lines.filter(pl.col("status") == "not_needed")["martyr_ids"].to_list() == [["LS-3"]]


def test_commune_pages_are_printable_and_escape_text() -> None:
    from lietsi.kinship.sheets import ROLE_VI, commune_sheets, with_units
    from lietsi.ops.pages import Footer, render

    rows = [("LS-1", "TN-mom", "mẹ", "Nam"), ("LS-2", "TN-y", "cha", "Nam")]
    result = _worklist(rows, {"TN-mom": {"consent": "Có", "commune": "Xã A"}, "TN-y": {"consent": "Có"}})
    units = pl.DataFrame(
        {
            "commune": ["Xã A"],
            "commune_code": ["30001"],
            "commune_name": ["A <b>"],
            "district_code": ["900"],
            "district_name": ["Huyện B"],
            "in_province": [True],
        }
    )
    result = with_units(result, units)
    sheets = commune_sheets(
        result.worklist, result.lines, {"LS-1": "Nguyễn <Văn> A", "LS-2": "Lê B"}, {"TN-mom": "Trần Thị C"}
    )
    assert [(s.key, s.commune, s.commune_code, s.district) for s in sheets] == [
        ("Xã A", "A <b>", "30001", "Huyện B")
    ]
    page = render(
        "worklist.html", Footer("Kiên Giang", "run-1"), "../", commune=sheets[0],
        rows=sheets[0].rows.to_dicts(), roles=ROLE_VI,
    )  # fmt: skip
    assert "Nguyễn &lt;Văn&gt; A" in page and "Trần Thị C" in page and "A &lt;b&gt;" in page
    assert "Chưa có người cho mẫu" in page and "Lê B" in page
    assert "Kiên Giang" in page and "run-1" in page
