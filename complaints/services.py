"""Writes for complaints: intake, dispatch (直派), status changes, returns (退单) and their review, joint cases
(吹哨 → 报到), reference data.

Every write takes `by` — a user, or the explicit system principal `complaints.permissions.SYSTEM` (or another
`SystemPrincipal` naming the command acting) — and checks it against the user's scope (`complaints.permissions`);
a refusal is a `ScopeDenied`, which the API turns into 403 saying why. `None` or a user name as text is refused
with a TypeError.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from config.limits import date_problem, limit, text_problem
from jurisdictions.constants import AreaLevel
from jurisdictions.disputes import audit_log
from jurisdictions.models import Area, Department
from jurisdictions.selectors import QueryError, jurisdiction_lookup, parse_point

from . import permissions
from .constants import (
    JOINT_CHECK_IN_HOURS,
    TRANSITIONS,
    AssignmentRole,
    AssignmentState,
    Channel,
    JointCaseStatus,
    LocationSource,
    PartyKind,
    ReturnDecision,
    ReturnReason,
    Satisfaction,
    Status,
    Urgency,
    option,
    repeat_radius_m,
    repeat_window_days,
)
from .deadlines import LOCAL_TZ, WorkCalendar, deadline_for
from .models import (
    Assignment,
    CalendarDay,
    CalendarYear,
    Category,
    Complaint,
    JointCase,
    JointNote,
    JointParty,
    JointTask,
    RepeatLink,
    ReturnRequest,
    StatusChange,
)


class ComplaintError(Exception):
    """A write that cannot be done; `code`, a zh-Hans/English `message` and `details` go to the caller as they are."""

    status_code = 400

    def __init__(self, code: str, message: str, details: dict | None = None, status_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code


class AddressNotFound(ComplaintError):
    status_code = 422

    def __init__(self, address: str, reason: str = ""):
        details = {"address": address}
        if reason:
            details["reason"] = reason
        super().__init__("address_not_found", f"地址无法解析 address not found: {address}", details)


def actor(by: Any) -> str:
    """How a user (their user name) or the system principal (its label) is written into history."""
    permissions.require_actor(by)
    if permissions.is_system(by):
        return by.label[:150]
    return by.get_username()


# --- location --------------------------------------------------------------------------------------------------


def geocode_address(text: str):
    """The best geocoder candidate for `text`; AddressNotFound when there is none (or no geocoder is installed).

    The geocoder lives in geo.geocoding and is looked up when called, so intake by coordinates works on a
    deployment without a gazetteer.
    """
    try:
        geocoding = importlib.import_module("geo.geocoding")
    except ImportError:
        raise AddressNotFound(text, "没有可用的地址解析服务 no geocoder installed") from None
    candidates = geocoding.geocode(text, limit=1)
    if not candidates:
        raise AddressNotFound(text)
    return candidates[0]


def _lookup_accepts_accuracy() -> bool:
    return "accuracy_m" in inspect.signature(jurisdiction_lookup).parameters


def verdict_for(*, point, at: dt.date, input: dict, accuracy_m: float | None):
    """The jurisdiction verdict, passing the accuracy circle when the engine takes one."""
    if accuracy_m and _lookup_accepts_accuracy():
        return jurisdiction_lookup(point=point, at=at, input=input, accuracy_m=accuracy_m)
    return jurisdiction_lookup(point=point, at=at, input=input)


# --- intake ----------------------------------------------------------------------------------------------------


@dataclass
class IntakeData:
    """What a channel hands to intake; either lon/lat (in `crs`) or an address must be given."""

    category: str
    description: str = ""
    address: str = ""
    lon: Any = None
    lat: Any = None
    crs: str = "wgs84"
    external_id: str = ""
    received_at: dt.datetime | None = None
    channel: str = Channel.API
    urgency: str = ""
    location_source: str = ""
    accuracy_m: float | None = None
    confidence: float | None = None
    reporter: dict = field(default_factory=dict)


@dataclass
class IntakeResult:
    complaint: Complaint
    created: bool


def new_external_id(prefix: str = "SZ") -> str:
    """A ticket id for complaints whose source gives none: prefix, Beijing date, random part."""
    day = timezone.now().astimezone(LOCAL_TZ).strftime("%Y%m%d")
    return f"{prefix}{day}{uuid.uuid4().hex[:12].upper()}"


def category_leaf(code: str) -> Category:
    """The active third-level category with `code`, or ComplaintError."""
    category = Category.objects.filter(code=str(code).strip(), level=3, active=True).select_related("parent").first()
    if category is None:
        raise ComplaintError(
            "unknown_category",
            f"分类无效 unknown category {code!r}: use a third-level code of the catalogue",
            {"category": code},
        )
    return category


def _located(data: IntakeData) -> dict:
    """Point (WGS-84), input echo, source, accuracy and confidence from coordinates or from the address."""
    has_coords = data.lon not in (None, "") or data.lat not in (None, "")
    if has_coords:
        try:
            point, echo = parse_point(data.lon, data.lat, data.crs or "wgs84")
        except QueryError as exc:
            raise ComplaintError(exc.code, exc.message, exc.details) from exc
        source = data.location_source or LocationSource.GPS
        return dict(
            point=point,
            echo=echo,
            source=source,
            accuracy_m=data.accuracy_m,
            confidence=data.confidence,
            input_lon=echo["lon"],
            input_lat=echo["lat"],
            crs=echo["crs"],
        )
    if not (data.address or "").strip():
        raise ComplaintError("location_required", "需要坐标或地址 give a point (lon/lat or geometry) or an address", {})
    candidate = geocode_address(data.address.strip())
    point = Point(float(candidate.lon), float(candidate.lat), srid=4326)
    echo = {"address": data.address.strip(), "geocoded": getattr(candidate, "label", ""), "crs": "wgs84"}
    return dict(
        point=point,
        echo=echo,
        source=LocationSource.GEOCODED,
        accuracy_m=getattr(candidate, "radius_m", None) or data.accuracy_m,
        confidence=getattr(candidate, "confidence", None),
        input_lon=None,
        input_lat=None,
        crs="wgs84",
        candidate=candidate,
    )


def _check_choice(value: str, choices, name: str) -> None:
    if value not in choices.values:
        raise ComplaintError(
            f"invalid_{name}", f"{name} 无效 must be one of {', '.join(choices.values)}", {name: value}
        )


def _check_input_text(data: IntakeData) -> None:
    """Free text every channel hands in: storable (no NUL, no lone surrogate) and a description within
    DESCRIPTION_CHARS; the API and Open311 check this at their parsers too, this covers every other caller."""
    max_chars = limit("DESCRIPTION_CHARS")
    if len(data.description or "") > max_chars:
        raise ComplaintError(
            "field_too_long",
            f"description 过长 longer than {max_chars} characters",
            {"description": f"最多 at most {max_chars} characters", "max_chars": max_chars},
        )
    texts = {"external_id": data.external_id, "description": data.description, "address": data.address}
    texts.update({f"reporter.{k}": v for k, v in (data.reporter or {}).items() if isinstance(v, str)})
    for name, value in texts.items():
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ComplaintError("invalid_text", f"{name} 文本无效 invalid text: {problem}", {name: problem})


@transaction.atomic
def complaint_intake(*, data: IntakeData, by: Any) -> IntakeResult:
    """Take a complaint in: locate it, ask for the verdict, store it, dispatch it, link repeats.

    Idempotent on `external_id`: the same id again returns the stored complaint (created=False) and changes
    nothing. Allowed to api clients, administrators, and district or street staff for places in their scope.
    """
    permissions.check_intake(by)
    _check_input_text(data)
    external_id = (data.external_id or "").strip()
    if external_id:
        existing = Complaint.objects.filter(external_id=external_id).first()
        if existing is not None:
            return IntakeResult(existing, False)
    else:
        external_id = new_external_id()
    if len(external_id) > 64:
        raise ComplaintError("invalid_external_id", "工单号过长 external_id is longer than 64", {})
    category = category_leaf(data.category)
    urgency = data.urgency or category.urgency
    _check_choice(urgency, Urgency, "urgency")
    _check_choice(data.channel, Channel, "channel")
    if data.location_source:
        _check_choice(data.location_source, LocationSource, "location_source")
    if data.confidence is not None and not 0 <= float(data.confidence) <= 1:
        raise ComplaintError("invalid_confidence", "可信度须在 0–1 confidence must be in 0–1", {})
    received_at = data.received_at or timezone.now()
    if timezone.is_naive(received_at):
        received_at = received_at.replace(tzinfo=LOCAL_TZ)
    problem = date_problem(received_at)
    if problem is not None:
        raise ComplaintError(
            "date_out_of_range", f"received_at 超出日期范围 out of range: {problem}", {"received_at": str(received_at)}
        )
    where = _located(data)
    at = received_at.astimezone(LOCAL_TZ).date()
    verdict = verdict_for(point=where["point"], at=at, input=where["echo"], accuracy_m=where["accuracy_m"])
    result = verdict.as_dict()
    permissions.check_intake(
        by,
        codes=[
            (result.get("district") or {}).get("code", ""),
            (result.get("street") or {}).get("code", ""),
            (result.get("lead") or {}).get("code", ""),
        ],
    )
    complaint = Complaint(
        external_id=external_id,
        channel=data.channel,
        received_at=received_at,
        category=category,
        urgency=urgency,
        description=data.description or "",
        address=(data.address or "")[:300],
        location=where["point"],
        location_source=where["source"],
        input_crs=where["crs"],
        input_lon=where["input_lon"],
        input_lat=where["input_lat"],
        accuracy_m=where["accuracy_m"],
        confidence=where["confidence"],
        reporter=data.reporter or {},
        deadline_at=deadline_for(received_at, urgency),
    )
    _apply_verdict(complaint, result)
    complaint.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            complaint.save()
    except IntegrityError:
        # Another request stored the same ticket between our check and our insert: idempotent all the same.
        existing = Complaint.objects.filter(external_id=external_id).first()
        if existing is None:
            raise
        return IntakeResult(existing, False)
    _history(complaint, "", Status.RECEIVED, by, f"受理 received via {complaint.channel}")
    _dispatch(complaint, result, by)
    link_repeats(complaint=complaint)
    return IntakeResult(complaint, True)


def _apply_verdict(complaint: Complaint, result: dict) -> None:
    """Copy the verdict and the codes it names onto the complaint."""
    district = result.get("district") or {}
    street = result.get("street") or {}
    complaint.verdict = result
    complaint.verdict_method = result.get("method") or ""
    complaint.generation_name = (result.get("generation") or {}).get("name", "")
    complaint.district_code = district.get("code", "")
    complaint.district_name = district.get("name", "")
    complaint.street_code = street.get("code", "")
    complaint.street_name = street.get("name", "")
    complaint.needs_review = bool(result.get("needs_review"))


def _history(complaint: Complaint, old: str, new: str, by: Any, note: str = "") -> StatusChange:
    change = StatusChange(complaint=complaint, from_status=old, to_status=new, by=actor(by), note=note)
    change.full_clean()
    change.save()
    return change


def _set_status(complaint: Complaint, new: str, by: Any, note: str = "") -> None:
    old = complaint.status
    complaint.status = new
    complaint.updated_at = timezone.now()
    complaint.full_clean(validate_unique=False)
    complaint.save()
    _history(complaint, old, new, by, note)


def _assign(
    complaint: Complaint, *, role: str, area: dict | None = None, department=None, first: bool, note=""
) -> Assignment:
    assignment = Assignment(
        complaint=complaint,
        role=role,
        area_code=(area or {}).get("code", ""),
        area_level=(area or {}).get("level", ""),
        department=department,
        unit_name=department.name if department is not None else (area or {}).get("name", ""),
        first_receiver=first,
        note=note,
    )
    assignment.full_clean()
    assignment.save()
    return assignment


def _department_for(category: Category, district_code: str) -> Department | None:
    if not category.department_role:
        return None
    return Department.objects.for_role(category.department_role, district_code=district_code or None).first()


def _dispatch(complaint: Complaint, verdict: dict, by: Any) -> None:
    """直派: the verdict's lead gets the ticket, co-handlers get copies, the owning department too (双派).

    The first unit to receive a ticket leads it (首接负责). Without a street, the district takes it (属地兜底);
    with no area at all, the owning department (if the category has one) leads; otherwise the ticket waits in
    the dispatch queue as `received`.
    """
    lead = verdict.get("lead") or verdict.get("street")
    note = ""
    if lead is None and verdict.get("district"):
        lead = verdict["district"]
        note = "属地兜底：未能确定街道，由区承接 district takes it (no street could be determined)"
    department = _department_for(complaint.category, complaint.district_code)
    units = []
    if lead is not None:
        _assign(complaint, role=AssignmentRole.LEAD, area=lead, first=True, note=note)
        complaint.lead_code, complaint.lead_name = lead["code"], lead["name"]
        units.append(lead["name"])
        for co in verdict.get("co_handlers") or []:
            if co.get("code") != lead["code"]:
                _assign(complaint, role=AssignmentRole.CO_HANDLER, area=co, first=False)
                units.append(f"{co['name']}（协办）")
    if department is not None:
        first = lead is None
        role = AssignmentRole.LEAD if first else AssignmentRole.DEPARTMENT
        _assign(complaint, role=role, department=department, first=first)
        if first:
            complaint.lead_code, complaint.lead_name = department.code, department.name
        units.append(department.name)
    if not units:
        complaint.needs_review = True
        complaint.save(update_fields=["needs_review"])
        return
    message = "派单 dispatched to " + "、".join(units)
    if note:
        message += f"；{note}"
    _set_status(complaint, Status.DISPATCHED, by, message)


# --- repeats ---------------------------------------------------------------------------------------------------


def link_repeats(*, complaint: Complaint, radius_m: float | None = None, window_days: int | None = None) -> int:
    """Link `complaint` to earlier complaints of the same category nearby and recent (重复诉求); returns how many.

    Defaults come from settings.SHAOZI REPEAT_RADIUS_M (250 m) and REPEAT_WINDOW_DAYS (30).
    """
    radius = repeat_radius_m() if radius_m is None else radius_m
    window = repeat_window_days() if window_days is None else window_days
    earlier = (
        Complaint.objects.exclude(pk=complaint.pk)
        .filter(category_id=complaint.category_id)
        .received_between(complaint.received_at - dt.timedelta(days=window), complaint.received_at)
        .within_m(complaint.location, radius)
        .values_list("pk", "distance_m", "received_at")
    )
    links = [
        RepeatLink(
            complaint=complaint,
            earlier_id=pk,
            distance_m=round(distance.m, 2),
            days_apart=round((complaint.received_at - received).total_seconds() / 86400, 3),
        )
        for pk, distance, received in earlier
    ]
    RepeatLink.objects.bulk_create(links, ignore_conflicts=True)
    return len(links)


# --- lifecycle -------------------------------------------------------------------------------------------------

# Moves a unit makes itself; dispatch and return have their own services.
_DIRECT_MOVES = (Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.REOPENED)


@transaction.atomic
def complaint_transition(*, complaint: Complaint, to: str, by: Any, note: str = "") -> Complaint:
    """Move a complaint along its lifecycle (签收 → 办理中 → 办结 → 结案; 重新办理).

    The unit holding it (lead or department, or their district) moves it; closing and reopening may also be done
    by the hotline (api client), which calls the citizen back.
    """
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    holders = complaint.assignments.active().exclude(role=AssignmentRole.CO_HANDLER).select_related("department")
    permissions.check_handler(
        by,
        complaint,
        list(holders),
        "变更办理状态 change the complaint's status",
        also_roles=permissions.HOTLINE_ROLES if to in (Status.CLOSED, Status.REOPENED) else (),
    )
    if to not in _DIRECT_MOVES:
        raise ComplaintError(
            "invalid_status",
            f"状态无效 status must be one of {', '.join(_DIRECT_MOVES)} (dispatch and return have their own calls)",
            {"to": to},
        )
    if to not in TRANSITIONS.get(complaint.status, ()):
        raise ComplaintError(
            "invalid_transition",
            f"不能从 {complaint.status} 变为 {to} transition not allowed",
            {"from": complaint.status, "to": to, "allowed": list(TRANSITIONS.get(complaint.status, ()))},
            status_code=409,
        )
    now = timezone.now()
    if to == Status.RESOLVED:
        complaint.resolved_at = now
    elif to == Status.CLOSED:
        complaint.closed_at = now
    elif to == Status.REOPENED:
        complaint.resolved_at = complaint.closed_at = None
        complaint.deadline_at = deadline_for(now, complaint.urgency)
    _set_status(complaint, to, by, note)
    return complaint


@transaction.atomic
def complaint_rate(*, complaint: Complaint, satisfaction: str, by: Any) -> Complaint:
    """Record the caller's satisfaction (满意度) once the complaint is resolved or closed (hotline or admin)."""
    permissions.check_rate(by)
    _check_choice(satisfaction, Satisfaction, "satisfaction")
    if complaint.status not in (Status.RESOLVED, Status.CLOSED):
        raise ComplaintError(
            "invalid_transition", "办结后才能评价 rate after it is resolved", {"status": complaint.status}, 409
        )
    complaint.satisfaction = satisfaction
    complaint.updated_at = timezone.now()
    complaint.full_clean(validate_unique=False)
    complaint.save(update_fields=["satisfaction", "updated_at"])
    _history(complaint, complaint.status, complaint.status, by, f"满意度 satisfaction: {satisfaction}")
    return complaint


