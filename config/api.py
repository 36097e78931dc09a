"""One error shape for the whole API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Polygon
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler
from rest_framework_gis.pagination import GeoJsonPagination

from config.limits import InputError, date_problem, loads


class ApiError(exceptions.APIException):
    """An error with a stable machine code, a zh-Hans/English message and structured details."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, details: dict | None = None, status_code: int | None = None):
        super().__init__(detail=message, code=code)
        self.error_code = code
        self.message = message
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code


_DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_handler(exc, context):
    """Turn every exception DRF handles into the project's error shape."""
    if isinstance(exc, PermissionError) and hasattr(exc, "message"):
        # A service refused: the user acted outside their scope. Say why.
        body = {"error": {"code": "permission_denied", "message": exc.message, "details": getattr(exc, "details", {})}}
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ApiError):
        body = {"error": {"code": exc.error_code, "message": exc.message, "details": exc.details}}
        return Response(body, status=exc.status_code)
    if isinstance(exc, InputError):
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return Response(body, status=exc.status)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = _DEFAULT_CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        message = "请求参数无效 invalid request"
        details = data if isinstance(data, dict) else {"non_field_errors": data}
        code = _validation_code(exc.get_codes()) or code
    else:
        message = str(data.get("detail", "")) if isinstance(data, dict) else str(data)
        details = {}
    response.data = {"error": {"code": code, "message": message, "details": details}}
    return response


# A field error that breaks an input limit names the limit, not only "bad_request" (docs/security.md).
_LIMIT_CODES = {
    "max_length": "field_too_long",
    "field_too_long": "field_too_long",
    "invalid_text": "invalid_text",
    "date_out_of_range": "date_out_of_range",
    "invalid_coordinates": "invalid_coordinates",
}


def _validation_code(codes) -> str | None:
    """The limit code among a ValidationError's field codes (nested dicts and lists), or None."""
    stack = [codes]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif item in _LIMIT_CODES:
            return _LIMIT_CODES[item]
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser within the input limits: nesting depth, storable text (no NUL, no lone surrogate), field
    length (config/limits.py); a breach is a 400 with its own code, not a 500 or a PostgreSQL error."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            raise InputError("invalid_encoding", f"请求体须为 {encoding} body must be {encoding}", {}) from None
        return loads(text)


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField within DATE_MIN..DATE_MAX: a time in year 1 or 9999 is a 400 (date_out_of_range), not
    an OverflowError while its time zone is applied."""

    def enforce_timezone(self, value):
        problem = date_problem(value)
        if problem is not None:
            raise serializers.ValidationError(problem, code="date_out_of_range")
        return super().enforce_timezone(value)


def parse_bbox(value: str | None) -> Polygon | None:
    """`minlon,minlat,maxlon,maxlat` (WGS-84) → a Polygon with srid 4326; None when empty; 400 when malformed."""
    if not value:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in value.split(","))
    except ValueError:
        raise ApiError(
            "invalid_bbox", "bbox 无效 invalid bbox; use minlon,minlat,maxlon,maxlat", {"bbox": value}
        ) from None
    if not (minx < maxx and miny < maxy and -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise ApiError("invalid_bbox", "bbox 无效 invalid bbox: need min < max within ±180/±90", {"bbox": value})
    bbox = Polygon.from_bbox((minx, miny, maxx, maxy))
    bbox.srid = 4326
    return bbox


class GeoJSONRenderer(renderers.JSONRenderer):
    """JSON sent as `application/geo+json` (RFC 7946) when the caller asks for it: for views whose body is GeoJSON,
    listed after the default renderers so `Accept: application/geo+json` gets GeoJSON instead of a 406."""

    media_type = "application/geo+json"
    format = "geojson"


def geojson_renderers() -> list:
    """The default renderers plus GeoJSON, for a view that answers with a Feature or FeatureCollection."""
    from rest_framework.settings import api_settings

    return [*api_settings.DEFAULT_RENDERER_CLASSES, GeoJSONRenderer]


class FeaturePagination(GeoJsonPagination):
    """A page of a GeoJSON FeatureCollection: `type`, `count`, `next`, `previous`, `features` (and `bbox` where the
    features carry one) — described so in the OpenAPI document, which rest_framework_gis leaves as DRF's
    `results` page. The next and previous pages are also in an RFC 8288 `Link` header (`rel="next"`, `rel="prev"`),
    which clients that follow paging by header (GDAL, `curl --next`, browsers' fetch) read without the body."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        links = [(self.get_next_link(), "next"), (self.get_previous_link(), "prev")]
        header = ", ".join(f'<{url}>; rel="{rel}"; type="application/geo+json"' for url, rel in links if url)
        if header:
            response["Link"] = header
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        features = (schema.get("properties") or {}).get("features")
        ref = schema.get("$ref", "")
        if features is None and ref.endswith("List"):
            # rest_framework_gis names a serializer's FeatureCollection "<Name>List", its Feature "<Name>".
            features = {"type": "array", "items": {"$ref": ref.removesuffix("List")}}
        if features is None:
            features = schema if schema.get("type") == "array" else {"type": "array", "items": schema}
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["type", "count", "next", "previous", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer", "example": 123},
                "next": link,
                "previous": link,
                "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                "features": features,
            },
        }
