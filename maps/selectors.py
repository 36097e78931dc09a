"""Reads for the planner and staff pages: area labels (also the district/street filter's choices), the dispute
queue and page, and the printable fix plan."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Polygon
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncWeek

from complaints import selectors as complaint_selectors
from complaints.deadlines import LOCAL_TZ
from complaints.models import Category, Complaint
from geo import coords
from hotspots import selectors as hotspot_selectors
from hotspots.constants import Layer
from hotspots.models import AnalysisRun, EmergingCell, FixPlan
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.disputes import ruling_choices, ruling_missing_confirmations
from jurisdictions.models import Area, AuditEntry, Building, Dispute, Rule
from jurisdictions.permissions import Scope, scope_for
from jurisdictions.querysets import degrees_for_metres


def area_labels(
    *, level: str, at: dt.date | None = None, area: str | None = None, system: str = coords.WGS84
) -> list[dict]:
    """Label anchors of the areas of one level: a point inside each (ST_PointOnSurface), in `system`.

    `area` keeps that area and the areas under it (as the tile filter does). For a GCJ-02 map the points are
    shifted with the same converter the tiles use, so labels sit inside their shifted polygons.
    """
    areas = jurisdiction_selectors.area_list(level=level, at=at)
    if area:
        areas = areas.filter(Q(code=area) | Q(parent__code=area) | Q(parent__parent__code=area))
    rows = list(
        areas.order_by("code")
        .annotate(anchor=PointOnSurface("geom"))
        .values_list("code", "name", "level", "parent__code", "anchor")
    )
    if not rows:
        return []
    lon = np.array([row[4].x for row in rows])
    lat = np.array([row[4].y for row in rows])
    if system == coords.GCJ02:
        lon, lat = coords.wgs84_to_gcj02(lon, lat)
    return [
        {
            "code": code,
            "name": name,
            "level": lvl,
            "parent": parent,
            "lon": round(float(x), 7),
            "lat": round(float(y), 7),
        }
        for (code, name, lvl, parent, _), x, y in zip(rows, lon, lat, strict=True)
    ]


def dispute_queue(*, user, status: str | None = None) -> QuerySet[Dispute]:
    """争议队列 The disputes the user's scope may see (all for city-wide roles), newest first, of one status."""
    disputes = Dispute.objects.visible_to(scope_for(user)).select_related("building", "opened_by")
    if status:
        disputes = disputes.filter(status=status)
    return disputes


