"""Text keys: folded words, village and name keys, form-number order and stable site ids.

Names and places are normalised by `lietsi.names` / `lietsi.places`; these keys compare what
households and districts write.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from unidecode import unidecode

from lietsi.names import normalise_text
from lietsi.places import place_key

_WORD = re.compile(r"[a-z0-9]+")
# Village types `places.place_key` leaves in (it drops thôn, ấp, xóm and the commune types).
_VILLAGE_PREFIXES = (
    ("to", "dan", "pho"),
    ("khu", "pho"),
    ("buon",),
    ("bon",),
    ("ban",),
    ("lang",),
    ("tdp",),
    ("kp",),
    ("tt",),
    ("tx",),
    ("tp",),
)
_NAME_TITLES = frozenset({"liet", "si", "ls", "anh", "chu", "ong", "bac", "co", "ba", "chi", "em"})


def fold(text: str | None) -> str:
    """Lower-case ASCII words of a Vietnamese text: tone placement, NFD/NFC and `Đ`/`Ð` vanish."""
    if not text:
        return ""
    return " ".join(_WORD.findall(unidecode(normalise_text(str(text))).lower()))


# Village tuples ask for the same few hundred texts tens of thousands of times.
@lru_cache(maxsize=100_000)
def village_key(text: str | None) -> str:
    """Comparable village/commune name: `Thôn 03` = `thon 3` = `3`, `TDP 5` = `Tổ dân phố 5` = `5`."""
    words = [(w.lstrip("0") or "0") if w.isdigit() else w for w in place_key(text).split()]
    for prefix in _VILLAGE_PREFIXES:
        if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
            words = words[len(prefix) :]
            break
    return " ".join(words)


def clean_reported_name(text: str | None) -> str:
    """A martyr's name as a household wrote it, without titles (`liệt sĩ`, `anh`, `chú`, `ông`)."""
    if not text or not str(text).strip():
        return ""
    words = normalise_text(str(text)).split()
    while len(words) > 2 and fold(words[0]) in _NAME_TITLES:
        words = words[1:]
    return " ".join(words)


def natural_key(form_no: str) -> tuple:
    """Order form numbers as people do: `HGD-9` before `HGD-10`."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", form_no))


def site_id_for(smallest_form_no: str) -> str:
    """Stable id of a site: a hash of its smallest member form number (re-runs give the same id)."""
    digest = hashlib.sha1(smallest_form_no.strip().upper().encode("utf-8")).hexdigest()
    return f"site_{digest[:12]}"


def village_tuple(row: dict) -> tuple[str, str, str, str]:
    return (
        village_key(row.get("province")),
        village_key(row.get("district")),
        village_key(row.get("commune")),
        village_key(row.get("village")),
    )
