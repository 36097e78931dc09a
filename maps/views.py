"""Planner pages and vector tiles. Domain answers come from selectors and the API; pages only arrange them."""

from __future__ import annotations

from branca.element import Element
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import parse_etags

from . import tiles
from .frame import frame_config
from .layers import PlannerFrame, offline_map
from .selectors import area_labels
from .tile_layers import AREA_FILTERS

BEIJING_CENTRE = (39.93, 116.40)
BEIJING_ZOOM = 10


def _error(code: str, message: str, details: dict | None = None, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def planner_map(request: HttpRequest) -> HttpResponse:
    """规划地图 The planner map: vector-tile layers with legends, filters, permalink and a zh-Hans/English switch."""
    fmap = offline_map(
        static_url=settings.STATIC_URL,
        location=BEIJING_CENTRE,
        zoom_start=BEIJING_ZOOM,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    PlannerFrame(
        frame_config(centre=BEIJING_CENTRE, zoom=BEIJING_ZOOM, authenticated=request.user.is_authenticated)
    ).add_to(fmap)
    root = fmap.get_root()
    # An empty icon: browsers would otherwise ask for /favicon.ico (a 404 in the console).
    head = '<meta charset="utf-8"><link rel="icon" href="data:,">'
    root.header.add_child(Element(f"{head}<title>哨子 · 管辖地图 Shaozi planner map</title>"))
    context = {"basemap": bool(settings.SHAOZI.get("BASEMAP_URL"))}
    root.html.add_child(Element(render_to_string("maps/planner_header.html", context)))
    html = root.render()
    return HttpResponse(html.replace("<html>", '<html lang="zh-Hans">', 1), content_type="text/html; charset=utf-8")


def map_labels(request: HttpRequest) -> JsonResponse:
    """区划标注 Label anchors for one level of areas (`level`, `at`, `area`, `crs`), for the planner map."""
    params = request.GET
    try:
        level = AREA_FILTERS["level"].parse(params.get("level") or "district")
        at = AREA_FILTERS["at"].parse(params["at"]) if params.get("at") else None
        area = AREA_FILTERS["area"].parse(params["area"]) if params.get("area") else None
        system = tiles.parse_system(params.get("crs"))
    except tiles.TileError as exc:
        return _error(exc.code, exc.message, exc.details, exc.status)
    labels = area_labels(level=level, at=at, area=area, system=system)
    return JsonResponse({"system": system, "labels": labels}, json_dumps_params={"ensure_ascii": False})


def tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    """矢量瓦片 GET /tiles/{layer}/{z}/{x}/{y}.pbf — a Mapbox Vector Tile made by PostGIS.

    Filters are query parameters (each layer lists its own; `crs=gcj02` shifts the tile for a GCJ-02 basemap).
    Answers 200 with the tile, 204 when the tile is empty, 304 when If-None-Match holds the current ETag, and
    400/404 with the API's error shape for a bad layer, tile number or filter.
    """
    if request.method not in ("GET", "HEAD"):
        return _error("method_not_allowed", "只支持 GET only GET is allowed", {"method": request.method}, 405)
    try:
        tile_layer = tiles.layer_get(layer)
        zi, xi, yi = tiles.parse_tile(z, x, y)
        system = tiles.parse_system(request.GET.get("crs"))
        filters = tile_layer.parse_filters(request.GET)
    except tiles.TileError as exc:
        return _error(exc.code, exc.message, exc.details, exc.status)
    etag = tiles.tile_etag(layer=tile_layer, z=zi, x=xi, y=yi, filters=filters, system=system)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={tile_layer.max_age}",
        "Access-Control-Allow-Origin": "*",
    }
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and (if_none_match.strip() == "*" or etag in parse_etags(if_none_match)):
        return HttpResponse(status=304, headers=headers)
    body = tiles.tile_mvt(layer=tile_layer, z=zi, x=xi, y=yi, filters=filters, system=system)
    if not body:
        return HttpResponse(status=204, headers=headers)
    headers["Content-Type"] = "application/vnd.mapbox-vector-tile"
    return HttpResponse(body, headers=headers)
