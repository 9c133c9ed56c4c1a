from datetime import date

import pytest

from lietsi.dates import dates_agree, parse_partial_date, parse_year


@pytest.mark.parametrize(
    ("text", "value", "precision", "approx"),
    [
        ("12/03/1972", date(1972, 3, 12), "day", False),
        ("12-3-72", date(1972, 3, 12), "day", False),
        ("1972-03-12", date(1972, 3, 12), "day", False),
        ("3/1972", date(1972, 3, 1), "month", False),
        ("Tháng 3/1972", date(1972, 3, 1), "month", False),
        ("1972", date(1972, 1, 1), "year", False),
        ("năm 1972", date(1972, 1, 1), "year", False),
        ("khoảng 1972", date(1972, 1, 1), "year", True),
        ("khoang 1972", date(1972, 1, 1), "year", True),
        ("1972?", date(1972, 1, 1), "year", True),
        ("ngày 5 tháng 6 năm 1970", date(1970, 6, 5), "day", False),
    ],
)
def test_partial_dates_keep_their_precision(text, value, precision, approx):
    parsed = parse_partial_date(text)
    assert parsed is not None
    assert (parsed.value, parsed.precision, parsed.approx) == (value, precision, approx)


@pytest.mark.parametrize("text", ["", "   ", None, "32/13/1972", "31/02/1972", "không rõ", "19xx", "3000"])
def test_impossible_or_blank_dates_are_none(text):
    assert parse_partial_date(text) is None


def test_years():
    assert parse_year("1948") == (1948, False)
    assert parse_year("khoảng 1948") == (1948, True)
    assert parse_year(None) == (None, False)


def test_agreement_respects_precision():
    year = parse_partial_date("1972")
    day = parse_partial_date("12/03/1972")
    month = parse_partial_date("4/1972")
    assert dates_agree(year, day) is True
    assert dates_agree(month, day) is False
    assert dates_agree(month, day, slack_days=31) is True
    assert dates_agree(parse_partial_date("1973"), day) is False
    assert dates_agree(None, day) is None
