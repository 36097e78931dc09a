"""Every complaint write checks the user's scope: one table role × write endpoint × inside/outside → HTTP status.

"inside" complaints lie in 西城区 广安门外街道; "outside" ones in 海淀区 学院路街道. The category (路面破损) is owned
by the district's 城管委, so department staff hold a copy (双派) of the complaints of their own district.
"""

import csv
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints import services
from complaints.models import Complaint, ReturnRequest
from complaints.permissions import SYSTEM
from complaints.services import IntakeData
from jurisdictions.demo import demo_users_create
from jurisdictions.models import Area

pytestmark = pytest.mark.django_db

GUANGWAI = "110102020"
CATEGORY = "020301"  # 道路设施 › 路面破损, owned by the district's 城市管理委员会

# role × write: HTTP status; for bulk, the rows stored from a one-row file (or 403): rows outside the importing
# user's area are reported as bad rows, not stored.
# role            intake   open311  bulk  accept   return   review   rate close read
#                 in  out  in  out  in out in  out  in  out  in  out  in   in    in  out
PERMISSIONS = {
    "admin": (201, 201, 201, 201, 1, 1, 200, 200, 201, 201, 200, 200, 200, 200, 200, 200),
    "planner": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200),
    "xicheng": (201, 403, 201, 403, 1, 0, 200, 403, 201, 403, 200, 403, 403, 200, 200, 403),
    "fengtai": (403, 403, 403, 403, 0, 0, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "haidian": (403, 201, 403, 201, 0, 1, 403, 200, 403, 201, 403, 200, 403, 403, 403, 200),
    "guangwai": (201, 403, 201, 403, 1, 0, 200, 403, 201, 403, 403, 403, 403, 200, 200, 403),
    "taipingqiao": (403, 403, 403, 403, 0, 0, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "xueyuanlu": (403, 201, 403, 201, 0, 1, 403, 200, 403, 201, 403, 403, 403, 403, 403, 200),
    "xicheng_cgw": (403, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    "fengtai_cgw": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "api_client": (201, 201, 201, 201, 1, 1, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200),
}


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def spot(code: str) -> tuple[float, float]:
    point = Area.objects.current().get(code=code).geom.point_on_surface
    return point.x, point.y


def xueyuanlu() -> str:
    return Area.objects.current().get(level="street", name="学院路街道", parent__code="110108").code


def stored(code: str, **moves) -> Complaint:
    """A complaint at `code`, taken in and moved by the system (not the user under test)."""
    lon, lat = spot(code)
    complaint = services.complaint_intake(
        data=IntakeData(category=CATEGORY, lon=lon, lat=lat, external_id=f"P-{uuid.uuid4().hex[:10]}"), by=SYSTEM
    ).complaint
    for step in moves.get("to", ()):
        complaint = services.complaint_transition(complaint=complaint, to=step, by=SYSTEM)
    return complaint


def returned(code: str) -> ReturnRequest:
    complaint = stored(code)
    return services.complaint_return(complaint=complaint, reason="not_our_area", note="不在本辖区", by=SYSTEM)


def bulk_file(tmp_path, code: str):
    lon, lat = spot(code)
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "received_at", "category", "lon", "lat"])
        writer.writerow([f"B-{uuid.uuid4().hex[:10]}", "2026-01-05T09:00:00+08:00", CATEGORY, lon, lat])
    return path


@pytest.mark.parametrize("role", sorted(PERMISSIONS))
def test_permission_matrix(users, role, tmp_path):
    user = users[role]
    client = APIClient()
    client.force_authenticate(user)
    client.default_format = "json"
    token = Token.objects.get_or_create(user=user)[0].key
    inside, outside = GUANGWAI, xueyuanlu()
    got = []
    for code in (inside, outside):
        lon, lat = spot(code)
        got.append(client.post("/api/v1/complaints", {"category": CATEGORY, "lon": lon, "lat": lat}).status_code)
    for code in (inside, outside):
        lon, lat = spot(code)
        body = {"service_code": CATEGORY, "lat": lat, "long": lon, "api_key": token}
        got.append(Client().post("/open311/v2/requests.json", body).status_code)
    for code in (inside, outside):
        with bulk_file(tmp_path, code).open("rb") as handle:
            response = client.post("/api/v1/complaint-imports", {"file": handle}, format="multipart")
        if response.status_code == 201:
            body = response.json()
            assert body["rows_read"] == 1 and body["rows_created"] + body["rows_bad"] == 1
            assert all(set(error["errors"]) == {"scope"} for error in body["errors"])
            got.append(body["rows_created"])
        else:
            got.append(response.status_code)
    for code in (inside, outside):
        pk = stored(code).pk
        got.append(client.post(f"/api/v1/complaints/{pk}/status", {"status": "accepted"}).status_code)
    for code in (inside, outside):
        pk = stored(code).pk
        got.append(
            client.post(f"/api/v1/complaints/{pk}/returns", {"reason": "not_our_area", "note": "非本辖区"}).status_code
        )
    for code in (inside, outside):
        row = returned(code)
        decision = {"decision": "rejected", "note": "核实属本辖区"}
        got.append(client.post(f"/api/v1/complaint-returns/{row.pk}/decision", decision).status_code)
    pk = stored(inside, to=("accepted", "resolved")).pk
    got.append(client.post(f"/api/v1/complaints/{pk}/satisfaction", {"satisfaction": "satisfied"}).status_code)
    pk = stored(inside, to=("accepted", "resolved")).pk
    got.append(client.post(f"/api/v1/complaints/{pk}/status", {"status": "closed"}).status_code)
    for code in (inside, outside):
        got.append(client.get(f"/api/v1/complaints/{stored(code).pk}").status_code)
    assert got == list(PERMISSIONS[role]), f"{role}: got {got}"


