"""Analysis layers' popups and the dispute page (evidence map; no ruling form for a planner) in a real browser."""

from .conftest import screenshot
from .test_planner_browser import checkbox, drawn, wait_loaded


def test_analysis_layers_draw_and_a_click_on_a_feature_opens_its_popup(open_page, analysis_demo):
    page, log = open_page(
        "/#map=12/39.90000/116.36000&layers=districts,hotspots,fix-plans,disputes,joint-cases", user="admin"
    )
    for layer_id in ("hotspots", "fix-plans", "disputes", "joint-cases"):
        wait_loaded(page, layer_id)
        assert drawn(page, layer_id) > 0, layer_id
    legend = page.locator(".shaozi-legend").inner_text()
    assert "热点 99% 置信" in legend and "冷点 99% 置信" in legend and "不显著" in legend
    # A click on the open dispute's marker: its popup, with links to the dispute page and the API object. The test's
    # joint case is drawn in a lead street near the dispute and above it: hidden first.
    checkbox(page, "joint-cases").uncheck()
    marker = page.locator("path.shaozi-layer-disputes").first
    marker.click(force=True)
    popup = page.locator(".leaflet-popup-content .shaozi-feature[data-layer=disputes]")
    popup.wait_for()
    assert "浏览器测试" in popup.inner_text() or "未决管辖争议" in popup.inner_text()
    hrefs = popup.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(h.startswith("/disputes/") for h in hrefs) and any(h.startswith("/api/v1/disputes/") for h in hrefs)
    screenshot(page, "planner-map-analysis.png")
    log.assert_clean()


def test_disputes_layer_asks_anonymous_users_to_log_in(open_page, analysis_demo):
    page, log = open_page("/#map=12/39.90000/116.36000&layers=disputes")
    wait_loaded(page, "disputes")
    assert drawn(page, "disputes") == 0
    assert "登录后可见" in page.locator(".shaozi-legend").inner_text()
    assert not any("/api/v1/disputes" in url for url in log.requests)  # no 401 in the console
    log.assert_clean()


def test_dispute_page_draws_the_evidence_and_shows_a_planner_no_form(open_page, analysis_demo):
    page, log = open_page(f"/disputes/{analysis_demo['dispute']}/", user="planner")
    page.wait_for_function("Number(document.body.getAttribute('data-areas-loaded')) >= 4")  # 2 streets, 2 districts
    assert page.locator("#evidence-map path").count() >= 5  # + the building footprint
    assert page.locator("#shares").inner_text().count("%") >= 1
    # A planner reads the dispute but may not rule: no form is offered, the page says who rules.
    assert page.locator("#ruling-form, #confirm-form, #form-under-review, #form-withdraw").count() == 0
    assert "裁定由涉及区的区级工作人员或市级管理员作出" in page.locator("#no-ruling-form").inner_text()
    page.click("#staff-lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h2", has_text="Evidence map").is_visible()
    screenshot(page, "dispute-page.png")
    log.assert_clean()
