"""Joint cases (街乡吹哨、部门报到): whistle, check-ins with deadlines, notes, tasks, links, scopes, audit trail."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from complaints import selectors, services
from complaints.models import JointCase, JointParty
from complaints.permissions import SYSTEM
from complaints.services import ComplaintError, IntakeData
from hotspots.adapters import joint_case_start as adapter_joint_case_start
from jurisdictions.demo import demo_users_create
from jurisdictions.models import AuditEntry
from jurisdictions.permissions import ScopeDenied, scope_for
from jurisdictions.selectors import jurisdiction_lookup

pytestmark = pytest.mark.django_db

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"
XICHENG_CGW, FENGTAI_CGW = "110102.city_management", "110106.city_management"
HAIDIAN_MARKET, HAIDIAN_CGW, HAIDIAN_PLANNING = "110108.market_supervision", "110108.city_management", "110108.planning"
YICHENG = Point(116.3525, 39.9985, srid=4326)  # the idle 逸成 land, 学院路街道


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def users():
    demo_users_create()
    return {u.username: u for u in User.objects.filter(staff__demo=True)}


def xueyuanlu() -> str:
    return jurisdiction_lookup(point=YICHENG).lead.code


def as_user(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    client.default_format = "json"
    return client


def idle_land_case(users, **extra) -> JointCase:
    """学院路 blows the whistle on the idle land: 区市场监管局, 区城管委, 区规自分局 are summoned."""
    return services.whistle_blow(
        by=users["xueyuanlu"],
        title="逸成闲置地扬尘与违建",
        leads=[xueyuanlu()],
        summon=[HAIDIAN_MARKET, HAIDIAN_CGW, HAIDIAN_PLANNING],
        **extra,
    )


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "joint-case-list", []),
        ("post", "joint-case-list", []),
        ("get", "joint-case-detail", [1]),
        ("post", "joint-case-check-ins", [1]),
        ("post", "joint-case-notes", [1]),
        ("post", "joint-case-tasks", [1]),
        ("patch", "joint-case-task", [1, 1]),
        ("post", "joint-case-status", [1]),
    ],
)
def test_anonymous_requests_get_401(method, name, args):
    response = getattr(APIClient(), method)(reverse(name, args=args), {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_whistle_summons_parties_with_a_deadline_and_shows_who_has_not_come(users):
    before = timezone.now()
    case = idle_land_case(users, check_in_hours=4)
    parties = {p.code: p for p in case.parties.all()}
    assert set(parties) == {HAIDIAN_MARKET, HAIDIAN_CGW, HAIDIAN_PLANNING}
    assert parties[HAIDIAN_MARKET].kind == "department" and parties[HAIDIAN_MARKET].name == "海淀区市场监督管理局"
    for party in parties.values():
        assert dt.timedelta(hours=4) <= party.deadline_at - before < dt.timedelta(hours=4, minutes=1)
    services.check_in(case=case, by=User.objects.get(username="admin"), party=HAIDIAN_CGW)
    assert [m["code"] for m in selectors.joint_case_missing(case)] == [HAIDIAN_MARKET, HAIDIAN_PLANNING]
    assert all(m["overdue"] is False for m in selectors.joint_case_missing(case))


def test_a_late_check_in_is_kept_and_marked_late(users):
    case = idle_land_case(users)
    JointParty.objects.filter(case=case).update(deadline_at=timezone.now() - dt.timedelta(hours=1))
    assert [m["overdue"] for m in selectors.joint_case_missing(case)] == [True, True, True]
    party = services.check_in(case=case, by=users["admin"], party=HAIDIAN_MARKET)
    assert party.late is True
    entry = AuditEntry.objects.filter(action="joint_case.check_in", object_id=str(case.pk)).get()
    assert entry.changes == {"party": HAIDIAN_MARKET, "late": True}


def test_department_staff_check_in_only_for_their_own_department(users):
    case = services.whistle_blow(
        by=users["guangwai"], title="广外占道经营", leads=[GUANGWAI], summon=[XICHENG_CGW, FENGTAI_CGW]
    )
    with pytest.raises(ScopeDenied):
        services.check_in(case=case, by=users["fengtai_cgw"], party=XICHENG_CGW)
    services.check_in(case=case, by=users["xicheng_cgw"], party=XICHENG_CGW)
    with pytest.raises(ComplaintError) as again:
        services.check_in(case=case, by=users["xicheng_cgw"], party=XICHENG_CGW)
    assert again.value.code == "already_checked_in" and again.value.status_code == 409
    with pytest.raises(ComplaintError) as unknown:
        services.check_in(case=case, by=users["admin"], party=HAIDIAN_CGW)
    assert unknown.value.code == "not_summoned"


def test_cross_district_case_has_one_id_and_several_leads(users):
    case = services.whistle_blow(
        by=users["guangwai"], title="交界违建", leads=[GUANGWAI, TAIPINGQIAO], summon=[GUANGWAI, TAIPINGQIAO]
    )
    assert case.lead_codes == [GUANGWAI, TAIPINGQIAO] and case.district_codes == ["110102", "110106"]
    # Both leads' streets and districts see and manage the one case.
    for name in ("guangwai", "taipingqiao", "xicheng", "fengtai"):
        assert case.pk in {c.pk for c in selectors.joint_case_list(scope=scope_for(users[name]))}
    services.case_task_add(case=case, by=users["taipingqiao"], text="测量", assignee=GUANGWAI)
    assert not selectors.joint_case_list(scope=scope_for(users["haidian"])).filter(pk=case.pk).exists()
    # A street may not name another street of its own district as co-lead, nor lead only somebody else's area.
    xicheng_other = "110102001"
    with pytest.raises(ScopeDenied):
        services.whistle_blow(by=users["guangwai"], title="x", leads=[GUANGWAI, xicheng_other], summon=[GUANGWAI])
    with pytest.raises(ScopeDenied):
        services.whistle_blow(by=users["guangwai"], title="x", leads=[TAIPINGQIAO], summon=[GUANGWAI])
    with pytest.raises(ScopeDenied):
        services.whistle_blow(by=users["xicheng_cgw"], title="x", leads=[GUANGWAI], summon=[GUANGWAI])


def test_linked_complaints_and_disputes_are_shown_together(users):
    complaint = services.complaint_intake(
        data=IntakeData(category="020103", lon=YICHENG.x, lat=YICHENG.y, external_id="JC-1"), by=users["api_client"]
    ).complaint
    from jurisdictions.disputes import dispute_open

    dispute = dispute_open(by=users["haidian"], title="逸成地块边界", point=YICHENG)
    case = idle_land_case(users, complaints=[complaint.pk], disputes=[str(dispute.pk)])
    links = selectors.joint_case_links(case)
    assert [c["external_id"] for c in links["complaints"]] == ["JC-1"]
    assert [d["ref"] for d in links["disputes"]] == [f"dispute:{dispute.pk}"]
    with pytest.raises(ComplaintError) as missing:
        idle_land_case(users, complaints=[999999])
    assert missing.value.code == "unknown_complaint"
    with pytest.raises(ComplaintError) as no_dispute:
        idle_land_case(users, disputes=["dispute:999999"])
    assert no_dispute.value.code == "unknown_dispute"


def test_notes_tasks_and_closing(users):
    case = idle_land_case(users)
    services.check_in(case=case, by=users["admin"], party=HAIDIAN_CGW)
    note = services.case_note_add(case=case, by=users["xueyuanlu"], text="现场勘查：扬尘来自裸土")
    assert note.by_label == "xueyuanlu"
    # Not a party and not a lead: no notes, no tasks, no closing.
    for name in ("guangwai", "planner", "api_client"):
        with pytest.raises(ScopeDenied):
            services.case_note_add(case=case, by=users[name], text="x")
    with pytest.raises(ScopeDenied):
        services.case_task_add(case=case, by=users["guangwai"], text="x")
    task = services.case_task_add(case=case, by=users["haidian"], text="裸土苫盖", assignee=HAIDIAN_CGW)
    with pytest.raises(ScopeDenied):
        services.case_task_complete(task=task, by=users["xicheng_cgw"])
    services.case_task_complete(task=task, by=users["xueyuanlu"])
    closed = services.case_close(case=case, by=users["xueyuanlu"], note="已苫盖，转入整治方案")
    assert closed.status == "closed"
    close = AuditEntry.objects.get(action="joint_case.close", object_id=str(case.pk))
    assert close.changes["never_checked_in"] == [HAIDIAN_MARKET, HAIDIAN_PLANNING]
    with pytest.raises(ComplaintError) as shut:
        services.check_in(case=case, by=users["admin"], party=HAIDIAN_MARKET)
    assert shut.value.code == "case_closed"


def test_bad_whistles_are_400(users):
    client = as_user(users["xueyuanlu"])
    url = reverse("joint-case-list")
    body = {"title": "x", "leads": [xueyuanlu()], "summon": [HAIDIAN_CGW]}
    assert client.post(url, {**body, "summon": ["nope"]}).json()["error"]["code"] == "unknown_unit"
    assert client.post(url, {**body, "leads": ["110108.planning"]}).json()["error"]["code"] == "unknown_lead"
    bad = client.post(url, {**body, "check_in_hours": 0})
    assert bad.status_code == 400 and set(bad.json()["error"]) == {"code", "message", "details"}
    assert client.post(url, body).status_code == 201


def test_api_reads_are_scoped_and_list_queries_do_not_grow(users, django_assert_max_num_queries):
    case = idle_land_case(users)
    idle_land_case(users)
    assert as_user(users["xueyuanlu"]).get(reverse("joint-case-detail", args=[case.pk])).status_code == 200
    assert as_user(users["haidian"]).get(reverse("joint-case-detail", args=[case.pk])).status_code == 200
    refused = as_user(users["guangwai"]).get(reverse("joint-case-detail", args=[case.pk]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    department = as_user(User.objects.get(username="xicheng_cgw"))
    assert department.get(reverse("joint-case-list")).json() == []
    client = as_user(users["haidian"])
    with django_assert_max_num_queries(8):
        listed = client.get(reverse("joint-case-list")).json()
    assert len(listed) == 2 and all(item["missing"] for item in listed)


def test_a_fix_plan_starts_a_joint_case_through_the_hotspots_adapter(users):
    """hotspots.adapters.joint_case_start calls complaints.services.joint_case_start with the plan's fields."""
    complaint = services.complaint_intake(
        data=IntakeData(category="020103", lon=YICHENG.x, lat=YICHENG.y, external_id="JC-PLAN"), by=SYSTEM
    ).complaint
    ref = adapter_joint_case_start(
        title="逸成体育公园整治方案",
        street_code=xueyuanlu(),
        department_codes=[HAIDIAN_MARKET, HAIDIAN_CGW, HAIDIAN_PLANNING],
        refs=[str(complaint.pk), "SYN-C-0000001"],
        by=users["xueyuanlu"],
    )
    assert ref.startswith("joint_case:")
    case = JointCase.objects.get(pk=int(ref.split(":")[1]))
    assert case.lead_codes == [xueyuanlu()] and case.blown_by.username == "xueyuanlu"
    assert case.complaint_ids == [complaint.pk] and case.refs == ["SYN-C-0000001"]
    assert sorted(case.parties.values_list("code", flat=True)) == [HAIDIAN_CGW, HAIDIAN_MARKET, HAIDIAN_PLANNING]


