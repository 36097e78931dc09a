"""三率考核 page: the monthly ranking of streets/townships, districts or departments (data: the assessment app)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assessment import selectors
from assessment.constants import Level, published

LEVEL_LABELS = {
    Level.STREET: ("街道乡镇", "streets & townships"),
    Level.DISTRICT: ("区", "districts"),
    Level.DEPARTMENT: ("部门", "departments"),
}
CHART_ROWS = 30


def _trend_points(rows: list, width: int = 520, height: int = 120) -> list[dict]:
    """Score per month as SVG coordinates (0–100 upwards)."""
    step = (width - 40) / max(len(rows) - 1, 1)
    return [
        {
            "x": round(20 + i * step, 1),
            "y": None if r.score is None else round(10 + (100 - r.score) / 100 * (height - 30), 1),
            "row": r,
        }
        for i, r in enumerate(rows)
    ]


def assessment_page(request: HttpRequest) -> HttpResponse:
    """/assessment/ — ranked table (sortable), month picker, the three rates and the score, a bar chart, a unit's
    month-over-month trend (`unit=`), CSV export; anyone logged in, anonymous callers only when published."""
    if not request.user.is_authenticated and not published():
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    level = request.GET.get("level") or Level.STREET
    if level not in Level.values:
        level = Level.STREET
    months = selectors.computed_months()
    month = None
    if request.GET.get("month"):
        try:
            month = selectors.parse_month(request.GET["month"])
        except ValueError:
            month = None
    if month is None and months:
        month = months[0]
    record = selectors.assessment_month(month=month) if month else None
    rows = list(selectors.assessment_list(month=month, level=level)) if record else []
    suppress = 0 if request.user.is_authenticated else int(settings.SHAOZI.get("MIN_PUBLIC_CELL_COUNT", 3))
    ranked = [r for r in rows if r.rank is not None and r.complaints >= suppress]
    unit_code = request.GET.get("unit", "")[:40]
    trend = list(selectors.unit_trend(level=level, code=unit_code)) if unit_code else []
    if suppress:
        trend = [r for r in trend if r.complaints >= suppress]
    return render(
        request,
        "maps/assessment.html",
        {
            "level": level,
            "levels": [(value, *LEVEL_LABELS[value]) for value in Level.values],
            "month": month,
            "months": months,
            "record": record,
            "rows": rows,
            "suppress": suppress,
            "chart": [{"row": r, "width": round((r.score or 0) * 3, 1)} for r in ranked[:CHART_ROWS]],
            "chart_height": 16 * min(len(ranked), CHART_ROWS) + 4,
            "unit_code": unit_code,
            "trend": _trend_points(trend),
            "trend_line": " ".join(f"{p['x']},{p['y']}" for p in _trend_points(trend) if p["y"] is not None),
            "desk": level == Level.STREET and request.user.is_authenticated,
        },
    )
