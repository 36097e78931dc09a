"""Jurisdiction changes need the consent of every district that gains or loses ground.

Each case here reproduces a way one district could take (or push away) territory alone: a huge dispute place
that only counts the opener's district, a ruling naming a street the dispute never involved, a dispute opened
far away by naming one's own street, a rule over a whole district. And rows only go to the full engine for
rules in force on their day.
"""

import datetime as dt

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from jurisdictions import engine
from jurisdictions.demo import demo_users_create
from jurisdictions.models import Area, Dispute, Rule
from jurisdictions.services import rule_create

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"
# Set by the `spots` fixture from the demo boundaries: 海淀区 学院路街道's code, a point well inside 广安门外街道
# and one well inside 学院路街道.
XUEYUANLU = ""
IN_GUANGWAI = IN_HAIDIAN = (0.0, 0.0)


def inside(area) -> tuple[float, float]:
    """A point well inside `area` (the centre of its largest inscribed circle)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT (ST_MaximumInscribedCircle(ST_GeomFromEWKT(%s))).center c) s",
            [area.geom.ewkt],
        )
        return cursor.fetchone()


@pytest.fixture
def spots(db):
    global XUEYUANLU, IN_GUANGWAI, IN_HAIDIAN
    xueyuanlu = Area.objects.current().get(name="学院路街道")
    XUEYUANLU, IN_GUANGWAI, IN_HAIDIAN = (
        xueyuanlu.code,
        inside(Area.objects.current().get(code=GUANGWAI)),
        inside(xueyuanlu),
    )


@pytest.fixture
def users(spots):
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def box(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def small_box(lon, lat, half=0.0005) -> dict:
    return box(lon - half, lat - half, lon + half, lat + half)


def point(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def open_dispute(user, **body):
    return as_user(user).post(reverse("dispute-list"), {"title": "归属争议", **body}, format="json")


def test_a_city_sized_place_is_refused_for_district_staff(users):
    response = open_dispute(users["xicheng"], point=point(*IN_GUANGWAI), place=box(115, 39, 118, 41.5))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "place_too_large"
    assert not Dispute.objects.exists()


def test_every_district_a_place_touches_is_involved_and_must_confirm(users):
    # A city administrator may open a large dispute; every district under it is involved.
    body = open_dispute(users["admin"], point=point(*IN_GUANGWAI), place=box(116.30, 39.85, 116.40, 39.93)).json()
    districts = body["properties"]["district_codes"]
    assert {"110102", "110106"} <= set(districts)
    dispute = Dispute.objects.get(pk=body["id"])
    assert set(dispute.district_codes) == set(districts)
    # xicheng's confirmation alone does not make the rule.
    url = reverse("dispute-ruling", args=[dispute.pk])
    ruling = {"lead_code": GUANGWAI, "reason": "西城牵头"}
    answer = as_user(users["xicheng"]).post(url, ruling, format="json").json()["properties"]["ruling"]
    assert answer["status"] == "proposed"
    assert "110106" in answer["missing_confirmations"]
    assert not Rule.objects.exists()


def test_a_ruling_may_not_name_an_area_the_dispute_does_not_involve(users):
    dispute = open_dispute(users["xicheng"], point=point(*IN_GUANGWAI)).json()
    assert dispute["properties"]["district_codes"] == ["110102"]
    haidian_street = XUEYUANLU
    url = reverse("dispute-ruling", args=[dispute["id"]])
    for body in (
        {"lead_code": haidian_street, "reason": "推给海淀"},
        {"lead_code": GUANGWAI, "co_handler_codes": [haidian_street], "reason": "拉海淀协办"},
    ):
        response = as_user(users["xicheng"]).post(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert response.json()["error"]["code"] == "not_contested"
        assert haidian_street in response.json()["error"]["details"]["codes"]
    assert not Rule.objects.exists()
    # Within its own district a one-district dispute is ruled by that district alone.
    done = as_user(users["xicheng"]).post(url, {"lead_code": GUANGWAI, "reason": "广外"}, format="json").json()
    assert done["properties"]["status"] == "ruled"


def test_naming_another_district_makes_it_a_party_that_must_confirm(users):
    dispute = open_dispute(users["xicheng"], point=point(*IN_GUANGWAI), contested_codes=[TAIPINGQIAO]).json()
    assert dispute["properties"]["district_codes"] == ["110102", "110106"]
    url = reverse("dispute-ruling", args=[dispute["id"]])
    answer = as_user(users["xicheng"]).post(url, {"lead_code": TAIPINGQIAO, "reason": "丰台的"}, format="json")
    assert answer.json()["properties"]["ruling"]["missing_confirmations"] == ["110106"]
    assert not Rule.objects.exists()


@pytest.mark.parametrize("who", ["xicheng", "guangwai"])
def test_staff_cannot_open_a_dispute_elsewhere_by_naming_their_own_street(users, who):
    response = open_dispute(users[who], point=point(*IN_HAIDIAN), contested_codes=[GUANGWAI])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    response = open_dispute(users[who], point=point(*IN_HAIDIAN), place=small_box(*IN_HAIDIAN))
    assert response.status_code == 403
    assert not Dispute.objects.exists()


def test_a_large_rule_needs_the_city_even_when_the_districts_agree(users, settings):
    settings.SHAOZI = {**settings.SHAOZI, "RULE_MAX_AREA_M2": 50_000.0}
    place = small_box(*IN_GUANGWAI, half=0.002)  # about 340 m × 440 m
    refused = open_dispute(users["xicheng"], point=point(*IN_GUANGWAI), place=place)
    assert refused.json()["error"]["code"] == "place_too_large"
    dispute = open_dispute(users["admin"], point=point(*IN_GUANGWAI), place=place).json()
    url = reverse("dispute-ruling", args=[dispute["id"]])
    ruling = {"lead_code": GUANGWAI, "reason": "广外"}
    answer = as_user(users["xicheng"]).post(url, ruling, format="json").json()["properties"]["ruling"]
    assert answer["status"] == "proposed"
    assert answer["missing_confirmations"] == ["city"]
    assert not Rule.objects.exists()
    answer = as_user(users["admin"]).post(url, ruling, format="json").json()["properties"]["ruling"]
    assert answer["status"] == "confirmed"


BAD_PLACES = {
    "line": {"type": "LineString", "coordinates": [[116.34, 39.88], [116.35, 39.89]]},
    "collection": {"type": "GeometryCollection", "geometries": [point(*IN_GUANGWAI)]},
    "bowtie": {
        "type": "Polygon",
        "coordinates": [
            [[116.344, 39.889], [116.345, 39.890], [116.345, 39.889], [116.344, 39.890], [116.344, 39.889]]
        ],
    },
    "booleans": {"type": "Polygon", "coordinates": [[[True, True], [True, False], [False, False], [True, True]]]},
    "wkt": "POLYGON((116.344 39.889, 116.345 39.889, 116.345 39.890, 116.344 39.889))",
}
BAD_POINTS = {
    "3d": {"type": "Point", "coordinates": [116.3445, 39.8895, 10.0]},
    "empty": {"type": "Point", "coordinates": []},
    "booleans": {"type": "Point", "coordinates": [True, True]},
    "strings": {"type": "Point", "coordinates": ["116.3", "39.9"]},
    "huge": {"type": "Point", "coordinates": [1e308, 1e308]},
    "line": {"type": "LineString", "coordinates": [[116.34, 39.88], [116.35, 39.89]]},
}


@pytest.mark.parametrize("name", sorted(BAD_PLACES))
def test_bad_places_are_refused_with_400(users, name):
    response = open_dispute(users["admin"], point=point(*IN_GUANGWAI), place=BAD_PLACES[name])
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_geometry"


@pytest.mark.parametrize("name", sorted(BAD_POINTS))
def test_bad_points_are_refused_with_400(users, name):
    response = open_dispute(users["admin"], point=BAD_POINTS[name])
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_geometry"


def test_a_point_outside_every_area_is_a_400(users):
    response = open_dispute(users["admin"], point=point(100.0, 20.0))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "outside_areas"


def test_a_point_far_from_its_place_is_a_400(users):
    response = open_dispute(users["xicheng"], point=point(*IN_HAIDIAN), place=small_box(*IN_GUANGWAI))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "point_outside_place"


def test_rules_must_end_after_they_start_and_be_valid(users):
    client = as_user(users["admin"])
    body = {"lead_code": GUANGWAI, "place": small_box(*IN_GUANGWAI), "reason": "测试"}
    response = client.post(
        reverse("rule-list"), {**body, "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_rule"
    response = client.post(
        reverse("rule-list"), {**body, "place": BAD_PLACES["bowtie"], "valid_from": "2026-05-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_geometry"
    assert not Rule.objects.exists()


def test_only_rules_in_force_on_a_rows_day_send_it_to_the_full_engine(spots):
    lon, lat = IN_GUANGWAI
    square = MultiPolygon(Polygon.from_bbox((lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)), srid=4326)
    rule_create(
        lead_code=GUANGWAI,
        geom=square,
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2025, 2, 1),
        reason="一个月的规则",
        author="test",
    )
    xs, ys = np.array([lon, lon, lon]), np.array([lat, lat, lat])
    days = np.array(["2024-12-31", "2025-01-15", "2025-02-01"], dtype="datetime64[D]")
    how = engine.resolve(xs, ys, at=days).how
    assert (how == engine.RULE).tolist() == [False, True, False]
    # The engine's verdict on the rule's day is the rule's; the day after it ended, geometry's.
    assert engine.lookup(point=Point(lon, lat, srid=4326), at=dt.date(2025, 1, 15)).method == "rule"
    assert engine.lookup(point=Point(lon, lat, srid=4326), at=dt.date(2025, 2, 1)).method != "rule"
