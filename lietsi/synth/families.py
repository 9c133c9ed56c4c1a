"""Family trees around each martyr, and kinship as the truth and as people write it.

A family is built generation by generation: the maternal grandmother (who founds the martyr's
maternal line), the mother and her siblings, the father and his siblings, the full siblings (the
martyr among them, sometimes two martyr brothers), half siblings from a parent's other marriage,
the siblings' spouses and children, the cousins, and the martyr's own spouse, children and
grandchildren. Every person inherits their mother's maternal line; people who marry in found a
new line. Whether a relative shares the martyr's mtDNA is therefore a fact of the tree, not a
rule applied afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from lietsi.synth import names

REFERENCE_YEAR = 2025


@dataclass(slots=True)
class Person:
    uid: str
    family_uid: str
    name: str
    sex: str  # Nam / Nữ
    birth_year: int
    line_uid: str  # maternal line
    mother: str | None = None
    father: str | None = None
    spouse: str | None = None
    alive: bool = False
    martyr_uid: str | None = None
    citizen_id: str = ""
    health: str = ""
    consent: str = ""
    phone: str = ""


@dataclass
class Family:
    uid: str
    persons: dict[str, Person] = field(default_factory=dict)
    martyrs: list[Person] = field(default_factory=list)
    new_lines: list[str] = field(default_factory=list)  # line uids founded in this family

    def add(self, p: Person) -> Person:
        self.persons[p.uid] = p
        return p


def _survives(rng: random.Random, birth_year: int) -> bool:
    age = REFERENCE_YEAR - birth_year
    if age < 0:
        return False
    for limit, p in ((60, 0.95), (70, 0.85), (80, 0.62), (90, 0.3), (100, 0.06)):
        if age < limit:
            return rng.random() < p
    return False


class _Builder:
    def __init__(self, rng: random.Random, family_uid: str):
        self.rng = rng
        self.fam = Family(family_uid)
        self.n = 0

    def line(self) -> str:
        uid = f"{self.fam.uid}-L{len(self.fam.new_lines) + 1}"
        self.fam.new_lines.append(uid)
        return uid

    def person(
        self,
        sex: str,
        birth_year: int,
        *,
        surname: str | None = None,
        mother: Person | None = None,
        father: Person | None = None,
        line: str | None = None,
        name: str | None = None,
    ) -> Person:
        self.n += 1
        family_name = surname or (father.name.split()[0] if father else None)
        p = Person(
            uid=f"{self.fam.uid}-P{self.n:02d}",
            family_uid=self.fam.uid,
            name=name or names.full_name(self.rng, sex, family_name),
            sex=sex,
            birth_year=birth_year,
            line_uid=mother.line_uid if mother else (line or self.line()),
            mother=mother.uid if mother else None,
            father=father.uid if father else None,
        )
        p.alive = _survives(self.rng, birth_year)
        return self.fam.add(p)

    def marry(self, p: Person, year: int) -> Person:
        sex = "Nữ" if p.sex == "Nam" else "Nam"
        s = self.person(sex, year)
        p.spouse, s.spouse = s.uid, p.uid
        return s

    def children(self, mother: Person, father: Person, start: int, count: int) -> list[Person]:
        out = []
        year = start
        for _ in range(count):
            out.append(self.person(self.rng.choice(("Nam", "Nữ")), year, mother=mother, father=father))
            year += self.rng.randint(1, 3)
        return out

    def children_of(self, parent: Person, count: int) -> list[Person]:
        """Children of a sibling or cousin, with a spouse who marries in."""
        if count == 0 or parent.birth_year + 20 > REFERENCE_YEAR - 5:
            return []
        spouse = self.marry(parent, parent.birth_year + self.rng.randint(-6, 4))
        mother, father = (parent, spouse) if parent.sex == "Nữ" else (spouse, parent)
        return self.children(mother, father, parent.birth_year + self.rng.randint(20, 28), count)


@dataclass(frozen=True, slots=True)
class MartyrCore:
    """What the registry knows of a martyr, decided before (and without) the family tree."""

    uid: str
    name: str
    sex: str
    birth_year: int
    death_year: int
    mother_name: str
    father_name: str
    line_uid: str
    birth_rank: int = 0  # 0 = eldest child
    brother_of: str | None = None  # uid of the other martyr of the same family


def build_family(rng: random.Random, family_uid: str, cores: list[MartyrCore]) -> Family:
    """The tree around one martyr (or two martyr brothers), consistent with their registry facts."""
    b = _Builder(rng, family_uid)
    first = cores[0]
    # Full siblings in birth order; the martyr's place is his birth-order alias (Hai = eldest).
    martyr_pos = first.birth_rank
    slots = {martyr_pos: first}
    if len(cores) == 2:
        gap = cores[1].birth_year - first.birth_year
        slots[martyr_pos + max(1, min(3, gap // 2))] = cores[1]
    n_children = rng.randint(max(slots) + 1, max(slots) + 1 + rng.choice((0, 1, 2, 3, 4)))
    years = [0] * n_children
    years[martyr_pos] = first.birth_year
    for i in range(martyr_pos - 1, -1, -1):
        years[i] = years[i + 1] - rng.randint(1, 3)
    for i in range(martyr_pos + 1, n_children):
        core = slots.get(i)
        years[i] = core.birth_year if core else years[i - 1] + rng.randint(1, 3)
    if len(cores) == 2:
        pos2 = max(slots)
        for i in range(martyr_pos + 1, pos2):
            years[i] = first.birth_year + round((i - martyr_pos) * gap / (pos2 - martyr_pos))
    # A mother has her children between about 17 and 44.
    mother_birth = max(years[0] - rng.randint(18, 26), years[-1] - 44)
    father_birth = mother_birth - rng.randint(-2, 10)

    grandmother = b.person("Nữ", mother_birth - rng.randint(18, 30))
    grandfather = b.person(
        "Nam", grandmother.birth_year - rng.randint(0, 8), surname=first.mother_name.split()[0]
    )
    mother = b.person("Nữ", mother_birth, mother=grandmother, father=grandfather, name=first.mother_name)
    father_mother = b.person("Nữ", father_birth - rng.randint(18, 30))
    father_father = b.person(
        "Nam", father_mother.birth_year - rng.randint(0, 8), surname=first.father_name.split()[0]
    )
    father = b.person("Nam", father_birth, mother=father_mother, father=father_father, name=first.father_name)
    mother.spouse, father.spouse = father.uid, mother.uid

    # Mother's siblings (dì, cậu) and their children; father's siblings (bác, chú, cô).
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5))):
        aunt = b.person(
            rng.choice(("Nam", "Nữ")),
            mother_birth + rng.randint(-14, 14),
            mother=grandmother,
            father=grandfather,
        )
        b.children_of(aunt, rng.choice((0, 1, 2, 2, 3, 4)))
    for _ in range(rng.choice((0, 1, 1, 2, 3, 4))):
        b.person(
            rng.choice(("Nam", "Nữ")),
            father_birth + rng.randint(-14, 14),
            mother=father_mother,
            father=father_father,
        )

    siblings: list[Person] = []
    for i, year in enumerate(years):
        core = slots.get(i)
        if core is None:
            siblings.append(b.person(rng.choice(("Nam", "Nữ")), year, mother=mother, father=father))
            continue
        m = b.person(core.sex, core.birth_year, mother=mother, father=father, name=core.name)
        m.alive, m.martyr_uid, m.line_uid = False, core.uid, mother.line_uid
        b.fam.martyrs.append(m)
        siblings.append(m)
    # The family's maternal line is the one drawn with the martyr's registry facts.
    _rename_line(b.fam, mother.line_uid, first.line_uid)

    # A parent's other marriage: the mother remarried (maternal half siblings share her line),
    # or the father had another wife (paternal half siblings do not).
    r = rng.random()
    if r < 0.12:
        step = b.person("Nam", mother_birth + rng.randint(-5, 8))
        b.children(mother, step, years[-1] + rng.randint(2, 6), rng.randint(1, 3))
    elif r < 0.20:
        other = b.person("Nữ", father_birth + rng.randint(0, 15))
        b.children(other, father, years[0] + rng.randint(-8, 12), rng.randint(1, 3))

    for s in siblings:
        if s.martyr_uid is None:
            b.children_of(s, rng.choice((0, 1, 2, 2, 3, 3, 4, 5)))
    for m in b.fam.martyrs:
        core = next(c for c in cores if c.uid == m.martyr_uid)
        age = core.death_year - core.birth_year
        if age >= 19 and rng.random() < min(0.7, 0.15 + (age - 19) * 0.07):
            spouse = b.marry(m, m.birth_year + rng.randint(-5, 3) if m.sex == "Nam" else m.birth_year - 2)
            mom, dad = (m, spouse) if m.sex == "Nữ" else (spouse, m)
            years_married = max(1, core.death_year - max(m.birth_year + 18, spouse.birth_year + 18))
            n = min(rng.choice((0, 1, 1, 2, 2, 3)), years_married)
            for child in b.children(mom, dad, core.death_year - years_married + 1, n):
                if child.birth_year > core.death_year + 1:
                    child.birth_year = core.death_year + 1
                child.alive = _survives(rng, child.birth_year)
                b.children_of(child, rng.choice((0, 1, 2, 3)))
    return b.fam


def _rename_line(fam: Family, old: str, new: str) -> None:
    for p in fam.persons.values():
        if p.line_uid == old:
            p.line_uid = new
    fam.new_lines = [new if x == old else x for x in fam.new_lines]


@dataclass(frozen=True)
class Kin:
    path: str  # e.g. "mother.sister.son"
    older: bool  # the relative is older than the martyr (anh/chị vs em)


def kinship(fam: Family, martyr: Person, p: Person) -> Kin | None:
    """The genealogical path from a martyr to a relative, or None when not a surveyed kind."""
    P = fam.persons
    older = p.birth_year < martyr.birth_year

    def g(uid: str | None) -> Person | None:
        return P.get(uid) if uid else None

    def word(x: Person, male: str, female: str) -> str:
        return male if x.sex == "Nam" else female

    mother, father = g(martyr.mother), g(martyr.father)
    if p.uid == martyr.mother:
        return Kin("mother", True)
    if p.uid == martyr.father:
        return Kin("father", True)
    if p.uid == martyr.spouse:
        return Kin(word(p, "husband", "wife"), older)
    if p.mother == martyr.uid or p.father == martyr.uid:
        return Kin(word(p, "son", "daughter"), False)
    for child in (g(p.mother), g(p.father)):
        if child and martyr.uid in (child.mother, child.father):
            return Kin(f"{word(child, 'son', 'daughter')}.{word(p, 'son', 'daughter')}", False)
    same_m = p.mother is not None and p.mother == martyr.mother
    same_f = p.father is not None and p.father == martyr.father
    if same_m and same_f:
        return Kin(word(p, "brother", "sister"), older)
    if same_m:
        return Kin(f"mother.{word(p, 'son', 'daughter')}", older)
    if same_f:
        return Kin(f"father.{word(p, 'son', 'daughter')}", older)
    for parent in (g(p.mother), g(p.father)):
        if (
            parent
            and parent.mother == martyr.mother
            and parent.father == martyr.father
            and parent.uid != martyr.uid
        ):
            return Kin(f"{word(parent, 'brother', 'sister')}.{word(p, 'son', 'daughter')}", older)
    if mother and p.mother == mother.mother and p.mother is not None:
        return Kin(f"mother.{word(p, 'brother', 'sister')}", p.birth_year < mother.birth_year)
    if father and p.mother == father.mother and p.mother is not None:
        return Kin(f"father.{word(p, 'brother', 'sister')}", p.birth_year < father.birth_year)
    for parent in (g(p.mother), g(p.father)):
        if parent and mother and parent.mother == mother.mother and parent.uid != mother.uid:
            return Kin(f"mother.{word(parent, 'brother', 'sister')}.{word(p, 'son', 'daughter')}", older)
    return None


def _sib(older: bool, male: bool) -> str:
    return ("anh" if male else "chị") if older else "em"


# Commune officers are trained to write the precise relation (`cháu (con của chị gái)`), but now
# and then one copies what the family said: `cháu`, `cháu ruột` (niece/nephew or grandchild),
# `anh họ`, `họ hàng` (which side?), `bác` (father's or mother's elder sibling). A few percent of
# all rows end up vague (docs/synth.md).
P_VAGUE = 0.065


def relationship_text(rng: random.Random, kin: Kin, martyr_sex: str, southern: bool = True) -> str:
    """How a surveyor or relative writes the relation on the form."""
    steps = kin.path.split(".")
    male = steps[-1] in ("son", "brother", "father", "husband")
    o = kin.older
    path = kin.path
    father_word = "cha" if southern else "bố"
    options: list[str]
    vague: list[str] = []
    if path == "mother":
        options = ["mẹ", "mẹ", "mẹ ruột", "mẹ đẻ", "Mẹ liệt sĩ"]
    elif path == "father":
        options = ["cha", "cha ruột", "ba", "bố"] if southern else ["bố", "bố đẻ", "cha"]
    elif path in ("wife", "husband"):
        options = ["vợ", "vợ liệt sĩ"] if path == "wife" else ["chồng"]
    elif path in ("son", "daughter"):
        options = ["con trai", "con ruột", "con"] if male else ["con gái", "con ruột", "con"]
    elif path in ("brother", "sister"):
        base = _sib(o, male)
        options = [
            f"{base} trai" if male else f"{base} gái",
            f"{base} ruột",
            f"{base} trai ruột" if male else f"{base} gái ruột",
        ]
        if o:
            options.append(base)
    elif path.startswith(("mother.", "father.")) and len(steps) == 2 and steps[1] in ("son", "daughter"):
        side = "cùng mẹ khác cha" if steps[0] == "mother" else "cùng cha khác mẹ"
        options = [f"{_sib(o, male)} {side}", f"{_sib(o, male)} {'trai' if male else 'gái'} {side}"]
        if steps[0] == "mother":
            options.append(f"{_sib(o, male)} khác cha")
    elif len(steps) == 2 and steps[0] in ("brother", "sister"):
        who = f"{_sib(o, steps[0] == 'brother')} {'trai' if steps[0] == 'brother' else 'gái'}"
        options = [
            f"con của {who}",
            f"cháu (con của {who})",
            f"cháu ruột (con của {who})",
            f"cháu - con của {who}",
        ]
        if steps[0] == "sister":
            options.append(f"cháu gọi bằng {'cậu' if martyr_sex == 'Nam' else 'dì'}")
        else:
            options.append(f"cháu gọi bằng {'chú' if martyr_sex == 'Nam' else 'cô'}")
        vague = ["cháu ruột", "cháu"]
    elif len(steps) == 2 and steps[0] in ("son", "daughter"):
        options = (
            ["cháu nội", "cháu nội (con của con trai)"]
            if steps[0] == "son"
            else [
                "cháu ngoại",
                "cháu ngoại (con của con gái)",
            ]
        )
        vague = ["cháu"]
    elif path == "mother.sister":
        options = ["dì ruột", "dì", "dì (em gái của mẹ)" if not o else "dì (chị gái của mẹ)"]
        if not southern and o:
            options, vague = ["bác (chị gái của mẹ)"], ["bác", "bác gái"]
    elif path == "mother.brother":
        options = ["cậu", "cậu ruột"]
        if not southern and o:
            options, vague = ["bác (anh của mẹ)"], ["bác", "bác trai"]
    elif path == "father.brother":
        options = ["chú", "chú ruột"]
        if o:
            options, vague = (
                [f"bác (anh của {father_word})", f"bác ruột (anh trai của {father_word})"],
                [
                    "bác",
                    "bác ruột",
                ],
            )
    elif path == "father.sister":
        options = ["cô", "cô ruột"]
        if not southern and o:
            options, vague = ["bác (chị của bố)"], ["bác gái"]
    elif len(steps) == 3 and steps[:2] == ["mother", "sister"]:
        options = ["con của dì", "con dì", "anh em bạn dì", "con của dì ruột", f"{_sib(o, male)} con dì"]
        vague = [f"{_sib(o, male)} họ", "họ hàng"]
    elif len(steps) == 3 and steps[:2] == ["mother", "brother"]:
        options = ["con của cậu", "con cậu", "con của cậu ruột", f"{_sib(o, male)} con cậu"]
        vague = [f"{_sib(o, male)} họ", "họ hàng"]
    else:
        return "họ hàng"
    if vague and rng.random() < P_VAGUE:
        return rng.choice(vague)
    return rng.choice(options)