# One table: role × joint-case write × inside/outside → expected HTTP status. The case is led by 广外 and summons
# 太平桥 (a street of another district) and 西城区城管委; "out" whistles are led by 学院路 (海淀).
# role            whistle-in whistle-out check-in-street check-in-dept note task close read
JOINT_PERMISSIONS = {
    "admin": (201, 201, 201, 201, 201, 201, 200, 200),
    "planner": (403, 403, 403, 403, 403, 403, 403, 200),
    "xicheng": (201, 403, 403, 403, 201, 201, 200, 200),
    "fengtai": (403, 403, 403, 403, 403, 403, 403, 403),
    "haidian": (403, 201, 403, 403, 403, 403, 403, 403),
    "guangwai": (201, 403, 403, 403, 201, 201, 200, 200),
    "taipingqiao": (403, 403, 201, 403, 201, 403, 403, 200),
    "xueyuanlu": (403, 201, 403, 403, 403, 403, 403, 403),
    "xicheng_cgw": (403, 403, 403, 201, 201, 403, 403, 200),
    "fengtai_cgw": (403, 403, 403, 403, 403, 403, 403, 403),
    "api_client": (403, 403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", sorted(JOINT_PERMISSIONS))
def test_joint_case_permission_matrix(users, role):
    client = as_user(users[role])

    def fresh_case() -> int:
        return services.whistle_blow(
            by=users["admin"], title="广外占道", leads=[GUANGWAI], summon=[TAIPINGQIAO, XICHENG_CGW]
        ).pk

    got = [
        client.post(reverse("joint-case-list"), {"title": "in", "leads": [GUANGWAI], "summon": [XICHENG_CGW]}),
        client.post(reverse("joint-case-list"), {"title": "out", "leads": [xueyuanlu()], "summon": [HAIDIAN_CGW]}),
        client.post(reverse("joint-case-check-ins", args=[fresh_case()]), {"party": TAIPINGQIAO}),
        client.post(reverse("joint-case-check-ins", args=[fresh_case()]), {"party": XICHENG_CGW}),
        client.post(reverse("joint-case-notes", args=[fresh_case()]), {"text": "到场"}),
        client.post(reverse("joint-case-tasks", args=[fresh_case()]), {"text": "清理", "assignee": TAIPINGQIAO}),
        client.post(reverse("joint-case-status", args=[fresh_case()]), {"status": "closed"}),
        client.get(reverse("joint-case-detail", args=[fresh_case()])),
    ]
    statuses = [response.status_code for response in got]
    assert statuses == list(JOINT_PERMISSIONS[role]), f"{role}: got {statuses}"
    for response in got:
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "permission_denied"
            assert "your_scope" in response.json()["error"]["details"]


def test_links_are_limited_to_what_the_user_may_see(users):
    complaint = services.complaint_intake(
        data=IntakeData(category="020103", lon=YICHENG.x, lat=YICHENG.y, external_id="JC-HIDDEN"), by=SYSTEM
    ).complaint
    with pytest.raises(ScopeDenied) as refused:
        services.whistle_blow(
            by=users["guangwai"], title="x", leads=[GUANGWAI], summon=[XICHENG_CGW], complaints=[complaint.pk]
        )
    assert refused.value.details["complaints"] == [complaint.pk]
    assert not JointCase.objects.exists()


def test_the_map_layer_draws_cases_at_their_complaints_or_lead_areas_for_those_taking_part(users):
    from django.test import Client

    from jurisdictions.models import Area

    plain = idle_land_case(users)
    complaint = services.complaint_intake(
        data=IntakeData(category="010101", lon=116.3531, lat=39.9979, description="扬尘"), by=users["xueyuanlu"]
    ).complaint
    linked = idle_land_case(users, complaints=[complaint.pk])
    url = reverse("map-joint-cases")
    assert Client().get(url).status_code == 401

    def features(username, query=""):
        client = Client()
        client.force_login(users[username])
        response = client.get(url + query)
        assert response.status_code == 200
        return {f["id"]: f for f in response.json()["features"]}

    seen = features("xueyuanlu")
    assert set(seen) == {plain.pk, linked.pk}
    lead = Area.objects.current().get(code=xueyuanlu())
    inside = seen[plain.pk]["geometry"]["coordinates"][0]
    assert lead.geom.covers(Point(*inside, srid=4326)) and seen[plain.pk]["properties"]["placed_at"] == "lead areas"
    assert seen[linked.pk]["geometry"]["coordinates"] == [
        [round(complaint.location.x, 7), round(complaint.location.y, 7)]
    ]
    assert seen[linked.pk]["properties"]["parties"] == 3 and seen[linked.pk]["properties"]["checked_in"] == 0
    assert seen[linked.pk]["properties"]["complete"] is False
    assert features("guangwai") == {}  # a street that takes no part sees nothing
    services.case_close(case=plain, by=users["xueyuanlu"], note="结案")
    assert set(features("xueyuanlu")) == {linked.pk} and set(features("xueyuanlu", "?status=all")) == {
        plain.pk,
        linked.pk,
    }
