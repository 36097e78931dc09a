"""Vector tiles (矢量瓦片) for the planner map: a registry of tile layers and the PostGIS SQL that makes them.

A tile is a Mapbox Vector Tile (MVT, protobuf) encoded by PostGIS itself (`ST_AsMVT`, `ST_AsMVTGeom`,
`ST_TileEnvelope`); Python only validates the request, picks the layer and, for a GCJ-02 basemap, shifts
vertices with `geo.coords`.

A **tile layer** is a named source of features. Its `source` callable receives the tile's query box in WGS-84
degrees (a `TileBox`, which also carries z/x/y) and the parsed filters, and returns SQL plus parameters — or None
when it knows the answer is empty — whose rows have the columns

    fid        bigint     feature id (stable across tiles, so the browser can match pieces of one feature)
    tile_geom  geometry   EPSG:4326, limited to rows whose geometry meets the box (use `&&`)
    …          one column per name in `attributes`

A layer whose content depends on who asks (`per_user=True`: the complaints) also receives the caller's `scope`
(`jurisdictions.permissions.Scope`); its tiles are keyed by that scope in the ETag and sent as private, never
to shared caches (see `maps.views.tile`).

This module wraps that SQL in the MVT encoding, so adding a layer (complaints, hot-spot cells, idle lots …) means
writing its source query and calling `register()`; see `maps/tile_layers.py` and `docs/maps.md`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction

from geo import coords
from geo.errors import CodedError

# MVT geometry resolution and the buffer (in tile units) kept around a tile so strokes join across edges.
TILE_EXTENT = 4096
TILE_BUFFER = 64
MIN_ZOOM = 0
MAX_ZOOM = 22
# Part of the ETag: change it whenever the encoding (extent, simplification, columns) changes.
TILE_FORMAT = "mvt1"

# Systems a tile can be drawn in. BD-09 has no standard XYZ grid (Baidu tiles use their own), so it is refused.
TILE_SYSTEMS = (coords.WGS84, coords.GCJ02)

# With a GCJ-02 tile the query box is the de-shifted tile box; the shift varies slowly, so the box of the
# de-shifted edge points plus this margin (degrees, ~100 m) holds every vertex that lands in the tile.
_GCJ_BOX_MARGIN_DEG = 0.001


class TileError(CodedError):
    """A tile request that cannot be served: an error code, a zh-Hans/English message and the HTTP status."""

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


@dataclass(frozen=True)
class TileFilter:
    """One query parameter a layer accepts: `parse` turns the raw text into a value or raises TileError."""

    name: str
    label_zh: str
    label_en: str
    parse: Callable[[str], Any]
    kind: str = "text"  # text | date | area | choice | category: how the map frame offers it
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # value → (zh, en)


@dataclass(frozen=True)
class TileBox:
    """The WGS-84 box a layer source must select from, and the tile it is for."""

    west: float
    south: float
    east: float
    north: float
    z: int
    x: int
    y: int

    @property
    def pixel_deg(self) -> float:
        """Width of one tile unit in degrees of longitude (the simplification scale)."""
        return (self.east - self.west) / (TILE_EXTENT + 2 * TILE_BUFFER)

    def envelope_sql(self) -> tuple[str, list]:
        """SQL for this box as an EPSG:4326 envelope, and its parameters."""
        return "ST_MakeEnvelope(%s, %s, %s, %s, 4326)", [self.west, self.south, self.east, self.north]


@dataclass(frozen=True)
class TileLayer:
    """A vector tile layer: its name in URLs, the attributes each feature carries, filters, SQL source and version.

    `source(box=TileBox, **filters) -> (sql, params) | None` gives the rows (see the module docstring).
    `version(**filters) -> str` is a cheap fingerprint of the data behind the layer; it goes into the ETag, so it
    must change whenever any tile of the layer could change. A `per_user` layer's source is also given
    `scope=` (the caller's Scope) and its tiles must not be cached publicly.
    """

    name: str
    title_zh: str
    title_en: str
    attributes: tuple[str, ...]
    filters: Mapping[str, TileFilter]
    source: Callable[..., tuple[str, list] | None]
    version: Callable[..., str]
    min_zoom: int = MIN_ZOOM
    max_zoom: int = MAX_ZOOM
    max_age: int = 300
    geometry_type: str = "polygon"  # polygon | line | point: how the map frame styles it
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    per_user: bool = False

    def parse_filters(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Validate query parameters against this layer's filters; unknown names are an error, not ignored."""
        unknown = sorted(set(params) - set(self.filters) - {"crs"})
        if unknown:
            raise TileError(
                "unknown_filter",
                f"图层 {self.name} 不支持这些参数 layer {self.name} does not accept: {', '.join(unknown)}",
                {"unknown": unknown, "accepted": sorted(self.filters)},
            )
        values = dict(self.defaults)
        for name, spec in self.filters.items():
            raw = params.get(name)
            if raw not in (None, ""):
                values[name] = spec.parse(raw)
            else:
                values.setdefault(name, None)
        return values


_REGISTRY: dict[str, TileLayer] = {}


def register(layer: TileLayer) -> TileLayer:
    """Add a layer to the registry (once per name); returns it so modules can keep a reference."""
    if layer.name in _REGISTRY and _REGISTRY[layer.name] is not layer:
        raise ValueError(f"tile layer {layer.name!r} is already registered")
    _REGISTRY[layer.name] = layer
    return layer


def layer_get(name: str) -> TileLayer:
    """The registered layer called `name`, or TileError 404."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise TileError(
            "unknown_layer",
            f"没有名为 {name} 的瓦片图层 no tile layer called {name}",
            {"layer": name, "layers": sorted(_REGISTRY)},
            status=404,
        ) from None


def layer_list() -> list[TileLayer]:
    """Registered layers in registration order."""
    return list(_REGISTRY.values())


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Validate tile numbers from a URL: integers, 0 ≤ z ≤ 22, 0 ≤ x, y < 2^z."""
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        raise TileError(
            "invalid_tile", "瓦片坐标须为整数 tile z/x/y must be integers", {"z": z, "x": x, "y": y}
        ) from None
    if not MIN_ZOOM <= zi <= MAX_ZOOM:
        raise TileError(
            "invalid_zoom", f"缩放级别须在 {MIN_ZOOM}–{MAX_ZOOM} zoom must be {MIN_ZOOM}–{MAX_ZOOM}", {"z": zi}
        )
    limit = 1 << zi
    if not (0 <= xi < limit and 0 <= yi < limit):
        raise TileError(
            "invalid_tile",
            f"第 {zi} 级瓦片编号须在 0–{limit - 1} tile x/y must be 0–{limit - 1} at zoom {zi}",
            {"z": zi, "x": xi, "y": yi},
        )
    return zi, xi, yi


def parse_system(value: str | None) -> str:
    """The coordinate system the tile is drawn in: wgs84 (default) or gcj02 (to sit on an Amap/Tencent basemap)."""
    if value in (None, ""):
        return coords.WGS84
    try:
        system = coords.normalise_system(value)
    except coords.CoordinateError:
        system = value
    if system not in TILE_SYSTEMS:
        raise TileError(
            "invalid_crs",
            "瓦片坐标系须为 wgs84 或 gcj02 tile crs must be wgs84 or gcj02 (bd09 has no standard tile grid)",
            {"crs": value},
        )
    return system


def tile_lonlat(z: int, x: float, y: float) -> tuple[float, float]:
    """Longitude/latitude (degrees) of the Web Mercator tile corner (x, y) at zoom z; fractional x, y allowed."""
    n = 1 << z
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / n))))
    return lon, lat


def tile_box(z: int, x: int, y: int, *, system: str = coords.WGS84) -> TileBox:
    """The WGS-84 box whose features can appear in tile z/x/y (buffer included) drawn in `system`.

    For GCJ-02 the tile's own box holds GCJ-02 coordinates; the WGS-84 box is the box of its de-shifted edge
    points plus a small margin (the offset changes by far less than the margin across one tile edge).
    """
    margin = TILE_BUFFER / TILE_EXTENT
    west, north = tile_lonlat(z, x - margin, y - margin)
    east, south = tile_lonlat(z, x + 1 + margin, y + 1 + margin)
    if system == coords.GCJ02:
        lons, lats = _edge_points(west, south, east, north)
        back_lon, back_lat = coords.gcj02_to_wgs84(lons, lats)
        west = float(np.min(back_lon)) - _GCJ_BOX_MARGIN_DEG
        east = float(np.max(back_lon)) + _GCJ_BOX_MARGIN_DEG
        south = float(np.min(back_lat)) - _GCJ_BOX_MARGIN_DEG
        north = float(np.max(back_lat)) + _GCJ_BOX_MARGIN_DEG
    return TileBox(west=west, south=south, east=east, north=north, z=z, x=x, y=y)


def _edge_points(west: float, south: float, east: float, north: float, per_edge: int = 9):
    """Points along the four edges of a lon/lat box (corners included), as two arrays."""
    t = np.linspace(0.0, 1.0, per_edge)
    along_x = west + (east - west) * t
    along_y = south + (north - south) * t
    lons = np.concatenate([along_x, along_x, np.full(per_edge, west), np.full(per_edge, east)])
    lats = np.concatenate([np.full(per_edge, south), np.full(per_edge, north), along_y, along_y])
    return lons, lats


