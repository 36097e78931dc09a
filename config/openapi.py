"""The OpenAPI document at /api/schema/ beyond what drf-spectacular reads from the DRF views (docs/api.md).

- `AutoSchema` gives every operation its error answers in the project's shape (`#/components/schemas/Error`) and
  every export-capable list (config/export.py) its `format` parameter and file media types.
- `postprocess` adds what is not a DRF view: Open311 GeoReport v2 (complaints/open311), the vector tiles and their
  TileJSON (maps/views.py), the planner map's JSON (/map/*); it points to the OGC API's own OpenAPI document
  (/ogc/api) in `externalDocs` and writes the query vocabulary (config/params.py) into the description.
"""

from __future__ import annotations

import re

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from config.deprecation import SUNSET
from config.export import FORMATS, ExportMixin
from config.params import ALIASES

ERROR_REF = {"$ref": "#/components/schemas/Error"}
OPEN311_ERROR_REF = {"$ref": "#/components/schemas/Open311Error"}

ERROR_SCHEMA = {
    "type": "object",
    "description": '错误 The one error shape of the API: `{"error": {"code", "message", "details"}}`',
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "错误码 stable machine code", "example": "invalid_bbox"},
                "message": {"type": "string", "description": "中文在前的说明 zh-Hans first, then English"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
OPEN311_ERROR_SCHEMA = {
    "type": "array",
    "description": "Open311 GeoReport v2 错误 errors: a list of `{code, description}` (`code` is the HTTP status)",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}

# What each error status means, for the operations that can answer it.
ERRORS = {
    "400": "请求参数无效 invalid parameters or body (`invalid_date`, `invalid_boolean`, `invalid_bbox`, …)",
    "401": "需要登录或有效的 API 令牌 login or a valid API token required (`not_authenticated`)",
    "403": "超出你的辖区或角色 outside your scope or role (`permission_denied`)",
    "404": "没有这个对象 no such object (`not_found`)",
    "413": "请求体或导出过大 body or export too large (`body_too_large`, `too_many_rows`)",
    "414": "请求地址过长 URL too long (`uri_too_long`)",
    "415": "不支持的请求体类型 unsupported media type",
    "429": "请求过于频繁 rate limit reached (`throttled`; see Retry-After)",
}
_WRITE_METHODS = ("POST", "PUT", "PATCH")

EXPORT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=list(FORMATS),
    description="导出 export every matching feature as one file (GeoPackage, FlatGeobuf, CSV with WKT, GeoJSON) "
    "instead of a page; more rows than EXPORT_ROWS is a 413 `too_many_rows`",
)


def _error_response(status: str, ref: dict = ERROR_REF) -> dict:
    return {"description": ERRORS.get(status, "错误 error"), "content": {"application/json": {"schema": ref}}}


def _binary(description: str) -> dict:
    return {"schema": {"type": "string", "format": "binary", "description": description}}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema with the project's error answers and the export `format` parameter."""

    def _exports(self) -> bool:
        return self.method == "GET" and isinstance(self.view, ExportMixin)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        return [*parameters, EXPORT_PARAMETER] if self._exports() else parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        if self._exports() and "200" in responses:
            content = responses["200"].setdefault("content", {})
            for fmt, (_driver, _ext, media_type, _options) in FORMATS.items():
                media_type = media_type.split(";")[0]
                content.setdefault(media_type, _binary(f"format={fmt}: the whole layer as a file (attachment)"))
        for status in self._error_statuses():
            answer = responses.get(status)
            if answer is None:
                responses[status] = _error_response(status)
            elif not answer.get("content"):  # declared with a description only: give it the error body
                answer["content"] = {"application/json": {"schema": ERROR_REF}}
        return responses

    def _error_statuses(self) -> list[str]:
        statuses = ["400", "401"]  # any query may be refused (limits, vocabulary); any given token may be invalid
        protected = not all(issubclass(p, AllowAny) for p in getattr(self.view, "permission_classes", []))
        if protected or self.method in _WRITE_METHODS:
            statuses.append("403")
        if re.search(r"\{[^}]+\}", self.path) or self._exports():
            statuses.append("404")
        if self.method in _WRITE_METHODS or self._exports():
            statuses.append("413")
        if self.method in _WRITE_METHODS:
            statuses.append("415")
        statuses.append("429")
        return statuses


