"""Vectorised conversions between WGS-84, GCJ-02, BD-09 and CGCS2000.

GCJ-02 ("Mars coordinates") is the obfuscated datum every map of mainland China must use (Amap, Tencent,
phone map apps). BD-09 is Baidu's further offset on top of GCJ-02. CGCS2000 is China's geodetic datum; it
differs from WGS-84 by a few centimetres, far below what a hotline location means, so it is treated as
WGS-84 here (metre-level equivalence).

The forward transforms are closed formulas. Their inverses have no closed form, so they are solved by fixed
point iteration (Newton-like: the offset changes slowly with position), which converges to well below a
millimetre within a few steps everywhere in China.

All functions take scalars or array-likes of longitudes and latitudes (degrees) and return numpy arrays (or
floats for scalar input). Points outside China are returned unchanged by the GCJ-02 transforms, as the
public algorithm does.
"""

from __future__ import annotations

import numpy as np

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
CGCS2000 = "cgcs2000"
SYSTEMS = (WGS84, GCJ02, BD09, CGCS2000)

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = np.pi * 3000.0 / 180.0

# The rectangle the public algorithm treats as "China"; outside it GCJ-02 equals WGS-84.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

# Iteration stops when the residual is below this many degrees (about 0.01 mm).
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30


class CoordinateError(ValueError):
    """Raised for an unknown coordinate system name."""


def _as_arrays(lon, lat):
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def _result(lon, lat, scalar):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def in_china(lon, lat):
    """True where a point lies in the rectangle the GCJ-02 algorithm shifts."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    west, south, east, north = CHINA_BOUNDS
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _gcj_delta(lon, lat):
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS-84 point, without the China test."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS-84 → GCJ-02. Points outside China are returned unchanged."""
    lon, lat, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    inside = in_china(lon, lat)
    return _result(np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat), scalar)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS-84 by fixed-point iteration on the forward offset (round trip well under 1 cm)."""
    lon, lat, scalar = _as_arrays(lon, lat)
    inside = in_china(lon, lat)
    wlon, wlat = _solve_inverse(lon, lat, lambda x, y: _add(_gcj_delta(x, y), x, y))
    return _result(np.where(inside, wlon, lon), np.where(inside, wlat, lat), scalar)


def _add(delta, x, y):
    return x + delta[0], y + delta[1]


def _solve_inverse(target_lon, target_lat, forward):
    """Find p with forward(p) == target; start at the target and step back by the residual."""
    lon = target_lon.copy()
    lat = target_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        flon, flat = forward(lon, lat)
        rlon = flon - target_lon
        rlat = flat - target_lat
        lon = lon - rlon
        lat = lat - rlat
        finite = np.isfinite(rlon) & np.isfinite(rlat)
        if not finite.any() or max(np.abs(rlon[finite]).max(initial=0), np.abs(rlat[finite]).max(initial=0)) < (
            _TOLERANCE_DEG
        ):
            break
    return lon, lat


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu)."""
    lon, lat, scalar = _as_arrays(lon, lat)
    blon, blat = _gcj02_to_bd09(lon, lat)
    return _result(blon, blat, scalar)


def _gcj02_to_bd09(lon, lat):
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02, iterated on the forward formula (the usual closed inverse is only metre-accurate)."""
    lon, lat, scalar = _as_arrays(lon, lat)
    glon, glat = _solve_inverse(lon, lat, _gcj02_to_bd09)
    return _result(glon, glat, scalar)


def wgs84_to_bd09(lon, lat):
    """WGS-84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon, lat):
    lon, lat, scalar = _as_arrays(lon, lat)
    return _result(lon.copy(), lat.copy(), scalar)


_TO_WGS84 = {WGS84: _identity, CGCS2000: _identity, GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_FROM_WGS84 = {WGS84: _identity, CGCS2000: _identity, GCJ02: wgs84_to_gcj02, BD09: wgs84_to_bd09}


def normalise_system(name: str) -> str:
    """Canonical system name for user input such as 'GCJ-02', 'bd09ll' or 'EPSG:4326'."""
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    aliases = {
        "wgs84": WGS84,
        "epsg:4326": WGS84,
        "4326": WGS84,
        "gcj02": GCJ02,
        "gcj": GCJ02,
        "mars": GCJ02,
        "bd09": BD09,
        "bd09ll": BD09,
        "baidu": BD09,
        "cgcs2000": CGCS2000,
        "epsg:4490": CGCS2000,
        "4490": CGCS2000,
    }
    try:
        return aliases[key]
    except KeyError:
        raise CoordinateError(
            f"未知坐标系 unknown coordinate system {name!r}; use one of {', '.join(SYSTEMS)}"
        ) from None


def to_wgs84(lon, lat, system: str):
    """Convert from any supported system to WGS-84."""
    return _TO_WGS84[normalise_system(system)](lon, lat)


def from_wgs84(lon, lat, system: str):
    """Convert WGS-84 to any supported system."""
    return _FROM_WGS84[normalise_system(system)](lon, lat)


def convert(lon, lat, *, source: str, target: str):
    """Convert between any two supported systems (through WGS-84)."""
    source = normalise_system(source)
    target = normalise_system(target)
    if source == target:
        return _identity(lon, lat)
    return from_wgs84(*to_wgs84(lon, lat, source), target)


class CoordinateInputError(ValueError):
    """Coordinates given by a user that cannot be used; `details` maps each bad field to why (zh-Hans, English)."""

    def __init__(self, details: dict):
        super().__init__("坐标无效 invalid coordinates")
        self.details = details


def parse_lon_lat(lon, lat, crs: str | None = WGS84) -> tuple[float, float, str]:
    """Validate raw lon/lat (strings or numbers, never booleans) and a system name: finite, in range, known system.

    Returns (lon, lat, canonical system) as given, not converted; raises CoordinateInputError listing every
    problem at once.
    """
    details = {}
    values = {}
    for name, raw, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if raw is None or str(raw).strip() == "":
            details[name] = "必填 required"
            continue
        if isinstance(raw, bool):  # JSON true/false: float() would read them as 1 and 0
            details[name] = f"不是数字 not a number: {raw!r}"
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            details[name] = f"不是数字 not a number: {raw!r}"
            continue
        if not np.isfinite(value):
            details[name] = f"必须是有限数 must be finite: {raw!r}"
            continue
        if not -bound <= value <= bound:
            details[name] = f"超出范围 out of range [-{bound:g}, {bound:g}]: {value}"
            continue
        values[name] = value
    try:
        system = normalise_system(crs or WGS84)
    except CoordinateError as exc:
        details["crs"] = str(exc)
    if details:
        raise CoordinateInputError(details)
    return values["lon"], values["lat"], system
