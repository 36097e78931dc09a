"""The feature collections served under /ogc/: each one a declaration over the selectors its app already has.

A `Collection` says what a feature carries (`properties`, with the JSON types the OpenAPI document publishes),
which property filters it takes, what `datetime` means for it, who may read it and how its rows are found —
always through the app's own selector or QuerySet method (`area_list`, `run_get` + `hotspot_cell_list`,
`fix_plan_list(scope=…)`, `complaint_list(scope=…)` …), never through new spatial SQL. Geometry is rendered by
PostGIS as GeoJSON text, rings forced to RFC 7946's winding (`ForcePolygonCCW`) and rounded to 7 decimals (≈ 1 cm).

Access: `public` collections are the same for every caller; `login` ones need a session or an API token and
show only what the caller's scope may read (fix plans: `FixPlanQuerySet.visible_to`; complaints:
`ComplaintQuerySet.readable_by`; rules: every authenticated user, as `GET /api/v1/rules`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from complaints import selectors as complaint_selectors
from complaints.constants import Status as ComplaintStatus
from config.api import ApiError
from hotspots import selectors as hotspot_selectors
from hotspots.constants import EmergingPattern, FixPlanStatus, Layer
from hotspots.models import AnalysisRun
from jurisdictions import selectors as jurisdiction_selectors
from jurisdictions.constants import AreaLevel
from jurisdictions.models import Building, Generation
from jurisdictions.permissions import Scope
from jurisdictions.querysets import ForcePolygonCCW

from .params import Interval, parse_flag, parse_int

# Decimals of every coordinate served (1e-7° ≈ 1 cm), as /api/v1/areas.
PRECISION = 7
PUBLIC = "public"
LOGIN = "login"


@dataclass(frozen=True)
class Query:
    """What a request asks of a collection: the caller's scope, bbox, datetime, property filters and the run."""

    scope: Scope
    bbox: Any = None
    interval: Interval | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    run: int | None = None


@dataclass(frozen=True)
class PropertyFilter:
    """A property a caller may filter on (`?street_code=110102001`); `parse` turns the text into a value."""

    name: str
    description: str
    parse: Callable[[str, str], Any] = lambda value, name: value
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Collection:
    """One OGC feature collection.

    `rows(query)` returns the QuerySet of the features in a stable order; `geometry` is the field (or expression)
    holding each one's geometry; `properties(obj)` the feature's properties and `feature_id(obj)` its id;
    `id_filter(queryset, feature_id)` narrows the rows to one feature.
    """

    id: str
    title: str
    description: str
    access: str
    geometry_type: str
    properties_schema: Mapping[str, Mapping[str, Any]]
    rows: Callable[[Query], QuerySet]
    geometry: Any
    properties: Callable[[Any], dict]
    feature_id: Callable[[Any], Any]
    id_filter: Callable[[QuerySet, str], QuerySet]
    filters: Mapping[str, PropertyFilter] = field(default_factory=dict)
    datetime_help: str = "忽略 ignored: the collection has no time"
    takes_run: bool = False
    instant_only: bool = False

    def items(self, query: Query) -> QuerySet:
        """The rows of `query` with their geometry as GeoJSON text (`ogc_geojson`), RFC 7946 winding, 7 decimals."""
        if self.instant_only and query.interval is not None and not query.interval.instant:
            raise ApiError(
                "invalid_datetime",
                f"集合 {self.id} 的 datetime 须为时刻 datetime must be an instant for {self.id}: {self.datetime_help}",
                {"collection": self.id},
            )
        return self.rows(query).annotate(ogc_geojson=AsGeoJSON(ForcePolygonCCW(self.geometry), precision=PRECISION))


