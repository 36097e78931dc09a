"""Synthetic demo data for the hotspots layers (合成演示数据): parks, parcels, a population grid, complaints.

Everything here is SYNTHETIC and deterministic (fixed seeds). Large real parks sit roughly where they are, with
rectangles of about their real size; the idle lot of the seed case (逸成, 学院路街道, idle since about 2009) sits
near its real place; everything else — pocket parks, the other parcels, residents, complaints — is invented,
shaped by the seed's cases. `fixtures/build_hotspots.py` writes parks, parcels and the population grid to
`fixtures/hotspots/`; complaints are generated when needed (demo load, benchmarks) from the same seed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import h3
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
import shapely.geometry

from .analysis.cells import to_metric, to_wgs84

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = ROOT / "fixtures" / "beijing" / "districts.geojson"
FIXTURES = ROOT / "fixtures" / "hotspots"

POPULATION_RESOLUTION = 9
TOTAL_RESIDENTS = 21_800_000
DEMO_START = dt.date(2024, 1, 1)  # a Monday: weeks of the demo cube start here
DEMO_WEEKS = 52
HISTORY_START = dt.date(2020, 1, 1)  # idle-land complaints go back this far (counts per lot per year)

# Large real parks: (code, name, lon, lat, width m, height m). Centres and sizes are approximate.
REAL_PARKS = [
    ("P-YHY", "颐和园", 116.2730, 39.9990, 1700, 1700),
    ("P-YMY", "圆明园遗址公园", 116.3040, 40.0080, 2000, 1750),
    ("P-AOS", "奥林匹克森林公园", 116.3900, 40.0220, 2200, 3000),
    ("P-CYG", "朝阳公园", 116.4780, 39.9440, 1400, 2000),
    ("P-TTN", "天坛公园", 116.4100, 39.8820, 1650, 1650),
    ("P-BHI", "北海公园", 116.3880, 39.9260, 700, 1000),
    ("P-JSH", "景山公园", 116.3970, 39.9250, 480, 480),
    ("P-TRT", "陶然亭公园", 116.3820, 39.8750, 800, 750),
    ("P-YYT", "玉渊潭公园", 116.3180, 39.9160, 1500, 900),
    ("P-ZZY", "紫竹院公园", 116.3180, 39.9430, 750, 650),
    ("P-ZSG", "中山公园", 116.3920, 39.9110, 500, 480),
    ("P-LTG", "龙潭公园", 116.4280, 39.8770, 700, 700),
    ("P-DTG", "地坛公园", 116.4170, 39.9530, 650, 650),
    ("P-RTG", "日坛公园", 116.4430, 39.9150, 450, 450),
    ("P-YDD", "元大都城垣遗址公园（东段）", 116.4000, 39.9760, 3600, 160),
    ("P-ZWY", "北京植物园", 116.2050, 40.0000, 2000, 2000),
    ("P-XSG", "香山公园", 116.1880, 39.9950, 1300, 1250),
    ("P-HDG", "海淀公园", 116.2950, 39.9900, 700, 600),
    ("P-HLJ", "红领巾公园", 116.4980, 39.9220, 650, 600),
    ("P-TJH", "团结湖公园", 116.4650, 39.9300, 350, 350),
    ("P-LHC", "莲花池公园", 116.3060, 39.8930, 700, 630),
    ("P-DGY", "大观园", 116.3500, 39.8700, 370, 350),
    ("P-SJG", "世界公园", 116.2180, 39.8120, 700, 660),
    ("P-DWY", "北京动物园", 116.3340, 39.9410, 1000, 860),
    ("P-WYH", "温榆河公园（一期）", 116.5000, 40.0600, 1800, 1600),
    ("P-NHZ", "南海子公园", 116.4600, 39.7600, 2800, 2800),
    ("P-DYH", "大运河森林公园", 116.7000, 39.8700, 3500, 2000),
    ("P-TZY", "通州城市绿心森林公园", 116.7200, 39.8900, 2500, 2300),
    ("P-BJG", "八家郊野公园", 116.3420, 40.0190, 900, 800),
]

# Places the population model crowds around: (lon, lat, weight, spread m).
CENTRES = [
    (116.400, 39.910, 1.00, 9000),  # old city
    (116.350, 39.995, 0.35, 2500),  # 学院路 / 五道口
    (116.470, 39.995, 0.35, 3000),  # 望京
    (116.330, 40.070, 0.35, 3000),  # 回龙观
    (116.420, 40.070, 0.35, 3000),  # 天通苑
    (116.660, 39.900, 0.30, 4000),  # 通州
    (116.500, 39.790, 0.20, 3500),  # 亦庄
    (116.330, 39.735, 0.20, 3500),  # 黄村
    (116.145, 39.730, 0.15, 3000),  # 良乡
    (116.230, 40.220, 0.15, 3000),  # 昌平
    (116.650, 40.130, 0.15, 3000),  # 顺义
    (116.100, 39.940, 0.10, 2500),  # 门头沟
    (116.200, 39.910, 0.25, 3000),  # 石景山
    (116.290, 39.860, 0.30, 3500),  # 丰台
]

# The seed case and a few dozen invented parcels.
YICHENG = {
    "code": "LOT-HD-YICHENG",
    "name": "逸成地块（学院路街道，合成）",
    "lon": 116.3525,
    "lat": 39.9985,
    "width": 120,
    "height": 100,
    "status": "idle",
    "idle_since": "2009-06-01",
    "owner_type": "state",
    "land_use": "体育用地（规划）",
    "address": "海淀区学院路街道",
    "note": "原型：学院路街道闲置十余年、有违建和扬尘的地块，后建成 1.2 公顷的逸成体育公园。位置与边界为近似、合成。",
    "burden": 9.0,
}

# Categories the generator draws from: (code, name, department role, weight in the background).
CATEGORIES = [
    ("010101", "绿地杂乱", "greening", 3),
    ("010103", "树木修剪", "greening", 3),
    ("010201", "垃圾堆放", "city_management", 4),
    ("010202", "垃圾清运不及时", "city_management", 5),
    ("010204", "道路不洁", "city_management", 3),
    ("010301", "工地扬尘", "housing", 2),
    ("010302", "裸土未苫盖", "urban_enforcement", 1),
    ("010303", "闲置地块扬尘", "ecology", 1),
    ("010402", "占道经营", "urban_enforcement", 3),
    ("020101", "私装地锁", "urban_enforcement", 3),
    ("020103", "私搭乱建", "urban_enforcement", 2),
    ("020201", "违章停车", "public_security", 6),
    ("020301", "路面破损", "city_management", 3),
    ("020303", "路灯不亮", "city_management", 3),
    ("020401", "施工噪声", "urban_enforcement", 4),
    ("030101", "停水", "water_supply", 3),
    ("030401", "暖气不热", "heating", 5),
    ("040101", "物业服务不到位", "housing", 6),
    ("040102", "电梯故障", "market_supervision", 2),
    ("050102", "无证经营", "market_supervision", 1),
]
IDLE_CATEGORIES = ["010303", "010302", "020103", "010201", "050102"]
IDLE_WEIGHTS = [0.35, 0.15, 0.2, 0.2, 0.1]


def _rect(lon: float, lat: float, width: float, height: float, angle: float = 0.0):
    """A width × height metre rectangle centred on lon/lat, rotated by `angle` degrees, in WGS-84."""
    x, y = to_metric([lon], [lat])
    box = shapely.box(x[0] - width / 2, y[0] - height / 2, x[0] + width / 2, y[0] + height / 2)
    if angle:
        box = shapely.affinity.rotate(box, angle)
    ring = np.asarray(box.exterior.coords)
    rlon, rlat = to_wgs84(ring[:, 0], ring[:, 1])
    return shapely.Polygon(np.column_stack([np.round(rlon, 7), np.round(rlat, 7)]))


def _feature(props: dict, geom) -> dict:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def _beijing():
    data = json.loads(DISTRICTS.read_text(encoding="utf-8"))
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in data["features"]])


def build_population(seed: int = 20240101) -> pd.DataFrame:
    """Residents per H3 resolution-9 cell of Beijing: a sum of bell-shaped centres × noise, scaled to 21.8 M.

    Cells under 100 residents are dropped (mountains, fields), which keeps the file small.
    """
    rng = np.random.default_rng(seed)
    beijing = _beijing()
    cells = []
    for polygon in getattr(beijing, "geoms", [beijing]):
        shape = h3.geo_to_h3shape(shapely.geometry.mapping(polygon))
        cells.extend(h3.h3shape_to_cells(shape, POPULATION_RESOLUTION))
    cells = sorted(set(cells))
    latlng = np.array([h3.cell_to_latlng(c) for c in cells])
    x, y = to_metric(latlng[:, 1], latlng[:, 0])
    density = np.zeros(len(cells))
    for lon, lat, weight, spread in CENTRES:
        cx, cy = to_metric([lon], [lat])
        density += weight * np.exp(-((x - cx[0]) ** 2 + (y - cy[0]) ** 2) / (2 * spread**2))
    density *= rng.lognormal(0.0, 0.5, len(cells))
    residents = density / density.sum() * TOTAL_RESIDENTS
    keep = residents >= 100
    frame = pd.DataFrame({"h3": np.array(cells)[keep], "residents": np.round(residents[keep]).astype(int)})
    return frame.reset_index(drop=True)


def build_parks(seed: int = 7) -> dict:
    """Real large parks (approximate rectangles) and synthetic pocket parks in populated places."""
    rng = np.random.default_rng(seed)
    features = []
    for code, name, lon, lat, width, height in REAL_PARKS:
        geom = _rect(lon, lat, width, height)
        features.append(
            _feature(
                {"code": code, "name": name, "kind": "city", "synthetic": True, "note": "真实公园，位置与轮廓为近似"},
                geom,
            )
        )
    # Pocket parks near population centres, never within 1.2 km of the seed lot (its residents had none nearby).
    lot_x, lot_y = to_metric([YICHENG["lon"]], [YICHENG["lat"]])
    made = 0
    while made < 80:
        lon, lat, _weight, spread = CENTRES[rng.integers(len(CENTRES))]
        cx, cy = to_metric([lon], [lat])
        px, py = cx[0] + rng.normal(0, spread), cy[0] + rng.normal(0, spread)
        if math.hypot(px - lot_x[0], py - lot_y[0]) < 1200:
            continue
        plon, plat = to_wgs84([px], [py])
        size = float(rng.uniform(60, 160))
        made += 1
        features.append(
            _feature(
                {
                    "code": f"P-SYN-{made:03d}",
                    "name": f"社区口袋公园 {made:03d}（合成）",
                    "kind": "pocket",
                    "synthetic": True,
                },
                _rect(plon[0], plat[0], size, size * float(rng.uniform(0.7, 1.3))),
            )
        )
    return {"type": "FeatureCollection", "name": "hotspots_parks_synthetic_wgs84", "features": features}


def build_parcels(seed: int = 11) -> dict:
    """The 逸成 lot near its real place and ~40 invented parcels across the city (idle, vacant, in use)."""
    rng = np.random.default_rng(seed)
    y = YICHENG
    features = [
        _feature(
            {
                "code": y["code"],
                "name": y["name"],
                "land_use": y["land_use"],
                "status": y["status"],
                "idle_since": y["idle_since"],
                "owner_type": y["owner_type"],
                "address": y["address"],
                "note": y["note"],
                "synthetic": True,
            },
            _rect(y["lon"], y["lat"], y["width"], y["height"], angle=8),
        )
    ]
    uses = [
        "工业用地（腾退）",
        "仓储用地（腾退）",
        "居住用地（待建）",
        "商业用地（待建）",
        "绿地（规划）",
        "公共设施用地",
    ]
    owners = ["state", "government", "collective", "private", "institution"]
    statuses = ["idle"] * 6 + ["vacant"] * 3 + ["in_use"] * 2
    # Two neighbouring lots 250 m apart in 望京 show that a ranking does not count their residents twice.
    fixed = [(116.4700, 39.9950), (116.4730, 39.9970)]
    for i in range(42):
        if i < len(fixed):
            lon, lat = fixed[i]
        else:
            clon, clat, _w, spread = CENTRES[rng.integers(len(CENTRES))]
            cx, cy = to_metric([clon], [clat])
            plon, plat = to_wgs84([cx[0] + rng.normal(0, spread * 1.2)], [cy[0] + rng.normal(0, spread * 1.2)])
            lon, lat = float(plon[0]), float(plat[0])
        status = statuses[rng.integers(len(statuses))] if i >= len(fixed) else "idle"
        since = dt.date(int(rng.integers(2006, 2022)), int(rng.integers(1, 13)), 1)
        width = float(rng.uniform(50, 220))
        features.append(
            _feature(
                {
                    "code": f"LOT-SYN-{i + 1:03d}",
                    "name": f"合成地块 {i + 1:03d}",
                    "land_use": uses[rng.integers(len(uses))],
                    "status": status,
                    "idle_since": None if status == "in_use" else since.isoformat(),
                    "owner_type": owners[rng.integers(len(owners))],
                    "address": "",
                    "note": "合成数据 synthetic",
                    "synthetic": True,
                },
                _rect(lon, lat, width, width * float(rng.uniform(0.5, 1.5)), angle=float(rng.uniform(0, 30))),
            )
        )
    return {"type": "FeatureCollection", "name": "hotspots_parcels_synthetic_wgs84", "features": features}


def assign_streets(lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """street_code, street_name, district_code of each point: the lead of the engine's verdict."""
    from .selectors import streets_at

    found = streets_at(lon, lat)
    codes, names, districts = (np.array([row[k] for row in found], dtype=object) for k in range(3))
    return pd.DataFrame({"street_code": codes, "street_name": names, "district_code": districts})


