"""Haplogroup assignment on PhyloTree build 17 with HaploGrep's weighted Kulczynski score.

The tree, the mutation weights and rCRS come from the `evehap` package (its rCRS-oriented PhyloTree 17
``tree-rcrs.xml`` and HaploGrep's ``weights-rcrs.txt``). evehap's own classifier scores the same
measure but takes about 0.4 s a profile and drops back mutations (``16108T!``) while parsing; the
scoring here is the same formula as a sparse matrix product over all nodes at once (milliseconds a
profile), with back mutations applied.

For a node with expected mutations E (the states along its path from rCRS) and a profile:

- only positions the profile covers count, so a control-region profile is classified on the control
  region alone (HaploGrep's ``Range``);
- haplogroup weight = weight of E found / weight of E covered; sample weight = weight of E found among
  the sample's tree mutations / weight of all the sample's tree mutations; the score is their mean
  (HaploGrep; evehap weights 1:2 when fewer than 1,000 positions are read, and so do we);
- nodes tied on the best score cannot be told apart on the range read: the answer is their most
  recent common ancestor, so a control region that fits B5a1 and its coding-region subclades alike
  is called B5a1, not an arbitrary subclade. evehap adds 942 "ForensicTree" nodes (``F1a1a*2``) that
  are not PhyloTree 17 names; they are never an answer.

Point heteroplasmies (``16093Y``) are left out as not observed: either base would claim a branch the
data do not support.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np
from scipy import sparse

from lietsi.lab.mtdna import (
    DELETION,
    RCRS_LENGTH,
    Ranges,
    normalize_ranges,
    parse_range,
    parse_variants,
    rcrs,
)

_DEFAULT_WEIGHT = 5.0  # evehap's weight for a mutation missing from the weights file
_SPARSE_POSITIONS = 1000  # evehap: below this many observed positions, weight the sample side 2:1
_TIE = 1e-9
_FORENSIC = "ForensicTree"
_CODES = {"A": 0, "C": 1, "G": 2, "T": 3, DELETION: 4}
_INSERTION_CODE = 5
_POLY = re.compile(r"^(\d+)(?:-(\d+))?(?:\.(\d+)([ACGT]+)|([ACGT])|(d))(!*)$")

Site = tuple[int, bool]  # (position, is an insertion after it)


@dataclass(frozen=True)
class Haplogroup:
    haplogroup: str
    quality: float  # HaploGrep's Kulczynski score of the answer, 0-1
    runner_up: str | None  # best node outside the tied set, for review of close calls
    runner_up_quality: float | None


def _mutations(poly: str) -> tuple[list[tuple[Site, str]], bool]:
    """PhyloTree notation → ([(site, allele)], is back mutation); unstable ``(16192)``, length
    heteroplasmy ``573.XC`` and other non-fixed states give nothing."""
    m = _POLY.match(poly.strip())
    if not m:
        return [], False
    start, end, _index, inserted, base, _deleted, bangs = m.groups()
    back = len(bangs) % 2 == 1
    if inserted:
        return [((int(start), True), inserted)], back
    if base:
        return [((int(start), False), base)], back
    last = int(end) if end else int(start)
    return [((p, False), DELETION) for p in range(int(start), last + 1)], back


@dataclass(frozen=True)
class _Tree:
    names: tuple[str, ...]
    parent: np.ndarray  # index of the parent node, -1 for the top
    answerable: np.ndarray  # bool: a PhyloTree 17 name (not a ForensicTree addition)
    expected: sparse.csr_matrix  # nodes x keys, 1 where the key is expected at the node
    key_pos: np.ndarray
    key_code: np.ndarray
    key_insert: tuple[str, ...]  # inserted bases for insertion keys, "" otherwise
    key_weight: np.ndarray
    key_is_variant: np.ndarray  # the expected state differs from rCRS
    index: dict[str, int]


@cache
def _tree() -> _Tree:
    from evehap.core.classifier import load_mutation_weights

    data = resources.files("evehap").joinpath("data/phylotree")
    with resources.as_file(data / "weights-rcrs.txt") as path:
        weights = load_mutation_weights(str(path))
    root = ET.fromstring((data / "tree-rcrs.xml").read_bytes())
    names: list[str] = []
    parents: list[int] = []
    answerable: list[bool] = []
    keys: dict[tuple[Site, str], int] = {}
    rows: list[int] = []
    cols: list[int] = []

    def walk(element: ET.Element, parent: int, state: dict[Site, str]) -> None:
        state = dict(state)
        details = element.find("details")
        for poly in element.findall("./details/poly"):
            changes, back = _mutations(poly.text or "")
            for site, allele in changes:
                if back:
                    state.pop(site, None)
                else:
                    state[site] = allele
        node = len(names)
        names.append(element.get("name") or f"node{node}")
        parents.append(parent)
        answerable.append(details is None or details.get("reference") != _FORENSIC)
        for item in state.items():
            rows.append(node)
            cols.append(keys.setdefault(item, len(keys)))
        for child in element.findall("./haplogroup"):
            walk(child, node, state)

    for top in root.findall("./haplogroup"):
        walk(top, -1, {})
    ref = rcrs()
    key_list = list(keys)
    expected = sparse.csr_matrix(
        (np.ones(len(rows)), (np.array(rows), np.array(cols))), shape=(len(names), len(key_list))
    )

    def weight(site: Site, allele: str) -> float:
        pos, insertion = site
        label = f"{pos}.1{allele}" if insertion else (f"{pos}d" if allele == DELETION else f"{pos}{allele}")
        return weights.get(label, _DEFAULT_WEIGHT)

    return _Tree(
        names=tuple(names),
        parent=np.array(parents),
        answerable=np.array(answerable),
        expected=expected,
        key_pos=np.array([site[0] for site, _ in key_list]),
        key_code=np.array([_INSERTION_CODE if site[1] else _CODES[a] for site, a in key_list]),
        key_insert=tuple(a if site[1] else "" for site, a in key_list),
        key_weight=np.array([weight(site, a) for site, a in key_list]),
        key_is_variant=np.array([site[1] or a != ref[site[0] - 1] for site, a in key_list]),
        index={name: i for i, name in enumerate(names)},
    )


def _scores(ranges: Ranges, haplotype: str) -> np.ndarray:
    tree = _tree()
    ref = rcrs()
    covered = np.zeros(RCRS_LENGTH + 1, dtype=bool)
    code = np.full(RCRS_LENGTH + 1, -1)
    for a, b in normalize_ranges(ranges):
        covered[a : b + 1] = True
        code[a : b + 1] = [_CODES.get(base, -1) for base in ref[a - 1 : b]]
    covered[code < 0] = False  # the 3107 placeholder
    inserted: dict[int, str] = {}
    for v in parse_variants(haplotype):
        if v.insertion:
            inserted[v.position] = inserted.get(v.position, "") + v.allele
        elif v.allele in _CODES:
            code[v.position] = _CODES[v.allele]
        else:
            covered[v.position] = False  # heteroplasmy: not observed
    is_covered = covered[tree.key_pos]
    found = is_covered & (code[tree.key_pos] == tree.key_code)
    for k in np.flatnonzero(tree.key_code == _INSERTION_CODE):
        found[k] = is_covered[k] and inserted.get(int(tree.key_pos[k])) == tree.key_insert[k]
    weight = tree.key_weight
    expected_w = tree.expected @ (weight * is_covered)
    found_w = tree.expected @ (weight * found)
    sample = weight * (found & tree.key_is_variant)
    sample_all = sample.sum()
    found_sample_w = tree.expected @ sample
    with np.errstate(divide="ignore", invalid="ignore"):
        hw = np.where(expected_w > 0, found_w / expected_w, 0.0)
        sw = found_sample_w / sample_all if sample_all > 0 else hw
    sparse_profile = covered.sum() < _SPARSE_POSITIONS
    score = 0.33 * hw + 0.67 * sw if sparse_profile else 0.5 * (hw + sw)
    score = np.where(expected_w > 0, score, 0.0)
    # The top node is rCRS itself (H2a2a1): nothing expected, so it explains a sample fully only when
    # the sample has no tree mutation at all.
    top = np.flatnonzero(tree.parent < 0)
    score[top] = 1.0 if sample_all == 0 else 0.5
    return np.where(tree.answerable, score, 0.0)


def _ancestors(node: int) -> list[int]:
    parent = _tree().parent
    path = []
    while node >= 0:
        path.append(node)
        node = int(parent[node])
    return path


def _common_ancestor(nodes: np.ndarray) -> int:
    tree = _tree()
    common = _ancestors(int(nodes[0]))
    for node in nodes[1:]:
        seen = set(_ancestors(int(node)))
        common = [n for n in common if n in seen]
    answer = next(n for n in common if tree.answerable[n])
    return answer


@lru_cache(maxsize=65536)
def classify(range_text: str, haplotype: str) -> Haplogroup:
    """Best PhyloTree 17 haplogroup for a canonical (range, haplotype); memoised on the pair."""
    tree = _tree()
    score = _scores(parse_range(range_text), haplotype)
    best = score.max()
    tied = np.flatnonzero(score >= best - _TIE)
    answer = _common_ancestor(tied)
    others = score.copy()
    others[tied] = -1.0
    runner = int(others.argmax())
    return Haplogroup(
        haplogroup=tree.names[answer],
        quality=round(float(best), 4),
        runner_up=tree.names[runner] if others[runner] > 0 else None,
        runner_up_quality=round(float(others[runner]), 4) if others[runner] > 0 else None,
    )


def is_within(haplogroup: str, clade: str) -> bool:
    """True when `haplogroup` is `clade` or below it in PhyloTree 17 (by the tree, not by name)."""
    tree = _tree()
    node, target = tree.index.get(haplogroup), tree.index.get(clade)
    return node is not None and target is not None and target in _ancestors(node)


def control_region_motif(haplogroup: str, region: Ranges = ((16024, RCRS_LENGTH), (1, 576))) -> frozenset:
    """The expected states of a node inside `region`: two nodes with the same motif cannot be told
    apart by a profile of that region."""
    tree = _tree()
    row = tree.expected.getrow(tree.index[haplogroup])
    spans = normalize_ranges(region)
    return frozenset(
        (int(tree.key_pos[k]), tree.key_insert[k], int(tree.key_code[k]))
        for k in row.indices
        if any(a <= tree.key_pos[k] <= b for a, b in spans)
    )
