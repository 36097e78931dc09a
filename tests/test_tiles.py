"""Vector tiles: decoded with mapbox-vector-tile and checked against PostGIS; errors, ETags, GCJ-02 shifting."""

import datetime as dt
import math

import mapbox_vector_tile
import pytest
import shapely
from django.conf import settings
from django.db import connection
from django.test import override_settings

from geo import coords
from jurisdictions.models import Area
from jurisdictions.services import FieldMap, boundaries_import
from maps import tiles
from maps.tile_layers import AREAS

from .conftest import write_geojson

FAR_FUTURE = dt.date(2100, 6, 1)


@pytest.fixture
def client(admin_client):
    """Tiles as a city administrator, who sees every complaint; what others see: tests/test_read_scope.py."""
    return admin_client


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point (independent of maps.tiles on purpose)."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def tile_units(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Position of a point inside tile z/x/y in MVT units (0–4096, y down)."""
    n = 2**z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return (fx - x) * 4096, (fy - y) * 4096


def decode(content: bytes, layer: str = "areas") -> list[dict]:
    # y_coord_down: MVT's own orientation, so positions compare with tile_units directly.
    if not content:
        return []
    layers = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    return layers.get(layer, {}).get("features", [])


def postgis_codes(z: int, x: int, y: int, *, level: str, extra_sql: str = "", params=()) -> set[str]:
    """Codes of current areas of `level` meeting the buffered tile envelope, straight from PostGIS."""
    ids = list(Area.objects.current().values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.code FROM jurisdictions_area a
            LEFT JOIN jurisdictions_area p ON p.id = a.parent_id
            WHERE a.id = ANY(%s) AND a.level = %s
              AND ST_Intersects(a.geom, ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326))
              {extra_sql}
            """,
            [ids, level, z, x, y, *params],
        )
        return {row[0] for row in cursor.fetchall()}


# 西城区 and its neighbours at zoom 12.
XICHENG = (116.366, 39.915)


@pytest.mark.parametrize("z", [8, 10, 12, 14])
@pytest.mark.parametrize("level", ["district", "street"])
def test_area_tile_holds_exactly_the_areas_postgis_finds(client, db, z, level):
    x, y = tile_of(*XICHENG, z)
    response = client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?level={level}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    features = decode(response.content)
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes))  # one feature per area
    assert set(codes) == postgis_codes(z, x, y, level=level)
    assert {f["properties"]["level"] for f in features} == {level}
    assert all(isinstance(f["id"], int) for f in features)


def test_area_tile_attributes_and_both_levels_without_a_filter(client, db):
    z = 12
    x, y = tile_of(*XICHENG, z)
    features = decode(client.get(f"/tiles/areas/{z}/{x}/{y}.pbf").content)
    by_level = {}
    for f in features:
        by_level.setdefault(f["properties"]["level"], set()).add(f["properties"]["code"])
    assert by_level["district"] == postgis_codes(z, x, y, level="district")
    assert by_level["street"] == postgis_codes(z, x, y, level="street")
    xichang = next(f for f in features if f["properties"]["code"] == "110102")
    assert xichang["properties"]["name"] == "西城区"
    assert xichang["properties"]["synthetic"] is False
    street = next(f for f in features if f["properties"]["level"] == "street")
    assert street["properties"]["parent_code"] == street["properties"]["code"][:6]
    assert street["properties"]["synthetic"] is True


def test_area_filter_keeps_an_area_and_the_areas_under_it(client, db):
    z = 9
    x, y = tile_of(*XICHENG, z)
    features = decode(client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?area=110102").content)
    codes = {f["properties"]["code"] for f in features}
    expected = postgis_codes(z, x, y, level="street", extra_sql="AND p.code = %s", params=["110102"])
    assert len(expected) >= 5
    assert codes == expected | {"110102"}
    unfiltered = {f["properties"]["code"] for f in decode(client.get(f"/tiles/areas/{z}/{x}/{y}.pbf").content)}
    assert codes < unfiltered
    assert any(code.startswith("110101") for code in unfiltered)  # 东城区 is next door, filtered out


def test_at_filter_before_any_boundary_version_gives_an_empty_tile(client, db):
    z = 10
    x, y = tile_of(*XICHENG, z)
    assert client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?at=2020-01-01").status_code == 200
    response = client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?at=2019-12-31")
    assert response.status_code == 204
    assert response.content == b""
    assert response["ETag"]


def test_tile_outside_the_data_is_204_no_content(client, db):
    x, y = tile_of(-30.0, 30.0, 9)  # the Atlantic
    response = client.get(f"/tiles/areas/9/{x}/{y}.pbf")
    assert response.status_code == 204
    assert response.content == b""
    assert "max-age" in response["Cache-Control"]


def test_etag_cache_control_and_304(client, db):
    x, y = tile_of(*XICHENG, 11)
    url = f"/tiles/areas/11/{x}/{y}.pbf?level=street"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first["Cache-Control"] == f"public, max-age={AREAS.max_age}"
    assert client.get(url)["ETag"] == etag  # stable
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    # Another filter, system or tile is another resource.
    assert client.get(f"/tiles/areas/11/{x}/{y}.pbf?level=district")["ETag"] != etag
    assert client.get(url + "&crs=gcj02")["ETag"] != etag
    assert client.get(f"/tiles/areas/11/{x + 1}/{y}.pbf?level=street")["ETag"] != etag


def import_square(*, code: str, name: str, lon: float, lat: float, size: float, generation: str) -> None:
    """A one-district generation valid from 2100, activated, holding one small square."""
    import_polygon(code=code, name=name, polygon=shapely.box(lon, lat, lon + size, lat + size), generation=generation)


def import_polygon(*, code: str, name: str, polygon, generation: str) -> None:
    """A one-district generation valid from 2100, activated, holding `polygon` (WGS-84)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        source = write_geojson(Path(tmp) / "area.geojson", [({"code": code, "name": name}, polygon)])
        boundaries_import(
            source=source,
            generation=generation,
            level="district",
            valid_from=dt.date(2100, 1, 1),
            fields=FieldMap(),
            activate=True,
            commit=True,
        )