# --- returns (退单) and their review ------------------------------------------------------------------------------


@transaction.atomic
def complaint_return(
    *,
    complaint: Complaint,
    reason: str,
    note: str,
    assignment: Assignment | None = None,
    suggested_code: str = "",
    by: Any,
) -> ReturnRequest:
    """A unit gives a ticket back (退单) with a reason code and a note; it goes to the review queue.

    Without `assignment`, the active lead returns it and the complaint becomes `returned`. A co-handler or a
    department returning its own copy leaves the complaint's status alone.
    """
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _check_choice(reason, ReturnReason, "reason")
    if not (note or "").strip():
        raise ComplaintError("note_required", "退单须说明理由 a return needs a note", {"note": note})
    if assignment is None:
        assignment = complaint.assignments.active().filter(role=AssignmentRole.LEAD).first()
    if assignment is None or assignment.complaint_id != complaint.pk or assignment.state != AssignmentState.ACTIVE:
        raise ComplaintError(
            "not_assigned", "该单位当前未持有此工单 the unit does not hold this complaint", {}, status_code=409
        )
    permissions.check_handler(by, complaint, [assignment], "退单 return the complaint")
    is_lead = assignment.role == AssignmentRole.LEAD
    if is_lead and Status.RETURNED not in TRANSITIONS.get(complaint.status, ()):
        raise ComplaintError(
            "invalid_transition",
            f"状态 {complaint.status} 不能退单 cannot return in this state (sign-in ends the right to return)",
            {"status": complaint.status},
            status_code=409,
        )
    assignment.state = AssignmentState.RETURNED
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["state", "ended_at"])
    request = ReturnRequest(
        complaint=complaint,
        assignment=assignment,
        reason=reason,
        note=note.strip(),
        suggested_code=suggested_code or "",
        by=actor(by),
    )
    request.full_clean()
    request.save()
    label = ReturnReason(reason).label
    if is_lead:
        _set_status(complaint, Status.RETURNED, by, f"{assignment.unit_name} 退单：{label}；{note.strip()}")
    else:
        _history(complaint, complaint.status, complaint.status, by, f"{assignment.unit_name} 退回抄送：{label}")
    return request


