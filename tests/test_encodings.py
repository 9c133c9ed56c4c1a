"""The legacy-encoding table against the public TCVN3/VNI chart, and detection on realistic text."""

import csv
from pathlib import Path

import pytest

from lietsi.ingest.encodings import detect_legacy, from_legacy, to_legacy

CHART = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "vn_encoding" / "legacy_charset_map.csv"
)


def chart_rows() -> list[dict]:
    if not CHART.exists():
        pytest.skip(f"reference chart not found at {CHART}")
    with CHART.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_letter_encodes_as_the_chart_says():
    rows = chart_rows()
    assert len(rows) == 134
    for row in rows:
        assert to_legacy(row["unicode_nfc"], "tcvn3") == row["tcvn3_abc"], row
        assert to_legacy(row["unicode_nfc"], "vni") == row["vni_windows"], row


def test_every_letter_decodes_back_except_the_charts_vni_collision():
    for row in chart_rows():
        assert from_legacy(row["tcvn3_abc"], "tcvn3") == row["unicode_nfc"], row
        if row["unicode_nfc"] not in ("Ỹ", "ỹ"):
            assert from_legacy(row["vni_windows"], "vni") == row["unicode_nfc"], row


@pytest.mark.parametrize(
    ("legacy", "encoded", "expected"),
    [
        ("tcvn3", "TiÕng ViÖt cã 29 ch÷ c¸i", "Tiếng Việt có 29 chữ cái"),
        ("tcvn3", "NguyÔn V¨n Thµnh", "Nguyễn Văn Thành"),
        ("tcvn3", "§Æng ThÞ Thñy", "Đặng Thị Thủy"),
        ("vni", "Nguyeãn Vaên Thaønh", "Nguyễn Văn Thành"),
        ("vni", "Huyønh Thò Thuûy", "Huỳnh Thị Thủy"),
        ("vni", "Ñaëng AÙnh Tuyeát", "Đặng Ánh Tuyết"),
    ],
)
def test_known_strings_convert(legacy, encoded, expected):
    assert from_legacy(encoded, legacy) == expected


def test_detection_tells_the_two_encodings_and_unicode_apart():
    names = ["Nguyễn Văn Thành", "Trần Thị Hoa", "Lê Quý Đôn", "Phạm Ngọc Thạch"]
    assert detect_legacy(names) is None
    assert detect_legacy([to_legacy(n, "tcvn3") for n in names]) == "tcvn3"
    assert detect_legacy([to_legacy(n, "vni") for n in names]) == "vni"
    assert detect_legacy(["Nguyen Van Thanh", "Le Thi Hoa"]) is None
