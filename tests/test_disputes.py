"""Disputes, rulings that become rules, scopes and the audit trail (jurisdictions side)."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.urls import reverse
from rest_framework.test import APIClient

from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import AuditEntry, Building, Dispute, Rule, Ruling
from jurisdictions.selectors import jurisdiction_lookup

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def as_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def open_building_dispute(users, who="guangwai"):
    response = as_user(users[who]).post(
        reverse("dispute-list"),
        {"title": "广外/太平桥交界违建归属", "building": "SYN-B-0001", "origin_ref": "complaint:demo"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


RULING = {"lead_code": GUANGWAI, "co_handler_codes": [TAIPINGQIAO], "reason": "两区协商：广外牵头，太平桥协办"}


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "dispute-list", []),
        ("post", "dispute-list", []),
        ("get", "dispute-detail", [1]),
        ("post", "dispute-ruling", [1]),
        ("post", "dispute-status", [1]),
        ("get", "rule-list", []),
        ("post", "rule-list", []),
    ],
)
def test_anonymous_requests_get_401(method, name, args):
    response = getattr(APIClient(), method)(reverse(name, args=args), {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_authentication_for_api_clients(users):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    assert client.get(reverse("rule-list")).status_code == 200


def test_dispute_snapshots_its_evidence(users):
    body = open_building_dispute(users)
    props = body["properties"]
    assert props["status"] == "open"
    assert props["district_codes"] == ["110102", "110106"]
    assert {GUANGWAI, TAIPINGQIAO} <= set(props["contested_codes"])
    evidence = props["evidence"]
    assert evidence["generation"] == "beijing-demo"
    assert evidence["verdict"]["method"] == "building"
    shares = {s["code"]: s["share"] for s in evidence["building"]["shares"] if s["level"] == "street"}
    assert shares[GUANGWAI] == pytest.approx(0.70, abs=0.01)
    distances = {d["code"]: d for d in evidence["boundary_distances"]}
    assert distances[GUANGWAI]["distance_to_boundary_m"] < 10
    assert evidence["complaints"] == []
    # The snapshot does not change when the world does: a later rule is not in the stored evidence.
    dispute = Dispute.objects.get(pk=body["id"])
    assert dispute.evidence["rules_nearby"] == []


def test_cross_district_ruling_needs_both_districts_then_becomes_a_rule(users):
    dispute_id = open_building_dispute(users)["id"]
    url = reverse("dispute-ruling", args=[dispute_id])
    first = as_user(users["xicheng"]).post(url, RULING, format="json").json()["properties"]
    assert first["status"] == "under_review"
    assert first["ruling"]["status"] == "proposed"
    assert first["ruling"]["missing_confirmations"] == ["110106"]
    assert not Rule.objects.exists()
    second = as_user(users["fengtai"]).post(url, RULING, format="json").json()["properties"]
    assert second["status"] == "ruled"
    assert second["ruling"]["status"] == "confirmed"
    rule = Rule.objects.get()
    assert rule.building.code == "SYN-B-0001"
    assert rule.ruling_ref == f"dispute:{dispute_id}/ruling:{second['ruling']['id']}"
    verdict = jurisdiction_lookup(point=Building.objects.get(code="SYN-B-0001").geom.point_on_surface)
    assert verdict.method == "rule"
    assert verdict.lead.code == GUANGWAI
    actions = list(
        AuditEntry.objects.filter(object_type="jurisdictions.dispute", object_id=str(dispute_id)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["dispute.open", "dispute.status", "dispute.status"]
    assert AuditEntry.objects.filter(action="ruling.confirm").count() == 2
    assert AuditEntry.objects.filter(action="rule.create").count() == 1


def test_a_different_proposal_supersedes_and_rulings_are_never_edited(users):
    dispute_id = open_building_dispute(users)["id"]
    url = reverse("dispute-ruling", args=[dispute_id])
    as_user(users["xicheng"]).post(url, RULING, format="json")
    other = {**RULING, "lead_code": TAIPINGQIAO, "co_handler_codes": [GUANGWAI], "reason": "太平桥牵头"}
    as_user(users["fengtai"]).post(url, other, format="json")
    first, second = Ruling.objects.order_by("id")
    assert first.status == "superseded" and first.lead_code == GUANGWAI  # unchanged, only superseded
    assert second.status == "proposed"
    as_user(users["xicheng"]).post(url, other, format="json")
    second.refresh_from_db()
    assert second.status == "confirmed"
    # A later ruling on the same dispute supersedes the confirmed one and ends its rule.
    as_user(users["admin"]).post(url, {**RULING, "valid_from": dt.date.today().isoformat()}, format="json")
    second.refresh_from_db()
    assert second.status == "superseded"
    assert second.rule.valid_to is not None
    assert Ruling.objects.filter(status="confirmed").count() == 1


def test_status_changes_and_withdrawal(users):
    dispute_id = open_building_dispute(users)["id"]
    url = reverse("dispute-status", args=[dispute_id])
    assert as_user(users["xicheng"]).post(url, {"status": "under_review"}, format="json").status_code == 200
    bad = as_user(users["xicheng"]).post(url, {"status": "ruled"}, format="json")
    assert bad.status_code == 400
    assert as_user(users["guangwai"]).post(url, {"status": "withdrawn"}, format="json").status_code == 200
    ruling = as_user(users["xicheng"]).post(reverse("dispute-ruling", args=[dispute_id]), RULING, format="json")
    assert ruling.status_code == 400


# One table: role × write endpoint × (inside / outside the user's scope) → expected HTTP status.
# "inside" objects touch 西城/丰台 (广外/太平桥 building); "outside" ones lie in 海淀 (学院路).
PERMISSIONS = {
    # role            open-in open-out rule-in rule-out status-in status-out rules-post
    "admin": (201, 201, 200, 200, 200, 200, 201),
    "planner": (403, 403, 403, 403, 403, 403, 403),
    "xicheng": (201, 403, 200, 403, 200, 403, 403),
    "fengtai": (201, 403, 200, 403, 200, 403, 403),
    "haidian": (403, 201, 403, 200, 403, 200, 403),
    "guangwai": (201, 403, 403, 403, 403, 403, 403),
    "taipingqiao": (201, 403, 403, 403, 403, 403, 403),
    "xueyuanlu": (403, 201, 403, 403, 403, 403, 403),
    "xicheng_cgw": (403, 403, 403, 403, 403, 403, 403),
    "api_client": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", sorted(PERMISSIONS))
def test_permission_matrix(users, role):
    expected = PERMISSIONS[role]
    client = as_user(users[role])
    inside_place = {"title": "in", "building": "SYN-B-0001"}
    outside_place = {"title": "out", "point": {"type": "Point", "coordinates": [116.3525, 39.9985]}}
    got = [
        client.post(reverse("dispute-list"), inside_place, format="json").status_code,
        client.post(reverse("dispute-list"), outside_place, format="json").status_code,
    ]
    inside = open_building_dispute(users, who="admin")["id"]
    outside = as_user(users["admin"]).post(reverse("dispute-list"), outside_place, format="json").json()["id"]
    fresh_inside = open_building_dispute(users, who="admin")["id"]
    fresh_outside = as_user(users["admin"]).post(reverse("dispute-list"), outside_place, format="json").json()["id"]
    xueyuanlu = jurisdiction_lookup(point=Point(116.3525, 39.9985, srid=4326)).lead.code
    got += [
        client.post(reverse("dispute-ruling", args=[inside]), RULING, format="json").status_code,
        client.post(
            reverse("dispute-ruling", args=[outside]), {"lead_code": xueyuanlu, "reason": "r"}, format="json"
        ).status_code,
        client.post(
            reverse("dispute-status", args=[fresh_inside]), {"status": "under_review"}, format="json"
        ).status_code,
        client.post(
            reverse("dispute-status", args=[fresh_outside]), {"status": "under_review"}, format="json"
        ).status_code,
        client.post(
            reverse("rule-list"),
            {"lead_code": GUANGWAI, "building": "SYN-B-0002", "valid_from": "2024-01-01", "reason": "r"},
            format="json",
        ).status_code,
    ]
    # Reading out-of-scope disputes is refused too (except for city-wide roles).
    detail = client.get(reverse("dispute-detail", args=[outside])).status_code
    assert got == list(expected), f"{role}: got {got}"
    assert detail == (200 if role in ("admin", "planner", "haidian", "xueyuanlu") else 403)


def test_403_says_why(users):
    response = as_user(users["planner"]).post(
        reverse("dispute-list"), {"title": "x", "building": "SYN-B-0001"}, format="json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "open a dispute" in error["message"]
    assert error["details"]["your_scope"]["role"] == "planner"


def test_production_refuses_demo_accounts(users, settings):
    settings.SHAOZI = {**settings.SHAOZI, "ALLOW_DEMO_USERS": False}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    assert client.get(reverse("rule-list")).status_code == 401
    from django.contrib.auth import authenticate

    assert authenticate(username="admin", password="shaozi-demo-2026") is None
    settings.SHAOZI = {**settings.SHAOZI, "ALLOW_DEMO_USERS": True}
    assert authenticate(username="admin", password="shaozi-demo-2026") is not None


def test_a_dispute_opened_from_a_verdict_that_needs_review(users):
    # A GPS fix on the 西城/丰台 line with a wide circle: the verdict asks for review, staff open a dispute from it.
    point = Building.objects.get(code="SYN-B-0001").geom.point_on_surface
    verdict = jurisdiction_lookup(point=Point(point.x + 0.0004, point.y, srid=4326), accuracy_m=120)
    assert verdict.needs_review
    response = as_user(users["guangwai"]).post(
        reverse("dispute-list"),
        {
            "title": "定位误差圆跨界",
            "point": {"type": "Point", "coordinates": [point.x + 0.0004, point.y]},
            "accuracy_m": 120,
            "origin": "review",
            "origin_ref": "complaint:42",
        },
        format="json",
    )
    assert response.status_code == 201
    props = response.json()["properties"]
    assert props["origin"] == "review" and props["origin_ref"] == "complaint:42"
    assert props["evidence"]["uncertainty"]