def _pending(request: ReturnRequest, by: Any) -> ReturnRequest:
    request = ReturnRequest.objects.select_for_update().select_related("complaint", "assignment").get(pk=request.pk)
    permissions.check_reviewer(by, request.complaint, "审核退单 review a return")
    if request.decision != ReturnDecision.PENDING:
        raise ComplaintError(
            "already_decided", "该退单已审核 this return was already decided", {"decision": request.decision}, 409
        )
    return request


def _decide(request: ReturnRequest, decision: str, by: Any, note: str) -> None:
    request.decision = decision
    request.decided_by = actor(by)
    request.decided_at = timezone.now()
    request.decision_note = note or ""
    request.full_clean()
    request.save()


def _unit(code: str, at: dt.date) -> tuple[dict | None, Department | None]:
    """An area (street or district of the generation in force) or a department by code."""
    area = Area.objects.current(at).filter(code=code, level__in=[AreaLevel.STREET, AreaLevel.DISTRICT]).first()
    if area is not None:
        return {"code": area.code, "name": area.name, "level": area.level}, None
    department = Department.objects.filter(code=code).first()
    if department is not None:
        return None, department
    raise ComplaintError("unknown_unit", f"没有编码为 {code} 的街道、区或部门 no such unit", {"to": code}, 400)


