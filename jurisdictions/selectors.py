"""Reads for jurisdictions: the point verdict and area lists for pages and the API."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import shapely
from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Point, Polygon
from django.db import connection
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Value
from django.utils import timezone

from geo import coords, validation
from geo.errors import CodedError

from . import topology
from .constants import AreaLevel
from .models import Area, AreaPiece, Building, BuildingShare, Generation, Rule
from .topology import TopologyRow


class QueryError(CodedError):
    """Input a lookup cannot use (bad coordinates, unknown system); the message is for the caller."""


@dataclass
class AreaRef:
    code: str
    name: str
    level: str
    parent: str | None = None

    @classmethod
    def of(cls, area: Area) -> AreaRef:
        return cls(area.code, area.name, area.level, area.parent.code if area.parent_id else None)

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level}


@dataclass
class Verdict:
    """The engine's answer: who handles a point, how it was decided, and how sure it is.

    Order of decision: rule override → building footprint → point (with its uncertainty circle) → outside.
    """

    point: Point
    input: dict
    generation: Generation | None
    at: dt.date
    accuracy_m: float | None = None
    method: str = "outside"  # rule | building | point | uncertain | outside
    district: AreaRef | None = None
    street: AreaRef | None = None
    community: AreaRef | None = None
    lead: AreaRef | None = None
    co_handlers: list[AreaRef] = field(default_factory=list)
    on_boundary: bool = False
    candidates: list[dict] = field(default_factory=list)
    needs_review: bool = False
    reasons: list[str] = field(default_factory=list)
    rule: dict | None = None
    building: dict | None = None

    def as_dict(self) -> dict:
        return {
            "point": {"type": "Point", "coordinates": [round(self.point.x, 8), round(self.point.y, 8)]},
            "input": self.input,
            "at": self.at.isoformat(),
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
            "community": self.community.as_dict() if self.community else None,
            "lead": self.lead.as_dict() if self.lead else None,
            "co_handlers": [c.as_dict() for c in self.co_handlers],
            "on_boundary": self.on_boundary,
            "accuracy_m": self.accuracy_m,
            "candidates": self.candidates,
            "needs_review": self.needs_review,
            "reasons": self.reasons,
            "rule": self.rule,
            "building": self.building,
        }


def parse_point(lon, lat, crs: str | None = "wgs84") -> tuple[Point, dict]:
    """Validate raw lon/lat (strings or numbers) in `crs` and return the WGS-84 point and an echo of the input."""
    try:
        x, y, system = coords.parse_lon_lat(lon, lat, crs)
    except coords.CoordinateInputError as exc:
        raise QueryError("invalid_coordinates", "坐标无效 invalid coordinates", exc.details) from None
    wlon, wlat = coords.to_wgs84(x, y, system)
    return Point(wlon, wlat, srid=4326), {"lon": x, "lat": y, "crs": system}


def parse_date(value: str | None) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError("invalid_date", "日期无效 invalid date; use YYYY-MM-DD", {"at": value}) from None


def parse_accuracy(value) -> float | None:
    """Validate an accuracy radius in metres (0 < r ≤ 5000), or None when absent."""
    if value in (None, ""):
        return None
    try:
        metres = float("nan") if isinstance(value, bool) else float(value)  # JSON true is not 1 metre
    except (TypeError, ValueError):
        metres = float("nan")
    if not (math.isfinite(metres) and 0 <= metres <= MAX_ACCURACY_M):
        raise QueryError(
            "invalid_accuracy",
            f"精度半径无效 accuracy_m must be metres in 0–{MAX_ACCURACY_M:g}",
            {"accuracy_m": value},
        )
    return metres or None


MAX_ACCURACY_M = 5000.0


def jurisdiction_lookup(
    *,
    point: Point,
    at: dt.date | None = None,
    accuracy_m: float | None = None,
    input: dict | None = None,
    generation: Generation | None = None,
) -> Verdict:
    """The verdict for `point` on `at` (today by default): rule → building → point (± accuracy) → outside.

    Areas come from the generation in force on `at`, found on subdivided pieces with ST_Covers, so a point on
    an edge or vertex is covered by every area sharing it (`on_boundary`); then the lowest code leads
    (documented tie rule) and the verdict asks for review. `generation` forces a boundary set (re-resolving
    against a new one); rules still apply as of `at`.
    """
    at = at or timezone.localdate()
    generation = generation or Generation.objects.in_force(at)
    verdict = Verdict(point=point, input=input or {}, generation=generation, at=at, accuracy_m=accuracy_m)
    if generation is None:
        verdict.needs_review = True
        verdict.reasons.append(f"没有在 {at} 生效的边界版本 no boundary generation in force")
        return verdict
    rule = Rule.objects.valid_on(at).covering(point).latest_first().select_related("building").first()
    if rule is not None and _decide_by_rule(verdict, rule, generation):
        return verdict
    building = Building.objects.covering(point).order_by("code").first()
    if building is not None and decide_by_building(verdict, building, generation):
        return verdict
    _decide_by_point(verdict, generation)
    return verdict


def _areas_by_code(generation: Generation, codes: list[str]) -> dict[str, Area]:
    areas = Area.objects.in_generation(generation).filter(code__in=codes).select_related("parent")
    return {a.code: a for a in areas}


def _set_lead(verdict: Verdict, lead: Area, co_handlers: list[Area]) -> None:
    """Fill lead/district/street from the lead area; co-handlers as given."""
    verdict.lead = AreaRef.of(lead)
    if lead.level == AreaLevel.STREET:
        verdict.street = AreaRef.of(lead)
        verdict.district = AreaRef.of(lead.parent) if lead.parent_id else None
    elif lead.level == AreaLevel.DISTRICT:
        verdict.district = AreaRef.of(lead)
    verdict.co_handlers = [AreaRef.of(a) for a in co_handlers]


def _decide_by_rule(verdict: Verdict, rule: Rule, generation: Generation) -> bool:
    areas = _areas_by_code(generation, [rule.lead_code, *rule.co_handler_codes])
    lead = areas.get(rule.lead_code)
    if lead is None:
        verdict.reasons.append(
            f"规则 {rule.pk} 的牵头单位 {rule.lead_code} 不在边界版本 {generation.name} 中，未采用 rule skipped"
        )
        return False
    _set_lead(verdict, lead, [areas[c] for c in rule.co_handler_codes if c in areas])
    verdict.method = "rule"
    verdict.rule = {
        "id": rule.pk,
        "reason": rule.reason,
        "author": rule.author,
        "ruling_ref": rule.ruling_ref or None,
        "valid_from": rule.valid_from.isoformat(),
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "building": rule.building.code if rule.building_id else None,
    }
    verdict.reasons.append(f"按管辖规则 {rule.pk} 判定：{rule.reason} decided by rule")
    return True


def building_shares(*, generation: Generation, building: Building | None = None) -> QuerySet[BuildingShare]:
    """Footprint shares of `generation` (of one building, or all), largest first, with their areas and parents."""
    shares = BuildingShare.objects.filter(generation=generation).select_related("area", "area__parent")
    if building is not None:
        shares = shares.filter(building=building)
    return shares.order_by("building_id", "-share", "area__code")


def decide_by_building(
    verdict: Verdict, building: Building, generation: Generation, shares: list[BuildingShare] | None = None
) -> bool:
    """Decide by a building's footprint shares (`shares` as `building_shares` lists them, or read here)."""
    if shares is None:
        shares = list(building_shares(generation=generation, building=building))
    if not shares:
        return False
    min_share = settings.SHAOZI["CO_HANDLER_MIN_SHARE"]
    level = AreaLevel.STREET if any(s.level == AreaLevel.STREET for s in shares) else AreaLevel.DISTRICT
    ranked = straddle_rank([(s.area, s.share) for s in shares if s.level == level])
    lead = ranked[0][0]
    co = [area for area, share in ranked[1:] if share >= min_share]
    _set_lead(verdict, lead, co)
    verdict.method = "building"
    verdict.building = {"code": building.code, "name": building.name, "synthetic": building.synthetic}
    verdict.candidates = [
        {
            **AreaRef.of(s.area).as_dict(),
            "parent": AreaRef.of(s.area).parent,
            "share": round(s.share, 6),
            "distance_m": 0.0,
        }
        for s in shares
    ]
    label = building.name or building.code
    if len(ranked) > 1:
        parts = "，".join(f"{a.name} {share:.1%}" for a, share in ranked)
        verdict.reasons.append(
            f"点在建筑 {label} 内，该建筑跨界：{parts}；占比最大者牵头 building straddles a boundary"
        )
        districts = {s.area.code for s in shares if s.level == AreaLevel.DISTRICT}
        if len(districts) > 1:
            verdict.reasons.append("跨区建筑，需两区协同 building crosses a district line")
    else:
        verdict.reasons.append(f"点在建筑 {label} 内，建筑完全位于 {lead.name} point inside a building")
    return True


