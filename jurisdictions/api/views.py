import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config import params
from config.api import ApiError, FeaturePagination, geojson_renderers
from config.export import ExportMixin
from jurisdictions import engine, selectors
from jurisdictions.constants import AreaLevel
from jurisdictions.models import Generation
from jurisdictions.topology import findings_geojson

from .serializers import AreaFeatureSerializer, VerdictSerializer


def _query_error(exc: selectors.QueryError) -> ApiError:
    return ApiError(exc.code, exc.message, exc.details)


AT_PARAM = params.AT_PARAMETER


class JurisdictionView(APIView):
    """管辖判定 Which district and street must handle a point."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.NUMBER, required=True, description="经度 longitude"),
            OpenApiParameter("lat", OpenApiTypes.NUMBER, required=True, description="纬度 latitude"),
            params.CRS_PARAMETER,
            OpenApiParameter(
                "accuracy_m", OpenApiTypes.NUMBER, description="定位精度（米）GPS accuracy or geocoder radius, 0–5000"
            ),
            AT_PARAM,
        ],
        responses={200: VerdictSerializer},
    )
    def get(self, request):
        query = params.Query(request)
        crs, at = query.crs(), query.day("at")
        try:
            point, echo = selectors.parse_point(query.params.get("lon"), query.params.get("lat"), crs)
            accuracy_m = selectors.parse_accuracy(query.params.get("accuracy_m"))
        except selectors.QueryError as exc:
            raise _query_error(exc) from exc
        lookup = selectors.jurisdiction_lookup if settings.SHAOZI.get("LOOKUP_ENGINE") == "database" else engine.lookup
        verdict = lookup(point=point, at=at, accuracy_m=accuracy_m, input=echo)
        return Response(verdict.as_dict())


class AreaPagination(FeaturePagination):
    page_size = 1000
    page_size_query_param = "page_size"
    max_page_size = 5000

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        boxes = [f["bbox"] for f in data["features"] if f.get("bbox")]
        if boxes:  # RFC 7946 §5: the page's extent, before its features
            features = response.data.pop("features")
            response.data["bbox"] = [
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            ]
            response.data["features"] = features
        return response


# Seconds a browser or shared cache may keep an area answer before revalidating (ETag / Last-Modified).
AREA_MAX_AGE = 300


class ConditionalAreaMixin:
    """ETag and Last-Modified on area answers, 304 on revalidation (If-None-Match compared weakly, so a gzipped
    copy's W/"…" tag still matches). The tag covers the query and `selectors.area_list_version`; answers are
    the same for every caller, so they may be cached publicly."""

    renderer_classes = geojson_renderers()

    def conditional(self, request, answer):
        """`answer()` with ETag, Last-Modified and public caching, or 304 when the caller's copy is current."""
        at = params.Query(request).day("at")
        version, changed = selectors.area_list_version(at=at)
        key = f"{request.path}?{sorted(request.query_params.lists())}|{version}"
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        last_modified = int(changed.timestamp()) if changed else None
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        response = not_modified or self._answer_cached(request, etag, answer)
        if response.status_code in (200, 304):
            response["ETag"] = etag
            if last_modified is not None:
                response["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=AREA_MAX_AGE)
        return response

    def _answer_cached(self, request, etag: str, answer):
        """Whole-layer answers (no bbox) are kept in the cache under their ETag for AREA_MAX_AGE: simplifying and
        serialising every district or street again for each caller costs far more than the lookup of the tag.
        A new version of the areas is a new tag, so nothing stale is served."""
        if request.query_params.get("bbox"):
            return answer()
        key = f"areas-answer:{etag}"
        hit = cache.get(key)
        if hit is not None:
            data, headers = hit
            return Response(data, headers=headers)
        response = answer()
        if isinstance(response, Response) and response.status_code == 200:
            headers = {name: response[name] for name in ("Link",) if response.has_header(name)}
            cache.set(key, (response.data, headers), AREA_MAX_AGE)
        return response


def _simplify(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        metres = float(value)
    except ValueError:
        metres = -1.0
    if not 0 <= metres <= 10_000:
        raise ApiError("invalid_simplify", "simplify 须为 0–10000 米 must be metres in 0–10000", {"simplify": value})
    return metres or None


class AreaListView(ExportMixin, ConditionalAreaMixin, ListAPIView):
    """区划列表 Areas of the generation in force as a GeoJSON FeatureCollection (`?format=gpkg|fgb|csv|geojson`:
    every matching area as one file)."""

    export_name = "areas"

    serializer_class = AreaFeatureSerializer
    pagination_class = AreaPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=AreaLevel.values),
            params.BBOX_PARAMETER,
            OpenApiParameter("simplify", OpenApiTypes.NUMBER, description="简化容差（米）tolerance in metres"),
            OpenApiParameter("parent", OpenApiTypes.STR, description="上级编码 parent code"),
            AT_PARAM,
        ]
    )
    def get(self, request, *args, **kwargs):
        return self.conditional(request, lambda: super(AreaListView, self).get(request, *args, **kwargs))

    def get_queryset(self):
        query = params.Query(self.request)
        level = query.params.get("level") or None
        if level is not None and level not in AreaLevel.values:
            raise ApiError(
                "invalid_level", f"级别无效 level must be one of {', '.join(AreaLevel.values)}", {"level": level}
            )
        areas = selectors.area_list(
            level=level, bbox=query.bbox(), parent_code=query.params.get("parent"), at=query.day("at")
        )
        return areas.with_geojson(simplify_m=_simplify(query.params.get("simplify")))