@transaction.atomic
def return_redispatch(*, return_request: ReturnRequest, to_code: str, by: Any, note: str = "") -> Assignment:
    """Review outcome: send the returned ticket to another unit (改派); it leads from now on."""
    request = _pending(return_request, by)
    complaint = Complaint.objects.select_for_update().get(pk=request.complaint_id)
    at = complaint.received_at.astimezone(LOCAL_TZ).date()
    area, department = _unit(to_code, at)
    if (area or {}).get("code") == request.assignment.area_code and department is None:
        raise ComplaintError("same_unit", "改派对象与退单单位相同 re-dispatch to the unit that returned it", {}, 400)
    role = request.assignment.role
    assignment = _assign(complaint, role=role, area=area, department=department, first=False, note=note)
    _decide(request, ReturnDecision.REDISPATCHED, by, note)
    if role == AssignmentRole.LEAD:
        complaint.lead_code = area["code"] if area else department.code
        complaint.lead_name = assignment.unit_name
        if area and area["level"] == AreaLevel.STREET and area["code"] != complaint.street_code:
            complaint.needs_review = False
        _set_status(
            complaint, Status.DISPATCHED, by, f"改派 re-dispatched to {assignment.unit_name}；{note}".rstrip("；")
        )
    else:
        _history(complaint, complaint.status, complaint.status, by, f"改派抄送 copy to {assignment.unit_name}")
    return assignment


