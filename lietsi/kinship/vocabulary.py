"""The kinship vocabulary of the forms: kin terms and the paths they name, modifiers, and the
words of the grammar, with the vocabulary looked up by its ASCII form.
"""

from __future__ import annotations

from functools import lru_cache

from unidecode import unidecode

from lietsi.kinship.kin_paths import Kind, Sex, Step

# Phrase kinds of the grammar.
HEAD, SEX, BLOOD, NOT_BLOOD, VAGUE, INLAW, AUNT_CHILD = (
    "head",
    "sex",
    "blood",
    "not_blood",
    "vague",
    "inlaw",
    "aunt",
)


SAME, DIFFERENT, ORDINAL, FILLER, OF, CALL, IS, SUBJECT = (
    "same",
    "different",
    "ordinal",
    "filler",
    "of",
    "call",
    "is",
    "subject",
)


def parent_step(sex: Sex | None, term: str) -> Step:
    return Step(Kind.PARENT, sex, term=term)


def child_step(sex: Sex | None, term: str) -> Step:
    return Step(Kind.CHILD, sex, term=term)


def sibling_step(sex: Sex | None, term: str) -> Step:
    return Step(Kind.SIBLING, sex, term=term)


def spouse_step(sex: Sex | None, term: str) -> Step:
    return Step(Kind.SPOUSE, sex, term=term)


MOTHER_WORDS = ("mẹ", "má", "mạ", "u", "bầm", "bu")


FATHER_WORDS = ("cha", "bố", "ba", "tía")


def _heads() -> dict[tuple[str, ...], tuple[tuple[Step, ...], ...]]:
    """Kin terms → the readings of their path from the speaker (the martyr)."""
    h: dict[str, tuple[tuple[Step, ...], ...]] = {}
    for w in MOTHER_WORDS:
        h[w] = ((parent_step("F", w),),)
    for w in FATHER_WORDS:
        h[w] = ((parent_step("M", w),),)
    h["ông nội"] = ((parent_step("M", "ông nội"), parent_step("M", "ông nội")),)
    h["bà nội"] = ((parent_step("M", "bà nội"), parent_step("F", "bà nội")),)
    h["ông ngoại"] = ((parent_step("F", "ông ngoại"), parent_step("M", "ông ngoại")),)
    h["bà ngoại"] = ((parent_step("F", "bà ngoại"), parent_step("F", "bà ngoại")),)
    h["ông"] = ((parent_step(None, "ông"), parent_step("M", "ông")),)
    h["bà"] = ((parent_step(None, "bà"), parent_step("F", "bà")),)
    h["anh"] = ((sibling_step("M", "anh"),),)
    h["chị"] = ((sibling_step("F", "chị"),),)
    h["em"] = ((sibling_step(None, "em"),),)
    h["anh em"] = h["chị em"] = ((sibling_step(None, "anh em"),),)
    h["con"] = ((child_step(None, "con"),),)
    # `cháu` alone is a niece/nephew or a grandchild; `nội`/`ngoại` say through a son/daughter.
    h["cháu"] = (
        (sibling_step(None, "cháu"), child_step(None, "cháu")),
        (child_step(None, "cháu"), child_step(None, "cháu")),
    )
    h["cháu nội"] = ((child_step("M", "cháu nội"), child_step(None, "cháu nội")),)
    h["cháu ngoại"] = ((child_step("F", "cháu ngoại"), child_step(None, "cháu ngoại")),)
    h["chắt"] = ((child_step(None, "chắt"), child_step(None, "chắt"), child_step(None, "chắt")),)
    # Aunts and uncles. `dì` is any sister of the mother (in the North the younger one; in the
    # South, and on most forms, any); `bác` is an elder sibling of either parent in the North and
    # the father's elder brother in the South, so its side is unknown.
    h["cậu"] = ((parent_step("F", "cậu"), sibling_step("M", "cậu")),)
    h["dì"] = ((parent_step("F", "dì"), sibling_step("F", "dì")),)
    h["chú"] = ((parent_step("M", "chú"), sibling_step("M", "chú")),)
    h["cô"] = h["o"] = ((parent_step("M", "cô"), sibling_step("F", "cô")),)
    h["bác"] = ((parent_step(None, "bác"), sibling_step(None, "bác")),)
    h["mợ"] = ((parent_step("F", "mợ"), sibling_step("M", "mợ"), spouse_step("F", "mợ")),)
    h["thím"] = ((parent_step("M", "thím"), sibling_step("M", "thím"), spouse_step("F", "thím")),)
    h["dượng"] = ((parent_step(None, "dượng"), sibling_step("F", "dượng"), spouse_step("M", "dượng")),)
    h["vợ"] = ((spouse_step("F", "vợ"),),)
    h["chồng"] = ((spouse_step("M", "chồng"),),)
    return {tuple(k.split()): v for k, v in h.items()}