# ---- what is not a DRF view ------------------------------------------------------------------------------------


def _param(name: str, where: str, schema: dict, description: str, required: bool = False) -> dict:
    required = required or where == "path"
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _ok(schema: dict, description: str, media_type: str = "application/json") -> dict:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _errors(*statuses: str, ref: dict = ERROR_REF) -> dict:
    return {status: _error_response(status, ref) for status in statuses}


def _get(summary: str, description: str, parameters: list, responses: dict, tag: str, operation_id: str) -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": parameters,
            "responses": responses,
        }
    }


_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": "string", "nullable": True}
_DATE_TIME = {"type": "string", "nullable": True, "description": "ISO 8601 date-time with offset"}

OPEN311_SCHEMAS = {
    "Open311Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "endpoints"],
        "properties": {
            "changeset": _STRING,
            "contact": _STRING,
            "key_service": _STRING,
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url"],
                    "properties": {
                        "specification": _STRING,
                        "url": _STRING,
                        "changeset": _STRING,
                        "type": _STRING,
                        "formats": {"type": "array", "items": _STRING},
                    },
                },
            },
        },
    },
    "Open311Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": _STRING,
            "service_name": _STRING,
            "description": _STRING,
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": _STRING,
            "group": _STRING,
        },
    },
    "Open311ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": _STRING,
            "attributes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "datatype"],
                    "properties": {
                        "variable": {"type": "boolean"},
                        "code": _STRING,
                        "datatype": _STRING,
                        "required": {"type": "boolean"},
                        "datatype_description": _STRING,
                        "order": {"type": "integer"},
                        "description": _STRING,
                        "values": {
                            "type": "array",
                            "items": {"type": "object", "properties": {"key": _STRING, "name": _STRING}},
                        },
                    },
                },
            },
        },
    },
    "Open311Request": {
        "type": "object",
        "description": "一个诉求 A service request: in full for readers in scope, else the public view (no "
        "description, no notes, the street as address, coordinates rounded)",
        "required": ["service_request_id", "status", "service_code", "requested_datetime", "lat", "long"],
        "properties": {
            "service_request_id": _STRING,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _NULLABLE_STRING,
            "service_name": _STRING,
            "service_code": _STRING,
            "description": _NULLABLE_STRING,
            "agency_responsible": _NULLABLE_STRING,
            "service_notice": _NULLABLE_STRING,
            "requested_datetime": _DATE_TIME,
            "updated_datetime": _DATE_TIME,
            "expected_datetime": _DATE_TIME,
            "address": _NULLABLE_STRING,
            "address_id": _NULLABLE_STRING,
            "zipcode": _NULLABLE_STRING,
            "lat": {"type": "number"},
            "long": {"type": "number"},
            "media_url": _NULLABLE_STRING,
        },
    },
    "Open311Created": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {
            "service_request_id": _STRING,
            "service_notice": _NULLABLE_STRING,
            "account_id": _NULLABLE_STRING,
        },
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _open311_paths() -> dict:
    tag = "open311"
    note = "JSON 路径 the JSON form; the same resource answers in XML with `.xml` instead of `.json`."
    key = _param("api_key", "query", _STRING, "API 令牌（或 Authorization 头）API token (or the Authorization header)")
    jurisdiction = _param("jurisdiction_id", "query", _STRING, "管辖 ID（可省略）single jurisdiction: optional")
    errors = _errors("400", "403", "404", "429", ref=OPEN311_ERROR_REF)
    requests_get = _get(
        "查询诉求 Search service requests",
        "GeoReport v2 `GET requests`: by `service_request_id` (comma list), or by `service_code`, `status`, "
        "`start_date`/`end_date` (GeoReport's own names; at most 90 days, the newest first). " + note,
        [
            key,
            jurisdiction,
            _param("service_request_id", "query", _STRING, "诉求编号，逗号分隔 ids, comma-separated"),
            _param("service_code", "query", _STRING, "分类编码，逗号分隔 service codes, comma-separated"),
            _param("status", "query", {"type": "string", "enum": ["open", "closed", "open,closed"]}, "open | closed"),
            _param("start_date", "query", {"type": "string", "format": "date-time"}, "起 W3C date-time"),
            _param("end_date", "query", {"type": "string", "format": "date-time"}, "止 W3C date-time"),
        ],
        {"200": _ok({"type": "array", "items": _ref("Open311Request")}, "诉求 service requests"), **errors},
        tag,
        "open311_requests_list",
    )
    form = {
        "type": "object",
        "required": ["service_code"],
        "properties": {
            "api_key": _STRING,
            "jurisdiction_id": _STRING,
            "service_code": _STRING,
            "lat": {"type": "number"},
            "long": {"type": "number"},
            "address_string": _STRING,
            "address_id": _STRING,
            "description": _STRING,
            "media_url": _STRING,
            "attribute[urgency]": _STRING,
        },
    }
    requests_get["post"] = {
        "operationId": "open311_requests_create",
        "summary": "提交诉求 Create a service request",
        "description": "GeoReport v2 `POST requests` with an API token (form or JSON body): a place (`lat`/`long`, "
        "`address_string` or `address_id`) and a `service_code`. " + note,
        "tags": [tag],
        "requestBody": {
            "content": {"application/x-www-form-urlencoded": {"schema": form}, "application/json": {"schema": form}}
        },
        "responses": {
            "201": _ok({"type": "array", "items": _ref("Open311Created")}, "已受理 created"),
            **_errors("400", "403", "404", "413", "415", "429", ref=OPEN311_ERROR_REF),
        },
    }
    return {
        "/open311/v2/discovery.json": _get(
            "服务发现 Service discovery",
            "GeoReport v2 discovery: endpoint, formats, contact. " + note,
            [],
            {
                "200": _ok(_ref("Open311Discovery"), "服务发现 discovery"),
                **_errors("400", "429", ref=OPEN311_ERROR_REF),
            },
            tag,
            "open311_discovery",
        ),
        "/open311/v2/services.json": _get(
            "服务列表 Service list",
            "诉求分类 The complaint categories as GeoReport v2 services. " + note,
            [jurisdiction],
            {
                "200": _ok({"type": "array", "items": _ref("Open311Service")}, "服务 services"),
                **_errors("400", "429", ref=OPEN311_ERROR_REF),
            },
            tag,
            "open311_services_list",
        ),
        "/open311/v2/services/{service_code}.json": _get(
            "服务定义 Service definition",
            "一个分类的附加属性 The attributes a service takes (urgency). " + note,
            [_param("service_code", "path", _STRING, "分类编码 category code"), jurisdiction],
            {
                "200": _ok(_ref("Open311ServiceDefinition"), "服务定义 definition"),
                **_errors("400", "404", "429", ref=OPEN311_ERROR_REF),
            },
            tag,
            "open311_service_definition",
        ),
        "/open311/v2/requests.json": requests_get,
        "/open311/v2/requests/{service_request_id}.json": _get(
            "单个诉求 One service request",
            "GeoReport v2 `GET request`: a list of one. " + note,
            [_param("service_request_id", "path", _STRING, "诉求编号 service request id"), key, jurisdiction],
            {
                "200": _ok({"type": "array", "items": _ref("Open311Request")}, "诉求 the request"),
                **_errors("400", "403", "404", "429", ref=OPEN311_ERROR_REF),
            },
            tag,
            "open311_request_detail",
        ),
    }