@transaction.atomic
def return_reject(*, return_request: ReturnRequest, by: Any, note: str = "") -> Assignment:
    """Review outcome: the return is not accepted and the unit keeps the ticket (驳回)."""
    request = _pending(return_request, by)
    if not (note or "").strip():
        raise ComplaintError("note_required", "驳回须说明理由 a rejection needs a note", {})
    complaint = Complaint.objects.select_for_update().get(pk=request.complaint_id)
    assignment = request.assignment
    assignment.state = AssignmentState.ACTIVE
    assignment.ended_at = None
    assignment.save(update_fields=["state", "ended_at"])
    _decide(request, ReturnDecision.REJECTED, by, note)
    if assignment.role == AssignmentRole.LEAD:
        _set_status(complaint, Status.DISPATCHED, by, f"退单驳回，{assignment.unit_name} 继续办理：{note}")
    return assignment


@transaction.atomic
def return_dispute(*, return_request: ReturnRequest, by: Any, note: str = "") -> ReturnRequest:
    """Review outcome: the place itself is contested, so the return becomes a boundary dispute (管辖争议).

    The dispute is opened by the callable named in settings.SHAOZI["RETURN_DISPUTE_OPENER"] (dotted path; default
    `complaints.hooks.open_return_dispute`, which uses jurisdictions' disputes), called as
    opener(complaint=…, return_request=…, by=…) and returning a reference such as "dispute:7" (empty when no
    dispute service is installed: the return then waits, marked `disputed`). The complaint stays `returned`; the
    ruling's callback (`complaints.hooks.ruling_confirmed`) re-dispatches it to the unit the ruling names.
    """
    request = _pending(return_request, by)
    complaint = Complaint.objects.get(pk=request.complaint_id)
    opener = import_string(option("RETURN_DISPUTE_OPENER", "complaints.hooks.open_return_dispute"))
    reference = str(opener(complaint=complaint, return_request=request, by=by) or "")
    request.dispute_ref = reference[:100]
    _decide(request, ReturnDecision.DISPUTED, by, note)
    _history(complaint, complaint.status, complaint.status, by, f"转入管辖争议 disputed {reference}".strip())
    return request


@transaction.atomic
def complaint_redispatch(*, complaint: Complaint, to_code: str, by: Any, note: str = "") -> Assignment:
    """Give the lead to another unit (a reopened case, a dispatcher's correction); the current lead's assignment
    ends. District staff of the complaint's district or administrators."""
    permissions.check_reviewer(by, complaint, "改派 re-dispatch the complaint")
    return redispatch_per_ruling(complaint=complaint, to_code=to_code, by=by, note=note)


@transaction.atomic
def redispatch_per_ruling(*, complaint: Complaint, to_code: str, by: Any, note: str = "") -> Assignment:
    """Re-dispatch without a scope check: the authority is a ruling that took effect (every district involved
    confirmed it), whoever confirmed last. Called by `complaints.hooks.ruling_confirmed`."""
    permissions.require_actor(by)
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if Status.DISPATCHED not in TRANSITIONS.get(complaint.status, ()):
        raise ComplaintError(
            "invalid_transition", f"状态 {complaint.status} 不能改派 cannot re-dispatch now", {}, status_code=409
        )
    at = complaint.received_at.astimezone(LOCAL_TZ).date()
    area, department = _unit(to_code, at)
    now = timezone.now()
    complaint.assignments.active().filter(role=AssignmentRole.LEAD).update(state=AssignmentState.ENDED, ended_at=now)
    first = not complaint.assignments.exists()
    assignment = _assign(complaint, role=AssignmentRole.LEAD, area=area, department=department, first=first, note=note)
    complaint.lead_code = area["code"] if area else department.code
    complaint.lead_name = assignment.unit_name
    _set_status(complaint, Status.DISPATCHED, by, f"改派 re-dispatched to {assignment.unit_name}；{note}".rstrip("；"))
    return assignment


