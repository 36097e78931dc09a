"""Who may read what: one table per read endpoint, role × inside/outside scope → what the user sees.

"inside" complaints lie in 西城区 广安门外街道 (广外); "outside" ones in 海淀区 学院路街道. The category (路面破损) is
owned by the district's 城管委, so 西城区城管委 holds a copy (双派) of the inside complaint. Reads must agree
everywhere: a complaint in a user's list is one whose detail they may open, and nothing else.
"""

import datetime as dt
import math
import uuid

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from complaints import permissions, services
from complaints.deadlines import LOCAL_TZ
from complaints.models import Category, Complaint, JointCase
from complaints.permissions import SYSTEM, SystemPrincipal
from complaints.services import IntakeData
from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import Area, Building
from maps import tile_layers

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"
XICHENG_CGW = "110102.city_management"
CATEGORY = "020301"  # 道路设施 › 路面破损, owned by the district's 城市管理委员会
PHONE, NOTE_PHONE = "13912345678", "13700001111"

ROLES = (
    "admin",
    "planner",
    "api_client",
    "xicheng",
    "fengtai",
    "haidian",
    "guangwai",
    "taipingqiao",
    "xueyuanlu",
    "xicheng_cgw",
    "fengtai_cgw",
)

# role: (reads the inside complaint, reads the outside complaint)
COMPLAINT_READS = {
    "admin": (True, True),
    "planner": (True, True),
    "api_client": (True, True),
    "xicheng": (True, False),
    "fengtai": (False, False),
    "haidian": (False, True),
    "guangwai": (True, False),
    "taipingqiao": (False, False),
    "xueyuanlu": (False, True),
    "xicheng_cgw": (True, False),  # holds the department copy of the inside complaint
    "fengtai_cgw": (False, False),
}


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def as_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    client.default_format = "json"
    return client


def spot(code: str) -> tuple[float, float]:
    point = Area.objects.current().get(code=code).geom.point_on_surface
    return point.x, point.y


def xueyuanlu() -> str:
    return Area.objects.current().get(level="street", name="学院路街道", parent__code="110108").code


def stored(code: str, *, by=SYSTEM, description: str = f"门口路面塌陷，联系电话 {PHONE}") -> Complaint:
    """A complaint at `code` whose description carries a phone number, returned once with a staff note."""
    lon, lat = spot(code)
    complaint = services.complaint_intake(
        data=IntakeData(
            category=CATEGORY, lon=lon, lat=lat, external_id=f"R-{uuid.uuid4().hex[:10]}", description=description
        ),
        by=by,
    ).complaint
    return complaint


def returned(code: str) -> Complaint:
    complaint = stored(code)
    services.complaint_return(
        complaint=complaint, reason="not_our_area", note=f"已电话联系 {NOTE_PHONE}，非本辖区", by=SYSTEM
    )
    return Complaint.objects.get(pk=complaint.pk)


# --- complaints: list, detail and replay agree ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_complaint_list_and_detail_follow_one_policy(users, role):
    inside, outside = stored(GUANGWAI), stored(xueyuanlu())
    client = as_user(users[role])
    listed = {f["id"] for f in client.get("/api/v1/complaints?page_size=1000").json()["features"]}
    expected = COMPLAINT_READS[role]
    assert [inside.pk in listed, outside.pk in listed] == list(expected), role
    details = [client.get(f"/api/v1/complaints/{c.pk}").status_code for c in (inside, outside)]
    assert details == [200 if ok else 403 for ok in expected], role
    # The list and the one-complaint check are the same policy.
    scope = permissions.scope_for(users[role])
    assert [permissions.may_read_complaint(scope, c) for c in (inside, outside)] == list(expected)


def test_anonymous_and_roleless_users_read_no_complaint(users):
    stored(GUANGWAI)
    assert APIClient().get("/api/v1/complaints").status_code == 401
    nobody = User.objects.create_user("no-role")
    assert as_user(nobody).get("/api/v1/complaints").json()["features"] == []


def test_map_complaint_selectors_take_the_scope(users):
    from maps.selectors import complaint_queryset

    inside, outside = stored(GUANGWAI), stored(xueyuanlu())
    for role, (sees_inside, sees_outside) in COMPLAINT_READS.items():
        ids = set(complaint_queryset(scope=permissions.scope_for(users[role])).values_list("pk", flat=True))
        assert [inside.pk in ids, outside.pk in ids] == [sees_inside, sees_outside], role


