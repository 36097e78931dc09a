"""Reads of the gazetteer for the API and pages: validated geocoding and reverse geocoding, place lists."""

from __future__ import annotations

from django.contrib.gis.geos import Polygon

from . import coords
from .errors import CodedError
from .geocoding import GeocodeCandidate, geocode, reverse_geocode
from .models import Place
from .querysets import PlaceQuerySet

MAX_QUERY_CHARS = 200
MAX_LIMIT = 20


class GeoQueryError(CodedError):
    """Input a geocoder read cannot use; `code`, `message` and `details` go into the API's error shape."""


def parse_limit(value, default: int = 5) -> int:
    """A candidate count 1–MAX_LIMIT from user input (default when absent)."""
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise GeoQueryError(
            "invalid_limit", f"limit 须为 1–{MAX_LIMIT} 的整数 limit must be an integer 1–{MAX_LIMIT}", {"limit": value}
        )
    return limit


def geocode_candidates(*, q: str | None, limit: int = 5) -> list[GeocodeCandidate]:
    """Candidates for an address text, best first, after checking the text is usable."""
    text = (q or "").strip()
    if not text:
        raise GeoQueryError(
            "missing_query", "缺少地址 q is required: the address text to geocode", {"q": "必填 required"}
        )
    if len(text) > MAX_QUERY_CHARS:
        raise GeoQueryError(
            "query_too_long",
            f"地址过长 address longer than {MAX_QUERY_CHARS} characters",
            {"q": f"{len(text)} characters"},
        )
    return geocode(text, limit=limit)


def reverse_candidates(*, lon, lat, crs: str | None = "wgs84", limit: int = 5) -> tuple[list[GeocodeCandidate], dict]:
    """The places nearest a point given in any supported system, and the WGS-84 point used."""
    try:
        lon_value, lat_value, system = coords.parse_lon_lat(lon, lat, crs)
    except coords.CoordinateInputError as exc:
        raise GeoQueryError("invalid_point", "坐标无效 invalid coordinates", exc.details) from None
    values = {"lon": lon_value, "lat": lat_value}
    x, y = coords.to_wgs84(values["lon"], values["lat"], system)
    point = {"lon": round(x, 7), "lat": round(y, 7), "crs": "wgs84", "input": {**values, "crs": system}}
    return reverse_geocode(lon=x, lat=y, limit=limit), point


def place_list(*, kind: str | None = None, district: str | None = None, bbox: Polygon | None = None) -> PlaceQuerySet:
    """Gazetteer places, optionally of one kind, in one district (by name) or intersecting a WGS-84 bbox."""
    places = Place.objects.all()
    if kind:
        places = places.of_kind(kind)
    if district:
        places = places.filter(district=district)
    if bbox is not None:
        places = places.filter(geom__intersects=bbox)
    return places
