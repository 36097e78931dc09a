"""The native complaint API: intake by point or address, GeoJSON lists with filters, detail, lifecycle, returns."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from complaints.models import Complaint
from geo import coords
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area

LUGU = "110107011"
BABAOSHAN = "110107001"


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def api(db):
    """The hotline's system: the demo api_client's token (takes complaints in, reads them, closes, rates)."""
    demo_users_create()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    return client


@pytest.fixture
def admin(db):
    """A city administrator (handles, returns and reviews anywhere)."""
    demo_users_create()
    client = APIClient()
    client.force_authenticate(User.objects.get(username="admin"))
    return client


def inside(code: str) -> tuple[float, float]:
    point = Area.objects.current(dt.date(2025, 6, 1)).get(code=code).geom.point_on_surface
    return point.x, point.y


def post(api, **body):
    body.setdefault("received_at", "2025-06-03T10:00:00+08:00")
    return api.post("/api/v1/complaints", body, format="json")


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


@pytest.mark.django_db
def test_post_with_a_gcj02_geojson_point_is_dispatched_with_a_deadline(api):
    lon, lat = inside(LUGU)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    response = post(
        api,
        external_id="API-1",
        category="020101",
        description="小区私装地锁",
        geometry={"type": "Point", "coordinates": [glon, glat]},
        crs="gcj02",
    )
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    props = feature["properties"]
    assert props["street_code"] == LUGU and props["status"] == "dispatched" and props["lead_name"] == "鲁谷街道"
    assert props["deadline_at"].startswith("2025-06-12T") and props["overdue"] is True  # 2025 is past
    assert props["verdict"]["street"]["code"] == LUGU and props["input_crs"] == "gcj02"
    assert [h["to_status"] for h in props["history"]] == ["received", "dispatched"]
    assert {a["role"] for a in props["assignments"]} == {"lead", "department"}
    assert response["Location"] == f"/api/v1/complaints/{feature['id']}"
    again = post(api, external_id="API-1", category="020101", lon=lon, lat=lat)
    assert again.status_code == 200 and again.json()["id"] == feature["id"]


@pytest.mark.django_db
def test_post_errors_have_the_project_shape(api):
    assert_error(post(api, category="999999", lon=116.4, lat=39.9), 400, "unknown_category")
    assert_error(post(api, category="020101"), 400, "location_required")
    assert_error(post(api, category="020101", lon=116.4, lat=39.9, crs="mars2"), 400, "bad_request")
    assert_error(post(api, category="020101", geometry={"type": "LineString"}), 400, "bad_request")
    assert_error(post(api, category="020101", lon=200, lat=39.9), 400, "invalid_coordinates")
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_address_that_cannot_be_found_is_422(api):
    response = post(api, category="030102", address="火星基地第九十九号")
    assert_error(response, 422, "address_not_found")


@pytest.fixture(scope="module")
def gazetteer(django_db_setup, django_db_blocker):
    """The demo gazetteer the geocoder reads (loaded once, committed like the boundaries)."""
    with django_db_blocker.unblock():
        call_command("gazetteer_demo_load", "--if-empty", verbosity=0)


@pytest.mark.django_db
def test_post_with_only_an_address_is_geocoded_and_dispatched(api, gazetteer):
    from geo.geocoding import geocode

    candidate = geocode("刘家窑南里", limit=1)[0]
    response = post(api, external_id="API-addr", category="030102", address="刘家窑南里", description="管道爆裂")
    assert response.status_code == 201, response.content
    props = response.json()["properties"]
    assert props["location_source"] == "geocoded" and props["confidence"] == pytest.approx(candidate.confidence)
    assert props["status"] == "dispatched" and props["street_code"]
    # The geocoder's street is the engine's, so the dispatch goes where the candidate said.
    assert (props["street_code"], props["street_name"]) == (candidate.street["code"], candidate.street["name"])
    assert props["deadline_at"] is not None


@pytest.mark.django_db
def test_list_is_a_paginated_feature_collection_with_filters(api, django_assert_max_num_queries):
    lugu, bbs = inside(LUGU), inside(BABAOSHAN)
    post(api, external_id="L-1", category="020101", lon=lugu[0], lat=lugu[1])
    post(api, external_id="L-2", category="030102", lon=lugu[0], lat=lugu[1], received_at="2025-07-01T09:00:00+08:00")
    post(api, external_id="L-3", category="010101", lon=bbs[0], lat=bbs[1], received_at="2025-08-01T09:00:00+08:00")
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/complaints?page_size=2").json()
    assert body["type"] == "FeatureCollection" and body["count"] == 3 and len(body["features"]) == 2
    assert body["next"] is not None

    def ids(query: str) -> set[str]:
        response = api.get(f"/api/v1/complaints?{query}")
        assert response.status_code == 200, response.content
        return {f["properties"]["external_id"] for f in response.json()["features"]}

    assert ids(f"street={LUGU}") == {"L-1", "L-2"}
    assert ids("district=110107") == {"L-1", "L-2", "L-3"}
    assert ids("category=03") == {"L-2"} and ids("category=020101") == {"L-1"}
    assert ids("from=2025-07-01&to=2025-07-31") == {"L-2"}
    x, y = bbs
    assert ids(f"bbox={x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}") == {"L-3"}
    assert ids("status=dispatched") == {"L-1", "L-2", "L-3"} and ids("status=closed") == set()
    assert ids("overdue=true") == {"L-1", "L-2", "L-3"} and ids("overdue=false") == set()
    assert_error(api.get("/api/v1/complaints?bbox=1,2,3"), 400, "invalid_bbox")
    assert_error(api.get("/api/v1/complaints?status=lost"), 400, "invalid_status")
    assert_error(api.get("/api/v1/complaints?received_from=yesterday"), 400, "invalid_date")


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_rows(api, django_assert_max_num_queries):
    lon, lat = inside(LUGU)
    for i in range(12):
        post(api, external_id=f"Q-{i}", category="020101", lon=lon, lat=lat)
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/complaints").json()["features"]) == 12


@pytest.mark.django_db
def test_detail_and_404(api):
    lon, lat = inside(LUGU)
    pk = post(api, external_id="D-1", category="020101", lon=lon, lat=lat).json()["id"]
    props = api.get(f"/api/v1/complaints/{pk}").json()["properties"]
    assert props["verdict"]["method"] == "point" and props["category_name"] == "城市管理 › 违法建设 › 私装地锁"
    assert_error(api.get("/api/v1/complaints/999999"), 404, "not_found")


@pytest.mark.django_db
def test_status_satisfaction_and_return_review_over_the_api(api, admin):
    lon, lat = inside(LUGU)
    pk = post(api, external_id="S-1", category="020101", lon=lon, lat=lat).json()["id"]
    assert_error(
        api.post(f"/api/v1/complaints/{pk}/status", {"status": "closed"}, format="json"), 409, "invalid_transition"
    )
    returned = admin.post(
        f"/api/v1/complaints/{pk}/returns", {"reason": "not_our_area", "note": "不在本街道"}, format="json"
    )
    assert returned.status_code == 201 and returned.json()["decision"] == "pending"
    queue = admin.get("/api/v1/complaint-returns").json()
    assert [r["id"] for r in queue] == [returned.json()["id"]]
    assert_error(
        admin.post(
            f"/api/v1/complaint-returns/{returned.json()['id']}/decision", {"decision": "redispatched"}, format="json"
        ),
        400,
        "to_required",
    )
    decided = admin.post(
        f"/api/v1/complaint-returns/{returned.json()['id']}/decision",
        {"decision": "redispatched", "to": BABAOSHAN, "note": "改派"},
        format="json",
    )
    assert decided.status_code == 200 and decided.json()["decision"] == "redispatched"
    assert admin.get("/api/v1/complaint-returns").json() == []
    for step in ("accepted", "in_progress", "resolved"):
        response = admin.post(f"/api/v1/complaints/{pk}/status", {"status": step}, format="json")
        assert response.status_code == 200, response.content
    rated = api.post(f"/api/v1/complaints/{pk}/satisfaction", {"satisfaction": "satisfied"}, format="json")
    props = rated.json()["properties"]
    assert props["satisfaction"] == "satisfied" and props["lead_code"] == BABAOSHAN and props["status"] == "resolved"


@pytest.mark.django_db
def test_category_catalogue(api):
    tree = api.get("/api/v1/complaint-categories").json()["categories"]
    leaves = [leaf for top in tree for mid in top["children"] for leaf in mid["children"]]
    assert 50 <= len(leaves) <= 100
    pipe = next(leaf for leaf in leaves if leaf["code"] == "030102")
    assert pipe["name"] == "管道爆裂" and pipe["department_role"] == "water_supply" and pipe["urgency"] == "emergency"


@pytest.mark.django_db
def test_schema_documents_the_complaint_endpoints(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/complaints", "/api/v1/complaints/{id}", "/api/v1/complaint-imports"):
        assert path in paths