# role: replaying the inside complaint's external_id → (HTTP status, full detail?)
REPLAY = {
    "admin": (200, True),
    "api_client": (200, True),
    "xicheng": (200, True),
    "guangwai": (200, True),
    "fengtai": (200, False),
    "haidian": (200, False),
    "taipingqiao": (200, False),
    "xueyuanlu": (200, False),
    "planner": (403, False),  # may not take complaints in at all
    "xicheng_cgw": (403, False),
}


@pytest.mark.parametrize("role", sorted(REPLAY))
def test_intake_replay_shows_the_complaint_only_to_who_may_read_it(users, role):
    complaint = returned(GUANGWAI)
    lon, lat = spot(xueyuanlu())
    body = {"category": CATEGORY, "lon": lon, "lat": lat, "external_id": complaint.external_id}
    response = as_user(users[role]).post("/api/v1/complaints", body)
    status, full = REPLAY[role]
    assert response.status_code == status, response.content
    text = response.content.decode()
    if status != 200:
        assert PHONE not in text
        return
    data = response.json()
    assert data["id"] == complaint.pk  # idempotent: the stored complaint, nothing new
    assert Complaint.objects.filter(external_id=complaint.external_id).count() == 1
    if full:
        assert data["properties"]["description"].endswith(PHONE)
    else:
        assert data == {"id": complaint.pk, "external_id": complaint.external_id, "status": "returned"}
        assert PHONE not in text and NOTE_PHONE not in text


# --- complaint tiles -----------------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def tile_centre(z: int, x: int, y: int) -> tuple[float, float]:
    n = 2**z
    lon = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lon, lat


@pytest.fixture
def tile_spot():
    """A z16 tile in 广外 holding four complaints of 太平桥 within a few metres of each other and, 170 m away, one
    complaint of 广外 on its own."""
    z = 16
    x, y = tile_of(*spot(GUANGWAI), z)
    lon0, lat0 = tile_centre(z, x, y)
    category = Category.objects.get(code=CATEGORY)

    def row(i: int, lon: float, lat: float, district: str, street: str) -> Complaint:
        return Complaint(
            external_id=f"scope-tile-{i}",
            received_at=dt.datetime(2025, 5, 6, 9, 0, tzinfo=LOCAL_TZ),
            category=category,
            location=Point(lon, lat, srid=4326),
            status="dispatched",
            district_code=district,
            street_code=street,
            lead_code=street,
        )

    cluster = [row(i, lon0 - 0.001, lat0, "110106", TAIPINGQIAO) for i in range(4)]
    single = row(9, lon0 + 0.001, lat0, "110102", GUANGWAI)
    Complaint.objects.bulk_create([*cluster, single])
    return {"z": z, "x": x, "y": y, "cluster": cluster, "single": single}


def tile_features(response) -> list[dict]:
    if response.status_code == 204:
        return []
    assert response.status_code == 200
    layers = mapbox_vector_tile.decode(response.content)
    return layers.get("complaints", {}).get("features", [])


def points_and_cells(features) -> tuple[set[int], list[int]]:
    points = {f["id"] for f in features if f["geometry"]["type"] == "Point"}
    cells = sorted(f["properties"]["complaints"] for f in features if f["geometry"]["type"] != "Point")
    return points, cells


def assert_private(response) -> None:
    assert response["Cache-Control"].startswith("private")
    assert {"Cookie", "Authorization"} <= {v.strip() for v in response["Vary"].split(",")}
    assert "Access-Control-Allow-Origin" not in response


def test_anonymous_high_zoom_tiles_hold_counts_only_never_a_small_cell(tile_spot):
    url = "/tiles/complaints/{z}/{x}/{y}.pbf".format(**tile_spot)
    response = Client().get(url)
    assert_private(response)
    points, cells = points_and_cells(tile_features(response))
    assert points == set()  # no complaint of its own
    assert cells == [4]  # the cluster; the single complaint (1 < 3) is left out
    assert all(n >= tile_layers.DEFAULT_MIN_PUBLIC_CELL_COUNT for n in cells)
    # Lower zooms too: hexagon counts, none under the threshold.
    for z in (14, 15):
        x, y = tile_of(tile_spot["single"].location.x, tile_spot["single"].location.y, z)
        _, cells = points_and_cells(tile_features(Client().get(f"/tiles/complaints/{z}/{x}/{y}.pbf")))
        assert cells and min(cells) >= 3


