"""Boundary disputes: opening with an evidence snapshot, status changes, rulings and confirmations.

Writes are services (keyword-only, atomic, permission-checked, audited); the evidence builder is a read.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point
from django.db import connection, transaction

from . import hooks
from .constants import AreaLevel, DisputeOrigin, DisputeStatus, Role, RulingStatus
from .models import AuditEntry, Building, BuildingShare, Dispute, Rule, Ruling, RulingConfirmation
from .permissions import Scope, ScopeDenied, require, require_role, scope_for
from .selectors import jurisdiction_lookup
from .services import rule_create, rule_end

# A point-only dispute that becomes a rule covers a circle of this radius around the point (metres).
POINT_RULE_RADIUS_M = 25.0
NEARBY_RULES_M = 200.0
SAME_PLACE_M = 50.0


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
    at = at or dt.date.today()
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

    Street or district staff may open one that touches their scope; administrators anywhere. A return (退单)
    arrives with origin=return and an opaque origin_ref naming what was returned.
    """
    scope = scope_for(by)
    require_role(scope, (Role.STREET, Role.DISTRICT, Role.ADMIN), "发起争议 open a dispute")
    if point is None and place is None and building is None:
        raise ValueError("争议需要地点 a dispute needs a point, a polygon or a building")
    if point is None:
        point = building.geom.point_on_surface if building is not None else place.point_on_surface
    if place is not None and place.geom_type == "Polygon":
        place = MultiPolygon(place, srid=4326)
    evidence = dispute_evidence(
        point=point,
        building=building,
        at=at,
        accuracy_m=accuracy_m,
        contested_codes=contested_codes,
        complaints=complaints,
    )
    codes = sorted(
        {
            *(contested_codes or []),
            *(d["code"] for d in evidence["boundary_distances"] if d["level"] == AreaLevel.STREET),
        }
    )
    require(
        any(scope.covers(code) for code in codes) or scope.role == Role.ADMIN,
        scope,
        "争议不涉及你的辖区 the dispute touches none of your areas",
        contested_codes=codes,
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
        district_codes=_districts_of(codes),
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


@transaction.atomic
def dispute_set_status(*, dispute: Dispute, status: str, by) -> Dispute:
    """Move an open dispute to under review, or withdraw it (撤回)."""
    scope = scope_for(by)
    allowed = {
        DisputeStatus.OPEN: {DisputeStatus.UNDER_REVIEW, DisputeStatus.WITHDRAWN},
        DisputeStatus.UNDER_REVIEW: {DisputeStatus.WITHDRAWN, DisputeStatus.OPEN},
    }
    if status not in allowed.get(dispute.status, set()):
        raise ValueError(f"不能从 {dispute.status} 变为 {status} cannot move from {dispute.status} to {status}")
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
        raise ValueError("争议已撤回 the dispute was withdrawn")
    co_handler_codes = sorted({c for c in (co_handler_codes or []) if c != lead_code})
    valid_from = valid_from or dt.date.today()
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
            changes={"lead_code": lead_code, "co_handler_codes": co_handler_codes, "make_rule": make_rule},
        )
        if dispute.status == DisputeStatus.OPEN:
            dispute.status = DisputeStatus.UNDER_REVIEW
            dispute.save(update_fields=["status"])
            audit_log(actor=by, action="dispute.status", obj=dispute, changes={"status": ["open", "under_review"]})
    who = "city" if scope.role == Role.ADMIN else scope.district_code
    if not ruling.confirmations.filter(district_code=who).exists():
        RulingConfirmation.objects.create(ruling=ruling, district_code=who, user=by)
        audit_log(actor=by, action="ruling.confirm", obj=ruling, changes={"district": who})
    confirmed = set(ruling.confirmations.values_list("district_code", flat=True))
    if "city" in confirmed or set(dispute.district_codes) <= confirmed:
        _take_effect(ruling, by)
    return ruling


def ruling_missing_confirmations(ruling: Ruling) -> list[str]:
    """Districts that still have to confirm a proposed ruling."""
    if ruling.status != RulingStatus.PROPOSED:
        return []
    confirmed = set(ruling.confirmations.values_list("district_code", flat=True))
    return [] if "city" in confirmed else sorted(set(ruling.dispute.district_codes) - confirmed)


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


def _circle(point: Point, metres: float) -> MultiPolygon:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, 16)::geometry)",
            [point.x, point.y, metres],
        )
        polygon = GEOSGeometry(memoryview(cursor.fetchone()[0]), srid=4326)
    return MultiPolygon(polygon, srid=4326)


__all__ = [
    "ScopeDenied",
    "audit_log",
    "dispute_evidence",
    "dispute_open",
    "dispute_rule",
    "dispute_set_status",
    "ruling_missing_confirmations",
]
