"""The planner map frame: which layers it shows, how they look, their legends and filters, and the basemap.

A `MapLayer` is the map's view of a registered tile layer (`maps.tile_layers`): fixed filters (e.g. level), a
Leaflet path style, legend rows and the user filters it follows. The browser code (static/maps/planner.js)
builds the layer control, legends, filter panel, permalink and language switch from `frame_config()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.urls import reverse

from assessment.constants import published as assessment_published
from complaints.constants import Status as ComplaintStatus
from geo import coords
from hotspots.constants import EmergingPattern, FixPlanStatus

from . import tiles


@dataclass(frozen=True)
class LegendRow:
    """One legend entry: a swatch drawn with a Leaflet path style, and its text in both languages."""

    label_zh: str
    label_en: str
    style: dict


@dataclass(frozen=True)
class PopupRow:
    """One row of a feature's popup: a feature property and its label in both languages.

    `labels` turns coded values into words ({"3": ["99% 热点", "hot spot, 99 %"]}); `digits` rounds numbers.
    """

    prop: str
    label_zh: str
    label_en: str
    labels: dict = field(default_factory=dict)
    digits: int | None = None
    percent: bool = False  # a share 0–1 shown as a percentage


@dataclass(frozen=True)
class MapLayer:
    """A layer of the planner map: vector tiles of `tile_layer` (see maps.tile_layers), or, for small data,
    GeoJSON fetched from an API URL (`geojson`).

    `style_by` names the feature property whose value picks a style from `styles` (the legend lists the same);
    `popup` lists the properties a click on a feature shows, `links` the URLs it offers ("{id}" etc. are filled
    from the feature's properties). A layer that `needs_login` is fetched only for a logged-in user.
    """

    id: str
    title_zh: str
    title_en: str
    tile_layer: str | None
    style: dict
    legend: tuple[LegendRow, ...]
    geojson: str | None = None
    style_by: str | None = None
    styles: dict = field(default_factory=dict)
    style_breaks: tuple[tuple[float, str], ...] = ()  # numeric property: the first (upper bound, style key) met
    popup_title: str | None = None
    popup: tuple[PopupRow, ...] = ()
    links: tuple[tuple[str, str, str], ...] = ()  # (URL template, label zh, label en)
    keep: dict = field(default_factory=dict)  # GeoJSON layers: keep features whose property is one of these
    needs_login: bool = False
    fixed: dict = field(default_factory=dict)
    follows: tuple[str, ...] = ()  # user filters passed on to its tiles
    show: bool = True
    z_index: int = 1
    labels: str | None = None  # area level whose names are drawn as labels
    labels_min_zoom: int = 0
    api: str | None = None  # a GeoJSON URL with the same features (for download)
    note_zh: str = ""
    note_en: str = ""
    # The note for a logged-in user, where the note above speaks to anonymous users ("shown after login …").
    note_user_zh: str = ""
    note_user_en: str = ""
    run_layer: str | None = None  # an analysis layer: its run's period is stated with the legend (/map/runs)


DISTRICT_STYLE = {"color": "#b3261e", "weight": 2.5, "fill": True, "fillColor": "#f4e9e1", "fillOpacity": 0.25}
STREET_STYLE = {"color": "#1d5fa8", "weight": 1, "fill": False, "dashArray": "4 3"}


def map_layers() -> list[MapLayer]:
    """The layers of the planner map, bottom to top: analysis layers under the boundaries, points above."""
    areas_api = reverse("area-list")
    return [
        assessment_layer(),
        *analysis_layers(),
        MapLayer(
            id="streets",
            title_zh="街道乡镇界（合成）",
            title_en="Streets & townships (synthetic)",
            tile_layer="areas",
            fixed={"level": "street"},
            follows=("at", "area"),
            style=STREET_STYLE,
            legend=(LegendRow("街道/乡镇边界，示意数据", "street/township boundary, synthetic", STREET_STYLE),),
            z_index=2,
            labels="street",
            labels_min_zoom=12,
            api=f"{areas_api}?level=street",
            note_zh="名称与编码真实，边界为合成示意",
            note_en="real names and codes, synthetic geometry",
        ),
        MapLayer(
            id="districts",
            title_zh="区界",
            title_en="Districts",
            tile_layer="areas",
            fixed={"level": "district"},
            follows=("at", "area"),
            style=DISTRICT_STYLE,
            legend=(LegendRow("区界（高德来源，已纠偏）", "district boundary (Amap, de-shifted)", DISTRICT_STYLE),),
            z_index=3,
            labels="district",
            labels_min_zoom=0,
            api=f"{areas_api}?level=district",
        ),
        *point_layers(),
        complaint_layer(),
    ]


# Gi* bins −3…+3: a diverging red–blue scheme (ColorBrewer RdBu), "not significant" nearly clear.
HOTSPOT_BINS = (
    ("3", "热点 99% 置信", "hot spot, 99 % confidence", "#b2182b"),
    ("2", "热点 95% 置信", "hot spot, 95 % confidence", "#ef8a62"),
    ("1", "热点 90% 置信", "hot spot, 90 % confidence", "#fddbc7"),
    ("0", "不显著", "not significant", "#bdbdbd"),
    ("-1", "冷点 90% 置信", "cold spot, 90 % confidence", "#d1e5f0"),
    ("-2", "冷点 95% 置信", "cold spot, 95 % confidence", "#67a9cf"),
    ("-3", "冷点 99% 置信", "cold spot, 99 % confidence", "#2166ac"),
)

# The 16 detected emerging patterns (and "none"): hot ones in reds/oranges/purples, cold ones in blues/greens.
EMERGING_COLOURS = {
    "new_hot": "#67000d",
    "consecutive_hot": "#cb181d",
    "intensifying_hot": "#ef3b2c",
    "persistent_hot": "#fb6a4a",
    "diminishing_hot": "#fcae91",
    "sporadic_hot": "#fd8d3c",
    "oscillating_hot": "#d94801",
    "historical_hot": "#8c6bb1",
    "new_cold": "#08306b",
    "consecutive_cold": "#08519c",
    "intensifying_cold": "#2171b5",
    "persistent_cold": "#4292c6",
    "diminishing_cold": "#9ecae1",
    "sporadic_cold": "#41ab5d",
    "oscillating_cold": "#238b45",
    "historical_cold": "#7fcdbb",
    "none": "#d9d9d9",
}

FIX_PLAN_STATUS_COLOURS = {
    "draft": "#9e9e9e",
    "proposed": "#ff9800",
    "approved": "#4caf50",
    "in_progress": "#2196f3",
    "done": "#1b5e20",
    "rejected": "#795548",
}


def _cell_style(colour: str, opacity: float = 0.6) -> dict:
    return {"stroke": False, "weight": 0, "fill": True, "fillColor": colour, "fillOpacity": opacity}


def _split(label: str) -> tuple[str, str]:
    """A choices label "中文 English" as (zh, en)."""
    zh, _, en = label.partition(" ")
    return zh, en or zh


def analysis_layers() -> list[MapLayer]:
    """Hot-spot cells, emerging patterns, idle lots and fix plans (hotspots app), under the boundaries."""
    hotspot_styles = {key: _cell_style(colour, 0.15 if key == "0" else 0.6) for key, _, _, colour in HOTSPOT_BINS}
    pattern_labels = {value: _split(str(label)) for value, label in EmergingPattern.choices}
    emerging_styles = {key: _cell_style(colour, 0.65) for key, colour in EMERGING_COLOURS.items()}
    fix_styles = {
        key: {"color": colour, "weight": 3, "fill": True, "fillColor": colour, "fillOpacity": 0.35}
        for key, colour in FIX_PLAN_STATUS_COLOURS.items()
    }
    status_labels = {value: (str(label), value.replace("_", " ")) for value, label in FixPlanStatus.choices}
    idle_style = {"color": "#2e7d32", "weight": 1.5, "fill": True, "fillColor": "#a5d6a7", "fillOpacity": 0.5}
    idle_top_style = {"color": "#1b5e20", "weight": 2.5, "fill": True, "fillColor": "#43a047", "fillOpacity": 0.7}
    return [
        MapLayer(
            id="hotspots",
            title_zh="Gi* 热点",
            title_en="Gi* hot spots",
            tile_layer="hotspots",
            style=_cell_style("#ef8a62"),
            style_by="bin",
            styles=hotspot_styles,
            legend=tuple(LegendRow(zh, en, hotspot_styles[key]) for key, zh, en, _ in HOTSPOT_BINS),
            show=False,
            z_index=1,
            api=reverse("hotspot-list"),
            note_zh="H3 网格，Getis-Ord Gi*，FDR 校正；13 级以下只画显著网格",
            note_en="H3 cells, Getis-Ord Gi*, FDR-corrected; below zoom 13 only significant cells",
            popup_title="street_code",
            run_layer="hotspots",
            popup=(
                PopupRow("bin", "类别", "bin", labels={k: [zh, en] for k, zh, en, _ in HOTSPOT_BINS}),
                PopupRow("h3", "H3 网格编号", "H3 cell"),
                PopupRow("z", "z 值", "z", digits=2),
                PopupRow("p", "p 值", "p", digits=4),
                PopupRow("count", "诉求数", "complaints"),
                PopupRow("run_id", "分析批次", "run"),
            ),
            links=((reverse("hotspot-list") + "?run={run_id}&street={street_code}", "接口对象", "API object"),),
        ),
        MapLayer(
            id="emerging",
            title_zh="新兴热点",
            title_en="Emerging hot spots",
            tile_layer="emerging",
            style=_cell_style("#cb181d"),
            style_by="pattern",
            styles=emerging_styles,
            legend=tuple(
                LegendRow(*pattern_labels[key], emerging_styles[key]) for key in EMERGING_COLOURS if key != "none"
            ),
            follows=("pattern",),
            show=False,
            z_index=1,
            api=reverse("emerging-list"),
            note_zh="时空立方体 + Mann-Kendall 趋势，共 17 类（无模式者不画）",
            note_en="space-time cube + Mann-Kendall trend, 17 categories (cells with no pattern not drawn)",
            popup_title="street_code",
            run_layer="emerging",
            popup=(
                PopupRow("pattern", "模式", "pattern", labels={k: list(v) for k, v in pattern_labels.items()}),
                PopupRow("h3", "H3 网格编号", "H3 cell"),
                PopupRow("trend_z", "趋势 z", "trend z", digits=2),
                PopupRow("trend_p", "趋势 p", "trend p", digits=4),
                PopupRow("hot_steps", "热点时间步", "hot steps"),
                PopupRow("cold_steps", "冷点时间步", "cold steps"),
                PopupRow("count", "诉求数", "complaints"),
                PopupRow("recent_count", "近 4 步诉求", "last 4 steps"),
                PopupRow("run_id", "分析批次", "run"),
            ),
            links=((reverse("emerging-list") + "?run={run_id}&street={street_code}", "接口对象", "API object"),),
        ),
        MapLayer(
            id="idle-lots",
            title_zh="闲置地块排序",
            title_en="Idle lots (ranked)",
            tile_layer=None,
            geojson=reverse("idle-lot-list") + "?page_size=10000",
            style=idle_style,
            style_by="rank",
            style_breaks=((10, "top"),),
            styles={"top": idle_top_style},
            legend=(
                LegendRow("前 10 名", "top 10", idle_top_style),
                LegendRow("其他候选地块", "other candidates", idle_style),
            ),
            show=False,
            z_index=4,
            api=reverse("idle-lot-list"),
            run_layer="idle_lots",
            note_zh="得分 = 新增覆盖居民 + 诉求 + 面积 + 闲置年限（加权）",
            note_en="score = residents newly served + complaints + size + years idle (weighted)",
            popup_title="name",
            popup=(
                PopupRow("rank", "排名", "rank"),
                PopupRow("score", "得分", "score", digits=3),
                PopupRow("residents_new", "新增覆盖居民", "residents newly served", digits=0),
                PopupRow("complaints", "关联诉求", "linked complaints"),
                PopupRow("years_idle", "闲置年数", "years idle", digits=1),
                PopupRow("area_m2", "面积 m²", "area m²", digits=0),
                PopupRow("land_use", "规划用途", "land use"),
                PopupRow("street_name", "街道", "street"),
                PopupRow("code", "地块编码", "parcel code"),
            ),
            links=((reverse("idle-lot-list") + "?street={street_code}", "接口对象", "API object"),),
        ),
        MapLayer(
            id="fix-plans",
            title_zh="整治方案",
            title_en="Fix plans",
            tile_layer=None,
            geojson=reverse("fix-plan-list") + "?page_size=10000",
            style=fix_styles["proposed"],
            style_by="status",
            styles=fix_styles,
            legend=tuple(LegendRow(*status_labels[key], fix_styles[key]) for key in FIX_PLAN_STATUS_COLOURS),
            show=False,
            z_index=5,
            api=reverse("fix-plan-list"),
            needs_login=True,
            note_zh="登录后显示你辖区内的整治方案",
            note_en="shown after login, fix plans in your scope",
            note_user_zh="你辖区内的整治方案",
            note_user_en="fix plans in your scope",
            popup_title="title",
            popup=(
                PopupRow("status", "状态", "status", labels={k: list(v) for k, v in status_labels.items()}),
                PopupRow("street_name", "街道", "street"),
                PopupRow("residents_served", "服务居民", "residents served", digits=0),
                PopupRow("parcel_name", "地块", "lot"),
                PopupRow("parcel_code", "地块编码", "parcel code"),
            ),
            links=(
                (reverse("fix-plan-detail", kwargs={"pk": 0}).replace("/0", "/{id}"), "接口对象", "API object"),
                (reverse("fix-plan-page", kwargs={"pk": 0}).replace("/0/", "/{id}/"), "打印页", "printable page"),
            ),
        ),
    ]


# 三率 composite score bands (0–100), weakest first.
SCORE_BANDS = (
    (60, "low", "60 分及以下", "60 or less", "#d7301f"),
    (75, "fair", "60–75 分", "60–75", "#fc8d59"),
    (85, "mid", "75–85 分", "75–85", "#fee08b"),
    (95, "good", "85–95 分", "85–95", "#91cf60"),
    (100, "best", "95 分以上", "over 95", "#1a9850"),
)


def assessment_layer() -> MapLayer:
    """三率考核: streets coloured by the month's composite score (assessment app), month from the filter panel."""
    styles = {
        key: {"color": "#555", "weight": 0.8, "fill": True, "fillColor": colour, "fillOpacity": 0.6}
        for _, key, _, _, colour in SCORE_BANDS
    }
    unranked = {"color": "#888", "weight": 0.5, "fill": True, "fillColor": "#e0e0e0", "fillOpacity": 0.4}
    return MapLayer(
        id="assessment",
        title_zh="三率考核得分（街乡）",
        title_en="Assessment score (streets)",
        tile_layer=None,
        geojson=reverse("assessment") + "?level=street&format=geojson",
        style=unranked,
        style_by="score",
        style_breaks=tuple((upper, key) for upper, key, _, _, _ in SCORE_BANDS),
        styles=styles,
        legend=(
            *(LegendRow(zh, en, styles[key]) for _, key, zh, en, _ in SCORE_BANDS),
            LegendRow("无得分（诉求过少）", "no score (too few complaints)", unranked),
        ),
        follows=("month",),
        show=False,
        z_index=0,
        api=reverse("assessment") + "?level=street&format=csv",
        needs_login=not assessment_published(),
        note_zh="综合得分 = 响应率×10% + 解决率×45% + 满意率×45%（权重见设置），按受理月份；详见考核页",
        note_en="score = response 10 % + resolution 45 % + satisfaction 45 % (weights configurable), by month received",
        popup_title="name",
        popup=(
            PopupRow("rank", "名次", "rank"),
            PopupRow("peers", "参评街乡", "ranked units"),
            PopupRow("score", "综合得分", "score", digits=2),
            PopupRow("response_rate", "响应率", "response rate", percent=True),
            PopupRow("resolution_rate", "解决率", "resolution rate", percent=True),
            PopupRow("satisfaction_rate", "满意率", "satisfaction rate", percent=True),
            PopupRow("complaints", "诉求数", "complaints"),
            PopupRow("overdue", "超期", "overdue"),
            PopupRow("focus", "治理类重点", "focus unit", labels={"true": ["是", "yes"], "false": ["否", "no"]}),
            PopupRow("score_change", "较上月", "vs last month", digits=2),
        ),
        links=(
            ("/assessment/?month={month}&level=street&unit={code}#trend", "考核页", "assessment page"),
            ("/desk/?street={code}&status=all", "工单", "desk"),
        ),
    )


# Complaint counts per hexagon (below zoom 16) by band; a single complaint (a point from zoom 16) as a dot.
COMPLAINT_BANDS = (
    (1, "one", "1 件 / 单件诉求", "1 complaint / a complaint", "#fee391"),
    (10, "few", "2–10 件", "2–10", "#fec44f"),
    (100, "some", "11–100 件", "11–100", "#fe9929"),
    (1000, "many", "101–1,000 件", "101–1,000", "#d95f0e"),
    (float("inf"), "most", "1,000 件以上", "over 1,000", "#993404"),
)


def complaint_layer() -> MapLayer:
    """Complaints: hexagon counts below zoom 16, points from it; follows dates, category, status, district/street."""
    styles = {
        key: {
            "radius": 4,
            "color": "#7f2704",
            "weight": 0.5,
            "fill": True,
            "fillColor": colour,
            "fillOpacity": 0.75,
        }
        for _, key, _, _, colour in COMPLAINT_BANDS
    }
    status_labels = {value: [str(label), value.replace("_", " ")] for value, label in ComplaintStatus.choices}
    return MapLayer(
        id="complaints",
        title_zh="诉求",
        title_en="Complaints",
        tile_layer="complaints",
        style=styles["one"],
        style_by="complaints",
        style_breaks=tuple((upper, key) for upper, key, _, _, _ in COMPLAINT_BANDS),
        styles=styles,
        legend=tuple(LegendRow(zh, en, styles[key]) for _, key, zh, en, _ in COMPLAINT_BANDS),
        follows=("from", "to", "category", "status", "area"),
        show=False,
        z_index=9,
        api=reverse("complaint-list"),
        note_zh="16 级以下为六边形计数，16 级起为单件诉求；10 级以下不画",
        note_en="hexagon counts below zoom 16, single complaints from zoom 16; not drawn below zoom 10",
        popup_title="category_code",
        popup=(
            PopupRow("category_code", "类别编码", "category code"),
            PopupRow("complaints", "诉求数", "complaints"),
            PopupRow("status", "状态", "status", labels=status_labels),
            PopupRow("received", "受理时间", "received"),
        ),
    )


TOPOLOGY_KINDS = {
    "gap": ["缝隙", "gap"],
    "overlap": ["重叠", "overlap"],
    "sliver": ["碎片", "sliver"],
    "outside_parent": ["超出上级区划", "outside its parent"],
}


def point_layers() -> list[MapLayer]:
    """Topology findings, repeat places, open disputes and joint cases, above the boundaries."""
    topology_style = {"color": "#d500f9", "weight": 3, "fill": True, "fillColor": "#d500f9", "fillOpacity": 0.5}
    chronic = {"radius": 6, "color": "#7f0000", "weight": 1.5, "fill": True, "fillColor": "#e53935", "fillOpacity": 0.8}
    repeat = {"radius": 4, "color": "#8d6e63", "weight": 1, "fill": True, "fillColor": "#ffb74d", "fillOpacity": 0.7}
    disputed = {"radius": 8, "color": "#000", "weight": 2, "fill": True, "fillColor": "#ffeb3b", "fillOpacity": 0.9}
    review = {"radius": 8, "color": "#000", "weight": 2, "fill": True, "fillColor": "#ff5722", "fillOpacity": 0.9}
    dispute_status = {"open": ["待处理", "open"], "under_review": ["审理中", "under review"]}
    joint = {"radius": 7, "color": "#1a237e", "weight": 2, "fill": True, "fillColor": "#7986cb", "fillOpacity": 0.9}
    joint_ready = {
        "radius": 7,
        "color": "#1a237e",
        "weight": 2,
        "fill": True,
        "fillColor": "#43a047",
        "fillOpacity": 0.9,
    }
    return [
        MapLayer(
            id="topology",
            title_zh="拓扑问题",
            title_en="Topology findings",
            tile_layer=None,
            geojson=reverse("topology"),
            style=topology_style,
            legend=(LegendRow("缝隙、重叠、碎片、越界", "gaps, overlaps, slivers, outside parent", topology_style),),
            show=False,
            z_index=6,
            api=reverse("topology"),
            note_zh="现行边界版本的检查结果",
            note_en="checks of the boundary version in force",
            popup_title=None,
            popup=(
                PopupRow("kind", "类型", "kind", labels=TOPOLOGY_KINDS),
                PopupRow("message", "说明", "finding"),
                PopupRow("codes", "涉及区划", "areas"),
                PopupRow("area_m2", "面积 m²", "area m²", digits=1),
            ),
        ),
        MapLayer(
            id="repeat-places",
            title_zh="重复点位",
            title_en="Repeat places",
            tile_layer="repeat-places",
            style=repeat,
            style_by="chronic",
            styles={"true": chronic, "false": repeat},
            legend=(
                LegendRow("顽疾（多次、跨期长）", "chronic (many reports over a long span)", chronic),
                LegendRow("重复诉求点位", "repeat place", repeat),
            ),
            follows=("chronic",),
            show=False,
            z_index=7,
            api=reverse("repeat-place-list"),
            run_layer="repeat_places",
            popup_title="category_name",
            popup=(
                PopupRow("count", "诉求数", "complaints"),
                PopupRow("span_days", "跨度（天）", "span (days)", digits=0),
                PopupRow("chronic", "顽疾", "chronic", labels={"true": ["是", "yes"], "false": ["否", "no"]}),
                PopupRow("failed_fix_count", "办结后再诉", "after a closure"),
                PopupRow("street_name", "街道", "street"),
                PopupRow("run_id", "分析批次", "run"),
            ),
            links=((reverse("repeat-place-list") + "?run={run_id}&street={street_code}", "接口对象", "API object"),),
        ),
        MapLayer(
            id="disputes",
            title_zh="未决管辖争议",
            title_en="Open disputes",
            tile_layer=None,
            geojson=reverse("dispute-list"),
            style=disputed,
            style_by="status",
            styles={"open": disputed, "under_review": review},
            keep={"status": ["open", "under_review"]},
            legend=(LegendRow("待处理", "open", disputed), LegendRow("审理中", "under review", review)),
            show=False,
            z_index=8,
            api=reverse("dispute-list"),
            needs_login=True,
            note_zh="登录后显示你辖区内的争议",
            note_en="shown after login, disputes in your scope",
            note_user_zh="你辖区内的争议",
            note_user_en="disputes in your scope",
            popup_title="title",
            popup=(
                PopupRow("status", "状态", "status", labels=dispute_status),
                PopupRow("contested_codes", "争议区划", "contested areas"),
                PopupRow("opened_at", "发起时间", "opened"),
            ),
            links=(
                ("/disputes/{id}/", "争议页", "dispute page"),
                (reverse("dispute-detail", kwargs={"pk": 0}).replace("/0", "/{id}"), "接口对象", "API object"),
            ),
        ),
        MapLayer(
            id="joint-cases",
            title_zh="联合办案",
            title_en="Joint cases",
            tile_layer=None,
            geojson=reverse("map-joint-cases"),
            style=joint,
            style_by="complete",
            styles={"true": joint_ready, "false": joint},
            legend=(
                LegendRow("尚有单位未报到", "parties still to check in", joint),
                LegendRow("各方均已报到", "every party checked in", joint_ready),
            ),
            show=False,
            z_index=9,
            api=reverse("map-joint-cases"),
            needs_login=True,
            note_zh="登录后显示你参与的进行中案件；画在关联诉求处，无关联诉求则在牵头街道",
            note_en="after login, open cases you take part in; drawn at linked complaints, else in the lead areas",
            note_user_zh="你参与的进行中案件；画在关联诉求处，无关联诉求则在牵头街道",
            note_user_en="open cases you take part in; drawn at linked complaints, else in the lead areas",
            popup_title="title",
            popup=(
                PopupRow("leads", "牵头单位", "leads"),
                PopupRow("checked_in", "已报到", "checked in"),
                PopupRow("parties", "应报到", "summoned"),
                PopupRow("complaints", "关联诉求", "linked complaints"),
                PopupRow("created", "吹哨时间", "whistle blown"),
            ),
            links=(
                ("/joint-cases/", "联合办案看板", "joint case board"),
                (reverse("joint-case-detail", kwargs={"pk": 0}).replace("/0", "/{id}"), "接口对象", "API object"),
            ),
        ),
    ]


def map_system() -> str:
    """The system overlays are drawn in: GCJ-02 only under a configured GCJ-02 basemap (Amap, Tencent)."""
    shaozi = settings.SHAOZI
    basemap_system = str(shaozi.get("BASEMAP_CRS") or coords.WGS84).lower()
    if shaozi.get("BASEMAP_URL") and basemap_system in ("gcj02", "gcj-02"):
        return coords.GCJ02
    return coords.WGS84


# Filters of GeoJSON layers (tile layers declare theirs in maps.tile_layers).
GEOJSON_FILTERS = {
    "month": {
        "kind": "month",
        "label": {"zh": "考核月份", "en": "assessment month"},
        "choices": [],
        "choiceLabels": {},
    },
}


def _filter_specs(layers: list[MapLayer]) -> list[dict]:
    """User filters the visible layers follow, with labels and kinds, each once, in first-use order."""
    specs: dict[str, dict] = {}
    for layer in layers:
        if layer.tile_layer is None:
            for name in layer.follows:
                specs.setdefault(name, dict(GEOJSON_FILTERS[name], name=name))
            continue
        tile_layer = tiles.layer_get(layer.tile_layer)
        for name in layer.follows:
            spec = tile_layer.filters[name]
            specs.setdefault(
                name,
                {
                    "name": name,
                    "kind": spec.kind,
                    "label": {"zh": spec.label_zh, "en": spec.label_en},
                    "choices": list(spec.choices),
                    "choiceLabels": {k: {"zh": zh, "en": en} for k, (zh, en) in spec.choice_labels.items()},
                },
            )
    return list(specs.values())


def frame_config(
    *,
    centre: tuple[float, float],
    zoom: int,
    authenticated: bool = False,
    plan_areas: list[str] | None = None,
) -> dict:
    """Everything planner.js needs: layers, filters, basemap, system and URLs (no database access).

    `authenticated`: whether layers that need a login (disputes) may be fetched for this user, and which wording
    their legend notes use. `plan_areas`: the area codes (prefixes; "" for the whole city) whose idle lots this user
    may make a fix plan for — the popup of such a lot offers 制定整治方案; None or [] offers it nowhere (the desk's
    service decides again when the form is sent)."""
    layers = map_layers()
    shaozi = settings.SHAOZI
    system = map_system()
    basemap = None
    if shaozi.get("BASEMAP_URL"):
        basemap = {
            "url": shaozi["BASEMAP_URL"],
            "attribution": shaozi.get("BASEMAP_ATTRIBUTION") or "",
            "system": system,
        }
    config_layers = []
    for layer in layers:
        data = asdict(layer)
        data["title"] = {"zh": layer.title_zh, "en": layer.title_en}
        data["note"] = (
            {"zh": layer.note_user_zh, "en": layer.note_user_en}
            if authenticated and layer.note_user_zh
            else {"zh": layer.note_zh, "en": layer.note_en}
        )
        data["runs"] = []  # the run picker's choices, filled in the browser from /map/runs
        data["legend"] = [{"label": {"zh": r.label_zh, "en": r.label_en}, "style": r.style} for r in layer.legend]
        data["popup"] = [
            {
                "prop": r.prop,
                "label": {"zh": r.label_zh, "en": r.label_en},
                "labels": r.labels,
                "digits": r.digits,
                "percent": r.percent,
            }
            for r in layer.popup
        ]
        data["links"] = [{"url": url, "label": {"zh": zh, "en": en}} for url, zh, en in layer.links]
        data["available"] = authenticated or not layer.needs_login
        if layer.tile_layer is None:
            data["source"] = "geojson"
            data["geometry"] = "point" if layer.style.get("radius") else "polygon"
            config_layers.append(data)
            continue
        tile_layer = tiles.layer_get(layer.tile_layer)
        data["source"] = "tiles"
        data["tiles"] = reverse("tile", kwargs={"layer": tile_layer.name, "z": "0", "x": "0", "y": "0"}).replace(
            "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
        )
        data["minZoom"] = tile_layer.min_zoom
        data["maxZoom"] = tile_layer.max_zoom
        data["geometry"] = tile_layer.geometry_type
        config_layers.append(data)
    return {
        "centre": list(centre),
        "zoom": zoom,
        "system": system,
        "basemap": basemap,
        "layers": config_layers,
        "filters": _filter_specs(layers),
        "urls": {
            "jurisdiction": reverse("jurisdiction"),
            "labels": reverse("map-labels"),
            "area": reverse("area-detail", kwargs={"code": "CODE"}),
            "login": settings.LOGIN_URL,
            "geocode": reverse("geocode"),
            "runs": reverse("map-runs"),
            "fixPlanNew": reverse("desk-fix-plan-new"),
            "assessment": reverse("assessment"),
            "categories": reverse("complaint-categories"),
            "charts": {
                "weekly": reverse("map-chart-weekly"),
                "categories": reverse("map-chart-categories"),
                "cell": reverse("map-chart-cell"),
            },
        },
        "authenticated": authenticated,
        "planAreas": list(plan_areas or []),
    }
