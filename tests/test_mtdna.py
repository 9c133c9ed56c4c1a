"""mtDNA notation, read alignment and haplogroups: hand-checked cases and HaploGrep's own tests."""

import random
from pathlib import Path

import pytest
from Bio import SeqIO
from Bio.Seq import reverse_complement

from lietsi.lab.alignment import AlignmentError, apply_variants, call_read, normalize_profile
from lietsi.lab.haplogroups import classify, is_within
from lietsi.lab.mtdna import (
    Variant,
    covers,
    format_range,
    format_variants,
    intersect_ranges,
    parse_range,
    parse_variants,
    rcrs,
)

HAPLOGREP = Path(__file__).resolve().parents[2] / "shared" / "reference" / "mtdna" / "haplogrep_tests"
needs_reference = pytest.mark.skipif(not HAPLOGREP.is_dir(), reason="../shared/reference not present")


def seq(start: int, end: int) -> str:
    """rCRS positions start..end inclusive (1-based)."""
    return rcrs()[start - 1 : end]


def control_region(hv1: str | None = None, hv2: str | None = None) -> str:
    """A control-region read 16024-16569,1-576, optionally with HV1 (16024-16569) or 1-576 replaced."""
    return (hv1 or seq(16024, 16569)) + (hv2 or seq(1, 576))


def called(read: str) -> tuple[str, str]:
    call = call_read(read)
    return format_range(call.ranges), format_variants(call.variants)


# --- notation --------------------------------------------------------------------------------------


def test_rcrs_is_the_16569_bp_reference():
    ref = rcrs()
    assert len(ref) == 16569
    assert ref[:10] == "GATCACAGGT"
    assert ref[3106] == "N"  # the 3107 placeholder
    assert seq(16189, 16189) == "T" and seq(310, 310) == "T"


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("16223T 16362C 73G 263G 309.1C 315.1C 16519C", "73G 263G 309.1C 315.1C 16223T 16362C 16519C"),
        ("249- 249d", "249del"),
        ("249DEL", "249del"),
        ("309.1CC", "309.1C 309.2C"),
        ("524.1AC", "524.1A 524.2C"),
        ("16093Y, 16129a;C16223T", "16093Y 16129A 16223T"),
        ("", ""),
    ],
)
def test_parse_variants_canonical(text, canonical):
    assert format_variants(parse_variants(text)) == canonical
    # Canonical text is a fixed point.
    assert format_variants(parse_variants(canonical)) == canonical


def test_variant_fields():
    assert parse_variants("315.1C 249del 16093Y") == (
        Variant(249, 0, "del"),
        Variant(315, 1, "C"),
        Variant(16093, 0, "Y"),
    )
    assert Variant(16093, 0, "Y").is_heteroplasmy and Variant(249, 0, "del").is_deletion


@pytest.mark.parametrize("bad", ["16223", "16223X", "99999T", "315.0C", "315.1del", "16223T 16223C", "abc"])
def test_parse_variants_rejects(bad):
    with pytest.raises(ValueError):
        parse_variants(bad)


def test_ranges():
    wrapped = parse_range("16024-16569,1-576")
    assert wrapped == ((16024, 16569), (1, 576))
    # Other spellings of the same set give the same canonical text.
    for text in ("1-576;16024-16569", "16024-576", "16024 - 16569, 1 - 576", "16024-16300,16250-16569 1-576"):
        assert format_range(parse_range(text)) == "16024-16569,1-576"
    assert covers(wrapped, 16569) and covers(wrapped, 1) and not covers(wrapped, 577)
    assert format_range(parse_range("73-340,16024-16365")) == "16024-16365,73-340"
    assert format_range(parse_range("1-8277,8280-16569")) == "1-8277,8280-16569"
    assert intersect_ranges(wrapped, parse_range("16500-100")) == ((16500, 16569), (1, 100))
    with pytest.raises(ValueError):
        parse_range("0-100")
    with pytest.raises(ValueError):
        parse_range("")


# --- read alignment: hand-built reads ----------------------------------------------------------------


def test_read_identical_to_rcrs_wraps_the_origin():
    assert called(control_region()) == ("16024-16569,1-576", "")


def test_hv1_c_stretch_insertion_goes_to_the_3_prime_end():
    # rCRS 16184-16193 = CCCCC T CCCC. The sample has 16189C and one C more; however the read is cut,
    # EMPOP writes 16189C 16193.1C.
    hv1 = seq(16024, 16183) + "CCCCC" + "C" + "C" + "CCCC" + seq(16194, 16569)
    assert called(control_region(hv1=hv1)) == ("16024-16569,1-576", "16189C 16193.1C")


def test_hv2_c_stretch_insertions_each_at_its_stretch_end():
    # rCRS 303-315 = CCCCCCC T CCCCC; the read has 8 Cs, T, 6 Cs: 309.1C and 315.1C, never 310.1C.
    hv2 = seq(1, 302) + "C" * 8 + "T" + "C" * 6 + seq(316, 576)
    assert called(control_region(hv2=hv2)) == ("16024-16569,1-576", "309.1C 315.1C")


def test_lab_notation_310_1c_is_rewritten_315_1c():
    norm = normalize_profile(parse_range("16024-16569,1-576"), parse_variants("263G 310.1C"))
    assert format_variants(norm.variants) == "263G 315.1C"


def test_deletion_in_a_repeat_is_placed_3_prime():
    # 247-250 = G A A T: losing one A is 249del (not 248del).
    hv2 = seq(1, 247) + seq(249, 576)
    assert called(control_region(hv2=hv2)) == ("16024-16569,1-576", "249del")
    # The AC repeat 515-524 losing one AC is 523del 524del.
    hv2 = seq(1, 514) + seq(517, 576)
    assert called(control_region(hv2=hv2)) == ("16024-16569,1-576", "523del 524del")


