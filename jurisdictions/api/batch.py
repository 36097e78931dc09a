"""批量管辖判定 POST /api/v1/jurisdiction/batch: up to a million points in, one verdict row per point out.

Input is a GeoJSON FeatureCollection of Points (``application/geo+json`` or ``application/json``) or CSV
(``text/csv``) with a header naming ``lon,lat`` and optionally ``crs,accuracy_m,id``. Rows come back in input
order, streamed, as a JSON array (default), NDJSON (``Accept: application/x-ndjson``) or CSV
(``Accept: text/csv``). A bad row (missing, non-numeric or out-of-range coordinates, unknown crs, bad
accuracy, a feature that is not a Point) comes back as an error row with its row number and reason; it never
stops the good rows. Errors of the whole request use the project's one error shape and are always JSON.

Every row is answered by the jurisdiction engine's one entry point (`jurisdictions.engine.resolve`), so each gets
the verdict the single-point endpoint gives: rows well inside one street from geometry alone, buildings and
points far from every area from memory too, and the few under a rule, near a boundary or with an accuracy circle
reaching one through the database engine.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config import params
from config.api import ApiError
from config.limits import limit, loads, text_problem
from geo import coords
from jurisdictions import engine, selectors

# SHAOZI["LIMITS"]: with a token or a login, and anonymous (a large batch costs seconds and hundreds of MB).
MAX_ROWS = limit("BATCH_ROWS")
MAX_BYTES = limit("BATCH_BYTES")
MAX_ROWS_ANONYMOUS = limit("BATCH_ANONYMOUS_ROWS")
MAX_BYTES_ANONYMOUS = limit("BATCH_ANONYMOUS_BYTES")
# Rows that need the full engine (accuracy circle, rule, building) cost a few database queries each.
MAX_FULL_ENGINE_ROWS = 5_000
_CHUNK_ROWS = 5_000

CSV_COLUMNS = (
    "row",
    "id",
    "lon",
    "lat",
    "method",
    "district_code",
    "district_name",
    "street_code",
    "street_name",
    "lead_code",
    "lead_name",
    "lead_level",
    "on_boundary",
    "needs_review",
    "generation",
    "error_code",
    "error_message",
    "error_details",
)


class NDJSONRenderer(BaseRenderer):
    """Newline-delimited JSON, one verdict row per line."""

    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return (json.dumps(data, ensure_ascii=False) + "\n").encode()


class CSVRenderer(BaseRenderer):
    """CSV with a header row; see CSV_COLUMNS."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, ensure_ascii=False).encode()


_ROW_DOC = inline_serializer(
    "BatchVerdictRow",
    many=True,
    fields={
        "row": serializers.IntegerField(help_text="1-based position among the input rows (CSV header excluded)"),
        "id": serializers.CharField(allow_null=True, help_text="the row's id as given, or null"),
        "point": serializers.ListField(child=serializers.FloatField(), help_text="[lon, lat] WGS-84"),
        "method": serializers.CharField(help_text="rule | building | point | uncertain | outside"),
        "district": serializers.DictField(allow_null=True),
        "street": serializers.DictField(allow_null=True),
        "lead": serializers.DictField(allow_null=True),
        "co_handlers": serializers.ListField(child=serializers.DictField()),
        "on_boundary": serializers.BooleanField(),
        "needs_review": serializers.BooleanField(),
        "generation": serializers.CharField(allow_null=True),
        "error": serializers.DictField(
            required=False, help_text="only on a bad row, instead of the verdict: {code, message, details}"
        ),
    },
)


