"""Military units as clerks wrote them, read as the formation whose losses say where it fought.

A martyr's unit reaches us as the register wrote it (`Đại đội 1, Tiểu đoàn 2, Trung đoàn 3, Sư đoàn
9`), as a clerk abbreviated it (`C1 D2 E3 F9`, `D309`, `H.đội Hà Tiên`) or as a family remembered it
(`sư đoàn 9`, `f9`). Where a unit lost its men is counted per formation, so every way of writing one
must give one key. The key is the largest formation the text names (division, then brigade, regiment,
battalion, company; a local unit by its commune or district): its companies and battalions fought where
it fought, and a larger formation has more recorded deaths to count. The abbreviations are the army's
own (C đại đội, D tiểu đoàn, E trung đoàn, F sư đoàn).
"""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

from lietsi.names import normalise_text

# (label, ascii spellings of the word) from the largest formation down.
_LEVELS = (
    ("Sư đoàn", r"su doan|sd|f"),
    ("Lữ đoàn", r"lu doan|ld"),
    ("Trung đoàn", r"trung doan|e"),
    ("Tiểu đoàn", r"tieu doan|td|d"),
    ("Đại đội", r"dai doi|dd|c"),
)
_NUMBERED = {
    label: re.compile(rf"(?<![a-z0-9])(?:{words})\s*\.?\s*(\d{{1,4}})(?![0-9])") for label, words in _LEVELS
}
_LOCAL = (
    ("Du kích xã", re.compile(r"^(?:du\s*kich|dk)\s*\.?\s*(?:xa|x\.)\s*", re.IGNORECASE)),
    ("Huyện đội", re.compile(r"^(?:huyen\s*doi|h\s*\.?\s*doi)\s+", re.IGNORECASE)),
)
MAX_CHARS = 200  # a unit is a few words; longer text is not read as one


@lru_cache(maxsize=65536)
def formation(text: str | None) -> str | None:
    """The largest formation `text` names, as one canonical label (`D309` and `Tiểu đoàn 309` give
    `Tiểu đoàn 309`; `C1 D2 E3 F9` gives `Sư đoàn 9`); a text naming none comes back as
    `names.normalise_text` writes it, so two spellings of an unknown unit still meet when they differ
    only in spacing, case or tone placement."""
    if not text:
        return None
    tidy = " ".join(normalise_text(text[:MAX_CHARS]).split())
    if not tidy:
        return None
    folded = unidecode(tidy).lower()
    for label, pattern in _NUMBERED.items():
        found = pattern.search(folded)
        if found:
            return f"{label} {int(found.group(1))}"
    for label, pattern in _LOCAL:
        found = pattern.match(folded)
        if found:
            # unidecode maps one character to one or more: the place name is cut from the original
            # text where its folded form begins.
            rest = folded[found.end() :]
            start = next((i for i in range(len(tidy)) if unidecode(tidy[i:]).lower() == rest), None)
            if start is not None and rest:
                return f"{label} {tidy[start:]}"
    return tidy
