"""What every complaint write shares: errors, the acting principal's label, status history, assignments and
direct dispatch (直派) of a verdict to its units."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from jurisdictions.models import Department

from .. import permissions
from ..constants import (
    AssignmentRole,
    Status,
)
from ..models import (
    Assignment,
    Category,
    Complaint,
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
