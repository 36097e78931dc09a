"""Reference data: the three-level catalogue and the working-day calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.db import transaction

from ..constants import (
    Urgency,
)
from ..deadlines import WorkCalendar
from ..models import (
    CalendarDay,
    CalendarYear,
    Category,
)
from .base import ComplaintError

# --- reference data --------------------------------------------------------------------------------------------


@transaction.atomic
def catalogue_load(*, source: Path) -> int:
    """Create or update the three-level catalogue from JSON ({"categories": [{code, name, name_en, children …}]}).

    Idempotent on `code`; items missing from the file are deactivated, never deleted (complaints point at them).
    """
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    seen: set[str] = set()

    def walk(items: list[dict], parent: Category | None, level: int) -> None:
        for item in items:
            category = Category.objects.filter(code=item["code"]).first() or Category(code=item["code"])
            category.name = item["name"]
            category.name_en = item.get("name_en", "")
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