def area_names(codes) -> dict[str, str]:
    """Names of the areas with these codes in the boundary version in force (codes not found are left out)."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    return dict(Area.objects.current().filter(code__in=codes).values_list("code", "name"))


def dispute_page(*, user, pk: int) -> dict | None:
    """Everything the dispute page shows, or None when the dispute does not exist.

    `visible` is False when it exists but lies outside the user's scope (the page says so and shows nothing).
    Rulings come oldest first with their confirmations and the districts still to confirm; the audit trail
    holds the dispute's entries and its rulings'.
    """
    dispute = Dispute.objects.select_related("building", "opened_by").filter(pk=pk).first()
    if dispute is None:
        return None
    scope: Scope = scope_for(user)
    if not Dispute.objects.visible_to(scope).filter(pk=pk).exists():
        return {"dispute": dispute, "visible": False, "scope": scope}
    rulings = list(
        dispute.rulings.select_related("proposed_by", "rule")
        .prefetch_related("confirmations__user")
        .order_by("created_at", "id")
    )
    evidence = dispute.evidence or {}
    building = evidence.get("building") or {}
    codes = {*dispute.contested_codes, *dispute.district_codes}
    for ruling in rulings:
        codes.update([ruling.lead_code, *ruling.co_handler_codes])
    for item in evidence.get("boundary_distances", []):
        codes.add(item["code"])
    rule_rows = list(
        Rule.objects.filter(pk__in=[r["id"] for r in evidence.get("rules_nearby", [])]).select_related("building")
    )
    for ruling in rulings:
        if ruling.rule_id:
            rule_rows.append(ruling.rule)
    for rule in rule_rows:
        codes.update([rule.lead_code, *rule.co_handler_codes])
    codes.update(c["code"] for c in building.get("shares", []))
    names = area_names(codes)
    audit = AuditEntry.objects.filter(
        Q(object_type="jurisdictions.dispute", object_id=str(dispute.pk))
        | Q(object_type="jurisdictions.ruling", object_id__in=[str(r.pk) for r in rulings])
    ).order_by("at", "id")
    reference = f"dispute:{dispute.pk}"
    linked_ids = {c.get("id") for c in evidence.get("complaints", []) if isinstance(c, dict)}
    if dispute.origin_ref.startswith("complaint:") and dispute.origin_ref[10:].isdigit():
        linked_ids.add(int(dispute.origin_ref[10:]))
    readable = complaint_selectors.complaint_list(scope=scope).filter(pk__in=[i for i in linked_ids if i])
    went = list(complaint_selectors.complaints_of_dispute(scope=scope, reference=reference))
    complaints = {c.pk: c for c in [*readable, *went]}
    return {
        "taken_at": evidence.get("taken_at"),
        "linked_complaints": sorted(complaints.values(), key=lambda c: c.pk),
        "redispatched": went if dispute.status == "ruled" else [],
        "rules": [
            {
                "rule": rule,
                "lead": names.get(rule.lead_code, rule.lead_code),
                "co_handlers": [names.get(c, c) for c in rule.co_handler_codes],
            }
            for rule in {r.pk: r for r in rule_rows}.values()
        ],
        "choices": [{"code": c, "name": names.get(c, c)} for c in ruling_choices(dispute)],
        "dispute": dispute,
        "visible": True,
        "scope": scope,
        "names": names,
        "contested": [{"code": c, "name": names.get(c, ""), "level": "street"} for c in dispute.contested_codes],
        "districts": [{"code": c, "name": names.get(c, "")} for c in dispute.district_codes],
        "evidence": evidence,
        "verdict": evidence.get("verdict") or {},
        "shares": building.get("shares", []),
        "rulings": [
            {
                "ruling": r,
                "lead": {"code": r.lead_code, "name": names.get(r.lead_code, "")},
                "co_handlers": [{"code": c, "name": names.get(c, "")} for c in r.co_handler_codes],
                "confirmations": list(r.confirmations.all()),
                "missing": [{"code": c, "name": names.get(c, "")} for c in ruling_missing_confirmations(r)],
            }
            for r in rulings
        ],
        "audit": list(audit),
        "map": {
            "point": evidence.get("point") or (json_geometry(dispute.point) if dispute.point else None),
            "accuracy_m": evidence.get("accuracy_m"),
            "building": building.get("geometry"),
            "building_name": building.get("name") or building.get("code") or "",
            "shares": building.get("shares", []),
            "place": json_geometry(dispute.place) if dispute.place else None,
            "rules": [
                {
                    "id": rule.pk,
                    "label": f"规则 rule #{rule.pk}：{names.get(rule.lead_code, rule.lead_code)}",
                    "geometry": json_geometry(rule.geom or rule.building.geom),
                }
                for rule in {r.pk: r for r in rule_rows}.values()
                if rule.geom is not None or rule.building_id
            ],
            "buildings": buildings_near(dispute),
            "complaints": [
                {
                    "id": c.pk,
                    "lon": round(c.location.x, 7),
                    "lat": round(c.location.y, 7),
                    "label": f"{c.external_id} {c.category.name}",
                    "url": f"/desk/complaints/{c.pk}/",
                }
                for c in sorted(complaints.values(), key=lambda c: c.pk)
            ],
            "areas": [
                *({"code": c, "name": names.get(c, ""), "level": "district"} for c in dispute.district_codes),
                *({"code": c, "name": names.get(c, ""), "level": "street"} for c in dispute.contested_codes),
            ],
        },
    }


def buildings_near(dispute: Dispute, metres: float = 150.0) -> list[dict]:
    """Building footprints within `metres` of the dispute's point (its own building first), for the evidence map."""
    if dispute.point is None:
        return []
    around = dispute.point.buffer(degrees_for_metres(metres, dispute.point.y))
    rows = Building.objects.intersecting(around).order_by("code")[:50]
    return [
        {
            "code": b.code,
            "name": b.name or b.code,
            "own": b.pk == dispute.building_id,
            "geometry": json_geometry(b.geom),
        }
        for b in rows
    ]