class JurisdictionBatchView(APIView):
    """批量管辖判定 Verdicts for many points at once, in input order."""

    renderer_classes = [JSONRenderer, NDJSONRenderer, CSVRenderer]
    # The error middleware refuses larger bodies before the view runs (config/errors.py).
    body_limit = "BATCH_BYTES"
    # The stricter `batch` rate limit on top of the anon/user ones (config/throttling.py).
    throttle_scope = "batch"

    @extend_schema(
        summary="批量管辖判定 batch jurisdiction lookup",
        description=(
            f"At most {MAX_ROWS:,} rows and {MAX_BYTES // (1024 * 1024)} MB per request "
            f"({MAX_ROWS_ANONYMOUS:,} rows and {MAX_BYTES_ANONYMOUS // (1024 * 1024)} MB without a token or login). "
            "Body: a GeoJSON "
            "FeatureCollection of Points (properties may carry `id`, `crs`, `accuracy_m`; a feature `id` is used "
            "too) or CSV with a header `lon,lat[,crs,accuracy_m,id]`. Response rows follow the input order: a "
            "JSON array (default), NDJSON (`Accept: application/x-ndjson`) or CSV (`Accept: text/csv`). A bad row "
            "is returned as `{row, id, error: {code, message, details}}` and never stops the others. "
            f"At most {MAX_FULL_ENGINE_ROWS:,} rows may need the full engine (an `accuracy_m`, or a point in a "
            "building footprint or under a jurisdiction rule)."
        ),
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATE, description="边界版本日期 boundary generation in force that day"),
            OpenApiParameter(
                "crs",
                OpenApiTypes.STR,
                enum=list(coords.SYSTEMS),
                default=coords.WGS84,
                description="rows without their own crs use this one",
            ),
        ],
        request={
            "application/geo+json": OpenApiTypes.OBJECT,
            "application/json": OpenApiTypes.OBJECT,
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            200: OpenApiResponse(_ROW_DOC, description="verdict rows in input order (streamed)"),
            400: OpenApiResponse(description="invalid body, header or parameters (error shape)"),
            413: OpenApiResponse(
                description=f"more than {MAX_ROWS:,} rows or {MAX_BYTES // (1024 * 1024)} MB (anonymous: "
                f"{MAX_ROWS_ANONYMOUS:,} rows or {MAX_BYTES_ANONYMOUS // (1024 * 1024)} MB): too_many_rows, "
                "body_too_large"
            ),
            415: OpenApiResponse(description="body is neither GeoJSON nor CSV"),
            429: OpenApiResponse(description="rate limit `batch` reached (error shape, Retry-After)"),
        },
    )
    def post(self, request):
        query = params.Query(request)
        at = query.day("at")
        default_crs = query.crs()
        anonymous = not getattr(request.user, "is_authenticated", False)
        max_rows = min(MAX_ROWS, MAX_ROWS_ANONYMOUS) if anonymous else MAX_ROWS
        max_bytes = min(MAX_BYTES, MAX_BYTES_ANONYMOUS) if anonymous else MAX_BYTES
        rows = _read_rows(request, max_rows=max_rows, max_bytes=max_bytes)
        result = _resolve(rows, default_crs=default_crs, at=at)
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt == "ndjson":
            content, media_type = _ndjson(result), NDJSONRenderer.media_type
        elif fmt == "csv":
            content, media_type = _csv(result), "text/csv; charset=utf-8"
        else:
            content, media_type = _json_array(result), "application/json"
        return StreamingHttpResponse(content, content_type=media_type)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors keep the project's JSON error shape whatever the Accept header asked for.
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- reading ----------------------------------------------------------------------------------------------


class _Rows:
    """Raw input columns (as given) plus structural problems per row index."""

    def __init__(self, max_rows: int = MAX_ROWS):
        self.max_rows = max_rows
        self.lon: list = []
        self.lat: list = []
        self.crs: list = []
        self.accuracy: list = []
        self.ids: list = []
        self.problems: dict[int, dict[str, str]] = {}

    def add(self, lon, lat, crs=None, accuracy=None, row_id=None, problem: dict | None = None):
        if len(self.lon) >= self.max_rows:
            raise ApiError(
                "too_many_rows",
                f"行数超过上限 more than {self.max_rows:,} rows",
                {"max_rows": self.max_rows},
                status_code=413,
            )
        if isinstance(row_id, str) and text_problem(row_id):
            # An id comes back in the answer: a NUL or a lone surrogate could not be written out.
            problem = {**(problem or {}), "id": text_problem(row_id)}
            row_id = None
        if problem:
            self.problems[len(self.lon)] = problem
        self.lon.append(lon)
        self.lat.append(lat)
        self.crs.append(crs)
        self.accuracy.append(accuracy)
        self.ids.append(None if row_id in (None, "") else str(row_id))


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        "body_too_large",
        f"请求体过大 body larger than {max_bytes:,} bytes",
        {"max_bytes": max_bytes},
        status_code=413,
    )


