"""Kinship text of the survey forms → kin path → does the relative share the martyr's mtDNA?

Form 02 (and the allowance recipient of form 01) states how a relative is related to the martyr in
free Vietnamese, as a commune officer writes it: `mẹ`, `em gái ruột`, `anh cùng mẹ khác cha`,
`con gái của chị gái`, `cháu (con của em trai)`, `cháu gọi bằng cậu`, `dì ruột`, `con của dì`.

The text is read by a small grammar, not a table of phrases:

- *tokens*: words are normalised (NFC, one tone placement, lower case) and matched to the
  kinship vocabulary exactly; a word written without diacritics or with a typo is matched on its
  ASCII form (unidecode) and, failing that, by edit distance (rapidfuzz); a word that could be
  two vocabulary words (`ba`: father, or `bà`: grandmother) keeps both and the text is read both
  ways;
- *noun phrases*: a kin term (`mẹ`, `chị`, `con`, `cậu`, `bà ngoại` …) followed by modifiers
  (`gái`/`trai` sex, `ruột` full blood, `cùng mẹ khác cha` half-sibling clause, `nuôi`/`kế`
  not by blood, `dâu`/`rể` in-law, `họ` extended family, birth-order words `hai`, `út` …);
- *composition*: `A của B` (or `A B`) is A of B, so the path runs B's steps then A's;
- *inversion*: `cháu gọi (liệt sĩ) bằng cậu` says the martyr is the relative's cậu; the path
  from the martyr is the inverse of the cậu path;
- *apposition*: `cháu (con của em trai)`, `cháu - con của em trai`: each part is read alone and
  the readings are unified, the specific one refining the generic one.

A kin path is a sequence of steps from the martyr to the relative: parent, child, sibling (full,
same mother, same father, or not stated) or spouse, each with the sex of the person reached when
the text gives it. mtDNA passes from a woman to her children only, so the relative shares the
martyr's mtDNA when every step passes it: a parent step reaches a mother, a child step leaves a
woman, a sibling step is not same-father-only, no spouse and no adoptive or step relation. One
step that cannot pass it decides "no"; a step whose sex or side is not stated leaves the answer
open (`None`, with the reason), and so does a text with two readings that disagree. Nothing is
guessed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import OSA
from unidecode import unidecode

from lietsi.names import normalise_text

Sex = Literal["M", "F"]


class Kind(StrEnum):
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    SPOUSE = "spouse"


class Half(StrEnum):
    FULL = "full"
    SAME_MOTHER = "same_mother"
    SAME_FATHER = "same_father"


_INVERSE = {
    Kind.PARENT: Kind.CHILD,
    Kind.CHILD: Kind.PARENT,
    Kind.SIBLING: Kind.SIBLING,
    Kind.SPOUSE: Kind.SPOUSE,
}


@dataclass(frozen=True)
class Step:
    """One step of a kin path; `sex` is the sex of the person the step reaches.

    `half` is None for a sibling whose kind of siblinghood the text does not state (read as full
    siblings, the meaning of a plain `anh`/`chị`/`em` on a form); `by_blood` is False for
    adoptive and step relations (`nuôi`, `kế`, `ghẻ`). `term` is the word the step came from,
    used to explain an undecided answer.
    """

    kind: Kind
    sex: Sex | None = None
    half: Half | None = None
    by_blood: bool = True
    term: str = field(default="", compare=False)


@dataclass(frozen=True)
class Path:
    """Steps from the martyr to the relative.

    `martyr_sex` is the martyr's sex when the text implies it (`vợ`: a male martyr; `cháu gọi
    bằng cô`: a female one); `vague` explains why the text does not say which line the relative
    is on (`anh họ`: a cousin on some side).
    """

    steps: tuple[Step, ...]
    martyr_sex: Sex | None = None
    vague: str | None = field(default=None, compare=False)

    @property
    def relative_sex(self) -> Sex | None:
        return self.steps[-1].sex if self.steps else None


@dataclass(frozen=True)
class Kinship:
    """The readings of one kinship text; `error` says why the text could not be read."""

    text: str
    readings: tuple[Path, ...] = ()
    error: str | None = None
    corrections: tuple[str, ...] = ()

    @property
    def parsed(self) -> bool:
        return bool(self.readings)

    @property
    def relative_sex(self) -> Sex | None:
        sexes = {p.relative_sex for p in self.readings}
        return sexes.pop() if len(sexes) == 1 else None

    @property
    def kin_path(self) -> str | None:
        return " | ".join(format_path(p) for p in self.readings) if self.readings else None


@dataclass(frozen=True)
class Decision:
    """Whether the relative shares the martyr's mtDNA; `reason` says why it is undecided."""

    shares: bool | None
    reason: str | None = None
    martyr_sex_needed: bool = False


# --- vocabulary ------------------------------------------------------------------------------

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


def _up(sex: Sex | None, term: str) -> Step:
    return Step(Kind.PARENT, sex, term=term)


def _down(sex: Sex | None, term: str) -> Step:
    return Step(Kind.CHILD, sex, term=term)


def _sib(sex: Sex | None, term: str) -> Step:
    return Step(Kind.SIBLING, sex, term=term)


def _wed(sex: Sex | None, term: str) -> Step:
    return Step(Kind.SPOUSE, sex, term=term)


_MOTHER_WORDS = ("mẹ", "má", "mạ", "u", "bầm", "bu")
_FATHER_WORDS = ("cha", "bố", "ba", "tía")


def _heads() -> dict[tuple[str, ...], tuple[tuple[Step, ...], ...]]:
    """Kin terms → the readings of their path from the speaker (the martyr)."""
    h: dict[str, tuple[tuple[Step, ...], ...]] = {}
    for w in _MOTHER_WORDS:
        h[w] = ((_up("F", w),),)
    for w in _FATHER_WORDS:
        h[w] = ((_up("M", w),),)
    h["ông nội"] = ((_up("M", "ông nội"), _up("M", "ông nội")),)
    h["bà nội"] = ((_up("M", "bà nội"), _up("F", "bà nội")),)
    h["ông ngoại"] = ((_up("F", "ông ngoại"), _up("M", "ông ngoại")),)
    h["bà ngoại"] = ((_up("F", "bà ngoại"), _up("F", "bà ngoại")),)
    h["ông"] = ((_up(None, "ông"), _up("M", "ông")),)
    h["bà"] = ((_up(None, "bà"), _up("F", "bà")),)
    h["anh"] = ((_sib("M", "anh"),),)
    h["chị"] = ((_sib("F", "chị"),),)
    h["em"] = ((_sib(None, "em"),),)
    h["anh em"] = h["chị em"] = ((_sib(None, "anh em"),),)
    h["con"] = ((_down(None, "con"),),)
    # `cháu` alone is a niece/nephew or a grandchild; `nội`/`ngoại` say through a son/daughter.
    h["cháu"] = ((_sib(None, "cháu"), _down(None, "cháu")), (_down(None, "cháu"), _down(None, "cháu")))
    h["cháu nội"] = ((_down("M", "cháu nội"), _down(None, "cháu nội")),)
    h["cháu ngoại"] = ((_down("F", "cháu ngoại"), _down(None, "cháu ngoại")),)
    h["chắt"] = ((_down(None, "chắt"), _down(None, "chắt"), _down(None, "chắt")),)
    # Aunts and uncles. `dì` is any sister of the mother (in the North the younger one; in the
    # South, and on most forms, any); `bác` is an elder sibling of either parent in the North and
    # the father's elder brother in the South, so its side is unknown.
    h["cậu"] = ((_up("F", "cậu"), _sib("M", "cậu")),)
    h["dì"] = ((_up("F", "dì"), _sib("F", "dì")),)
    h["chú"] = ((_up("M", "chú"), _sib("M", "chú")),)
    h["cô"] = h["o"] = ((_up("M", "cô"), _sib("F", "cô")),)
    h["bác"] = ((_up(None, "bác"), _sib(None, "bác")),)
    h["mợ"] = ((_up("F", "mợ"), _sib("M", "mợ"), _wed("F", "mợ")),)
    h["thím"] = ((_up("M", "thím"), _sib("M", "thím"), _wed("F", "thím")),)
    h["dượng"] = ((_up(None, "dượng"), _sib("F", "dượng"), _wed("M", "dượng")),)
    h["vợ"] = ((_wed("F", "vợ"),),)
    h["chồng"] = ((_wed("M", "chồng"),),)
    return {tuple(k.split()): v for k, v in h.items()}


_VAGUE_HEADS = {
    "họ hàng": "'họ hàng' (kin) does not say how the relative is related",
    "bà con": "'bà con' (kin) does not say how the relative is related",
    "người thân": "'người thân' (kin) does not say how the relative is related",
    "thân nhân": "'thân nhân' (kin) does not say how the relative is related",
}

_PHRASES: dict[tuple[str, ...], tuple[str, object]] = {
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
_ORDINAL_AFTER = frozenset({"anh", "chị", "em", "cậu", "dì", "chú", "cô", "bác", "o", "mợ", "thím", "dượng"})
_ORDINAL_WORDS = frozenset({"ba", *(k[0] for k, v in _PHRASES.items() if v[0] == ORDINAL)})

VOCABULARY: frozenset[str] = frozenset({w for k in _PHRASES for w in k} | {"ba"})


def _ascii(word: str) -> str:
    return unidecode(word).lower()


@lru_cache(maxsize=1)
def _by_ascii() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for w in sorted(VOCABULARY):
        out.setdefault(_ascii(w), []).append(w)
    return {k: tuple(v) for k, v in out.items()}


# --- tokens ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_SEGMENT_SPLIT = re.compile(r"[()\[\],;:]|\s[-–]\s|\s[-–]|[-–]\s")
_DOTTED = re.compile(r"\bl\s*[./]\s*s\b\.?", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _candidates(token: str, stripped: bool = False) -> tuple[tuple[str, ...], ...] | None:
    """Vocabulary readings of one written token, each a tuple of words (a run-together token
    such as `emgái` reads as two words); None when the token is not kinship vocabulary.

    In a text whose diacritics were dropped (`stripped`) a word is any vocabulary word with its
    letters (`ba`: `ba` father or `bà` grandmother); otherwise a vocabulary word is taken as
    written.
    """
    if token.isdigit():
        return (("thứ",),)
    if token in VOCABULARY and not stripped:
        return ((token,),)
    key = _ascii(token)
    table = _by_ascii()
    if key in table:
        return tuple((w,) for w in table[key])
    if len(key) >= 4:
        limit = 1 if len(key) < 7 else 2
        scored = sorted((OSA.distance(key, k), k) for k in table if abs(len(k) - len(key)) <= limit)
        if scored and scored[0][0] <= limit and (len(scored) == 1 or scored[1][0] > scored[0][0]):
            return tuple((w,) for w in table[scored[0][1]])
    for cut in range(1, len(key)):
        left, right = key[:cut], key[cut:]
        if left in table and right in table:
            return tuple(itertools.product(table[left], table[right]))
    return None


def _segments(text: str) -> list[list[str]]:
    s = _DOTTED.sub(" ls ", normalise_text(text).lower())
    return [words for part in _SEGMENT_SPLIT.split(s) if (words := _WORD.findall(part))]


# --- grammar ---------------------------------------------------------------------------------


class _Unreadable(ValueError):
    pass


@dataclass
class _Phrase:
    """A noun phrase: a kin term and the modifiers written after it."""

    readings: tuple[tuple[Step, ...], ...]
    head: str
    sex: Sex | None = None
    blood: bool = False
    not_blood: str | None = None
    vague: str | None = None
    inlaw: Sex | None = None
    aunt_child: bool = False
    mother_shared: bool | None = None
    father_shared: bool | None = None

    def half(self) -> Half | None:
        m, f = self.mother_shared, self.father_shared
        if m is False and f is False:
            raise _Unreadable(f"'{self.head}': neither parent in common is not a sibling")
        if m and f:
            return Half.FULL
        if m or f is False:
            return Half.SAME_MOTHER
        if f or m is False:
            return Half.SAME_FATHER
        return Half.FULL if self.blood else None

    def steps(self) -> tuple[tuple[Step, ...], ...]:
        half = self.half()
        explicit = self.mother_shared is not None or self.father_shared is not None
        out = []
        for reading in self.readings:
            if not reading:
                out.append(reading)
                continue
            *before, last = reading
            if self.aunt_child:
                if last.kind is not Kind.SIBLING or before:
                    raise _Unreadable(f"'bạn dì' after '{self.head}', which is not a sibling")
                before = [_up("F", "bạn dì"), _sib("F", "bạn dì")]
                last = _down(last.sex, self.head + " bạn dì")
            if last.kind is not Kind.SIBLING:
                if explicit:
                    raise _Unreadable(f"'cùng/khác' clause after '{self.head}', which is not a sibling")
                half = None
            if self.sex and last.sex and self.sex != last.sex and not self.inlaw:
                raise _Unreadable(f"'{self.head}' cannot be {'gái' if self.sex == 'F' else 'trai'}")
            if self.inlaw:
                # `chị dâu`, `anh rể`: the spouse of a blood relative of the other sex.
                blood_sex: Sex = "M" if self.inlaw == "F" else "F"
                word = self.head + (" dâu" if self.inlaw == "F" else " rể")
                tail: tuple[Step, ...] = (
                    replace(last, sex=blood_sex, half=half or last.half),
                    _wed(self.inlaw, word),
                )
            else:
                tail = (
                    replace(
                        last,
                        sex=self.sex or last.sex,
                        half=half or last.half,
                        by_blood=self.not_blood is None,
                    ),
                )
            out.append((*before, *tail))
        return tuple(out)


def _apply(phrase: _Phrase, kind: str, value: object) -> None:
    if kind == SEX:
        phrase.sex = value  # type: ignore[assignment]
    elif kind == BLOOD:
        phrase.blood = True
    elif kind == NOT_BLOOD:
        phrase.not_blood = str(value)
    elif kind == VAGUE:
        phrase.vague = str(value)
    elif kind == INLAW:
        phrase.inlaw = value  # type: ignore[assignment]
    elif kind == AUNT_CHILD:
        phrase.aunt_child = True


def _shared(current: bool | None, value: bool, phrase: _Phrase) -> bool:
    if current is not None and current != value:
        raise _Unreadable(f"'{phrase.head}': one parent is said to be both shared and not shared")
    return value


def _read_parent_clause(words: list[str], i: int, same: bool, phrase: _Phrase) -> int:
    """`cùng mẹ`, `khác cha`, `cùng cha mẹ`, `cùng một mẹ`: which parent the siblings share."""
    j = i
    while j < len(words) and words[j] == "một":
        j += 1
    start = j
    while j < len(words) and (words[j] in _MOTHER_WORDS or words[j] in _FATHER_WORDS):
        if words[j] in _MOTHER_WORDS:
            phrase.mother_shared = _shared(phrase.mother_shared, same, phrase)
        else:
            phrase.father_shared = _shared(phrase.father_shared, same, phrase)
        j += 1
    if j == start:
        raise _Unreadable(f"'{'cùng' if same else 'khác'}' without mẹ/cha")
    return j


def _match(words: list[str], i: int) -> tuple[int, str, object]:
    for n in (3, 2, 1):
        key = tuple(words[i : i + n])
        if len(key) == n and key in _PHRASES:
            kind, value = _PHRASES[key]
            return n, kind, value
    raise _Unreadable(f"'{words[i]}' is not a kin term here")


def _compose(phrases: list[_Phrase]) -> tuple[Path, ...]:
    """`A của B của C`: the path runs through C, then B, then A."""
    per_phrase = [p.steps() for p in reversed(phrases)]
    vague = next((p.vague for p in phrases if p.vague), None)
    paths = []
    for combo in itertools.product(*per_phrase):
        steps = tuple(s for part in combo for s in part)
        paths.append(_implied_sexes(Path(steps, vague=vague)))
    return tuple(dict.fromkeys(paths))


def _implied_sexes(path: Path) -> Path:
    """A spouse step says the person before it is of the other sex (`vợ`: a male martyr)."""
    steps = list(path.steps)
    martyr_sex = path.martyr_sex
    for i, step in enumerate(steps):
        if step.kind is Kind.SPOUSE and step.sex:
            other: Sex = "M" if step.sex == "F" else "F"
            if i == 0:
                martyr_sex = martyr_sex or other
            elif steps[i - 1].sex is None:
                steps[i - 1] = replace(steps[i - 1], sex=other)
    return Path(tuple(steps), martyr_sex, path.vague)


def _invert(path: Path, relative_sex: Sex | None) -> Path:
    """The path from the martyr, given the path from the relative to the martyr."""
    sexes: list[Sex | None] = [relative_sex, *(s.sex for s in path.steps)]
    steps = tuple(
        replace(step, kind=_INVERSE[step.kind], sex=sexes[i])
        for i, step in reversed(list(enumerate(path.steps)))
    )
    return _implied_sexes(Path(steps, martyr_sex=sexes[-1], vague=path.vague))


def _read_phrases(words: list[str]) -> list[_Phrase]:
    phrases: list[_Phrase] = []
    current: _Phrase | None = None
    i = 0
    while i < len(words):
        n, kind, value = _match(words, i)
        if current is not None and words[i] in _ORDINAL_WORDS and current.head in _ORDINAL_AFTER:
            kind = ORDINAL
            n = 1
        if kind == HEAD:
            current = _Phrase(value, " ".join(words[i : i + n]))  # type: ignore[arg-type]
            phrases.append(current)
        elif kind == VAGUE and n > 1:
            current = _Phrase(((),), " ".join(words[i : i + n]), vague=str(value))
            phrases.append(current)
        elif kind in (SAME, DIFFERENT):
            if current is None:
                # A bare `cùng mẹ khác cha` names a sibling.
                current = _Phrase(((_sib(None, "anh/chị/em"),),), "anh/chị/em")
                phrases.append(current)
            elif current.readings[0][-1:] and current.readings[0][-1].kind is not Kind.SIBLING:
                raise _Unreadable(f"'cùng/khác' clause after '{current.head}', which is not a sibling")
            i = _read_parent_clause(words, i + 1, kind == SAME, current)
            continue
        elif kind in (SEX, BLOOD, NOT_BLOOD, VAGUE, INLAW, AUNT_CHILD):
            if current is None:
                raise _Unreadable(f"'{words[i]}' without a kin term before it")
            _apply(current, kind, value)
        elif kind == OF:
            current = None
        elif kind == ORDINAL and current is None:
            raise _Unreadable(f"'{words[i]}' without a kin term before it")
        elif kind in (CALL, IS, SUBJECT):
            raise _Unreadable(f"'{words[i]}' out of place")
        i += n
    if not phrases:
        raise _Unreadable("no kin term")
    return phrases


def _strip_subject(words: list[str]) -> list[str]:
    """Drop `liệt sĩ`/`LS` that names the martyr (`em gái của liệt sĩ`, `là mẹ LS`)."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i : i + 2] == ["liệt", "sĩ"]:
            i += 2
            continue
        if words[i] in ("ls", "là") or words[i : i + 2] == ["đồng", "chí"]:
            i += 2 if words[i] == "đồng" else 1
            continue
        out.append(words[i])
        i += 1
    while out and out[-1] == "của":
        out.pop()
    while out and out[0] in ("của", "bằng"):
        out.pop(0)
    return out


def _read_words(words: list[str]) -> tuple[Path, ...]:
    """One segment of canonical words → its readings."""
    # `cháu gọi (liệt sĩ) bằng cậu`, `liệt sĩ là cậu`: the martyr is the relative's cậu.
    subject_first = words[:2] == ["liệt", "sĩ"] or words[:1] == ["ls"]
    call = next((i for i, w in enumerate(words) if w == "gọi"), None)
    if call is not None or (subject_first and "là" in words):
        if call is None:
            left: list[str] = []
            right = _strip_subject(words[words.index("là") + 1 :])
            inverse = True
        else:
            left = words[:call]
            rest = words[call + 1 :]
            right = _strip_subject(rest)
            inverse = not (subject_first or (left and left[-1] in ("ls", "sĩ")))
            left = _strip_subject(left)
        if not right:
            raise _Unreadable("'gọi' without a kin term")
        named = _compose(_read_phrases(right))
        if not inverse:
            return _refine(_compose(_read_phrases(left)) if left else (), named)
        who = _compose(_read_phrases(left)) if left else ()
        sexes = {p.relative_sex for p in who}
        relative_sex = sexes.pop() if len(sexes) == 1 else None
        inverted = tuple(dict.fromkeys(_invert(p, relative_sex) for p in named))
        return _refine(who, inverted)
    words = _strip_subject(words)
    if not words:
        raise _Unreadable("no kin term")
    return _compose(_read_phrases(words))


def _unify(a: Path, b: Path) -> Path | None:
    if len(a.steps) != len(b.steps):
        return None
    if a.martyr_sex and b.martyr_sex and a.martyr_sex != b.martyr_sex:
        return None
    steps = []
    for x, y in zip(a.steps, b.steps, strict=True):
        if x.kind is not y.kind or x.by_blood != y.by_blood:
            return None
        if x.sex and y.sex and x.sex != y.sex:
            return None
        if x.half and y.half and x.half != y.half:
            return None
        steps.append(replace(y, sex=x.sex or y.sex, half=x.half or y.half, term=y.term or x.term))
    return Path(tuple(steps), a.martyr_sex or b.martyr_sex, a.vague if a.vague and b.vague else None)


def _refine(general: tuple[Path, ...], specific: tuple[Path, ...]) -> tuple[Path, ...]:
    """Readings of `general` refined by `specific` (`cháu` by `con của em trai`)."""
    if not general:
        return specific
    out = [u for g in general for s in specific if (u := _unify(g, s)) is not None]
    if not out:
        # A vague term explained in brackets (`anh họ (con của dì)`: a cousin, the child of the
        # mother's sister) takes the explanation's path, keeping the relative's sex it states.
        out = [_explained(g, s) for g in general for s in specific if g.vague and _same_relative_sex(g, s)]
    if not out:
        raise _Unreadable("the parts of the text describe different relatives")
    return tuple(dict.fromkeys(out))


def _same_relative_sex(a: Path, b: Path) -> bool:
    x, y = a.steps[-1].sex if a.steps else None, b.steps[-1].sex if b.steps else None
    return not (x and y and x != y)


def _explained(vague: Path, explanation: Path) -> Path:
    last = explanation.steps[-1]
    steps = (*explanation.steps[:-1], replace(last, sex=last.sex or vague.steps[-1].sex))
    return Path(steps, explanation.martyr_sex or vague.martyr_sex, explanation.vague)


_MODIFIER_KINDS = frozenset({SEX, BLOOD, NOT_BLOOD, INLAW, AUNT_CHILD, SAME, DIFFERENT, ORDINAL})


def _read_segments(segments: list[list[str]]) -> tuple[Path, ...]:
    merged: list[list[str]] = []
    for words in segments:
        n, kind, _ = _match(words, 0)
        if merged and (kind in _MODIFIER_KINDS or (kind == VAGUE and n == 1)):
            # `em trai (cùng cha khác mẹ)`: modifiers in brackets belong to the phrase before.
            merged[-1] = merged[-1] + words
        else:
            merged.append(words)
    readings: tuple[Path, ...] = ()
    for words in merged:
        own = _read_words(words)
        readings = _refine(readings, own) if readings else own
    return readings


@lru_cache(maxsize=20_000)
def parse_kinship(text: str | None) -> Kinship:
    """Read a kinship text of the forms (`Quan hệ với liệt sĩ`) into its kin path readings."""
    if text is None or not text.strip():
        return Kinship(text or "", error="no relationship stated")
    segments = _segments(text)
    choices: list[list[tuple[tuple[str, ...], ...]]] = []
    corrections: list[str] = []
    # A text counts as written without diacritics when it is ASCII and some word needs them
    # (`ba noi`); `ba` or `anh` alone are words as written.
    stripped = text.isascii() and any(w not in VOCABULARY for words in segments for w in words)
    for words in segments:
        seg: list[tuple[tuple[str, ...], ...]] = []
        for w in words:
            cands = _candidates(w, stripped)
            if cands is None:
                if _segment_has_kin_words(words):
                    return Kinship(text, error="a word outside the kinship vocabulary")
                seg = []
                break
            if cands != ((w,),):
                corrections.append(f"{w}→{'/'.join(' '.join(c) for c in cands)}")
            seg.append(cands)
        if seg:
            choices.append(seg)
    if not choices:
        return Kinship(text, error="no kinship word")
    combos = list(itertools.islice(itertools.product(*(itertools.product(*seg) for seg in choices)), 257))
    if len(combos) > 256:
        return Kinship(text, error="too many ways to read the words")
    readings: list[Path] = []
    errors: list[str] = []
    for combo in combos:
        segments_words = [[w for token in seg for w in token] for seg in combo]
        try:
            readings.extend(_read_segments(segments_words))
        except _Unreadable as e:
            errors.append(str(e))
    if not readings:
        return Kinship(text, error=errors[0] if errors else "unreadable", corrections=tuple(corrections))
    return Kinship(text, tuple(dict.fromkeys(readings)), corrections=tuple(corrections))


def _segment_has_kin_words(words: list[str]) -> bool:
    """A segment with unknown words and no kin term is a comment (a name, `đã mất`), not kinship."""
    return any(
        (c := _candidates(w)) is not None and any(_PHRASES.get((t[0],), (None,))[0] == HEAD for t in c)
        for w in words
    )


# --- mtDNA -----------------------------------------------------------------------------------


def _decide_path(path: Path, martyr_sex: Sex | None) -> tuple[bool | None, str | None]:
    if path.vague:
        return None, path.vague
    undecided: str | None = None
    previous_sex, previous_term = martyr_sex, "the martyr"
    for step in path.steps:
        if not step.by_blood:
            return False, None
        if step.kind is Kind.SPOUSE:
            return False, None
        if step.kind is Kind.PARENT:
            if step.sex == "M":
                return False, None
            if step.sex is None:
                undecided = undecided or f"'{step.term}' does not say on the mother's or the father's side"
        elif step.kind is Kind.CHILD:
            if previous_sex == "M":
                return False, None
            if previous_sex is None:
                undecided = undecided or (
                    "the martyr's sex is not recorded"
                    if previous_term == "the martyr"
                    else f"'{previous_term}' does not say whether that relative is a man or a woman"
                )
        elif step.half is Half.SAME_FATHER:
            return False, None
        previous_sex, previous_term = step.sex, step.term
    return (None, undecided) if undecided else (True, None)


def decide(kinship: Kinship | Path, martyr_sex: Sex | None) -> Decision:
    """Does the relative share the martyr's mtDNA?

    Every reading of the text, and both sexes when the martyr's is neither recorded nor implied,
    must give the same answer; otherwise the answer is None with the reason.
    """
    if isinstance(kinship, Path):
        kinship = Kinship(format_path(kinship), (kinship,))
    if not kinship.readings:
        return Decision(None, f"kinship not understood: {kinship.error}")
    needed = any(
        p.martyr_sex is None and _decide_path(p, "F")[0] != _decide_path(p, "M")[0] for p in kinship.readings
    )
    implied = {p.martyr_sex for p in kinship.readings} - {None}
    if martyr_sex and implied and implied != {martyr_sex}:
        said = "female" if "F" in implied else "male"
        return Decision(None, f"the kinship text implies a {said} martyr; the record says otherwise", needed)
    per_reading: list[list[tuple[bool | None, str | None]]] = []
    for path in kinship.readings:
        sex = martyr_sex or path.martyr_sex
        per_reading.append([_decide_path(path, s) for s in ((sex,) if sex else ("F", "M"))])
    answers = {answer for outcomes in per_reading for answer, _ in outcomes}
    if answers in ({True}, {False}):
        return Decision(answers.pop(), None, needed)
    if len(kinship.readings) > 1:
        readings = " or ".join(format_path(p) for p in kinship.readings)
        return Decision(None, f"the text can be read as {readings}", needed)
    if needed and martyr_sex is None and None not in answers:
        return Decision(None, "depends on the martyr's sex, which is not recorded", needed)
    reason = next((r for outcomes in per_reading for _, r in outcomes if r), "undecided")
    return Decision(None, reason, needed)


def shares_mtdna(kinship: Kinship | Path | str, martyr_sex: Sex | None) -> Decision:
    """`decide` on a kinship text, its parse, or one kin path."""
    if isinstance(kinship, str):
        kinship = parse_kinship(kinship)
    return decide(kinship, martyr_sex)


def parse_sex(text: str | None) -> Sex | None:
    """`Nam`/`Nữ` of the forms (any case, with or without diacritics) → `M`/`F`."""
    if not text:
        return None
    key = _ascii(text.strip())
    return "M" if key in ("nam", "m", "male") else "F" if key in ("nu", "f", "female") else None


# --- formatting ------------------------------------------------------------------------------

_NAMES = {
    Kind.PARENT: {"F": "mother", "M": "father", None: "parent"},
    Kind.CHILD: {"F": "daughter", "M": "son", None: "child"},
    Kind.SIBLING: {"F": "sister", "M": "brother", None: "sibling"},
    Kind.SPOUSE: {"F": "wife", "M": "husband", None: "spouse"},
}


def format_step(step: Step) -> str:
    name = _NAMES[step.kind][step.sex]
    if not step.by_blood:
        name = "step/adoptive " + name
    if step.half:
        name += f"({step.half.value})"
    return name


def format_path(path: Path) -> str:
    """`mother > sister(full) > daughter`: steps from the martyr to the relative."""
    text = " > ".join(format_step(s) for s in path.steps) or "relative"
    return f"{text} (line not stated)" if path.vague else text
