"""Numbers, dates and money written the Vietnamese way, in one place for every page and chart.

Vietnamese writes `.` between thousands and `,` before decimals (`1.329`, `12,5%`), dates day first
(`29/11/2026`) and amounts in đồng with the unit after the number (`4.325.000 đ`). Every page,
chart and map label goes through these functions so that `4.325` never means 4.325 million on one
page and four thousand elsewhere.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime


def number(value: float | int | None, decimals: int = 0) -> str:
    """`1.329`, `0,95` (decimals places), `–` for a missing or non-finite value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(share: float | None, decimals: int = 1) -> str:
    """A share (0.953) as `95,3%`."""
    return "–" if share is None or not math.isfinite(share) else number(share * 100, decimals) + "%"


def money(amount: float | None) -> str:
    """`12.345.000 đ`: whole đồng."""
    return "–" if amount is None else number(round(amount)) + " đ"


def million_vnd(amount: float | None) -> str:
    """`4,3 triệu đ` for chart labels where whole đồng would not fit."""
    return "–" if amount is None else number(amount / 1e6, 1) + " triệu đ"


def day(value: date | datetime | None) -> str:
    """`29/11/2026`."""
    return "–" if value is None else f"{value:%d/%m/%Y}"


def timestamp(value: datetime | None) -> str:
    """`29/11/2026 23:05`."""
    return "–" if value is None else f"{value:%d/%m/%Y %H:%M}"


def probability(value: float | None) -> str:
    """A posterior probability with four decimals, Vietnamese comma: `0,9987`."""
    return number(value, 4)


def ratio(value: float | None) -> str:
    """A likelihood ratio: grouped digits when large, significant digits when small (`1.250`, `0,031`)."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return number(value)
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return number(value, min(decimals, 6))


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def value(v: object) -> str:
    """A record's field as shown on a page: dates day first (also ISO date text), yes/no in
    Vietnamese, decimals with a comma; whole numbers (years, counts of a record) as written."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Có" if v else "Không"
    if isinstance(v, datetime):
        return timestamp(v)
    if isinstance(v, date):
        return day(v)
    if isinstance(v, float):
        return number(v, 2)
    text = str(v)
    iso = _ISO_DATE.fullmatch(text)
    return f"{iso[3]}/{iso[2]}/{iso[1]}" if iso else text
