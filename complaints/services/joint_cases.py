"""Joint cases (街乡吹哨、部门报到): blowing the whistle, check-ins, notes, tasks, closing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jurisdictions.constants import AreaLevel
from jurisdictions.disputes import audit_log
from jurisdictions.models import Area, Department

from .. import permissions
from ..constants import (
    JOINT_CHECK_IN_HOURS,
    JointCaseStatus,
    PartyKind,
)
from ..models import (
    Complaint,
    JointCase,
    JointNote,
    JointParty,
    JointTask,
)

# --- joint cases (街乡吹哨、部门报到) ----------------------------------------------------------------------------
from .base import ComplaintError, actor


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
