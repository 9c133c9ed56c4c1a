"""Cell-level dirt at realistic rates, each injection named so the truth can list it.

Rates are per row and small enough that a careful pipeline can still link almost everything:
that is the regime real campaign data is in (most rows are fine, a few percent are not).
"""

from __future__ import annotations

import random
import unicodedata

from lietsi.synth import names

RATES = {
    "nfd": 0.015,
    "old_tone": 0.05,
    "abbreviated_name": 0.02,
    "typo": 0.015,
    "no_diacritics": 0.012,
    "northern_spelling": 0.3,  # of Huỳnh/Võ names in a record from a national-level source
    "approx_year": 0.04,
    "malformed_date": 0.005,
    "bad_citizen_id": 0.02,
    "duplicate_row": 0.005,
}


class Dirt:
    def __init__(self, rng: random.Random, scale: float = 1.0):
        self.rng = rng
        self.scale = scale

    def hit(self, kind: str) -> bool:
        return self.rng.random() < RATES[kind] * self.scale

    def name(self, name: str, kinds: list[str], allow_abbrev: bool = True) -> str:
        """Dirt a person's name: abbreviation, typo, old tone placement, lost diacritics, NFD."""
        if allow_abbrev and self.hit("abbreviated_name"):
            name = names.abbreviate(name)
            kinds.append("abbreviated_name")
        elif self.hit("typo"):
            name = names.typo(name, self.rng)
            kinds.append("typo")
        return self.text(name, kinds)

    def text(self, text: str, kinds: list[str]) -> str:
        if not text:
            return text
        if self.hit("old_tone"):
            changed = names.old_tone_placement(text)
            if changed != text:
                text = changed
                kinds.append("old_tone")
        if self.hit("no_diacritics"):
            text = names.strip_diacritics(text)
            kinds.append("no_diacritics")
        elif self.hit("nfd"):
            nfd = unicodedata.normalize("NFD", text)
            if nfd != text:
                text = nfd
                kinds.append("nfd")
        return text

    def year(self, year: int | None, kinds: list[str]) -> str:
        if year is None:
            return ""
        if self.hit("approx_year"):
            kinds.append("approx_year")
            return self.rng.choice((f"khoảng {year}", f"{year}?", f"Khoảng năm {year}"))
        return str(year)

    def date(self, text: str, kinds: list[str]) -> str:
        """A partial date as written; rarely an impossible one (`32/13/1972`)."""
        if text and self.hit("malformed_date"):
            kinds.append("malformed_date")
            year = text[-4:]
            return self.rng.choice((f"32/13/{year}", f"00/00/{year}", f"31/02/{year}", f"{year}/13"))
        return text

    def citizen_id(self, cid: str, kinds: list[str]) -> str:
        if cid and self.hit("bad_citizen_id"):
            kinds.append("bad_citizen_id")
            r = self.rng.randrange(3)
            if r == 0:
                return cid[1:]  # a spreadsheet ate the leading zero
            zeros = [i for i, ch in enumerate(cid) if ch == "0" and i > 0]
            if r == 1 and zeros:
                i = self.rng.choice(zeros)
                return cid[:i] + "O" + cid[i + 1 :]  # letter O typed for a zero
            return cid[:-1]
        return cid


def partial_date(
    rng: random.Random,
    year: int,
    month: int,
    day: int,
    p_day: float = 0.7,
    p_month: float = 0.2,
    approx: float = 0.0,
) -> str:
    """`12/03/1972`, `3/1972` or `1972` with the given shares; `khoảng`-prefixed when uncertain."""
    r = rng.random()
    if r < p_day:
        return f"{day:02d}/{month:02d}/{year}" if rng.random() < 0.85 else f"{day}/{month}/{year}"
    if r < p_day + p_month:
        return f"{month}/{year}" if rng.random() < 0.6 else f"{month:02d}/{year}"
    if approx and rng.random() < approx:
        return rng.choice((f"khoảng {year}", f"{year}?"))
    return str(year)
