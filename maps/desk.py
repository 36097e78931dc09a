"""工作台 The staff desk: a unit's complaints with their deadlines, one complaint with the actions its user may
take, returns to review, the call-back, and the write forms of the dispute and joint-case pages.

Every POST goes through the apps' services, which check the user's scope; a refusal (ScopeDenied) is answered
403 with the service's reason and nothing is written. Which actions a page offers is asked of the same checks
(`complaints.permissions`, `jurisdictions.disputes.may_rule`), so a form is shown only to a user who may use it.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from complaints import permissions as complaint_permissions
from complaints import selectors as complaint_selectors
from complaints import services as complaint_services
from complaints.constants import (
    OPEN_STATUSES,
    TRANSITIONS,
    AssignmentRole,
    ReturnDecision,
    Status,
)
from complaints.models import Complaint, JointCase, JointTask, ReturnRequest
from hotspots import selectors as hotspot_selectors
from hotspots import services as hotspot_services
from hotspots.constants import FixKind, Layer
from hotspots.models import FixPlan, Parcel
from jurisdictions import disputes as dispute_services
from jurisdictions.constants import DisputeOrigin, Role
from jurisdictions.models import Building, Department, Dispute
from jurisdictions.permissions import ScopeDenied, scope_for

from .labels import choices
from .selectors import area_names

PAGE_SIZE = 25


def _may(check, *args, **kwargs) -> bool:
    """True when a permission check passes (it raises ScopeDenied otherwise)."""
    try:
        check(*args, **kwargs)
    except ScopeDenied:
        return False
    return True


def _denied(request: HttpRequest, exc: ScopeDenied) -> HttpResponse:
    return render(request, "maps/desk_denied.html", {"message": exc.message}, status=403)


def desk_action(view):
    """A desk POST: login, POST only, ScopeDenied → 403 with the reason; a service's refusal of the request itself
    (ComplaintError, DisputeError) → a message on the page it came from."""

    @login_required
    @require_POST
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ScopeDenied as exc:
            return _denied(request, exc)
        except (
            complaint_services.ComplaintError,
            dispute_services.DisputeError,
            hotspot_services.HotspotsError,
        ) as exc:
            messages.error(request, exc.message)
            return redirect(request.POST.get("next") or request.META.get("HTTP_REFERER") or reverse("desk"))

    return wrapped


def _readable_complaint(request: HttpRequest, pk: int) -> Complaint:
    """The complaint if the user may read it; 404 when it does not exist, ScopeDenied when it is not theirs."""
    complaint = complaint_selectors.complaint_get(pk=pk)
    if complaint is None:
        raise Http404("没有该诉求 no such complaint")
    scope = scope_for(request.user)
    complaint_permissions.require(
        complaint_permissions.may_read_complaint(scope, complaint),
        scope,
        "该诉求不在你的辖区 the complaint is outside your scope",
    )
    return complaint


# --- the desk -----------------------------------------------------------------------------------------------------


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """工单 The user's unit's complaints, soonest deadline first, with filters, search and pages; district staff
    also get their returns to review, the hotline its call-backs, planners the lots to plan for."""
    scope = scope_for(request.user)
    params = request.GET
    status = params.get("status", "open")
    statuses = None if status == "open" else (list(Status.values) if status == "all" else [status])
    if statuses and not set(statuses) <= set(Status.values):
        statuses = None
    if scope.role == Role.API_CLIENT and "status" not in params:
        status, statuses = Status.RESOLVED, [Status.RESOLVED]  # the hotline calls back resolved complaints
    overdue = {"yes": True, "no": False}.get(params.get("overdue", ""))
    # ?street= / ?district= (the assessment page links here): a narrower view within the user's own queue.
    street, district = (_area_code(params.get(key)) for key in ("street", "district"))
    queue = complaint_selectors.desk_queue(
        scope=scope,
        status=statuses,
        category=params.get("category") or None,
        overdue=overdue,
        search=(params.get("q") or "").strip()[:100],
        street=street,
        district=district,
    )
    page = Paginator(queue, PAGE_SIZE).get_page(params.get("page"))
    reviews = []
    if scope.role in (Role.DISTRICT, Role.ADMIN):
        reviews = [
            r
            for r in complaint_selectors.return_queue(scope=scope)[:50]
            if _may(complaint_permissions.check_reviewer, request.user, r.complaint, "审核退单 review a return")
        ]
    lots = []
    if scope.role in (Role.PLANNER, Role.ADMIN):
        run = hotspot_selectors.run_get(layer=Layer.IDLE_LOTS)
        if run is not None:
            lots = list(hotspot_selectors.idle_lot_list(run=run).order_by("rank")[:10])
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "maps/desk.html",
        {
            "scope": scope,
            "page": page,
            "complaints": list(page.object_list),
            "map_points": [
                {
                    "id": c.pk,
                    "lon": round(c.location.x, 6),
                    "lat": round(c.location.y, 6),
                    "label": f"{c.external_id} {c.category.name}",
                    "overdue": complaint_selectors.is_overdue(c),
                    "url": reverse("desk-complaint", args=[c.pk]),
                }
                for c in page.object_list
            ],
            "reviews": reviews,
            "lots": lots,
            "status": status,
            "statuses": [("open", "未办结", "still being handled"), ("all", "全部", "all"), *choices("status")],
            "overdue": params.get("overdue", ""),
            "q": params.get("q", ""),
            "category": params.get("category", ""),
            "categories": complaint_selectors.category_tree(),
            "query": query.urlencode(),
            "unit": _unit_name(scope),
            "street": street,
            "district": district,
            "area_filter": [
                (key, code, area_names([code]).get(code, code))
                for key, code in (("street", street), ("district", district))
                if code
            ],
        },
    )


def _area_code(text: str | None) -> str:
    """A street or district code from the query string ("" for anything that is not one)."""
    text = (text or "").strip()
    return text if text.isdigit() and len(text) <= 20 else ""


def _unit_name(scope) -> str:
    if scope.department_code:
        department = Department.objects.filter(code=scope.department_code).first()
        return department.name if department else scope.department_code
    code = scope.street_code or scope.district_code
    if code:
        return area_names([code]).get(code, code)
    return "全市 city"


# --- one complaint ------------------------------------------------------------------------------------------------


def complaint_actions(user, complaint: Complaint) -> dict:
    """Which desk actions `user` may take on `complaint` now: the services' own checks, asked in advance."""
    scope = scope_for(user)
    active = list(complaint.assignments.active().select_related("department"))
    holders = [a for a in active if a.role != AssignmentRole.CO_HANDLER]
    moves = TRANSITIONS.get(complaint.status, ())
    handler = bool(holders) and _may(complaint_permissions.check_handler, user, complaint, holders, "办理 handle")
    own = [
        a
        for a in active
        if _may(complaint_permissions.check_handler, user, complaint, [a], "退单 return")
        and (a.role != AssignmentRole.LEAD or Status.RETURNED in moves)
    ]
    if scope.role == Role.ADMIN:
        own = [a for a in own if a.role == AssignmentRole.LEAD]
    pending = [r for r in complaint.returns.all() if r.decision == ReturnDecision.PENDING]
    reviewer = bool(pending) and _may(complaint_permissions.check_reviewer, user, complaint, "审核退单 review")
    hotline = _may(complaint_permissions.check_rate, user) and scope.role in (Role.API_CLIENT, Role.ADMIN)
    codes = [complaint.district_code, complaint.street_code, complaint.lead_code]
    in_area = scope.role == Role.ADMIN or (
        scope.role in (Role.DISTRICT, Role.STREET) and any(c and scope.covers(c) for c in codes)
    )
    return {
        "accept": handler and Status.ACCEPTED in moves,
        # The first note moves it to 办理中; later ones are progress notes (the status stays).
        "progress": handler and (Status.IN_PROGRESS in moves or complaint.status == Status.IN_PROGRESS),
        "resolve": handler and Status.RESOLVED in moves,
        "return_assignments": own,
        "review": pending[0] if reviewer else None,
        "callback": hotline and complaint.status == Status.RESOLVED,
        "reopen": hotline and complaint.status == Status.CLOSED,
        "dispute": in_area and complaint.needs_review and complaint.status in OPEN_STATUSES,
        "whistle": in_area and _may(complaint_permissions.check_whistle_role, user),
    }