def _jitter(rng, lon, lat, metres, n):
    x, y = to_metric(np.full(n, lon), np.full(n, lat))
    x = x + rng.normal(0, metres, n)
    y = y + rng.normal(0, metres, n)
    return to_wgs84(x, y)


def synthetic_complaints(
    *,
    background: int = 60_000,
    seed: int = 12345,
    start: dt.date = DEMO_START,
    weeks: int = DEMO_WEEKS,
    history_start: dt.date = HISTORY_START,
    population: pd.DataFrame | None = None,
    parcels: dict | None = None,
    streets: bool = True,
) -> pd.DataFrame:
    """A complaints frame (the columns of `hotspots.analysis.COMPLAINT_COLUMNS`), SYNTHETIC, deterministic.

    - background: spread by residents over the weeks from `start`;
    - idle-land complaints (dust, illegal building, garbage, unlicensed business) around idle and vacant lots
      from `history_start` on, more for lots idle longer — the 逸成 lot most;
    - chronic places: one category at one spot every few weeks, some reopened soon after closure;
    - emerging clusters: spots whose weekly count grows over the last months.
    """
    rng = np.random.default_rng(seed)
    population = load_population() if population is None else population
    parcels = load_parcels() if parcels is None else parcels
    start_ts = pd.Timestamp(start, tz="Asia/Shanghai")
    span = pd.Timedelta(weeks=weeks)
    parts = []

    # Background, proportional to residents; points spread inside their cell (≈ 170 m edge).
    weights = population["residents"].to_numpy(dtype=float)
    picks = rng.choice(len(population), size=background, p=weights / weights.sum())
    latlng = np.array([h3.cell_to_latlng(c) for c in population["h3"].to_numpy()[picks]])
    x, y = to_metric(latlng[:, 1], latlng[:, 0])
    lon, lat = to_wgs84(x + rng.normal(0, 90, background), y + rng.normal(0, 90, background))
    cat_weights = np.array([c[3] for c in CATEGORIES], dtype=float)
    cats = rng.choice(len(CATEGORIES), size=background, p=cat_weights / cat_weights.sum())
    received = start_ts + pd.to_timedelta(rng.uniform(0, span.total_seconds(), background), unit="s")
    parts.append(pd.DataFrame({"lon": lon, "lat": lat, "cat": cats, "received_at": received, "kind": "background"}))

    # Idle-land complaints around idle / vacant lots.
    history = pd.Timestamp(history_start, tz="Asia/Shanghai")
    end_ts = start_ts + span
    years = (end_ts - history) / pd.Timedelta(days=365.25)
    code_index = {c[0]: i for i, c in enumerate(CATEGORIES)}
    for feature in parcels["features"]:
        props = feature["properties"]
        if props["status"] == "in_use":
            continue
        centre = shapely.geometry.shape(feature["geometry"]).centroid
        idle_years = max(0.5, (end_ts.date() - dt.date.fromisoformat(props["idle_since"])).days / 365.25)
        burden = YICHENG["burden"] if props["code"] == YICHENG["code"] else float(rng.uniform(0.2, 2.5))
        n = int(rng.poisson(burden * min(idle_years, 15) / 15 * 12 * years))
        if n == 0:
            continue
        lon, lat = _jitter(rng, centre.x, centre.y, 60, n)
        cats = [code_index[c] for c in rng.choice(IDLE_CATEGORIES, size=n, p=IDLE_WEIGHTS)]
        received = history + pd.to_timedelta(rng.uniform(0, (end_ts - history).total_seconds(), n), unit="s")
        parts.append(pd.DataFrame({"lon": lon, "lat": lat, "cat": cats, "received_at": received, "kind": "idle"}))

    # Chronic places: one category, one spot, a report every 2–8 weeks through the year.
    hot = population.nlargest(400, "residents")
    for i in range(40):
        cell = hot["h3"].iloc[int(rng.integers(len(hot)))]
        clat, clon = h3.cell_to_latlng(cell)
        cat = int(rng.integers(len(CATEGORIES)))
        when = start_ts + pd.Timedelta(days=float(rng.uniform(0, 30)))
        times = []
        while when < end_ts:
            times.append(when)
            when = when + pd.Timedelta(days=float(rng.uniform(14, 56)))
        n = len(times)
        lon, lat = _jitter(rng, clon, clat, 8, n)
        parts.append(pd.DataFrame({"lon": lon, "lat": lat, "cat": cat, "received_at": times, "kind": f"chronic{i}"}))

    # Emerging clusters: weekly counts that grow over the last 16 weeks.
    for i in range(8):
        cell = hot["h3"].iloc[int(rng.integers(len(hot)))]
        clat, clon = h3.cell_to_latlng(cell)
        rows = []
        for week in range(weeks - 16, weeks):
            k = int(rng.poisson(1 + (week - (weeks - 16)) * 1.2))
            if k:
                t0 = start_ts + pd.Timedelta(weeks=week)
                offsets = pd.to_timedelta(rng.uniform(0, 7 * 86400, k), unit="s")
                rows.extend(t0 + offsets)
        n = len(rows)
        lon, lat = _jitter(rng, clon, clat, 120, n)
        cat = int(rng.integers(len(CATEGORIES)))
        parts.append(pd.DataFrame({"lon": lon, "lat": lat, "cat": cat, "received_at": rows, "kind": f"emerging{i}"}))

    frame = pd.concat(parts, ignore_index=True)
    frame["received_at"] = pd.to_datetime(frame["received_at"]).dt.tz_convert("UTC").dt.floor("s")
    frame = frame.sort_values(["received_at", "lon"], kind="stable").reset_index(drop=True)
    n = len(frame)
    frame["ref"] = [f"SYN-C-{i + 1:07d}" for i in range(n)]
    cat_table = np.array(CATEGORIES, dtype=object)
    frame["category_code"] = cat_table[frame["cat"].to_numpy(), 0]
    frame["category_name"] = cat_table[frame["cat"].to_numpy(), 1]
    frame["department_role"] = cat_table[frame["cat"].to_numpy(), 2]
    # Most complaints are closed 1–15 days after they came in; the latest ones are still open.
    closed = (frame["received_at"] + pd.to_timedelta(rng.uniform(1, 15, n), unit="D")).dt.floor("s")
    still_open = closed > pd.Timestamp(end_ts).tz_convert("UTC")
    frame["closed_at"] = closed.where(~still_open)
    frame["status"] = np.where(still_open, "in_progress", "closed")
    frame["building_code"] = ""
    if streets:
        frame = pd.concat([frame, assign_streets(frame["lon"].to_numpy(), frame["lat"].to_numpy())], axis=1)
    else:
        frame["street_code"] = ""
        frame["street_name"] = ""
        frame["district_code"] = ""
    from .analysis import COMPLAINT_COLUMNS

    return frame[[*COMPLAINT_COLUMNS, "kind"]]


def load_population() -> pd.DataFrame:
    """The committed population grid (h3, residents)."""
    return pd.read_csv(FIXTURES / "population.csv", dtype={"h3": str, "residents": int})


def load_parcels() -> dict:
    return json.loads((FIXTURES / "parcels.geojson").read_text(encoding="utf-8"))


def load_parks() -> dict:
    return json.loads((FIXTURES / "parks.geojson").read_text(encoding="utf-8"))


def population_dict(population: pd.DataFrame) -> dict[int, float]:
    """{uint64 H3 cell: residents} for the analysis functions."""
    return {int(h3i.str_to_int(c)): float(r) for c, r in zip(population["h3"], population["residents"], strict=True)}
