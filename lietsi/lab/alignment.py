"""Read sequence → EMPOP profile: align to rCRS, place indels as EMPOP does, call differences.

Method
------
1. **Seed and orient.** Every 20-mer of the read (and of its reverse complement) is looked up among
   the 20-mers that occur once in the circular rCRS. The strand with more hits wins; the commonest
   diagonal gives where the read starts on the circle, so a control-region read that wraps the origin
   (16024-16569,1-576) is aligned to a rotated reference without special cases.
2. **Align.** Biopython's ``PairwiseAligner`` aligns the read end to end (global on the read) to a
   reference window with free end gaps on the reference side ("glocal"): the read must be explained
   base by base, the reference may overhang. Reads longer than a few kilobases (whole mitogenomes)
   are cut at exact 20-mer anchors into segments of about 1.5 kb, because a full 16.5 kb x 16.5 kb
   dynamic programme needs gigabytes; indels are re-placed across the cut points in step 3.
3. **Phylogenetic placement (EMPOP).** Equivalent placements of an indel in a repeat are moved to
   the 3' end (``315.1C``, not ``310.1C``; ``249del``, not ``248del``; ``523del 524del``). An
   insertion also moves over a substituted base when the inserted and the read base agree, which
   writes the HV1 C-stretch with ``16189C`` as ``16189C 16193.1C``; and a deleted T at 16189 inside
   that stretch is written ``16189C 16193del`` as PhyloTree does.
4. **Call.** Read ``N`` (and three-base IUPAC codes) are not covered: the range is split around them.
   Two-base IUPAC codes are point heteroplasmies (``16093Y``). Position 3107 is the rCRS placeholder
   ``N``: nothing is called there.

A lab-reported EMPOP haplotype is a notation, one alignment among several of its sequence
(``57.1C`` and ``58C 60.1T`` are one sequence). :func:`normalize_profile` rebuilds the sequence on
the range read, aligns it to rCRS again with the same costs (only windows around the differences)
and applies steps 3-4, so every spelling of one sequence, and a FASTA read of it, give one canonical
profile (PhyloTree's equivalent forms in ``rules.csv`` are a property test).
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from Bio import Align
from Bio.Align import substitution_matrices
from Bio.Seq import reverse_complement

from lietsi.lab.mtdna import (
    DELETION,
    HETEROPLASMY_CODES,
    RCRS_LENGTH,
    UNREAD_CODES,
    Ranges,
    Variant,
    normalize_ranges,
    rcrs,
)

KMER = 20
MIN_SEEDS = 3
MIN_IDENTITY = 0.90
MIN_READ_LENGTH = 50
SEGMENT = 1500
END_MARGIN = 60
MAX_DIAGONAL_DRIFT = 500
_PLACEHOLDER = 3107
_TWO_BASE_CODES = frozenset(HETEROPLASMY_CODES)
_IUPAC = {**HETEROPLASMY_CODES, **UNREAD_CODES}
_READ_ALPHABET = "ACGTRYKMSWBDHVN"
_GAP = "-"


class AlignmentError(ValueError):
    """The read cannot be turned into a profile; the message is the quarantine reason."""


@dataclass(frozen=True)
class ReadCall:
    ranges: Ranges
    variants: tuple[Variant, ...]
    strand: str  # "+" as given, "-" when the read was the reverse complement
    identity: float  # identical bases / aligned reference positions with a called base
    ambiguous: int  # read N and three-base IUPAC codes inside the aligned part
    clipped: int  # read bases left outside the alignment at either end


@dataclass
class _Col:
    """One alignment column; ``pos`` is the unrolled 0-based reference index (-1 for an insertion)."""

    pos: int
    ref: str
    read: str


def _circular(start: int, end: int) -> str:
    """rCRS from unrolled index `start` to `end` (either may lie outside one turn of the circle)."""
    seq = rcrs()
    pieces = []
    at, left = start % RCRS_LENGTH, end - start
    while left > 0:
        piece = seq[at : at + left]
        pieces.append(piece)
        at, left = 0, left - len(piece)
    return "".join(pieces)


@lru_cache(maxsize=1)
def _kmer_index() -> dict[str, int]:
    seq = rcrs()
    doubled = seq + seq[: KMER - 1]
    counts: Counter[str] = Counter(doubled[i : i + KMER] for i in range(RCRS_LENGTH))
    return {
        doubled[i : i + KMER]: i
        for i in range(RCRS_LENGTH)
        if counts[doubled[i : i + KMER]] == 1 and "N" not in doubled[i : i + KMER]
    }


_TRANSITIONS = frozenset({("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")})


@lru_cache(maxsize=1)
def _aligner_scores() -> substitution_matrices.Array:
    """Costs that rank alignments as EMPOP does: fewest differences first; at equal counts
    substitutions before indels and transitions before transversions. Matches (and a read N, or an
    IUPAC code containing the reference base) score 0, so each difference has a cost of its own."""
    matrix = substitution_matrices.Array(alphabet=_READ_ALPHABET, dims=2)
    for a in _READ_ALPHABET:
        for b in _READ_ALPHABET:
            if a == b or "N" in (a, b) or b in _IUPAC.get(a, ()) or a in _IUPAC.get(b, ()):
                score = 0.0
            else:
                score = -3.0 if (a, b) in _TRANSITIONS else -3.2
            matrix[a, b] = score
    # The reference's only N is the 3107 placeholder, which real sequences lack: a slight cost to
    # align a read base to it makes the read's missing base sit there and not in the C next to it.
    for b in "ACGT":
        matrix["N", b] = -0.1
    return matrix


def _aligner(free_left: bool, free_right: bool) -> Align.PairwiseAligner:
    aligner = Align.PairwiseAligner(mode="global")
    aligner.substitution_matrix = _aligner_scores()
    # Each inserted or deleted base is one difference, as EMPOP counts; the small extra cost to open
    # a gap keeps a multi-base indel (523del 524del) in one piece rather than two equal-cost ones.
    aligner.open_gap_score = -3.6
    aligner.extend_gap_score = -3.5
    # A deletion at an end of the read (target = reference overhanging the read) is free when asked.
    if free_left:
        aligner.left_deletion_score = 0.0
    if free_right:
        aligner.right_deletion_score = 0.0
    return aligner


def _seeds(read: str) -> list[tuple[int, int]]:
    index = _kmer_index()
    hits = []
    for q in range(len(read) - KMER + 1):
        r = index.get(read[q : q + KMER])
        if r is not None:
            hits.append((q, r))
    return hits


def _chain(seeds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Seeds on the main diagonal, unrolled around the circle, longest chain increasing in both."""
    diagonal = Counter((r - q) % RCRS_LENGTH for q, r in seeds).most_common(1)[0][0]
    half = RCRS_LENGTH // 2
    unrolled = []
    for q, r in seeds:
        drift = (r - q - diagonal + half) % RCRS_LENGTH - half
        if abs(drift) <= MAX_DIAGONAL_DRIFT:
            unrolled.append((q, q + diagonal + drift))
    # Longest increasing subsequence on the unrolled reference index (seeds are sorted by q).
    tails: list[int] = []
    tail_idx: list[int] = []
    parent = [-1] * len(unrolled)
    for i, (_, r) in enumerate(unrolled):
        k = bisect.bisect_left(tails, r)
        if k == len(tails):
            tails.append(r)
            tail_idx.append(i)
        else:
            tails[k], tail_idx[k] = r, i
        parent[i] = tail_idx[k - 1] if k else -1
    chain = []
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        chain.append(unrolled[i])
        i = parent[i]
    chain.reverse()
    # The read may not cover more than the circle once.
    return [(q, r) for q, r in chain if r < chain[0][1] + RCRS_LENGTH - KMER]


