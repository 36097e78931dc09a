"""Reads for complaints: lists for the API and pages, one complaint with its story, the review queues."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Polygon
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from jurisdictions.constants import Role
from jurisdictions.permissions import Scope

from .constants import Status
from .deadlines import LOCAL_TZ
from .models import (
    Assignment,
    BulkImport,
    Category,
    Complaint,
    JointCase,
    JointTask,
    RepeatLink,
    ReturnRequest,
    StatusChange,
)

# The scope of aggregate statistics (hexagon counts, charts): every complaint is counted, none is shown one by
# one. Only code that publishes counts (and suppresses small ones where the caller may not read the complaints)
# passes it; a list of complaints always gets the caller's own scope.
AGGREGATE_SCOPE = Scope(username="aggregate counts", role=Role.PLANNER)


def complaint_list(
    *,
    scope,
    bbox: Polygon | None = None,
    received_from: dt.datetime | None = None,
    received_to: dt.datetime | None = None,
    category: str | None = None,
    status: list[str] | None = None,
    street: str | None = None,
    district: str | None = None,
    overdue: bool | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Complaint]:
    """The complaints `scope` may read (`ComplaintQuerySet.readable_by`; pass the caller's scope, never None),
    filtered by place, time, category (any level), status, street, district and lateness."""
    complaints = Complaint.objects.readable_by(scope).select_related(
        "category", "category__parent", "category__parent__parent"
    )
    if bbox is not None:
        complaints = complaints.in_bbox(bbox)
    complaints = complaints.received_between(received_from, received_to)
    if category:
        complaints = complaints.in_category(category)
    if status:
        complaints = complaints.filter(status__in=status)
    if street:
        complaints = complaints.for_street(street)
    if district:
        complaints = complaints.for_district(district)
    if overdue is True:
        complaints = complaints.overdue(now)
    elif overdue is False:
        complaints = complaints.exclude(pk__in=Complaint.objects.overdue(now).values("pk"))
    return complaints.order_by("-received_at", "-id")


def desk_queue(
    *,
    scope,
    status: list[str] | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    search: str = "",
    street: str = "",
    district: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Complaint]:
    """工单 The complaints a unit works on, soonest deadline first (no deadline last).

    Street staff: complaints their street holds (an active assignment: lead or copy); district staff: those held
    by the district or any of its streets; department staff: those held by their department; city-wide roles and
    the hotline's systems: every complaint. Always within what the scope may read (`readable_by`). `search` looks
    in the ticket id, address and description; `status` defaults to the statuses still being handled.
    `street` / `district` narrow the queue (never widen it) to complaints whose verdict names that street or
    district, or that a unit of it holds or has held (the assessment counts a street's complaints by its lead).
    """
    from django.db.models import F, Q

    from .constants import OPEN_STATUSES

    complaints = Complaint.objects.readable_by(scope).select_related("category")
    held = Assignment.objects.active()
    if scope.role == Role.STREET and scope.street_code:
        complaints = complaints.filter(pk__in=held.filter(area_code=scope.street_code).values("complaint_id"))
    elif scope.role == Role.DISTRICT and scope.district_code:
        complaints = complaints.filter(
            pk__in=held.filter(area_code__startswith=scope.district_code).values("complaint_id")
        )
    elif scope.role == Role.DEPARTMENT and scope.department_code:
        complaints = complaints.filter(
            pk__in=held.filter(department__code=scope.department_code).values("complaint_id")
        )
    complaints = complaints.filter(status__in=status or OPEN_STATUSES)
    if street:
        complaints = complaints.filter(
            Q(street_code=street) | Q(pk__in=Assignment.objects.filter(area_code=street).values("complaint_id"))
        )
    if district:
        complaints = complaints.filter(
            Q(district_code=district)
            | Q(pk__in=Assignment.objects.filter(area_code__startswith=district).values("complaint_id"))
        )
    if category:
        complaints = complaints.in_category(category)
    if overdue is True:
        complaints = complaints.overdue(now)
    elif overdue is False:
        complaints = complaints.exclude(pk__in=Complaint.objects.overdue(now).values("pk"))
    if search:
        complaints = complaints.filter(
            Q(external_id__icontains=search) | Q(address__icontains=search) | Q(description__icontains=search)
        )
    return complaints.order_by(F("deadline_at").asc(nulls_last=True), "received_at", "id")


def complaints_of_dispute(*, scope, reference: str) -> QuerySet[Complaint]:
    """Complaints whose return became the dispute `reference` ("dispute:<id>") — where a ruling sends them — within
    what `scope` may read."""
    return (
        Complaint.objects.readable_by(scope)
        .filter(returns__dispute_ref=reference)
        .distinct()
        .select_related("category")
        .order_by("id")
    )


def complaint_get(*, pk: int) -> Complaint | None:
    """One complaint with everything its detail page shows: history, assignments, returns and repeats."""
    return (
        Complaint.objects.select_related("category", "category__parent", "category__parent__parent")
        .prefetch_related(
            Prefetch("history", queryset=StatusChange.objects.order_by("at", "id")),
            Prefetch("assignments", queryset=Assignment.objects.select_related("department").order_by("id")),
            Prefetch("returns", queryset=ReturnRequest.objects.order_by("id")),
            Prefetch("repeat_links", queryset=RepeatLink.objects.select_related("earlier").order_by("distance_m")),
        )
        .filter(pk=pk)
        .first()
    )


def complaint_by_external_id(*, external_id: str) -> Complaint | None:
    return Complaint.objects.select_related("category").filter(external_id=external_id).first()


def is_overdue(complaint: Complaint, now: dt.datetime | None = None) -> bool:
    """Late: still open and past its deadline."""
    from .constants import OPEN_STATUSES

    now = now or timezone.now()
    return complaint.status in OPEN_STATUSES and complaint.deadline_at is not None and complaint.deadline_at < now


def return_queue(*, decision: str | None = "pending", scope=None) -> QuerySet[ReturnRequest]:
    """Returns (退单) for review, oldest first; `decision=None` lists all.

    With a `scope`, only what that user may see: all for city-wide roles and the hotline's systems; for district
    staff the returns of their district's complaints or units; for street and department staff their own units'.
    """
    from django.db.models import Q

    from jurisdictions.constants import Role

    returns = ReturnRequest.objects.select_related("complaint", "assignment")
    if decision:
        returns = returns.filter(decision=decision)
    if scope is not None and not (scope.city_wide or scope.role == Role.API_CLIENT):
        if scope.role == Role.DISTRICT and scope.district_code:
            returns = returns.filter(
                Q(complaint__district_code=scope.district_code)
                | Q(assignment__area_code__startswith=scope.district_code)
            )
        elif scope.role == Role.STREET and scope.street_code:
            returns = returns.filter(assignment__area_code=scope.street_code)
        elif scope.role == Role.DEPARTMENT and scope.department_code:
            returns = returns.filter(assignment__department__code=scope.department_code)
        else:
            returns = returns.none()
    return returns.order_by("created_at", "id")


def dispatch_queue() -> QuerySet[Complaint]:
    """Complaints nobody could be given (no area, no department): they wait for a dispatcher."""
    return Complaint.objects.filter(status=Status.RECEIVED).order_by("received_at", "id")


def category_tree() -> list[dict]:
    """The catalogue as nested dicts (大类 › 中类 › 小类), active items only."""
    items = list(Category.objects.active().order_by("code"))
    nodes = {
        c.pk: {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "level": c.level,
            **({"department_role": c.department_role, "urgency": c.urgency} if c.level == 3 else {"children": []}),
        }
        for c in items
    }
    roots = []
    for c in items:
        if c.parent_id and c.parent_id in nodes:
            nodes[c.parent_id].setdefault("children", []).append(nodes[c.pk])
        elif c.level == 1:
            roots.append(nodes[c.pk])
    return roots


def services_list() -> QuerySet[Category]:
    """Third-level categories as Open311 services."""
    return Category.objects.leaves().active().select_related("parent", "parent__parent").order_by("code")


def bulk_import_get(*, pk: int) -> BulkImport | None:
    return BulkImport.objects.filter(pk=pk).first()


def complaint_verdict(complaint: Complaint) -> dict:
    """The complaint's verdict: as stored by single intake, or rebuilt from the columns for bulk rows.

    Bulk intake stores the verdict's parts in columns only (district, street, lead, method, generation), so a
    million rows do not each carry a JSON document; this gives them the same shape as the engine's answer.
    """
    stored = complaint.verdict or {}
    if "method" in stored:
        return stored
    on_boundary = bool(stored.get("on_boundary"))

    def ref(code: str, name: str, level: str) -> dict | None:
        return {"code": code, "name": name, "level": level} if code else None

    district = ref(complaint.district_code, complaint.district_name, "district")
    street = ref(complaint.street_code, complaint.street_name, "street")
    lead = street or district
    if district is None:
        reason = "点不在任何辖区内 point outside every area"
    elif on_boundary:
        reason = "点位于共用边界上，按编码最小者牵头 point on a shared boundary"
    elif street is None:
        reason = "未能确定街道，由区承接 district takes it"
    else:
        reason = "点落在辖区内 point inside the area"
    return {
        "point": {"type": "Point", "coordinates": [round(complaint.location.x, 8), round(complaint.location.y, 8)]},
        "input": {"lon": complaint.input_lon, "lat": complaint.input_lat, "crs": complaint.input_crs},
        "at": complaint.received_at.astimezone(LOCAL_TZ).date().isoformat(),
        "generation": {"name": complaint.generation_name} if complaint.generation_name else None,
        "method": complaint.verdict_method or ("point" if district else "outside"),
        "district": district,
        "street": street,
        "lead": lead,
        "co_handlers": [],
        "on_boundary": on_boundary,
        "needs_review": complaint.needs_review,
        "reasons": [reason],
        "bulk": True,
    }


# --- joint cases -----------------------------------------------------------------------------------------------


def joint_case_list(*, scope, status: str | None = None) -> QuerySet[JointCase]:
    """Joint cases the user takes part in (`JointCaseQuerySet.visible_to`: a lead's street or district, a summoned
    party); all for city-wide roles."""
    cases = JointCase.objects.visible_to(scope).prefetch_related("parties")
    if status:
        cases = cases.filter(status=status)
    return cases.order_by("-created_at", "-id")


def joint_case_get(*, pk: int) -> JointCase | None:
    return (
        JointCase.objects.prefetch_related(
            "parties", "notes", Prefetch("tasks", queryset=JointTask.objects.select_related("assignee"))
        )
        .filter(pk=pk)
        .first()
    )


def joint_case_links(case: JointCase) -> dict:
    """The complaints and disputes linked to a case, shown together (disputes by their "dispute:<id>" refs)."""
    from jurisdictions.models import Dispute

    complaints = [
        {
            "id": c.pk,
            "external_id": c.external_id,
            "status": c.status,
            "category": c.category.code,
            "category_name": c.category.name,
            "lead_code": c.lead_code,
            "lead_name": c.lead_name,
            "address": c.address,
        }
        for c in Complaint.objects.filter(pk__in=case.complaint_ids).select_related("category").order_by("id")
    ]
    dispute_ids = [int(r.split(":", 1)[1]) for r in case.refs if r.startswith("dispute:") and r[8:].isdigit()]
    disputes = [
        {
            "id": d.pk,
            "ref": f"dispute:{d.pk}",
            "title": d.title,
            "status": d.status,
            "contested_codes": d.contested_codes,
            "building": d.building.code if d.building_id else None,
        }
        for d in Dispute.objects.filter(pk__in=dispute_ids).select_related("building").order_by("id")
    ]
    other = [r for r in case.refs if not r.startswith("dispute:")]
    return {"complaints": complaints, "disputes": disputes, "other_refs": other}


def joint_case_missing(case: JointCase) -> list[dict]:
    """Summoned parties that have not checked in (未报到), with whether their deadline has passed."""
    now = timezone.now()
    return [
        {
            "code": p.code,
            "name": p.name,
            "kind": p.kind,
            "deadline_at": timezone.localtime(p.deadline_at).isoformat(),
            "overdue": p.deadline_at < now,
        }
        for p in case.parties.all()
        if p.checked_in_at is None
    ]
