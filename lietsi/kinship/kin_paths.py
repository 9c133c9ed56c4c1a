"""Kin paths: the steps from the martyr to a relative, the readings of one kinship text, and how
a path is written out (`mother > sister(full) > daughter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

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
