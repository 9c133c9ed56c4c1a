"""Vietnamese number, money and date formats, and the evidence page's reading order."""

import json
import re
from datetime import date, datetime

import pytest

from lietsi import reasons
from lietsi.lab.comparison import ComparisonRules
from lietsi.ops import formats
from lietsi.ops.match_report import identification_page
from lietsi.ops.pages import Footer


def test_numbers_money_and_dates_follow_vietnamese_conventions():
    assert formats.number(1329) == "1.329"
    assert formats.number(8610) == "8.610"
    assert formats.number(1234567.891, 2) == "1.234.567,89"
    assert formats.percent(0.953) == "95,3%"
    assert formats.money(4_325_000) == "4.325.000 đ"
    assert formats.million_vnd(4_325_000) == "4,3 triệu đ"
    assert formats.day(date(2026, 11, 29)) == "29/11/2026"
    assert formats.timestamp(datetime(2026, 11, 29, 23, 5)) == "29/11/2026 23:05"
    assert formats.probability(0.99871) == "0,9987"
    assert formats.value("1974-08-21") == "21/08/1974" and formats.value(1954) == "1954"
    assert formats.number(None) == formats.percent(float("nan")) == "–"


def _identification(status: str, codes: list[dict]) -> dict:
    evidence = {
        "summary": "Remains HC-1 → martyr M1",
        "prior": {"this_martyr": 0.01, "text": "prior"},
        "dna": {
            "verdict": "cannot_exclude",
            "differences": 0,
            "compared_range": "16024-16569",
            "reference": "TN-1",
            "line": "ML-1",
        },
        "factors": [
            {"factor": "dna", "lr": 120.0, "text": "match"},
            {"factor": "sex", "lr": 0.5, "text": "x"},
        ],
        "lr_total": 60.0,
        "competitors": [{"martyr_id": "M2", "posterior": 0.2, "verdict": "cannot_exclude"}],
    }
    return {
        "remains_id": "HC-1",
        "martyr_id": "M1",
        "status": status,
        "reasons": reasons.text(codes),
        "reason_codes": reasons.encode(codes),
        "posterior": 0.75,
        "posterior_bound": 0.7,
        "evidence": json.dumps(evidence),
    }


def test_evidence_page_states_the_reason_first_and_links_competitors_and_conflicts():
    page = identification_page(
        _identification(
            "needs_review", [reasons.reason("review.martyr_fits_other_remains", others="HC-9 (0.400)")]
        ),
        {"full_name": "Nguyễn Văn Thành"},
        {},
        None,
        None,
        ComparisonRules(),
        Footer("Kiên Giang", "run-7"),
        martyr_names={"M2": "Lê <b>Văn</b> B"},
        pages={"HC-1": "HC-1.html", "HC-2": "HC-2.html", "HC-9": "HC-9.html"},
        remains_of_martyr={"M2": "HC-2"},
        conflicts=[{"remains_id": "HC-9", "posterior": 0.4, "verdict": "cannot_exclude"}],
    )
    body = page[page.index("<main>") :]
    assert (
        body.index("Cần xem xét — lý do")
        < body.index("liệt sĩ này cũng phù hợp với hài cốt HC-9 (0.400)")  # Vietnamese first
        < body.index("martyr also fits remains HC-9 (0.400)")  # English beneath
        < body.index("Ứng viên cạnh tranh")
        < body.index("Liệt sĩ và hài cốt")
    )
    assert "Lê &lt;b&gt;Văn&lt;/b&gt; B (M2)" in page and 'href="HC-2.html"' in page
    assert re.search(r'<a href="HC-9.html">HC-9</a>', page)
    assert "<b>0,7500</b>" in page and "Kiên Giang" in page and "run-7" in page
    assert page.count("<svg") == 2  # the posterior against competitors, the log-LR bars


def test_evidence_bars_escape_labels_and_point_against_on_the_left():
    from lietsi.ops import charts

    svg = str(charts.log_lr_bars([("<script>x</script>", 100.0), ("nơi hy sinh", 0.1)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    rects = [dict(re.findall(r'(\w+)="([^"]*)"', r)) for r in re.findall(r"<rect [^>]*>", svg)]
    zero = float(re.search(r'<line x1="([\d.]+)"', svg).group(1))
    assert float(rects[0]["x"]) == zero and float(rects[0]["width"]) > 0  # LR 100: for, to the right
    assert float(rects[1]["x"]) + float(rects[1]["width"]) == pytest.approx(zero)  # LR 0.1: against
    assert ">2,0<" in svg and ">-1,0<" in svg
    assert charts.posterior_bars([]) is None
