"""Planner pages and vector tiles. Domain answers come from selectors and the API; pages only arrange them."""

from __future__ import annotations

import re

from branca.element import Element
from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from rest_framework.exceptions import AuthenticationFailed

from complaints.constants import JointCaseStatus
from config.api import ApiError, parse_bbox
from config.throttling import throttled
from hotspots import selectors as hotspot_selectors
from hotspots.constants import Layer as AnalysisLayer
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.constants import AreaLevel, Role
from jurisdictions.permissions import scope_for

from . import selectors, tiles
from .frame import frame_config
from .layers import PlannerFrame, offline_map
from .selectors import area_labels
from .tile_layers import AREA_FILTERS, COMPLAINTS, min_public_cell_count, parse_run, reads_every_complaint

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
        frame_config(
            centre=BEIJING_CENTRE,
            zoom=BEIJING_ZOOM,
            authenticated=request.user.is_authenticated,
            plan_areas=_plan_areas(request),
        )
    ).add_to(fmap)
    root = fmap.get_root()
    # An empty icon: browsers would otherwise ask for /favicon.ico (a 404 in the console).
    head = '<meta charset="utf-8"><link rel="icon" href="data:,">'
    root.header.add_child(Element(f"{head}<title>哨子 · 管辖地图 Shaozi planner map</title>"))
    context = {"basemap": bool(settings.SHAOZI.get("BASEMAP_URL"))}
    root.html.add_child(Element(render_to_string("maps/planner_header.html", context, request=request)))
    html = root.render()
    return HttpResponse(html.replace("<html>", '<html lang="zh-Hans">', 1), content_type="text/html; charset=utf-8")


def _plan_areas(request: HttpRequest) -> list[str]:
    """Where the user may make fix plans (as `hotspots.services.may_write_plan` rules): "" for the whole city
    (planners, the city admin), their district's or street's code for district/street staff, else nowhere."""
    if not request.user.is_authenticated:
        return []
    scope = scope_for(request.user)
    if scope.city_wide:
        return [""]
    if scope.role in (Role.DISTRICT, Role.STREET):
        return [code for code in (scope.district_code or scope.street_code,) if code]
    return []


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


# Responses that depend on who asks vary on these request headers (session cookie, API token).
PER_USER_VARY = ("Cookie", "Authorization")


def _caller(request: HttpRequest):
    """The user asking: the session's, else the user of an `Authorization: Token …` header; None if anonymous.

    Raises AuthenticationFailed for a token that is given but not valid.
    """
    if request.user.is_authenticated:
        return request.user
    from jurisdictions.auth import ShaoziTokenAuthentication

    found = ShaoziTokenAuthentication().authenticate(request)
    return found[0] if found else None


