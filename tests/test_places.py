from dataclasses import replace

import polars as pl
import pytest

from lietsi import places
from lietsi.places import most_common_province, parse_place, parse_units, place_frame, place_key


@pytest.mark.parametrize(
    "text",
    [
        "xã Bình An, huyện Châu Thành, tỉnh Kiên Giang",
        "Bình An - Châu Thành - KG",
        "X. Bình An, H. Châu Thành, T. Kiên Giang",
        "Bình An, Châu Thành, Kien Giang",
    ],
)
def test_spellings_of_one_commune(text: str) -> None:
    p = parse_place(text)
    assert (p.commune, p.district, p.province) == ("Bình An", "Châu Thành", "Kiên Giang")
    assert (p.commune_code, p.district_code, p.province_code) == ("30898", "905", "91")
    assert p.status == "mapped"


def test_city_and_town_abbreviations() -> None:
    p = parse_place("P. Vĩnh Thanh, Tp Rạch Giá, KG")
    assert (p.commune, p.district, p.province) == ("Vĩnh Thanh", "Rạch Giá", "Kiên Giang")
    town = parse_place("TX Hà Tiên, Kiên Giang")
    assert (town.district, town.status, town.reason) == ("Hà Tiên", "district", "no commune in the text")


def test_old_tone_placement_in_place_names() -> None:
    assert parse_place("Vĩnh Hoà Hiệp, Châu Thành, KG").commune == "Vĩnh Hòa Hiệp"


def test_missing_province_is_assumed_and_said() -> None:
    assert parse_place("Bình An, Châu Thành").status == "unmapped"
    p = parse_place("Bình An, Châu Thành", "Kiên Giang")
    assert (p.commune, p.province) == ("Bình An", "Kiên Giang")
    assert "assumed" in (p.reason or "")


def test_a_province_guessed_from_a_shared_district_name_yields_to_the_default() -> None:
    # `huyện Châu Thành` exists in ten provinces; the parser alone guesses one (not Kiên Giang).
    text = "Ấp 3, xã Bình An, huyện Châu Thành"
    assert parse_place(text).province != "Kiên Giang"
    p = parse_place(text, "Kiên Giang")
    assert (p.commune_code, p.province, p.reason) == ("30898", "Kiên Giang", "province Kiên Giang assumed")
    # A province the text names is kept even when the default is another one.
    named = parse_place("xã Bình An, huyện Châu Thành, tỉnh Long An", "Kiên Giang")
    assert (named.district, named.province) == ("Châu Thành", "Long An")


@pytest.mark.parametrize(
    ("text", "guess"),
    [
        ("xã Vĩnh Tú", "Nghệ An"),
        ("huyện Châu Thành", "Sơn La"),
        ("Ấp 3, xã Bình An, huyện Châu Thành", "Sơn La"),
    ],
)
def test_a_guessed_unit_the_text_does_not_name_places_nothing(text: str, guess: str) -> None:
    # The parser alone reads `Vĩnh Tú` as the city of Vinh and `Châu Thành` as Yên Châu: a place
    # of death in another province written without it must not land in a third one.
    p = parse_place(text)
    assert (p.province, p.district, p.status) == (None, None, "unmapped")
    assert f"{guess} guessed, not named in the text" in (p.reason or "")


def test_a_unit_the_text_names_keeps_its_guessed_province() -> None:
    assert (parse_place("huyện Vĩnh Linh").district, parse_place("huyện Vĩnh Linh").province) == (
        "Vĩnh Linh",
        "Quảng Trị",
    )
    assert parse_place("Q.1").district == "Quận 1"
    assert parse_place("xa Gio An, Gio Linh").commune == "Gio An"


def test_old_and_post_2025_names_of_one_commune_meet_on_the_2025_code() -> None:
    # The national population database writes the 2025 units; the other registries the old ones.
    new = parse_place("Xã Mỹ Thuận, Tỉnh An Giang", "Kiên Giang")
    old = parse_place("Sóc Sơn, huyện Hòn Đất, Kiên Giang")
    assert new.status == "province" and new.commune is None  # never mapped onto a pre-2025 commune
    assert new.commune_2025_code is not None
    assert (
        new.commune_2025_code
        == old.commune_2025_code
        == parse_place("Mỹ Thuận, Hòn Đất, KG").commune_2025_code
    )
    assert parse_place("Bình An, Châu Thành, Kiên Giang").commune_2025_code != old.commune_2025_code


