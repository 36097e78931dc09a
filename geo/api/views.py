from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config import params
from config.api import ApiError
from geo import selectors
from geo.address import parse_address
from geo.geocoding import gazetteer_index

from .serializers import GeocodeResponseSerializer, ReverseResponseSerializer

LIMIT_PARAM = OpenApiParameter(
    "limit", OpenApiTypes.INT, default=5, description=f"候选数 candidates to return, 1–{selectors.MAX_LIMIT}"
)


def _error(exc: selectors.GeoQueryError) -> ApiError:
    return ApiError(exc.code, exc.message, exc.details)


class GeocodeView(APIView):
    """地址解析 Address text → ranked WGS-84 candidates with confidence and uncertainty radius."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, required=True, description="地址 address text, e.g. 刘家窑南里5号楼"
            ),
            LIMIT_PARAM,
        ],
        responses={200: GeocodeResponseSerializer},
    )
    def get(self, request):
        params = request.query_params
        try:
            limit = selectors.parse_limit(params.get("limit"))
            candidates = selectors.geocode_candidates(q=params.get("q"), limit=limit)
        except selectors.GeoQueryError as exc:
            raise _error(exc) from exc
        q = params.get("q", "").strip()
        if candidates:
            parsed = candidates[0].parsed
        else:
            parsed = parse_address(q, vocabulary=gazetteer_index().vocabulary).as_dict()
        return Response({"query": q, "parsed": parsed, "candidates": [c.as_dict() for c in candidates]})


class ReverseGeocodeView(APIView):
    """逆地址解析 A point → the nearest gazetteer places (buildings, compounds, POIs, house numbers)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.NUMBER, required=True, description="经度 longitude"),
            OpenApiParameter("lat", OpenApiTypes.NUMBER, required=True, description="纬度 latitude"),
            params.CRS_PARAMETER,
            LIMIT_PARAM,
        ],
        responses={200: ReverseResponseSerializer},
    )
    def get(self, request):
        query = params.Query(request)
        crs = query.crs()
        try:
            limit = selectors.parse_limit(query.params.get("limit"))
            candidates, point = selectors.reverse_candidates(
                lon=query.params.get("lon"), lat=query.params.get("lat"), crs=crs, limit=limit
            )
        except selectors.GeoQueryError as exc:
            raise _error(exc) from exc
        return Response({"point": point, "candidates": [c.as_dict() for c in candidates]})
