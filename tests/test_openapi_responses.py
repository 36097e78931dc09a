"""The OpenAPI document (/api/schema/) is valid OpenAPI 3.0, and every GET operation it lists answers real data in
the shape it declares: the demo's boundaries, gazetteer and hotspot layers, a few complaints, a dispute, a joint
case, a fix plan and an import — through the native API, Open311, the tiles' TileJSON and the map's JSON."""

import datetime as dt
import math

import jsonschema
import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.definitions import OPENAPI_30

from complaints.models import Complaint
from hotspots import services as hotspot_services
from hotspots.constants import Layer
from hotspots.models import EmergingCell, Parcel
from hotspots.selectors import run_get
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area, Department

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
LUGU = "110107011"
YICHENG = "LOT-HD-YICHENG"


@pytest.fixture(scope="module")
def hotspots_demo(django_db_setup, django_db_blocker):
    """The synthetic hotspots demo with every layer computed, once for the module (removed afterwards)."""
    from hotspots.models import AnalysisRun

    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)
        call_command("hotspots_demo_load", verbosity=0)
    yield
    with django_db_blocker.unblock():
        AnalysisRun.objects.all().delete()


@pytest.fixture
def keep_test_connection(db):
    """As Django's test client does: keep the test's connection (and its transaction) open across requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def world(hotspots_demo, db):
    """Rows for every path parameter of the document, made through the API as its users would."""
    demo_users_create()
    admin = User.objects.get(username="admin")
    token = Token.objects.get_or_create(user=admin)[0].key
    browser = Client()
    browser.force_login(admin)  # /map/joint-cases reads the session only (the planner map's own request)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    staff = APIClient()
    staff.force_authenticate(admin)
    point = Area.objects.current(dt.date(2025, 6, 1)).get(code=LUGU).geom.point_on_surface
    complaint = _created(
        api.post(
            "/api/v1/complaints",
            {
                "external_id": "OAS-1",
                "category": "020101",
                "lon": point.x,
                "lat": point.y,
                "received_at": "2025-06-03T10:00:00+08:00",
                "description": "路灯不亮 street light out",
            },
            format="json",
        )
    )
    dispute = _created(
        staff.post(
            "/api/v1/disputes",
            {
                "title": "边界争议 boundary dispute",
                "point": {"type": "Point", "coordinates": [point.x, point.y]},
                "contested_codes": [LUGU],
            },
            format="json",
        )
    )
    case = _created(
        staff.post(
            "/api/v1/joint-cases",
            {
                "title": "联合办案 joint case",
                "leads": [LUGU],
                "summon": [Department.objects.order_by("code").first().code],
                "complaints": [complaint["id"]],
            },
            format="json",
        )
    )
    csv = f"external_id,received_at,category,lon,lat\nOAS-2,2025-06-04T10:00:00+08:00,020101,{point.x},{point.y}\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("rows.csv", csv.encode(), content_type="text/csv")
    bulk = _created(api.post("/api/v1/complaint-imports", {"file": upload}, format="multipart"))
    plan = hotspot_services.fix_plan_create(parcel=Parcel.objects.get(code=YICHENG), by=admin)
    emerging = run_get(layer=Layer.EMERGING)
    cell = EmergingCell.objects.filter(run=emerging).order_by("h3").first()
    x, y = _tile(point.x, point.y, 12)
    yield {
        "token": token,
        "session": browser.cookies["sessionid"].value,
        "path": {
            "code": LUGU,
            "id": {
                "/api/v1/complaints/{id}": complaint["id"],
                "/api/v1/complaint-imports/{id}": bulk["id"],
                "/api/v1/disputes/{id}": dispute["id"] if "id" in dispute else dispute["properties"]["id"],
                "/api/v1/joint-cases/{id}": case["id"],
                "/api/v1/fix-plans/{id}": plan.pk,
            },
            "street_code": plan.street_code,
            "service_code": "020101",
            "service_request_id": Complaint.objects.get(pk=complaint["id"]).external_id,
            "layer": "areas",
            "z": 12,
            "x": x,
            "y": y,
        },
        "query": {
            "/api/v1/jurisdiction": {"lon": point.x, "lat": point.y},
            "/api/v1/reverse": {"lon": point.x, "lat": point.y},
            "/api/v1/geocode": {"q": "刘家窑南里"},
            "/map/charts/cell": {"h3": cell.h3 if cell else "8a31aa000000000"},
            "/api/v1/complaints": {"from": "2025-06-01", "to": "2025-06-30"},
        },
    }
    cache.clear()  # whole-layer area answers are cached by ETag: leave none behind for later tests


def test_the_document_is_valid_openapi_3_0(client, db):
    document = client.get("/api/schema/?format=json").json()
    jsonschema.Draft4Validator(OPENAPI_30).validate(document)
    paths = document["paths"]
    for path in (
        "/open311/v2/requests.json",
        "/tiles/{layer}/{z}/{x}/{y}.pbf",
        "/tiles/{layer}.json",
        "/map/labels",
        "/map/charts/weekly",
        "/map/charts/categories",
        "/map/joint-cases",
        "/map/runs",
    ):
        assert path in paths, path
    assert document["externalDocs"]["url"].endswith("/ogc/api")
    complaints = paths["/api/v1/complaints"]["get"]
    formats = {p["name"]: p for p in complaints["parameters"]}["format"]["schema"]["enum"]
    assert sorted(formats) == ["csv", "fgb", "geojson", "gpkg"]
    assert {"application/geopackage+sqlite3", "application/flatgeobuf", "text/csv"} <= set(
        complaints["responses"]["200"]["content"]
    )
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = {status: r for status, r in operation["responses"].items() if status.startswith("4")}
            assert "400" in errors, (method, path)  # any query may be refused (limits, vocabulary)
            expected = {"$ref": "#/components/schemas/Open311Error"} if path.startswith("/open311/") else error
            for status, answer in errors.items():
                assert answer["content"]["application/json"]["schema"] == expected, (method, path, status)


GET_OPERATIONS = [(path, "GET") for path, item in schema.raw_schema["paths"].items() if "get" in item]


@pytest.mark.django_db
def test_every_get_operation_answers_real_data_in_its_schema(world, keep_test_connection):
    # keep_test_connection after world: the test client used to make the rows reconnects the closing signals.
    failures = []
    answered = 0
    for path, method in GET_OPERATIONS:
        operation = schema[path][method]
        values = world["path"]
        path_parameters = {
            p.name: (values[p.name][path] if isinstance(values[p.name], dict) else values[p.name])
            for p in operation.path_parameters
        }
        case = operation.Case(
            path_parameters=path_parameters,
            query=world["query"].get(path, {}),
            cookies={"sessionid": world["session"]},
        )
        headers = {
            "Authorization": f"Token {world['token']}",
            "Accept-Encoding": "identity",
        }
        response = case.call(headers=headers)
        if not 200 <= response.status_code < 300:
            failures.append((path, response.status_code, response.text[:300]))
            continue
        if response.status_code == 204:
            failures.append((path, 204, "no body: the data should give this operation something to answer"))
            continue
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except (Exception, BaseExceptionGroup) as exc:  # every failure is listed at the end
            found = getattr(exc, "exceptions", [exc])
            failures.append((path, response.status_code, " | ".join(str(e)[:1500] for e in found)))
        answered += 1
    for failure in failures:
        print(*failure)
    assert not failures, [failure[:2] for failure in failures]
    assert answered == len(GET_OPERATIONS) >= 38
