import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings


def test_planner_map_is_chinese_and_fully_local(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert "管辖地图" in html
    assert "/tiles/areas/{z}/{x}/{y}.pbf" in html
    assert "/api/v1/jurisdiction" in html
    # Nothing may leave the machine: no absolute URL to any host in the page.
    assert re.findall(r"https?://", html) == []
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert (Path(settings.BASE_DIR) / asset.removeprefix("/")).exists(), asset


def test_configured_basemap_is_added_as_a_tile_layer(client):
    shaozi = {**settings.SHAOZI, "BASEMAP_URL": "http://tiles.example.internal/{z}/{x}/{y}.png"}
    with override_settings(SHAOZI=shaozi):
        html = client.get("/").content.decode()
    assert "tiles.example.internal" in html


def frame_of(html: str) -> dict:
    """The frame configuration the page hands to planner.js."""
    import json

    return json.loads(re.search(r"shaoziPlanner\(\w+, (\{.*\})\);", html).group(1))


@pytest.fixture
def demo_users(db):
    from jurisdictions.demo import demo_users_create

    demo_users_create()


@pytest.mark.parametrize(
    ("username", "areas", "wording"),
    [
        (None, [], "登录后显示你辖区内的整治方案"),
        ("planner", [""], "你辖区内的整治方案"),
        ("admin", [""], "你辖区内的整治方案"),
        ("xicheng", ["110102"], "你辖区内的整治方案"),
        ("guangwai", ["110102020"], "你辖区内的整治方案"),
        ("xicheng_cgw", [], "你辖区内的整治方案"),
    ],
)
def test_the_frame_says_where_the_user_may_plan_and_speaks_to_them(client, demo_users, username, areas, wording):
    from django.contrib.auth.models import User

    if username:
        client.force_login(User.objects.get(username=username))
    frame = frame_of(client.get("/").content.decode())
    assert frame["planAreas"] == areas
    assert frame["urls"]["fixPlanNew"] == "/desk/fix-plans/new"
    notes = {layer["id"]: layer["note"]["zh"] for layer in frame["layers"]}
    assert notes["fix-plans"] == wording
    assert ("登录后" in notes["disputes"] + notes["joint-cases"]) == (username is None)


@pytest.fixture
def guangwai_lot(demo_users):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from hotspots.models import Parcel

    return Parcel.objects.create(
        code="SYN-P-MAP",
        name="地图试验地块",
        land_use="绿地",
        status="idle",
        area_m2=5200.0,
        street_code="110102020",
        street_name="广安门外街道",
        district_code="110102",
        geom=MultiPolygon(Polygon.from_bbox((116.330, 39.890, 116.331, 39.891)), srid=4326),
        synthetic=True,
    )


@pytest.mark.parametrize(
    ("username", "status"),
    [("planner", 200), ("admin", 200), ("xicheng", 200), ("guangwai", 200), ("xueyuanlu", 403), ("xicheng_cgw", 403)],
)
def test_the_new_plan_form_opens_with_the_lot_for_those_who_may_plan_it(client, guangwai_lot, username, status):
    from django.contrib.auth.models import User

    from hotspots.models import FixPlan

    client.force_login(User.objects.get(username=username))
    response = client.get("/desk/fix-plans/new?parcel=SYN-P-MAP")
    assert response.status_code == status
    page = response.content.decode()
    if status == 200:
        assert 'name="parcel" value="SYN-P-MAP"' in page and "地图试验地块" in page and 'name="kind"' in page
    else:
        assert 'id="denied"' in page
    assert client.get("/desk/fix-plans/new?parcel=NO-SUCH-LOT").status_code == 404
    assert not FixPlan.objects.exists()


def test_the_new_plan_form_asks_anonymous_users_to_log_in(client, guangwai_lot):
    response = client.get("/desk/fix-plans/new?parcel=SYN-P-MAP")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_map_runs_lists_each_layers_runs_oldest_first(client):
    import datetime as dt

    from django.utils import timezone

    from hotspots.models import AnalysisRun

    now = timezone.now()
    made = [
        AnalysisRun.objects.create(
            layer="hotspots",
            source="synthetic",
            period_start=dt.date(2024 + i, 1, 1),
            period_end=dt.date(2024 + i, 12, 31),
            finished_at=now + dt.timedelta(days=i + 1),  # newer than any demo run
        )
        for i in range(3)
    ]
    AnalysisRun.objects.create(
        layer="hotspots",
        source="synthetic",
        category="01",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        finished_at=now,
    )  # one category only: not offered
    AnalysisRun.objects.create(
        layer="hotspots", source="synthetic", period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31)
    )  # not finished: not offered
    data = client.get("/map/runs").json()
    assert [c["run"] for c in data["choices"]["hotspots"]][-3:] == [run.pk for run in made]
    assert data["choices"]["hotspots"][-3] == {
        "run": made[0].pk,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "step": "week",
    }
    assert data["runs"]["hotspots"]["run"] == made[-1].pk
