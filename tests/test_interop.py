"""What GIS clients and other systems need of the HTTP surface: RFC 7946 areas, validators and 304s, gzip, CORS,
TileJSON and tiles that revalidate with weak ETags."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely
from django.test import Client

from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area


def rings(geometry: dict) -> tuple[list, list]:
    """Exterior and interior rings of a Polygon or MultiPolygon."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [p[0] for p in polygons], [ring for p in polygons for ring in p[1:]]


def body(response) -> dict:
    content = response.content
    if response.get("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    return json.loads(content)


# --- RFC 7946 on /api/v1/areas ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/areas?level=district",
        "/api/v1/areas?level=street&page_size=5000",
        "/api/v1/areas?level=district&simplify=50",
        "/api/v1/areas/110102/children",
        "/api/v1/areas/110105",
    ],
)
def test_area_rings_wind_as_rfc7946_says_with_bbox_members(url):
    data = Client().get(url).json()
    features = data["features"] if "features" in data else [data]
    assert features
    for feature in features:
        exterior, interior = rings(feature["geometry"])
        assert all(shapely.LinearRing(ring).is_ccw for ring in exterior), feature["id"]
        assert not any(shapely.LinearRing(ring).is_ccw for ring in interior), feature["id"]
        shape = shapely.geometry.shape(feature["geometry"])
        assert feature["bbox"] == [round(v, 7) for v in shape.bounds]
        assert list(feature)[:3] == ["type", "id", "bbox"]
    if "features" in data:
        boxes = [f["bbox"] for f in features]
        assert data["bbox"] == [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]


