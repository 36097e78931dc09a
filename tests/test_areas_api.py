import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_district_collection_is_rfc7946_geojson_with_chinese_unescaped(client):
    response = client.get(reverse("area-list"), {"level": "district"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "东城区".encode() in response.content  # UTF-8, not \\u escapes
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert len(body["features"]) == body["count"] == 16
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert set(feature["properties"]) >= {"code", "name", "level", "parent", "label_point"}
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    assert 115 < lon < 118 and 39 < lat < 42  # lon first, WGS-84


def test_street_collection_returns_every_unit(client, django_assert_max_num_queries):
    # The generation and count of the page, the page, and one query for the ETag / Last-Modified fingerprint.
    with django_assert_max_num_queries(4):
        body = client.get(reverse("area-list"), {"level": "street", "simplify": "10"}).json()
    assert len(body["features"]) == 349
    assert all(f["properties"]["synthetic"] for f in body["features"])
    assert {f["properties"]["parent"] for f in body["features"]} >= {"110101", "110119"}


def test_a_whole_layer_is_served_again_from_the_cache(client, django_assert_max_num_queries):
    url = "/api/v1/areas?level=district&simplify=50"
    first = client.get(url)
    with django_assert_max_num_queries(2):  # the version query only; no simplify, no serialising
        again = client.get(url)
    assert again.status_code == 200 and again.json() == first.json()
    assert again["ETag"] == first["ETag"]


def test_simplify_reduces_vertices(client):
    full = client.get(reverse("area-detail", args=["110116"])).content
    simple = client.get(reverse("area-list"), {"level": "district", "simplify": "200", "bbox": "116.6,40.5,116.7,40.6"})
    assert len(simple.content) < len(full)


def test_bbox_filters_areas(client):
    body = client.get(reverse("area-list"), {"level": "district", "bbox": "116.38,39.90,116.40,39.92"}).json()
    assert {f["properties"]["name"] for f in body["features"]} == {"东城区", "西城区"}


def test_one_area_and_its_children(client):
    feature = client.get(reverse("area-detail", args=["110102"])).json()
    assert feature["type"] == "Feature"
    assert feature["id"] == "110102"
    assert feature["properties"]["name"] == "西城区"
    children = client.get(reverse("area-children", args=["110102"])).json()
    names = {f["properties"]["name"] for f in children["features"]}
    assert len(names) == 15
    assert {"广安门外街道", "什刹海街道"} <= names


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        ("area-list", {"level": "province"}, 400, "invalid_level"),
        ("area-list", {"bbox": "1,2,3"}, 400, "invalid_bbox"),
        ("area-list", {"bbox": "3,2,1,4"}, 400, "invalid_bbox"),
        ("area-list", {"simplify": "-5"}, 400, "invalid_simplify"),
        ("area-list", {"at": "yesterday"}, 400, "invalid_date"),
    ],
)
def test_bad_list_parameters(client, url, params, status, code):
    response = client.get(reverse(url), params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_unknown_area_is_404_with_error_shape(client):
    for name in ("area-detail", "area-children"):
        response = client.get(reverse(name, args=["999999"]))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_openapi_schema_documents_the_endpoints(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/jurisdiction", "/api/v1/areas", "/api/v1/areas/{code}", "/api/v1/areas/{code}/children"} <= set(
        paths
    )
    params = {p["name"] for p in paths["/api/v1/jurisdiction"]["get"]["parameters"]}
    assert {"lon", "lat", "crs", "at"} <= params


def test_api_docs_page_loads_assets_locally(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "https://" not in html
