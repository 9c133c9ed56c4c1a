"""Vietnamese personal names: surnames by published share, middle names, given names, aliases.

Surname shares are Lê Trung Hoa's national figures (Nguyễn 38.4%, Trần 11, Lê 9.5, Phạm 7.1,
Huỳnh/Hoàng 5.1, Phan 4.5, Vũ/Võ 3.9, Đặng 2.1, Bùi 2.0, Đỗ 1.4, Hồ 1.3, Ngô 1.3, Dương 1.0,
Lý 0.5); the remaining ~10.9% is spread over less common surnames. In the South the taboo
spellings Huỳnh (for Hoàng) and Võ (for Vũ) dominate, so which spelling a record uses depends on
the region of the office that wrote it.
"""

from __future__ import annotations

import random
import re
import unicodedata
from bisect import bisect
from itertools import accumulate

# (surname, share %) — Huỳnh/Hoàng and Vũ/Võ are one lineage name each, spelt by region.
SURNAME_SHARES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.4),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.1),
    ("Huỳnh", 5.1),
    ("Phan", 4.5),
    ("Võ", 3.9),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
)
_RARE_SURNAMES = (
    "Đinh",
    "Trương",
    "Lâm",
    "Mai",
    "Cao",
    "Tô",
    "Lương",
    "Đoàn",
    "Hà",
    "Thái",
    "La",
    "Châu",
    "Tạ",
    "Kiều",
    "Quách",
    "Lưu",
    "Triệu",
    "Từ",
    "Văn",
    "Trịnh",
    "Thạch",
    "Danh",
    "Kha",
    "Tăng",
)
# Southern spelling → Northern spelling of the same surname.
SOUTH_TO_NORTH = {"Huỳnh": "Hoàng", "Võ": "Vũ"}
NORTH_TO_SOUTH = {v: k for k, v in SOUTH_TO_NORTH.items()}

_MALE_MIDDLE = (
    ("Văn", 60),
    ("Hữu", 6),
    ("Minh", 5),
    ("Công", 4),
    ("Thanh", 4),
    ("Đức", 3),
    ("Quốc", 3),
    ("Ngọc", 3),
    ("Tấn", 3),
    ("Phước", 2),
    ("Xuân", 2),
    ("Thành", 2),
    ("Chí", 2),
    ("Hoàng", 1),
    ("", 0),
)
_FEMALE_MIDDLE = (
    ("Thị", 80),
    ("Ngọc", 5),
    ("Kim", 4),
    ("Thu", 3),
    ("Thanh", 3),
    ("Hồng", 2),
    ("Mỹ", 2),
    ("Bích", 1),
)
_MALE_GIVEN = (
    "Thành",
    "Hùng",
    "Dũng",
    "Minh",
    "Hải",
    "Sơn",
    "Tâm",
    "Phúc",
    "Hòa",
    "Bình",
    "An",
    "Lộc",
    "Tài",
    "Trung",
    "Nghĩa",
    "Hiếu",
    "Thắng",
    "Lợi",
    "Long",
    "Quang",
    "Tuấn",
    "Cường",
    "Khánh",
    "Tùng",
    "Phong",
    "Hưng",
    "Toàn",
    "Vinh",
    "Hậu",
    "Đức",
    "Chiến",
    "Công",
    "Thuận",
    "Được",
    "Mười",
    "Sáu",
    "Bé",
    "Tư",
    "Năm",
    "Thọ",
    "Phước",
    "Tín",
    "Nhân",
    "Lễ",
    "Trí",
    "Mến",
    "Ẩn",
    "Kiệt",
    "Dân",
    "Hoàng",
    "Khải",
    "Tấn",
    "Triều",
    "Rạng",
    "Chánh",
    "Xuân",
    "Hổ",
    "Út",
    "Lực",
    "Thủy",
    "Huy",
    "Lâm",
    "Sang",
    "Quý",
    "Hòa",
    "Thoại",
    "Vũ",
    "Khoa",
    "Nhật",
)
_FEMALE_GIVEN = (
    "Lan",
    "Hoa",
    "Mai",
    "Cúc",
    "Hồng",
    "Hương",
    "Thủy",
    "Nga",
    "Hạnh",
    "Tuyết",
    "Liên",
    "Hòa",
    "Lành",
    "Nhung",
    "Loan",
    "Phượng",
    "Thu",
    "Xuân",
    "Yến",
    "Lệ",
    "Bông",
    "Sen",
    "Đào",
    "Lý",
    "Ngọc",
    "Hiền",
    "Thảo",
    "Trinh",
    "Út",
    "Bé",
    "Ba",
    "Tư",
    "Năm",
    "Sáu",
    "Bảy",
    "Tám",
    "Chín",
    "Mười",
    "Hai",
    "Dung",
    "Vân",
    "Châu",
    "Nguyệt",
    "Thoa",
    "Thắm",
    "Diệu",
    "Em",
    "Kim",
    "Huệ",
    "Quyên",
    "Trang",
    "Uyên",
    "Oanh",
    "Nhàn",
    "Tươi",
    "Thúy",
    "Huyền",
    "Hằng",
    "Gấm",
)
# Southern birth-order names: the eldest child is Hai ("second"), the parents being "first".
BIRTH_ORDER = ("Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười")
_NOMS_DE_GUERRE = (
    "Sơn",
    "Hải",
    "Quyết",
    "Thắng",
    "Chiến",
    "Tiến",
    "Dũng",
    "Hồng",
    "Trung",
    "Kiên",
    "Cường",
    "Minh",
    "Tâm",
    "Lửa",
    "Thép",
    "Ba Rạng",
    "Sáu Dân",
    "Mười Cà Mau",
    "Tư Sang",
    "Hai Lúa",
)


