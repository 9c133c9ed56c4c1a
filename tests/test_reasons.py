"""The reason catalogue: every code has its Vietnamese and English texts, every code the library
emits is catalogued, and pages show the Vietnamese first with the data's parameters escaped."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import polars as pl
import pytest

from lietsi import reasons
from lietsi.lab.comparison import ComparisonRules
from lietsi.ops.match_report import identification_page, summary_page
from lietsi.ops.next_action_pages import district_pages
from lietsi.ops.pages import Footer

LIBRARY = Path(__file__).resolve().parents[1] / "lietsi"
HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
# Codes the library builds from a value (`review.dna_{verdict}`, `council.{status}`, …): the
# f-string's opening and the values it takes.
PLACES = ("same_text", "commune", "district", "province", "elsewhere", "different")
BUILT = {
    'f"review.dna_{': ("review.dna_", ("inconclusive", "exclusion")),
    'f"council.{': ("council.", ("confirmed", "rejected")),
    'f"action.none_{': ("action.none_", ("remains", "martyr")),
    'f"factor.age_{': ("factor.age_", ("inside", "near", "outside")),
    '"factor.artefact_" + (': ("factor.artefact_", ("alias", "given_name")),
    "f\"factor.{'place' if source == 'death' else 'unit_place'}_{": ("factor.place_", PLACES),
    "'unit_place'}_{outcome}": ("factor.unit_place_", PLACES),
    'f"factor.compared_at_{': ("factor.compared_at_", ("commune", "district", "province", "not_placed")),
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(reasons.CATALOGUE))
def test_every_code_has_a_vietnamese_text_and_an_english_line_over_the_same_parameters(code: str) -> None:
    vi, en = reasons.CATALOGUE[code]
    assert vi.strip() and en.strip() and vi != en
    assert re.fullmatch(r"(review|outcome|refusal|council|action|factor)\.[a-z_]+", code)
    assert _fields(vi) == _fields(en)
    sample = {name: 0.5 for name in _fields(vi)}
    (item,) = reasons.lines(reasons.encode([reasons.reason(code, **sample)]))
    assert item["code"] == code and item["vi"] and item["en"]


def test_the_catalogue_is_what_the_library_emits() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(LIBRARY.rglob("*.py")))
    literal = set(re.findall(r'"((?:review|outcome|refusal|council|action|factor)\.[a-z_]*[a-z])"', source))
    built = {prefix + value for prefix, values in BUILT.values() for value in values}
    for opening in BUILT:
        assert opening in source, opening
    assert literal | built == set(reasons.CATALOGUE)
    with pytest.raises(KeyError):
        reasons.reason("review.no_such_code")


def test_codes_round_trip_and_render_both_languages() -> None:
    items = [
        reasons.reason("review.excluded_by_reference", references="TN-2"),
        reasons.reason("review.posterior_below_threshold", bound=0.98, threshold=0.99),
    ]
    stored = reasons.encode(items)
    assert reasons.codes_of(stored) == ["review.excluded_by_reference", "review.posterior_below_threshold"]
    assert json.loads(stored)[0]["params"] == {"references": "TN-2"}
    assert reasons.text(stored) == (
        "bị loại trừ bởi mẫu đối chiếu TN-2; xác suất 0.9800 khi tần suất haplotype ở cận trên 95%, "
        "dưới ngưỡng 0.99"
    )
    assert reasons.text(stored, "en").startswith("excluded by reference(s) TN-2; posterior 0.9800")
    assert reasons.encode([]) is None and reasons.text(None) is None and reasons.lines(None) == []
    assert reasons.heading("outcome.only_inconclusive")["vi"] == (
        "chỉ có so sánh chưa kết luận (… mẫu đối chiếu cách một khác biệt)"
    )


def _identification(codes: list[dict]) -> dict:
    evidence = {
        "summary": "Remains HC-1 → martyr M1",
        "prior": {"this_martyr": 0.01, "text": "prior"},
        "dna": {"verdict": "inconclusive", "differences": 1, "compared_range": "16024-16569",
                "reference": "TN-1", "line": "ML-1"},
        "factors": [
            {"factor": "dna", "lr": 1.0, "text": "–",
             "codes": [reasons.reason("factor.dna_inconclusive", differences=1, lr=1.0)]},
            {"factor": "artefact", "lr": 40.0, "text": "–",
             "codes": [reasons.reason("factor.artefact_full_name", inscription=HOSTILE)]},
        ],
        "lr_total": 1.0,
        "competitors": [],
    }  # fmt: skip
    return {
        "remains_id": "HC-1",
        "martyr_id": "M1",
        "status": "needs_review",
        "reasons": reasons.text(codes),
        "reason_codes": reasons.encode(codes),
        "posterior": 0.5,
        "posterior_bound": 0.4,
        "evidence": json.dumps(evidence),
    }


def test_the_evidence_page_states_the_reasons_in_vietnamese_first_with_hostile_parameters_escaped() -> None:
    codes = [
        reasons.reason("review.dna_inconclusive"),
        reasons.reason("review.excluded_by_reference", references=HOSTILE),
    ]
    page = identification_page(
        _identification(codes), {"full_name": "Nguyễn Văn A"}, {}, None, None, ComparisonRules(),
        Footer("Kiên Giang", "run-1"),
    )  # fmt: skip
    body = page[page.index("<main>") :]
    review = body[body.index('id="review-reason"') : body.index("Ứng viên cạnh tranh")]
    # Vietnamese, then its English line, reason by reason, before anything else on the page.
    assert (
        review.index("ADN chưa kết luận được")
        < review.index("DNA inconclusive")
        < review.index("bị loại trừ bởi mẫu đối chiếu")
        < review.index("excluded by reference(s)")
    )
    assert 'data-code="review.excluded_by_reference"' in review
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;" in review
    # the factors' explanations too: Vietnamese, English beneath, the inscription escaped
    factors = body[body.index('id="factors"') :]
    assert factors.index("chưa kết luận: 1 khác biệt") < factors.index("inconclusive: 1 difference")
    vi = factors.index("chữ trên di vật «&lt;script&gt;")
    assert vi < factors.index("artefact inscription «&lt;script&gt;")
    assert "<script" not in page and "<img" not in page


def test_summary_and_next_action_pages_render_codes_in_vietnamese_first_and_escape_them() -> None:
    rival = reasons.reason("review.martyr_fits_other_remains", others=HOSTILE)
    ids = pl.DataFrame([_identification([rival])])
    several = [reasons.reason("outcome.several_compatible", n_match=2, best=0.4)]
    outcomes = pl.DataFrame(
        {"remains_id": ["HC-2"], "outcome": ["unresolved"], "reason": [reasons.text(several)],
         "reason_codes": [reasons.encode(several)]}
    )  # fmt: skip
    martyrs = pl.DataFrame(schema={"martyr_id": pl.String, "outcome": pl.String})
    page = summary_page("Kiên Giang", ids, outcomes, martyrs, 0.3, {"HC-1": "HC-1.html"})
    assert page.index("liệt sĩ này cũng phù hợp với hài cốt &lt;script&gt;") < page.index(
        "martyr also fits remains &lt;script&gt;"
    )
    # the unresolved remains grouped by code, its parameters folded
    assert "… liệt sĩ không loại trừ được" in page and "… martyr(s) cannot be excluded" in page
    assert "<script" not in page and "<img" not in page
    why = [
        reasons.reason("action.sample_relative", relative_id=HOSTILE, kin="mẹ", line_id="L1", martyr_id="M1")
    ]
    actions = pl.DataFrame(
        [{"rank": 1, "subject_kind": "martyr", "subject_id": "M1", "district_code": None,
          "district": "(district not known)", "action": "sample_relative", "target": "R1",
          "expected_identifications": 0.1, "cost_vnd": 5_000_000, "identifications_per_million_vnd": 0.02,
          "explanation": reasons.text(why), "explanation_codes": reasons.encode(why), "alternatives": "[]"}]
    )  # fmt: skip
    pages = district_pages(actions, Footer("Kiên Giang", "run-1"))
    (html,) = [v for k, v in pages.items() if not k.endswith("index.html")]
    vi = html.index("lấy mẫu thân nhân dòng mẹ &lt;script&gt;")
    assert vi < html.index("sample maternal relative &lt;script")
    assert "<script" not in html and "<img" not in html


def test_the_reason_table_in_docs_lists_every_code() -> None:
    table = (LIBRARY.parent / "docs" / "reasons.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.M)) == set(reasons.CATALOGUE)
