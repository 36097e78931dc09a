"""Bad input gets a clear 4xx in the project's error shape (Open311's list under /open311/), never a 500.

Each case names its request, the status it must get and the error code: `{"error": {"code"}}` under /api/,
/tiles/ and /map/, `[{"code": status, "description"}]` under /open311/. Limits come from SHAOZI["LIMITS"].
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from complaints import bulk
from complaints.models import BulkImport, Complaint
from complaints.permissions import SYSTEM
from config.limits import limit
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area

LUGU = "110107011"
DEEP = "[" * 100_000 + "]" * 100_000
OPEN311 = "open311"  # the expected "code" of an Open311 error list is its status


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def api(db):
    """The demo API client's token on every request; a 500 comes back as a response, not as an exception."""
    demo_users_create()
    return Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}", raise_request_exception=False)


@pytest.fixture
def anonymous(db):
    return Client(raise_request_exception=False)


def lugu_point() -> tuple[float, float]:
    point = Area.objects.current(dt.date(2025, 6, 1)).get(code=LUGU).geom.point_on_surface
    return point.x, point.y


def complaint_json(**changes) -> str:
    lon, lat = lugu_point()
    body = {"category": "030102", "lon": lon, "lat": lat, "received_at": "2025-06-01T10:00:00+08:00", **changes}
    return json.dumps(body)


def feature_collection(*coordinates) -> str:
    features = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": c}} for c in coordinates
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


def nested(depth: int) -> str:
    """An object `depth` levels deep."""
    return '{"a": ' * depth + "1" + "}" * depth


def point_json(**changes) -> str:
    """A complaint whose place is only `geometry`."""
    body = {"category": "030102", "received_at": "2025-06-01T10:00:00+08:00", **changes}
    return json.dumps(body)


def open311_json(**changes) -> str:
    lon, lat = lugu_point()
    return json.dumps({"service_code": "030102", "lat": lat, "long": lon, **changes})


@dataclass
class Case:
    """One bad request: method, path, body (a callable, so large bodies are built only when run) and headers."""

    method: str
    path: str
    body: object = None
    content_type: str = "application/json"
    status: int = 400
    code: str = ""
    anonymous: bool = False
    headers: dict = field(default_factory=dict)
    rows: Callable[[list], bool] | None = None  # for a 200 batch answer: what its rows must show


def batch_csv(text: str, **kw) -> Case:
    return Case("POST", "/api/v1/jurisdiction/batch", lambda: text.encode(), "text/csv", **kw)