_VAGUE_HEADS = {
    "họ hàng": "'họ hàng' (kin) does not say how the relative is related",
    "bà con": "'bà con' (kin) does not say how the relative is related",
    "người thân": "'người thân' (kin) does not say how the relative is related",
    "thân nhân": "'thân nhân' (kin) does not say how the relative is related",
}


PHRASES: dict[tuple[str, ...], tuple[str, object]] = {
    **{k: (HEAD, v) for k, v in _heads().items()},
    **{tuple(k.split()): (VAGUE, v) for k, v in _VAGUE_HEADS.items()},
    ("trai",): (SEX, "M"),
    ("gái",): (SEX, "F"),
    ("ruột",): (BLOOD, None),
    ("đẻ",): (BLOOD, None),
    ("ruột", "thịt"): (BLOOD, None),
    ("sinh", "đôi"): (BLOOD, None),
    ("song", "sinh"): (BLOOD, None),
    ("nuôi",): (NOT_BLOOD, "adoptive"),
    ("kế",): (NOT_BLOOD, "step"),
    ("ghẻ",): (NOT_BLOOD, "step"),
    ("họ",): (VAGUE, "'họ' (extended family) does not say on which side or how far"),
    ("dâu",): (INLAW, "F"),
    # `anh em bạn dì`: cousins whose mothers are sisters.
    ("bạn", "dì"): (AUNT_CHILD, None),
    ("rể",): (INLAW, "M"),
    ("cùng",): (SAME, None),
    ("khác",): (DIFFERENT, None),
    **{
        (w,): (ORDINAL, None)
        for w in (
            "cả",
            "hai",
            "tư",
            "năm",
            "sáu",
            "bảy",
            "tám",
            "chín",
            "mười",
            "út",
            "lớn",
            "nhỏ",
            "đầu",
            "thứ",
        )
    },
    ("liệt", "sĩ"): (SUBJECT, None),
    ("ls",): (SUBJECT, None),
    ("đồng", "chí"): (FILLER, None),
    ("của",): (OF, None),
    ("gọi", "bằng"): (CALL, None),
    ("gọi", "là"): (CALL, None),
    ("gọi",): (CALL, None),
    ("bằng",): (FILLER, None),
    ("là",): (IS, None),
    ("một",): (FILLER, None),
}


# Birth-order words that are also kin terms (`ba` father, `năm`…) read as ordinals after a
# sibling, aunt or uncle (`anh Ba`, `dì Năm`, `chị Hai`).
ORDINAL_AFTER = frozenset({"anh", "chị", "em", "cậu", "dì", "chú", "cô", "bác", "o", "mợ", "thím", "dượng"})


ORDINAL_WORDS = frozenset({"ba", *(k[0] for k, v in PHRASES.items() if v[0] == ORDINAL)})


VOCABULARY: frozenset[str] = frozenset({w for k in PHRASES for w in k} | {"ba"})


def ascii_word(word: str) -> str:
    return unidecode(word).lower()


@lru_cache(maxsize=1)
def vocabulary_by_ascii() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for w in sorted(VOCABULARY):
        out.setdefault(ascii_word(w), []).append(w)
    return {k: tuple(v) for k, v in out.items()}
