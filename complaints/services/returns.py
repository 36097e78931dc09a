"""Returns (退单) and their review: re-dispatch, reject, or send to a boundary dispute; re-dispatch per ruling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from jurisdictions.constants import AreaLevel
from jurisdictions.models import Area, Department

from .. import permissions
from ..constants import (
    TRANSITIONS,
    AssignmentRole,
    AssignmentState,
    ReturnDecision,
    ReturnReason,
    Status,
    option,
)
from ..deadlines import LOCAL_TZ
from ..models import (
    Assignment,
    Complaint,
    ReturnRequest,
)
from .base import ComplaintError, _assign, _history, _set_status, actor
from .intake import _check_choice

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
