"""Does a relative share the martyr's mtDNA? Decided step by step along every reading of the
kinship text; a step that does not say leaves the answer open, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from lietsi.kinship.grammar import parse_kinship
from lietsi.kinship.kin_paths import Half, Kind, Kinship, Path, Sex, format_path
from lietsi.kinship.vocabulary import ascii_word


@dataclass(frozen=True)
class Decision:
    """Whether the relative shares the martyr's mtDNA; `reason` says why it is undecided."""

    shares: bool | None
    reason: str | None = None
    martyr_sex_needed: bool = False


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
    key = ascii_word(text.strip())
    return "M" if key in ("nam", "m", "male") else "F" if key in ("nu", "f", "female") else None
