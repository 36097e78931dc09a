"""Boundary disputes: opening with an evidence snapshot, status changes, rulings and confirmations.

Writes are services (keyword-only, atomic, permission-checked, audited); the evidence builder is a read.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.db import connection, transaction
from django.utils import timezone

from geo.errors import CodedError

from . import hooks
from .constants import AreaLevel, DisputeOrigin, DisputeStatus, Role, RulingStatus
from .models import Area, AuditEntry, Building, BuildingShare, Dispute, Generation, Rule, Ruling, RulingConfirmation
from .permissions import Scope, ScopeDenied, require, require_role, scope_for
from .selectors import jurisdiction_lookup
from .services import rule_create, rule_end

# A point-only dispute that becomes a rule covers a circle of this radius around the point (metres).
POINT_RULE_RADIUS_M = 25.0
NEARBY_RULES_M = 200.0
SAME_PLACE_M = 50.0
# A dispute's place (and so the rule a ruling makes) is at most this large unless a city administrator opens it:
# a building or a block, not a district. SHAOZI["RULE_MAX_AREA_M2"] overrides it.
RULE_MAX_AREA_M2 = 250_000.0
PLACE_MAX_VERTICES = 10_000


class DisputeError(CodedError):
    """A dispute or ruling that cannot be made as asked: a stable `code`, a zh-Hans/English message, details."""


def rule_max_area_m2() -> float:
    return float(getattr(settings, "SHAOZI", {}).get("RULE_MAX_AREA_M2", RULE_MAX_AREA_M2))


def check_point(point: Point) -> Point:
    """A dispute's point: a two-dimensional, finite lon/lat point (WGS-84)."""
    if not isinstance(point, Point) or point.empty:
        raise DisputeError("invalid_geometry", "point 须为非空的点 point must be a non-empty Point", {})
    if point.hasz:
        raise DisputeError("invalid_geometry", "point 须为二维坐标 point must be two-dimensional (lon, lat)", {})
    x, y = point.x, point.y
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise DisputeError(
            "invalid_geometry", "point 坐标超出范围 point outside lon ±180 / lat ±90", {"coordinates": [x, y]}
        )
    if point.srid is None:
        point.srid = 4326
    return point


def place_area_m2(place: GEOSGeometry) -> float:
    """The area of a lon/lat polygon in square metres (on the spheroid)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(ST_GeomFromEWKB(%s)::geography)", [memoryview(place.ewkb)])
        return float(cursor.fetchone()[0] or 0.0)


def check_place(place: GEOSGeometry, *, city_admin: bool = False) -> MultiPolygon:
    """A dispute's (and a rule's) place: a valid, simple, two-dimensional (Multi)Polygon within the size limit
    (`RULE_MAX_AREA_M2`; a city administrator may go beyond it)."""
    if place.geom_type not in ("Polygon", "MultiPolygon"):
        raise DisputeError(
            "invalid_geometry", f"place 须为多边形 place must be a Polygon or MultiPolygon, not {place.geom_type}", {}
        )
    if place.empty or place.hasz:
        raise DisputeError("invalid_geometry", "place 须为非空二维多边形 place must be a non-empty 2D polygon", {})
    if place.num_coords > PLACE_MAX_VERTICES:
        raise DisputeError(
            "invalid_geometry",
            f"place 顶点过多 place has more than {PLACE_MAX_VERTICES} vertices",
            {"vertices": place.num_coords},
        )
    if not all(math.isfinite(v) for v in place.extent) or not (
        -180 <= place.extent[0] and place.extent[2] <= 180 and -90 <= place.extent[1] and place.extent[3] <= 90
    ):
        raise DisputeError("invalid_geometry", "place 坐标超出范围 place outside lon ±180 / lat ±90", {})
    if not place.valid:
        raise DisputeError(
            "invalid_geometry",
            "place 不是有效多边形（自相交等）place is not a valid polygon",
            {"reason": place.valid_reason},
        )
    if place.srid is None:
        place.srid = 4326
    if place.geom_type == "Polygon":
        place = MultiPolygon(place, srid=4326)
    area = place_area_m2(place)
    limit = rule_max_area_m2()
    if area > limit and not city_admin:
        raise DisputeError(
            "place_too_large",
            f"争议地点过大（{area:,.0f} m²，上限 {limit:,.0f} m²），更大范围须由市级管理员处理 — the place is "
            "larger than a dispute may cover; only a city administrator may rule over a larger area",
            {"area_m2": round(area, 1), "max_area_m2": limit},
        )
    return place


def dispute_reach(*, point: Point, place=None, building: Building | None = None, accuracy_m: float | None = None):
    """The ground a dispute is about: its place, else its building's footprint, else a circle around the point
    (the larger of the rule radius and the accuracy radius). Every area this touches gains or loses by a ruling."""
    if place is not None:
        return place
    if building is not None:
        return building.geom
    return _circle(point, max(POINT_RULE_RADIUS_M, float(accuracy_m or 0.0)))


def touched_codes(reach, generation) -> tuple[list[str], list[str]]:
    """(street codes, district codes) of the areas of `generation` that `reach` touches; a district without
    streets under the reach stands for itself among the streets."""
    areas = Area.objects.in_generation(generation).intersecting(reach)
    streets = sorted(areas.of_level(AreaLevel.STREET).values_list("code", flat=True))
    districts = sorted(areas.of_level(AreaLevel.DISTRICT).values_list("code", flat=True))
    covered = {code[:6] for code in streets}
    return sorted({*streets, *(d for d in districts if d not in covered)}), districts


def audit_log(*, actor, action: str, obj, changes: dict | None = None) -> AuditEntry:
    """Record a state change: who (`actor`, None for the system), what, on which object."""
    label = actor.get_username() if actor is not None else "system"
    entry = AuditEntry(
        actor=actor,
        actor_label=label,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        changes=changes or {},
    )
    entry.full_clean()
    entry.save()
    return entry


def dispute_evidence(
    *,
    point: Point | None,
    building: Building | None = None,
    at: dt.date | None = None,
    accuracy_m: float | None = None,
    contested_codes: list[str] | None = None,
    complaints: list[dict] | None = None,
) -> dict:
    """Everything a district official needs to rule, as it stands now (the snapshot a dispute keeps)."""
    at = at or timezone.localdate()
    if point is None and building is not None:
        point = building.geom.point_on_surface
    verdict = jurisdiction_lookup(point=point, at=at, accuracy_m=accuracy_m)
    codes = sorted(set(contested_codes or []) | _verdict_codes(verdict))
    evidence = {
        "taken_at": dt.datetime.now(dt.UTC).isoformat(),
        "at": at.isoformat(),
        "verdict": verdict.as_dict(),
        "generation": verdict.generation.name if verdict.generation else None,
        "point": {"type": "Point", "coordinates": [point.x, point.y]},
        "accuracy_m": accuracy_m,
        "uncertainty": [c for c in verdict.candidates if "fraction" in c],
        "building": None,
        "boundary_distances": _boundary_distances(point, codes, verdict.generation) if verdict.generation else [],
        "rules_nearby": _rules_nearby(point, at),
        "earlier_rulings": _earlier_rulings(point, building),
        "complaints": complaints or [],
    }
    if building is not None:
        shares = BuildingShare.objects.filter(building=building, generation=verdict.generation).select_related("area")
        evidence["building"] = {
            "code": building.code,
            "name": building.name,
            "address": building.address,
            "synthetic": building.synthetic,
            "geometry": _geojson(building.geom),
            "shares": [
                {
                    "code": s.area.code,
                    "name": s.area.name,
                    "level": s.level,
                    "share": round(s.share, 6),
                    "area_m2": round(s.area_m2, 2),
                }
                for s in shares.order_by("level", "-share")
            ],
        }
    return evidence


def _geojson(geom) -> dict:
    import json

    return json.loads(geom.json)


def _verdict_codes(verdict) -> set[str]:
    codes = set()
    for ref in [verdict.lead, *verdict.co_handlers]:
        if ref is not None and ref.level == AreaLevel.STREET:
            codes.add(ref.code)
    for candidate in verdict.candidates:
        if candidate.get("level") == AreaLevel.STREET:
            codes.add(candidate["code"])
    return codes


def _boundary_distances(point: Point, codes: list[str], generation) -> list[dict]:
    """Distance (m, on the spheroid) from the point to each area's boundary line, and whether it is inside."""
    if not codes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, a.name, a.level,
                   ST_Distance(ST_Boundary(a.geom)::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography),
                   ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
              FROM jurisdictions_area a
              JOIN jurisdictions_generation lo ON lo.id = a.generation_low_id
              JOIN jurisdictions_generation hi ON hi.id = a.generation_high_id
             WHERE a.code = ANY(%s) AND lo.valid_from <= %s AND hi.valid_from >= %s
             ORDER BY a.code
            """,
            [point.x, point.y, point.x, point.y, codes, generation.valid_from, generation.valid_from],
        )
        return [
            {"code": c, "name": n, "level": lv, "distance_to_boundary_m": round(d, 2), "inside": inside}
            for c, n, lv, d, inside in cursor.fetchall()
        ]


def _rules_nearby(point: Point, at: dt.date) -> list[dict]:
    near = Rule.objects.valid_on(at).filter(
        _dwithin("geom", point, NEARBY_RULES_M) | _dwithin("building__geom", point, NEARBY_RULES_M)
    )
    return [
        {
            "id": r.pk,
            "lead_code": r.lead_code,
            "co_handler_codes": r.co_handler_codes,
            "reason": r.reason,
            "ruling_ref": r.ruling_ref,
            "valid_from": r.valid_from.isoformat(),
        }
        for r in near.latest_first()[:20]
    ]


def _dwithin(field: str, point: Point, metres: float):
    from django.db.models import Q

    from .querysets import degrees_for_metres

    return Q(**{f"{field}__dwithin": (point, degrees_for_metres(metres, point.y))})


def _earlier_rulings(point: Point, building: Building | None) -> list[dict]:
    from django.db.models import Q

    place = _dwithin("dispute__point", point, SAME_PLACE_M)
    if building is not None:
        place |= Q(dispute__building=building)
    rulings = Ruling.objects.filter(place, status__in=[RulingStatus.CONFIRMED, RulingStatus.SUPERSEDED])
    return [
        {
            "id": r.pk,
            "dispute": r.dispute_id,
            "lead_code": r.lead_code,
            "co_handler_codes": r.co_handler_codes,
            "reason": r.reason,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in rulings.select_related("dispute")[:20]
    ]


def _districts_of(codes: list[str]) -> list[str]:
    return sorted({code[:6] for code in codes if len(code) >= 6})


@transaction.atomic
def dispute_open(
    *,
    by,
    title: str,
    origin: str = DisputeOrigin.MANUAL,
    origin_ref: str = "",
    description: str = "",
    point: Point | None = None,
    place: GEOSGeometry | None = None,
    building: Building | None = None,
    contested_codes: list[str] | None = None,
    accuracy_m: float | None = None,
    at: dt.date | None = None,
    complaints: list[dict] | None = None,
) -> Dispute:
    """Open a dispute over a point, a polygon or a building and snapshot its evidence.

    The areas involved are every street (and district) the place touches — the polygon, the building's footprint
    or a circle around the point — plus any other areas the opener names; their districts must all confirm a
    ruling. Street or district staff may open one whose place touches their own area; administrators anywhere.
    The place must be a valid polygon no larger than `RULE_MAX_AREA_M2` (city administrators excepted). A return
    (退单) arrives with origin=return and an opaque origin_ref naming what was returned.
    """
    scope = scope_for(by)
    require_role(scope, (Role.STREET, Role.DISTRICT, Role.ADMIN), "发起争议 open a dispute")
    city_admin = scope.role == Role.ADMIN
    at = at or timezone.localdate()
    if point is None and place is None and building is None:
        raise DisputeError("invalid_request", "争议需要地点 a dispute needs a point, a polygon or a building")
    if place is not None:
        place = check_place(place, city_admin=city_admin)
    if point is None:
        point = building.geom.point_on_surface if building is not None else place.point_on_surface
    point = check_point(point)
    if place is not None and _distance_m(point, place) > SAME_PLACE_M:
        raise DisputeError(
            "point_outside_place",
            f"point 须在 place 内或 {SAME_PLACE_M:.0f} 米以内 the point must lie in the place or within "
            f"{SAME_PLACE_M:.0f} m of it",
            {},
        )
    generation = Generation.objects.in_force(at)
    if generation is None:
        raise DisputeError("no_generation", f"{at} 没有生效的边界版本 no boundary generation in force", {})
    reach = dispute_reach(point=point, place=place, building=building, accuracy_m=accuracy_m)
    touched, touched_districts = touched_codes(reach, generation)
    if not touched:
        raise DisputeError(
            "outside_areas", "争议地点不在任何辖区内 the place lies outside every area", {"generation": generation.name}
        )
    named = sorted({c for c in (contested_codes or []) if c} - set(touched))
    if named:
        known = set(Area.objects.in_generation(generation).filter(code__in=named).values_list("code", flat=True))
        unknown = [c for c in named if c not in known]
        if unknown:
            raise DisputeError(
                "unknown_area", f"边界版本 {generation.name} 中没有这些区划 unknown area codes", {"codes": unknown}
            )
    # The user must answer for ground the dispute covers; naming one's own street elsewhere is not enough.
    require(
        city_admin or any(scope.covers(code) for code in [*touched, *touched_districts]),
        scope,
        "争议地点不涉及你的辖区 the disputed place touches none of your areas",
        touched_codes=touched,
    )
    evidence = dispute_evidence(
        point=point,
        building=building,
        at=at,
        accuracy_m=accuracy_m,
        contested_codes=[*touched, *named],
        complaints=complaints,
    )
    codes = sorted(
        {
            *touched,
            *named,
            *(d["code"] for d in evidence["boundary_distances"] if d["level"] == AreaLevel.STREET),
        }
    )
    dispute = Dispute(
        title=title,
        description=description,
        point=point,
        place=place,
        building=building,
        origin=origin,
        origin_ref=origin_ref,
        contested_codes=codes,
        district_codes=sorted({*touched_districts, *_districts_of(codes)}),
        evidence=evidence,
        opened_by=by,
    )
    dispute.full_clean()
    dispute.save()
    audit_log(
        actor=by,
        action="dispute.open",
        obj=dispute,
        changes={"status": [None, dispute.status], "contested_codes": codes},
    )
    return dispute


def _require_ruler(scope: Scope, dispute: Dispute, action: str) -> None:
    if scope.role == Role.ADMIN:
        return
    require(
        scope.role == Role.DISTRICT and scope.district_code in dispute.district_codes,
        scope,
        f"只有涉及区的区级工作人员或市级管理员可以{action} — only staff of the districts involved or a city "
        f"administrator may {action}",
        districts_involved=dispute.district_codes,
    )


def may_rule(user, dispute: Dispute) -> bool:
    """Whether `user` may propose or confirm a ruling on `dispute`, or move it under review (the check
    `dispute_rule` and `dispute_set_status` make): staff of an involved district, or a city administrator."""
    try:
        _require_ruler(scope_for(user), dispute, "裁定 rule")
    except ScopeDenied:
        return False
    return True


def may_withdraw(user, dispute: Dispute) -> bool:
    """Whether `user` may withdraw `dispute`: whoever opened it, or those who may rule it."""
    if dispute.status not in (DisputeStatus.OPEN, DisputeStatus.UNDER_REVIEW):
        return False
    return (dispute.opened_by_id is not None and dispute.opened_by_id == getattr(user, "pk", None)) or may_rule(
        user, dispute
    )


@transaction.atomic
def dispute_set_status(*, dispute: Dispute, status: str, by) -> Dispute:
    """Move an open dispute to under review, or withdraw it (撤回)."""
    scope = scope_for(by)
    allowed = {
        DisputeStatus.OPEN: {DisputeStatus.UNDER_REVIEW, DisputeStatus.WITHDRAWN},
        DisputeStatus.UNDER_REVIEW: {DisputeStatus.WITHDRAWN, DisputeStatus.OPEN},
    }
    if status not in allowed.get(dispute.status, set()):
        raise DisputeError(
            "invalid_transition", f"不能从 {dispute.status} 变为 {status} cannot move from {dispute.status} to {status}"
        )
    if status == DisputeStatus.WITHDRAWN and by == dispute.opened_by:
        pass  # whoever opened it may withdraw it
    else:
        _require_ruler(scope, dispute, "更改争议状态 change the dispute's status")
    old = dispute.status
    dispute.status = status
    dispute.save(update_fields=["status"])
    audit_log(actor=by, action="dispute.status", obj=dispute, changes={"status": [old, status]})
    return dispute


@transaction.atomic
def dispute_rule(
    *,
    dispute: Dispute,
    by,
    lead_code: str,
    co_handler_codes: list[str] | None = None,
    reason: str,
    make_rule: bool = True,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> Ruling:
    """Propose or confirm a ruling. The same ruling (lead, co-handlers, rule or not) posted by staff of another
    involved district confirms it; a different one supersedes the pending proposal. It takes effect when every
    involved district has confirmed (or a city administrator rules): then the dispute is ruled, the rule is
    made through the engine's rule service, an earlier ruling's rule is ended, and complaints re-dispatch.
    """
    scope = scope_for(by)
    _require_ruler(scope, dispute, "裁定 rule")
    if dispute.status == DisputeStatus.WITHDRAWN:
        raise DisputeError("invalid_ruling", "争议已撤回 the dispute was withdrawn")
    co_handler_codes = sorted({c for c in (co_handler_codes or []) if c != lead_code})
    allowed = ruling_choices(dispute)
    outside = [c for c in [lead_code, *co_handler_codes] if c not in allowed]
    if outside:
        raise DisputeError(
            "not_contested",
            "裁定只能在争议涉及的区划中指定主办和协办 — a ruling may only name areas the dispute involves",
            {"codes": outside, "allowed": allowed},
        )
    valid_from = valid_from or timezone.localdate()
    if valid_to is not None and valid_to <= valid_from:
        raise DisputeError(
            "invalid_dates",
            "valid_to 须晚于 valid_from — valid_to must be after valid_from",
            {"valid_to": str(valid_to)},
        )
    pending = dispute.rulings.filter(status=RulingStatus.PROPOSED).first()
    same = pending is not None and (pending.lead_code, sorted(pending.co_handler_codes), pending.make_rule) == (
        lead_code,
        co_handler_codes,
        make_rule,
    )
    if same:
        ruling = pending
    else:
        previous = pending or dispute.rulings.filter(status=RulingStatus.CONFIRMED).first()
        ruling = Ruling(
            dispute=dispute,
            lead_code=lead_code,
            co_handler_codes=co_handler_codes,
            reason=reason,
            make_rule=make_rule,
            rule_valid_from=valid_from,
            rule_valid_to=valid_to,
            proposed_by=by,
            supersedes=previous if previous is not None and previous.status == RulingStatus.CONFIRMED else None,
        )
        ruling.full_clean()
        ruling.save()
        if pending is not None:
            pending.status = RulingStatus.SUPERSEDED
            pending.save(update_fields=["status"])
            audit_log(actor=by, action="ruling.superseded", obj=pending, changes={"by_ruling": ruling.pk})
        audit_log(
            actor=by,
            action="ruling.propose",
            obj=ruling,
            changes={
                "lead_code": lead_code,
                "co_handler_codes": co_handler_codes,
                "make_rule": make_rule,
                "reason": reason,
            },
        )
        if dispute.status == DisputeStatus.OPEN:
            dispute.status = DisputeStatus.UNDER_REVIEW
            dispute.save(update_fields=["status"])
            audit_log(actor=by, action="dispute.status", obj=dispute, changes={"status": ["open", "under_review"]})
    # Each district's own reason is kept with its confirmation and in the audit trail: a district confirming the
    # pending proposal says why in its own words, which the proposal's reason does not replace.
    who = "city" if scope.role == Role.ADMIN else scope.district_code
    if not ruling.confirmations.filter(district_code=who).exists():
        RulingConfirmation.objects.create(ruling=ruling, district_code=who, user=by, reason=(reason or "").strip())
        audit_log(actor=by, action="ruling.confirm", obj=ruling, changes={"district": who, "reason": reason})
    confirmed = set(ruling.confirmations.values_list("district_code", flat=True))
    if "city" in confirmed or (set(dispute.district_codes) <= confirmed and not _needs_city(ruling)):
        _take_effect(ruling, by)
    return ruling


def _needs_city(ruling: Ruling) -> bool:
    """A rule over more than `RULE_MAX_AREA_M2` takes effect only when a city administrator rules."""
    dispute = ruling.dispute
    return bool(ruling.make_rule and dispute.place is not None and place_area_m2(dispute.place) > rule_max_area_m2())


def ruling_missing_confirmations(ruling: Ruling) -> list[str]:
    """Districts that still have to confirm a proposed ruling."""
    if ruling.status != RulingStatus.PROPOSED:
        return []
    confirmed = set(ruling.confirmations.values_list("district_code", flat=True))
    if "city" in confirmed:
        return []
    missing = sorted(set(ruling.dispute.district_codes) - confirmed)
    return [*missing, "city"] if _needs_city(ruling) else missing


def _take_effect(ruling: Ruling, by) -> None:
    dispute = ruling.dispute
    earlier = ruling.supersedes
    if earlier is not None:
        earlier.status = RulingStatus.SUPERSEDED
        earlier.save(update_fields=["status"])
        if earlier.rule_id:
            rule_end(rule=earlier.rule, valid_to=max(ruling.rule_valid_from, earlier.rule.valid_from + dt.timedelta(1)))
        audit_log(actor=by, action="ruling.superseded", obj=earlier, changes={"by_ruling": ruling.pk})
    if ruling.make_rule:
        place = None
        if dispute.building_id is None:
            place = dispute.place or _circle(dispute.point, POINT_RULE_RADIUS_M)
        rule = rule_create(
            lead_code=ruling.lead_code,
            co_handler_codes=ruling.co_handler_codes,
            geom=place,
            building=dispute.building,
            valid_from=ruling.rule_valid_from,
            valid_to=ruling.rule_valid_to,
            reason=ruling.reason,
            author=by.get_username(),
            ruling_ref=f"dispute:{dispute.pk}/ruling:{ruling.pk}",
        )
        ruling.rule = rule
        audit_log(actor=by, action="rule.create", obj=rule, changes={"lead_code": rule.lead_code})
    ruling.status = RulingStatus.CONFIRMED
    ruling.save(update_fields=["status", "rule"])
    old = dispute.status
    dispute.status = DisputeStatus.RULED
    dispute.save(update_fields=["status"])
    audit_log(actor=by, action="dispute.status", obj=dispute, changes={"status": [old, "ruled"], "ruling": ruling.pk})
    hooks.ruling_confirmed(ruling=ruling, by=by)


def _distance_m(point: Point, geom: GEOSGeometry) -> float:
    """Distance in metres (on the spheroid) from a point to a geometry; 0 inside it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_GeomFromEWKB(%s)::geography, ST_GeomFromEWKB(%s)::geography)",
            [memoryview(point.ewkb), memoryview(geom.ewkb)],
        )
        return float(cursor.fetchone()[0])


def ruling_choices(dispute: Dispute) -> list[str]:
    """The codes a ruling on `dispute` may name as lead or co-handler: its contested areas and their districts."""
    return sorted({*dispute.contested_codes, *dispute.district_codes})


def _circle(point: Point, metres: float) -> MultiPolygon:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, 16)::geometry)",
            [point.x, point.y, metres],
        )
        polygon = GEOSGeometry(memoryview(cursor.fetchone()[0]), srid=4326)
    return MultiPolygon(polygon, srid=4326)


__all__ = [
    "DisputeError",
    "ScopeDenied",
    "audit_log",
    "dispute_evidence",
    "dispute_open",
    "dispute_rule",
    "dispute_set_status",
    "may_rule",
    "may_withdraw",
    "ruling_choices",
    "ruling_missing_confirmations",
]