def _read_body(request, max_bytes: int) -> str:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        raise _too_large(max_bytes)
    # Read the stream directly: request.body would apply Django's small form-upload limit.
    raw = request.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError("invalid_encoding", "请求体须为 UTF-8 body must be UTF-8", {"position": exc.start}) from exc


def _read_rows(request, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> _Rows:
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type in ("application/geo+json", "application/json"):
        return _read_geojson(_read_body(request, max_bytes), max_rows)
    if media_type in ("text/csv", "application/csv"):
        return _read_csv(_read_body(request, max_bytes), max_rows)
    raise ApiError(
        "unsupported_media_type",
        "请求体须为 GeoJSON 或 CSV body must be application/geo+json, application/json or text/csv",
        {"content_type": media_type},
        status_code=415,
    )


def _read_geojson(text: str, max_rows: int = MAX_ROWS) -> _Rows:
    # Depth is checked (a deeply nested body is a 400, not a RecursionError); strings are not walked one by one
    # here: only ids come back out, and those are checked as rows are added.
    body = loads(text, walk=False)
    if (
        not isinstance(body, dict)
        or body.get("type") != "FeatureCollection"
        or not isinstance(body.get("features"), list)
    ):
        raise ApiError(
            "invalid_body", "须为 GeoJSON FeatureCollection body must be a GeoJSON FeatureCollection of Points", {}
        )
    rows = _Rows(max_rows)
    for feature in body["features"]:
        if not isinstance(feature, dict):
            rows.add(None, None, problem={"feature": "不是 GeoJSON Feature not a Feature"})
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        row_id = feature.get("id", props.get("id"))
        geometry = feature.get("geometry")
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coordinates, list):
            rows.add(None, None, row_id=row_id, problem={"geometry": "须为 Point must be a Point geometry"})
            continue
        if len(coordinates) < 2:
            rows.add(None, None, row_id=row_id, problem={"geometry": "坐标不完整 Point needs [lon, lat]"})
            continue
        rows.add(coordinates[0], coordinates[1], props.get("crs"), props.get("accuracy_m"), row_id)
    return rows


def _read_csv(text: str, max_rows: int = MAX_ROWS) -> _Rows:
    # newline="": bare CR line ends (old spreadsheet exports) end rows like LF and CRLF do, and a quoted field
    # may hold any of them.
    reader = _checked(csv.reader(io.StringIO(text, newline="")))
    header = next(reader, None)
    columns = [c.strip().lower() for c in header or []]
    missing = [c for c in ("lon", "lat") if c not in columns]
    if missing:
        raise ApiError(
            "invalid_header",
            "CSV 表头须含 lon,lat header must name lon and lat (optional: crs, accuracy_m, id)",
            {"missing": missing, "header": columns},
        )
    at = {name: columns.index(name) for name in ("lon", "lat", "crs", "accuracy_m", "id") if name in columns}
    rows = _Rows(max_rows)
    for record in reader:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank lines are not rows

        def field(name, record=record):
            i = at.get(name)
            return record[i].strip() if i is not None and i < len(record) else None

        problem = None
        if len(record) > len(columns):
            problem = {"fields": f"字段过多 {len(record)} fields for {len(columns)} columns"}
        rows.add(field("lon"), field("lat"), field("crs"), field("accuracy_m"), field("id"), problem=problem)
    return rows


def _checked(reader):
    """The CSV reader's records; a field past FIELD_CHARS or malformed CSV is a 400 naming the line."""
    max_chars = limit("FIELD_CHARS")
    # The csv module's field limit is process-wide; the project uses one value for every text field.
    if csv.field_size_limit() != max_chars:
        csv.field_size_limit(max_chars)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ApiError(
                    "field_too_long",
                    f"CSV 字段过长 a field is longer than {max_chars:,} characters",
                    {"line": reader.line_num, "max_chars": max_chars},
                ) from None
            raise ApiError("invalid_csv", f"CSV 无效 invalid CSV: {exc}", {"line": reader.line_num}) from None
        yield record


