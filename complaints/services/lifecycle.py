"""A complaint's status changes (签收, 办理, 办结, 回访) and the caller's satisfaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import permissions
from ..constants import (
    TRANSITIONS,
    AssignmentRole,
    Satisfaction,
    Status,
)
from ..deadlines import deadline_for
from ..models import (
    Complaint,
)
from .base import ComplaintError, _history, _set_status
from .intake import _check_choice

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


# Statuses in which the unit holding a complaint records progress notes (it has taken the complaint on).
_NOTE_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED)
NOTE_MAX_CHARS = 4000


@transaction.atomic
def complaint_note_add(*, complaint: Complaint, by: Any, note: str) -> Complaint:
    """记录办理进展 The unit holding the complaint records a progress note, as often as it likes.

    Who may: the same as for status changes (`permissions.check_handler`: the lead or department holding it, their
    district, an administrator). The note is a history row whose status does not change (old == new).
    """
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    holders = complaint.assignments.active().exclude(role=AssignmentRole.CO_HANDLER).select_related("department")
    permissions.check_handler(by, complaint, list(holders), "记录办理进展 record progress")
    note = (note or "").strip()
    if not note:
        raise ComplaintError("note_required", "请填写办理进展 a progress note needs text", {"note": note})
    if len(note) > NOTE_MAX_CHARS:
        raise ComplaintError(
            "field_too_long", f"办理进展最多 {NOTE_MAX_CHARS} 字 a note has at most {NOTE_MAX_CHARS} characters"
        )
    if complaint.status not in _NOTE_STATUSES:
        raise ComplaintError(
            "invalid_transition",
            "签收后、办结前才能记录进展 progress is recorded after accepting and before resolving",
            {"status": complaint.status, "allowed": list(_NOTE_STATUSES)},
            status_code=409,
        )
    complaint.updated_at = timezone.now()
    complaint.save(update_fields=["updated_at"])
    _history(complaint, complaint.status, complaint.status, by, note)
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
    _history(complaint, complaint.status, complaint.status, by, f"满意度：{Satisfaction(satisfaction).label}")
    return complaint
