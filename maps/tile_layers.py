"""The tile layers the planner map can draw. Each is registered with `maps.tiles.register` when the app loads.

To add a layer (complaints, hot-spot cells, idle lots …): write a source that returns SQL for its rows — usually
a selector's QuerySet turned into SQL with `queryset_source` — give it a version fingerprint and register it
here; the endpoint, ETags, GCJ-02 shifting and the map frame pick it up. See docs/maps.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db.models import CharField, Count, ExpressionWrapper, F, Field, Func, Max, Q, QuerySet, Value
from django.utils import timezone

from complaints import cells
from complaints import selectors as complaint_selectors
from complaints.constants import Status as ComplaintStatus
from complaints.deadlines import LOCAL_TZ
from hotspots import selectors as hotspot_selectors
from hotspots.constants import EmergingPattern, Layer
from hotspots.models import AnalysisRun
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.constants import AreaLevel, Role

from . import selectors as map_selectors
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


def choice_parser(name: str, label: str, choices) -> Callable[[str], str]:
    """A filter parser accepting one of `choices`, refusing anything else with the project's error shape."""
    allowed = tuple(choices)

    def parse(value: str) -> str:
        if value not in allowed:
            raise TileError("invalid_filter", f"{label}无效 {name} must be one of {', '.join(allowed)}", {name: value})
        return value

    return parse


parse_level = choice_parser("level", "级别", AreaLevel.values)


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
    day = at or timezone.localdate()
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


# ---------------------------------------------------------------------------------------------------------------
# Hot-spot analysis layers (hotspots app): cells and repeat places of the latest finished run, or of `run=<id>`.
# Their ETag version is the run's id and finish time: a run's results are never edited, a new run adds rows.
# ---------------------------------------------------------------------------------------------------------------


def parse_run(value: str) -> int:
    try:
        run = int(value)
    except ValueError:
        run = -1
    if run < 1:
        raise TileError("invalid_filter", "run 须为正整数 run must be a positive integer", {"run": value})
    return run


parse_pattern = choice_parser("pattern", "模式", EmergingPattern.values)


def parse_flag(value: str) -> bool:
    if value not in ("true", "false"):
        raise TileError("invalid_filter", "须为 true 或 false must be true or false", {"value": value})
    return value == "true"


def parse_category(value: str) -> str:
    if not re.match(r"^[0-9A-Za-z._-]{1,20}$", value):
        raise TileError("invalid_filter", "类别编码无效 invalid category code", {"category": value})
    return value


def _run(layer: str, run: int | None) -> AnalysisRun | None:
    return hotspot_selectors.run_get(layer=layer, run_id=run)


def _run_version(layer: str, run: int | None, *extra) -> str:
    found = _run(layer, run)
    if found is None:
        return "no-run"
    finished = found.finished_at.isoformat() if found.finished_at else ""
    return ":".join([str(found.pk), finished, *(str(e) for e in extra)])


HOTSPOT_ALL_CELLS_ZOOM = 13


def hotspot_tile_source(*, box: TileBox, run=None) -> tuple[str, list] | None:
    """Gi* cells (H3 hexagons) of the run meeting the tile box, with bin −3…+3, z, p and the count.

    Below zoom 13 only significant cells (bin ≠ 0): a zoom-10 tile over the city would otherwise hold ~7,600
    hexagons (0.5 MB) of mostly "not significant", each a few pixels wide.
    """
    found = _run(Layer.HOTSPOTS, run)
    if found is None:
        return None
    cells = hotspot_selectors.hotspot_cell_list(run=found, significant=box.z < HOTSPOT_ALL_CELLS_ZOOM).filter(
        geom__bboverlaps=box_polygon(box)
    )
    return queryset_source(
        cells.order_by()
        .annotate(fid=F("id"), tile_geom=raw_geometry("geom"))
        .values("fid", "h3", "bin", "z", "p", "count", "value", "street_code", "run_id", "tile_geom")
    )


def hotspot_tile_version(*, run=None) -> str:
    return _run_version(Layer.HOTSPOTS, run)


def emerging_tile_source(*, box: TileBox, run=None, pattern=None) -> tuple[str, list] | None:
    """Emerging hot spot cells with a detected pattern (or the one asked for) meeting the tile box."""
    found = _run(Layer.EMERGING, run)
    if found is None:
        return None
    cells = hotspot_selectors.emerging_cell_list(run=found, patterns=[pattern] if pattern else None).filter(
        geom__bboverlaps=box_polygon(box)
    )
    return queryset_source(
        cells.order_by()
        .annotate(fid=F("id"), tile_geom=raw_geometry("geom"))
        .values(
            "fid",
            "h3",
            "pattern",
            "trend_z",
            "trend_p",
            "hot_steps",
            "cold_steps",
            "count",
            "recent_count",
            "street_code",
            "run_id",
            "tile_geom",
        )
    )


