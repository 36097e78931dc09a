"""The seed's case end to end over the HTTP API, as docs/walkthrough.md tells it (same steps, same accounts).

A complaint at the building straddling 西城区 广安门外街道 / 丰台区 太平桥街道 → dispatched to the lead with the other
as co-handler → returned by the lead → dispute with evidence → ruling confirmed by both districts → rule → a new
complaint at the same building is dispatched by the rule, with no dispute → a joint case both streets check in to.
"""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jurisdictions.demo import DEMO_API_TOKEN, demo_users_create
from jurisdictions.models import AuditEntry, Building, Dispute, Rule

GUANGWAI, TAIPINGQIAO = "110102020", "110106002"
XICHENG_CGW, FENGTAI_CGW = "110102.city_management", "110106.city_management"


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


@pytest.fixture
def clients(db):
    """One API client per demo account, each with its API token."""
    demo_users_create()
    hotline = APIClient()
    hotline.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_API_TOKEN}")
    hotline.default_format = "json"
    clients = {"api_client": hotline}
    for name in ("guangwai", "taipingqiao", "xicheng", "fengtai", "xicheng_cgw", "fengtai_cgw"):
        # As in docs/walkthrough.md: each account gets an API token (what `manage.py drf_create_token` makes).
        token = Token.objects.get_or_create(user=User.objects.get(username=name))[0]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.default_format = "json"
        clients[name] = client
    return clients


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_the_straddling_building_from_complaint_to_joint_case(clients):
    building = Building.objects.get(code="SYN-B-0001")
    spot = building.geom.point_on_surface
    complaint = {
        "category": "020102",
        "description": "两层违建横跨广外/太平桥交界，居民反映多年无人拆除",
        "address": building.address or "广安门外/太平桥交界",
        "lon": spot.x,
        "lat": spot.y,
    }

    # 1. The hotline posts the complaint: the building decides (70 % 广外), 太平桥 is co-handler.
    first = ok(clients["api_client"].post("/api/v1/complaints", {**complaint, "external_id": "WALK-1"}), 201)
    props = first["properties"]
    assert props["verdict"]["method"] == "building"
    assert props["lead_code"] == GUANGWAI and props["status"] == "dispatched"
    roles = {(a["role"], a["area_code"] or a["department"]) for a in props["assignments"]}
    assert ("lead", GUANGWAI) in roles and ("co_handler", TAIPINGQIAO) in roles

    # 2. 广外 returns it (退单): "not ours" — 太平桥 should take it.
    returned = ok(
        clients["guangwai"].post(
            f"/api/v1/complaints/{first['id']}/returns",
            {"reason": "not_our_area", "note": "违建主体在太平桥一侧", "suggested_code": TAIPINGQIAO},
            format="json",
        ),
        201,
    )
    assert returned["decision"] == "pending"
    # The other street cannot review it; 西城区 (the complaint's district) can.
    decision = f"/api/v1/complaint-returns/{returned['id']}/decision"
    assert clients["taipingqiao"].post(decision, {"decision": "disputed"}, format="json").status_code == 403

    # 3. 西城区 sends the return to a boundary dispute, which snapshots the evidence.
    reviewed = ok(clients["xicheng"].post(decision, {"decision": "disputed", "note": "交界违建，提请两区裁定"}))
    assert reviewed["decision"] == "disputed" and reviewed["dispute_ref"].startswith("dispute:")
    dispute_id = int(reviewed["dispute_ref"].split(":")[1])
    dispute = ok(clients["fengtai"].get(f"/api/v1/disputes/{dispute_id}"))["properties"]
    assert dispute["district_codes"] == ["110102", "110106"]
    assert dispute["evidence"]["verdict"]["method"] == "building"
    assert dispute["evidence"]["complaints"][0]["id"] == first["id"]

    # 4. Both districts confirm the same ruling: 广外 leads, 太平桥 assists; it becomes a rule.
    ruling = {"lead_code": GUANGWAI, "co_handler_codes": [TAIPINGQIAO], "reason": "两区协商：广外牵头，太平桥协办"}
    proposed = ok(clients["xicheng"].post(f"/api/v1/disputes/{dispute_id}/ruling", ruling, format="json"))
    assert proposed["properties"]["ruling"]["missing_confirmations"] == ["110106"]
    confirmed = ok(clients["fengtai"].post(f"/api/v1/disputes/{dispute_id}/ruling", ruling, format="json"))
    assert confirmed["properties"]["status"] == "ruled"
    rule = Rule.objects.get(building=building)
    assert rule.lead_code == GUANGWAI and rule.co_handler_codes == [TAIPINGQIAO]
    # The waiting complaint went back to the ruling's lead.
    again = ok(clients["guangwai"].get(f"/api/v1/complaints/{first['id']}"))["properties"]
    assert again["status"] == "dispatched" and again["lead_code"] == GUANGWAI

    # 5. A new complaint at the same building is dispatched by the rule: no review, no new dispute.
    disputes_before = Dispute.objects.count()
    second = ok(clients["api_client"].post("/api/v1/complaints", {**complaint, "external_id": "WALK-2"}), 201)
    props = second["properties"]
    assert props["verdict"]["method"] == "rule" and props["needs_review"] is False
    assert props["lead_code"] == GUANGWAI
    assert {a["area_code"] for a in props["assignments"] if a["role"] == "co_handler"} == {TAIPINGQIAO}
    assert Dispute.objects.count() == disputes_before

    # 6. 广外 blows the whistle: a cross-district joint case led by both streets, summoning both streets' teams
    #    and both districts' 城管委, with the complaints and the dispute linked.
    case = ok(
        clients["guangwai"].post(
            "/api/v1/joint-cases",
            {
                "title": "广外/太平桥交界违建联合拆除",
                "leads": [GUANGWAI, TAIPINGQIAO],
                "summon": [GUANGWAI, TAIPINGQIAO, XICHENG_CGW, FENGTAI_CGW],
                "complaints": [first["id"], second["id"]],
                "disputes": [f"dispute:{dispute_id}"],
                "check_in_hours": 24,
            },
            format="json",
        ),
        201,
    )
    assert case["lead_codes"] == [GUANGWAI, TAIPINGQIAO] and case["district_codes"] == ["110102", "110106"]
    assert [c["id"] for c in case["linked"]["complaints"]] == [first["id"], second["id"]]
    assert [d["id"] for d in case["linked"]["disputes"]] == [dispute_id]
    check_ins = f"/api/v1/joint-cases/{case['id']}/check-ins"
    ok(clients["guangwai"].post(check_ins, {"party": GUANGWAI}), 201)
    ok(clients["taipingqiao"].post(check_ins, {"party": TAIPINGQIAO}), 201)
    ok(clients["xicheng_cgw"].post(check_ins, {"party": XICHENG_CGW}), 201)
    # A street cannot check in for the other one.
    assert clients["taipingqiao"].post(check_ins, {"party": GUANGWAI}).status_code == 403
    shown = ok(clients["taipingqiao"].get(f"/api/v1/joint-cases/{case['id']}"))
    assert shown["missing"] == [FENGTAI_CGW]
    assert [p["code"] for p in shown["not_checked_in"]] == [FENGTAI_CGW]
    ok(clients["fengtai_cgw"].post(check_ins, {"party": FENGTAI_CGW}), 201)
    task = ok(
        clients["taipingqiao"].post(
            f"/api/v1/joint-cases/{case['id']}/tasks", {"text": "拆除南侧加层", "assignee": FENGTAI_CGW}
        ),
        201,
    )
    ok(clients["fengtai_cgw"].patch(f"/api/v1/joint-cases/{case['id']}/tasks/{task['id']}", {"done": True}))
    ok(clients["xicheng_cgw"].post(f"/api/v1/joint-cases/{case['id']}/notes", {"text": "北侧已拆除"}), 201)
    closed = ok(clients["guangwai"].post(f"/api/v1/joint-cases/{case['id']}/status", {"status": "closed"}))
    assert closed["status"] == "closed" and closed["missing"] == []
    actions = list(
        AuditEntry.objects.filter(object_type="complaints.jointcase", object_id=str(case["id"])).values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "joint_case.open",
        *["joint_case.check_in"] * 3,
        "joint_case.check_in",
        "joint_case.task_add",
        "joint_case.task_done",
        "joint_case.note",
        "joint_case.close",
    ]