def straddle_rank(shares: list[tuple[Area, float]]) -> list[tuple[Area, float]]:
    """Largest share first; equal shares (within 1e-9) by lowest code — the documented tie rule."""
    return sorted(shares, key=lambda item: (-round(item[1], 9), item[0].code))


def _decide_by_point(verdict: Verdict, generation: Generation) -> None:
    """The documented tie rule: of the streets whose pieces cover the point (ST_Covers), the lowest code leads
    and its parent is the district; only where no street covers it, the lowest covering district. The bulk
    resolver (jurisdictions.bulk) indexes the same street pieces with the same rule, so both always agree.
    Areas within BOUNDARY_TOLERANCE_M also count for `on_boundary` (an edge is rarely representable exactly).
    """
    point = verdict.point
    tolerance = settings.SHAOZI["BOUNDARY_TOLERANCE_M"]
    in_generation = Area.objects.in_generation(generation).filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET])
    covering_ids = set(in_generation.covering(point).values_list("pk", flat=True))
    areas = list(in_generation.near(point, tolerance).select_related("parent").order_by("level", "code"))
    districts = [a for a in areas if a.level == AreaLevel.DISTRICT]
    streets = [a for a in areas if a.level == AreaLevel.STREET]
    covering_streets = [a for a in streets if a.pk in covering_ids]
    covering_districts = [a for a in districts if a.pk in covering_ids]
    lead = (covering_streets or covering_districts or [None])[0]
    if lead is not None:
        _set_lead(verdict, lead, [])
        verdict.method = "point"
    verdict.on_boundary = len(districts) > 1 or len(streets) > 1
    if verdict.on_boundary:
        verdict.candidates = [
            {**AreaRef.of(a).as_dict(), "parent": AreaRef.of(a).parent, "distance_m": 0.0} for a in areas
        ]
        names = "、".join(a.name for a in areas)
        verdict.needs_review = True
        verdict.reasons.append(f"点位于共用边界上，涉及：{names}；按编码最小的街道牵头 point on a shared boundary")
    if verdict.accuracy_m and lead is not None:
        _widen_by_accuracy(verdict, generation, lead)
    elif lead is None and verdict.accuracy_m:
        _widen_by_accuracy(verdict, generation, None)
    if verdict.method == "point" and not verdict.on_boundary:
        verdict.reasons.append("点落在辖区内 point inside the area")
    if verdict.lead is None:
        verdict.needs_review = True
        verdict.reasons.append("点不在任何辖区内 point outside every area")


