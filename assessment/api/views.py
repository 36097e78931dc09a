"""GET /api/v1/assessment — the monthly 三率 ranking as JSON, GeoJSON (areas) or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment import selectors
from assessment.constants import Level, published
from assessment.models import UnitAssessment
from config.api import ApiError

FIELDS = (
    "rank",
    "code",
    "name",
    "parent_code",
    "complaints",
    "response_due",
    "responded_in_time",
    "called_back",
    "solved",
    "rated",
    "satisfied",
    "overdue",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "score",
    "peers",
    "focus",
    "score_change",
    "rank_change",
)
# What an anonymous caller does not see of a unit with fewer complaints than the public threshold.
SUPPRESSED = tuple(f for f in FIELDS if f not in ("rank", "code", "name", "parent_code", "peers", "focus"))


class GeoJSONRenderer(renderers.JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class CSVRenderer(renderers.BaseRenderer):
    """The ranking as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese names)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, dict) or "units" not in data:  # an error: plain JSON text
            return json.dumps(data, ensure_ascii=False).encode()
        out = io.StringIO()
        columns = ["month", "level", *FIELDS]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for unit in data["units"]:
            writer.writerow({"month": data["month"], "level": data["level"], **unit})
        return ("\ufeff" + out.getvalue()).encode("utf-8")


class FormatFirst(DefaultContentNegotiation):
    """`?format=` decides, whatever the Accept header says (a map fetching JSON still gets its GeoJSON)."""

    def select_renderer(self, request, renderers_, format_suffix=None):
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        for renderer in renderers_:
            if wanted and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers_, format_suffix)


def _min_public_count() -> int:
    return int(getattr(settings, "SHAOZI", {}).get("MIN_PUBLIC_CELL_COUNT", 3))


def unit_dict(row: UnitAssessment, *, suppress_below: int = 0) -> dict:
    data = {name: getattr(row, name) for name in FIELDS}
    for name in ("response_rate", "resolution_rate", "satisfaction_rate"):
        if data[name] is not None:
            data[name] = round(data[name], 4)
    data["month"] = row.month.strftime("%Y-%m")
    if row.complaints < suppress_below:
        data.update(dict.fromkeys(SUPPRESSED))
        data["suppressed"] = True
    return data


PARAMETERS = [
    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: the latest computed month)"),
    OpenApiParameter(
        "level", OpenApiTypes.STR, enum=Level.values, description="street (default), district, department"
    ),
    OpenApiParameter("unit", OpenApiTypes.STR, description="one unit's code: its months, oldest first (trend)"),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "geojson", "csv"], description="geojson: areas only"),
]


class AssessmentView(APIView):
    """三率考核 The monthly ranking of streets/townships, districts or departments: 响应率, 解决率, 满意率, composite
    score, rank among peers, change from last month, 治理类重点 flag (docs/assessment.md).

    A published assessment: every logged-in user reads it; anonymous callers only when
    SHAOZI["ASSESSMENT_PUBLISHED"] is set, and then without the counts and rates of units with fewer complaints
    than SHAOZI["MIN_PUBLIC_CELL_COUNT"].
    """

    renderer_classes = [renderers.JSONRenderer, GeoJSONRenderer, CSVRenderer]
    content_negotiation_class = FormatFirst

    @extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        anonymous = not request.user.is_authenticated
        if anonymous and not published():
            raise ApiError("not_authenticated", "考核结果未公开，请先登录 log in to read the assessment", {}, 401)
        params = request.query_params
        level = params.get("level") or Level.STREET
        if level not in Level.values:
            raise ApiError("invalid_filter", "level 须为 street、district 或 department", {"level": level})
        wants = request.accepted_renderer.format
        if wants == "geojson" and level == Level.DEPARTMENT:
            raise ApiError("invalid_filter", "部门没有边界，请用 JSON 或 CSV departments have no geometry", {})
        months = selectors.computed_months()
        suppress = _min_public_count() if anonymous else 0
        unit = params.get("unit")
        if unit:
            rows = list(selectors.unit_trend(level=level, code=unit[:40]))
            return Response(
                {
                    "level": level,
                    "unit": unit,
                    "months": [unit_dict(r, suppress_below=suppress) for r in rows],
                }
            )
        if params.get("month"):
            try:
                month = selectors.parse_month(params["month"])
            except ValueError as exc:
                raise ApiError("invalid_month", str(exc), {"month": params["month"]}) from None
        elif months:
            month = months[0]
        else:  # nothing computed yet: an empty answer (the map shows an empty layer), not an error
            empty = {"month": None, "level": level, "months": []}
            if wants == "geojson":
                return Response({"type": "FeatureCollection", **empty, "features": []})
            return Response({**empty, "units": []})
        record = selectors.assessment_month(month=month)
        if record is None:
            raise ApiError(
                "not_found",
                f"{month:%Y-%m} 尚未计算（manage.py assessment_compute --month {month:%Y-%m}） not computed yet",
                {"month": month.strftime("%Y-%m"), "computed": [m.strftime("%Y-%m") for m in months]},
                404,
            )
        units = [unit_dict(r, suppress_below=suppress) for r in selectors.assessment_list(month=month, level=level)]
        meta = {
            "month": month.strftime("%Y-%m"),
            "level": level,
            "weights": record.weights,
            "min_complaints": record.min_complaints,
            "focus_count": record.focus_count,
            "computed_at": record.computed_at.isoformat(),
            "months": [m.strftime("%Y-%m") for m in months],
        }
        if wants == "geojson":
            at = selectors.month_bounds(month)[1].date() - dt.timedelta(days=1)
            shapes = selectors.area_shapes(level=level, on=at)
            features = [
                {"type": "Feature", "id": u["code"], "geometry": json.loads(shapes[u["code"]]), "properties": u}
                for u in units
                if u["code"] in shapes
            ]
            return Response({"type": "FeatureCollection", **meta, "features": features})
        response = Response({**meta, "units": units})
        if wants == "csv":
            response["Content-Disposition"] = f'attachment; filename="assessment-{level}-{month:%Y-%m}.csv"'
        return response
