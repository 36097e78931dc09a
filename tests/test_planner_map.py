import re
from pathlib import Path

from django.conf import settings
from django.test import override_settings


def test_planner_map_is_chinese_and_fully_local(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert "管辖地图" in html
    assert "/tiles/areas/{z}/{x}/{y}.pbf" in html
    assert "/api/v1/jurisdiction" in html
    # Nothing may leave the machine: no absolute URL to any host in the page.
    assert re.findall(r"https?://", html) == []
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert (Path(settings.BASE_DIR) / asset.removeprefix("/")).exists(), asset


def test_configured_basemap_is_added_as_a_tile_layer(client):
    shaozi = {**settings.SHAOZI, "BASEMAP_URL": "http://tiles.example.internal/{z}/{x}/{y}.png"}
    with override_settings(SHAOZI=shaozi):
        html = client.get("/").content.decode()
    assert "tiles.example.internal" in html
