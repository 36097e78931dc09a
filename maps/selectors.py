"""Reads for the planner pages: area labels, which also list the district/street filter's choices."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import Q

from geo import coords
from jurisdictions import selectors as jurisdiction_selectors


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