def test_etag_changes_when_the_data_behind_the_tile_changes(client, db):
    lon, lat = 10.0, 10.0
    x, y = tile_of(lon, lat, 10)
    url = f"/tiles/areas/10/{x}/{y}.pbf?at={FAR_FUTURE}"
    before = client.get(url)
    assert before.status_code == 204
    import_square(code="990101", name="测试方块", lon=lon + 0.01, lat=lat + 0.01, size=0.05, generation="test-etag")
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert [f["properties"]["code"] for f in decode(after.content)] == ["990101"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/tiles/nope/1/0/0.pbf", 404, "unknown_layer"),
        ("/tiles/areas/23/0/0.pbf", 400, "invalid_zoom"),
        ("/tiles/areas/-1/0/0.pbf", 400, "invalid_zoom"),
        ("/tiles/areas/3/8/0.pbf", 400, "invalid_tile"),
        ("/tiles/areas/3/0/-1.pbf", 400, "invalid_tile"),
        ("/tiles/areas/3/a/0.pbf", 400, "invalid_tile"),
        ("/tiles/areas/3/1/1.pbf?level=province", 400, "invalid_filter"),
        ("/tiles/areas/3/1/1.pbf?at=2024-13-01", 400, "invalid_date"),
        ("/tiles/areas/3/1/1.pbf?area=xx", 400, "invalid_filter"),
        ("/tiles/areas/3/1/1.pbf?colour=red", 400, "unknown_filter"),
        ("/tiles/areas/3/1/1.pbf?crs=bd09", 400, "invalid_crs"),
        ("/map/labels?level=province", 400, "invalid_filter"),
    ],
)
def test_bad_requests_get_the_api_error_shape(client, db, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_only_get_is_allowed(client, db):
    response = client.post("/tiles/areas/3/1/1.pbf")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_zoom_outside_a_layers_range_is_an_empty_tile(db):
    layer = tiles.TileLayer(
        name="test-zoom-range",
        title_zh="测试",
        title_en="test",
        attributes=AREAS.attributes,
        filters=AREAS.filters,
        source=AREAS.source,
        version=AREAS.version,
        min_zoom=12,
    )
    x, y = tile_of(*XICHENG, 10)
    filters = layer.parse_filters({})
    assert tiles.tile_mvt(layer=layer, z=10, x=x, y=y, filters=filters) == b""
    assert tiles.tile_mvt(layer=AREAS, z=10, x=x, y=y, filters=filters) != b""


def test_register_refuses_a_second_layer_with_the_same_name():
    assert tiles.layer_get("areas") is AREAS
    assert tiles.register(AREAS) is AREAS  # the same object again is harmless
    with pytest.raises(ValueError):
        tiles.register(tiles.TileLayer(**{**AREAS.__dict__, "title_en": "another"}))


def _ring(feature) -> list[tuple[float, float]]:
    geometry = feature["geometry"]
    assert geometry["type"] == "Polygon"
    return [tuple(p) for p in geometry["coordinates"][0]]


@pytest.mark.parametrize("system", ["wgs84", "gcj02"])
def test_tile_vertices_sit_where_the_projection_says_in_either_system(client, db, system):
    z = 16
    x, y = tile_of(116.3975, 39.9087, z)  # 天安门, in China: GCJ-02 shifts it by hundreds of metres
    # Where the corners must be drawn: a square in the middle of the tile, in tile units.
    drawn = [(0.375, 0.625), (0.625, 0.625), (0.625, 0.375), (0.375, 0.375)]
    shown = [tiles.tile_lonlat(z, x + fx, y + fy) for fx, fy in drawn]
    # Where they are stored: the same points in WGS-84 (de-shifted when the tile is drawn in GCJ-02).
    stored = shown if system == "wgs84" else [coords.gcj02_to_wgs84(lon, lat) for lon, lat in shown]
    import_polygon(code="990201", name="偏移测试", polygon=shapely.Polygon(stored), generation="test-gcj")
    response = client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?at={FAR_FUTURE}&crs={system}")
    assert response.status_code == 200
    (feature,) = decode(response.content)
    assert feature["properties"]["code"] == "990201"
    ring = _ring(feature)
    for fx, fy in drawn:
        nearest = min(math.hypot(px - fx * 4096, py - fy * 4096) for px, py in ring)
        assert nearest <= 1.0, (system, (fx, fy), ring)
    if system == "gcj02":
        # The same data drawn unshifted is nowhere near: the shift is real, not a no-op.
        plain = decode(client.get(f"/tiles/areas/{z}/{x}/{y}.pbf?at={FAR_FUTURE}").content)
        assert not plain or min(math.hypot(px - 1536, py - 2560) for px, py in _ring(plain[0])) > 100


def test_gcj02_tiles_for_points_outside_china_are_not_shifted(client, db):
    z = 14
    x, y = tile_of(10.0, 10.0, z)
    west, _ = tiles.tile_lonlat(z, x + 0.25, y + 0.25)
    east, south = tiles.tile_lonlat(z, x + 0.75, y + 0.75)
    import_square(code="990301", name="境外测试", lon=west, lat=south, size=east - west, generation="test-abroad")
    url = f"/tiles/areas/{z}/{x}/{y}.pbf?at={FAR_FUTURE}"
    plain = decode(client.get(url).content)
    shifted = decode(client.get(url + "&crs=gcj02").content)
    assert _ring(plain[0]) == _ring(shifted[0])


def test_labels_lie_inside_their_areas_and_shift_with_gcj02(client, db):
    body = client.get("/map/labels?level=district").json()
    assert body["system"] == "wgs84"
    labels = {label["code"]: label for label in body["labels"]}
    assert len(labels) == 16
    assert labels["110102"]["name"] == "西城区"
    for label in labels.values():
        area = Area.objects.current().get(code=label["code"])
        assert area.geom.covers(shapely_point(label["lon"], label["lat"]))
    streets = client.get("/map/labels?level=street&area=110102").json()["labels"]
    assert len(streets) == 15
    assert {s["parent"] for s in streets} == {"110102"}
    shifted = {label["code"]: label for label in client.get("/map/labels?level=district&crs=gcj02").json()["labels"]}
    for code, label in labels.items():
        lon, lat = coords.wgs84_to_gcj02(label["lon"], label["lat"])
        assert shifted[code]["lon"] == pytest.approx(lon, abs=1e-6)
        assert shifted[code]["lat"] == pytest.approx(lat, abs=1e-6)
        assert shifted[code]["lon"] - label["lon"] > 0.004  # hundreds of metres east in Beijing


def shapely_point(lon, lat):
    from django.contrib.gis.geos import Point

    return Point(lon, lat, srid=4326)


def test_planner_page_offers_tile_layers_and_says_which_system_it_shows(client):
    html = client.get("/").content.decode()
    assert "/tiles/areas/{z}/{x}/{y}.pbf" in html
    assert "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js" in html
    assert '"system": "wgs84"' in html
    gcj = {**settings.SHAOZI, "BASEMAP_URL": "/basemap/{z}/{x}/{y}.png", "BASEMAP_CRS": "gcj02"}
    with override_settings(SHAOZI=gcj):
        html = client.get("/").content.decode()
    assert '"system": "gcj02"' in html
    # A GCJ-02 setting without a basemap changes nothing: there is nothing to line up with.
    with override_settings(SHAOZI={**settings.SHAOZI, "BASEMAP_URL": "", "BASEMAP_CRS": "gcj02"}):
        assert '"system": "wgs84"' in client.get("/").content.decode()


@pytest.fixture(scope="module")
def hotspots_demo(django_db_setup, django_db_blocker):
    """The hot-spot demo runs (committed once; `--if-empty` makes later sessions free)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("hotspots_demo_load", "--if-empty", verbosity=0)


@pytest.mark.parametrize("z", [11, 13])
def test_hotspot_tile_holds_the_cells_of_the_latest_run(client, db, hotspots_demo, z):
    from hotspots.models import AnalysisRun, HotspotCell

    run = AnalysisRun.objects.filter(layer="hotspots").latest("finished_at")
    x, y = tile_of(116.36, 39.90, z)
    response = client.get(f"/tiles/hotspots/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    features = decode(response.content, "hotspots")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h3, ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(%s, %s, %s)) "
            f"FROM {HotspotCell._meta.db_table} WHERE run_id = %s AND (bin <> 0 OR %s) "
            "AND ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096))",
            [z, x, y, run.pk, z >= 13, z, x, y],
        )
        rows = cursor.fetchall()
    inside = {h3 for h3, in_tile in rows if in_tile}
    buffered = {h3 for h3, _ in rows}
    got = {f["properties"]["h3"] for f in features}
    assert inside and inside <= got <= buffered  # the tile's own cells, and at most those of its buffer
    assert {f["properties"]["run_id"] for f in features} == {run.pk}
    assert (z < 13) is all(f["properties"]["bin"] != 0 for f in features)


def test_emerging_and_repeat_place_tiles_follow_their_filters(client, db, hotspots_demo):
    z = 11
    x, y = tile_of(116.36, 39.90, z)
    every = decode(client.get(f"/tiles/emerging/{z}/{x}/{y}.pbf").content, "emerging")
    assert every and "none" not in {f["properties"]["pattern"] for f in every}
    pattern = every[0]["properties"]["pattern"]
    some = decode(client.get(f"/tiles/emerging/{z}/{x}/{y}.pbf?pattern={pattern}").content, "emerging")
    assert {f["properties"]["pattern"] for f in some} == {pattern}
    assert client.get(f"/tiles/emerging/{z}/{x}/{y}.pbf?pattern=hot").json()["error"]["code"] == "invalid_filter"
    places = decode(client.get(f"/tiles/repeat-places/{z}/{x}/{y}.pbf").content, "repeat-places")
    chronic = decode(client.get(f"/tiles/repeat-places/{z}/{x}/{y}.pbf?chronic=true").content, "repeat-places")
    assert places and len(chronic) < len(places) and all(f["properties"]["chronic"] for f in chronic)
    assert client.get(f"/tiles/hotspots/{z}/{x}/{y}.pbf?run=0").json()["error"]["code"] == "invalid_filter"
    assert client.get(f"/tiles/hotspots/{z}/{x}/{y}.pbf?run=999999").status_code == 204


# ---------------------------------------------------------------------------------------------------------------
# Complaints: hexagon counts below zoom 16, points from it; decoded and compared with PostGIS counts.
# ---------------------------------------------------------------------------------------------------------------

# The centre of a zoom-14 tile over 东城区: every test complaint lies inside it and inside its zoom-13 and zoom-12
# parents, so the hexagon sums of those tiles can be compared with plain counts.
COMPLAINT_TILE_14 = tile_of(116.40, 39.91, 14)


def _tile_centre(z: int, x: int, y: int) -> tuple[float, float]:
    n = 2**z
    lon = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lon, lat


@pytest.fixture
def tile_complaints(db):
    """120 complaints around the centre of a zoom-14 tile: two top-level categories, four statuses, two streets,
    received over 2024-03-01 … 2024-03-30 (local time), spread over ±0.004° (about ±400 m)."""
    from django.contrib.gis.geos import Point

    from complaints.deadlines import LOCAL_TZ
    from complaints.models import Category, Complaint

    leaves = [Category.objects.get(code="010101"), Category.objects.get(code="030101")]
    lon0, lat0 = _tile_centre(14, *COMPLAINT_TILE_14)
    statuses = ["received", "dispatched", "in_progress", "closed"]
    rows = []
    for i in range(120):
        dx = ((i * 37) % 81 - 40) / 10000.0
        dy = ((i * 53) % 81 - 40) / 10000.0
        rows.append(
            Complaint(
                external_id=f"tile-test-{i}",
                received_at=dt.datetime(2024, 3, 1 + i % 30, 9, 0, tzinfo=LOCAL_TZ),
                category=leaves[i % 2],
                location=Point(lon0 + dx, lat0 + dy, srid=4326),
                status=statuses[i % 4],
                district_code="110101",
                street_code="110101001" if i % 3 else "110101002",
            )
        )
    Complaint.objects.bulk_create(rows)
    return rows


def postgis_complaint_count(z: int | None = None, x=None, y=None, *, where: str = "", params=()) -> int:
    """Complaints meeting the buffered tile envelope (or all, without z) and `where`, counted by PostGIS."""
    sql = (
        "SELECT count(*) FROM complaints_complaint c JOIN complaints_category k ON k.id = c.category_id "
        "WHERE c.external_id LIKE 'tile-test-%%'"
    )
    args: list = []
    if z is not None:
        sql += " AND ST_Intersects(c.location, ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326))"
        args += [z, x, y]
    with connection.cursor() as cursor:
        cursor.execute(sql + where, [*args, *params])
        return cursor.fetchone()[0]


COMPLAINT_FILTER_CASES = [
    ("", "", ()),
    ("status=closed", " AND c.status = %s", ("closed",)),
    ("status=received,dispatched", " AND c.status IN (%s, %s)", ("received", "dispatched")),
    ("category=01", " AND k.code LIKE %s", ("01%",)),
    ("category=0301", " AND k.code LIKE %s", ("0301%",)),
    (
        "from=2024-03-05&to=2024-03-10",
        " AND c.received_at >= %s AND c.received_at < %s",
        ("2024-03-05T00:00:00+08:00", "2024-03-11T00:00:00+08:00"),
    ),
    ("street=110101002", " AND c.street_code = %s", ("110101002",)),
    ("area=110101002&status=closed", " AND c.street_code = %s AND c.status = %s", ("110101002", "closed")),
    ("district=110105", " AND c.district_code = %s", ("110105",)),
]


@pytest.mark.parametrize("query,where,params", COMPLAINT_FILTER_CASES)
@pytest.mark.parametrize("z", [12, 14])
def test_complaint_hexagons_sum_to_the_postgis_count(client, tile_complaints, z, query, where, params):
    lon0, lat0 = _tile_centre(14, *COMPLAINT_TILE_14)
    x, y = tile_of(lon0 + 0.0001, lat0 + 0.0001, z)
    expected = postgis_complaint_count(where=where, params=params)
    response = client.get(f"/tiles/complaints/{z}/{x}/{y}.pbf?{query}")
    if expected == 0:
        assert response.status_code == 204
        return
    assert response.status_code == 200
    features = decode(response.content, "complaints")
    # Hexagons (polygons), one feature per hexagon, their counts adding up to every matching complaint.
    assert {f["geometry"]["type"] for f in features} == {"Polygon"}
    assert len({f["id"] for f in features}) == len(features)
    assert sum(f["properties"]["complaints"] for f in features) == expected
    assert len(features) <= expected
    if not query:
        assert 1 < len(features) < expected  # aggregated, and not into one blob
        # Each hexagon holds the complaints whose position lies inside it (vertices are rounded to whole tile
        # units, so a point within 1.5 units of an edge may fall either side).
        points = [shapely.Point(tile_units(c.location.x, c.location.y, z, x, y)) for c in tile_complaints]
        for feature in features:
            hexagon = shapely.Polygon(feature["geometry"]["coordinates"][0])
            surely = sum(hexagon.buffer(-1.5).contains(p) for p in points)
            maybe = sum(hexagon.buffer(1.5).contains(p) for p in points)
            assert surely <= feature["properties"]["complaints"] <= maybe


@pytest.mark.parametrize("query,where,params", COMPLAINT_FILTER_CASES)
def test_complaint_points_at_high_zoom_match_postgis(client, tile_complaints, query, where, params):
    lon0, lat0 = _tile_centre(14, *COMPLAINT_TILE_14)
    z = 16
    x, y = tile_of(lon0 + 0.001, lat0 + 0.001, z)
    expected = postgis_complaint_count(z, x, y, where=where, params=params)
    response = client.get(f"/tiles/complaints/{z}/{x}/{y}.pbf?{query}")
    features = decode(response.content, "complaints") if response.status_code == 200 else []
    assert len(features) == expected
    assert postgis_complaint_count(z, x, y) > expected or not where  # the filter did something here
    if features:
        assert {f["geometry"]["type"] for f in features} == {"Point"}
        props = features[0]["properties"]
        assert props["complaints"] == 1 and props["category_code"] in ("010101", "030101")
        assert props["received"].startswith("2024-03-") and props["received"].endswith("09:00")


def test_complaint_point_positions(client, tile_complaints):
    z = 17
    first = tile_complaints[0]
    x, y = tile_of(first.location.x, first.location.y, z)
    features = decode(client.get(f"/tiles/complaints/{z}/{x}/{y}.pbf").content, "complaints")
    mine = [f for f in features if f["id"] == first.pk]
    assert len(mine) == 1
    px, py = mine[0]["geometry"]["coordinates"]
    ex, ey = tile_units(first.location.x, first.location.y, z, x, y)
    assert abs(px - ex) <= 1 and abs(py - ey) <= 1


def test_complaint_tile_etag_moves_with_the_data_and_filters(client, tile_complaints):
    from complaints.models import Complaint

    z = 13
    lon0, lat0 = _tile_centre(14, *COMPLAINT_TILE_14)
    x, y = tile_of(lon0, lat0, z)
    url = f"/tiles/complaints/{z}/{x}/{y}.pbf"
    first = client.get(url)
    assert first["Cache-Control"] == "private, max-age=60"
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url + "?status=closed")["ETag"] != etag
    Complaint.objects.filter(pk=tile_complaints[0].pk).update(
        status="resolved", updated_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    )
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize(
    "query,code",
    [
        ("status=lost", "invalid_filter"),
        ("category=99", "invalid_filter"),
        ("from=2024-13-01", "invalid_date"),
        ("district=1101", "invalid_filter"),
        ("street=abc", "invalid_filter"),
        ("colour=red", "unknown_filter"),
    ],
)
def test_complaint_tile_filters_are_validated(client, db, query, code):
    response = client.get(f"/tiles/complaints/14/13487/6208.pbf?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_complaint_layer_is_empty_below_its_minimum_zoom(client, tile_complaints):
    x, y = tile_of(116.40, 39.91, 9)
    assert client.get(f"/tiles/complaints/9/{x}/{y}.pbf").status_code == 204


def test_complaint_tiles_in_gcj02_keep_every_count(client, tile_complaints):
    # The GCJ-02 box is the de-shifted tile box: a zoom-12 tile still holds all test complaints, shifted.
    lon0, lat0 = _tile_centre(14, *COMPLAINT_TILE_14)
    x, y = tile_of(*coords.wgs84_to_gcj02(lon0, lat0), 12)
    response = client.get(f"/tiles/complaints/12/{x}/{y}.pbf?crs=gcj02")
    assert response.status_code == 200
    features = decode(response.content, "complaints")
    assert sum(f["properties"]["complaints"] for f in features) == len(tile_complaints)
