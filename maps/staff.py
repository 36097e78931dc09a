"""Staff pages (工作人员页面): the dispute queue, a dispute with its evidence map and ruling form, the
joint-case board and a joint case, and the printable fix plan. Pages arrange what the selectors return; their
forms post to the desk's views (maps/desk.py), which call the services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie

from complaints.models import JointTask
from complaints.permissions import WHISTLE_ROLES, may_read_case
from complaints.selectors import complaint_list, joint_case_get, joint_case_links, joint_case_list
from hotspots.constants import FixKind, FixPlanStatus
from jurisdictions.constants import DisputeStatus, Role
from jurisdictions.disputes import may_rule, may_withdraw
from jurisdictions.models import Dispute
from jurisdictions.permissions import scope_for

from .desk import case_actions, may_whistle_for_plan
from .labels import choices
from .selectors import area_names, dispute_page, dispute_queue, fix_plan_page, fix_plan_summary


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """争议队列 The disputes in the user's scope, with a status filter (default: open and under review)."""
    status = request.GET.get("status", "active")
    if status not in (*DisputeStatus.values, "active", "all"):
        status = "active"
    disputes = dispute_queue(user=request.user, status=status if status in DisputeStatus.values else None)
    if status == "active":
        disputes = disputes.open()
    statuses = [("active", "未决", "open or under review"), ("all", "全部", "all"), *choices("dispute_status")]
    disputes = list(disputes[:500])
    scope = scope_for(request.user)
    return render(
        request,
        "maps/disputes.html",
        {
            "disputes": disputes,
            "status": status,
            "statuses": statuses,
            "names": area_names({c for d in disputes for c in [*d.contested_codes, *d.district_codes]}),
            "may_open": scope.role in (Role.STREET, Role.DISTRICT, Role.ADMIN),
        },
    )


@login_required
@ensure_csrf_cookie
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """争议详情 Evidence map and table, rulings with confirmations, audit trail, and the ruling form."""
    page = dispute_page(user=request.user, pk=pk)
    if page is None:
        raise Http404("没有该争议 no such dispute")
    if not page["visible"]:
        return render(request, "maps/dispute_denied.html", page, status=403)
    page["area_url"] = reverse("area-detail", kwargs={"code": "CODE"})
    page["api_url"] = reverse("dispute-detail", kwargs={"pk": pk})
    page.update(dispute_actions(request.user, page))
    page["map"]["basemap"] = basemap_config()
    return render(request, "maps/dispute.html", page)


def dispute_actions(user, page: dict) -> dict:
    """The dispute forms this user may use: rule (propose / confirm the pending proposal), move under review,
    withdraw. Street staff and planners read the dispute and see no form."""
    dispute = page["dispute"]
    scope = scope_for(user)
    ruler = may_rule(user, dispute)
    pending = next((item for item in page["rulings"] if item["ruling"].status == "proposed"), None)
    mine = "city" if scope.role == Role.ADMIN else scope.district_code
    confirmable = (
        pending is not None
        and ruler
        and dispute.status != DisputeStatus.WITHDRAWN
        and mine not in {c.district_code for c in pending["confirmations"]}
    )
    return {
        "may_rule": ruler and dispute.status != DisputeStatus.WITHDRAWN,
        "pending": pending,
        "may_confirm": confirmable,
        "may_review": ruler and dispute.status == DisputeStatus.OPEN,
        "may_reopen": ruler and dispute.status == DisputeStatus.UNDER_REVIEW,
        "may_withdraw": may_withdraw(user, dispute),
        "may_whistle": dispute.status != DisputeStatus.WITHDRAWN and scope.role in WHISTLE_ROLES,
    }


def basemap_config() -> dict | None:
    """The deployment's basemap (XYZ template, attribution, its coordinate system), or None."""
    url = settings.SHAOZI.get("BASEMAP_URL")
    if not url:
        return None
    return {
        "url": url,
        "attribution": settings.SHAOZI.get("BASEMAP_ATTRIBUTION", ""),
        "system": settings.SHAOZI.get("BASEMAP_CRS", "wgs84"),
    }


