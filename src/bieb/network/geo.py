"""Great-circle distances and bounding boxes on the WGS84 sphere (good to ~0.5% at NL scale)."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) holding every point within ``radius_km``."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    # Use the latitude farthest from the equator inside the box: degrees of longitude are
    # shortest there, so the box is wide enough everywhere.
    widest = min(89.0, abs(lat) + dlat)
    dlon = min(180.0, radius_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(widest))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def coordinates_are_valid(lat: object, lon: object) -> bool:
    return (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )
