"""The hotspots API: every layer as a GeoJSON FeatureCollection, fix plans, worklists."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config import params
from config.api import ApiError, FeaturePagination
from config.export import ExportMixin
from hotspots import selectors, services
from hotspots.constants import EmergingPattern, Layer
from hotspots.models import FixPlan, Parcel
from jurisdictions.permissions import require, scope_for

from .serializers import (
    EmergingCellSerializer,
    FixPlanCreateSerializer,
    FixPlanSerializer,
    FixPlanStatusSerializer,
    HotspotCellSerializer,
    IdleLotSerializer,
    RepeatPlaceSerializer,
)

FILTERS = [
    params.BBOX_PARAMETER,
    OpenApiParameter("category", OpenApiTypes.STR, description="诉求分类编码前缀 category code prefix"),
    OpenApiParameter("street", OpenApiTypes.STR, description="街道编码 street code"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="起 from (YYYY-MM-DD): the run (or places) of the period"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="止 to (YYYY-MM-DD, included)"),
    OpenApiParameter("run", OpenApiTypes.INT, description="分析批次 a run id (default: the latest)"),
    *params.deprecated_parameters("period"),
]


def _run_id(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        run = int(value)
    except ValueError:
        raise ApiError("invalid_run", "run 须为整数 run must be an integer", {"run": value}) from None
    if not 0 < run < 2**63:  # past the database's bigint no run can exist (and the query would fail)
        raise ApiError("invalid_run", "run 须为正整数 run must be a positive id", {"run": value})
    return run


class LayerPagination(FeaturePagination):
    page_size = 1000
    page_size_query_param = "page_size"
    max_page_size = 10000

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        run = getattr(self.request, "hotspots_run", None)
        if run is not None:
            response.data["run"] = {
                "id": run.pk,
                "layer": run.layer,
                "source": run.source,
                "synthetic": run.source == "synthetic",
                "period": [run.period_start.isoformat(), run.period_end.isoformat()],
                "category": run.category,
                "params": run.params,
                "summary": run.summary,
                "timings": run.timings,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
        return response


class _LayerView(ExportMixin, ListAPIView):
    """Shared filters: the run (by id or the latest for category/period), bbox, street; `?format=gpkg|fgb|csv|geojson`
    exports every matching feature of the run as one file."""

    pagination_class = LayerPagination
    layer: str = ""
    category_selects_run = True
    period_selects_run = True

    def run(self):
        query = params.Query(self.request)
        start, end = query.day_range(legacy_period=True) if self.period_selects_run else (None, None)
        run = selectors.run_get(
            layer=self.layer,
            run_id=_run_id(query.params.get("run")),
            category=query.params.get("category") if self.category_selects_run else None,
            start=start,
            end=end,
        )
        if run is None:
            raise ApiError(
                "no_run",
                "尚未计算该图层 this layer has not been computed yet; run manage.py hotspots_compute",
                {"layer": self.layer},
                404,
            )
        self.request.hotspots_run = run
        return run

    @extend_schema(parameters=FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RepeatPlaceListView(_LayerView):
    """重复点位 Repeat places of the latest run: filter by bbox, category, street, from/to (activity), chronic."""

    serializer_class = RepeatPlaceSerializer
    layer = Layer.REPEAT_PLACES
    export_name = "repeat-places"
    category_selects_run = False
    period_selects_run = False

    def get_queryset(self):
        query = params.Query(self.request)
        # Every parameter is checked before the run is looked up: a bad one is a 400 even with no run yet.
        start, end = query.day_range(legacy_period=True)
        bbox, chronic = query.bbox(), query.boolean("chronic")
        return selectors.repeat_place_list(
            run=self.run(),
            bbox=bbox,
            category=query.params.get("category"),
            street=query.params.get("street"),
            start=start,
            end=end,
            chronic=chronic,
        )

    @extend_schema(parameters=[*FILTERS, params.boolean_parameter("chronic", "长期重复 chronic places only (true)")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class HotspotCellListView(_LayerView):
    """热点 Gi* cells of the latest run for the category (and period); `significant=true` for hot/cold only."""

    serializer_class = HotspotCellSerializer
    layer = Layer.HOTSPOTS
    export_name = "hotspots"

    def get_queryset(self):
        query = params.Query(self.request)
        bbox, significant = query.bbox(), bool(query.boolean("significant"))
        return selectors.hotspot_cell_list(
            run=self.run(), bbox=bbox, street=query.params.get("street"), significant=significant
        )

    @extend_schema(
        parameters=[*FILTERS, params.boolean_parameter("significant", "显著 significant hot and cold cells only")]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EmergingCellListView(_LayerView):
    """新兴热点 Emerging hot spot cells with a pattern; `pattern=new_hot,…` to choose patterns."""

    serializer_class = EmergingCellSerializer
    layer = Layer.EMERGING
    export_name = "emerging"

    def get_queryset(self):
        query = params.Query(self.request)
        patterns = [p for p in (query.params.get("pattern") or "").split(",") if p]
        unknown = [p for p in patterns if p not in EmergingPattern.values]
        if unknown:
            raise ApiError("invalid_pattern", "模式无效 unknown pattern", {"pattern": unknown})
        bbox = query.bbox()
        return selectors.emerging_cell_list(
            run=self.run(), bbox=bbox, street=query.params.get("street"), patterns=patterns or None
        )


class IdleLotListView(_LayerView):
    """闲置地块排序 Ranked idle lots with `rank` and every score component."""

    serializer_class = IdleLotSerializer
    layer = Layer.IDLE_LOTS
    export_name = "idle-lots"
    category_selects_run = False
    period_selects_run = False

    def get_queryset(self):
        bbox = params.Query(self.request).bbox()
        return selectors.idle_lot_list(run=self.run(), bbox=bbox, street=self.request.query_params.get("street"))


def _require_plan_writer(request, street_code: str) -> None:
    """Fix plans are written by planners and city administrators, or by district/street staff for their own
    streets; a refusal says why (403)."""
    services.check_plan_writer(request.user, street_code)


def _service_error(exc: services.HotspotsError) -> ApiError:
    status = 409 if exc.code == "joint_case_unavailable" else 400
    return ApiError(exc.code, exc.message, exc.details, status)


class FixPlanListView(ExportMixin, ListAPIView):
    """整治方案 Fix plans as GeoJSON (GET, filter by bbox, street, status; `?format=gpkg|fgb|csv|geojson` for every
    matching plan as one file); POST creates one for a lot."""

    serializer_class = FixPlanSerializer
    export_name = "fix-plans"
    export_private = True
    pagination_class = LayerPagination
    # Plans are read within the reader's scope (FixPlanQuerySet.visible_to): anonymous callers get 401.
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=FILTERS[:1] + FILTERS[2:3])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = params.Query(self.request)
        return selectors.fix_plan_list(
            scope=scope_for(self.request.user),
            bbox=query.bbox(),
            street=query.params.get("street"),
            status=query.params.get("status"),
        )

    @extend_schema(request=FixPlanCreateSerializer, responses={201: FixPlanSerializer})
    def post(self, request):
        data = FixPlanCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parcel = Parcel.objects.filter(code=data.validated_data["parcel"]).first()
        if parcel is None:
            raise ApiError("not_found", "没有该地块 no such parcel", {"parcel": data.validated_data["parcel"]}, 404)
        try:  # the service checks who may write the plan; its ScopeDenied is the API's 403
            plan = services.fix_plan_create(
                parcel=parcel, by=request.user, kind=data.validated_data["kind"], title=data.validated_data.get("title")
            )
        except services.HotspotsError as exc:
            raise _service_error(exc) from exc
        return Response(FixPlanSerializer(plan).data, status=201)


def _plan(pk: int) -> FixPlan:
    plan = FixPlan.objects.select_related("parcel").filter(pk=pk).first()
    if plan is None:
        raise ApiError("not_found", f"没有编号为 {pk} 的整治方案 no fix plan {pk}", {"id": pk}, 404)
    return plan


class FixPlanDetailView(APIView):
    """单个整治方案 One fix plan as a GeoJSON Feature (the export), if it lies in your scope (403 otherwise)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[params.boolean_parameter("download", "作为文件下载 as a file (Content-Disposition: attachment)")],
        responses={200: FixPlanSerializer},
    )
    def get(self, request, pk: int):
        download = params.Query(request).boolean("download")
        plan = _plan(pk)
        scope = scope_for(request.user)
        require(
            FixPlan.objects.visible_to(scope).filter(pk=plan.pk).exists(),
            scope,
            "整治方案不在你的辖区 the fix plan is outside your scope",
            street=plan.street_code,
        )
        response = Response(FixPlanSerializer(plan).data)
        if download:
            response["Content-Disposition"] = f'attachment; filename="fix-plan-{pk}.geojson"'
        return response


