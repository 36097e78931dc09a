"""The planner map in a real browser: local-only loading, layers, verdict popup, filters, permalink, GCJ-02."""

import pytest
from django.contrib.gis.geos import Point

from geo import coords
from jurisdictions.selectors import jurisdiction_lookup

from .conftest import in_thread, screenshot

# 天安门 in WGS-84: 东城区 in the demo data.
TIANANMEN = (116.3913, 39.9075)


def wait_loaded(page, layer_id: str, after: int = 0) -> int:
    """Wait until the layer has finished loading its tiles more than `after` times; return the new count."""
    page.wait_for_function("([id, n]) => (window.shaozi.loads[id] || 0) > n", arg=[layer_id, after])
    return page.evaluate("id => window.shaozi.loads[id]", layer_id)


def loads(page, layer_id: str) -> int:
    return page.evaluate("id => window.shaozi.loads[id] || 0", layer_id)


def drawn(page, layer_id: str) -> int:
    """SVG paths the layer has drawn (VectorGrid draws one path per feature per tile)."""
    return page.evaluate(
        "id => document.querySelectorAll('.shaozi-layer-' + id + ' path, path.shaozi-layer-' + id).length", layer_id
    )


def layer_ids(page) -> list[str]:
    return page.evaluate("window.shaozi.config.layers.map(l => l.id)")


def on_map(page, layer_id: str) -> bool:
    return page.evaluate("id => window.shaozi.map.hasLayer(window.shaozi.layers[id])", layer_id)


def checkbox(page, layer_id: str):
    label = page.locator(".leaflet-control-layers-overlays label", has=page.locator(f'[data-layer="{layer_id}"]'))
    return label.locator("input[type=checkbox]")


def hash_params(page) -> dict:
    raw = page.evaluate("location.hash").lstrip("#")
    return dict(part.split("=", 1) for part in raw.split("&") if part)


def test_page_loads_from_localhost_only_without_console_errors(open_page):
    page, log = open_page("/")
    ids = layer_ids(page)
    assert ids == [
        "assessment",
        "hotspots",
        "emerging",
        "idle-lots",
        "fix-plans",
        "streets",
        "districts",
        "topology",
        "repeat-places",
        "disputes",
        "joint-cases",
        "complaints",
    ]
    for layer_id in ["streets", "districts"]:
        wait_loaded(page, layer_id)
        assert drawn(page, layer_id) > 0, layer_id
    page.wait_for_function("document.body.getAttribute('data-labels-districts') === '16'")
    page.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    assert page.locator(".shaozi-label-district", has_text="西城区").count() == 1
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.locator(".shaozi-system").inner_text() == "坐标系：WGS-84"
    assert hash_params(page)["layers"] == "streets,districts"
    # Legends for every styled layer, in Chinese first.
    legend = page.locator(".shaozi-legend")
    assert legend.locator(".shaozi-legend-layer").count() == 2
    assert "区界" in legend.inner_text()
    assert log.tile_requests(), "no vector tiles were requested"
    assert any(url.endswith("Leaflet.VectorGrid.bundled.min.js") for url in log.requests)
    path = screenshot(page, "planner-map.png")
    assert path.stat().st_size > 20_000
    log.assert_clean()


# The demo boundaries have no topology findings: that layer loads and draws nothing.
EMPTY_IN_DEMO = {"topology"}


def test_each_layer_toggles_on_and_draws_features(open_page, analysis_demo, browser_complaints, assessment_demo):
    page, log = open_page("/#map=11/39.91000/116.39000&layers=", user="admin")
    for layer_id in layer_ids(page):
        assert not on_map(page, layer_id)
        assert drawn(page, layer_id) == 0
        before = loads(page, layer_id)
        checkbox(page, layer_id).check()
        wait_loaded(page, layer_id, before)
        if layer_id not in EMPTY_IN_DEMO:
            assert drawn(page, layer_id) > 0, layer_id
        assert layer_id in hash_params(page)["layers"].split(",")
        assert page.locator(f'.shaozi-legend-layer[data-layer="{layer_id}"]').count() == 1
        checkbox(page, layer_id).uncheck()
        assert not on_map(page, layer_id)
        assert drawn(page, layer_id) == 0
        assert layer_id not in hash_params(page)["layers"].split(",")
        assert page.locator(f'.shaozi-legend-layer[data-layer="{layer_id}"]').count() == 0
    log.assert_clean()


