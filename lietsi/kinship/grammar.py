"""The grammar of kinship texts: noun phrases, composition (`A của B`), inversion (`cháu gọi bằng
cậu`) and apposition (`cháu (con của em trai)`), read into kin paths by `parse_kinship`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import lru_cache

from lietsi.kinship.kin_paths import Half, Kind, Kinship, Path, Sex, Step
from lietsi.kinship.tokens import text_segments, word_readings
from lietsi.kinship.vocabulary import (
    AUNT_CHILD,
    BLOOD,
    CALL,
    DIFFERENT,
    FATHER_WORDS,
    HEAD,
    INLAW,
    IS,
    MOTHER_WORDS,
    NOT_BLOOD,
    OF,
    ORDINAL,
    ORDINAL_AFTER,
    ORDINAL_WORDS,
    PHRASES,
    SAME,
    SEX,
    SUBJECT,
    VAGUE,
    VOCABULARY,
    child_step,
    parent_step,
    sibling_step,
    spouse_step,
)

_INVERSE = {
    Kind.PARENT: Kind.CHILD,
    Kind.CHILD: Kind.PARENT,
    Kind.SIBLING: Kind.SIBLING,
    Kind.SPOUSE: Kind.SPOUSE,
}


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
                before = [parent_step("F", "bạn dì"), sibling_step("F", "bạn dì")]
                last = child_step(last.sex, self.head + " bạn dì")
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
                    spouse_step(self.inlaw, word),
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
    while j < len(words) and (words[j] in MOTHER_WORDS or words[j] in FATHER_WORDS):
        if words[j] in MOTHER_WORDS:
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
        if len(key) == n and key in PHRASES:
            kind, value = PHRASES[key]
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
        if current is not None and words[i] in ORDINAL_WORDS and current.head in ORDINAL_AFTER:
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
                current = _Phrase(((sibling_step(None, "anh/chị/em"),),), "anh/chị/em")
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
    segments = text_segments(text)
    choices: list[list[tuple[tuple[str, ...], ...]]] = []
    corrections: list[str] = []
    # A text counts as written without diacritics when it is ASCII and some word needs them
    # (`ba noi`); `ba` or `anh` alone are words as written.
    stripped = text.isascii() and any(w not in VOCABULARY for words in segments for w in words)
    for words in segments:
        seg: list[tuple[tuple[str, ...], ...]] = []
        for w in words:
            cands = word_readings(w, stripped)
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
        (c := word_readings(w)) is not None and any(PHRASES.get((t[0],), (None,))[0] == HEAD for t in c)
        for w in words
    )