def test_refused_writes_change_nothing(users):
    """Zero leaks: a 403 leaves no complaint, no status change, no return and no decision behind."""
    client = APIClient()
    client.force_authenticate(users["fengtai"])
    client.default_format = "json"
    lon, lat = spot(GUANGWAI)
    before = Complaint.objects.count()
    refused = client.post("/api/v1/complaints", {"category": CATEGORY, "lon": lon, "lat": lat, "external_id": "LEAK"})
    assert refused.status_code == 403
    assert Complaint.objects.count() == before and not Complaint.objects.filter(external_id="LEAK").exists()
    body = refused.json()["error"]
    assert body["code"] == "permission_denied" and "outside your area" in body["message"]
    assert body["details"]["your_scope"]["district"] == "110106"
    # The refusal does not echo the complaint's verdict beyond the codes checked.
    assert set(body["details"]) == {"your_scope", "verdict_codes"}
    complaint = stored(GUANGWAI)
    history = complaint.history.count()
    assert client.post(f"/api/v1/complaints/{complaint.pk}/status", {"status": "accepted"}).status_code == 403
    refused = client.post(f"/api/v1/complaints/{complaint.pk}/returns", {"reason": "other", "note": "x"})
    assert refused.status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "dispatched" and complaint.history.count() == history
    assert not complaint.returns.exists()
    row = returned(GUANGWAI)
    assert client.post(f"/api/v1/complaint-returns/{row.pk}/decision", {"decision": "disputed"}).status_code == 403
    row.refresh_from_db()
    assert row.decision == "pending" and row.dispute_ref == ""
    detail = client.get(f"/api/v1/complaints/{complaint.pk}")
    assert detail.status_code == 403 and "description" not in detail.content.decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/complaints"),
        ("post", "/api/v1/complaints"),
        ("get", "/api/v1/complaints/1"),
        ("post", "/api/v1/complaints/1/status"),
        ("post", "/api/v1/complaints/1/satisfaction"),
        ("post", "/api/v1/complaints/1/returns"),
        ("get", "/api/v1/complaint-returns"),
        ("post", "/api/v1/complaint-returns/1/decision"),
        ("post", "/api/v1/complaint-imports"),
        ("get", "/api/v1/complaint-imports/1"),
    ],
)
def test_anonymous_requests_get_401(method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_catalogue_stays_public():
    assert APIClient().get("/api/v1/complaint-categories").status_code == 200


def test_open311_posting_needs_a_token_and_reading_is_public_without_personal_data(users):
    lon, lat = spot(GUANGWAI)
    body = {"service_code": CATEGORY, "lat": lat, "long": lon, "phone": "13800000000", "email": "a@example.cn"}
    anonymous = Client().post("/open311/v2/requests.json", body)
    # GeoReport v2: a missing or invalid api_key is 403, in Open311's own error format.
    assert anonymous.status_code == 403 and anonymous.json()[0]["code"] == 403
    wrong = Client().post("/open311/v2/requests.json", {**body, "api_key": "not-a-token"})
    assert wrong.status_code == 403
    token = Token.objects.get(user=users["api_client"]).key
    by_header = Client(HTTP_AUTHORIZATION=f"Token {token}").post("/open311/v2/requests.json", body)
    assert by_header.status_code == 201
    request_id = by_header.json()[0]["service_request_id"]
    assert Complaint.objects.get(external_id=request_id).reporter["phone"] == "13800000000"
    for url in (f"/open311/v2/requests/{request_id}.json", "/open311/v2/requests.json", "/open311/v2/requests.xml"):
        response = Client().get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert request_id in text
        assert "13800000000" not in text and "a@example.cn" not in text
    # The planner's login does not turn into a token: Open311 posting is for API clients with a token.
    planner = Client()
    planner.force_login(users["planner"])
    assert planner.post("/open311/v2/requests.json", body).status_code == 403


def test_return_queue_and_import_reports_are_read_within_scope(users, tmp_path):
    inside, outside = returned(GUANGWAI), returned(xueyuanlu())
    seen = {}
    for name in ("admin", "planner", "api_client", "xicheng", "guangwai", "haidian", "fengtai", "xicheng_cgw"):
        client = APIClient()
        client.force_authenticate(users[name])
        seen[name] = {row["id"] for row in client.get("/api/v1/complaint-returns").json()}
    both = {inside.pk, outside.pk}
    assert seen == {
        "admin": both,
        "planner": both,
        "api_client": both,
        "xicheng": {inside.pk},
        "guangwai": {inside.pk},
        "haidian": {outside.pk},
        "fengtai": set(),
        "xicheng_cgw": set(),
    }
    importer = APIClient()
    importer.force_authenticate(users["xicheng"])
    with bulk_file(tmp_path, GUANGWAI).open("rb") as handle:
        record = importer.post("/api/v1/complaint-imports", {"file": handle}, format="multipart").json()["id"]
    for name, status in (("xicheng", 200), ("admin", 200), ("planner", 200), ("guangwai", 403), ("haidian", 403)):
        client = APIClient()
        client.force_authenticate(users[name])
        assert client.get(f"/api/v1/complaint-imports/{record}").status_code == status, name
