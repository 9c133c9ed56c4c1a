"""Coordinates written on household forms: swapped pairs repaired, points outside Vietnam dropped."""

from __future__ import annotations

import math

# Mainland Vietnam with its coastal islands (Phú Quốc, Côn Đảo, Bạch Long Vĩ), WGS84 degrees.
VN_LAT = (8.0, 23.5)
VN_LON = (102.0, 110.0)


def in_vietnam(lat: float | None, lon: float | None) -> bool:
    return (
        lat is not None
        and lon is not None
        and VN_LAT[0] <= lat <= VN_LAT[1]
        and VN_LON[0] <= lon <= VN_LON[1]
    )


def clean_coordinates(lat: float | None, lon: float | None) -> tuple[float | None, float | None, str | None]:
    """(lat, lon, note): swapped pairs are repaired, points outside Vietnam dropped with a note."""
    lat = None if lat is None or math.isnan(lat) else lat
    lon = None if lon is None or math.isnan(lon) else lon
    if lat is None and lon is None:
        return None, None, None
    if lat is None or lon is None:
        return None, None, "only one coordinate given"
    if in_vietnam(lat, lon):
        return lat, lon, None
    if in_vietnam(lon, lat):
        return lon, lat, "latitude and longitude swapped"
    return None, None, f"outside Vietnam ({lat}, {lon})"
