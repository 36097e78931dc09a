"""Names and default rules of the hotspots app: repeat places, Gi*, emerging patterns, idle land, park siting.

Every default here is shown with the result it produced (the run's `params`), so a planner reads the rule next
to the map. Deployments override them per run (command options, API of the compute service).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

# ---------------------------------------------------------------------------------------------------------------
# Repeat places (高频点位 / 重复诉求点位)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatRule:
    """When complaints at one place count as a repeat place, a chronic place, and a failed fix.

    - grouped per category at the same place: the same building, else the same idle parcel, else the same H3
      cell (`h3_resolution`, default 10 ≈ 66 m edge) — or, with `method="dbscan"`, DBSCAN with `radius_m`;
    - a repeat place has at least `min_reports` reports in the window;
    - chronic (顽疾) when it has ≥ `chronic_min_reports` reports whose first and last lie ≥ `chronic_min_span_days`
      apart;
    - a failed fix (整改反弹) when a report arrives within `failed_fix_days` after an earlier report of the place was
      closed (0 < days ≤ failed_fix_days).
    """

    window_days: int = 365
    method: str = "h3"  # h3 | dbscan
    h3_resolution: int = 10
    radius_m: float = 50.0
    min_reports: int = 2
    chronic_min_reports: int = 4
    chronic_min_span_days: int = 90
    failed_fix_days: int = 120

    def describe(self) -> str:
        place = (
            f"H3 第 {self.h3_resolution} 级网格 H3 resolution {self.h3_resolution}"
            if self.method == "h3"
            else f"DBSCAN 半径 {self.radius_m:g} 米 radius {self.radius_m:g} m"
        )
        return (
            f"同类诉求按同一建筑/地块，否则按{place}归并；窗口 {self.window_days} 天；"
            f"≥{self.min_reports} 件为重复点位，"
            f"≥{self.chronic_min_reports} 件且跨度 ≥{self.chronic_min_span_days} 天为顽疾，"
            f"办结后 {self.failed_fix_days} 天内再诉为整改反弹。"
            f" Same category at the same building/parcel, else {place}; window {self.window_days} days; "
            f"≥{self.min_reports} reports = repeat place; ≥{self.chronic_min_reports} reports spanning "
            f"≥{self.chronic_min_span_days} days = chronic; a new report ≤{self.failed_fix_days} days after a closure "
            "= failed fix."
        )


# ---------------------------------------------------------------------------------------------------------------
# Hot spots (Getis-Ord Gi*) and emerging hot spots
# ---------------------------------------------------------------------------------------------------------------

GISTAR_RESOLUTION = 9  # H3 resolution 9: ≈ 0.105 km² cells, ≈ 174 m edge
# Two-sided confidence levels and their bins (Esri's Gi_Bin convention): ±3 = 99 %, ±2 = 95 %, ±1 = 90 %.
CONFIDENCE_BINS = ((3, 0.01), (2, 0.05), (1, 0.10))
# Optimized Hot Spot Analysis needs enough incidents and cells to say anything.
MIN_INCIDENTS = 60
MIN_CELLS = 30
# Zero cells added around occupied ones (rings) so places with no complaints count as observations.
PAD_RINGS = 1

EMERGING_SIGNIFICANCE = 0.05  # a bin is a significant hot/cold spot at FDR-corrected 95 %
EMERGING_TREND_SIGNIFICANCE = 0.05  # Mann-Kendall trend significance
EMERGING_TIME_LAGS = 1  # neighbourhood time step: the bin and this many earlier steps
EMERGING_PERSISTENT_SHARE = 0.9  # "90 % of the time-step intervals"


class EmergingPattern(models.TextChoices):
    """The 17 emerging hot spot patterns (Esri's Emerging Hot Spot Analysis definitions)."""

    NONE = "none", "无显著模式 No pattern detected"
    NEW_HOT = "new_hot", "新增热点 New hot spot"
    CONSECUTIVE_HOT = "consecutive_hot", "连续热点 Consecutive hot spot"
    INTENSIFYING_HOT = "intensifying_hot", "加剧热点 Intensifying hot spot"
    PERSISTENT_HOT = "persistent_hot", "持续热点 Persistent hot spot"
    DIMINISHING_HOT = "diminishing_hot", "减弱热点 Diminishing hot spot"
    SPORADIC_HOT = "sporadic_hot", "零星热点 Sporadic hot spot"
    OSCILLATING_HOT = "oscillating_hot", "振荡热点 Oscillating hot spot"
    HISTORICAL_HOT = "historical_hot", "历史热点 Historical hot spot"
    NEW_COLD = "new_cold", "新增冷点 New cold spot"
    CONSECUTIVE_COLD = "consecutive_cold", "连续冷点 Consecutive cold spot"
    INTENSIFYING_COLD = "intensifying_cold", "加剧冷点 Intensifying cold spot"
    PERSISTENT_COLD = "persistent_cold", "持续冷点 Persistent cold spot"
    DIMINISHING_COLD = "diminishing_cold", "减弱冷点 Diminishing cold spot"
    SPORADIC_COLD = "sporadic_cold", "零星冷点 Sporadic cold spot"
    OSCILLATING_COLD = "oscillating_cold", "振荡冷点 Oscillating cold spot"
    HISTORICAL_COLD = "historical_cold", "历史冷点 Historical cold spot"


# Patterns that put a cell on a street's 未诉先办 worklist.
WORKLIST_PATTERNS = (
    EmergingPattern.NEW_HOT,
    EmergingPattern.CONSECUTIVE_HOT,
    EmergingPattern.INTENSIFYING_HOT,
)

# ---------------------------------------------------------------------------------------------------------------
# Idle land (闲置地块) and the complaints it causes
# ---------------------------------------------------------------------------------------------------------------


class ParcelStatus(models.TextChoices):
    IDLE = "idle", "闲置"
    VACANT = "vacant", "空置待建"
    IN_USE = "in_use", "在用"


class OwnerType(models.TextChoices):
    STATE = "state", "国有企业"
    GOVERNMENT = "government", "政府/事业单位"
    COLLECTIVE = "collective", "村集体"
    PRIVATE = "private", "民营开发商"
    INSTITUTION = "institution", "高校/科研院所"
    UNKNOWN = "unknown", "不详"


@dataclass(frozen=True)
class IdleLandRole:
    """A kind of complaint idle land causes, how it is recognised, how far it may be from the lot, who acts."""

    role: str
    label: str
    code_prefixes: tuple[str, ...]
    name_patterns: tuple[str, ...]
    radius_m: float
    department_roles: tuple[str, ...]


# Complaints match a role by category code prefix or by a pattern in the category's name (either suffices);
# codes follow the demo catalogue (fixtures/complaints/catalogue.json), patterns catch other catalogues.
IDLE_LAND_ROLES: tuple[IdleLandRole, ...] = (
    IdleLandRole("dust", "扬尘 dust", ("0103",), ("扬尘", "裸土", "渣土"), 300.0, ("city_management", "ecology")),
    IdleLandRole(
        "illegal_building",
        "违法建设 illegal building",
        ("020102", "020103", "020104"),
        ("违建", "违法建设", "私搭乱建"),
        100.0,
        ("planning", "urban_enforcement"),
    ),
    IdleLandRole(
        "garbage", "垃圾 garbage", ("010201",), ("垃圾堆放", "乱倒垃圾", "建筑垃圾"), 150.0, ("city_management",)
    ),
    IdleLandRole(
        "unlicensed_business",
        "无照经营 unlicensed business",
        ("050102",),
        ("无照经营", "无证经营"),
        150.0,
        ("market_supervision",),
    ),
)

# Department roles summoned by the kind of fix, whatever the complaints were.
FIX_KIND_ROLES: dict[str, tuple[str, ...]] = {
    "community_sports_park": ("greening",),
    "pocket_park": ("greening",),
    "greening_cover": ("greening",),
    "temporary_parking": ("transport",),
}


class FixKind(models.TextChoices):
    COMMUNITY_SPORTS_PARK = "community_sports_park", "改建社区体育公园 Convert to a community sports park"
    POCKET_PARK = "pocket_park", "改建口袋公园 Convert to a pocket park"
    GREENING_COVER = "greening_cover", "临时绿化覆盖 Temporary greening cover"
    TEMPORARY_PARKING = "temporary_parking", "临时停车场 Temporary parking"


class FixPlanStatus(models.TextChoices):
    DRAFT = "draft", "草拟"
    PROPOSED = "proposed", "已提出"
    APPROVED = "approved", "已批准"
    IN_PROGRESS = "in_progress", "实施中"
    DONE = "done", "已完成"
    REJECTED = "rejected", "未采纳"


# ---------------------------------------------------------------------------------------------------------------
# Park siting (公园选址)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SitingRule:
    """How idle lots are ranked for conversion into parks.

    Residents count as served by a park when their straight-line distance to its edge × `detour_factor` is at
    most `walk_m` (no road network is loaded; 1.3 is a common ratio of street to straight-line distance in a
    grid city). Lots are picked greedily: each step takes the lot with the best score, where the residents part
    is the *marginal* gain (residents not yet served by parks or by lots picked earlier), so two neighbouring
    lots never count the same residents. Components are divided by the largest value among candidates
    (residents: the largest gain before any pick) and combined with the weights.
    """

    walk_m: float = 500.0
    detour_factor: float = 1.3
    complaint_years: int = 5
    weights: dict[str, float] = field(
        default_factory=lambda: {"residents": 0.4, "complaints": 0.3, "size": 0.15, "years_idle": 0.15}
    )
    min_area_m2: float = 1000.0

    @property
    def radius_m(self) -> float:
        """The straight-line radius that corresponds to the walk."""
        return self.walk_m / self.detour_factor

    def describe(self) -> str:
        w = self.weights
        return (
            f"步行 {self.walk_m:g} 米（直线距离 × 绕行系数 {self.detour_factor:g}）；按边际新增覆盖居民贪心排序；"
            f"得分 = {w['residents']:g}×居民 + {w['complaints']:g}×诉求 + {w['size']:g}×面积 "
            f"+ {w['years_idle']:g}×闲置年限"
            f"（各项除以候选最大值）。 Walk {self.walk_m:g} m (straight line × detour {self.detour_factor:g}); greedy "
            f"by marginal residents newly served; score = {w['residents']:g}·residents + {w['complaints']:g}·complaints"
            f" + {w['size']:g}·size + {w['years_idle']:g}·years idle, each divided by the largest among candidates."
        )


class Layer(models.TextChoices):
    """What an analysis run computed."""

    REPEAT_PLACES = "repeat_places", "重复点位 Repeat places"
    HOTSPOTS = "hotspots", "热点 Gi* hot spots"
    EMERGING = "emerging", "新兴热点 Emerging hot spots"
    IDLE_LOTS = "idle_lots", "闲置地块排序 Idle lot ranking"


class Source(models.TextChoices):
    """Where a run's complaints came from."""

    COMPLAINTS = "complaints", "诉求库 complaints app"
    SYNTHETIC = "synthetic", "合成演示数据 synthetic demo"
