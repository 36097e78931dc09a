"""Open311 GeoReport v2: every endpoint's shape in JSON and XML, errors as [{code, description}], a round trip."""

import datetime as dt
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.test import Client

from complaints.models import Complaint
from geo import coords
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area

LUGU = "110107011"
SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def client(db):
    """Posting needs an API token (reads are public); the demo api_client's token is sent on every request."""
    demo_users_create()
    return Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")


def lugu_point() -> tuple[float, float]:
    point = Area.objects.current(dt.date.today()).get(code=LUGU).geom.point_on_surface
    return point.x, point.y


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


def create(client, **form) -> str:
    response = client.post("/open311/v2/requests.json", form)
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"]


@pytest.mark.django_db
def test_services_json_and_xml(client):
    services = client.get("/open311/v2/services.json").json()
    assert 50 <= len(services) <= 100
    assert all(set(s) == SERVICE_KEYS for s in services)
    pipe = next(s for s in services if s["service_code"] == "030102")
    assert pipe["service_name"] == "管道爆裂" and pipe["group"] == "公共服务" and pipe["type"] == "realtime"
    assert client.get("/open311/v2/services").json() == services  # no extension means JSON
    root = xml(client.get("/open311/v2/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    first = root.find("service")
    assert {child.tag for child in first} == SERVICE_KEYS and first.findtext("metadata") == "true"


@pytest.mark.django_db
def test_service_definition_json_and_xml(client):
    definition = client.get("/open311/v2/services/030102.json").json()
    assert definition["service_code"] == "030102"
    attribute = definition["attributes"][0]
    assert attribute["code"] == "urgency" and attribute["datatype"] == "singlevaluelist"
    assert {v["key"] for v in attribute["values"]} == {"emergency", "utility", "general", "complex"}
    root = xml(client.get("/open311/v2/services/030102.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "030102"
    assert root.find("attributes/attribute/code").text == "urgency"
    assert len(root.findall("attributes/attribute/values/value")) == 4


@pytest.mark.django_db
def test_errors_are_a_list_of_code_and_description(client):
    missing = client.get("/open311/v2/services/999999.json")
    assert missing.status_code == 404
    body = missing.json()
    assert isinstance(body, list) and set(body[0]) == {"code", "description"} and body[0]["code"] == 404
    root = xml(client.get("/open311/v2/services/999999.xml"))
    assert root.tag == "errors" and root.find("error/code").text == "404"
    bad = client.post("/open311/v2/requests.json", {"service_code": "030102"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
    assert (
        client.post("/open311/v2/requests.json", {"service_code": "nope", "lat": 39.9, "long": 116.4}).status_code
        == 404
    )
    assert client.get("/open311/v2/requests/NOPE.json").status_code == 404
    assert client.get("/open311/v2/services.yaml").status_code == 400
    wrong_status = client.get("/open311/v2/requests.json?status=pending")
    assert wrong_status.status_code == 400 and "status" in wrong_status.json()[0]["description"]
    assert client.delete("/open311/v2/requests.json").status_code == 405


@pytest.mark.django_db
def test_post_then_get_round_trips_in_json_and_xml(client):
    lon, lat = lugu_point()
    request_id = create(
        client,
        service_code="030102",
        lat=lat,
        long=lon,
        description="水管爆裂",
        email="a@example.org",
        address_string="鲁谷",
    )
    complaint = Complaint.objects.get(external_id=request_id)
    assert complaint.channel == "open311" and complaint.street_code == LUGU
    assert complaint.reporter == {"email": "a@example.org"}
    [item] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert set(item) == REQUEST_KEYS
    assert item["service_request_id"] == request_id and item["status"] == "open" and item["service_code"] == "030102"
    assert item["agency_responsible"] == "鲁谷街道" and item["expected_datetime"] is not None
    assert item["lat"] == pytest.approx(lat, abs=1e-7) and item["long"] == pytest.approx(lon, abs=1e-7)
    root = xml(client.get(f"/open311/v2/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    node = root.find("request")
    assert {child.tag for child in node} == REQUEST_KEYS and node.findtext("service_request_id") == request_id


@pytest.mark.django_db
def test_post_in_xml_and_json_body_with_gcj02_and_urgency_attribute(client):
    lon, lat = lugu_point()
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    response = client.post(
        "/open311/v2/requests.xml",
        {"service_code": "010101", "lat": glat, "long": glon, "crs": "gcj02", "attribute[urgency]": "complex"},
    )
    assert response.status_code == 201
    root = xml(response)
    request_id = root.findtext("request/service_request_id")
    assert root.tag == "service_requests" and root.find("request/service_notice").text
    complaint = Complaint.objects.get(external_id=request_id)
    assert complaint.street_code == LUGU and complaint.urgency == "complex"
    as_json = client.post(
        "/open311/v2/requests.json",
        {"service_code": "010101", "lat": lat, "long": lon, "attribute": {"urgency": "emergency"}},
        content_type="application/json",
    )
    assert as_json.status_code == 201
    assert Complaint.objects.get(external_id=as_json.json()[0]["service_request_id"]).urgency == "emergency"


@pytest.mark.django_db
def test_get_requests_filters(client):
    lon, lat = lugu_point()
    water = create(client, service_code="030102", lat=lat, long=lon)
    green = create(client, service_code="010101", lat=lat, long=lon)
    closed = Complaint.objects.get(external_id=green)
    closed.status = "closed"
    closed.save()

    def ids(query: str) -> list[str]:
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.content
        return sorted(r["service_request_id"] for r in response.json())

    assert ids("") == sorted([water, green])
    assert ids("service_code=030102") == [water]
    assert ids("status=closed") == [green] and ids("status=open") == [water]
    assert ids(f"service_request_id={water},{green}") == sorted([water, green])
    assert ids("start_date=2000-01-01T00:00:00Z&end_date=2000-03-01T00:00:00Z") == []
    root = xml(client.get("/open311/v2/requests.xml?status=closed"))
    assert [n.findtext("status") for n in root.findall("request")] == ["closed"]


# --- GeoReport v2 to the letter ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_posting_without_a_valid_api_key_is_403_as_the_spec_says(client):
    lon, lat = lugu_point()
    form = {"service_code": "030102", "lat": lat, "long": lon}
    for anonymous in (Client().post("/open311/v2/requests.json", form),):
        assert anonymous.status_code == 403 and anonymous.json()[0]["code"] == 403
    wrong = Client().post("/open311/v2/requests.json", {**form, "api_key": "wrong"})
    assert wrong.status_code == 403 and "api_key" in wrong.json()[0]["description"]
    assert xml(Client().post("/open311/v2/requests.xml", form)).find("error/code").text == "403"


@pytest.mark.django_db
def test_address_id_alone_places_the_request_by_the_gazetteer(client):
    from geo.models import Place

    place = Place.objects.exclude(kind="district").filter(district="丰台区").order_by("external_id").first()
    created = client.post("/open311/v2/requests.json", {"service_code": "030102", "address_id": place.external_id})
    assert created.status_code == 201, created.content
    complaint = Complaint.objects.get(external_id=created.json()[0]["service_request_id"])
    assert complaint.location.distance(place.point) < 1e-9 and complaint.location_source == "geocoded"
    assert complaint.district_code == "110106"
    unknown = client.post("/open311/v2/requests.json", {"service_code": "030102", "address_id": "no-such-place"})
    assert unknown.status_code == 400 and "address_id" in unknown.json()[0]["description"]


@pytest.mark.django_db
def test_media_url_is_kept_and_shown(client):
    lon, lat = lugu_point()
    photo = "https://photos.example.org/pipe.jpg"
    request_id = create(client, service_code="030102", lat=lat, long=lon, media_url=photo)
    shown = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert shown["media_url"] == photo
    assert xml(client.get(f"/open311/v2/requests/{request_id}.xml")).findtext("request/media_url") == photo
    bad = client.post(
        "/open311/v2/requests.json", {"service_code": "030102", "lat": lat, "long": lon, "media_url": "javascript:x"}
    )
    assert bad.status_code == 400 and "media_url" in bad.json()[0]["description"]


@pytest.mark.django_db
def test_ranges_longer_than_90_days_are_refused_not_cut(client):
    long = client.get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z")
    assert long.status_code == 400 and "90" in long.json()[0]["description"]
    fine = client.get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-03-31T00:00:00Z")
    assert fine.status_code == 200
    assert client.get("/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z").status_code == 200
    backwards = client.get("/open311/v2/requests.json?start_date=2025-03-01T00:00:00Z&end_date=2025-01-01T00:00:00Z")
    assert backwards.status_code == 400


@pytest.mark.django_db
def test_discovery_describes_the_endpoint(client):
    body = Client().get("/open311/v2/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and "application/json" in endpoint["formats"]
    root = xml(Client().get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery" and root.findtext("endpoints/endpoint/type") == "production"


@pytest.mark.django_db
def test_bulk_imported_closed_requests_show_their_own_closing_time(client):
    from complaints.models import BulkImport, Category, StatusChange

    imported = BulkImport.objects.create(source_name="demo.csv", file_format="csv", batch_size=1000)
    received = dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC)
    closed_at = dt.datetime(2025, 3, 4, 17, tzinfo=dt.UTC)
    x, y = lugu_point()
    complaint = Complaint.objects.create(
        external_id="BULK-CLOSED-1",
        received_at=received,
        category=Category.objects.get(code="030102"),
        location=f"SRID=4326;POINT({x} {y})",
        status="closed",
        closed_at=closed_at,
        bulk_import=imported,
    )
    Complaint.objects.filter(pk=complaint.pk).update(updated_at=complaint.created_at)
    StatusChange.objects.create(complaint=complaint, from_status="", to_status="closed", at=received, by="import")
    shown = client.get("/open311/v2/requests/BULK-CLOSED-1.json").json()[0]
    assert shown["updated_datetime"] == "2025-03-05T01:00:00+08:00"
    no_time = Complaint.objects.create(
        external_id="BULK-CLOSED-2",
        received_at=received,
        category=Category.objects.get(code="030102"),
        location=f"SRID=4326;POINT({x} {y})",
        status="closed",
        bulk_import=imported,
    )
    Complaint.objects.filter(pk=no_time.pk).update(updated_at=no_time.created_at)
    assert client.get("/open311/v2/requests/BULK-CLOSED-2.json").json()[0]["updated_datetime"].startswith("2025-03-01")