@pytest.mark.django_db
def test_areas_answer_geojson_when_asked_and_round_to_seven_decimals():
    response = Client().get("/api/v1/areas?level=district", HTTP_ACCEPT="application/geo+json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
    data = response.json()
    for feature in data["features"]:
        lon, lat = feature["properties"]["label_point"]
        exterior, _ = rings(feature["geometry"])
        values = [lon, lat, *(x for ring in exterior for point in ring for x in point)]
        assert all(round(v, 7) == v for v in values)
    assert Client().get("/api/v1/areas/110102", HTTP_ACCEPT="application/geo+json").status_code == 200


@pytest.mark.django_db
def test_areas_carry_validators_and_answer_304():
    first = Client().get("/api/v1/areas?level=district")
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and "public" in first["Cache-Control"]
    again = Client().get("/api/v1/areas?level=district", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and "Content-Type" not in again
    weak = Client().get("/api/v1/areas?level=district", HTTP_IF_NONE_MATCH=f"W/{etag}")
    assert weak.status_code == 304
    since = Client().get("/api/v1/areas?level=district", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert since.status_code == 304
    other = Client().get("/api/v1/areas?level=street", HTTP_IF_NONE_MATCH=etag)
    assert other.status_code == 200 and other["ETag"] != etag
    detail = Client().get("/api/v1/areas/110102")
    assert Client().get("/api/v1/areas/110102", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304


@pytest.mark.django_db
def test_area_etag_moves_when_another_generation_takes_over(grid_areas):
    today = Client().get("/api/v1/areas?level=district")
    later = Client().get(f"/api/v1/areas?level=district&at={grid_areas.isoformat()}")
    assert later.status_code == 200 and later["ETag"] != today["ETag"]
    assert {f["id"] for f in later.json()["features"]} == {"900001", "900002", "900003", "900004"}


# --- compression and CORS ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_answers_are_gzipped_and_html_pages_are_not():
    response = Client().get("/api/v1/areas?level=district", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
    assert len(body(response)["features"]) == 16
    assert response["ETag"].startswith('W/"')  # a compressed copy's validator is weak
    revalidated = Client().get(
        "/api/v1/areas?level=district", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert revalidated.status_code == 304
    ogc = Client().get("/ogc/collections/districts/items", HTTP_ACCEPT_ENCODING="gzip")
    assert ogc["Content-Encoding"] == "gzip" and body(ogc)["numberReturned"] == 16
    login = Client().get("/accounts/login/", HTTP_ACCEPT_ENCODING="gzip")  # a form with a CSRF token
    assert login.status_code == 200 and "Content-Encoding" not in login
    page = Client().get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/areas?level=district",
        "/api/v1/jurisdiction?lon=116.3975&lat=39.9087",
        "/ogc/collections",
        "/ogc/collections/streets/items?limit=1",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
    ],
)
def test_anonymous_public_reads_are_open_to_other_origins(url):
    response = Client().get(url, HTTP_ORIGIN="https://other.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "Link" in response["Access-Control-Expose-Headers"]


@pytest.mark.django_db
def test_per_user_answers_never_get_cors_and_stay_private():
    demo_users_create()
    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}", HTTP_ORIGIN="https://other.example")
    for url in ("/ogc/collections", "/ogc/collections/complaints/items?limit=1", "/open311/v2/requests.json"):
        response = token.get(url)
        assert response.status_code == 200, url
        assert "Access-Control-Allow-Origin" not in response, url
        assert {"Cookie", "Authorization"} <= {v.strip() for v in response["Vary"].split(",")}, url
    assert "private" in token.get("/ogc/collections")["Cache-Control"]
    keyed = Client().get(f"/open311/v2/requests.json?api_key={DEMO_API_TOKEN}", HTTP_ORIGIN="https://other.example")
    assert "Access-Control-Allow-Origin" not in keyed
    tile = Client().get("/tiles/complaints/16/53923/24808.pbf", HTTP_ORIGIN="https://other.example")
    assert "Access-Control-Allow-Origin" not in tile and "private" in tile["Cache-Control"]


@pytest.mark.django_db
def test_preflight_for_reads_is_answered_and_other_options_stay_405():
    preflight = Client().options(
        "/ogc/collections/streets/items",
        HTTP_ORIGIN="https://other.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]
    assert "Authorization" not in preflight["Access-Control-Allow-Headers"]
    plain = Client().options("/open311/v2/requests.json")
    assert plain.status_code == 405 and plain.json()[0]["code"] == 405


# --- tiles: TileJSON, weak ETags, bodiless 204/304 --------------------------------------------------------------


@pytest.mark.django_db
def test_tilejson_describes_each_layer():
    tilejson = Client().get("/tiles/areas.json?level=street")
    assert tilejson.status_code == 200
    data = tilejson.json()
    assert data["tilejson"] == "3.0.0" and data["scheme"] == "xyz"
    assert data["tiles"] == ["http://testserver/tiles/areas/{z}/{x}/{y}.pbf?level=street"]
    west, south, east, north = data["bounds"]
    assert 115 < west < east < 118 and 39 < south < north < 42
    layer = data["vector_layers"][0]
    assert layer["id"] == "areas" and layer["fields"]["code"] == "String" and layer["fields"]["synthetic"] == "Boolean"
    for name in ("hotspots", "emerging", "repeat-places", "complaints"):
        assert Client().get(f"/tiles/{name}.json").json()["vector_layers"][0]["id"] == name
    assert Client().get("/tiles/nothing.json").status_code == 404
    assert Client().get("/tiles/areas.json?level=planet").status_code == 400
    metadata = Client().get("/tiles/areas/metadata.json").json()
    assert metadata["format"] == "pbf" and json.loads(metadata["json"])["vector_layers"][0]["id"] == "areas"


@pytest.mark.django_db
def test_tiles_revalidate_with_weak_etags_and_bodiless_answers_have_no_content_type():
    url = "/tiles/areas/10/842/387.pbf"
    first = Client().get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    for header in (etag, f"W/{etag}", f'"other", W/{etag}'):
        again = Client().get(url, HTTP_IF_NONE_MATCH=header)
        assert again.status_code == 304, header
        assert "Content-Type" not in again
    empty = Client().get("/tiles/areas/10/0/0.pbf")
    assert empty.status_code == 204 and "Content-Type" not in empty


@pytest.mark.django_db
def test_area_codes_in_tilejson_bounds_cover_every_district():
    bounds = Client().get("/tiles/areas.json").json()["bounds"]
    box = shapely.box(*bounds)
    for area in Area.objects.current().filter(level="district"):
        assert box.covers(shapely.from_wkb(bytes(area.geom.wkb)))