@login_required
def complaint_page(request: HttpRequest, pk: int) -> HttpResponse:
    """诉求详情 History, verdict in words, assignments, returns, and the actions this user may take."""
    try:
        complaint = _readable_complaint(request, pk)
    except ScopeDenied as exc:
        return _denied(request, exc)
    verdict = complaint_selectors.complaint_verdict(complaint)
    actions = complaint_actions(request.user, complaint)
    disputes = [r.dispute_ref.split(":", 1)[1] for r in complaint.returns.all() if r.dispute_ref.startswith("dispute:")]
    scope = scope_for(request.user)
    district = complaint.district_code or complaint.lead_code[:6]
    return render(
        request,
        "maps/desk_complaint.html",
        {
            "complaint": complaint,
            "verdict": verdict,
            "candidates": [
                {**c, "share_pct": round(c["share"] * 100, 1) if isinstance(c.get("share"), int | float) else None}
                for c in verdict.get("candidates") or []
            ],
            "actions": actions,
            "overdue": complaint_selectors.is_overdue(complaint),
            "is_open": complaint.status in OPEN_STATUSES,
            "disputes": [
                d for d in Dispute.objects.visible_to(scope).filter(pk__in=[int(i) for i in disputes if i.isdigit()])
            ],
            "return_reasons": choices("return_reason"),
            "satisfactions": choices("satisfaction"),
            "redispatch_units": _redispatch_units(district) if actions["review"] else [],
            "summon_units": _summon_units(complaint.district_code) if actions["whistle"] else [],
            "point": {"lon": round(complaint.location.x, 6), "lat": round(complaint.location.y, 6)},
        },
    )