class FixPlanStatusView(APIView):
    """方案状态 Move a fix plan to another status."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=FixPlanStatusSerializer, responses={200: FixPlanSerializer})
    def post(self, request, pk: int):
        data = FixPlanStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = _plan(pk)
        _require_plan_writer(request, plan.street_code)
        try:
            plan = services.fix_plan_status_set(plan=plan, status=data.validated_data["status"])
        except services.HotspotsError as exc:
            raise _service_error(exc) from exc
        return Response(FixPlanSerializer(plan).data)


class FixPlanJointCaseView(APIView):
    """吹哨 Start a joint case from a fix plan (409 until the joint case workflow exists)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: FixPlanSerializer})
    def post(self, request, pk: int):
        plan = _plan(pk)
        _require_plan_writer(request, plan.street_code)
        try:
            plan = services.fix_plan_joint_case_start(plan=plan, by=request.user)
        except services.HotspotsError as exc:
            raise _service_error(exc) from exc
        return Response(FixPlanSerializer(plan).data)


class WorklistView(APIView):
    """未诉先办清单 A street's worklist: new/consecutive/intensifying hot cells and chronic places, with reasons."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, street_code: str):
        data = selectors.worklist(street_code=street_code)
        features = []
        for entry in data["entries"]:
            geometry = entry.pop("geometry")
            features.append({"type": "Feature", "geometry": _geojson(geometry), "properties": entry})
        return Response(
            {"type": "FeatureCollection", "street": data["street"], "runs": data["runs"], "features": features}
        )


def _geojson(geometry) -> dict:
    import json

    return json.loads(geometry.json)
