"""Planner pages. Domain answers come from the API (and selectors); pages only arrange them."""

from __future__ import annotations

import folium
from branca.element import Element
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from .layers import ClickVerdict, RemoteGeoJson, offline_map

BEIJING_CENTRE = (39.93, 116.40)


def planner_map(request: HttpRequest) -> HttpResponse:
    """规划地图 The planner map: districts and streets with Chinese labels, click for the jurisdiction verdict."""
    basemap = settings.SHAOZI["BASEMAP_URL"]
    fmap = offline_map(
        static_url=settings.STATIC_URL,
        location=BEIJING_CENTRE,
        zoom_start=10,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    if basemap:
        folium.TileLayer(basemap, attr=settings.SHAOZI["BASEMAP_ATTRIBUTION"] or "basemap", name="底图 basemap").add_to(
            fmap
        )
    areas = reverse("area-list")
    RemoteGeoJson(
        f"{areas}?level=district",
        name="区界 districts",
        style={"color": "#b3261e", "weight": 2.5, "fillColor": "#f4e9e1", "fillOpacity": 0.35},
        labels=True,
    ).add_to(fmap)
    RemoteGeoJson(
        f"{areas}?level=street&simplify=5",
        name="街道乡镇（合成边界） streets (synthetic)",
        style={"color": "#1d5fa8", "weight": 1, "fill": True, "fillOpacity": 0.0},
    ).add_to(fmap)
    ClickVerdict(reverse("jurisdiction")).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    root.header.add_child(Element('<meta charset="utf-8"><title>哨子 · 管辖地图 Shaozi planner map</title>'))
    root.header.add_child(Element(f'<link rel="stylesheet" href="{settings.STATIC_URL}maps/planner.css">'))
    root.header.add_child(Element(f'<script src="{settings.STATIC_URL}maps/planner.js"></script>'))
    root.html.add_child(Element(render_to_string("maps/planner_header.html", {"basemap": bool(basemap)})))
    html = root.render()
    return HttpResponse(html.replace("<html>", '<html lang="zh-Hans">', 1), content_type="text/html; charset=utf-8")
