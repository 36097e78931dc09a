"""Full-layer exports (`?format=gpkg|fgb|csv|geojson` on the paged lists, config/export.py) read back with pyogrio,
and RFC 8288 `Link` headers on every paged list."""

from __future__ import annotations

import datetime as dt
import uuid

import pyogrio
import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from complaints.models import Category, Complaint
from hotspots.models import AnalysisRun, FixPlan, HotspotCell, LotScore, Parcel
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area
from tests import test_ogc_gdal
from tests.test_ogc_gdal import GDAL, gdal

# The live server GDAL reads from (committed demo data and 25 complaints of 6 May 2025, removed afterwards).
server = test_ogc_gdal.server

FORMATS = ("gpkg", "fgb", "csv", "geojson")
EXTENSIONS = {"gpkg": "gpkg", "fgb": "fgb", "csv": "csv", "geojson": "geojson"}


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


def read_back(response, fmt: str, tmp_path):
    """The exported file as a GeoDataFrame, after checking the answer's headers."""
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'.{EXTENSIONS[fmt]}"' in disposition
    path = tmp_path / f"export-{uuid.uuid4().hex[:6]}.{EXTENSIONS[fmt]}"
    path.write_bytes(b"".join(response.streaming_content))
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == int(response["X-Total-Count"])
    return frame


def street(name: str, district: str) -> Area:
    return Area.objects.current().get(level="street", name=name, parent__code=district)


def complaint_at(area: Area, tag: str) -> Complaint:
    point = area.geom.point_on_surface
    return Complaint.objects.create(
        external_id=f"export-{tag}-{uuid.uuid4().hex[:8]}",
        received_at=dt.datetime(2025, 5, 6, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        category=Category.objects.filter(level=3).order_by("code").first(),
        location=Point(point.x, point.y, srid=4326),
        status="dispatched",
        district_code=area.parent.code,
        district_name=area.parent.name,
        street_code=area.code,
        street_name=area.name,
        lead_code=area.code,
        description="门口路面塌陷",
    )


def parcel_in(area: Area, name: str = "测试地块") -> Parcel:
    return Parcel.objects.create(
        code=f"export-{uuid.uuid4().hex[:6]}",
        name=name,
        land_use="绿地",
        status="idle",
        area_m2=1000,
        street_code=area.code,
        street_name=area.name,
        geom=MultiPolygon(area.geom.point_on_surface.buffer(0.0005), srid=4326),
    )


def run_of(layer: str) -> AnalysisRun:
    return AnalysisRun.objects.create(
        layer=layer,
        source="synthetic",
        period_start=dt.date(2099, 1, 1),
        period_end=dt.date(2099, 12, 31),
        finished_at=timezone.now() + dt.timedelta(days=1),
    )


# --- areas: every format -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_area_exports_hold_every_street_of_the_list(fmt, tmp_path):
    listed = Client().get("/api/v1/areas?level=street&page_size=10").json()
    response = Client().get(f"/api/v1/areas?level=street&format={fmt}")
    frame = read_back(response, fmt, tmp_path)
    assert len(frame) == listed["count"] > 10  # every row, not one page
    assert frame.geometry.notna().all() and frame.geometry.is_valid.all()
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}
    assert {"code", "name", "level", "parent"} <= set(frame.columns)
    assert set(frame["code"]) == set(Area.objects.current().of_level("street").values_list("code", flat=True))
    assert set(frame["level"]) == {"street"}


@pytest.mark.django_db
def test_area_export_keeps_the_list_filters_and_geojson_is_rfc7946(tmp_path):
    response = Client().get("/api/v1/areas?parent=110102&format=geojson")
    assert response["Content-Type"] == "application/geo+json"
    frame = read_back(response, "geojson", tmp_path)
    assert set(frame["parent"]) == {"110102"}
    assert len(frame) == Client().get("/api/v1/areas?parent=110102").json()["count"]
    assert frame.crs.to_epsg() == 4326


