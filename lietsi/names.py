"""Vietnamese personal names: normalisation, parsing, comparison keys and similarity.

A name is written many ways on the forms: NFD or NFC, old or new tone placement (`Hoà`/`Hòa`,
`Thuỷ`/`Thủy`, `Qúy`/`Quý`), `Ð` (U+00D0, Icelandic eth) for `Đ` (U+0110), upper case, abbreviated
(`Ng. V. Thành`), with an alias (`Nguyễn Văn Thành (Tư Thành)`, `bí danh Hai Lúa`), misspelt, or
in Southern vs Northern spelling (`Huỳnh`/`Hoàng`, `Võ`/`Vũ`). This module brings them to one
written form and derives comparison keys of decreasing strength:

- `exact`: the normalised name, lower case, with every diacritic;
- `toneless`: tone marks removed, vowel letters kept (`ă â ê ô ơ ư đ` stay distinct);
- `ascii`: every diacritic removed (unidecode);
- `variant`: `ascii` after folding known spelling variants (Huỳnh→Hoàng, Võ→Vũ, y→i, and the
  initials d/gi/r, which sound alike in the North, d/gi/v in the South).

Agreement on a stronger key is stronger evidence: `name_similarity` ranks them so.

Tone placement follows the traditional convention that `vietnamadminunits` and most registries
use: in an open syllable `oa`, `oe`, `uy` take the tone on the first vowel (`Hòa`, `Khỏe`, `Thủy`);
with a final consonant it goes on the last vowel (`Hoàng`, `Huỳnh`); a vowel with a hat, breve or
horn always carries it (`Quyết`, `Hường`); `qu` and `gi` are initials (`Quý`, `Giáp`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import polars as pl
from rapidfuzz.distance import JaroWinkler
from unidecode import unidecode

Sex = Literal["Nam", "Nữ"] | None

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_HATTED = set("ăâêôơư")
_INITIAL = re.compile(r"^(ngh|qu|gi(?=[aăâeêoôơuưy])|ng|nh|ch|gh|kh|ph|th|tr|[bcdđghklmnpqrstvx])")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")

# Birth-order names (tên thứ) used as everyday names in the South: `Tư Thành` is "fourth child
# Thành". `Hai` is the eldest in the South, `Cả` in the North.
BIRTH_ORDER = frozenset({"Cả", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Út", "Bé"})

# Abbreviations by position. Only expansions with one overwhelmingly likely reading are made;
# anything else stays an initial that `initials_compatible` matches against a full word.
_SURNAME_ABBR = {"ng": "Nguyễn", "tr": "Trần"}
_MIDDLE_ABBR_MALE = {"v": "Văn"}
_MIDDLE_ABBR_FEMALE = {"t": "Thị", "th": "Thị"}

# Spelling variants folded by the `variant` key, as ascii syllables.
_SURNAME_VARIANTS = {"huynh": "hoang", "vo": "vu"}

_ALIAS_MARKERS = re.compile(
    r"\s*[,;]?\s*\b(?:bí\s*danh|b\.?\s*d\.?|tên\s*khác|tên\s*thường\s*gọi|thường\s*gọi|tức\s*là|tức|"
    r"hay\s*gọi\s*là|còn\s*gọi\s*là|còn\s*gọi|gọi\s*là)\s*[:.]?\s*",
    re.IGNORECASE,
)
_PARENS = re.compile(r"[(\[]([^)\]]*)[)\]]")


def _place_tone(word: str) -> str:
    """Put the tone mark of one syllable where the traditional convention wants it."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return unicodedata.normalize("NFC", word)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    lower = base.lower()
    initial = _INITIAL.match(lower)
    start = initial.end() if initial else 0
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    nucleus = lower[start:end]
    if not nucleus:
        return unicodedata.normalize("NFC", word)
    hatted = [i for i, c in enumerate(nucleus) if c in _HATTED]
    if hatted:
        idx = hatted[-1]
    elif end < len(lower) or len(nucleus) == 1:
        idx = len(nucleus) - 1
    elif len(nucleus) == 3:
        idx = 1
    else:
        idx = 0
    pos = start + idx
    marked = unicodedata.normalize("NFC", base[pos] + tones[0])
    return base[:pos] + marked + base[pos + 1 :]


