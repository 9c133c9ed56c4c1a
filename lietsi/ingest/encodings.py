"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC, VNI-Windows) to Unicode NFC and back.

Offices still export from old software that stored Vietnamese in TCVN 5712:1993 (ABC) or
VNI-Windows fonts; opened as Latin-1/cp1252 the text reads `NguyÔn V¨n Thµnh`. No maintained
PyPI package converts these, so the table lives here: each precomposed Vietnamese letter and its
spelling in the two legacy code pages, as laid out in the TCVN3 and VNI-Windows charts. Decoding
is longest-match first because legacy spellings of capitals are two characters (`A¸` = `Á`).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Literal

Legacy = Literal["tcvn3", "vni"]

# (Unicode NFC, VNI-Windows, TCVN3/ABC)
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("À", "AØ", "Aµ"),
    ("Á", "AÙ", "A¸"),
    ("Â", "AÂ", "¢"),
    ("Ã", "AÕ", "A·"),
    ("È", "EØ", "EÌ"),
    ("É", "EÙ", "EÐ"),
    ("Ê", "EÂ", "£"),
    ("Ì", "Ì", "I×"),
    ("Í", "Í", "IÝ"),
    ("Ò", "OØ", "Oß"),
    ("Ó", "OÙ", "Oã"),
    ("Ô", "OÂ", "¤"),
    ("Õ", "OÕ", "Oâ"),
    ("Ù", "UØ", "Uï"),
    ("Ú", "UÙ", "Uó"),
    ("Ý", "YÙ", "Yý"),
    ("à", "aø", "µ"),
    ("á", "aù", "¸"),
    ("â", "aâ", "©"),
    ("ã", "aõ", "·"),
    ("è", "eø", "Ì"),
    ("é", "eù", "Ð"),
    ("ê", "eâ", "ª"),
    ("ì", "ì", "×"),
    ("í", "í", "Ý"),
    ("ò", "oø", "ß"),
    ("ó", "où", "ã"),
    ("ô", "oâ", "«"),
    ("õ", "oõ", "â"),
    ("ù", "uø", "ï"),
    ("ú", "uù", "ó"),
    ("ý", "yù", "ý"),
    ("Ă", "AÊ", "¡"),
    ("Đ", "Ñ", "§"),
    ("Ĩ", "Ó", "IÜ"),
    ("Ũ", "UÕ", "Uò"),
    ("Ơ", "Ô", "¥"),
    ("Ư", "Ö", "¦"),
    ("ă", "aê", "¨"),
    ("đ", "ñ", "®"),
    ("ĩ", "ó", "Ü"),
    ("ũ", "uõ", "ò"),
    ("ơ", "ô", "¬"),
    ("ư", "ö", "\xad"),
    ("Ạ", "AÏ", "A¹"),
    ("Ả", "AÛ", "A¶"),
    ("Ấ", "AÁ", "¢Ê"),
    ("Ầ", "AÀ", "¢Ç"),
    ("Ẩ", "AÅ", "¢È"),
    ("Ẫ", "AÃ", "¢É"),
    ("Ậ", "AÄ", "¢Ë"),
    ("Ắ", "AÉ", "¡¾"),
    ("Ằ", "AÈ", "¡»"),
    ("Ẳ", "AÚ", "¡¼"),
    ("Ẵ", "AÜ", "¡½"),
    ("Ặ", "AË", "¡Æ"),
    ("Ẹ", "EÏ", "EÑ"),
    ("Ẻ", "EÛ", "EÎ"),
    ("Ẽ", "EÕ", "EÏ"),
    ("Ế", "EÁ", "£Õ"),
    ("Ề", "EÀ", "£Ò"),
    ("Ể", "EÅ", "£Ó"),
    ("Ễ", "EÃ", "£Ô"),
    ("Ệ", "EÄ", "£Ö"),
    ("Ỉ", "Æ", "IØ"),
    ("Ị", "Ò", "IÞ"),
    ("Ọ", "OÏ", "Oä"),
    ("Ỏ", "OÛ", "Oá"),
    ("Ố", "OÁ", "¤è"),
    ("Ồ", "OÀ", "¤å"),
    ("Ổ", "OÅ", "¤æ"),
    ("Ỗ", "OÃ", "¤ç"),
    ("Ộ", "OÄ", "¤é"),
    ("Ớ", "ÔÙ", "¥í"),
    ("Ờ", "ÔØ", "¥ê"),
    ("Ở", "ÔÛ", "¥ë"),
    ("Ỡ", "ÔÕ", "¥ì"),
    ("Ợ", "ÔÏ", "¥î"),
    ("Ụ", "UÏ", "Uô"),
    ("Ủ", "UÛ", "Uñ"),
    ("Ứ", "ÖÙ", "¦ø"),
    ("Ừ", "ÖØ", "¦õ"),
    ("Ử", "ÖÛ", "¦ö"),
    ("Ữ", "ÖÕ", "¦÷"),
    ("Ự", "ÖÏ", "¦ù"),
    ("Ỳ", "YØ", "Yú"),
    ("Ỵ", "Î", "Yþ"),
    ("Ỷ", "Ë", "Yû"),
    ("Ỹ", "Ì", "Yü"),
    ("ạ", "aï", "¹"),
    ("ả", "aû", "¶"),
    ("ấ", "aá", "Ê"),
    ("ầ", "aà", "Ç"),
    ("ẩ", "aå", "È"),
    ("ẫ", "aã", "É"),
    ("ậ", "aä", "Ë"),
    ("ắ", "aé", "¾"),
    ("ằ", "aè", "»"),
    ("ẳ", "aú", "¼"),
    ("ẵ", "aü", "½"),
    ("ặ", "aë", "Æ"),
    ("ẹ", "eï", "Ñ"),
    ("ẻ", "eû", "Î"),
    ("ẽ", "eõ", "Ï"),
    ("ế", "eá", "Õ"),
    ("ề", "eà", "Ò"),
    ("ể", "eå", "Ó"),
    ("ễ", "eã", "Ô"),
    ("ệ", "eä", "Ö"),
    ("ỉ", "æ", "Ø"),
    ("ị", "ò", "Þ"),
    ("ọ", "oï", "ä"),
    ("ỏ", "oû", "á"),
    ("ố", "oá", "è"),
    ("ồ", "oà", "å"),
    ("ổ", "oå", "æ"),
    ("ỗ", "oã", "ç"),
    ("ộ", "oä", "é"),
    ("ớ", "ôù", "í"),
    ("ờ", "ôø", "ê"),
    ("ở", "ôû", "ë"),
    ("ỡ", "ôõ", "ì"),
    ("ợ", "ôï", "î"),
    ("ụ", "uï", "ô"),
    ("ủ", "uû", "ñ"),
    ("ứ", "öù", "ø"),
    ("ừ", "öø", "õ"),
    ("ử", "öû", "ö"),
    ("ữ", "öõ", "÷"),
    ("ự", "öï", "ù"),
    ("ỳ", "yø", "ú"),
    ("ỵ", "î", "þ"),
    ("ỷ", "ë", "û"),
    ("ỹ", "ì", "ü"),
)

