"""The printable fix plan in Chromium: the demo 逸成 plan prints on at most three A4 pages (print to PDF), its map
frames the whole lot on paper, and the page has no console errors."""

from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, in_thread, screenshot

YICHENG = "LOT-HD-YICHENG"
TITLE = "浏览器测试：逸成地块打印"


@pytest.fixture(scope="module")
def yicheng_plan(analysis_demo, django_db_blocker):
    """A fix plan for the 逸成 lot from the demo ranking (committed for the server thread, removed afterwards)."""
    from complaints.permissions import SYSTEM
    from hotspots.models import FixPlan, Parcel
    from hotspots.services import fix_plan_create

    def setup():
        FixPlan.objects.filter(title=TITLE).delete()
        return fix_plan_create(parcel=Parcel.objects.get(code=YICHENG), by=SYSTEM, title=TITLE).pk

    with django_db_blocker.unblock():
        pk = in_thread(setup)
    yield pk
    with django_db_blocker.unblock():
        in_thread(lambda: FixPlan.objects.filter(pk=pk).delete())


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF: its `/Type /Page` objects (not the `/Pages` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def test_the_yicheng_plan_prints_on_three_a4_pages_with_the_whole_lot(open_page, yicheng_plan, django_db_blocker):
    from hotspots.models import FixPlan

    with django_db_blocker.unblock():
        complaints = in_thread(lambda: len(FixPlan.objects.get(pk=yicheng_plan).complaints))
    assert complaints > 100  # the plan has far more complaints than a page holds
    page, log = open_page(f"/fix-plans/{yicheng_plan}/", user="admin")
    page.wait_for_selector("#plan-map .leaflet-interactive")
    assert page.locator("#plan-complaints tr").count() == 21
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    inside = page.evaluate(
        """() => {
        const map = document.getElementById('plan-map').getBoundingClientRect();
        const lot = document.querySelector('#plan-map path.leaflet-interactive').getBoundingClientRect();
        return {map: [map.left, map.top, map.right, map.bottom], lot: [lot.left, lot.top, lot.right, lot.bottom]};
    }"""
    )
    (ml, mt, mr, mb), (ll, lt, lr, lb) = inside["map"], inside["lot"]
    assert ml <= ll and mt <= lt and lr <= mr and lb <= mb, inside  # the whole lot on paper
    assert mr - ml <= 720  # fits A4's printable width
    screenshot(page, "fix_plan_print.png")
    pdf = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "fix_plan_print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert 1 <= pages <= 3, pages
    assert not log.console_errors and not log.page_errors, (log.console_errors, log.page_errors)
