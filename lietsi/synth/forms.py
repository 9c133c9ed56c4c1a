"""Survey forms 01 and 02, drawn from the family trees, and the people behind them.

Form 01 lists a martyr whose grave is identified and the relative who receives the allowance; form
02 lists a martyr without grave information once per living relative the commune found. The
relation is written as the family says it (`em gái ruột`, `con của dì`, `cháu`), the surveyor
copies it with the usual slips, and the truth keeps the genealogical path and whether the relative
carries the martyr's mtDNA (same maternal line).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lietsi.schema import PHIEU_01, PHIEU_02
from lietsi.synth import haplotypes, names, places
from lietsi.synth.config import DEMO, GeneratorConfig
from lietsi.synth.dirt import Dirt, partial_date
from lietsi.synth.families import (
    REFERENCE_YEAR,
    Family,
    Kin,
    Person,
    build_family,
    kinship,
    relationship_text,
)
from lietsi.synth.martyrs import Martyr
from lietsi.synth.truth import Truth
from lietsi.synth.writers import FileStyle, Sink

# Closeness order: who a commune lists first, and who receives the allowance.
_GROUPS = (
    ("mother", "father"),
    ("wife", "husband"),
    ("son", "daughter"),
    ("brother", "sister"),
    ("mother.son", "mother.daughter", "father.son", "father.daughter"),
    ("mother.sister", "mother.brother", "father.brother", "father.sister"),
)
_NEPHEW = ("brother.son", "brother.daughter", "sister.son", "sister.daughter")
_GRANDCHILD = ("son.son", "son.daughter", "daughter.son", "daughter.daughter")


def _group(path: str) -> int:
    for i, g in enumerate(_GROUPS):
        if path in g:
            return i
    if path in _NEPHEW:
        return len(_GROUPS)
    if path in _GRANDCHILD:
        return len(_GROUPS) + 1
    return len(_GROUPS) + 2  # cousins


def _p02_style(i: int) -> FileStyle:
    return {
        0: FileStyle(legacy="tcvn3", legacy_as_bytes=False),
        1: FileStyle(legacy="vni"),
        2: FileStyle(fmt="xlsx", title="PHIẾU SỐ 02 - TỔNG HỢP THÂN NHÂN LIỆT SĨ"),
        3: FileStyle(truncate=True),
        4: FileStyle(sep=";"),
        5: FileStyle(nfd=True),
        6: FileStyle(header_variant=True),
        7: FileStyle(bom=True),
    }.get(i, FileStyle())


def _p01_style(i: int) -> FileStyle:
    return {
        0: FileStyle(fmt="xlsx", title="PHIẾU SỐ 01 - LIỆT SĨ ĐÃ XÁC ĐỊNH ĐƯỢC MỘ"),
        1: FileStyle(bom=True),
        2: FileStyle(legacy="vni"),
        3: FileStyle(header_variant=True, sep=";"),
    }.get(i, FileStyle())


@dataclass
class Listed:
    person: Person
    martyr: Martyr
    shares_mtdna: bool
    commune: places.Commune


@dataclass
class FormsResult:
    sampled_candidates: list[Listed] = field(default_factory=list)


class People:
    """Person-level facts drawn once per person: citizen id, health, consent, phone."""

    def __init__(self, seed: int, province_code: str):
        self.seed = seed
        self.code = province_code
        self.used: set[str] = set()

    def citizen_id(self, rng: random.Random, p: Person) -> str:
        if not p.alive or p.birth_year > REFERENCE_YEAR - 14:
            return ""
        century = (0 if p.birth_year < 2000 else 2) + (1 if p.sex == "Nữ" else 0)
        code = self.code if rng.random() < 0.85 else rng.choice(("079", "089", "092", "096", "001"))
        while True:
            cid = f"{code}{century}{p.birth_year % 100:02d}{rng.randrange(10**6):06d}"
            if cid not in self.used:
                self.used.add(cid)
                return cid

    def fill(self, rng: random.Random, p: Person) -> None:
        if p.citizen_id or not p.alive:
            return
        p.citizen_id = self.citizen_id(rng, p)
        age = REFERENCE_YEAR - p.birth_year
        r = rng.random()
        bands = (0.9, 0.99) if age < 60 else (0.7, 0.95) if age < 75 else (0.45, 0.85)
        p.health = "Bình thường" if r < bands[0] else "Yếu" if r < bands[1] else "Nặng"
        r = rng.random()
        p_yes = 0.72 if p.health != "Nặng" else 0.4
        p.consent = "Có" if r < p_yes else "Không" if r < p_yes + 0.08 else ""
        p.phone = f"0{rng.choice((9, 3, 8, 7))}{rng.randrange(10**8):08d}" if rng.random() < 0.8 else ""


def surveyed(rng: random.Random, fam: Family, martyr_p: Person) -> list[tuple[Person, Kin]]:
    """The living relatives a commune lists for one martyr, closest first (at most 10)."""
    found = []
    for p in fam.persons.values():
        if not p.alive or p.martyr_uid:
            continue
        kin = kinship(fam, martyr_p, p)
        if kin is not None:
            found.append((p, kin))
    found.sort(key=lambda pk: (_group(pk[1].path), pk[0].birth_year, pk[0].uid))
    out, per_group = [], {}
    limits = {len(_GROUPS): 3, len(_GROUPS) + 1: 1, len(_GROUPS) + 2: 2}
    for p, kin in found:
        g = _group(kin.path)
        if g in limits:
            if per_group.get(g, 0) >= limits[g] or rng.random() < 0.35:
                continue
            per_group[g] = per_group.get(g, 0) + 1
        out.append((p, kin))
    return out[:10]


_ABBREVIATIONS = (
    ("thành phố ", "TP. "),
    ("thị trấn ", "TT. "),
    ("thị xã ", "TX. "),
    ("phường ", "P. "),
    ("huyện ", "H. "),
    ("xã ", "X. "),
    ("tỉnh ", "T. "),
)


def _address(
    seed: int, rng: random.Random, p: Person, c: places.Commune, word: str, config: GeneratorConfig
) -> str:
    """A relative's permanent address (`Địa chỉ thường trú`): one village per person, on every row
    that names them. Since the 2025 merger about a third of people write it in the new structure;
    a surveyor sometimes abbreviates the unit words (`X. Bình An, H. An Minh`) or, under
    `config.p_address_variant`, writes it another way."""
    home = random.Random(f"{seed}:address:{p.uid}")
    village = home.randint(1, 9)
    new = places.post_2025_name(c) if home.random() < 0.3 else None
    text = f"{word} {village}, {new or f'{c.full}, {c.district_full}'}"
    if rng.random() < 0.1:
        parts = text.split(", ")
        for i, part in enumerate(parts[1:], start=1):
            for long, short in _ABBREVIATIONS:
                if part.lower().startswith(long):
                    parts[i] = short + part[len(long) :]
                    break
        text = ", ".join(parts)
    if config.p_address_variant and rng.random() < config.p_address_variant:
        text = _address_variant(rng, text, word, village)
    return text


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")
_NUMBER_WORDS = ("Một", "Hai", "Ba", "Bốn", "Năm", "Sáu", "Bảy", "Tám", "Chín")


def _address_variant(rng: random.Random, text: str, word: str, village: int) -> str:
    """The same address as another hand writes it."""
    kind = rng.randrange(5)
    head, _, rest = text.partition(", ")
    if kind == 0:
        number = rng.choice((_ROMAN[village - 1], f"{village:02d}", _NUMBER_WORDS[village - 1]))
        return f"{rng.choice((word, word.lower()))} {number}, {rest}"
    if kind == 1:
        return names.strip_diacritics(text)
    if kind == 2:  # unit words left out: `Ấp 3, Bình An, An Minh`
        parts = [head]
        for part in rest.split(", "):
            low = part.lower()
            for long, short in _ABBREVIATIONS:
                if low.startswith(long) or low.startswith(short.lower()):
                    part = part[len(long) if low.startswith(long) else len(short) :]
                    break
            parts.append(part)
        return ", ".join(parts)
    if kind == 3:
        return text.lower()
    return text.replace(", ", " - ")


def _relative_name(
    dirt: Dirt, config: GeneratorConfig, name: str, kinds: list[str], allow_abbrev: bool = True
) -> str:
    if config.p_name_variant and dirt.rng.random() < config.p_name_variant:
        name = _name_variant(dirt.rng, name)
    return dirt.name(name, kinds, allow_abbrev=allow_abbrev)


def _name_variant(rng: random.Random, name: str) -> str:
    """A relative's name as another hand writes it: without the middle name, or spelt the
    Northern way (`Huỳnh` → `Hoàng`)."""
    parts = name.split()
    if parts[0] in names.SOUTH_TO_NORTH and rng.random() < 0.5:
        return names.northern_spelling(name)
    if len(parts) > 2:
        return " ".join((parts[0], parts[-1]))
    return name


OnRecord = Callable[[str, str, str, int, str], None]


def write_forms(
    inbox: Path,
    martyrs: list[Martyr],
    province: places.Province,
    seed: int,
    truth: Truth,
    on_record: OnRecord,
    config: GeneratorConfig = DEMO,
) -> FormsResult:
    result = FormsResult()
    people = People(seed, f"0{province.code}")
    districts = province.districts
    commune_idx = {(c.district, c.name): i for i, c in enumerate(province.communes)}
    by_family: dict[int, list[Martyr]] = {}
    for m in martyrs:
        by_family.setdefault(m.family_idx, []).append(m)
    line_haplotype = {m.lineage.uid: m.lineage.haplotype for m in martyrs}
    sinks01: dict[str, Sink] = {}
    sinks02: dict[str, Sink] = {}
    seq: dict[tuple[str, int], int] = {}

    def sink(kind: str, district: str) -> Sink:
        store, source, style = (
            (sinks01, PHIEU_01, _p01_style) if kind == "01" else (sinks02, PHIEU_02, _p02_style)
        )
        if district not in store:
            i = districts.index(district)
            slug = names.strip_diacritics(district).lower().replace(" ", "_")
            st = style(i)
            store[district] = Sink(
                inbox, source, f"phieu_{kind}_{slug}.{'xlsx' if st.fmt == 'xlsx' else 'csv'}", st, truth.dirt
            )
        return store[district]

    order = sorted(
        by_family,
        key=lambda f: (commune_idx[(by_family[f][0].commune.district, by_family[f][0].commune.name)], f),
    )
    for f in order:
        ms = by_family[f]
        rng = random.Random(f"{seed}:family:{f}")
        fam = build_family(rng, f"F{f:07d}", [m.core for m in ms])
        for p in fam.persons.values():
            if p.line_uid not in line_haplotype:
                line_haplotype[p.line_uid] = haplotypes.new_lineage(
                    random.Random(f"{seed}:line:{p.line_uid}"), p.line_uid, seed
                ).haplotype
        dirt = Dirt(rng)
        # Same generator: at the demo's scale 1 the draws are the same as `dirt`'s would be.
        relative_dirt = Dirt(rng, config.relative_name_dirt)
        for m in ms:
            mp = next(x for x in fam.martyrs if x.martyr_uid == m.uid)
            c = m.commune
            cidx = commune_idx[(c.district, c.name)]
            word = places.village_word(province, c)
            listed = surveyed(rng, fam, mp)
            for p, _ in listed:
                people.fill(rng, p)
            if m.grave_status == "Đã xác định":
                if not listed or rng.random() > 0.9:
                    continue
                p, kin = listed[0]
                key = ("01", cidx)
                seq[key] = seq.get(key, 0) + 1
                form_no = f"P01-{cidx + 1:03d}-{seq[key]:04d}"
                kinds: list[str] = []
                rel = relationship_text(rng, kin, m.sex, province.southern)
                row = {
                    "form_no": form_no,
                    "survey_commune": c.full if rng.random() < 0.5 else c.name,
                    "survey_date": _survey_date(rng),
                    "martyr_name": dirt.name(m.name, kinds),
                    "martyr_birth_year": dirt.year(m.birth_year, kinds) if rng.random() < 0.9 else "",
                    "martyr_hometown": places.hometown_text(rng, c),
                    "death_date": dirt.date(
                        partial_date(
                            rng, m.death_date.year, m.death_date.month, m.death_date.day, 0.55, 0.25, 0.2
                        ),
                        kinds,
                    ),
                    "cemetery": m.cemetery,
                    "grave_position": m.grave_position,
                    "recipient_name": _relative_name(relative_dirt, config, p.name, kinds, False),
                    "relationship": dirt.text(rel, kinds),
                    "recipient_citizen_id": dirt.citizen_id(p.citizen_id, kinds),
                    "address": _address(seed, rng, p, c, word, config),
                }
                s = sink("01", c.district)
                n = s.row(row, kinds)
                on_record("phieu_01", form_no, s.name, n, m.uid)
                _relative(truth, "phieu_01", s.name, n, p, m, rel, kin, mp)
                continue
            if not listed or rng.random() > 0.92:
                continue
            key = ("02", cidx)
            seq[key] = seq.get(key, 0) + 1
            form_no = f"P02-{cidx + 1:03d}-{seq[key]:04d}"
            mk: list[str] = []
            head = {
                "form_no": form_no,
                "survey_commune": c.full if rng.random() < 0.5 else c.name,
                "survey_date": _survey_date(rng),
                "martyr_name": dirt.name(m.name, mk),
                "martyr_sex": m.sex if rng.random() < 0.9 else "",
                "martyr_birth_year": dirt.year(m.birth_year, mk) if rng.random() < 0.9 else "",
                "martyr_hometown": places.hometown_text(rng, c),
                "death_date": dirt.date(
                    partial_date(rng, m.death_date.year, m.death_date.month, m.death_date.day, 0.4, 0.3, 0.3),
                    mk,
                ),
                "death_place": m.death_place if rng.random() < config.p_death_place_form else "",
                "unit": (m.unit_abbr if rng.random() < 0.3 else m.unit) if rng.random() < 0.6 else "",
                "martyr_mother_name": dirt.name(m.core.mother_name, mk, allow_abbrev=False)
                if rng.random() < 0.85
                else "",
                "certificate_no": m.certificate_no if rng.random() < 0.6 else "",
            }
            s = sink("02", c.district)
            for p, kin in listed:
                kinds = list(mk)
                rel = relationship_text(rng, kin, m.sex, province.southern)
                row = {
                    **head,
                    "relative_name": _relative_name(relative_dirt, config, p.name, kinds),
                    "relative_sex": p.sex if rng.random() < 0.95 else "",
                    "relative_birth_year": dirt.year(p.birth_year, kinds) if rng.random() < 0.93 else "",
                    "citizen_id": dirt.citizen_id(p.citizen_id, kinds) if rng.random() < 0.9 else "",
                    "phone": p.phone,
                    "address": _address(seed, rng, p, c, word, config),
                    "relationship": dirt.text(rel, kinds),
                    "health": p.health,
                    "consent": p.consent,
                }
                n = s.row(row, kinds)
                on_record("phieu_02", form_no, s.name, n, m.uid)
                shares = _relative(truth, "phieu_02", s.name, n, p, m, rel, kin, mp)
                if dirt.hit("duplicate_row"):
                    n = s.row(row, ["duplicate_row"])
                    on_record("phieu_02", form_no, s.name, n, m.uid)
                    _relative(truth, "phieu_02", s.name, n, p, m, rel, kin, mp)
                if p.consent == "Có" and p.citizen_id:
                    result.sampled_candidates.append(Listed(p, m, shares, c))
        for p in fam.persons.values():
            truth.write(
                "persons",
                {
                    "person_uid": p.uid,
                    "family_uid": p.family_uid,
                    "full_name": p.name,
                    "sex": p.sex,
                    "birth_year": p.birth_year,
                    "alive": p.alive,
                    "health": p.health,
                    "consent": p.consent,
                    "citizen_id": p.citizen_id,
                    "maternal_line_uid": p.line_uid,
                    "haplotype": line_haplotype[p.line_uid],
                    "martyr_uid": p.martyr_uid,
                },
            )
    for s in (*sinks01.values(), *sinks02.values()):
        s.close()
    return result


def _relative(
    truth: Truth, source: str, file: str, row: int, p: Person, m: Martyr, rel: str, kin: Kin, mp: Person
) -> bool:
    shares = p.line_uid == mp.line_uid
    truth.write(
        "relative_records",
        {
            "source": source,
            "file": file,
            "row_number": row,
            "person_uid": p.uid,
            "martyr_uid": m.uid,
            "relationship_text": rel,
            "kin_path": kin.path,
            "shares_mtdna": shares,
        },
    )
    return shares


def _survey_date(rng: random.Random) -> str:
    d = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(420))
    return f"{d.day:02d}/{d.month:02d}/{d.year}"
