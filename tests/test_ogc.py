"""OGC API – Features under /ogc/: landing page, conformance, collections, paging, filters, scopes, RFC 7946."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import shapely
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from complaints.models import Category, Complaint
from hotspots.models import AnalysisRun, FixPlan, HotspotCell, Parcel
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area, Rule

CONFORMANCE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def users(db):
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def street(name: str, district: str) -> Area:
    return Area.objects.current().get(level="street", name=name, parent__code=district)


def complaint_at(area: Area, tag: str) -> Complaint:
    point = area.geom.point_on_surface
    return Complaint.objects.create(
        external_id=f"ogc-{tag}-{uuid.uuid4().hex[:8]}",
        received_at=dt.datetime(2025, 5, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        category=Category.objects.filter(level=3).order_by("code").first(),
        location=Point(point.x, point.y, srid=4326),
        status="dispatched",
        district_code=area.parent.code,
        district_name=area.parent.name,
        street_code=area.code,
        street_name=area.name,
        lead_code=area.code,
        description="门口路面塌陷 secret text",
    )


def exterior_rings(geometry: dict) -> list[list]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


# --- landing page, conformance, collections --------------------------------------------------------------------


@pytest.mark.django_db
def test_landing_page_links_the_api_definition_conformance_and_collections():
    for url in ("/ogc", "/ogc/"):
        response = Client().get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        rels = {link["rel"]: link for link in response.json()["links"]}
        assert {"self", "service-desc", "conformance", "data"} <= set(rels)
        assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert rels["data"]["href"].endswith("/ogc/collections")
    assert CONFORMANCE in Client().get("/ogc/conformance").json()["conformsTo"]
    document = Client().get("/ogc/api")
    assert document["Content-Type"].startswith("application/vnd.oai.openapi+json")
    paths = document.json()["paths"]
    assert "/collections/streets/items" in paths and "/collections/complaints/items" in paths
    limit = document.json()["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == 10_000 and limit["default"] == 100


@pytest.mark.django_db
def test_anonymous_callers_see_the_public_collections_only(users):
    anonymous = [c["id"] for c in Client().get("/ogc/collections").json()["collections"]]
    assert anonymous == ["districts", "streets", "buildings", "hotspots", "emerging", "repeat-places", "idle-lots"]
    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    listed = [c["id"] for c in token.get("/ogc/collections").json()["collections"]]
    assert listed[-3:] == ["fix-plans", "rules", "complaints"]
    streets = Client().get("/ogc/collections/streets").json()
    assert streets["itemType"] == "feature"
    assert streets["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert len(streets["extent"]["spatial"]["bbox"][0]) == 4
    assert any(link["rel"] == "items" and link["type"] == GEOJSON for link in streets["links"])
    for restricted in ("complaints", "fix-plans", "rules"):
        response = Client().get(f"/ogc/collections/{restricted}/items")
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_unknown_collections_parameters_and_urls_are_json_errors():
    missing = Client().get("/ogc/collections/nothing/items")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    unknown = Client().get("/ogc/collections/streets/items?colour=red")
    assert unknown.status_code == 400 and unknown.json()["error"]["details"]["unknown"] == ["colour"]
    for query, code in [
        ("limit=0", "invalid_limit"),
        ("limit=x", "invalid_limit"),
        ("offset=-1", "invalid_offset"),
        ("bbox=1,2,3", "invalid_bbox"),
        ("datetime=yesterday", "invalid_datetime"),
        ("datetime=2025-01-01/2025-02-01", "invalid_datetime"),  # boundaries need an instant
        ("crs=http://www.opengis.net/def/crs/EPSG/0/3857", "invalid_crs"),
        ("f=html", "invalid_format"),
    ]:
        response = Client().get(f"/ogc/collections/streets/items?{query}")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "application/json" and response.json()["error"]["code"] == code, query
    page = Client().get("/ogc/no/such/page")
    assert page.status_code == 404 and page.json()["error"]["code"] == "not_found"


# --- items: paging, filters, RFC 7946 --------------------------------------------------------------------------


@pytest.mark.django_db
def test_items_page_through_every_street_with_next_and_prev_links():
    expected = set(Area.objects.current().of_level("street").values_list("code", flat=True))
    seen: list[str] = []
    url = "/ogc/collections/streets/items?limit=100"
    pages = 0
    while url:
        response = Client().get(url, HTTP_ACCEPT=GEOJSON)
        assert response.status_code == 200 and response["Content-Type"] == GEOJSON
        body = response.json()
        assert body["type"] == "FeatureCollection" and body["numberMatched"] == len(expected)
        assert body["numberReturned"] == len(body["features"]) <= 100
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        if pages:
            assert "prev" in links and 'rel="prev"' in response["Link"]
        url = links.get("next", "").replace("http://testserver", "")
        if url:
            assert f"<{links['next']}>" in response["Link"]
        pages += 1
    assert pages == -(-len(expected) // 100) and len(seen) == len(set(seen)) and set(seen) == expected


@pytest.mark.django_db
def test_items_are_rfc7946_ccw_with_bbox_members_and_seven_decimals():
    body = Client().get("/ogc/collections/districts/items?limit=20").json()
    assert body["numberMatched"] == body["numberReturned"] == 16
    minx, miny, maxx, maxy = body["bbox"]
    for feature in body["features"]:
        assert feature["id"] == feature["properties"]["code"]
        rings = exterior_rings(feature["geometry"])
        assert rings and all(shapely.LinearRing(ring).is_ccw for ring in rings)
        fx0, fy0, fx1, fy1 = feature["bbox"]
        assert minx <= fx0 < fx1 <= maxx and miny <= fy0 < fy1 <= maxy
        shape = shapely.geometry.shape(feature["geometry"])
        assert [round(v, 7) for v in shape.bounds] == feature["bbox"]
        assert max(decimals(x) for ring in rings for point in ring for x in point) <= 7


@pytest.mark.django_db
def test_bbox_and_property_filters_and_single_features():
    xicheng = Area.objects.current().get(code="110102")
    x0, y0, x1, y1 = xicheng.geom.extent
    inside = Client().get(f"/ogc/collections/streets/items?bbox={x0},{y0},{x1},{y1}&limit=1000").json()
    codes = {f["id"] for f in inside["features"]}
    assert {a.code for a in Area.objects.current().filter(parent__code="110102")} <= codes
    assert len(codes) < 349
    children = Client().get("/ogc/collections/streets/items?parent=110102&limit=1000").json()
    assert {f["properties"]["parent"] for f in children["features"]} == {"110102"}
    assert children["numberMatched"] == Area.objects.current().filter(parent__code="110102").count()
    one = Client().get("/ogc/collections/districts/items/110102")
    assert one.status_code == 200 and one["Content-Type"] == GEOJSON
    assert one.json()["id"] == "110102" and one.json()["properties"]["name"] == "西城区"
    assert Client().get("/ogc/collections/districts/items/999999").status_code == 404


@pytest.mark.django_db
def test_datetime_picks_the_generation_of_the_streets(grid_areas):
    later = Client().get(f"/ogc/collections/streets/items?datetime={grid_areas.isoformat()}&limit=100").json()
    assert sorted(f["id"] for f in later["features"]) == sorted(f"90000{i}00{j}" for i in range(1, 5) for j in (1, 2))
    today = Client().get("/ogc/collections/streets/items?limit=1").json()
    assert today["numberMatched"] == Area.objects.current().of_level("street").count()
    one = Client().get(f"/ogc/collections/streets/items/900001001?datetime={grid_areas.isoformat()}T12:00:00Z")
    assert one.status_code == 200 and one.json()["properties"]["parent"] == "900001"
    assert Client().get("/ogc/collections/streets/items/900001001").status_code == 404


@pytest.mark.django_db
def test_hotspot_cells_come_from_the_latest_run_and_filter_by_bin():
    run = AnalysisRun.objects.create(
        layer="hotspots",
        source="synthetic",
        period_start=dt.date(2099, 1, 1),
        period_end=dt.date(2099, 12, 31),
        finished_at=timezone.now() + dt.timedelta(days=1),
    )
    cell = Polygon(((116.40, 39.90), (116.40, 39.91), (116.41, 39.91), (116.40, 39.90)), srid=4326)  # clockwise
    for i, bin_ in enumerate([3, 0, -2]):
        HotspotCell.objects.create(
            run=run, h3=f"8a31aa{i}", geom=cell, count=5, value=5, z=2.0 - i, p=0.01, bin=bin_, street_code="110101001"
        )
    body = Client().get("/ogc/collections/hotspots/items").json()
    assert body["numberMatched"] == 3 and {f["properties"]["run"] for f in body["features"]} == {run.pk}
    assert all(shapely.LinearRing(exterior_rings(f["geometry"])[0]).is_ccw for f in body["features"])
    hot = Client().get("/ogc/collections/hotspots/items?bin=3").json()
    assert [f["id"] for f in hot["features"]] == ["8a31aa0"]
    assert Client().get("/ogc/collections/hotspots/items?significant=true").json()["numberMatched"] == 2
    assert Client().get("/ogc/collections/hotspots/items?datetime=2099-06-01").json()["numberMatched"] == 3
    assert Client().get("/ogc/collections/hotspots/items?run=999999999").status_code == 404
    assert Client().get("/ogc/collections/hotspots/items?bin=hot").status_code == 400


# --- scoped collections ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_complaints_are_read_within_the_callers_scope(users):
    guangwai = street("广安门外街道", "110102")
    taipingqiao = street("太平桥街道", "110106")
    mine, theirs = complaint_at(guangwai, "mine"), complaint_at(taipingqiao, "theirs")
    url = "/ogc/collections/complaints/items?limit=1000&datetime=2025-05-06"
    seen = {f["id"] for f in logged_in(users["guangwai"]).get(url).json()["features"]}
    assert mine.pk in seen and theirs.pk not in seen
    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    everything = token.get(url).json()
    assert {mine.pk, theirs.pk} <= {f["id"] for f in everything["features"]}
    feature = next(f for f in everything["features"] if f["id"] == mine.pk)
    assert "description" not in feature["properties"] and "reporter" not in feature["properties"]
    assert logged_in(users["guangwai"]).get(f"/ogc/collections/complaints/items/{theirs.pk}").status_code == 404
    assert logged_in(users["guangwai"]).get(f"/ogc/collections/complaints/items/{mine.pk}").status_code == 200
    only = token.get(f"/ogc/collections/complaints/items?street_code={taipingqiao.code}&datetime=2025-05-06").json()
    assert theirs.pk in {f["id"] for f in only["features"]} and mine.pk not in {f["id"] for f in only["features"]}
    response = token.get(url)
    assert "private" in response["Cache-Control"] and "Access-Control-Allow-Origin" not in response
    assert {"Cookie", "Authorization"} <= {v.strip() for v in response["Vary"].split(",")}


@pytest.mark.django_db
def test_fix_plans_follow_visible_to_and_rules_need_a_login(users):
    guangwai = street("广安门外街道", "110102")
    parcel = Parcel.objects.create(
        code=f"ogc-{uuid.uuid4().hex[:6]}",
        name="测试地块",
        land_use="绿地",
        status="idle",
        area_m2=1000,
        street_code=guangwai.code,
        geom=MultiPolygon(guangwai.geom.point_on_surface.buffer(0.0005), srid=4326),
    )
    plan = FixPlan.objects.create(
        parcel=parcel,
        kind="pocket_park",
        title="测试方案",
        street_code=guangwai.code,
        street_name="广外",
        district_code="110102",
        residents_served=10,
    )

    def seen(who: str) -> set[int]:
        features = logged_in(users[who]).get("/ogc/collections/fix-plans/items").json()["features"]
        return {f["id"] for f in features}

    assert plan.pk in seen("guangwai") and plan.pk in seen("xicheng") and plan.pk not in seen("taipingqiao")
    Rule.objects.create(
        geom=MultiPolygon(guangwai.geom.point_on_surface.buffer(0.0002), srid=4326),
        lead_code=guangwai.code,
        valid_from=dt.date(2020, 1, 1),
        reason="测试规则",
        author="admin",
    )
    rules = logged_in(users["planner"]).get(f"/ogc/collections/rules/items?lead_code={guangwai.code}").json()
    assert rules["numberMatched"] >= 1 and rules["features"][0]["properties"]["lead_code"] == guangwai.code
    assert shapely.LinearRing(exterior_rings(rules["features"][0]["geometry"])[0]).is_ccw


@pytest.mark.django_db
def test_public_answers_are_cacheable_and_open_to_other_origins():
    response = Client().get("/ogc/collections/districts/items", HTTP_ORIGIN="https://other.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"]
    assert response["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