TILEJSON_SCHEMA = {
    "type": "object",
    "description": "TileJSON 3.0.0",
    "required": ["tilejson", "tiles"],
    "properties": {
        "tilejson": {"type": "string", "example": "3.0.0"},
        "name": _STRING,
        "description": _STRING,
        "attribution": _STRING,
        "scheme": {"type": "string", "enum": ["xyz"]},
        "tiles": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "minzoom": {"type": "integer"},
        "maxzoom": {"type": "integer"},
        "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "center": {"type": "array", "items": {"type": "number"}},
        "vector_layers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "fields"],
                "properties": {
                    "id": _STRING,
                    "description": _STRING,
                    "minzoom": {"type": "integer"},
                    "maxzoom": {"type": "integer"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
    },
}


def _tile_paths() -> dict:
    from maps import tiles

    layers = tiles.layer_list()
    names = [layer.name for layer in layers]
    filters: dict[str, list[str]] = {}
    for layer in layers:
        for name in layer.filters:
            filters.setdefault(name, []).append(layer.name)
    layer_param = _param("layer", "path", {"type": "string", "enum": names}, "图层 tile layer")
    crs = _param(
        "crs", "query", {"type": "string", "enum": list(tiles.TILE_SYSTEMS), "default": "wgs84"}, "wgs84 | gcj02"
    )
    filter_params = [
        _param(name, "query", _STRING, f"图层筛选 layer filter (layers: {', '.join(used)})")
        for name, used in sorted(filters.items())
    ]
    tag = "tiles"
    tile_number = {"type": "integer", "minimum": 0}
    return {
        "/tiles/{layer}/{z}/{x}/{y}.pbf": _get(
            "矢量瓦片 Vector tile",
            "Mapbox Vector Tile made by PostGIS; 204 when empty, 304 on a matching If-None-Match. Per-user layers "
            "(complaints) are drawn for the caller's scope and are private.",
            [
                layer_param,
                _param("z", "path", {"type": "integer", "minimum": tiles.MIN_ZOOM, "maximum": tiles.MAX_ZOOM}, "zoom"),
                _param("x", "path", tile_number, "column"),
                _param("y", "path", tile_number, "row"),
                crs,
                *filter_params,
            ],
            {
                "200": {
                    "description": "瓦片 the tile",
                    "content": {"application/vnd.mapbox-vector-tile": _binary("MVT")},
                },
                "204": {"description": "空瓦片 empty tile"},
                "304": {"description": "未变 not modified"},
                **_errors("400", "401", "404", "429"),
            },
            tag,
            "tiles_tile",
        ),
        "/tiles/{layer}.json": _get(
            "TileJSON",
            "TileJSON 3.0.0 of a layer: tile URL template (carrying the filters given here), zooms, bounds, fields.",
            [layer_param, crs, *filter_params],
            {"200": _ok(_ref("TileJSON"), "TileJSON"), **_errors("400", "401", "404", "429")},
            tag,
            "tiles_tilejson",
        ),
        "/tiles/{layer}/metadata.json": _get(
            "瓦片集描述 Tileset metadata (GDAL MVT driver)",
            "The tileset description GDAL reads for `MVT:<base>/tiles/{layer}`.",
            [layer_param, crs, *filter_params],
            {
                "200": _ok({"type": "object", "additionalProperties": True}, "metadata.json"),
                **_errors("400", "401", "404", "429"),
            },
            tag,
            "tiles_metadata",
        ),
    }


_COUNT = {"type": "integer", "nullable": True}
_COMPLAINT_FILTERS = [
    _param("from", "query", {"type": "string", "format": "date"}, "受理日期起 received from (YYYY-MM-DD)"),
    _param("to", "query", {"type": "string", "format": "date"}, "受理日期止 received to, that day included"),
    _param("category", "query", _STRING, "诉求类别编码 category code (any level)"),
    _param("status", "query", _STRING, "状态 status"),
    _param("district", "query", _STRING, "区编码 district code"),
    _param("street", "query", _STRING, "街道编码 street code"),
    _param("area", "query", _STRING, "区或街道编码 district or street code"),
    _param("bbox", "query", _STRING, "范围 minlon,minlat,maxlon,maxlat (WGS-84)"),
]
MAP_SCHEMAS = {
    "MapLabels": {
        "type": "object",
        "required": ["system", "labels"],
        "properties": {
            "system": _STRING,
            "labels": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        },
    },
    "MapChartWeekly": {
        "type": "object",
        "required": ["from", "to", "weeks"],
        "properties": {
            "from": {"type": "string", "format": "date", "nullable": True},
            "to": {"type": "string", "format": "date", "nullable": True},
            "weeks": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        },
    },
    "MapChartCategories": {
        "type": "object",
        "required": ["level", "total", "categories"],
        "properties": {
            "level": {"type": "integer"},
            "total": _COUNT,
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": _STRING, "name": _STRING, "count": _COUNT},
                },
            },
        },
    },
    "MapChartCell": {"type": "object", "additionalProperties": True},
    "MapRuns": {
        "type": "object",
        "required": ["runs"],
        "properties": {
            "runs": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "nullable": True,
                    "properties": {
                        "run": {"type": "integer"},
                        "period_start": {"type": "string", "format": "date"},
                        "period_end": {"type": "string", "format": "date"},
                        "category": _NULLABLE_STRING,
                        "finished_at": _NULLABLE_STRING,
                    },
                },
            },
            "choices": {
                "type": "object",
                "description": "每个图层可选的批次 each layer's finished all-category runs, oldest to newest",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "run": {"type": "integer"},
                            "period_start": {"type": "string", "format": "date"},
                            "period_end": {"type": "string", "format": "date"},
                            "step": _STRING,
                        },
                    },
                },
            },
        },
    },
    "MapJointCases": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        },
    },
}