# --- resolving --------------------------------------------------------------------------------------------


def _numbers(raw: list, name: str, limit: float, problems: dict[int, dict[str, str]]) -> np.ndarray:
    """Floats from raw values (numbers or strings); bad ones become NaN and a problem on their row."""
    try:
        if any(type(value) is bool for value in raw):
            raise TypeError("true/false is not a coordinate")  # numpy would read True as 1.0
        values = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.full(len(raw), np.nan)
        for i, value in enumerate(raw):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                values[i] = float(value) if not isinstance(value, bool) else math.nan
            except (TypeError, ValueError):
                pass
    bad = ~(np.abs(values) <= limit)  # NaN, infinite or out of range
    for i in np.flatnonzero(bad):
        value = raw[i]
        if value is None or (isinstance(value, str) and not value.strip()):
            reason = "必填 required"
        elif not math.isfinite(values[i]):
            reason = f"不是有限数字 not a finite number: {value!r}"
        else:
            reason = f"超出范围 out of range [-{limit:g}, {limit:g}]: {value!r}"
        problems.setdefault(int(i), {})[name] = reason
    return values


class _Result:
    def __init__(self, n: int):
        self.n = n
        self.ids: list = []
        self.problems: dict[int, dict[str, str]] = {}
        self.lon = np.full(n, np.nan)
        self.lat = np.full(n, np.nan)
        self.resolution: engine.Resolution | None = None
        self.position = np.full(n, -1, np.int64)  # row → index in resolution arrays
        self.verdicts: dict[int, dict] = {}  # row → full engine verdict (as_dict)


def _resolve(rows: _Rows, *, default_crs: str, at) -> _Result:
    n = len(rows.lon)
    result = _Result(n)
    result.ids = rows.ids
    problems = dict(rows.problems)
    lon = _numbers(rows.lon, "lon", 180.0, problems)
    lat = _numbers(rows.lat, "lat", 90.0, problems)
    systems = np.full(n, default_crs, dtype=object)
    known: dict[str, str | None] = {}
    for i, value in enumerate(rows.crs):
        if value in (None, ""):
            continue
        key = str(value)
        if key not in known:
            try:
                known[key] = coords.normalise_system(key)
            except coords.CoordinateError:
                known[key] = None
        if known[key] is None:
            problems.setdefault(i, {})["crs"] = (
                f"未知坐标系 unknown crs {value!r}; use one of {', '.join(coords.SYSTEMS)}"
            )
        else:
            systems[i] = known[key]
    accuracy = np.full(n, np.nan)
    for i, value in enumerate(rows.accuracy):
        if value in (None, ""):
            continue
        try:
            metres = selectors.parse_accuracy(value)
        except selectors.QueryError as exc:
            problems.setdefault(i, {})["accuracy_m"] = exc.message
            continue
        if metres:
            accuracy[i] = metres
    result.problems = problems
    good = np.ones(n, dtype=bool)
    if problems:
        good[np.fromiter(problems.keys(), dtype=np.int64)] = False
    for system in set(systems[good]):
        mask = good & (systems == system)
        result.lon[mask], result.lat[mask] = coords.to_wgs84(lon[mask], lat[mask], system)

    rows_good = np.flatnonzero(good)
    result.position[rows_good] = np.arange(len(rows_good))
    result.resolution = engine.resolve(
        result.lon[rows_good], result.lat[rows_good], at=at or timezone.localdate(), accuracy_m=accuracy[rows_good]
    )
    slow = int(result.resolution.needs_database.sum())
    if slow > MAX_FULL_ENGINE_ROWS:
        raise ApiError(
            "too_many_full_rows",
            f"需数据库完整判定的行（规则范围内、边界附近、误差圆跨界）超过 {MAX_FULL_ENGINE_ROWS:,} 行 "
            "too many rows need the full engine; send them in smaller batches",
            {"rows": slow, "max": MAX_FULL_ENGINE_ROWS},
        )
    # Rows far from every area are answered from the arrays, like rows well inside a street; the rest in full.
    full = result.resolution.needs_full & (result.resolution.how != engine.AWAY)
    for k in np.flatnonzero(full).tolist():
        result.verdicts[int(rows_good[k])] = result.resolution.verdict(k).as_dict()
    return result