def _title(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


@lru_cache(maxsize=200_000)
def normalise_text(text: str) -> str:
    """NFC, `Ð`→`Đ`, one tone placement, single spaces, each word capitalised.

    >>> normalise_text("NGUYỄN  văn hoà")
    'Nguyễn Văn Hòa'
    """
    s = unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    s = _SPACES.sub(" ", s).strip()
    return _WORD.sub(lambda m: _normalise_word(m.group(0)), s)


@lru_cache(maxsize=100_000)
def _normalise_word(word: str) -> str:
    # Names are drawn from a few thousand syllables: each is normalised once.
    return _title(_place_tone(word))


@dataclass(frozen=True)
class ParsedName:
    """A normalised name split into its parts, with aliases as separate candidates."""

    full: str
    surname: str
    middle: str
    given: str
    aliases: tuple[str, ...] = ()
    # True when an initial could not be expanded (`T.` for a man): keys then hold the initial.
    abbreviated: bool = False

    @property
    def candidates(self) -> tuple[str, ...]:
        return (self.full, *self.aliases) if self.full else self.aliases


def _split_aliases(text: str) -> tuple[str, list[str]]:
    aliases = [a for a in _PARENS.findall(text) if a.strip()]
    main = _PARENS.sub(" ", text)
    parts = _ALIAS_MARKERS.split(main, maxsplit=1)
    if len(parts) == 2:
        main, rest = parts
        aliases.extend(p for p in re.split(r"[,;/]", rest) if p.strip())
    # An alias may itself start with a marker: `(bí danh Hai Lúa)`.
    cleaned = [_ALIAS_MARKERS.sub(" ", a).strip(" .,:;-") for a in aliases]
    return main, [a for a in cleaned if a]


def _tokens(text: str) -> list[str]:
    """Words and initials: `Ng.V.Thành` → [`ng.`, `v.`, `thành`]."""
    s = re.sub(r"\.", ". ", text)
    s = re.sub(r"[^\w.\s]", " ", s)
    return [t for t in _SPACES.split(s.strip()) if t and t != "."]


def _expand(tokens: list[str], sex: Sex) -> tuple[list[str], bool]:
    out: list[str] = []
    abbreviated = False
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        stem = tok.rstrip(".").lower()
        is_abbr = tok.endswith(".") or (len(stem) <= 2 and stem in {"ng", "tr", "v", "t", "th"} and i < last)
        if not is_abbr or not stem:
            out.append(normalise_text(tok.rstrip(".")))
            continue
        expansion = None
        if i == 0 and last > 0:
            expansion = _SURNAME_ABBR.get(stem)
        elif 0 < i < last:
            if sex == "Nữ":
                expansion = _MIDDLE_ABBR_FEMALE.get(stem)
            elif sex == "Nam" or stem == "v":
                # `V.` is Văn on a man's name; with the sex unknown it still almost always is.
                expansion = _MIDDLE_ABBR_MALE.get(stem)
        if expansion is None:
            abbreviated = True
            out.append(normalise_text(stem) + ".")
        else:
            out.append(expansion)
    return out, abbreviated


@lru_cache(maxsize=200_000)
def parse_name(text: str | None, sex: Sex = None) -> ParsedName:
    """Normalise, expand abbreviations, split into surname / middle / given, separate aliases.

    >>> parse_name("Ng. V. Thành (Tư Thành)", "Nam")
    ParsedName(full='Nguyễn Văn Thành', surname='Nguyễn', middle='Văn', given='Thành', ...)
    """
    if text is None or not str(text).strip():
        return ParsedName("", "", "", "")
    main, raw_aliases = _split_aliases(unicodedata.normalize("NFC", str(text)))
    tokens, abbreviated = _expand(_tokens(main), sex)
    aliases = tuple(dict.fromkeys(normalise_text(" ".join(_tokens(a)).replace(".", "")) for a in raw_aliases))
    if not tokens:
        return ParsedName("", "", "", "", aliases)
    full = " ".join(tokens)
    if len(tokens) == 1:
        return ParsedName(full, "", "", tokens[0], aliases, abbreviated)
    return ParsedName(full, tokens[0], " ".join(tokens[1:-1]), tokens[-1], aliases, abbreviated)


def _strip_tones(text: str) -> str:
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", text) if c not in _TONES)
    )


@lru_cache(maxsize=100_000)
def _word_keys(word: str) -> tuple[str, str, str, str, str]:
    """Keys of one normalised word: exact, toneless, ascii, variant, variant as a surname."""
    toneless = _strip_tones(word).lower()
    return (
        word.lower(),
        toneless,
        unidecode(word).lower(),
        _fold_syllable(toneless, False),
        _fold_syllable(toneless, True),
    )


@lru_cache(maxsize=200_000)
def _keys(name: str) -> tuple[str, str, str, str]:
    """(exact, toneless, ascii, variant) keys, built from cached per-word keys (names repeat: a
    national run weighs each martyr's name against thousands of remains)."""
    words = normalise_text(name).split()
    keys = [_word_keys(w) for w in words]
    surname = len(words) > 1
    return (
        " ".join(k[0] for k in keys),
        " ".join(k[1] for k in keys),
        " ".join(k[2] for k in keys),
        " ".join(k[4] if i == 0 and surname else k[3] for i, k in enumerate(keys)),
    )


def key_exact(name: str) -> str:
    return _keys(name)[0]


def key_toneless(name: str) -> str:
    return _keys(name)[1]


def key_ascii(name: str) -> str:
    return _keys(name)[2]


@lru_cache(maxsize=100_000)
def _fold_syllable(syl: str, first: bool) -> str:
    """Fold one toneless syllable (đ kept distinct from d) to its variant spelling, in ascii."""
    if first and unidecode(syl) in _SURNAME_VARIANTS:
        return _SURNAME_VARIANTS[unidecode(syl)]
    s = re.sub(r"^(gi(?=[aăâeêoôơuư])|gi$|r|d)", "z", syl)
    s = unidecode(s)
    return s.replace("y", "i")