def _align_segment(read: str, start: int, end: int, free_left: bool, free_right: bool) -> list[_Col]:
    ref = _circular(start, end)
    cols: list[_Col] = []
    if not read:
        return [_Col(start + i, b, _GAP) for i, b in enumerate(ref)]
    if not ref:
        return [_Col(-1, _GAP, b) for b in read]
    alignment = _aligner(free_left, free_right).align(ref, read)[0]
    coords = alignment.coordinates
    for k in range(coords.shape[1] - 1):
        t0, t1 = int(coords[0, k]), int(coords[0, k + 1])
        q0, q1 = int(coords[1, k]), int(coords[1, k + 1])
        if t1 > t0 and q1 > q0:
            cols.extend(_Col(start + t0 + i, ref[t0 + i], read[q0 + i]) for i in range(t1 - t0))
        elif t1 > t0:
            cols.extend(_Col(start + t, ref[t], _GAP) for t in range(t0, t1))
        else:
            cols.extend(_Col(-1, _GAP, read[q]) for q in range(q0, q1))
    return cols


def _align(read: str, chain: list[tuple[int, int]]) -> list[_Col]:
    q_first, r_first = chain[0]
    q_last, r_last = chain[-1]
    left_need, right_need = q_first, len(read) - q_last
    spare = RCRS_LENGTH - (r_last - r_first) - left_need - right_need
    margin = max(0, min(END_MARGIN, spare // 2))
    # Cut points: anchors at least SEGMENT apart, so each dynamic programme stays small.
    cuts = [(q_first, r_first)]
    for q, r in chain[1:]:
        if q - cuts[-1][0] >= SEGMENT and r - cuts[-1][1] >= SEGMENT // 2:
            cuts.append((q, r))
    left_start = r_first - left_need - margin
    right_end = r_last + right_need + margin
    pieces = [(0, left_start, *cuts[0], True, False)]
    pieces += [(qa, ra, qb, rb, False, False) for (qa, ra), (qb, rb) in itertools.pairwise(cuts)]
    pieces.append((*cuts[-1], len(read), right_end, False, True))
    cols: list[_Col] = []
    for qa, ra, qb, rb, free_left, free_right in pieces:
        cols += _align_segment(read[qa:qb], ra, rb, free_left, free_right)
    return cols


def _rcrs_position(pos: int) -> int:
    return pos % RCRS_LENGTH + 1


def _shift_3prime(cols: list[_Col]) -> None:
    """Move every indel to its 3'-most equivalent placement (EMPOP), in place."""
    moved = True
    while moved:
        moved = False
        i = 0
        while i < len(cols):
            col = cols[i]
            if col.pos >= 0 and col.read == _GAP:
                j = i
                while j + 1 < len(cols) and cols[j + 1].pos >= 0 and cols[j + 1].read == _GAP:
                    j += 1
                while j + 1 < len(cols) and cols[j + 1].pos >= 0 and cols[j + 1].read not in (_GAP, "N"):
                    nxt = cols[j + 1]
                    phylo_16189 = (
                        i == j and _rcrs_position(cols[i].pos) == 16189 and nxt.read == "C" == nxt.ref
                    )
                    if cols[i].ref != nxt.ref and not phylo_16189:
                        break
                    cols[i].read, nxt.read = nxt.read, _GAP
                    i, j, moved = i + 1, j + 1, True
                i = j + 1
            elif col.pos < 0:
                j = i
                while j + 1 < len(cols) and cols[j + 1].pos < 0:
                    j += 1
                while j + 1 < len(cols) and cols[j + 1].pos >= 0 and cols[j + 1].read == cols[i].read:
                    nxt = cols[j + 1]
                    inserted = [c.read for c in cols[i : j + 1]]
                    cols[i : j + 2] = [
                        _Col(nxt.pos, nxt.ref, inserted[0]),
                        *(_Col(-1, _GAP, b) for b in [*inserted[1:], nxt.read]),
                    ]
                    i, j, moved = i + 1, j + 1, True
                i = j + 1
            else:
                i += 1


@dataclass(frozen=True)
class _Calls:
    ranges: Ranges
    variants: tuple[Variant, ...]
    identical: int
    compared: int
    ambiguous: int
    clipped: int


def _call(cols: list[_Col], trim: bool = True) -> _Calls:
    ref_idx = [k for k, c in enumerate(cols) if c.pos >= 0]
    # Reference overhanging a read at either end is not a deletion: it was not read. A lab's range
    # (trim=False) is taken as read, end deletions included.
    lo = next((k for k in ref_idx if cols[k].read != _GAP or not trim), None)
    hi = next((k for k in reversed(ref_idx) if cols[k].read != _GAP or not trim), None)
    if lo is None or hi is None:
        raise AlignmentError("does not align to rCRS: no read base aligned")
    clipped = sum(1 for c in cols[:lo] + cols[hi + 1 :] if c.pos < 0)
    covered: list[int] = []
    variants: list[Variant] = []
    identical = compared = ambiguous = 0
    anchor = -1
    insertion = 0
    for col in cols[lo : hi + 1]:
        if col.pos >= 0:
            anchor, insertion = col.pos, 0
            position = _rcrs_position(col.pos)
            base = col.read
            if base in UNREAD_CODES or base == "D":
                ambiguous += 1
                continue
            covered.append(col.pos)
            if position == _PLACEHOLDER:
                continue
            if base == _GAP:
                variants.append(Variant(position, 0, DELETION))
                continue
            compared += 1
            if base == col.ref:
                identical += 1
            else:
                variants.append(Variant(position, 0, base))
        else:
            insertion += 1
            if col.read not in _TWO_BASE_CODES and col.read not in "ACGT":
                ambiguous += 1
                continue
            variants.append(Variant(_rcrs_position(anchor), insertion, col.read))
    return _Calls(
        ranges=_to_ranges(covered),
        variants=tuple(sorted(variants)),
        identical=identical,
        compared=compared,
        ambiguous=ambiguous,
        clipped=clipped,
    )


def _to_ranges(unrolled: list[int]) -> Ranges:
    spans: list[tuple[int, int]] = []
    for pos in sorted(set(unrolled)):
        if spans and pos == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], pos)
        else:
            spans.append((pos, pos))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        # An unrolled span may cross the origin: split it into rCRS intervals.
        while a <= b:
            stop = min(b, (a // RCRS_LENGTH + 1) * RCRS_LENGTH - 1)
            out.append((_rcrs_position(a), _rcrs_position(stop)))
            a = stop + 1
    return normalize_ranges(out) if out else ()


def _clean(sequence: str) -> str:
    read = "".join(sequence.split()).upper().replace(_GAP, "").replace(".", "")
    bad = sorted(set(read) - set(_READ_ALPHABET))
    if bad:
        raise AlignmentError(f"read has characters that are not IUPAC bases: {''.join(bad)}")
    return read.replace("U", "T")


# A sample sequenced twice, or a result re-sent in a later drop, repeats a read: aligned once.
@lru_cache(maxsize=1024)
def call_read(sequence: str) -> ReadCall:
    """Align a read (control region or whole mitogenome, either strand) to rCRS and call its profile.

    Raises :class:`AlignmentError` with a human-readable reason when the read cannot be placed.
    """
    read = _clean(sequence)
    if len(read) < MIN_READ_LENGTH:
        raise AlignmentError(f"read too short to align ({len(read)} bases, need {MIN_READ_LENGTH})")
    forward, backward = _seeds(read), _seeds(reverse_complement(read))
    strand, seeds = ("+", forward) if len(forward) >= len(backward) else ("-", backward)
    if strand == "-":
        read = reverse_complement(read)
    chain = _chain(seeds) if seeds else []
    if len(chain) < MIN_SEEDS:
        raise AlignmentError(
            f"does not align to rCRS: {len(chain)} of its 20-base words found in rCRS on either strand"
        )
    cols = _align(read, chain)
    _shift_3prime(cols)
    calls = _call(cols)
    identity = calls.identical / calls.compared if calls.compared else 0.0
    if identity < MIN_IDENTITY:
        raise AlignmentError(f"does not align to rCRS: identity {identity:.1%} below {MIN_IDENTITY:.0%}")
    return ReadCall(calls.ranges, calls.variants, strand, identity, calls.ambiguous, calls.clipped)


def apply_variants(ranges: Ranges, variants: tuple[Variant, ...]) -> list[str]:
    """The sequence a profile describes, one string per range interval (as a lab would read it)."""
    return ["".join(c.read for c in piece if c.read != _GAP) for piece in _profile_columns(ranges, variants)]


@dataclass(frozen=True)
class _Written:
    """A written profile: its substitutions/deletions and insertions by rCRS position, and its range
    as unrolled [start, stop) spans (an interval continuing through the origin is one span, as a
    read through it would be)."""

    subs: dict[int, str]
    ins: dict[int, list[str]]
    spans: tuple[tuple[int, int], ...]

    def columns(self, start: int, stop: int) -> list[_Col]:
        """The written alignment of unrolled positions [start, stop)."""
        seq = rcrs()
        cols: list[_Col] = []
        for unrolled in range(start, stop):
            position = _rcrs_position(unrolled)
            allele = self.subs.get(position)
            base = _GAP if allele == DELETION else (allele or seq[position - 1])
            cols.append(_Col(unrolled, seq[position - 1], base))
            cols.extend(_Col(-1, _GAP, b) for b in self.ins.get(position, ()))
        return cols

    def read(self, start: int, stop: int) -> str:
        """The bases of unrolled positions [start, stop) (the read bases of :meth:`columns`), copied
        from rCRS between the written differences rather than built column by column."""
        seq = rcrs()
        edited = sorted(
            u for p in {*self.subs, *self.ins} for u in (p - 1, p - 1 + RCRS_LENGTH) if start <= u < stop
        )
        pieces: list[str] = []
        at = start
        for u in edited:
            pieces.append(_circular(at, u))
            position = _rcrs_position(u)
            allele = self.subs.get(position)
            if allele != DELETION:
                pieces.append(allele or seq[position - 1])
            pieces.extend(self.ins.get(position, ()))
            at = u + 1
        pieces.append(_circular(at, stop))
        return "".join(pieces)


def _written(ranges: Ranges, variants: tuple[Variant, ...]) -> _Written:
    subs = {v.position: v.allele for v in variants if not v.insertion}
    ins: dict[int, list[str]] = {}
    for v in sorted(v for v in variants if v.insertion):
        ins.setdefault(v.position, []).append(v.allele)
    joined: list[tuple[int, int]] = []
    for a, b in normalize_ranges(ranges):
        if joined and joined[-1][1] == RCRS_LENGTH and a == 1:
            joined[-1] = (joined[-1][0], b + RCRS_LENGTH)
        else:
            joined.append((a, b))
    return _Written(subs, ins, tuple((a - 1, b) for a, b in joined))


def _profile_columns(ranges: Ranges, variants: tuple[Variant, ...]) -> list[list[_Col]]:
    written = _written(ranges, variants)
    return [written.columns(start, stop) for start, stop in written.spans]


@dataclass(frozen=True)
class NormalizedProfile:
    ranges: Ranges
    variants: tuple[Variant, ...]
    outside_range: tuple[Variant, ...]  # reported variants at positions the range does not cover
    same_as_rcrs: tuple[Variant, ...]  # reported "differences" that equal the rCRS base


# Re-alignment windows are cut only at rCRS positions on this grid that lie at least REALIGN_FLANK
# columns from any written difference, so two notations of one sequence (which differ only inside a
# repeat) are cut at the same places and their windows hold the same bases.
REALIGN_GRID = 50
REALIGN_FLANK = 30


def _recalled(written: _Written, start: int, stop: int) -> list[Variant]:
    """The calls of the sequence a written profile describes on unrolled [start, stop), aligned to
    rCRS again with :func:`call_read`'s costs.

    A lab's notation is one alignment among several of the same sequence (``57.1C`` = ``58C 60.1T``);
    aligning the sequence itself makes the calls depend on the bases, not on how they were written.
    Stretches identical to rCRS call nothing and are never built; each window around differences is
    aligned, placed 3' and called on its own (no repeat of the control region or the mitogenome is
    long enough to carry an indel across the clean flank that bounds a window).
    """
    seq = rcrs()
    # Column index of each position's column in the written alignment, and the differing columns.
    dirty: list[int] = []
    events = sorted(
        u
        for p in {*written.subs, *written.ins}
        for u in (p - 1, p - 1 + RCRS_LENGTH)
        if start <= u < stop and (p in written.ins or written.subs[p] != seq[p - 1])
    )
    shift = 0
    for u in events:
        k = u - start + shift
        p = _rcrs_position(u)
        if written.subs.get(p, seq[p - 1]) != seq[p - 1]:
            dirty.append(k)
        inserted = len(written.ins.get(p, ()))
        dirty.extend(range(k + 1, k + 1 + inserted))
        shift += inserted
    if not dirty:
        return []

    def column(u: int) -> int:
        before = bisect.bisect_left(events, u)
        inserted = sum(len(written.ins.get(_rcrs_position(e), ())) for e in events[:before])
        return u - start + inserted

    cuts = [start]
    first_grid = start + 1 + (-(start + 1)) % REALIGN_GRID
    for u in range(first_grid, stop, REALIGN_GRID):
        k = column(u)
        nearest = bisect.bisect_left(dirty, k - REALIGN_FLANK)
        if nearest == len(dirty) or dirty[nearest] > k + REALIGN_FLANK:
            cuts.append(u)
    cuts.append(stop)
    calls: list[Variant] = []
    for a, b in itertools.pairwise(cuts):
        lo = bisect.bisect_left(dirty, column(a))
        if lo == len(dirty) or dirty[lo] >= column(b):
            continue
        calls.extend(_window_calls(written.read(a, b), a, b))
    return calls


@lru_cache(maxsize=65_536)
def _window_calls(read: str, start: int, stop: int) -> tuple[Variant, ...]:
    """The calls of `read` aligned to rCRS on unrolled [start, stop). Profiles of one province share
    most of their windows (a common variant's window holds the same bases in every profile that has
    it), so each distinct window is aligned once."""
    cols = _align_segment(read, start, stop, False, False)
    _shift_3prime(cols)
    return _call(cols, trim=False).variants


@lru_cache(maxsize=65_536)
def normalize_profile(ranges: Ranges, variants: tuple[Variant, ...]) -> NormalizedProfile:
    """A lab-reported profile re-called from its sequence, in the canonical placement that
    :func:`call_read` produces for a read of the same bases."""
    ranges = normalize_ranges(ranges)
    seq = rcrs()
    inside = {v for v in variants if any(a <= v.position <= b for a, b in ranges)}
    outside = tuple(sorted(set(variants) - inside))
    same = tuple(
        sorted(
            v
            for v in inside
            if not v.insertion and v.allele == seq[v.position - 1] and v.position != _PLACEHOLDER
        )
    )
    written = _written(ranges, tuple(sorted(inside)))
    calls = [v for start, stop in written.spans for v in _recalled(written, start, stop)]
    return NormalizedProfile(ranges, tuple(sorted(calls)), outside, same)