def _map_paths() -> dict:
    tag = "map"
    level_choice = {"type": "string", "enum": ["district", "street", "community", "grid"], "default": "district"}
    return {
        "/map/labels": _get(
            "区划标注 Area label anchors",
            "A point inside each area of one level, for the planner map's labels.",
            [
                _param("level", "query", level_choice, "级别 level"),
                _param("at", "query", {"type": "string", "format": "date"}, "边界日期 boundaries on (YYYY-MM-DD)"),
                _param("area", "query", _STRING, "区或街道编码 only inside this district or street"),
                _param("crs", "query", {"type": "string", "enum": ["wgs84", "gcj02"]}, "wgs84 | gcj02"),
            ],
            {"200": _ok(_ref("MapLabels"), "标注 labels"), **_errors("400")},
            tag,
            "map_labels",
        ),
        "/map/charts/weekly": _get(
            "每周诉求 Complaints per week",
            "Counts per week for the map's complaint filters; small counts are hidden from callers who may not "
            "read every complaint.",
            [*_COMPLAINT_FILTERS, _param("weeks", "query", {"type": "integer", "minimum": 1, "maximum": 260}, "周数")],
            {"200": _ok(_ref("MapChartWeekly"), "每周计数 weekly counts"), **_errors("400")},
            tag,
            "map_chart_weekly",
        ),
        "/map/charts/categories": _get(
            "主要诉求类别 Top categories",
            "The categories with most complaints for the map's filters.",
            [
                *_COMPLAINT_FILTERS,
                _param("level", "query", {"type": "integer", "minimum": 1, "maximum": 3}, "目录级别 catalogue level"),
                _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}, "条数 how many"),
            ],
            {"200": _ok(_ref("MapChartCategories"), "类别计数 counts"), **_errors("400")},
            tag,
            "map_chart_categories",
        ),
        "/map/charts/cell": _get(
            "网格趋势 A hot-spot cell's trend",
            "z-score per time step of an H3 cell in the latest emerging hot spot run (or `run`).",
            [
                _param("h3", "query", {"type": "string", "pattern": "^[0-9a-f]{15}$"}, "H3 cell", required=True),
                _param("run", "query", {"type": "integer", "minimum": 1}, "分析批次 run id"),
            ],
            {"200": _ok(_ref("MapChartCell"), "趋势 trend"), **_errors("400", "404")},
            tag,
            "map_chart_cell",
        ),
        "/map/joint-cases": _get(
            "联合办案图层 Joint cases layer",
            "Joint cases the caller takes part in, as GeoJSON (login required).",
            [_param("status", "query", {"type": "string", "enum": ["open", "closed", "all"]}, "open (default)")],
            {"200": _ok(_ref("MapJointCases"), "GeoJSON"), **_errors("400", "401")},
            tag,
            "map_joint_cases",
        ),
        "/map/runs": _get(
            "分析批次 Latest analysis runs",
            "The latest finished run of each analysis layer, for the map's legends.",
            [],
            {"200": _ok(_ref("MapRuns"), "批次 runs"), **_errors("400")},
            tag,
            "map_runs",
        ),
    }


