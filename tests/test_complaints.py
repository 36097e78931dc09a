"""Intake, dispatch (直派 / 双派 / 兜底 / 首接负责), lifecycle, returns (退单) and repeats, through the services."""

import datetime as dt
import math
from types import SimpleNamespace

import pytest
import shapely
from django.core.management import call_command

from complaints import selectors
from complaints.constants import AssignmentRole, AssignmentState, ReturnDecision, Status
from complaints.deadlines import LOCAL_TZ
from complaints.models import Complaint, RepeatLink
from complaints.permissions import SYSTEM, SystemPrincipal
from complaints.services import (
    ComplaintError,
    IntakeData,
    complaint_intake,
    complaint_rate,
    complaint_redispatch,
    complaint_return,
    complaint_transition,
    link_repeats,
    return_dispute,
    return_redispatch,
    return_reject,
)
from geo import coords
from jurisdictions.models import Area, Building
from jurisdictions.services import FieldMap, boundaries_import
from tests.conftest import write_geojson

LUGU = "110107011"  # 鲁谷街道, 石景山区
RECEIVED = dt.datetime(2025, 6, 3, 10, 0, tzinfo=LOCAL_TZ)  # a Tuesday


@pytest.fixture(scope="module", autouse=True)
def complaint_reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("complaints_demo_load", "--reference-only", verbosity=0)


def inside(code: str) -> tuple[float, float]:
    point = Area.objects.current(RECEIVED.date()).get(code=code).geom.point_on_surface
    return point.x, point.y


def intake(**values):
    values.setdefault("received_at", RECEIVED)
    return complaint_intake(data=IntakeData(**values), by=SYSTEM)


@pytest.mark.django_db
def test_intake_dispatches_to_the_street_and_the_owning_department():
    lon, lat = inside(LUGU)
    result = intake(external_id="T-1", category="020101", lon=lon, lat=lat, description="私装地锁")
    complaint = result.complaint
    assert result.created
    assert (complaint.street_code, complaint.district_code) == (LUGU, "110107")
    assert complaint.status == Status.DISPATCHED
    assert complaint.lead_code == LUGU and complaint.lead_name == "鲁谷街道"
    roles = {(a.role, a.area_code or a.department.code, a.first_receiver) for a in complaint.assignments.all()}
    # 直派 to the street, which received it first and leads; 双派 to 石景山's urban enforcement bureau.
    assert roles == {("lead", LUGU, True), ("department", "110107.urban_enforcement", False)}
    assert [h.to_status for h in complaint.history.order_by("id")] == ["received", "dispatched"]
    # General: 7 working days after Tue 2025-06-03 (no holiday in between) → Thu 2025-06-12, end of day.
    assert complaint.deadline_at == dt.datetime(2025, 6, 12, 23, 59, 59, tzinfo=LOCAL_TZ)
    assert complaint.verdict["street"]["code"] == LUGU and complaint.verdict_method == "point"


@pytest.mark.django_db
def test_intake_is_idempotent_on_external_id():
    lon, lat = inside(LUGU)
    first = intake(external_id="T-dup", category="020101", lon=lon, lat=lat)
    again = intake(external_id="T-dup", category="010101", lon=lon + 0.1, lat=lat)
    assert first.created and not again.created
    assert again.complaint.pk == first.complaint.pk and again.complaint.category.code == "020101"
    assert Complaint.objects.filter(external_id="T-dup").count() == 1


@pytest.mark.django_db
def test_a_gcj02_point_is_converted_before_the_verdict():
    lon, lat = inside(LUGU)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    complaint = intake(external_id="T-gcj", category="030102", lon=glon, lat=glat, crs="gcj02").complaint
    assert complaint.street_code == LUGU
    assert complaint.input_crs == "gcj02" and complaint.input_lon == pytest.approx(glon)
    assert complaint.location.x == pytest.approx(lon, abs=1e-7) and complaint.location.y == pytest.approx(lat, abs=1e-7)
    # 管道爆裂 is an emergency: two clock hours; water supply is a city-wide company.
    assert complaint.deadline_at == RECEIVED + dt.timedelta(hours=2)
    assert complaint.assignments.get(role="department").department.code == "city.water_supply"


