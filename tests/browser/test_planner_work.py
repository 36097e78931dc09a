"""The planner's work on the map: a fix plan made from an idle lot's popup (and no such button for users who may not
make plans), the run picker of the analysis layers, the legend notes for anonymous and logged-in users, English
category names, and the map at 1440×900 and 390×844 with its screenshots in artifacts/."""

import datetime as dt
import re

import pytest

from .conftest import in_thread, screenshot
from .test_planner_browser import checkbox, drawn, hash_params, wait_loaded
from .test_planner_use import click_feature, follow_links, uncovered

WIDE = (1440, 900)
PHONE = (390, 844)
LOTS_VIEW = "/#map=11/39.95000/116.35000&layers=idle-lots"


@pytest.fixture
def free_lot(analysis_demo):
    """An idle lot of the latest ranking (rank 3) without a fix plan; plans made for it are removed afterwards."""
    from hotspots.models import FixPlan, LotScore

    def setup():
        lot = LotScore.objects.order_by("-run_id", "rank").select_related("parcel")[2]
        FixPlan.objects.filter(parcel=lot.parcel, by__in=["planner", "admin"]).delete()
        return lot.parcel.code, lot.parcel.street_code

    code, street = in_thread(setup)
    yield {"code": code, "street": street}
    in_thread(lambda: FixPlan.objects.filter(parcel__code=code, by__in=["planner", "admin"]).delete())


def open_lot(page, code: str) -> None:
    page.wait_for_function("Number(document.body.getAttribute('data-features-idle-lots')) > 0")
    click_feature(page, "idle-lots", fit=code)
    popup = page.locator(".leaflet-popup .shaozi-feature")
    assert code in popup.inner_text()


def test_a_planner_makes_a_fix_plan_from_an_idle_lot_and_the_lot_links_to_it(open_page, free_lot):
    from hotspots.models import FixPlan

    code = free_lot["code"]
    page, log = open_page(LOTS_VIEW, user="planner", viewport=WIDE)
    open_lot(page, code)
    button = page.locator(".leaflet-popup a.shaozi-make-plan")
    assert button.inner_text().startswith("制定整治方案")
    page.wait_for_timeout(400)  # the popup's fade-in
    screenshot(page, "planner-lot-make-plan.png")
    button.click()
    # The desk's form, with that lot chosen.
    page.wait_for_url(re.compile(r"/desk/fix-plans/new\?parcel="))
    assert code in page.locator("#plan-lot").inner_text()
    assert page.locator('#form-fix-plan-new input[name="parcel"]').input_value() == code
    page.locator('#form-fix-plan-new select[name="kind"]').select_option("pocket_park")
    page.locator('#form-fix-plan-new input[name="title"]').fill("地图发起的口袋公园方案")
    screenshot(page, "planner-fix-plan-form.png")
    page.locator("#form-fix-plan-new button[type=submit]").click()
    # The plan's page.
    page.wait_for_url(re.compile(r"/fix-plans/\d+/$"))
    plan_id = int(re.search(r"/fix-plans/(\d+)/$", page.url).group(1))
    assert "地图发起的口袋公园方案" in page.locator("#fix-plan h1").inner_text()
    plan = in_thread(lambda: FixPlan.objects.values("parcel__code", "kind", "by").get(pk=plan_id))
    assert plan == {"parcel__code": code, "kind": "pocket_park", "by": "planner"}
    # Back on the map, the lot links to its plan.
    page.goto(page.url.split("/fix-plans/")[0] + LOTS_VIEW)
    open_lot(page, code)
    page.wait_for_function("Number(document.body.getAttribute('data-lot-plans')) >= 1")
    hrefs = follow_links(page)
    assert any(f"/fix-plans/{plan_id}/" in href for href in hrefs), (hrefs, page.locator(".leaflet-popup").inner_html())
    log.assert_clean()


