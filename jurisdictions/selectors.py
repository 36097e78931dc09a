"""Reads for jurisdictions: the point verdict and area lists for pages and the API."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.db.models import QuerySet

from geo import coords

from .constants import AreaLevel
from .models import Area, Generation


class QueryError(ValueError):
    """Input a lookup cannot use (bad coordinates, unknown system); the message is for the caller."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass
class AreaRef:
    code: str
    name: str
    level: str

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level}


@dataclass
class Verdict:
    """Which areas a point falls in, against which generation, and whether it sits on a shared edge."""

    point: Point
    input: dict
    generation: Generation | None
    district: AreaRef | None = None
    street: AreaRef | None = None
    on_boundary: bool = False
    candidates: list[dict] = field(default_factory=list)
    method: str = "outside"
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "point": {"type": "Point", "coordinates": [round(self.point.x, 8), round(self.point.y, 8)]},
            "input": self.input,
            "generation": None
            if self.generation is None
            else {
                "name": self.generation.name,
                "valid_from": self.generation.valid_from.isoformat(),
                "valid_to": self.generation.valid_to.isoformat() if self.generation.valid_to else None,
            },
            "method": self.method,
            "district": self.district.as_dict() if self.district else None,
            "street": self.street.as_dict() if self.street else None,
            "on_boundary": self.on_boundary,
            "candidates": self.candidates,
            "reasons": self.reasons,
        }


def parse_point(lon, lat, crs: str | None = "wgs84") -> tuple[Point, dict]:
    """Validate raw lon/lat (strings or numbers) in `crs` and return the WGS-84 point and an echo of the input."""
    details = {}
    values = {}
    for name, raw in (("lon", lon), ("lat", lat)):
        if raw is None or str(raw).strip() == "":
            details[name] = "必填 required"
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            details[name] = f"不是数字 not a number: {raw!r}"
            continue
        if not math.isfinite(value):
            details[name] = f"必须是有限数 must be finite: {raw!r}"
            continue
        limit = 180.0 if name == "lon" else 90.0
        if not -limit <= value <= limit:
            details[name] = f"超出范围 out of range [-{limit:g}, {limit:g}]: {value}"
            continue
        values[name] = value
    try:
        system = coords.normalise_system(crs or "wgs84")
    except coords.CoordinateError as exc:
        details["crs"] = str(exc)
    if details:
        raise QueryError("invalid_coordinates", "坐标无效 invalid coordinates", details)
    wlon, wlat = coords.to_wgs84(values["lon"], values["lat"], system)
    return Point(wlon, wlat, srid=4326), {"lon": values["lon"], "lat": values["lat"], "crs": system}


def parse_date(value: str | None) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError("invalid_date", "日期无效 invalid date; use YYYY-MM-DD", {"at": value}) from None


def jurisdiction_lookup(*, point: Point, at: dt.date | None = None, input: dict | None = None) -> Verdict:
    """The district and street (街道/乡镇) responsible for `point` in the generation in force on `at`.

    Areas are found on subdivided pieces with ST_Covers, so a point on an edge or vertex is covered by every
    area that shares it; then `on_boundary` is true and `candidates` lists them all. The lead of a tie is the
    lowest code (deterministic) until rules and buildings decide it.
    """
    generation = Generation.objects.in_force(at)
    verdict = Verdict(point=point, input=input or {}, generation=generation)
    if generation is None:
        verdict.reasons.append(f"没有在 {at or dt.date.today()} 生效的边界版本 no boundary generation in force")
        return verdict
    tolerance = settings.SHAOZI["BOUNDARY_TOLERANCE_M"]
    areas = list(
        Area.objects.in_generation(generation)
        .filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET])
        .near(point, tolerance)
        .select_related("parent")
        .order_by("level", "code")
        .only("code", "name", "level", "parent__code")
    )
    by_level: dict[str, list[Area]] = {}
    for area in areas:
        by_level.setdefault(area.level, []).append(area)
    districts = by_level.get(AreaLevel.DISTRICT, [])
    streets = by_level.get(AreaLevel.STREET, [])
    if districts:
        lead = districts[0]
        verdict.district = AreaRef(lead.code, lead.name, lead.level)
        own = [s for s in streets if s.parent_id == lead.pk] or streets
        if own:
            verdict.street = AreaRef(own[0].code, own[0].name, own[0].level)
    elif streets:
        verdict.street = AreaRef(streets[0].code, streets[0].name, streets[0].level)
    verdict.on_boundary = len(districts) > 1 or len(streets) > 1
    if verdict.district or verdict.street:
        verdict.method = "point"
    if verdict.on_boundary:
        verdict.candidates = [
            {**AreaRef(a.code, a.name, a.level).as_dict(), "parent": a.parent.code if a.parent else None} for a in areas
        ]
        names = "、".join(a.name for a in areas)
        verdict.reasons.append(f"点位于共用边界上，涉及：{names}；暂按编码最小者牵头 point on a shared boundary")
    elif verdict.method == "point":
        verdict.reasons.append("点落在辖区内 point inside the area")
    else:
        verdict.reasons.append("点不在任何辖区内 point outside every area")
    return verdict


def area_list(
    *,
    level: str | None = None,
    bbox: Polygon | None = None,
    parent_code: str | None = None,
    at: dt.date | None = None,
) -> QuerySet[Area]:
    """Areas of the generation in force on `at`, optionally by level, bounding box and parent code."""
    areas = Area.objects.current(at).select_related("parent")
    if level:
        areas = areas.of_level(level)
    if bbox is not None:
        areas = areas.intersecting(bbox)
    if parent_code:
        areas = areas.filter(parent__code=parent_code)
    return areas.order_by("level", "code")


def area_get(*, code: str, at: dt.date | None = None) -> Area | None:
    """One area of the generation in force on `at` by its code, or None."""
    return area_list(at=at).filter(code=code).first()