def scope_key(scope) -> dict | None:
    """What of a caller's scope a per-user tile depends on (role and area, not the user name), for the ETag."""
    if scope is None:
        return None
    return {k: v for k, v in scope.as_dict().items() if k != "user"}


def tile_etag(*, layer: TileLayer, z: int, x: int, y: int, filters: Mapping[str, Any], system: str, scope=None) -> str:
    """A strong ETag from the layer's data version, the tile address, the filters, the system and, for a per-user
    layer, the caller's scope (two scopes never share a tile's ETag).

    Computing it costs one cheap query (the layer's version), so a matching If-None-Match skips the tile SQL.
    """
    key = {
        "scope": scope_key(scope) if layer.per_user else None,
        "format": TILE_FORMAT,
        "layer": layer.name,
        "tile": [z, x, y],
        "filters": {k: _json_value(v) for k, v in sorted(filters.items())},
        "system": system,
        "version": layer.version(**filters),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _props_sql(layer: TileLayer) -> str:
    """jsonb_build_object('a', src."a", …): ST_AsMVT turns a jsonb column's keys into feature attributes."""
    pairs = ", ".join(f"'{name}', src.\"{name}\"" for name in layer.attributes)
    return f"jsonb_build_object({pairs})"


def tile_mvt(
    *,
    layer: TileLayer,
    z: int,
    x: int,
    y: int,
    filters: Mapping[str, Any],
    system: str = coords.WGS84,
    scope=None,
) -> bytes:
    """One Mapbox Vector Tile of `layer` at z/x/y with `filters`, drawn in `system` (wgs84 or gcj02), for a
    caller of `scope` (per-user layers only; None there means anonymous).

    Empty bytes when nothing lies in the tile or the zoom is outside the layer's range. Geometry is clipped to
    the buffered tile box (ST_ClipByBox2D) and simplified to half a tile unit (ST_Simplify, collapsed parts
    kept) in degrees before it is projected, so low zooms do not project every vertex of a district.
    """
    if not layer.min_zoom <= z <= layer.max_zoom:
        return b""
    box = tile_box(z, x, y, system=system)
    source = layer.source(box=box, scope=scope, **filters) if layer.per_user else layer.source(box=box, **filters)
    if source is None:
        return b""
    source_sql, source_params = source
    envelope_sql, envelope_params = box.envelope_sql()
    tolerance = box.pixel_deg / 2
    prepared = f"ST_Simplify(ST_ClipByBox2D(src.tile_geom, {envelope_sql}), %s, true)"
    prepared_params = [*envelope_params, tolerance]
    with transaction.atomic(), connection.cursor() as cursor:
        # Tile queries are short and many; PostgreSQL's JIT compiler, which the planner turns on for big row
        # estimates (a low-zoom complaints tile), costs about a second of compilation to save milliseconds.
        cursor.execute("SET LOCAL jit = off")
        if system == coords.WGS84:
            cursor.execute(
                f"""
                SELECT ST_AsMVT(mvt, %s, {TILE_EXTENT}, 'geom', 'fid') FROM (
                    SELECT src.fid, {_props_sql(layer)} AS props,
                           ST_AsMVTGeom(ST_Transform({prepared}, 3857), ST_TileEnvelope(%s, %s, %s),
                                        {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
                    FROM ({source_sql}) AS src
                ) AS mvt
                WHERE mvt.geom IS NOT NULL
                """,
                [layer.name, *prepared_params, z, x, y, *source_params],
            )
            return bytes(cursor.fetchone()[0] or b"")
        # GCJ-02: PostGIS has no GCJ-02 transform, so the clipped rows go through the project's own converter
        # (the same one intake uses, tested to 1 cm) and come back to PostGIS to be encoded.
        cursor.execute(
            f"""
            SELECT src.fid, {_props_sql(layer)}::text, ST_AsBinary({prepared})
            FROM ({source_sql}) AS src
            """,
            [*prepared_params, *source_params],
        )
        rows = cursor.fetchall()
        if not rows:
            return b""
        geoms = shapely.from_wkb([bytes(row[2]) for row in rows])
        shifted = shapely.transform(geoms, _to_gcj02)
        cursor.execute(
            f"""
            SELECT ST_AsMVT(mvt, %s, {TILE_EXTENT}, 'geom', 'fid') FROM (
                SELECT r.fid, r.props,
                       ST_AsMVTGeom(ST_Transform(ST_GeomFromWKB(r.wkb, 4326), 3857), ST_TileEnvelope(%s, %s, %s),
                                    {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom
                FROM unnest(%s::bigint[], %s::jsonb[], %s::bytea[]) AS r(fid, props, wkb)
            ) AS mvt
            WHERE mvt.geom IS NOT NULL
            """,
            [
                layer.name,
                z,
                x,
                y,
                [row[0] for row in rows],
                [row[1] for row in rows],
                [shapely.to_wkb(g) for g in shifted],
            ],
        )
        return bytes(cursor.fetchone()[0] or b"")


def _to_gcj02(xy: np.ndarray) -> np.ndarray:
    lon, lat = coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


# --- conditional requests and tileset descriptions -------------------------------------------------------------


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match holds `etag`, compared weakly as RFC 9110 §13.1.2 asks for If-None-Match: `W/"x"`
    (what a gzipping proxy or middleware makes of a tag) matches `"x"`; `*` matches any current tile."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


# Field types of tile attributes in a tileset description: String unless a layer declares otherwise.
_ATTRIBUTE_TYPES = {"synthetic": "Boolean", "count": "Number", "z": "Number", "bin": "Number", "fid": "Number"}


def attribute_types(layer: TileLayer) -> dict[str, str]:
    """{attribute: String | Number | Boolean} of a layer's features, as TileJSON's vector_layers list them."""
    return {name: _ATTRIBUTE_TYPES.get(name, "String") for name in layer.attributes}


def tilejson(*, layer: TileLayer, tiles_url: str, bounds: list[float] | None) -> dict:
    """TileJSON 3.0.0 of a layer (MapLibre, OpenLayers, QGIS): the tile URL template, zooms, bounds and the one
    vector layer with its fields. `tiles_url` is the absolute {z}/{x}/{y} template, filters included."""
    return {
        "tilejson": "3.0.0",
        "name": f"{layer.title_zh} {layer.title_en}",
        "description": layer.description,
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": layer.min_zoom,
        "maxzoom": layer.max_zoom,
        **({"bounds": bounds} if bounds else {}),
        "vector_layers": [
            {
                "id": layer.name,
                "description": f"{layer.title_zh} {layer.title_en}",
                "minzoom": layer.min_zoom,
                "maxzoom": layer.max_zoom,
                "fields": attribute_types(layer),
            }
        ],
    }


def tileset_metadata(*, layer: TileLayer, bounds: list[float] | None) -> dict:
    """The `metadata.json` of a tileset directory (tippecanoe / MBTiles keys, values as text) that GDAL's MVT
    driver reads when opening `MVT:http://…/tiles/{layer}` (it then fetches {z}/{x}/{y}.pbf under that URL)."""
    description = tilejson(layer=layer, tiles_url="", bounds=bounds)
    return {
        "name": layer.name,
        "description": description["name"],
        "version": "2",
        "type": "overlay",
        "format": "pbf",
        "minzoom": str(layer.min_zoom),
        "maxzoom": str(layer.max_zoom),
        **({"bounds": ",".join(str(v) for v in bounds)} if bounds else {}),
        "json": json.dumps({"vector_layers": description["vector_layers"]}, ensure_ascii=False),
    }