# The ranking's figures a fix plan shows, in words.
_PLAN_FIGURES = (
    ("score", "综合得分", "score"),
    ("residents_new", "新增覆盖居民", "residents newly within reach"),
    ("residents_new_alone", "仅此地块覆盖的居民", "residents only this lot reaches"),
    ("complaints", "相关诉求（件）", "related complaints"),
    ("years_idle", "闲置年数", "years idle"),
)


@login_required
def fix_plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """整治方案（可打印） A fix plan on one page: lot, residents served, complaints it would settle, departments.

    Staff only, and only a plan in the user's scope (as the fix plan API); 403 otherwise."""
    plan, visible = fix_plan_page(pk=pk, scope=scope_for(request.user))
    if plan is None:
        raise Http404("没有该整治方案 no such fix plan")
    if not visible:
        raise PermissionDenied("整治方案不在你的辖区 the fix plan is outside your scope")
    figures = (plan.evidence or {}).get("figures") or {}
    ref = plan.joint_case_ref.split(":", 1)
    case_id = int(ref[1]) if len(ref) == 2 and ref[1].isdigit() else None
    return render(
        request,
        "maps/fix_plan.html",
        {
            "plan": plan,
            "summary": fix_plan_summary(plan),
            "may_whistle": may_whistle_for_plan(request.user, plan),
            "case_url": reverse("joint-case-page", args=[case_id]) if case_id else "",
            "evidence": {k: v for k, v in (plan.evidence or {}).items() if k in ("run", "rank", "rule")},
            "figures": [
                (zh, en, figures[key]) for key, zh, en in _PLAN_FIGURES if isinstance(figures.get(key), int | float)
            ],
            "kind_label": dict(FixKind.choices).get(plan.kind, plan.kind),
            "status_label": dict(FixPlanStatus.choices).get(plan.status, plan.status),
            "api_url": reverse("fix-plan-detail", kwargs={"pk": pk}),
            "geometry": plan.parcel.geom.json,
            "departments": [{k: d.get(k) or "" for k in ("role", "code", "name", "why")} for d in plan.departments],
        },
    )


def _case_item(user, case, now) -> dict:
    parties = [
        {
            "party": party,
            "state": "in" if party.checked_in_at else ("overdue" if party.deadline_at < now else "waiting"),
        }
        for party in case.parties.all()
    ]
    links = joint_case_links(case)
    # Everyone who reads the case sees what it links to; only what they may open is a link.
    scope = scope_for(user)
    readable = set(
        complaint_list(scope=scope).filter(pk__in=[c["id"] for c in links["complaints"]]).values_list("pk", flat=True)
    )
    visible = set(
        Dispute.objects.visible_to(scope)
        .filter(pk__in=[d["id"] for d in links["disputes"]])
        .values_list("pk", flat=True)
    )
    for item in links["complaints"]:
        item["readable"] = item["id"] in readable
    for item in links["disputes"]:
        item["readable"] = item["id"] in visible
    return {
        "case": case,
        "parties": parties,
        "missing": sum(1 for p in parties if p["state"] != "in"),
        "links": links,
        "leads": area_names(case.lead_codes),
        "notes": list(case.notes.all()),
        "tasks": list(case.tasks.all()),
        "actions": case_actions(user, case),
    }


@login_required
def joint_case_board(request: HttpRequest) -> HttpResponse:
    """联合办案看板 Joint cases in the user's scope: leads, summoned parties, who has (not) checked in, tasks and
    notes, and the check-in button for the user's own party."""
    status = request.GET.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    cases = joint_case_list(scope=scope_for(request.user), status=None if status == "all" else status)
    cases = cases.prefetch_related("notes", Prefetch("tasks", queryset=JointTask.objects.select_related("assignee")))
    now = timezone.now()
    board = [_case_item(request.user, case, now) for case in cases[:200]]
    return render(request, "maps/joint_cases.html", {"board": board, "status": status})


@login_required
def joint_case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """联合办案 One joint case: parties and check-ins, tasks, notes, linked complaints and disputes, and the forms
    this user may use (check in, note, task, close)."""
    case = joint_case_get(pk=pk)
    if case is None:
        raise Http404("没有该联合办案 no such joint case")
    if not may_read_case(scope_for(request.user), case):
        raise PermissionDenied("该联合办案不在你的辖区 the joint case is outside your scope")
    item = _case_item(request.user, case, timezone.now())
    return render(request, "maps/joint_case.html", {"item": item, "case": case})