# --- hot spots and idle lots ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
def test_hotspot_export_holds_the_run(fmt, tmp_path):
    run = run_of("hotspots")
    cell = Polygon(((116.40, 39.90), (116.41, 39.90), (116.41, 39.91), (116.40, 39.90)), srid=4326)
    for i, bin_ in enumerate([3, 0, -2]):
        HotspotCell.objects.create(
            run=run, h3=f"8a31ab{i}", geom=cell, count=5, value=5, z=2.0 - i, p=0.01, bin=bin_, street_code="110101001"
        )
    listed = Client().get("/api/v1/hotspots?page_size=1").json()
    frame = read_back(Client().get(f"/api/v1/hotspots?format={fmt}"), fmt, tmp_path)
    assert len(frame) == listed["count"] == 3
    assert sorted(frame["bin"].astype(int)) == [-2, 0, 3]
    assert set(frame.geometry.geom_type) == {"Polygon"}


@pytest.mark.django_db
def test_idle_lot_export_holds_every_ranked_lot(tmp_path):
    run = run_of("idle_lots")
    guangwai = street("广安门外街道", "110102")
    for rank in (1, 2):
        LotScore.objects.create(
            run=run,
            parcel=parcel_in(guangwai, f"地块{rank}"),
            rank=rank,
            score=1.0 / rank,
            residents_new=100,
            residents_new_alone=100,
            complaints=3,
            complaints_by_year={"2024": 3},
            years_idle=2.5,
            figures={"weights": [1, 2]},
        )
    listed = Client().get("/api/v1/idle-lots").json()
    frame = read_back(Client().get("/api/v1/idle-lots?format=fgb"), "fgb", tmp_path)
    assert len(frame) == listed["count"] == 2
    assert sorted(frame["rank"]) == [1, 2] and set(frame["name"]) == {"地块1", "地块2"}
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}


# --- scoped layers ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_caller_cannot_export_complaints(users):
    complaint_at(street("广安门外街道", "110102"), "anon")
    for fmt in FORMATS:
        response = Client().get(f"/api/v1/complaints?format={fmt}")
        assert response.status_code == 401, fmt
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_street_user_exports_only_their_scope(users, fmt, tmp_path):
    guangwai = street("广安门外街道", "110102")
    mine = complaint_at(guangwai, "mine")
    theirs = complaint_at(street("太平桥街道", "110106"), "theirs")
    query = "from=2025-05-06&to=2025-05-06"
    client = logged_in(users["guangwai"])
    listed = client.get(f"/api/v1/complaints?{query}&page_size=1").json()
    response = client.get(f"/api/v1/complaints?{query}&format={fmt}")
    assert "private" in response["Cache-Control"] and "Access-Control-Allow-Origin" not in response
    frame = read_back(response, fmt, tmp_path)
    ids = set(frame["id"].astype(int))
    assert len(frame) == listed["count"] and mine.pk in ids and theirs.pk not in ids
    assert set(frame["street_code"]) == {guangwai.code}
    assert {"received_at", "status", "category", "overdue"} <= set(frame.columns)
    assert frame.geometry.notna().all() and set(frame.geometry.geom_type) == {"Point"}

    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    everything = read_back(token.get(f"/api/v1/complaints?{query}&format={fmt}"), fmt, tmp_path)
    assert {mine.pk, theirs.pk} <= set(everything["id"].astype(int))


@pytest.mark.django_db
def test_complaint_export_keeps_the_filters_and_writes_times(users, tmp_path):
    guangwai = street("广安门外街道", "110102")
    mine = complaint_at(guangwai, "times")
    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    query = f"street={guangwai.code}&from=2025-05-06&to=2025-05-06&status=dispatched"
    frame = read_back(token.get(f"/api/v1/complaints?{query}&format=gpkg"), "gpkg", tmp_path)
    assert len(frame) == token.get(f"/api/v1/complaints?{query}").json()["count"]
    row = frame[frame["id"].astype(int) == mine.pk].iloc[0]
    assert row["received_at"].tz_convert("UTC") == mine.received_at
    assert row.geometry.x == pytest.approx(mine.location.x) and row.geometry.y == pytest.approx(mine.location.y)