@pytest.mark.parametrize("user", [None, "xicheng_cgw"], ids=["anonymous", "department"])
def test_users_who_may_not_make_plans_see_no_button(open_page, free_lot, map_server, user):
    page, log = open_page(LOTS_VIEW, user=user, viewport=WIDE)
    open_lot(page, free_lot["code"])
    assert page.locator(".leaflet-popup .shaozi-make-plan").count() == 0
    # The form itself refuses them too (a department user gets the reason, anonymous the login page).
    response = page.context.request.get(f"{map_server}/desk/fix-plans/new?parcel={free_lot['code']}")
    if user is None:
        assert "/accounts/login/" in response.url
    else:
        assert response.status == 403
    log.assert_clean()


@pytest.fixture
def older_hotspot_run(analysis_demo):
    """A second, older Gi* run of the same cells, one year earlier, keeping only the 99 % hot spots: the run
    picker has two runs to choose from, and they draw differently. Removed afterwards."""
    from hotspots.constants import Layer
    from hotspots.models import AnalysisRun, HotspotCell

    def setup():
        latest = AnalysisRun.objects.of_layer(Layer.HOTSPOTS).finished().for_category("").latest_first().first()
        older = AnalysisRun.objects.create(
            layer=Layer.HOTSPOTS,
            category="",
            source=latest.source,
            period_start=latest.period_start - dt.timedelta(days=365),
            period_end=latest.period_end - dt.timedelta(days=365),
            params=latest.params,
            started_at=latest.started_at - dt.timedelta(days=365),
            finished_at=latest.finished_at - dt.timedelta(days=365),
            by="browser-test",
        )
        cells = HotspotCell.objects.filter(run=latest, bin=3)
        HotspotCell.objects.bulk_create(
            HotspotCell(
                run=older,
                h3=c.h3,
                geom=c.geom,
                count=c.count,
                residents=c.residents,
                value=c.value,
                z=c.z,
                p=c.p,
                bin=c.bin,
                street_code=c.street_code,
            )
            for c in cells
        )
        return latest, older

    latest, older = in_thread(setup)
    yield {"latest": latest, "older": older}
    in_thread(lambda: AnalysisRun.objects.filter(pk=older.pk).delete())


def test_the_run_picker_redraws_an_analysis_layer_and_states_its_period(open_page, older_hotspot_run):
    latest, older = older_hotspot_run["latest"], older_hotspot_run["older"]
    page, log = open_page("/#map=11/39.91000/116.39000&layers=hotspots", viewport=WIDE)
    n = wait_loaded(page, "hotspots")
    run_note = page.locator('.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run')
    page.wait_for_selector(f'.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run[data-run="{latest.pk}"]')
    assert f"{latest.period_start} – {latest.period_end}" in run_note.inner_text()
    before = drawn(page, "hotspots")
    assert before > 0
    slider = page.locator('[data-run-slider="hotspots"]')
    assert slider.get_attribute("max") == str(
        page.evaluate("window.shaozi.config.layers.find(l => l.id === 'hotspots').runs.length - 1")
    )
    # The oldest run: the tiles of that run are drawn, the legend states its period, the permalink keeps it.
    slider.evaluate("el => { el.value = el.min; el.dispatchEvent(new Event('change')); }")
    wait_loaded(page, "hotspots", n)
    assert run_note.get_attribute("data-run") == str(older.pk)
    assert f"{older.period_start} – {older.period_end}" in run_note.inner_text()
    assert any(f"run={older.pk}" in url for url in log.tile_requests("hotspots"))
    assert hash_params(page)["runs"] == f"hotspots:{older.pk}"
    page.wait_for_timeout(300)
    after = drawn(page, "hotspots")
    assert 0 < after < before
    assert f"run={older.pk}" in page.locator('[data-download="hotspots"]').get_attribute("href")
    screenshot(page, "planner-run-picker.png")
    # The permalink opens the same run.
    page.reload()
    wait_loaded(page, "hotspots")
    page.wait_for_selector(f'.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run[data-run="{older.pk}"]')
    # Back to the newest: the default tiles again.
    n = page.evaluate("window.shaozi.loads.hotspots")
    page.locator('[data-run-slider="hotspots"]').evaluate(
        "el => { el.value = el.max; el.dispatchEvent(new Event('change')); }"
    )
    wait_loaded(page, "hotspots", n)
    assert run_note.get_attribute("data-run") == str(latest.pk)
    assert "runs" not in hash_params(page)
    log.assert_clean()


