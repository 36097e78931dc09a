"""API for disputes, rulings and rules. Every endpoint needs a login (token or session); writes check scope."""

from __future__ import annotations

import json
import math

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config import params
from config.api import ApiError
from jurisdictions import disputes as dispute_services
from jurisdictions import selectors
from jurisdictions.constants import DisputeOrigin, DisputeStatus, Role
from jurisdictions.models import AuditEntry, Building, Dispute, Rule
from jurisdictions.permissions import require_role, scope_for
from jurisdictions.services import RuleError, rule_create


def _geometry(value, field: str) -> GEOSGeometry | None:
    """A GeoJSON geometry object (WGS-84) from the request; 400 for anything else (WKT and strings included)."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) or "coordinates" not in value:
        raise ApiError(
            "invalid_geometry", f"{field} 须为 GeoJSON 几何对象 {field} must be a GeoJSON geometry", {field: "geojson"}
        )
    if not _numbers_only(value["coordinates"]):
        raise ApiError(
            "invalid_geometry",
            f"{field} 坐标须为有限数值 {field} coordinates must be finite numbers",
            {field: "coords"},
        )
    try:
        geom = GEOSGeometry(json.dumps(value), srid=4326)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ApiError("invalid_geometry", f"几何无效 invalid geometry in {field}", {field: str(exc)}) from None
    if geom.srid != 4326:
        geom.srid = 4326
    return geom


def _numbers_only(value, depth: int = 0) -> bool:
    """Nested lists (at most four deep, as GeoJSON's) of finite numbers, booleans excluded."""
    if isinstance(value, list):
        return depth < 4 and all(_numbers_only(v, depth + 1) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dispute_error(exc: dispute_services.DisputeError) -> ApiError:
    return ApiError(exc.code, exc.message, exc.details)


def dispute_feature(dispute: Dispute, *, full: bool = False) -> dict:
    """A dispute as a GeoJSON Feature (point geometry); `full` adds evidence, rulings and the audit trail."""
    properties = {
        "id": dispute.pk,
        "title": dispute.title,
        "status": dispute.status,
        "status_label": dispute.get_status_display(),
        "origin": dispute.origin,
        "origin_ref": dispute.origin_ref or None,
        "contested_codes": dispute.contested_codes,
        "district_codes": dispute.district_codes,
        "building": dispute.building.code if dispute.building_id else None,
        "opened_at": dispute.opened_at.isoformat(),
        "opened_by": dispute.opened_by.get_username() if dispute.opened_by_id else None,
    }
    if full:
        properties["description"] = dispute.description
        properties["place"] = json.loads(dispute.place.json) if dispute.place else None
        properties["evidence"] = dispute.evidence
        properties["rulings"] = [
            {
                "id": r.pk,
                "status": r.status,
                "lead_code": r.lead_code,
                "co_handler_codes": r.co_handler_codes,
                "reason": r.reason,
                "make_rule": r.make_rule,
                "rule": r.rule_id,
                "supersedes": r.supersedes_id,
                "proposed_by": r.proposed_by.get_username(),
                "created_at": r.created_at.isoformat(),
                "confirmed_by": [
                    {
                        "district": c.district_code,
                        "user": c.user.get_username(),
                        "reason": c.reason,
                        "at": c.at.isoformat(),
                    }
                    for c in r.confirmations.select_related("user").order_by("at")
                ],
                "missing_confirmations": dispute_services.ruling_missing_confirmations(r),
            }
            for r in dispute.rulings.select_related("proposed_by").order_by("created_at", "id")
        ]
        properties["audit"] = [
            {"at": e.at.isoformat(), "actor": e.actor_label, "action": e.action, "changes": e.changes}
            for e in AuditEntry.objects.filter(object_type="jurisdictions.dispute", object_id=str(dispute.pk))
        ]
    geometry = json.loads(dispute.point.json) if dispute.point else None
    return {"type": "Feature", "id": dispute.pk, "geometry": geometry, "properties": properties}


class DisputeOpenSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    point = serializers.JSONField(required=False, help_text="GeoJSON Point, WGS-84")
    place = serializers.JSONField(required=False, help_text="GeoJSON Polygon/MultiPolygon, WGS-84")
    building = serializers.CharField(required=False, help_text="building code")
    contested_codes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    accuracy_m = serializers.FloatField(required=False, min_value=0, max_value=5000)
    origin_ref = serializers.CharField(required=False, allow_blank=True, default="")
    origin = serializers.ChoiceField(
        choices=[DisputeOrigin.MANUAL, DisputeOrigin.REVIEW],
        default=DisputeOrigin.MANUAL,
        help_text="review: opened from a verdict that needs review (give the complaint as origin_ref)",
    )


class DisputeListView(APIView):
    """管辖争议 Disputes in your scope (GeoJSON), and opening one by hand."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=DisputeStatus.values)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        disputes = Dispute.objects.visible_to(scope_for(request.user)).select_related("building", "opened_by")
        if request.query_params.get("status"):
            disputes = disputes.filter(status=request.query_params["status"])
        return Response({"type": "FeatureCollection", "features": [dispute_feature(d) for d in disputes[:1000]]})

    @extend_schema(request=DisputeOpenSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = _valid(DisputeOpenSerializer, request.data)
        building = None
        if data.get("building"):
            building = Building.objects.filter(code=data["building"]).first()
            if building is None:
                raise ApiError("not_found", "没有该建筑 no such building", {"building": data["building"]}, 404)
        point = _geometry(data.get("point"), "point")
        if point is not None and not isinstance(point, Point):
            raise ApiError("invalid_geometry", "point 须为点 point must be a Point", {"point": point.geom_type})
        place = _geometry(data.get("place"), "place")
        if point is None and place is None and building is None:
            raise ApiError("invalid_request", "需要 point、place 或 building a place is required", {})
        try:
            dispute = dispute_services.dispute_open(
                by=request.user,
                title=data["title"],
                description=data["description"],
                point=point,
                place=place,
                building=building,
                contested_codes=data["contested_codes"],
                accuracy_m=data.get("accuracy_m"),
                origin=data["origin"],
                origin_ref=data["origin_ref"],
            )
        except dispute_services.DisputeError as exc:
            raise _dispute_error(exc) from exc
        return Response(dispute_feature(dispute, full=True), status=status.HTTP_201_CREATED)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ApiError("invalid_request", "请求参数无效 invalid request", serializer.errors)
    return serializer.validated_data


def _visible_dispute(request, pk: int) -> Dispute:
    dispute = get_object_or_404(Dispute, pk=pk)
    scope = scope_for(request.user)
    if not Dispute.objects.visible_to(scope).filter(pk=pk).exists():
        raise ApiError(
            "permission_denied",
            "该争议不在你的辖区内 this dispute is outside your scope",
            {"your_scope": scope.as_dict(), "districts_involved": dispute.district_codes},
            403,
        )
    return dispute


class DisputeDetailView(APIView):
    """一个争议 One dispute with its evidence snapshot, rulings and audit trail."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        return Response(dispute_feature(_visible_dispute(request, pk), full=True))


class RulingSerializer(serializers.Serializer):
    lead_code = serializers.CharField()
    co_handler_codes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    reason = serializers.CharField()
    make_rule = serializers.BooleanField(default=True)
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False, allow_null=True)


class DisputeRulingView(APIView):
    """裁定 Propose a ruling, or confirm the same ruling for your district. It takes effect when every
    district involved has confirmed (or a city administrator rules)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RulingSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        dispute = _visible_dispute(request, pk)
        data = _valid(RulingSerializer, request.data)
        try:
            ruling = dispute_services.dispute_rule(
                dispute=dispute,
                by=request.user,
                lead_code=data["lead_code"],
                co_handler_codes=data["co_handler_codes"],
                reason=data["reason"],
                make_rule=data["make_rule"],
                valid_from=data.get("valid_from"),
                valid_to=data.get("valid_to"),
            )
        except dispute_services.DisputeError as exc:
            raise _dispute_error(exc) from exc
        except (RuleError, ValueError) as exc:
            raise ApiError("invalid_ruling", str(exc), {}) from exc
        dispute.refresh_from_db()
        body = dispute_feature(dispute, full=True)
        body["properties"]["ruling"] = next(r for r in body["properties"]["rulings"] if r["id"] == ruling.pk)
        return Response(body)


class DisputeStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[DisputeStatus.OPEN, DisputeStatus.UNDER_REVIEW, DisputeStatus.WITHDRAWN])


class DisputeStatusView(APIView):
    """状态 Put a dispute under review, back to open, or withdraw it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DisputeStatusSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        dispute = _visible_dispute(request, pk)
        data = _valid(DisputeStatusSerializer, request.data)
        try:
            dispute_services.dispute_set_status(dispute=dispute, status=data["status"], by=request.user)
        except dispute_services.DisputeError as exc:
            raise _dispute_error(exc) from exc
        return Response(dispute_feature(dispute, full=True))


def rule_feature(rule: Rule) -> dict:
    geom = rule.geom or (rule.building.geom if rule.building_id else None)
    return {
        "type": "Feature",
        "id": rule.pk,
        "geometry": json.loads(geom.json) if geom else None,
        "properties": {
            "id": rule.pk,
            "lead_code": rule.lead_code,
            "co_handler_codes": rule.co_handler_codes,
            "level": rule.level,
            "building": rule.building.code if rule.building_id else None,
            "valid_from": rule.valid_from.isoformat(),
            "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
            "reason": rule.reason,
            "author": rule.author,
            "ruling_ref": rule.ruling_ref or None,
        },
    }


class RuleCreateSerializer(serializers.Serializer):
    lead_code = serializers.CharField()
    co_handler_codes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    place = serializers.JSONField(required=False, help_text="GeoJSON Polygon/MultiPolygon")
    building = serializers.CharField(required=False)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField()


class RuleListView(APIView):
    """管辖规则 Rules (GeoJSON), in force `at` a day (default today) unless `include_ended=true`; city administrators
    may add one directly."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            params.AT_PARAMETER,
            params.boolean_parameter("include_ended", "含已失效规则 also rules no longer in force"),
            *params.deprecated_parameters("on", "all"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = params.Query(request)
        on = query.day("at", "on")
        rules = selectors.rule_list(on=on, include_ended=bool(query.boolean("include_ended", "all")))
        return Response({"type": "FeatureCollection", "features": [rule_feature(r) for r in rules[:5000]]})

    @extend_schema(request=RuleCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        scope = scope_for(request.user)
        require_role(
            scope, (Role.ADMIN,), "直接创建规则（请通过争议裁定）create rules directly; rule a dispute instead"
        )
        data = _valid(RuleCreateSerializer, request.data)
        building = None
        if data.get("building"):
            building = Building.objects.filter(code=data["building"]).first()
            if building is None:
                raise ApiError("not_found", "没有该建筑 no such building", {"building": data["building"]}, 404)
        place = _geometry(data.get("place"), "place")
        try:
            if place is not None:
                place = dispute_services.check_place(place, city_admin=True)
            rule = rule_create(
                lead_code=data["lead_code"],
                co_handler_codes=data["co_handler_codes"],
                geom=place,
                building=building,
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
                reason=data["reason"],
                author=request.user.get_username(),
            )
        except dispute_services.DisputeError as exc:
            raise _dispute_error(exc) from exc
        except RuleError as exc:
            raise ApiError("invalid_rule", str(exc), {}) from exc
        dispute_services.audit_log(actor=request.user, action="rule.create", obj=rule, changes={"lead": rule.lead_code})
        return Response(rule_feature(rule), status=status.HTTP_201_CREATED)