class AreaDetailView(ConditionalAreaMixin, APIView):
    """单个区划 One area as a GeoJSON Feature."""

    @extend_schema(parameters=[AT_PARAM], responses={200: AreaFeatureSerializer})
    def get(self, request, code: str):
        return self.conditional(request, lambda: self.detail(request, code))

    def detail(self, request, code: str):
        at = params.Query(request).day("at")
        area = selectors.area_list(at=at).filter(code=code).with_geojson().first()
        if area is None:
            raise ApiError("not_found", f"没有编码为 {code} 的区划 no area with code {code}", {"code": code}, 404)
        return Response(AreaFeatureSerializer(area).data)


class AreaChildrenView(AreaListView):
    """下级区划 The areas whose parent is `code`, as a FeatureCollection."""

    def get_queryset(self):
        code = self.kwargs["code"]
        at = params.Query(self.request).day("at")
        if selectors.area_get(code=code, at=at) is None:
            raise ApiError("not_found", f"没有编码为 {code} 的区划 no area with code {code}", {"code": code}, 404)
        simplify = _simplify(self.request.query_params.get("simplify"))
        return selectors.area_list(parent_code=code, at=at).with_geojson(simplify_m=simplify)


class TopologyView(APIView):
    """拓扑检查 Gaps, overlaps, slivers and children outside parents in a generation, as GeoJSON."""

    @extend_schema(
        parameters=[
            OpenApiParameter("generation", OpenApiTypes.STR, description="name; default: in force today"),
            OpenApiParameter("tolerance_m2", OpenApiTypes.NUMBER, description="ignore findings smaller than this"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        params = request.query_params
        name = params.get("generation")
        generation = Generation.objects.filter(name=name).first() if name else Generation.objects.in_force()
        if generation is None:
            raise ApiError("not_found", "没有边界版本 no such generation", {"generation": name}, 404)
        try:
            tolerance = float(params.get("tolerance_m2") or 1.0)
        except ValueError:
            tolerance = -1.0
        if not 0 <= tolerance <= 1e9:
            raise ApiError(
                "invalid_tolerance", "tolerance_m2 须为非负数 must be ≥ 0", {"tolerance_m2": params["tolerance_m2"]}
            )
        findings = selectors.topology_check(generation=generation, tolerance_m2=tolerance)
        body = findings_geojson(findings)
        body["generation"] = generation.name
        return Response(body)
