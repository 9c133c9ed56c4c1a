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