def _private(response: HttpResponse, max_age: int = 0) -> HttpResponse:
    """Mark a per-user response: only the user's own browser may keep it, and only varying on their credentials."""
    response["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-store"
    patch_vary_headers(response, PER_USER_VARY)
    return response


@throttled(scope="tiles")
def tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    """矢量瓦片 GET /tiles/{layer}/{z}/{x}/{y}.pbf — a Mapbox Vector Tile made by PostGIS.

    Filters are query parameters (each layer lists its own; `crs=gcj02` shifts the tile for a GCJ-02 basemap).
    Answers 200 with the tile, 204 when the tile is empty, 304 when If-None-Match holds the current ETag, and
    400/404 with the API's error shape for a bad layer, tile number or filter, 429 over the `tiles` rate limit.

    A per-user layer (complaints) is drawn for the caller's scope (session or API token): its tiles are private
    (`Cache-Control: private`, `Vary: Cookie, Authorization`, an ETag per scope) and carry no
    `Access-Control-Allow-Origin: *`; other layers are the same for everyone and cached publicly.
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
    scope = None
    if tile_layer.per_user:
        try:
            scope = scope_for(_caller(request))
        except AuthenticationFailed as exc:
            return _error("not_authenticated", f"API 令牌无效 invalid token: {exc.detail}", {}, 401)
    etag = tiles.tile_etag(layer=tile_layer, z=zi, x=xi, y=yi, filters=filters, system=system, scope=scope)
    headers = {"ETag": etag}
    if not tile_layer.per_user:
        headers["Cache-Control"] = f"public, max-age={tile_layer.max_age}"
        headers["Access-Control-Allow-Origin"] = "*"

    def answer(response: HttpResponse) -> HttpResponse:
        return _private(response, tile_layer.max_age) if tile_layer.per_user else response

    if tiles.etag_matches(request.headers.get("If-None-Match"), etag):
        return answer(_bodiless(304, headers))
    body = tiles.tile_mvt(layer=tile_layer, z=zi, x=xi, y=yi, filters=filters, system=system, scope=scope)
    if not body:
        return answer(_bodiless(204, headers))
    headers["Content-Type"] = "application/vnd.mapbox-vector-tile"
    return answer(HttpResponse(body, headers=headers))


def _bodiless(status: int, headers: dict) -> HttpResponse:
    """A 204 or 304 with no body and so no Content-Type (Django would otherwise say text/html)."""
    response = HttpResponse(status=status, headers=headers)
    del response["Content-Type"]
    return response


def _tileset(request: HttpRequest, layer: str):
    """The layer, its filters as given (validated, kept in the tile URL) and the city's bounds; or an error."""
    try:
        tile_layer = tiles.layer_get(layer)
        tiles.parse_system(request.GET.get("crs"))
        tile_layer.parse_filters(request.GET)
    except tiles.TileError as exc:
        return None, None, _error(exc.code, exc.message, exc.details, exc.status)
    extent = jurisdiction_selectors.area_extent(level=AreaLevel.DISTRICT)
    return tile_layer, extent, None


@throttled(scope="tiles")
def tile_json(request: HttpRequest, layer: str) -> HttpResponse:
    """TileJSON 3.0.0 GET /tiles/{layer}.json — the tile URL template (with the filters given here), zooms, bounds
    and fields, for MapLibre, OpenLayers and QGIS."""
    if request.method not in ("GET", "HEAD"):
        return _error("method_not_allowed", "只支持 GET only GET is allowed", {"method": request.method}, 405)
    tile_layer, bounds, error = _tileset(request, layer)
    if error is not None:
        return error
    query = request.GET.urlencode(safe=",")
    template = request.build_absolute_uri(f"/tiles/{tile_layer.name}/") + "{z}/{x}/{y}.pbf"
    body = tiles.tilejson(layer=tile_layer, tiles_url=template + (f"?{query}" if query else ""), bounds=bounds)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    if tile_layer.per_user:
        return _private(response, tile_layer.max_age)
    response["Cache-Control"] = f"public, max-age={tile_layer.max_age}"
    return response


@throttled(scope="tiles")
def tile_metadata(request: HttpRequest, layer: str) -> HttpResponse:
    """GET /tiles/{layer}/metadata.json — the tileset description GDAL's MVT driver reads for `MVT:…/tiles/{layer}`
    (open option ZOOM_LEVEL picks the zoom it reads; its default, the maximum, means many tiles)."""
    if request.method not in ("GET", "HEAD"):
        return _error("method_not_allowed", "只支持 GET only GET is allowed", {"method": request.method}, 405)
    tile_layer, bounds, error = _tileset(request, layer)
    if error is not None:
        return error
    response = JsonResponse(tiles.tileset_metadata(layer=tile_layer, bounds=bounds))
    if tile_layer.per_user:
        return _private(response, tile_layer.max_age)
    response["Cache-Control"] = f"public, max-age={tile_layer.max_age}"
    return response


# ---- charts: small JSON answers the planner map draws as inline SVG ---------------------------------------------

_CHART_EXTRA = {
    "weekly": {"bbox", "weeks"},
    "categories": {"bbox", "level", "limit"},
}


def _chart_filters(request: HttpRequest, chart: str) -> dict:
    """The complaint filters of a chart request (the complaint tiles' names and rules) plus its own options."""
    params = {k: v for k, v in request.GET.items() if k not in _CHART_EXTRA[chart] and k != "crs"}
    parsed = COMPLAINTS.parse_filters(params)
    values = {
        "date_from": parsed["from"],
        "date_to": parsed["to"],
        "category": parsed["category"],
        "status": parsed["status"],
        "district": parsed["district"],
        "street": parsed["street"],
        "area": parsed["area"],
    }
    if request.GET.get("bbox"):
        values["bbox"] = _parse_bbox(request.GET["bbox"])
    return values


def _parse_bbox(text: str) -> Polygon:
    """The API's one bbox parser (config/api.py, docs/api.md), its error as the map's."""
    try:
        return parse_bbox(text)
    except ApiError as exc:
        raise tiles.TileError(exc.error_code, exc.message, exc.details) from None


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise tiles.TileError(
            "invalid_filter", f"{name} 须为 {low}–{high} 的整数 {name} must be an integer {low}–{high}", {name: raw}
        )
    return value


def _json(data: dict) -> JsonResponse:
    """A JSON answer that is the same for everyone (shared caches may keep it a minute)."""
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=60"
    return response


def _chart_min_count(request: HttpRequest) -> int:
    """Small counts are suppressed in charts for callers who may not read every complaint (as in the tiles)."""
    try:
        caller = _caller(request)
    except AuthenticationFailed:
        caller = None
    return 0 if reads_every_complaint(scope_for(caller)) else min_public_cell_count()


def _per_user_json(data: dict, max_age: int = 0) -> JsonResponse:
    """A JSON answer that depends on who asks: private to the user's browser (no-store without `max_age`)."""
    return _private(JsonResponse(data, json_dumps_params={"ensure_ascii": False}), max_age)


def chart_weekly(request: HttpRequest) -> JsonResponse:
    """每周诉求 Complaints per week for the map's complaint filters (and `bbox`, the visible map), `weeks` long
    (default 26) when no date range is given."""
    try:
        filters = _chart_filters(request, "weekly")
        weeks = _int_param(request, "weeks", 26, 1, 260)
    except tiles.TileError as exc:
        return _error(exc.code, exc.message, exc.details, exc.status)
    return _per_user_json(
        selectors.chart_weekly(weeks=weeks, min_count=_chart_min_count(request), **filters), max_age=60
    )


def chart_categories(request: HttpRequest) -> JsonResponse:
    """主要诉求类别 The categories with most complaints for the map's filters: `level` 1–3 (default 3), `limit`."""
    try:
        filters = _chart_filters(request, "categories")
        level = _int_param(request, "level", 3, 1, 3)
        limit = _int_param(request, "limit", 8, 1, 50)
    except tiles.TileError as exc:
        return _error(exc.code, exc.message, exc.details, exc.status)
    return _per_user_json(
        selectors.chart_categories(level=level, limit=limit, min_count=_chart_min_count(request), **filters),
        max_age=60,
    )


def chart_cell(request: HttpRequest) -> JsonResponse:
    """网格趋势 A hot-spot cell's z-score per time step in the latest emerging run (or `run`): `h3` required."""
    h3 = request.GET.get("h3", "")
    if not re.match(r"^[0-9a-f]{15}$", h3):
        return _error("invalid_filter", "h3 须为 15 位十六进制 h3 must be a 15-digit hex cell id", {"h3": h3})
    run = None
    if request.GET.get("run"):
        try:
            run = parse_run(request.GET["run"])
        except tiles.TileError as exc:
            return _error(exc.code, exc.message, exc.details, exc.status)
    found = selectors.chart_cell(h3=h3, run_id=run)
    if found is None:
        return _error(
            "not_found", "最新新兴热点分析中没有这个网格 no such cell in the emerging run", {"h3": h3, "run": run}, 404
        )
    return _json(found)


def map_runs(request: HttpRequest) -> JsonResponse:
    """分析批次 The latest finished run of each analysis layer and the period it analysed, for the map's legends;
    `choices`: each layer's finished all-category runs, oldest to newest, for the map's run picker."""
    runs = {}
    for layer in AnalysisLayer.values:
        run = hotspot_selectors.run_get(layer=layer)
        runs[layer] = (
            None
            if run is None
            else {
                "run": run.pk,
                "period_start": run.period_start.isoformat(),
                "period_end": run.period_end.isoformat(),
                "category": run.category,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
        )
    return _json({"runs": runs, "choices": selectors.analysis_run_choices()})


def map_joint_cases(request: HttpRequest) -> JsonResponse:
    """联合办案图层 Joint cases you take part in, as GeoJSON (`status` open by default, `all` for every case)."""
    if not request.user.is_authenticated:
        return _error("not_authenticated", "请先登录 log in first", {}, 401)
    status = request.GET.get("status") or "open"
    if status not in (*JointCaseStatus.values, "all"):
        return _error("invalid_filter", "status 须为 open、closed 或 all", {"status": status})
    return _per_user_json(selectors.joint_case_features(user=request.user, status=None if status == "all" else status))