@pytest.mark.django_db
def test_fix_plan_exports_follow_visible_to(users, tmp_path):
    guangwai = street("广安门外街道", "110102")
    plan = FixPlan.objects.create(
        parcel=parcel_in(guangwai),
        kind="pocket_park",
        title="测试方案",
        street_code=guangwai.code,
        street_name=guangwai.name,
        district_code="110102",
        residents_served=10,
    )
    assert Client().get("/api/v1/fix-plans?format=gpkg").status_code == 401
    for who, sees in (("guangwai", True), ("taipingqiao", False)):
        client = logged_in(users[who])
        frame = read_back(client.get("/api/v1/fix-plans?format=geojson"), "geojson", tmp_path)
        assert len(frame) == client.get("/api/v1/fix-plans").json()["count"]
        ids = set(frame["id"].astype(int)) if len(frame) else set()  # an empty GeoJSON file has no columns
        assert (plan.pk in ids) is sees, who
        empty = read_back(client.get("/api/v1/fix-plans?format=gpkg&status=no-such-status"), "gpkg", tmp_path)
        assert len(empty) == 0 and {"id", "title", "street_code"} <= set(empty.columns)


@pytest.mark.django_db
def test_an_export_past_the_row_limit_is_refused_with_the_count(settings):
    settings.SHAOZI = {**settings.SHAOZI, "LIMITS": {**settings.SHAOZI["LIMITS"], "EXPORT_ROWS": 5}}
    response = Client().get("/api/v1/areas?level=district&format=csv")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_many_rows" and error["details"]["limit"] == 5
    assert error["details"]["count"] == Area.objects.current().of_level("district").count()


# --- RFC 8288 Link headers --------------------------------------------------------------------------------------


def links(response) -> dict[str, str]:
    """rel → URL of a Link header."""
    found = {}
    for part in filter(None, (response.get("Link") or "").split(",")):
        url, *params = part.split(";")
        rel = next(p.split("=", 1)[1].strip('"') for p in params if p.strip().startswith("rel="))
        found[rel] = url.strip().strip("<>")
    return found


@pytest.mark.django_db
def test_paged_lists_link_next_and_prev_pages_in_a_header(users):
    first = Client().get("/api/v1/areas?level=street&page_size=100")
    body = first.json()
    assert links(first) == {"next": body["next"]}
    second = Client().get(links(first)["next"])
    assert links(second) == {"next": second.json()["next"], "prev": second.json()["previous"]}
    pages = -(-body["count"] // 100)
    last = Client().get(f"/api/v1/areas?level=street&page_size=100&page={pages}")
    assert set(links(last)) == {"prev"}
    assert "Link" not in Client().get("/api/v1/areas?level=district")  # one page: nothing to link

    guangwai = street("广安门外街道", "110102")
    for tag in ("a", "b"):
        complaint_at(guangwai, tag)
    token = Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    assert "next" in links(token.get("/api/v1/complaints?page_size=1"))

    ogc = Client().get("/ogc/collections/streets/items?limit=10&offset=10")
    assert set(links(ogc)) == {"next", "prev"}


# --- the real client: GDAL reads an export over HTTP -----------------------------------------------------------


@pytest.mark.skipif(GDAL is None, reason="GDAL (gdal-bin) is not installed; make test installs it")
def test_gdal_reads_exports_over_http(server, django_db_blocker):
    day = dt.datetime(2025, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with django_db_blocker.unblock():
        streets = Area.objects.current().of_level("street").count()
        received = Complaint.objects.received_between(day, day + dt.timedelta(days=1)).count()
    areas = gdal("ogrinfo", "-ro", "-so", "-al", f"/vsicurl_streaming/{server}/api/v1/areas?level=street&format=fgb")
    assert areas.returncode == 0, areas.stderr
    assert f"Feature Count: {streets}" in areas.stdout and "Geometry: Multi Polygon" in areas.stdout
    token = f"Authorization: Token {DEMO_API_TOKEN}"
    url = f"/vsicurl_streaming/{server}/api/v1/complaints?from=2025-05-06&to=2025-05-06&format=fgb"
    complaints = gdal("ogrinfo", "-ro", "-so", "-al", url, headers=token)
    assert complaints.returncode == 0, complaints.stderr
    assert f"Feature Count: {received}" in complaints.stdout and "received_at: DateTime" in complaints.stdout
    assert received >= 25  # the live server's committed complaints
    assert gdal("ogrinfo", "-ro", "-so", "-al", url).returncode != 0  # anonymous: 401, nothing to read