# VNI-Windows writes both `ì` and `ỹ` as `ì` in some charts; `ỹ` is spelled `yõ` in practice,
# so decoding keeps the letter that stands for itself.
_DECODE_PREFERENCE = {"vni": {"ì": "ì", "Ì": "Ì"}}

# TCVN3 spells its commonest letters (à á ả ã ạ ă â ê ô ơ ư đ) with bytes 0xA1–0xBE, which
# VNI-Windows never uses; VNI spells tones and hats as trailing Latin-1 letters.
_TCVN3_MARKERS = frozenset(chr(c) for c in range(0xA1, 0xBF))
_VNI_MARKERS = frozenset("ÂÃÄÅÆÊËÏÑÔÕÖØÙÛÜâãäåæêëïñôõöøùûü")


def _column(legacy: Legacy) -> int:
    return 1 if legacy == "vni" else 2


@cache
def _encode_map(legacy: Legacy) -> dict[str, str]:
    col = _column(legacy)
    return {row[0]: row[col] for row in _TABLE}


@cache
def _decode_map(legacy: Legacy) -> dict[str, str]:
    col = _column(legacy)
    out: dict[str, str] = {}
    for row in _TABLE:
        out.setdefault(row[col], row[0])
    out.update(_DECODE_PREFERENCE.get(legacy, {}))
    return out


def to_legacy(text: str, legacy: Legacy) -> str:
    """Spell Unicode text as a legacy code page would show it when read as Latin-1."""
    table = _encode_map(legacy)
    nfc = unicodedata.normalize("NFC", text)
    return "".join(table.get(ch, ch) for ch in nfc)


def from_legacy(text: str, legacy: Legacy) -> str:
    """Convert legacy-encoded text (as Latin-1 characters) to Unicode NFC, longest match first."""
    table = _decode_map(legacy)
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair in table:
            out.append(table[pair])
            i += 2
            continue
        out.append(table.get(text[i], text[i]))
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def detect_legacy(texts: list[str]) -> Legacy | None:
    """Which legacy encoding a batch of strings is in, or None when it reads as Unicode.

    Decided per file, not per cell: a single cell can be ambiguous, a column of names is not.
    Text that already holds Vietnamese letters outside Latin-1 is Unicode.
    """
    sample = "".join(t for t in texts if t)
    if not sample or any(_is_vietnamese_unicode(ch) for ch in sample):
        return None
    if any(ch in _TCVN3_MARKERS for ch in sample):
        return "tcvn3"
    if any(ch in _VNI_MARKERS for ch in sample):
        return "vni"
    return None


def unconvertible(text: str) -> str | None:
    """The first character that is not valid in Vietnamese Unicode text after conversion."""
    for ch in text:
        if ch.isprintable() or ch in "\t":
            if "\u0080" <= ch <= "\u00bf" and ch not in "°·":
                return ch
            continue
        return ch
    return None


def _is_vietnamese_unicode(ch: str) -> bool:
    return ch > "\u00ff" and unicodedata.name(ch, "").startswith("LATIN")