# --- writing ----------------------------------------------------------------------------------------------


def _row_dicts(result: _Result):
    res = result.resolution
    if res is not None and len(res):
        district_code, district_name = res.district_code.tolist(), res.district_name.tolist()
        street_code, street_name = res.street_code.tolist(), res.street_name.tolist()
        names = [g.name if g is not None else None for g in res.generation]
        how = res.how.tolist()
    else:
        district_code = district_name = street_code = street_name = names = how = []
    position = result.position.tolist()
    lon, lat = result.lon.tolist(), result.lat.tolist()
    for i in range(result.n):
        row = {"row": i + 1, "id": result.ids[i]}
        problem = result.problems.get(i)
        if problem is not None:
            row["error"] = {"code": "invalid_row", "message": "行数据无效 invalid row", "details": problem}
            yield row
            continue
        verdict = result.verdicts.get(i)
        if verdict is not None:
            row.update(
                point=verdict["point"]["coordinates"],
                method=verdict["method"],
                district=_ref(verdict["district"]),
                street=_ref(verdict["street"]),
                lead=verdict["lead"],
                co_handlers=verdict["co_handlers"],
                on_boundary=verdict["on_boundary"],
                needs_review=verdict["needs_review"],
                generation=verdict["generation"]["name"] if verdict["generation"] else None,
            )
            yield row
            continue
        k = position[i]
        if how[k] == engine.AWAY:  # far from every area: the engine's "outside" verdict
            row.update(
                point=[round(lon[i], 8), round(lat[i], 8)],
                method="outside",
                district=None,
                street=None,
                lead=None,
                co_handlers=[],
                on_boundary=False,
                needs_review=True,
                generation=names[k],
            )
            yield row
            continue
        # Well inside one street (or a street-less district): the geometric answer is the verdict.
        district = {"code": district_code[k], "name": district_name[k]} if district_code[k] else None
        street = {"code": street_code[k], "name": street_name[k]} if street_code[k] else None
        lead = {**street, "level": "street"} if street else {**district, "level": "district"}
        row.update(
            point=[round(lon[i], 8), round(lat[i], 8)],
            method="point",
            district=district,
            street=street,
            lead=lead,
            co_handlers=[],
            on_boundary=False,
            needs_review=False,
            generation=names[k],
        )
        yield row


def _ref(area: dict | None) -> dict | None:
    return None if area is None else {"code": area["code"], "name": area["name"]}


def _chunks(result: _Result, encode):
    buffer = []
    for row in _row_dicts(result):
        buffer.append(encode(row))
        if len(buffer) >= _CHUNK_ROWS:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def _ndjson(result: _Result):
    return _chunks(result, lambda row: json.dumps(row, ensure_ascii=False) + "\n")


def _json_array(result: _Result):
    yield b"["
    first = True
    for chunk in _chunks(result, lambda row: ",\n" + json.dumps(row, ensure_ascii=False)):
        if first:
            chunk = b"\n" + chunk[2:]
            first = False
        yield chunk
    yield b"\n]\n"


def _csv_line(row: dict) -> str:
    out = io.StringIO()
    error = row.get("error")
    lead = row.get("lead") or {}
    district = row.get("district") or {}
    street = row.get("street") or {}
    point = row.get("point") or ["", ""]
    csv.writer(out, lineterminator="\n").writerow(
        [
            row["row"],
            row["id"] or "",
            point[0],
            point[1],
            row.get("method", ""),
            district.get("code", ""),
            district.get("name", ""),
            street.get("code", ""),
            street.get("name", ""),
            lead.get("code", ""),
            lead.get("name", ""),
            lead.get("level", ""),
            "" if error else str(row["on_boundary"]).lower(),
            "" if error else str(row["needs_review"]).lower(),
            row.get("generation") or "",
            error["code"] if error else "",
            error["message"] if error else "",
            json.dumps(error["details"], ensure_ascii=False) if error else "",
        ]
    )
    return out.getvalue()


def _csv(result: _Result):
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    yield from _chunks(result, _csv_line)
