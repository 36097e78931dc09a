"""Staff pages: login, the dispute queue by scope, the dispute page and its ruling form, the fix-plan page."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from jurisdictions.demo import DEMO_PASSWORD, demo_users_create
from jurisdictions.disputes import dispute_open
from jurisdictions.models import Building, Dispute, Ruling

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


@pytest.fixture
def dispute(users):
    """A 广外/太平桥 building dispute (西城 and 丰台 involved)."""
    return dispute_open(
        by=users["guangwai"], title="广外/太平桥交界违建归属", building=Building.objects.get(code="SYN-B-0001")
    )


def logged_in(username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    response = client.get(reverse("login"))
    token = response.cookies["csrftoken"].value
    response = client.post(
        reverse("login"), {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.mark.parametrize("path", ["/disputes/", "/disputes/1/"])
def test_pages_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_and_a_wrong_password(client, users):
    page = client.get(reverse("login")).content.decode()
    assert "工作人员登录" in page and "Staff login" in page
    response = client.post(reverse("login"), {"username": "xicheng", "password": "wrong"})
    assert response.status_code == 200
    assert 'id="login-error"' in response.content.decode()


def test_logout_ends_the_session(users):
    client = logged_in("xicheng")
    token = client.cookies["csrftoken"].value
    assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code in (200, 302)
    assert client.get("/disputes/").status_code == 302


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("admin", True),
        ("planner", True),
        ("xicheng", True),
        ("fengtai", True),
        ("haidian", False),
        ("guangwai", True),
        ("taipingqiao", True),
        ("xueyuanlu", False),
        ("xicheng_cgw", False),
        ("api_client", False),
    ],
)
def test_queue_shows_only_disputes_in_scope(dispute, username, sees):
    page = logged_in(username).get("/disputes/").content.decode()
    assert (f'data-dispute="{dispute.pk}"' in page) is sees
    assert ("广外/太平桥交界违建归属" in page) is sees


def test_queue_status_filter(dispute, users):
    client = logged_in("admin")
    assert f'data-dispute="{dispute.pk}"' in client.get("/disputes/?status=open").content.decode()
    assert f'data-dispute="{dispute.pk}"' not in client.get("/disputes/?status=ruled").content.decode()
    Dispute.objects.filter(pk=dispute.pk).update(status="ruled")
    assert f'data-dispute="{dispute.pk}"' not in client.get("/disputes/").content.decode()  # default: unresolved
    assert f'data-dispute="{dispute.pk}"' in client.get("/disputes/?status=ruled").content.decode()


def test_dispute_page_renders_the_evidence(dispute):
    response = logged_in("xicheng").get(f"/disputes/{dispute.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "广安门外街道" in page and "太平桥街道" in page
    assert 'id="evidence-map"' in page and "vendor/leaflet/leaflet.js" in page
    # Building shares from the snapshot (about 70 % in 广外), the verdict method and the boundary distances.
    shares = {s["code"]: s["share"] for s in dispute.evidence["building"]["shares"]}
    assert f"{round(shares[GUANGWAI] * 100)}" in page.split('id="shares"')[1].split("</table>")[0]
    assert "建筑物跨界占比" in page.split('id="evidence"')[1].split("</table>")[0]
    assert page.count("<tr>", page.index('id="distances"'), page.index('id="rules-nearby"')) >= 2
    assert 'id="ruling-form"' in page and f"/desk/disputes/{dispute.pk}/ruling" in page
    assert "发起争议" in page.split('id="audit"')[1]  # audit trail, in words


def test_dispute_page_outside_scope_is_refused(dispute):
    response = logged_in("haidian").get(f"/disputes/{dispute.pk}/")
    assert response.status_code == 403
    assert "outside your scope" in response.content.decode()
    assert logged_in("admin").get("/disputes/999999/").status_code == 404


def post_ruling(client: Client, dispute: Dispute, lead: str = GUANGWAI):
    """What the page's form sends: JSON with the session cookie and the CSRF token from the page."""
    page = client.get(f"/disputes/{dispute.pk}/")
    token = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
    return client.post(
        reverse("dispute-ruling", args=[dispute.pk]),
        {"lead_code": lead, "co_handler_codes": [TAIPINGQIAO], "reason": "广外牵头", "make_rule": True},
        content_type="application/json",
        headers={"X-CSRFToken": token.value},
    )