def _widen_by_accuracy(verdict: Verdict, generation: Generation, lead: Area | None) -> None:
    """With an accuracy radius, list every street the circle reaches with the fraction of the circle in it."""
    fractions = circle_fractions(point=verdict.point, radius_m=verdict.accuracy_m, generation=generation)
    streets = [f for f in fractions if f["level"] == AreaLevel.STREET] or [
        f for f in fractions if f["level"] == AreaLevel.DISTRICT
    ]
    if len(streets) <= 1 and not verdict.on_boundary:
        if streets:
            verdict.reasons.append(
                f"误差圆 {verdict.accuracy_m:g} 米内仅涉及 {streets[0]['name']} circle inside one area"
            )
        return
    verdict.candidates = fractions
    if lead is None:
        # The point itself is outside every area but its circle reaches some: the largest fraction leads.
        best = streets[0]
        area = _areas_by_code(generation, [best["code"]])[best["code"]]
        _set_lead(verdict, area, [])
    verdict.method = "uncertain"
    lead_fraction = next((f["fraction"] for f in streets if f["code"] == verdict.lead.code), 0.0)
    threshold = settings.SHAOZI["REVIEW_MIN_FRACTION"]
    if lead_fraction < threshold:
        verdict.needs_review = True
    parts = "，".join(f"{f['name']} {f['fraction']:.0%}" for f in streets)
    verdict.reasons.append(
        f"误差圆 {verdict.accuracy_m:g} 米跨越多个辖区：{parts}；牵头 {verdict.lead.name} 占 {lead_fraction:.0%}"
        + ("，低于阈值，需人工复核 needs review" if lead_fraction < threshold else "")
    )


