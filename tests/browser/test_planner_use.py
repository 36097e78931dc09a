"""The planner map used as people use it: several layers at once with every control still reachable, a click on
every kind of feature with its popup and every link in it followed, the address search, opacity, the filtered
export, the header's login state, English, and a phone-sized screen. Screenshots go to artifacts/."""

import datetime as dt

import pytest

from .conftest import in_thread, screenshot
from .test_planner_browser import checkbox, hash_params, wait_loaded

WIDE = (1440, 900)
PHONE = (390, 844)
BUSY = (
    "complaints,repeat-places,hotspots,emerging,idle-lots,fix-plans,disputes,joint-cases,assessment,streets,districts"
)


def uncovered(page, selector: str) -> bool:
    """Whether the element's centre is on screen and the element itself (or a child) is what a click there hits."""
    return page.evaluate(
        """sel => {
          const el = document.querySelector(sel);
          if (!el) return false;
          el.scrollIntoView({block: "nearest"});
          const r = el.getBoundingClientRect();
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          if (r.width === 0 || x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
          const hit = document.elementFromPoint(x, y);
          return hit === el || el.contains(hit) || (hit && hit.contains(el) && hit.tagName === "LABEL");
        }""",
        selector,
    )


def test_with_many_layers_on_every_toggle_and_filter_stays_reachable(
    open_page, analysis_demo, browser_complaints, assessment_demo
):
    page, log = open_page(f"/#map=12/39.91000/116.39000&layers={BUSY}", user="admin", viewport=WIDE)
    for layer_id in ("complaints", "repeat-places", "hotspots"):
        wait_loaded(page, layer_id)
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    legend = page.locator(".shaozi-legend")
    assert legend.locator(".shaozi-legend-layer").count() == len(BUSY.split(","))
    # The legend is bounded and scrolls instead of growing over the controls.
    box = legend.bounding_box()
    assert box["height"] <= 0.45 * WIDE[1] + 30
    for layer_id in BUSY.split(","):
        selector = f'.leaflet-control-layers-overlays label:has([data-layer="{layer_id}"]) input'
        assert uncovered(page, selector), f"the {layer_id} checkbox is covered"
    for selector in ('select[name="shaozi-status"]', 'select[name="shaozi-pattern"]', ".shaozi-clear"):
        assert uncovered(page, selector), f"{selector} is covered"
    # And they work: turn Gi* off and on by clicking.
    checkbox(page, "hotspots").click()
    assert "hotspots" not in hash_params(page)["layers"].split(",")
    checkbox(page, "hotspots").click()
    assert "hotspots" in hash_params(page)["layers"].split(",")
    # Each analysis layer states its analysis period; folding the legend keeps its title.
    assert page.locator('.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run').count() == 1
    assert "分析期" in page.locator('.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run').inner_text()
    page.locator('.shaozi-fold[data-box="legend"]').click()
    assert legend.locator(".shaozi-legend-layer").count() == 0
    page.locator('.shaozi-fold[data-box="legend"]').click()
    assert legend.locator(".shaozi-legend-layer").count() > 0
    screenshot(page, "planner-map-busy.png")
    log.assert_clean()


def click_feature(page, layer_id: str, *, fit: str | None = None) -> None:
    """Click the first drawn feature of a layer whose centre is not covered by anything else."""
    if fit is not None:
        page.evaluate(
            """([id, fit]) => {
              const s = window.shaozi, layers = s.layers[id].getLayers();
              const l = layers.find(f => fit === "" || String(f.feature.properties.code) === fit
                || String(f.feature.id) === fit) || layers[0];
              const b = l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng(), l.getLatLng()]);
              s.map.fitBounds(b, {maxZoom: 16, animate: false});
            }""",
            [layer_id, fit],
        )
        page.wait_for_timeout(300)
    point = page.evaluate(
        """id => {
          const els = document.querySelectorAll('.shaozi-layer-' + id + ' path, path.shaozi-layer-' + id);
          for (const el of els) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) continue;
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (x < 5 || y < 5 || x > innerWidth - 5 || y > innerHeight - 5) continue;
            if (document.elementFromPoint(x, y) === el) return [x, y];
          }
          return null;
        }""",
        layer_id,
    )
    assert point is not None, f"no clickable {layer_id} feature on screen"
    page.mouse.click(*point)
    page.wait_for_selector(f'.leaflet-popup .shaozi-feature[data-layer="{layer_id}"]')