def test_the_week_slider_draws_emerging_cells_week_by_week(open_page, analysis_demo):
    from hotspots.constants import Layer
    from hotspots.models import AnalysisRun

    run = in_thread(
        lambda: AnalysisRun.objects.of_layer(Layer.EMERGING).finished().for_category("").latest_first().first()
    )
    page, log = open_page("/#map=11/39.91000/116.39000&layers=emerging", viewport=WIDE)
    wait_loaded(page, "emerging")
    page.wait_for_function("document.body.getAttribute('data-runs') === '1'")
    slider = page.locator('[data-week-slider="emerging"]')
    weeks = (run.period_end - run.period_start).days // 7 + 1
    assert slider.get_attribute("max") == str(weeks - 1) and slider.get_attribute("value") == "-1"
    note = page.locator(".shaozi-legend-layer[data-layer=emerging] .shaozi-week")
    assert note.inner_text() == "全期模式"

    def week(index: int) -> list[str]:
        page.locator('[data-week-slider="emerging"]').evaluate(
            "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('change')); }", index
        )
        if index < 0:
            page.wait_for_function("!document.body.hasAttribute('data-week')")
            return []
        page.wait_for_function("w => document.body.getAttribute('data-week') === w", arg=str(index))
        return page.evaluate(
            "Array.from(document.querySelectorAll('path.shaozi-layer-emerging-week')).map(p => p.getAttribute('fill'))"
        )

    early = week(10)
    assert len(early) == int(page.evaluate("document.body.getAttribute('data-features-emerging-week')")) > 0
    start = run.period_start + dt.timedelta(weeks=10)
    assert note.get_attribute("data-week-start") == start.isoformat()
    assert f"第 11 周（{start.isoformat()} 起）" in note.inner_text()
    assert hash_params(page)["week"] == "10"
    # The pattern tiles give way to the week; its legend is the Gi* bins.
    assert page.evaluate("getComputedStyle(window.shaozi.layers.emerging.getContainer()).opacity") == "0"
    assert "热点 99% 置信" in page.locator(".shaozi-legend-layer[data-layer=emerging]").inner_text()
    screenshot(page, "planner-emerging-week.png")
    late = week(weeks - 2)
    assert late != early, "another week draws other colours"
    assert note.get_attribute("data-week-start") == (run.period_start + dt.timedelta(weeks=weeks - 2)).isoformat()
    # A click on a cell of the week opens the emerging popup.
    point = page.evaluate(
        """() => {
          for (const el of document.querySelectorAll('path.shaozi-layer-emerging-week')) {
            const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (r.width > 0 && x > 5 && y > 5 && x < innerWidth - 300 && document.elementFromPoint(x, y) === el) {
              return [x, y];
            }
          }
          return null;
        }"""
    )
    page.mouse.click(*point)
    page.wait_for_selector('.leaflet-popup .shaozi-feature[data-layer="emerging"]')
    # The layer off and on again: the week goes with it and comes back.
    page.keyboard.press("Escape")
    checkbox(page, "emerging").uncheck()
    assert page.locator("path.shaozi-layer-emerging-week").count() == 0
    assert "emerging" not in hash_params(page)["layers"].split(",")
    checkbox(page, "emerging").check()
    page.wait_for_function("document.querySelectorAll('path.shaozi-layer-emerging-week').length > 0")
    # Back to the whole run: the pattern tiles again.
    assert week(-1) == []
    assert page.locator("path.shaozi-layer-emerging-week").count() == 0
    assert page.evaluate("getComputedStyle(window.shaozi.layers.emerging.getContainer()).opacity") == "1"
    assert "week" not in hash_params(page)
    log.assert_clean()