@pytest.mark.parametrize(
    ("text", "default"),
    [
        ("Bình An, Châu Thành, Kiên Giang", None),  # a commune: its 2025 code by conversion
        ("Bình An, Châu Thành", "Kiên Giang"),  # the default province assumed
        ("Xã Mỹ Thuận, Tỉnh An Giang", "Kiên Giang"),  # no pre-2025 commune: a 2025 name parsed
        ("A Dơi", None),  # only the 2025 fallback places it: its code kept
        ("abc xyz", None),
        (None, None),
    ],
)
def test_parse_units_is_parse_place_without_the_2025_code(text: str | None, default: str | None) -> None:
    full = parse_place(text, default)
    units = parse_units(text, default)
    assert units == (full if full.status == "unmapped" else replace(full, commune_2025_code=None))


def test_parse_units_does_not_look_up_the_2025_commune(monkeypatch) -> None:
    def no_lookup(*args):
        raise AssertionError("2025 commune looked up")

    monkeypatch.setattr(places, "_commune_2025", no_lookup)
    monkeypatch.setattr(places, "_parse_2025", no_lookup)
    p = parse_units("xã Vĩnh Hòa Hiệp, Châu Thành, Kiên Giang", "An Giang")
    assert (p.commune, p.province, p.commune_2025_code) == ("Vĩnh Hòa Hiệp", "Kiên Giang", None)


def test_historical_province() -> None:
    p = parse_place("Hoài Đức, Hà Tây")
    assert (p.district, p.province) == ("Hoài Đức", "Hà Nội")
    assert "Hà Tây" in (p.reason or "")


def test_unmapped_keeps_text_and_reason() -> None:
    p = parse_place("Xã Không Có, huyện Châu Thành, tỉnh Kiên Giang")
    assert (p.district, p.commune, p.status) == ("Châu Thành", None, "district")
    assert "Không Có" in (p.reason or "")
    nothing = parse_place("abc xyz", "Kiên Giang")
    assert nothing.status == "unmapped" and nothing.text == "abc xyz" and nothing.reason
    assert parse_place(None).reason == "blank"


def test_place_frame_and_default_province() -> None:
    texts = pl.Series(
        ["Bình An, Châu Thành", "Dương Đông, Phú Quốc, Kiên Giang", None, "Rạch Giá, Kiên Giang"]
    )
    assert most_common_province(texts) == "Kiên Giang"
    out = place_frame(texts, "Kiên Giang", prefix="hometown_")
    assert out["hometown_commune"].to_list() == ["Bình An", "Dương Đông", None, None]
    assert out["hometown_status"].to_list() == ["mapped", "mapped", "unmapped", "district"]


def test_place_key_drops_unit_types() -> None:
    assert place_key("xã Bình An, huyện Châu Thành") == place_key("Binh An - Chau Thanh")


def test_admin_unit_one_code_for_old_spellings_2025_names_and_other_provinces():
    from lietsi.places import admin_unit

    codes = {
        text: admin_unit(text, None, None, "Kiên Giang")["commune_code"]
        for text in ("Mỹ Đức", "phường Mì Đức", "Mì Đức", "P. Mỹ Đức")
    }
    assert set(codes.values()) == {"30778"}
    # A record written with the 2025 units names a commune the reform kept: the same commune.
    assert admin_unit("Xã Mỹ Thuận", None, "Tỉnh An Giang", "Kiên Giang")["commune_code"] == "30838"
    other = admin_unit("Bình Hòa", "Châu Thành", "An Giang", "Kiên Giang")
    assert (other["district_code"], other["in_province"]) == ("892", False)
    home = admin_unit("Bình An", "Châu Thành", "Kiên Giang", "Kiên Giang")
    assert (home["commune_code"], home["district_code"], home["in_province"]) == ("30898", "905", True)
    # Text that names no commune is not guessed into one; its district still counts.
    junk = admin_unit("<img src=x onerror=alert(1)>", "Châu Thành", "Kiên Giang", "Kiên Giang")
    assert (junk["commune_code"], junk["district_code"]) == (None, "905")


def test_a_split_commune_named_like_its_district_is_converted_offline(monkeypatch):
    """The 2025 converter geocodes online an address it reads a street in; `thị trấn Thiệu Hóa,
    huyện Thiệu Hóa` reads as one. No place text leaves the machine, and the run works offline."""
    import socket

    from lietsi import places

    def no_network(*args, **kwargs):
        raise AssertionError("a network call while parsing a place")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    places._commune_2025.cache_clear()
    places.parse_place.cache_clear()
    place = places.parse_place("Thiệu Hóa, Thị trấn Thiệu Hóa, Huyện Thiệu Hóa, Tỉnh Thanh Hóa")
    assert place.province == "Thanh Hóa" and place.district == "Thiệu Hóa"
    assert place.commune_2025_code