# --- reference data --------------------------------------------------------------------------------------------


@transaction.atomic
def catalogue_load(*, source: Path) -> int:
    """Create or update the three-level catalogue from JSON ({"categories": [{code, name, children …}]}).

    Idempotent on `code`; items missing from the file are deactivated, never deleted (complaints point at them).
    """
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    seen: set[str] = set()

    def walk(items: list[dict], parent: Category | None, level: int) -> None:
        for item in items:
            category = Category.objects.filter(code=item["code"]).first() or Category(code=item["code"])
            category.name = item["name"]
            category.level = level
            category.parent = parent
            category.department_role = item.get("role", "")
            category.urgency = item.get("urgency", parent.urgency if parent else Urgency.GENERAL)
            category.description = item.get("description", "")
            category.keywords = item.get("keywords", "")
            category.active = True
            category.full_clean()
            category.save()
            seen.add(category.code)
            walk(item.get("children", []), category, level + 1)

    walk(data["categories"], None, 1)
    Category.objects.exclude(code__in=seen).update(active=False)
    return len(seen)


@transaction.atomic
def calendar_load(*, source: Path) -> int:
    """Load one year's holidays and make-up working days (JSON, see fixtures/complaints/); replaces that year.

    {"year": 2025, "source": "…通知", "holidays": [{"name", "from", "to"}], "workdays": [{"name", "date"}]}
    """
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    year = int(data["year"])
    days: dict[dt.date, CalendarDay] = {}
    for holiday in data.get("holidays", []):
        start = dt.date.fromisoformat(holiday["from"])
        end = dt.date.fromisoformat(holiday.get("to", holiday["from"]))
        day = start
        while day <= end:
            days[day] = CalendarDay(date=day, is_workday=False, name=holiday["name"])
            day += dt.timedelta(days=1)
    for workday in data.get("workdays", []):
        day = dt.date.fromisoformat(workday["date"])
        if day in days:
            raise ComplaintError("calendar_conflict", f"{day} 既是假日又是工作日 both holiday and workday", {})
        days[day] = CalendarDay(date=day, is_workday=True, name=workday.get("name", "调休上班"))
    for day in days.values():
        if day.date.year != year:
            raise ComplaintError("calendar_year", f"{day.date} 不属于 {year} year mismatch", {})
        day.full_clean(validate_unique=False)
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(days.values())
    CalendarYear.objects.update_or_create(year=year, defaults={"source": data.get("source", "")[:300]})
    return len(days)


def calendar() -> WorkCalendar:
    """The whole loaded calendar (small: a few dozen rows a year)."""
    return WorkCalendar(
        exceptions=dict(CalendarDay.objects.values_list("date", "is_workday")),
        years=set(CalendarYear.objects.values_list("year", flat=True)),
    )


# --- joint cases (街乡吹哨、部门报到) ----------------------------------------------------------------------------


def _audit(by: Any, action: str, obj, changes: dict) -> None:
    """Every joint-case state change goes to the shared audit trail (jurisdictions' AuditEntry)."""
    audit_log(actor=by if getattr(by, "pk", None) else None, action=action, obj=obj, changes=changes)


def _user_or_none(by: Any):
    return by if getattr(by, "pk", None) else None


def _summoned(code: str) -> tuple[str, str, str]:
    """(kind, code, name) of a party to summon: a department, a street or a district, by code."""
    code = str(code).strip()
    department = Department.objects.filter(code=code).first()
    if department is not None:
        return PartyKind.DEPARTMENT, department.code, department.name
    area = Area.objects.current().filter(code=code, level__in=[AreaLevel.STREET, AreaLevel.DISTRICT]).first()
    if area is not None:
        return area.level, area.code, area.name
    raise ComplaintError("unknown_unit", f"没有编码为 {code} 的部门、街道或区 no such unit", {"code": code}, 400)


def _lead_areas(codes: list[str]) -> list[Area]:
    leads = []
    for code in dict.fromkeys(str(c).strip() for c in codes):
        area = Area.objects.current().filter(code=code, level__in=[AreaLevel.STREET, AreaLevel.DISTRICT]).first()
        if area is None:
            raise ComplaintError(
                "unknown_lead",
                f"牵头单位须为街道或区编码 a lead must be a street or district code: {code}",
                {"lead": code},
            )
        leads.append(area)
    if not leads:
        raise ComplaintError("lead_required", "至少需要一个牵头单位 give at least one lead", {})
    return leads


