"""Tokens: a kinship text cut into segments of words, each word matched to the vocabulary as
written, on its ASCII form, by edit distance, or as two run-together words.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from lietsi.kinship.vocabulary import VOCABULARY, ascii_word, vocabulary_by_ascii
from lietsi.names import normalise_text

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


_SEGMENT_SPLIT = re.compile(r"[()\[\],;:]|\s[-–]\s|\s[-–]|[-–]\s")


_DOTTED = re.compile(r"\bl\s*[./]\s*s\b\.?", re.IGNORECASE)


@lru_cache(maxsize=4096)
def word_readings(token: str, stripped: bool = False) -> tuple[tuple[str, ...], ...] | None:
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
    key = ascii_word(token)
    table = vocabulary_by_ascii()
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


def text_segments(text: str) -> list[list[str]]:
    s = _DOTTED.sub(" ls ", normalise_text(text).lower())
    return [words for part in _SEGMENT_SPLIT.split(s) if (words := _WORD.findall(part))]
