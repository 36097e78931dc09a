"""OGC API – Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) under /ogc/: landing page, conformance, collections,
items with paging, single features and the service's own OpenAPI document.

Every answer is JSON (`f=json`, the default; items as `application/geo+json`). Collections and features come
from `ogc.collections`, which reads through the apps' selectors; errors have the project's shape
(`{"error": {...}}`, config/api.py and config/errors.py). What a caller sees depends on who asks (restricted
collections appear only with a session or a token), so every answer varies on `Cookie` and `Authorization`;
answers to an authenticated caller are `Cache-Control: private` and get no CORS header (config/http.py).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ApiError
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.api.serializers import geojson_bbox
from jurisdictions.constants import AreaLevel
from jurisdictions.permissions import scope_for

from . import params
from .collections import (
    COLLECTIONS,
    PUBLIC,
    Collection,
    Query,
    collections_for,
    generation_in_force,
)
from .openapi import openapi_document

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
# Seconds a shared cache may keep an anonymous answer (boundaries and analysis runs change rarely).
PUBLIC_MAX_AGE = 60
BASE_PARAMS = {"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime"}


class FirstRenderer(BaseContentNegotiation):
    """Always JSON, whatever `Accept` says (`application/geo+json`, `application/json`, `*/*` …): the views set
    the precise media type themselves, and a GIS client must never get a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OgcView(APIView):
    """Shared behaviour: JSON only, errors as application/json, caching by caller, `f` and `crs` checked."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRenderer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        params.parse_format(request.query_params.get("f"))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.content_type = "application/json"
        patch_vary_headers(response, ("Cookie", "Authorization"))
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, max_age=0)
        elif response.status_code < 400:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        return response


def _url(request, path: str, query: dict | None = None) -> str:
    url = request.build_absolute_uri(path)
    return f"{url}?{urlencode(query)}" if query else url


def _link(href: str, rel: str, media_type: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _collection(request, collection_id: str) -> Collection:
    """The collection, if it exists (404) and the caller may open it (401 for a restricted one, anonymously)."""
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise ApiError(
            "not_found",
            f"没有名为 {collection_id} 的集合 no collection called {collection_id}",
            {"collection": collection_id, "collections": sorted(COLLECTIONS)},
            404,
        )
    if collection.access != PUBLIC and not request.user.is_authenticated:
        raise NotAuthenticated(
            f"集合 {collection.id} 需要登录或 API 令牌 collection {collection.id} needs a login or token"
        )
    return collection


def _city_bbox() -> list[float] | None:
    """The extent of the districts in force: every collection lies in the city."""
    return jurisdiction_selectors.area_extent(level=AreaLevel.DISTRICT)


def _collection_doc(request, collection: Collection, bbox: list[float] | None) -> dict:
    temporal = [None, None]
    if collection.id in ("districts", "streets"):
        generation = generation_in_force()
        if generation is not None:
            temporal = [
                f"{generation.valid_from.isoformat()}T00:00:00+08:00",
                f"{generation.valid_to.isoformat()}T00:00:00+08:00" if generation.valid_to else None,
            ]
    base = f"/ogc/collections/{collection.id}"
    doc = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [params.CRS84],
        "storageCrs": params.CRS84,
        "extent": {
            "spatial": {"bbox": [bbox] if bbox else [], "crs": params.CRS84},
            "temporal": {"interval": [temporal], "trs": GREGORIAN},
        },
        "links": [
            _link(_url(request, base), "self", "application/json", collection.title),
            _link(_url(request, f"{base}/items"), "items", GEOJSON, f"{collection.title} (GeoJSON)"),
        ],
        "access": "public" if collection.access == PUBLIC else "login",
        "datetime": collection.datetime_help,
        "queryables": sorted(collection.filters),
    }
    return doc


class LandingView(OgcView):
    """OGC 着陆页 The OGC API – Features landing page: links to the API description, conformance and collections."""

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                "title": "哨子 Shaozi — OGC API – Features",
                "description": "北京 12345 管辖与空间问题数据（WGS-84，CRS84）jurisdictions, hot spots and complaints "
                "of a citizen hotline as OGC API – Features collections",
                "links": [
                    _link(_url(request, "/ogc/"), "self", "application/json", "着陆页 landing page"),
                    _link(_url(request, "/ogc/api"), "service-desc", OPENAPI, "OpenAPI 3.0 文档 API definition"),
                    _link(_url(request, "/ogc/conformance"), "conformance", "application/json", "一致性 conformance"),
                    _link(_url(request, "/ogc/collections"), "data", "application/json", "集合 collections"),
                ],
            }
        )


class ConformanceView(OgcView):
    """一致性类 The conformance classes implemented."""

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"conformsTo": CONFORMANCE})


class ApiDocumentView(OgcView):
    """OpenAPI 3.0 document of /ogc/ (GDAL reads its `limit` parameter for the page size)."""

    @extend_schema(exclude=True)
    def get(self, request):
        # The document describes every collection (the same for every caller); each says whether it needs a login.
        document = openapi_document(server=_url(request, "/ogc"), collections=list(COLLECTIONS.values()))
        return Response(document, content_type=OPENAPI)


class CollectionListView(OgcView):
    """集合列表 The collections this caller may open (restricted ones need a session or a token)."""

    @extend_schema(exclude=True)
    def get(self, request):
        bbox = _city_bbox()
        readable = collections_for(authenticated=request.user.is_authenticated)
        return Response(
            {
                "links": [_link(_url(request, "/ogc/collections"), "self", "application/json", "集合 collections")],
                "collections": [_collection_doc(request, c, bbox) for c in readable],
            }
        )


class CollectionView(OgcView):
    """单个集合 One collection's description."""

    @extend_schema(exclude=True)
    def get(self, request, collection_id: str):
        collection = _collection(request, collection_id)
        return Response(_collection_doc(request, collection, _city_bbox()))