def test_ruling_form_post_works_for_an_allowed_user_and_the_page_shows_it(dispute):
    client = logged_in("xicheng")
    response = post_ruling(client, dispute)
    assert response.status_code == 200, response.json()
    assert response.json()["properties"]["ruling"]["missing_confirmations"] == ["110106"]
    page = client.get(f"/disputes/{dispute.pk}/").content.decode()
    rulings = page.split('id="rulings"')[1].split("</table>")[0]
    assert "广外牵头" in rulings and "西城区（xicheng" in rulings
    assert "丰台区" in rulings.split('class="missing"')[1]  # the district still to confirm
    assert "提出裁定" in page.split('id="audit"')[1] and "广外牵头" in page.split('id="audit"')[1]


def test_ruling_post_without_the_csrf_token_is_refused(dispute):
    client = logged_in("xicheng")
    response = client.post(
        reverse("dispute-ruling", args=[dispute.pk]),
        {"lead_code": GUANGWAI, "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Ruling.objects.exists()


@pytest.mark.parametrize("username", ["guangwai", "planner"])
def test_ruling_form_post_is_refused_with_the_reason_for_a_disallowed_user(dispute, username):
    client = logged_in(username)
    assert client.get(f"/disputes/{dispute.pk}/").status_code == 200  # may read it …
    response = post_ruling(client, dispute)  # … but not rule
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "only staff of the districts involved" in error["message"]
    assert not Ruling.objects.exists()


def test_fix_plan_page_is_printable_and_shows_the_plan(client, users):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from hotspots.models import FixPlan, Parcel

    lot = Parcel.objects.create(
        code="SYN-P-TEST",
        name="试验闲置地块",
        land_use="绿地",
        status="idle",
        area_m2=5200.0,
        street_code=GUANGWAI,
        street_name="广安门外街道",
        geom=MultiPolygon(Polygon.from_bbox((116.330, 39.890, 116.331, 39.891)), srid=4326),
        synthetic=True,
    )
    plan = FixPlan.objects.create(
        parcel=lot,
        kind="community_sports_park",
        title="试验地块改建社区体育公园",
        street_code=GUANGWAI,
        street_name="广安门外街道",
        district_code="110102",
        residents_served=12345.6,
        complaints=[{"ref": "C-1", "category_name": "违法建设"}, {"ref": "C-2", "category_name": "环境卫生"}],
        departments=[{"role": "city_management", "code": "110102.city_management", "name": "西城区城管委", "why": "x"}],
    )
    assert client.get(f"/fix-plans/{plan.pk}/").status_code == 302  # login required
    assert logged_in("xueyuanlu").get(f"/fix-plans/{plan.pk}/").status_code == 403  # another street's plan
    client = logged_in("guangwai")
    response = client.get(f"/fix-plans/{plan.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "试验地块改建社区体育公园" in page and "广安门外街道" in page
    assert "12346" in page  # residents served
    assert "西城区城管委" in page and "C-2" in page
    assert 'media="print"' in page and "maps/print.css" in page
    assert client.get("/fix-plans/999999/").status_code == 404


def test_fix_plan_page_summarises_many_complaints(users):
    import datetime as dt

    from django.contrib.gis.geos import MultiPolygon, Polygon

    from hotspots.models import FixPlan, Parcel

    lot = Parcel.objects.create(
        code="SYN-P-MANY",
        name="诉求很多的地块",
        land_use="绿地",
        status="idle",
        area_m2=5200.0,
        street_code=GUANGWAI,
        geom=MultiPolygon(Polygon.from_bbox((116.330, 39.890, 116.331, 39.891)), srid=4326),
    )
    start = dt.datetime(2024, 1, 1, 2, tzinfo=dt.UTC)
    complaints = [
        {
            "ref": f"R-{i:03d}",
            "category_code": "010201" if i % 3 else "020301",
            "category_name": "垃圾堆放" if i % 3 else "道路破损",
            "received_at": (start + dt.timedelta(days=2 * i)).isoformat(),
            "distance_m": 10.0,
        }
        for i in range(438)
    ]
    plan = FixPlan.objects.create(
        parcel=lot,
        kind="community_sports_park",
        title="多诉求",
        street_code=GUANGWAI,
        residents_served=100.0,
        complaints=complaints,
    )
    page = logged_in("guangwai").get(f"/fix-plans/{plan.pk}/").content.decode()
    table = page.split('id="plan-complaints"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 21  # the header and the 20 most recent
    assert "R-437" in table and "R-417" not in table and "R-000" not in page
    by_category = page.split('id="plan-by-category"', 1)[1].split("</table>", 1)[0]
    assert '垃圾堆放</td><td class="num">292' in by_category and '道路破损</td><td class="num">146' in by_category
    by_month = page.split('id="plan-by-month"', 1)[1].split("</table>", 1)[0]
    assert "<th>2024</th>" in by_month and "<th>2026</th>" in by_month
    assert "?download=true" in page  # the full list
