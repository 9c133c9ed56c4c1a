"""Partial and approximate dates as Vietnamese forms write them.

`12/03/1972`, `3/1972`, `1972`, `khoảng 1972`, `1972?`, `năm 1972`, `12-3-72` and blanks all
occur. A parsed date keeps its precision so that `1972` agrees with `12/03/1972` instead of being
read as the first of January.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from unidecode import unidecode

Precision = Literal["day", "month", "year"]

_APPROX = re.compile(r"^(khoang|tam|chung|ca|~|c\.)\s*|\?\s*$|\s*\(?uoc tinh\)?$")
_PREFIX = re.compile(r"^(ngay|thang|nam)\s+")
_NUMBERS = re.compile(r"\d+")
_MIN_YEAR, _MAX_YEAR = 1850, 2100


@dataclass(frozen=True)
class PartialDate:
    value: date
    precision: Precision
    approx: bool = False

    @property
    def year(self) -> int:
        return self.value.year

    def last_day(self) -> date:
        """The latest day this date can stand for."""
        if self.precision == "day":
            return self.value
        if self.precision == "month":
            if self.value.month == 12:
                return date(self.value.year, 12, 31)
            return date.fromordinal(date(self.value.year, self.value.month + 1, 1).toordinal() - 1)
        return date(self.value.year, 12, 31)


def _clean(text: str) -> tuple[str, bool]:
    s = unidecode(unicodedata.normalize("NFC", text)).strip().lower()
    approx = False
    while True:
        stripped = _APPROX.sub("", s).strip()
        if stripped == s:
            break
        approx, s = True, stripped
    return _PREFIX.sub("", s), approx


def _full_year(y: int) -> int:
    # Two-digit years on these forms are 20th-century events (births, deaths, enlistments).
    return 1900 + y if y < 100 else y


def parse_partial_date(text: str | None) -> PartialDate | None:
    """Parse `dd/mm/yyyy`, `mm/yyyy`, `yyyy` (any of `/ - .` or words), or None if not a date."""
    if text is None:
        return None
    s, approx = _clean(str(text))
    if not s:
        return None
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", s):
        y, m, d = (int(x) for x in s.split("-"))
        return _build(y, m, d, approx)
    parts = [int(x) for x in _NUMBERS.findall(s)]
    if not parts or len(parts) > 3 or re.search(r"[a-z]", s.replace("thang", "").replace("nam", "")):
        return None
    if len(parts) == 1:
        return _build(parts[0], None, None, approx)
    if len(parts) == 2:
        return _build(parts[1], parts[0], None, approx)
    return _build(parts[2], parts[1], parts[0], approx)


def _build(y: int, m: int | None, d: int | None, approx: bool) -> PartialDate | None:
    y = _full_year(y)
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    try:
        if m is None:
            return PartialDate(date(y, 1, 1), "year", approx)
        if d is None:
            return PartialDate(date(y, m, 1), "month", approx)
        return PartialDate(date(y, m, d), "day", approx)
    except ValueError:
        return None


def parse_year(text: str | int | None) -> tuple[int | None, bool]:
    """A year, possibly approximate: (`1948`, False), (`1948`, True) for `khoảng 1948`."""
    if text is None:
        return None, False
    parsed = parse_partial_date(str(text))
    if parsed is None:
        return None, False
    return parsed.year, parsed.approx


def dates_agree(a: PartialDate | None, b: PartialDate | None, slack_days: int = 0) -> bool | None:
    """Whether two partial dates can be the same day; None when either is unknown.

    Each date stands for an interval (a year-only date for the whole year); they agree when the
    intervals, widened by `slack_days`, overlap.
    """
    if a is None or b is None:
        return None
    return (
        a.value.toordinal() - slack_days <= b.last_day().toordinal()
        and b.value.toordinal() - slack_days <= a.last_day().toordinal()
    )


def from_columns(value: date | None, precision: str | None, approx: bool = False) -> PartialDate | None:
    """Rebuild a PartialDate from the `<col>`/`<col>_precision` pair stored in raw tables."""
    if value is None or precision is None:
        return None
    return PartialDate(value, precision, approx)  # type: ignore[arg-type]