def json_geometry(geom) -> dict:
    """A GEOS geometry as a GeoJSON dict."""
    return json.loads(geom.json)


def fix_plan_page(*, pk: int, scope: Scope) -> tuple[FixPlan | None, bool]:
    """整治方案 One fix plan with its lot, for the printable page, and whether `scope` may read it (the read policy
    of `hotspots.selectors.fix_plan_list`); (None, False) when it does not exist."""
    plan = FixPlan.objects.select_related("parcel").filter(pk=pk).first()
    if plan is None:
        return None, False
    return plan, hotspot_selectors.fix_plan_list(scope=scope).filter(pk=pk).exists()


def fix_plan_summary(plan: FixPlan, *, recent: int = 20) -> dict:
    """The complaints a fix plan would settle, summarised for a printable page: counts by category and by month
    (a year × month grid, Beijing time) and the `recent` most recent rows; the full list is the plan's export."""
    rows = []
    for c in plan.complaints:
        try:
            received = dt.datetime.fromisoformat(str(c.get("received_at") or "")).astimezone(LOCAL_TZ)
        except ValueError:
            received = None
        rows.append({**c, "received": received})
    categories: dict[tuple[str, str], int] = {}
    months: dict[int, list[int]] = {}
    for row in rows:
        key = (str(row.get("category_code") or ""), str(row.get("category_name") or ""))
        categories[key] = categories.get(key, 0) + 1
        if row["received"] is not None:
            months.setdefault(row["received"].year, [0] * 12)[row["received"].month - 1] += 1
    dated = sorted((r for r in rows if r["received"] is not None), key=lambda r: r["received"], reverse=True)
    dated += [r for r in rows if r["received"] is None]  # older plans may lack the time: listed last
    return {
        "total": len(rows),
        "by_category": [
            {"code": code, "name": name, "count": n}
            for (code, name), n in sorted(categories.items(), key=lambda item: (-item[1], item[0]))
        ],
        "by_month": [{"year": y, "months": m, "total": sum(m)} for y, m in sorted(months.items())],
        "recent": dated[:recent],
    }


# ---------------------------------------------------------------------------------------------------------------
# Complaints on the map: the filters the complaint tiles and the charts share, and the charts' numbers.
# ---------------------------------------------------------------------------------------------------------------


def category_ids(*, code: str) -> list[int]:
    """Ids of the catalogue item `code` and every item below it (codes nest: 01 › 0101 › 010101)."""
    return list(Category.objects.filter(code__startswith=code).values_list("id", flat=True))


def category_exists(*, code: str) -> bool:
    return Category.objects.filter(code=code).exists()


def complaint_data_version() -> str:
    """A cheap fingerprint of the complaints table: the newest id and the latest `updated_at` (index lookups when
    `updated_at` is indexed). It moves whenever a complaint is added or changed through the services."""
    stats = Complaint.objects.order_by().aggregate(last=Max("id"), changed=Max("updated_at"))
    changed = stats["changed"].isoformat() if stats["changed"] else ""
    return f"{stats['last']}:{changed}"