def _local(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _string(description: str = "", *, nullable: bool = False, fmt: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    if nullable:
        schema["nullable"] = True
    if description:
        schema["description"] = description
    return schema


def _type(kind: str, description: str = "", *, nullable: bool = False) -> dict:
    schema: dict[str, Any] = {"type": kind}
    if nullable:
        schema["nullable"] = True
    if description:
        schema["description"] = description
    return schema


def _by_code(queryset: QuerySet, feature_id: str) -> QuerySet:
    return queryset.filter(code=feature_id)


def _by_pk(queryset: QuerySet, feature_id: str) -> QuerySet:
    return queryset.filter(pk=int(feature_id)) if feature_id.isdigit() and len(feature_id) < 19 else queryset.none()


# --- boundaries ------------------------------------------------------------------------------------------------


def _day_of(query: Query) -> dt.date | None:
    """The day whose boundaries are asked for: the instant's (Beijing) date; None for today."""
    return query.interval.start_day if query.interval is not None else None


def _areas(level: str) -> Callable[[Query], QuerySet]:
    def rows(query: Query) -> QuerySet:
        areas = jurisdiction_selectors.area_list(
            level=level, bbox=query.bbox, parent_code=query.filters.get("parent"), at=_day_of(query)
        ).select_related("generation_low", "generation_high")
        if query.filters.get("code"):
            areas = areas.filter(code=query.filters["code"])
        return areas.order_by("code", "id")

    return rows


def _area_properties(area) -> dict:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent": area.parent.code if area.parent_id else None,
        "parent_name": area.parent.name if area.parent_id else None,
        "synthetic": area.synthetic,
    }


AREA_SCHEMA = {
    "code": _string("GB/T 2260 区划代码 area code"),
    "name": _string("名称 name"),
    "level": _string("级别 level (district / street)"),
    "parent": _string("上级代码 parent code", nullable=True),
    "parent_name": _string("上级名称 parent name", nullable=True),
    "synthetic": _type("boolean", "几何为合成演示数据 geometry is synthetic demo data"),
}
AREA_DATETIME = "时刻：该日生效的边界版本 an instant: the boundary generation in force that day (default today)"

DISTRICTS = Collection(
    id="districts",
    title="区 Districts",
    description="生效边界版本中的区 districts of the boundary generation in force (`datetime` picks the day)",
    access=PUBLIC,
    geometry_type="MultiPolygon",
    properties_schema=AREA_SCHEMA,
    rows=_areas(AreaLevel.DISTRICT),
    geometry=F("geom"),
    properties=_area_properties,
    feature_id=lambda area: area.code,
    id_filter=_by_code,
    filters={"code": PropertyFilter("code", "区划代码 district code")},
    datetime_help=AREA_DATETIME,
    instant_only=True,
)

STREETS = Collection(
    id="streets",
    title="街道乡镇 Streets and townships",
    description="生效边界版本中的街道/乡镇 streets and townships of the boundary generation in force "
    "(`datetime` picks the day, and so the generation)",
    access=PUBLIC,
    geometry_type="MultiPolygon",
    properties_schema=AREA_SCHEMA,
    rows=_areas(AreaLevel.STREET),
    geometry=F("geom"),
    properties=_area_properties,
    feature_id=lambda area: area.code,
    id_filter=_by_code,
    filters={
        "code": PropertyFilter("code", "街道代码 street code"),
        "parent": PropertyFilter("parent", "所属区代码 district code"),
    },
    datetime_help=AREA_DATETIME,
    instant_only=True,
)


def _buildings(query: Query) -> QuerySet:
    buildings = Building.objects.all()
    if query.bbox is not None:
        buildings = buildings.intersecting(query.bbox)
    if query.filters.get("code"):
        buildings = buildings.filter(code=query.filters["code"])
    return buildings.order_by("code", "id")


BUILDINGS = Collection(
    id="buildings",
    title="建筑物 Buildings",
    description="建筑轮廓（管辖判定按建筑占比）building footprints the verdict decides by",
    access=PUBLIC,
    geometry_type="MultiPolygon",
    properties_schema={
        "code": _string("建筑编码 building code"),
        "name": _string("名称 name"),
        "address": _string("地址 address"),
        "synthetic": _type("boolean", "合成演示数据 synthetic demo data"),
    },
    rows=_buildings,
    geometry=F("geom"),
    properties=lambda b: {"code": b.code, "name": b.name, "address": b.address, "synthetic": b.synthetic},
    feature_id=lambda b: b.code,
    id_filter=_by_code,
    filters={"code": PropertyFilter("code", "建筑编码 building code")},
)


# --- analysis layers -------------------------------------------------------------------------------------------

RUN_DATETIME = "时刻或区间：与之重叠的最新分析批次 an instant or interval: the latest run whose period overlaps it"


def _run(layer: str, query: Query, *, by_period: bool = True) -> AnalysisRun:
    """The run a layer reads: `run=<id>`, else the latest finished one (overlapping `datetime` when it selects)."""
    interval = query.interval if by_period else None
    run = hotspot_selectors.run_get(
        layer=layer,
        run_id=query.run,
        start=interval.start_day if interval else None,
        end=interval.end_day if interval else None,
    )
    if run is None:
        raise ApiError(
            "no_run",
            "尚未计算该图层 this layer has not been computed yet (or not for that run or period)",
            {"layer": layer, "run": query.run},
            404,
        )
    return run


def _hotspots(query: Query) -> QuerySet:
    cells = hotspot_selectors.hotspot_cell_list(
        run=_run(Layer.HOTSPOTS, query),
        bbox=query.bbox,
        street=query.filters.get("street_code"),
        significant=bool(query.filters.get("significant")),
    )
    if query.filters.get("bin") is not None:
        cells = cells.filter(bin=query.filters["bin"])
    return cells.order_by("-z", "id")


HOTSPOTS = Collection(
    id="hotspots",
    title="热点 Gi* hot spots",
    description="最新一次 Gi* 热点分析的 H3 网格 H3 cells of the latest Gi* run (bin −3…3: cold … hot)",
    access=PUBLIC,
    geometry_type="Polygon",
    properties_schema={
        "h3": _string("H3 网格 cell"),
        "count": _type("integer", "诉求数 complaints"),
        "residents": _type("number", "常住人口 residents"),
        "value": _type("number", "分析值（数量或比率）count or rate"),
        "z": _type("number", "Gi* z"),
        "p": _type("number", "p"),
        "bin": _type("integer", "−3…3（FDR）"),
        "street_code": _string("街道代码 street code"),
        "run": _type("integer", "分析批次 run id"),
    },
    rows=_hotspots,
    geometry=F("geom"),
    properties=lambda c: {
        "h3": c.h3,
        "count": c.count,
        "residents": c.residents,
        "value": c.value,
        "z": c.z,
        "p": c.p,
        "bin": c.bin,
        "street_code": c.street_code,
        "run": c.run_id,
    },
    feature_id=lambda c: c.h3,
    id_filter=lambda qs, fid: qs.filter(h3=fid),
    filters={
        "street_code": PropertyFilter("street_code", "街道代码 street code"),
        "bin": PropertyFilter("bin", "−3…3", parse_int, {"type": "integer"}),
        "significant": PropertyFilter("significant", "仅显著 only hot/cold cells", parse_flag, {"type": "boolean"}),
    },
    datetime_help=RUN_DATETIME,
    takes_run=True,
)


def _parse_pattern(value: str, name: str) -> str:
    if value not in EmergingPattern.values:
        raise ApiError(
            "invalid_filter", f"{name} 无效 unknown pattern", {name: value, "allowed": EmergingPattern.values}
        )
    return value


def _emerging(query: Query) -> QuerySet:
    pattern = query.filters.get("pattern")
    return hotspot_selectors.emerging_cell_list(
        run=_run(Layer.EMERGING, query),
        bbox=query.bbox,
        street=query.filters.get("street_code"),
        patterns=[pattern] if pattern else None,
    ).order_by("pattern", "-trend_z", "id")


EMERGING = Collection(
    id="emerging",
    title="新兴热点 Emerging hot spots",
    description="最新一次新兴热点分析中有模式的网格 cells with a pattern in the latest emerging hot spot run",
    access=PUBLIC,
    geometry_type="Polygon",
    properties_schema={
        "h3": _string("H3 网格 cell"),
        "pattern": _string("模式 pattern"),
        "pattern_label": _string("模式名称 pattern name"),
        "trend_z": _type("number", "Mann-Kendall z"),
        "trend_p": _type("number", "Mann-Kendall p"),
        "hot_steps": _type("integer", "显著热的时间步 hot steps"),
        "cold_steps": _type("integer", "显著冷的时间步 cold steps"),
        "count": _type("integer", "诉求数 complaints"),
        "recent_count": _type("integer", "最近 4 个时间步 last four steps"),
        "street_code": _string("街道代码 street code"),
        "run": _type("integer", "分析批次 run id"),
    },
    rows=_emerging,
    geometry=F("geom"),
    properties=lambda c: {
        "h3": c.h3,
        "pattern": c.pattern,
        "pattern_label": c.get_pattern_display(),
        "trend_z": c.trend_z,
        "trend_p": c.trend_p,
        "hot_steps": c.hot_steps,
        "cold_steps": c.cold_steps,
        "count": c.count,
        "recent_count": c.recent_count,
        "street_code": c.street_code,
        "run": c.run_id,
    },
    feature_id=lambda c: c.h3,
    id_filter=lambda qs, fid: qs.filter(h3=fid),
    filters={
        "street_code": PropertyFilter("street_code", "街道代码 street code"),
        "pattern": PropertyFilter("pattern", "模式 pattern", _parse_pattern, {"type": "string"}),
    },
    datetime_help=RUN_DATETIME,
    takes_run=True,
)


def _repeat_places(query: Query) -> QuerySet:
    interval = query.interval
    return hotspot_selectors.repeat_place_list(
        run=_run(Layer.REPEAT_PLACES, query, by_period=False),
        bbox=query.bbox,
        category=query.filters.get("category_code"),
        street=query.filters.get("street_code"),
        start=interval.start_day if interval else None,
        end=interval.end_day if interval else None,
        chronic=query.filters.get("chronic"),
    ).order_by("-chronic", "-count", "id")


REPEAT_PLACES = Collection(
    id="repeat-places",
    title="重复点位 Repeat places",
    description="同一地点同类诉求反复出现之处（最新批次）places where complaints of one category repeat "
    "(latest run); `datetime` keeps places with reports in it",
    access=PUBLIC,
    geometry_type="Point",
    properties_schema={
        "category_code": _string("分类编码 category code"),
        "category_name": _string("分类 category"),
        "place_kind": _string("点位类型 building / parcel / h3 / dbscan"),
        "place_key": _string("点位 place key"),
        "count": _type("integer", "诉求数 complaints"),
        "first_at": _string("首次 first report", fmt="date-time"),
        "last_at": _string("最近 last report", fmt="date-time"),
        "span_days": _type("number", "跨度（天）span in days"),
        "chronic": _type("boolean", "顽疾 chronic"),
        "failed_fix": _type("boolean", "办结后再诉 reported again after a closure"),
        "failed_fix_count": _type("integer"),
        "street_code": _string("街道代码 street code"),
        "street_name": _string("街道 street"),
        "district_code": _string("区代码 district code"),
        "department_role": _string("主管部门类别 department role"),
        "run": _type("integer", "分析批次 run id"),
    },
    rows=_repeat_places,
    geometry=F("point"),
    properties=lambda p: {
        "category_code": p.category_code,
        "category_name": p.category_name,
        "place_kind": p.place_kind,
        "place_key": p.place_key,
        "count": p.count,
        "first_at": _local(p.first_at),
        "last_at": _local(p.last_at),
        "span_days": p.span_days,
        "chronic": p.chronic,
        "failed_fix": p.failed_fix,
        "failed_fix_count": p.failed_fix_count,
        "street_code": p.street_code,
        "street_name": p.street_name,
        "district_code": p.district_code,
        "department_role": p.department_role,
        "run": p.run_id,
    },
    feature_id=lambda p: p.pk,
    id_filter=_by_pk,
    filters={
        "category_code": PropertyFilter("category_code", "分类编码前缀 category code prefix"),
        "street_code": PropertyFilter("street_code", "街道代码 street code"),
        "chronic": PropertyFilter(
            "chronic", "顽疾 chronic only (true) or not (false)", parse_flag, {"type": "boolean"}
        ),
    },
    datetime_help="时刻或区间：该期间有诉求的点位 places with reports in that time",
    takes_run=True,
)


def _idle_lots(query: Query) -> QuerySet:
    lots = hotspot_selectors.idle_lot_list(
        run=_run(Layer.IDLE_LOTS, query, by_period=False), bbox=query.bbox, street=query.filters.get("street_code")
    )
    return lots.order_by("rank", "id")


IDLE_LOTS = Collection(
    id="idle-lots",
    title="闲置地块 Idle lots",
    description="按服务居民与关联诉求排序的闲置/空置地块（最新批次）idle and vacant lots ranked by residents served "
    "and linked complaints (latest run)",
    access=PUBLIC,
    geometry_type="MultiPolygon",
    properties_schema={
        "code": _string("地块编码 parcel code"),
        "name": _string("名称 name"),
        "status": _string("状态 idle / vacant"),
        "land_use": _string("规划用途 planned land use"),
        "owner_type": _string("权属 owner type"),
        "idle_since": _string("闲置起始 idle since", nullable=True, fmt="date"),
        "area_m2": _type("number", "面积（平方米）area in m²"),
        "street_code": _string("街道代码 street code"),
        "street_name": _string("街道 street"),
        "synthetic": _type("boolean", "合成演示数据 synthetic demo data"),
        "rank": _type("integer", "排名 rank"),
        "score": _type("number", "得分 score"),
        "residents_new": _type("number", "新增覆盖居民 residents newly served"),
        "complaints": _type("integer", "关联诉求 linked complaints"),
        "years_idle": _type("number", "闲置年数 years idle"),
        "run": _type("integer", "分析批次 run id"),
    },
    rows=_idle_lots,
    geometry=F("parcel__geom"),
    properties=lambda s: {
        "code": s.parcel.code,
        "name": s.parcel.name,
        "status": s.parcel.status,
        "land_use": s.parcel.land_use,
        "owner_type": s.parcel.owner_type,
        "idle_since": _day(s.parcel.idle_since),
        "area_m2": s.parcel.area_m2,
        "street_code": s.parcel.street_code,
        "street_name": s.parcel.street_name,
        "synthetic": s.parcel.synthetic,
        "rank": s.rank,
        "score": s.score,
        "residents_new": s.residents_new,
        "complaints": s.complaints,
        "years_idle": s.years_idle,
        "run": s.run_id,
    },
    feature_id=lambda s: s.parcel.code,
    id_filter=lambda qs, fid: qs.filter(parcel__code=fid),
    filters={"street_code": PropertyFilter("street_code", "街道代码 street code")},
    takes_run=True,
)


# --- scoped collections ----------------------------------------------------------------------------------------


def _parse_plan_status(value: str, name: str) -> str:
    if value not in FixPlanStatus.values:
        raise ApiError("invalid_filter", f"{name} 无效 unknown status", {name: value, "allowed": FixPlanStatus.values})
    return value


def _fix_plans(query: Query) -> QuerySet:
    plans = hotspot_selectors.fix_plan_list(
        scope=query.scope,
        bbox=query.bbox,
        street=query.filters.get("street_code"),
        status=query.filters.get("status"),
    )
    interval = query.interval
    if interval is not None and interval.start is not None:
        plans = plans.filter(created_at__gte=interval.start)
    if interval is not None and interval.end is not None:
        plans = plans.filter(created_at__lte=interval.end)
    return plans.order_by("-created_at", "-id")


FIX_PLANS = Collection(
    id="fix-plans",
    title="整治方案 Fix plans",
    description="你的辖区内可见的整治方案（需登录）fix plans your scope may read (login or token)",
    access=LOGIN,
    geometry_type="MultiPolygon",
    properties_schema={
        "id": _type("integer"),
        "parcel_code": _string("地块编码 parcel code"),
        "parcel_name": _string("地块 parcel"),
        "kind": _string("类型 kind"),
        "title": _string("标题 title"),
        "status": _string("状态 status"),
        "street_code": _string("街道代码 street code"),
        "street_name": _string("街道 street"),
        "district_code": _string("区代码 district code"),
        "residents_served": _type("number", "服务居民 residents served"),
        "joint_case_ref": _string("吹哨案件 joint case"),
        "created_at": _string(fmt="date-time"),
        "updated_at": _string(fmt="date-time"),
    },
    rows=_fix_plans,
    geometry=F("parcel__geom"),
    properties=lambda p: {
        "id": p.pk,
        "parcel_code": p.parcel.code,
        "parcel_name": p.parcel.name,
        "kind": p.kind,
        "title": p.title,
        "status": p.status,
        "street_code": p.street_code,
        "street_name": p.street_name,
        "district_code": p.district_code,
        "residents_served": p.residents_served,
        "joint_case_ref": p.joint_case_ref,
        "created_at": _local(p.created_at),
        "updated_at": _local(p.updated_at),
    },
    feature_id=lambda p: p.pk,
    id_filter=_by_pk,
    filters={
        "street_code": PropertyFilter("street_code", "街道代码 street code"),
        "status": PropertyFilter("status", "状态 status", _parse_plan_status),
    },
    datetime_help="时刻或区间：按创建时间 plans created in that time",
)


def _rules(query: Query) -> QuerySet:
    """Rules in force on the day asked (today by default); a rule's place is its own polygon or its building's
    footprint, as `GET /api/v1/rules` draws it."""
    rules = jurisdiction_selectors.rule_list(on=_day_of(query)).select_related("building")
    rules = rules.annotate(place=Coalesce("geom", "building__geom"))
    if query.bbox is not None:
        rules = rules.filter(place__intersects=query.bbox)
    if query.filters.get("lead_code"):
        rules = rules.filter(lead_code=query.filters["lead_code"])
    return rules.order_by("-valid_from", "-id")


RULES = Collection(
    id="rules",
    title="管辖规则 Jurisdiction rules",
    description="判定时先于几何适用的管辖规则（需登录）jurisdiction rules applied before geometry (login or token)",
    access=LOGIN,
    geometry_type="MultiPolygon",
    properties_schema={
        "id": _type("integer"),
        "lead_code": _string("牵头单位代码 lead area code"),
        "co_handler_codes": {"type": "array", "items": {"type": "string"}, "description": "协办 co-handlers"},
        "level": _string("级别 level"),
        "building": _string("建筑编码 building code", nullable=True),
        "valid_from": _string(fmt="date"),
        "valid_to": _string(nullable=True, fmt="date"),
        "reason": _string("理由 reason"),
        "author": _string("作者 author"),
        "ruling_ref": _string("裁定 ruling", nullable=True),
    },
    rows=_rules,
    geometry=F("place"),
    properties=lambda r: {
        "id": r.pk,
        "lead_code": r.lead_code,
        "co_handler_codes": list(r.co_handler_codes or []),
        "level": r.level,
        "building": r.building.code if r.building_id else None,
        "valid_from": _day(r.valid_from),
        "valid_to": _day(r.valid_to),
        "reason": r.reason,
        "author": r.author,
        "ruling_ref": r.ruling_ref or None,
    },
    feature_id=lambda r: r.pk,
    id_filter=_by_pk,
    filters={"lead_code": PropertyFilter("lead_code", "牵头单位代码 lead area code")},
    datetime_help="时刻：该日生效的规则 an instant: the rules in force that day (default today)",
    instant_only=True,
)


def _parse_complaint_status(value: str, name: str) -> list[str]:
    statuses = [s for s in value.split(",") if s]
    unknown = [s for s in statuses if s not in ComplaintStatus.values]
    if unknown or not statuses:
        raise ApiError(
            "invalid_filter", f"{name} 无效 unknown status", {name: value, "allowed": ComplaintStatus.values}
        )
    return statuses


def _complaints(query: Query) -> QuerySet:
    interval = query.interval
    end = interval.end + dt.timedelta(microseconds=1) if interval and interval.end else None
    return complaint_selectors.complaint_list(
        scope=query.scope,
        bbox=query.bbox,
        received_from=interval.start if interval else None,
        received_to=end,
        category=query.filters.get("category"),
        status=query.filters.get("status"),
        street=query.filters.get("street_code"),
        district=query.filters.get("district_code"),
    )


COMPLAINTS = Collection(
    id="complaints",
    title="诉求 Complaints",
    description="你的辖区内可读的诉求（需登录或令牌；不含诉求人信息与正文）complaints your scope may read "
    "(login or token; no reporter, no free text)",
    access=LOGIN,
    geometry_type="Point",
    properties_schema={
        "id": _type("integer"),
        "external_id": _string("工单号 ticket id"),
        "received_at": _string("受理时间 received", fmt="date-time"),
        "channel": _string("渠道 channel"),
        "category": _string("分类编码 category code"),
        "category_name": _string("分类 category"),
        "urgency": _string("紧急程度 urgency"),
        "status": _string("状态 status"),
        "address": _string("地址 address"),
        "district_code": _string("区代码 district code"),
        "district_name": _string("区 district"),
        "street_code": _string("街道代码 street code"),
        "street_name": _string("街道 street"),
        "lead_code": _string("牵头单位代码 lead"),
        "lead_name": _string("牵头单位 lead"),
        "deadline_at": _string("办理时限 deadline", nullable=True, fmt="date-time"),
        "needs_review": _type("boolean", "需人工复核 needs review"),
        "satisfaction": _string("满意度 satisfaction"),
    },
    rows=_complaints,
    geometry=F("location"),
    properties=lambda c: {
        "id": c.pk,
        "external_id": c.external_id,
        "received_at": _local(c.received_at),
        "channel": c.channel,
        "category": c.category.code,
        "category_name": c.category.path,
        "urgency": c.urgency,
        "status": c.status,
        "address": c.address,
        "district_code": c.district_code,
        "district_name": c.district_name,
        "street_code": c.street_code,
        "street_name": c.street_name,
        "lead_code": c.lead_code,
        "lead_name": c.lead_name,
        "deadline_at": _local(c.deadline_at),
        "needs_review": c.needs_review,
        "satisfaction": c.satisfaction,
    },
    feature_id=lambda c: c.pk,
    id_filter=_by_pk,
    filters={
        "category": PropertyFilter("category", "分类编码（任意级）category code, any level"),
        "status": PropertyFilter("status", "状态，逗号分隔 statuses, comma-separated", _parse_complaint_status),
        "street_code": PropertyFilter("street_code", "街道代码 street code"),
        "district_code": PropertyFilter("district_code", "区代码 district code"),
    },
    datetime_help="时刻或区间：按受理时间 complaints received in that time",
)


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (DISTRICTS, STREETS, BUILDINGS, HOTSPOTS, EMERGING, REPEAT_PLACES, IDLE_LOTS, FIX_PLANS, RULES, COMPLAINTS)
}


def readable(collection: Collection, *, authenticated: bool) -> bool:
    """Whether a caller may open the collection: public ones everyone, the others a session or a token (what
    they then hold is the caller's scope)."""
    return collection.access == PUBLIC or authenticated


def collections_for(*, authenticated: bool) -> list[Collection]:
    """The collections a caller may open, in the order above."""
    return [c for c in COLLECTIONS.values() if readable(c, authenticated=authenticated)]


def generation_in_force(day: dt.date | None = None) -> Generation | None:
    """The boundary generation in force on `day` (today by default), for the areas' temporal extent."""
    return Generation.objects.in_force(day)