def key_variant(name: str) -> str:
    """The `ascii` key with regional and taboo spelling variants folded together.

    >>> key_variant("Huỳnh Văn Dũng") == key_variant("Hoàng Văn Giũng")
    True
    """
    return _keys(name)[3]


def name_keys(name: str) -> dict[str, str]:
    return dict(zip(("exact", "toneless", "ascii", "variant"), _keys(name), strict=True))


def initials_compatible(a: str, b: str) -> bool:
    """Same number of words, each equal (variant key) or an initial of the other (`T.` ~ `Thanh`)."""
    ta, tb = key_variant(a).split(), key_variant(b).split()
    if len(ta) != len(tb) or not any(t.endswith(".") for t in ta + tb):
        return False
    return all(_same_word(x, y) for x, y in zip(ta, tb, strict=True))


def _same_word(x: str, y: str) -> bool:
    """Equal variant keys, or one an initial of the other (`t.` ~ `thanh`)."""
    return x == y or (x.endswith(".") and y.startswith(x[:-1])) or (y.endswith(".") and x.startswith(y[:-1]))


def written_alike(a: str, b: str) -> bool:
    """Two writings of one name by different hands: the same given name; surnames equal (variant
    key) or one the initial of the other; middle names equal, initials of each other, or written
    on one side only (`Lê Kiệt` ~ `Lê Thành Kiệt`, `T. N. Nga` ~ `Trần Nga`). Weaker than any
    key: callers need other agreement (birth year, address) before taking it for one person."""
    ta, tb = key_variant(a).split(), key_variant(b).split()
    if len(ta) < 2 or len(tb) < 2 or ta[-1] != tb[-1] or ta[-1].endswith("."):
        return False
    if not _same_word(ta[0], tb[0]):
        return False
    ma, mb = ta[1:-1], tb[1:-1]
    if not ma or not mb:
        return True
    return len(ma) == len(mb) and all(_same_word(x, y) for x, y in zip(ma, mb, strict=True))


# Similarity levels, strongest first: the score of each level is above every score of the next.
NAME_LEVELS: tuple[tuple[str, float], ...] = (
    ("exact", 1.0),
    ("toneless", 0.97),
    ("ascii", 0.94),
    ("variant", 0.91),
    ("initials", 0.88),
)


def name_similarity(a: str, b: str) -> float:
    """1.0 for the same name with every diacritic; lower for agreement only on weaker keys.

    Below the key levels the score is a Jaro-Winkler on the variant keys scaled under 0.88, so a
    fuzzy match never outranks agreement on any key.
    """
    if not a or not b:
        return 0.0
    # The keys in `_keys`' order, that of the levels (a national run compares each inscription
    # with each candidate's name: a dict of them per level read was most of this function).
    for (_, score), key_a, key_b in zip(NAME_LEVELS[:4], _keys(a), _keys(b), strict=True):
        if key_a == key_b:
            return score
    if initials_compatible(a, b):
        return NAME_LEVELS[4][1]
    return 0.87 * JaroWinkler.similarity(key_variant(a), key_variant(b))


def name_frame(names: pl.Series, sexes: pl.Series | None = None) -> pl.DataFrame:
    """Parse a column of names (with sexes, for abbreviation expansion) into parts and keys.

    Each distinct (name, sex) is parsed once; the result has one row per input row, in order:
    `name_full, surname, middle, given, aliases (list), abbreviated, key_exact, key_toneless,
    key_ascii, key_variant, given_variant, surname_variant`.
    """
    if sexes is None:
        sexes = pl.Series([None] * len(names), dtype=pl.String)
    frame = pl.DataFrame({"_n": names.cast(pl.String), "_s": sexes.cast(pl.String)})
    distinct = frame.unique(maintain_order=True)
    rows = []
    for n, s in distinct.iter_rows():
        p = parse_name(n, s if s in ("Nam", "Nữ") else None)
        exact, toneless, ascii_, kv = _keys(p.full)
        rows.append(
            (
                n,
                s,
                p.full or None,
                p.surname or None,
                p.middle or None,
                p.given or None,
                list(p.aliases),
                p.abbreviated,
                exact or None,
                toneless or None,
                ascii_ or None,
                kv or None,
                kv.split()[-1] if kv else None,
                kv.split()[0] if kv and len(kv.split()) > 1 else None,
            )
        )
    schema = {
        "_n": pl.String,
        "_s": pl.String,
        "name_full": pl.String,
        "surname": pl.String,
        "middle": pl.String,
        "given": pl.String,
        "aliases": pl.List(pl.String),
        "abbreviated": pl.Boolean,
        "key_exact": pl.String,
        "key_toneless": pl.String,
        "key_ascii": pl.String,
        "key_variant": pl.String,
        "given_variant": pl.String,
        "surname_variant": pl.String,
    }
    parsed = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.join(parsed, on=["_n", "_s"], how="left", nulls_equal=True, maintain_order="left").drop(
        "_n", "_s"
    )


def sort_key(text: str | None) -> str:
    """Alphabetical order a Vietnamese reader expects from a list: tones and `Đ` folded."""
    return unidecode(text or "~").lower()