def emerging_tile_version(*, run=None, pattern=None) -> str:
    return _run_version(Layer.EMERGING, run)


def repeat_place_tile_source(*, box: TileBox, run=None, category=None, chronic=None) -> tuple[str, list] | None:
    """Repeat places (points) of the run in the tile box, optionally of a category prefix or chronic only."""
    found = _run(Layer.REPEAT_PLACES, run)
    if found is None:
        return None
    places = hotspot_selectors.repeat_place_list(run=found, category=category, chronic=chronic).filter(
        point__bboverlaps=box_polygon(box)
    )
    return queryset_source(
        places.order_by()
        .annotate(fid=F("id"), tile_geom=raw_geometry("point"))
        .values(
            "fid",
            "category_code",
            "category_name",
            "place_kind",
            "count",
            "span_days",
            "chronic",
            "failed_fix",
            "failed_fix_count",
            "street_code",
            "street_name",
            "run_id",
            "tile_geom",
        )
    )


def repeat_place_tile_version(*, run=None, category=None, chronic=None) -> str:
    return _run_version(Layer.REPEAT_PLACES, run)


RUN_FILTER = TileFilter("run", "分析批次", "analysis run", parse_run)


def _zh_en(label: str) -> tuple[str, str]:
    """A choices label "中文 English words" as (zh, en)."""
    zh, _, en = label.partition(" ")
    return zh, en or zh


HOTSPOTS = register(
    TileLayer(
        name="hotspots",
        title_zh="Gi* 热点",
        title_en="Gi* hot spots",
        attributes=("h3", "bin", "z", "p", "count", "value", "street_code", "run_id"),
        filters={"run": RUN_FILTER},
        source=hotspot_tile_source,
        version=hotspot_tile_version,
        max_age=300,
        geometry_type="polygon",
        description="最新一次 Gi* 分析的 H3 网格 H3 cells of the latest Gi* run; filter run (id)",
    )
)

EMERGING = register(
    TileLayer(
        name="emerging",
        title_zh="新兴热点",
        title_en="emerging hot spots",
        attributes=(
            "h3",
            "pattern",
            "trend_z",
            "trend_p",
            "hot_steps",
            "cold_steps",
            "count",
            "recent_count",
            "street_code",
            "run_id",
        ),
        filters={
            "run": RUN_FILTER,
            "pattern": TileFilter(
                "pattern",
                "模式",
                "pattern",
                parse_pattern,
                kind="choice",
                choices=tuple(EmergingPattern.values),
                choice_labels={value: _zh_en(str(label)) for value, label in EmergingPattern.choices},
            ),
        },
        source=emerging_tile_source,
        version=emerging_tile_version,
        max_age=300,
        geometry_type="polygon",
        description="最新一次新兴热点分析中有模式的网格 cells with a pattern in the latest emerging run",
    )
)

REPEAT_PLACES = register(
    TileLayer(
        name="repeat-places",
        title_zh="重复点位",
        title_en="repeat places",
        attributes=(
            "category_code",
            "category_name",
            "place_kind",
            "count",
            "span_days",
            "chronic",
            "failed_fix",
            "failed_fix_count",
            "street_code",
            "street_name",
            "run_id",
        ),
        filters={
            "run": RUN_FILTER,
            "category": TileFilter("category", "类别编码", "category code", parse_category),
            "chronic": TileFilter(
                "chronic",
                "顽疾",
                "chronic",
                parse_flag,
                kind="choice",
                choices=("true",),
                choice_labels={"true": ("仅顽疾", "chronic only")},
            ),
        },
        source=repeat_place_tile_source,
        version=repeat_place_tile_version,
        max_age=300,
        geometry_type="point",
        description="同一地点反复诉求 places with repeated complaints; filters run, category (prefix), chronic",
    )
)


# ---------------------------------------------------------------------------------------------------------------
# Complaints (complaints app): hexagon counts below COMPLAINT_POINTS_ZOOM, the complaints themselves from it on.
# ---------------------------------------------------------------------------------------------------------------

# From this zoom on a tile holds one point per complaint (for callers who may read it); below it, counts per hexagon.
COMPLAINT_POINTS_ZOOM = 16
# Counts for callers who may not read every complaint never use a grid finer than this zoom's (edge ≈ 50 m).
PUBLIC_GRID_ZOOM = 15
DEFAULT_MIN_PUBLIC_CELL_COUNT = 3
# Below this zoom the layer is empty: a tile would count most of the city's complaints (see docs/maps.md).
COMPLAINT_MIN_ZOOM = 10


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise TileError("invalid_date", "日期须为 YYYY-MM-DD date must be YYYY-MM-DD", {"date": value}) from None


