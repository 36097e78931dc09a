"""The city administrator's /admin/: every registered model's list and a change page open; what services must
write is shown read-only; staff scopes and departments can be edited."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client

from jurisdictions.demo import demo_users_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_admin():
    demo_users_create()
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


def test_every_registered_model_opens_for_the_city_admin(city_admin):
    opened = 0
    for model in admin.site._registry:
        meta = model._meta
        listing = city_admin.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert listing.status_code == 200, (meta.label, listing.status_code)
        first = model.objects.order_by("pk").first()
        if first is not None:
            page = city_admin.get(f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/")
            assert page.status_code == 200, (meta.label, page.status_code)
        opened += 1
    assert opened >= 12


@pytest.mark.parametrize("model", ["area", "rule", "generation", "building", "dispute"])
def test_what_a_service_writes_is_read_only(city_admin, model):
    assert city_admin.get(f"/admin/jurisdictions/{model}/add/").status_code == 403


def test_geometry_is_drawn_on_a_map_not_printed(city_admin):
    from jurisdictions.models import Area

    area = Area.objects.filter(level="district").order_by("code").first()
    page = city_admin.get(f"/admin/jurisdictions/area/{area.pk}/change/").content.decode()
    assert 'class="shaozi-admin-map"' in page and "vendor/leaflet/leaflet.js" in page
    assert "MULTIPOLYGON" not in page and "SRID=4326" not in page


def test_staff_scopes_are_edited_in_the_admin(city_admin):
    assert city_admin.get("/admin/jurisdictions/staffprofile/add/").status_code == 200
    assert city_admin.get("/admin/jurisdictions/department/add/").status_code == 200


def test_street_staff_cannot_open_the_admin():
    demo_users_create()
    client = Client()
    client.force_login(User.objects.get(username="guangwai"))
    assert client.get("/admin/jurisdictions/rule/").status_code == 302
