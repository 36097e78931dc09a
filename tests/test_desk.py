"""The staff desk (工作台): every desk POST is refused (403, nothing written) to a user outside its scope, done for a
user inside it; pages offer only the actions the user may take; the ruling's reasons are kept; the demo loader."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from complaints import services
from complaints.desk_demo import desk_demo_load
from complaints.models import Complaint, JointCase, ReturnRequest, StatusChange
from complaints.permissions import SYSTEM
from jurisdictions.demo import demo_users_create
from jurisdictions.disputes import dispute_open, dispute_rule
from jurisdictions.models import Area, AuditEntry, Building, Dispute, Ruling, RulingConfirmation

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"
POINT = (116.3147, 39.8789)  # the straddling building's point on surface, about (116.31471, 39.87890)


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def client_for(username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username=username))
    client.get(reverse("desk"))  # the CSRF cookie, as a browser gets it from the page
    return client


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def intake(external_id: str, category: str = "010201", lon: float = 116.34, lat: float = 39.885) -> Complaint:
    data = services.IntakeData(category=category, lon=lon, lat=lat, external_id=external_id, description="测试")
    return services.complaint_intake(data=data, by=SYSTEM).complaint


@pytest.fixture
def complaint(users):
    """A complaint dispatched to 广外 (lead) with a copy for 西城区城管委 (垃圾堆放 → city_management)."""
    c = intake("DESK-T-1")
    assert c.lead_code == GUANGWAI and c.status == "dispatched"
    return c


def snapshot(complaint: Complaint) -> tuple:
    complaint.refresh_from_db()
    return (complaint.status, complaint.lead_code, StatusChange.objects.filter(complaint=complaint).count())


@pytest.mark.parametrize("username", ["xueyuanlu", "planner", "taipingqiao", "haidian"])
@pytest.mark.parametrize(
    ("route", "data"),
    [
        ("desk-complaint-move/accepted", {}),
        ("desk-complaint-move/resolved", {"note": "办结"}),
        ("desk-complaint-return", {"reason": "not_our_area", "note": "不是我们的"}),
        ("desk-complaint-callback", {"resolved": "yes", "satisfaction": "satisfied"}),
        ("desk-complaint-dispute", {"note": "复核"}),
    ],
)
def test_complaint_posts_outside_scope_are_refused_and_change_nothing(complaint, username, route, data):
    name, *rest = route.split("/")
    url = reverse(name, args=[complaint.pk, *rest])
    before = snapshot(complaint)
    response = post(client_for(username), url, data)
    assert response.status_code == 403, response.content.decode()[:300]
    assert 'id="denied"' in response.content.decode()
    assert snapshot(complaint) == before
    assert not ReturnRequest.objects.filter(complaint=complaint).exists()
    assert not Dispute.objects.exists()


def test_the_unit_accepts_notes_progress_and_resolves_through_the_desk(complaint):
    client = client_for("guangwai")
    page = client.get(reverse("desk-complaint", args=[complaint.pk])).content.decode()
    assert 'id="form-accept"' in page and 'id="form-resolve"' not in page
    assert post(client, reverse("desk-complaint-move", args=[complaint.pk, "accepted"])).status_code == 302
    assert (
        post(client, reverse("desk-complaint-move", args=[complaint.pk, "in_progress"]), {"note": "已到场"}).status_code
        == 302
    )
    assert (
        post(client, reverse("desk-complaint-move", args=[complaint.pk, "resolved"]), {"note": "已清运"}).status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    notes = list(complaint.history.values_list("note", flat=True))
    assert "已到场" in notes and "已清运" in notes
    page = client.get(reverse("desk-complaint", args=[complaint.pk])).content.decode()
    assert "已办结" in page  # nothing left to move for the street (it may still blow the whistle)
    assert not any(f'id="{form}"' in page for form in ("form-accept", "form-progress", "form-resolve", "form-callback"))
    # The hotline calls back: resolved and satisfied → closed with the rating.
    hotline = client_for("api_client")
    assert 'id="form-callback"' in hotline.get(reverse("desk-complaint", args=[complaint.pk])).content.decode()
    response = post(
        hotline,
        reverse("desk-complaint-callback", args=[complaint.pk]),
        {"resolved": "yes", "satisfaction": "basically"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.satisfaction) == ("closed", "basically")


def test_a_street_sees_no_action_it_may_not_take(complaint):
    page = client_for("planner").get(reverse("desk-complaint", args=[complaint.pk])).content.decode()
    assert 'id="no-actions"' in page and '<form method="post" action="/desk/complaints' not in page
    assert client_for("xueyuanlu").get(reverse("desk-complaint", args=[complaint.pk])).status_code == 403


def test_desk_post_without_csrf_is_refused(complaint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="guangwai"))
    assert client.post(reverse("desk-complaint-move", args=[complaint.pk, "accepted"])).status_code == 403
    assert snapshot(complaint)[0] == "dispatched"


def test_desk_lists_the_units_complaints_by_deadline(complaint):
    page = client_for("guangwai").get(reverse("desk")).content.decode()
    assert f'data-complaint="{complaint.pk}"' in page and "垃圾堆放" in page
    assert f'data-complaint="{complaint.pk}"' in client_for("xicheng_cgw").get(reverse("desk")).content.decode()
    assert f'data-complaint="{complaint.pk}"' not in client_for("xueyuanlu").get(reverse("desk")).content.decode()
    assert (
        f'data-complaint="{complaint.pk}"'
        not in client_for("guangwai").get(reverse("desk") + "?q=nothing").content.decode()
    )


@pytest.fixture
def returned(complaint, users):
    return services.complaint_return(
        complaint=complaint,
        reason="not_our_area",
        note="在太平桥一侧",
        suggested_code=TAIPINGQIAO,
        by=users["guangwai"],
    )


@pytest.mark.parametrize("username", ["guangwai", "fengtai", "planner", "xicheng_cgw"])
@pytest.mark.parametrize("decision", ["redispatched", "rejected", "disputed"])
def test_return_review_outside_scope_is_refused(returned, username, decision):
    response = post(
        client_for(username),
        reverse("desk-return-review", args=[returned.pk]),
        {"decision": decision, "to": TAIPINGQIAO, "note": "x"},
    )
    assert response.status_code == 403
    returned.refresh_from_db()
    assert returned.decision == "pending" and not Dispute.objects.exists()


def test_the_district_reviews_the_return_from_its_queue(returned):
    client = client_for("xicheng")
    assert f'data-return="{returned.pk}"' in client.get(reverse("desk")).content.decode()
    page = client.get(reverse("desk-complaint", args=[returned.complaint_id])).content.decode()
    assert 'id="form-review"' in page
    other = Area.objects.current().filter(parent__code="110102").exclude(code=GUANGWAI).order_by("code").first().code
    response = post(
        client,
        reverse("desk-return-review", args=[returned.pk]),
        {"decision": "redispatched", "to": other, "note": "改派"},
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get(pk=returned.complaint_id)
    assert complaint.lead_code == other and complaint.status == "dispatched"


@pytest.fixture
def dispute(users):
    return dispute_open(by=users["guangwai"], title="交界违建", building=Building.objects.get(code="SYN-B-0001"))


@pytest.mark.parametrize(
    ("username", "page_status"),
    [("guangwai", 200), ("taipingqiao", 200), ("planner", 200), ("haidian", 403), ("xicheng_cgw", 403)],
)
def test_dispute_posts_outside_scope_are_refused(dispute, username, page_status):
    client = client_for(username)
    for url, data in [
        (reverse("desk-dispute-status", args=[dispute.pk]), {"status": "under_review"}),
        (reverse("desk-dispute-ruling", args=[dispute.pk]), {"lead_code": GUANGWAI, "reason": "x", "make_rule": "1"}),
    ]:
        assert post(client, url, data).status_code == 403
    dispute.refresh_from_db()
    assert dispute.status == "open" and not Ruling.objects.exists()
    page = client.get(reverse("dispute-page", args=[dispute.pk]))
    assert page.status_code == page_status  # the contested streets and city-wide roles read it; others may not
    html = page.content.decode()
    assert 'id="ruling-form"' not in html and 'id="confirm-form"' not in html and 'id="form-under-review"' not in html


def test_dispute_new_outside_scope_is_refused(users):
    response = post(client_for("xueyuanlu"), reverse("desk-dispute-new"), {"title": "x", "building": "SYN-B-0001"})
    assert response.status_code == 403 and not Dispute.objects.exists()
    response = post(client_for("guangwai"), reverse("desk-dispute-new"), {"title": "交界", "building": "SYN-B-0001"})
    assert response.status_code == 302 and Dispute.objects.count() == 1


def test_propose_then_confirm_with_one_button_keeps_both_reasons(dispute, users):
    xicheng, fengtai = client_for("xicheng"), client_for("fengtai")
    page = xicheng.get(reverse("dispute-page", args=[dispute.pk])).content.decode()
    assert 'id="ruling-form"' in page and 'id="form-under-review"' in page
    response = post(
        xicheng,
        reverse("desk-dispute-ruling", args=[dispute.pk]),
        {"lead_code": GUANGWAI, "co_handler_codes": [TAIPINGQIAO, GUANGWAI], "reason": "七成在广外", "make_rule": "1"},
    )
    assert response.status_code == 302
    ruling = Ruling.objects.get()
    assert ruling.co_handler_codes == [TAIPINGQIAO]  # the lead is never its own co-handler
    page = fengtai.get(reverse("dispute-page", args=[dispute.pk])).content.decode()
    assert 'id="confirm-form"' in page and f'value="{ruling.pk}"' in page
    assert 'id="confirm-form"' not in xicheng.get(reverse("dispute-page", args=[dispute.pk])).content.decode()
    response = post(
        fengtai, reverse("desk-dispute-ruling", args=[dispute.pk]), {"confirm": ruling.pk, "reason": "丰台同意"}
    )
    assert response.status_code == 302
    ruling.refresh_from_db()
    dispute.refresh_from_db()
    assert ruling.status == "confirmed" and dispute.status == "ruled" and ruling.rule_id
    assert RulingConfirmation.objects.get(ruling=ruling, district_code="110106").reason == "丰台同意"
    reasons = [
        e.changes.get("reason") for e in AuditEntry.objects.filter(action__in=["ruling.propose", "ruling.confirm"])
    ]
    assert "七成在广外" in reasons and "丰台同意" in reasons
    page = fengtai.get(reverse("dispute-page", args=[dispute.pk])).content.decode()
    assert "丰台同意" in page and "已生效" in page


def test_confirming_through_the_api_keeps_the_second_reason(dispute, users):
    dispute_rule(dispute=dispute, by=users["xicheng"], lead_code=GUANGWAI, co_handler_codes=[TAIPINGQIAO], reason="甲")
    dispute_rule(dispute=dispute, by=users["fengtai"], lead_code=GUANGWAI, co_handler_codes=[TAIPINGQIAO], reason="乙")
    assert sorted(RulingConfirmation.objects.values_list("reason", flat=True)) == ["乙", "甲"]


@pytest.fixture
def case(users):
    return services.whistle_blow(
        by=users["guangwai"], title="联合拆除", leads=[GUANGWAI], summon=["110102.city_management", TAIPINGQIAO]
    )


@pytest.mark.parametrize(
    ("username", "route", "data"),
    [
        ("taipingqiao", "desk-case-check-in", {"party": "110102.city_management"}),
        ("fengtai_cgw", "desk-case-check-in", {"party": "110102.city_management"}),
        ("haidian", "desk-case-note", {"text": "x"}),
        ("planner", "desk-case-note", {"text": "x"}),
        ("xicheng_cgw", "desk-case-task", {"text": "x"}),
        ("xicheng_cgw", "desk-case-close", {"note": "x"}),
        ("taipingqiao", "desk-case-close", {"note": "x"}),
    ],
)
def test_joint_case_posts_outside_scope_are_refused(case, username, route, data):
    assert post(client_for(username), reverse(route, args=[case.pk]), data).status_code == 403
    case.refresh_from_db()
    assert case.status == "open" and not case.notes.exists() and not case.tasks.exists()
    assert not case.parties.filter(checked_in_at__isnull=False).exists()


def test_check_in_task_note_and_close_through_the_desk(case):
    department = client_for("xicheng_cgw")
    board = department.get(reverse("joint-case-board")).content.decode()
    assert "check-in" in board and 'value="110102.city_management"' in board
    assert (
        post(department, reverse("desk-case-check-in", args=[case.pk]), {"party": "110102.city_management"}).status_code
        == 302
    )
    street = client_for("guangwai")
    assert (
        post(street, reverse("desk-case-task", args=[case.pk]), {"text": "拆除", "assignee": TAIPINGQIAO}).status_code
        == 302
    )
    assert post(department, reverse("desk-case-note", args=[case.pk]), {"text": "已到场"}).status_code == 302
    board = street.get(reverse("joint-case-board")).content.decode()
    assert "拆除" in board and "已到场" in board
    assert post(street, reverse("desk-case-close", args=[case.pk]), {"note": "完成"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "closed"


def test_whistle_from_a_complaint(complaint):
    assert (
        post(
            client_for("planner"), reverse("desk-whistle"), {"title": "x", "summon": ["110102.city_management"]}
        ).status_code
        == 403
    )
    response = post(
        client_for("guangwai"),
        reverse("desk-whistle"),
        {"title": "垃圾联合整治", "summon": ["110102.city_management"], "complaints": [complaint.pk]},
    )
    assert response.status_code == 302
    assert JointCase.objects.get().complaint_ids == [complaint.pk]


def test_admin_demo_account_may_use_the_admin(users):
    client = Client()
    client.force_login(users["admin"])
    page = client.get("/admin/")
    assert page.status_code == 200 and "You don’t have permission" not in page.content.decode()


def test_desk_demo_gives_every_account_work_and_loads_once(users):
    assert desk_demo_load() is True
    assert desk_demo_load() is False
    waiting = {
        "guangwai": "DESK-DEMO-01",
        "xueyuanlu": "DESK-DEMO-04",
        "xicheng_cgw": "DESK-DEMO-01",
        "api_client": "DESK-DEMO-08",
    }
    for username, external_id in waiting.items():
        assert external_id in client_for(username).get(reverse("desk")).content.decode(), username
    assert "data-return=" in client_for("xicheng").get(reverse("desk")).content.decode()
    dispute = Dispute.objects.get(origin="return")
    assert 'id="confirm-form"' in client_for("fengtai").get(reverse("dispute-page", args=[dispute.pk])).content.decode()
    board = client_for("fengtai_cgw").get(reverse("joint-case-board")).content.decode()
    assert 'value="110106.city_management"' in board


def test_progress_notes_are_added_any_number_of_times_by_the_holding_unit_only(complaint, users):
    from jurisdictions.permissions import ScopeDenied

    client = client_for("guangwai")
    move = reverse("desk-complaint-move", args=[complaint.pk, "in_progress"])
    with pytest.raises(services.ComplaintError):  # not taken on yet: accept first
        services.complaint_note_add(complaint=complaint, by=users["guangwai"], note="太早")
    assert post(client, reverse("desk-complaint-move", args=[complaint.pk, "accepted"])).status_code == 302
    assert post(client, move, {"note": "已到场"}).status_code == 302
    page = client.get(reverse("desk-complaint", args=[complaint.pk])).content.decode()
    assert 'id="form-progress"' in page  # still offered once in progress
    for note in ("已联系物业", "清运车辆已安排"):
        assert post(client, move, {"note": note}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    notes = list(
        complaint.history.filter(from_status="in_progress", to_status="in_progress").values_list("note", flat=True)
    )
    assert notes == ["已联系物业", "清运车辆已安排"]
    before = snapshot(complaint)
    for username in ("xueyuanlu", "planner", "taipingqiao", "api_client"):
        assert post(client_for(username), move, {"note": "不是我们的"}).status_code == 403, username
        with pytest.raises(ScopeDenied):
            services.complaint_note_add(complaint=complaint, by=users[username], note="x")
    with pytest.raises(TypeError):
        services.complaint_note_add(complaint=complaint, by="guangwai", note="x")
    assert snapshot(complaint) == before
    # The district of the holding street may add notes too (check_handler), and an empty note is refused.
    services.complaint_note_add(complaint=complaint, by=users["xicheng"], note="区里已督办")
    with pytest.raises(services.ComplaintError):
        services.complaint_note_add(complaint=complaint, by=users["guangwai"], note="  ")
    assert snapshot(complaint)[2] == before[2] + 1


def test_desk_street_and_district_filters_narrow_within_scope(complaint):
    from complaints.desk_demo import XUEYUANLU, _inside

    point = _inside(XUEYUANLU, 0.002)
    other = intake("DESK-T-XYL", lon=point.x, lat=point.y)
    assert other.lead_code == XUEYUANLU
    planner = client_for("planner")
    mine, theirs = f'data-complaint="{complaint.pk}"', f'data-complaint="{other.pk}"'
    page = planner.get(reverse("desk")).content.decode()
    assert mine in page and theirs in page
    page = planner.get(reverse("desk") + f"?street={GUANGWAI}&status=all").content.decode()
    assert mine in page and theirs not in page and 'id="area-filter-street"' in page and "广安门外" in page
    page = planner.get(reverse("desk") + f"?district={XUEYUANLU[:6]}").content.decode()
    assert mine not in page and theirs in page
    # Never wider than the user's own queue: 广外 asking for 学院路 sees nothing of it.
    page = client_for("guangwai").get(reverse("desk") + f"?street={XUEYUANLU}").content.decode()
    assert theirs not in page and mine not in page
    assert mine in client_for("guangwai").get(reverse("desk") + "?street=bogus").content.decode()


@pytest.fixture
def lot(users):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from hotspots.models import Parcel

    return Parcel.objects.create(
        code="SYN-P-DESK",
        name="工作台试验地块",
        land_use="绿地",
        status="idle",
        area_m2=5200.0,
        street_code=GUANGWAI,
        street_name="广安门外街道",
        district_code="110102",
        geom=MultiPolygon(Polygon.from_bbox((116.330, 39.890, 116.331, 39.891)), srid=4326),
        synthetic=True,
    )


def test_fix_plans_are_made_through_the_service_which_checks_who_may(lot, users):
    from hotspots import services as hotspot_services
    from hotspots.models import FixPlan
    from jurisdictions.permissions import ScopeDenied

    for username in ("xueyuanlu", "haidian", "xicheng_cgw", "api_client"):
        with pytest.raises(ScopeDenied):
            hotspot_services.fix_plan_create(parcel=lot, by=users[username])
        response = post(client_for(username), reverse("desk-fix-plan-new"), {"parcel": lot.code})
        assert response.status_code == 403 and 'id="denied"' in response.content.decode(), username
    with pytest.raises(TypeError):
        hotspot_services.fix_plan_create(parcel=lot, by="planner")
    assert not FixPlan.objects.exists()
    # The API keeps its answer: 403 in the project's error shape, through the service's ScopeDenied.
    api = Client()
    api.force_login(users["xueyuanlu"])
    refused = api.post("/api/v1/fix-plans", {"parcel": lot.code}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    response = post(client_for("planner"), reverse("desk-fix-plan-new"), {"parcel": lot.code})
    plan = FixPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("fix-plan-page", args=[plan.pk])
    assert (plan.by, plan.street_code) == ("planner", GUANGWAI)
    assert hotspot_services.fix_plan_create(parcel=lot, by=users["guangwai"]).by == "guangwai"


def test_whistle_from_a_fix_plan_page(lot, users):
    from hotspots import services as hotspot_services

    plan = hotspot_services.fix_plan_create(parcel=lot, by=SYSTEM)
    plan.departments = [{"role": "city_management", "code": "110102.city_management", "name": "西城区城管委"}]
    plan.save()
    page_url, whistle_url = reverse("fix-plan-page", args=[plan.pk]), reverse("desk-fix-plan-whistle", args=[plan.pk])
    for username, page_status in (("planner", 200), ("taipingqiao", 403), ("xicheng_cgw", 200)):
        client = client_for(username)
        page = client.get(page_url)
        assert page.status_code == page_status, username
        assert 'id="form-plan-whistle"' not in page.content.decode(), username
        assert post(client, whistle_url).status_code == 403, username
    plan.refresh_from_db()
    assert not plan.joint_case_ref and not JointCase.objects.exists()
    client = client_for("guangwai")
    assert 'id="form-plan-whistle"' in client.get(page_url).content.decode()
    response = post(client, whistle_url)
    case = JointCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("joint-case-page", args=[case.pk])
    assert [p.code for p in case.parties.all() if p.code == "110102.city_management"]
    page = client.get(page_url).content.decode()
    assert 'id="form-plan-whistle"' not in page and reverse("joint-case-page", args=[case.pk]) in page


def test_anonymous_desk_posts_go_to_the_login_page_and_write_nothing(users):
    from django.urls import get_resolver

    from complaints.models import StatusChange
    from hotspots.models import FixPlan
    from jurisdictions.models import Dispute

    complaint = intake("ANON-1")
    before = (StatusChange.objects.count(), Dispute.objects.count(), JointCase.objects.count(), FixPlan.objects.count())
    names = sorted(n for n in get_resolver().reverse_dict if isinstance(n, str) and n.startswith("desk-"))
    assert len(names) >= 15
    client = Client()
    for name in names:
        pattern = get_resolver().reverse_dict.getlist(name)[0][0][0]
        args = {param: (complaint.pk if param == "pk" else 1) for param in pattern[1]}
        if "to" in args:
            args["to"] = "accepted"
        response = client.post(reverse(name, kwargs=args), {"note": "x", "status": "closed", "lead_code": GUANGWAI})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), name
    after = (StatusChange.objects.count(), Dispute.objects.count(), JointCase.objects.count(), FixPlan.objects.count())
    assert after == before


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (None, 401),
        ("planner", 200),
        ("admin", 200),
        ("guangwai", 200),
        ("xicheng", 200),
        ("taipingqiao", 403),
        ("fengtai", 403),
        ("haidian", 403),
        ("xicheng_cgw", 403),
    ],
)
def test_who_may_move_a_fix_plan_is_its_streets_staff_and_the_city(lot, users, username, expected):
    from rest_framework.test import APIClient

    from hotspots import services as hotspot_services

    plan = hotspot_services.fix_plan_create(parcel=lot, by=SYSTEM)
    before = plan.status
    client = APIClient()
    if username:
        client.force_authenticate(users[username])
    response = client.post(f"/api/v1/fix-plans/{plan.pk}/status", {"status": "approved"}, format="json")
    assert response.status_code == expected, response.content[:300]
    plan.refresh_from_db()
    assert (plan.status != before) == (expected == 200)


# --- what a desk write reaches: the right person inside the case, the area, the ruling -------------------------


def test_a_task_is_marked_done_by_its_assignee_not_by_another_party(case):
    street = client_for("guangwai")
    post(street, reverse("desk-case-task", args=[case.pk]), {"text": "清运", "assignee": TAIPINGQIAO})
    task = case.tasks.get()
    url = reverse("desk-case-task-done", args=[case.pk, task.pk])
    for username in ["xicheng_cgw", "xueyuanlu", "haidian"]:  # a summoned department, then two outsiders
        assert post(client_for(username), url).status_code == 403, username
        task.refresh_from_db()
        assert not task.done
    assert post(client_for("taipingqiao"), url).status_code == 302
    task.refresh_from_db()
    assert task.done and task.done_by_label == "taipingqiao"


def test_a_whistle_may_not_name_another_area_as_lead(users):
    data = {"title": "越界吹哨", "leads": [TAIPINGQIAO], "summon": ["110102.city_management"]}
    assert post(client_for("guangwai"), reverse("desk-whistle"), data).status_code == 403
    data["leads"] = ["110108"]  # 海淀区, from a 西城 district account
    assert post(client_for("xicheng"), reverse("desk-whistle"), data).status_code == 403
    assert not JointCase.objects.exists()


def test_only_a_party_district_confirms_a_proposed_ruling(dispute, users):
    dispute_rule(dispute=dispute, by=users["xicheng"], lead_code=GUANGWAI, co_handler_codes=[TAIPINGQIAO], reason="甲")
    ruling = Ruling.objects.get()
    url = reverse("desk-dispute-ruling", args=[dispute.pk])
    for username in ["haidian", "guangwai", "taipingqiao", "xicheng_cgw", "planner"]:
        response = post(client_for(username), url, {"confirm": ruling.pk, "reason": "越权确认"})
        assert response.status_code == 403, username
    ruling.refresh_from_db()
    dispute.refresh_from_db()
    assert ruling.status == "proposed" and dispute.status != "ruled" and not ruling.rule_id
    assert not RulingConfirmation.objects.filter(reason="越权确认").exists()


def test_the_handling_street_may_not_record_the_hotlines_call_back(complaint):
    street = client_for("guangwai")
    post(street, reverse("desk-complaint-move", args=[complaint.pk, "accepted"]))
    post(street, reverse("desk-complaint-move", args=[complaint.pk, "resolved"]), {"note": "已清理"})
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    before = snapshot(complaint)
    url = reverse("desk-complaint-callback", args=[complaint.pk])
    response = post(street, url, {"resolved": "yes", "satisfaction": "satisfied"})
    assert response.status_code == 403
    assert snapshot(complaint) == before and complaint.satisfaction == ""
    assert post(client_for("admin"), url, {"resolved": "yes", "satisfaction": "satisfied"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.satisfaction == "satisfied"


def test_a_dispute_by_point_needs_a_stake_in_that_ground(users):
    far = {"title": "别处的点", "lon": "116.3500", "lat": "39.9950"}  # 海淀 学院路 area, far from 广外
    assert post(client_for("guangwai"), reverse("desk-dispute-new"), far).status_code == 403
    assert not Dispute.objects.exists()
    response = post(client_for("xueyuanlu"), reverse("desk-dispute-new"), far)
    assert response.status_code == 302 and Dispute.objects.count() == 1
