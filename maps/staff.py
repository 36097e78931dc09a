"""Staff pages (工作人员页面): the dispute queue, a dispute with its evidence map and ruling form, the
joint-case board, and the printable fix plan. Pages arrange what the selectors return; rulings are posted by
the page to the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie

from complaints.selectors import joint_case_links, joint_case_list
from hotspots.constants import FixKind, FixPlanStatus
from jurisdictions.constants import DisputeStatus
from jurisdictions.permissions import scope_for

from .selectors import dispute_page, dispute_queue, fix_plan_page


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """争议队列 The disputes in the user's scope, with a status filter (default: open and under review)."""
    status = request.GET.get("status", "active")
    if status not in (*DisputeStatus.values, "active", "all"):
        status = "active"
    disputes = dispute_queue(user=request.user, status=status if status in DisputeStatus.values else None)
    if status == "active":
        disputes = disputes.open()
    statuses = [("active", "未决", "open or under review"), ("all", "全部", "all")] + [
        (value, str(label), value.replace("_", " ")) for value, label in DisputeStatus.choices
    ]
    return render(
        request,
        "maps/disputes.html",
        {"disputes": list(disputes[:500]), "status": status, "statuses": statuses},
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
    page["ruling_url"] = reverse("dispute-ruling", kwargs={"pk": pk})
    page["area_url"] = reverse("area-detail", kwargs={"code": "CODE"})
    page["api_url"] = reverse("dispute-detail", kwargs={"pk": pk})
    return render(request, "maps/dispute.html", page)


@login_required
def fix_plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """整治方案（可打印） A fix plan on one page: lot, residents served, complaints it would settle, departments.

    Staff only, and only a plan in the user's scope (as the fix plan API); 403 otherwise."""
    plan, visible = fix_plan_page(pk=pk, scope=scope_for(request.user))
    if plan is None:
        raise Http404("没有该整治方案 no such fix plan")
    if not visible:
        raise PermissionDenied("整治方案不在你的辖区 the fix plan is outside your scope")
    return render(
        request,
        "maps/fix_plan.html",
        {
            "plan": plan,
            "kind_label": dict(FixKind.choices).get(plan.kind, plan.kind),
            "status_label": dict(FixPlanStatus.choices).get(plan.status, plan.status),
            "api_url": reverse("fix-plan-detail", kwargs={"pk": pk}),
            "geometry": plan.parcel.geom.json,
            # Stored JSON lists: every key the page shows, present (older plans may lack some).
            "complaints": [
                {k: c.get(k) or "" for k in ("ref", "category_code", "category_name", "received_at")}
                | {"distance_m": c.get("distance_m")}
                for c in plan.complaints
            ],
            "departments": [{k: d.get(k) or "" for k in ("role", "code", "name", "why")} for d in plan.departments],
        },
    )


@login_required
def joint_case_board(request: HttpRequest) -> HttpResponse:
    """联合办案看板 Joint cases in the user's scope: leads, summoned parties and who has (not) checked in."""
    status = request.GET.get("status", "open")
    cases = joint_case_list(scope=scope_for(request.user), status=None if status == "all" else status)
    now = timezone.now()
    board = []
    for case in cases[:200]:
        parties = [
            {
                "party": party,
                "state": "in" if party.checked_in_at else ("overdue" if party.deadline_at < now else "waiting"),
            }
            for party in case.parties.all()
        ]
        board.append(
            {
                "case": case,
                "parties": parties,
                "missing": sum(1 for p in parties if p["state"] != "in"),
                "links": joint_case_links(case),
            }
        )
    return render(request, "maps/joint_cases.html", {"board": board, "status": status})