def complaint_queryset(
    *,
    scope: Scope,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    category: str | None = None,
    status: tuple[str, ...] | list[str] | None = None,
    district: str | None = None,
    street: str | None = None,
    area: str | None = None,
    bbox: Polygon | None = None,
) -> QuerySet[Complaint]:
    """Complaints `scope` may read matching the map's filters (through `complaints.selectors.complaint_list`),
    unordered. Counts that are published (hexagons, charts) pass `complaint_selectors.AGGREGATE_SCOPE`.

    Dates are whole local days (Asia/Shanghai), both ends included; `category` is a code at any of the three
    levels and keeps the items below it; `area` is a district (6 digits) or street code, as the map's
    district/street filter gives; `bbox` keeps complaints inside an EPSG:4326 box.
    """
    received_from = dt.datetime.combine(date_from, dt.time(), tzinfo=LOCAL_TZ) if date_from else None
    received_to = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ) if date_to else None
    complaints = complaint_selectors.complaint_list(
        scope=scope,
        bbox=bbox,
        received_from=received_from,
        received_to=received_to,
        status=list(status) if status else None,
        district=district,
        street=street,
    )
    if category:
        # The catalogue's ids rather than a join on codes: the (category, received_at) index then serves the filter.
        complaints = complaints.filter(category_id__in=category_ids(code=category))
    if area:
        complaints = complaints.filter(district_code=area) if len(area) == 6 else complaints.filter(street_code=area)
    return complaints.order_by()


def complaint_latest_day() -> dt.date | None:
    """The local day of the newest receipt time (an index lookup)."""
    latest = Complaint.objects.order_by().aggregate(last=Max("received_at"))["last"]
    return latest.astimezone(LOCAL_TZ).date() if latest else None


def _shown(n: int, min_count: int) -> int | None:
    """A published count, or None when it is under `min_count` (and not 0): too few to show who complained."""
    return None if 0 < n < min_count else n


def chart_weekly(*, weeks: int = 26, min_count: int = 0, **filters) -> dict:
    """Complaints per week (Monday to Sunday, local time) for the map's filters.

    Without `date_from`/`date_to` the chart covers the `weeks` weeks up to the newest complaint; weeks with no
    complaint are listed with 0 so the line has no gaps. Counts are of every complaint (aggregates); a week with
    fewer than `min_count` is given as null (suppressed) — for callers who may not read every complaint.
    """
    date_to = filters.pop("date_to", None) or complaint_latest_day()
    if date_to is None:
        return {"from": None, "to": None, "weeks": []}
    date_from = filters.pop("date_from", None) or date_to - dt.timedelta(weeks=weeks) + dt.timedelta(days=1)
    complaints = complaint_queryset(
        scope=complaint_selectors.AGGREGATE_SCOPE, date_from=date_from, date_to=date_to, **filters
    )
    counts = dict(
        complaints.annotate(week=TruncWeek("received_at", tzinfo=LOCAL_TZ))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
    )
    by_day = {week.date() if isinstance(week, dt.datetime) else week: n for week, n in counts.items()}
    first = date_from - dt.timedelta(days=date_from.weekday())
    rows = []
    week = first
    while week <= date_to:
        rows.append({"week": week.isoformat(), "count": _shown(by_day.get(week, 0), min_count)})
        week += dt.timedelta(weeks=1)
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "weeks": rows}


def chart_categories(*, level: int = 3, limit: int = 8, min_count: int = 0, **filters) -> dict:
    """The `limit` categories with the most complaints for the map's filters, at catalogue level 1, 2 or 3.

    Counts are of every complaint (aggregates); categories with fewer than `min_count` are left out and a total
    under it is null — for callers who may not read every complaint.
    """
    complaints = complaint_queryset(scope=complaint_selectors.AGGREGATE_SCOPE, **filters)
    leaf = {1: "category__parent__parent", 2: "category__parent", 3: "category"}[level]
    rows = list(
        complaints.values(f"{leaf}__code", f"{leaf}__name")
        .annotate(n=Count("id"))
        .order_by("-n", f"{leaf}__code")[:limit]
    )
    total = complaints.count()
    return {
        "level": level,
        "total": _shown(total, min_count),
        "categories": [
            {"code": r[f"{leaf}__code"], "name": r[f"{leaf}__name"], "count": r["n"]}
            for r in rows
            if _shown(r["n"], min_count) is not None
        ],
    }


