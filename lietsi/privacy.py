"""Keyed hashing of direct identifiers (citizen ids, phone numbers).

Identifiers are replaced by HMAC-SHA256 at ingestion so that the warehouse can join a donor's
sample to their survey row without ever holding the number. A plain hash of a 12-digit id could be
reversed by enumeration; the key, held outside the warehouse, prevents that.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_NON_DIGIT = re.compile(r"\D")
# Digits inside a decimal (`25582.036544588085`) or after an id prefix (`TN-068328829545`, a hex id
# that happens to be all digits) are neither a citizen id nor a phone.
_NOT_AFTER = r"(?<![\w.+-])"
CITIZEN_ID = re.compile(_NOT_AFTER + r"0\d{11}(?!\w)")
# Contiguous (`0912345678`, `+84912345678`) or grouped as people write them (`0912 345 678`).
PHONE = re.compile(_NOT_AFTER + r"(?:(?:\+?84|0)\d{9,10}|0\d{2,3}[ .-]\d{3}[ .-]\d{3,4})\b")
# What redaction replaces: the two shapes above also as clerks and spreadsheets write them — 9 to 12
# digits (an old 9-digit CMND, a CCCD or phone that lost its leading zero, a letter O typed for a
# zero), digits in groups of 3-4 (`091 055 001 234`), `+84` with separators. Wider than the scan on
# purpose: hashing a harmless number in a rejected row costs little, keeping an id costs much.
IDENTIFIER_LIKE = re.compile(
    _NOT_AFTER
    + r"(?:\+?84[ .-]?\d{2,3}[ .-]?\d{3}[ .-]?\d{3,4}|\d[\dOo]{7,10}\d|\d{3,4}(?:[ .-]\d{3,4}){2,3})"
    + r"(?!\w|[.,]\d)"
)


def keyed_hash(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_citizen_id(text: str | None) -> str | None:
    """The 12-digit CCCD, or None when the text is not one.

    Spreadsheets drop the leading zero (every CCCD starts with 0), so an 11-digit number not
    starting with 0 is restored; an 11-digit number that does start with 0 lost a digit elsewhere
    and is refused. A letter O typed for a zero is read as 0; separators are removed.
    """
    if text is None:
        return None
    typed = str(text).strip().removesuffix(".0").replace("O", "0").replace("o", "0")
    digits = _NON_DIGIT.sub("", typed)
    if len(digits) == 11 and digits[0] != "0":
        digits = "0" + digits
    if len(digits) != 12 or digits[0] != "0":
        return None
    return digits


def normalise_phone(text: str | None) -> str | None:
    """A Vietnamese phone number in national form (`0912345678`), or None."""
    if text is None:
        return None
    digits = _NON_DIGIT.sub("", str(text).strip().removesuffix(".0"))
    if digits.startswith("84"):
        digits = "0" + digits[2:]
    elif len(digits) == 9:
        digits = "0" + digits
    if len(digits) not in (10, 11) or not digits.startswith("0"):
        return None
    return digits


def identifier_hash(text: str, key: bytes) -> str:
    """`hmac:<keyed hash>` of an identifier, normalised first so the same id hashes the same everywhere."""
    as_id = None if text.startswith("+") else normalise_citizen_id(text)
    value = as_id or normalise_phone(text) or _NON_DIGIT.sub("", text) or text
    return "hmac:" + keyed_hash(value, key)


def redact_identifiers(text: str, key: bytes) -> str:
    """`text` with every value that looks like a citizen id or a phone replaced by its keyed hash.

    By meaning, not by column: for rejected rows whose columns cannot be trusted (no header, shifted
    fields, a column outside the contract), file previews and messages.
    """
    return IDENTIFIER_LIKE.sub(lambda m: identifier_hash(m.group(0), key), text)


REMOVED_IDENTIFIER = "[đã xoá số định danh]"


def strip_identifiers(text: str | None) -> str | None:
    """`text` with every value that looks like a citizen id or a phone removed, not hashed: for text
    that leaves the province, where even a keyed hash is a pseudonym it has no use for."""
    return None if text is None else IDENTIFIER_LIKE.sub(REMOVED_IDENTIFIER, text)