@pytest.mark.parametrize("user", [None, "planner"], ids=["anonymous", "planner"])
def test_the_legend_notes_speak_to_anonymous_and_logged_in_users(open_page, analysis_demo, user):
    page, log = open_page("/#map=11/39.95000/116.35000&layers=fix-plans,disputes,joint-cases", user=user)
    legend = page.locator(".shaozi-legend")
    legend.locator('.shaozi-legend-layer[data-layer="fix-plans"]').wait_for()
    text = legend.inner_text()
    if user is None:
        assert "登录后显示你辖区内的整治方案" in text and "登录后显示你辖区内的争议" in text
        assert "登录后可见" in text
    else:
        assert "登录后" not in text
        assert "你辖区内的整治方案" in text and "你辖区内的争议" in text and "你参与的进行中案件" in text
    page.locator("#shaozi-lang").click()
    text = legend.inner_text()
    if user is None:
        assert "shown after login" in text
    else:
        assert "after login" not in text and "fix plans in your scope" in text
    log.assert_clean()


@pytest.fixture
def english_names(browser_complaints):
    """English names for the browser complaints' categories (restored afterwards)."""
    from complaints.models import Category

    names = {"010101": "Test item one", "010102": "Test item two", "030101": "Test item three", "01": "Test group"}

    def setup():
        old = dict(Category.objects.filter(code__in=names).values_list("code", "name_en"))
        for code, name in names.items():
            Category.objects.filter(code=code).update(name_en=name)
        return old

    old = in_thread(setup)
    yield names
    in_thread(lambda: [Category.objects.filter(code=c).update(name_en=n) for c, n in old.items()])


def test_english_mode_names_categories_in_filters_and_charts(open_page, english_names):
    page, log = open_page(
        "/#map=13/39.90750/116.39130&layers=complaints&from=2024-03-01&to=2024-04-30&lang=en", viewport=WIDE
    )
    wait_loaded(page, "complaints")
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    page.wait_for_function("document.body.getAttribute('data-chart-total') !== null")
    assert "Test group" in page.locator('select[data-category-level="1"] option').all_inner_texts()
    page.wait_for_function("document.querySelector('[data-chart=\"categories\"]') !== null")
    bars = page.locator('[data-chart="categories"]').text_content()
    assert "Test item one" in bars and "Test item three" in bars
    screenshot(page, "planner-map-english-categories.png")
    # Chinese again: the catalogue's own names.
    page.locator("#shaozi-lang").click()
    assert "Test group" not in page.locator('select[data-category-level="1"] option').all_inner_texts()
    log.assert_clean()