def chart_cell(*, h3: str, run_id: int | None = None) -> dict | None:
    """A cell's emerging hot spot z-score per time step (latest finished emerging run, or `run_id`), or None."""
    run = hotspot_selectors.run_get(layer=Layer.EMERGING, run_id=run_id)
    if run is None:
        return None
    cell = EmergingCell.objects.filter(run=run, h3=h3).first()
    if cell is None:
        return None
    step = (run.params or {}).get("step", "week")
    start = run.period_start
    steps = []
    for i, z in enumerate(cell.z_series or []):
        if step == "month":
            month = start.month - 1 + i
            begins = dt.date(start.year + month // 12, month % 12 + 1, 1)
        else:
            begins = start + dt.timedelta(weeks=i)
        steps.append({"start": begins.isoformat(), "z": z})
    return {
        "h3": cell.h3,
        "run": run.pk,
        "step": step,
        "pattern": cell.pattern,
        "trend_z": cell.trend_z,
        "trend_p": cell.trend_p,
        "steps": steps,
    }


def joint_case_features(*, user, status: str | None = "open") -> dict:
    """联合办案 The joint cases the user takes part in (all for city-wide roles) as a GeoJSON FeatureCollection.

    A case has no place of its own: it is drawn at its linked complaints (a MultiPoint), or, without any, at a
    point inside each lead area of the boundaries in force. Properties: id, title, status, leads, parties summoned
    and checked in, created time (local), linked complaints.
    """
    from complaints.selectors import joint_case_list

    cases = list(joint_case_list(scope=scope_for(user), status=status))
    complaint_ids = {pk for case in cases for pk in case.complaint_ids}
    lead_codes = {code for case in cases for code in case.lead_codes}
    located = dict(Complaint.objects.filter(pk__in=complaint_ids).values_list("pk", "location"))
    areas = {
        code: (name, anchor)
        for code, name, anchor in Area.objects.current()
        .filter(code__in=lead_codes)
        .annotate(anchor=PointOnSurface("geom"))
        .values_list("code", "name", "anchor")
    }
    features = []
    for case in cases:
        points = [located[pk] for pk in case.complaint_ids if pk in located]
        placed_at = "complaints"
        if not points:
            points = [areas[code][1] for code in case.lead_codes if code in areas]
            placed_at = "lead areas"
        if not points:
            continue
        parties = list(case.parties.all())
        features.append(
            {
                "type": "Feature",
                "id": case.pk,
                "geometry": {"type": "MultiPoint", "coordinates": [[round(p.x, 7), round(p.y, 7)] for p in points]},
                "properties": {
                    "id": case.pk,
                    "title": case.title,
                    "status": case.status,
                    "leads": "、".join(areas.get(code, (code, None))[0] for code in case.lead_codes),
                    "parties": len(parties),
                    "checked_in": sum(1 for party in parties if party.checked_in_at is not None),
                    "complete": all(party.checked_in_at is not None for party in parties),
                    "complaints": len(case.complaint_ids),
                    "created": case.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                    "placed_at": placed_at,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def analysis_run_choices(*, limit: int = 24) -> dict[str, list[dict]]:
    """分析批次 The finished all-category runs of each analysis layer, oldest to newest (the last is the one the
    map draws by default), at most `limit` of the newest: the planner map's run picker."""
    choices: dict[str, list[dict]] = {}
    for layer in Layer.values:
        runs = list(AnalysisRun.objects.of_layer(layer).finished().for_category("").latest_first()[:limit])
        choices[layer] = [
            {
                "run": run.pk,
                "period_start": run.period_start.isoformat(),
                "period_end": run.period_end.isoformat(),
                "step": (run.params or {}).get("step", "week"),  # emerging runs: the time step of the z-series
            }
            for run in reversed(runs)
        ]
    return choices
