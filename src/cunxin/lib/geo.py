"""Points on the map from the browser, and distances between them."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

COORDINATE = Decimal("0.000001")  # 6 decimal places, as the models store them (≈ 0.1 m)


def parse_point(
    lat_text: str | None, lon_text: str | None
) -> tuple[Decimal | None, Decimal | None]:
    """(latitude, longitude) from text the browser sent: both, within range, rounded to 6
    places — or (None, None) when either is missing or not a coordinate."""
    try:
        lat, lon = Decimal((lat_text or "").strip()), Decimal((lon_text or "").strip())
    except InvalidOperation:
        return None, None
    if not (lat.is_finite() and lon.is_finite() and abs(lat) <= 90 and abs(lon) <= 180):
        return None, None
    return lat.quantize(COORDINATE), lon.quantize(COORDINATE)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; plenty for ordering a village's tasks)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))
