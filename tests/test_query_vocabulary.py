"""One query vocabulary across /api/v1/ (config/params.py, docs/api.md): the same names, formats and error codes on
every endpoint, and the deprecated names still working with `Deprecation`, `Sunset` and `Link rel="deprecation"`."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from config.deprecation import DEPRECATED_AT, SUNSET
from hotspots.constants import Layer
from hotspots.models import AnalysisRun
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area

LUGU = "110107011"
BBOX = "116.0,39.6,116.8,40.2"


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def admin(db):
    demo_users_create()
    client = APIClient()
    client.force_authenticate(User.objects.get(username="admin"))
    return client


@pytest.fixture
def runs(db):
    """An empty finished run of every analysis layer for 2025 (the layers answer 200 with no features)."""
    return {
        layer: AnalysisRun.objects.create(
            layer=layer,
            source="synthetic",
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 12, 31),
            finished_at=timezone.now(),
        )
        for layer in Layer.values
    }


# Every /api/v1 list (and point query) with the vocabulary names it takes.
LISTS = {
    "/api/v1/complaints": {"range": True, "bbox": True, "boolean": "overdue"},
    "/api/v1/areas": {"at": True, "bbox": True},
    "/api/v1/rules": {"at": True, "boolean": "include_ended"},
    "/api/v1/repeat-places": {"range": True, "bbox": True, "boolean": "chronic"},
    "/api/v1/hotspots": {"range": True, "bbox": True, "boolean": "significant"},
    "/api/v1/hotspots/emerging": {"range": True, "bbox": True},
    "/api/v1/idle-lots": {"bbox": True},
    "/api/v1/fix-plans": {"bbox": True},
    "/api/v1/jurisdiction?lon=116.4&lat=39.9": {"at": True, "crs": True},
    "/api/v1/reverse?lon=116.4&lat=39.9": {"crs": True},
}


def _url(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _cases(kind: str) -> list[str]:
    return [url for url, takes in LISTS.items() if takes.get(kind)]


def assert_error(response, code: str, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def assert_not_deprecated(response) -> None:
    assert "Deprecation" not in response and "Sunset" not in response
    assert 'rel="deprecation"' not in response.get("Link", "")


def assert_deprecated(response, old: str) -> None:
    assert response["Deprecation"] == f"@{int(DEPRECATED_AT.timestamp())}"
    assert response["Sunset"] == SUNSET.strftime("%a, %d %b %Y %H:%M:%S GMT")
    link = response["Link"]
    assert 'rel="deprecation"' in link and old in link


def _good_query(takes: dict) -> str:
    parts = []
    if takes.get("range"):
        parts.append("from=2025-03-01&to=2025-03-31")
    if takes.get("at"):
        parts.append("at=2025-06-01")
    if takes.get("bbox"):
        parts.append(f"bbox={BBOX}")
    if takes.get("boolean"):
        parts.append(f"{takes['boolean']}=false")
    if takes.get("crs"):
        parts.append("crs=gcj02")
    return "&".join(parts)


@pytest.mark.django_db
@pytest.mark.parametrize("url", list(LISTS))
def test_every_endpoint_takes_the_new_names(admin, runs, url):
    response = admin.get(_url(url, _good_query(LISTS[url])))
    assert response.status_code == 200, response.content
    assert_not_deprecated(response)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yes please", "TRUE1", "maybe", "2"])
@pytest.mark.parametrize("url", _cases("boolean"))
def test_a_boolean_is_true_or_false_only(admin, runs, url, value):
    name = LISTS[url]["boolean"]
    error = assert_error(admin.get(_url(url, f"{name}={value}")), "invalid_boolean")
    assert error["details"] == {name: value}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-02-30", "2025/03/01"])
@pytest.mark.parametrize("url", _cases("range"))
def test_a_bad_range_end_is_invalid_date(admin, runs, url, value):
    assert_error(admin.get(_url(url, f"from={value}")), "invalid_date")
    assert_error(admin.get(_url(url, f"to={value}")), "invalid_date")


@pytest.mark.django_db
@pytest.mark.parametrize("url", _cases("range"))
def test_from_after_to_is_invalid_range(admin, runs, url):
    assert_error(admin.get(_url(url, "from=2025-04-01&to=2025-03-01")), "invalid_range")


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "20250601"])
@pytest.mark.parametrize("url", _cases("at"))
def test_a_bad_day_is_invalid_date(admin, url, value):
    error = assert_error(admin.get(_url(url, f"at={value}")), "invalid_date")
    assert error["details"] == {"at": value}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1,2,3", "3,2,1,4", "a,b,c,d", "-181,0,1,1", "1,2,3,4,5"])
@pytest.mark.parametrize("url", _cases("bbox"))
def test_a_bad_bbox_is_invalid_bbox(admin, runs, url, value):
    assert_error(admin.get(_url(url, f"bbox={value}")), "invalid_bbox")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*_cases("crs"), "/api/v1/jurisdiction/batch"])
def test_a_bad_crs_is_invalid_crs(admin, url):
    if url.endswith("batch"):
        response = admin.post(f"{url}?crs=mars2", {"type": "FeatureCollection", "features": []}, format="json")
    else:
        response = admin.get(_url(url, "crs=mars2"))
    assert_error(response, "invalid_crs")


def _complaint(api, external_id: str, received_at: str) -> None:
    point = Area.objects.current(dt.date(2025, 6, 1)).get(code=LUGU).geom.point_on_surface
    body = {"external_id": external_id, "category": "020101", "lon": point.x, "lat": point.y}
    response = api.post("/api/v1/complaints", {**body, "received_at": received_at}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_complaints_from_to_and_the_old_names_give_the_same_answer(admin):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    _complaint(api, "V-1", "2025-06-30T23:30:00+08:00")
    _complaint(api, "V-2", "2025-07-01T09:00:00+08:00")
    _complaint(api, "V-3", "2025-07-31T23:59:00+08:00")
    _complaint(api, "V-4", "2025-08-01T00:00:00+08:00")

    def ids(response) -> list[str]:
        assert response.status_code == 200, response.content
        return sorted(f["properties"]["external_id"] for f in response.json()["features"])

    new = admin.get("/api/v1/complaints?from=2025-07-01&to=2025-07-31")
    assert ids(new) == ["V-2", "V-3"]  # `to` as a date includes that day, the next midnight does not
    assert_not_deprecated(new)
    old = admin.get("/api/v1/complaints?received_from=2025-07-01&received_to=2025-07-31")
    assert ids(old) == ["V-2", "V-3"]
    assert_deprecated(old, "received_from -> from")
    assert "received_to -> to" in old["Link"]
    # Date-times: `to` is exclusive; an offset-less time is Beijing time.
    assert ids(admin.get("/api/v1/complaints?from=2025-07-01T09:00&to=2025-08-01T00:00:00%2B08:00")) == ["V-2", "V-3"]
    # The new name wins when both are given; the old one still earns the header.
    both = admin.get("/api/v1/complaints?from=2025-08-01&received_from=2025-01-01")
    assert ids(both) == ["V-4"]
    assert_deprecated(both, "received_from")
    # The deprecation link sits beside the paging links.
    paged = admin.get("/api/v1/complaints?received_from=2025-06-01&page_size=1")
    assert 'rel="next"' in paged["Link"] and 'rel="deprecation"' in paged["Link"]
    assert_error(admin.get("/api/v1/complaints?received_to=2025-13-01"), "invalid_date")


@pytest.mark.django_db
def test_rules_on_and_all_still_work(admin):
    new = admin.get("/api/v1/rules?at=2025-06-01&include_ended=true")
    old = admin.get("/api/v1/rules?on=2025-06-01&all=true")
    assert new.status_code == old.status_code == 200
    assert new.json() == old.json()
    assert_not_deprecated(new)
    assert_deprecated(old, "on -> at")
    assert "all -> include_ended" in old["Link"]
    assert_error(admin.get("/api/v1/rules?on=yesterday"), "invalid_date")
    assert_error(admin.get("/api/v1/rules?all=maybe"), "invalid_boolean")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [url for url in _cases("range") if url != "/api/v1/complaints"])
def test_period_still_works_for_the_analysis_layers(admin, runs, url):
    new = admin.get(_url(url, "from=2025-03-01&to=2025-03-31"))
    old = admin.get(_url(url, "period=2025-03-01,2025-03-31"))
    assert new.status_code == old.status_code == 200
    assert new.json()["run"]["id"] == old.json()["run"]["id"]
    assert_deprecated(old, "period -> from,to")
    assert_error(admin.get(_url(url, "period=2025-03-01")), "invalid_date")
    assert_error(admin.get(_url(url, "period=2025-04-01,2025-03-01")), "invalid_range")


@pytest.mark.django_db
def test_legacy_boolean_spellings_work_and_are_deprecated(admin, runs):
    old = admin.get("/api/v1/hotspots?significant=1")
    assert old.status_code == 200
    assert_deprecated(old, "significant=1 -> significant=true")
    new = admin.get("/api/v1/hotspots?significant=true")
    assert new.status_code == 200 and new.json()["features"] == old.json()["features"]
    assert_not_deprecated(new)
    assert_deprecated(admin.get("/api/v1/complaints?overdue=no"), "overdue=no -> overdue=false")


@pytest.mark.django_db
def test_a_deprecated_name_on_a_refused_request_still_says_so(admin):
    response = admin.get("/api/v1/complaints?received_from=yesterday")
    assert_error(response, "invalid_date")
    assert_deprecated(response, "received_from")


@pytest.mark.django_db
def test_the_schema_advertises_the_new_names_and_marks_the_old_ones(client):
    document = client.get("/api/schema/?format=json").json()

    def names(path: str) -> dict[str, bool]:
        return {p["name"]: p.get("deprecated", False) for p in document["paths"][path]["get"]["parameters"]}

    complaints = names("/api/v1/complaints")
    assert complaints["from"] is False and complaints["to"] is False and complaints["bbox"] is False
    assert complaints["received_from"] is True and complaints["received_to"] is True
    rules = names("/api/v1/rules")
    assert rules["at"] is False and rules["include_ended"] is False and rules["on"] is True and rules["all"] is True
    assert names("/api/v1/hotspots")["period"] is True and names("/api/v1/hotspots")["from"] is False
    overdue = next(p for p in document["paths"]["/api/v1/complaints"]["get"]["parameters"] if p["name"] == "overdue")
    assert sorted(overdue["schema"]["enum"]) == ["false", "true"]
    assert "Query vocabulary" in document["info"]["description"]