def _dispute_refs(disputes) -> list[str]:
    from jurisdictions.models import Dispute

    refs = []
    for item in disputes:
        text = str(item).strip()
        number = text.removeprefix("dispute:")
        if not number.isdigit() or not Dispute.objects.filter(pk=int(number)).exists():
            raise ComplaintError("unknown_dispute", f"没有该争议 no dispute {text}", {"dispute": text}, 400)
        refs.append(f"dispute:{int(number)}")
    return list(dict.fromkeys(refs))


def _complaint_ids(complaints) -> list[int]:
    ids = []
    for item in complaints:
        try:
            ids.append(int(item))
        except (TypeError, ValueError):
            raise ComplaintError("unknown_complaint", f"诉求编号无效 invalid complaint id {item!r}", {}) from None
    ids = list(dict.fromkeys(ids))
    missing = sorted(set(ids) - set(Complaint.objects.filter(pk__in=ids).values_list("pk", flat=True)))
    if missing:
        raise ComplaintError("unknown_complaint", "没有这些诉求 no such complaints", {"complaints": missing}, 400)
    return ids


def _case_create(
    *,
    by: Any,
    title: str,
    leads: list[Area],
    summon: list[str],
    complaint_ids: list[int],
    refs: list[str],
    check_in_hours: float,
    description: str = "",
) -> JointCase:
    if not (title or "").strip():
        raise ComplaintError("title_required", "需要标题 a joint case needs a title", {})
    if not 0 < float(check_in_hours) <= 720:
        raise ComplaintError(
            "invalid_check_in_hours", "签到时限须在 0–720 小时 check_in_hours must be in (0, 720]", {}, 400
        )
    parties = [_summoned(code) for code in dict.fromkeys(str(c).strip() for c in summon if str(c).strip())]
    if not parties:
        raise ComplaintError("summon_required", "至少召集一个单位 summon at least one department or street", {})
    now = timezone.now()
    case = JointCase(
        title=title.strip()[:200],
        description=description or "",
        lead_codes=[a.code for a in leads],
        district_codes=sorted({a.code[:6] for a in leads}),
        complaint_ids=complaint_ids,
        refs=refs,
        blown_by=_user_or_none(by),
        blown_by_label=actor(by),
        created_at=now,
    )
    case.full_clean()
    case.save()
    deadline = now + dt.timedelta(hours=float(check_in_hours))
    for kind, code, name in parties:
        party = JointParty(case=case, kind=kind, code=code, name=name, deadline_at=deadline)
        party.full_clean()
        party.save()
    _audit(
        by,
        "joint_case.open",
        case,
        {
            "status": [None, case.status],
            "lead_codes": case.lead_codes,
            "summoned": [code for _, code, _ in parties],
            "complaints": complaint_ids,
            "refs": refs,
        },
    )
    return case


@transaction.atomic
def whistle_blow(
    *,
    by: Any,
    title: str,
    leads: list[str],
    summon: list[str],
    complaints=(),
    disputes=(),
    check_in_hours: float = JOINT_CHECK_IN_HOURS,
    description: str = "",
) -> JointCase:
    """吹哨: a street or district opens a joint case, summoning departments and/or other streets to check in.

    `leads` are area codes (several for a cross-district case: the other district's street may be named as a
    co-lead); `summon` are department or area codes, each given `check_in_hours` to check in (签到);
    `complaints` are complaint ids and `disputes` dispute ids or "dispute:<id>" references shown with the case.
    """
    permissions.check_whistle_role(by)
    areas = _lead_areas(list(leads))
    permissions.check_whistle(by, [a.code for a in areas])
    complaint_ids, refs = _complaint_ids(complaints), _dispute_refs(disputes)
    _check_links(by, complaint_ids, refs)
    return _case_create(
        by=by,
        title=title,
        leads=areas,
        summon=list(summon),
        complaint_ids=complaint_ids,
        refs=refs,
        check_in_hours=check_in_hours,
        description=description,
    )


def _check_links(by: Any, complaint_ids: list[int], refs: list[str]) -> None:
    """A user links only complaints they may read and disputes touching their area (the case shows them)."""
    from jurisdictions.models import Dispute

    scope = permissions.actor_scope(by)
    if scope is None:
        return
    readable = set(Complaint.objects.readable_by(scope).filter(pk__in=complaint_ids).values_list("pk", flat=True))
    hidden = sorted(set(complaint_ids) - readable)
    dispute_ids = [int(ref.split(":", 1)[1]) for ref in refs]
    disputes = Dispute.objects.filter(pk__in=dispute_ids).only("pk", "contested_codes")
    hidden_disputes = [
        f"dispute:{d.pk}"
        for d in disputes
        if not (scope.city_wide or any(scope.covers(code) for code in d.contested_codes))
    ]
    permissions.require(
        not hidden and not hidden_disputes,
        scope,
        "只能关联你辖区内的诉求和争议 you may only link complaints and disputes of your area",
        complaints=hidden,
        disputes=hidden_disputes,
    )


