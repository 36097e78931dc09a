"""The planner map frame: which layers it shows, how they look, their legends and filters, and the basemap.

A `MapLayer` is the map's view of a registered tile layer (`maps.tile_layers`): fixed filters (e.g. level), a
Leaflet path style, legend rows and the user filters it follows. The browser code (static/maps/planner.js)
builds the layer control, legends, filter panel, permalink and language switch from `frame_config()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.urls import reverse

from geo import coords

from . import tiles


@dataclass(frozen=True)
class LegendRow:
    """One legend entry: a swatch drawn with a Leaflet path style, and its text in both languages."""

    label_zh: str
    label_en: str
    style: dict


@dataclass(frozen=True)
class MapLayer:
    """A layer of the planner map drawn from vector tiles of `tile_layer` (see maps.tile_layers)."""

    id: str
    title_zh: str
    title_en: str
    tile_layer: str
    style: dict
    legend: tuple[LegendRow, ...]
    fixed: dict = field(default_factory=dict)
    follows: tuple[str, ...] = ()  # user filters passed on to its tiles
    show: bool = True
    z_index: int = 1
    labels: str | None = None  # area level whose names are drawn as labels
    labels_min_zoom: int = 0
    api: str | None = None  # a GeoJSON URL with the same features (for download)
    note_zh: str = ""
    note_en: str = ""


DISTRICT_STYLE = {"color": "#b3261e", "weight": 2.5, "fill": True, "fillColor": "#f4e9e1", "fillOpacity": 0.25}
STREET_STYLE = {"color": "#1d5fa8", "weight": 1, "fill": False, "dashArray": "4 3"}


def map_layers() -> list[MapLayer]:
    """The layers of the planner map, bottom to top. Complaints, hot spots, idle lots … are added here as their
    tile layers are registered."""
    areas_api = reverse("area-list")
    return [
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
    ]


def map_system() -> str:
    """The system overlays are drawn in: GCJ-02 only under a configured GCJ-02 basemap (Amap, Tencent)."""
    shaozi = settings.SHAOZI
    basemap_system = str(shaozi.get("BASEMAP_CRS") or coords.WGS84).lower()
    if shaozi.get("BASEMAP_URL") and basemap_system in ("gcj02", "gcj-02"):
        return coords.GCJ02
    return coords.WGS84


def _filter_specs(layers: list[MapLayer]) -> list[dict]:
    """User filters the visible layers follow, with labels and kinds, each once, in first-use order."""
    specs: dict[str, dict] = {}
    for layer in layers:
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
                },
            )
    return list(specs.values())


def frame_config(*, centre: tuple[float, float], zoom: int) -> dict:
    """Everything planner.js needs: layers, filters, basemap, system and URLs (no database access)."""
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
        tile_layer = tiles.layer_get(layer.tile_layer)
        data = asdict(layer)
        data["title"] = {"zh": layer.title_zh, "en": layer.title_en}
        data["note"] = {"zh": layer.note_zh, "en": layer.note_en}
        data["legend"] = [{"label": {"zh": r.label_zh, "en": r.label_en}, "style": r.style} for r in layer.legend]
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
        },
    }
