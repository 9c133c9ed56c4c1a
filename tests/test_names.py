import unicodedata

import polars as pl
import pytest

from lietsi.names import (
    initials_compatible,
    key_ascii,
    key_exact,
    key_toneless,
    key_variant,
    name_frame,
    name_similarity,
    normalise_text,
    parse_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hoà", "Hòa"),
        ("Thuỷ", "Thủy"),
        ("Qúy", "Quý"),
        ("Khoẻ", "Khỏe"),
        ("Hoàng", "Hoàng"),
        ("Huỳnh", "Huỳnh"),
        ("Trường", "Trường"),
        ("Giáp", "Giáp"),
        ("khuỷu", "Khuỷu"),
        ("\u00d0ặng Văn Hoà", "Đặng Văn Hòa"),
        ("NGUYỄN  THỊ   THUỶ", "Nguyễn Thị Thủy"),
        ("  lê văn   tám ", "Lê Văn Tám"),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_nfd_and_nfc_give_the_same_name() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Thành")
    assert nfd != "Nguyễn Văn Thành"
    assert normalise_text(nfd) == "Nguyễn Văn Thành"


def test_split_surname_middle_given() -> None:
    p = parse_name("Tôn Thất Văn Hùng")
    assert (p.surname, p.middle, p.given) == ("Tôn", "Thất Văn", "Hùng")
    single = parse_name("Hùng")
    assert (single.surname, single.given) == ("", "Hùng")


def test_abbreviations_expand_by_position_and_sex() -> None:
    assert parse_name("Ng. V. Thành", "Nam").full == "Nguyễn Văn Thành"
    assert parse_name("Ng.V.Thành").full == "Nguyễn Văn Thành"
    assert parse_name("Lê T. Lan", "Nữ").full == "Lê Thị Lan"
    assert parse_name("Lê Th. Lan", "Nữ").full == "Lê Thị Lan"
    # `T.` on a man is Thanh, Tấn, Trung…: kept as an initial, not guessed.
    man = parse_name("Lê T. Hùng", "Nam")
    assert man.full == "Lê T. Hùng" and man.abbreviated


@pytest.mark.parametrize(
    ("raw", "full", "aliases"),
    [
        ("Nguyễn Văn Thành (Tư Thành)", "Nguyễn Văn Thành", ("Tư Thành",)),
        ("Nguyễn Văn Thành, bí danh Hai Lúa", "Nguyễn Văn Thành", ("Hai Lúa",)),
        ("Phạm Văn Tư (bí danh: Tư Sắt)", "Phạm Văn Tư", ("Tư Sắt",)),
        ("Trần Văn Ba tức Ba Đen", "Trần Văn Ba", ("Ba Đen",)),
    ],
)
def test_aliases_are_separate_candidates(raw: str, full: str, aliases: tuple[str, ...]) -> None:
    p = parse_name(raw)
    assert p.full == full
    assert p.aliases == aliases
    assert p.candidates == (full, *aliases)


def test_keys_of_decreasing_strength() -> None:
    assert key_exact("Nguyễn Văn Hoà") == key_exact("nguyễn văn hòa") == "nguyễn văn hòa"
    assert key_toneless("Nguyễn Văn Hòa") == "nguyên văn hoa"
    assert key_toneless("Nguyễn Văn Hùng") != key_toneless("Nguyễn Văn Hưng")
    assert key_ascii("Nguyễn Văn Hùng") == key_ascii("Nguyễn Văn Hưng") == "nguyen van hung"
    assert key_ascii("Đào") == "dao"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Huỳnh Văn Lợi", "Hoàng Văn Lợi"),
        ("Võ Thị Sáu", "Vũ Thị Sáu"),
        ("Nguyễn Thị Thúy", "Nguyễn Thị Thúi"),
        ("Lê Văn Dũng", "Lê Văn Giũng"),
        ("Trần Văn Dạng", "Trần Văn Rạng"),
    ],
)
def test_spelling_variants_share_the_variant_key(a: str, b: str) -> None:
    assert key_ascii(a) != key_ascii(b)
    assert key_variant(a) == key_variant(b)


def test_variant_surname_fold_only_applies_to_the_surname() -> None:
    # Võ as a given name is not the surname Vũ.
    assert key_variant("Nguyễn Văn Võ") != key_variant("Nguyễn Văn Vũ")


def test_similarity_ranks_full_diacritics_above_stripped() -> None:
    exact = name_similarity("Nguyễn Văn Hòa", "Nguyễn Văn Hoà")
    toneless = name_similarity("Nguyễn Văn Hòa", "Nguyễn Văn Hoa")
    ascii_ = name_similarity("Nguyễn Văn Hòa", "Nguyen Van Hoa")
    variant = name_similarity("Huỳnh Văn Dũng", "Hoàng Văn Giũng")
    initials = name_similarity("Nguyễn T. Hùng", "Nguyễn Thanh Hùng")
    fuzzy = name_similarity("Nguyễn Văn Hùng", "Nguyễn Văn Hừng Anh")
    other = name_similarity("Nguyễn Văn Hùng", "Trần Thị Mai")
    assert exact == 1.0
    assert 1.0 > toneless > ascii_ > variant > initials > fuzzy > other


def test_initials_compatible() -> None:
    assert initials_compatible("Nguyễn T. Hùng", "Nguyễn Thanh Hùng")
    assert not initials_compatible("Nguyễn T. Hùng", "Nguyễn Minh Hùng")
    assert not initials_compatible("Nguyễn Văn Hùng", "Nguyễn Văn Hùng")


def test_name_frame_keeps_row_order_and_uses_sex() -> None:
    names = pl.Series(["Lê T. Lan", "Ng. V. Thành", None, "Lê T. Lan"])
    sexes = pl.Series(["Nữ", "Nam", None, "Nam"])
    out = name_frame(names, sexes)
    assert out.height == 4
    assert out["name_full"].to_list() == ["Lê Thị Lan", "Nguyễn Văn Thành", None, "Lê T. Lan"]
    assert out["given_variant"].to_list()[:2] == ["lan", "thanh"]