@pytest.mark.django_db
def test_without_a_street_the_district_takes_it(tmp_path):
    """属地兜底: a point in a district where no street can be determined is led by the district."""
    district = write_geojson(
        tmp_path / "d.geojson", [({"code": "900101", "name": "兜底测试区"}, shapely.box(10, 10, 11, 11))]
    )
    common = dict(
        generation="test-fallback", valid_from=dt.date(2100, 1, 1), fields=FieldMap(), activate=True, commit=True
    )
    boundaries_import(source=district, level="district", **common)
    received = dt.datetime(2100, 6, 1, 9, 0, tzinfo=LOCAL_TZ)
    complaint = intake(external_id="T-fb", category="020101", lon=10.75, lat=10.5, received_at=received).complaint
    assert complaint.street_code == "" and complaint.district_code == "900101", complaint.verdict
    assert complaint.status == Status.DISPATCHED and complaint.lead_code == "900101"
    lead = complaint.assignments.get(role=AssignmentRole.LEAD)
    assert (lead.area_code, lead.area_level, lead.first_receiver) == ("900101", "district", True)
    assert "兜底" in lead.note or complaint.verdict["lead"]["level"] == "district"
    assert "dispatched" in complaint.history.last().to_status


@pytest.mark.django_db
def test_outside_every_area_a_department_leads_or_the_ticket_waits():
    far = dict(lon=100.0, lat=30.0)
    water = intake(external_id="T-out-water", category="030101", **far).complaint
    assert water.status == Status.DISPATCHED and water.lead_code == "city.water_supply"
    lead = water.assignments.get()
    assert lead.role == AssignmentRole.LEAD and lead.first_receiver
    nobody = intake(external_id="T-out-none", category="090101", **far).complaint
    assert nobody.status == Status.RECEIVED and nobody.needs_review
    assert not nobody.assignments.exists()
    assert list(selectors.dispatch_queue().filter(external_id__startswith="T-out")) == [nobody]


@pytest.mark.django_db
def test_a_straddling_building_gives_copies_to_co_handlers():
    building = Building.objects.get(code="SYN-B-0001")
    point = building.geom.point_on_surface
    complaint = intake(external_id="T-bld", category="020102", lon=point.x, lat=point.y).complaint
    verdict = complaint.verdict
    assert verdict["method"] == "building" and verdict["co_handlers"]
    co = sorted(a.area_code for a in complaint.assignments.filter(role=AssignmentRole.CO_HANDLER))
    assert co == sorted(c["code"] for c in verdict["co_handlers"])
    assert complaint.lead_code == verdict["lead"]["code"]


@pytest.mark.django_db
def test_unknown_category_and_missing_location_are_refused():
    with pytest.raises(ComplaintError) as info:
        intake(category="999999", lon=116.4, lat=39.9)
    assert info.value.code == "unknown_category"
    with pytest.raises(ComplaintError) as info:
        intake(category="020101")
    assert info.value.code == "location_required"
    with pytest.raises(ComplaintError) as info:
        intake(category="020101", lon=116.4, lat=95)
    assert info.value.code == "invalid_coordinates"
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_lifecycle_moves_and_refuses_skips():
    lon, lat = inside(LUGU)
    complaint = intake(external_id="T-life", category="020101", lon=lon, lat=lat).complaint
    with pytest.raises(ComplaintError) as info:
        complaint_transition(complaint=complaint, to=Status.CLOSED, by=SYSTEM)
    assert info.value.code == "invalid_transition" and info.value.status_code == 409
    for step in (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED):
        complaint = complaint_transition(complaint=complaint, to=step, by=SystemPrincipal("鲁谷街道办"))
    assert complaint.resolved_at is not None
    complaint = complaint_rate(complaint=complaint, satisfaction="unsatisfied", by=SYSTEM)
    complaint = complaint_transition(complaint=complaint, to=Status.CLOSED, by=SYSTEM)
    complaint = complaint_transition(complaint=complaint, to=Status.REOPENED, note="市民不满意，重新办理", by=SYSTEM)
    assert complaint.resolved_at is None and complaint.closed_at is None
    statuses = list(complaint.history.order_by("id").values_list("to_status", flat=True))
    assert statuses == [
        "received",
        "dispatched",
        "accepted",
        "in_progress",
        "resolved",
        "resolved",  # the rating is a history entry that keeps the status
        "closed",
        "reopened",
    ]
    assert complaint.history.filter(by="鲁谷街道办").count() == 3


