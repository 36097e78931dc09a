"""The tile layers the planner map can draw. Each is registered with `maps.tiles.register` when the app loads.

To add a layer (complaints, hot-spot cells, idle lots …): write a source that returns SQL for its rows — usually
a selector's QuerySet turned into SQL with `queryset_source` — give it a version fingerprint and register it
here; the endpoint, ETags, GCJ-02 shifting and the map frame pick it up. See docs/maps.md.
"""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, ExpressionWrapper, F, Field, Max, Q, QuerySet

from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.constants import AreaLevel

from .tiles import TileBox, TileError, TileFilter, TileLayer, register

_AREA_CODE = re.compile(r"^\d{6,12}$")


def queryset_source(queryset: QuerySet) -> tuple[str, list] | None:
    """SQL and parameters of a QuerySet, for use as a tile layer source (Django builds and quotes the SQL).

    None when the QuerySet is known to be empty (e.g. `.none()`: no boundary version in force that day).
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, list(params)


def raw_geometry(field: str) -> ExpressionWrapper:
    """A geometry column selected as itself: `.values()` would select a geometry field as `geom::bytea` (what
    GeoDjango reads back), which the tile SQL would have to cast back to geometry."""
    return ExpressionWrapper(F(field), output_field=Field())


def box_polygon(box: TileBox) -> Polygon:
    """The tile query box as a GEOS polygon in EPSG:4326, for `geom__bboverlaps` (the index-only `&&` test)."""
    polygon = Polygon.from_bbox((box.west, box.south, box.east, box.north))
    polygon.srid = 4326
    return polygon


def parse_level(value: str) -> str:
    if value not in AreaLevel.values:
        raise TileError(
            "invalid_filter",
            f"级别无效 level must be one of {', '.join(AreaLevel.values)}",
            {"level": value},
        )
    return value


def parse_at(value: str) -> dt.date:
    try:
        return jurisdiction_selectors.parse_date(value)
    except jurisdiction_selectors.QueryError as exc:
        raise TileError(exc.code, exc.message, exc.details) from exc


def parse_area_code(value: str) -> str:
    if not _AREA_CODE.match(value):
        raise TileError(
            "invalid_filter", "区划编码须为 6–12 位数字 area must be a 6–12 digit area code", {"area": value}
        )
    return value


def area_tile_queryset(*, box: TileBox | None, level: str | None, at: dt.date | None, area: str | None) -> QuerySet:
    """Areas (区 / 街道乡镇 …) of the generation in force on `at` whose bounding box meets the tile box.

    `level` keeps one level; `area` keeps that area and the areas under it (children and grandchildren, by
    parent links, not by code prefix). Columns: fid, code, name, level, parent_code, synthetic, tile_geom.
    """
    areas = jurisdiction_selectors.area_list(level=level, at=at)
    if box is not None:
        areas = areas.filter(geom__bboverlaps=box_polygon(box))
    if area:
        areas = areas.filter(Q(code=area) | Q(parent__code=area) | Q(parent__parent__code=area))
    return (
        areas.order_by()
        .annotate(fid=F("id"), parent_code=F("parent__code"), tile_geom=raw_geometry("geom"))
        .values("fid", "code", "name", "level", "parent_code", "synthetic", "tile_geom")
    )


def area_tile_source(*, box: TileBox, level=None, at=None, area=None) -> tuple[str, list] | None:
    """Tile source of the `areas` layer (see `area_tile_queryset`)."""
    return queryset_source(area_tile_queryset(box=box, level=level, at=at, area=area))


def area_tile_version(*, level=None, at=None, area=None) -> str:
    """Fingerprint of the areas behind a tile: how many, the newest id, the generations, and the day asked for.

    Areas are never edited in place (new boundaries add rows and generations), so this changes whenever the
    answer can. Without `at`, "today" is part of it: the generation in force may change at midnight.
    """
    day = at or dt.date.today()
    areas = area_tile_queryset(box=None, level=level, at=day, area=area)
    stats = areas.order_by().aggregate(
        n=Count("id"), last=Max("id"), low=Max("generation_low_id"), high=Max("generation_high_id")
    )
    return f"{day.isoformat()}:{stats['n']}:{stats['last']}:{stats['low']}:{stats['high']}"


AREA_FILTERS = {
    "level": TileFilter("level", "级别", "level", parse_level, kind="choice", choices=tuple(AreaLevel.values)),
    "at": TileFilter("at", "边界日期", "boundaries on", parse_at, kind="date"),
    "area": TileFilter("area", "区/街道", "district/street", parse_area_code, kind="area"),
}

AREAS = register(
    TileLayer(
        name="areas",
        title_zh="行政区划",
        title_en="administrative areas",
        attributes=("code", "name", "level", "parent_code", "synthetic"),
        filters=AREA_FILTERS,
        source=area_tile_source,
        version=area_tile_version,
        max_age=300,
        geometry_type="polygon",
        description="区、街道乡镇边界 district and street boundaries; filters level, at (YYYY-MM-DD), area (code)",
    )
)