def test_the_public_cell_threshold_is_a_setting(tile_spot, settings):
    settings.SHAOZI = {**settings.SHAOZI, "MIN_PUBLIC_CELL_COUNT": 1}
    url = "/tiles/complaints/{z}/{x}/{y}.pbf".format(**tile_spot)
    points, cells = points_and_cells(tile_features(Client().get(url)))
    assert points == set() and cells == [1, 4]


# role: (points seen, hexagon counts seen) in the tile of `tile_spot`
TILE_READS = {
    "admin": ("all", []),
    "planner": ("all", []),
    "api_client": ("all", []),
    "guangwai": ("single", [4]),
    "xicheng": ("single", [4]),
    "taipingqiao": ("cluster", []),
    "fengtai": ("cluster", []),
    "xueyuanlu": ("none", [4]),
    "xicheng_cgw": ("none", [4]),
}


@pytest.mark.parametrize("role", sorted(TILE_READS))
def test_staff_tiles_hold_points_only_within_their_scope(users, tile_spot, role):
    client = Client()
    client.force_login(users[role])
    url = "/tiles/complaints/{z}/{x}/{y}.pbf".format(**tile_spot)
    response = client.get(url)
    assert_private(response)
    points, cells = points_and_cells(tile_features(response))
    cluster = {c.pk for c in Complaint.objects.filter(external_id__startswith="scope-tile-")} - {
        Complaint.objects.get(external_id="scope-tile-9").pk
    }
    single = {Complaint.objects.get(external_id="scope-tile-9").pk}
    seen, counts = TILE_READS[role]
    assert points == {"all": cluster | single, "single": single, "cluster": cluster, "none": set()}[seen]
    assert cells == counts
    # Two scopes never share a tile's ETag (a browser shared by two logins must not reuse the other's tile).
    assert response["ETag"] != Client().get(url)["ETag"]