@pytest.mark.django_db
def test_return_review_and_redispatch():
    """退单 → review queue → 改派: the new street leads; the returning street's assignment stays as history."""
    lon, lat = inside(LUGU)
    complaint = intake(external_id="T-ret", category="020101", lon=lon, lat=lat).complaint
    with pytest.raises(ComplaintError) as info:
        complaint_return(complaint=complaint, reason="not_our_area", note="  ", by=SYSTEM)
    assert info.value.code == "note_required"
    with pytest.raises(ComplaintError) as info:
        complaint_return(complaint=complaint, reason="because", note="x", by=SYSTEM)
    assert info.value.code == "invalid_reason"
    request = complaint_return(
        complaint=complaint,
        reason="not_our_area",
        note="该点位于八宝山街道一侧",
        suggested_code="110107001",
        by=SystemPrincipal("鲁谷"),
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.RETURNED
    assert list(selectors.return_queue()) == [request]
    assignment = return_redispatch(
        return_request=request, to_code="110107001", by=SystemPrincipal("区派单员"), note="核实后改派"
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED and complaint.lead_code == "110107001"
    assert assignment.role == AssignmentRole.LEAD and assignment.state == AssignmentState.ACTIVE
    states = dict(complaint.assignments.filter(role="lead").values_list("area_code", "state"))
    assert states == {LUGU: "returned", "110107001": "active"}
    request.refresh_from_db()
    assert request.decision == ReturnDecision.REDISPATCHED and request.decided_by == "区派单员"
    assert not selectors.return_queue().exists()
    assert list(complaint.history.order_by("id").values_list("to_status", flat=True))[-2:] == ["returned", "dispatched"]
    with pytest.raises(ComplaintError) as info:
        return_reject(return_request=request, note="too late", by=SYSTEM)
    assert info.value.code == "already_decided"


@pytest.mark.django_db
def test_return_rejected_sends_it_back_and_returns_end_at_sign_in():
    lon, lat = inside(LUGU)
    complaint = intake(external_id="T-rej", category="020101", lon=lon, lat=lat).complaint
    request = complaint_return(complaint=complaint, reason="not_our_duty", note="应由物业处理", by=SYSTEM)
    lead = return_reject(return_request=request, note="属于街道职责，继续办理", by=SYSTEM)
    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED and lead.state == AssignmentState.ACTIVE and lead.area_code == LUGU
    complaint = complaint_transition(complaint=complaint, to=Status.ACCEPTED, by=SYSTEM)
    with pytest.raises(ComplaintError) as info:
        complaint_return(complaint=complaint, reason="not_our_area", note="签收后退单", by=SYSTEM)
    assert info.value.code == "invalid_transition"


def record_dispute(*, complaint, return_request, by):
    return f"dispute:test-{complaint.pk}"


@pytest.mark.django_db
def test_return_into_a_dispute_then_redispatch_by_ruling(settings):
    settings.SHAOZI = {**settings.SHAOZI, "RETURN_DISPUTE_OPENER": "tests.test_complaints.record_dispute"}
    lon, lat = inside(LUGU)
    complaint = intake(external_id="T-disp", category="020101", lon=lon, lat=lat).complaint
    request = complaint_return(complaint=complaint, reason="not_our_area", note="边界不清", by=SYSTEM)
    request = return_dispute(return_request=request, note="交界处，提请裁定", by=SYSTEM)
    assert request.decision == ReturnDecision.DISPUTED and request.dispute_ref == f"dispute:test-{complaint.pk}"
    complaint.refresh_from_db()
    assert complaint.status == Status.RETURNED
    complaint_redispatch(complaint=complaint, to_code="110107001", note="按裁定", by=SYSTEM)
    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED and complaint.lead_code == "110107001"


@pytest.mark.django_db
def test_a_co_handler_returning_its_copy_leaves_the_complaint_alone():
    building = Building.objects.get(code="SYN-B-0001")
    point = building.geom.point_on_surface
    complaint = intake(external_id="T-co", category="020102", lon=point.x, lat=point.y).complaint
    copy = complaint.assignments.filter(role=AssignmentRole.CO_HANDLER).first()
    complaint_return(complaint=complaint, assignment=copy, reason="not_our_area", note="不涉及本街道", by=SYSTEM)
    complaint.refresh_from_db()
    copy.refresh_from_db()
    assert complaint.status == Status.DISPATCHED and copy.state == AssignmentState.RETURNED


@pytest.mark.django_db
def test_repeats_link_same_category_close_and_recent():
    lon, lat = inside(LUGU)
    metre = 1 / 111_320  # of latitude
    lon_metre = metre / math.cos(math.radians(lat))
    first = intake(external_id="T-r1", category="020101", lon=lon, lat=lat).complaint
    later = RECEIVED + dt.timedelta(days=5)
    near = intake(
        external_id="T-r2", category="020101", lon=lon + 100 * lon_metre, lat=lat, received_at=later
    ).complaint
    other_kind = intake(external_id="T-r3", category="010101", lon=lon, lat=lat, received_at=later).complaint
    too_far = intake(external_id="T-r4", category="020101", lon=lon, lat=lat + 400 * metre, received_at=later).complaint
    too_late = intake(
        external_id="T-r5", category="020101", lon=lon, lat=lat, received_at=RECEIVED + dt.timedelta(days=40)
    ).complaint
    link = RepeatLink.objects.get(complaint=near)
    assert link.earlier == first and 95 < link.distance_m < 105 and link.days_apart == pytest.approx(5)
    assert not RepeatLink.objects.filter(complaint__in=[first, other_kind, too_far]).exists()
    # 40 days after the first and 35 after the others: outside the 30-day window, so no link at all.
    assert not RepeatLink.objects.filter(complaint=too_late).exists()
    assert link_repeats(complaint=too_late, window_days=60) == 2  # T-r1 and T-r2 (T-r4 is 400 m away)
    # A wider window and radius are settings/arguments, not code.
    assert link_repeats(complaint=too_far, radius_m=500) == 1


@pytest.mark.django_db
def test_overdue_complaints_are_visible():
    lon, lat = inside(LUGU)
    old = dt.datetime(2025, 3, 3, 9, 0, tzinfo=LOCAL_TZ)
    late = intake(external_id="T-late", category="030102", lon=lon, lat=lat, received_at=old).complaint
    done = intake(external_id="T-done", category="030102", lon=lon, lat=lat, received_at=old).complaint
    for step in (Status.ACCEPTED, Status.RESOLVED):
        done = complaint_transition(complaint=done, to=step, by=SYSTEM)
    overdue = set(Complaint.objects.overdue().values_list("external_id", flat=True))
    assert "T-late" in overdue and "T-done" not in overdue
    assert selectors.is_overdue(late) and not selectors.is_overdue(done)


@pytest.mark.django_db
def test_a_confirmed_ruling_redispatches_the_complaints_waiting_on_its_dispute(settings):
    """The callback complaints registers with jurisdictions.hooks re-dispatches to the ruling's lead."""
    hooks = pytest.importorskip("jurisdictions.hooks")
    settings.SHAOZI = {**settings.SHAOZI, "RETURN_DISPUTE_OPENER": "tests.test_complaints.record_dispute"}
    lon, lat = inside(LUGU)
    complaint = intake(external_id="T-rule", category="020101", lon=lon, lat=lat).complaint
    other = intake(external_id="T-rule-2", category="020101", lon=lon, lat=lat).complaint
    return_dispute(
        return_request=complaint_return(complaint=complaint, reason="not_our_area", note="交界", by=SYSTEM), by=SYSTEM
    )
    ruling = SimpleNamespace(dispute_id=f"test-{complaint.pk}", lead_code="110107001")
    hooks.ruling_confirmed(ruling=ruling, by=None)
    complaint.refresh_from_db()
    other.refresh_from_db()
    assert complaint.status == Status.DISPATCHED and complaint.lead_code == "110107001"
    assert other.lead_code == LUGU  # not part of the dispute
