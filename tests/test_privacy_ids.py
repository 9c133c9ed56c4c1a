import pytest

from lietsi.privacy import keyed_hash, normalise_citizen_id, normalise_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("091155000123", "091155000123"),
        ("091 155 000 123", "091155000123"),
        ("91155000123", "091155000123"),
        ("91155000123.0", "091155000123"),
        ("09115500O123", "091155000123"),
        ("09115500012", None),
        ("0911-ABC", None),
        ("191155000123", None),
        ("", None),
        (None, None),
    ],
)
def test_citizen_ids(text, expected):
    assert normalise_citizen_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("912345678", "0912345678"),
        ("12", None),
    ],
)
def test_phones(text, expected):
    assert normalise_phone(text) == expected


def test_hash_depends_on_the_key():
    assert keyed_hash("091155000123", b"a") != keyed_hash("091155000123", b"b")
    assert keyed_hash("091155000123", b"a") == keyed_hash("091155000123", b"a")
