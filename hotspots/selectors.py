"""Reads for hotspots: the layers of the latest (or a chosen) run, fix plans, worklists, streets at points."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet

from jurisdictions import engine
from jurisdictions.constants import AreaLevel
from jurisdictions.models import Area, Department

from .constants import WORKLIST_PATTERNS, EmergingPattern, Layer
from .models import AnalysisRun, EmergingCell, FixPlan, HotspotCell, LotScore, RepeatPlace


def streets_at(lons, lats, *, at: dt.date | None = None) -> list[tuple[str, str, str]]:
    """(street code, street name, district code) of the unit that handles each point on `at` — the lead of the
    jurisdiction engine's verdict (`jurisdictions.engine.resolve`; a rule or a straddling building may name
    another street than the one under the point). Empty strings where no area handles it."""
    if not len(lons):
        return []
    resolution = engine.resolve(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), at=at)
    return list(zip(*(values.tolist() for values in resolution.leads()), strict=True))


def departments_for(roles, *, district_code: str | None) -> list[dict]:
    """The department of each role serving the district (its own first, else city-wide), in role order."""
    found = []
    for role in roles:
        department = Department.objects.for_role(role, district_code=district_code).first()
        if department is None:
            found.append({"role": role, "code": "", "name": ""})
        else:
            found.append({"role": role, "code": department.code, "name": department.name})
    return found


def run_get(
    *,
    layer: str,
    run_id: int | None = None,
    category: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> AnalysisRun | None:
    """A run by id (of that layer), else the latest finished run for the category filter overlapping the period."""
    runs = AnalysisRun.objects.of_layer(layer).finished()
    if run_id is not None:
        return runs.filter(pk=run_id).first()
    return runs.for_category(category).overlapping(start, end).latest_first().first()


def repeat_place_list(
    *,
    run: AnalysisRun,
    bbox: Polygon | None = None,
    category: str | None = None,
    street: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    chronic: bool | None = None,
) -> QuerySet[RepeatPlace]:
    """Repeat places of a run, filtered by bbox, category code prefix, street, activity in a period, chronic."""
    qs = RepeatPlace.objects.of_run(run)
    if bbox is not None:
        qs = qs.intersecting(bbox)
    if category:
        qs = qs.of_category(category)
    if street:
        qs = qs.in_street(street)
    if start or end:
        qs = qs.active_between(start, end)
    if chronic is not None:
        qs = qs.filter(chronic=chronic)
    return qs


def hotspot_cell_list(
    *, run: AnalysisRun, bbox: Polygon | None = None, street: str | None = None, significant: bool = False
) -> QuerySet[HotspotCell]:
    """Gi* cells of a run; only hot/cold ones with `significant`."""
    qs = HotspotCell.objects.of_run(run)
    if bbox is not None:
        qs = qs.intersecting(bbox)
    if street:
        qs = qs.in_street(street)
    if significant:
        qs = qs.significant()
    return qs


def emerging_cell_list(
    *, run: AnalysisRun, bbox: Polygon | None = None, street: str | None = None, patterns=None
) -> QuerySet[EmergingCell]:
    """Emerging cells of a run with a detected pattern (or those of `patterns`)."""
    qs = EmergingCell.objects.of_run(run)
    qs = qs.with_pattern(patterns) if patterns else qs.detected()
    if bbox is not None:
        qs = qs.intersecting(bbox)
    if street:
        qs = qs.in_street(street)
    return qs


def idle_lot_list(*, run: AnalysisRun, bbox: Polygon | None = None, street: str | None = None) -> QuerySet[LotScore]:
    """The ranked lots of a ranking run, best first, with their parcels."""
    qs = LotScore.objects.of_run(run).select_related("parcel")
    if bbox is not None:
        qs = qs.intersecting(bbox)
    if street:
        qs = qs.in_street(street)
    return qs


def fix_plan_list(*, scope, bbox: Polygon | None = None, street: str | None = None, status: str | None = None):
    """Fix plans `scope` may read (`FixPlanQuerySet.visible_to`), newest first, with their parcels."""
    qs = FixPlan.objects.visible_to(scope).select_related("parcel")
    if bbox is not None:
        qs = qs.intersecting(bbox)
    if street:
        qs = qs.in_street(street)
    if status:
        qs = qs.filter(status=status)
    return qs


def worklist(*, street_code: str) -> dict:
    """The 未诉先办 worklist of a street: new/consecutive/intensifying hot cells and chronic repeat places.

    Each entry says why it is there (zh-Hans first, then English) and points at the run it came from.
    """
    entries: list[dict] = []
    emerging_run = run_get(layer=Layer.EMERGING)
    if emerging_run is not None:
        labels = dict(EmergingPattern.choices)
        for cell in emerging_cell_list(run=emerging_run, street=street_code, patterns=WORKLIST_PATTERNS):
            entries.append(
                {
                    "kind": "emerging_cell",
                    "id": cell.h3,
                    "geometry": cell.geom,
                    "pattern": cell.pattern,
                    "reason": (
                        f"{labels[cell.pattern]}：近 4 个时间步 {cell.recent_count} 件，"
                        f"共 {cell.hot_steps} 个时间步为显著热点，"
                        f"趋势 z={cell.trend_z:.2f}。 {cell.recent_count} reports in the last 4 steps, hot in "
                        f"{cell.hot_steps} steps, trend z={cell.trend_z:.2f}."
                    ),
                    "run": emerging_run.pk,
                }
            )
    repeat_run = run_get(layer=Layer.REPEAT_PLACES)
    if repeat_run is not None:
        places = repeat_place_list(run=repeat_run, street=street_code, chronic=True)
        for place in places:
            fixed = f"，其中 {place.failed_fix_count} 次办结后 120 天内再诉" if place.failed_fix else ""
            entries.append(
                {
                    "kind": "repeat_place",
                    "id": place.pk,
                    "geometry": place.point,
                    "category": place.category_code,
                    "reason": (
                        f"顽疾：{place.category_name} 在同一地点 {place.count} 件，跨 {place.span_days:.0f} 天{fixed}。"
                        f" Chronic: {place.count} reports of {place.category_code} at one place over "
                        f"{place.span_days:.0f} days"
                        + (f", {place.failed_fix_count} after a closure (failed fix)." if place.failed_fix else ".")
                    ),
                    "run": repeat_run.pk,
                }
            )
    street = Area.objects.current().of_level(AreaLevel.STREET).filter(code=street_code).first()
    return {
        "street": {"code": street_code, "name": street.name if street else ""},
        "runs": {
            "emerging": emerging_run.pk if emerging_run else None,
            "repeat_places": repeat_run.pk if repeat_run else None,
        },
        "entries": entries,
    }