def test_point_heteroplasmy_is_called_with_its_iupac_code():
    hv1 = seq(16024, 16092) + "Y" + seq(16094, 16569)
    assert called(control_region(hv1=hv1)) == ("16024-16569,1-576", "16093Y")


def test_ns_are_not_covered_and_split_the_range():
    hv1 = seq(16024, 16099) + "NNNNN" + seq(16105, 16222) + "T" + seq(16224, 16569)
    call = call_read(control_region(hv1=hv1))
    assert format_range(call.ranges) == "16024-16099,16105-16569,1-576"
    assert format_variants(call.variants) == "16223T"
    assert call.ambiguous == 5


def test_reverse_complement_read_gives_the_same_profile():
    hv1 = seq(16024, 16222) + "T" + seq(16224, 16569)
    forward = call_read(control_region(hv1=hv1))
    backward = call_read(reverse_complement(control_region(hv1=hv1)))
    assert backward.strand == "-" and forward.strand == "+"
    assert (backward.ranges, backward.variants) == (forward.ranges, forward.variants)


def test_a_read_that_does_not_align_says_why():
    rng = random.Random(1)
    junk = "".join(rng.choice("ACGT") for _ in range(600))
    with pytest.raises(AlignmentError, match="does not align to rCRS"):
        call_read(junk)
    with pytest.raises(AlignmentError, match="too short"):
        call_read("ACGT")
    with pytest.raises(AlignmentError, match="not IUPAC"):
        call_read(control_region().replace("A", "X", 1))


def test_partial_read_covers_only_what_it_reads():
    call = call_read(seq(16100, 16400))
    assert format_range(call.ranges) == "16100-16400" and call.variants == ()


@pytest.mark.parametrize(
    "haplotype",
    [
        "73G 263G 309.1C 315.1C 16223T 16362C 16519C",
        "73G 263G 315.1C 16182C 16183C 16189C 16193.1C 16217C",
        "73G 263G 315.1C 523del 524del 16093Y 16189C 16193del",
        "73G 150T 199C 263G 309.1C 309.2C 315.1C 489C 16129A 16223T 16297C",
        "73G 249del 263G 315.1C 524.1A 524.2C 16182C 16183C 16189C 16193.1C 16217C",
    ],
)
def test_fasta_and_empop_of_one_sample_agree(haplotype):
    ranges = parse_range("16024-16569,1-576")
    variants = parse_variants(haplotype)
    (read,) = apply_variants(ranges, variants)
    call = call_read(read)
    assert format_variants(normalize_profile(ranges, variants).variants) == haplotype
    assert (format_range(call.ranges), format_variants(call.variants)) == ("16024-16569,1-576", haplotype)


# --- haplogroups -------------------------------------------------------------------------------------


def test_haplogroup_restricted_to_range():
    # M7b1a1's control-region motif; outside the range nothing is expected or missing.
    result = classify("16024-16569,1-576", "73G 150T 199C 263G 489C 16129A 16223T 16297C")
    assert result.haplogroup == "M7b1a1" and result.quality > 0.95
    assert is_within(result.haplogroup, "M7") and not is_within(result.haplogroup, "B5a1")


def test_haplogroup_ties_resolve_to_their_common_ancestor():
    # F1a1a's control region fits F1a1a and its coding-region subclades (and evehap's extra
    # "ForensicTree" node F1a1a*2) equally: the answer is F1a1a, never an arbitrary subclade.
    result = classify("16024-16569,1-576", "73G 249del 263G 315.1C 16108T 16129A 16162G 16172C 16304C")
    assert result.haplogroup == "F1a1a" and result.quality == 1.0
    assert "*" not in classify("16024-16569,1-576", "73G 207A 249del 263G 16298C 16362C").haplogroup


def test_no_tree_mutation_is_rcrs_own_haplogroup():
    assert classify("16024-16569,1-576", "315.1C 16519C").haplogroup == "H2a2a1"


def _hsd(path: Path) -> tuple[str, str]:
    line = [ln for ln in path.read_text().splitlines() if ln.strip()][1]
    fields = line.split("\t")
    return fields[1].strip(), " ".join(p.strip() for p in fields[3:] if p.strip())


@needs_reference
def test_haplogrep_h100_and_r_through_the_lab_reader():
    from lietsi.lab.results import read_result

    for file, expected in (
        ("haplogrep3__test-data_hsd_H100.hsd", "H100"),
        ("haplogrep3__test-data_hsd_R.hsd", "H2a2a1"),
    ):
        rng, haplotype = _hsd(HAPLOGREP / file)
        result = read_result(
            {
                "sample_id": file,
                "format": "csv",
                "range": rng,
                "haplotype": haplotype,
                "quality": "Đạt",
                "file": file,
                "row_number": 1,
            }
        )
        assert result.reason is None
        call = classify(format_range(result.ranges), format_variants(result.variants))
        assert call.haplogroup == expected


@needs_reference
def test_haplogrep_b5a1_mitogenomes_through_the_lab_reader():
    from lietsi.lab.results import read_result

    records = list(SeqIO.parse(HAPLOGREP / "haplogrep-core__B5a1.fasta", "fasta"))
    assert len(records) == 13
    for record in records:
        result = read_result(
            {
                "sample_id": record.id,
                "format": "fasta",
                "sequence": str(record.seq),
                "file": "B5a1.fasta",
                "row_number": 1,
            }
        )
        assert result.reason is None, result.reason
        call = classify(format_range(result.ranges), format_variants(result.variants))
        assert is_within(call.haplogroup, "B5a1"), (record.id, call)