def follow_links(page) -> list[str]:
    """Every link of the open popup, fetched with the page's session: none may fail."""
    hrefs = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-popup a.shaozi-feature-link')).map(a => a.href)"
    )
    for href in hrefs:
        response = page.context.request.get(href)
        assert response.status < 400, f"{href} → {response.status}"
    return hrefs


# (layer, the map view it is clicked in, user, fit to a GeoJSON feature)
CLICKS = [
    ("complaints", "#map=17/39.90750/116.39130&layers=complaints", "planner", None),
    ("repeat-places", "#map=12/39.91000/116.39000&layers=repeat-places", "planner", None),
    ("hotspots", "#map=12/39.91000/116.39000&layers=hotspots", None, None),
    ("emerging", "#map=12/39.91000/116.39000&layers=emerging", None, None),
    ("idle-lots", "#map=11/39.95000/116.35000&layers=idle-lots", "planner", ""),
    ("fix-plans", "#map=11/39.95000/116.35000&layers=fix-plans", "admin", ""),
    ("disputes", "#map=11/39.90000/116.35000&layers=disputes", "admin", ""),
    ("joint-cases", "#map=11/39.90000/116.35000&layers=joint-cases", "admin", ""),
    ("assessment", "#map=11/39.90000/116.35000&layers=assessment&month=2024-03", "admin", ""),
]


@pytest.mark.parametrize(("layer_id", "view", "user", "fit"), CLICKS, ids=[c[0] for c in CLICKS])
def test_a_click_on_every_kind_of_feature_shows_its_popup_and_its_links_work(
    open_page, analysis_demo, browser_complaints, assessment_demo, layer_id, view, user, fit
):
    page, log = open_page("/" + view, user=user, viewport=WIDE)
    wait_loaded(page, layer_id)
    page.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    if fit is not None:
        page.wait_for_function("id => Number(document.body.getAttribute('data-features-' + id)) > 0", arg=layer_id)
    click_feature(page, layer_id, fit=fit)
    popup = page.locator(".leaflet-popup").inner_text()
    # Codes are shown as words: no bare H3 ids as titles, no raw true/none, street codes with their names.
    title = page.locator(".leaflet-popup .shaozi-feature strong").first.inner_text()
    assert not any(len(word) == 15 and word.startswith("8") for word in title.split("："))
    for raw in ("\ttrue", "\tnone", "\tnew_hot", "\tuncertain"):
        assert raw not in popup
    hrefs = follow_links(page)
    if layer_id == "fix-plans":
        assert any(f"/fix-plans/{analysis_demo['fix_plan']}/" in h for h in hrefs)
        assert any(f"/api/v1/fix-plans/{analysis_demo['fix_plan']}" in h for h in hrefs)
    screenshot(page, f"planner-popup-{layer_id}.png")
    log.assert_clean()


def test_the_fix_plan_is_drawn_over_its_lot_and_the_lot_links_to_it(open_page, analysis_demo):
    from hotspots.models import FixPlan

    plan_id = analysis_demo["fix_plan"]
    parcel = in_thread(lambda: FixPlan.objects.select_related("parcel").get(pk=plan_id).parcel.code)
    page, log = open_page("/#map=11/39.95000/116.35000&layers=idle-lots,fix-plans", user="admin", viewport=WIDE)
    for layer_id in ("idle-lots", "fix-plans"):
        page.wait_for_function("id => Number(document.body.getAttribute('data-features-' + id)) > 0", arg=layer_id)
    # Over the same ground, the plan is on top: a click there opens the plan.
    click_feature(page, "fix-plans", fit=str(plan_id))
    assert f"/fix-plans/{plan_id}/" in " ".join(follow_links(page))
    # The lot (plans hidden) offers a link to its plan.
    checkbox(page, "fix-plans").uncheck()
    page.keyboard.press("Escape")
    click_feature(page, "idle-lots", fit=parcel)
    page.wait_for_function("Number(document.body.getAttribute('data-lot-plans')) >= 1")
    assert any(f"/fix-plans/{plan_id}/" in h for h in follow_links(page))
    log.assert_clean()


def test_the_topology_layer_says_when_it_has_no_findings(open_page):
    page, log = open_page("/#map=10/39.93000/116.40000&layers=topology")
    wait_loaded(page, "topology")
    page.wait_for_selector('.shaozi-legend-layer[data-layer="topology"] .shaozi-empty')
    assert "没有发现问题" in page.locator('.shaozi-legend-layer[data-layer="topology"]').inner_text()
    log.assert_clean()