@transaction.atomic
def joint_case_start(
    *, title: str, street_code: str, department_codes: list[str], complaint_refs: list[str], by: Any
) -> JointCase:
    """Start a joint case from a fix plan (hotspots): the plan's street leads and its departments are summoned.

    `by` is the user starting it (or the system principal): whoever may blow the whistle for the plan's street
    (its street or district staff, an administrator) — a planner may not. Numeric refs that name stored complaints
    are linked by id; other refs (synthetic demo tickets) are kept as they are.
    """
    permissions.check_whistle_role(by)
    leads = _lead_areas([street_code])
    permissions.check_whistle(by, [a.code for a in leads])
    numbers = [int(r) for r in complaint_refs if str(r).isdigit()]
    stored = set(Complaint.objects.filter(pk__in=numbers).values_list("pk", flat=True))
    ids = [n for n in dict.fromkeys(numbers) if n in stored]
    others = [str(r) for r in dict.fromkeys(complaint_refs) if not (str(r).isdigit() and int(r) in stored)]
    return _case_create(
        by=by,
        title=title,
        leads=leads,
        summon=list(department_codes),
        complaint_ids=ids,
        refs=others,
        check_in_hours=JOINT_CHECK_IN_HOURS,
    )


def _open_case(case: JointCase) -> JointCase:
    case = JointCase.objects.select_for_update().get(pk=case.pk)
    if case.status != JointCaseStatus.OPEN:
        raise ComplaintError("case_closed", "联合办案已结案 the joint case is closed", {"status": case.status}, 409)
    return case


@transaction.atomic
def check_in(*, case: JointCase, by: Any, party: str | JointParty) -> JointParty:
    """报到 (签到): a summoned party's staff check in for their party; late check-ins are kept and marked late."""
    case = _open_case(case)
    code = party.code if isinstance(party, JointParty) else str(party).strip()
    row = case.parties.select_for_update().filter(code=code).first()
    if row is None:
        raise ComplaintError("not_summoned", f"{code} 未被召集 was not summoned to this case", {"party": code}, 404)
    permissions.check_party(by, row, "签到 check in")
    if row.checked_in_at is not None:
        raise ComplaintError(
            "already_checked_in",
            f"{row.name} 已签到 already checked in",
            {"party": code, "checked_in_at": row.checked_in_at.isoformat()},
            409,
        )
    row.checked_in_at = timezone.now()
    row.checked_in_by = _user_or_none(by)
    row.checked_in_label = actor(by)
    row.full_clean()
    row.save()
    _audit(by, "joint_case.check_in", case, {"party": code, "late": row.late})
    return row


@transaction.atomic
def case_note_add(*, case: JointCase, by: Any, text: str) -> JointNote:
    """A lead or a summoned party adds a note (办理记录) to an open case."""
    case = _open_case(case)
    permissions.check_participant(by, case, list(case.parties.all()), "添加记录 add a note")
    if not (text or "").strip():
        raise ComplaintError("text_required", "记录不能为空 a note needs text", {})
    note = JointNote(case=case, text=text.strip(), by=_user_or_none(by), by_label=actor(by))
    note.full_clean()
    note.save()
    _audit(by, "joint_case.note", case, {"note": note.pk})
    return note


@transaction.atomic
def case_task_add(*, case: JointCase, by: Any, text: str, assignee: str = "") -> JointTask:
    """A lead adds a task, optionally for one summoned party (by its code)."""
    case = _open_case(case)
    permissions.check_manager(by, case, "分派任务 add a task")
    if not (text or "").strip():
        raise ComplaintError("text_required", "任务不能为空 a task needs text", {})
    party = None
    if assignee:
        party = case.parties.filter(code=assignee).first()
        if party is None:
            raise ComplaintError("not_summoned", f"{assignee} 未被召集 was not summoned", {"assignee": assignee}, 400)
    task = JointTask(case=case, text=text.strip(), assignee=party, created_by_label=actor(by))
    task.full_clean()
    task.save()
    _audit(by, "joint_case.task_add", case, {"task": task.pk, "assignee": assignee or None})
    return task


@transaction.atomic
def case_task_complete(*, task: JointTask, by: Any) -> JointTask:
    """The assigned party (or a lead) marks a task done."""
    task = JointTask.objects.select_for_update(of=("self",)).select_related("case", "assignee").get(pk=task.pk)
    case = _open_case(task.case)
    scope = permissions.actor_scope(by)
    if not (scope is None or permissions.manages_case(scope, case)):
        if task.assignee is None:
            permissions.check_manager(by, case, "完成任务 complete the task")
        else:
            permissions.check_party(by, task.assignee, "完成任务 complete the task")
    if task.done:
        raise ComplaintError("already_done", "任务已完成 the task is already done", {"task": task.pk}, 409)
    task.done, task.done_at, task.done_by_label = True, timezone.now(), actor(by)
    task.full_clean()
    task.save()
    _audit(by, "joint_case.task_done", case, {"task": task.pk})
    return task


@transaction.atomic
def case_close(*, case: JointCase, by: Any, note: str = "") -> JointCase:
    """A lead (or an administrator) closes the case (结案); who never checked in stays on record."""
    case = _open_case(case)
    permissions.check_manager(by, case, "结案 close the case")
    case.status = JointCaseStatus.CLOSED
    case.closed_at = timezone.now()
    case.closed_by_label = actor(by)
    case.close_note = note or ""
    case.full_clean()
    case.save()
    missing = list(case.parties.filter(checked_in_at__isnull=True).values_list("code", flat=True))
    _audit(by, "joint_case.close", case, {"status": ["open", "closed"], "never_checked_in": missing})
    return case
