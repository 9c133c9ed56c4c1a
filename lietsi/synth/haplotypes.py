"""Maternal lineages: haplogroups by published Vietnamese shares, control-region haplotypes.

Haplogroup shares are those of 706 Vietnamese mitogenomes (GenBank-based Southeast-Asian
compilation, mostly minority groups: B4 17.1%, F1a 10.2%, M7b1a1 8.4%, F1* 6.7%, B5a 6.1%, …;
see docs/synth.md). Each share is a *bin*; within a bin the generator picks named PhyloTree 17
nodes. The expected control-region motif of a node is derived at run time from evehap's packaged
rCRS-oriented PhyloTree 17: walking from the root (rCRS, H2a2a1) to the node and applying each
mutation gives the node's differences from rCRS.

A lineage carries its haplogroup motif, the near-universal length variants (315.1C, often
309.1C/309.1CC, 16519C), and a few private mutations. Private mutations come from a small pool per
haplogroup so that unrelated families in common haplogroups often share a haplotype, as in life
(the commonest Vietnamese control region, F1a1a, is 3.1% of people). They sit only at
control-region sites that define no PhyloTree 17 node (derived from the packaged tree), so a
private mutation never moves a profile onto another branch's motif.

A node is drawn as a whole-mitogenome haplogroup (F1c, D4g, M74 …), but many nodes differ from
their parent only in the coding region: a control-region read cannot tell them apart.
`resolvable(node, region)` is the node such a read can identify: the most recent common ancestor
of every PhyloTree node whose motif within the region is the same as the drawn node's.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from importlib import resources

from lietsi.lab import mtdna
from lietsi.synth.names import Picker

# Vietnam, n = 706: (bin, percent).
VIETNAM_HAPLOGROUP_SHARES: tuple[tuple[str, float], ...] = (
    ("B4", 17.14),
    ("F1a", 10.2),
    ("M7b1a1", 8.36),
    ("F1*", 6.66),
    ("B5a", 6.09),
    ("M*", 5.38),
    ("M71", 5.38),
    ("C7", 4.53),
    ("D4*", 3.97),
    ("N9a", 3.12),
    ("F3", 3.12),
    ("A", 2.97),
    ("M7c", 2.83),
    ("F2", 2.69),
    ("R9*", 2.55),
    ("D5", 2.27),
    ("B6", 1.98),
    ("M74", 1.7),
    ("G", 1.42),
    ("N21", 1.27),
    ("C*", 1.27),
    ("M9", 1.13),
    ("M12", 1.13),
    ("M21", 0.99),
    ("M20", 0.71),
    ("R*", 0.57),
    ("B5*", 0.28),
    ("M24", 0.14),
    ("other", 0.14),
)
# PhyloTree 17 nodes standing for each bin (subclades reported in Vietnamese samples).
BIN_NODES: dict[str, tuple[str, ...]] = {
    "B4": ("B4", "B4a", "B4a1", "B4b1", "B4c1", "B4c2", "B4g", "B4e"),
    "F1a": ("F1a", "F1a1", "F1a1a", "F1a3", "F1a4"),
    "M7b1a1": ("M7b1a1", "M7b1a1a", "M7b1a1c1", "M7b1a1e", "M7b1a1a3"),
    "F1*": ("F1", "F1b", "F1c", "F1e", "F1f", "F1g"),
    "B5a": ("B5a", "B5a1", "B5a1a", "B5a1c", "B5a2"),
    "M*": ("M17c", "M51", "M68", "M72", "M73", "M13", "M7b1"),
    "M71": ("M71", "M71a", "M71c"),
    "C7": ("C7", "C7a", "C7b"),
    "D4*": ("D4", "D4a", "D4e1", "D4g", "D4j"),
    "N9a": ("N9a", "N9a1", "N9a6", "N9a10"),
    "F3": ("F3a", "F3a1", "F3b"),
    "A": ("A", "A14", "A17", "A5"),
    "M7c": ("M7c", "M7c1", "M7c1a", "M7c1c"),
    "F2": ("F2", "F2a", "F2b"),
    "R9*": ("R9", "R9b", "R9c", "R9b1"),
    "D5": ("D5", "D5a", "D5b"),
    "B6": ("B6", "B6a"),
    "M74": ("M74", "M74a", "M74b"),
    "G": ("G", "G2a"),
    "N21": ("N21",),
    "C*": ("C", "C4"),
    "M9": ("M9a", "M9a1"),
    "M12": ("M12", "M12a"),
    "M21": ("M21a", "M21b"),
    "M20": ("M20",),
    "R*": ("R", "R22", "R23"),
    "B5*": ("B5b", "B5b1"),
    "M24": ("M24a",),
    "other": ("N8", "R11", "Y2", "N10a"),
}
CONTROL_REGION = ((16024, 16569), (1, 576))
HV1 = ((16024, 16365),)
# Fast-evolving control-region sites where point heteroplasmy is seen, with the second base. Most
# define PhyloTree branches; the classifier reads an IUPAC code as "not observed".
_HETEROPLASMY_SITES = (
    (16093, "C"),
    (16311, "C"),
    (16189, "C"),
    (152, "C"),
    (16266, "T"),
    (16278, "T"),
    (16129, "A"),
    (16163, "G"),
    (16172, "C"),
    (16209, "C"),
    (16274, "A"),
    (16290, "T"),
    (16362, "C"),
    (16399, "G"),
    (146, "C"),
    (150, "T"),
    (195, "C"),
    (199, "C"),
    (204, "C"),
    (207, "A"),
    (228, "A"),
    (235, "G"),
    (16051, "G"),
    (16086, "C"),
    (16104, "T"),
    (16145, "A"),
    (16261, "T"),
    (16291, "T"),
    (16304, "C"),
    (16319, "A"),
    (16335, "G"),
    (16344, "T"),
    (16357, "C"),
    (16390, "A"),
    (189, "G"),
    (215, "G"),
)
_IUPAC = {
    frozenset("CT"): "Y",
    frozenset("AG"): "R",
    frozenset("AC"): "M",
    frozenset("GT"): "K",
    frozenset("CG"): "S",
    frozenset("AT"): "W",
}

Variant = tuple[int, int, str]  # (position, insertion index, allele or "del")


def _parse_poly(poly: str) -> Variant | None:
    p = poly.strip().rstrip("!")
    if not p or "X" in p or p[0] in "(@":
        return None
    if "." in p:
        pos, rest = p.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        bases = rest[len(digits) :]
        if not digits or not bases or not pos.isdigit():
            return None
        return (int(pos), int(digits) + len(bases) - 1, bases[-1]) if len(bases) == 1 else None
    if p.endswith("d") and p[:-1].isdigit():
        return (int(p[:-1]), 0, "del")
    if p[:-1].isdigit() and p[-1] in "ACGT":
        return (int(p[:-1]), 0, p[-1])
    return None  # heteroplasmic (R/Y) or bare-position polys are not fixed states


@dataclass(frozen=True, slots=True)
class _Node:
    parent: str | None
    polys: tuple[str, ...]
    answerable: bool  # a PhyloTree 17 name, not one of evehap's "ForensicTree" additions


@cache
def _tree() -> dict[str, _Node]:
    """name → node for every node of PhyloTree 17 (rCRS-oriented), parents before children."""
    path = resources.files("evehap").joinpath("data/phylotree/tree-rcrs.xml")
    root = ET.fromstring(path.read_bytes())
    out: dict[str, _Node] = {}

    def walk(node: ET.Element, parent: str | None) -> None:
        name = node.get("name")
        details = node.find("details")
        polys = tuple(p.text or "" for p in node.findall("./details/poly"))
        out[name] = _Node(parent, polys, details is None or details.get("reference") != "ForensicTree")
        for child in node.findall("./haplogroup"):
            walk(child, name)

    for top in root.findall("./haplogroup"):
        walk(top, None)
    return out


_POLY_SITE = re.compile(r"^(\d+)(?:-(\d+))?")


@cache
def tree_positions() -> frozenset[int]:
    """Every position named by a mutation of any node (PhyloTree and ForensicTree alike)."""
    out: set[int] = set()
    for node in _tree().values():
        for poly in node.polys:
            m = _POLY_SITE.match(poly.strip())
            if m:
                start = int(m.group(1))
                out.update(range(start, int(m.group(2) or start) + 1))
    return frozenset(out)


# Length-variable stretches and hotspots PhyloTree leaves out of the phylogeny (C-stretches
# 16184-16193, 303-315, 568-573, the AC repeat 515-524, 16519): not point private mutations.
_UNSTABLE = ((16180, 16195), (16519, 16519), (302, 317), (513, 525), (566, 574))
_TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}


@cache
def private_sites() -> tuple[tuple[int, str], ...]:
    """Control-region sites that define no tree node, with a derived base (90% transitions, as
    observed in control-region mutation spectra). Derived at run time from the packaged tree."""
    ref = mtdna.rcrs()
    rng = random.Random("private-sites")
    taken = tree_positions()
    out = []
    for a, b in CONTROL_REGION:
        for pos in range(a, b + 1):
            base = ref[pos - 1]
            if pos in taken or base not in _TRANSITION or any(x <= pos <= y for x, y in _UNSTABLE):
                continue
            if rng.random() < 0.9:
                out.append((pos, _TRANSITION[base]))
            else:
                out.append((pos, rng.choice([x for x in "ACGT" if x not in (base, _TRANSITION[base])])))
    return tuple(out)


@cache
def motif(haplogroup: str, region: tuple[tuple[int, int], ...] = CONTROL_REGION) -> tuple[Variant, ...]:
    """Differences from rCRS expected at a PhyloTree 17 node, within `region`."""
    tree = _tree()
    if haplogroup not in tree:
        raise KeyError(f"{haplogroup} is not a PhyloTree 17 node")
    state: dict[tuple[int, int], str] = {}
    for name in reversed(_ancestry(haplogroup)):
        _apply(state, tree[name].polys)
    return tuple(sorted((p, i, a) for (p, i), a in state.items() if mtdna.covers(region, p)))


def _ancestry(name: str) -> list[str]:
    """The node and its ancestors, the node first."""
    tree = _tree()
    chain: list[str] = []
    node: str | None = name
    while node is not None:
        chain.append(node)
        node = tree[node].parent
    return chain


def _apply(state: dict[tuple[int, int], str], polys: tuple[str, ...]) -> None:
    ref = mtdna.rcrs()
    for poly in polys:
        v = _parse_poly(poly)
        if v is None:
            continue
        pos, ins, allele = v
        # `16304C!` undoes the named mutation: the site returns to its earlier (here rCRS) state.
        if poly.strip().endswith("!") or (ins == 0 and allele == ref[pos - 1]):
            state.pop((pos, ins), None)
        else:
            state[(pos, ins)] = allele


@cache
def _motif_classes(region: tuple[tuple[int, int], ...]) -> dict[frozenset[Variant], tuple[str, ...]]:
    """PhyloTree 17 nodes grouped by their motif within `region` (one walk over the whole tree)."""
    tree = _tree()
    states: dict[str, dict[tuple[int, int], str]] = {}
    classes: dict[frozenset[Variant], list[str]] = {}
    for name, node in tree.items():  # parents come before children
        state = dict(states[node.parent]) if node.parent is not None else {}
        _apply(state, node.polys)
        states[name] = state
        if node.answerable:
            key = frozenset((p, i, a) for (p, i), a in state.items() if mtdna.covers(region, p))
            classes.setdefault(key, []).append(name)
    return {k: tuple(v) for k, v in classes.items()}


@cache
def resolvable(haplogroup: str, region: tuple[tuple[int, int], ...] = CONTROL_REGION) -> str:
    """The most specific PhyloTree 17 node a read of `region` can identify for a lineage of
    `haplogroup`: the most recent common ancestor of all nodes with the same motif in the region
    (a HaploGrep-style classifier ties exactly those nodes)."""
    same = _motif_classes(region)[frozenset(motif(haplogroup, region))]
    common = _ancestry(same[0])
    for name in same[1:]:
        seen = set(_ancestry(name))
        common = [n for n in common if n in seen]
    tree = _tree()
    return next(n for n in common if tree[n].answerable)


def haplotype_text(variants: tuple[Variant, ...]) -> str:
    """Canonical EMPOP text (lietsi.lab.mtdna's format) of the generator's (pos, ins, allele) tuples."""
    return mtdna.format_variants(mtdna.Variant(*v) for v in variants)


@dataclass(frozen=True, slots=True)
class Lineage:
    uid: str
    haplogroup: str  # the node a control-region read resolves (see `resolvable`)
    bin: str
    variants: tuple[Variant, ...]
    node: str  # the drawn whole-mitogenome node (may be defined by coding-region mutations only)

    @property
    def haplotype(self) -> str:
        return haplotype_text(self.variants)


_BIN = Picker(VIETNAM_HAPLOGROUP_SHARES)


@cache
def _pool(haplogroup: str, salt: int) -> tuple[tuple[Variant, ...], ...]:
    """Common haplotypes of a haplogroup: the bare motif and a few one-step relatives."""
    rng = random.Random(f"pool:{haplogroup}:{salt}")
    base = motif(haplogroup)
    out = [base]
    for pos, allele in rng.sample(private_sites(), 4):
        out.append(tuple(sorted((*base, (pos, 0, allele)))))
    return tuple(out)


def new_lineage(rng: random.Random, uid: str, salt: int) -> Lineage:
    bin_ = _BIN(rng)
    nodes = [n for n in BIN_NODES[bin_] if n in _tree()]
    haplogroup = rng.choice(nodes)
    pool = _pool(haplogroup, salt)
    # Zipf-like reuse of the pool: the bare motif is commonest; a third of lineages are unique.
    r = rng.random()
    if r < 0.30:
        core = pool[0]
    elif r < 0.65:
        core = pool[min(int(rng.expovariate(0.9)) + 1, len(pool) - 1)]
    else:
        extra = rng.sample(private_sites(), rng.choice((1, 1, 2)))
        core = tuple(sorted((*pool[0], *((p, 0, a) for p, a in extra))))
    length = [(315, 1, "C")] if rng.random() < 0.97 else []
    r = rng.random()
    if r < 0.45:
        length.append((309, 1, "C"))
    elif r < 0.60:
        length += [(309, 1, "C"), (309, 2, "C")]
    if rng.random() < 0.55:
        length.append((16519, 0, "C"))
    variants = tuple(sorted({(p, i): (p, i, a) for p, i, a in (*core, *length)}.values()))
    return Lineage(uid, resolvable(haplogroup), bin_, variants, haplogroup)


def observed(
    rng: random.Random, variants: tuple[Variant, ...], heteroplasmy: float = 0.03, length_change: float = 0.06
) -> tuple[Variant, ...]:
    """What a lab reads for one person of a lineage: point heteroplasmy, C-stretch length changes."""
    out = list(variants)
    if rng.random() < length_change:
        has_309_2 = (309, 2, "C") in out
        if has_309_2:
            out.remove((309, 2, "C"))
        elif (309, 1, "C") in out:
            out.append((309, 2, "C"))
        else:
            out.append((309, 1, "C"))
    if rng.random() < heteroplasmy:
        ref = mtdna.rcrs()
        pos, base = rng.choice(_HETEROPLASMY_SITES)
        current = {p: a for p, i, a in out if i == 0}
        present = current.get(pos, ref[pos - 1])
        if present in "ACGT" and base != present:
            out = [v for v in out if not (v[0] == pos and v[1] == 0)]
            out.append((pos, 0, _IUPAC[frozenset((present, base))]))
    return tuple(sorted(out))


def restrict(variants: tuple[Variant, ...], region: tuple[tuple[int, int], ...]) -> tuple[Variant, ...]:
    return tuple(v for v in variants if mtdna.covers(region, v[0]))


def read_sequence(variants: tuple[Variant, ...], region: tuple[tuple[int, int], ...]) -> str:
    """The read of `region` (in the order given) built from rCRS plus the variants."""
    ref = mtdna.rcrs()
    subs = {p: a for p, i, a in variants if i == 0}
    ins: dict[int, list[tuple[int, str]]] = {}
    for p, i, a in variants:
        if i:
            ins.setdefault(p, []).append((i, a))
    parts: list[str] = []
    for a, b in region:
        for pos in range(a, b + 1):
            base = subs.get(pos, ref[pos - 1])
            if base != "del":
                parts.append(base)
            parts.extend(al for _, al in sorted(ins.get(pos, ())))
    return "".join(parts)