def parse_status(value: str) -> tuple[str, ...]:
    """One status or several, comma-separated (received,dispatched …)."""
    wanted = tuple(sorted({part.strip() for part in value.split(",") if part.strip()}))
    bad = [s for s in wanted if s not in ComplaintStatus.values]
    if bad or not wanted:
        raise TileError(
            "invalid_filter",
            f"状态无效 status must be among {', '.join(ComplaintStatus.values)}",
            {"status": value, "invalid": bad},
        )
    return wanted


def parse_catalogue_code(value: str) -> str:
    """A category code at any of the three levels that exists in the catalogue."""
    value = parse_category(value)
    if not map_selectors.category_exists(code=value):
        raise TileError("invalid_filter", "没有这个诉求类别 no such category", {"category": value})
    return value


def parse_district_code(value: str) -> str:
    if not re.match(r"^\d{6}$", value):
        raise TileError("invalid_filter", "区编码须为 6 位数字 district must be a 6-digit code", {"district": value})
    return value


def parse_street_code(value: str) -> str:
    if not re.match(r"^\d{9,12}$", value):
        raise TileError(
            "invalid_filter", "街道编码须为 9–12 位数字 street must be a 9–12 digit code", {"street": value}
        )
    return value


def _complaint_filters(filters: dict) -> dict:
    """Tile filters (`from`, `to` …) as complaint_queryset's keyword arguments."""
    return {
        "date_from": filters.get("from"),
        "date_to": filters.get("to"),
        "category": filters.get("category"),
        "status": filters.get("status"),
        "district": filters.get("district"),
        "street": filters.get("street"),
        "area": filters.get("area"),
    }


def min_public_cell_count() -> int:
    """Hexagons counting fewer complaints than this are left out of tiles for callers who may not read every
    complaint (SHAOZI["MIN_PUBLIC_CELL_COUNT"], default 3): a count of 1 or 2 would point at one household."""
    return int(getattr(settings, "SHAOZI", {}).get("MIN_PUBLIC_CELL_COUNT", DEFAULT_MIN_PUBLIC_CELL_COUNT))


def reads_every_complaint(scope) -> bool:
    """City-wide roles and the hotline's systems see every complaint as a point, and every count."""
    return scope is not None and (scope.city_wide or scope.role == Role.API_CLIENT)


def _complaint_points(complaints: QuerySet) -> tuple[str, list] | None:
    return queryset_source(
        complaints.annotate(
            fid=F("id"),
            tile_geom=raw_geometry("location"),
            category_code=F("category__code"),
            received=Func(
                Func(Value(LOCAL_TZ.key), F("received_at"), function="timezone"),
                Value("YYYY-MM-DD HH24:MI"),
                function="to_char",
                output_field=CharField(),
            ),
            complaints=Value(1),
        ).values("fid", "category_code", "status", "received", "complaints", "tile_geom")
    )


_NO_POINT_PROPS = "NULL::text AS category_code, NULL::text AS status, NULL::text AS received"


def _complaint_hexagons(
    complaints: QuerySet, *, box: TileBox, grid_z: int, min_count: int, stored: bool, filters: dict
) -> tuple[str, list] | None:
    """Hexagon counts of `complaints` on the grid of zoom `grid_z` around `box`; hexagons under `min_count` left out.

    `stored`: the complaints are every complaint with only date filters, so the stored counts (ComplaintCell) may
    serve the grid's zoom; otherwise the complaints under the box widened by two hexagon edges are counted, with
    the same hexagon assignment, so a hexagon cut by the tile edge still counts all its complaints either way.
    """
    if stored and grid_z in cells.CELL_ZOOMS and cells.cells_ready():
        sql, params = cells.cell_counts_sql(
            z=grid_z,
            west=box.west,
            south=box.south,
            east=box.east,
            north=box.north,
            date_from=filters.get("from"),
            date_to=filters.get("to"),
        )
        return f"SELECT h.*, {_NO_POINT_PROPS} FROM ({sql}) AS h WHERE h.complaints >= %s", [*params, min_count]
    size = cells.hex_size_m(grid_z)
    # A hexagon meeting the box has its centre within one edge of it and its points within two: widen by two edges
    # (in degrees of longitude; a degree of latitude is longer in Web Mercator here, so this is enough).
    pad = 2 * size / cells.WEB_MERCATOR_WORLD_M * 360.0
    wide = TileBox(box.west - pad, box.south - pad, box.east + pad, box.north + pad, box.z, box.x, box.y)
    inner = queryset_source(
        complaints.filter(location__bboverlaps=box_polygon(wide)).annotate(geom=raw_geometry("location")).values("geom")
    )
    if inner is None:
        return None
    inner_sql, inner_params = inner
    x, y = cells.mercator_sql("c.geom")
    points = f"SELECT {x} AS x, {y} AS y, {size!r}::float8 AS s FROM ({inner_sql}) AS c"
    counts = f"SELECT i, j, count(*) AS n FROM ({cells.hex_cells_sql(points)}) AS p GROUP BY i, j HAVING count(*) >= %s"
    return (
        f"SELECT h.*, {_NO_POINT_PROPS} FROM ({cells.hexagons_sql(counts, size)}) AS h",
        [*inner_params, min_count],
    )