def circle_fractions(*, point: Point, radius_m: float, generation: Generation) -> list[dict]:
    """Areas (district and street) that a circle of `radius_m` around `point` reaches, largest fraction first.

    The circle is built on the spheroid (geography buffer); fractions are equal-area (geography ST_Area);
    distance_m is from the point to the area (0 when inside). Runs on subdivided pieces for speed.
    """
    sql = f"""
        WITH b AS (
            SELECT ST_Buffer(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(r)s, 32)::geometry AS geom
        ), c AS (
            SELECT geom, ST_Area(geom::geography) AS area_m2, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS pt
              FROM b
        )
        SELECT a.code, a.name, a.level, parent.code,
               sum(ST_Area(ST_Intersection(p.geom, c.geom)::geography)) / max(c.area_m2) AS fraction,
               min(ST_Distance(p.geom::geography, c.pt::geography)) AS distance_m
          FROM c
          JOIN {AreaPiece._meta.db_table} p ON p.geom && c.geom AND ST_Intersects(p.geom, c.geom)
          JOIN {Area._meta.db_table} a ON a.id = p.area_id
          LEFT JOIN {Area._meta.db_table} parent ON parent.id = a.parent_id
          JOIN {Generation._meta.db_table} lo ON lo.id = a.generation_low_id
          JOIN {Generation._meta.db_table} hi ON hi.id = a.generation_high_id
         WHERE lo.valid_from <= %(gen_from)s AND hi.valid_from >= %(gen_from)s
           AND a.level IN ('district', 'street')
         GROUP BY a.code, a.name, a.level, parent.code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"lon": point.x, "lat": point.y, "r": radius_m, "gen_from": generation.valid_from})
        rows = cursor.fetchall()
    out = [
        {
            "code": code,
            "name": name,
            "level": level,
            "parent": parent,
            "fraction": round(min(max(fraction or 0.0, 0.0), 1.0), 6),
            "distance_m": round(distance or 0.0, 2),
        }
        for code, name, level, parent, fraction, distance in rows
        if fraction and fraction > 1e-9
    ]
    level_order = {AreaLevel.DISTRICT: 0, AreaLevel.STREET: 1}
    return sorted(out, key=lambda f: (level_order.get(f["level"], 9), -f["fraction"], f["code"]))


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


def area_extent(*, level: str | None = None, at: dt.date | None = None) -> list[float] | None:
    """[west, south, east, north] of the areas in force on `at` (of one level), 7 decimals; None when there are none.

    The districts' extent is the city's: every tile layer and OGC collection lies inside it."""
    extent = area_list(level=level, at=at).aggregate(box=Extent("geom"))["box"]
    return [round(v, 7) for v in extent] if extent else None


def area_list_version(*, at: dt.date | None = None) -> tuple[str, dt.datetime | None]:
    """A fingerprint of the areas in force on `at` (today by default) and when they last changed, for ETag and
    Last-Modified: the generation in force (its id moves when another is activated or takes over at midnight), the
    number of its areas and the newest area id. Areas are never edited in place (new boundaries add rows and
    generations), so the fingerprint changes whenever an answer built from them can. The time is the later of the
    generation's creation and the start of its validity (midnight, Beijing), None without a generation in force."""
    day = at or timezone.localdate()
    # One query: the generation in force (as Generation.objects.in_force picks it) with its areas' count and
    # newest id, so a revalidation costs one round trip before its 304.
    areas = Area.objects.filter(
        generation_low__valid_from__lte=OuterRef("valid_from"), generation_high__valid_from__gte=OuterRef("valid_from")
    ).order_by()
    generation = (
        Generation.objects.active()
        .valid_on(day)
        .order_by("-valid_from", "-id")
        .annotate(
            # values() of a constant: one group, so the aggregates cover every area of the generation.
            n_areas=Subquery(areas.annotate(one=Value(1)).values("one").annotate(n=Count("id")).values("n")[:1]),
            last_area=Subquery(areas.annotate(one=Value(1)).values("one").annotate(m=Max("id")).values("m")[:1]),
        )
        .first()
    )
    if generation is None:
        return f"{day.isoformat()}:none", None
    starts = dt.datetime.combine(generation.valid_from, dt.time(), tzinfo=timezone.get_default_timezone())
    changed = max(generation.created_at, starts)
    return f"{generation.pk}:{generation.n_areas}:{generation.last_area}", changed


def topology_check(*, generation: Generation | None = None, tolerance_m2: float = 1.0) -> list:
    """Gaps, overlaps, slivers and children outside parents in a stored generation (default: in force today).

    Returns geo.validation.Finding objects with geometry (see topology.findings_geojson for GeoJSON).
    """
    generation = generation or Generation.objects.in_force()
    if generation is None:
        return []
    areas = list(Area.objects.in_generation(generation).select_related("parent").order_by("level", "code"))
    rows = [
        TopologyRow(a.pk, a.level, a.code, a.name, a.parent.code if a.parent_id else None, _shapely(a.geom))
        for a in areas
    ]
    parents = {row.code: row.geom for row in rows}
    if not rows:
        return []
    project = validation.MetricProjector(validation.utm_crs_for([r.geom for r in rows]))
    return topology.coverage_findings(rows, parents, project, tolerance_m2)


def _shapely(geom):
    return shapely.from_wkb(bytes(geom.wkb))


def rule_list(*, on: dt.date | None = None, include_ended: bool = False) -> QuerySet[Rule]:
    """Rules, latest first; by default only those in force on `on` (today)."""
    rules = Rule.objects.select_related("building").latest_first()
    if not include_ended:
        rules = rules.valid_on(on or timezone.localdate())
    return rules
