"""Haplogroup assignment on PhyloTree build 17 through the `evehap` package.

`evehap` scores every PhyloTree node with HaploGrep's weighted Kulczynski measure (expected vs found
mutations, rare mutations weigh more) and ships the rCRS-oriented tree, HaploGrep's weights and rCRS.
We hand it one observation per *covered* position, so mutations outside the range read are neither
expected nor missing — the classification is restricted to the range, as HaploGrep does with its
``Range`` column. Point heteroplasmies (``16093Y``) are left out as not observed: either base would
claim a branch the data do not support. Insertions are left out too: evehap stores an observation
per position, and the tree's few insertions (``455.1T``, ``2156.1A``) are not informative in the
control region, while the C-stretch ones are hotspots HaploGrep ignores.

Classification takes about 0.1 s a profile, so callers classify each distinct (range, haplotype)
once; :func:`classify` is memoised.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lietsi.mtdna import DELETION, Ranges, Variant, normalize_ranges, parse_range, parse_variants, rcrs


@dataclass(frozen=True)
class Haplogroup:
    haplogroup: str
    quality: float  # HaploGrep's Kulczynski score of the best node, 0-1
    runner_up: str | None  # second-best node, for review of close calls
    runner_up_quality: float | None


@lru_cache(maxsize=1)
def _scorer():  # -> evehap KulczynskiScorer (evehap has no type stubs)
    from evehap.core.classifier import KulczynskiScorer
    from evehap.core.phylotree import Phylotree

    data = resources.files("evehap").joinpath("data/phylotree")
    with resources.as_file(data / "tree-rcrs.xml") as tree, resources.as_file(data / "weights-rcrs.txt") as w:
        # evehap prints progress when loading; keep pipeline logs clean.
        with contextlib.redirect_stdout(io.StringIO()):
            tree_obj = Phylotree.load(str(tree), str(w))
        return KulczynskiScorer(tree_obj, weights_path=str(w))


def _profile(ranges: Ranges, variants: tuple[Variant, ...]):  # -> evehap AlleleProfile
    from evehap.core.profile import AlleleObservation, AlleleProfile

    seq = rcrs()
    alleles = {v.position: v.allele for v in variants if not v.insertion}
    profile = AlleleProfile(sample_id="profile", source_format="empop")
    for a, b in normalize_ranges(ranges):
        for position in range(a, b + 1):
            ref = seq[position - 1]
            allele = alleles.get(position, ref)
            if ref not in "ACGT" or (allele != DELETION and allele not in "ACGT"):
                continue
            observed = "-" if allele == DELETION else allele
            profile.add_observation(
                AlleleObservation(position=position, ref_allele=ref, alleles={observed: 1.0}, source="empop")
            )
    return profile


@lru_cache(maxsize=65536)
def classify(range_text: str, haplotype: str) -> Haplogroup:
    """Best PhyloTree 17 haplogroup for a canonical (range, haplotype); memoised on the pair."""
    scorer = _scorer()
    profile = _profile(parse_range(range_text), parse_variants(haplotype))
    # The score is HaploGrep's quality, unscaled: evehap's Classifier shrinks it for partial coverage,
    # which would make every control-region profile look poor.
    scores = list(scorer.score_all(profile, top_n=2, use_pruning=False))
    # evehap gives the tree's root (rCRS itself, H2a2a1, no expected mutations) no score. As in
    # HaploGrep it explains a sample fully when the sample has no tree mutation at all.
    root = scorer.phylotree.get_root()
    # evehap puts a synthetic "root" above the tree's first node; that first node is rCRS's own.
    while root is not None and root.haplogroup == "root" and len(root.children) == 1:
        root = root.children[0]
    informative_weight = scorer.precompute_sample_info(profile)[1]
    root_score = 1.0 if informative_weight == 0 else 0.5
    if root is not None and (not scores or root_score > scores[0][1]):
        scores.insert(0, (root.haplogroup, root_score))
    best, quality = scores[0]
    runner_up, runner_up_quality = scores[1] if len(scores) > 1 else (None, None)
    return Haplogroup(
        haplogroup=best,
        quality=round(float(quality), 4),
        runner_up=runner_up,
        runner_up_quality=None if runner_up_quality is None else round(float(runner_up_quality), 4),
    )


def is_within(haplogroup: str, clade: str) -> bool:
    """True when `haplogroup` is `clade` or below it in PhyloTree 17 (by the tree, not by name)."""
    node = _scorer().phylotree.get_haplogroup(haplogroup)
    while node is not None:
        if node.haplogroup == clade:
            return True
        node = node.parent
    return False