def complaint_tile_source(*, box: TileBox, scope=None, **filters) -> tuple[str, list] | None:
    """Complaints in the tile as the caller (`scope`; None: anonymous) may see them.

    City-wide roles and the hotline's systems: points (id, category, status, received) from zoom 16, else hexagon
    counts. Everyone else gets aggregates of what they may not read: hexagon counts with every hexagon under
    `min_public_cell_count()` left out, on a grid never finer than zoom PUBLIC_GRID_ZOOM's; staff also get, from
    zoom 16, the complaints of their own scope (`ComplaintQuerySet.readable_by`) as points.

    Hexagons: complaints.cells' world grid (fixed size per zoom in Web Mercator metres, so neighbouring tiles
    agree). With no filter but dates, the stored counts per hexagon and period serve zooms 10–15 (ComplaintCell,
    brought up to date first; see complaints.cells.cells_ready); otherwise the complaints are counted.
    """
    complaints = map_selectors.complaint_queryset(
        scope=complaint_selectors.AGGREGATE_SCOPE, **_complaint_filters(filters)
    )
    only_dates = not any(filters.get(name) for name in COMPLAINT_FILTERS if name not in ("from", "to"))
    if reads_every_complaint(scope):
        if box.z >= COMPLAINT_POINTS_ZOOM:
            return _complaint_points(complaints.filter(location__bboverlaps=box_polygon(box)))
        return _complaint_hexagons(complaints, box=box, grid_z=box.z, min_count=1, stored=only_dates, filters=filters)
    min_count = min_public_cell_count()
    grid_z = min(box.z, PUBLIC_GRID_ZOOM)
    if box.z < COMPLAINT_POINTS_ZOOM or scope is None or scope.role is None:
        return _complaint_hexagons(
            complaints, box=box, grid_z=grid_z, min_count=min_count, stored=only_dates, filters=filters
        )
    readable = complaints.readable_by(scope)
    parts = [
        _complaint_points(readable.filter(location__bboverlaps=box_polygon(box))),
        _complaint_hexagons(
            complaints.exclude(pk__in=readable.values("pk")),
            box=box,
            grid_z=grid_z,
            min_count=min_count,
            stored=False,
            filters=filters,
        ),
    ]
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    # Point fids are complaint ids; hexagon fids pack (i, j) above 2^40: the two never meet.
    sql = " UNION ALL ".join(
        f"SELECT fid, tile_geom, complaints, category_code, status, received FROM ({p[0]}) AS u{n}"
        for n, p in enumerate(parts)
    )
    return sql, [param for part in parts for param in part[1]]


def complaint_tile_version(**filters) -> str:
    """The newest complaint id and the latest change (`updated_at`) of any complaint: two index lookups.

    Filters are in the ETag already; this only has to move when any complaint is added or changes.
    """
    return map_selectors.complaint_data_version()


COMPLAINT_FILTERS = {
    "from": TileFilter("from", "受理日期起", "received from", parse_day, kind="date"),
    "to": TileFilter("to", "受理日期止", "received to", parse_day, kind="date"),
    "category": TileFilter("category", "诉求类别", "category", parse_catalogue_code, kind="category"),
    "status": TileFilter(
        "status",
        "办理状态",
        "status",
        parse_status,
        kind="choice",
        choices=tuple(ComplaintStatus.values),
        choice_labels={value: (str(label), value.replace("_", " ")) for value, label in ComplaintStatus.choices},
    ),
    "district": TileFilter("district", "区", "district", parse_district_code),
    "street": TileFilter("street", "街道/乡镇", "street/township", parse_street_code),
    "area": AREA_FILTERS["area"],
}

COMPLAINTS = register(
    TileLayer(
        name="complaints",
        title_zh="诉求",
        title_en="complaints",
        attributes=("category_code", "status", "received", "complaints"),
        filters=COMPLAINT_FILTERS,
        source=complaint_tile_source,
        version=complaint_tile_version,
        min_zoom=COMPLAINT_MIN_ZOOM,
        max_age=60,
        geometry_type="point",
        description=(
            "诉求：16 级以下为六边形计数，16 级起为你辖区内的点（匿名只见计数，过小的格不显示） complaints: hexagon "
            "counts below zoom 16, from it points of the complaints you may read (anonymous callers: counts only, "
            "small cells left out); filters from, to, category, status, district, street, area"
        ),
        per_user=True,
    )
)