def test_search_opacity_header_and_filtered_export(open_page, browser_complaints):
    from complaints.deadlines import LOCAL_TZ
    from complaints.models import Complaint

    page, log = open_page(
        "/#map=13/39.90750/116.39130&layers=complaints,streets&status=closed&from=2024-03-01&to=2024-04-30",
        user="planner",
        viewport=WIDE,
    )
    wait_loaded(page, "complaints")
    # The header: who is logged in, links to the staff pages (each answers).
    assert page.locator("#shaozi-user").inner_text() == "planner"
    for href in page.evaluate("Array.from(document.querySelectorAll('.shaozi-nav a')).map(a => a.href)"):
        assert page.context.request.get(href).status == 200, href
    # Opacity of a layer.
    page.evaluate(
        """() => { const i = document.querySelector('[data-opacity="complaints"]'); i.value = "0.3";
                   i.dispatchEvent(new Event("input")); }"""
    )
    assert page.evaluate("getComputedStyle(window.shaozi.layers.complaints.getContainer()).opacity") == "0.3"
    # 下载 GeoJSON: every complaint of the filters, across pages.
    expected = in_thread(
        lambda: Complaint.objects.filter(
            status="closed",
            received_at__gte=dt.datetime(2024, 3, 1, tzinfo=LOCAL_TZ),
            received_at__lt=dt.datetime(2024, 5, 1, tzinfo=LOCAL_TZ),
        ).count()
    )
    with page.expect_download() as download:
        page.locator('[data-download="complaints"]').click()
    assert download.value.suggested_filename == "complaints.geojson"
    assert int(page.evaluate("document.body.getAttribute('data-exported')")) == expected >= 200
    # Address search over /api/v1/geocode.
    page.locator("#shaozi-search-q").fill("学院路")
    page.locator("#shaozi-search button").click()
    page.wait_for_function("document.body.getAttribute('data-search') !== null")
    assert "学院路" in page.locator("#shaozi-search-result").inner_text()
    centre = page.evaluate("[window.shaozi.map.getCenter().lat, window.shaozi.map.getCenter().lng]")
    assert abs(centre[0] - 39.995) < 0.05 and abs(centre[1] - 116.355) < 0.05
    log.assert_clean()


def test_english_labels_filters_and_charts(open_page, browser_complaints):
    page, log = open_page("/#map=13/39.90750/116.39130&layers=complaints,emerging&from=2024-03-01&to=2024-04-30")
    wait_loaded(page, "complaints")
    page.wait_for_function("document.body.getAttribute('data-chart-total') !== null")
    page.locator("#shaozi-lang").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    options = page.locator('select[name="shaozi-pattern"] option').all_inner_texts()
    assert "New hot spot" in options and "new_hot" not in options
    page.wait_for_function("document.querySelector('.shaozi-charts').innerText.includes('Complaints per week')")
    charts = page.locator(".shaozi-charts").inner_text()
    assert "period 2024-03-01 – 2024-04-30" in charts
    assert "Log in" in page.locator("#shaozi-header").inner_text()
    screenshot(page, "planner-map-english.png")
    log.assert_clean()


def test_a_phone_sized_screen(open_page):
    page, log = open_page("/#map=11/39.91000/116.39000&layers=streets,districts", viewport=PHONE)
    wait_loaded(page, "districts")
    # Panels start folded away: the map is usable; ☰ brings them back without covering the header.
    assert page.locator(".leaflet-top.leaflet-right").is_hidden()
    screenshot(page, "planner-map-phone.png")
    page.locator("#shaozi-panels").click()
    assert page.locator(".leaflet-top.leaflet-right").is_visible()
    header = page.locator("#shaozi-header").bounding_box()
    column = page.locator(".leaflet-top.leaflet-right").bounding_box()
    assert column["y"] >= header["y"] + header["height"] - 1
    assert header["x"] + header["width"] <= PHONE[0]
    assert uncovered(page, '.leaflet-control-layers-overlays label:has([data-layer="streets"]) input')
    checkbox(page, "streets").click()
    assert "streets" not in hash_params(page)["layers"].split(",")
    screenshot(page, "planner-map-phone-panels.png")
    log.assert_clean()