def test_a_click_shows_the_verdict_popup(open_page):
    lon, lat = TIANANMEN
    expected = in_thread(lambda: jurisdiction_lookup(point=Point(lon, lat, srid=4326)).as_dict())
    assert expected["district"] and expected["street"]
    page, log = open_page(f"/#map=15/{lat}/{lon}")
    wait_loaded(page, "streets")
    point = page.evaluate(
        f"(() => {{ const p = window.shaozi.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    popup = page.locator(".leaflet-popup-content .shaozi-verdict")
    popup.wait_for()
    text = popup.inner_text()
    assert expected["district"]["name"] in text
    assert expected["street"]["name"] in text
    assert popup.get_attribute("data-method") == expected["method"]
    # The popup links to the API objects of the areas it names.
    assert popup.locator(f'a[href="/api/v1/areas/{expected["street"]["code"]}"]').count() == 1
    jurisdiction = [url for url in log.requests if "/api/v1/jurisdiction" in url]
    assert len(jurisdiction) == 1 and "crs=wgs84" in jurisdiction[0]
    screenshot(page, "planner-map-verdict.png")
    log.assert_clean()


def test_english_switch(open_page):
    page, log = open_page("/")
    wait_loaded(page, "districts")
    page.locator("#shaozi-lang").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert hash_params(page)["lang"] == "en"
    assert "Districts" in page.locator(".leaflet-control-layers").inner_text()
    assert "jurisdiction map" in page.locator("#shaozi-header").inner_text()
    assert page.locator(".shaozi-system").inner_text() == "Coordinates: WGS-84"
    assert "Legend" in page.locator(".shaozi-legend").inner_text()
    page.locator("#shaozi-lang").click()
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert "区界" in page.locator(".leaflet-control-layers").inner_text()
    assert "lang" not in hash_params(page)
    log.assert_clean()


def test_a_filter_change_changes_the_tiles(open_page):
    page, log = open_page("/#map=10/39.93000/116.40000&layers=streets")
    wait_loaded(page, "streets")
    page.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    everything = drawn(page, "streets")
    before = loads(page, "streets")
    page.locator('select[name="shaozi-district"]').select_option("110102")
    wait_loaded(page, "streets", before)
    # Choosing a district zooms the map to it (its bbox from the area API).
    page.wait_for_function("document.body.getAttribute('data-zoomed-to') === '110102'")
    assert page.evaluate("window.shaozi.map.getZoom()") > 10
    page.wait_for_function("document.querySelectorAll('.shaozi-layer-streets path').length > 0")
    assert any("area=110102" in url for url in log.tile_requests())
    assert hash_params(page)["area"] == "110102"
    page.wait_for_function("document.body.getAttribute('data-labels-streets') === '15'")
    # A street narrows it further; the street list holds only that district's streets.
    streets = page.locator('select[name="shaozi-street"] option')
    assert streets.count() == 16  # "all" + 15
    before = loads(page, "streets")
    page.locator('select[name="shaozi-street"]').select_option("110102001")
    wait_loaded(page, "streets", before)
    page.wait_for_function("document.body.getAttribute('data-zoomed-to') === '110102001'")
    page.wait_for_function("document.querySelectorAll('.shaozi-layer-streets path').length > 0")
    # Boundaries on a day before any version: nothing to draw.
    before = loads(page, "streets")
    page.locator('input[name="shaozi-at"]').fill("2019-12-31")
    wait_loaded(page, "streets", before)
    assert drawn(page, "streets") == 0
    assert hash_params(page)["at"] == "2019-12-31"
    # … and the map says why.
    page.wait_for_function("document.body.getAttribute('data-no-generation') === '1'")
    assert "没有生效的边界版本" in page.locator("#shaozi-notice").inner_text()
    before = loads(page, "streets")
    page.locator(".shaozi-clear").click()
    wait_loaded(page, "streets", before)
    page.evaluate("window.shaozi.map.setView([39.93, 116.40], 10, {animate: false})")
    page.wait_for_function("n => window.shaozi.loads.streets > n", arg=loads(page, "streets"))
    assert drawn(page, "streets") == everything
    assert page.locator("#shaozi-notice").is_hidden()
    log.assert_clean()


def test_a_permalink_restores_the_view(open_page):
    page, log = open_page("/")
    wait_loaded(page, "districts")
    page.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    page.evaluate("window.shaozi.map.setView([39.95, 116.30], 12, {animate: false})")
    checkbox(page, "streets").uncheck()
    page.locator('select[name="shaozi-district"]').select_option("110108")
    page.locator("#shaozi-lang").click()
    link = page.url
    assert "#map=12/39.95000/116.30000" in link
    log.assert_clean()

    again, log2 = open_page("/" + link.split("/", 3)[3])
    wait_loaded(again, "districts")
    assert again.evaluate("window.shaozi.map.getZoom()") == 12
    centre = again.evaluate("(() => { const c = window.shaozi.map.getCenter(); return [c.lat, c.lng]; })()")
    assert centre == pytest.approx([39.95, 116.30], abs=1e-5)
    assert not on_map(again, "streets") and on_map(again, "districts")
    assert not checkbox(again, "streets").is_checked()
    assert again.evaluate("document.documentElement.lang") == "en"
    assert log2.tile_requests() and all("area=110108" in url for url in log2.tile_requests())
    again.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    assert again.locator('select[name="shaozi-district"]').input_value() == "110108"
    assert again.url == link
    log2.assert_clean()


# A 1×1 transparent PNG stands in for the basemap's tiles.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def test_a_gcj02_basemap_shifts_every_overlay_and_the_map_says_so(open_page, map_server, settings):
    settings.SHAOZI = {
        **settings.SHAOZI,
        "BASEMAP_URL": map_server + "/basemap-test/{z}/{x}/{y}.png",
        "BASEMAP_ATTRIBUTION": "测试底图",
        "BASEMAP_CRS": "gcj02",
    }
    lon, lat = coords.wgs84_to_gcj02(*TIANANMEN)  # where 天安门 is drawn on a GCJ-02 basemap
    expected = in_thread(lambda: jurisdiction_lookup(point=Point(*TIANANMEN, srid=4326)).as_dict())
    page, log = open_page(f"/#map=15/{lat:.6f}/{lon:.6f}", stubs={"/basemap-test/": ("image/png", PNG_1X1)})
    wait_loaded(page, "streets")
    assert "GCJ-02" in page.locator(".shaozi-system").inner_text()
    assert page.locator(".shaozi-system").get_attribute("data-system") == "gcj02"
    assert log.tile_requests() and all("crs=gcj02" in url for url in log.tile_requests())
    assert any("/basemap-test/15/" in url for url in log.requests)
    labels = [url for url in log.requests if "/map/labels" in url and "level=district" in url and "crs=" in url]
    assert labels and all("crs=gcj02" in url for url in labels)
    # A click on the GCJ-02 map is looked up as GCJ-02 and lands in the same street as the WGS-84 point.
    point = page.evaluate(
        f"(() => {{ const p = window.shaozi.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    popup = page.locator(".leaflet-popup-content .shaozi-verdict")
    popup.wait_for()
    assert expected["street"]["name"] in popup.inner_text()
    assert any("/api/v1/jurisdiction" in url and "crs=gcj02" in url for url in log.requests)
    screenshot(page, "planner-map-gcj02.png")
    log.assert_clean()


def test_complaint_filters_change_the_complaint_tiles_and_the_charts(open_page, browser_complaints):
    # The test complaints are from March–April 2024; the charts count the same period as the filter.
    page, log = open_page("/#map=13/39.90750/116.39130&layers=complaints&from=2024-03-01&to=2024-04-30")
    wait_loaded(page, "complaints")
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    page.wait_for_function("document.body.getAttribute('data-chart-total') !== null")
    # Both charts state the period they count.
    assert page.evaluate("document.body.getAttribute('data-chart-period')") == "2024-03-01/2024-04-30"
    assert "2024-03-01 – 2024-04-30" in page.locator(".shaozi-chart-period").inner_text()
    hexagons = drawn(page, "complaints")
    assert hexagons > 0
    assert page.locator('svg[data-chart="weekly"] rect.shaozi-bar').count() > 0
    assert page.locator('svg[data-chart="categories"] rect.shaozi-bar').count() == 3
    total = int(page.evaluate("document.body.getAttribute('data-chart-total')"))
    assert total >= browser_complaints  # the visible map holds all of them (and any other committed ones)

    # Status: the tiles are asked again with the filter, the charts count only closed complaints.
    requested = len(log.tile_requests("complaints"))
    before = loads(page, "complaints")
    page.locator('select[name="shaozi-status"]').select_option("closed")
    wait_loaded(page, "complaints", before)
    new_urls = log.tile_requests("complaints")[requested:]
    assert new_urls and all("status=closed" in url for url in new_urls)
    assert hash_params(page)["status"] == "closed"
    page.wait_for_function("n => Number(document.body.getAttribute('data-chart-total')) < n", arg=total)
    closed = int(page.evaluate("document.body.getAttribute('data-chart-total')"))
    assert closed < total

    # Category, cascading: 大类 01 offers its 中类, and 0101 narrows the tiles again.
    before = loads(page, "complaints")
    page.locator('select[name="shaozi-category-1"]').select_option("01")
    wait_loaded(page, "complaints", before)
    assert hash_params(page)["category"] == "01"
    assert page.locator('select[name="shaozi-category-2"] option[value="0101"]').count() == 1
    before = loads(page, "complaints")
    page.locator('select[name="shaozi-category-2"]').select_option("0101")
    wait_loaded(page, "complaints", before)
    assert hash_params(page)["category"] == "0101"
    assert any("category=0101" in url and "status=closed" in url for url in log.tile_requests("complaints"))
    page.wait_for_function("n => Number(document.body.getAttribute('data-chart-total')) < n", arg=closed)

    # A date range empties the view (the test complaints are from March–April 2024).
    before = loads(page, "complaints")
    page.locator('input[name="shaozi-from"]').fill("2030-01-01")
    wait_loaded(page, "complaints", before)
    assert drawn(page, "complaints") == 0
    # The permalink carries every filter.
    params = hash_params(page)
    assert (params["status"], params["category"], params["from"]) == ("closed", "0101", "2030-01-01")
    screenshot(page, "planner-map-complaints.png")
    # Clearing brings the hexagons back (every date now, so at least as many).
    before = loads(page, "complaints")
    page.locator(".shaozi-clear").click()
    wait_loaded(page, "complaints", before)
    assert drawn(page, "complaints") >= hexagons
    log.assert_clean()


def test_complaints_are_points_from_zoom_16_for_staff_and_counts_for_the_public(open_page, browser_complaints):
    page, log = open_page("/#map=16/39.90750/116.39130&layers=complaints", user="planner")
    wait_loaded(page, "complaints")
    # One circle per complaint per tile it reaches: a point in a tile's 64-unit buffer is drawn in both tiles.
    points = drawn(page, "complaints")
    assert browser_complaints * 0.5 < points < browser_complaints * 1.5
    log.assert_clean()
    # Anonymous visitors see hexagon counts only, never one complaint's point.
    page, log = open_page("/#map=16/39.90750/116.39130&layers=complaints")
    wait_loaded(page, "complaints")
    assert page.evaluate("document.querySelectorAll('.shaozi-layer-complaints circle').length") == 0
    assert drawn(page, "complaints") < browser_complaints * 0.5
    log.assert_clean()


def test_an_emerging_cell_click_shows_its_trend(open_page, analysis_demo):
    from hotspots.models import AnalysisRun, EmergingCell

    def series():
        run = AnalysisRun.objects.filter(layer="emerging", finished_at__isnull=False).latest("finished_at")
        cells = EmergingCell.objects.filter(run=run)
        centre = cells.exclude(pattern="none").order_by("id").first().geom.centroid
        return {c.h3: len(c.z_series) for c in cells}, (centre.y, centre.x)

    lengths, (lat, lon) = in_thread(series)
    page, log = open_page(f"/#map=14/{lat:.5f}/{lon:.5f}&layers=emerging")
    wait_loaded(page, "emerging")
    page.locator(".shaozi-layer-emerging path").first.click(force=True)
    page.wait_for_function("document.body.getAttribute('data-chart-cell') !== null")
    h3 = page.evaluate("document.body.getAttribute('data-chart-cell')")
    assert h3 in lengths
    popup = page.locator(".leaflet-popup-content")
    assert h3 in popup.inner_text()
    assert popup.locator('svg[data-chart="cell"] polyline.shaozi-line').count() == 1
    assert popup.locator('svg[data-chart="cell"] circle').count() == lengths[h3]
    screenshot(page, "planner-map-cell-trend.png")
    log.assert_clean()