class Picker:
    """Weighted draws with a fixed order (cumulative weights, bisect)."""

    def __init__(self, items: list[tuple[str, float]] | tuple[tuple[str, float], ...]):
        self.values = [v for v, _ in items]
        self.cum = list(accumulate(w for _, w in items))

    def __call__(self, rng: random.Random) -> str:
        return self.values[bisect(self.cum, rng.random() * self.cum[-1])]


_SURNAME = Picker(
    [
        *SURNAME_SHARES,
        *((s, (100 - sum(w for _, w in SURNAME_SHARES)) / len(_RARE_SURNAMES)) for s in _RARE_SURNAMES),
    ]
)
_MIDDLE = {"Nam": Picker(_MALE_MIDDLE), "Nữ": Picker(_FEMALE_MIDDLE)}


def surname(rng: random.Random) -> str:
    return _SURNAME(rng)


def full_name(rng: random.Random, sex: str, family_name: str | None = None) -> str:
    family = family_name or surname(rng)
    middle = _MIDDLE[sex](rng)
    given = rng.choice(_MALE_GIVEN if sex == "Nam" else _FEMALE_GIVEN)
    if sex == "Nam" and middle == "Văn" and rng.random() < 0.08:
        middle = ""
    return " ".join(p for p in (family, middle, given) if p)


def given_name(name: str) -> str:
    return name.split()[-1]


def birth_order_alias(order: int, is_youngest: bool, name: str) -> str:
    """`Tư Thành` for the third child; the youngest of several is often `Út`."""
    word = "Út" if is_youngest and order >= 2 else BIRTH_ORDER[min(order, len(BIRTH_ORDER) - 1)]
    return f"{word} {given_name(name)}"


def nom_de_guerre(rng: random.Random) -> str:
    return rng.choice(_NOMS_DE_GUERRE)


def northern_spelling(name: str) -> str:
    parts = name.split()
    parts[0] = SOUTH_TO_NORTH.get(parts[0], parts[0])
    return " ".join(parts)


def abbreviate(name: str) -> str:
    """`Nguyễn Văn Thành` → `Ng. V. Thành` (clerks shorten surname and middle names)."""
    parts = name.split()
    if len(parts) < 2:
        return name
    head = [("Ng." if p == "Nguyễn" else p[0] + ".") for p in parts[:-1]]
    return " ".join([*head, parts[-1]])


def strip_diacritics(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in nfd if not unicodedata.combining(ch))


_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OLD_TONE = re.compile(
    rf"([oO])([{_TONES}])([aAeE])(?![^\W\d_]|[\u0300-\u036f])|([uU])([{_TONES}])([yY])(?![^\W\d_]|[\u0300-\u036f])"
)


def old_tone_placement(text: str) -> str:
    """`Hòa` → `Hoà`, `Thủy` → `Thuỷ`: the tone on the last vowel of open oa/oe/uy syllables."""
    nfd = unicodedata.normalize("NFD", text)
    out = _OLD_TONE.sub(lambda m: (m[1] + m[3] + m[2]) if m[1] else (m[4] + m[6] + m[5]), nfd)
    return unicodedata.normalize("NFC", out)


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: a dropped, doubled or swapped letter inside a word."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    j = i + 1 if i + 1 < len(text) and text[i + 1].isalpha() else i - 1
    a, b = sorted((i, j))
    return text[:a] + text[b] + text[a] + text[b + 1 :]
