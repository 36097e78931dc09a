"""The OpenAPI 3.0 document of /ogc/ (conformance class oas30), built from the collection declarations.

One path per collection's items (with its own property filters and feature schema), so a client that generates
code or forms from the document (QGIS, GDAL's page size from `limit`) sees exactly what each collection takes.
"""

from __future__ import annotations

from .collections import PUBLIC, Collection
from .params import DEFAULT_LIMIT, MAX_LIMIT

ERROR = {
    "description": '错误 error (`{"error": {"code", "message", "details"}}`)',
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
}
COMMON_ERRORS = {"400": ERROR, "404": ERROR, "429": ERROR, "500": ERROR}


def _param(name: str, description: str, schema: dict, *, required: bool = False, where: str = "query") -> dict:
    param = {"name": name, "in": where, "description": description, "required": required, "schema": schema}
    if where == "query":
        param["style"] = "form"
        param["explode"] = False
    return param


PARAMETERS = {
    "f": _param("f", "格式 format: json (default)", {"type": "string", "enum": ["json"], "default": "json"}),
    "limit": _param(
        "limit",
        f"每页要素数 features per page (1–{MAX_LIMIT}; larger values are lowered to {MAX_LIMIT})",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    ),
    "offset": _param(
        "offset", "起始位置（由 next/prev 链接给出）where the page starts", {"type": "integer", "minimum": 0}
    ),
    "bbox": _param(
        "bbox",
        "minlon,minlat,maxlon,maxlat (CRS84)",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    ),
    "bbox-crs": _param("bbox-crs", "only CRS84", {"type": "string", "format": "uri"}),
    "crs": _param("crs", "only CRS84", {"type": "string", "format": "uri"}),
    "datetime": _param(
        "datetime", "RFC 3339 instant or interval (a/b, ../b, a/..); its meaning per collection", {"type": "string"}
    ),
    "run": _param("run", "分析批次 analysis run id (default: the latest)", {"type": "integer", "minimum": 1}),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _feature_schema(collection: Collection) -> dict:
    geometry = {"$ref": f"#/components/schemas/{collection.geometry_type}"}
    if collection.geometry_type == "MultiPolygon":
        geometry = {"oneOf": [{"$ref": "#/components/schemas/Polygon"}, {"$ref": "#/components/schemas/MultiPolygon"}]}
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "bbox": {"$ref": "#/components/schemas/bbox"},
            "geometry": {**geometry, "nullable": True},
            "properties": {"type": "object", "properties": dict(collection.properties_schema)},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
        },
    }


def _collection_paths(collection: Collection) -> dict:
    name = collection.id.replace("-", "_")
    feature = f"#/components/schemas/{name}_feature"
    security = [] if collection.access == PUBLIC else [{"token": []}, {"session": []}]
    errors = dict(COMMON_ERRORS)
    if collection.access != PUBLIC:
        errors["401"] = ERROR
    filters = [_param(f.name, f.description, dict(f.schema)) for f in collection.filters.values()]
    run = [_ref("run")] if collection.takes_run else []
    items = {
        "get": {
            "tags": ["Data"],
            "summary": f"{collection.title}：要素 features",
            "description": f"{collection.description}. datetime: {collection.datetime_help}",
            "operationId": f"get_{name}_items",
            "parameters": [
                _ref("f"),
                _ref("limit"),
                _ref("offset"),
                _ref("bbox"),
                _ref("bbox-crs"),
                _ref("crs"),
                _ref("datetime"),
                *run,
                *filters,
            ],
            "responses": {
                "200": {
                    "description": "GeoJSON FeatureCollection (RFC 7946), paged by next/prev links",
                    "headers": {"Link": {"description": "RFC 8288 next/prev", "schema": {"type": "string"}}},
                    "content": {
                        "application/geo+json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/featureCollection"},
                                    {
                                        "type": "object",
                                        "properties": {"features": {"type": "array", "items": {"$ref": feature}}},
                                    },
                                ]
                            }
                        }
                    },
                },
                **errors,
            },
            **({"security": security} if security else {}),
        }
    }
    item = {
        "get": {
            "tags": ["Data"],
            "summary": f"{collection.title}：单个要素 one feature",
            "operationId": f"get_{name}_feature",
            "parameters": [
                _param("featureId", "要素标识 feature id", {"type": "string"}, required=True, where="path"),
                _ref("f"),
                _ref("datetime"),
                *run,
            ],
            "responses": {
                "200": {
                    "description": "GeoJSON Feature",
                    "content": {"application/geo+json": {"schema": {"$ref": feature}}},
                },
                **errors,
            },
            **({"security": security} if security else {}),
        }
    }
    described = {
        "get": {
            "tags": ["Capabilities"],
            "summary": f"{collection.title}：集合说明 description",
            "operationId": f"describe_{name}",
            "parameters": [_ref("f")],
            "responses": {
                "200": {"description": "collection", "content": {"application/json": {"schema": {"type": "object"}}}},
                **errors,
            },
        }
    }
    return {
        f"/collections/{collection.id}": described,
        f"/collections/{collection.id}/items": items,
        f"/collections/{collection.id}/items/{{featureId}}": item,
    }


def _simple(summary: str, operation: str, tag: str = "Capabilities", media_type: str = "application/json") -> dict:
    return {
        "get": {
            "tags": [tag],
            "summary": summary,
            "operationId": operation,
            "parameters": [_ref("f")],
            "responses": {
                "200": {"description": summary, "content": {media_type: {"schema": {"type": "object"}}}},
                **COMMON_ERRORS,
            },
        }
    }


def _coordinates(depth: int) -> dict:
    schema: dict = {"type": "array", "minItems": 2, "items": {"type": "number"}}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return schema


def openapi_document(*, server: str, collections: list[Collection]) -> dict:
    """The OpenAPI 3.0.3 document of the OGC API at `server` (absolute URL of /ogc)."""
    paths = {
        "/": _simple("着陆页 landing page", "getLandingPage"),
        "/conformance": _simple("一致性类 conformance classes", "getConformance"),
        "/api": _simple("本文档 this document", "getApi", media_type="application/vnd.oai.openapi+json;version=3.0"),
        "/collections": _simple("集合 collections", "getCollections"),
    }
    schemas = {
        "error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                }
            },
        },
        "link": {
            "type": "object",
            "required": ["href", "rel"],
            "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
        },
        "bbox": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
        "Point": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["Point"]}, "coordinates": _coordinates(0)},
        },
        "Polygon": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["Polygon"]}, "coordinates": _coordinates(2)},
        },
        "MultiPolygon": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["MultiPolygon"]}, "coordinates": _coordinates(3)},
        },
        "featureCollection": {
            "type": "object",
            "required": ["type", "features", "links", "numberMatched", "numberReturned"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object"}},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": {"type": "string", "format": "date-time"},
                "bbox": {"$ref": "#/components/schemas/bbox"},
            },
        },
    }
    for collection in collections:
        paths.update(_collection_paths(collection))
        schemas[f"{collection.id.replace('-', '_')}_feature"] = _feature_schema(collection)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Shaozi 哨子 — OGC API – Features",
            "version": "1.0.0",
            "description": "管辖边界、热点与诉求（CRS84，RFC 7946 GeoJSON）jurisdictions, hot spots and complaints as "
            "OGC API – Features Part 1 collections. Restricted collections need `Authorization: Token <key>` or "
            "a session; see docs/ogc.md.",
        },
        "servers": [{"url": server}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": paths,
        "components": {
            "parameters": PARAMETERS,
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <key>"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }
