"""A unit written several ways is one formation, and where it lost its men is counted once."""

from collections import Counter

import polars as pl
import pytest

from lietsi.formations import formation
from lietsi.matching.pool import build_pool


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Tiểu đoàn 309", "Tiểu đoàn 309"),
        ("D309", "Tiểu đoàn 309"),
        ("d 309", "Tiểu đoàn 309"),
        ("TĐ.309", "Tiểu đoàn 309"),
        ("tieu doan 0309", "Tiểu đoàn 309"),
        ("Đại đội 1, Tiểu đoàn 2, Trung đoàn 3, Sư đoàn 9", "Sư đoàn 9"),
        ("C1 D2 E3 F9", "Sư đoàn 9"),
        ("c1/d2/e3/f.9", "Sư đoàn 9"),
        ("SƯ ĐOÀN 330", "Sư đoàn 330"),
        ("Đại đội 4, Tiểu đoàn 1, Trung đoàn 10", "Trung đoàn 10"),
        ("E10", "Trung đoàn 10"),
        ("Lữ đoàn 962", "Lữ đoàn 962"),
        ("Đại đội 2", "Đại đội 2"),
        ("Huyện đội Châu Thành", "Huyện đội Châu Thành"),
        ("H.đội  Châu Thành", "Huyện đội Châu Thành"),
        ("huyện đội Hà Tiên", "Huyện đội Hà Tiên"),
        ("Du kích xã Bình An", "Du kích xã Bình An"),
        ("DK xã Bình An", "Du kích xã Bình An"),
        ("dân  công hoả tuyến", "Dân Công Hỏa Tuyến"),
    ],
)
def test_each_way_of_writing_a_unit_gives_its_formation(written: str, key: str) -> None:
    assert formation(written) == key


def test_no_unit_and_hostile_text() -> None:
    assert formation(None) is None
    assert formation("   ") is None
    # a unit name that is not a unit stays bounded text, not a formation read from its middle
    assert formation("<script>alert(1)</script>") == "<Script>Alert(1)</Script>"
    assert len(formation("x" * 10_000)) == 200
    # letters inside words are not abbreviations: `Phước` has no `c` formation, `Đội` no `d`
    assert formation("Đội công tác Phước Long") == "Đội Công Tác Phước Long"


def test_pool_counts_a_units_deaths_over_its_spellings() -> None:
    """`D309` and `Tiểu đoàn 309` are one battalion: its deaths by province are counted together, so
    the unit-area factor of a martyr written either way reads the same counts."""
    rows = [
        ("m1", "D309", "Xã Bình An, Huyện Châu Thành, Tỉnh Kiên Giang"),
        ("m2", "Tiểu đoàn 309", "Xã Bình An, Huyện Châu Thành, Tỉnh Kiên Giang"),
        ("m3", "tiểu đoàn 309", "Tây Ninh"),
        ("m4", "C1 D2 E3 F9", "Tây Ninh"),
        ("m5", "Sư đoàn 9", "Tây Ninh"),
    ]
    martyrs = pl.DataFrame(
        {
            "martyr_id": [r[0] for r in rows],
            "full_name": ["Nguyễn Văn A"] * len(rows),
            "unit": [r[1] for r in rows],
            "death_place": [r[2] for r in rows],
            "grave_status": [None] * len(rows),
            "hometown_commune": [None] * len(rows),
            "hometown_district": [None] * len(rows),
            "hometown_province": ["Kiên Giang"] * len(rows),
        }
    )
    _, pool = build_pool(martyrs, "Kiên Giang")
    assert pool.unit_provinces["Tiểu đoàn 309"] == Counter({"Kiên Giang": 2, "Tây Ninh": 1})
    assert pool.unit_provinces["Sư đoàn 9"] == Counter({"Tây Ninh": 2})
    assert set(pool.unit_provinces) == {"Tiểu đoàn 309", "Sư đoàn 9"}