def _redispatch_units(district: str) -> list[tuple[str, str]]:
    """Streets of the district and its departments: where a reviewed return may be sent."""
    from jurisdictions.selectors import area_list

    streets = area_list(level="street").filter(code__startswith=district).order_by("code")
    units = list(streets.values_list("code", "name"))
    units += [(d.code, d.name) for d in Department.objects.filter(code__startswith=f"{district}.").order_by("code")]
    return units


def _summon_units(district: str) -> list[tuple[str, str]]:
    """Whom a whistle may summon from a complaint's page: the district's departments, then city-wide ones."""
    departments = Department.objects.filter(code__startswith=f"{district}.") if district else Department.objects.none()
    city = Department.objects.filter(code__startswith="city.")
    return [(d.code, d.name) for d in [*departments.order_by("code"), *city.order_by("code")]]


def _back(pk: int) -> HttpResponse:
    return redirect("desk-complaint", pk=pk)


@desk_action
def complaint_move(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    """签收 accept, 办理 progress (with a note; once in progress, each further note is recorded as it is), 办结
    resolve (with a note)."""
    complaint = _readable_complaint(request, pk)
    note = (request.POST.get("note") or "").strip()
    if to in (Status.IN_PROGRESS, Status.RESOLVED) and not note:
        messages.error(request, "请填写办理情况 please write what was done")
        return _back(pk)
    if to == Status.IN_PROGRESS and complaint.status == Status.IN_PROGRESS:
        complaint_services.complaint_note_add(complaint=complaint, by=request.user, note=note)
    else:
        complaint_services.complaint_transition(complaint=complaint, to=to, by=request.user, note=note)
    done = {
        "accepted": "已签收 accepted",
        "in_progress": "已记录办理进展 progress noted",
        "resolved": "已办结 resolved",
    }
    messages.success(request, done.get(to, to))
    return _back(pk)


@desk_action
def complaint_return(request: HttpRequest, pk: int) -> HttpResponse:
    """退单 with a reason code and a note (the lead, or a unit returning its own copy)."""
    complaint = _readable_complaint(request, pk)
    assignment = complaint.assignments.filter(pk=request.POST.get("assignment") or 0).first()
    complaint_services.complaint_return(
        complaint=complaint,
        reason=request.POST.get("reason", ""),
        note=request.POST.get("note", ""),
        assignment=assignment,
        suggested_code=(request.POST.get("suggested_code") or "").strip(),
        by=request.user,
    )
    messages.success(request, "已退单，等待区级审核 returned; waiting for the district's review")
    return _back(pk)


@desk_action
def complaint_callback(request: HttpRequest, pk: int) -> HttpResponse:
    """回访 The hotline records the call-back: satisfied? and resolved? (closed, or reopened when not)."""
    complaint = _readable_complaint(request, pk)
    satisfaction = request.POST.get("satisfaction", "")
    resolved = request.POST.get("resolved") == "yes"
    note = (request.POST.get("note") or "").strip()
    if satisfaction:
        complaint = complaint_services.complaint_rate(complaint=complaint, satisfaction=satisfaction, by=request.user)
    to = Status.CLOSED if resolved else Status.REOPENED
    if complaint.status == Status.RESOLVED or (complaint.status == Status.CLOSED and not resolved):
        complaint_services.complaint_transition(
            complaint=complaint, to=to, by=request.user, note=note or ("回访：已解决" if resolved else "回访：未解决")
        )
    messages.success(request, "回访已记录 call-back recorded")
    return _back(pk)


@desk_action
def return_review(request: HttpRequest, pk: int) -> HttpResponse:
    """退单审核 re-dispatch, reject (the unit keeps it) or turn into a boundary dispute."""
    return_request = ReturnRequest.objects.select_related("complaint").filter(pk=pk).first()
    if return_request is None:
        raise Http404("没有该退单 no such return")
    decision = request.POST.get("decision", "")
    note = (request.POST.get("note") or "").strip()
    if decision == ReturnDecision.REDISPATCHED:
        complaint_services.return_redispatch(
            return_request=return_request, to_code=request.POST.get("to", ""), by=request.user, note=note
        )
        messages.success(request, "已改派 re-dispatched")
    elif decision == ReturnDecision.REJECTED:
        complaint_services.return_reject(return_request=return_request, by=request.user, note=note)
        messages.success(request, "已驳回，原单位继续办理 rejected; the unit keeps it")
    elif decision == ReturnDecision.DISPUTED:
        decided = complaint_services.return_dispute(return_request=return_request, by=request.user, note=note)
        if decided.dispute_ref.startswith("dispute:"):
            messages.success(request, "已转入管辖争议 turned into a boundary dispute")
            return redirect("dispute-page", pk=int(decided.dispute_ref.split(":", 1)[1]))
    else:
        messages.error(request, "请选择审核结果 choose a decision")
    return _back(return_request.complaint_id)


@desk_action
def complaint_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a dispute from a verdict that needs review (origin=review), with the complaint's point and accuracy."""
    complaint = _readable_complaint(request, pk)
    dispute = dispute_services.dispute_open(
        by=request.user,
        title=(request.POST.get("title") or f"判定需复核：{complaint.category.name} {complaint.address}").strip()[:200],
        description=(request.POST.get("note") or "").strip(),
        origin=DisputeOrigin.REVIEW,
        origin_ref=f"complaint:{complaint.pk}",
        point=complaint.location,
        accuracy_m=complaint.accuracy_m,
        complaints=[{"id": complaint.pk, "external_id": complaint.external_id, "category": complaint.category.code}],
    )
    messages.success(request, "已发起管辖争议 dispute opened")
    return redirect("dispute-page", pk=dispute.pk)


# --- disputes -----------------------------------------------------------------------------------------------------


def _visible_dispute(request: HttpRequest, pk: int) -> Dispute:
    dispute = Dispute.objects.filter(pk=pk).first()
    if dispute is None:
        raise Http404("没有该争议 no such dispute")
    scope = scope_for(request.user)
    complaint_permissions.require(
        Dispute.objects.visible_to(scope).filter(pk=pk).exists(),
        scope,
        "该争议不在你的辖区内 this dispute is outside your scope",
    )
    return dispute


@desk_action
def dispute_new(request: HttpRequest) -> HttpResponse:
    """发起争议 by hand: over a building (code) or a point (lon, lat, optional accuracy)."""
    building = None
    point = None
    code = (request.POST.get("building") or "").strip()
    if code:
        building = Building.objects.filter(code=code).first()
        if building is None:
            messages.error(request, f"没有编码为 {code} 的建筑 no such building")
            return redirect("dispute-queue")
    else:
        try:
            point = Point(float(request.POST.get("lon", "")), float(request.POST.get("lat", "")), srid=4326)
        except ValueError:
            messages.error(request, "请填写建筑编码或经纬度 give a building code or a longitude and latitude")
            return redirect("dispute-queue")
    try:
        accuracy = float(request.POST["accuracy_m"]) if request.POST.get("accuracy_m") else None
    except ValueError:
        accuracy = None
    dispute = dispute_services.dispute_open(
        by=request.user,
        title=(request.POST.get("title") or "").strip()[:200] or "管辖争议 boundary dispute",
        description=(request.POST.get("description") or "").strip(),
        point=point,
        building=building,
        accuracy_m=accuracy,
    )
    messages.success(request, "已发起管辖争议 dispute opened")
    return redirect("dispute-page", pk=dispute.pk)


@desk_action
def dispute_status(request: HttpRequest, pk: int) -> HttpResponse:
    """转入审查 under review, 重新开放 open again, 撤回 withdraw."""
    dispute = _visible_dispute(request, pk)
    status = request.POST.get("status", "")
    dispute_services.dispute_set_status(dispute=dispute, status=status, by=request.user)
    messages.success(
        request, {"under_review": "已转入审查 under review", "withdrawn": "已撤回 withdrawn"}.get(status, "OK")
    )
    return redirect("dispute-page", pk=pk)


@desk_action
def dispute_ruling(request: HttpRequest, pk: int) -> HttpResponse:
    """提出裁定 propose (or counter-propose) a ruling; 确认 confirm the pending proposal with one button."""
    dispute = _visible_dispute(request, pk)
    reason = (request.POST.get("reason") or "").strip()
    if request.POST.get("confirm"):
        pending = dispute.rulings.filter(pk=request.POST["confirm"], status="proposed").first()
        if pending is None:
            messages.error(request, "该裁定已不是待确认的提议 that proposal is no longer pending")
            return redirect("dispute-page", pk=pk)
        lead, co, make_rule = pending.lead_code, pending.co_handler_codes, pending.make_rule
        reason = reason or f"同意裁定 #{pending.pk} agreed to ruling #{pending.pk}"
        valid_from, valid_to = pending.rule_valid_from, pending.rule_valid_to
    else:
        lead = request.POST.get("lead_code", "")
        co = [c for c in request.POST.getlist("co_handler_codes") if c != lead]
        make_rule = bool(request.POST.get("make_rule"))
        valid_from, valid_to = _date(request.POST.get("valid_from")), None
        if not reason:
            messages.error(request, "请填写裁定理由 please give the ruling's reason")
            return redirect("dispute-page", pk=pk)
    ruling = dispute_services.dispute_rule(
        dispute=dispute,
        by=request.user,
        lead_code=lead,
        co_handler_codes=co,
        reason=reason,
        make_rule=make_rule,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    missing = dispute_services.ruling_missing_confirmations(ruling)
    if missing:
        messages.success(request, "已提交，待其他区确认 submitted; waiting for the other districts")
    else:
        messages.success(request, "裁定已生效 the ruling is in effect")
    return redirect("dispute-page", pk=pk)


def _date(text):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --- joint cases --------------------------------------------------------------------------------------------------


def _visible_case(request: HttpRequest, pk: int) -> JointCase:
    case = complaint_selectors.joint_case_get(pk=pk)
    if case is None:
        raise Http404("没有该联合办案 no such joint case")
    scope = scope_for(request.user)
    complaint_permissions.require(
        complaint_permissions.may_read_case(scope, case),
        scope,
        "该联合办案不在你的辖区 the joint case is outside your scope",
    )
    return case


def case_actions(user, case: JointCase) -> dict:
    """What `user` may do on a joint case: check in for which parties, add notes, manage (tasks, close)."""
    scope = scope_for(user)
    parties = list(case.parties.all())
    is_open = case.status == "open"
    manager = is_open and complaint_permissions.manages_case(scope, case)
    return {
        "check_in": [
            p for p in parties if is_open and p.checked_in_at is None and complaint_permissions.is_party(scope, p)
        ],
        "note": is_open and _may(complaint_permissions.check_participant, user, case, parties, "添加记录 add a note"),
        "manage": manager,
        "tasks_done": {
            t.pk
            for t in case.tasks.all()
            if is_open
            and not t.done
            and (manager or (t.assignee is not None and complaint_permissions.is_party(scope, t.assignee)))
        },
    }


def _case_back(request: HttpRequest, pk: int) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("joint-case-page", pk=pk)


@desk_action
def case_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    party = complaint_services.check_in(case=case, by=request.user, party=request.POST.get("party", ""))
    messages.success(request, f"{party.name} 已报到 checked in")
    return _case_back(request, pk)


@desk_action
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    complaint_services.case_note_add(case=case, by=request.user, text=request.POST.get("text", ""))
    messages.success(request, "已添加记录 note added")
    return _case_back(request, pk)


@desk_action
def case_task(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    complaint_services.case_task_add(
        case=case, by=request.user, text=request.POST.get("text", ""), assignee=request.POST.get("assignee", "")
    )
    messages.success(request, "已分派任务 task added")
    return _case_back(request, pk)


@desk_action
def case_task_done(request: HttpRequest, pk: int, task: int) -> HttpResponse:
    _visible_case(request, pk)
    row = JointTask.objects.filter(pk=task, case_id=pk).first()
    if row is None:
        raise Http404("没有该任务 no such task")
    complaint_services.case_task_complete(task=row, by=request.user)
    messages.success(request, "任务已完成 task done")
    return _case_back(request, pk)


@desk_action
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    complaint_services.case_close(case=case, by=request.user, note=(request.POST.get("note") or "").strip())
    messages.success(request, "已结案 case closed")
    return _case_back(request, pk)


@desk_action
def whistle(request: HttpRequest) -> HttpResponse:
    """吹哨 from a complaint or a dispute: the user's own area leads (or the leads chosen), the chosen departments
    and streets are summoned."""
    scope = scope_for(request.user)
    leads = [c for c in request.POST.getlist("leads") if c] or [scope.street_code or scope.district_code]
    complaints = [c for c in request.POST.getlist("complaints") if c]
    disputes = [d for d in request.POST.getlist("disputes") if d]
    try:
        hours = float(request.POST.get("check_in_hours") or 24)
    except ValueError:
        hours = 24.0
    case = complaint_services.whistle_blow(
        by=request.user,
        title=(request.POST.get("title") or "").strip(),
        leads=leads,
        summon=request.POST.getlist("summon"),
        complaints=complaints,
        disputes=disputes,
        check_in_hours=hours,
        description=(request.POST.get("description") or "").strip(),
    )
    messages.success(request, "已吹哨，等待各单位报到 whistle blown; waiting for check-ins")
    return redirect("joint-case-page", pk=case.pk)


# --- fix plans ----------------------------------------------------------------------------------------------------


def may_whistle_for_plan(user, plan: FixPlan) -> bool:
    """Whether `user` may blow the whistle (吹哨) for a fix plan: a plan writer for its street (as the API asks) whom
    the complaints app lets blow the whistle there (street or district staff of that street, an administrator)."""
    scope = scope_for(user)
    return (
        not plan.joint_case_ref
        and scope.role in complaint_permissions.WHISTLE_ROLES
        and hotspot_services.may_write_plan(scope, plan.street_code)
        and _may(complaint_permissions.check_whistle, user, [plan.street_code])
    )


@login_required
def fix_plan_new(request: HttpRequest) -> HttpResponse:
    """制定整治方案 GET: the form for the lot of `?parcel=<code>` (the planner map's lot popup links here), to a
    user who may plan for its street; POST: the plan (planners, the city admin, district/street staff for their
    streets: the service decides), then its page."""
    if request.method == "POST":
        return _fix_plan_create(request)
    parcel = Parcel.objects.filter(code=(request.GET.get("parcel") or "").strip()).first()
    if parcel is None:
        raise Http404("没有该地块 no such parcel")
    try:
        hotspot_services.check_plan_writer(request.user, parcel.street_code)
    except ScopeDenied as exc:
        return _denied(request, exc)
    kinds = [(value, *str(label).split(" ", 1)) for value, label in FixKind.choices]
    return render(request, "maps/fix_plan_new.html", {"parcel": parcel, "kinds": kinds})


@desk_action
def _fix_plan_create(request: HttpRequest) -> HttpResponse:
    parcel = Parcel.objects.filter(code=(request.POST.get("parcel") or "").strip()).first()
    if parcel is None:
        raise Http404("没有该地块 no such parcel")
    kind = request.POST.get("kind") or FixKind.COMMUNITY_SPORTS_PARK
    title = (request.POST.get("title") or "").strip() or None
    plan = hotspot_services.fix_plan_create(parcel=parcel, by=request.user, kind=kind, title=title)
    messages.success(request, "已制定整治方案 fix plan made")
    return redirect("fix-plan-page", pk=plan.pk)


@desk_action
def fix_plan_whistle(request: HttpRequest, pk: int) -> HttpResponse:
    """吹哨 from a fix plan: a joint case led by the plan's street, summoning its departments."""
    plan = FixPlan.objects.select_related("parcel").filter(pk=pk).first()
    if plan is None:
        raise Http404("没有该整治方案 no such fix plan")
    scope = scope_for(request.user)
    complaint_permissions.require(
        hotspot_selectors.fix_plan_list(scope=scope).filter(pk=pk).exists(),
        scope,
        "整治方案不在你的辖区 the fix plan is outside your scope",
    )
    hotspot_services.check_plan_writer(request.user, plan.street_code)
    plan = hotspot_services.fix_plan_joint_case_start(plan=plan, by=request.user)
    messages.success(request, "已吹哨，等待各单位报到 whistle blown; waiting for check-ins")
    ref = plan.joint_case_ref.split(":", 1)
    if len(ref) == 2 and ref[1].isdigit():
        return redirect("joint-case-page", pk=int(ref[1]))
    return redirect("fix-plan-page", pk=pk)
