"""Reads for the planner and staff pages: area labels (also the district/street filter's choices), the dispute
queue and page, and the printable fix plan."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import Q, QuerySet

from geo import coords
from hotspots.models import FixPlan
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.disputes import ruling_missing_confirmations
from jurisdictions.models import Area, AuditEntry, Dispute
from jurisdictions.permissions import Scope, scope_for


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
    names = area_names(codes)
    audit = AuditEntry.objects.filter(
        Q(object_type="jurisdictions.dispute", object_id=str(dispute.pk))
        | Q(object_type="jurisdictions.ruling", object_id__in=[str(r.pk) for r in rulings])
    ).order_by("at", "id")
    return {
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
            "areas": [
                *({"code": c, "name": names.get(c, ""), "level": "district"} for c in dispute.district_codes),
                *({"code": c, "name": names.get(c, ""), "level": "street"} for c in dispute.contested_codes),
            ],
        },
    }


def json_geometry(geom) -> dict:
    """A GEOS geometry as a GeoJSON dict."""
    return json.loads(geom.json)


def fix_plan_page(*, pk: int) -> FixPlan | None:
    """整治方案 One fix plan with its lot, for the printable page."""
    return FixPlan.objects.select_related("parcel").filter(pk=pk).first()