CASES = {
    # --- the jurisdiction batch ----------------------------------------------------------------------------------
    "batch-csv-bare-cr-line-ends": batch_csv(
        "lon,lat\r116.40,39.90\r116.41,39.91\r",
        status=200,
        anonymous=True,
        rows=lambda rows: [r["point"] for r in rows] == [[116.4, 39.9], [116.41, 39.91]],
    ),
    "batch-geojson-boolean-coordinates": Case(
        "POST",
        "/api/v1/jurisdiction/batch",
        lambda: feature_collection([True, True], [116.4, 39.9]),
        status=200,
        anonymous=True,
        rows=lambda rows: set(rows[0]["error"]["details"]) == {"lon", "lat"} and "error" not in rows[1],
    ),
    "batch-geojson-id-with-surrogate": Case(
        "POST",
        "/api/v1/jurisdiction/batch",
        lambda: feature_collection([116.4, 39.9]).replace('"properties": {}', '"id": "\\ud800", "properties": {}'),
        status=200,
        anonymous=True,
        rows=lambda rows: "id" in rows[0]["error"]["details"],
    ),
    "batch-csv-field-over-128k": batch_csv(
        "lon,lat,id\n116.4,39.9," + "x" * (128 * 1024 + 1) + "\n", code="field_too_long", anonymous=True
    ),
    "batch-json-100k-deep": Case("POST", "/api/v1/jurisdiction/batch", lambda: DEEP, code="json_too_deep"),
    "batch-anonymous-body-too-large": Case(
        "POST",
        "/api/v1/jurisdiction/batch",
        lambda: b"lon,lat\n" + b"116.4000000,39.9000000\n" * (limit("BATCH_ANONYMOUS_BYTES") // 23 + 1),
        "text/csv",
        status=413,
        code="body_too_large",
        anonymous=True,
    ),
    "batch-anonymous-too-many-rows": batch_csv(
        "lon,lat\n" + "1,1\n" * (limit("BATCH_ANONYMOUS_ROWS") + 1), status=413, code="too_many_rows", anonymous=True
    ),
    # --- complaint intake and list -------------------------------------------------------------------------------
    "complaints-json-100k-deep": Case("POST", "/api/v1/complaints", lambda: DEEP, code="json_too_deep"),
    "complaints-json-past-depth-limit": Case(
        "POST",
        "/api/v1/complaints",
        lambda: complaint_json().replace('"category"', '"reporter": ' + nested(limit("JSON_DEPTH")) + ', "category"'),
        code="json_too_deep",
    ),
    "complaints-received-from-feb-30": Case("GET", "/api/v1/complaints?received_from=2025-02-30", code="invalid_date"),
    "complaints-received-to-year-1": Case("GET", "/api/v1/complaints?received_to=0001-01-01", code="date_out_of_range"),
    "intake-received-at-year-1": Case(
        "POST",
        "/api/v1/complaints",
        lambda: complaint_json(received_at="0001-01-01T00:00:00"),
        code="date_out_of_range",
    ),
    "intake-received-at-9999-12-31": Case(
        "POST", "/api/v1/complaints", lambda: complaint_json(received_at="9999-12-31"), code="date_out_of_range"
    ),
    "intake-reporter-nul": Case(
        "POST", "/api/v1/complaints", lambda: complaint_json(reporter={"name": "a\u0000b"}), code="invalid_text"
    ),
    "intake-reporter-lone-surrogate": Case(
        "POST",
        "/api/v1/complaints",
        lambda: complaint_json().replace('"category"', '"reporter": {"name": "\\ud800"}, "category"'),
        code="invalid_text",
    ),
    "intake-description-nul": Case(
        "POST", "/api/v1/complaints", lambda: complaint_json(description="\u0000"), code="invalid_text"
    ),
    "intake-coordinates-booleans": Case(
        "POST",
        "/api/v1/complaints",
        lambda: point_json(geometry={"type": "Point", "coordinates": [True, True]}),
        code="invalid_coordinates",
    ),
    "intake-lon-lat-booleans": Case(
        "POST", "/api/v1/complaints", lambda: complaint_json(lon=True, lat=True), code="invalid_coordinates"
    ),
    "intake-description-over-limit": Case(
        "POST",
        "/api/v1/complaints",
        lambda: complaint_json(description="长" * (limit("DESCRIPTION_CHARS") + 1)),
        code="field_too_long",
    ),
    "intake-50-mb-description": Case(
        "POST",
        "/api/v1/complaints",
        lambda: complaint_json(description="x" * 50_000_000),
        status=413,
        code="body_too_large",
    ),
    "complaint-id-past-bigint": Case("GET", "/api/v1/complaints/99999999999999999999", status=404, code="not_found"),
    "joint-case-title-nul": Case(
        "POST", "/api/v1/joint-cases", lambda: json.dumps({"title": "\u0000", "leads": ["110107"]}), code="invalid_text"
    ),
    "dispute-note-surrogate": Case(
        "POST", "/api/v1/disputes", lambda: '{"note": "\\udfff", "areas": ["110102", "110106"]}', code="invalid_text"
    ),
    # --- bulk import upload --------------------------------------------------------------------------------------
    "import-empty-csv": Case(
        "POST", "/api/v1/complaint-imports", lambda: {"file": named(b"", "empty.csv")}, None, code="import_failed"
    ),
    "import-geojson-not-utf8": Case(
        "POST",
        "/api/v1/complaint-imports",
        lambda: {"file": named(non_utf8_geojson(), "gbk.geojson")},
        None,
        code="import_failed",
    ),
    "import-batch-size-10e12": Case(
        "POST",
        "/api/v1/complaint-imports",
        lambda: {"file": named(b"external_id,received_at,category,lon,lat\n", "a.csv"), "batch_size": "10" * 6},
        None,
        code="invalid_batch_size",
    ),
    "import-detail-errors-limit-past-bigint": Case(
        "GET", "/api/v1/complaint-imports/{import_id}?errors_limit=99999999999999999999", code="invalid_errors_limit"
    ),
    # --- other native endpoints ----------------------------------------------------------------------------------
    "areas-query-nul": Case("GET", "/api/v1/areas?parent=%00", code="invalid_text", anonymous=True),
    "area-code-nul-in-path": Case("GET", "/api/v1/areas/%00", code="invalid_text", anonymous=True),
    "hotspots-run-past-bigint": Case(
        "GET", "/api/v1/hotspots?run=99999999999999999999", code="invalid_run", anonymous=True
    ),
    # --- Open311 -------------------------------------------------------------------------------------------------
    "open311-json-100k-deep": Case("POST", "/open311/v2/requests.json", lambda: DEEP, code=OPEN311),
    "open311-start-date-month-99": Case(
        "GET", "/open311/v2/requests.json?start_date=2025-99-99T00:00:00", code=OPEN311, anonymous=True
    ),
    "open311-end-date-year-9999": Case(
        "GET", "/open311/v2/requests.json?end_date=9999-12-31T23:59:59%2B08:00", code=OPEN311, anonymous=True
    ),
    "open311-form-description-nul": Case(
        "POST",
        "/open311/v2/requests.json",
        lambda: "service_code=030102&lat=39.9&long=116.2&description=%00",
        "application/x-www-form-urlencoded",
        code=OPEN311,
    ),
    "open311-form-service-code-nul": Case(
        "POST",
        "/open311/v2/requests.json",
        lambda: "service_code=%00&lat=39.9&long=116.2",
        "application/x-www-form-urlencoded",
        code=OPEN311,
    ),
    "open311-request-id-nul-in-path": Case("GET", "/open311/v2/requests/%00.json", code=OPEN311, anonymous=True),
    "open311-query-nul": Case("GET", "/open311/v2/requests.json?service_request_id=%00", code=OPEN311, anonymous=True),
    "open311-json-service-code-number": Case(
        "POST", "/open311/v2/requests.json", lambda: open311_json(service_code=30102), code=OPEN311
    ),
    "open311-json-lat-long-booleans": Case(
        "POST", "/open311/v2/requests.json", lambda: open311_json(lat=True, long=True), code=OPEN311
    ),
    "open311-json-reporter-surrogate": Case(
        "POST",
        "/open311/v2/requests.json",
        lambda: open311_json().replace('"service_code"', '"first_name": "\\udc00", "service_code"'),
        code=OPEN311,
    ),
    "open311-description-over-4000": Case(
        "POST", "/open311/v2/requests.json", lambda: open311_json(description="x" * 4001), code=OPEN311
    ),
}


def named(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def non_utf8_geojson() -> bytes:
    feature = {"type": "Feature", "properties": {"external_id": "G1", "address": "北京市石景山区鲁谷路"}}
    feature["geometry"] = {"type": "Point", "coordinates": [116.2, 39.9]}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False).encode("gbk")


def send(client: Client, case: Case, **format_args):
    body = case.body() if callable(case.body) else case.body
    path = case.path.format(**format_args)
    if case.content_type is None:  # multipart form
        return client.generic_multipart(case.method, path, body) if False else client.post(path, body)
    kwargs = {"content_type": case.content_type, **case.headers}
    return client.generic(case.method, path, body or b"", **kwargs)


def error_code(response) -> str | int:
    body = response.json()
    if isinstance(body, list):  # Open311
        assert set(body[0]) == {"code", "description"} and body[0]["code"] == response.status_code
        return OPEN311
    return body["error"]["code"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_its_4xx_and_code(name, api, anonymous):
    case = CASES[name]
    format_args = {}
    if "{import_id}" in case.path:
        format_args["import_id"] = BulkImport.objects.create(
            source_name="x.csv", file_format="csv", batch_size=10, by="api_client"
        ).pk
    response = send(anonymous if case.anonymous else api, case, **format_args)
    assert response.status_code == case.status, response.content[:1000]
    if case.status == 200:
        rows = json.loads(b"".join(response.streaming_content))
        assert case.rows(rows), rows
        return
    assert response["Content-Type"].startswith("application/json")
    assert error_code(response) == case.code, response.content[:1000]
    assert not Complaint.objects.exists()


# --- the error shape under every prefix ------------------------------------------------------------------------

LONG_QUERY = "?q=" + "x" * 10_000
# prefix → a path that exists, one that does not, and a method the existing path refuses (None: every view
# under /map/ takes any method)
PREFIXES = {
    "api": ("/api/v1/areas", "/api/v1/no-such-thing", "POST"),
    "open311": ("/open311/v2/services.json", "/open311/v2/no-such-thing.json", "DELETE"),
    "tiles": ("/tiles/areas/10/843/387.pbf", "/tiles/no-such-thing", "POST"),
    "map": ("/map/labels", "/map/no-such-thing", None),
}


def assert_shape(response, prefix: str, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    if prefix == "open311":
        assert body == [{"code": status, "description": body[0]["description"]}] and body[0]["description"]
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["message"] and body["error"]["code"] == code
    assert b"Traceback" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", list(PREFIXES))
def test_404_405_413_414_are_json_under_every_prefix(prefix, anonymous):
    good, missing, refused_method = PREFIXES[prefix]
    assert_shape(anonymous.get(missing), prefix, 404, "not_found")
    if refused_method is not None:
        assert_shape(anonymous.generic(refused_method, good), prefix, 405, "method_not_allowed")
    big = b"x" * (limit("BODY_BYTES") + 1)
    response = anonymous.generic("POST", good, big, content_type="application/json")
    assert_shape(response, prefix, 413, "body_too_large")
    assert_shape(anonymous.get(good + LONG_QUERY), prefix, 414, "uri_too_long")


@pytest.mark.django_db
def test_errors_follow_the_path_open311_xml_stays_xml_pages_stay_html(anonymous):
    response = anonymous.get("/open311/v2/no-such-thing.xml")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>404</code>" in response.content
    response = anonymous.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_django_400_is_json(anonymous):
    response = anonymous.get("/api/v1/areas", HTTP_HOST="evil.example")
    assert_shape(response, "api", 400, "bad_request")
    response = anonymous.get("/open311/v2/services.json", HTTP_HOST="evil.example")
    assert_shape(response, "open311", 400, "bad_request")


@pytest.mark.django_db
def test_500_is_json_logged_and_leaks_nothing(anonymous, monkeypatch, caplog):
    from jurisdictions.api import views as jurisdiction_views

    def broken(**kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(jurisdiction_views.selectors, "area_list", broken)
    with caplog.at_level(logging.ERROR):
        response = anonymous.get("/api/v1/areas")
    assert_shape(response, "api", 500, "server_error")
    assert b"secret detail" not in response.content
    assert any("secret detail" in (r.exc_text or "") or r.exc_info for r in caplog.records if r.levelno >= 40)


# --- bulk files ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bulk_row_in_year_9999_is_a_row_error_and_the_rest_is_written(tmp_path):
    lon, lat = lugu_point()
    lines = ["external_id,received_at,category,lon,lat,description"]
    for i, received in enumerate(
        ["2025-06-01T10:00:00", "9999-12-31T00:00:00", "0001-01-01T00:00:00", "2025-06-02T08:00:00"]
    ):
        lines.append(f"Y{i},{received},030102,{lon},{lat},ok")
    lines.append(f"Y4,2025-06-03T09:00:00,030102,{lon},{lat}," + "长" * (limit("DESCRIPTION_CHARS") + 1))
    path = tmp_path / "years.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    record = bulk.complaints_import(source=path, by=SYSTEM)
    assert record.state == "finished"
    errors = {e.row: e.errors for e in record.row_errors.all()}
    assert sorted(errors) == [2, 3, 5] and "received_at" in errors[2] and "description" in errors[5]
    assert set(Complaint.objects.values_list("external_id", flat=True)) == {"Y0", "Y3"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "options"),
    [
        ("empty.csv", b"", {}),
        ("gbk.geojson", None, {}),
        ("a.csv", b"external_id,received_at,category,lon,lat\n", {"batch_size": 10**12}),
    ],
    ids=["empty-csv", "geojson-not-utf8", "batch-size-10e12"],
)
def test_bulk_command_refuses_bad_files_with_a_message(tmp_path, name, content, options):
    path = tmp_path / name
    path.write_bytes(non_utf8_geojson() if content is None else content)
    args = [str(path), "--no-progress"]
    if "batch_size" in options:
        args += ["--batch-size", str(options["batch_size"])]
    with pytest.raises(CommandError):
        call_command("complaints_import", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not BulkImport.objects.filter(state="running").exists()