BUSY = "complaints,repeat-places,hotspots,idle-lots,fix-plans,disputes,streets,districts"


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440x900", "390x844"])
def test_the_busy_map_at_desktop_and_phone_sizes(open_page, analysis_demo, browser_complaints, viewport):
    name = f"{viewport[0]}x{viewport[1]}"
    page, log = open_page(f"/#map=12/39.91000/116.39000&layers={BUSY}", user="planner", viewport=viewport)
    for layer_id in ("complaints", "hotspots", "districts"):
        wait_loaded(page, layer_id)
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    page.wait_for_selector('.shaozi-legend-layer[data-layer="hotspots"] .shaozi-run', state="attached")
    screenshot(page, f"planner-map-{name}.png")
    if viewport == PHONE:
        # Panels folded away first: the map's own controls and the header are not covered.
        assert page.locator(".leaflet-top.leaflet-right").is_hidden()
        assert uncovered(page, ".leaflet-control-zoom-in")
        page.locator("#shaozi-panels").click()
    screenshot(page, f"planner-map-{name}-panels.png")
    header = page.locator("#shaozi-header").bounding_box()
    assert header["x"] >= 0 and header["x"] + header["width"] <= viewport[0]
    column = page.locator(".leaflet-top.leaflet-right").bounding_box()
    assert column["x"] >= 0 and column["x"] + column["width"] <= viewport[0] + 1
    # No box of the column lies under the header (side by side on a desktop, the column below on a phone).
    for i in range(page.locator(".leaflet-top.leaflet-right .leaflet-control").count()):
        box = page.locator(".leaflet-top.leaflet-right .leaflet-control").nth(i).bounding_box()
        if box is None or box["height"] == 0:
            continue
        beside = header["x"] + header["width"] <= box["x"] + 1
        below = box["y"] >= header["y"] + header["height"] - 1
        assert beside or below, f"control {i} lies under the header at {name}"
    # Nothing in the column runs past its right edge (long labels wrap or are clipped inside their box).
    overflow = page.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-top.leaflet-right .leaflet-control'))
            .filter(el => el.scrollWidth > el.clientWidth + 2).map(el => el.className)"""
    )
    assert overflow == []
    for selector in (
        '.leaflet-control-layers-overlays label:has([data-layer="hotspots"]) input',
        '[data-run-slider="hotspots"]' if page.locator('[data-run-slider="hotspots"]').count() else ".shaozi-clear",
        ".shaozi-clear",
        ".leaflet-control-zoom-in",
    ):
        assert uncovered(page, selector), f"{selector} is covered at {name}"
    checkbox(page, "hotspots").click()
    assert "hotspots" not in hash_params(page)["layers"].split(",")
    page.locator("#shaozi-lang").click()
    page.wait_for_timeout(300)
    screenshot(page, f"planner-map-{name}-english.png")
    # English words are longer: still nothing runs past its box, and the layer list is not squeezed.
    assert (
        page.evaluate(
            """() => Array.from(document.querySelectorAll('.leaflet-top.leaflet-right .leaflet-control'))
            .filter(el => el.scrollWidth > el.clientWidth + 2).map(el => el.className)"""
        )
        == []
    )
    assert uncovered(page, '.leaflet-control-layers-overlays label:has([data-layer="assessment"]) input')
    assert page.locator(".leaflet-control-layers-list").evaluate("el => el.style.height") == ""
    log.assert_clean()


# (layer, view, user, fit, words the English popup shows)
ENGLISH_CLICKS = [
    ("repeat-places", "#map=12/39.91000/116.39000&layers=repeat-places", "planner", None, ["complaints", "chronic"]),
    ("emerging", "#map=12/39.91000/116.39000&layers=emerging", None, None, ["pattern", "trend z"]),
    ("idle-lots", "#map=11/39.95000/116.35000&layers=idle-lots", "planner", "", ["rank", "Make a fix plan"]),
    ("fix-plans", "#map=11/39.95000/116.35000&layers=fix-plans", "admin", "", ["status", "residents served"]),
]


@pytest.mark.parametrize(
    ("layer_id", "view", "user", "fit", "words"), ENGLISH_CLICKS, ids=[c[0] for c in ENGLISH_CLICKS]
)
def test_english_popups_show_words_for_codes(open_page, analysis_demo, layer_id, view, user, fit, words):
    page, log = open_page("/" + view + "&lang=en", user=user, viewport=WIDE)
    wait_loaded(page, layer_id)
    page.wait_for_function("Number(document.body.getAttribute('data-catalogue')) > 0")
    page.wait_for_function("Number(document.body.getAttribute('data-area-choices')) > 300")
    if fit is not None:
        page.wait_for_function("id => Number(document.body.getAttribute('data-features-' + id)) > 0", arg=layer_id)
    click_feature(page, layer_id, fit=fit)
    popup = page.locator(".leaflet-popup .shaozi-feature").inner_text()
    for word in words:
        assert word in popup, (word, popup)
    # No row label in Chinese, no raw code as a value.
    for row in page.locator(".leaflet-popup .shaozi-feature th").all_inner_texts():
        assert not re.search(r"[\u3400-\u9fff]", row), row
    for raw in ("\ttrue", "\tfalse", "\tnone", "\tnew_hot", "\tin_progress", "\tconsecutive_hot"):
        assert raw not in popup
    if layer_id == "repeat-places":
        # The title is the category in English (name_en, else the Chinese name when the catalogue has none).
        code = page.evaluate("document.querySelector('.leaflet-popup .shaozi-feature strong').innerText")
        assert code.startswith("Repeat places")
    page.wait_for_timeout(400)  # the popup's fade-in
    screenshot(page, f"planner-popup-{layer_id}-english.png")
    log.assert_clean()
