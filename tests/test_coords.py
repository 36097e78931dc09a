import numpy as np
import pytest
from pyproj import Geod

from geo import coords

# Public GCJ-02 test vectors: (WGS-84 lat, lon) → (GCJ-02 lat, lon).
VECTORS = [
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
]
GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_wgs84_to_gcj02_matches_public_vectors(wgs, gcj):
    lon, lat = coords.wgs84_to_gcj02(wgs[1], wgs[0])
    assert lon == pytest.approx(gcj[1], abs=1e-12)
    assert lat == pytest.approx(gcj[0], abs=1e-12)


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_gcj02_to_wgs84_inverts_the_vectors_within_a_centimetre(wgs, gcj):
    lon, lat = coords.gcj02_to_wgs84(gcj[1], gcj[0])
    _, _, metres = GEOD.inv(lon, lat, wgs[1], wgs[0])
    assert metres < 0.01


def _china_grid():
    lon, lat = np.meshgrid(np.linspace(73.7, 134.8, 120), np.linspace(18.2, 53.4, 80))
    return lon.ravel(), lat.ravel()


def test_gcj02_round_trip_is_within_a_centimetre_everywhere_in_china():
    lon, lat = _china_grid()
    back_lon, back_lat = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    _, _, metres = GEOD.inv(lon, lat, back_lon, back_lat)
    assert metres.max() < 0.01
    # The shift itself is real (hundreds of metres), so the test is not comparing a point with itself.
    shifted_lon, shifted_lat = coords.wgs84_to_gcj02(lon, lat)
    _, _, shift = GEOD.inv(lon, lat, shifted_lon, shifted_lat)
    assert np.median(shift) > 100


def test_bd09_round_trip_is_within_a_centimetre_everywhere_in_china():
    lon, lat = _china_grid()
    back_lon, back_lat = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    _, _, metres = GEOD.inv(lon, lat, back_lon, back_lat)
    assert metres.max() < 0.01


def test_bd09_adds_baidus_offset_on_top_of_gcj02():
    gcj = coords.wgs84_to_gcj02(116.3975, 39.9087)
    bd = coords.gcj02_to_bd09(*gcj)
    _, _, metres = GEOD.inv(gcj[0], gcj[1], bd[0], bd[1])
    assert 500 < metres < 1200


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(-0.1276, 51.5072), (139.6917, 35.6895), (-74.006, 40.7128), (151.2093, -33.8688), (10.0, 0.5)],
)
def test_points_outside_china_are_unchanged(lon, lat):
    assert coords.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert coords.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_cgcs2000_is_treated_as_wgs84():
    assert coords.to_wgs84(116.4, 39.9, "cgcs2000") == (116.4, 39.9)
    assert coords.convert(116.4, 39.9, source="EPSG:4490", target="wgs84") == (116.4, 39.9)


def test_conversions_are_vectorised_and_keep_shape():
    lon = np.array([116.1, 116.2, 116.3])
    lat = np.array([39.8, 39.9, 40.0])
    out_lon, _ = coords.convert(lon, lat, source="wgs84", target="bd09")
    assert out_lon.shape == (3,)
    assert not np.allclose(out_lon, lon)


def test_unknown_system_is_a_clear_error():
    with pytest.raises(coords.CoordinateError, match="unknown coordinate system"):
        coords.to_wgs84(116.4, 39.9, "mercator")