def test_tiles_read_the_api_token_too(tile_spot):
    demo_users_create()
    url = "/tiles/complaints/{z}/{x}/{y}.pbf".format(**tile_spot)
    points, _ = points_and_cells(tile_features(Client(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}").get(url)))
    assert len(points) == 5
    assert Client(HTTP_AUTHORIZATION="Token wrong").get(url).status_code == 401


def test_public_layers_stay_public(db):
    x, y = tile_of(116.366, 39.915, 12)
    response = Client().get(f"/tiles/areas/12/{x}/{y}.pbf?level=district")
    assert response["Cache-Control"].startswith("public") and response["Access-Control-Allow-Origin"] == "*"


def test_charts_suppress_small_counts_for_the_public_and_are_private(users, tile_spot):
    url = "/map/charts/categories?from=2025-05-01&to=2025-05-31&area=110102"
    anonymous = Client().get(url)
    assert_private(anonymous)
    assert anonymous.json()["total"] is None and anonymous.json()["categories"] == []  # one complaint: suppressed
    planner = Client()
    planner.force_login(users["planner"])
    assert planner.get(url).json()["total"] == 1
    weekly = Client().get("/map/charts/weekly?from=2025-05-05&to=2025-05-11&area=110106").json()
    assert [w["count"] for w in weekly["weeks"]] == [4]
    weekly = Client().get("/map/charts/weekly?from=2025-05-05&to=2025-05-11&area=110102").json()
    assert [w["count"] for w in weekly["weeks"]] == [None]


# --- Open311 ------------------------------------------------------------------------------------------------------


def open311_request(client, complaint, **params) -> dict:
    detail = client.get(f"/open311/v2/requests/{complaint.external_id}.json", params).json()[0]
    listed = client.get("/open311/v2/requests.json", params).json()
    assert [r for r in listed if r["service_request_id"] == complaint.external_id] == [detail]
    return detail


def test_open311_shows_text_only_to_who_may_read_the_complaint(users):
    complaint = returned(GUANGWAI)
    public = open311_request(Client(), complaint)
    text = str(public)
    assert PHONE not in text and NOTE_PHONE not in text
    assert "description" not in public and "status_notes" not in public
    assert set(public) == {
        "service_request_id",
        "status",
        "service_name",
        "service_code",
        "requested_datetime",
        "updated_datetime",
        "address",
        "lat",
        "long",
    }
    assert public["address"] == "西城区广安门外街道"
    assert public["lat"] == round(complaint.location.y, 3) and public["long"] == round(complaint.location.x, 3)
    # Staff whose scope covers it see it in full; staff of another area, and another client's api_key, do not.
    inside, outside = Client(), Client()
    inside.force_login(users["guangwai"])
    outside.force_login(users["haidian"])
    full = open311_request(inside, complaint)
    assert full["description"].endswith(PHONE) and NOTE_PHONE in full["status_notes"]
    assert full["lat"] == round(complaint.location.y, 7)
    assert "description" not in open311_request(outside, complaint)
    assert "description" not in open311_request(Client(), complaint, api_key=DEMO_API_TOKEN)
    # A client reads its own submissions in full.
    own = stored(GUANGWAI, by=users["api_client"])
    assert open311_request(Client(), own, api_key=DEMO_API_TOKEN)["description"].endswith(PHONE)
    assert "description" not in open311_request(Client(), own)
    assert Client().get("/open311/v2/requests.json", {"api_key": "wrong"}).status_code == 401


def test_open311_publishes_text_when_the_jurisdiction_says_so(settings):
    complaint = returned(GUANGWAI)
    settings.SHAOZI = {**settings.SHAOZI, "OPEN311_PUBLISH_TEXT": True}
    public = open311_request(Client(), complaint)
    assert public["description"].endswith(PHONE) and NOTE_PHONE in public["status_notes"]
    assert public["lat"] == round(complaint.location.y, 3)  # the position stays rounded


# --- joint cases, disputes, fix plans -------------------------------------------------------------------------------

# role: sees the case led by 广外 that summons 太平桥 and 西城区城管委 (list and detail alike)
CASE_READS = {
    "admin": True,
    "planner": True,
    "xicheng": True,
    "guangwai": True,
    "taipingqiao": True,  # summoned
    "xicheng_cgw": True,  # summoned
    "fengtai": False,  # the district of a summoned street is not a party
    "haidian": False,
    "xueyuanlu": False,
    "fengtai_cgw": False,
    "api_client": False,
}


@pytest.mark.parametrize("role", sorted(CASE_READS))
def test_joint_case_list_detail_board_and_map_agree(users, role):
    complaint = stored(GUANGWAI)
    case = services.whistle_blow(
        by=users["guangwai"],
        title="广外占道",
        leads=[GUANGWAI],
        summon=[TAIPINGQIAO, XICHENG_CGW],
        complaints=[complaint.pk],
    )
    client = as_user(users[role])
    listed = case.pk in {c["id"] for c in client.get(reverse("joint-case-list")).json()}
    detail = client.get(reverse("joint-case-detail", args=[case.pk])).status_code
    page = Client()
    page.force_login(users[role])
    on_board = f'data-case="{case.pk}"' in page.get(reverse("joint-case-board")).content.decode()
    on_map = page.get(reverse("map-joint-cases"))
    assert on_map["Cache-Control"] == "private, no-store"
    mapped = case.pk in {f["id"] for f in on_map.json()["features"]}
    expected = CASE_READS[role]
    assert (listed, detail, on_board, mapped) == (expected, 200 if expected else 403, expected, expected), role


# role: sees the dispute over the 广外/太平桥 building (list and detail, API and page)
DISPUTE_READS = {
    "admin": True,
    "planner": True,
    "xicheng": True,
    "fengtai": True,
    "guangwai": True,
    "taipingqiao": True,
    "haidian": False,
    "xueyuanlu": False,
    "xicheng_cgw": False,
    "fengtai_cgw": False,
    "api_client": False,
}


@pytest.mark.parametrize("role", sorted(DISPUTE_READS))
def test_dispute_list_and_detail_agree(users, role):
    from jurisdictions.disputes import dispute_open

    dispute = dispute_open(by=users["guangwai"], title="交界违建", building=Building.objects.get(code="SYN-B-0001"))
    client = as_user(users[role])
    listed = dispute.pk in {f["id"] for f in client.get(reverse("dispute-list")).json()["features"]}
    detail = client.get(reverse("dispute-detail", args=[dispute.pk])).status_code
    page = Client()
    page.force_login(users[role])
    expected = DISPUTE_READS[role]
    assert (listed, detail == 200, page.get(f"/disputes/{dispute.pk}/").status_code == 200) == (expected,) * 3


# role: reads the fix plan for a lot in 广外 that summons 西城区城管委
FIX_PLAN_READS = {
    "admin": True,
    "planner": True,
    "api_client": True,
    "xicheng": True,
    "guangwai": True,
    "xicheng_cgw": True,
    "fengtai": False,
    "haidian": False,
    "taipingqiao": False,
    "xueyuanlu": False,
    "fengtai_cgw": False,
}


def fix_plan():
    from hotspots.models import FixPlan, Parcel

    lon, lat = spot(GUANGWAI)
    lot = Parcel.objects.create(
        code=f"SCOPE-{uuid.uuid4().hex[:6]}",
        name="广外闲置地块",
        land_use="绿地",
        status="idle",
        area_m2=5200.0,
        street_code=GUANGWAI,
        street_name="广安门外街道",
        geom=MultiPolygon(Polygon.from_bbox((lon, lat, lon + 0.001, lat + 0.001)), srid=4326),
        synthetic=True,
    )
    return FixPlan.objects.create(
        parcel=lot,
        kind="community_sports_park",
        title="广外闲置地块改建社区体育公园",
        street_code=GUANGWAI,
        street_name="广安门外街道",
        district_code="110102",
        residents_served=1200.0,
        complaints=[{"ref": "C-1", "category_name": "违法建设"}],
        departments=[{"role": "city_management", "code": XICHENG_CGW, "name": "西城区城管委", "why": "违建"}],
    )


@pytest.mark.parametrize("role", sorted(FIX_PLAN_READS))
def test_fix_plan_list_detail_and_page_agree(users, role):
    plan = fix_plan()
    client = as_user(users[role])
    listed = plan.pk in {f["id"] for f in client.get(reverse("fix-plan-list")).json()["features"]}
    detail = client.get(reverse("fix-plan-detail", args=[plan.pk])).status_code
    page = Client()
    page.force_login(users[role])
    expected = FIX_PLAN_READS[role]
    status = 200 if expected else 403
    assert (listed, detail, page.get(f"/fix-plans/{plan.pk}/").status_code) == (expected, status, status), role


def test_fix_plans_need_a_login():
    plan = fix_plan()
    assert APIClient().get(reverse("fix-plan-list")).status_code == 401
    assert APIClient().get(reverse("fix-plan-detail", args=[plan.pk])).status_code == 401
    assert Client().get(f"/fix-plans/{plan.pk}/").status_code == 302


# --- the system principal ---------------------------------------------------------------------------------------


def test_a_planner_cannot_open_a_joint_case_through_a_fix_plan(users):
    plan = fix_plan()
    refused = as_user(users["planner"]).post(reverse("fix-plan-joint-case", args=[plan.pk]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert not JointCase.objects.exists()
    plan.refresh_from_db()
    assert plan.joint_case_ref == ""
    started = as_user(users["guangwai"]).post(reverse("fix-plan-joint-case", args=[plan.pk]))
    assert started.status_code == 200
    case = JointCase.objects.get()
    assert case.blown_by == users["guangwai"] and case.lead_codes == [GUANGWAI]


@pytest.mark.parametrize("by", [None, "admin", "manage.py complaints_import"])
def test_services_refuse_anything_but_a_user_or_the_system_principal(users, by):
    lon, lat = spot(GUANGWAI)
    with pytest.raises(TypeError, match="SystemPrincipal"):
        services.complaint_intake(data=IntakeData(category=CATEGORY, lon=lon, lat=lat), by=by)
    with pytest.raises(TypeError):
        services.joint_case_start(
            title="x", street_code=GUANGWAI, department_codes=[XICHENG_CGW], complaint_refs=[], by=by
        )
    assert not permissions.is_system(by)
    assert not Complaint.objects.exists() and not JointCase.objects.exists()


def test_the_system_principal_is_recorded_by_its_label(users):
    complaint = stored(GUANGWAI, by=SystemPrincipal("manage.py complaints_import"))
    assert complaint.history.first().by == "manage.py complaints_import"
    assert permissions.is_system(SYSTEM) and str(SYSTEM) == "system"