def vocabulary_markdown() -> str:
    """The query vocabulary and its deprecated names, for the document's description (Redoc shows it as a
    section; the Deprecation answers link to it)."""
    rows = "\n".join(f"| `{a.old}` | `{a.new}` | {a.endpoints} |" for a in ALIASES)
    return f"""

# Query vocabulary

查询参数 Every /api/v1/ endpoint reads these names the same way, with the same errors (docs/api.md):

| name | format | error |
|---|---|---|
| `at` | YYYY-MM-DD — the day whose boundaries or rules apply | `invalid_date` |
| `from`, `to` | YYYY-MM-DD or ISO 8601 date-time (Beijing time without offset); `to` as a date includes \
that day | `invalid_date`, `date_out_of_range`, `invalid_range` |
| booleans (`overdue`, `significant`, `chronic`, `include_ended`, `download`) | `true` \\| `false` | `invalid_boolean` |
| `bbox` | minlon,minlat,maxlon,maxlat (WGS-84) | `invalid_bbox` |
| `crs` | wgs84 \\| gcj02 \\| bd09 \\| cgcs2000 | `invalid_crs` |
| `page`, `page_size` | paging of GeoJSON lists (also `Link: rel="next"`) | `not_found` past the end |
| `format` | gpkg \\| fgb \\| csv \\| geojson on export-capable lists | `too_many_rows` (413) |

Deprecated names work until {SUNSET:%Y-%m-%d} (UTC); an answer to a request that uses one carries `Deprecation`,
`Sunset` and `Link: <…>; rel="deprecation"`. Booleans written `1`, `0`, `yes`, `no` are deprecated the same way.

| deprecated | use | endpoints |
|---|---|---|
{rows}

OGC API – Features has its own OpenAPI document at [/ogc/api](/ogc/api) (docs/ogc.md).
"""


def postprocess(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the non-DRF endpoints, the shared components, the vocabulary."""
    result.setdefault("paths", {}).update({**_open311_paths(), **_tile_paths(), **_map_paths()})
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(
        {"Error": ERROR_SCHEMA, "Open311Error": OPEN311_ERROR_SCHEMA, "TileJSON": TILEJSON_SCHEMA}
        | OPEN311_SCHEMAS
        | MAP_SCHEMAS
    )
    info = result.setdefault("info", {})
    info["description"] = (info.get("description") or "") + vocabulary_markdown()
    result["externalDocs"] = {
        "description": "OGC API – Features 的 OpenAPI 文档 the OGC API's own OpenAPI document (docs/ogc.md)",
        "url": request.build_absolute_uri("/ogc/api") if request is not None else "/ogc/api",
    }
    tags = {t["name"] for t in result.get("tags", [])}
    for name, description in (
        ("open311", "Open311 GeoReport v2 (docs/interop.md)"),
        ("tiles", "矢量瓦片 Vector tiles and TileJSON (docs/maps.md)"),
        ("map", "规划地图数据 The planner map's JSON (docs/maps.md)"),
    ):
        if name not in tags:
            result.setdefault("tags", []).append({"name": name, "description": description})
    return result
