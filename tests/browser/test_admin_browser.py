"""The city administrator's admin in Chromium: a district's page draws its outline on the project's own map."""

from __future__ import annotations

from .conftest import in_thread, screenshot


def test_the_admin_draws_an_area_on_a_map(open_page, django_db_blocker):
    def district_pk():
        from jurisdictions.demo import demo_users_create
        from jurisdictions.models import Area

        with django_db_blocker.unblock():
            demo_users_create()
            return Area.objects.filter(level="district", code="110102").order_by("-id").first().pk

    pk = in_thread(district_pk)
    page, log = open_page(f"/admin/jurisdictions/area/{pk}/change/", user="admin")
    page.wait_for_selector(".shaozi-admin-map path.leaflet-interactive")
    assert page.locator(".shaozi-admin-map path.leaflet-interactive").count() >= 1
    assert "西城区" in page.content()
    screenshot(page, "admin-area-map.png")
    log.assert_clean()