def _query(request, collection: Collection, *, paged: bool) -> Query:
    """The request's parameters for `collection`, each validated; an unknown one is a 400 (/req/core/query-param-
    unknown), naming the ones accepted."""
    given = request.query_params
    accepted = BASE_PARAMS | set(collection.filters) | ({"run"} if collection.takes_run else set())
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise ApiError(
            "unknown_parameter",
            f"集合 {collection.id} 不支持这些参数 collection {collection.id} does not accept: {', '.join(unknown)}",
            {"unknown": unknown, "accepted": sorted(accepted)},
        )
    params.parse_crs(given.get("crs"), "crs")
    params.parse_crs(given.get("bbox-crs"), "bbox-crs")
    filters = {}
    for name, spec in collection.filters.items():
        value = given.get(name)
        if value not in (None, ""):
            filters[name] = spec.parse(value, name)
    run = None
    if given.get("run") not in (None, ""):
        run = params.parse_int(given["run"], "run")
        if not 0 < run < 2**63:
            raise ApiError("invalid_run", "run 须为正整数 run must be a positive id", {"run": given["run"]})
    return Query(
        scope=scope_for(request.user),
        bbox=params.parse_bbox(given.get("bbox")) if paged else None,
        interval=params.parse_datetime_param(given.get("datetime")),
        filters=filters,
        run=run,
    )


def _feature(collection: Collection, obj) -> dict:
    geometry = json.loads(obj.ogc_geojson) if obj.ogc_geojson else None
    feature = {"type": "Feature", "id": collection.feature_id(obj)}
    box = geojson_bbox(geometry)
    if box is not None:
        feature["bbox"] = box
    feature["geometry"] = geometry
    feature["properties"] = collection.properties(obj)
    return feature


def _union(boxes: list[list[float]]) -> list[float] | None:
    if not boxes:
        return None
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def _link_header(links: list[dict]) -> str:
    """RFC 8288 Link header for the next/prev pages."""
    return ", ".join(f'<{link["href"]}>; rel="{link["rel"]}"; type="{link["type"]}"' for link in links)


class ItemListView(OgcView):
    """要素 A page of a collection's features (GeoJSON), with numberMatched/numberReturned and next/prev links."""

    @extend_schema(exclude=True)
    def get(self, request, collection_id: str):
        collection = _collection(request, collection_id)
        given = request.query_params
        limit = params.parse_limit(given.get("limit"))
        offset = params.parse_offset(given.get("offset"))
        query = _query(request, collection, paged=True)
        rows = collection.items(query)
        matched = rows.count()
        features = [_feature(collection, obj) for obj in rows[offset : offset + limit]]
        base = f"/ogc/collections/{collection.id}/items"
        kept = {k: v for k, v in given.items() if k not in ("offset", "limit")}
        links = [
            _link(
                _url(request, base, {**kept, "limit": limit, "offset": offset} if offset else {**kept, "limit": limit}),
                "self",
                GEOJSON,
                "本页 this page",
            ),
            _link(
                _url(request, f"/ogc/collections/{collection.id}"), "collection", "application/json", collection.title
            ),
        ]
        paging = []
        if offset + len(features) < matched:
            paging.append(
                _link(
                    _url(request, base, {**kept, "limit": limit, "offset": offset + limit}),
                    "next",
                    GEOJSON,
                    "下一页 next page",
                )
            )
        if offset > 0:
            previous = {**kept, "limit": limit}
            if offset - limit > 0:
                previous["offset"] = offset - limit
            paging.append(_link(_url(request, base, previous), "prev", GEOJSON, "上一页 previous page"))
        body = {
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": timezone.now().isoformat(timespec="seconds"),
            "links": links + paging,
        }
        box = _union([f["bbox"] for f in features if "bbox" in f])
        if box is not None:
            body["bbox"] = box
        body["features"] = features
        response = Response(body, content_type=GEOJSON)
        response["Content-Crs"] = f"<{params.CRS84}>"
        if paging:
            response["Link"] = _link_header(paging)
        return response


class ItemView(OgcView):
    """单个要素 One feature of a collection (404 when it is not there for this caller and these parameters)."""

    @extend_schema(exclude=True)
    def get(self, request, collection_id: str, feature_id: str):
        collection = _collection(request, collection_id)
        query = _query(request, collection, paged=False)
        obj = collection.id_filter(collection.items(query), feature_id).first()
        if obj is None:
            raise ApiError(
                "not_found",
                f"集合 {collection.id} 中没有要素 {feature_id} no feature {feature_id} in {collection.id}",
                {"collection": collection.id, "feature": feature_id},
                404,
            )
        feature = _feature(collection, obj)
        feature["links"] = [
            _link(
                _url(request, f"/ogc/collections/{collection.id}/items/{feature_id}"), "self", GEOJSON, "要素 feature"
            ),
            _link(
                _url(request, f"/ogc/collections/{collection.id}"), "collection", "application/json", collection.title
            ),
        ]
        response = Response(feature, content_type=GEOJSON)
        response["Content-Crs"] = f"<{params.CRS84}>"
        return response
